//! What the engine tells the rest of the program as it works: typed events on a broadcast
//! channel. The pager wakes on incidents opened instead of waiting for its next tick, the outbox
//! worker on any change, and a desktop host refreshes its window (batching a storm of events into
//! a few updates). An event says what happened; what changed is in the store.

use stopline_core::incident::IncidentId;
use tokio::sync::broadcast;

/// How many events a slow listener may fall behind before it is told it missed some.
const CAPACITY: usize = 1024;

/// Something the engine did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// Alerts from a delivery or a poll were committed; `opened` lists the incidents they
    /// opened (empty when they only joined, repeated or resolved).
    AlertsStored { opened: Vec<IncidentId> },
    /// The pager recorded escalation steps (pages, deferrals) or money raised severities.
    Escalated,
    /// A page was shown on this desktop.
    PageShown { incident: IncidentId },
    /// An incident was acknowledged from a notification's button.
    AcknowledgedHere { incident: IncidentId },
    /// A pull from the hub changed the replica; `pages` new pages for the person here.
    Pulled { pages: usize },
    /// Anything else that changed the store (an incident acknowledged at its source).
    StoreChanged,
}

impl EngineEvent {
    /// Whether a window showing incidents should read them again.
    pub fn changes_what_people_see(&self) -> bool {
        !matches!(self, EngineEvent::PageShown { .. })
    }
}

/// The engine's event channel; clones publish to the same listeners.
#[derive(Debug, Clone)]
pub struct EngineEvents(broadcast::Sender<EngineEvent>);

impl Default for EngineEvents {
    fn default() -> Self {
        Self(broadcast::channel(CAPACITY).0)
    }
}

impl EngineEvents {
    /// Tells every listener; with none listening, the event is simply dropped.
    pub fn publish(&self, event: EngineEvent) {
        let _ = self.0.send(event);
    }

    /// Tells listeners what a committed delivery (or poll) did, when it changed anything.
    pub fn alerts_stored(&self, summary: &stopline_store::IngestSummary) {
        if summary.changed_anything() {
            self.publish(EngineEvent::AlertsStored {
                opened: summary.opened.clone(),
            });
        }
    }

    /// Events from now on. A listener that falls more than a thousand behind gets
    /// `RecvError::Lagged` once: it should treat that as "something changed".
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.0.subscribe()
    }
}

/// Takes every event already waiting, so one wake-up stands for all of them: a listener that
/// re-reads the store on any change need not do so once per change. Whether any was there.
pub fn drain(events: &mut broadcast::Receiver<EngineEvent>) -> bool {
    drain_matching(events, |_| true)
}

/// As [`drain`]; whether any of the events taken was one `matters` says matters (having missed
/// some counts as yes).
pub fn drain_matching(
    events: &mut broadcast::Receiver<EngineEvent>,
    matters: impl Fn(&EngineEvent) -> bool,
) -> bool {
    let mut any = false;
    loop {
        match events.try_recv() {
            Ok(event) => any |= matters(&event),
            Err(broadcast::error::TryRecvError::Lagged(_)) => any = true,
            Err(_) => return any,
        }
    }
}

//! What one delivered alert does to what is already known of it: deduplication, grouping into
//! incidents and resolving by itself. A store applies these decisions in one transaction per
//! delivery; a second store (the hub's, to come) will apply the very same ones.
//!
//! Alert by alert:
//! - A new firing alert that is routed and not muted joins the open incident of its group, or
//!   opens one. Unrouted or muted, it is recorded and opens nothing.
//! - The same alert again with nothing new only moves its `last_seen` (Alertmanager re-sends every
//!   group and repeat interval: that must never page twice).
//! - A firing alert whose occurrence already resolved (it started no later than it ended) is
//!   stale, an out-of-order or replayed delivery: it changes nothing but `last_seen`. So a
//!   resolved that arrives before its firing leaves no zombie alert.
//! - A firing alert after its resolution, starting later, is a new occurrence, routed again.
//! - When the last firing alert of an incident resolves, the timeline says so, and an incident
//!   nobody acknowledged resolves itself (when the workspace says so).
//!
//! Timeline entries are summarised per incident per delivery, so a storm of ten thousand alerts
//! adds a handful of rows, not ten thousand.

use jiff::Timestamp;

use crate::alert::{Alert, AlertState};
use crate::incident::{IncidentId, IncidentState};

/// What is known of an alert before a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownAlert {
    pub state: AlertState,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub incident: Option<IncidentId>,
}

/// The alert as delivered now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    pub state: AlertState,
    pub starts_at: Timestamp,
    /// Whether it found an application (and so a team).
    pub routed: bool,
    /// Silenced or inhibited at its source.
    pub muted: bool,
    /// Whether its labels, annotations, links, routing and mute state are as known: what
    /// makes a re-sent firing alert "nothing new".
    pub same_content: bool,
}

impl Arrival {
    /// Whether it may page: routed, and not muted.
    fn pages(&self) -> bool {
        self.routed && !self.muted
    }

    fn link(&self) -> IncidentLink {
        if self.pages() {
            IncidentLink::Attach
        } else {
            IncidentLink::Detach
        }
    }
}

/// Which incident an alert belongs to after a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentLink {
    /// The one it had (possibly none).
    Keep,
    /// The open incident of its group, opened now when there is none.
    Attach,
    /// None: it cannot page (unrouted or muted).
    Detach,
}

/// What a delivery does to one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChange {
    /// Seen for the first time: recorded.
    New(IncidentLink),
    /// Nothing new: only `last_seen` moves.
    Repeat,
    /// A firing delivery for an occurrence that already resolved: only `last_seen` moves.
    Stale,
    /// Its state or content changed.
    Changed(IncidentLink),
    /// It went from firing to resolved.
    Resolved,
}

/// Decides what the delivery of `arrival` does, given what is `known` of the alert.
pub fn observe(known: Option<&KnownAlert>, arrival: &Arrival) -> AlertChange {
    let Some(known) = known else {
        return AlertChange::New(match arrival.state {
            AlertState::Firing => arrival.link(),
            // A resolved alert never seen firing: kept, so its late firing is stale.
            AlertState::Resolved => IncidentLink::Detach,
        });
    };
    match (known.state, arrival.state) {
        (AlertState::Firing, AlertState::Firing) => {
            if arrival.same_content && known.starts_at == arrival.starts_at {
                return AlertChange::Repeat;
            }
            // Attach only an alert that never had an incident (it was muted or unrouted): an
            // incident a person resolved while the alert kept firing stays resolved.
            AlertChange::Changed(match known.incident {
                Some(_) => IncidentLink::Keep,
                None => arrival.link(),
            })
        }
        (AlertState::Resolved, AlertState::Firing) => {
            let ended = known.ends_at.unwrap_or(known.starts_at);
            if arrival.starts_at <= ended {
                AlertChange::Stale
            } else {
                // Fired again after resolving: a new occurrence.
                AlertChange::Changed(arrival.link())
            }
        }
        (AlertState::Firing, AlertState::Resolved) => AlertChange::Resolved,
        (AlertState::Resolved, AlertState::Resolved) => AlertChange::Repeat,
    }
}

/// Whether an incident resolves itself once none of its alerts fires: only when the workspace
/// says so, and only while nobody has acknowledged it.
pub fn resolves_itself(auto_resolve: bool, still_firing: u64, state: IncidentState) -> bool {
    auto_resolve && still_firing == 0 && state == IncidentState::Triggered
}

/// How an alert is named on a timeline: its `alertname`, else its fingerprint.
pub fn alert_name(alert: &Alert) -> &str {
    alert
        .labels
        .get("alertname")
        .map_or(alert.fingerprint.as_str(), String::as_str)
}

/// The timeline entry of an incident an alert opened.
pub fn opened_detail(name: &str, source: &str) -> String {
    format!("opened by alert {name} from {source}")
}

/// Names a timeline entry lists before "and others".
const LISTED: usize = 5;

/// How many alerts a delivery joined to (or resolved in) one incident, and the first few
/// distinct names: a storm's timeline entry lists a handful.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertNames {
    count: usize,
    first: Vec<String>,
}

impl AlertNames {
    pub fn add(&mut self, name: &str) {
        self.count += 1;
        // One more than listed, to know whether there are more.
        if self.first.len() <= LISTED && !self.first.iter().any(|n| n == name) {
            self.first.push(name.to_owned());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn listing(&self) -> String {
        let shown: Vec<&str> = self.first.iter().take(LISTED).map(String::as_str).collect();
        let mut text = shown.join(", ");
        if self.first.len() > LISTED {
            text.push_str(" and others");
        }
        text
    }

    /// "3 alerts joined: HighLatency, ErrorRate".
    pub fn joined_detail(&self) -> String {
        format!("{} joined: {}", count(self.count, "alert"), self.listing())
    }

    /// "2 alerts resolved: …; no alert is firing any more" (or "; N still firing").
    pub fn resolved_detail(&self, still_firing: u64) -> String {
        let rest = if still_firing == 0 {
            "no alert is firing any more".to_owned()
        } else {
            format!("{still_firing} still firing")
        };
        format!(
            "{} resolved: {}; {rest}",
            count(self.count, "alert"),
            self.listing()
        )
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minute: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + minute * 60).unwrap()
    }

    fn arrival(state: AlertState, starts: i64) -> Arrival {
        Arrival {
            state,
            starts_at: t(starts),
            routed: true,
            muted: false,
            same_content: true,
        }
    }

    fn known(
        state: AlertState,
        starts: i64,
        ends: Option<i64>,
        incident: Option<u64>,
    ) -> KnownAlert {
        KnownAlert {
            state,
            starts_at: t(starts),
            ends_at: ends.map(t),
            incident: incident.map(IncidentId),
        }
    }

    #[test]
    fn a_repeat_is_nothing_new_and_a_change_keeps_its_incident() {
        use AlertState::{Firing, Resolved};
        let firing = known(Firing, 0, None, Some(1));
        assert_eq!(
            observe(Some(&firing), &arrival(Firing, 0)),
            AlertChange::Repeat
        );
        let changed = Arrival {
            same_content: false,
            ..arrival(Firing, 0)
        };
        assert_eq!(
            observe(Some(&firing), &changed),
            AlertChange::Changed(IncidentLink::Keep)
        );
        let unattached = known(Firing, 0, None, None);
        assert_eq!(
            observe(Some(&unattached), &changed),
            AlertChange::Changed(IncidentLink::Attach)
        );
        assert_eq!(
            observe(Some(&firing), &arrival(Resolved, 0)),
            AlertChange::Resolved
        );
        let resolved = known(Resolved, 0, Some(5), Some(1));
        assert_eq!(
            observe(Some(&resolved), &arrival(Resolved, 0)),
            AlertChange::Repeat
        );
    }

    #[test]
    fn a_late_firing_is_stale_and_a_later_one_is_a_new_occurrence() {
        use AlertState::{Firing, Resolved};
        let resolved = known(Resolved, 0, Some(5), Some(1));
        assert_eq!(
            observe(Some(&resolved), &arrival(Firing, 0)),
            AlertChange::Stale
        );
        assert_eq!(
            observe(Some(&resolved), &arrival(Firing, 5)),
            AlertChange::Stale
        );
        assert_eq!(
            observe(Some(&resolved), &arrival(Firing, 6)),
            AlertChange::Changed(IncidentLink::Attach)
        );
        // Resolved before it was ever seen firing: kept without an incident, so the firing
        // that arrives late is stale.
        assert_eq!(
            observe(None, &arrival(Resolved, 0)),
            AlertChange::New(IncidentLink::Detach)
        );
    }

    #[test]
    fn unrouted_or_muted_alerts_never_open_incidents() {
        let muted = Arrival {
            muted: true,
            ..arrival(AlertState::Firing, 0)
        };
        assert_eq!(
            observe(None, &muted),
            AlertChange::New(IncidentLink::Detach)
        );
        let unrouted = Arrival {
            routed: false,
            ..arrival(AlertState::Firing, 0)
        };
        assert_eq!(
            observe(None, &unrouted),
            AlertChange::New(IncidentLink::Detach)
        );
        assert_eq!(
            observe(None, &arrival(AlertState::Firing, 0)),
            AlertChange::New(IncidentLink::Attach)
        );
    }

    #[test]
    fn only_an_unacknowledged_incident_resolves_itself() {
        assert!(resolves_itself(true, 0, IncidentState::Triggered));
        assert!(!resolves_itself(true, 1, IncidentState::Triggered));
        assert!(!resolves_itself(true, 0, IncidentState::Acknowledged));
        assert!(!resolves_itself(false, 0, IncidentState::Triggered));
    }

    #[test]
    fn a_storm_lists_a_handful_of_names() {
        let mut names = AlertNames::default();
        for i in 0..100 {
            names.add(&format!("Alert{}", i % 7));
        }
        assert_eq!(
            names.joined_detail(),
            "100 alerts joined: Alert0, Alert1, Alert2, Alert3, Alert4 and others"
        );
        let mut one = AlertNames::default();
        one.add("HighLatency");
        assert_eq!(
            one.resolved_detail(2),
            "1 alert resolved: HighLatency; 2 still firing"
        );
    }
}

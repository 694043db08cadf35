//! What a joined desktop does on its own while its hub is away (docs/team.md, "When the hub is
//! unreachable"). After `[hub] degraded_after` without the hub, the engine polls the config's
//! Alertmanagers itself: alerts the replica does not know open provisional incidents, which
//! the pager escalates, showing only this desktop's person their pages; an incident whose
//! alerts a Stopline silence mutes (the hub's write-back, or a teammate's desktop acknowledging
//! while away) counts as acknowledged elsewhere, so teammates' desktops stop paging for it. The
//! outbox writes back this person's acknowledgements meanwhile, so theirs stop too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use stopline_core::alert::Fingerprint;

use crate::alertmanager::{AlertmanagerClient, AlertmanagerSource, PollTarget};
use crate::{EngineError, Result};

/// Whether this desktop is on its own now; shared by the sync (which sets it) and the pager.
#[derive(Debug, Clone, Default)]
pub struct Away(Arc<AtomicBool>);

impl Away {
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }
}

/// Polls `source` once for a desktop on its own: provisional incidents for the alerts the
/// replica does not know, and "acknowledged elsewhere" for those a Stopline silence mutes.
pub async fn poll_once(
    source: &AlertmanagerSource,
    client: &AlertmanagerClient,
    target: &PollTarget,
) -> Result<()> {
    let now = target.clock.now();
    let answered =
        client
            .source_alerts(source, now)
            .await
            .map_err(|e| EngineError::HubUnreachable {
                url: source.urls.join(", "),
                reason: e.0,
            })?;
    // Alerts a Stopline silence mutes: acknowledged in Stopline, by the hub or a teammate.
    let silenced: Vec<Fingerprint> = answered.silenced_by_stopline.clone();
    let routing = target.routing.clone();
    let name = source.name.clone();
    let delivery = routing.alerts(&name, answered.alerts, now);
    let (summary, acknowledged) = target
        .store
        .run(move |store| {
            let summary =
                store.ingest_provisional(&delivery.observations, routing.policy(), now)?;
            let acknowledged = store.acknowledge_elsewhere(&name, &silenced, now)?;
            Ok::<_, EngineError>((summary, acknowledged))
        })
        .await?;
    if !summary.opened.is_empty() {
        tracing::info!(source = %source.name, opened = summary.opened.len(), "provisional incidents opened while the hub is away");
    }
    target.events.alerts_stored(&summary);
    if !acknowledged.is_empty() {
        tracing::info!(source = %source.name, incidents = acknowledged.len(), "acknowledged elsewhere (a Stopline silence)");
        target
            .events
            .publish(crate::events::EngineEvent::StoreChanged);
    }
    Ok(())
}

/// Polls `source` every `poll_interval` until the task is aborted (when the hub returns).
pub async fn poll_forever(
    source: AlertmanagerSource,
    client: AlertmanagerClient,
    target: PollTarget,
) {
    let mut ticker = tokio::time::interval(source.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = poll_once(&source, &client, &target).await {
            tracing::warn!(source = %source.name, "poll while the hub is away failed: {error}");
        }
    }
}

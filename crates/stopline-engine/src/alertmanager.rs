//! Polling Alertmanager's API v2 (`GET /api/v2/alerts`), from 0.25 (Debian 12) on, with
//! `stopline-alertmanager`'s client, into the desktop's store.
//!
//! A poll is a complete view of a source's active alerts: alerts that disappeared, or whose
//! `endsAt` passed, are resolved. Silenced and inhibited alerts are recorded as muted and page
//! nobody. The members of an HA pair are one source: each is asked, their answers merged by
//! fingerprint, and the poll counts as a success when at least one answered.

use std::sync::Arc;

use stopline_core::clock::Clock;
use stopline_store::IngestSummary;

pub use stopline_alertmanager::{
    AlertmanagerClient, AlertmanagerSource, HttpClientError, PollError, describe, http_client,
};

use crate::events::EngineEvents;
use crate::routing::AlertRouting;
use crate::shared_store::{SharedStore, StoreTaskFailed};

/// A store task that failed fails the poll.
impl From<StoreTaskFailed> for PollError {
    fn from(failed: StoreTaskFailed) -> Self {
        PollError(failed.to_string())
    }
}

/// What a successful poll did.
#[derive(Debug, Clone)]
pub struct PollOutcome {
    pub alerts: usize,
    pub summary: IngestSummary,
    /// Members of an HA pair that did not answer, with why.
    pub unreachable: Vec<String>,
}

/// What polling needs besides the source: where alerts go, how they route, who to tell, the time.
#[derive(Debug, Clone)]
pub struct PollTarget {
    pub store: SharedStore,
    pub routing: AlertRouting,
    pub events: EngineEvents,
    pub clock: Arc<dyn Clock>,
}

/// Polls a source once and records the result (and the source's health) in the store.
pub async fn poll_once(
    source: &AlertmanagerSource,
    client: &AlertmanagerClient,
    target: &PollTarget,
) -> Result<PollOutcome, PollError> {
    let now = target.clock.now();
    let answer = client.source_alerts(source, now).await;
    let routing = target.routing.clone();
    let name = source.name.clone();
    let url_list = source.urls.join(", ");
    // `None`: no member answered, and why.
    let (merged, failures, error) = match answer {
        Ok(answered) => (Some(answered.alerts), answered.unreachable, String::new()),
        Err(failed) => (None, Vec::new(), failed.0),
    };
    let count = merged.as_ref().map_or(0, Vec::len);
    let outcome = target
        .store
        .run(move |store| {
            let Some(merged) = merged else {
                store
                    .record_source_failure(&name, "alertmanager", Some(&url_list), &error, now)
                    .map_err(|e| PollError(format!("cannot record the failure: {e}")))?;
                return Err(PollError(error));
            };
            let delivery = routing.alerts(&name, merged, now);
            let summary = store
                .ingest_snapshot(&name, &delivery.observations, routing.policy(), now)
                .map_err(|e| PollError(format!("cannot store the alerts: {e}")))?;
            if delivery.heartbeat {
                store
                    .record_heartbeat(&name, "alertmanager", now)
                    .map_err(|e| PollError(format!("cannot record the heartbeat: {e}")))?;
            }
            store
                .record_source_success(&name, "alertmanager", Some(&url_list), now)
                .map_err(|e| PollError(format!("cannot record the success: {e}")))?;
            Ok(summary)
        })
        .await?;
    target.events.alerts_stored(&outcome);
    Ok(PollOutcome {
        alerts: count,
        summary: outcome,
        unreachable: failures,
    })
}

/// Polls a source every `poll_interval` until the task is aborted.
pub async fn poll_forever(
    source: AlertmanagerSource,
    client: AlertmanagerClient,
    target: PollTarget,
) {
    let mut ticker = tokio::time::interval(source.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match poll_once(&source, &client, &target).await {
            Ok(outcome) => {
                for member in &outcome.unreachable {
                    tracing::warn!(source = %source.name, "HA member unreachable: {member}");
                }
                let s = &outcome.summary;
                if s.new + s.changed + s.resolved > 0 {
                    tracing::info!(
                        source = %source.name,
                        alerts = outcome.alerts,
                        new = s.new,
                        resolved = s.resolved,
                        opened = s.opened.len(),
                        "polled"
                    );
                }
            }
            Err(error) => tracing::warn!(source = %source.name, "poll failed: {error}"),
        }
    }
}

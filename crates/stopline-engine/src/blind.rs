//! Knowing when the alerting pipeline itself is down. A source that stays unreachable, or that
//! showed its heartbeat alert (`Watchdog`) and then stopped, makes Stopline blind: it opens an
//! "alerting pipeline blind" incident for the configured owner, and resolves it when the source
//! recovers. Nobody should learn about an outage from customers because the pager was blind.
//!
//! The incident is an alert Stopline raises itself (source `stopline`), so it deduplicates,
//! groups and resolves like any other.

use std::collections::BTreeMap;

use jiff::Timestamp;
use stopline_core::alert::{AlertState, Fingerprint, Labels};
use stopline_core::pipeline::blindness;
use stopline_core::settings::PipelineSettings;
use stopline_store::{AlertFilter, IngestSummary, Store};

use crate::Result;
use crate::payload::IncomingAlert;
use crate::routing::AlertRouting;

/// The source name of Stopline's own alerts.
pub const STOPLINE_SOURCE: &str = "stopline";
pub const BLIND_ALERT: &str = "AlertingPipelineBlind";

/// What a check of the pipeline found and did.
#[derive(Debug, Clone, Default)]
pub struct PipelineCheck {
    /// The sources that are blind now.
    pub blind: Vec<String>,
    /// What raising or clearing their alerts did to the store.
    pub summary: IngestSummary,
}

/// Raises or clears the blind-pipeline alert of every known source (see
/// `stopline_core::pipeline::blindness` for when a source is blind).
pub fn check_pipeline(
    store: &mut Store,
    routing: &AlertRouting,
    settings: &PipelineSettings,
    now: Timestamp,
) -> Result<PipelineCheck> {
    let statuses = store.source_statuses()?;
    let raised: BTreeMap<String, AlertState> = store
        .alerts(AlertFilter::Source(STOPLINE_SOURCE))?
        .into_iter()
        .map(|a| (a.alert.fingerprint.to_string(), a.alert.state))
        .collect();
    let mut blind = Vec::new();
    let mut deliveries = Vec::new();
    for status in statuses.iter().filter(|s| s.name != STOPLINE_SOURCE) {
        let fingerprint = format!("pipeline-blind:{}", status.name);
        let state = match blindness(status, settings, now) {
            Some(reason) => {
                blind.push(status.name.clone());
                Some((AlertState::Firing, reason))
            }
            // Clear only what was raised.
            None if raised.get(&fingerprint) == Some(&AlertState::Firing) => Some((
                AlertState::Resolved,
                format!("source {} works again", status.name),
            )),
            None => None,
        };
        let Some((state, reason)) = state else {
            continue;
        };
        let Ok(fingerprint) = Fingerprint::new(fingerprint) else {
            continue;
        };
        let labels: Labels = [
            ("alertname".to_owned(), BLIND_ALERT.to_owned()),
            ("pipeline_source".to_owned(), status.name.clone()),
        ]
        .into();
        let annotations: Labels = [("summary".to_owned(), reason)].into();
        let incoming = IncomingAlert {
            fingerprint,
            labels,
            annotations,
            links: BTreeMap::new(),
            state,
            starts_at: status
                .failing_since
                .or(status.heartbeat_seen_at)
                .unwrap_or(now),
            ends_at: (state == AlertState::Resolved).then_some(now),
            generator_url: None,
            muted: false,
        };
        if settings.owner.is_none() && state == AlertState::Firing {
            tracing::warn!(
                "alerting pipeline blind, and [pipeline] owner is not set: the alert is unrouted and pages nobody"
            );
        }
        deliveries.push(routing.alert_for(STOPLINE_SOURCE, settings.owner.as_ref(), incoming, now));
    }
    let summary = if deliveries.is_empty() {
        IngestSummary::default()
    } else {
        store.ingest(&deliveries, routing.policy(), now)?
    };
    Ok(PipelineCheck { blind, summary })
}

//! Turns parsed alerts into store observations: routes each through the application mapping (or
//! labels, with no config), sets its group key and incident title, and sets the heartbeat aside.

use std::sync::Arc;

use jiff::Timestamp;
use stopline_core::alert::Alert;
use stopline_core::config::Config;
use stopline_core::ids::ApplicationId;
use stopline_core::routing::{AlertRouter, RoutedAlert, group_key, incident_title};
use stopline_core::settings::AlertSettings;
use stopline_store::{AlertObservation, IngestPolicy, IngestSummary};
use tokio::sync::{Notify, watch};

use crate::live::LiveConfig;

use crate::payload::IncomingAlert;

/// What the engine knows about routing alerts.
#[derive(Debug, Clone)]
pub struct AlertIntake {
    /// `None`: no config, alerts route by their labels.
    config: Option<LiveConfig>,
    /// Fired after a delivery opened incidents, so the pager pages at once instead of at its
    /// next tick.
    opened: Arc<Notify>,
    /// Counts the engine's changes to the store, so a window can refresh when something
    /// happened instead of on a timer.
    changes: Arc<watch::Sender<u64>>,
}

/// A delivery, ready for the store.
#[derive(Debug, Clone, Default)]
pub struct Intake {
    pub observations: Vec<AlertObservation>,
    /// The source showed its heartbeat alert: the pipeline works. Heartbeats page nobody.
    pub heartbeat: bool,
}

impl AlertIntake {
    pub fn new(config: Option<Config>) -> Self {
        Self::live(config.map(LiveConfig::new))
    }

    /// With a config that may be replaced while the engine runs.
    pub fn live(config: Option<LiveConfig>) -> Self {
        Self {
            config,
            opened: Arc::new(Notify::new()),
            changes: Arc::new(watch::channel(0).0),
        }
    }

    /// What the pager waits on.
    pub fn opened_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.opened)
    }

    /// After a delivery is committed: wakes the pager when it opened incidents, and tells
    /// watchers when it changed anything.
    pub fn delivered(&self, summary: &IngestSummary) {
        if !summary.opened.is_empty() {
            self.opened.notify_one();
        }
        let unchanged = summary.new == 0
            && summary.changed == 0
            && summary.resolved == 0
            && summary.opened.is_empty()
            && summary.auto_resolved.is_empty();
        if !unchanged {
            self.store_changed();
        }
    }

    /// The engine changed the store (a delivery, a page, an escalation step).
    pub fn store_changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes as they happen: the value only counts, what changed is in the store.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The config now, if there is one.
    pub fn config(&self) -> Option<Arc<Config>> {
        self.config.as_ref().map(LiveConfig::current)
    }

    fn settings(config: Option<&Config>) -> AlertSettings {
        config.map(|c| c.alerts.clone()).unwrap_or_default()
    }

    pub fn policy(&self) -> IngestPolicy {
        IngestPolicy {
            auto_resolve: Self::settings(self.config().as_deref()).auto_resolve,
        }
    }

    /// Routes alerts from `source` by their labels.
    pub fn alerts(&self, source: &str, incoming: Vec<IncomingAlert>, now: Timestamp) -> Intake {
        // One snapshot for the whole delivery, however long it takes.
        let config = self.config();
        let settings = Self::settings(config.as_deref());
        let router = match config.as_deref() {
            Some(config) => AlertRouter::Config(config),
            None => AlertRouter::Labels,
        };
        let mut intake = Intake::default();
        for alert in incoming {
            if alert.labels.get("alertname") == Some(&settings.heartbeat_alert) {
                intake.heartbeat = true;
                continue;
            }
            let route = router.route(&alert.labels);
            intake
                .observations
                .push(observation(&settings, source, alert, route, now));
        }
        intake
    }

    /// An alert that goes to a given application whatever its labels (a PagerDuty routing key,
    /// the pipeline's owner); unrouted when there is none, or no config to find it in.
    pub fn alert_for(
        &self,
        source: &str,
        application: Option<&ApplicationId>,
        incoming: IncomingAlert,
        now: Timestamp,
    ) -> AlertObservation {
        let config = self.config();
        let route = match (config.as_deref(), application) {
            (Some(config), Some(application)) => config
                .application(application)
                .map(|app| RoutedAlert::to(config, app)),
            _ => None,
        };
        observation(
            &Self::settings(config.as_deref()),
            source,
            incoming,
            route,
            now,
        )
    }
}

fn observation(
    settings: &AlertSettings,
    source: &str,
    incoming: IncomingAlert,
    route: Option<RoutedAlert>,
    now: Timestamp,
) -> AlertObservation {
    let title = incident_title(&incoming.labels, &incoming.annotations);
    let group_key = route
        .as_ref()
        .map(|r| group_key(&r.application, &incoming.labels, &settings.group_by));
    AlertObservation {
        alert: Alert {
            source: source.to_owned(),
            fingerprint: incoming.fingerprint,
            labels: incoming.labels,
            annotations: incoming.annotations,
            links: incoming.links,
            muted: incoming.muted,
            state: incoming.state,
            starts_at: incoming.starts_at,
            ends_at: incoming.ends_at,
            generator_url: incoming.generator_url,
            first_seen: now,
            last_seen: now,
        },
        route,
        group_key,
        title,
    }
}

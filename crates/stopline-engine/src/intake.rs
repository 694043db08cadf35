//! Turns parsed alerts into store observations: routes each through the application mapping (or
//! labels, with no config), sets its group key and incident title, and sets the heartbeat aside.

use std::sync::Arc;

use jiff::Timestamp;
use stopline_core::alert::Alert;
use stopline_core::config::Config;
use stopline_core::ids::ApplicationId;
use stopline_core::routing::{AlertRouter, RoutedAlert, group_key, incident_title};
use stopline_core::settings::AlertSettings;
use stopline_store::{AlertObservation, IngestPolicy};
use tokio::sync::Notify;

use crate::payload::IncomingAlert;

/// What the engine knows about routing alerts.
#[derive(Debug, Clone)]
pub struct AlertIntake {
    config: Option<Config>,
    settings: AlertSettings,
    /// Fired after a delivery opened incidents, so the pager pages at once instead of at its
    /// next tick.
    opened: Arc<Notify>,
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
        let settings = config
            .as_ref()
            .map(|c| c.alerts.clone())
            .unwrap_or_default();
        Self {
            config,
            settings,
            opened: Arc::new(Notify::new()),
        }
    }

    /// What the pager waits on.
    pub fn opened_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.opened)
    }

    /// Tells the pager that incidents were opened.
    pub fn incidents_opened(&self) {
        self.opened.notify_one();
    }

    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    pub fn policy(&self) -> IngestPolicy {
        IngestPolicy {
            auto_resolve: self.settings.auto_resolve,
        }
    }

    fn router(&self) -> AlertRouter<'_> {
        match &self.config {
            Some(config) => AlertRouter::Config(config),
            None => AlertRouter::Labels,
        }
    }

    /// Routes alerts from `source` by their labels.
    pub fn alerts(&self, source: &str, incoming: Vec<IncomingAlert>, now: Timestamp) -> Intake {
        let router = self.router();
        let mut intake = Intake::default();
        for alert in incoming {
            if alert.labels.get("alertname") == Some(&self.settings.heartbeat_alert) {
                intake.heartbeat = true;
                continue;
            }
            let route = router.route(&alert.labels);
            intake
                .observations
                .push(self.observation(source, alert, route, now));
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
        let route = match (&self.config, application) {
            (Some(config), Some(application)) => config
                .application(application.as_str())
                .map(|app| RoutedAlert::to(config, app)),
            _ => None,
        };
        self.observation(source, incoming, route, now)
    }

    fn observation(
        &self,
        source: &str,
        incoming: IncomingAlert,
        route: Option<RoutedAlert>,
        now: Timestamp,
    ) -> AlertObservation {
        let title = incident_title(&incoming.labels, &incoming.annotations);
        let group_key = route
            .as_ref()
            .map(|r| group_key(&r.application, &incoming.labels, &self.settings.group_by));
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
}

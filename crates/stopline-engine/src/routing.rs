//! Turns parsed alerts into store observations: routes each through the application mapping (or
//! labels, with no config, see `stopline_core::routing`), sets its group key and incident title,
//! and sets the heartbeat aside. It reads the live config, so a reloaded config routes the next
//! delivery. Telling others what a delivery did is `events`' job, not this one's.

use std::sync::Arc;

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::ids::ApplicationId;
use stopline_core::routing::{AlertRouter, RoutedAlert, observation};
use stopline_core::settings::AlertSettings;
use stopline_store::{AlertObservation, IngestPolicy};

use crate::live::LiveConfig;
use crate::payload::IncomingAlert;

/// Routes alerts with the config the engine runs on now.
#[derive(Debug, Clone, Default)]
pub struct AlertRouting {
    /// `None`: no config, alerts route by their labels.
    config: Option<LiveConfig>,
}

/// A delivery, ready for the store.
#[derive(Debug, Clone, Default)]
pub struct RoutedDelivery {
    pub observations: Vec<AlertObservation>,
    /// The source showed its heartbeat alert: the pipeline works. Heartbeats page nobody.
    pub heartbeat: bool,
}

impl AlertRouting {
    pub fn new(config: Option<Config>) -> Self {
        Self::live(config.map(LiveConfig::new))
    }

    /// With a config that may be replaced while the engine runs.
    pub fn live(config: Option<LiveConfig>) -> Self {
        Self { config }
    }

    /// The config now, if there is one.
    pub fn config(&self) -> Option<Arc<Config>> {
        self.config.as_ref().map(LiveConfig::current)
    }

    fn settings(config: Option<&Config>) -> AlertSettings {
        config.map(|c| c.alerts.clone()).unwrap_or_default()
    }

    pub fn policy(&self) -> IngestPolicy {
        ingest_policy(self.config().as_deref())
    }

    /// Routes alerts from `source` by their labels.
    pub fn alerts(
        &self,
        source: &str,
        incoming: Vec<IncomingAlert>,
        now: Timestamp,
    ) -> RoutedDelivery {
        // One snapshot for the whole delivery, however long it takes.
        let config = self.config();
        let settings = Self::settings(config.as_deref());
        let router = match config.as_deref() {
            Some(config) => AlertRouter::Config(config),
            None => AlertRouter::Labels,
        };
        let mut intake = RoutedDelivery::default();
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
        alert_for(self.config().as_deref(), source, application, incoming, now)
    }
}

/// What the workspace chooses about alert-driven incidents: `[alerts] auto_resolve`.
pub fn ingest_policy(config: Option<&Config>) -> IngestPolicy {
    IngestPolicy {
        auto_resolve: AlertRouting::settings(config).auto_resolve,
    }
}

/// An alert that goes to `application` whatever its labels, with `config` (see
/// [`AlertRouting::alert_for`]).
pub fn alert_for(
    config: Option<&Config>,
    source: &str,
    application: Option<&ApplicationId>,
    incoming: IncomingAlert,
    now: Timestamp,
) -> AlertObservation {
    let route = match (config, application) {
        (Some(config), Some(application)) => config
            .application(application)
            .map(|app| RoutedAlert::to(config, app)),
        _ => None,
    };
    observation(
        &AlertRouting::settings(config),
        source,
        incoming,
        route,
        now,
    )
}

//! What the hub's routes share: the database, the config, the clock, the senders' token and
//! the limits of the `[webhook]` settings, and what the desktops' streams listen to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::settings::AlertSettings;
use stopline_http::Gate;
use stopline_http::auth_failures::AuthFailures;
use tokio::sync::{Notify, watch};

use crate::database::Database;
use crate::stream::Watcher;

/// What the hub's server needs to answer requests.
pub struct HubState {
    pub database: Database,
    /// The organisation's config: the application mapping routes alerts. `None`: alerts route
    /// by their labels, as a desktop with no config does.
    pub config: Option<Arc<Config>>,
    pub clock: Arc<dyn Clock>,
    /// The bearer token senders present.
    pub token: String,
    /// Host names accepted besides the loopback ones.
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
    pub max_connections: usize,
    pub read_timeout: Duration,
    /// The PagerDuty routing keys of the config's `pagerduty` sources, read by the host.
    pub routing_keys: Vec<RoutingKey>,
    /// Serve HTTPS with this (`stopline_http::tls_acceptor`); `None`: plain HTTP.
    pub tls: Option<stopline_http::TlsAcceptor>,
    /// Notified when intake opens an incident, so escalation pages at once rather than at its
    /// next tick.
    pub escalate_now: Arc<Notify>,
    failures: Mutex<AuthFailures>,
    /// What the desktops' streams listen to.
    pub(crate) watcher: Arc<Watcher>,
    /// Pulls served at once. Every "pull now" sends every desktop to pull together; bounding
    /// them keeps database connections free for intake, escalation and pushes, so a page is
    /// not queued behind a few hundred pulls.
    pub(crate) pulls: tokio::sync::Semaphore,
    /// Set when the hub shuts down: streams end, so the drain does not wait on them.
    pub(crate) closing: watch::Sender<bool>,
}

pub use stopline_http::RoutingKey;

impl HubState {
    /// With the config's `[webhook]` settings (or the defaults).
    pub fn new(
        database: Database,
        config: Option<Config>,
        clock: Arc<dyn Clock>,
        token: String,
    ) -> Self {
        let mut webhook = config
            .as_ref()
            .map(|c| c.webhook.clone())
            .unwrap_or_default();
        // Acknowledge links arrive under the public address pages name.
        if let Some(host) = config
            .as_ref()
            .and_then(|c| c.paging.ack_url_base.as_deref())
            .and_then(|base| stopline_http::host_name(stopline_core::reach::url_host(base)))
        {
            webhook.allowed_hosts.push(host);
        }
        Self {
            database,
            config: config.map(Arc::new),
            clock,
            token,
            allowed_hosts: webhook.allowed_hosts,
            max_body_bytes: webhook.max_body_bytes,
            max_connections: webhook.max_connections,
            read_timeout: webhook.read_timeout,
            routing_keys: Vec::new(),
            tls: None,
            escalate_now: Arc::new(Notify::new()),
            failures: Mutex::new(AuthFailures::default()),
            watcher: Arc::new(Watcher::new()),
            pulls: tokio::sync::Semaphore::new(crate::database::POOL_SIZE / 2),
            closing: watch::channel(false).0,
        }
    }

    pub(crate) fn gate(&self) -> Gate<'_> {
        Gate {
            name: "hub",
            allowed_hosts: &self.allowed_hosts,
            token: &self.token,
            max_body_bytes: self.max_body_bytes,
            read_timeout: self.read_timeout,
            failures: &self.failures,
            settings: "[webhook]",
            token_hint: "the hub's webhook token",
        }
    }

    pub(crate) fn alert_settings(&self) -> AlertSettings {
        self.config
            .as_ref()
            .map(|c| c.alerts.clone())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for HubState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("HubState")
            .field("database", &self.database)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

//! `stopline serve`: one engine per data directory, running the webhook server, the Alertmanager
//! pollers and the blind-pipeline watch until told to stop. On shutdown it finishes the requests
//! in flight (each committed before it is answered), stops the background tasks and returns.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::settings::{
    DEFAULT_POLL_INTERVAL, PipelineSettings, SourceKind, WebhookSettings,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::alertmanager::{AlertmanagerClient, AlertmanagerSource, PollTarget, poll_forever};
use crate::events::{EngineEvent, EngineEvents};
use crate::files::{DataDir, EngineLock};
use crate::hub_client::HubClient;
use crate::hub_sync::{HubSync, WhileAway};
use crate::live::LiveConfig;
use crate::notify::{InvokedAction, Notifier, NotifierStatus, desktop_notifier};
use crate::pager::{NOTIFICATIONS_KEY, OpenIncident, Pager};
use crate::routing::AlertRouting;
use crate::secrets::{OsKeyring, SecretStore, resolve};
use crate::shared_store::SharedStore;
use crate::webhook::{WebhookServer, WebhookState, routing_keys};
use crate::{Result, blind};

/// The source name zero-config Alertmanagers (`--alertmanager URL`) share: one HA cluster.
pub const DEFAULT_ALERTMANAGER_SOURCE: &str = "alertmanager";

/// Everything `stopline serve` was told.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// `None` runs without config: alerts route by labels.
    pub config: Option<Config>,
    /// Where `config` came from: the engine reloads it when the file changes.
    pub config_path: Option<std::path::PathBuf>,
    /// Alertmanagers given on the command line, polled as one source.
    pub alertmanager_urls: Vec<String>,
    /// Overrides `[webhook] listen`.
    pub listen: Option<SocketAddr>,
    /// Overrides the stored token.
    pub token: Option<String>,
    /// Added to `[webhook] allowed_hosts`.
    pub allowed_hosts: Vec<String>,
    /// Where secrets named in config are looked up: the process environment…
    pub env: HashMap<String, String>,
    /// …and the OS keyring (`None`: the real one).
    pub keyring: Option<Arc<dyn SecretStore>>,
    /// What the notification's Open button does; `None` (a host with no window) offers only
    /// Acknowledge.
    pub open_incident: Option<OpenIncident>,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token or the environment: they hold secrets.
        f.debug_struct("ServeOptions")
            .field("alertmanager_urls", &self.alertmanager_urls)
            .field("listen", &self.listen)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl ServeOptions {
    pub fn secret_store(&self) -> Arc<dyn SecretStore> {
        self.keyring.clone().unwrap_or_else(|| Arc::new(OsKeyring))
    }

    /// The Alertmanager sources to poll: configured ones, then the command line's.
    pub fn alertmanager_sources(&self) -> Result<Vec<AlertmanagerSource>> {
        let keyring = self.secret_store();
        let mut sources = match &self.config {
            Some(config) => alertmanager_sources(config, &self.env, keyring.as_ref())?,
            None => Vec::new(),
        };
        if !self.alertmanager_urls.is_empty() {
            sources.push(AlertmanagerSource {
                name: DEFAULT_ALERTMANAGER_SOURCE.to_owned(),
                urls: self.alertmanager_urls.clone(),
                poll_interval: DEFAULT_POLL_INTERVAL,
                bearer_token: None,
                write_back: None,
            });
        }
        Ok(sources)
    }

    fn webhook_settings(&self) -> WebhookSettings {
        let mut settings = self
            .config
            .as_ref()
            .map(|c| c.webhook.clone())
            .unwrap_or_default();
        if let Some(listen) = self.listen {
            settings.listen = listen;
        }
        settings
            .allowed_hosts
            .extend(self.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
        // Acknowledge links arrive under the public address pages name.
        if let Some(host) = self
            .config
            .as_ref()
            .and_then(|c| c.paging.ack_url_base.as_deref())
            .and_then(|base| stopline_http::host_name(stopline_core::reach::url_host(base)))
        {
            settings.allowed_hosts.push(host);
        }
        settings
    }
}

/// A started engine: it holds the data directory's lock and a bound webhook server.
#[derive(Debug)]
pub struct Engine {
    _lock: EngineLock,
    server: WebhookServer,
    /// With a config: escalation and this desktop's notifications.
    pager: Option<(Arc<Pager>, mpsc::UnboundedReceiver<InvokedAction>)>,
    /// The config file the engine reloads, and the config it replaces.
    watched: Option<(std::path::PathBuf, LiveConfig)>,
    notifications: NotifierStatus,
    store: SharedStore,
    routing: AlertRouting,
    events: EngineEvents,
    clock: Arc<dyn Clock>,
    sources: Vec<AlertmanagerSource>,
    pipeline: PipelineSettings,
    /// The hub this desktop has joined, and how to reach it: it then takes alerts and
    /// escalates, and this engine keeps the replica in step instead.
    hub: Option<HubSync>,
    /// Carries pages to people's contacts (email, webhooks); on a desktop with a config and no
    /// hub (a joined desktop's hub pages people away from their desks).
    contacts: Option<crate::contacts::ContactWorker>,
}

impl Engine {
    /// Takes the lock, opens the store, reads secrets and binds the webhook server. Any problem
    /// here is reported before anything runs.
    pub async fn start(
        data_dir: &DataDir,
        options: ServeOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine> {
        let lock = data_dir.lock_engine()?;
        crate::backup::check_at_start(data_dir, clock.now())?;
        // A token given is used as given: an empty one is refused below, never replaced.
        let token = match &options.token {
            Some(token) => token.trim().to_owned(),
            None => data_dir.webhook_token()?,
        };
        crate::secrets::check_strength(&token, "the webhook token")?;
        let store = SharedStore::new(data_dir.open_store()?);
        let link = crate::hub_link::HubLink::of(data_dir)?;
        // A joined desktop neither polls nor writes back while its hub does, once for
        // everyone; it does both only while the hub is away (`away_sources`).
        let (sources, away_sources) = if link.is_some() {
            (Vec::new(), options.alertmanager_sources()?)
        } else {
            (options.alertmanager_sources()?, Vec::new())
        };
        let away = crate::away::Away::default();
        let keys = routing_keys(
            options.config.as_ref(),
            &options.env,
            options.secret_store().as_ref(),
        )?;
        let settings = options.webhook_settings();
        let pipeline = options
            .config
            .as_ref()
            .map(|c| c.pipeline.clone())
            .unwrap_or_default();
        let alertmanager_source = sources.first().map_or_else(
            || DEFAULT_ALERTMANAGER_SOURCE.to_owned(),
            |s| s.name.clone(),
        );
        // Without its token (a locked or missing keyring) a joined desktop still starts and
        // works on its replica; `stopline status` says why it cannot reach the hub.
        let client = match &link {
            Some(link) => match link.token(options.secret_store().as_ref()) {
                Ok(token) => Some(HubClient::new(&link.url, &token)?),
                Err(error) => {
                    tracing::error!(%error, "cannot reach the hub without its token");
                    let state = crate::hub_sync::HubState {
                        connected: false,
                        since: clock.now(),
                        error: Some(error.to_string()),
                    };
                    let text = serde_json::to_string(&state).unwrap_or_default();
                    store.blocking(|s| {
                        s.set_desktop_setting(crate::hub_sync::HUB_STATE_KEY, &text)
                    })?;
                    None
                }
            },
            None => None,
        };
        let (actions, actions_received) = mpsc::unbounded_channel();
        let notifier: Arc<dyn Notifier> = desktop_notifier(actions).await;
        let notifications = notifier.status();
        // What `stopline status` reports while this engine runs.
        store.blocking(|s| s.set_desktop_setting(NOTIFICATIONS_KEY, &notifications.to_string()))?;
        let events = EngineEvents::default();
        let live = options.config.clone().map(LiveConfig::new);
        let pager = live.clone().map(|config| {
            let pager = Pager::new(
                store.clone(),
                config,
                Arc::clone(&clock),
                Arc::clone(&notifier),
                options.open_incident.clone(),
                events.clone(),
            );
            let pager = match &link {
                Some(link) => pager.joined(link.clone(), away.clone()),
                None => pager,
            };
            (Arc::new(pager), actions_received)
        });
        let routing = AlertRouting::live(live.clone());
        let degraded_after = options
            .config
            .as_ref()
            .map(|c| c.hub.degraded_after)
            .unwrap_or(stopline_core::settings::DEFAULT_DEGRADED_AFTER);
        let hub = link.clone().zip(client).map(|(link, client)| HubSync {
            client,
            store: store.clone(),
            link,
            clock: Arc::clone(&clock),
            events: events.clone(),
            notifier: Some(Arc::clone(&notifier)),
            while_away: Some(WhileAway {
                away: away.clone(),
                after: degraded_after,
                sources: away_sources,
                target: PollTarget {
                    store: store.clone(),
                    routing: routing.clone(),
                    events: events.clone(),
                    clock: Arc::clone(&clock),
                },
            }),
        });
        let link_key = Arc::new(data_dir.ack_link_key()?);
        if let (Some(config), None) = (&options.config, &link) {
            for missing in crate::contacts::missing_secrets(
                config,
                &options.env,
                options.secret_store().as_ref(),
            ) {
                tracing::error!(
                    "pages beyond the desk: {missing}; messages to it fail until it is there"
                );
            }
        }
        let contacts = match (&live, &link) {
            (Some(config), None) => Some(crate::contacts::ContactWorker {
                store: store.clone(),
                config: config.clone(),
                clock: Arc::clone(&clock),
                events: events.clone(),
                env: options.env.clone(),
                keyring: options.secret_store(),
                link_key: Arc::clone(&link_key),
                sender: crate::contacts::sender()?,
            }),
            _ => None,
        };
        let watched = options.config_path.clone().zip(live);
        let state = WebhookState {
            store: store.clone(),
            routing: routing.clone(),
            events: events.clone(),
            clock: Arc::clone(&clock),
            token,
            allowed_hosts: settings.allowed_hosts,
            max_body_bytes: settings.max_body_bytes,
            max_connections: connection_cap(settings.max_connections),
            read_timeout: settings.read_timeout,
            routing_keys: keys,
            alertmanager_source,
            replays: Mutex::new(crate::replay::ReplayCache::default()),
            auth_failures: Mutex::new(crate::auth_failures::AuthFailures::default()),
            joined_hub: link.as_ref().map(|l| l.url.clone()),
            link_key,
        };
        let server = WebhookServer::bind(settings.listen, state).await?;
        if !server.local_addr().ip().is_loopback() {
            tracing::warn!(
                address = %server.local_addr(),
                "the webhook server listens beyond loopback: anyone who can reach this address can try tokens and routing keys, and traffic is plain HTTP; put a TLS proxy in front and allow only your alert senders"
            );
        }
        Ok(Engine {
            _lock: lock,
            server,
            pager,
            watched,
            notifications,
            store,
            routing,
            events,
            clock,
            sources,
            pipeline,
            hub,
            contacts,
        })
    }

    pub fn webhook_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    pub fn sources(&self) -> &[AlertmanagerSource] {
        &self.sources
    }

    /// Whether pages reach this desktop as notifications, found at start.
    pub fn notifications(&self) -> &NotifierStatus {
        &self.notifications
    }

    /// What the engine does as it does it: a host refreshes its view on these.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    /// Whether this engine pages (it has a config with people to page).
    pub fn pages(&self) -> bool {
        self.pager.is_some()
    }

    /// Runs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let mut tasks: Vec<JoinHandle<()>> = Vec::new();
        if let Some((pager, actions)) = self.pager.take() {
            tasks.push(tokio::spawn(pager.run(actions)));
        }
        if let Some((path, live)) = self.watched.take() {
            tasks.push(tokio::spawn(crate::live::watch(path, live)));
        }
        if let Some(contacts) = self.contacts.take() {
            tasks.push(tokio::spawn(contacts.run()));
        }
        let joined = self.hub.is_some();
        if let Some(hub) = self.hub.take() {
            tracing::info!(hub = %hub.link.url, person = %hub.link.person, "joined to a hub");
            // The hub writes back; while it is away the sync runs an outbox worker of its
            // own. A second worker here, knowing no source, would put its actions off.
            hub.store.blocking(|s| s.set_write_back(&[]))?;
            tasks.push(tokio::spawn(hub.run()));
        }
        // Also when no source writes back: it clears write-back a previous config left.
        if !joined {
            match crate::outbox::OutboxWorker::new(
                self.store.clone(),
                self.sources.clone(),
                Arc::clone(&self.clock),
            ) {
                Ok(worker) => tasks.push(tokio::spawn(worker.run(self.events.subscribe()))),
                Err(error) => tracing::error!("the outbox cannot run: {error}"),
            }
        }
        let target = PollTarget {
            store: self.store.clone(),
            routing: self.routing.clone(),
            events: self.events.clone(),
            clock: Arc::clone(&self.clock),
        };
        if !self.sources.is_empty() {
            let client = AlertmanagerClient::new()?;
            for source in self.sources.clone() {
                tracing::info!(source = %source.name, urls = %source.urls.join(", "), every = ?source.poll_interval, "polling");
                tasks.push(tokio::spawn(poll_forever(
                    source,
                    client.clone(),
                    target.clone(),
                )));
            }
        }
        tasks.push(tokio::spawn(watch_pipeline(target, self.pipeline.clone())));
        tracing::info!(address = %self.webhook_addr(), "webhook server listening");
        let result = self.server.serve(shutdown).await;
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
        tracing::info!("stopped");
        result
    }
}

/// File descriptors kept for everything but webhook connections: the store and its WAL, the
/// D-Bus connection, outgoing HTTP to sources, the log.
const RESERVED_FILES: u64 = 64;

/// Raises the process's soft limit on open files to its hard limit (the soft one is often 1,024
/// or even 256, the hard one far higher), so the webhook's connection cap, not the file limit,
/// is what bounds connections; then caps `wanted` to what the limit allows. Both are logged.
fn connection_cap(wanted: usize) -> usize {
    use rustix::process::{Resource, getrlimit, setrlimit};
    /// The soft limit asked for when the hard one is unlimited (`None`).
    const UNLIMITED_TARGET: u64 = 65_536;
    let mut limit = getrlimit(Resource::Nofile);
    let before = limit.current;
    let target = limit.maximum.unwrap_or(UNLIMITED_TARGET);
    if limit.current.is_some_and(|current| current < target) {
        limit.current = Some(target);
        match setrlimit(Resource::Nofile, limit) {
            Ok(()) => tracing::info!(
                from = ?before,
                to = ?limit.current,
                "raised the open-file limit to its hard limit"
            ),
            Err(error) => {
                limit.current = before;
                tracing::warn!(%error, "cannot raise the open-file limit");
            }
        }
    }
    let Some(files) = limit.current else {
        return wanted;
    };
    let allowed =
        usize::try_from(files.saturating_sub(RESERVED_FILES).max(1)).unwrap_or(usize::MAX);
    if wanted > allowed {
        tracing::warn!(
            wanted,
            allowed,
            files,
            "[webhook] max_connections is more than the open-file limit allows: serving fewer"
        );
    }
    wanted.min(allowed)
}

/// Checks the alerting pipeline's health a few times per timeout.
async fn watch_pipeline(target: PollTarget, settings: PipelineSettings) {
    let shortest = settings.heartbeat_timeout.min(settings.unreachable_timeout);
    let period = (shortest / 4).clamp(Duration::from_secs(1), Duration::from_secs(15));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let (routing, settings, now) =
            (target.routing.clone(), settings.clone(), target.clock.now());
        let checked: Result<_> = target
            .store
            .run(move |store| blind::check_pipeline(store, &routing, &settings, now))
            .await;
        match checked {
            Ok(check) => {
                if !check.blind.is_empty() {
                    tracing::warn!(sources = %check.blind.join(", "), "alerting pipeline blind");
                }
                target.events.alerts_stored(&check.summary);
            }
            Err(error) => tracing::error!(%error, "cannot check the alerting pipeline"),
        }
    }
}

/// The config's Alertmanager sources, each API token read from the environment or the keyring:
/// what a desktop's engine and the hub poll.
pub fn alertmanager_sources(
    config: &Config,
    env: &HashMap<String, String>,
    keyring: &dyn SecretStore,
) -> Result<Vec<AlertmanagerSource>> {
    let mut sources = Vec::new();
    for source in &config.sources {
        if let SourceKind::Alertmanager {
            urls,
            poll_interval,
            bearer_token,
            write_back,
        } = &source.kind
        {
            let bearer_token = bearer_token
                .as_ref()
                .map(|secret| {
                    resolve(
                        secret,
                        &format!("the API token of source {:?}", source.name),
                        env,
                        keyring,
                    )
                })
                .transpose()?;
            sources.push(AlertmanagerSource {
                name: source.name.clone(),
                urls: urls.clone(),
                poll_interval: *poll_interval,
                bearer_token,
                write_back: *write_back,
            });
        }
    }
    Ok(sources)
}

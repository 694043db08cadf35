//! Stopline's engine: the one API hosts call, and everything that runs behind it.
//!
//! **`api`** is what hosts (the `stopline` CLI, the desktop app) call: a [`api::Workspace`] handle
//! (the config file read as it changes, the store, the clock) that returns every view a host shows
//! (the queue, an incident, the service desk's route, on call, unrouted alerts, sources, the
//! report, this desktop's settings) and performs every action a person takes (acknowledge,
//! resolve, note, step, role, severity, assign, override, settings). Hosts only unpack arguments
//! and present what it returns.
//!
//! Behind it: the files on disk (`files`: the data directory, token and engine lock; the config
//! file) and the operations that combine the config with the store (`desk`, `swarm`, `triage`,
//! `overrides`, `lookup`); alert intake (`payload` parsing, `routing`, the `webhook` server,
//! `alertmanager` polling, the `blind`-pipeline check), run together by `serve` on tokio;
//! paging (`escalation` steps recorded in the store, `notify` for desktop notifications, the
//! `pager` tying them together); the `outbox` worker that silences acknowledged incidents' alerts
//! in Alertmanager; `backup` and restore; and the two documents it writes, the `review` and the
//! `report`. Async code shares one store connection through `shared_store` and tells the rest of
//! the program what it did through typed `events`. The rules it applies are `stopline-core`'s. It
//! never depends on Tauri.

/// This build's version and the commit it was built from: `0.1.0 (commit 1a2b3c4d5e6f)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("STOPLINE_BUILD_COMMIT"),
    ")"
);

pub mod alertmanager;
pub mod api;
pub mod away;
/// Failed authentications at the webhook, per client address (in `stopline-http`, shared with
/// the hub).
pub use stopline_http::auth_failures;
pub mod backup;
pub mod blind;
pub mod contacts;
pub mod desk;
pub mod escalation;
pub mod events;
pub mod files;
pub mod health;
pub mod hub_client;
pub mod hub_link;
pub mod hub_sync;
pub mod live;
pub mod lookup;
pub mod notify;
pub mod outbox;
pub mod overrides;
pub mod pager;
/// The alert payloads senders post, parsed (in `stopline-core`, so the hub parses alike).
pub use stopline_core::payload;
pub mod replay;
pub mod report;
pub mod review;
pub mod routing;
pub mod secrets;
pub mod serve;
pub mod shared_store;
pub mod swarm;
pub mod triage;
pub mod webhook;

use std::path::PathBuf;

use stopline_core::config::ConfigError;
use stopline_core::desk::{LabelsError, TargetError};
use stopline_core::incident::IncidentId;
use stopline_store::StoreError;

use crate::alertmanager::HttpClientError;
use crate::shared_store::StoreTaskFailed;

/// Everything the engine can refuse or fail at. Messages say what is wrong in words any host can
/// show; a host adds its own hint (the CLI's flags, the app's buttons).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no config at {path}")]
    ConfigMissing { path: PathBuf },
    #[error("config already exists at {path}")]
    ConfigExists { path: PathBuf },
    #[error("cannot use {path} as the config: {reason}")]
    ConfigUnreadable { path: PathBuf, reason: String },
    #[error("{0}")]
    ConfigInvalid(#[from] ConfigError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unknown person {0:?}: expected the id of a person in the config")]
    UnknownPerson(String),
    #[error(
        "nobody sits at this desktop: choose who sits here first (stopline whoami --set PERSON, or the app's Settings)"
    )]
    NobodyHere,
    #[error("unknown application {0:?}: expected an application id")]
    UnknownApplication(String),
    #[error("{0} matches no application")]
    Unrouted(String),
    #[error("{name}: {problem}")]
    BadLabels { name: String, problem: LabelsError },
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the note must not be empty")]
    EmptyNote,
    #[error("{0}")]
    BadCustomerReport(#[from] stopline_core::desk::CustomerReportError),
    #[error("{0} is resolved: open a new incident for this report")]
    ReportToResolved(IncidentId),
    #[error("unknown team {0:?}: expected the id of a delivery team")]
    UnknownTeam(String),
    #[error("unknown rota {0:?}: expected one of {1}")]
    UnknownRota(String, String),
    #[error("no alert with fingerprint {0:?}")]
    UnknownAlert(String),
    #[error(
        "alert {fingerprint} already routes to {application}: only unrouted alerts are assigned"
    )]
    AlreadyRouted {
        fingerprint: String,
        application: String,
    },
    #[error("alert {fingerprint} came from several sources ({})", sources.join(", "))]
    AmbiguousAlert {
        fingerprint: String,
        sources: Vec<String>,
    },
    #[error("the alert has none of the labels {0}")]
    NoRouteLabels(String),
    #[error("the alert has no label {0:?} to route by")]
    MissingRouteLabel(String),
    #[error("cannot add the override: {0}")]
    BadOverride(String),
    #[error("{to}: must be after {from}")]
    BadPeriod { from: String, to: String },
    #[error("{name}: invalid time {text:?}: expected {expected}")]
    BadTime {
        name: String,
        text: String,
        expected: String,
    },
    #[error("the estimated loss must be a whole amount of 0 or more")]
    BadLoss,
    #[error("flood threshold: at least 1 page a minute")]
    BadFloodThreshold,
    #[error(
        "another Stopline engine (pid {pid}) is already running on {data_dir}: one engine per data directory, so nothing pages twice"
    )]
    AlreadyRunning { data_dir: PathBuf, pid: String },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{secret} is not set: {what} is read from it; {hint}")]
    MissingSecret {
        secret: String,
        what: String,
        hint: String,
    },
    #[error("cannot read {secret}: {reason}")]
    SecretUnavailable { secret: String, reason: String },
    #[error(
        "{what} is {length} characters: at least {} are needed (`stopline token` shows a strong one; `openssl rand -hex 32` makes one)",
        crate::secrets::MIN_SECRET_CHARS
    )]
    WeakSecret { what: String, length: usize },
    #[error("{path} exists already: name another file (a backup never replaces one)")]
    BackupExists { path: PathBuf },
    #[error(
        "the backup written to {path} does not check out ({problem}): it was removed; try again"
    )]
    BackupDamaged { path: PathBuf, problem: String },
    #[error("cannot restore: {0}")]
    RestoreRefused(String),
    #[error(
        "the store at {path} is damaged ({problem}). It was moved aside to {moved_to}, not overwritten. {offer}"
    )]
    StoreDamaged {
        path: PathBuf,
        problem: String,
        moved_to: PathBuf,
        offer: String,
    },
    #[error("hub address {url:?}: {why}")]
    BadHubUrl { url: String, why: String },
    #[error(
        "this desktop's hub token is missing from the OS keyring (entry {entry:?}): connect again with `stopline connect URL --token-stdin`"
    )]
    HubTokenMissing { entry: String },
    #[error("cannot reach the hub at {url}: {reason}")]
    HubUnreachable { url: String, reason: String },
    #[error("the hub refused ({status}): {message}{}", if path.is_empty() { String::new() } else { format!(" (at {path})") })]
    HubRefused {
        status: u16,
        message: String,
        path: String,
    },
    #[error(
        "this desktop is already joined to {hub} as {person}: `stopline disconnect` first to join another"
    )]
    AlreadyJoined { hub: String, person: String },
    #[error("this desktop has not joined a hub: `stopline connect URL --token-stdin` joins one")]
    NotJoined,
    #[error(
        "this desktop is joined to {hub} as {person}: it acts only as {person} (asked to act as {asked}); `stopline disconnect` leaves the hub"
    )]
    SignedInAsAnother {
        hub: String,
        person: String,
        asked: String,
    },
    #[error(
        "{action} is not shared through the hub yet: on a desktop joined to a hub it is refused rather than kept here alone"
    )]
    NotOnHub { action: &'static str },
    #[error(
        "a route cannot be saved from a desktop joined to a hub: the organisation's config is shared, so add the route where it is kept. The alert itself can be routed without --save"
    )]
    RouteNotSavedOnHub,
    #[error(
        "{waiting} of your actions still wait for the hub: leaving now would drop them. Reconnect to let them reach it, or give --discard-waiting"
    )]
    ActionsWaiting { waiting: u64 },
    #[error(transparent)]
    Http(#[from] HttpClientError),
    #[error(transparent)]
    StoreTask(#[from] StoreTaskFailed),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TargetError> for EngineError {
    fn from(error: TargetError) -> Self {
        match error {
            TargetError::UnknownApplication(id) => EngineError::UnknownApplication(id),
            TargetError::Unrouted(what) => EngineError::Unrouted(what),
        }
    }
}

impl EngineError {
    /// Whether the user asked for something that can never work as asked (bad config, unknown
    /// names, missing reasons), as opposed to a request about state that is not as they thought
    /// (a refused transition, a step still open) or a failure of the machine. Every kind is
    /// named here, so a new one must be placed.
    pub fn is_usage(&self) -> bool {
        use stopline_core::swarm::SwarmError;
        match self {
            EngineError::ConfigMissing { .. }
            | EngineError::ConfigExists { .. }
            | EngineError::ConfigUnreadable { .. }
            | EngineError::ConfigInvalid(_)
            | EngineError::UnknownPerson(_)
            | EngineError::NobodyHere
            | EngineError::UnknownApplication(_)
            | EngineError::Unrouted(_)
            | EngineError::BadLabels { .. }
            | EngineError::EmptyTitle
            | EngineError::EmptyNote
            | EngineError::BadCustomerReport(_)
            | EngineError::UnknownTeam(_)
            | EngineError::UnknownRota(..)
            | EngineError::UnknownAlert(_)
            | EngineError::AmbiguousAlert { .. }
            | EngineError::NoRouteLabels(_)
            | EngineError::MissingRouteLabel(_)
            | EngineError::BadOverride(_)
            | EngineError::BadPeriod { .. }
            | EngineError::BadTime { .. }
            | EngineError::BadLoss
            | EngineError::BadFloodThreshold
            | EngineError::BackupExists { .. }
            | EngineError::RestoreRefused(_)
            | EngineError::MissingSecret { .. }
            | EngineError::WeakSecret { .. }
            | EngineError::BadHubUrl { .. }
            | EngineError::NotJoined
            | EngineError::SignedInAsAnother { .. }
            | EngineError::NotOnHub { .. }
            | EngineError::RouteNotSavedOnHub => true,
            EngineError::HubTokenMissing { .. }
            | EngineError::HubUnreachable { .. }
            | EngineError::HubRefused { .. }
            | EngineError::ActionsWaiting { .. }
            | EngineError::AlreadyJoined { .. } => false,
            EngineError::AlreadyRouted { .. }
            | EngineError::ReportToResolved(_)
            | EngineError::Io { .. }
            | EngineError::AlreadyRunning { .. }
            | EngineError::Listen { .. }
            | EngineError::SecretUnavailable { .. }
            | EngineError::BackupDamaged { .. }
            | EngineError::StoreDamaged { .. }
            | EngineError::Http(_)
            | EngineError::StoreTask(_) => false,
            EngineError::Store(store) => match store {
                StoreError::Swarm(swarm) => match swarm {
                    SwarmError::UnknownStep { .. }
                    | SwarmError::SkipWithoutReason { .. }
                    | SwarmError::NothingToChange => true,
                    SwarmError::ChecklistNotStarted(_)
                    | SwarmError::OpenSteps { .. }
                    | SwarmError::RoleTaken { .. }
                    | SwarmError::AlreadyInRole { .. }
                    | SwarmError::NotInSwarm { .. }
                    | SwarmError::StepMoved { .. }
                    | SwarmError::HolderChanged { .. } => false,
                },
                StoreError::Severity(_) => true,
                StoreError::Open { .. }
                | StoreError::Private { .. }
                | StoreError::NewerSchema { .. }
                | StoreError::IncidentNotFound(_)
                | StoreError::Transition(_)
                | StoreError::Corrupt(_)
                | StoreError::Sqlite(_) => false,
            },
        }
    }
}

impl From<stopline_core::swarm::SwarmError> for EngineError {
    fn from(error: stopline_core::swarm::SwarmError) -> Self {
        EngineError::Store(StoreError::Swarm(error))
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

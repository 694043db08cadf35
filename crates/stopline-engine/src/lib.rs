//! Stopline's engine: what hosts (the `stopline` CLI, the desktop app) call to act on the world.
//!
//! It owns the files on disk (the data directory with its store, webhook token and engine lock;
//! the config file), the operations that combine configuration with the store (the service desk
//! opening an incident through the application mapping), and alert intake: payload parsing, the
//! webhook server, Alertmanager polling and the blind-pipeline check, run together by `serve` on
//! tokio; and paging: escalation steps recorded in the store, and pages shown as desktop
//! notifications (`escalation`, `notify`, `pager`); and the swarm: checklist, roles, severity and
//! each team's line (`swarm`); overrides added to rotas in the config file (`overrides`); the
//! outbox worker that silences acknowledged incidents' alerts in Alertmanager (`outbox`); and
//! backups of the store, restoring one, and the check of the store at start (`backup`); and the
//! operability report: what on-call costs and what outages lose (`report`). Besides the two
//! documents it writes (the review and the report, as Markdown or CSV), it holds no
//! presentation: hosts turn its results into tables, JSON or UI events. It never depends on Tauri.

pub mod alertmanager;
pub mod backup;
pub mod blind;
pub mod desk;
pub mod escalation;
pub mod files;
pub mod health;
pub mod intake;
pub mod live;
pub mod lookup;
pub mod notify;
pub mod outbox;
pub mod overrides;
pub mod pager;
pub mod payload;
pub mod replay;
pub mod report;
pub mod review;
pub mod secrets;
pub mod serve;
pub mod swarm;
pub mod triage;
pub mod webhook;

use std::path::PathBuf;

use stopline_core::config::ConfigError;
use stopline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no config at {path}: create one with `stopline init` (or `stopline init --demo`)")]
    ConfigMissing { path: PathBuf },
    #[error("config already exists at {path}: use --force to replace it")]
    ConfigExists { path: PathBuf },
    #[error("{0}")]
    ConfigInvalid(#[from] ConfigError),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "unknown person {0:?}: expected the id of a person in the config (see `stopline teams`)"
    )]
    UnknownPerson(String),
    #[error("unknown application {0:?}: expected an application id (see `stopline apps`)")]
    UnknownApplication(String),
    #[error("{0} matches no application: name one with --app (see `stopline apps`)")]
    Unrouted(String),
    #[error("the title must not be empty")]
    EmptyTitle,
    #[error("the note must not be empty")]
    EmptyNote,
    #[error("{0} needs a reason: add --reason \"why\"")]
    ReasonRequired(&'static str),
    #[error("nothing to change: give a state (todo, doing, done, skip) or --assign PERSON")]
    NothingToChange,
    #[error("unknown team {0:?}: expected the id of a delivery team (see `stopline teams`)")]
    UnknownTeam(String),
    #[error("no alert with fingerprint {0:?}: see `stopline unrouted`")]
    UnknownAlert(String),
    #[error(
        "alert {fingerprint} already routes to {application}: only unrouted alerts are assigned"
    )]
    AlreadyRouted {
        fingerprint: String,
        application: String,
    },
    #[error("alert {fingerprint} came from several sources ({}): say which with --source", sources.join(", "))]
    AmbiguousAlert {
        fingerprint: String,
        sources: Vec<String>,
    },
    #[error("the alert has none of the labels {0}: name the labels to route by with --by LABEL")]
    NoRouteLabels(String),
    #[error("--by: the alert has no label {0:?}")]
    MissingRouteLabel(String),
    #[error("cannot add the override: {0}")]
    BadOverride(String),
    #[error("{0}")]
    BadPeriod(String),
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// Whether the user asked for something that can never work as asked (bad config, unknown
    /// names), as opposed to a request about state that is not as they thought.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            EngineError::ConfigMissing { .. }
                | EngineError::ConfigExists { .. }
                | EngineError::ConfigInvalid(_)
                | EngineError::UnknownPerson(_)
                | EngineError::UnknownApplication(_)
                | EngineError::Unrouted(_)
                | EngineError::EmptyTitle
                | EngineError::EmptyNote
                | EngineError::ReasonRequired(_)
                | EngineError::NothingToChange
                | EngineError::UnknownTeam(_)
                | EngineError::UnknownAlert(_)
                | EngineError::AmbiguousAlert { .. }
                | EngineError::NoRouteLabels(_)
                | EngineError::MissingRouteLabel(_)
                | EngineError::BadOverride(_)
                | EngineError::BadPeriod(_)
                | EngineError::BackupExists { .. }
                | EngineError::RestoreRefused(_)
                | EngineError::MissingSecret { .. }
                | EngineError::Store(
                    StoreError::UnknownStep { .. } | StoreError::SkipWithoutReason { .. }
                )
        )
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

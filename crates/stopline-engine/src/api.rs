//! The one API the hosts call. The `stopline` CLI and the desktop app each hold one
//! [`Workspace`] (the config file, read again when it changes; the store, opened once and again
//! only if the file is replaced; the clock) and ask it for every view they show and every action a person takes. They unpack
//! arguments and present what comes back; nothing here knows whether it will be a table, JSON or
//! a window.
//!
//! The views and actions are grouped by what people do: the queue of incidents (`queue`), one
//! incident and what the swarm does to it (`incident`), the service desk (`desk`), who is on call
//! (`on_call`), this desktop's own settings (`desktop`), the alert sources (`sources`) and the
//! two documents, the operability report and the post-incident review (`documents`).
//!
//! Whoever acts is an [`Actor`]: a person named on the command line, or the person who sits at
//! this desktop (`stopline whoami`). Times people type are [`TimeArg`]s, named as the host names
//! them, so an error says which argument is wrong.

mod desk;
mod desktop;
mod documents;
mod hub;
mod incident;
mod on_call;
mod queue;
mod situation;
mod sources;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::ids::PersonId;
use stopline_store::Store;

pub use desk::{ApplicationChoice, DeskRoute, LayerOnCall, RouteView, UnroutedView, parse_labels};
pub use desktop::{DesktopStatus, NotificationChoices, NotificationsChange, SettingsView};
pub use documents::{ExportFormat, ReportView};
pub use hub::{Connected, Disconnected, HubStatus, Mutation};
pub use incident::IncidentView;
pub(crate) use on_call::calendar_feed;
pub use on_call::{
    CalendarFor, FEED_AHEAD_DAYS, FEED_PAST_DAYS, LayerNow, OnCallView, OverrideForm, RotaNow,
    RotaTimeline, TIMELINE_DAYS, calendar_key,
};

pub use crate::health::SourceHealth;
pub use crate::overrides::{AddedOverride, RemoveRequest};
pub use crate::report::CsvTable;
pub use crate::review::Review;
pub use queue::{IncidentSummary, QueueView};
pub use situation::{Named, NamedAt, NextPage, Secondary, Situation};

pub use crate::desk::OpenTarget;
pub use crate::swarm::{RoleRequest, SeverityRequest, StepRequest};
pub use crate::triage::Assigned;

use crate::files::DataDir;
use crate::live::ConfigFile;
use crate::shared_store::SharedStore;
use crate::{EngineError, Result};

/// Who does something: a person named by the host, or whoever sits at this desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person's id from the config, as typed (`--as ben`).
    Named(String),
    /// The person at this desktop (`stopline whoami`); refused while nobody is chosen.
    SittingHere,
}

/// A time a person typed, and the name of the argument it came in, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeArg<'a> {
    /// Such as `--from` on the command line, or `from` in the app.
    pub name: &'a str,
    pub text: &'a str,
}

/// The handle a host holds for its lifetime: one config file, one data directory, one store
/// connection (see [`Workspace::store`]), one clock. Cloning is not needed: hosts share it by reference (it is `Sync`).
#[derive(Debug)]
pub struct Workspace {
    config: ConfigFile,
    data_dir: DataDir,
    /// Opened the first time something needs it (`stopline init` needs none), with the identity
    /// of the file it opened.
    store: Mutex<Option<(SharedStore, Option<u64>)>>,
    clock: Arc<dyn Clock>,
}

impl Workspace {
    pub fn new(config_path: PathBuf, data_dir: DataDir, clock: Arc<dyn Clock>) -> Self {
        Self {
            config: ConfigFile::new(config_path),
            data_dir,
            store: Mutex::new(None),
            clock,
        }
    }

    pub fn config_path(&self) -> &Path {
        self.config.path()
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The config as the file says now.
    pub fn config(&self) -> Result<Arc<Config>> {
        self.config.current()
    }

    /// The store, opened (and brought up to date) the first time it is needed, and opened again
    /// when the file at its path is another one than the one opened: a damaged store the engine
    /// moved aside at start, or a backup restored in its place.
    pub fn store(&self) -> Result<SharedStore> {
        let mut opened = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let now = file_identity(&self.data_dir.store_path());
        if let Some((store, identity)) = opened.as_ref() {
            // While a request still uses the old connection, it stays: SQLite must close it
            // before a new one opens at the same path, or closing it could take the new
            // store's write-ahead log with it. The next request opens the new one.
            if (now.is_some() && now == *identity) || store.handles() > 1 {
                return Ok(store.clone());
            }
        }
        // Closed first, for the same reason.
        *opened = None;
        let store = SharedStore::new(self.data_dir.open_store()?);
        *opened = Some((store.clone(), file_identity(&self.data_dir.store_path())));
        Ok(store)
    }

    /// The clock, for work done away from the store.
    fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// Closes the store (when no request uses it), so the next use opens the file now in use:
    /// after joining or leaving a hub.
    fn close_store(&self) {
        *self.store.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Runs `work` on the store, on this thread.
    fn with_store<T>(&self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.store()?.blocking(work)
    }

    /// Runs a person's action on the store, holding its write lock from the start, with the
    /// time read once the lock is held: what the action records is stamped after anything the
    /// engine committed while it waited (see `Store::exclusively`).
    fn act<T>(&self, work: impl FnOnce(&mut Store, Timestamp) -> Result<T>) -> Result<T> {
        let clock = Arc::clone(&self.clock);
        self.store()?
            .blocking(|store| store.exclusively(|store| work(store, clock.now())))
    }

    /// The person `actor` stands for, checked against the config.
    fn person(&self, config: &Config, actor: &Actor) -> Result<PersonId> {
        // A desktop joined to a hub acts as the person whose token it holds, and no one else.
        if let Some(link) = crate::hub_link::HubLink::of(&self.data_dir)? {
            let asked = match actor {
                Actor::Named(id) => id.trim(),
                Actor::SittingHere => link.person.as_str(),
            };
            if asked != link.person {
                return Err(EngineError::SignedInAsAnother {
                    hub: link.url.clone(),
                    person: link.person.clone(),
                    asked: asked.to_owned(),
                });
            }
            return crate::lookup::person(config, &link.person);
        }
        match actor {
            Actor::Named(id) => crate::lookup::person(config, id),
            Actor::SittingHere => {
                let here = self.whoami()?.ok_or(EngineError::NobodyHere)?;
                // Someone chosen once, since removed from the config, is nobody.
                crate::lookup::person(config, here.as_str())
            }
        }
    }

    /// The person's id as text, for the engine's operations that take it so.
    fn person_text(&self, config: &Config, actor: &Actor) -> Result<String> {
        Ok(self.person(config, actor)?.to_string())
    }
}

/// Which file is at `path`; `None` when there is none.
fn file_identity(path: &Path) -> Option<u64> {
    crate::live::FileVersion::of(path).map(|v| v.identity())
}

/// A time as people type it: with an offset (`2026-03-29T01:30:00Z`), or on the workspace's
/// wall clock (`2026-03-29 01:30`, `2026-03-29`: midnight).
pub fn parse_time(config: &Config, time: TimeArg<'_>) -> Result<Timestamp> {
    let text = time.text.trim();
    let zone = &config.workspace.time_zone;
    let parsed = text.parse::<Timestamp>().ok().or_else(|| {
        let local = text.parse::<DateTime>().ok().or_else(|| {
            text.parse::<Date>()
                .ok()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })?;
        zone.to_ambiguous_timestamp(local).compatible().ok()
    });
    parsed.ok_or_else(|| EngineError::BadTime {
        name: time.name.to_owned(),
        text: text.to_owned(),
        expected: format!(
            "\"2026-03-29 09:00\" (the workspace's zone, {}), \"2026-03-29\" or \"2026-03-29T09:00:00Z\"",
            config.workspace.time_zone_name
        ),
    })
}

/// A period `[from, to)` from two optional times: by default the four weeks to now.
fn period(
    config: &Config,
    from: Option<TimeArg<'_>>,
    to: Option<TimeArg<'_>>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp)> {
    let end = to
        .map(|t| parse_time(config, t))
        .transpose()?
        .unwrap_or(now);
    let start = match from {
        Some(t) => parse_time(config, t)?,
        None => end - jiff::SignedDuration::from_hours(28 * 24),
    };
    if start >= end {
        return Err(EngineError::BadPeriod {
            from: from.map_or("the start", |t| t.name).to_owned(),
            to: to.map_or("the end", |t| t.name).to_owned(),
        });
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stopline_core::clock::ManualClock;

    fn workspace(dir: &Path) -> Workspace {
        let config = dir.join("stopline.toml");
        std::fs::write(&config, stopline_core::config::DEMO_CONFIG).unwrap();
        let clock: Arc<dyn Clock> =
            Arc::new(ManualClock::new("2026-11-27T10:00:00Z".parse().unwrap()));
        Workspace::new(config, DataDir::new(dir.join("data")), clock)
    }

    #[test]
    fn times_read_on_the_workspace_clock_and_errors_name_the_argument() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let config = ws.config().unwrap();
        let at = |text| parse_time(&config, TimeArg { name: "--at", text });
        // London is on GMT in November.
        assert_eq!(
            at("2026-11-27 09:30").unwrap(),
            "2026-11-27T09:30:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            at("2026-11-27").unwrap(),
            "2026-11-27T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        let error = at("tomorrow").unwrap_err().to_string();
        assert!(
            error.starts_with("--at: invalid time \"tomorrow\""),
            "{error}"
        );
        let backwards = period(
            &config,
            Some(TimeArg {
                name: "--from",
                text: "2026-12-01",
            }),
            Some(TimeArg {
                name: "--to",
                text: "2026-11-01",
            }),
            ws.now(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(backwards, "--to: must be after --from");
    }

    #[test]
    fn a_store_replaced_on_disk_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        ws.set_whoami(Some("ben")).unwrap();
        // Moved aside with its companions (as a damaged store is at the engine's start): a
        // new, empty one is used.
        let path = ws.data_dir().store_path();
        for companion in ["", "-wal", "-shm"] {
            let from = format!("{}{companion}", path.display());
            if std::path::Path::new(&from).exists() {
                std::fs::rename(&from, dir.path().join(format!("aside.db{companion}"))).unwrap();
            }
        }
        assert_eq!(ws.whoami().unwrap(), None);
        ws.set_whoami(Some("aisha")).unwrap();
        let reopened = stopline_store::Store::open(&path).unwrap();
        assert_eq!(
            reopened.desktop_setting("person").unwrap().as_deref(),
            Some("aisha"),
            "written to the store at the path, not the one moved aside"
        );
    }

    #[test]
    fn the_config_is_read_again_only_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path());
        let first = ws.config().unwrap();
        assert!(
            Arc::ptr_eq(&first, &ws.config().unwrap()),
            "unchanged: not read again"
        );
        let renamed = stopline_core::config::DEMO_CONFIG.replace("Northwind Retail", "Southwind");
        std::fs::write(ws.config_path(), renamed).unwrap();
        assert_eq!(ws.config().unwrap().workspace.name, "Southwind");
        std::fs::write(ws.config_path(), "[workspace\n").unwrap();
        assert!(matches!(ws.config(), Err(EngineError::ConfigInvalid(_))));
    }
}

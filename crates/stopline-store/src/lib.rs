//! The local incident store: the one crate that owns SQLite.
//!
//! Everything Stopline tells a user is saved (an incident opened, an acknowledgement, a note, an
//! alert answered with 2xx) is committed here with `synchronous=FULL` before the caller reports
//! success, so a crash or `kill -9` never loses it. Every write runs in a `BEGIN IMMEDIATE`
//! transaction and either happens completely or not at all: a rejected transition changes nothing.
//! WAL mode lets readers (the CLI, the desktop app) read while one writer writes.
//!
//! Timestamps are stored as UTC milliseconds since the Unix epoch. The decisions (the state
//! machine, deduplication and grouping, the checklist's gate, roles, severity, escalation, the
//! line) are functions in `stopline-core`;
//! the store loads what a rule needs, applies its decision and saves it, in one transaction, with
//! integrity constraints and triggers that keep the data sound.

mod alerts;
mod contacts;
mod degraded;
mod hub_overrides;
mod incidents;
mod ingest;
mod migrations;
mod outbox;
mod paging;
mod provisional;
mod replica;
mod reports;
mod rows;
mod sources;
mod swarm;
mod window;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use stopline_core::incident::{IncidentId, TransitionError};
use stopline_core::severity::SeverityError;
use stopline_core::swarm::SwarmError;

pub use alerts::{AlertCounts, AlertFilter, StoredAlert};
pub use contacts::{ContactMessage, ContactStatus};
pub use incidents::{Act, IncidentDetail, IncidentFilter};
pub use ingest::{AlertObservation, IngestPolicy, IngestSummary, Receipt};
pub use migrations::SCHEMA_VERSION;
pub use outbox::{OutboxAction, OutboxBacklog, OutboxItem, SentOutcome, SilenceRecord};
pub use paging::{Page, StepOutcome};
pub use provisional::{ASSIGN_ALERT, OPEN_INCIDENT, OpenedBy, PROVISIONAL_BASE};
pub use replica::{
    ActionStatus, Applied, HUB_COOKIE_KEY, HubAction, Outcome, Pull, QueueState, QueuedMutation,
    ReplicaMark,
};
pub use reports::LossFacts;
pub use rows::NewIncident;
pub use window::Pruned;

/// How long a writer waits for another process's write before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

thread_local! {
    /// When this thread's current wait for the write lock began.
    static WAITING_SINCE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// SQLite's busy handler for every connection: while another process holds the write lock, try
/// again after 1 ms, then 2, 4, 8 and at most 10 ms (each jittered by a quarter either way, so
/// waiting processes do not retry in step), until [`BUSY_TIMEOUT`] has passed since the first try.
/// SQLite's own handler backs off to 100 ms between tries, so during a storm a person's command
/// kept missing the short moments the engine's lock was free (the engine pauses between the
/// chunks of a large delivery for it) and could fail with "database is locked" after 10 s.
fn wait_for_the_writer(attempt: i32) -> bool {
    let now = std::time::Instant::now();
    let since = WAITING_SINCE.with(|since| {
        if attempt == 0 || since.get().is_none() {
            since.set(Some(now));
        }
        since.get().unwrap_or(now)
    });
    if now.duration_since(since) >= BUSY_TIMEOUT {
        return false;
    }
    // Jitter from the clock's nanoseconds: cheap, and different in every process.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::thread::sleep(retry_wait(attempt, nanos));
    true
}

/// How long to wait before try `attempt + 1` for the write lock; `noise` (any number) jitters it.
fn retry_wait(attempt: i32, noise: u32) -> Duration {
    const LONGEST_WAIT: Duration = Duration::from_millis(10);
    let wait = Duration::from_millis(1 << attempt.clamp(0, 4)).min(LONGEST_WAIT);
    wait.mul_f64(0.75 + f64::from(noise % 1_000) / 2_000.0)
}

#[cfg(test)]
mod busy_tests {
    use super::*;

    #[test]
    fn a_waiting_writer_tries_again_within_milliseconds() {
        let waits: Vec<Duration> = (0..40).map(|attempt| retry_wait(attempt, 500)).collect();
        assert_eq!(waits[0], Duration::from_millis(1));
        assert_eq!(waits[3], Duration::from_millis(8));
        // Never more than 12.5 ms apart, where SQLite's own handler waits 100 ms.
        assert!(
            waits.iter().all(|w| *w <= Duration::from_micros(12_500)),
            "{waits:?}"
        );
        assert_eq!(retry_wait(9, 0), Duration::from_micros(7_500));
        assert_eq!(retry_wait(9, 999), Duration::from_micros(12_495));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot make the store file {path} private (mode 0600): {source}")]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the store at {path} was written by a newer Stopline (schema version {found}, this one knows up to {known}); upgrade Stopline"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no incident {0}")]
    IncidentNotFound(IncidentId),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// A rule of the swarm refused the change (`stopline_core::swarm`).
    #[error(transparent)]
    Swarm(#[from] SwarmError),
    #[error(transparent)]
    Severity(#[from] SeverityError),
    #[error("the store holds a value it cannot read: {0}")]
    Corrupt(String),
    #[error("store error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a store file holds, as found without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The schema version it is at (0 for a file that is not a store).
    pub schema_version: i64,
    /// What SQLite's `quick_check` found wrong, or why the file cannot be read at all; `None` when
    /// it is sound.
    pub problem: Option<String>,
}

/// Checks a store file without migrating or otherwise changing it: a backup before restoring
/// it, the store before the engine starts on it.
pub fn inspect(path: &Path) -> Result<Inspection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    let checked = (|| -> rusqlite::Result<(i64, Vec<String>)> {
        let version = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let mut statement = conn.prepare("PRAGMA quick_check")?;
        let findings = statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok((version, findings))
    })();
    Ok(match checked {
        Ok((schema_version, findings)) => Inspection {
            schema_version,
            problem: (findings != ["ok"]).then(|| findings.join("; ")),
        },
        Err(error) => Inspection {
            schema_version: 0,
            problem: Some(error.to_string()),
        },
    })
}

/// An open store. Reads take `&self`; writes take `&mut self` and run in their own transaction.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        make_private(path).map_err(|source| StoreError::Private {
            path: path.to_owned(),
            source,
        })?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_error)?;
        conn.busy_handler(Some(wait_for_the_writer))
            .map_err(open_error)?;
        // WAL: readers never block the writer. FULL: a commit is on disk before we say "saved".
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        migrations::migrate(&mut store.conn, path)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the whole store to `target` with SQLite's online backup: others keep reading and
    /// writing meanwhile, and the copy is one consistent moment. `target` must not exist yet.
    pub fn backup_to(&self, target: &Path) -> Result<()> {
        make_private(target).map_err(|source| StoreError::Private {
            path: target.to_owned(),
            source,
        })?;
        let mut copy = Connection::open_with_flags(
            target,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: target.to_owned(),
            source,
        })?;
        {
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut copy)?;
            // A few hundred pages a step, with a pause between steps, so a writer is never
            // held up for long.
            backup.run_to_completion(512, Duration::from_millis(2), None)?;
        }
        // The copy is one self-contained file, not a WAL database that needs its -wal beside it.
        copy.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// How this store's tables differ from the ones this build creates: `None` when every table
    /// and column a fresh store has is here too. A file that merely claims a schema version
    /// (another program's SQLite file with `user_version = 1`) is told apart this way.
    pub fn schema_differences(&self) -> Result<Option<String>> {
        let mut fresh = Connection::open_in_memory()?;
        migrations::migrate(&mut fresh, Path::new(":memory:"))?;
        let expected = table_columns(&fresh)?;
        let found = table_columns(&self.conn)?;
        let mut missing = Vec::new();
        for (table, columns) in &expected {
            match found.get(table) {
                None => missing.push(format!("table {table}")),
                Some(have) => missing.extend(
                    columns
                        .iter()
                        .filter(|c| !have.contains(c))
                        .map(|c| format!("column {table}.{c}")),
                ),
            }
        }
        Ok((!missing.is_empty()).then(|| format!("it has no {}", missing.join(", "))))
    }

    /// `PRAGMA integrity_check`: `None` when SQLite finds nothing wrong, else what it found.
    pub fn integrity_problems(&self) -> Result<Option<String>> {
        let mut statement = self.conn.prepare("PRAGMA integrity_check")?;
        let lines = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((lines != ["ok"]).then(|| lines.join("; ")))
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction: committed if it returns `Ok`, rolled back
    /// (changing nothing) if it returns `Err`. Inside [`Store::exclusively`], it is a savepoint
    /// of that one transaction instead.
    fn write<T>(&mut self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            let savepoint = self.conn.savepoint()?;
            let value = work(&savepoint)?;
            savepoint.commit()?;
            return Ok(value);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `work` holding the store's write lock from the start (`BEGIN IMMEDIATE`), as one
    /// transaction: committed if it returns `Ok`, rolled back if it returns `Err`. What `work`
    /// reads, and the time it takes, come after every write committed before it, so the time a
    /// person's action records is never earlier than something the engine recorded meanwhile (an
    /// acknowledgement is never stamped before a page it beat to the store).
    pub fn exclusively<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| E::from(e.into()))?;
        match work(self) {
            Ok(value) => {
                if let Err(error) = self.conn.execute_batch("COMMIT") {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(E::from(error.into()));
                }
                Ok(value)
            }
            Err(error) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }
}

fn to_millis(at: Timestamp) -> i64 {
    at.as_millisecond()
}

fn from_millis(millis: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(millis)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {millis}: {e}")))
}

/// Every table's column names, by table.
fn table_columns(
    conn: &Connection,
) -> rusqlite::Result<std::collections::BTreeMap<String, Vec<String>>> {
    let mut tables = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )?;
    let names = tables
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut shape = std::collections::BTreeMap::new();
    for name in names {
        let mut columns = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let list = columns
            .query_map([&name], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        shape.insert(name, list);
    }
    Ok(shape)
}

/// Makes the store file at `path` readable and writable by its owner only (mode 0600): creates
/// it so when it does not exist yet, and narrows it (and its `-wal` and `-shm`, which SQLite
/// creates with the store's own mode) when it is open to others. The store holds who was paged
/// when, notes and pay: nobody else on the machine should read it.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path);
        match created {
            Ok(_) => {}
            // No directory there: SQLite's own open reports it, naming the store.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        for companion in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(companion);
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

//! Backups of the store, restoring one, and what becomes of a damaged store at start.
//!
//! `stopline backup` copies the store with SQLite's online backup while everything keeps
//! running, into one self-contained file, and notes it in `backups.log` in the data directory so
//! that the latest can be offered when it is needed. `stopline restore` puts a backup in place of
//! the store, with no engine running, after checking the backup; the store it replaces is moved
//! aside, never deleted. An engine that finds its store damaged at start moves it aside the same
//! way, says so, and offers the latest backup.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use stopline_store::{SCHEMA_VERSION, Store, inspect};

use crate::files::{DataDir, STORE_FILE};
use crate::{EngineError, Result};

/// Where backups go when no file is named.
pub const BACKUPS_DIR: &str = "backups";
/// One line a backup: when, a tab, where.
const BACKUP_LOG: &str = "backups.log";

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> EngineError {
    let path = path.to_owned();
    move |source| EngineError::Io {
        action,
        path,
        source,
    }
}

/// `path` with `suffix` added to its file name (`stopline.db` → `stopline.db.damaged-…`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A stamp for file names: `20261127-101500`.
fn stamp(now: Timestamp) -> String {
    now.strftime("%Y%m%d-%H%M%S").to_string()
}

/// Copies the store to `target` (default: `backups/stopline-<time>.db` in the data directory)
/// while it is in use; refuses to replace an existing file. Returns where the copy is.
pub fn backup(data_dir: &DataDir, target: Option<&Path>, now: Timestamp) -> Result<PathBuf> {
    let target = match target {
        Some(path) => path.to_owned(),
        None => data_dir
            .root()
            .join(BACKUPS_DIR)
            .join(format!("stopline-{}.db", stamp(now))),
    };
    if target.exists() {
        return Err(EngineError::BackupExists { path: target });
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        if parent == data_dir.root().join(BACKUPS_DIR) {
            // Our own folder of backups: private like the data directory it is in.
            crate::files::create_private_dir(parent)?;
        } else {
            fs::create_dir_all(parent).map_err(io("cannot create the directory for", &target))?;
        }
    }
    let store = data_dir.open_store()?;
    // Written beside the target and renamed into place: a crash never leaves half a backup
    // under the name the person asked for.
    let partial = with_suffix(&target, ".partial");
    let _ = fs::remove_file(&partial);
    store.backup_to(&partial)?;
    let checked = inspect(&partial)?;
    if let Some(problem) = checked.problem {
        let _ = fs::remove_file(&partial);
        return Err(EngineError::BackupDamaged {
            path: target,
            problem,
        });
    }
    fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot write", &partial))?;
    fs::rename(&partial, &target).map_err(io("cannot write", &target))?;
    let absolute = fs::canonicalize(&target).unwrap_or(target);
    let line = format!("{now}\t{}\n", absolute.display());
    let log = data_dir.root().join(BACKUP_LOG);
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, line.as_bytes()))
        .map_err(io("cannot note the backup in", &log))?;
    Ok(absolute)
}

/// The most recent backup that still exists, with when it was made.
pub fn latest_backup(data_dir: &DataDir) -> Option<(Timestamp, PathBuf)> {
    let text = fs::read_to_string(data_dir.root().join(BACKUP_LOG)).ok()?;
    text.lines().rev().find_map(|line| {
        let (at, path) = line.split_once('\t')?;
        let path = PathBuf::from(path);
        Some((at.parse().ok()?, path)).filter(|(_, p)| p.exists())
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Where the store it replaced went, if there was one.
    pub replaced: Option<PathBuf>,
    pub schema_version: i64,
}

/// Puts the backup at `file` in place of the store, all or nothing. Refused while an engine runs
/// on the data directory; refused, with the store exactly where it was, when the backup is the
/// store itself, is damaged, is from a newer Stopline, or is not a Stopline store at all.
///
/// The candidate is copied beside the store and fully proven there first: integrity, migrations
/// applied (to the copy), and every table and column a store needs. Only then is the store moved
/// aside and the copy renamed into its place; both renames are within the data directory.
pub fn restore(data_dir: &DataDir, file: &Path, now: Timestamp) -> Result<Restored> {
    // Holding the engine lock keeps an engine from starting meanwhile.
    let _lock = match data_dir.lock_engine() {
        Ok(lock) => lock,
        Err(EngineError::AlreadyRunning { pid, .. }) => {
            return Err(EngineError::RestoreRefused(format!(
                "an engine (pid {pid}) is running on {}: stop it (and the desktop app) first",
                data_dir.root().display()
            )));
        }
        Err(error) => return Err(error),
    };
    let refused = |why: String| EngineError::RestoreRefused(format!("{}: {why}", file.display()));
    if !file.is_file() {
        return Err(refused("not a file".to_owned()));
    }
    let store = data_dir.store_path();
    if same_file(file, &store) {
        return Err(refused(
            "that is the store itself: name a backup (`stopline backup` makes one)".to_owned(),
        ));
    }
    let checked = inspect(file)?;
    if let Some(problem) = checked.problem {
        return Err(refused(format!(
            "damaged or not a Stopline store: {problem}"
        )));
    }
    if checked.schema_version == 0 || checked.schema_version > SCHEMA_VERSION {
        return Err(refused(format!(
            "not a store this Stopline can read (schema version {}, this one knows 1 to {SCHEMA_VERSION})",
            checked.schema_version
        )));
    }
    let incoming = with_suffix(&store, ".restoring");
    remove_with_companions(&incoming);
    let proven = prove_copy(file, &incoming);
    let schema_version = match proven {
        Ok(version) => version,
        Err(error) => {
            remove_with_companions(&incoming);
            return Err(error);
        }
    };
    let replaced = move_aside(&store, &format!(".replaced-{}", stamp(now)))?;
    if let Err(error) = move_with_companions(&incoming, &store) {
        // Put the store back where it was: the restore did not happen.
        if let Some(moved) = &replaced {
            let _ = move_with_companions(moved, &store);
        }
        remove_with_companions(&incoming);
        return Err(error);
    }
    Ok(Restored {
        replaced,
        schema_version,
    })
}

/// Copies the backup to `copy`, brings the copy's schema up to date and checks it is a whole
/// Stopline store; returns its schema version. Nothing but `copy` is touched.
fn prove_copy(file: &Path, copy: &Path) -> Result<i64> {
    fs::copy(file, copy).map_err(io("cannot copy the backup to", copy))?;
    let refused = |why: String| EngineError::RestoreRefused(format!("{}: {why}", file.display()));
    let opened = Store::open(copy).map_err(|e| {
        refused(format!(
            "not a Stopline store: it cannot be brought up to date ({e})"
        ))
    })?;
    if let Some(missing) = opened.schema_differences()? {
        return Err(refused(format!("not a Stopline store: {missing}")));
    }
    if let Some(problem) = opened.integrity_problems()? {
        return Err(refused(format!("damaged: {problem}")));
    }
    let version = opened.schema_version()?;
    drop(opened);
    fs::File::open(copy)
        .and_then(|f| f.sync_all())
        .map_err(io("cannot write", copy))?;
    Ok(version)
}

/// Whether two paths name one file (the same device and inode on Unix).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => fs::canonicalize(a).ok() == fs::canonicalize(b).ok(),
        _ => false,
    }
}

/// The SQLite files of a store at `path`: the file and its WAL companions.
const COMPANIONS: [&str; 3] = ["", "-wal", "-shm"];

/// Renames a store and its companions to `to`; a companion that is not there is skipped.
fn move_with_companions(from: &Path, to: &Path) -> Result<()> {
    for companion in COMPANIONS {
        let source = with_suffix(from, companion);
        if source.exists() {
            let target = with_suffix(to, companion);
            fs::rename(&source, &target).map_err(io("cannot move", &source))?;
        }
    }
    Ok(())
}

fn remove_with_companions(path: &Path) {
    for companion in COMPANIONS {
        let _ = fs::remove_file(with_suffix(path, companion));
    }
}

/// Moves the store file and its WAL companions to names with `suffix`, keeping them together so
/// the moved copy stays readable. Returns the moved store's path, if there was a store.
fn move_aside(store: &Path, suffix: &str) -> Result<Option<PathBuf>> {
    if !store.exists() {
        return Ok(None);
    }
    let moved = with_suffix(store, suffix);
    move_with_companions(store, &moved)?;
    Ok(Some(moved))
}

/// Checks the store before an engine starts on it. A damaged store is moved aside (never
/// overwritten) and the engine does not start: the error says where it went and offers the
/// latest backup. The next start begins with an empty store, unless a backup is restored.
pub fn check_at_start(data_dir: &DataDir, now: Timestamp) -> Result<()> {
    let store = data_dir.store_path();
    if !store.exists() {
        return Ok(());
    }
    let Some(problem) = inspect(&store)?.problem else {
        return Ok(());
    };
    let moved_to = move_aside(&store, &format!(".damaged-{}", stamp(now)))?
        .unwrap_or_else(|| with_suffix(&store, ".damaged"));
    let offer = match latest_backup(data_dir) {
        Some((at, path)) => format!(
            "The latest backup is {} (made {at}): restore it with `stopline restore {}`, or start again to begin with an empty store.",
            path.display(),
            path.display()
        ),
        None => "There is no backup in backups.log: start again to begin with an empty store."
            .to_owned(),
    };
    Err(EngineError::StoreDamaged {
        path: data_dir.root().join(STORE_FILE),
        problem,
        moved_to,
        offer,
    })
}

//! The config as it is now: [`LiveConfig`], the one a running engine uses, replaced while it
//! runs when the file changes; and [`ConfigFile`], the one the API reads, read again only when
//! the file changed since.
//!
//! `stopline serve` checks the config file every couple of seconds. A file that changed and
//! parses replaces the config for routing, paging, rotas, escalation and the swarm, at once and
//! whole (each request or tick uses one snapshot). A file that changed and does not parse is
//! reported, with every problem, and the engine carries on with the config it had. What the
//! engine set up at start (the webhook's address, token and PagerDuty routing keys, the sources it
//! polls) needs a restart to change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use stopline_core::config::Config;

/// How often the file is checked.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// A config that can be swapped for a newer one; clones share it.
#[derive(Debug, Clone)]
pub struct LiveConfig(Arc<RwLock<Arc<Config>>>);

impl LiveConfig {
    pub fn new(config: Config) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(config))))
    }

    /// The config now: a snapshot that stays whole however long it is used.
    pub fn current(&self) -> Arc<Config> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn replace(&self, config: Config) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }
}

/// What identifies a version of the file: its modification time, length and (on Unix) inode,
/// which changes when an editor or Stopline replaces the file by renaming a new one over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileVersion {
    modified: SystemTime,
    len: u64,
    inode: u64,
}

impl FileVersion {
    pub fn of(path: &Path) -> Option<FileVersion> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileVersion {
            modified: meta.modified().ok()?,
            len: meta.len(),
            inode: inode(&meta),
        })
    }

    /// Which file it is: its inode on Unix (0 elsewhere, where only the rest tells versions
    /// apart). A file renamed over the path is another file.
    pub fn identity(&self) -> u64 {
        self.inode
    }
}

fn inode(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    return 0;
}

/// A config file read on demand: parsed the first time it is asked for, and again only when the
/// file has changed since. A file that does not parse is an error each time it is asked for, so
/// the caller always sees the config as the file says now (unlike [`LiveConfig`], which keeps
/// the last good one for a running engine).
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    read: std::sync::Mutex<Option<(FileVersion, Arc<Config>)>>,
}

impl ConfigFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            read: std::sync::Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The config now: the one read before when the file is unchanged, else the file parsed.
    pub fn current(&self) -> crate::Result<Arc<Config>> {
        let now = FileVersion::of(&self.path);
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(now), Some((seen, config))) = (now, read.as_ref())
            && now == *seen
        {
            return Ok(Arc::clone(config));
        }
        let config = Arc::new(crate::files::load_config(&self.path)?);
        *read = now.map(|v| (v, Arc::clone(&config)));
        Ok(config)
    }
}

/// How long one read of the changed file may take before the watcher gives up on it (a file on
/// a hung network mount): the engine keeps its config and tries again at the next change.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Watches `path` until the task is aborted, replacing `live` whenever the file changes and
/// parses. The file is read and parsed on a blocking thread, with a timeout, through
/// [`crate::files::read_config_text`] (regular files only, size-capped), so nothing the path is
/// replaced with (a FIFO, `/dev/zero`) can stall the runtime or keep the engine from stopping.
pub async fn watch(path: PathBuf, live: LiveConfig) {
    let mut seen = FileVersion::of(&path);
    let mut ticker = tokio::time::interval(CHECK_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        // Even a `stat` blocks on a hung network mount: off the runtime, with the timeout.
        let checking = path.clone();
        let looked = tokio::task::spawn_blocking(move || FileVersion::of(&checking));
        let Ok(Ok(now)) = tokio::time::timeout(READ_TIMEOUT, looked).await else {
            tracing::warn!(path = %path.display(), "the config file did not answer within {}s: keeping the config in use", READ_TIMEOUT.as_secs());
            continue;
        };
        if now == seen {
            continue;
        }
        seen = now;
        let reading = path.clone();
        let read = tokio::task::spawn_blocking(move || crate::files::load_config(&reading));
        match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(Ok(Ok(config))) => {
                live.replace(config);
                tracing::info!(path = %path.display(), "config reloaded");
            }
            Ok(Ok(Err(crate::EngineError::ConfigInvalid(problems)))) => {
                for problem in &problems.problems {
                    tracing::error!("{problem}");
                }
                tracing::error!(path = %path.display(), "the changed config is invalid: keeping the config in use");
            }
            Ok(Ok(Err(error))) => {
                tracing::warn!(path = %path.display(), %error, "the config file cannot be read: keeping the config in use");
            }
            Ok(Err(_)) => {
                tracing::error!(path = %path.display(), "reading the config failed: keeping the config in use");
            }
            Err(_) => {
                tracing::warn!(path = %path.display(), "reading the config took over {}s: keeping the config in use", READ_TIMEOUT.as_secs());
            }
        }
    }
}

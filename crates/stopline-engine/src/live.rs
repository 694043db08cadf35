//! The config a running engine uses, replaced while it runs when the file changes.
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

/// What identifies a version of the file: its modification time and length.
fn version(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Watches `path` until the task is aborted, replacing `live` whenever the file changes and
/// parses.
pub async fn watch(path: PathBuf, live: LiveConfig) {
    let mut seen = version(&path);
    let mut ticker = tokio::time::interval(CHECK_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = version(&path);
        if now == seen {
            continue;
        }
        seen = now;
        let Ok(text) = std::fs::read_to_string(&path) else {
            tracing::warn!(path = %path.display(), "the config file cannot be read: keeping the config in use");
            continue;
        };
        match Config::parse(&path.display().to_string(), &text) {
            Ok(config) => {
                live.replace(config);
                tracing::info!(path = %path.display(), "config reloaded");
            }
            Err(problems) => {
                for problem in &problems.problems {
                    tracing::error!("{problem}");
                }
                tracing::error!(path = %path.display(), "the changed config is invalid: keeping the config in use");
            }
        }
    }
}

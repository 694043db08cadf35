//! The engine inside the app: the same engine as `stopline serve`, on the same data directory
//! and behind the same lock.
//!
//! When no other engine holds the data directory, the app runs it: the webhook server, polling,
//! the blind-pipeline watch and this desktop's pages. When a `stopline serve` already holds it,
//! the app does not start a second engine (nothing must page twice): it shows that engine's
//! data from the shared store, read-only for paging, and says so. Everything people do in the
//! app still works then, since it goes through the store like the CLI.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use stopline_core::clock::{Clock, SystemClock};
use stopline_engine::EngineError;
use stopline_engine::events::{EngineEvent, drain_matching};
use stopline_engine::files::{DataDir, load_config};
use stopline_engine::pager::OpenIncident;
use stopline_engine::serve::{Engine, ServeOptions};
use tokio::sync::{broadcast, oneshot};
use ts_rs::TS;

/// The shortest time between two change events to the window.
const CHANGE_BATCH: std::time::Duration = std::time::Duration::from_millis(250);

/// Calls `on_change` when the engine did something people see, at most once per
/// [`CHANGE_BATCH`]: what happens during a pause is told once, after it, and then the next
/// pause begins, so a storm of events is four calls a second at most.
async fn batch_changes(
    mut events: broadcast::Receiver<EngineEvent>,
    on_change: Arc<dyn Fn() + Send + Sync>,
) {
    loop {
        match events.recv().await {
            Ok(event) if !event.changes_what_people_see() => continue,
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
        loop {
            on_change();
            tokio::time::sleep(CHANGE_BATCH).await;
            if !drain_matching(&mut events, EngineEvent::changes_what_people_see) {
                break;
            }
        }
    }
}

/// How the app relates to the engine of its data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum EngineMode {
    /// Not started yet.
    Starting,
    /// The app runs the engine; alert sources post to `webhook`.
    Hosting {
        webhook: String,
        notifications: String,
    },
    /// Another engine (a `stopline serve`, pid `pid`) holds the data directory: the app shows
    /// its data and pages nothing itself.
    Attached { pid: String },
    /// The engine could not start (a broken config, a port in use); the app still shows the
    /// store's data.
    Failed { reason: String },
}

/// The hosted engine's status and the way to stop it.
#[derive(Debug, Clone)]
pub struct Host {
    mode: Arc<Mutex<EngineMode>>,
    stop: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    /// The running engine's task: awaited when it stops, so its lock is released.
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    /// How it was started, to start it again (after joining or leaving a hub).
    started_with: Arc<Mutex<Option<StartedWith>>>,
}

/// What [`Host::start`] was given.
#[derive(Clone)]
struct StartedWith {
    data_dir: DataDir,
    config_path: PathBuf,
    open_incident: Option<OpenIncident>,
    on_change: Arc<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for StartedWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartedWith")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Default for Host {
    fn default() -> Self {
        Self {
            mode: Arc::new(Mutex::new(EngineMode::Starting)),
            stop: Arc::new(Mutex::new(None)),
            task: Arc::new(Mutex::new(None)),
            started_with: Arc::new(Mutex::new(None)),
        }
    }
}

impl Host {
    pub fn mode(&self) -> EngineMode {
        self.mode.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, mode: EngineMode) {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
    }

    /// Starts the engine on `data_dir` with the config at `config_path`, and runs it until
    /// [`Host::stop`]. Returns once it started (or found it cannot); the engine runs on in a
    /// task of the current tokio runtime.
    /// `on_change` is called when the engine changed the store, at most four times a second
    /// however many changes there were (an alert storm is a handful of calls, not thousands).
    pub async fn start(
        &self,
        data_dir: DataDir,
        config_path: PathBuf,
        open_incident: Option<OpenIncident>,
        on_change: Arc<dyn Fn() + Send + Sync>,
    ) -> EngineMode {
        *self.started_with.lock().unwrap_or_else(|e| e.into_inner()) = Some(StartedWith {
            data_dir: data_dir.clone(),
            config_path: config_path.clone(),
            open_incident: open_incident.clone(),
            on_change: Arc::clone(&on_change),
        });
        let config = match load_config(&config_path) {
            Ok(config) => config,
            Err(error) => {
                let mode = EngineMode::Failed {
                    reason: error.to_string(),
                };
                self.set(mode.clone());
                return mode;
            }
        };
        let options = ServeOptions {
            config: Some(config),
            config_path: Some(config_path),
            env: std::env::vars().collect(),
            open_incident,
            ..ServeOptions::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let mode = match Engine::start(&data_dir, options, clock).await {
            Ok(engine) => {
                let mode = EngineMode::Hosting {
                    webhook: format!("http://{}", engine.webhook_addr()),
                    notifications: engine.notifications().to_string(),
                };
                tokio::spawn(batch_changes(engine.events(), on_change));
                let (stop, stopped) = oneshot::channel();
                *self.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
                let task = tokio::spawn(async move {
                    let shutdown = async {
                        let _ = stopped.await;
                    };
                    if let Err(error) = engine.run(shutdown).await {
                        eprintln!("stopline-desktop: the engine stopped: {error}");
                    }
                });
                *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
                mode
            }
            Err(EngineError::AlreadyRunning { pid, .. }) => EngineMode::Attached { pid },
            Err(error) => EngineMode::Failed {
                reason: error.to_string(),
            },
        };
        self.set(mode.clone());
        mode
    }

    /// Stops the hosted engine, if it runs: requests in flight finish first.
    pub fn stop(&self) {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = stop.send(());
        }
    }

    /// Stops the hosted engine and waits until it has let go of the data directory, runs
    /// `work`, then starts the engine again as it was started (on the store now in use: after
    /// joining a hub, the replica). Answers what `work` answered.
    pub async fn around<T>(&self, work: impl Future<Output = T>) -> T {
        self.stop();
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        let answer = work.await;
        let again = self
            .started_with
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(s) = again {
            self.start(s.data_dir, s.config_path, s.open_incident, s.on_change)
                .await;
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("stopline.toml");
        // The demo workspace, listening on a free loopback port.
        let text = format!(
            "{}\n[webhook]\nlisten = \"127.0.0.1:0\"\n",
            stopline_core::config::DEMO_CONFIG
        );
        std::fs::write(&config, text).unwrap();
        (dir, config)
    }

    fn quiet() -> Arc<dyn Fn() + Send + Sync> {
        Arc::new(|| {})
    }

    #[tokio::test]
    async fn the_app_hosts_the_engine_unless_another_holds_the_data_directory() {
        let (dir, config) = workspace();
        let first = Host::default();
        let mode = first
            .start(
                DataDir::new(dir.path().join("data")),
                config.clone(),
                None,
                quiet(),
            )
            .await;
        let EngineMode::Hosting { webhook, .. } = &mode else {
            panic!("expected to host: {mode:?}");
        };
        assert!(webhook.starts_with("http://127.0.0.1:"), "{webhook}");

        // A second app (or the app beside a `stopline serve`) attaches instead.
        let second = Host::default();
        let mode = second
            .start(
                DataDir::new(dir.path().join("data")),
                config.clone(),
                None,
                quiet(),
            )
            .await;
        assert_eq!(
            mode,
            EngineMode::Attached {
                pid: std::process::id().to_string()
            }
        );
        first.stop();
    }

    #[tokio::test]
    async fn work_around_the_engine_runs_with_the_data_directory_free_then_the_engine_is_back() {
        let (dir, config) = workspace();
        let data = DataDir::new(dir.path().join("data"));
        let host = Host::default();
        let mode = host.start(data.clone(), config, None, quiet()).await;
        assert!(matches!(mode, EngineMode::Hosting { .. }), "{mode:?}");
        // Joining a hub needs the engine's lock: free while the work runs.
        let locked = host.around(async { data.lock_engine().map(|_| ()) }).await;
        assert!(locked.is_ok(), "{locked:?}");
        assert!(
            matches!(host.mode(), EngineMode::Hosting { .. }),
            "{:?}",
            host.mode()
        );
        assert!(matches!(
            data.lock_engine(),
            Err(EngineError::AlreadyRunning { .. })
        ));
        host.stop();
    }

    #[tokio::test(start_paused = true)]
    async fn a_storm_of_engine_events_is_four_window_updates_a_second_at_most() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (sender, receiver) = broadcast::channel(1024);
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let task = tokio::spawn(batch_changes(
            receiver,
            Arc::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
        ));
        // Two seconds of a storm: an event every millisecond.
        for _ in 0..2000 {
            let _ = sender.send(EngineEvent::AlertsStored { opened: Vec::new() });
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        tokio::time::sleep(CHANGE_BATCH * 2).await;
        let during = calls.load(Ordering::SeqCst);
        assert!(
            (2..=9).contains(&during),
            "{during} updates for two seconds"
        );
        // What people do not see (a page shown) is no update; the end of the storm is one.
        let before = calls.load(Ordering::SeqCst);
        let _ = sender.send(EngineEvent::PageShown {
            incident: stopline_core::incident::IncidentId(1),
        });
        tokio::time::sleep(CHANGE_BATCH * 2).await;
        assert_eq!(calls.load(Ordering::SeqCst), before);
        drop(sender);
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_broken_config_is_reported_not_fatal() {
        let (dir, config) = workspace();
        std::fs::write(&config, "[workspace]\nname = 1\n").unwrap();
        let host = Host::default();
        let mode = host
            .start(DataDir::new(dir.path().join("data")), config, None, quiet())
            .await;
        let EngineMode::Failed { reason } = mode else {
            panic!("expected a failure");
        };
        assert!(reason.contains("stopline.toml:2:8"), "{reason}");
    }
}

//! The Stopline desktop app: a Tauri v2 window over the same engine and store the `stopline` CLI
//! uses. It runs the engine itself (`host`) unless a `stopline serve` already holds the data
//! directory, and keeps running in the tray when its window is closed, so pages still arrive.
//! One app runs per data directory (`instance`): starting it again brings the window forward.
//! It can start at login, hidden in the tray (`autostart`). What it is started with is read by
//! `launch`. The platform-specific code lives in `instance` and `autostart`, one module each.
//! This is the only crate that depends on Tauri. It wires things together and maps results to
//! transport types (`dto`); it holds no business rule.

pub mod autostart;
pub mod bindings;
mod callers;
pub mod commands;
pub mod dto;
pub mod host;
pub mod instance;
pub mod launch;
mod links;
mod present;
mod tray;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use stopline_core::clock::SystemClock;
use stopline_core::config::DEMO_CONFIG;
use stopline_engine::EngineError;
use stopline_engine::api::Workspace;
use stopline_engine::files::{self, DataDir};

/// The event that tells the window to read again: the engine changed the store.
pub const STORE_CHANGED: &str = "store-changed";
/// The event that asks the window to show an incident; it carries the incident's id.
pub const OPEN_INCIDENT: &str = "open-incident";

/// Why the app cannot start at all.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot find a config directory: set STOPLINE_CONFIG")]
    NoConfigDirectory,
    #[error("cannot find a data directory: set STOPLINE_DATA_DIR")]
    NoDataDirectory,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What the app holds for its lifetime: the engine's API handle (config, store, clock) on the
/// same config file and data directory as the CLI, from the same environment variables; and the
/// engine it hosts.
#[derive(Debug)]
pub struct AppState {
    pub workspace: Arc<Workspace>,
    /// Set when this start wrote the demo workspace because there was no config yet.
    pub demo_written: bool,
    /// The engine this app runs, or why it does not.
    pub host: host::Host,
    /// The incident to show first (`--open`, given when a notification's Open button started
    /// the app); taken by the first overview.
    pub open_on_start: std::sync::Mutex<Option<String>>,
    /// The running app, once it is built: what the platform code behind start at login needs
    /// on macOS and Windows.
    pub app: std::sync::OnceLock<tauri::AppHandle>,
}

impl AppState {
    /// Resolves the locations and, on a first start with no config, writes the demo workspace so
    /// there is something real to explore (the same file `stopline init --demo` writes).
    pub fn prepare(open: Option<String>) -> Result<Self, StartError> {
        let config_path = std::env::var_os("STOPLINE_CONFIG")
            .map(PathBuf::from)
            .or_else(files::default_config_path)
            .ok_or(StartError::NoConfigDirectory)?;
        let data_dir = std::env::var_os("STOPLINE_DATA_DIR")
            .map(PathBuf::from)
            .or_else(files::default_data_dir)
            .ok_or(StartError::NoDataDirectory)?;
        let state = Self::prepare_at(config_path, data_dir)?;
        *state
            .open_on_start
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = open;
        Ok(state)
    }

    /// As [`AppState::prepare`], with the locations given.
    pub fn prepare_at(config_path: PathBuf, data_dir: PathBuf) -> Result<Self, StartError> {
        let demo_written = if config_path.exists() {
            false
        } else {
            files::write_config(&config_path, DEMO_CONFIG, false)?;
            true
        };
        Ok(Self {
            workspace: Arc::new(Workspace::new(
                config_path,
                DataDir::new(data_dir),
                Arc::new(SystemClock),
            )),
            demo_written,
            host: host::Host::default(),
            open_on_start: std::sync::Mutex::new(None),
            app: std::sync::OnceLock::new(),
        })
    }

    /// The incident to show first, once.
    pub fn take_open_on_start(&self) -> Option<String> {
        self.open_on_start
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// What the person should know about this start.
    pub fn demo_notice(&self) -> Option<String> {
        self.demo_written.then(|| {
            format!(
                "Stopline started on the demo workspace, written to {} because there was no config yet. Edit it, or replace it by running: stopline init --force",
                self.workspace.config_path().display()
            )
        })
    }
}

/// Whether a graphical session is there to show a window in.
fn has_display() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// When the process started, for the one line that says how long the queue took to appear.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Says once how long after start the window first asked for the queue: the cold start as a
/// person sees it (`make bench` reads this line).
pub(crate) fn queue_requested() {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if let Some(started) = STARTED.get()
        && !SAID.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        eprintln!(
            "stopline-desktop: queue requested {} ms after start",
            started.elapsed().as_millis()
        );
    }
}

pub fn run() -> ExitCode {
    let _ = STARTED.set(std::time::Instant::now());
    let launch = match launch::Launch::parse(std::env::args().skip(1)) {
        Ok(launch) => launch,
        Err(problem) => {
            eprintln!("stopline-desktop: {problem}\n{}", launch::USAGE);
            return ExitCode::from(2);
        }
    };
    if launch.help {
        println!("{}", launch::HELP);
        return ExitCode::SUCCESS;
    }
    if launch.version {
        println!("stopline-desktop {}", stopline_engine::VERSION);
        return ExitCode::SUCCESS;
    }
    if !has_display() {
        eprintln!(
            "stopline-desktop: no display (DISPLAY and WAYLAND_DISPLAY are unset). Stopline is a \
             desktop app: start it from a graphical session. The `stopline` command works without one."
        );
        return ExitCode::from(1);
    }
    let state = match AppState::prepare(launch.open.clone()) {
        Ok(state) => state,
        Err(message) => {
            eprintln!("stopline-desktop: {message}");
            return ExitCode::from(1);
        }
    };
    // One app per data directory. A second start says so here; the single-instance plugin,
    // registered first below, then hands its arguments to the running app and ends this process
    // while the app is built.
    let data_dir = state.workspace.data_dir().root().to_owned();
    if let Some(pid) = instance::running(&data_dir) {
        eprintln!(
            "stopline-desktop: Stopline already runs on {} (pid {pid}): bringing its window forward",
            data_dir.display()
        );
    }
    let hidden = launch.hidden;
    if state.demo_written {
        eprintln!(
            "stopline-desktop: no config yet, so the demo workspace was written to {}",
            state.workspace.config_path().display()
        );
    }
    let host = state.host.clone();
    let builder = tauri::Builder::default().plugin(instance::plugin(&data_dir));
    let app = autostart::register(builder)
        .manage(state)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let _ = tauri::Manager::state::<AppState>(app)
                .app
                .set(app.handle().clone());
            start_engine(app.handle());
            // Without a tray to reopen it from, closing the window quits as usual.
            if let Err(error) = tray::create(app.handle()) {
                eprintln!("stopline-desktop: no tray icon ({error}): closing the window quits");
            } else if hidden && let Some(window) = tauri::Manager::get_webview_window(app, "main") {
                // Started at login: wait in the tray until a page or the person calls.
                let _ = window.hide();
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Stopline running in the tray, so pages still arrive.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && tray::exists(tauri::Manager::app_handle(window))
            {
                api.prevent_close();
                let _ = window.hide();
            }
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("stopline-desktop: {error}");
            return ExitCode::from(1);
        }
    };
    // Still here, so this start holds the hand-over name, or there is no session bus to hand
    // over on. The lock decides whether it also holds the data directory: two apps on one would
    // run two engines on one store. Taken only now, after the plugin, so that of two starts at
    // once the one that hands over is never the one left holding the lock. No window is open yet.
    match instance::claim(&data_dir) {
        Ok(instance::Claim::First(first)) => {
            tauri::Manager::manage(&app, first);
        }
        Ok(instance::Claim::Second { pid }) => {
            eprintln!(
                "stopline-desktop: Stopline already runs on {} (pid {pid}) but cannot be reached without a D-Bus session bus shared with it; use its window or tray icon, or end it first",
                data_dir.display()
            );
            app.cleanup_before_exit();
            return ExitCode::from(1);
        }
        Err(problem) => eprintln!("stopline-desktop: {problem}; starting anyway"),
    }
    app.run(move |_, event| {
        if let tauri::RunEvent::Exit = event {
            host.stop();
        }
    });
    ExitCode::SUCCESS
}

/// Starts the engine in the background; the window shows its state as it goes.
fn start_engine(app: &tauri::AppHandle) {
    use tauri::{Emitter, Manager};
    let state = app.state::<AppState>();
    let (host, data_dir, config_path) = (
        state.host.clone(),
        DataDir::new(state.workspace.data_dir().root()),
        state.workspace.config_path().to_owned(),
    );
    let handle = app.clone();
    // A notification's Open button brings the window forward on the incident.
    let open: stopline_engine::pager::OpenIncident = std::sync::Arc::new(move |incident| {
        tray::open_incident(&handle, &incident.to_string());
    });
    let handle = app.clone();
    // The window refreshes when the engine changed something, instead of waiting for its timer.
    let changed: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(move || {
        let _ = handle.emit(STORE_CHANGED, ());
    });
    tauri::async_runtime::spawn(async move {
        let mode = host.start(data_dir, config_path, Some(open), changed).await;
        if let host::EngineMode::Failed { reason } = &mode {
            eprintln!("stopline-desktop: the engine is not running: {reason}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_start_without_config_writes_the_demo_workspace_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config/stopline.toml");
        let first = AppState::prepare_at(config.clone(), dir.path().join("data")).unwrap();
        assert!(first.demo_written);
        let parsed = files::load_config(&config).unwrap();
        assert_eq!(parsed.workspace.name, "Northwind Retail");

        std::fs::write(&config, stopline_core::config::EXAMPLE_CONFIG).unwrap();
        let second = AppState::prepare_at(config.clone(), dir.path().join("data")).unwrap();
        assert!(!second.demo_written, "an existing config is never replaced");
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            stopline_core::config::EXAMPLE_CONFIG
        );
    }
}

//! The Stopline desktop app: a Tauri v2 window over the same engine and store the `stopline` CLI
//! uses. This is the only crate that depends on Tauri. It wires things together and maps results
//! to transport types (`dto`); it holds no business rule.

pub mod commands;
pub mod dto;

use std::path::PathBuf;
use std::process::ExitCode;

use stopline_core::config::DEMO_CONFIG;
use stopline_engine::files::{self, DataDir};

/// Where this app reads its config and keeps its store: the same places as the CLI, from the same
/// environment variables.
#[derive(Debug)]
pub struct AppState {
    pub config_path: PathBuf,
    pub data_dir: DataDir,
    /// Set when this start wrote the demo workspace because there was no config yet.
    pub demo_written: bool,
}

impl AppState {
    /// Resolves the locations and, on a first start with no config, writes the demo workspace so
    /// there is something real to explore (the same file `stopline init --demo` writes).
    pub fn prepare() -> Result<Self, String> {
        let config_path = std::env::var_os("STOPLINE_CONFIG")
            .map(PathBuf::from)
            .or_else(files::default_config_path)
            .ok_or("cannot find a config directory: set STOPLINE_CONFIG")?;
        let data_dir = std::env::var_os("STOPLINE_DATA_DIR")
            .map(PathBuf::from)
            .or_else(files::default_data_dir)
            .ok_or("cannot find a data directory: set STOPLINE_DATA_DIR")?;
        Self::prepare_at(config_path, data_dir)
    }

    /// As [`AppState::prepare`], with the locations given.
    pub fn prepare_at(config_path: PathBuf, data_dir: PathBuf) -> Result<Self, String> {
        let demo_written = if config_path.exists() {
            false
        } else {
            files::write_config(&config_path, DEMO_CONFIG, false).map_err(|e| e.to_string())?;
            true
        };
        Ok(Self {
            config_path,
            data_dir: DataDir::new(data_dir),
            demo_written,
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

pub fn run() -> ExitCode {
    if !has_display() {
        eprintln!(
            "stopline-desktop: no display (DISPLAY and WAYLAND_DISPLAY are unset). Stopline is a \
             desktop app: start it from a graphical session. The `stopline` command works without one."
        );
        return ExitCode::from(1);
    }
    let state = match AppState::prepare() {
        Ok(state) => state,
        Err(message) => {
            eprintln!("stopline-desktop: {message}");
            return ExitCode::from(1);
        }
    };
    if state.demo_written {
        eprintln!(
            "stopline-desktop: no config yet, so the demo workspace was written to {}",
            state.config_path.display()
        );
    }
    let result = tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![commands::overview])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("stopline-desktop: {error}");
            ExitCode::from(1)
        }
    }
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

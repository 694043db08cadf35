//! Tauri commands: unpack, call the engine or store, map to DTOs.

use stopline_engine::files;
use stopline_store::IncidentFilter;
use tauri::State;

use crate::AppState;
use crate::dto::{CommandError, ErrorCode, IncidentRow, Overview};

/// The workspace and its open incidents. A broken config does not hide incidents: it is reported
/// beside them.
#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> Result<Overview, CommandError> {
    let (config, config_error) = match files::load_config(&state.config_path) {
        Ok(config) => (Some(config), None),
        Err(error) => (None, Some(error.to_string())),
    };
    let store_error = |e: &dyn std::fmt::Display| CommandError {
        code: ErrorCode::Store,
        message: e.to_string(),
    };
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let incidents = store
        .incidents(IncidentFilter::Open)
        .map_err(|e| store_error(&e))?;
    let notice = state.demo_written.then(|| {
        format!(
            "Stopline started on the demo workspace, written to {} because there was no config yet. Edit it, or replace it by running: stopline init --force",
            state.config_path.display()
        )
    });
    Ok(Overview {
        workspace: config.as_ref().map(|c| c.workspace.name.clone()),
        config_path: state.config_path.display().to_string(),
        notice,
        config_error,
        incidents: incidents
            .iter()
            .map(|i| IncidentRow::new(i, config.as_ref()))
            .collect(),
        engine: state.host.mode(),
    })
}

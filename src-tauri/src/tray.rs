//! The tray icon: how Stopline stays reachable with its window closed. Its title and tooltip
//! say how many incidents wait for an acknowledgement; its menu opens the window or quits.

use std::time::Duration;

use stopline_core::incident::IncidentState;
use stopline_store::IncidentFilter;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

use crate::AppState;

const TRAY_ID: &str = "stopline";
/// How often the count of unacknowledged incidents is refreshed.
const REFRESH: Duration = Duration::from_secs(2);

/// Creates the tray icon and keeps its count current.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Stopline", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Stopline", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu)
        .tooltip("Stopline")
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            refresh(&handle);
            tokio::time::sleep(REFRESH).await;
        }
    });
    Ok(())
}

/// Whether the tray icon is there to reopen the window from.
pub fn exists(app: &AppHandle) -> bool {
    app.tray_by_id(TRAY_ID).is_some()
}

/// Shows the main window and brings it forward.
pub fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Puts the number of unacknowledged incidents on the tray icon.
fn refresh(app: &AppHandle) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let state = app.state::<AppState>();
    let waiting = state
        .data_dir
        .open_store()
        .and_then(|store| Ok(store.incidents(IncidentFilter::State(IncidentState::Triggered))?))
        .map(|list| list.len());
    let text = match waiting {
        Ok(0) => "Stopline: nothing waiting".to_owned(),
        Ok(1) => "Stopline: 1 incident unacknowledged".to_owned(),
        Ok(n) => format!("Stopline: {n} incidents unacknowledged"),
        Err(error) => format!("Stopline: cannot read the store ({error})"),
    };
    let _ = tray.set_tooltip(Some(&text));
    let _ = tray.set_title(Some(&text));
}

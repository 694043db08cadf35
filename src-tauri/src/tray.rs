//! The tray icon: how Stopline stays reachable with its window closed. Its title and tooltip
//! say how many incidents wait for an acknowledgement; its menu lists them, and choosing one
//! acknowledges it as the person at this desktop (or, with nobody chosen yet, opens it), then
//! offers to open the window or quit.

use std::sync::Mutex;
use std::time::Duration;

use stopline_core::incident::IncidentState;
use stopline_engine::EngineError;
use stopline_engine::api::{Actor, IncidentSummary, Workspace};
use stopline_store::IncidentFilter;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager};

use crate::AppState;

const TRAY_ID: &str = "stopline";
/// How often the tray re-reads the store (the CLI and other engines change it too).
const REFRESH: Duration = Duration::from_secs(2);
/// How many waiting incidents the menu names; the rest are counted.
const LISTED: usize = 8;
/// The longest menu label, so a long title cannot make the menu as wide as the screen.
const LABEL_CHARS: usize = 70;

/// What the tray shows: its text and the menu's incident lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub text: String,
    /// Menu id (`ack:INC-3`, or `open:INC-3` when nobody sits here to acknowledge as) and label.
    pub items: Vec<(String, String)>,
    /// Waiting incidents the menu does not name.
    pub more: usize,
}

impl TrayModel {
    /// The model for these triggered incidents, oldest first in the menu: the longest waiting
    /// is the first to deal with.
    pub fn new(waiting: &[IncidentSummary], me: Option<&str>) -> Self {
        let text = match waiting.len() {
            0 => "Stopline: nothing waiting".to_owned(),
            1 => "Stopline: 1 incident unacknowledged".to_owned(),
            n => format!("Stopline: {n} incidents unacknowledged"),
        };
        let mut oldest_first: Vec<&IncidentSummary> = waiting.iter().collect();
        oldest_first.sort_by_key(|s| (s.incident.opened_at, s.incident.id));
        let items = oldest_first
            .iter()
            .take(LISTED)
            .map(|summary| {
                let incident = &summary.incident;
                let what = summary
                    .application_name
                    .clone()
                    .or_else(|| incident.application.as_ref().map(ToString::to_string))
                    .map_or_else(
                        || incident.title.clone(),
                        |app| format!("{app}: {}", incident.title),
                    );
                let (id, verb) = match me {
                    Some(_) => (format!("ack:{}", incident.id), "Acknowledge"),
                    None => (format!("open:{}", incident.id), "Open"),
                };
                (id, shorten(&format!("{verb} {} · {what}", incident.id)))
            })
            .collect();
        Self {
            text,
            items,
            more: waiting.len().saturating_sub(LISTED),
        }
    }
}

fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_owned();
    }
    let mut short: String = label.chars().take(LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

/// Creates the tray icon and keeps its count and menu current.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu(app, &TrayModel::new(&[], None))?)
        .tooltip("Stopline")
        .on_menu_event(|app, event| on_menu(app, event.id.as_ref()));
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let shown: Mutex<Option<TrayModel>> = Mutex::new(None);
        loop {
            refresh(&handle, &shown);
            tokio::time::sleep(REFRESH).await;
        }
    });
    Ok(())
}

fn menu(app: &AppHandle, model: &TrayModel) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    for (id, label) in &model.items {
        menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
    }
    if model.more > 0 {
        let label = format!("…and {} more: open Stopline", model.more);
        menu.append(&MenuItem::with_id(app, "open", label, true, None::<&str>)?)?;
    }
    if !model.items.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Stopline",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "quit",
        "Quit Stopline",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn on_menu(app: &AppHandle, id: &str) {
    match id.split_once(':') {
        _ if id == "open" => show_window(app),
        _ if id == "quit" => app.exit(0),
        Some(("ack", incident)) => {
            let state = app.state::<AppState>();
            match acknowledge_as_me(&state.workspace, incident) {
                Ok(()) => {
                    let _ = app.emit(crate::STORE_CHANGED, ());
                }
                Err(problem) => {
                    // Whatever stood in the way (someone was quicker, the config broke), the
                    // window shows the incident as it is now.
                    eprintln!("stopline-desktop: cannot acknowledge {incident}: {problem}");
                    open_incident(app, incident);
                }
            }
        }
        Some(("open", incident)) => open_incident(app, incident),
        _ => {}
    }
}

/// Why the tray could not acknowledge an incident.
#[derive(Debug, thiserror::Error)]
pub enum TrayError {
    #[error("{0:?} is not an incident id")]
    BadId(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Acknowledges an incident as the person at this desktop, as the window's button does.
pub fn acknowledge_as_me(workspace: &Workspace, incident: &str) -> Result<(), TrayError> {
    let id = incident
        .parse()
        .map_err(|_| TrayError::BadId(incident.to_owned()))?;
    workspace.acknowledge(id, &Actor::SittingHere)?;
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

/// Shows the main window on an incident.
pub fn open_incident(app: &AppHandle, incident: &str) {
    show_window(app);
    let _ = app.emit(crate::OPEN_INCIDENT, incident.to_owned());
}

/// Puts the number of unacknowledged incidents on the tray icon, and lists them in its menu
/// when they changed.
fn refresh(app: &AppHandle, shown: &Mutex<Option<TrayModel>>) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let state = app.state::<AppState>();
    let ws = &state.workspace;
    let read = ws
        .incidents(IncidentFilter::State(IncidentState::Triggered))
        .and_then(|waiting| Ok((waiting, ws.whoami()?)));
    let model = match read {
        Ok((waiting, me)) => {
            let me = me.map(|p| p.to_string());
            TrayModel::new(&waiting, me.as_deref())
        }
        Err(error) => TrayModel {
            text: format!("Stopline: cannot read the store ({error})"),
            items: Vec::new(),
            more: 0,
        },
    };
    let mut shown = shown.lock().unwrap_or_else(|e| e.into_inner());
    if shown.as_ref() == Some(&model) {
        return;
    }
    let _ = tray.set_tooltip(Some(&model.text));
    let _ = tray.set_title(Some(&model.text));
    match menu(app, &model) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(error) => eprintln!("stopline-desktop: cannot update the tray menu: {error}"),
    }
    *shown = Some(model);
}

#[cfg(test)]
mod tests {
    use super::*;
    use stopline_core::config::{Config, DEMO_CONFIG};
    use stopline_engine::desk::{OpenTarget, open_incident};

    fn app_with_incidents(titles: &[&str]) -> (tempfile::TempDir, AppState, Config) {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::prepare_at(dir.path().join("stopline.toml"), dir.path().join("data"))
            .unwrap();
        let config = Config::parse("stopline.toml", DEMO_CONFIG).unwrap();
        let mut store = state.workspace.data_dir().open_store().unwrap();
        let mut now: jiff::Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        for title in titles {
            let target = OpenTarget::Application("payment-gateway".to_owned());
            open_incident(
                &mut store,
                &config,
                &target,
                title,
                "aisha",
                now,
                stopline_engine::desk::Numbering::Own,
            )
            .unwrap();
            now += jiff::SignedDuration::from_mins(1);
        }
        (dir, state, config)
    }

    fn waiting(state: &AppState) -> Vec<IncidentSummary> {
        state
            .workspace
            .incidents(IncidentFilter::State(IncidentState::Triggered))
            .unwrap()
    }

    #[test]
    fn the_menu_lists_the_longest_waiting_first_and_counts_the_rest() {
        let titles: Vec<String> = (1..=10).map(|n| format!("Outage {n}")).collect();
        let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
        let (_dir, state, _config) = app_with_incidents(&titles);
        let model = TrayModel::new(&waiting(&state), Some("ben"));
        assert_eq!(model.text, "Stopline: 10 incidents unacknowledged");
        assert_eq!(model.items.len(), LISTED);
        assert_eq!(
            model.items[0],
            (
                "ack:INC-1".to_owned(),
                "Acknowledge INC-1 · Payment Gateway: Outage 1".to_owned()
            )
        );
        assert_eq!(model.more, 2);

        let nobody = TrayModel::new(&waiting(&state), None);
        assert_eq!(nobody.items[0].0, "open:INC-1", "nobody to acknowledge as");
        assert_eq!(TrayModel::new(&[], None).text, "Stopline: nothing waiting");
        let long = "x".repeat(200);
        assert_eq!(shorten(&long).chars().count(), LABEL_CHARS);
    }

    #[test]
    fn acknowledging_from_the_menu_records_the_person_at_this_desktop() {
        let (_dir, state, _config) = app_with_incidents(&["Checkout down"]);
        let ws = &state.workspace;
        let refused = acknowledge_as_me(ws, "INC-1").unwrap_err().to_string();
        assert!(refused.contains("nobody sits at this desktop"), "{refused}");
        assert!(
            refused.contains("stopline whoami --set"),
            "says what to do: {refused}"
        );
        assert_eq!(waiting(&state).len(), 1, "nothing changed");

        ws.set_whoami(Some("ben")).unwrap();
        acknowledge_as_me(ws, "INC-1").unwrap();
        let incident = ws
            .incident("INC-1".parse().unwrap())
            .unwrap()
            .summary
            .incident;
        assert_eq!(incident.state, IncidentState::Acknowledged);
        assert_eq!(incident.acknowledged.unwrap().actor(), "ben");
        assert!(waiting(&state).is_empty());

        // Twice is refused with the reason, not a second acknowledgement.
        let again = acknowledge_as_me(ws, "INC-1").unwrap_err().to_string();
        assert!(again.contains("acknowledged"), "{again}");
        assert!(acknowledge_as_me(ws, "INC-99").is_err());
    }
}

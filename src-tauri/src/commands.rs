//! Tauri commands: unpack, call the engine or store, map to DTOs. What a person does from the
//! app, they do as the person at this desktop (`stopline whoami`), through the same engine
//! functions the CLI calls.

use stopline_core::clock::{Clock, SystemClock};
use stopline_core::config::Config;
use stopline_core::incident::{IncidentId, Severity, Transition};
use stopline_core::money::group_thousands;
use stopline_core::swarm::{Role, StepState};
use stopline_engine::pager::WHOAMI_KEY;
use stopline_engine::swarm::{RoleRequest, StepRequest};
use stopline_engine::{EngineError, desk, files, swarm};
use stopline_store::{AlertFilter, IncidentFilter, Store, StoreError};
use tauri::State;

use crate::AppState;
use crate::dto::{
    AlertView, ApplicationOption, AssignForm, AssignedView, CommandError, DeskRoute, ErrorCode,
    IncidentAction, IncidentRow, IncidentView, LayerView, LeadRoleText, OnCallOverview, OnCallView,
    OverrideForm, Overview, PersonOption, ReportView, RoleView, RotaView, SettingsChange,
    SettingsView, SeverityText, ShiftView, SourceRow, SourcesView, StepStateText, StepView,
    TimelineEntry, UnroutedAlert, UnroutedView,
};

fn store_error(e: &dyn std::fmt::Display) -> CommandError {
    CommandError {
        code: ErrorCode::Store,
        message: e.to_string(),
    }
}

/// An engine error as the UI shows it: which kind, and the message the CLI would print.
fn engine_error(error: EngineError) -> CommandError {
    let code = match &error {
        EngineError::ConfigInvalid(_) | EngineError::ConfigMissing { .. } => ErrorCode::Config,
        EngineError::Store(StoreError::Sqlite(_) | StoreError::Open { .. }) => ErrorCode::Store,
        e if e.is_usage() => ErrorCode::BadInput,
        _ => ErrorCode::Refused,
    };
    CommandError {
        code,
        message: error.to_string(),
    }
}

/// Who sits at this desktop (`stopline whoami`), if anyone was chosen.
pub(crate) fn who_sits_here(store: &Store) -> Result<Option<String>, CommandError> {
    Ok(store
        .desktop_setting(WHOAMI_KEY)
        .map_err(|e| store_error(&e))?
        .filter(|p| !p.is_empty()))
}

/// The workspace and its open incidents. A broken config does not hide incidents: it is reported
/// beside them.
#[tauri::command]
pub async fn overview(state: State<'_, AppState>) -> Result<Overview, CommandError> {
    crate::queue_requested();
    let (config, config_error) = match files::load_config(&state.config_path) {
        Ok(config) => (Some(config), None),
        Err(error) => (None, Some(error.to_string())),
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
    let me = who_sits_here(&store)?;
    let my_teams: Vec<String> = match (&config, &me) {
        (Some(config), Some(me)) => config
            .teams
            .iter()
            .filter(|t| t.members.iter().any(|m| m.as_str() == me))
            .map(|t| t.id.to_string())
            .collect(),
        _ => Vec::new(),
    };
    let stopped_teams = match &config {
        Some(config) => stopline_engine::swarm::lines(&store, config, SystemClock.now())
            .map_err(engine_error)?
            .into_iter()
            .filter(|l| l.is_stopped())
            .map(|l| l.team)
            .collect(),
        None => Vec::new(),
    };
    let unrouted = store
        .alerts(AlertFilter::Unrouted)
        .map_err(|e| store_error(&e))?
        .len();
    let zone = config
        .as_ref()
        .map_or(jiff::tz::TimeZone::UTC, |c| c.workspace.time_zone.clone());
    let offline_sources = stopline_engine::health::source_health(&store, config.as_ref())
        .map_err(engine_error)?
        .iter()
        .filter_map(|s| {
            let when = |t: jiff::Timestamp| {
                t.to_zoned_datetime(zone.clone())
                    .strftime("%H:%M %Z")
                    .to_string()
            };
            Some(format!("{}: {}", s.name, s.offline_summary(when)?))
        })
        .collect();
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
        me,
        currency: config.as_ref().map(|c| c.workspace.currency.to_string()),
        my_teams,
        stopped_teams,
        unrouted_alerts: u32::try_from(unrouted).unwrap_or(u32::MAX),
        offline_sources,
        open_incident: state
            .open_on_start
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(),
        people: config.as_ref().map(people).unwrap_or_default(),
    })
}

/// Everyone in the config, to choose from.
fn people(config: &Config) -> Vec<PersonOption> {
    config
        .people
        .iter()
        .map(|p| PersonOption {
            id: p.id.to_string(),
            name: p.name.clone(),
        })
        .collect()
}

/// Says who sits at this desktop (the same setting as `stopline whoami --set`).
#[tauri::command]
pub async fn set_me(state: State<'_, AppState>, person: String) -> Result<(), CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let person = desk::person(&config, &person).map_err(engine_error)?;
    let mut store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    store
        .set_desktop_setting(WHOAMI_KEY, person.as_str())
        .map_err(|e| store_error(&e))
}

fn parse_id(id: &str) -> Result<IncidentId, CommandError> {
    id.parse()
        .map_err(|e: stopline_core::incident::IncidentIdError| CommandError {
            code: ErrorCode::BadInput,
            message: e.to_string(),
        })
}

/// One incident with its timeline, checklist, roles and alerts.
#[tauri::command]
pub async fn incident(
    state: State<'_, AppState>,
    id: String,
) -> Result<IncidentView, CommandError> {
    let id = parse_id(&id)?;
    let config = files::load_config(&state.config_path).ok();
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    view(&store, config.as_ref(), id)
}

/// Does something to an incident as the person at this desktop; answers with the incident as it
/// is after.
#[tauri::command]
pub async fn act(
    state: State<'_, AppState>,
    id: String,
    action: IncidentAction,
) -> Result<IncidentView, CommandError> {
    let id = parse_id(&id)?;
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let mut store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let me = who_sits_here(&store)?.ok_or(CommandError {
        code: ErrorCode::NoPerson,
        message: "Choose who you are (top right) first: what you do here is recorded as you."
            .to_owned(),
    })?;
    let now = SystemClock.now();
    let done = match action {
        IncidentAction::Acknowledge => desk::transition(
            &mut store,
            &config,
            id,
            Transition::Acknowledge,
            &me,
            false,
            now,
        )
        .map(|_| ()),
        IncidentAction::Resolve { force } => desk::transition(
            &mut store,
            &config,
            id,
            Transition::Resolve,
            &me,
            force,
            now,
        )
        .map(|_| ()),
        IncidentAction::Step {
            step,
            state,
            reason,
        } => {
            let request = StepRequest {
                step: &step,
                state: Some(match state {
                    StepStateText::Todo => StepState::Todo,
                    StepStateText::Doing => StepState::Doing,
                    StepStateText::Done => StepState::Done,
                    StepStateText::Skipped => StepState::Skipped,
                }),
                reason: reason.as_deref(),
                assignee: None,
            };
            swarm::change_step(&mut store, &config, id, request, &me, now).map(|_| ())
        }
        IncidentAction::Note { text } => {
            desk::add_note(&mut store, &config, id, &text, &me, now).map(|_| ())
        }
        IncidentAction::Assign { step, person } => {
            let request = StepRequest {
                step: &step,
                state: None,
                reason: None,
                assignee: Some(&person),
            };
            swarm::change_step(&mut store, &config, id, request, &me, now).map(|_| ())
        }
        IncidentAction::Role {
            role,
            person,
            handover,
        } => {
            let request = RoleRequest {
                role: match role {
                    LeadRoleText::Commander => Role::Commander,
                    LeadRoleText::Comms => Role::Comms,
                    LeadRoleText::Scribe => Role::Scribe,
                },
                person: &person,
                handover,
            };
            swarm::name_role(&mut store, &config, id, request, &me, now).map(|_| ())
        }
        IncidentAction::Join => swarm::join(&mut store, &config, id, &me, now),
        IncidentAction::Leave => swarm::leave(&mut store, &config, id, &me, now),
        IncidentAction::Severity {
            severity,
            reason,
            loss,
        } => {
            let severity = match severity {
                SeverityText::Major => Severity::Major,
                SeverityText::Minor => Severity::Minor,
            };
            let loss = match loss {
                Some(l) if l.is_finite() && l >= 0.0 => Some(l.round() as u64),
                Some(_) => {
                    return Err(CommandError {
                        code: ErrorCode::BadInput,
                        message: "the estimated loss must be a positive amount".to_owned(),
                    });
                }
                None => None,
            };
            let request = swarm::SeverityRequest {
                severity,
                reason: &reason,
                loss,
            };
            swarm::override_severity(&mut store, &config, id, request, &me, now).map(|_| ())
        }
    };
    done.map_err(engine_error)?;
    view(&store, Some(&config), id)
}

fn view(
    store: &Store,
    config: Option<&Config>,
    id: IncidentId,
) -> Result<IncidentView, CommandError> {
    let detail = store.incident(id).map_err(|e| engine_error(e.into()))?;
    let incident = &detail.incident;
    let application = incident
        .application
        .as_ref()
        .and_then(|a| config?.application(a));
    let checklist = store.checklist(id).map_err(|e| store_error(&e))?;
    let roles = store.roles(id).map_err(|e| store_error(&e))?;
    let alerts = store
        .alerts(AlertFilter::Incident(id))
        .map_err(|e| store_error(&e))?;
    Ok(IncidentView {
        incident: IncidentRow::new(incident, config),
        severity_reason: store.severity_reason(id).map_err(|e| store_error(&e))?,
        loss_per_hour: application.zip(config).map(|(app, config)| {
            format!(
                "{} {}/h",
                config.workspace.currency,
                group_thousands(app.exposure_per_hour.0)
            )
        }),
        timeline: detail
            .timeline
            .iter()
            .map(|e| TimelineEntry {
                at: e.at.to_string(),
                who: e.who.as_ref().map(ToString::to_string),
                kind: e.kind.as_str().to_owned(),
                detail: e.detail.clone(),
            })
            .collect(),
        checklist: checklist
            .iter()
            .map(|s| StepView {
                step: s.step.to_string(),
                title: s.title.clone(),
                required: s.required,
                runbook: s.runbook.clone(),
                state: match s.state {
                    StepState::Todo => StepStateText::Todo,
                    StepState::Doing => StepStateText::Doing,
                    StepState::Done => StepStateText::Done,
                    StepState::Skipped => StepStateText::Skipped,
                },
                assignee: s.assignee.as_ref().map(ToString::to_string),
                reason: s.reason.clone(),
                changed_by: s.changed_by.as_ref().map(ToString::to_string),
                changed_at: s.changed_at.map(|t| t.to_string()),
            })
            .collect(),
        roles: roles
            .iter()
            .filter(|r| r.until.is_none())
            .map(|r| RoleView {
                role: r.role.as_str().to_owned(),
                title: r.role.title().to_owned(),
                person: r.person.to_string(),
                since: r.since.to_string(),
            })
            .collect(),
        alerts: alerts
            .iter()
            .map(|a| AlertView {
                source: a.alert.source.clone(),
                fingerprint: a.alert.fingerprint.to_string(),
                state: a.alert.state.as_str().to_owned(),
                labels: a.alert.labels.clone(),
                annotations: a.alert.annotations.clone(),
                links: a.alert.links.clone(),
            })
            .collect(),
    })
}

/// Labels written as `service=payment-gateway env=prod` (spaces or commas between them); `None`
/// when the text is not all labels.
fn labels_in(text: &str) -> Option<stopline_core::alert::Labels> {
    text.split([' ', ','])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=')?;
            let value = value.trim_matches('"');
            (!name.is_empty() && !value.is_empty()).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect::<Option<stopline_core::alert::Labels>>()
        .filter(|labels| !labels.is_empty())
}

/// Where the service desk's words lead: an application's id or name, alert labels
/// (`service=payment-gateway`) through the application mapping, else a customer journey.
/// `null` when nothing matches.
#[tauri::command]
pub async fn desk_route(
    state: State<'_, AppState>,
    query: String,
) -> Result<Option<DeskRoute>, CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let query = query.trim();
    let application = stopline_engine::lookup::application(&config, query)
        .ok()
        .or_else(|| {
            config
                .applications
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(query))
        })
        .or_else(|| {
            let labels = labels_in(query)?;
            config.mapping().route_labels(&labels).application()
        })
        .or_else(|| config.mapping().route_journey(query).application());
    let Some(app) = application else {
        return Ok(None);
    };
    let now = SystemClock.now();
    let team = config.team(&app.team);
    let rotas = [config.team_rota(&app.team), config.domain_rota(&app.team)];
    let on_call = rotas
        .into_iter()
        .flatten()
        .flat_map(|rota| {
            (0..rota.layers.len()).map(move |layer| OnCallView {
                rota: rota.id.to_string(),
                layer: rota.layers[layer].name.clone(),
                person: rota.on_call(layer, now).map(|s| s.person.to_string()),
            })
        })
        .collect();
    Ok(Some(DeskRoute {
        application: app.id.to_string(),
        application_name: app.name.clone(),
        target: app.target.to_string(),
        team: app.team.to_string(),
        team_name: team.map_or_else(|| app.team.to_string(), |t| t.name.clone()),
        on_call,
    }))
}

/// The service desk opens an incident for an application, as the person at this desktop: the
/// owning team's checklist starts and its on-call person is paged.
#[tauri::command]
pub async fn desk_open(
    state: State<'_, AppState>,
    application: String,
    title: String,
) -> Result<IncidentRow, CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let mut store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let me = who_sits_here(&store)?.ok_or(CommandError {
        code: ErrorCode::NoPerson,
        message: "Choose who you are (top right) first: the incident is opened as you.".to_owned(),
    })?;
    let incident = desk::open_incident(
        &mut store,
        &config,
        &desk::OpenTarget::Application(application),
        &title,
        &me,
        SystemClock.now(),
    )
    .map_err(engine_error)?;
    Ok(IncidentRow::new(&incident, Some(&config)))
}

/// The alert sources' health, the webhook to post to and its token, and notifications.
#[tauri::command]
pub async fn sources(state: State<'_, AppState>) -> Result<SourcesView, CommandError> {
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let config = files::load_config(&state.config_path).ok();
    let health =
        stopline_engine::health::source_health(&store, config.as_ref()).map_err(engine_error)?;
    let webhook = match state.host.mode() {
        crate::host::EngineMode::Hosting { webhook, .. } => webhook,
        _ => files::load_config(&state.config_path)
            .map(|c| format!("http://{}", c.webhook.listen))
            .unwrap_or_else(|_| "http://127.0.0.1:9177".to_owned()),
    };
    Ok(SourcesView {
        sources: health
            .into_iter()
            .map(|s| SourceRow {
                state: s.state.to_owned(),
                last_success: s.last_success.map(|t| t.to_string()),
                last_error: s.last_error.or_else(|| s.outbox_error.clone()),
                failing_since: s.failing_since.map(|t| t.to_string()),
                waiting: u32::try_from(s.waiting).unwrap_or(u32::MAX),
                waiting_since: s.waiting_since.map(|t| t.to_string()),
                abandoned: u32::try_from(s.abandoned).unwrap_or(u32::MAX),
                name: s.name,
                kind: s.kind,
                url: s.url,
            })
            .collect(),
        webhook,
        token: state.data_dir.webhook_token().map_err(engine_error)?,
        notifications: store
            .desktop_setting(stopline_engine::pager::NOTIFICATIONS_KEY)
            .map_err(|e| store_error(&e))?
            .unwrap_or_else(|| "unknown: the engine has not started".to_owned()),
    })
}

/// Sends a test page through this desktop's notification server; answers what happened.
#[tauri::command]
pub async fn test_page() -> Result<String, CommandError> {
    use stopline_engine::notify::{DesktopNotification, Loudness, desktop_notifier};
    let (actions, _received) = tokio::sync::mpsc::unbounded_channel();
    let notifier = desktop_notifier(actions).await;
    let status = notifier.status();
    notifier
        .show(DesktopNotification {
            incident: None,
            summary: "Stopline: test page".to_owned(),
            body: "If you can read this, pages reach this desktop.".to_owned(),
            loudness: Loudness::Page,
            actions: Vec::new(),
            replaces: None,
        })
        .await
        .map_err(|e| CommandError {
            code: ErrorCode::Refused,
            message: e.to_string(),
        })?;
    Ok(status.to_string())
}

/// Who is on call on every layer of every rota, now and next, and my next four weeks.
#[tauri::command]
pub async fn on_call(state: State<'_, AppState>) -> Result<OnCallOverview, CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let me = who_sits_here(&store)?;
    let now = SystemClock.now();
    let shift = |s: stopline_core::rota::Shift| ShiftView {
        rota: s.rota.to_string(),
        layer: s.layer,
        person: s.person.to_string(),
        since: s.start.to_string(),
        until: s.end.to_string(),
        is_override: s.is_override,
    };
    let rotas = config
        .rotas
        .iter()
        .map(|rota| RotaView {
            id: rota.id.to_string(),
            name: rota.name.clone(),
            kind: if rota.is_domain() { "domain" } else { "team" }.to_owned(),
            teams: rota.teams.iter().map(ToString::to_string).collect(),
            layers: (0..rota.layers.len())
                .map(|i| {
                    let current = rota.on_call(i, now);
                    let next = current.as_ref().and_then(|s| rota.on_call(i, s.end));
                    LayerView {
                        layer: rota.layers[i].name.clone(),
                        now: current.map(shift),
                        next: next.map(shift),
                    }
                })
                .collect(),
        })
        .collect();
    let horizon = now
        .checked_add(jiff::SignedDuration::from_hours(28 * 24))
        .unwrap_or(now);
    let my_shifts = match me.and_then(|m| stopline_core::ids::PersonId::new(m).ok()) {
        Some(person) => {
            let mut shifts: Vec<_> = config
                .rotas
                .iter()
                .flat_map(|r| r.shifts_of(&person, now, horizon))
                .collect();
            shifts.sort_by_key(|s| s.start);
            shifts.into_iter().map(shift).collect()
        }
        None => Vec::new(),
    };
    Ok(OnCallOverview { rotas, my_shifts })
}

/// Adds an override to a rota in the config, as the person at this desktop; answers with who is
/// on call after it.
#[tauri::command]
pub async fn add_override(
    state: State<'_, AppState>,
    form: OverrideForm,
) -> Result<OnCallOverview, CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let me = who_sits_here(&store)?.ok_or(CommandError {
        code: ErrorCode::NoPerson,
        message: "Choose who you are (top right) first: the override is added as you.".to_owned(),
    })?;
    drop(store);
    let request = stopline_engine::overrides::OverrideRequest {
        rota: &form.rota,
        layer: &form.layer,
        person: &form.person,
        from: &form.from,
        to: &form.to,
        who: &me,
    };
    stopline_engine::overrides::add_override(
        &state.config_path,
        &config,
        request,
        SystemClock.now(),
    )
    .map_err(engine_error)?;
    on_call(state).await
}

/// This desktop's settings: who sits here, how pages show, whether Stopline starts at login.
#[tauri::command]
pub async fn settings(state: State<'_, AppState>) -> Result<SettingsView, CommandError> {
    use stopline_engine::pager::{FLOOD_THRESHOLD_KEY, TEAMMATES_KEY, notification_settings};
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let notifications = notification_settings(&store, &config).map_err(engine_error)?;
    let mut chosen_here = false;
    for key in [TEAMMATES_KEY, FLOOD_THRESHOLD_KEY] {
        chosen_here |= store
            .desktop_setting(key)
            .map_err(|e| store_error(&e))?
            .is_some();
    }
    let autostart = crate::autostart::Autostart::for_this_user();
    Ok(SettingsView {
        me: who_sits_here(&store)?,
        people: people(&config),
        teammates: notifications.teammates,
        flood_threshold: notifications.flood_threshold,
        notifications_chosen_here: chosen_here,
        start_at_login: autostart.is_on(),
        start_at_login_detail: autostart.detail(),
    })
}

/// Changes this desktop's settings; answers with all of them after the change.
#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    change: SettingsChange,
) -> Result<SettingsView, CommandError> {
    use stopline_engine::pager::{FLOOD_THRESHOLD_KEY, TEAMMATES_KEY};
    if change.flood_threshold == Some(0) {
        return Err(CommandError {
            code: ErrorCode::BadInput,
            message: "flood threshold: at least 1 page a minute".to_owned(),
        });
    }
    let mut store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    if change.reset_notifications {
        for key in [TEAMMATES_KEY, FLOOD_THRESHOLD_KEY] {
            store
                .delete_desktop_setting(key)
                .map_err(|e| store_error(&e))?;
        }
    }
    if let Some(teammates) = change.teammates {
        store
            .set_desktop_setting(TEAMMATES_KEY, if teammates { "true" } else { "false" })
            .map_err(|e| store_error(&e))?;
    }
    if let Some(threshold) = change.flood_threshold {
        store
            .set_desktop_setting(FLOOD_THRESHOLD_KEY, &threshold.to_string())
            .map_err(|e| store_error(&e))?;
    }
    drop(store);
    if let Some(on) = change.start_at_login {
        let executable = std::env::current_exe().map_err(|e| CommandError {
            code: ErrorCode::Refused,
            message: format!("cannot tell where this app is installed: {e}"),
        })?;
        // The entry starts the app on this config and data directory, wherever they are.
        let env = [
            ("STOPLINE_CONFIG", state.config_path.display().to_string()),
            (
                "STOPLINE_DATA_DIR",
                state.data_dir.root().display().to_string(),
            ),
        ];
        crate::autostart::Autostart::for_this_user()
            .set(on, &executable, &env)
            .map_err(|message| CommandError {
                code: ErrorCode::Refused,
                message,
            })?;
    }
    settings(state).await
}

/// Opens a web link of an alert or a runbook in the person's browser: the app's own window
/// never navigates away from Stopline. Only http and https links are opened.
#[tauri::command]
pub async fn open_link(url: String) -> Result<(), CommandError> {
    let url = url.trim();
    let web = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(char::is_whitespace);
    if !web {
        return Err(CommandError {
            code: ErrorCode::BadInput,
            message: format!("not a web link, so it is not opened: {url}"),
        });
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        // Reaped on a thread of its own, so no finished opener lingers as a zombie.
        .map(|mut child| drop(std::thread::spawn(move || child.wait())))
        .map_err(|e| CommandError {
            code: ErrorCode::Refused,
            message: format!("cannot start {opener} to open {url}: {e}"),
        })
}

/// Alerts no application claimed: the service desk's queue.
#[tauri::command]
pub async fn unrouted(state: State<'_, AppState>) -> Result<UnroutedView, CommandError> {
    let config = files::load_config(&state.config_path).ok();
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let mut alerts = store
        .alerts(AlertFilter::Unrouted)
        .map_err(|e| store_error(&e))?;
    alerts.sort_by_key(|a| std::cmp::Reverse(a.alert.last_seen));
    let applications = config
        .as_ref()
        .map(|c| {
            c.applications
                .iter()
                .map(|a| ApplicationOption {
                    id: a.id.to_string(),
                    name: a.name.clone(),
                    team_name: c
                        .team(&a.team)
                        .map_or_else(|| a.team.to_string(), |t| t.name.clone()),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(UnroutedView {
        alerts: alerts
            .into_iter()
            .map(|a| UnroutedAlert {
                source: a.alert.source,
                fingerprint: a.alert.fingerprint.to_string(),
                state: a.alert.state.as_str().to_owned(),
                summary: a.alert.annotations.get("summary").cloned(),
                labels: a.alert.labels,
                last_seen: a.alert.last_seen.to_string(),
            })
            .collect(),
        applications,
    })
}

/// Gives an unrouted alert to an application as the person at this desktop (as `stopline
/// assign` does): a firing alert opens or joins an incident for its team, which is paged.
#[tauri::command]
pub async fn assign_alert(
    state: State<'_, AppState>,
    form: AssignForm,
) -> Result<AssignedView, CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let mut store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let me = who_sits_here(&store)?.ok_or(CommandError {
        code: ErrorCode::NoPerson,
        message: "Choose who you are (top right) first: the alert is routed as you.".to_owned(),
    })?;
    let alert =
        stopline_engine::triage::unrouted_alert(&store, &form.fingerprint, Some(&form.source))
            .map_err(engine_error)?;
    let request = stopline_engine::triage::AssignRequest {
        application: &form.application,
        // The routing label the alert has (service, app, application or job).
        save_by: form.save.then_some(&[][..]),
        who: &me,
    };
    let assigned = stopline_engine::triage::assign(
        &mut store,
        &config,
        &state.config_path,
        &alert,
        request,
        SystemClock.now(),
    )
    .map_err(engine_error)?;
    Ok(AssignedView {
        incident: assigned.incident.map(|i| i.to_string()),
        saved_route: assigned.saved_route,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_desk_can_search_by_labels() {
        let labels = labels_in("service=payment-gateway, env=\"prod\"").unwrap();
        assert_eq!(labels.get("service").unwrap(), "payment-gateway");
        assert_eq!(labels.get("env").unwrap(), "prod");
        assert_eq!(labels_in("customers can't pay"), None);
        assert_eq!(labels_in("service= env=prod"), None);
        assert_eq!(labels_in("  "), None);

        let config = Config::parse("demo.toml", stopline_core::config::DEMO_CONFIG).unwrap();
        let routed = config
            .mapping()
            .route_labels(&labels_in("service=payment-gateway").unwrap())
            .application()
            .map(|a| a.id.to_string());
        assert_eq!(routed.as_deref(), Some("payment-gateway"));
    }
}

/// The period a report covers: `from` and `to` as RFC 3339 (the window's date inputs send them),
/// by default the four weeks to now.
fn report_period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(jiff::Timestamp, jiff::Timestamp), CommandError> {
    let parse = |name: &str, text: &str| {
        text.parse::<jiff::Timestamp>().map_err(|e| CommandError {
            code: ErrorCode::BadInput,
            message: format!("{name}: {text:?} is not a time: {e}"),
        })
    };
    let to = match to {
        Some(text) => parse("to", text)?,
        None => SystemClock.now(),
    };
    let from = match from {
        Some(text) => parse("from", text)?,
        None => to - jiff::SignedDuration::from_hours(28 * 24),
    };
    Ok((from, to))
}

/// The report over the period the window asked for, for every team or one (an empty team is all).
fn build_report(
    state: &AppState,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
) -> Result<(stopline_core::economics::Report, Config), CommandError> {
    let config = files::load_config(&state.config_path).map_err(engine_error)?;
    let store = state.data_dir.open_store().map_err(|e| store_error(&e))?;
    let (from, to) = report_period(from.as_deref(), to.as_deref())?;
    let team = team.filter(|t| !t.is_empty());
    let built = stopline_engine::report::build(&store, &config, from, to, team.as_deref())
        .map_err(engine_error)?;
    Ok((built, config))
}

/// The operability report over `[from, to)` for every team, or one.
#[tauri::command]
pub async fn report(
    state: State<'_, AppState>,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
) -> Result<ReportView, CommandError> {
    let (built, config) = build_report(&state, from, to, team)?;
    Ok(ReportView::new(&built, &config))
}

/// One table of the report as CSV (the payroll table by default), to copy.
#[tauri::command]
pub async fn report_csv(
    state: State<'_, AppState>,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
) -> Result<String, CommandError> {
    let (built, _) = build_report(&state, from, to, team)?;
    Ok(stopline_engine::report::csv(
        &built,
        stopline_engine::report::CsvTable::People,
    ))
}

//! The app's commands: what the window may ask of the Rust side. Each one unpacks its arguments,
//! calls the engine's API (`stopline_engine::api`, one [`Workspace`] for the app's lifetime, on a
//! blocking thread) and maps the answer to a transport type (`dto`). What a person does from the
//! app, they do as the person at this desktop (`stopline whoami`).
//!
//! The commands are declared once, in [`ipc_commands!`]: that one list registers them with Tauri,
//! names them in the app manifest (`build.rs` reads this file), and generates their typed
//! TypeScript callers in `ui/src/bindings.ts`, so the window never spells a command by hand.

use std::sync::Arc;

use stopline_core::incident::{IncidentId, Severity};
use stopline_core::swarm::{ChecklistStep, Role, StepState, SwarmError};
use stopline_engine::EngineError;
use stopline_engine::api::{
    Actor, CalendarFor, ExportFormat, NotificationsChange, OpenTarget, OverrideForm as ApiOverride,
    RemoveRequest, RoleRequest, SeverityRequest, StepRequest, TimeArg, Workspace,
};
use stopline_store::StoreError;
use tauri::State;

use crate::AppState;
use crate::dto::{
    AssignForm, AssignedView, CommandError, DeskRoute, ErrorCode, ExportFormatText, ExportedView,
    HubConnectForm, HubView, IncidentAction, IncidentRow, IncidentView, LeadRoleText,
    OnCallOverview, OverrideForm, Overview, RemoveOverrideForm, ReportView, SettingsChange,
    SettingsView, SeverityText, SourcesView, StepStateText, UnroutedView,
};

/// An engine error as the window receives it: which kind (what the UI branches on), and the
/// message.
pub(crate) fn command_error(error: EngineError) -> CommandError {
    let code = match &error {
        EngineError::ConfigInvalid(_) | EngineError::ConfigMissing { .. } => ErrorCode::Config,
        EngineError::NobodyHere => ErrorCode::NoPerson,
        EngineError::Store(
            StoreError::Sqlite(_) | StoreError::Open { .. } | StoreError::Private { .. },
        ) => ErrorCode::Store,
        e if e.is_usage() => ErrorCode::BadInput,
        _ => ErrorCode::Refused,
    };
    let message = match &error {
        EngineError::NobodyHere => {
            "Choose who you are (top right) first: what you do here is recorded as you.".to_owned()
        }
        other => other.to_string(),
    };
    CommandError { code, message }
}

fn bad_input(message: String) -> CommandError {
    CommandError {
        code: ErrorCode::BadInput,
        message,
    }
}

/// Runs `work` with the app's workspace on a blocking thread, so the store never holds up the
/// async runtime the window's requests arrive on.
async fn with_workspace<T: Send + 'static>(
    state: &State<'_, AppState>,
    work: impl FnOnce(&Workspace) -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    let workspace = Arc::clone(&state.workspace);
    tauri::async_runtime::spawn_blocking(move || work(&workspace))
        .await
        .map_err(|e| CommandError {
            code: ErrorCode::Store,
            message: format!("the request stopped before it answered: {e}"),
        })?
}

/// The hub this desktop joined, as the window shows it.
fn hub_view(ws: &Workspace) -> Result<Option<HubView>, CommandError> {
    Ok(ws
        .hub_status()
        .map_err(command_error)?
        .as_ref()
        .map(HubView::new))
}

/// This desktop's settings as they are now.
async fn settings_now(state: &State<'_, AppState>) -> Result<SettingsView, CommandError> {
    let autostart = crate::autostart::Autostart::for_this_user(state.app.get());
    with_workspace(state, move |ws| {
        Ok(SettingsView::new(
            ws.settings().map_err(command_error)?,
            &autostart,
            hub_view(ws)?,
        ))
    })
    .await
}

/// Who is on call, the timeline of the next two weeks, and my calendar's address.
fn on_call_overview(ws: &Workspace) -> Result<OnCallOverview, CommandError> {
    let view = ws.on_call(None, None).map_err(command_error)?;
    let config = ws.rotas_config().ok();
    let calendar = ws
        .whoami()
        .ok()
        .flatten()
        .and_then(|me| ws.calendar_url(CalendarFor::Person(me.as_str())).ok());
    Ok(OnCallOverview::new(&view, config.as_deref(), calendar))
}

fn parse_id(id: &str) -> Result<IncidentId, CommandError> {
    id.parse()
        .map_err(|e: stopline_core::incident::IncidentIdError| bad_input(e.to_string()))
}

/// Declares the app's commands once: each becomes a `#[tauri::command]`, an entry of
/// [`handler`], and a typed caller in the generated TypeScript ([`typescript_commands`]).
/// Every command takes the app's state first; the rest are its arguments as the window sends
/// them (Tauri names them in camelCase on the wire).
macro_rules! ipc_commands {
    ($(
        $(#[doc = $doc:literal])*
        async fn $name:ident($state:ident: State<'_, AppState> $(, $arg:ident: $ty:ty)* $(,)?)
            -> Result<$ok:ty, CommandError> $body:block
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            pub async fn $name($state: State<'_, AppState> $(, $arg: $ty)*)
                -> Result<$ok, CommandError> $body
        )*

        /// Every command, for Tauri's invoke handler.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// The commands' names, as the app manifest and the capability file list them.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// The TypeScript callers of the commands, one function each, typed from the Rust
        /// types (`ts-rs`), for `ui/src/bindings.ts`.
        pub fn typescript_commands(cfg: &ts_rs::Config) -> String {
            let mut out = String::from("/** The app's commands, typed: the only way the window calls the Rust side. */\nexport const commands = {\n");
            $(
                let docs: &[&str] = &[$($doc),*];
                let args: &[(&str, String)] = &[$((stringify!($arg), <$ty as ts_rs::TS>::name(cfg))),*];
                out.push_str(&crate::callers::command_caller(
                    stringify!($name),
                    docs,
                    args,
                    &<$ok as ts_rs::TS>::name(cfg),
                ));
            )*
            out.push_str("};\n");
            out
        }
    };
}

ipc_commands! {
    /// The workspace and its open incidents. A broken config does not hide incidents: it is
    /// reported beside them.
    async fn overview(state: State<'_, AppState>) -> Result<Overview, CommandError> {
        crate::queue_requested();
        let open_incident = state.take_open_on_start();
        let (engine, notice) = (state.host.mode(), state.demo_notice());
        let config_path = state.workspace.config_path().display().to_string();
        with_workspace(&state, move |ws| {
            let queue = ws.queue().map_err(command_error)?;
            let hub = hub_view(ws)?;
            Ok(Overview::new(queue, engine, notice, config_path, open_incident, hub))
        })
        .await
    }

    /// One incident with its timeline, checklist, roles and alerts.
    async fn incident(state: State<'_, AppState>, id: String) -> Result<IncidentView, CommandError> {
        let id = parse_id(&id)?;
        with_workspace(&state, move |ws| {
            let view = ws.incident(id).map_err(command_error)?;
            Ok(IncidentView::new(&view, ws.config().ok().as_deref()))
        })
        .await
    }

    /// Does something to an incident as the person at this desktop; answers with the incident
    /// as it is after.
    async fn act(
        state: State<'_, AppState>,
        id: String,
        action: IncidentAction,
    ) -> Result<IncidentView, CommandError> {
        let id = parse_id(&id)?;
        with_workspace(&state, move |ws| {
            perform(ws, id, action)?;
            let view = ws.incident(id).map_err(command_error)?;
            Ok(IncidentView::new(&view, ws.config().ok().as_deref()))
        })
        .await
    }

    /// Says who sits at this desktop (the same setting as `stopline whoami --set`).
    async fn set_me(state: State<'_, AppState>, person: String) -> Result<(), CommandError> {
        with_workspace(&state, move |ws| {
            ws.set_whoami(Some(&person)).map(drop).map_err(command_error)
        })
        .await
    }

    /// Where the service desk's words lead: an application's id or name, alert labels
    /// (`service=payment-gateway`) through the application mapping, else a customer journey.
    /// `null` when nothing matches.
    async fn desk_route(
        state: State<'_, AppState>,
        query: String,
    ) -> Result<Option<DeskRoute>, CommandError> {
        with_workspace(&state, move |ws| {
            Ok(ws.desk_route(&query).map_err(command_error)?.map(|r| DeskRoute::new(&r)))
        })
        .await
    }

    /// The service desk adds a customer's words (and its reference for them, which may be empty)
    /// to an open incident as a note, as the person at this desktop, instead of opening another.
    async fn desk_report(
        state: State<'_, AppState>,
        incident: String,
        words: String,
        reference: String,
    ) -> Result<IncidentRow, CommandError> {
        let id = parse_id(&incident)?;
        with_workspace(&state, move |ws| {
            ws.add_customer_report(id, &words, Some(&reference), &Actor::SittingHere)
                .map_err(command_error)?;
            let summary = ws.incident(id).map_err(command_error)?.summary;
            Ok(IncidentRow::new(&summary))
        })
        .await
    }

    /// The service desk opens an incident for an application, as the person at this desktop:
    /// the owning team's checklist starts and its on-call person is paged.
    async fn desk_open(
        state: State<'_, AppState>,
        application: String,
        title: String,
    ) -> Result<IncidentRow, CommandError> {
        with_workspace(&state, move |ws| {
            let target = OpenTarget::Application(application);
            let opened = ws
                .open_incident(&target, &title, &Actor::SittingHere)
                .map_err(command_error)?;
            let summary = ws.incident(opened.id).map_err(command_error)?.summary;
            Ok(IncidentRow::new(&summary))
        })
        .await
    }

    /// The alert sources' health, the webhook to post to and its token, and notifications.
    async fn sources(state: State<'_, AppState>) -> Result<SourcesView, CommandError> {
        let mode = state.host.mode();
        with_workspace(&state, move |ws| {
            let sources = ws.sources().map_err(command_error)?;
            let token = ws.webhook_token().map_err(command_error)?;
            let notifications = ws
                .notification_server()
                .map_err(command_error)?
                .unwrap_or_else(|| "unknown: the engine has not started".to_owned());
            let listen = ws.config().ok().map(|c| c.webhook.listen);
            Ok(SourcesView::new(sources, mode, listen, token, notifications))
        })
        .await
    }

    /// Sends a test page through this desktop's notification server; answers what happened.
    async fn test_page(state: State<'_, AppState>) -> Result<String, CommandError> {
        let person = with_workspace(&state, |ws| ws.whoami().map_err(command_error)).await?;
        let person = person.map(|p| p.to_string());
        let (status, shown) = stopline_engine::notify::send_test_page(person.as_deref()).await;
        shown.map_err(|e| CommandError {
            code: ErrorCode::Refused,
            message: e.to_string(),
        })?;
        Ok(status.to_string())
    }

    /// Who is on call on every layer of every rota, now and next, and my next four weeks.
    async fn on_call(state: State<'_, AppState>) -> Result<OnCallOverview, CommandError> {
        with_workspace(&state, on_call_overview).await
    }

    /// Removes an override from a rota in the config, as the person at this desktop; answers
    /// with who is on call after it.
    async fn remove_override(
        state: State<'_, AppState>,
        form: RemoveOverrideForm,
    ) -> Result<OnCallOverview, CommandError> {
        with_workspace(&state, move |ws| {
            let time = |text: &str, name: &str| {
                text.parse::<jiff::Timestamp>().map_err(|e| CommandError {
                    code: ErrorCode::BadInput,
                    message: format!("{name}: {text:?} is not an RFC 3339 time: {e}"),
                })
            };
            let request = RemoveRequest {
                rota: &form.rota,
                layer: &form.layer,
                person: &form.person,
                from: time(&form.from, "from")?,
                to: time(&form.to, "to")?,
            };
            ws.remove_override(request, &Actor::SittingHere)
                .map_err(command_error)?;
            on_call_overview(ws)
        })
        .await
    }

    /// Adds an override to a rota in the config, as the person at this desktop; answers with
    /// who is on call after it.
    async fn add_override(
        state: State<'_, AppState>,
        form: OverrideForm,
    ) -> Result<OnCallOverview, CommandError> {
        with_workspace(&state, move |ws| {
            let request = ApiOverride {
                rota: &form.rota,
                layer: Some(&form.layer),
                person: &form.person,
                from: &form.from,
                to: &form.to,
            };
            ws.add_override(request, &Actor::SittingHere)
                .map_err(command_error)?;
            on_call_overview(ws)
        })
        .await
    }

    /// This desktop's settings: who sits here, how pages show, whether Stopline starts at login.
    async fn settings(state: State<'_, AppState>) -> Result<SettingsView, CommandError> {
        settings_now(&state).await
    }

    /// Changes this desktop's settings; answers with all of them after the change.
    async fn save_settings(
        state: State<'_, AppState>,
        change: SettingsChange,
    ) -> Result<SettingsView, CommandError> {
        let data_dir = state.workspace.data_dir().root().to_owned();
        let autostart = crate::autostart::Autostart::for_this_user(state.app.get());
        with_workspace(&state, move |ws| {
            let notifications = NotificationsChange {
                teammates: change.teammates,
                flood_threshold: change.flood_threshold,
                reset: change.reset_notifications,
            };
            ws.change_notifications(notifications).map_err(command_error)?;
            if let Some(on) = change.start_at_login {
                let executable = std::env::current_exe().map_err(|e| CommandError {
                    code: ErrorCode::Refused,
                    message: format!("cannot tell where this app is installed: {e}"),
                })?;
                // The entry starts the app on this config and data directory, wherever they are.
                let env = [
                    ("STOPLINE_CONFIG", ws.config_path().display().to_string()),
                    ("STOPLINE_DATA_DIR", data_dir.display().to_string()),
                ];
                autostart
                    .set(on, &executable, &env)
                    .map_err(|e| CommandError {
                        code: ErrorCode::Refused,
                        message: e.to_string(),
                    })?;
            }
            Ok(SettingsView::new(ws.settings().map_err(command_error)?, &autostart, hub_view(ws)?))
        })
        .await
    }

    /// Joins the team hub at `form.url` with the person's token (kept in the OS keyring, as
    /// `stopline connect` does): the engine stops, the desktop joins, and the engine starts
    /// again on the replica. Answers the settings after.
    async fn hub_connect(
        state: State<'_, AppState>,
        form: HubConnectForm,
    ) -> Result<SettingsView, CommandError> {
        let ws = Arc::clone(&state.workspace);
        let joined = state
            .host
            .around(ws.connect(
                &form.url,
                &form.token,
                form.insecure_plaintext,
                &stopline_engine::secrets::OsKeyring,
            ))
            .await;
        joined.map_err(command_error)?;
        settings_now(&state).await
    }

    /// Leaves the team hub (as `stopline disconnect`): refused while actions wait for the hub
    /// unless `discard_waiting`. Answers the settings after.
    async fn hub_disconnect(
        state: State<'_, AppState>,
        discard_waiting: bool,
    ) -> Result<SettingsView, CommandError> {
        let ws = Arc::clone(&state.workspace);
        let left = state
            .host
            .around(async move {
                ws.disconnect(discard_waiting, &stopline_engine::secrets::OsKeyring)
            })
            .await;
        left.map_err(command_error)?;
        settings_now(&state).await
    }

    /// Opens a web link of an alert or a runbook in the person's browser: the app's own window
    /// never navigates away from Stopline. Only http and https links are opened.
    async fn open_link(_state: State<'_, AppState>, url: String) -> Result<(), CommandError> {
        crate::links::open_in_browser(&url)
    }

    /// Alerts no application claimed: the service desk's queue.
    async fn unrouted(state: State<'_, AppState>) -> Result<UnroutedView, CommandError> {
        with_workspace(&state, move |ws| {
            Ok(UnroutedView::new(ws.unrouted().map_err(command_error)?))
        })
        .await
    }

    /// Gives an unrouted alert to an application as the person at this desktop (as `stopline
    /// assign` does): a firing alert opens or joins an incident for its team, which is paged.
    async fn assign_alert(
        state: State<'_, AppState>,
        form: AssignForm,
    ) -> Result<AssignedView, CommandError> {
        with_workspace(&state, move |ws| {
            // Saving routes by the routing label the alert has (service, app, application, job).
            let save_by: Option<&[String]> = form.save.then_some(&[]);
            let assigned = ws
                .assign_alert(
                    &form.fingerprint,
                    Some(&form.source),
                    &form.application,
                    save_by,
                    &Actor::SittingHere,
                )
                .map_err(command_error)?;
            Ok(AssignedView {
                incident: assigned.incident.map(|i| i.to_string()),
                saved_route: assigned.saved_route,
                also_routed: u32::try_from(assigned.also_routed).unwrap_or(u32::MAX),
            })
        })
        .await
    }

    /// The operability report over `[from, to)` (RFC 3339; by default the four weeks to now)
    /// for every team, or one (an empty team is all).
    async fn report(
        state: State<'_, AppState>,
        from: Option<String>,
        to: Option<String>,
        team: Option<String>,
    ) -> Result<ReportView, CommandError> {
        with_workspace(&state, move |ws| {
            let view = build_report(ws, from.as_deref(), to.as_deref(), team.as_deref())?;
            Ok(ReportView::new(&view.report, &view.config))
        })
        .await
    }

    /// Writes the report as files (Markdown, or CSV one file per table) into the person's
    /// documents folder (`Stopline reports`, else the data directory's `reports`); answers
    /// where.
    async fn export_report(
        state: State<'_, AppState>,
        from: Option<String>,
        to: Option<String>,
        team: Option<String>,
        format: ExportFormatText,
    ) -> Result<ExportedView, CommandError> {
        with_workspace(&state, move |ws| {
            let view = build_report(ws, from.as_deref(), to.as_deref(), team.as_deref())?;
            let folder = ws.export_dir();
            let format = match format {
                ExportFormatText::Markdown => ExportFormat::Markdown,
                ExportFormatText::Csv => ExportFormat::Csv,
            };
            let files = view.export(&folder, format).map_err(command_error)?;
            Ok(ExportedView {
                folder: folder.display().to_string(),
                files: files.iter().map(|f| f.display().to_string()).collect(),
            })
        })
        .await
    }

    /// One table of the report as CSV (the payroll table), to copy.
    async fn report_csv(
        state: State<'_, AppState>,
        from: Option<String>,
        to: Option<String>,
        team: Option<String>,
    ) -> Result<String, CommandError> {
        with_workspace(&state, move |ws| {
            let view = build_report(ws, from.as_deref(), to.as_deref(), team.as_deref())?;
            Ok(view.csv(stopline_engine::api::CsvTable::People))
        })
        .await
    }
}

/// Carries out one of the incident panel's actions as the person at this desktop.
/// Why an incident cannot be resolved yet, in the window's words: the open steps by their titles
/// and what to do here (the engine's message names step ids, and the command line adds its
/// flags).
fn open_steps_refusal(id: IncidentId, open: &[String], checklist: &[ChecklistStep]) -> String {
    let titles: Vec<String> = open
        .iter()
        .map(|step| {
            let title = checklist
                .iter()
                .find(|s| s.step.as_str() == step)
                .map_or(step.as_str(), |s| s.title.as_str());
            format!("“{title}”")
        })
        .collect();
    let (steps, them) = if titles.len() == 1 {
        ("step", "it")
    } else {
        ("steps", "them")
    };
    format!(
        "{id} still has required {steps} open: {}. Finish or skip {them} in its checklist, or resolve anyway (recorded on the timeline).",
        titles.join(", ")
    )
}

fn perform(ws: &Workspace, id: IncidentId, action: IncidentAction) -> Result<(), CommandError> {
    let me = Actor::SittingHere;
    let done = match action {
        IncidentAction::Acknowledge => ws.acknowledge(id, &me).map(drop),
        IncidentAction::Resolve { force } => match ws.resolve(id, &me, force) {
            Err(EngineError::Store(StoreError::Swarm(SwarmError::OpenSteps { steps, .. }))) => {
                let checklist = ws.incident(id).map_err(command_error)?.checklist;
                return Err(CommandError {
                    code: ErrorCode::Refused,
                    message: open_steps_refusal(id, &steps, &checklist),
                });
            }
            other => other.map(drop),
        },
        IncidentAction::Step {
            step,
            state,
            reason,
        } => {
            let state = match state {
                StepStateText::Todo => StepState::Todo,
                StepStateText::Doing => StepState::Doing,
                StepStateText::Done => StepState::Done,
                StepStateText::Skipped => StepState::Skipped,
            };
            let request = StepRequest {
                step: &step,
                state: Some(state),
                reason: reason.as_deref(),
                assignee: None,
            };
            ws.change_step(id, request, &me).map(drop)
        }
        IncidentAction::Note { text } => ws.note(id, &text, &me).map(drop),
        IncidentAction::Assign { step, person } => {
            let request = StepRequest {
                step: &step,
                state: None,
                reason: None,
                assignee: Some(&person),
            };
            ws.change_step(id, request, &me).map(drop)
        }
        IncidentAction::Role {
            role,
            person,
            handover,
        } => {
            let role = match role {
                LeadRoleText::Commander => Role::Commander,
                LeadRoleText::Comms => Role::Comms,
                LeadRoleText::Scribe => Role::Scribe,
            };
            let request = RoleRequest {
                role,
                person: &person,
                handover,
            };
            ws.name_role(id, request, &me).map(drop)
        }
        IncidentAction::Join => ws.join(id, &me).map(drop),
        IncidentAction::Leave => ws.leave(id, &me).map(drop),
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
                Some(_) => return Err(command_error(EngineError::BadLoss)),
                None => None,
            };
            let request = SeverityRequest {
                severity,
                reason: &reason,
                loss,
            };
            ws.set_severity(id, request, &me).map(drop)
        }
    };
    done.map_err(command_error)
}

/// The report the window asked for: its period as RFC 3339 (or a wall-clock time in the
/// workspace's zone), and a team (an empty one is every team).
fn build_report(
    ws: &Workspace,
    from: Option<&str>,
    to: Option<&str>,
    team: Option<&str>,
) -> Result<stopline_engine::api::ReportView, CommandError> {
    let from = from.map(|text| TimeArg { name: "from", text });
    let to = to.map(|text| TimeArg { name: "to", text });
    let team = team.filter(|t| !t.is_empty());
    ws.report(from, to, team).map_err(command_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, title: &str) -> ChecklistStep {
        ChecklistStep {
            step: stopline_core::ids::StepId::new(id).unwrap(),
            title: title.to_owned(),
            required: true,
            runbook: None,
            state: StepState::Todo,
            assignee: None,
            reason: None,
            changed_by: None,
            changed_at: None,
        }
    }

    #[test]
    fn a_refused_resolve_names_the_open_steps_by_title_and_the_windows_way_on() {
        let checklist = [
            step("assemble-swarm", "Assemble the swarm"),
            step("restore", "Restore availability"),
        ];
        let open = ["assemble-swarm".to_owned(), "restore".to_owned()];
        let message = open_steps_refusal(IncidentId(1), &open, &checklist);
        assert_eq!(
            message,
            "INC-1 still has required steps open: “Assemble the swarm”, “Restore availability”. \
             Finish or skip them in its checklist, or resolve anyway (recorded on the timeline)."
        );
        assert!(!message.contains("stopline") && !message.contains("--force"));
        let one = open_steps_refusal(IncidentId(1), &open[1..], &checklist);
        assert!(one.contains("required step open: “Restore availability”. Finish or skip it"));
    }
}

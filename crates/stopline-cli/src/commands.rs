//! One function per subcommand: unpack, call the engine or store, print.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use stopline_core::alert::Labels;
use stopline_core::clock::{Clock, SystemClock};
use stopline_core::config::{Config, DEMO_CONFIG, EXAMPLE_CONFIG};
use stopline_core::incident::{IncidentId, IncidentState, Transition};
use stopline_core::mapping::Route;
use stopline_core::money::group_thousands;
use stopline_core::target::format_duration;
use stopline_engine::desk::{self, OpenTarget};
use stopline_engine::files::{self, DataDir};
use stopline_engine::{EngineError, Result as EngineResult};
use stopline_store::{AlertFilter, EscalationStatus, IncidentFilter, Store};

use crate::args::{
    ActorArgs, Cli, Command, IncidentCommand, OpenArgs, RouteArgs, SecretCommand, StateFilter,
};
use crate::output::emit;
use crate::output::{
    AlertJson, ApplicationJson, CheckJson, EscalationJson, IncidentDetailJson, IncidentJson,
    NamedJson, PageJson, ProblemJson, RoleJson, RouteJson, SilenceJson, StepJson, TeamJson,
    TimelineEventJson, age, local_time, print_json, print_table,
};
use crate::{Failure, engine, oncall, swarm};

type Result<T = ()> = std::result::Result<T, Failure>;

/// What every command may need, resolved once from the global flags.
pub struct Context {
    pub config_path: PathBuf,
    pub data_dir: DataDir,
    pub json: bool,
    pub clock: SystemClock,
}

impl Context {
    pub fn config(&self) -> EngineResult<Config> {
        files::load_config(&self.config_path)
    }

    pub fn store(&self) -> EngineResult<Store> {
        self.data_dir.open_store()
    }

    /// The workspace's zone for showing times; UTC (with a warning) when the config cannot be
    /// read, so incidents can always be listed even while the config is broken.
    pub fn display_zone(&self) -> TimeZone {
        match self.config() {
            Ok(config) => config.workspace.time_zone,
            Err(EngineError::ConfigMissing { .. }) => TimeZone::UTC,
            Err(e) => {
                eprintln!(
                    "stopline: warning: times are shown in UTC: {}",
                    first_line(&e.to_string())
                );
                TimeZone::UTC
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

pub fn run(cli: Cli) -> Result {
    let config_path = match cli.config {
        Some(path) => path,
        None => files::default_config_path().ok_or_else(|| {
            Failure::usage("cannot find a config directory: pass --config or set STOPLINE_CONFIG")
        })?,
    };
    let data_dir = match cli.data_dir {
        Some(path) => path,
        None => files::default_data_dir().ok_or_else(|| {
            Failure::usage("cannot find a data directory: pass --data-dir or set STOPLINE_DATA_DIR")
        })?,
    };
    let cx = Context {
        config_path,
        data_dir: DataDir::new(data_dir),
        json: cli.json,
        clock: SystemClock,
    };
    match cli.command {
        Command::Init { demo, force } => init(&cx, demo, force),
        Command::Check => check(&cx),
        Command::Teams => teams(&cx),
        Command::Apps => apps(&cx),
        Command::Route(args) => route(&cx, args),
        Command::Open(args) => open(&cx, args),
        Command::Incidents { state } => incidents(&cx, state),
        Command::Incident {
            command: IncidentCommand::Show { id },
        } => show(&cx, &id),
        Command::Ack(args) => change_state(&cx, args, Transition::Acknowledge, false),
        Command::Resolve { actor, force } => change_state(&cx, actor, Transition::Resolve, force),
        Command::Note { id, text, who } => note(&cx, &id, &text, &who),
        Command::Alerts => alerts(&cx),
        Command::Unrouted => swarm::unrouted(&cx),
        Command::Assign {
            fingerprint,
            app,
            source,
            save,
            by,
            who,
        } => swarm::assign(
            &cx,
            &fingerprint,
            &app,
            source.as_deref(),
            save.then_some(&by[..]),
            &who,
        ),
        Command::Serve(args) => engine::serve(&cx, args),
        Command::Token => engine::token(&cx),
        Command::Backup { file } => engine::backup(&cx, file.as_deref()),
        Command::Restore { file } => engine::restore(&cx, &file),
        Command::Sync {
            once: _,
            alertmanagers,
        } => engine::sync_once(&cx, &alertmanagers),
        Command::Sources => engine::sources(&cx),
        Command::Whoami { set, clear } => oncall::whoami(&cx, set.as_deref(), clear),
        Command::Oncall { team, at } => oncall::oncall(&cx, team.as_deref(), at.as_deref()),
        Command::Shifts { person, from, to } => oncall::shifts(&cx, &person, &from, &to),
        Command::Override {
            rota,
            layer,
            person,
            from,
            to,
            who,
        } => oncall::add_override(&cx, &rota, layer.as_deref(), &person, (&from, &to), &who),
        Command::Notifications {
            teammates,
            flood_threshold,
            reset,
        } => oncall::notifications(&cx, teammates, flood_threshold, reset),
        Command::NotifyTest => oncall::notify_test(&cx),
        Command::Checklist { id } => swarm::checklist(&cx, &parse_id(&id)?),
        Command::Step {
            id,
            step,
            state,
            reason,
            assign,
            who,
        } => swarm::step(
            &cx,
            parse_id(&id)?,
            &step,
            state,
            reason.as_deref(),
            assign.as_deref(),
            &who,
        ),
        Command::Role {
            id,
            role,
            person,
            handover,
            who,
        } => swarm::role(&cx, parse_id(&id)?, role, &person, handover, &who),
        Command::Join(args) => swarm::join(&cx, parse_id(&args.id)?, &args.who, true),
        Command::Leave(args) => swarm::join(&cx, parse_id(&args.id)?, &args.who, false),
        Command::Severity {
            id,
            severity,
            reason,
            loss,
            who,
        } => swarm::severity(&cx, parse_id(&id)?, severity, (&reason, loss), &who),
        Command::Line { team } => swarm::line(&cx, team.as_deref()),
        Command::Report {
            from,
            to,
            team,
            format,
            table,
            out,
        } => swarm::report(
            &cx,
            (from.as_deref(), to.as_deref()),
            team.as_deref(),
            (format, table),
            out.as_deref(),
        ),
        Command::Review { id, format: _, out } => {
            swarm::review(&cx, parse_id(&id)?, out.as_deref())
        }
        Command::Status => oncall::status(&cx),
        Command::Secret {
            command: SecretCommand::Set { name },
        } => engine::secret_set(&name),
        Command::Secret {
            command: SecretCommand::Delete { name },
        } => engine::secret_delete(&name),
    }
}

fn init(cx: &Context, demo: bool, force: bool) -> Result {
    let text = if demo { DEMO_CONFIG } else { EXAMPLE_CONFIG };
    files::write_config(&cx.config_path, text, force)?;
    let what = if demo {
        "the demo workspace"
    } else {
        "an example config"
    };
    if cx.json {
        print_json(&serde_json::json!({ "written": cx.config_path, "demo": demo }));
    } else {
        out!("Wrote {what} to {}", cx.config_path.display());
        out!("Next: edit it, then run `stopline check`.");
    }
    Ok(())
}

fn check(cx: &Context) -> Result {
    let file = cx.config_path.display().to_string();
    match cx.config() {
        Ok(config) => {
            if cx.json {
                print_json(&CheckJson {
                    ok: true,
                    file,
                    people: config.people.len(),
                    teams: config.teams.len(),
                    applications: config.applications.len(),
                    problems: Vec::new(),
                });
            } else {
                out!(
                    "{file}: ok ({} people, {} teams, {} applications)",
                    config.people.len(),
                    config.teams.len(),
                    config.applications.len()
                );
            }
            Ok(())
        }
        Err(EngineError::ConfigInvalid(error)) => {
            if cx.json {
                print_json(&CheckJson {
                    ok: false,
                    file,
                    people: 0,
                    teams: 0,
                    applications: 0,
                    problems: error.problems.iter().map(ProblemJson::from).collect(),
                });
            }
            Err(EngineError::ConfigInvalid(error).into())
        }
        Err(other) => Err(other.into()),
    }
}

fn teams(cx: &Context) -> Result {
    let config = cx.config()?;
    if cx.json {
        let teams: Vec<TeamJson> = config
            .teams
            .iter()
            .map(|t| TeamJson::new(&config, t))
            .collect();
        print_json(&teams);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = config
        .teams
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.name.clone(),
                t.kind.as_str().replace('_', " "),
                t.members.len().to_string(),
                config.applications_of(&t.id).count().to_string(),
            ]
        })
        .collect();
    print_table(&["TEAM", "NAME", "KIND", "PEOPLE", "APPS"], &rows);
    Ok(())
}

fn apps(cx: &Context) -> Result {
    let config = cx.config()?;
    if cx.json {
        let apps: Vec<ApplicationJson> = config
            .applications
            .iter()
            .map(|a| ApplicationJson::new(&config, a))
            .collect();
        print_json(&apps);
        return Ok(());
    }
    let currency = &config.workspace.currency;
    let rows: Vec<Vec<String>> = config
        .applications
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.name.clone(),
                a.team.to_string(),
                a.target.to_string(),
                format_duration(a.target.tolerable_unavailability_per_week()),
                format!("{currency} {}", group_thousands(a.exposure_per_hour.0)),
            ]
        })
        .collect();
    print_table(
        &["APP", "NAME", "TEAM", "TARGET", "DOWN/WEEK", "EXPOSURE/H"],
        &rows,
    );
    Ok(())
}

/// `k=v,k=v` → labels; names the offending pair on error.
fn parse_labels(text: &str) -> Result<Labels> {
    let mut labels = Labels::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "--labels: {pair:?} is not key=value (expected for example service=checkout-api,env=prod)"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(Failure::usage(format!(
                "--labels: {pair:?} has an empty label name"
            )));
        }
        labels.insert(key.to_owned(), value.trim().to_owned());
    }
    if labels.is_empty() {
        return Err(Failure::usage("--labels: give at least one key=value"));
    }
    Ok(labels)
}

fn route(cx: &Context, args: RouteArgs) -> Result {
    let config = cx.config()?;
    let mapping = config.mapping();
    let route = match (&args.labels, &args.journey) {
        (Some(labels), _) => mapping.route_labels(&parse_labels(labels)?),
        (None, Some(journey)) => mapping.route_journey(journey),
        (None, None) => unreachable!("clap requires --labels or --journey"),
    };
    let team = route.application().and_then(|a| config.team(&a.team));
    if cx.json {
        print_json(&RouteJson {
            route: match route {
                Route::Routed(_) => "routed",
                Route::Unrouted => "unrouted",
            },
            application: route.application().map(|a| NamedJson {
                id: a.id.to_string(),
                name: a.name.clone(),
            }),
            team: team.map(|t| NamedJson {
                id: t.id.to_string(),
                name: t.name.clone(),
            }),
        });
        return Ok(());
    }
    match (route.application(), team) {
        (Some(app), Some(team)) => out!(
            "{} ({}) → team {} ({})",
            app.id,
            app.name,
            team.id,
            team.name
        ),
        _ => out!("unrouted: no application matches; it goes to the service desk's unrouted queue"),
    }
    Ok(())
}

fn open(cx: &Context, args: OpenArgs) -> Result {
    let config = cx.config()?;
    let target = match (args.target.app, args.target.journey, args.target.labels) {
        (Some(app), _, _) => OpenTarget::Application(app),
        (None, Some(journey), _) => OpenTarget::Journey(journey),
        (None, None, Some(labels)) => OpenTarget::Labels(parse_labels(&labels)?),
        (None, None, None) => unreachable!("clap requires one of --app, --journey, --labels"),
    };
    let mut store = cx.store()?;
    let incident = desk::open_incident(
        &mut store,
        &config,
        &target,
        &args.title,
        &args.who,
        cx.clock.now(),
    )?;
    if cx.json {
        print_json(&IncidentJson::from(&incident));
    } else {
        let app = incident.application.as_ref().map_or("-", |a| a.as_str());
        let team = incident.team.as_ref().map_or("-", |t| t.as_str());
        out!(
            "Opened {} ({}) for {app}, team {team}: {}",
            incident.id,
            incident.severity.as_str(),
            incident.title
        );
    }
    Ok(())
}

fn incidents(cx: &Context, state: StateFilter) -> Result {
    let filter = match state {
        StateFilter::Open => IncidentFilter::Open,
        StateFilter::Triggered => IncidentFilter::State(IncidentState::Triggered),
        StateFilter::Acknowledged => IncidentFilter::State(IncidentState::Acknowledged),
        StateFilter::Resolved => IncidentFilter::State(IncidentState::Resolved),
        StateFilter::All => IncidentFilter::All,
    };
    let store = cx.store()?;
    let list = store.incidents(filter)?;
    if cx.json {
        let list: Vec<IncidentJson> = list.iter().map(IncidentJson::from).collect();
        print_json(&list);
        return Ok(());
    }
    if list.is_empty() {
        out!("No incidents.");
        return Ok(());
    }
    let now = cx.clock.now();
    let zone = cx.display_zone();
    // Where paging stands, for incidents still paging: a deferred one waits visibly.
    let paging = |id| -> Result<String> {
        Ok(match store.escalation(id)? {
            Some(e) if e.status == EscalationStatus::Deferred => {
                format!("deferred to {}", local_time(e.due_at, &zone))
            }
            Some(e) if e.status == EscalationStatus::Due => {
                format!("next {}", local_time(e.due_at, &zone))
            }
            Some(e) if e.status == EscalationStatus::Exhausted => "exhausted".to_owned(),
            _ => "-".to_owned(),
        })
    };
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|i| {
            Ok(vec![
                i.id.to_string(),
                i.state.as_str().to_owned(),
                i.severity.as_str().to_owned(),
                i.team.as_ref().map_or("-".into(), ToString::to_string),
                i.application
                    .as_ref()
                    .map_or("-".into(), ToString::to_string),
                local_time(i.opened_at, &zone),
                age(i.opened_at, now),
                paging(i.id)?,
                i.title.clone(),
            ])
        })
        .collect::<Result<_>>()?;
    print_table(
        &[
            "ID", "STATE", "SEVERITY", "TEAM", "APP", "OPENED", "AGE", "PAGING", "TITLE",
        ],
        &rows,
    );
    Ok(())
}

pub(crate) fn parse_id(text: &str) -> Result<IncidentId> {
    text.parse::<IncidentId>()
        .map_err(|e| Failure::usage(e.to_string()))
}

fn show(cx: &Context, id: &str) -> Result {
    let id = parse_id(id)?;
    let store = cx.store()?;
    let detail = store.incident(id)?;
    let escalation = store.escalation(id)?;
    let pages = store.pages(id)?;
    let checklist = store.checklist(id)?;
    if cx.json {
        print_json(&IncidentDetailJson {
            incident: IncidentJson::from(&detail.incident),
            timeline: detail
                .timeline
                .iter()
                .map(TimelineEventJson::from)
                .collect(),
            escalation: escalation.as_ref().map(EscalationJson::from),
            pages: pages.iter().map(PageJson::from).collect(),
            checklist: checklist.iter().map(StepJson::from).collect(),
            roles: store.roles(id)?.iter().map(RoleJson::from).collect(),
            severity_reason: store.severity_reason(id)?,
            silences: store.silences(id)?.iter().map(SilenceJson::from).collect(),
            outbox_waiting: store.outbox_waiting_for(id)?,
        });
        return Ok(());
    }
    let zone = cx.display_zone();
    let i = &detail.incident;
    out!("{}  {}", i.id, i.title);
    out!(
        "state {}  severity {}  team {}  application {}",
        i.state.as_str(),
        i.severity.as_str(),
        i.team.as_ref().map_or("-", |t| t.as_str()),
        i.application.as_ref().map_or("-", |a| a.as_str()),
    );
    if let Some(e) = &escalation {
        let when = match e.status {
            EscalationStatus::Due | EscalationStatus::Deferred => {
                format!(", next page {}", local_time(e.due_at, &zone))
            }
            EscalationStatus::Stopped | EscalationStatus::Exhausted => String::new(),
        };
        let note = if e.note.is_empty() {
            String::new()
        } else {
            format!(" ({})", e.note)
        };
        out!("paging {}{when}{note}", e.status.as_str());
    }
    if !checklist.is_empty() {
        let closed = checklist.iter().filter(|s| s.state.is_closed()).count();
        let open_required: Vec<&str> = checklist
            .iter()
            .filter(|s| s.required && !s.state.is_closed())
            .map(|s| s.step.as_str())
            .collect();
        out!(
            "checklist {closed}/{} done or skipped{}",
            checklist.len(),
            if open_required.is_empty() {
                String::new()
            } else {
                format!("; required still open: {}", open_required.join(", "))
            }
        );
    }
    emit("");
    let rows: Vec<Vec<String>> = detail
        .timeline
        .iter()
        .map(|e| {
            vec![
                local_time(e.at, &zone),
                e.who
                    .as_ref()
                    .map_or("stopline".into(), ToString::to_string),
                e.kind.as_str().to_owned(),
                e.detail.clone(),
            ]
        })
        .collect();
    print_table(&["WHEN", "WHO", "WHAT", "DETAIL"], &rows);
    Ok(())
}

fn change_state(cx: &Context, args: ActorArgs, transition: Transition, force: bool) -> Result {
    let id = parse_id(&args.id)?;
    let config = cx.config()?;
    let mut store = cx.store()?;
    let incident = desk::transition(
        &mut store,
        &config,
        id,
        transition,
        &args.who,
        force,
        cx.clock.now(),
    )?;
    if cx.json {
        print_json(&IncidentJson::from(&incident));
    } else {
        out!(
            "{} is {}: {}",
            incident.id,
            incident.state.as_str(),
            incident.title
        );
    }
    Ok(())
}

fn note(cx: &Context, id: &str, text: &str, who: &str) -> Result {
    let id = parse_id(id)?;
    let config = cx.config()?;
    let mut store = cx.store()?;
    let event = desk::add_note(&mut store, &config, id, text, who, cx.clock.now())?;
    if cx.json {
        print_json(&TimelineEventJson::from(&event));
    } else {
        out!("Noted on {id}.");
    }
    Ok(())
}

fn alerts(cx: &Context) -> Result {
    let alerts = cx.store()?.alerts(AlertFilter::All)?;
    if cx.json {
        let list: Vec<AlertJson<'_>> = alerts.iter().map(AlertJson::from).collect();
        print_json(&list);
        return Ok(());
    }
    if alerts.is_empty() {
        out!("No alerts yet. Alert sources arrive with `stopline serve`.");
        return Ok(());
    }
    let zone = cx.display_zone();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|stored| {
            let a = &stored.alert;
            let name = a.labels.get("alertname").cloned().unwrap_or_default();
            let state = if a.muted {
                format!("{} (muted)", a.state.as_str())
            } else {
                a.state.as_str().to_owned()
            };
            vec![
                a.source.clone(),
                a.fingerprint.to_string(),
                state,
                name,
                stored
                    .application
                    .as_ref()
                    .map_or("unrouted".into(), ToString::to_string),
                stored.incident.map_or("-".into(), |i| i.to_string()),
                local_time(a.last_seen, &zone),
            ]
        })
        .collect();
    print_table(
        &[
            "SOURCE",
            "FINGERPRINT",
            "STATE",
            "ALERT",
            "APP",
            "INCIDENT",
            "LAST SEEN",
        ],
        &rows,
    );
    Ok(())
}

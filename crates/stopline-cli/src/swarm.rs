//! The swarm's subcommands: `checklist`, `step`, `role`, `join`/`leave`, `severity` and `line`.

use stopline_core::clock::Clock;
use stopline_core::incident::{IncidentId, Severity};
use stopline_core::swarm::{Role, StepState};
use stopline_core::target::format_duration;
use stopline_engine::EngineError;
use stopline_engine::swarm as engine;

use crate::Failure;
use crate::args::{LeadRole, ReportFormat, ReportTable, SeverityArg, StepStateArg};
use crate::commands::Context;
use crate::output::{IncidentJson, RoleJson, StepJson, local_time, print_json, print_table};

type Result<T = ()> = std::result::Result<T, Failure>;

pub fn checklist(cx: &Context, id: &IncidentId) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let steps = engine::checklist(&mut store, &config, *id, cx.clock.now())?;
    if cx.json {
        print_json(&steps.iter().map(StepJson::from).collect::<Vec<_>>());
        return Ok(());
    }
    if steps.is_empty() {
        out!("{id}'s checklist starts when it is acknowledged.");
        return Ok(());
    }
    let zone = &config.workspace.time_zone;
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|s| {
            vec![
                s.step.to_string(),
                match &s.reason {
                    Some(reason) => format!("{} ({reason})", s.state.as_str()),
                    None => s.state.as_str().to_owned(),
                },
                if s.required { "yes" } else { "" }.to_owned(),
                s.assignee
                    .as_ref()
                    .map_or(String::new(), ToString::to_string),
                match (&s.changed_by, s.changed_at) {
                    (Some(who), Some(at)) => format!("{who} {}", local_time(at, zone)),
                    _ => String::new(),
                },
                match &s.runbook {
                    Some(url) => format!("{} <{url}>", s.title),
                    None => s.title.clone(),
                },
            ]
        })
        .collect();
    print_table(
        &["STEP", "STATE", "REQUIRED", "ASSIGNEE", "CHANGED", "WHAT"],
        &rows,
    );
    Ok(())
}

pub fn step(
    cx: &Context,
    id: IncidentId,
    step: &str,
    state: Option<StepStateArg>,
    reason: Option<&str>,
    assign: Option<&str>,
    who: &str,
) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let state = state.map(|s| match s {
        StepStateArg::Todo => StepState::Todo,
        StepStateArg::Doing => StepState::Doing,
        StepStateArg::Done => StepState::Done,
        StepStateArg::Skip => StepState::Skipped,
    });
    let request = engine::StepRequest {
        step,
        state,
        reason,
        assignee: assign,
    };
    let changed = engine::change_step(&mut store, &config, id, request, who, cx.clock.now())?;
    if cx.json {
        print_json(&StepJson::from(&changed));
    } else {
        out!("{id} {}: {}", changed.step, changed.state.as_str());
    }
    Ok(())
}

pub fn role(
    cx: &Context,
    id: IncidentId,
    role: LeadRole,
    person: &str,
    handover: bool,
    who: &str,
) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let role = match role {
        LeadRole::Commander => Role::Commander,
        LeadRole::Comms => Role::Comms,
        LeadRole::Scribe => Role::Scribe,
    };
    let request = engine::RoleRequest {
        role,
        person,
        handover,
    };
    engine::name_role(&mut store, &config, id, request, who, cx.clock.now())?;
    report_roles(cx, &store, id)
}

/// `join` (`joining`) or `leave`.
pub fn join(cx: &Context, id: IncidentId, who: &str, joining: bool) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let now = cx.clock.now();
    if joining {
        engine::join(&mut store, &config, id, who, now)?;
    } else {
        engine::leave(&mut store, &config, id, who, now)?;
    }
    report_roles(cx, &store, id)
}

/// Who holds which role now.
fn report_roles(cx: &Context, store: &stopline_store::Store, id: IncidentId) -> Result {
    let now_holding: Vec<_> = store
        .roles(id)?
        .into_iter()
        .filter(|r| r.until.is_none())
        .collect();
    if cx.json {
        let list: Vec<RoleJson> = now_holding.iter().map(RoleJson::from).collect();
        print_json(&serde_json::json!({ "incident": id, "roles": list }));
    } else {
        for r in &now_holding {
            out!("{id} {}: {}", r.role.title(), r.person);
        }
    }
    Ok(())
}

pub fn severity(
    cx: &Context,
    id: IncidentId,
    severity: SeverityArg,
    (reason, loss): (&str, Option<u64>),
    who: &str,
) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let severity = match severity {
        SeverityArg::Major => Severity::Major,
        SeverityArg::Minor => Severity::Minor,
    };
    let request = engine::SeverityRequest {
        severity,
        reason,
        loss,
    };
    let incident =
        engine::override_severity(&mut store, &config, id, request, who, cx.clock.now())?;
    if cx.json {
        print_json(&IncidentJson::from(&incident));
    } else {
        out!(
            "{} is {}: {reason}",
            incident.id,
            incident.severity.as_str()
        );
    }
    Ok(())
}

pub fn line(cx: &Context, team: Option<&str>) -> Result {
    let config = cx.config()?;
    let store = cx.store()?;
    let now = cx.clock.now();
    let lines = match team {
        Some(team) => vec![
            engine::line(&store, &config, team, now).map_err(|e| match e {
                EngineError::UnknownTeam(_) => Failure::usage(format!("--team: {e}")),
                other => other.into(),
            })?,
        ],
        None => engine::lines(&store, &config, now)?,
    };
    if cx.json {
        match team {
            Some(_) => print_json(&lines[0]),
            None => print_json(&lines),
        }
        return Ok(());
    }
    let zone = &config.workspace.time_zone;
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.team.clone(),
                l.state.to_owned(),
                l.since.map_or(String::new(), |s| local_time(s, zone)),
                l.incidents
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                format_duration(jiff::SignedDuration::from_secs(l.stopped_seconds)),
            ]
        })
        .collect();
    print_table(
        &["TEAM", "LINE", "SINCE", "HELD BY", "STOPPED IN ALL"],
        &rows,
    );
    Ok(())
}

/// The review as Markdown, on standard output or into `out` (written whole, or not at all).
pub fn review(cx: &Context, id: IncidentId, out: Option<&std::path::Path>) -> Result {
    let config = cx.config()?;
    let store = cx.store()?;
    let text = stopline_engine::review::markdown(&store, &config, id, cx.clock.now())?;
    match out {
        None => print_document(&text),
        Some(path) => {
            write_document(path, &text)?;
            if cx.json {
                print_json(&serde_json::json!({ "incident": id, "written": path }));
            } else {
                out!("Wrote the review of {id} to {}", path.display());
            }
        }
    }
    Ok(())
}

/// A document (a review, a report) on standard output.
fn print_document(text: &str) {
    for line in text.lines() {
        out!("{line}");
    }
}

/// A document written to `--out`, atomically: a reader never sees half of it.
fn write_document(path: &std::path::Path, text: &str) -> Result {
    stopline_engine::files::write_atomically(path, text.as_bytes()).map_err(|e| Failure {
        status: 1,
        message: format!("--out: {e}"),
    })
}

/// `stopline report`: the operability report as Markdown, JSON or one CSV table.
pub fn report(
    cx: &Context,
    (from, to): (Option<&str>, Option<&str>),
    team: Option<&str>,
    (format, table): (ReportFormat, ReportTable),
    out: Option<&std::path::Path>,
) -> Result {
    use stopline_engine::report::{self, CsvTable};
    let config = cx.config()?;
    let store = cx.store()?;
    let to = match to {
        Some(text) => crate::oncall::parse_time(&config, "--to", text)?,
        None => cx.clock.now(),
    };
    let from = match from {
        Some(text) => crate::oncall::parse_time(&config, "--from", text)?,
        None => to - jiff::SignedDuration::from_hours(28 * 24),
    };
    let team = team
        .map(|t| {
            stopline_engine::lookup::team(&config, t)
                .map(|t| t.id.clone())
                .map_err(|_| {
                    Failure::usage(format!(
                        "--team: unknown team {t:?}: expected one of {}",
                        config
                            .teams
                            .iter()
                            .map(|t| t.id.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .transpose()?;
    let built = report::build(&store, &config, from, to, team.as_ref().map(|t| t.as_str()))?;
    let format = if cx.json { ReportFormat::Json } else { format };
    let text = match format {
        ReportFormat::Json => serde_json::to_string_pretty(&built).unwrap_or_default() + "\n",
        ReportFormat::Markdown => report::markdown(&built, &config, team.as_ref()),
        ReportFormat::Csv => report::csv(
            &built,
            match table {
                ReportTable::People => CsvTable::People,
                ReportTable::Costs => CsvTable::Costs,
                ReportTable::Availability => CsvTable::Availability,
                ReportTable::Times => CsvTable::Times,
                ReportTable::Incidents => CsvTable::Incidents,
            },
        ),
    };
    match out {
        None => print_document(&text),
        Some(path) => {
            write_document(path, &text)?;
            eprintln!("Wrote the report to {}", path.display());
        }
    }
    Ok(())
}

/// The service desk's queue: alerts no application claimed, newest first.
pub fn unrouted(cx: &Context) -> Result {
    let store = cx.store()?;
    let mut alerts = store.alerts(stopline_store::AlertFilter::Unrouted)?;
    alerts.sort_by_key(|a| std::cmp::Reverse(a.alert.last_seen));
    if cx.json {
        let list: Vec<crate::output::AlertJson<'_>> =
            alerts.iter().map(crate::output::AlertJson::from).collect();
        print_json(&list);
        return Ok(());
    }
    if alerts.is_empty() {
        out!("No unrouted alerts: every alert found its application.");
        return Ok(());
    }
    let zone = cx.display_zone();
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|stored| {
            let a = &stored.alert;
            let labels: Vec<String> = a
                .labels
                .iter()
                .filter(|(k, _)| k.as_str() != "alertname")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            vec![
                a.fingerprint.to_string(),
                a.source.clone(),
                a.state.as_str().to_owned(),
                a.labels.get("alertname").cloned().unwrap_or_default(),
                labels.join(","),
                local_time(a.last_seen, &zone),
            ]
        })
        .collect();
    print_table(
        &[
            "FINGERPRINT",
            "SOURCE",
            "STATE",
            "ALERT",
            "LABELS",
            "LAST SEEN",
        ],
        &rows,
    );
    out!("");
    out!("Route one: stopline assign FINGERPRINT --app APP --as YOU [--save]");
    Ok(())
}

pub fn assign(
    cx: &Context,
    fingerprint: &str,
    app: &str,
    source: Option<&str>,
    save_by: Option<&[String]>,
    who: &str,
) -> Result {
    let config = cx.config()?;
    let mut store = cx.store()?;
    let alert = stopline_engine::triage::unrouted_alert(&store, fingerprint, source)?;
    let request = stopline_engine::triage::AssignRequest {
        application: app,
        save_by,
        who,
    };
    let assigned = stopline_engine::triage::assign(
        &mut store,
        &config,
        &cx.config_path,
        &alert,
        request,
        cx.clock.now(),
    )?;
    if cx.json {
        print_json(&serde_json::json!({
            "fingerprint": fingerprint,
            "application": app,
            "incident": assigned.incident,
            "saved_route": assigned.saved_route,
        }));
        return Ok(());
    }
    match assigned.incident {
        Some(incident) => out!("{fingerprint} routes to {app}: {incident}"),
        None => out!("{fingerprint} routes to {app} (it is not firing, so no incident)"),
    }
    if let Some(rule) = &assigned.saved_route {
        out!("Saved to {}:", cx.config_path.display());
        for line in rule.lines() {
            out!("  {line}");
        }
        out!("A running `stopline serve` routes by it within a few seconds.");
    }
    Ok(())
}

//! The swarm and the service desk's triage from the command line: `checklist`, `step`, `role`,
//! `join`/`leave`, `severity`, `line`, `review`, `report`, `unrouted` and `assign`.

use stopline_core::incident::{IncidentId, Severity};
use stopline_core::swarm::{Role, RoleHolding, StepState};
use stopline_core::target::format_duration;
use stopline_engine::EngineError;
use stopline_engine::api::{Actor, CsvTable, RoleRequest, SeverityRequest, StepRequest, TimeArg};

use crate::args::{LeadRole, ReportFormat, ReportTable, ReviewFormat, SeverityArg, StepStateArg};
use crate::context::Context;
use crate::failure::{Failure, Result};
use crate::output::{
    AlertJson, IncidentJson, RoleJson, StepJson, local_time, print_json, print_table,
};

pub fn checklist(cx: &Context, id: IncidentId) -> Result {
    let steps = cx.ws.checklist(id)?;
    if cx.json {
        print_json(&steps.iter().map(StepJson::from).collect::<Vec<_>>());
        return Ok(());
    }
    if steps.is_empty() {
        out!("{id}'s checklist starts when it is acknowledged.");
        return Ok(());
    }
    let zone = cx.display_zone();
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
                    (Some(who), Some(at)) => format!("{who} {}", local_time(at, &zone)),
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
    (reason, assign): (Option<&str>, Option<&str>),
    who: &Actor,
) -> Result {
    let state = state.map(|s| match s {
        StepStateArg::Todo => StepState::Todo,
        StepStateArg::Doing => StepState::Doing,
        StepStateArg::Done => StepState::Done,
        StepStateArg::Skip => StepState::Skipped,
    });
    let request = StepRequest {
        step,
        state,
        reason,
        assignee: assign,
    };
    let changed = cx.ws.change_step(id, request, who)?;
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
    (person, handover): (&str, bool),
    who: &Actor,
) -> Result {
    let role = match role {
        LeadRole::Commander => Role::Commander,
        LeadRole::Comms => Role::Comms,
        LeadRole::Scribe => Role::Scribe,
    };
    let request = RoleRequest {
        role,
        person,
        handover,
    };
    let holding = cx.ws.name_role(id, request, who)?;
    report_roles(cx, id, &holding);
    Ok(())
}

/// `join` (`joining`) or `leave`.
pub fn join(cx: &Context, id: IncidentId, who: &Actor, joining: bool) -> Result {
    let holding = if joining {
        cx.ws.join(id, who)?
    } else {
        cx.ws.leave(id, who)?
    };
    report_roles(cx, id, &holding);
    Ok(())
}

/// Who holds which role now.
fn report_roles(cx: &Context, id: IncidentId, holding: &[RoleHolding]) {
    if cx.json {
        let list: Vec<RoleJson> = holding.iter().map(RoleJson::from).collect();
        print_json(&serde_json::json!({ "incident": id, "roles": list }));
    } else {
        for r in holding {
            out!("{id} {}: {}", r.role.title(), r.person);
        }
    }
}

pub fn severity(
    cx: &Context,
    id: IncidentId,
    severity: SeverityArg,
    (reason, loss): (&str, Option<u64>),
    who: &Actor,
) -> Result {
    let severity = match severity {
        SeverityArg::Major => Severity::Major,
        SeverityArg::Minor => Severity::Minor,
    };
    let request = SeverityRequest {
        severity,
        reason,
        loss,
    };
    let incident = cx.ws.set_severity(id, request, who)?;
    if cx.json {
        print_json(&IncidentJson::from(&incident));
    } else {
        out!(
            "{} is {}: {}",
            incident.id,
            incident.severity.as_str(),
            reason.trim()
        );
    }
    Ok(())
}

pub fn line(cx: &Context, team: Option<&str>) -> Result {
    let lines = match team {
        Some(team) => vec![cx.ws.line(team).map_err(on_team_argument)?],
        None => cx.ws.lines()?,
    };
    if cx.json {
        match team {
            Some(_) => print_json(&lines[0]),
            None => print_json(&lines),
        }
        return Ok(());
    }
    let zone = cx.display_zone();
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.team.clone(),
                l.state.as_str().to_owned(),
                l.since.map_or(String::new(), |s| local_time(s, &zone)),
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

/// An unknown team named by `--team` says so.
fn on_team_argument(error: EngineError) -> Failure {
    match error {
        EngineError::UnknownTeam(_) => Failure::argument("--team", error),
        other => other.into(),
    }
}

/// The review as Markdown (or JSON), on standard output or into `out` (written whole, or not
/// at all).
pub fn review(
    cx: &Context,
    id: IncidentId,
    format: ReviewFormat,
    out: Option<&std::path::Path>,
) -> Result {
    let review = cx.ws.review(id)?;
    let format = if cx.json && out.is_none() {
        ReviewFormat::Json
    } else {
        format
    };
    let text = match format {
        ReviewFormat::Markdown => review.markdown(),
        ReviewFormat::Json => serde_json::to_string_pretty(&review).unwrap_or_default() + "\n",
    };
    match out {
        None => print_document(&text, format == ReviewFormat::Json),
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

/// A document (a review, a report) on standard output. JSON is written exactly (its encoder
/// escaped what needs it, and an escape added here would make it invalid); Markdown and CSV
/// show control characters escaped, like every other output for people.
fn print_document(text: &str, json: bool) {
    for line in text.lines() {
        if json {
            crate::output::write_stdout(line);
        } else {
            out!("{line}");
        }
    }
}

/// A document written to `--out`, atomically: a reader never sees half of it.
fn write_document(path: &std::path::Path, text: &str) -> Result {
    stopline_engine::files::write_atomically(path, text.as_bytes())
        .map_err(|e| Failure::refused(format!("--out: {e}")))
}

/// `stopline report`: the operability report as Markdown, JSON or one CSV table.
pub fn report(
    cx: &Context,
    (from, to): (Option<&str>, Option<&str>),
    team: Option<&str>,
    (format, table): (ReportFormat, ReportTable),
    out: Option<&std::path::Path>,
) -> Result {
    let from = from.map(|text| TimeArg {
        name: "--from",
        text,
    });
    let to = to.map(|text| TimeArg { name: "--to", text });
    let view = cx.ws.report(from, to, team).map_err(on_team_argument)?;
    let format = if cx.json { ReportFormat::Json } else { format };
    let text = match format {
        ReportFormat::Json => serde_json::to_string_pretty(&view.report).unwrap_or_default() + "\n",
        ReportFormat::Markdown => view.markdown(),
        ReportFormat::Csv => view.csv(match table {
            ReportTable::People => CsvTable::People,
            ReportTable::Costs => CsvTable::Costs,
            ReportTable::Availability => CsvTable::Availability,
            ReportTable::Times => CsvTable::Times,
            ReportTable::Incidents => CsvTable::Incidents,
        }),
    };
    match out {
        None => print_document(&text, format == ReportFormat::Json),
        Some(path) => {
            write_document(path, &text)?;
            eprintln!("Wrote the report to {}", path.display());
        }
    }
    Ok(())
}

/// The service desk's queue: alerts no application claimed, newest first.
pub fn unrouted(cx: &Context) -> Result {
    let view = cx.ws.unrouted()?;
    let alerts = view.alerts;
    if cx.json {
        let list: Vec<AlertJson<'_>> = alerts.iter().map(AlertJson::from).collect();
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
    who: &Actor,
) -> Result {
    let assigned = cx
        .ws
        .assign_alert(fingerprint, source, app, save_by, who)
        .map_err(|e| match e {
            EngineError::MissingRouteLabel(_) => Failure::argument("--by", e),
            EngineError::RouteNotSavedOnHub => Failure::argument("--save", e),
            other => other.into(),
        })?;
    if cx.json {
        print_json(&serde_json::json!({
            "fingerprint": fingerprint,
            "application": app,
            "incident": assigned.incident,
            "saved_route": assigned.saved_route,
            "also_routed": assigned.also_routed,
        }));
        return Ok(());
    }
    match assigned.incident {
        Some(incident) => {
            out!("{fingerprint} routes to {app}: {incident}");
            crate::incidents::say_if_provisional(incident, "routes the alert");
        }
        None => out!("{fingerprint} routes to {app} (it is not firing, so no incident)"),
    }
    if let Some(rule) = &assigned.saved_route {
        out!("Saved to {}:", cx.ws.config_path().display());
        for line in rule.lines() {
            out!("  {line}");
        }
        if assigned.also_routed > 0 {
            out!(
                "It also routed {} waiting alert{} like it to {app}.",
                assigned.also_routed,
                if assigned.also_routed == 1 { "" } else { "s" }
            );
        }
        out!("A running `stopline serve` routes by it within a few seconds.");
    }
    Ok(())
}

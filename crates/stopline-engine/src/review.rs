//! The post-incident review: one Markdown document with what happened, who did what and when,
//! and what it cost, from the incident's record in the store.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stopline_core::config::Config;
use stopline_core::incident::{IncidentId, IncidentState};
use stopline_core::money::group_thousands;
use stopline_core::target::format_duration;
use stopline_store::Store;

use crate::Result;
use crate::swarm::line_stopped_by;

fn when(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Markdown table cells must not break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The review of incident `id` as Markdown. Times are in the workspace's zone; an incident still
/// open is reviewed up to `now`, and says so.
pub fn markdown(store: &Store, config: &Config, id: IncidentId, now: Timestamp) -> Result<String> {
    let detail = store.incident(id)?;
    let incident = &detail.incident;
    let zone = &config.workspace.time_zone;
    let application = incident
        .application
        .as_ref()
        .and_then(|a| config.application(a));
    let team = incident
        .team
        .as_ref()
        .map(|t| {
            config
                .team(t)
                .map_or(t.to_string(), |t| format!("{} ({})", t.name, t.id))
        })
        .unwrap_or_else(|| "none (unrouted)".to_owned());
    let end = incident.resolved.as_ref().map_or(now, |r| r.at);
    let lasted = end.duration_since(incident.opened_at);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Post-incident review: {} {}",
        incident.id,
        cell(&incident.title)
    );
    let _ = writeln!(out);
    if incident.state != IncidentState::Resolved {
        let _ = writeln!(
            out,
            "> {} is still {}: this review runs to {}.\n",
            incident.id,
            incident.state.as_str(),
            when(now, zone)
        );
    }
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Application | {} |",
        application.map_or("none (unrouted)".to_owned(), |a| format!(
            "{} ({}), target {}",
            a.name, a.id, a.target
        ))
    );
    let _ = writeln!(out, "| Team | {} |", cell(&team));
    let severity_reason = store.severity_reason(id)?;
    let _ = writeln!(
        out,
        "| Severity | {}{} |",
        incident.severity.as_str(),
        severity_reason.map_or(String::new(), |r| format!(" (set by hand: {})", cell(&r)))
    );
    let opened_by = incident
        .opened_by
        .as_ref()
        .map_or("an alert".to_owned(), ToString::to_string);
    let _ = writeln!(
        out,
        "| Opened | {} by {opened_by} |",
        when(incident.opened_at, zone)
    );
    match &incident.acknowledged {
        Some(ack) => {
            let _ = writeln!(
                out,
                "| Acknowledged | {} by {} |\n| Time to acknowledge | {} |",
                when(ack.at, zone),
                ack.actor(),
                format_duration(ack.at.duration_since(incident.opened_at))
            );
        }
        None => {
            let _ = writeln!(out, "| Acknowledged | not acknowledged |");
        }
    }
    match &incident.resolved {
        Some(resolved) => {
            let _ = writeln!(
                out,
                "| Resolved | {} by {} |\n| Time to restore | {} |",
                when(resolved.at, zone),
                resolved.actor(),
                format_duration(lasted)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "| Resolved | not yet ({} so far) |",
                format_duration(lasted)
            );
        }
    }
    let line = line_stopped_by(store, config, incident, now)?;
    let _ = writeln!(
        out,
        "| Line stopped | {} |",
        line.map_or("did not stop the line".to_owned(), format_duration)
    );
    let loss = match application {
        Some(app) => {
            let millis = u128::try_from(lasted.as_millis()).unwrap_or(0);
            let loss = u64::try_from(u128::from(app.exposure_per_hour.0) * millis / 3_600_000)
                .unwrap_or(u64::MAX);
            format!(
                "{} {} ({} {}/h × {})",
                config.workspace.currency,
                group_thousands(loss),
                config.workspace.currency,
                group_thousands(app.exposure_per_hour.0),
                format_duration(lasted)
            )
        }
        None => "unknown: no application".to_owned(),
    };
    let _ = writeln!(out, "| Estimated financial loss | {loss} |");

    let _ = writeln!(out, "\n## Timeline\n");
    let _ = writeln!(out, "| When | Who | What | Detail |\n|---|---|---|---|");
    for event in &detail.timeline {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            when(event.at, zone),
            event
                .who
                .as_ref()
                .map_or("stopline".to_owned(), ToString::to_string),
            event.kind.as_str(),
            cell(&event.detail)
        );
    }

    let steps = store.checklist(id)?;
    let _ = writeln!(out, "\n## Checklist\n");
    if steps.is_empty() {
        let _ = writeln!(
            out,
            "The checklist never started (nobody acknowledged the incident)."
        );
    } else {
        let _ = writeln!(
            out,
            "| Step | State | Required | Assignee | By | When |\n|---|---|---|---|---|---|"
        );
        for step in &steps {
            let state = match &step.reason {
                Some(reason) => format!("{} ({})", step.state.as_str(), cell(reason)),
                None => step.state.as_str().to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {state} | {} | {} | {} | {} |",
                cell(&step.title),
                if step.required { "yes" } else { "no" },
                step.assignee
                    .as_ref()
                    .map_or(String::new(), ToString::to_string),
                step.changed_by
                    .as_ref()
                    .map_or(String::new(), ToString::to_string),
                step.changed_at.map_or(String::new(), |at| when(at, zone)),
            );
        }
    }

    let roles = store.roles(id)?;
    let _ = writeln!(out, "\n## Roles\n");
    if roles.is_empty() {
        let _ = writeln!(out, "Nobody took a role.");
    } else {
        let _ = writeln!(out, "| Role | Person | From | To |\n|---|---|---|---|");
        for role in &roles {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                role.role.title(),
                role.person,
                when(role.since, zone),
                role.until.map_or("the end".to_owned(), |u| when(u, zone))
            );
        }
    }
    Ok(out)
}

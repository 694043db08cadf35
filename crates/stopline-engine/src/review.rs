//! The post-incident review: what happened, who did what and when, and what it cost, from the
//! incident's record in the store. [`review`] gathers the facts once; they are written as one
//! Markdown document for people ([`Review::markdown`]) or as JSON for tools (`Serialize`).

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_core::economics::{loss_so_far, loss_stops_at};
use stopline_core::incident::{Incident, IncidentId, IncidentState};
use stopline_core::money::group_thousands;
use stopline_core::swarm::{ChecklistStep, RoleHolding};
use stopline_core::target::format_duration;
use stopline_core::timeline::TimelineEvent;
use stopline_store::Store;

use crate::Result;
use crate::swarm::line_stopped_by;

fn when(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Text that came from an alert or a person, as literal Markdown: no markup, no HTML, no line
/// break, and no `|` to break the table it sits in.
fn cell(text: &str) -> String {
    stopline_core::text::markdown_inline(text)
}

/// An application or a team, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// Everything the review says about one incident.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub incident: Incident,
    /// `null` for an unrouted incident.
    pub application: Option<Named>,
    /// The application's availability target, such as `99.9%`.
    pub target: Option<String>,
    pub team: Option<Named>,
    /// Why a person set the severity, when one did.
    pub severity_reason: Option<String>,
    /// When the review was written: an incident still open is reviewed up to here.
    pub reviewed_at: Timestamp,
    pub time_to_acknowledge_seconds: Option<i64>,
    /// From opening to resolution (or to `reviewed_at` while open).
    pub duration_seconds: i64,
    /// How long it held its team's line stopped; `null` when it did not stop it.
    pub line_stopped_seconds: Option<i64>,
    pub currency: String,
    pub exposure_per_hour: Option<u64>,
    /// The figure a person entered with a severity change, else exposure × the time it cost
    /// money; `null` without either.
    pub estimated_loss: Option<u64>,
    /// Whether `estimated_loss` is a person's figure.
    pub loss_entered_by_hand: bool,
    /// When the loss stopped counting: its last alert resolved (availability back) or it
    /// resolved, whichever came first; `null` while it counts.
    pub loss_stopped_at: Option<Timestamp>,
    pub timeline: Vec<TimelineEvent>,
    /// Empty when the checklist never started.
    pub checklist: Vec<ChecklistStep>,
    /// Everyone who held a role, with since and until.
    pub roles: Vec<RoleHolding>,
    /// The workspace's zone, for the Markdown's times.
    #[serde(skip)]
    zone: TimeZone,
}

/// Gathers the review of incident `id`, up to `now` while it is open.
pub fn review(store: &Store, config: &Config, id: IncidentId, now: Timestamp) -> Result<Review> {
    let detail = store.incident(id)?;
    let incident = detail.incident;
    let application = incident
        .application
        .as_ref()
        .and_then(|a| config.application(a));
    let team = incident.team.as_ref().map(|t| Named {
        id: t.to_string(),
        name: config.team(t).map_or(t.to_string(), |t| t.name.clone()),
    });
    let end = incident.resolved.as_ref().map_or(now, |r| r.at);
    let lasted = end.duration_since(incident.opened_at);
    let loss_facts = store.loss_facts(id)?;
    let loss_stopped_at = loss_stops_at(
        incident.resolved.as_ref().map(|r| r.at),
        loss_facts.alerts_cleared_at,
    );
    let loss = (application.is_some() || loss_facts.entered.is_some()).then(|| {
        loss_so_far(
            incident.opened_at,
            application.map_or(0, |a| a.exposure_per_hour.0),
            loss_facts.entered,
            loss_stopped_at,
            now,
        )
    });
    Ok(Review {
        application: application.map(|a| Named {
            id: a.id.to_string(),
            name: a.name.clone(),
        }),
        target: application.map(|a| a.target.to_string()),
        team,
        severity_reason: store.severity_reason(id)?,
        reviewed_at: now,
        time_to_acknowledge_seconds: incident
            .acknowledged
            .as_ref()
            .map(|a| a.at.duration_since(incident.opened_at).as_secs()),
        duration_seconds: lasted.as_secs(),
        line_stopped_seconds: line_stopped_by(store, config, &incident, now)?.map(|d| d.as_secs()),
        currency: config.workspace.currency.to_string(),
        exposure_per_hour: application.map(|a| a.exposure_per_hour.0),
        estimated_loss: loss.map(|l| l.amount),
        loss_entered_by_hand: loss_facts.entered.is_some(),
        loss_stopped_at,
        timeline: detail.timeline,
        checklist: store.checklist(id)?,
        roles: store.roles(id)?,
        zone: config.workspace.time_zone.clone(),
        incident,
    })
}

impl Review {
    /// The review as one Markdown document; times in the workspace's zone.
    pub fn markdown(&self) -> String {
        let incident = &self.incident;
        let zone = &self.zone;
        let now = self.reviewed_at;
        let lasted = jiff::SignedDuration::from_secs(self.duration_seconds);
        let team = self.team.as_ref().map_or_else(
            || "none (unrouted)".to_owned(),
            |t| {
                if t.name == t.id {
                    t.id.clone()
                } else {
                    format!("{} ({})", t.name, t.id)
                }
            },
        );
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
            self.application
                .as_ref()
                .map_or("none (unrouted)".to_owned(), |a| format!(
                    "{} ({}), target {}",
                    cell(&a.name),
                    cell(&a.id),
                    self.target.as_deref().unwrap_or("")
                ))
        );
        let _ = writeln!(out, "| Team | {} |", cell(&team));
        let _ = writeln!(
            out,
            "| Severity | {}{} |",
            incident.severity.as_str(),
            self.severity_reason
                .as_ref()
                .map_or(String::new(), |r| format!(" (set by hand: {})", cell(r)))
        );
        let opened_by = incident
            .opened_by
            .as_ref()
            .map_or("an alert".to_owned(), |p| cell(p.as_str()));
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
                    cell(&ack.actor()),
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
                    cell(&resolved.actor()),
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
        let line = self
            .line_stopped_seconds
            .map(jiff::SignedDuration::from_secs);
        let _ = writeln!(
            out,
            "| Line stopped | {} |",
            line.map_or("did not stop the line".to_owned(), format_duration)
        );
        let loss = match (self.estimated_loss, self.exposure_per_hour) {
            (Some(loss), _) if self.loss_entered_by_hand => format!(
                "{} {} (entered by hand with the severity)",
                self.currency,
                group_thousands(loss)
            ),
            (Some(loss), Some(exposure)) => {
                let counted_until = self.loss_stopped_at.unwrap_or(now);
                let alerts_cleared_first = self
                    .loss_stopped_at
                    .is_some_and(|at| incident.resolved.as_ref().is_none_or(|r| at < r.at));
                format!(
                    "{} {} ({} {}/h × {}{})",
                    self.currency,
                    group_thousands(loss),
                    self.currency,
                    group_thousands(exposure),
                    format_duration(counted_until.duration_since(incident.opened_at)),
                    if alerts_cleared_first {
                        format!(
                            ", until its alerts cleared at {}",
                            when(counted_until, zone)
                        )
                    } else {
                        String::new()
                    }
                )
            }
            _ => "unknown: no application".to_owned(),
        };
        let _ = writeln!(out, "| Estimated financial loss | {loss} |");

        let _ = writeln!(out, "\n## Timeline\n");
        let _ = writeln!(out, "| When | Who | What | Detail |\n|---|---|---|---|");
        for event in &self.timeline {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                when(event.at, zone),
                event
                    .who
                    .as_ref()
                    .map_or("stopline".to_owned(), |p| cell(p.as_str())),
                event.kind.as_str(),
                cell(&event.detail)
            );
        }

        let steps = &self.checklist;
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
            for step in steps {
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
                        .map_or(String::new(), |p| cell(p.as_str())),
                    step.changed_by
                        .as_ref()
                        .map_or(String::new(), |p| cell(p.as_str())),
                    step.changed_at.map_or(String::new(), |at| when(at, zone)),
                );
            }
        }

        let roles = &self.roles;
        let _ = writeln!(out, "\n## Roles\n");
        if roles.is_empty() {
            let _ = writeln!(out, "Nobody took a role.");
        } else {
            let _ = writeln!(out, "| Role | Person | From | To |\n|---|---|---|---|");
            for role in roles {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    role.role.title(),
                    cell(role.person.as_str()),
                    when(role.since, zone),
                    role.until.map_or("the end".to_owned(), |u| when(u, zone))
                );
            }
        }
        out
    }
}

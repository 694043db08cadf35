//! Stop The Line: the swarm's checklist, the incident roles, and when a team's line is stopped.
//!
//! When an alert fires, the owning team halts feature work and swarms. The checklist guides it
//! (the Stop The Line practice of docs/domain.md, or the team's own template, plus an application's extra steps with
//! runbook links); roles say who leads, who talks to stakeholders and who writes things down. A
//! checklist is copied onto the incident when it is acknowledged (or opened by the service desk),
//! so editing the config later never rewrites an incident already under way.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::ids::StepId;

/// The step whose completion restarts the team's line.
pub const RESTART_THE_LINE: &str = "restart-the-line";

/// One step of a checklist template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepTemplate {
    pub id: StepId,
    pub title: String,
    /// A required step must be done or skipped (with a reason) before the incident resolves.
    pub required: bool,
    /// Where to read how, such as a runbook page.
    pub runbook: Option<String>,
}

impl StepTemplate {
    fn new(id: &str, title: &str, required: bool) -> Self {
        Self {
            // The built-in ids are valid slugs.
            id: StepId::new(id).unwrap_or_else(|_| unreachable!("built-in step id {id}")),
            title: title.to_owned(),
            required,
            runbook: None,
        }
    }
}

/// The built-in checklist: the Stop The Line practice of docs/domain.md, in order.
pub fn default_checklist() -> Vec<StepTemplate> {
    vec![
        StepTemplate::new(
            "stop-the-line",
            "Stop the line: halt feature work and tell the team",
            true,
        ),
        StepTemplate::new("assemble-swarm", "Assemble the swarm", true),
        StepTemplate::new("name-commander", "Name an incident commander", true),
        StepTemplate::new(
            "assess-impact",
            "Assess the impact and estimate the financial loss",
            true,
        ),
        StepTemplate::new(
            "tell-stakeholders",
            "Tell the service desk and stakeholders",
            true,
        ),
        StepTemplate::new("diagnose", "Diagnose", false),
        StepTemplate::new("restore", "Restore availability", true),
        StepTemplate::new(
            "verify-recovery",
            "Verify recovery: alerts resolved, availability back above target",
            true,
        ),
        StepTemplate::new(RESTART_THE_LINE, "Restart the line", true),
        StepTemplate::new(
            "schedule-review",
            "Schedule the post-incident review",
            false,
        ),
    ]
}

/// A team's template (or the workspace's, or the built-in one) with an application's extra
/// steps inserted before "restart the line" (at the end when the template has no such step).
pub fn checklist_for(template: &[StepTemplate], extra: &[StepTemplate]) -> Vec<StepTemplate> {
    let mut steps: Vec<StepTemplate> = template.to_vec();
    let at = steps
        .iter()
        .position(|s| s.id.as_str() == RESTART_THE_LINE)
        .unwrap_or(steps.len());
    for (i, step) in extra.iter().enumerate() {
        if !steps.iter().any(|s| s.id == step.id) {
            steps.insert(at + i, step.clone());
        }
    }
    steps
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Todo,
    Doing,
    Done,
    /// Skipped, always with a reason.
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Todo => "todo",
            StepState::Doing => "doing",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
        }
    }

    /// `todo`, `doing`, `done`, or `skip`/`skipped`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "todo" => Some(StepState::Todo),
            "doing" => Some(StepState::Doing),
            "done" => Some(StepState::Done),
            "skip" | "skipped" => Some(StepState::Skipped),
            _ => None,
        }
    }

    /// Done or skipped: nothing more to do.
    pub fn is_closed(self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped)
    }
}

/// The incident roles. Exactly one commander at a time; one communications lead and one scribe
/// at most; any number of responders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Commander,
    Comms,
    Scribe,
    Responder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Commander => "commander",
            Role::Comms => "comms",
            Role::Scribe => "scribe",
            Role::Responder => "responder",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "commander" => Some(Role::Commander),
            "comms" => Some(Role::Comms),
            "scribe" => Some(Role::Scribe),
            "responder" => Some(Role::Responder),
            _ => None,
        }
    }

    /// What people call it.
    pub fn title(self) -> &'static str {
        match self {
            Role::Commander => "incident commander",
            Role::Comms => "communications lead",
            Role::Scribe => "scribe",
            Role::Responder => "responder",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which acknowledged incidents stop their team's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStopsOn {
    /// A major incident (the default).
    #[default]
    Major,
    /// Any incident.
    Any,
}

impl LineStopsOn {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "major" => Some(LineStopsOn::Major),
            "any" => Some(LineStopsOn::Any),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LineStopsOn::Major => "major",
            LineStopsOn::Any => "any",
        }
    }
}

/// How long a line was stopped within `[from, to)`: the union of its holds (an incident holds
/// from `since` until `until`, or until `now` while it still holds), so two incidents holding
/// it at once count once.
pub fn stopped_time(
    holds: &[(Timestamp, Option<Timestamp>)],
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> SignedDuration {
    let mut spans: Vec<(Timestamp, Timestamp)> = holds
        .iter()
        .map(|(since, until)| ((*since).max(from), until.unwrap_or(now).min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort();
    let mut total = SignedDuration::ZERO;
    let mut current: Option<(Timestamp, Timestamp)> = None;
    for (a, b) in spans {
        match current {
            Some((start, end)) if a <= end => current = Some((start, end.max(b))),
            Some((start, end)) => {
                total += end.duration_since(start);
                current = Some((a, b));
            }
            None => current = Some((a, b)),
        }
    }
    if let Some((start, end)) = current {
        total += end.duration_since(start);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_holds_count_once() {
        let t = |h: i64| Timestamp::from_second(h * 3600).unwrap();
        let holds = [(t(1), Some(t(3))), (t(2), Some(t(4))), (t(6), None)];
        // 1h–4h, then 6h until now (8h): 3h + 2h.
        assert_eq!(
            stopped_time(&holds, t(0), t(24), t(8)),
            SignedDuration::from_hours(5)
        );
        // Cut to a window.
        assert_eq!(
            stopped_time(&holds, t(2), t(7), t(8)),
            SignedDuration::from_hours(3)
        );
    }

    #[test]
    fn the_default_checklist_follows_the_practice() {
        let steps = default_checklist();
        assert_eq!(steps.len(), 10);
        assert_eq!(steps[0].id.as_str(), "stop-the-line");
        assert_eq!(steps[8].id.as_str(), RESTART_THE_LINE);
        assert!(!steps[9].required, "the review is scheduled after");
    }

    #[test]
    fn extra_steps_go_before_the_restart() {
        let extra = [StepTemplate {
            id: StepId::new("failover-db").unwrap(),
            title: "Fail the database over".into(),
            required: false,
            runbook: Some("https://runbooks.example/db".into()),
        }];
        let steps = checklist_for(&default_checklist(), &extra);
        assert_eq!(steps.len(), 11);
        assert_eq!(steps[8].id.as_str(), "failover-db");
        assert_eq!(steps[9].id.as_str(), RESTART_THE_LINE);
    }
}

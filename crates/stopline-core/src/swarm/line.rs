//! A team's line: it stops when an incident that holds it is acknowledged (a major one, or any,
//! as `[line] stops_on` says) and runs again when every such incident has had its "restart the
//! line" step done or has resolved. A deployment pipeline asks whether it is stopped.
//!
//! Holds are worked out from the incident's severity *history*, not its severity now: a major
//! incident lowered to minor held the line while it was major, and says so ever after.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::checklist::StepState;
use crate::ids::TeamId;
use crate::incident::{IncidentId, Severity};

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

/// Whether an acknowledged incident of this severity holds its team's line.
pub fn holds_line(stops_on: LineStopsOn, severity: Severity) -> bool {
    match stops_on {
        LineStopsOn::Any => true,
        LineStopsOn::Major => severity == Severity::Major,
    }
}

/// One incident holding its team's line: from its acknowledgement (or from when it became severe
/// enough) until its "restart the line" step was done, it resolved or it was lowered below what
/// stops the line (`until` is `None` while it still holds). An incident lowered and raised again
/// holds its line in two spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHold {
    pub team: TeamId,
    pub incident: IncidentId,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
}

/// What the store knows of one acknowledged incident of a team, to decide its hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldFacts {
    pub team: TeamId,
    pub incident: IncidentId,
    /// Every severity it had, with since when, oldest first; the first is its severity at opening.
    pub severities: Vec<(Timestamp, Severity)>,
    pub acknowledged_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The "restart the line" step's state and when it last changed, if the incident has one.
    pub restart: Option<(StepState, Option<Timestamp>)>,
}

impl LineHold {
    /// The spans an acknowledged incident held its line, oldest first; empty when it never did.
    pub fn of(facts: &HoldFacts, stops_on: LineStopsOn) -> Vec<LineHold> {
        let restarted = match facts.restart {
            Some((StepState::Done, at)) => at,
            _ => None,
        };
        let ended = earlier(facts.resolved_at, restarted);
        let mut holds: Vec<LineHold> = Vec::new();
        for (i, (since, severity)) in facts.severities.iter().enumerate() {
            if !holds_line(stops_on, *severity) {
                continue;
            }
            let lowered_or_changed = facts.severities.get(i + 1).map(|(at, _)| *at);
            let start = (*since).max(facts.acknowledged_at);
            let until = earlier(lowered_or_changed, ended);
            if until.is_some_and(|until| until <= start) {
                continue;
            }
            // Major recorded twice in a row (set by hand after money raised it) is one span.
            match holds.last_mut() {
                Some(last) if last.until == Some(start) => last.until = until,
                _ => holds.push(LineHold {
                    team: facts.team.clone(),
                    incident: facts.incident,
                    since: start,
                    until,
                }),
            }
        }
        holds
    }
}

/// The earlier of two optional times; either alone when the other is missing.
fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a line runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    Running,
    Stopped,
}

impl LineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Running => "running",
            LineStatus::Stopped => "stopped",
        }
    }
}

/// Whether a team's line runs, and what holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineState {
    pub team: String,
    /// `running` or `stopped`.
    pub state: LineStatus,
    /// When the current stop began (the earliest hold still holding).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// The incidents holding it, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<IncidentId>,
    /// All the time this team's line has been stopped, in seconds.
    pub stopped_seconds: i64,
}

impl LineState {
    pub fn is_stopped(&self) -> bool {
        self.state == LineStatus::Stopped
    }

    /// The line of `team` at `now`, from its holds, past and present.
    pub fn of(team: &TeamId, holds: &[LineHold], now: Timestamp) -> LineState {
        let holding: Vec<&LineHold> = holds
            .iter()
            .filter(|h| &h.team == team && h.until.is_none())
            .collect();
        let spans: Vec<_> = holds
            .iter()
            .filter(|h| &h.team == team)
            .map(|h| (h.since, h.until))
            .collect();
        let stopped = stopped_time(&spans, Timestamp::MIN, Timestamp::MAX, now);
        LineState {
            team: team.to_string(),
            state: if holding.is_empty() {
                LineStatus::Running
            } else {
                LineStatus::Stopped
            },
            since: holding.iter().map(|h| h.since).min(),
            incidents: holding.iter().map(|h| h.incident).collect(),
            stopped_seconds: stopped.as_secs(),
        }
    }
}

/// How long `incident` held its line (for the review), over all its spans, if it ever did.
pub fn held_for(
    incident: IncidentId,
    holds: &[LineHold],
    now: Timestamp,
) -> Option<SignedDuration> {
    holds
        .iter()
        .filter(|h| h.incident == incident)
        .map(|h| h.until.unwrap_or(now).duration_since(h.since))
        .reduce(|a, b| a + b)
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
    fn a_hold_ends_at_the_restart_or_the_resolution_whichever_comes_first() {
        let t = |h: i64| Timestamp::from_second(h * 3600).unwrap();
        let facts = HoldFacts {
            team: TeamId::new("payments").unwrap(),
            incident: IncidentId(1),
            severities: vec![(t(0), Severity::Major)],
            acknowledged_at: t(1),
            resolved_at: Some(t(5)),
            restart: Some((StepState::Done, Some(t(3)))),
        };
        assert_eq!(
            LineHold::of(&facts, LineStopsOn::Major)[0].until,
            Some(t(3))
        );
        let doing = HoldFacts {
            restart: Some((StepState::Doing, Some(t(3)))),
            ..facts.clone()
        };
        assert_eq!(
            LineHold::of(&doing, LineStopsOn::Major)[0].until,
            Some(t(5))
        );
        let minor = HoldFacts {
            severities: vec![(t(0), Severity::Minor)],
            ..facts.clone()
        };
        assert_eq!(LineHold::of(&minor, LineStopsOn::Major), []);
        assert_eq!(LineHold::of(&minor, LineStopsOn::Any).len(), 1);
        let open = HoldFacts {
            resolved_at: None,
            restart: None,
            ..facts
        };
        let holds = LineHold::of(&open, LineStopsOn::Major);
        let line = LineState::of(&TeamId::new("payments").unwrap(), &holds, t(4));
        assert!(line.is_stopped());
        assert_eq!(line.stopped_seconds, 3 * 3600);
        assert_eq!(
            held_for(IncidentId(1), &holds, t(4)),
            Some(SignedDuration::from_hours(3))
        );
    }

    #[test]
    fn a_major_incident_lowered_to_minor_held_the_line_while_it_was_major() {
        let t = |h: i64| Timestamp::from_second(h * 3600).unwrap();
        let team = TeamId::new("payments").unwrap();
        let lowered_then_raised = HoldFacts {
            team: team.clone(),
            incident: IncidentId(1),
            // Major at opening (0h), lowered at 3h, raised again at 5h, resolved at 6h.
            severities: vec![
                (t(0), Severity::Major),
                (t(3), Severity::Minor),
                (t(5), Severity::Major),
            ],
            acknowledged_at: t(1),
            resolved_at: Some(t(6)),
            restart: None,
        };
        let holds = LineHold::of(&lowered_then_raised, LineStopsOn::Major);
        let spans: Vec<_> = holds.iter().map(|h| (h.since, h.until)).collect();
        assert_eq!(spans, [(t(1), Some(t(3))), (t(5), Some(t(6)))]);
        assert_eq!(
            held_for(IncidentId(1), &holds, t(9)),
            Some(SignedDuration::from_hours(3))
        );
        // Lowered before anyone acknowledged: it never held the line.
        let lowered_early = HoldFacts {
            severities: vec![(t(0), Severity::Major), (t(1), Severity::Minor)],
            acknowledged_at: t(2),
            ..lowered_then_raised.clone()
        };
        assert_eq!(LineHold::of(&lowered_early, LineStopsOn::Major), []);
        // Major set twice in a row is one span.
        let twice = HoldFacts {
            severities: vec![(t(0), Severity::Major), (t(2), Severity::Major)],
            ..lowered_then_raised
        };
        assert_eq!(LineHold::of(&twice, LineStopsOn::Major).len(), 1);
        assert!(
            !LineState::of(&team, &LineHold::of(&twice, LineStopsOn::Major), t(7)).is_stopped()
        );
    }
}

//! Where an incident's escalation stands, and what its next step is.
//!
//! The first step chooses whom to call out (see `callout`: by the working hours and the
//! application's availability target) or holds the page until the next working day; later steps
//! keep the rota chosen then. Each step pages whoever holds its layer when it comes due; a step
//! nobody holds moves straight on. [`decide`] is the whole rule, a function of the config, the
//! escalation, its incident and `now`; a store records the decision, and the record says what
//! the escalation and the timeline become.

use jiff::{SignedDuration, Timestamp};

use crate::callout::{Callout, Recipient};
use crate::config::Config;
use crate::ids::RotaId;
use crate::incident::{Incident, IncidentId, IncidentState};

/// Where an incident's escalation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationStatus {
    /// The next step pages at `due_at`.
    Due,
    /// Out of hours for a low-target application: the first page waits until `due_at`.
    Deferred,
    /// Acknowledged or resolved: never pages again.
    Stopped,
    /// Every step of every cycle paged and nobody acknowledged.
    Exhausted,
}

impl EscalationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationStatus::Due => "due",
            EscalationStatus::Deferred => "deferred",
            EscalationStatus::Stopped => "stopped",
            EscalationStatus::Exhausted => "exhausted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "due" => Some(EscalationStatus::Due),
            "deferred" => Some(EscalationStatus::Deferred),
            "stopped" => Some(EscalationStatus::Stopped),
            "exhausted" => Some(EscalationStatus::Exhausted),
            _ => None,
        }
    }
}

/// One incident's escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub incident: IncidentId,
    pub status: EscalationStatus,
    /// The step (counted across cycles) that pages next.
    pub next_step: u32,
    pub due_at: Timestamp,
    /// The rota chosen when paging began; `None` before that, or when paging all hands.
    pub rota: Option<RotaId>,
    /// Why it is where it is, for people: "deferred: out of hours …".
    pub note: String,
}

/// One escalation step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationStepRecord {
    /// The step this decision is for: if the store has moved on, nothing is recorded.
    pub step: u32,
    pub cycle: u32,
    pub rota: Option<RotaId>,
    pub recipients: Vec<Recipient>,
    /// When the following step is due; `None` when this was the last.
    pub next_due: Option<Timestamp>,
}

/// Where an escalation stands after a decision is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationAfter {
    pub status: EscalationStatus,
    pub due_at: Timestamp,
    pub note: String,
}

impl EscalationStepRecord {
    /// The timeline entry of this step: who was paged and why, or that nobody holds its layer.
    pub fn detail(&self) -> String {
        if self.recipients.is_empty() {
            return "nobody holds this step's layer: escalating at once".to_owned();
        }
        let names: Vec<String> = self
            .recipients
            .iter()
            .map(|r| format!("{} ({})", r.person, r.reason))
            .collect();
        let repeat = if self.cycle > 0 {
            format!(", repeat {}", self.cycle)
        } else {
            String::new()
        };
        format!("paged {}{repeat}", names.join(", "))
    }

    /// The escalation after this step: due again at `next_due`, or exhausted after the last.
    pub fn after(&self, now: Timestamp) -> EscalationAfter {
        match self.next_due {
            Some(due) => EscalationAfter {
                status: EscalationStatus::Due,
                due_at: due,
                note: String::new(),
            },
            None => EscalationAfter {
                status: EscalationStatus::Exhausted,
                due_at: now,
                note: "every step paged; nobody acknowledged".to_owned(),
            },
        }
    }
}

/// What to do next for one escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationDecision {
    /// Page this step.
    Step {
        incident: IncidentId,
        record: EscalationStepRecord,
    },
    /// Hold the first page until `until`, the next working day (`None`: no working days at
    /// all). `reason` is the note people read, on the timeline and in `incident show`.
    Defer {
        incident: IncidentId,
        until: Option<Timestamp>,
        reason: String,
    },
}

impl EscalationDecision {
    pub fn incident(&self) -> IncidentId {
        match self {
            EscalationDecision::Step { incident, .. }
            | EscalationDecision::Defer { incident, .. } => *incident,
        }
    }
}

/// The escalation after a deferral: waiting until `until`, or exhausted when no working day
/// will ever come (it waits for a person to act).
pub fn after_deferral(until: Option<Timestamp>, reason: &str, now: Timestamp) -> EscalationAfter {
    EscalationAfter {
        status: if until.is_some() {
            EscalationStatus::Deferred
        } else {
            EscalationStatus::Exhausted
        },
        due_at: until.unwrap_or(now),
        note: reason.to_owned(),
    }
}

/// What the next step of one escalation is, or `None` when there is nothing to do (the incident
/// is no longer triggered, has no team, or a deferral is unchanged).
pub fn decide(
    config: &Config,
    escalation: &Escalation,
    incident: &Incident,
    now: Timestamp,
) -> Option<EscalationDecision> {
    if incident.state != IncidentState::Triggered {
        return None;
    }
    let team = incident.team.as_ref()?;
    let application = incident
        .application
        .as_ref()
        .and_then(|id| config.application(id));
    // The first step chooses the rota (or waits); later steps keep the rota chosen then, so a
    // page that began on the domain rota at 16:55 does not switch to the team's at 17:00.
    let rota = if escalation.next_step == 0 {
        match application.map(|app| config.callout(app, now)) {
            Some(Callout::Defer { until, reason }) => {
                // Re-deciding a deferral that is not yet due changes nothing.
                if escalation.status == EscalationStatus::Deferred
                    && Some(escalation.due_at) == until
                {
                    return None;
                }
                let zone = &config.workspace.time_zone;
                let reason = match until {
                    Some(at) => format!(
                        "{reason}: paging at {}",
                        at.to_zoned_datetime(zone.clone())
                            .strftime("%a %-d %b %H:%M %Z")
                    ),
                    None => format!("{reason}: no working days are configured, so nobody is paged"),
                };
                return Some(EscalationDecision::Defer {
                    incident: incident.id,
                    until,
                    reason,
                });
            }
            Some(Callout::Page { rota, .. }) => rota,
            // An incident whose application left the config: its team, all hands.
            None => None,
        }
    } else {
        escalation.rota.clone()
    };
    let plan = config.escalation_plan(team, rota.as_ref());
    let (cycle, current) = plan.step(escalation.next_step)?;
    let recipients = config.recipients(current, team, now);
    let next_due = if escalation.next_step + 1 >= plan.len() {
        None
    } else if recipients.is_empty() {
        Some(now)
    } else {
        let timeout =
            SignedDuration::try_from(plan.policy.ack_timeout).unwrap_or(SignedDuration::MAX);
        Some(now.saturating_add(timeout).unwrap_or(now))
    };
    Some(EscalationDecision::Step {
        incident: incident.id,
        record: EscalationStepRecord {
            step: escalation.next_step,
            cycle,
            rota,
            recipients,
            next_due,
        },
    })
}

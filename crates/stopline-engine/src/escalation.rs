//! Moves escalations on: for every escalation that has come due, decides who to page with the
//! config's callout and escalation rules, and records the step in the store.
//!
//! This is plain synchronous code over a store, a config and a `now`: tests move time by
//! passing a later `now`, and the pager calls it on every tick. Nothing here shows a
//! notification; delivery reads the pages this records (see `pager`).

use jiff::{SignedDuration, Timestamp};
use stopline_core::callout::Callout;
use stopline_core::config::Config;
use stopline_core::incident::{Incident, IncidentState};
use stopline_store::{
    Escalation, EscalationDecision, EscalationStatus, EscalationStepRecord, StepOutcome, Store,
};

use crate::Result;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Pages recorded, one per person and step.
    pub pages: usize,
    /// Escalations held until the next working day.
    pub deferred: usize,
}

/// A pass never takes more rounds than this, so a config where nobody holds any layer cannot
/// spin: the rest waits for the next tick.
const MAX_ROUNDS_PER_PASS: usize = 100;

/// Records every escalation step due at `now`. Each round decides for every due escalation,
/// then records all the decisions in one transaction; a further round runs only for steps that
/// paged nobody (a layer no one holds yet), which move straight on.
pub fn escalate(store: &mut Store, config: &Config, now: Timestamp) -> Result<EscalationPass> {
    let mut pass = EscalationPass::default();
    for _ in 0..MAX_ROUNDS_PER_PASS {
        let decisions: Vec<EscalationDecision> = store
            .due_escalations(now)?
            .iter()
            .filter_map(|(escalation, incident)| decide(config, escalation, incident, now))
            .collect();
        if decisions.is_empty() {
            break;
        }
        let outcomes = store.record_escalations(&decisions, now)?;
        let mut again = false;
        for (decision, outcome) in decisions.iter().zip(outcomes) {
            if outcome != StepOutcome::Recorded {
                continue;
            }
            match decision {
                EscalationDecision::Defer { .. } => pass.deferred += 1,
                EscalationDecision::Step { record, .. } => {
                    pass.pages += record.recipients.len();
                    again |= record.recipients.is_empty() && record.next_due.is_some();
                }
            }
        }
        if !again {
            break;
        }
    }
    Ok(pass)
}

/// What the next step of one escalation is, or `None` when there is nothing to do.
fn decide(
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

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
use stopline_store::{Escalation, EscalationStepRecord, StepOutcome, Store};

use crate::Result;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Pages recorded, one per person and step.
    pub pages: usize,
    /// Escalations held until the next working day.
    pub deferred: usize,
}

/// A pass never takes more steps than this, so a config where nobody holds any layer cannot
/// spin: the rest waits for the next tick.
const MAX_STEPS_PER_PASS: usize = 10_000;

/// Records every escalation step due at `now`.
pub fn escalate(store: &mut Store, config: &Config, now: Timestamp) -> Result<EscalationPass> {
    let mut pass = EscalationPass::default();
    for _ in 0..MAX_STEPS_PER_PASS {
        let due = store.due_escalations(now)?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for (escalation, incident) in due {
            progressed |= step(store, config, &escalation, &incident, now, &mut pass)?;
        }
        if !progressed {
            break;
        }
    }
    Ok(pass)
}

/// Takes one escalation one step; `true` when something was recorded.
fn step(
    store: &mut Store,
    config: &Config,
    escalation: &Escalation,
    incident: &Incident,
    now: Timestamp,
    pass: &mut EscalationPass,
) -> Result<bool> {
    if incident.state != IncidentState::Triggered {
        return Ok(false);
    }
    let Some(team) = &incident.team else {
        return Ok(false);
    };
    let application = incident
        .application
        .as_ref()
        .and_then(|id| config.application(id.as_str()));
    // The first step chooses the rota (or waits); later steps keep the rota chosen then, so a
    // page that began on the domain rota at 16:55 does not switch to the team's at 17:00.
    let rota = if escalation.next_step == 0 {
        match application.map(|app| config.callout(app, now)) {
            Some(Callout::Defer { until, reason }) => {
                let deferred = store.defer_escalation(incident.id, until, &reason, now)?;
                if deferred == StepOutcome::Recorded {
                    pass.deferred += 1;
                }
                return Ok(false);
            }
            Some(Callout::Page { rota, .. }) => rota,
            // An incident whose application left the config: its team, all hands.
            None => None,
        }
    } else {
        escalation.rota.clone()
    };
    let plan = config.escalation_plan(team, rota.as_ref());
    let Some((cycle, current)) = plan.step(escalation.next_step) else {
        return Ok(false);
    };
    let recipients = config.recipients(current, team, now);
    let is_last = escalation.next_step + 1 >= plan.len();
    let next_due = if is_last {
        None
    } else if recipients.is_empty() {
        Some(now)
    } else {
        let timeout =
            SignedDuration::try_from(plan.policy.ack_timeout).unwrap_or(SignedDuration::MAX);
        Some(now.saturating_add(timeout).unwrap_or(now))
    };
    let count = recipients.len();
    let outcome = store.record_escalation_step(
        incident.id,
        &EscalationStepRecord {
            step: escalation.next_step,
            cycle,
            rota,
            recipients,
            next_due,
        },
        now,
    )?;
    if outcome == StepOutcome::Recorded {
        pass.pages += count;
        // Move straight on only when nobody could be paged at this step.
        return Ok(count == 0 && !is_last);
    }
    Ok(false)
}

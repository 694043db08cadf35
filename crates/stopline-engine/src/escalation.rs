//! Moves escalations on: for every escalation that has come due, asks the rule
//! (`stopline_core::escalation::decide`) who to page, and records the step in the store.
//!
//! This is plain synchronous code over a store, a config and a `now`: tests move time by
//! passing a later `now`, and the pager calls it on every tick. Nothing here shows a
//! notification; delivery reads the pages this records (see `pager`).

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::escalation::{EscalationDecision, decide};
use stopline_core::ids::PersonId;
use stopline_core::reach::{PlannedMessage, plan};
use stopline_store::{StepOutcome, Store};

use crate::Result;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Pages recorded, one per person and step.
    pub pages: usize,
    /// Escalations held until the next working day.
    pub deferred: usize,
}

/// Whether pages reach people's contacts (`stopline_core::reach::plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contacts<'a> {
    /// A desktop joined to a hub, escalating alone while the hub is away: the hub pages
    /// people away from their desks.
    Off,
    /// On, with who sits at this desktop: their messages wait out the desktop grace; anyone
    /// else has no desktop here, and theirs go at once.
    On { here: Option<&'a PersonId> },
}

/// A pass never takes more rounds than this, so a config where nobody holds any layer cannot
/// spin: the rest waits for the next tick.
const MAX_ROUNDS_PER_PASS: usize = 100;

/// Records every escalation step due at `now`. Each round decides for every due escalation,
/// then records all the decisions in one transaction; a further round runs only for steps that
/// paged nobody (a layer no one holds yet), which move straight on.
/// Each page also queues messages to its person's contacts, unless `contacts` is off (see
/// [`Contacts`]).
pub fn escalate(
    store: &mut Store,
    config: &Config,
    now: Timestamp,
    contacts: Contacts<'_>,
) -> Result<EscalationPass> {
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
        let planned: Vec<Vec<PlannedMessage>> = decisions
            .iter()
            .map(|decision| match decision {
                EscalationDecision::Step { record, .. } => match contacts {
                    Contacts::Off => Vec::new(),
                    Contacts::On { here } => record
                        .recipients
                        .iter()
                        .flat_map(|r| plan(config, &r.person, now, here == Some(&r.person)))
                        .collect(),
                },
                _ => Vec::new(),
            })
            .collect();
        let outcomes = store.record_escalations(&decisions, &planned, now)?;
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

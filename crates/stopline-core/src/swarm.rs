//! Stop The Line: the swarm's checklist, the incident roles, and when a team's line is stopped.
//!
//! When an alert fires, the owning team halts feature work and swarms (docs/domain.md). The
//! checklist guides it (`checklist`), roles say who leads, who talks to stakeholders and who
//! writes things down (`roles`), and the team's line stays stopped while an incident holds it
//! (`line`). Each rule is a function of the state it reads and `now`; a store applies the
//! decision, and refuses with a [`SwarmError`] that says why.

mod checklist;
mod line;
mod roles;

pub use checklist::{
    ASSEMBLE_SWARM, ChecklistStep, NAME_COMMANDER, RESTART_THE_LINE, SWARM_ASSEMBLED_AT,
    StepChange, StepState, StepTemplate, change_step, change_step_from, checklist_for,
    default_checklist, gate_resolve, open_required, started_event, starts_on_sight,
    ticked_by_roles,
};
pub use line::{
    HoldFacts, LineHold, LineState, LineStatus, LineStopsOn, held_for, holds_line, stopped_time,
};
pub use roles::{Role, RoleChange, RoleHolding, join, leave, name as name_role, name_replacing};

use crate::incident::IncidentId;

/// Why the swarm's rules refuse a change. Nothing was changed. The messages say what is wrong,
/// not which button or flag to use: each host adds its own hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwarmError {
    #[error(
        "{0}'s checklist starts when it is acknowledged (or opened by the service desk): acknowledge it first"
    )]
    ChecklistNotStarted(IncidentId),
    #[error("{id} has no step {step:?}: its steps are {}", known.join(", "))]
    UnknownStep {
        id: IncidentId,
        step: String,
        known: Vec<String>,
    },
    #[error("skipping step {step:?} needs a reason")]
    SkipWithoutReason { step: String },
    #[error("nothing to change: give a state (todo, doing, done, skip) or an assignee")]
    NothingToChange,
    #[error("{id} has required checklist steps still open: {}", steps.join(", "))]
    OpenSteps { id: IncidentId, steps: Vec<String> },
    #[error("{holder} is already the {} of {id} (one {} at a time)", role.title(), role.title())]
    RoleTaken {
        id: IncidentId,
        role: Role,
        holder: String,
    },
    #[error("{person} is already the {} of {id}", role.title())]
    AlreadyInRole {
        id: IncidentId,
        role: Role,
        person: String,
    },
    #[error("{person} is not in the swarm on {id}: join it first")]
    NotInSwarm { id: IncidentId, person: String },
    /// A change made on a step as someone saw it, which someone else has changed since, and
    /// which would not move it forward from where it is now.
    #[error(
        "step {step:?} is {found} now (by {by}), not {expected} as when this change was made; \
         it stays {found}"
    )]
    StepMoved {
        step: String,
        expected: &'static str,
        found: &'static str,
        by: String,
    },
    /// A naming that replaces a holder who no longer holds the role (or names nobody to replace
    /// while someone does).
    #[error(
        "{} of {id} is {} now, not {} as when this was asked; nothing changed",
        role.title(),
        holder.as_deref().unwrap_or("nobody"),
        expected.as_deref().unwrap_or("nobody")
    )]
    HolderChanged {
        id: IncidentId,
        role: Role,
        holder: Option<String>,
        expected: Option<String>,
    },
}

//! The Stop The Line checklist: its templates, the steps copied onto an incident, and the rules
//! for changing them. A checklist is copied onto the incident when it is acknowledged (or opened
//! by the service desk), so editing the config later never rewrites an incident already under way.
//! A required step must be done or skipped (with a reason) before the incident resolves, unless a
//! person overrides that, which is recorded.

use jiff::Timestamp;
use serde::Serialize;

use super::SwarmError;
use crate::ids::{PersonId, StepId};
use crate::incident::{Incident, IncidentId, IncidentState};
use crate::timeline::{TimelineEvent, TimelineKind};

/// The step whose completion restarts the team's line.
pub const RESTART_THE_LINE: &str = "restart-the-line";
/// The step a commander's naming ticks.
pub const NAME_COMMANDER: &str = "name-commander";
/// The step the swarm's assembling ticks.
pub const ASSEMBLE_SWARM: &str = "assemble-swarm";
/// How many people make a swarm assembled: the one who took it on and at least one more.
pub const SWARM_ASSEMBLED_AT: usize = 2;

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

/// One step of an incident's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistStep {
    pub step: StepId,
    pub title: String,
    pub required: bool,
    pub runbook: Option<String>,
    pub state: StepState,
    pub assignee: Option<PersonId>,
    /// Why it was skipped.
    pub reason: Option<String>,
    /// Who last changed it, and when.
    pub changed_by: Option<PersonId>,
    pub changed_at: Option<Timestamp>,
}

/// A change to one step: a new state, a new assignee, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepChange {
    pub state: Option<StepState>,
    /// Required (non-empty) when skipping.
    pub reason: Option<String>,
    pub assignee: Option<PersonId>,
}

impl StepChange {
    /// Neither a state nor an assignee: nothing to do.
    pub fn is_empty(&self) -> bool {
        self.state.is_none() && self.assignee.is_none()
    }
}

/// Whether an incident's checklist starts the first time someone looks at it: when it was
/// acknowledged at its source (a PagerDuty acknowledge), not by a person here. An incident a
/// person acknowledged, or the service desk opened, has its checklist already; a triggered one
/// opened by an alert waits for its acknowledgement.
pub fn starts_on_sight(incident: &Incident) -> bool {
    incident.state != IncidentState::Triggered || incident.opened_by.is_some()
}

/// The timeline entry of a checklist starting with `steps`.
pub fn started_event(steps: &[StepTemplate], now: Timestamp) -> TimelineEvent {
    let required = steps.iter().filter(|s| s.required).count();
    TimelineEvent {
        at: now,
        who: None,
        kind: TimelineKind::Checklist,
        detail: format!(
            "Stop The Line checklist started: {} steps, {required} required",
            steps.len()
        ),
    }
}

/// What changing one step comes to: the step as it is after, and its timeline entry. Refused,
/// naming why, for an incident with no checklist yet, an unknown step, a skip without a reason,
/// or a change that changes nothing.
pub fn change_step(
    id: IncidentId,
    steps: &[ChecklistStep],
    step: &str,
    change: &StepChange,
    who: &PersonId,
    now: Timestamp,
) -> Result<(ChecklistStep, TimelineEvent), SwarmError> {
    if change.is_empty() {
        return Err(SwarmError::NothingToChange);
    }
    if steps.is_empty() {
        return Err(SwarmError::ChecklistNotStarted(id));
    }
    let Some(current) = steps.iter().find(|s| s.step.as_str() == step) else {
        return Err(SwarmError::UnknownStep {
            id,
            step: step.to_owned(),
            known: steps.iter().map(|s| s.step.to_string()).collect(),
        });
    };
    let state = change.state.unwrap_or(current.state);
    let reason = match state {
        StepState::Skipped => {
            let given = change
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned);
            // Still skipped, only re-assigned: the reason stands.
            let kept = change
                .state
                .is_none()
                .then(|| current.reason.clone())
                .flatten();
            Some(
                given
                    .or(kept)
                    .ok_or_else(|| SwarmError::SkipWithoutReason {
                        step: step.to_owned(),
                    })?,
            )
        }
        _ => None,
    };
    let after = ChecklistStep {
        state,
        reason: reason.clone(),
        assignee: change.assignee.clone().or_else(|| current.assignee.clone()),
        changed_by: Some(who.clone()),
        changed_at: Some(now),
        ..current.clone()
    };
    let mut said = Vec::new();
    if change.state.is_some() {
        said.push(match &reason {
            Some(reason) => format!("skipped ({reason})"),
            None => state.as_str().to_owned(),
        });
    }
    if let Some(assignee) = &change.assignee {
        said.push(format!("assigned to {assignee}"));
    }
    let event = TimelineEvent {
        at: now,
        who: Some(who.clone()),
        kind: TimelineKind::Checklist,
        detail: format!("{}: {}", current.title, said.join(", ")),
    };
    Ok((after, event))
}

/// The steps that tick themselves now that the swarm's roles are `roles` (everyone who held
/// one; those still holding count): a commander named ticks "Name an incident commander", and
/// [`SWARM_ASSEMBLED_AT`] people in the swarm (leads and responders) tick "Assemble the swarm".
/// A step already done or skipped is left as it is; each tick is a change by `who` (whose
/// action it followed) with its own timeline entry saying why.
pub fn ticked_by_roles(
    id: IncidentId,
    steps: &[ChecklistStep],
    roles: &[super::RoleHolding],
    who: &PersonId,
    now: Timestamp,
) -> Vec<(ChecklistStep, TimelineEvent)> {
    let holding: Vec<&super::RoleHolding> = roles.iter().filter(|r| r.until.is_none()).collect();
    let mut people: Vec<&PersonId> = holding.iter().map(|r| &r.person).collect();
    people.sort();
    people.dedup();
    let mut why: Vec<(&str, String)> = Vec::new();
    if let Some(commander) = holding.iter().find(|r| r.role == super::Role::Commander) {
        why.push((
            NAME_COMMANDER,
            format!("{} is the commander", commander.person),
        ));
    }
    if people.len() >= SWARM_ASSEMBLED_AT {
        why.push((
            ASSEMBLE_SWARM,
            format!("{} people in the swarm", people.len()),
        ));
    }
    let done = StepChange {
        state: Some(StepState::Done),
        ..StepChange::default()
    };
    why.into_iter()
        .filter(|(step, _)| {
            steps
                .iter()
                .any(|s| s.step.as_str() == *step && !s.state.is_closed())
        })
        .filter_map(|(step, reason)| {
            let (after, mut event) = change_step(id, steps, step, &done, who, now).ok()?;
            event.detail = format!("{} (ticked itself: {reason})", event.detail);
            Some((after, event))
        })
        .collect()
}

/// How far along a state is: todo, then doing, then done or skipped.
fn progress(state: StepState) -> u8 {
    match state {
        StepState::Todo => 0,
        StepState::Doing => 1,
        StepState::Done | StepState::Skipped => 2,
    }
}

/// [`change_step`] for a change made on the step as someone saw it (`from`), the rule when
/// changes arrive late from several desktops: compare and set. While the step is still in
/// `from`, the change applies; when someone has changed it since, the change still applies if
/// it moves the step forward from where it is now (a late "done" on a step now "doing"), and is
/// refused, saying who moved it, otherwise (a late "doing" on a step now "done"). An assignee
/// alone always applies: the last to arrive wins.
pub fn change_step_from(
    id: IncidentId,
    steps: &[ChecklistStep],
    step: &str,
    from: StepState,
    change: &StepChange,
    who: &PersonId,
    now: Timestamp,
) -> Result<(ChecklistStep, TimelineEvent), SwarmError> {
    if let (Some(current), Some(wanted)) =
        (steps.iter().find(|s| s.step.as_str() == step), change.state)
        && current.state != from
        && progress(wanted) <= progress(current.state)
    {
        return Err(SwarmError::StepMoved {
            step: step.to_owned(),
            expected: from.as_str(),
            found: current.state.as_str(),
            by: current
                .changed_by
                .as_ref()
                .map_or_else(|| "stopline".to_owned(), ToString::to_string),
        });
    }
    change_step(id, steps, step, change, who, now)
}

/// The required steps neither done nor skipped.
pub fn open_required(steps: &[ChecklistStep]) -> Vec<String> {
    steps
        .iter()
        .filter(|s| s.required && !s.state.is_closed())
        .map(|s| s.step.to_string())
        .collect()
}

/// Whether an incident with these steps may resolve: refused while required steps are open,
/// unless `force`, which says so on the resolution's timeline entry (`event`).
pub fn gate_resolve(
    id: IncidentId,
    steps: &[ChecklistStep],
    force: bool,
    event: &mut TimelineEvent,
) -> Result<(), SwarmError> {
    let open = open_required(steps);
    if open.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(SwarmError::OpenSteps { id, steps: open });
    }
    event.detail = format!(
        "{}, overriding required checklist steps still open: {}",
        event.detail,
        open.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn steps() -> Vec<ChecklistStep> {
        default_checklist()
            .iter()
            .map(|t| ChecklistStep {
                step: t.id.clone(),
                title: t.title.clone(),
                required: t.required,
                runbook: None,
                state: StepState::Todo,
                assignee: None,
                reason: None,
                changed_by: None,
                changed_at: None,
            })
            .collect()
    }

    fn at() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn naming_a_commander_and_a_second_person_tick_their_steps_once() {
        use crate::swarm::{Role, RoleHolding};
        let person = |id: &str| PersonId::new(id).unwrap();
        let holding = |role, who: &str, until: Option<Timestamp>| RoleHolding {
            role,
            person: person(who),
            since: at(),
            until,
            named_by: None,
        };
        let ticked = |steps: &[ChecklistStep], roles: &[RoleHolding]| {
            ticked_by_roles(IncidentId(1), steps, roles, &person("ben"), at())
                .into_iter()
                .map(|(after, event)| (after.step.to_string(), event.detail))
                .collect::<Vec<_>>()
        };
        // Ben commands alone: the commander step ticks, the swarm is one person.
        let alone = [holding(Role::Commander, "ben", None)];
        assert_eq!(
            ticked(&steps(), &alone),
            [(
                NAME_COMMANDER.to_owned(),
                "Name an incident commander: done (ticked itself: ben is the commander)".to_owned()
            )]
        );
        // Aisha joins: two people, the swarm has assembled. The commander step, done already,
        // is not ticked twice.
        let mut after_naming = steps();
        after_naming[2].state = StepState::Done;
        let two = [
            holding(Role::Commander, "ben", None),
            holding(Role::Responder, "aisha", None),
        ];
        assert_eq!(
            ticked(&after_naming, &two),
            [(
                ASSEMBLE_SWARM.to_owned(),
                "Assemble the swarm: done (ticked itself: 2 people in the swarm)".to_owned()
            )]
        );
        // Someone who left does not count; a skipped step stays skipped; one person with two
        // roles is one person.
        let left = [
            holding(Role::Responder, "aisha", Some(at())),
            holding(Role::Scribe, "ben", None),
            holding(Role::Responder, "ben", None),
        ];
        assert!(ticked(&steps(), &left).is_empty());
        let mut skipped = steps();
        skipped[2].state = StepState::Skipped;
        assert!(ticked(&skipped, &alone).is_empty());
        // No checklist yet: nothing to tick.
        assert!(ticked(&[], &two).is_empty());
    }

    #[test]
    fn a_skip_needs_a_reason_and_a_reassignment_keeps_it() {
        let ben = PersonId::new("ben").unwrap();
        let skip = StepChange {
            state: Some(StepState::Skipped),
            ..StepChange::default()
        };
        let refused = change_step(IncidentId(1), &steps(), "diagnose", &skip, &ben, at());
        assert!(matches!(refused, Err(SwarmError::SkipWithoutReason { .. })));
        let with_reason = StepChange {
            reason: Some(" known cause ".into()),
            ..skip
        };
        let (skipped, event) = change_step(
            IncidentId(1),
            &steps(),
            "diagnose",
            &with_reason,
            &ben,
            at(),
        )
        .unwrap();
        assert_eq!(skipped.reason.as_deref(), Some("known cause"));
        assert_eq!(event.detail, "Diagnose: skipped (known cause)");
        let mut now = steps();
        now[5] = skipped;
        let assign = StepChange {
            assignee: Some(PersonId::new("aisha").unwrap()),
            ..StepChange::default()
        };
        let (reassigned, _) =
            change_step(IncidentId(1), &now, "diagnose", &assign, &ben, at()).unwrap();
        assert_eq!(reassigned.state, StepState::Skipped);
        assert_eq!(reassigned.reason.as_deref(), Some("known cause"));
    }

    #[test]
    fn a_late_change_applies_while_the_step_is_as_seen_or_when_it_moves_it_forward() {
        let (ben, aisha) = (
            PersonId::new("ben").unwrap(),
            PersonId::new("aisha").unwrap(),
        );
        let to = |state| StepChange {
            state: Some(state),
            ..StepChange::default()
        };
        let mut now = steps();
        now[5].state = StepState::Doing;
        now[5].changed_by = Some(aisha.clone());
        // Ben saw it todo and marked it done: aisha has started it since, but done is further.
        let (done, _) = change_step_from(
            IncidentId(1),
            &now,
            "diagnose",
            StepState::Todo,
            &to(StepState::Done),
            &ben,
            at(),
        )
        .unwrap();
        assert_eq!(done.state, StepState::Done);
        // Ben saw it todo and started it: aisha's start is already there, so his is refused.
        let late = change_step_from(
            IncidentId(1),
            &now,
            "diagnose",
            StepState::Todo,
            &to(StepState::Doing),
            &ben,
            at(),
        );
        assert_eq!(
            late.unwrap_err().to_string(),
            "step \"diagnose\" is doing now (by aisha), not todo as when this change was made; it stays doing"
        );
        // Reopening a step applies only while it is as the person saw it.
        now[5].state = StepState::Done;
        let reopen = to(StepState::Todo);
        assert!(
            change_step_from(
                IncidentId(1),
                &now,
                "diagnose",
                StepState::Done,
                &reopen,
                &ben,
                at()
            )
            .is_ok()
        );
        assert!(
            change_step_from(
                IncidentId(1),
                &now,
                "diagnose",
                StepState::Doing,
                &reopen,
                &ben,
                at()
            )
            .is_err()
        );
        // An assignee alone always applies.
        let assign = StepChange {
            assignee: Some(ben.clone()),
            ..StepChange::default()
        };
        assert!(
            change_step_from(
                IncidentId(1),
                &now,
                "diagnose",
                StepState::Todo,
                &assign,
                &ben,
                at()
            )
            .is_ok()
        );
    }

    #[test]
    fn unknown_steps_and_empty_changes_are_refused_by_name() {
        let ben = PersonId::new("ben").unwrap();
        let done = StepChange {
            state: Some(StepState::Done),
            ..StepChange::default()
        };
        match change_step(IncidentId(3), &steps(), "nap", &done, &ben, at()) {
            Err(SwarmError::UnknownStep { step, known, .. }) => {
                assert_eq!(step, "nap");
                assert!(known.contains(&"diagnose".to_owned()));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            change_step(IncidentId(3), &[], "diagnose", &done, &ben, at()),
            Err(SwarmError::ChecklistNotStarted(IncidentId(3)))
        ));
        assert!(matches!(
            change_step(
                IncidentId(3),
                &steps(),
                "diagnose",
                &StepChange::default(),
                &ben,
                at()
            ),
            Err(SwarmError::NothingToChange)
        ));
    }

    #[test]
    fn resolving_waits_for_required_steps_unless_forced() {
        let mut event = TimelineEvent {
            at: at(),
            who: None,
            kind: TimelineKind::Resolved,
            detail: "resolved by ben".into(),
        };
        let refused = gate_resolve(IncidentId(2), &steps(), false, &mut event);
        match refused {
            Err(SwarmError::OpenSteps { steps, .. }) => assert_eq!(steps.len(), 8),
            other => panic!("{other:?}"),
        }
        assert_eq!(event.detail, "resolved by ben", "a refusal changes nothing");
        gate_resolve(IncidentId(2), &steps(), true, &mut event).unwrap();
        assert!(event.detail.starts_with(
            "resolved by ben, overriding required checklist steps still open: stop-the-line"
        ));
        let closed: Vec<ChecklistStep> = steps()
            .into_iter()
            .map(|s| ChecklistStep {
                state: StepState::Done,
                ..s
            })
            .collect();
        let mut plain = event.clone();
        plain.detail = "resolved by ben".into();
        gate_resolve(IncidentId(2), &closed, false, &mut plain).unwrap();
        assert_eq!(plain.detail, "resolved by ben");
    }
}

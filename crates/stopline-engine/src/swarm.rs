//! What the swarm does to an incident, and whether a team's line is stopped.
//!
//! Each operation names people from the config (an unknown person is refused before anything is
//! written) and commits one store transaction with its timeline entry; the rules themselves are
//! `stopline_core::swarm`'s and `stopline_core::severity`'s.

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::incident::{Incident, IncidentId, Severity};
use stopline_core::severity;
use stopline_core::swarm::{
    ChecklistStep, LineState, Role, StepChange, StepState, SwarmError, held_for, starts_on_sight,
};
use stopline_core::team::TeamKind;
use stopline_store::Store;

use crate::Result;
use crate::lookup::person;

/// The incident's checklist. An incident acknowledged at its source (a PagerDuty acknowledge)
/// has none yet: its checklist starts here, the first time someone looks.
pub fn checklist(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    now: Timestamp,
) -> Result<Vec<ChecklistStep>> {
    let incident = store.incident_record(id)?;
    if starts_on_sight(&incident) {
        let template = config.checklist_for(incident.team.as_ref(), incident.application.as_ref());
        store.start_checklist(id, &template, now)?;
    }
    Ok(store.checklist(id)?)
}

/// What someone asks of one step: a new state (`skipped` needs a reason), a new assignee, or
/// both. People are ids from the config.
#[derive(Debug, Clone, Copy)]
pub struct StepRequest<'a> {
    pub step: &'a str,
    pub state: Option<StepState>,
    pub reason: Option<&'a str>,
    pub assignee: Option<&'a str>,
}

/// Changes one step as `who`.
pub fn change_step(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    request: StepRequest<'_>,
    who: &str,
    now: Timestamp,
) -> Result<ChecklistStep> {
    let who = person(config, who)?;
    let assignee = request.assignee.map(|a| person(config, a)).transpose()?;
    let change = StepChange {
        state: request.state,
        reason: request.reason.map(str::to_owned),
        assignee,
    };
    // Refused before the checklist starts: a refused request changes nothing.
    if change.is_empty() {
        return Err(SwarmError::NothingToChange.into());
    }
    checklist(store, config, id, now)?;
    Ok(store.change_step(id, request.step, &change, &who, now)?)
}

/// Who takes which role: commander, communications lead or scribe (`handover` when someone
/// else holds it now), or responder, which joins them to the swarm.
#[derive(Debug, Clone, Copy)]
pub struct RoleRequest<'a> {
    pub role: Role,
    pub person: &'a str,
    pub handover: bool,
}

/// Names someone to a role, as `who`.
pub fn name_role(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    request: RoleRequest<'_>,
    who: &str,
    now: Timestamp,
) -> Result<()> {
    let who = person(config, who)?;
    let holder = person(config, request.person)?;
    if request.role == Role::Responder {
        return Ok(store.join(id, &holder, now)?);
    }
    Ok(store.name_role(id, request.role, &holder, request.handover, &who, now)?)
}

pub fn join(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    who: &str,
    now: Timestamp,
) -> Result<()> {
    let who = person(config, who)?;
    Ok(store.join(id, &who, now)?)
}

pub fn leave(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    who: &str,
    now: Timestamp,
) -> Result<()> {
    let who = person(config, who)?;
    Ok(store.leave(id, &who, now)?)
}

/// A person's severity: the severity, why (required), and optionally their estimate of the
/// loss, which reports then use instead of exposure × duration.
#[derive(Debug, Clone, Copy)]
pub struct SeverityRequest<'a> {
    pub severity: Severity,
    pub reason: &'a str,
    pub loss: Option<u64>,
}

/// A person sets the severity (see `stopline_core::severity::set_by_person`).
pub fn override_severity(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    request: SeverityRequest<'_>,
    who: &str,
    now: Timestamp,
) -> Result<Incident> {
    let who = person(config, who)?;
    Ok(store.set_severity(id, |incident| {
        severity::set_by_person(
            incident,
            request.severity,
            request.reason,
            request.loss,
            &who,
            now,
        )
    })?)
}

/// Raises what money says to raise (see `stopline_core::severity::raise_by_money`). Returns the
/// incidents raised.
pub fn raise_severities(
    store: &mut Store,
    config: &Config,
    now: Timestamp,
) -> Result<Vec<IncidentId>> {
    let raises: Vec<_> = store
        .open_incidents_for_severity()?
        .iter()
        .filter_map(|(incident, set_by_person)| {
            severity::raise_by_money(config, incident, *set_by_person, now)
                .map(|r| (incident.id, r))
        })
        .collect();
    Ok(store.record_severity_raises(&raises)?)
}

/// The line of `team` (a delivery team in the config) at `now`.
pub fn line(store: &Store, config: &Config, team: &str, now: Timestamp) -> Result<LineState> {
    let team = crate::lookup::delivery_team(config, team)?.id.clone();
    let holds = store.line_holds(Some(&team), config.line_stops_on)?;
    Ok(LineState::of(&team, &holds, now))
}

/// Every delivery team's line, in config order.
pub fn lines(store: &Store, config: &Config, now: Timestamp) -> Result<Vec<LineState>> {
    let holds = store.line_holds(None, config.line_stops_on)?;
    Ok(config
        .teams
        .iter()
        .filter(|t| t.kind == TeamKind::Delivery)
        .map(|t| LineState::of(&t.id, &holds, now))
        .collect())
}

/// How long `incident` held its team's line (for the review), if it did.
pub fn line_stopped_by(
    store: &Store,
    config: &Config,
    incident: &Incident,
    now: Timestamp,
) -> Result<Option<jiff::SignedDuration>> {
    let Some(team) = &incident.team else {
        return Ok(None);
    };
    let holds = store.line_holds(Some(team), config.line_stops_on)?;
    Ok(held_for(incident.id, &holds, now))
}

//! What the swarm does to an incident, and whether a team's line is stopped.
//!
//! Each operation names people from the config (an unknown person is refused before anything is
//! written) and commits one store transaction with its timeline entry.

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_core::incident::{Incident, IncidentId, IncidentState, Severity};
use stopline_core::swarm::{Role, StepState, stopped_time};
use stopline_core::target::format_duration;
use stopline_core::team::TeamKind;
use stopline_store::{ChecklistStep, StepChange, Store};

use crate::desk::person;
use crate::{EngineError, Result};

/// The incident's checklist. An incident acknowledged at its source (a PagerDuty acknowledge)
/// has none yet: its checklist starts here, the first time someone looks.
pub fn checklist(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    now: Timestamp,
) -> Result<Vec<ChecklistStep>> {
    let incident = store.incident_record(id)?;
    if incident.state != IncidentState::Triggered || incident.opened_by.is_some() {
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
    if request.state.is_none() && assignee.is_none() {
        return Err(EngineError::NothingToChange);
    }
    checklist(store, config, id, now)?;
    Ok(store.change_step(
        id,
        request.step,
        &StepChange {
            state: request.state,
            reason: request.reason.map(str::to_owned),
            assignee,
        },
        &who,
        now,
    )?)
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

/// A person sets the severity; the reason is required and goes on the timeline.
pub fn override_severity(
    store: &mut Store,
    config: &Config,
    id: IncidentId,
    request: SeverityRequest<'_>,
    who: &str,
    now: Timestamp,
) -> Result<Incident> {
    let who = person(config, who)?;
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(EngineError::ReasonRequired("a severity override"));
    }
    Ok(store.override_severity(id, (request.severity, reason, request.loss), &who, now)?)
}

/// Raises minor incidents to major once their estimated loss (the projected loss, or the loss
/// so far once the incident has lasted longer than expected) reaches the workspace's threshold.
pub fn revise_severities(
    store: &mut Store,
    config: &Config,
    now: Timestamp,
) -> Result<Vec<IncidentId>> {
    let currency = config.workspace.currency.clone();
    Ok(store.revise_severities(now, |incident| {
        let app = config.application(incident.application.as_ref()?)?;
        let elapsed = std::time::Duration::try_from(now.duration_since(incident.opened_at)).ok()?;
        let severity = config.severity_after(app, elapsed);
        (severity == Severity::Major).then(|| {
            (
                severity,
                format!(
                    "estimated loss {currency} {} after {}",
                    stopline_core::money::group_thousands(app.estimated_loss(elapsed)),
                    format_duration(now.duration_since(incident.opened_at))
                ),
            )
        })
    })?)
}

/// Whether a team's line runs, and what holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineState {
    pub team: String,
    /// `running` or `stopped`.
    pub state: &'static str,
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
        self.state == "stopped"
    }
}

/// The line of `team` (a delivery team in the config) at `now`.
pub fn line(store: &Store, config: &Config, team: &str, now: Timestamp) -> Result<LineState> {
    let team = crate::lookup::delivery_team(config, team)?.id.clone();
    let holds = store.line_holds(Some(&team), config.line_stops_on)?;
    let holding: Vec<_> = holds.iter().filter(|h| h.until.is_none()).collect();
    let spans: Vec<_> = holds.iter().map(|h| (h.since, h.until)).collect();
    let stopped = stopped_time(&spans, Timestamp::MIN, Timestamp::MAX, now);
    Ok(LineState {
        team: team.to_string(),
        state: if holding.is_empty() {
            "running"
        } else {
            "stopped"
        },
        since: holding.iter().map(|h| h.since).min(),
        incidents: holding.iter().map(|h| h.incident).collect(),
        stopped_seconds: stopped.as_secs(),
    })
}

/// Every delivery team's line, in config order.
pub fn lines(store: &Store, config: &Config, now: Timestamp) -> Result<Vec<LineState>> {
    config
        .teams
        .iter()
        .filter(|t| t.kind == TeamKind::Delivery)
        .map(|t| line(store, config, t.id.as_str(), now))
        .collect()
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
    Ok(store
        .line_holds(Some(team), config.line_stops_on)?
        .into_iter()
        .find(|h| h.incident == incident.id)
        .map(|h| h.until.unwrap_or(now).duration_since(h.since)))
}

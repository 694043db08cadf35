//! The swarm's record: each incident's checklist, the roles people hold, and severity set by a
//! person. Every change is one transaction with its timeline entry; a refused change (an
//! unknown step, a second commander) changes nothing.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Transaction, params};
use stopline_core::ids::{PersonId, StepId};
use stopline_core::incident::{Incident, IncidentId, Severity};
use stopline_core::swarm::{Role, StepState, StepTemplate};
use stopline_core::timeline::{TimelineEvent, TimelineKind};

use crate::incidents::{append, load, parse_id, sql_id};
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// One step of an incident's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A person in a role, from `since` until `until` (`None`: still).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolding {
    pub role: Role,
    pub person: PersonId,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    pub named_by: Option<PersonId>,
}

impl Store {
    /// The incident's checklist in order; empty before the swarm starts.
    pub fn checklist(&self, id: IncidentId) -> Result<Vec<ChecklistStep>> {
        load(&self.conn, id)?;
        read_checklist(&self.conn, id)
    }

    /// Starts the checklist from `steps` unless it has started already; `true` when it started
    /// now. The acknowledgement (or the service desk's opening) starts it in the same
    /// transaction; this is for incidents acknowledged at their source.
    pub fn start_checklist(
        &mut self,
        id: IncidentId,
        steps: &[StepTemplate],
        now: Timestamp,
    ) -> Result<bool> {
        self.write(|tx| {
            load(tx, id)?;
            start(tx, id, steps, now)
        })
    }

    /// Changes one step as `who`.
    pub fn change_step(
        &mut self,
        id: IncidentId,
        step: &str,
        change: &StepChange,
        who: &PersonId,
        now: Timestamp,
    ) -> Result<ChecklistStep> {
        self.write(|tx| {
            load(tx, id)?;
            let steps = read_checklist(tx, id)?;
            if steps.is_empty() {
                return Err(StoreError::ChecklistNotStarted(id));
            }
            let Some(current) = steps.iter().find(|s| s.step.as_str() == step) else {
                return Err(StoreError::UnknownStep {
                    id,
                    step: step.to_owned(),
                    known: steps.iter().map(|s| s.step.to_string()).collect(),
                });
            };
            let state = change.state.unwrap_or(current.state);
            let reason = match state {
                StepState::Skipped => {
                    let reason = change
                        .reason
                        .as_deref()
                        .map(str::trim)
                        .filter(|r| !r.is_empty())
                        .map(str::to_owned)
                        .or_else(|| {
                            // Still skipped, only re-assigned: the reason stands.
                            (change.state.is_none())
                                .then(|| current.reason.clone())
                                .flatten()
                        });
                    Some(reason.ok_or_else(|| StoreError::SkipWithoutReason {
                        step: step.to_owned(),
                    })?)
                }
                _ => None,
            };
            let assignee = change.assignee.clone().or_else(|| current.assignee.clone());
            tx.prepare_cached(
                "UPDATE checklist_steps SET state = ?3, reason = ?4, assignee = ?5,
                     changed_at = ?6, changed_by = ?7
                 WHERE incident_id = ?1 AND step = ?2",
            )?
            .execute(params![
                sql_id(id),
                step,
                state.as_str(),
                reason,
                assignee.as_ref().map(PersonId::as_str),
                to_millis(now),
                who.as_str(),
            ])?;
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
            append(
                tx,
                id,
                &TimelineEvent {
                    at: now,
                    who: Some(who.clone()),
                    kind: TimelineKind::Checklist,
                    detail: format!("{}: {}", current.title, said.join(", ")),
                },
            )?;
            read_checklist(tx, id)?
                .into_iter()
                .find(|s| s.step.as_str() == step)
                .ok_or_else(|| StoreError::Corrupt(format!("step {step} vanished")))
        })
    }

    /// Everyone who held a role on the incident, in the order they took it.
    pub fn roles(&self, id: IncidentId) -> Result<Vec<RoleHolding>> {
        load(&self.conn, id)?;
        self.conn
            .prepare_cached(
                "SELECT role, person, since, until, named_by FROM roles
                 WHERE incident_id = ?1 ORDER BY id",
            )?
            .query_map([sql_id(id)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })?
            .map(|row| {
                let (role, person, since, until, named_by) = row?;
                Ok(RoleHolding {
                    role: Role::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
                    person: parse_id(PersonId::new)(person)?,
                    since: from_millis(since)?,
                    until: until.map(from_millis).transpose()?,
                    named_by: named_by.map(parse_id(PersonId::new)).transpose()?,
                })
            })
            .collect()
    }

    /// Names `person` as commander, communications lead or scribe. While someone else holds
    /// the role, it takes `handover` (recorded as such); without it, the change is refused.
    pub fn name_role(
        &mut self,
        id: IncidentId,
        role: Role,
        person: &PersonId,
        handover: bool,
        who: &PersonId,
        now: Timestamp,
    ) -> Result<()> {
        debug_assert!(role != Role::Responder, "responders join and leave");
        self.write(|tx| {
            load(tx, id)?;
            let holder: Option<String> = tx
                .query_row(
                    "SELECT person FROM roles WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
                    params![sql_id(id), role.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            let detail = match holder {
                Some(holder) if holder == person.as_str() => {
                    return Err(StoreError::AlreadyInRole {
                        id,
                        role,
                        person: person.to_string(),
                    });
                }
                Some(holder) if !handover => {
                    return Err(StoreError::RoleTaken {
                        id,
                        role,
                        holder,
                    });
                }
                Some(holder) => {
                    tx.execute(
                        "UPDATE roles SET until = ?3 WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
                        params![sql_id(id), role.as_str(), to_millis(now)],
                    )?;
                    format!("{}: handed over from {holder} to {person}", role.title())
                }
                None => format!("{}: {person}", role.title()),
            };
            tx.execute(
                "INSERT INTO roles (incident_id, role, person, since, named_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sql_id(id), role.as_str(), person.as_str(), to_millis(now), who.as_str()],
            )?;
            append(tx, id, &role_event(now, who, detail))
        })
    }

    /// `person` joins the swarm as a responder.
    pub fn join(&mut self, id: IncidentId, person: &PersonId, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            load(tx, id)?;
            if is_responder(tx, id, person)? {
                return Err(StoreError::AlreadyInRole {
                    id,
                    role: Role::Responder,
                    person: person.to_string(),
                });
            }
            tx.execute(
                "INSERT INTO roles (incident_id, role, person, since, named_by) VALUES (?1, 'responder', ?2, ?3, ?2)",
                params![sql_id(id), person.as_str(), to_millis(now)],
            )?;
            append(tx, id, &role_event(now, person, format!("{person} joined the swarm")))
        })
    }

    /// `person` leaves the swarm.
    pub fn leave(&mut self, id: IncidentId, person: &PersonId, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            load(tx, id)?;
            if !is_responder(tx, id, person)? {
                return Err(StoreError::NotInSwarm {
                    id,
                    person: person.to_string(),
                });
            }
            tx.execute(
                "UPDATE roles SET until = ?3 WHERE incident_id = ?1 AND person = ?2 AND role = 'responder' AND until IS NULL",
                params![sql_id(id), person.as_str(), to_millis(now)],
            )?;
            append(tx, id, &role_event(now, person, format!("{person} left the swarm")))
        })
    }

    /// A person sets the severity, with a reason; from then on money no longer revises it.
    pub fn override_severity(
        &mut self,
        id: IncidentId,
        (severity, reason, loss): (Severity, &str, Option<u64>),
        who: &PersonId,
        now: Timestamp,
    ) -> Result<Incident> {
        self.write(|tx| {
            let incident = load(tx, id)?;
            let loss_sql = loss.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            tx.execute(
                "UPDATE incidents SET severity = ?2, severity_reason = ?3,
                     loss_override = COALESCE(?4, loss_override)
                 WHERE id = ?1",
                params![sql_id(id), severity.as_str(), reason, loss_sql],
            )?;
            let figure = loss
                .map(|l| {
                    format!(
                        "; estimated loss {}",
                        stopline_core::money::group_thousands(l)
                    )
                })
                .unwrap_or_default();
            append(
                tx,
                id,
                &TimelineEvent {
                    at: now,
                    who: Some(who.clone()),
                    kind: TimelineKind::Severity,
                    detail: format!(
                        "severity {} → {}: {reason}{figure}",
                        incident.severity.as_str(),
                        severity.as_str()
                    ),
                },
            )?;
            load(tx, id)
        })
    }

    /// Why a person set the incident's severity, if one did.
    pub fn severity_reason(&self, id: IncidentId) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT severity_reason FROM incidents WHERE id = ?1",
                [sql_id(id)],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()?
            .ok_or(StoreError::IncidentNotFound(id))
    }

    /// Raises open incidents' severity as money says (`revise` maps an incident to the severity
    /// its estimated loss gives now), unless a person set it. Returns the incidents raised.
    pub fn revise_severities(
        &mut self,
        now: Timestamp,
        revise: impl Fn(&Incident) -> Option<(Severity, String)>,
    ) -> Result<Vec<IncidentId>> {
        let candidates: Vec<Incident> = self
            .incidents(crate::IncidentFilter::Open)?
            .into_iter()
            .filter(|i| i.severity == Severity::Minor)
            .collect();
        let mut raised = Vec::new();
        let changes: Vec<(IncidentId, Severity, String)> = candidates
            .iter()
            .filter_map(|i| revise(i).map(|(s, why)| (i.id, s, why)))
            .filter(|(_, s, _)| *s == Severity::Major)
            .collect();
        if changes.is_empty() {
            return Ok(raised);
        }
        self.write(|tx| {
            for (id, severity, why) in &changes {
                let changed = tx.execute(
                    "UPDATE incidents SET severity = ?2
                     WHERE id = ?1 AND severity_reason IS NULL AND state <> 'resolved' AND severity <> ?2",
                    params![sql_id(*id), severity.as_str()],
                )?;
                if changed == 1 {
                    append(
                        tx,
                        *id,
                        &TimelineEvent {
                            at: now,
                            who: None,
                            kind: TimelineKind::Severity,
                            detail: format!("severity minor → {}: {why}", severity.as_str()),
                        },
                    )?;
                    raised.push(*id);
                }
            }
            Ok(())
        })?;
        Ok(raised)
    }
}

/// The required steps not yet done or skipped.
pub(crate) fn open_required_steps(
    tx: &rusqlite::Connection,
    id: IncidentId,
) -> Result<Vec<String>> {
    Ok(read_checklist(tx, id)?
        .into_iter()
        .filter(|s| s.required && !s.state.is_closed())
        .map(|s| s.step.to_string())
        .collect())
}

/// Copies `steps` onto the incident unless it has a checklist already.
pub(crate) fn start(
    tx: &Transaction<'_>,
    id: IncidentId,
    steps: &[StepTemplate],
    now: Timestamp,
) -> Result<bool> {
    if steps.is_empty() {
        return Ok(false);
    }
    let existing: i64 = tx.query_row(
        "SELECT count(*) FROM checklist_steps WHERE incident_id = ?1",
        [sql_id(id)],
        |row| row.get(0),
    )?;
    if existing > 0 {
        return Ok(false);
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO checklist_steps (incident_id, position, step, title, required, runbook, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'todo')",
    )?;
    for (position, step) in steps.iter().enumerate() {
        insert.execute(params![
            sql_id(id),
            i64::try_from(position).unwrap_or(i64::MAX),
            step.id.as_str(),
            step.title,
            step.required,
            step.runbook,
        ])?;
    }
    let required = steps.iter().filter(|s| s.required).count();
    append(
        tx,
        id,
        &TimelineEvent {
            at: now,
            who: None,
            kind: TimelineKind::Checklist,
            detail: format!(
                "Stop The Line checklist started: {} steps, {required} required",
                steps.len()
            ),
        },
    )?;
    Ok(true)
}

fn read_checklist(conn: &rusqlite::Connection, id: IncidentId) -> Result<Vec<ChecklistStep>> {
    conn.prepare_cached(
        "SELECT step, title, required, runbook, state, assignee, reason, changed_by, changed_at
         FROM checklist_steps WHERE incident_id = ?1 ORDER BY position",
    )?
    .query_map([sql_id(id)], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, bool>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, Option<String>>(5)?,
            row.get::<_, Option<String>>(6)?,
            row.get::<_, Option<String>>(7)?,
            row.get::<_, Option<i64>>(8)?,
        ))
    })?
    .map(|row| {
        let (step, title, required, runbook, state, assignee, reason, changed_by, changed_at) =
            row?;
        Ok(ChecklistStep {
            step: parse_id(StepId::new)(step)?,
            title,
            required,
            runbook,
            state: StepState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("step state {state:?}")))?,
            assignee: assignee.map(parse_id(PersonId::new)).transpose()?,
            reason,
            changed_by: changed_by.map(parse_id(PersonId::new)).transpose()?,
            changed_at: changed_at.map(from_millis).transpose()?,
        })
    })
    .collect()
}

fn is_responder(tx: &Transaction<'_>, id: IncidentId, person: &PersonId) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM roles WHERE incident_id = ?1 AND person = ?2 AND role = 'responder' AND until IS NULL",
            params![sql_id(id), person.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn role_event(at: Timestamp, who: &PersonId, detail: String) -> TimelineEvent {
    TimelineEvent {
        at,
        who: Some(who.clone()),
        kind: TimelineKind::Role,
        detail,
    }
}

/// One incident holding its team's line: from its acknowledgement until its "restart the line"
/// step was done or it resolved (`until` is `None` while it still holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineHold {
    pub team: stopline_core::ids::TeamId,
    pub incident: IncidentId,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
}

impl Store {
    /// Every hold on a line, past and present, oldest first: for `team`, or every team. Which
    /// incidents hold it is `stops_on`: major ones (the default) or any.
    pub fn line_holds(
        &self,
        team: Option<&stopline_core::ids::TeamId>,
        stops_on: stopline_core::swarm::LineStopsOn,
    ) -> Result<Vec<LineHold>> {
        self.conn
            .prepare_cached(
                "SELECT i.id, i.team_id, i.acknowledged_at, i.resolved_at, s.state, s.changed_at
                 FROM incidents i
                 LEFT JOIN checklist_steps s
                     ON s.incident_id = i.id AND s.step = ?3
                 WHERE i.team_id IS NOT NULL AND i.acknowledged_at IS NOT NULL
                     AND (?1 = 'any' OR i.severity = 'major')
                     AND (?2 IS NULL OR i.team_id = ?2)
                 ORDER BY i.acknowledged_at, i.id",
            )?
            .query_map(
                params![
                    stops_on.as_str(),
                    team.map(|t| t.as_str()),
                    stopline_core::swarm::RESTART_THE_LINE
                ],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, Option<i64>>(3)?,
                        row.get::<_, Option<String>>(4)?,
                        row.get::<_, Option<i64>>(5)?,
                    ))
                },
            )?
            .map(|row| {
                let (id, team, since, resolved, restart_state, restart_at) = row?;
                let restarted = match restart_state.as_deref() {
                    Some("done") => restart_at,
                    _ => None,
                };
                let until = match (resolved, restarted) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                Ok(LineHold {
                    team: parse_id(stopline_core::ids::TeamId::new)(team)?,
                    incident: IncidentId(
                        u64::try_from(id)
                            .map_err(|_| StoreError::Corrupt(format!("incident id {id}")))?,
                    ),
                    since: from_millis(since)?,
                    until: until.map(from_millis).transpose()?,
                })
            })
            .collect()
    }
}

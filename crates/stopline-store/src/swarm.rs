//! The swarm's record: each incident's checklist, the roles people hold, severity set by a
//! person or raised by money, and the line holds. The rules are `stopline-core`'s (`swarm`,
//! `severity`); each method here reads what a rule needs, asks it, and writes the decision with
//! its timeline entry in one transaction. A refused change changes nothing.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use stopline_core::ids::{PersonId, StepId, TeamId};
use stopline_core::incident::{Incident, IncidentId, Severity};
use stopline_core::severity::{SeverityError, SeverityOverride, SeverityRaise};
use stopline_core::swarm::{
    self as rules, ChecklistStep, HoldFacts, LineHold, LineStopsOn, RESTART_THE_LINE, Role,
    RoleHolding, StepChange, StepState, StepTemplate, started_event,
};

use crate::reports::ALERTS_CLEARED_AT;
use crate::rows::{
    INCIDENT_COLUMNS, append, incident_id, load, parse_id, read_incident, record_severity, sql_id,
};
use crate::{Result, Store, StoreError, from_millis, to_millis};

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

    /// Changes one step as `who` (see `stopline_core::swarm::change_step`).
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
            let (after, event) = rules::change_step(id, &steps, step, change, who, now)?;
            tx.prepare_cached(
                "UPDATE checklist_steps SET state = ?3, reason = ?4, assignee = ?5,
                     changed_at = ?6, changed_by = ?7
                 WHERE incident_id = ?1 AND step = ?2",
            )?
            .execute(params![
                sql_id(id),
                after.step.as_str(),
                after.state.as_str(),
                after.reason,
                after.assignee.as_ref().map(PersonId::as_str),
                to_millis(now),
                who.as_str(),
            ])?;
            append(tx, id, &event)?;
            Ok(after)
        })
    }

    /// Everyone who held a role on the incident, in the order they took it.
    pub fn roles(&self, id: IncidentId) -> Result<Vec<RoleHolding>> {
        load(&self.conn, id)?;
        read_roles(&self.conn, id)
    }

    /// Names `person` as commander, communications lead or scribe (see
    /// `stopline_core::swarm::name_role`: a handover while someone holds it).
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
            let holder = holder.map(parse_id(PersonId::new)).transpose()?;
            let change = rules::name_role(id, role, holder.as_ref(), person, handover, who, now)?;
            if change.ends.is_some() {
                tx.execute(
                    "UPDATE roles SET until = ?3 WHERE incident_id = ?1 AND role = ?2 AND until IS NULL",
                    params![sql_id(id), role.as_str(), to_millis(now)],
                )?;
            }
            let starts = &change.starts;
            tx.execute(
                "INSERT INTO roles (incident_id, role, person, since, named_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    sql_id(id),
                    starts.role.as_str(),
                    starts.person.as_str(),
                    to_millis(starts.since),
                    starts.named_by.as_ref().map(PersonId::as_str)
                ],
            )?;
            append(tx, id, &change.event)?;
            tick_steps(tx, id, who, now)
        })
    }

    /// `person` joins the swarm as a responder.
    pub fn join(&mut self, id: IncidentId, person: &PersonId, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            load(tx, id)?;
            let event = rules::join(id, is_responder(tx, id, person)?, person, now)?;
            tx.execute(
                "INSERT INTO roles (incident_id, role, person, since, named_by) VALUES (?1, 'responder', ?2, ?3, ?2)",
                params![sql_id(id), person.as_str(), to_millis(now)],
            )?;
            append(tx, id, &event)?;
            tick_steps(tx, id, person, now)
        })
    }

    /// `person` leaves the swarm.
    pub fn leave(&mut self, id: IncidentId, person: &PersonId, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            load(tx, id)?;
            let event = rules::leave(id, is_responder(tx, id, person)?, person, now)?;
            tx.execute(
                "UPDATE roles SET until = ?3 WHERE incident_id = ?1 AND person = ?2 AND role = 'responder' AND until IS NULL",
                params![sql_id(id), person.as_str(), to_millis(now)],
            )?;
            append(tx, id, &event)
        })
    }

    /// Records a person's severity (decided by `stopline_core::severity::set_by_person`): from
    /// then on money no longer revises it. `decide` sees the incident as it is in the
    /// transaction.
    pub fn set_severity(
        &mut self,
        id: IncidentId,
        decide: impl FnOnce(&Incident) -> std::result::Result<SeverityOverride, SeverityError>,
    ) -> Result<Incident> {
        self.write(|tx| {
            let incident = load(tx, id)?;
            let set = decide(&incident)?;
            let loss_sql = set.loss.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
            tx.execute(
                "UPDATE incidents SET severity = ?2, severity_reason = ?3,
                     loss_override = COALESCE(?4, loss_override)
                 WHERE id = ?1",
                params![sql_id(id), set.severity.as_str(), set.reason, loss_sql],
            )?;
            record_severity(tx, id, set.severity, set.event.at)?;
            append(tx, id, &set.event)?;
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

    /// Open incidents still losing money, newest first, each with whether a person set its
    /// severity: what money may raise (see `stopline_core::severity::raise_by_money`). One whose
    /// alerts have all cleared loses nothing more, so money cannot raise it.
    pub fn open_incidents_for_severity(&self) -> Result<Vec<(Incident, bool)>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {INCIDENT_COLUMNS}, severity_reason IS NOT NULL FROM incidents i
                 WHERE state <> 'resolved' AND {ALERTS_CLEARED_AT} IS NULL ORDER BY id DESC"
            ))?
            .query_map([], |row| {
                let set_by_person: bool = row.get(12)?;
                Ok(read_incident(row)?.map(|incident| (incident, set_by_person)))
            })?
            .map(|row| row?)
            .collect()
    }

    /// Records what money raised, in one transaction. A raise is recorded only while the
    /// incident is still open, at another severity and not set by a person since it was read.
    /// Returns the incidents raised.
    pub fn record_severity_raises(
        &mut self,
        raises: &[(IncidentId, SeverityRaise)],
    ) -> Result<Vec<IncidentId>> {
        if raises.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut raised = Vec::new();
            for (id, raise) in raises {
                let changed = tx.execute(
                    "UPDATE incidents SET severity = ?2
                     WHERE id = ?1 AND severity_reason IS NULL AND state <> 'resolved' AND severity <> ?2",
                    params![sql_id(*id), raise.severity.as_str()],
                )?;
                if changed == 1 {
                    record_severity(tx, *id, raise.severity, raise.event.at)?;
                    append(tx, *id, &raise.event)?;
                    raised.push(*id);
                }
            }
            Ok(raised)
        })
    }

    /// Every hold on a line, past and present, oldest first: for `team`, or every team (see
    /// `stopline_core::swarm::LineHold::of` for which incidents hold it, and until when).
    pub fn line_holds(
        &self,
        team: Option<&TeamId>,
        stops_on: LineStopsOn,
    ) -> Result<Vec<LineHold>> {
        let mut severities: HashMap<i64, Vec<(Timestamp, Severity)>> = HashMap::new();
        let rows = self
            .conn
            .prepare_cached(
                "SELECT h.incident_id, h.severity, h.since
                 FROM severity_history h JOIN incidents i ON i.id = h.incident_id
                 WHERE i.team_id IS NOT NULL AND i.acknowledged_at IS NOT NULL
                     AND (?1 IS NULL OR i.team_id = ?1)
                 ORDER BY h.incident_id, h.since, h.rowid",
            )?
            .query_map(params![team.map(TeamId::as_str)], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, severity, since) in rows {
            let severity = Severity::parse(&severity)
                .ok_or_else(|| StoreError::Corrupt(format!("severity {severity:?}")))?;
            severities
                .entry(id)
                .or_default()
                .push((from_millis(since)?, severity));
        }
        let facts = self
            .conn
            .prepare_cached(
                "SELECT i.id, i.team_id, i.acknowledged_at, i.resolved_at, s.state, s.changed_at
                 FROM incidents i
                 LEFT JOIN checklist_steps s
                     ON s.incident_id = i.id AND s.step = ?2
                 WHERE i.team_id IS NOT NULL AND i.acknowledged_at IS NOT NULL
                     AND (?1 IS NULL OR i.team_id = ?1)
                 ORDER BY i.acknowledged_at, i.id",
            )?
            .query_map(params![team.map(TeamId::as_str), RESTART_THE_LINE], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, Option<i64>>(5)?,
                ))
            })?
            .map(|row| {
                let (id, team, acknowledged, resolved, restart, restart_at) = row?;
                let restart = restart
                    .map(|state| {
                        let state = StepState::parse(&state)
                            .ok_or_else(|| StoreError::Corrupt(format!("step state {state:?}")))?;
                        Ok::<_, StoreError>((state, restart_at.map(from_millis).transpose()?))
                    })
                    .transpose()?;
                Ok(HoldFacts {
                    team: parse_id(TeamId::new)(team)?,
                    incident: incident_id(id)?,
                    severities: severities.remove(&id).unwrap_or_default(),
                    acknowledged_at: from_millis(acknowledged)?,
                    resolved_at: resolved.map(from_millis).transpose()?,
                    restart,
                })
            })
            .collect::<Result<Vec<HoldFacts>>>()?;
        Ok(facts
            .iter()
            .flat_map(|f| LineHold::of(f, stops_on))
            .collect())
    }
}

/// Copies `steps` onto the incident unless it has a checklist already.
pub(crate) fn start(
    tx: &Connection,
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
    append(tx, id, &started_event(steps, now))?;
    Ok(true)
}

/// Everyone who held a role on incident `id`, in the order they took it.
fn read_roles(conn: &Connection, id: IncidentId) -> Result<Vec<RoleHolding>> {
    conn.prepare_cached(
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

/// Ticks the steps the swarm's roles now tick (see `stopline_core::swarm::ticked_by_roles`),
/// in the transaction of the role change `who` made.
fn tick_steps(conn: &Connection, id: IncidentId, who: &PersonId, now: Timestamp) -> Result<()> {
    let steps = read_checklist(conn, id)?;
    if steps.is_empty() {
        return Ok(());
    }
    let roles = read_roles(conn, id)?;
    for (after, event) in rules::ticked_by_roles(id, &steps, &roles, who, now) {
        conn.prepare_cached(
            "UPDATE checklist_steps SET state = ?3, changed_at = ?4, changed_by = ?5
             WHERE incident_id = ?1 AND step = ?2",
        )?
        .execute(params![
            sql_id(id),
            after.step.as_str(),
            after.state.as_str(),
            to_millis(now),
            who.as_str(),
        ])?;
        append(conn, id, &event)?;
    }
    Ok(())
}

pub(crate) fn read_checklist(
    conn: &rusqlite::Connection,
    id: IncidentId,
) -> Result<Vec<ChecklistStep>> {
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

fn is_responder(tx: &Connection, id: IncidentId, person: &PersonId) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM roles WHERE incident_id = ?1 AND person = ?2 AND role = 'responder' AND until IS NULL",
            params![sql_id(id), person.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

//! Incidents and their timelines.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, Row, Transaction, params};
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{Incident, IncidentId, IncidentState, Severity, Stamp, Transition};
use stopline_core::timeline::{TimelineEvent, TimelineKind};

use stopline_core::swarm::StepTemplate;

use crate::{Result, Store, StoreError, from_millis, swarm, to_millis};

/// What it takes to open an incident.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub application: Option<ApplicationId>,
    pub team: Option<TeamId>,
    pub title: String,
    pub severity: Severity,
    /// `None` when an alert opens it.
    pub opened_by: Option<PersonId>,
}

/// What goes with a person's transition (see [`Store::act`]).
#[derive(Debug, Clone, Default)]
pub struct Act {
    /// The checklist the acknowledgement starts.
    pub checklist: Vec<StepTemplate>,
    /// Resolve even with required steps open, recording the override.
    pub force: bool,
}

/// Which incidents to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentFilter {
    /// Triggered or acknowledged.
    Open,
    State(IncidentState),
    All,
}

/// An incident with its whole timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub timeline: Vec<TimelineEvent>,
}

const INCIDENT_COLUMNS: &str = "id, application_id, team_id, title, severity, state, opened_at, \
     opened_by, acknowledged_at, acknowledged_by, resolved_at, resolved_by";

impl Store {
    /// Opens an incident and records who opened it on its timeline.
    pub fn open_incident(&mut self, new: NewIncident, now: Timestamp) -> Result<Incident> {
        self.open_incident_with_checklist(new, &[], now)
    }

    /// Opens an incident with its swarm's checklist already started, in one transaction: what
    /// the service desk does, since a person has seen the problem.
    pub fn open_incident_with_checklist(
        &mut self,
        new: NewIncident,
        checklist: &[StepTemplate],
        now: Timestamp,
    ) -> Result<Incident> {
        self.write(|tx| {
            let detail = match &new.opened_by {
                Some(who) => format!("opened by {who}: {}", new.title),
                None => format!("opened: {}", new.title),
            };
            let id = insert(tx, &new, None, &detail, now)?;
            swarm::start(tx, id, checklist, now)?;
            load(tx, id)
        })
    }

    /// Acknowledges or resolves an incident. An invalid transition (such as acknowledging a
    /// resolved incident) is an error and changes nothing.
    pub fn transition(
        &mut self,
        id: IncidentId,
        transition: Transition,
        who: &PersonId,
        now: Timestamp,
    ) -> Result<Incident> {
        self.act(id, transition, who, now, &Act::default())
    }

    /// A transition with what goes with it: acknowledging starts the swarm's checklist (from
    /// `act.checklist`); resolving is refused while required steps are open, unless
    /// `act.force`, which records the override on the timeline.
    pub fn act(
        &mut self,
        id: IncidentId,
        transition: Transition,
        who: &PersonId,
        now: Timestamp,
        act: &Act,
    ) -> Result<Incident> {
        self.write(|tx| {
            let mut incident = load(tx, id)?;
            let open_steps = match transition {
                Transition::Resolve => swarm::open_required_steps(tx, id)?,
                Transition::Acknowledge => Vec::new(),
            };
            let mut event = incident.apply(transition, who, now)?;
            if !open_steps.is_empty() {
                if !act.force {
                    return Err(StoreError::OpenSteps {
                        id,
                        steps: open_steps,
                    });
                }
                event.detail = format!(
                    "{}, overriding required checklist steps still open: {}",
                    event.detail,
                    open_steps.join(", ")
                );
            }
            save_state(tx, &incident)?;
            append(tx, id, &event)?;
            if transition == Transition::Acknowledge {
                swarm::start(tx, id, &act.checklist, now)?;
            }
            Ok(incident)
        })
    }

    /// Adds a note to an incident's timeline. Notes may be added to resolved incidents too: the
    /// review happens after.
    pub fn add_note(
        &mut self,
        id: IncidentId,
        who: &PersonId,
        text: &str,
        now: Timestamp,
    ) -> Result<TimelineEvent> {
        self.write(|tx| {
            load(tx, id)?;
            let event = TimelineEvent {
                at: now,
                who: Some(who.clone()),
                kind: TimelineKind::Note,
                detail: text.to_owned(),
            };
            append(tx, id, &event)?;
            Ok(event)
        })
    }

    /// Adds an event to the timeline as it is: for the engine's own entries (an alert routed by
    /// hand), where a note would say the wrong thing.
    pub fn add_event(&mut self, id: IncidentId, event: &TimelineEvent) -> Result<()> {
        self.write(|tx| {
            load(tx, id)?;
            append(tx, id, event)
        })
    }

    /// The incident alone, without reading its timeline: for the pager's and the desk's checks.
    pub fn incident_record(&self, id: IncidentId) -> Result<Incident> {
        load(&self.conn, id)
    }

    pub fn incident(&self, id: IncidentId) -> Result<IncidentDetail> {
        let incident = load(&self.conn, id)?;
        let timeline = self
            .conn
            .prepare_cached(
                "SELECT at, who, kind, detail FROM timeline WHERE incident_id = ?1 ORDER BY id",
            )?
            .query_map([sql_id(id)], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .map(|row| {
                let (at, who, kind, detail) = row?;
                Ok(TimelineEvent {
                    at: from_millis(at)?,
                    who: who.map(parse_id(PersonId::new)).transpose()?,
                    kind: TimelineKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("timeline kind {kind:?}")))?,
                    detail,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(IncidentDetail { incident, timeline })
    }

    /// Incidents, newest first.
    pub fn incidents(&self, filter: IncidentFilter) -> Result<Vec<Incident>> {
        let condition = match filter {
            IncidentFilter::Open => "state <> 'resolved'",
            IncidentFilter::State(_) => "state = ?1",
            IncidentFilter::All => "1",
        };
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE {condition} ORDER BY id DESC"
        ))?;
        let rows = match filter {
            IncidentFilter::State(state) => statement.query_map([state.as_str()], read_incident)?,
            IncidentFilter::Open | IncidentFilter::All => statement.query_map([], read_incident)?,
        };
        rows.map(|row| row?).collect()
    }
}

/// Inserts a triggered incident with its `opened` timeline entry. `group_key` lets later alerts
/// with the same key join it.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    new: &NewIncident,
    group_key: Option<&str>,
    detail: &str,
    now: Timestamp,
) -> Result<IncidentId> {
    tx.prepare_cached(
        "INSERT INTO incidents (application_id, team_id, title, severity, state, opened_at, opened_by, group_key)
         VALUES (?1, ?2, ?3, ?4, 'triggered', ?5, ?6, ?7)",
    )?
    .execute(params![
        new.application.as_ref().map(ApplicationId::as_str),
        new.team.as_ref().map(TeamId::as_str),
        new.title,
        new.severity.as_str(),
        to_millis(now),
        new.opened_by.as_ref().map(PersonId::as_str),
        group_key,
    ])?;
    let id = IncidentId(
        u64::try_from(tx.last_insert_rowid())
            .map_err(|_| StoreError::Corrupt("negative incident id".into()))?,
    );
    append(
        tx,
        id,
        &TimelineEvent {
            at: now,
            who: new.opened_by.clone(),
            kind: TimelineKind::Opened,
            detail: detail.to_owned(),
        },
    )?;
    Ok(id)
}

/// Writes an incident's state and stamps after a transition.
pub(crate) fn save_state(tx: &Transaction<'_>, incident: &Incident) -> Result<()> {
    let stamp_of = |s: &Option<Stamp>| match s {
        Some(s) => (
            Some(to_millis(s.at)),
            s.by.as_ref().map(|p| p.as_str().to_owned()),
        ),
        None => (None, None),
    };
    let (acknowledged_at, acknowledged_by) = stamp_of(&incident.acknowledged);
    let (resolved_at, resolved_by) = stamp_of(&incident.resolved);
    tx.prepare_cached(
        "UPDATE incidents SET state = ?2, acknowledged_at = ?3, acknowledged_by = ?4,
             resolved_at = ?5, resolved_by = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        sql_id(incident.id),
        incident.state.as_str(),
        acknowledged_at,
        acknowledged_by,
        resolved_at,
        resolved_by,
    ])?;
    Ok(())
}

pub(crate) fn load(conn: &rusqlite::Connection, id: IncidentId) -> Result<Incident> {
    conn.prepare_cached(&format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1"
    ))?
    .query_row([sql_id(id)], read_incident)
    .optional()?
    .ok_or(StoreError::IncidentNotFound(id))?
}

pub(crate) fn append(tx: &Transaction<'_>, id: IncidentId, event: &TimelineEvent) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO timeline (incident_id, at, who, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        sql_id(id),
        to_millis(event.at),
        event.who.as_ref().map(PersonId::as_str),
        event.kind.as_str(),
        event.detail,
    ])?;
    Ok(())
}

/// SQLite's integer key for an incident. A number beyond `i64` cannot be stored, so it maps to
/// -1, which no incident has: looking it up says "not found".
pub(crate) fn sql_id(id: IncidentId) -> i64 {
    i64::try_from(id.0).unwrap_or(-1)
}

pub(crate) fn parse_id<T>(
    make: fn(String) -> Result<T, stopline_core::ids::IdError>,
) -> impl Fn(String) -> Result<T> {
    move |text| make(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads one row; the outer `Result` is SQLite's, the inner one is whether the values make sense.
fn read_incident(row: &Row<'_>) -> rusqlite::Result<Result<Incident>> {
    let id: i64 = row.get(0)?;
    let application: Option<String> = row.get(1)?;
    let team: Option<String> = row.get(2)?;
    let title: String = row.get(3)?;
    let severity: String = row.get(4)?;
    let state: String = row.get(5)?;
    let opened_at: i64 = row.get(6)?;
    let opened_by: Option<String> = row.get(7)?;
    let acknowledged: (Option<i64>, Option<String>) = (row.get(8)?, row.get(9)?);
    let resolved: (Option<i64>, Option<String>) = (row.get(10)?, row.get(11)?);
    Ok((|| {
        let stamp = |(at, by): (Option<i64>, Option<String>)| -> Result<Option<Stamp>> {
            match at {
                Some(at) => Ok(Some(Stamp {
                    at: from_millis(at)?,
                    by: by.map(parse_id(PersonId::new)).transpose()?,
                })),
                None => Ok(None),
            }
        };
        Ok(Incident {
            id: IncidentId(
                u64::try_from(id).map_err(|_| StoreError::Corrupt(format!("incident id {id}")))?,
            ),
            application: application.map(parse_id(ApplicationId::new)).transpose()?,
            team: team.map(parse_id(TeamId::new)).transpose()?,
            title,
            severity: Severity::parse(&severity)
                .ok_or_else(|| StoreError::Corrupt(format!("severity {severity:?}")))?,
            state: IncidentState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("incident state {state:?}")))?,
            opened_at: from_millis(opened_at)?,
            opened_by: opened_by.map(parse_id(PersonId::new)).transpose()?,
            acknowledged: stamp(acknowledged)?,
            resolved: stamp(resolved)?,
        })
    })())
}

//! Incidents and their timelines.

use jiff::Timestamp;
use stopline_core::ids::PersonId;
use stopline_core::incident::{Incident, IncidentId, IncidentState, Transition};
use stopline_core::swarm::{StepTemplate, gate_resolve};
use stopline_core::timeline::{TimelineEvent, TimelineKind};

use crate::rows::{
    INCIDENT_COLUMNS, NewIncident, append, insert, load, parse_id, read_incident, save_state,
    sql_id,
};
use crate::{Result, Store, StoreError, from_millis, swarm};

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
            let mut event = incident.apply(transition, who, now)?;
            if transition == Transition::Resolve {
                gate_resolve(id, &swarm::read_checklist(tx, id)?, act.force, &mut event)?;
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

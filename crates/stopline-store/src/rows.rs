//! The rows every part of the store shares: an incident's row (read, inserted, its state
//! saved), its timeline (appended to, never changed), and the conversions between ids and
//! SQLite's integers. No rule lives here.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{Incident, IncidentId, IncidentState, Severity, Stamp};
use stopline_core::timeline::{TimelineEvent, TimelineKind};

use crate::{Result, StoreError, from_millis, to_millis};

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

pub(crate) const INCIDENT_COLUMNS: &str = "id, application_id, team_id, title, severity, state, opened_at, \
     opened_by, acknowledged_at, acknowledged_by, resolved_at, resolved_by";

/// Inserts a triggered incident with its `opened` timeline entry. `group_key` lets later alerts
/// with the same key join it.
pub(crate) fn insert(
    tx: &Connection,
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
    let id = incident_id(tx.last_insert_rowid())?;
    record_severity(tx, id, new.severity, now)?;
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

/// Adds `severity`, from `at`, to the incident's severity history (what line holds are worked
/// out from: `stopline_core::swarm::LineHold::of`).
pub(crate) fn record_severity(
    tx: &Connection,
    id: IncidentId,
    severity: Severity,
    at: Timestamp,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO severity_history (incident_id, severity, since) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![sql_id(id), severity.as_str(), to_millis(at)])?;
    Ok(())
}

/// Writes an incident's state and stamps after a transition.
pub(crate) fn save_state(tx: &Connection, incident: &Incident) -> Result<()> {
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

pub(crate) fn append(tx: &Connection, id: IncidentId, event: &TimelineEvent) -> Result<()> {
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

/// An incident id from SQLite's integer key.
pub(crate) fn incident_id(id: i64) -> Result<IncidentId> {
    u64::try_from(id)
        .map(IncidentId)
        .map_err(|_| StoreError::Corrupt(format!("incident id {id}")))
}

/// Reads one row; the outer `Result` is SQLite's, the inner one is whether the values make sense.
pub(crate) fn read_incident(row: &Row<'_>) -> rusqlite::Result<Result<Incident>> {
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
            id: incident_id(id)?,
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

/// A label set (labels, annotations, links) as stored: a JSON object.
pub(crate) fn to_json(map: &BTreeMap<String, String>) -> String {
    // A map of strings always serialises.
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

/// A stored label set, read back.
pub(crate) fn from_json(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("label set: {e}")))
}

/// The tables holding an incident's rows (by `incident_id`), in an order that deletes them
/// without breaking a reference (the outbox first); its alerts are not among them.
pub(crate) const INCIDENT_ROWS: [&str; 9] = [
    "outbox",
    "contact_messages",
    "silences",
    "pages",
    "timeline",
    "checklist_steps",
    "roles",
    "escalations",
    "severity_history",
];

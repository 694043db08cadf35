//! Rows to domain types and back: incidents as `stopline-core` knows them, and times (jiff's
//! `Timestamp` travels as `SystemTime`, which tokio-postgres maps to `timestamptz`).

use std::time::SystemTime;

use jiff::Timestamp;
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{Incident, IncidentId, IncidentState, Severity, Stamp};
use stopline_core::timeline::TimelineEvent;
use tokio_postgres::{GenericClient, Row};

use crate::Result;
use crate::error::HubError;

/// The columns [`read_incident`] reads, in its order.
pub(crate) const INCIDENT_COLUMNS: &str = "id, application_id, team_id, title, severity, state, \
     opened_at, opened_by, acknowledged_at, acknowledged_by, resolved_at, resolved_by";

/// A row the hub wrote that cannot be read back.
pub(crate) fn corrupt(what: &str) -> HubError {
    HubError::Corrupt(what.to_owned())
}

/// Every `Timestamp` (years -9999 to 9999) fits a 64-bit Unix `SystemTime`, so the fallback is
/// never taken on the platforms the hub runs on.
pub(crate) fn to_time(at: Timestamp) -> SystemTime {
    SystemTime::try_from(at).unwrap_or(SystemTime::UNIX_EPOCH)
}

pub(crate) fn from_time(time: SystemTime) -> Result<Timestamp> {
    Timestamp::try_from(time).map_err(|e| corrupt(&e.to_string()))
}

/// An incident from a row of [`INCIDENT_COLUMNS`].
pub(crate) fn read_incident(row: &Row) -> Result<Incident> {
    read_incident_from(row, 0)
}

/// An incident from [`INCIDENT_COLUMNS`] starting at column `first` of `row` (after other
/// columns a query read first).
pub(crate) fn read_incident_from(row: &Row, first: usize) -> Result<Incident> {
    let id: i64 = row.get(first);
    let text = |i: usize| row.get::<_, Option<String>>(first + i);
    let person = |i: usize| {
        text(i)
            .map(PersonId::new)
            .transpose()
            .map_err(|_| corrupt(&format!("a person of incident {id}")))
    };
    let stamp = |at: usize, by: usize| -> Result<Option<Stamp>> {
        Ok(match row.get::<_, Option<SystemTime>>(first + at) {
            Some(time) => Some(Stamp {
                at: from_time(time)?,
                by: person(by)?,
            }),
            None => None,
        })
    };
    let severity: String = row.get(first + 4);
    let state: String = row.get(first + 5);
    Ok(Incident {
        id: IncidentId(u64::try_from(id).map_err(|_| corrupt("an incident id"))?),
        application: text(1)
            .map(ApplicationId::new)
            .transpose()
            .map_err(|_| corrupt(&format!("the application of incident {id}")))?,
        team: text(2)
            .map(TeamId::new)
            .transpose()
            .map_err(|_| corrupt(&format!("the team of incident {id}")))?,
        title: row.get(first + 3),
        severity: Severity::parse(&severity)
            .ok_or_else(|| corrupt(&format!("severity {severity:?}")))?,
        state: IncidentState::parse(&state).ok_or_else(|| corrupt(&format!("state {state:?}")))?,
        opened_at: from_time(row.get(first + 6))?,
        opened_by: person(7)?,
        acknowledged: stamp(8, 9)?,
        resolved: stamp(10, 11)?,
    })
}

/// Writes an incident's state and stamps after a transition, at the organisation's `version`.
pub(crate) async fn save_state(
    client: &impl GenericClient,
    incident: &Incident,
    version: i64,
) -> Result<()> {
    let stamp = |s: &Option<Stamp>| {
        (
            s.as_ref().map(|s| to_time(s.at)),
            s.as_ref()
                .and_then(|s| s.by.as_ref())
                .map(|p| p.as_str().to_owned()),
        )
    };
    let (acknowledged_at, acknowledged_by) = stamp(&incident.acknowledged);
    let (resolved_at, resolved_by) = stamp(&incident.resolved);
    let id = i64::try_from(incident.id.0).map_err(|_| corrupt("an incident id"))?;
    client
        .execute(
            "UPDATE incidents SET state = $2, acknowledged_at = $3, acknowledged_by = $4,
                 resolved_at = $5, resolved_by = $6, version = $7
             WHERE id = $1",
            &[
                &id,
                &incident.state.as_str(),
                &acknowledged_at,
                &acknowledged_by,
                &resolved_at,
                &resolved_by,
                &version,
            ],
        )
        .await?;
    Ok(())
}

/// Bumps the organisation's version and answers it: the first thing every write transaction
/// does. The row's lock puts writes one after another, so versions follow commit order.
pub(crate) async fn bump_version(client: &impl GenericClient) -> Result<i64> {
    Ok(client
        .query_one(
            "UPDATE org_version SET version = version + 1 WHERE id = 1 RETURNING version",
            &[],
        )
        .await?
        .get(0))
}

/// An incident id as the hub's `bigint`.
pub(crate) fn sql_id(id: IncidentId) -> Result<i64> {
    i64::try_from(id.0).map_err(|_| corrupt("an incident id"))
}

/// Appends `event` to incident `incident`'s timeline at the organisation's `version`.
pub(crate) async fn append_event(
    client: &impl GenericClient,
    incident: i64,
    event: &TimelineEvent,
    version: i64,
) -> Result<()> {
    client
        .execute(
            "INSERT INTO timeline (incident_id, at, who, kind, detail, version)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &incident,
                &to_time(event.at),
                &event.who.as_ref().map(PersonId::as_str),
                &event.kind.as_str(),
                &event.detail,
                &version,
            ],
        )
        .await?;
    Ok(())
}

//! Reading stored alerts.

use rusqlite::Row;
use stopline_core::alert::{Alert, AlertState, Fingerprint};
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::IncidentId;

use crate::rows::{from_json, incident_id, parse_id};
use crate::{Result, Store, StoreError, from_millis};

/// An alert with where it was routed and the incident it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlert {
    pub alert: Alert,
    pub application: Option<ApplicationId>,
    pub team: Option<TeamId>,
    pub incident: Option<IncidentId>,
}

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFilter<'a> {
    All,
    /// Alerts that matched no application: the service desk's queue.
    Unrouted,
    Incident(IncidentId),
    /// One source's alerts (by the `(source, fingerprint)` index: a replica may hold tens of
    /// thousands of others).
    Source(&'a str),
    /// Alerts with this fingerprint, of any source.
    Fingerprint(&'a str),
}

const ALERT_COLUMNS: &str = "source, fingerprint, labels, annotations, links, muted, state, \
     starts_at, ends_at, generator_url, first_seen, last_seen, application_id, team_id, incident_id";

/// What the queue shows of an incident's alerts: how many fire, and the labels of the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertCounts {
    pub firing: u32,
    pub total: u32,
    /// The labels of the alert seen first: where the grouping labels' values come from.
    pub first_labels: std::collections::BTreeMap<String, String>,
    /// That alert's source and fingerprint: the one that opened the incident, or was seen
    /// first when several came at once (the first stored).
    pub first_alert: Option<(String, String)>,
}

impl Store {
    /// Whether any alert ever reached this store: a desktop that has none yet is not
    /// connected to an alert source.
    pub fn has_alerts(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM alerts)")?
            .query_row([], |row| row.get(0))?)
    }

    /// Who is involved in each of `ids` (paged for it, or holding a role in its swarm now),
    /// each once, in one query: the queue's "mine".
    pub fn people_involved_in(
        &self,
        ids: &[IncidentId],
    ) -> Result<std::collections::HashMap<IncidentId, Vec<stopline_core::ids::PersonId>>> {
        let list = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut statement = self.conn.prepare_cached(
            "SELECT incident_id, person FROM pages
             WHERE incident_id IN (SELECT value FROM json_each(?1))
             UNION
             SELECT incident_id, person FROM roles
             WHERE until IS NULL AND incident_id IN (SELECT value FROM json_each(?1))
             ORDER BY 1, 2",
        )?;
        let rows = statement.query_map([list], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        let mut people: std::collections::HashMap<IncidentId, Vec<_>> =
            std::collections::HashMap::new();
        for row in rows {
            let (id, person) = row?;
            people
                .entry(incident_id(id)?)
                .or_default()
                .push(parse_id(stopline_core::ids::PersonId::new)(person)?);
        }
        Ok(people)
    }
}

impl Store {
    /// The alert counts of each of `ids` that has alerts, in one query (the queue asks for
    /// every open incident on each refresh).
    pub fn alert_counts_of(
        &self,
        ids: &[IncidentId],
    ) -> Result<std::collections::HashMap<IncidentId, AlertCounts>> {
        let list = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut statement = self.conn.prepare_cached(
            // Per incident, not per alert: each subquery walks one incident's alerts by the
            // `alerts_by_incident` index, so a storm's 10,000 alerts are read about once.
            "SELECT i.value,
                    (SELECT count(*) FROM alerts a
                     WHERE a.incident_id = i.value AND a.state = 'firing'),
                    (SELECT count(*) FROM alerts a WHERE a.incident_id = i.value),
                    f.labels, f.source, f.fingerprint
             FROM json_each(?1) i
             JOIN alerts f ON f.id = (SELECT b.id FROM alerts b WHERE b.incident_id = i.value
                                      ORDER BY b.first_seen, b.id LIMIT 1)",
        )?;
        let rows = statement.query_map([list], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        let mut counts = std::collections::HashMap::new();
        for row in rows {
            let (id, firing, total, labels, source, fingerprint) = row?;
            counts.insert(
                incident_id(id)?,
                AlertCounts {
                    firing: u32::try_from(firing).unwrap_or(0),
                    total: u32::try_from(total).unwrap_or(0),
                    first_labels: from_json(&labels)?,
                    first_alert: Some((source, fingerprint)),
                },
            );
        }
        Ok(counts)
    }

    /// One alert by its identity.
    pub fn alert(&self, source: &str, fingerprint: &Fingerprint) -> Result<Option<StoredAlert>> {
        find(&self.conn, source, fingerprint)
    }

    /// Acknowledges, on the source's behalf, the triggered incident this alert belongs to.
    /// Returns the incident, if one changed.
    pub fn acknowledge_from_source(
        &mut self,
        source: &str,
        fingerprint: &Fingerprint,
        now: jiff::Timestamp,
    ) -> Result<Option<IncidentId>> {
        let Some(incident) = self.alert(source, fingerprint)?.and_then(|a| a.incident) else {
            return Ok(None);
        };
        self.write(|tx| {
            let mut current = crate::rows::load(tx, incident)?;
            if current.state != stopline_core::incident::IncidentState::Triggered {
                return Ok(None);
            }
            let event = current.acknowledge_for_source(source, now)?;
            crate::rows::save_state(tx, &current)?;
            crate::rows::append(tx, incident, &event)?;
            Ok(Some(incident))
        })
    }

    /// Alerts, most recently seen first.
    pub fn alerts(&self, filter: AlertFilter<'_>) -> Result<Vec<StoredAlert>> {
        let condition = match filter {
            AlertFilter::All => "1",
            AlertFilter::Unrouted => "application_id IS NULL",
            AlertFilter::Incident(_) => "incident_id = ?1",
            AlertFilter::Source(_) => "source = ?1",
            AlertFilter::Fingerprint(_) => "fingerprint = ?1",
        };
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE {condition} ORDER BY last_seen DESC, id DESC"
        ))?;
        let rows = match filter {
            AlertFilter::Incident(id) => {
                statement.query_map([crate::rows::sql_id(id)], read_alert)?
            }
            AlertFilter::Source(text) | AlertFilter::Fingerprint(text) => {
                statement.query_map([text], read_alert)?
            }
            AlertFilter::All | AlertFilter::Unrouted => statement.query_map([], read_alert)?,
        };
        rows.map(|row| row?).collect()
    }
}

/// One alert by its identity, on any connection (a transaction too).
pub(crate) fn find(
    conn: &rusqlite::Connection,
    source: &str,
    fingerprint: &Fingerprint,
) -> Result<Option<StoredAlert>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE source = ?1 AND fingerprint = ?2"
    ))?
    .query_row([source, fingerprint.as_str()], read_alert)
    .optional()?
    .transpose()
}

fn read_alert(row: &Row<'_>) -> rusqlite::Result<Result<StoredAlert>> {
    let source: String = row.get(0)?;
    let fingerprint: String = row.get(1)?;
    let labels: String = row.get(2)?;
    let annotations: String = row.get(3)?;
    let links: String = row.get(4)?;
    let muted: bool = row.get(5)?;
    let state: String = row.get(6)?;
    let starts_at: i64 = row.get(7)?;
    let ends_at: Option<i64> = row.get(8)?;
    let generator_url: Option<String> = row.get(9)?;
    let first_seen: i64 = row.get(10)?;
    let last_seen: i64 = row.get(11)?;
    let application: Option<String> = row.get(12)?;
    let team: Option<String> = row.get(13)?;
    let incident: Option<i64> = row.get(14)?;
    Ok((|| {
        Ok(StoredAlert {
            alert: Alert {
                source,
                fingerprint: Fingerprint::new(fingerprint)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                labels: from_json(&labels)?,
                annotations: from_json(&annotations)?,
                links: from_json(&links)?,
                muted,
                state: AlertState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("alert state {state:?}")))?,
                starts_at: from_millis(starts_at)?,
                ends_at: ends_at.map(from_millis).transpose()?,
                generator_url,
                first_seen: from_millis(first_seen)?,
                last_seen: from_millis(last_seen)?,
            },
            application: application.map(parse_id(ApplicationId::new)).transpose()?,
            team: team.map(parse_id(TeamId::new)).transpose()?,
            incident: incident.map(incident_id).transpose()?,
        })
    })())
}

//! What reports read: the incidents that overlap a period, with who responded to each.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use stopline_core::economics::IncidentFacts;
use stopline_core::ids::{ApplicationId, PersonId, TeamId};

use crate::{Result, Store, StoreError, from_millis, to_millis};

impl Store {
    /// Every incident open at some moment of `[from, to)`, oldest first, with its responders.
    pub fn report_facts(&self, from: Timestamp, to: Timestamp) -> Result<Vec<IncidentFacts>> {
        let (from, to) = (to_millis(from), to_millis(to));
        let mut responders: HashMap<i64, Vec<(PersonId, Timestamp, Option<Timestamp>)>> =
            HashMap::new();
        let mut statement = self.conn.prepare_cached(
            "SELECT r.incident_id, r.person, r.since, r.until
             FROM roles r JOIN incidents i ON i.id = r.incident_id
             WHERE r.role = 'responder'
               AND i.opened_at < ?2 AND (i.resolved_at IS NULL OR i.resolved_at > ?1)
             ORDER BY r.id",
        )?;
        let rows = statement.query_map(params![from, to], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
            ))
        })?;
        for row in rows {
            let (incident, person, since, until) = row?;
            responders.entry(incident).or_default().push((
                person_id(&person)?,
                from_millis(since)?,
                until.map(from_millis).transpose()?,
            ));
        }
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT id, application_id, team_id, opened_at, acknowledged_at, acknowledged_by,
                    resolved_at, loss_override, {ALERTS_CLEARED_AT}
             FROM incidents i
             WHERE opened_at < ?2 AND (resolved_at IS NULL OR resolved_at > ?1)
             ORDER BY id"
        ))?;
        let rows = statement.query_map(params![from, to], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, Option<i64>>(6)?,
                row.get::<_, Option<i64>>(7)?,
                row.get::<_, Option<i64>>(8)?,
            ))
        })?;
        let mut facts = Vec::new();
        for row in rows {
            let (id, application, team, opened, acked, acked_by, resolved, loss, cleared) = row?;
            let corrupt = |what: &str| StoreError::Corrupt(format!("{what} of incident {id}"));
            facts.push(IncidentFacts {
                id: crate::rows::incident_id(id)?.to_string(),
                application: application
                    .map(ApplicationId::new)
                    .transpose()
                    .map_err(|_| corrupt("application"))?,
                team: team
                    .map(TeamId::new)
                    .transpose()
                    .map_err(|_| corrupt("team"))?,
                opened_at: from_millis(opened)?,
                acknowledged_at: acked.map(from_millis).transpose()?,
                acknowledged_by: acked_by.as_deref().map(person_id).transpose()?,
                resolved_at: resolved.map(from_millis).transpose()?,
                alerts_cleared_at: cleared.map(from_millis).transpose()?,
                responders: responders.remove(&id).unwrap_or_default(),
                loss_override: loss.map(|l| u64::try_from(l).unwrap_or(0)),
            });
        }
        Ok(facts)
    }
}

/// When the incident `i`'s last alert resolved, if it has alerts and none fires: where its loss
/// stops counting (`stopline_core::economics::loss_stops_at`).
pub(crate) const ALERTS_CLEARED_AT: &str =
    "(SELECT CASE WHEN count(*) > 0 AND sum(a.state = 'firing') = 0
             THEN max(a.ends_at) END FROM alerts a WHERE a.incident_id = i.id)";

/// What an incident's loss so far is made of, beside its times and its application's exposure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LossFacts {
    /// A figure a person entered with a severity change.
    pub entered: Option<u64>,
    /// When its last alert resolved, if it has alerts and none fires.
    pub alerts_cleared_at: Option<Timestamp>,
}

impl Store {
    /// What incident `id`'s loss so far is made of.
    pub fn loss_facts(&self, id: stopline_core::incident::IncidentId) -> Result<LossFacts> {
        let (entered, cleared) = self
            .conn
            .prepare_cached(&format!(
                "SELECT loss_override, {ALERTS_CLEARED_AT} FROM incidents i WHERE id = ?1"
            ))?
            .query_row([crate::rows::sql_id(id)], |row| {
                Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?))
            })
            .optional()?
            .ok_or(StoreError::IncidentNotFound(id))?;
        loss_facts(entered, cleared)
    }

    /// What the loss so far of each of `ids` is made of, in one query (the queue asks for every
    /// open incident on each refresh). An id the store does not hold is left out.
    pub fn loss_facts_of(
        &self,
        ids: &[stopline_core::incident::IncidentId],
    ) -> Result<HashMap<stopline_core::incident::IncidentId, LossFacts>> {
        // The ids travel as one JSON array.
        let list = serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT id, loss_override, {ALERTS_CLEARED_AT} FROM incidents i
             WHERE id IN (SELECT value FROM json_each(?1))"
        ))?;
        let rows = statement.query_map([list], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut facts = HashMap::new();
        for row in rows {
            let (id, entered, cleared) = row?;
            facts.insert(crate::rows::incident_id(id)?, loss_facts(entered, cleared)?);
        }
        Ok(facts)
    }
}

fn loss_facts(entered: Option<i64>, cleared: Option<i64>) -> Result<LossFacts> {
    Ok(LossFacts {
        entered: entered.map(|l| u64::try_from(l).unwrap_or(0)),
        alerts_cleared_at: cleared.map(from_millis).transpose()?,
    })
}

fn person_id(text: &str) -> Result<PersonId> {
    PersonId::new(text).map_err(|_| StoreError::Corrupt(format!("person {text:?}")))
}

//! What a sender does besides delivering alerts (PagerDuty events): resolving one of its alerts
//! by its key, and acknowledging the alert's incident on its behalf. Both by the desktop's
//! rules, in transactions that bump the organisation's version like every write.

use std::collections::BTreeMap;
use std::time::SystemTime;

use jiff::Timestamp;
use stopline_core::alert::{Alert, AlertState, Fingerprint};
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity};
use stopline_core::routing::{AlertObservation, RoutedAlert};

use crate::Result;
use crate::database::Database;
use crate::intake::IntakeSummary;
use crate::rows::{
    INCIDENT_COLUMNS, append_event, bump_version, corrupt, from_time, read_incident, save_state,
    sql_id,
};

impl Database {
    /// Resolves `source`'s alert `fingerprint` (a PagerDuty `resolve`), routed where it was;
    /// `None` when the hub holds no such alert (PagerDuty accepts that too).
    pub async fn resolve_from_source(
        &self,
        source: &str,
        fingerprint: &Fingerprint,
        auto_resolve: bool,
        now: Timestamp,
    ) -> Result<Option<IntakeSummary>> {
        let client = self.client().await?;
        let Some(row) = client
            .query_opt(
                &format!(
                    "SELECT {RESOLVABLE_COLUMNS} FROM alerts WHERE source = $1 AND fingerprint = $2"
                ),
                &[&source, &fingerprint.as_str()],
            )
            .await?
        else {
            return Ok(None);
        };
        drop(client);
        let observation = resolved_observation(&row, 0, source, fingerprint, now)?;
        self.ingest(std::slice::from_ref(&observation), auto_resolve, now)
            .await
            .map(Some)
    }

    /// Acknowledges the incident of `source`'s alert `fingerprint` on the sender's behalf (a
    /// PagerDuty `acknowledge`): only a triggered incident changes. Returns it when it did.
    pub async fn acknowledge_from_source(
        &self,
        source: &str,
        fingerprint: &Fingerprint,
        now: Timestamp,
    ) -> Result<Option<IncidentId>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The organisation's version first, the lock order of every write; dropping the
        // transaction when nothing changes rolls it back.
        let version = bump_version(&*tx).await?;
        let found = tx
            .query_opt(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id =
                         (SELECT incident_id FROM alerts WHERE source = $1 AND fingerprint = $2)
                     FOR UPDATE"
                ),
                &[&source, &fingerprint.as_str()],
            )
            .await?;
        let Some(row) = found else {
            return Ok(None);
        };
        let mut incident = read_incident(&row)?;
        if incident.state != IncidentState::Triggered {
            return Ok(None);
        }
        let event = incident
            .acknowledge_for_source(source, now)
            .map_err(|e| corrupt(&e.to_string()))?;
        save_state(&*tx, &incident, version).await?;
        append_event(&*tx, sql_id(incident.id)?, &event, version).await?;
        tx.commit().await?;
        Ok(Some(incident.id))
    }
}

/// The columns [`resolved_observation`] reads, in its order.
pub(crate) const RESOLVABLE_COLUMNS: &str = "labels, annotations, links, state, starts_at, \
     generator_url, muted, first_seen, application_id, team_id";

/// `source`'s alert `fingerprint`, as the hub holds it (a row with [`RESOLVABLE_COLUMNS`] from
/// column `first`), resolved at `now` and routed where it was: resolving is not routing again.
pub(crate) fn resolved_observation(
    row: &tokio_postgres::Row,
    first: usize,
    source: &str,
    fingerprint: &Fingerprint,
    now: Timestamp,
) -> Result<AlertObservation> {
    let map = |i: usize| -> Result<BTreeMap<String, String>> {
        serde_json::from_str(&row.get::<_, String>(first + i))
            .map_err(|e| corrupt(&format!("an alert's labels: {e}")))
    };
    let state: String = row.get(first + 3);
    AlertState::parse(&state).ok_or_else(|| corrupt(&format!("alert state {state:?}")))?;
    // Where it was routed stays as it is: resolving is not routing again.
    let route = match (
        row.get::<_, Option<String>>(first + 8),
        row.get::<_, Option<String>>(first + 9),
    ) {
        (Some(application), Some(team)) => Some(RoutedAlert {
            application: ApplicationId::new(application)
                .map_err(|_| corrupt("an alert's application"))?,
            team: TeamId::new(team).map_err(|_| corrupt("an alert's team"))?,
            severity: Severity::Minor,
        }),
        _ => None,
    };
    let observation = AlertObservation {
        alert: Alert {
            source: source.to_owned(),
            fingerprint: fingerprint.clone(),
            labels: map(0)?,
            annotations: map(1)?,
            links: map(2)?,
            state: AlertState::Resolved,
            starts_at: from_time(row.get::<_, SystemTime>(first + 4))?,
            ends_at: Some(now),
            generator_url: row.get(first + 5),
            muted: row.get(first + 6),
            first_seen: from_time(row.get::<_, SystemTime>(first + 7))?,
            last_seen: now,
        },
        route,
        group_key: None,
        title: String::new(),
    };
    Ok(observation)
}

//! Alerts, stored once per (source, fingerprint).

use rusqlite::{OptionalExtension, params};
use stopline_core::alert::{Alert, AlertState, Fingerprint, Labels};

use crate::{Result, Store, StoreError, from_millis, to_millis};

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertUpsert {
    pub inserted: usize,
    pub updated: usize,
}

impl Store {
    /// Inserts new alerts and updates known ones, all in one transaction. A known alert keeps its
    /// `first_seen`; everything else takes the incoming values.
    pub fn upsert_alerts(&mut self, alerts: &[Alert]) -> Result<AlertUpsert> {
        self.write(|tx| {
            let mut outcome = AlertUpsert::default();
            let mut exists =
                tx.prepare_cached("SELECT 1 FROM alerts WHERE source = ?1 AND fingerprint = ?2")?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO alerts (source, fingerprint, labels, annotations, state, starts_at,
                                     ends_at, generator_url, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (source, fingerprint) DO UPDATE SET
                     labels = excluded.labels, annotations = excluded.annotations,
                     state = excluded.state, starts_at = excluded.starts_at,
                     ends_at = excluded.ends_at, generator_url = excluded.generator_url,
                     last_seen = excluded.last_seen",
            )?;
            for alert in alerts {
                let known = exists
                    .query_row(
                        params![alert.source, alert.fingerprint.as_str()],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                upsert.execute(params![
                    alert.source,
                    alert.fingerprint.as_str(),
                    to_json(&alert.labels),
                    to_json(&alert.annotations),
                    alert.state.as_str(),
                    to_millis(alert.starts_at),
                    alert.ends_at.map(to_millis),
                    alert.generator_url,
                    to_millis(alert.first_seen),
                    to_millis(alert.last_seen),
                ])?;
                if known {
                    outcome.updated += 1;
                } else {
                    outcome.inserted += 1;
                }
            }
            Ok(outcome)
        })
    }

    /// Every stored alert, most recently seen first.
    pub fn alerts(&self) -> Result<Vec<Alert>> {
        self.conn
            .prepare_cached(
                "SELECT source, fingerprint, labels, annotations, state, starts_at, ends_at,
                        generator_url, first_seen, last_seen
                 FROM alerts ORDER BY last_seen DESC, id DESC",
            )?
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, i64>(5)?,
                    row.get::<_, Option<i64>>(6)?,
                    row.get::<_, Option<String>>(7)?,
                    row.get::<_, i64>(8)?,
                    row.get::<_, i64>(9)?,
                ))
            })?
            .map(|row| {
                let (
                    source,
                    fingerprint,
                    labels,
                    annotations,
                    state,
                    starts,
                    ends,
                    url,
                    first,
                    last,
                ) = row?;
                Ok(Alert {
                    source,
                    fingerprint: Fingerprint::new(fingerprint)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    labels: from_json(&labels)?,
                    annotations: from_json(&annotations)?,
                    state: AlertState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("alert state {state:?}")))?,
                    starts_at: from_millis(starts)?,
                    ends_at: ends.map(from_millis).transpose()?,
                    generator_url: url,
                    first_seen: from_millis(first)?,
                    last_seen: from_millis(last)?,
                })
            })
            .collect()
    }
}

fn to_json(map: &Labels) -> String {
    // A map of strings always serialises.
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

fn from_json(text: &str) -> Result<Labels> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("label set: {e}")))
}

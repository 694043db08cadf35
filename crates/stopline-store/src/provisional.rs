//! Provisional incidents: those a joined desktop opens itself, numbered above any id the hub
//! gives ([`PROVISIONAL_BASE`]), until they fold into the hub's.
//!
//! A desktop opens them while its hub is away (`degraded`), for alerts the replica does not
//! know; and when its person opens one by hand (the service desk's `stopline open`), at once,
//! queuing `open_incident` under the copy's id. The hub opens the real one and names the
//! desktop's mutation on it; the pull that brings it folds the copy into it, and the person's
//! later actions on the copy then name the hub's incident. Should the hub refuse to open it,
//! those later actions are refused here with the reason, so they never hold the queue up.
//!
//! Routing an unrouted alert by hand (`stopline assign`, queued as `assign_alert`) may open one
//! too: the hub routes the same alert, and the pull that brings the alert on the hub's incident
//! folds the copy, by the alert's source and fingerprint.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use stopline_core::incident::{Incident, IncidentId};
use stopline_core::swarm::StepTemplate;

use crate::rows::{INCIDENT_ROWS, NewIncident, sql_id};
use crate::{Result, Store};

/// Provisional incidents are numbered above this: far beyond any id a hub gives.
pub const PROVISIONAL_BASE: i64 = 1_000_000_000;

/// The mutation's name, as the queue and the hub spell it.
pub const OPEN_INCIDENT: &str = "open_incident";
/// The mutation routing an unrouted alert by hand; like [`OPEN_INCIDENT`] it may make the
/// provisional incident it is queued under.
pub const ASSIGN_ALERT: &str = "assign_alert";

/// Which desktop's mutation opened an incident, as a pull names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenedBy {
    pub desktop: String,
    pub mutation: i64,
}

impl Store {
    /// Opens a provisional incident as `open_incident_with_checklist` does, numbered above any
    /// id the hub gives.
    pub fn open_provisional_incident(
        &mut self,
        new: NewIncident,
        checklist: &[StepTemplate],
        now: Timestamp,
    ) -> Result<Incident> {
        // One transaction: the person's action's when inside one, else its own.
        if self.conn.is_autocommit() {
            return self.exclusively(|store| store.open_provisional_incident(new, checklist, now));
        }
        self.provisionally(|store| store.open_incident_with_checklist(new, checklist, now))
    }

    /// Runs `work` inside a transaction (the person's action's, or a poll's while the hub is
    /// away) so that any incident it opens is provisional: numbered above the hub's ids, to
    /// fold into the hub's when that arrives.
    pub fn provisionally<T, E>(
        &mut self,
        work: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<crate::StoreError>,
    {
        self.number_provisionally()?;
        let value = work(self)?;
        self.conn
            .execute(
                "UPDATE incidents SET provisional = 1 WHERE id > ?1 AND provisional = 0",
                params![PROVISIONAL_BASE],
            )
            .map_err(crate::StoreError::from)?;
        Ok(value)
    }

    /// The hub's incident a provisional one was folded into, if it was.
    pub fn folded_into(&self, provisional: IncidentId) -> Result<Option<IncidentId>> {
        let hub: Option<i64> = self
            .conn
            .query_row(
                "SELECT hub FROM folded_incidents WHERE provisional = ?1",
                params![sql_id(provisional)],
                |r| r.get(0),
            )
            .optional()?;
        Ok(hub.and_then(|h| u64::try_from(h).ok()).map(IncidentId))
    }

    /// New incidents take ids above [`PROVISIONAL_BASE`] (and above each other).
    pub(crate) fn number_provisionally(&self) -> Result<()> {
        self.conn.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, ?1) WHERE name = 'incidents'",
            params![PROVISIONAL_BASE],
        )?;
        self.conn.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'incidents', ?1
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'incidents')",
            params![PROVISIONAL_BASE],
        )?;
        Ok(())
    }
}

/// The copies this desktop opened by hand that the hub's incidents take over: (copy, hub's),
/// by the mutation each of `opened` (a pulled incident's id, and what opened it) names.
pub(crate) fn opened_here(
    tx: &Connection,
    opened: impl IntoIterator<Item = (IncidentId, OpenedBy)>,
    desktop: &str,
) -> Result<Vec<(i64, i64)>> {
    let mut folds = Vec::new();
    for (hub, opened) in opened {
        if opened.desktop != desktop {
            continue;
        }
        let copy: Option<i64> = tx
            .prepare_cached(
                "SELECT m.incident_id FROM hub_mutations m JOIN incidents i ON i.id = m.incident_id
                 WHERE m.id = ?1 AND m.name = ?2 AND i.provisional = 1",
            )?
            .query_row(params![opened.mutation, OPEN_INCIDENT], |r| r.get(0))
            .optional()?;
        if let Some(copy) = copy {
            folds.push((copy, sql_id(hub)));
        }
    }
    Ok(folds)
}

/// The person's waiting actions on an incident whose opening the hub refused, each with the
/// reason to refuse it here: the incident stays on this desktop only.
pub(crate) fn waiting_on_refused_open(tx: &Connection) -> Result<Vec<(i64, String)>> {
    let mut statement = tx.prepare_cached(
        "SELECT m.id, o.reason FROM hub_mutations m
         JOIN hub_mutations o ON o.incident_id = m.incident_id AND o.name IN (?1, ?2)
         JOIN incidents i ON i.id = m.incident_id AND i.provisional = 1
         WHERE m.status = 'pending' AND o.status = 'refused'",
    )?;
    let waiting = statement
        .query_map(params![OPEN_INCIDENT, ASSIGN_ALERT], |r| {
            let reason: Option<String> = r.get(1)?;
            Ok((
                r.get(0)?,
                format!(
                    "the hub refused to open this incident ({}): it is kept on this desktop only",
                    reason.as_deref().unwrap_or("no reason given")
                ),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(waiting)
}

/// Folds provisional incident `provisional` into the hub's `hub` once none of its alerts is
/// left to it: the person's actions on it (waiting ones too) name the hub's incident, pages
/// shown for it count for the hub's, the rest of what this desktop kept about it goes (the
/// hub's account of the same alerts, or of the same opening, replaces it), and its number
/// leads to the hub's.
pub(crate) fn fold(tx: &Connection, provisional: i64, hub: i64) -> Result<()> {
    let left: i64 = tx.query_row(
        "SELECT COUNT(*) FROM alerts WHERE incident_id = ?1",
        params![provisional],
        |r| r.get(0),
    )?;
    if left > 0 {
        return Ok(());
    }
    let name = IncidentId(u64::try_from(hub).unwrap_or(0)).to_string();
    tx.execute(
        // Every action on the copy, decided or not, is now on the hub's incident (the person
        // sees them there). The arguments change only where they name the incident: those of
        // `open_incident` and `assign_alert` do not, and the hub refuses arguments it does not
        // know.
        "UPDATE hub_mutations SET incident_id = ?2,
             args = CASE WHEN json_type(args, '$.incident') IS NULL THEN args
                         ELSE json_set(args, '$.incident', ?3) END
         WHERE incident_id = ?1",
        params![provisional, hub, name],
    )?;
    tx.execute(
        "UPDATE OR IGNORE pages SET incident_id = ?2 WHERE incident_id = ?1",
        params![provisional, hub],
    )?;
    for table in INCIDENT_ROWS {
        tx.execute(
            &format!("DELETE FROM {table} WHERE incident_id = ?1"),
            params![provisional],
        )?;
    }
    tx.execute("DELETE FROM incidents WHERE id = ?1", params![provisional])?;
    tx.execute(
        "INSERT OR REPLACE INTO folded_incidents (provisional, hub) VALUES (?1, ?2)",
        params![provisional, hub],
    )?;
    Ok(())
}

//! The overrides a joined desktop knows of (docs/team.md): those the hub sent (pushed by anyone
//! in the organisation, with the hub's id) and those its person added here that the hub has not
//! decided yet (under their mutation's id). A standalone desktop keeps its overrides in its
//! config file instead; a joined one merges these into the config's rotas
//! (`stopline_core::cover::with_overrides`), as the hub does, so who is on call reads alike on
//! the hub and on every desktop.

use jiff::Timestamp;
use rusqlite::{Connection, params};
use serde::Deserialize;
use stopline_core::cover::CheckedOverride;
use stopline_core::ids::{PersonId, RotaId};

use crate::{Result, Store, StoreError, from_millis, to_millis};

/// An override as a pull carries it.
#[derive(Debug, Clone, Deserialize)]
pub struct PulledOverride {
    pub id: i64,
    pub rota: String,
    pub layer: String,
    pub person: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Store {
    /// Keeps an override the person added here (already checked), until the hub decides the
    /// action that carries it: call inside that action, before it is queued.
    pub fn add_pending_override(&mut self, cover: &CheckedOverride) -> Result<()> {
        self.conn.execute(
            "INSERT INTO hub_overrides (rota, layer, person, starts, ends)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                cover.rota.as_str(),
                cover.layer,
                cover.person.as_str(),
                to_millis(cover.from),
                to_millis(cover.to)
            ],
        )?;
        Ok(())
    }

    /// The overrides not over at `now`, in the order the hub took them, then the person's own
    /// waiting ones: where two overlap, the later wins.
    pub fn hub_overrides(&self, now: Timestamp) -> Result<Vec<CheckedOverride>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT rota, layer, person, starts, ends FROM hub_overrides WHERE ends > ?1
             ORDER BY hub_id IS NULL, hub_id, id",
        )?;
        let rows = statement.query_map(params![to_millis(now)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let corrupt = |what: &str| StoreError::Corrupt(format!("an override's {what}"));
        rows.map(|row| {
            let (rota, layer, person, from, to) = row?;
            Ok(CheckedOverride {
                rota: RotaId::new(rota).map_err(|_| corrupt("rota"))?,
                layer,
                person: PersonId::new(person).map_err(|_| corrupt("person"))?,
                from: from_millis(from)?,
                to: from_millis(to)?,
            })
        })
        .collect()
    }
}

/// Lays a pull's overrides over the replica's: the hub's rows take the place of the person's
/// decided ones (up to `last_mutation_id`), and a full pull (`reset`) replaces every row the
/// hub sent before.
pub(crate) fn apply(
    tx: &Connection,
    pulled: &[PulledOverride],
    last_mutation_id: i64,
    reset: bool,
) -> Result<()> {
    tx.execute(
        "DELETE FROM hub_overrides WHERE hub_id IS NULL AND mutation_id <= ?1",
        params![last_mutation_id],
    )?;
    if reset {
        tx.execute("DELETE FROM hub_overrides WHERE hub_id IS NOT NULL", [])?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO hub_overrides (hub_id, rota, layer, person, starts, ends)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (hub_id) DO UPDATE SET rota = excluded.rota, layer = excluded.layer,
             person = excluded.person, starts = excluded.starts, ends = excluded.ends",
    )?;
    for cover in pulled {
        upsert.execute(params![
            cover.id,
            cover.rota,
            cover.layer,
            cover.person,
            to_millis(cover.from),
            to_millis(cover.to)
        ])?;
    }
    Ok(())
}

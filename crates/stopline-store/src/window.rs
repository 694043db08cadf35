//! The replica's window: a joined desktop keeps the open incidents and those resolved within
//! the last 30 days (the hub's full pull sends no more). Later pulls carry changes whatever the
//! incident's age, so without pruning a desktop that stays joined for a year would hold the
//! year; the engine prunes what has left the window now and then (docs/team.md).

use jiff::Timestamp;
use rusqlite::params;

use crate::rows::INCIDENT_ROWS;
use crate::{Result, Store, to_millis};

/// What one prune took out of the replica.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub incidents: usize,
    pub alerts: usize,
}

impl Store {
    /// Takes out of the replica the incidents resolved before `before`, with their rows, the
    /// unrouted alerts last seen before it, the overrides over by then and the person's actions
    /// the hub decided before it. An incident the
    /// person's waiting actions name, a provisional one, or one with entries this desktop
    /// wrote on its own stays.
    pub fn prune_replica(&mut self, before: Timestamp) -> Result<Pruned> {
        self.write(|tx| {
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS leaving (id INTEGER PRIMARY KEY);
                 DELETE FROM temp.leaving;",
            )?;
            let incidents = tx.execute(
                "INSERT INTO temp.leaving (id)
                 SELECT i.id FROM incidents i
                 WHERE i.state = 'resolved' AND i.resolved_at < ?1 AND i.provisional = 0
                   AND NOT EXISTS (SELECT 1 FROM hub_mutations m
                                   WHERE m.incident_id = i.id AND m.status = 'pending')
                   AND NOT EXISTS (SELECT 1 FROM timeline t WHERE t.incident_id = i.id
                                   AND t.hub_id IS NULL AND t.mutation_id IS NULL)",
                params![to_millis(before)],
            )?;
            const LEAVING: &str = "(SELECT id FROM temp.leaving)";
            for table in INCIDENT_ROWS.iter().chain(&["alerts"]) {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE incident_id IN {LEAVING}"),
                    [],
                )?;
            }
            tx.execute(&format!("DELETE FROM incidents WHERE id IN {LEAVING}"), [])?;
            tx.execute(
                "DELETE FROM folded_incidents WHERE hub IN (SELECT id FROM temp.leaving)",
                [],
            )?;
            let alerts = tx.execute(
                "DELETE FROM alerts WHERE incident_id IS NULL AND last_seen < ?1
                   AND id NOT IN (SELECT alert_id FROM outbox)",
                params![to_millis(before)],
            )?;
            tx.execute(
                "DELETE FROM hub_overrides WHERE ends < ?1 AND hub_id IS NOT NULL",
                params![to_millis(before)],
            )?;
            // The person's decided actions, kept to be shown, go with the window too.
            tx.execute(
                "DELETE FROM hub_mutations WHERE status <> 'pending' AND decided_at < ?1",
                params![to_millis(before)],
            )?;
            tx.execute("DELETE FROM temp.leaving", [])?;
            Ok(Pruned { incidents, alerts })
        })
    }
}

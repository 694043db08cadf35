//! A joined desktop whose hub has been away longer than `[hub] degraded_after` keeps its
//! person safe on its own (docs/team.md): it takes alerts from the organisation's
//! Alertmanagers itself, opens **provisional** incidents for those the replica does not know
//! (numbered from `PROVISIONAL_BASE`, so they never take an id the hub gives), and counts an
//! incident whose alerts a Stopline silence mutes as acknowledged elsewhere. What it writes to
//! the timeline meanwhile is marked (`mutation_id` 0): when the hub returns, the hub's account
//! replaces it and provisional incidents merge into the hub's by (source, fingerprint).

use jiff::Timestamp;
use rusqlite::params;
use stopline_core::alert::Fingerprint;
use stopline_core::incident::IncidentId;

use crate::replica::{ReplicaMark, WRITTEN_WHILE_AWAY};
use crate::rows::{append, load, save_state};
use crate::{AlertObservation, IngestPolicy, IngestSummary, Result, Store};

impl Store {
    /// Takes a poll of `source` while the hub is away: firing alerts the replica does not know
    /// open or join provisional incidents; alerts it knows (the hub's) are left to the hub.
    pub fn ingest_provisional(
        &mut self,
        batch: &[AlertObservation],
        policy: IngestPolicy,
        now: Timestamp,
    ) -> Result<IngestSummary> {
        self.exclusively(|store| {
            let mut unknown = Vec::new();
            for observation in batch {
                let alert = &observation.alert;
                if alert.state == stopline_core::alert::AlertState::Firing
                    && store.alert(&alert.source, &alert.fingerprint)?.is_none()
                {
                    unknown.push(observation.clone());
                }
            }
            if unknown.is_empty() {
                return Ok(IngestSummary::default());
            }
            let mark = store.replica_mark()?;
            let summary = store.provisionally(|store| store.ingest(&unknown, policy, now))?;
            store.mark_written_while_away(mark)?;
            Ok(summary)
        })
    }

    /// Acknowledges, as "acknowledged elsewhere", each triggered incident of the replica whose
    /// firing alerts from `source` are all among `silenced` (muted by a Stopline silence).
    /// Answers the incidents that changed.
    pub fn acknowledge_elsewhere(
        &mut self,
        source: &str,
        silenced: &[Fingerprint],
        now: Timestamp,
    ) -> Result<Vec<IncidentId>> {
        if silenced.is_empty() {
            return Ok(Vec::new());
        }
        self.exclusively(|store| {
            let mark = store.replica_mark()?;
            let mut changed = Vec::new();
            let mut candidates = Vec::new();
            for fingerprint in silenced {
                if let Some(incident) = store.alert(source, fingerprint)?.and_then(|a| a.incident)
                    && !candidates.contains(&incident)
                {
                    candidates.push(incident);
                }
            }
            for id in candidates {
                let firing: Vec<String> = store
                    .conn
                    .prepare_cached(
                        "SELECT fingerprint FROM alerts
                         WHERE incident_id = ?1 AND source = ?2 AND state = 'firing'",
                    )?
                    .query_map(params![crate::rows::sql_id(id), source], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                let all_silenced = !firing.is_empty()
                    && firing
                        .iter()
                        .all(|f| silenced.iter().any(|s| s.as_str() == f));
                let mut incident = load(&store.conn, id)?;
                if !all_silenced
                    || incident.state != stopline_core::incident::IncidentState::Triggered
                {
                    continue;
                }
                let event = incident.acknowledge_elsewhere(source, now)?;
                save_state(&store.conn, &incident)?;
                append(&store.conn, id, &event)?;
                changed.push(id);
            }
            store.mark_written_while_away(mark)?;
            Ok(changed)
        })
    }

    /// Marks what was written to the timeline and roles since `mark` as written while the hub
    /// was away: it gives way to the hub's account when the hub returns.
    pub fn mark_written_while_away(&mut self, mark: ReplicaMark) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE timeline SET mutation_id = ?1
                 WHERE id > ?2 AND hub_id IS NULL AND mutation_id IS NULL",
                params![WRITTEN_WHILE_AWAY, mark.timeline],
            )?;
            tx.execute(
                "UPDATE roles SET mutation_id = ?1
                 WHERE id > ?2 AND hub_id IS NULL AND mutation_id IS NULL",
                params![WRITTEN_WHILE_AWAY, mark.roles],
            )?;
            Ok(())
        })
    }

    /// Forgets the replica's cookie: the next pull is a full resync (after a spell away, so the
    /// hub's account replaces what this desktop decided meanwhile).
    pub fn forget_hub_cookie(&mut self) -> Result<()> {
        self.delete_desktop_setting(crate::replica::HUB_COOKIE_KEY)
    }
}

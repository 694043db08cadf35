//! The outbox: actions waiting to reach an alert source, and the silences they made.
//!
//! Rows are queued by triggers (migration 6) in the transaction of the change that causes them,
//! so an acknowledgement that was reported saved always has its silences queued, and one that
//! was not never does. The engine's worker takes them per source in order (`outbox_due`), and
//! records each outcome here in one transaction with the silence it made or expired.

use std::time::Duration;

use jiff::Timestamp;
use rusqlite::params;
use stopline_core::alert::Labels;
use stopline_core::incident::IncidentId;

use crate::rows::sql_id;
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// What an outbox row asks of its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxAction {
    /// Create a silence for the alert (the incident was acknowledged).
    Silence,
    /// Push the silence's end further out (the incident is still acknowledged).
    Extend,
    /// Expire the silence (the incident was resolved).
    Expire,
}

impl OutboxAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Silence => "silence",
            Self::Extend => "extend",
            Self::Expire => "expire",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "silence" => Ok(Self::Silence),
            "extend" => Ok(Self::Extend),
            "expire" => Ok(Self::Expire),
            other => Err(StoreError::Corrupt(format!("outbox action {other:?}"))),
        }
    }
}

/// One waiting action, with what the worker needs to carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub source: String,
    pub action: OutboxAction,
    pub incident: IncidentId,
    pub alert_id: i64,
    /// The alert's labels: a silence matches exactly these.
    pub labels: Labels,
    /// Who caused it (the person who acknowledged), when a person did.
    pub who: Option<String>,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    /// The silence this alert has in the source, once one was made.
    pub silence: Option<SilenceRecord>,
}

/// A silence Stopline made in a source for one alert of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceRecord {
    pub incident: IncidentId,
    pub alert_id: i64,
    pub source: String,
    /// The source's id for it.
    pub silence_id: String,
    pub ends_at: Timestamp,
    /// Set once it was expired.
    pub expired_at: Option<Timestamp>,
}

/// What a source's outbox holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxBacklog {
    pub source: String,
    /// Actions still to send.
    pub waiting: u64,
    /// When the oldest of them was queued.
    pub oldest: Option<Timestamp>,
    /// Actions the source refused for good (a malformed request): sending them again would not help.
    pub abandoned: u64,
    /// Why the last attempt failed, while actions wait.
    pub last_error: Option<String>,
}

/// What the source made of a sent action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentOutcome {
    /// The silence exists (created or extended) with this id, until then.
    Silenced {
        silence_id: String,
        ends_at: Timestamp,
    },
    /// The silence is expired (or was gone already).
    Expired,
    /// Nothing to do (an expiry for a silence that was never made).
    Nothing,
}

impl Store {
    /// Says which sources take silences and for how long each, replacing what was there: the
    /// engine calls it with the config's `write_back` sources at start and at each reload.
    pub fn set_write_back(&mut self, sources: &[(String, Duration)]) -> Result<()> {
        let current = self.write_back()?;
        let wanted: Vec<(String, i64)> = sources
            .iter()
            .map(|(name, d)| (name.clone(), i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
            .collect();
        if current == wanted {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute("DELETE FROM write_back", [])?;
            for (name, seconds) in &wanted {
                tx.execute(
                    "INSERT INTO write_back (source, silence_seconds) VALUES (?1, ?2)",
                    params![name, seconds],
                )?;
            }
            Ok(())
        })
    }

    fn write_back(&self) -> Result<Vec<(String, i64)>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT source, silence_seconds FROM write_back ORDER BY source")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The waiting actions of each source whose oldest waiting action is due at `now`, in the
    /// order they were queued, at most `limit` a source: a source is served strictly in order,
    /// so one that is down holds back its own actions and nobody else's.
    pub fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxItem>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT o.id, o.source, o.action, o.incident_id, o.alert_id, a.labels, o.who,
                    o.created_at, o.attempts, o.next_attempt_at, o.last_error,
                    s.silence_id, s.ends_at, s.expired_at
             FROM outbox o
             JOIN alerts a ON a.id = o.alert_id
             LEFT JOIN silences s ON s.incident_id = o.incident_id AND s.alert_id = o.alert_id
             WHERE o.status = 'waiting'
               AND (SELECT h.next_attempt_at FROM outbox h
                    WHERE h.source = o.source AND h.status = 'waiting'
                    ORDER BY h.id LIMIT 1) <= ?1
             ORDER BY o.source, o.id",
        )?;
        let rows = statement.query_map([to_millis(now)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, Option<String>>(6)?,
                (
                    row.get::<_, i64>(7)?,
                    row.get::<_, u32>(8)?,
                    row.get::<_, i64>(9)?,
                ),
                row.get::<_, Option<String>>(10)?,
                (
                    row.get::<_, Option<String>>(11)?,
                    row.get::<_, Option<i64>>(12)?,
                    row.get::<_, Option<i64>>(13)?,
                ),
            ))
        })?;
        let mut items: Vec<OutboxItem> = Vec::new();
        for row in rows {
            let (id, source, action, incident, alert_id, labels, who, times, last_error, silence) =
                row?;
            let (created_at, attempts, next_attempt_at) = times;
            if items.iter().filter(|i| i.source == source).count() >= limit {
                continue;
            }
            let incident = crate::rows::incident_id(incident)?;
            let silence = match silence {
                (Some(silence_id), Some(ends_at), expired_at) => Some(SilenceRecord {
                    incident,
                    alert_id,
                    source: source.clone(),
                    silence_id,
                    ends_at: from_millis(ends_at)?,
                    expired_at: expired_at.map(from_millis).transpose()?,
                }),
                _ => None,
            };
            items.push(OutboxItem {
                id,
                action: OutboxAction::parse(&action)?,
                incident,
                alert_id,
                labels: serde_json::from_str(&labels)
                    .map_err(|e| StoreError::Corrupt(format!("labels of alert {alert_id}: {e}")))?,
                who,
                created_at: from_millis(created_at)?,
                attempts,
                next_attempt_at: from_millis(next_attempt_at)?,
                last_error,
                silence,
                source,
            });
        }
        Ok(items)
    }

    /// The source carried out an action: it is done, and the silence it made or expired is
    /// recorded, in one transaction.
    pub fn outbox_sent(
        &mut self,
        item: &OutboxItem,
        outcome: &SentOutcome,
        now: Timestamp,
    ) -> Result<()> {
        let incident = sql_id(item.incident);
        self.write(|tx| {
            match outcome {
                SentOutcome::Silenced {
                    silence_id,
                    ends_at,
                } => {
                    tx.execute(
                        "INSERT INTO silences (incident_id, alert_id, source, silence_id, ends_at)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (incident_id, alert_id) DO UPDATE SET
                             silence_id = excluded.silence_id, ends_at = excluded.ends_at,
                             expired_at = NULL",
                        params![
                            incident,
                            item.alert_id,
                            item.source,
                            silence_id,
                            to_millis(*ends_at)
                        ],
                    )?;
                }
                SentOutcome::Expired => {
                    tx.execute(
                        "UPDATE silences SET expired_at = ?3
                         WHERE incident_id = ?1 AND alert_id = ?2 AND expired_at IS NULL",
                        params![incident, item.alert_id, to_millis(now)],
                    )?;
                }
                SentOutcome::Nothing => {}
            }
            tx.execute(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1, finished_at = ?2,
                     last_error = NULL
                 WHERE id = ?1 AND status = 'waiting'",
                params![item.id, to_millis(now)],
            )?;
            Ok(())
        })
    }

    /// An attempt failed and may work later: try again at `retry_at`.
    pub fn outbox_retry(&mut self, id: i64, error: &str, retry_at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
                 WHERE id = ?1 AND status = 'waiting'",
                params![id, error, to_millis(retry_at)],
            )?;
            Ok(())
        })
    }

    /// The source refused an action for good: it is set aside, with why, and the queue moves on.
    /// The incident's timeline says so, since its alerts may now page again in the source.
    pub fn outbox_abandon(&mut self, id: i64, error: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE outbox SET status = 'abandoned', attempts = attempts + 1,
                     last_error = ?2, finished_at = ?3
                 WHERE id = ?1 AND status = 'waiting'",
                params![id, error, to_millis(now)],
            )?;
            if changed > 0 {
                tx.execute(
                    "INSERT INTO timeline (incident_id, at, who, kind, detail)
                     SELECT o.incident_id, ?2, NULL, 'alerts',
                            o.source || ' refused to '
                            || CASE o.action WHEN 'silence' THEN 'create' ELSE o.action END
                            || ' the silence for '
                            || COALESCE(a.labels ->> '$.alertname', a.fingerprint) || ': ' || ?3
                     FROM outbox o JOIN alerts a ON a.id = o.alert_id WHERE o.id = ?1",
                    params![id, to_millis(now), error],
                )?;
            }
            Ok(())
        })
    }

    /// Each source's backlog: what waits, since when, why the last attempt failed.
    pub fn outbox_backlog(&self) -> Result<Vec<OutboxBacklog>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT source,
                    SUM(status = 'waiting'),
                    MIN(CASE WHEN status = 'waiting' THEN created_at END),
                    SUM(status = 'abandoned'),
                    (SELECT last_error FROM outbox l
                     WHERE l.source = o.source AND l.status = 'waiting'
                     ORDER BY l.id LIMIT 1)
             FROM outbox o
             WHERE status <> 'sent'
             GROUP BY source
             ORDER BY source",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut backlog = Vec::new();
        for row in rows {
            let (source, waiting, oldest, abandoned, last_error) = row?;
            backlog.push(OutboxBacklog {
                source,
                waiting: u64::try_from(waiting).unwrap_or(0),
                oldest: oldest.map(from_millis).transpose()?,
                abandoned: u64::try_from(abandoned).unwrap_or(0),
                last_error,
            });
        }
        Ok(backlog)
    }

    /// Queues an extension for every live silence of a still-acknowledged incident that ends
    /// within half its source's silence duration, unless an action for it already waits.
    /// Returns how many were queued.
    pub fn queue_extensions(&mut self, now: Timestamp) -> Result<usize> {
        let now = to_millis(now);
        self.write(|tx| {
            Ok(tx.execute(
                "INSERT INTO outbox (source, action, incident_id, alert_id, created_at,
                                     next_attempt_at)
                 SELECT s.source, 'extend', s.incident_id, s.alert_id, ?1, ?1
                 FROM silences s
                 JOIN incidents i ON i.id = s.incident_id
                 JOIN write_back w ON w.source = s.source
                 WHERE i.state = 'acknowledged' AND s.expired_at IS NULL
                   AND s.ends_at - ?1 < w.silence_seconds * 1000 / 2
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                                   WHERE o.incident_id = s.incident_id
                                     AND o.alert_id = s.alert_id AND o.status = 'waiting')
                 ORDER BY s.incident_id, s.alert_id",
                [now],
            )?)
        })
    }

    /// The silences Stopline made for an incident's alerts.
    pub fn silences(&self, incident: IncidentId) -> Result<Vec<SilenceRecord>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT alert_id, source, silence_id, ends_at, expired_at FROM silences
             WHERE incident_id = ?1 ORDER BY alert_id",
        )?;
        let rows = statement.query_map([sql_id(incident)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })?;
        let mut silences = Vec::new();
        for row in rows {
            let (alert_id, source, silence_id, ends_at, expired_at) = row?;
            silences.push(SilenceRecord {
                incident,
                alert_id,
                source,
                silence_id,
                ends_at: from_millis(ends_at)?,
                expired_at: expired_at.map(from_millis).transpose()?,
            });
        }
        Ok(silences)
    }

    /// How many of an incident's outbox actions still wait.
    pub fn outbox_waiting_for(&self, incident: IncidentId) -> Result<u64> {
        let waiting: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM outbox WHERE incident_id = ?1 AND status = 'waiting'",
            [sql_id(incident)],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(waiting).unwrap_or(0))
    }
}

//! Write-back from the hub: silences in Alertmanager for the alerts of acknowledged incidents,
//! as a desktop makes them (docs/sources.md). The actions are queued by the schema's triggers in
//! the transaction of the change that causes them; every hub runs a worker, and a source's
//! queue is served by the hub holding its `write_back` row (`FOR UPDATE SKIP LOCKED`), strictly
//! in order, with the desktop's backoff when the source cannot be reached and the queue set
//! aside item by item when the source refuses one for good. What to send for each action is
//! `stopline_alertmanager::silences::carry_out`, the desktop's own.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use stopline_alertmanager::silences::{
    Action, Failure, Pending, Sent, backoff, carry_out, jitter, later,
};
use stopline_alertmanager::{AlertmanagerClient, AlertmanagerSource};
use stopline_core::clock::Clock;
use stopline_core::incident::IncidentId;
use tokio_postgres::Transaction;

use crate::Result;
use crate::database::Database;
use crate::rows::{bump_version, corrupt, from_time, to_time};

/// How many actions of one source a round takes.
const ROUND: i64 = 200;
/// How often each hub's worker looks for work.
const EVERY: Duration = Duration::from_secs(1);

impl Database {
    /// Which sources take silences, and for how long: the config's, set by each hub as it
    /// starts (configure every hub alike). Sources no longer in it stop taking new silences.
    pub async fn set_write_back(&self, sources: &[(String, Duration)]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let names: Vec<&str> = sources.iter().map(|(name, _)| name.as_str()).collect();
        tx.execute("DELETE FROM write_back WHERE source <> ALL($1)", &[&names])
            .await?;
        for (name, duration) in sources {
            let seconds = i32::try_from(duration.as_secs().max(1)).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO write_back (source, silence_seconds) VALUES ($1, $2)
                 ON CONFLICT (source) DO UPDATE SET silence_seconds = excluded.silence_seconds",
                &[name, &seconds],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues an extension for each live silence of an acknowledged incident that has less
    /// than half its duration left (and nothing else waiting for that alert).
    async fn queue_extensions(&self, now: Timestamp) -> Result<u64> {
        let client = self.client().await?;
        Ok(client
            .execute(
                "INSERT INTO outbox (source, action, incident_id, alert_id, created_at,
                                     next_attempt_at)
                 SELECT s.source, 'extend', s.incident_id, s.alert_id, $1, $1
                 FROM silences s
                 JOIN incidents i ON i.id = s.incident_id
                 JOIN write_back w ON w.source = s.source
                 WHERE i.state = 'acknowledged' AND s.expired_at IS NULL
                   AND s.ends_at - $1 < make_interval(secs => w.silence_seconds / 2.0)
                   AND NOT EXISTS (SELECT 1 FROM outbox o
                                   WHERE o.incident_id = s.incident_id
                                     AND o.alert_id = s.alert_id AND o.status = 'waiting')
                 ORDER BY s.incident_id, s.alert_id",
                &[&to_time(now)],
            )
            .await?)
    }
}

/// One hub's write-back worker.
#[derive(Clone)]
pub struct WriteBack {
    pub database: Database,
    /// The config's Alertmanager sources; those with `write_back` are served.
    pub sources: Vec<AlertmanagerSource>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WriteBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBack")
            .field("database", &self.database)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// One queued action with what the hub knows of its silence.
struct Item {
    id: i64,
    action: Action,
    incident_id: i64,
    /// As people say it, for the silence's comment and marker.
    incident: String,
    alert_id: i64,
    labels: BTreeMap<String, String>,
    who: Option<String>,
    attempts: i32,
    next_attempt_at: Timestamp,
    silence: Option<(String, Timestamp, bool)>,
}

impl WriteBack {
    /// Copies the sources' write-back settings to the database, then serves the queues every
    /// second until `stop`.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let settings: Vec<(String, Duration)> = self
            .sources
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.write_back?.silence_duration)))
            .collect();
        if let Err(error) = self.database.set_write_back(&settings).await {
            tracing::error!(%error, "cannot record which sources take silences");
        }
        let client = match AlertmanagerClient::new() {
            Ok(client) => client,
            Err(error) => {
                tracing::error!("write-back cannot run: {error}");
                return;
            }
        };
        let mut stop = std::pin::pin!(stop);
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = &mut stop => return,
            }
            if let Err(error) = self.round(&client).await {
                tracing::warn!(%error, "write-back round failed: trying again");
            }
        }
    }

    /// Queues the extensions that are due, then serves each source this hub can hold.
    pub async fn round(&self, client: &AlertmanagerClient) -> Result<()> {
        let now = self.clock.now();
        self.database.queue_extensions(now).await?;
        for source in self.sources.iter().filter(|s| s.write_back.is_some()) {
            self.serve(client, source, now).await?;
        }
        Ok(())
    }

    /// Serves one source's queue in order while holding it, until an action must wait.
    async fn serve(
        &self,
        client: &AlertmanagerClient,
        source: &AlertmanagerSource,
        now: Timestamp,
    ) -> Result<()> {
        let mut connection = self.database.client().await?;
        let tx = connection.transaction().await?;
        let held = tx
            .query_opt(
                "SELECT 1 FROM write_back WHERE source = $1 FOR UPDATE SKIP LOCKED",
                &[&source.name],
            )
            .await?;
        if held.is_none() {
            // Another hub serves it now, or it takes no silences.
            return Ok(());
        }
        let items = waiting(&tx, &source.name).await?;
        let mut existing = None;
        for item in &items {
            if item.next_attempt_at > now {
                break;
            }
            let pending = Pending {
                action: item.action,
                incident: &item.incident,
                alert_id: item.alert_id,
                labels: &item.labels,
                who: item.who.as_deref(),
                silence: item
                    .silence
                    .as_ref()
                    .map(|(id, ends, expired)| (id.as_str(), *ends, *expired)),
            };
            match carry_out(client, source, pending, now, &mut existing).await {
                Ok(sent) => sent_record(&tx, item, &source.name, &sent, now).await?,
                Err(Failure::Transient(error)) => {
                    let attempts = u32::try_from(item.attempts + 1).unwrap_or(1);
                    let retry_at = later(now, backoff(attempts, jitter()));
                    tracing::warn!(source = %source.name, retry_at = %retry_at, "write-back waits: {error}");
                    tx.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                             next_attempt_at = $3
                         WHERE id = $1",
                        &[&item.id, &error, &to_time(retry_at)],
                    )
                    .await?;
                    // In order: the rest of this source's queue waits behind it.
                    break;
                }
                Err(Failure::Refused(error)) => {
                    tracing::warn!(source = %source.name, action = item.action.as_str(), incident = %item.incident, "refused for good: {error}");
                    abandon(&tx, item, &source.name, &error, now).await?;
                    // The timeline entry took the organisation's version: no more calls to the
                    // source while holding it. The rest waits for the next round.
                    break;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The source's waiting actions in order, with their alerts' labels and their silences.
async fn waiting(tx: &Transaction<'_>, source: &str) -> Result<Vec<Item>> {
    let rows = tx
        .query(
            "SELECT o.id, o.action, o.incident_id, o.alert_id, a.labels, o.who, o.attempts,
                    o.next_attempt_at, s.silence_id, s.ends_at, s.expired_at
             FROM outbox o
             JOIN alerts a ON a.id = o.alert_id
             LEFT JOIN silences s ON s.incident_id = o.incident_id AND s.alert_id = o.alert_id
             WHERE o.source = $1 AND o.status = 'waiting'
             ORDER BY o.id LIMIT $2",
            &[&source, &ROUND],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let action: String = row.get(1);
            let incident: i64 = row.get(2);
            let silence = match (
                row.get::<_, Option<String>>(8),
                row.get::<_, Option<SystemTime>>(9),
            ) {
                (Some(id), Some(ends)) => Some((
                    id,
                    from_time(ends)?,
                    row.get::<_, Option<SystemTime>>(10).is_some(),
                )),
                _ => None,
            };
            Ok(Item {
                id: row.get(0),
                action: Action::parse(&action)
                    .ok_or_else(|| corrupt(&format!("outbox action {action:?}")))?,
                incident_id: incident,
                incident: IncidentId(u64::try_from(incident).unwrap_or(0)).to_string(),
                alert_id: row.get(3),
                labels: serde_json::from_str(&row.get::<_, String>(4))
                    .map_err(|e| corrupt(&format!("an alert's labels: {e}")))?,
                who: row.get(5),
                attempts: row.get(6),
                next_attempt_at: from_time(row.get(7))?,
                silence,
            })
        })
        .collect()
}

/// The source carried out an action: it is done, and the silence it made or expired recorded.
async fn sent_record(
    tx: &Transaction<'_>,
    item: &Item,
    source: &str,
    sent: &Sent,
    now: Timestamp,
) -> Result<()> {
    let incident = item.incident_id;
    match sent {
        Sent::Silenced {
            silence_id,
            ends_at,
        } => {
            tx.execute(
                "INSERT INTO silences (incident_id, alert_id, source, silence_id, ends_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (incident_id, alert_id) DO UPDATE SET
                     silence_id = excluded.silence_id, ends_at = excluded.ends_at,
                     expired_at = NULL",
                &[
                    &incident,
                    &item.alert_id,
                    &source,
                    silence_id,
                    &to_time(*ends_at),
                ],
            )
            .await?;
        }
        Sent::Expired => {
            tx.execute(
                "UPDATE silences SET expired_at = $3
                 WHERE incident_id = $1 AND alert_id = $2 AND expired_at IS NULL",
                &[&incident, &item.alert_id, &to_time(now)],
            )
            .await?;
        }
        Sent::Nothing => {}
    }
    tx.execute(
        "UPDATE outbox SET status = 'sent', attempts = attempts + 1, finished_at = $2,
             last_error = NULL
         WHERE id = $1",
        &[&item.id, &to_time(now)],
    )
    .await?;
    Ok(())
}

/// The source refused an action for good: set aside with why, and the incident's timeline says
/// so (its alert may page again in the source).
async fn abandon(
    tx: &Transaction<'_>,
    item: &Item,
    source: &str,
    error: &str,
    now: Timestamp,
) -> Result<()> {
    let version = bump_version(tx).await?;
    tx.execute(
        "UPDATE outbox SET status = 'abandoned', attempts = attempts + 1, last_error = $2,
             finished_at = $3
         WHERE id = $1",
        &[&item.id, &error, &to_time(now)],
    )
    .await?;
    let verb = match item.action {
        Action::Silence => "create",
        other => other.as_str(),
    };
    let name = item
        .labels
        .get("alertname")
        .cloned()
        .unwrap_or_else(|| format!("alert {}", item.alert_id));
    tx.execute(
        "INSERT INTO timeline (incident_id, at, who, kind, detail, version)
         SELECT incident_id, $2, NULL, 'alerts', $3, $4 FROM outbox WHERE id = $1",
        &[
            &item.id,
            &to_time(now),
            &format!("{source} refused to {verb} the silence for {name}: {error}"),
            &version,
        ],
    )
    .await?;
    Ok(())
}

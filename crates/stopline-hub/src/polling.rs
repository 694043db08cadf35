//! Polling the organisation's Alertmanagers from the hub: every hub runs a poller for each
//! configured source, and each interval one of them polls it. A hub claims a source's poll by
//! moving its `due_at` on in one statement (`source_polls`); the others find it not due. A poll
//! is a complete view of the source's alerts, as on a desktop: an alert it no longer lists is
//! resolved. The client is `stopline-alertmanager`'s, the routing and delivery rules core's.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use stopline_alertmanager::{AlertmanagerClient, AlertmanagerSource, PollError};
use stopline_core::alert::Fingerprint;
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::routing::{AlertObservation, AlertRouter, observation};
use stopline_core::settings::AlertSettings;
use tokio::sync::Notify;

use crate::Result;
use crate::database::Database;
use crate::intake::IntakeSummary;
use crate::rows::{corrupt, to_time};
use crate::sources::{RESOLVABLE_COLUMNS, resolved_observation};

impl Database {
    /// Claims `source`'s poll due at `now`, moving the next one `every` on: `true` for the one
    /// hub that gets it.
    pub async fn claim_poll(&self, source: &str, every: Duration, now: Timestamp) -> Result<bool> {
        let next = now
            .checked_add(jiff::SignedDuration::try_from(every).unwrap_or_default())
            .unwrap_or(now);
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "INSERT INTO source_polls (source, due_at) VALUES ($1, $2)
                 ON CONFLICT (source) DO UPDATE SET due_at = excluded.due_at
                     WHERE source_polls.due_at <= $3
                 RETURNING source",
                &[&source, &to_time(next), &to_time(now)],
            )
            .await?
            .is_some())
    }

    /// Records how a poll went: `None` when it succeeded, else why it failed.
    async fn polled(&self, source: &str, failure: Option<&str>, now: Timestamp) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE source_polls SET polled_at = $2, last_error = $3 WHERE source = $1",
                &[&source, &to_time(now), &failure],
            )
            .await?;
        Ok(())
    }

    /// Applies a complete view of `source`'s alerts: the alerts in it as delivered, and every
    /// alert of the source still firing here but missing from it, resolved.
    pub async fn ingest_snapshot(
        &self,
        source: &str,
        batch: Vec<AlertObservation>,
        auto_resolve: bool,
        now: Timestamp,
    ) -> Result<IntakeSummary> {
        let listed: HashSet<&str> = batch.iter().map(|o| o.alert.fingerprint.as_str()).collect();
        let client = self.client().await?;
        let firing = client
            .query(
                &format!(
                    "SELECT fingerprint, {RESOLVABLE_COLUMNS} FROM alerts
                     WHERE source = $1 AND state = 'firing'"
                ),
                &[&source],
            )
            .await?;
        drop(client);
        let mut gone = Vec::new();
        for row in &firing {
            let fingerprint: String = row.get(0);
            if listed.contains(fingerprint.as_str()) {
                continue;
            }
            let fingerprint =
                Fingerprint::new(fingerprint).map_err(|_| corrupt("an alert's fingerprint"))?;
            gone.push(resolved_observation(row, 1, source, &fingerprint, now)?);
        }
        drop(listed);
        let mut all = batch;
        all.extend(gone);
        self.ingest(&all, auto_resolve, now).await
    }
}

/// What a hub's pollers need.
#[derive(Clone)]
pub struct Pollers {
    pub database: Database,
    pub config: Option<Arc<Config>>,
    pub clock: Arc<dyn Clock>,
    /// Told when a poll opened an incident, so escalation pages at once.
    pub escalate_now: Arc<Notify>,
}

impl std::fmt::Debug for Pollers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pollers")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Pollers {
    /// Polls `source` whenever its interval comes round and this hub claims it, until `stop`.
    pub async fn poll(&self, source: AlertmanagerSource, stop: impl Future<Output = ()>) {
        let client = match AlertmanagerClient::new() {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(source = %source.name, "cannot poll: {error}");
                return;
            }
        };
        let mut stop = std::pin::pin!(stop);
        let mut ticks = tokio::time::interval(source.poll_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = &mut stop => return,
            }
            let now = self.clock.now();
            match self
                .database
                .claim_poll(&source.name, source.poll_interval, now)
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(source = %source.name, %error, "cannot claim a poll");
                    continue;
                }
            }
            let failure = match self.poll_once(&source, &client, now).await {
                Ok(summary) => {
                    if !summary.opened.is_empty() {
                        self.escalate_now.notify_one();
                    }
                    None
                }
                Err(error) => {
                    tracing::warn!(source = %source.name, "poll failed: {error}");
                    Some(error.0)
                }
            };
            if let Err(error) = self
                .database
                .polled(&source.name, failure.as_deref(), now)
                .await
            {
                tracing::warn!(source = %source.name, %error, "cannot record the poll");
            }
        }
    }

    /// Asks every member of the source, merges their answers by fingerprint, and applies them
    /// as a complete view; fails when no member answered.
    async fn poll_once(
        &self,
        source: &AlertmanagerSource,
        client: &AlertmanagerClient,
        now: Timestamp,
    ) -> std::result::Result<IntakeSummary, PollError> {
        let answered = client.source_alerts(source, now).await?;
        for member in &answered.unreachable {
            tracing::warn!(source = %source.name, "HA member unreachable: {member}");
        }
        let settings: AlertSettings = self
            .config
            .as_ref()
            .map(|c| c.alerts.clone())
            .unwrap_or_default();
        let router = match self.config.as_deref() {
            Some(config) => AlertRouter::Config(config),
            None => AlertRouter::Labels,
        };
        let batch: Vec<AlertObservation> = answered
            .alerts
            .into_iter()
            // The pipeline's heartbeat says the pipeline works; it is no alert to page for.
            .filter(|alert| alert.labels.get("alertname") != Some(&settings.heartbeat_alert))
            .map(|alert| {
                let route = router.route(&alert.labels);
                observation(&settings, &source.name, alert, route, now)
            })
            .collect();
        self.database
            .ingest_snapshot(&source.name, batch, settings.auto_resolve, now)
            .await
            .map_err(|e| PollError(format!("cannot store the alerts: {e}")))
    }
}

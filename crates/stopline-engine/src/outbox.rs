//! The outbox worker: carries the actions the store queued (silence, extend, expire) to the
//! Alertmanagers that take write-back, through their API v2.
//!
//! Each source is served strictly in order; when it cannot be reached the action waits with an
//! exponential backoff (1 s doubling to 5 min, with jitter so that many desktops do not retry in
//! step) and the source's later actions wait behind it, while other sources go on. A request the
//! source refuses for good (HTTP 400: a malformed silence) is set aside with the reason, so one bad
//! action never blocks the queue. Everything survives restarts: the queue is in the store.
//!
//! Creating a silence is idempotent: each silence carries a marker in its comment naming the
//! incident and alert, and before creating one the worker looks for a live silence with that
//! marker. A crash between Alertmanager's answer and our commit therefore never makes a second
//! silence: the retry finds and adopts the first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use stopline_core::clock::Clock;
use stopline_store::{OutboxAction, OutboxItem, SentOutcome, Store, StoreError};

use stopline_alertmanager::silences::{
    Action, ApiSilence, Failure, LONGEST_RETRY, Pending, Sent, backoff, carry_out, jitter, later,
};

use crate::alertmanager::{AlertmanagerClient, AlertmanagerSource, HttpClientError};
use crate::events::EngineEvent;
use crate::shared_store::{SharedStore, StoreTaskFailed};

/// Why the outbox worker could not do its round; it tries again on its next one.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    StoreTask(#[from] StoreTaskFailed),
    #[error(transparent)]
    Http(#[from] HttpClientError),
}

/// How many actions of one source a round takes.
const ROUND: usize = 200;
/// How long the worker sleeps when nothing is due.
const IDLE: Duration = Duration::from_secs(1);

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retried: usize,
    pub abandoned: usize,
}

/// Carries outbox actions to Alertmanagers.
#[derive(Debug, Clone)]
pub struct OutboxWorker {
    store: SharedStore,
    sources: Vec<AlertmanagerSource>,
    client: AlertmanagerClient,
    clock: Arc<dyn Clock>,
}

impl OutboxWorker {
    /// A worker for these sources. Their write-back settings are copied into the store, which
    /// queues silences by them (`Store::set_write_back`).
    pub fn new(
        store: SharedStore,
        sources: Vec<AlertmanagerSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OutboxError> {
        let write_back: Vec<(String, Duration)> = sources
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.write_back?.silence_duration)))
            .collect();
        store.blocking(|s| s.set_write_back(&write_back))?;
        let client = AlertmanagerClient::new()?;
        Ok(Self {
            store,
            sources,
            client,
            clock,
        })
    }

    /// Runs a store operation on a blocking thread, off the async workers.
    async fn store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store) -> stopline_store::Result<T> + Send + 'static,
    ) -> Result<T, OutboxError> {
        self.store
            .run(move |store| work(store).map_err(OutboxError::from))
            .await
    }

    /// Queues the extensions that are due, then sends what is due, source by source.
    pub async fn round(&self) -> Result<Round, OutboxError> {
        let now = self.clock.now();
        let due = self
            .store(move |s| {
                s.queue_extensions(now)?;
                s.outbox_due(now, ROUND)
            })
            .await?;
        let mut by_source: BTreeMap<String, Vec<OutboxItem>> = BTreeMap::new();
        for item in due {
            by_source.entry(item.source.clone()).or_default().push(item);
        }
        let mut round = Round::default();
        for (name, items) in by_source {
            let Some(source) = self.sources.iter().find(|s| s.name == name) else {
                // Waits until an engine that knows the source runs; `stopline sources` says why.
                let error = format!("source {name:?} is not an Alertmanager in the config");
                let retry_at = later(now, LONGEST_RETRY);
                let first = items[0].id;
                self.store(move |s| s.outbox_retry(first, &error, retry_at))
                    .await?;
                round.retried += 1;
                continue;
            };
            self.serve_source(source, items, now, &mut round).await?;
        }
        Ok(round)
    }

    async fn serve_source(
        &self,
        source: &AlertmanagerSource,
        items: Vec<OutboxItem>,
        now: Timestamp,
        round: &mut Round,
    ) -> Result<(), OutboxError> {
        // The source's silences, read once a round, to find any made before a crash.
        let mut existing: Option<Vec<ApiSilence>> = None;
        for item in items {
            let outcome = self.send(source, &item, now, &mut existing).await;
            match outcome {
                Ok(sent) => {
                    let (name, urls) = (source.name.clone(), source.urls.join(", "));
                    self.store(move |s| {
                        s.outbox_sent(&item, &sent, now)?;
                        s.record_source_success(&name, "alertmanager", Some(&urls), now)
                    })
                    .await?;
                    round.sent += 1;
                }
                Err(Failure::Refused(error)) => {
                    tracing::warn!(source = %source.name, action = item.action.as_str(), incident = %item.incident, "refused for good: {error}");
                    let id = item.id;
                    self.store(move |s| s.outbox_abandon(id, &error, now))
                        .await?;
                    round.abandoned += 1;
                }
                Err(Failure::Transient(error)) => {
                    let retry_at = later(now, backoff(item.attempts + 1, jitter()));
                    tracing::warn!(source = %source.name, retry_at = %retry_at, "outbox waits: {error}");
                    let (id, name, urls) = (item.id, source.name.clone(), source.urls.join(", "));
                    self.store(move |s| {
                        s.outbox_retry(id, &error, retry_at)?;
                        s.record_source_failure(&name, "alertmanager", Some(&urls), &error, now)
                            .map(drop)
                    })
                    .await?;
                    round.retried += 1;
                    // In order: the rest of this source's queue waits behind it.
                    break;
                }
            }
        }
        Ok(())
    }

    /// Carries out one item: `stopline_alertmanager::silences::carry_out`, the hub's too.
    async fn send(
        &self,
        source: &AlertmanagerSource,
        item: &OutboxItem,
        now: Timestamp,
        existing: &mut Option<Vec<ApiSilence>>,
    ) -> Result<SentOutcome, Failure> {
        let incident = item.incident.to_string();
        let pending = Pending {
            action: match item.action {
                OutboxAction::Silence => Action::Silence,
                OutboxAction::Extend => Action::Extend,
                OutboxAction::Expire => Action::Expire,
            },
            incident: &incident,
            alert_id: item.alert_id,
            labels: &item.labels,
            who: item.who.as_deref(),
            silence: item
                .silence
                .as_ref()
                .map(|s| (s.silence_id.as_str(), s.ends_at, s.expired_at.is_some())),
        };
        Ok(
            match carry_out(&self.client, source, pending, now, existing).await? {
                Sent::Silenced {
                    silence_id,
                    ends_at,
                } => SentOutcome::Silenced {
                    silence_id,
                    ends_at,
                },
                Sent::Expired => SentOutcome::Expired,
                Sent::Nothing => SentOutcome::Nothing,
            },
        )
    }

    /// Runs rounds until the task is aborted: at once when this engine changed the store, else
    /// every second, which is when an acknowledgement made elsewhere (the CLI, the app's
    /// window) is picked up.
    pub async fn run(self, mut wake: tokio::sync::broadcast::Receiver<EngineEvent>) {
        loop {
            match self.round().await {
                Ok(round) if round.sent + round.abandoned > 0 => {
                    tracing::info!(
                        sent = round.sent,
                        abandoned = round.abandoned,
                        "outbox sent"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::error!("outbox: {error}"),
            }
            let _ = tokio::time::timeout(IDLE, wake.recv()).await;
            // One round covers every change so far: a storm of deliveries is a few rounds.
            crate::events::drain(&mut wake);
        }
    }
}

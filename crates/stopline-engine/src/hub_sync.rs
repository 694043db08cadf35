//! Keeping a joined desktop's replica in step with its hub (docs/team.md).
//!
//! A sync pushes the person's queued actions (oldest first, in batches), records what the hub
//! decided, then pulls every change after the replica's cookie and lays it over the replica in
//! one transaction. The engine syncs when the hub's stream says something changed (or paged
//! this person), when an action is queued (at once from this process, as the app's window
//! acts; from another, such as the CLI, at the next of four looks a second at the queue), and
//! every few seconds in any case. While the hub cannot be
//! reached the desktop keeps working on its replica; the queue waits in the store, so it
//! survives restarts, and drains in order when the hub answers again.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use stopline_core::clock::Clock;
use stopline_store::{Applied, HubAction};
use tokio::sync::Notify;

use crate::alertmanager::{AlertmanagerClient, AlertmanagerSource, PollTarget};
use crate::away::Away;
use crate::events::{EngineEvent, EngineEvents};
use crate::hub_client::{HubClient, PUSH_BATCH};
use crate::hub_link::HubLink;
use crate::notify::{DesktopNotification, Loudness, Notifier};
use crate::shared_store::SharedStore;
use crate::{EngineError, Result};

/// Rung when this process queued an action for the hub (the app's window acting through its
/// workspace): the sync pushes it at once instead of at its next look at the queue.
static QUEUED_HERE: Notify = Notify::const_new();

/// Tells this process's sync that an action waits for the hub.
pub fn queued_here() {
    QUEUED_HERE.notify_one();
}

/// The desktop setting saying how the hub answered last: see [`HubState`].
pub const HUB_STATE_KEY: &str = "hub.state";

/// How often the queue is looked at for actions taken in another process (the CLI).
const QUEUE_LOOK: Duration = Duration::from_millis(250);
/// How often to pull with nothing said by the stream: a missed event costs at most this.
const IDLE_PULL: Duration = Duration::from_secs(5);
/// The longest wait between tries while the hub cannot be reached: a hub back after an outage
/// hears from every desktop within this (a refused connection costs the hub next to nothing).
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How the hub answered this desktop last, as `stopline status` and the app show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HubState {
    pub connected: bool,
    /// Since when it has been connected, or offline.
    pub since: Timestamp,
    /// Why it is offline.
    pub error: Option<String>,
}

/// What one sync did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub pushed: usize,
    /// The person's actions the hub refused, with its reasons.
    pub refused: Vec<HubAction>,
    pub applied: Applied,
}

/// Pushes the whole queue, then pulls. Actions taken on an incident opened here wait for the
/// pull that folds it into the hub's (`Store::pending_mutations`); when a pull unblocks them,
/// another round pushes them at once rather than at the next sync.
pub async fn sync_once(
    client: &HubClient,
    store: &SharedStore,
    link: &HubLink,
    clock: &Arc<dyn Clock>,
) -> Result<SyncReport> {
    /// Each round folds at least one incident opened here, so a few are plenty; the rest wait
    /// for the next sync.
    const MAX_ROUNDS: usize = 4;
    let mut report = SyncReport::default();
    for _ in 0..MAX_ROUNDS {
        let pushed = push_waiting(client, store, link, clock, &mut report).await?;
        let cookie = store.run(|s| Ok::<_, EngineError>(s.hub_cookie()?)).await?;
        let pull = client.pull(&link.desktop_id, cookie.as_deref()).await?;
        let desktop = link.desktop_id.clone();
        let now = clock.now();
        let applied = store
            .run(move |s| Ok::<_, EngineError>(s.apply_pull(&pull, &desktop, now)?))
            .await?;
        report.refused.extend(applied.refused.iter().cloned());
        report.applied.rows += applied.rows;
        report.applied.new_pages += applied.new_pages;
        report.applied.refused.extend(applied.refused);
        // Another round only if this one pushed and its pull unblocked more.
        if pushed == 0 {
            break;
        }
        let unblocked = store
            .run(|s| Ok::<_, EngineError>(!s.pending_mutations(1)?.is_empty()))
            .await?;
        if !unblocked {
            break;
        }
    }
    Ok(report)
}

/// Pushes the actions that may go now, oldest first, in batches; answers how many went.
async fn push_waiting(
    client: &HubClient,
    store: &SharedStore,
    link: &HubLink,
    clock: &Arc<dyn Clock>,
    report: &mut SyncReport,
) -> Result<usize> {
    let mut pushed = 0;
    loop {
        let batch = store
            .run(|s| Ok::<_, EngineError>(s.pending_mutations(PUSH_BATCH)?))
            .await?;
        let Some(last) = batch.last().map(|m| m.id) else {
            break;
        };
        let answer = client.push(&link.desktop_id, &link.person, &batch).await?;
        pushed += batch.len();
        let now = clock.now();
        let refused = store
            .run(move |s| Ok::<_, EngineError>(s.record_outcomes(&answer.outcomes, now)?))
            .await?;
        report.refused.extend(refused);
        // The hub answers every mutation it was sent; one it did not (a hub older than this
        // desktop) waits for the pull, rather than being sent for ever here.
        if answer.last_mutation_id < last || batch.len() < PUSH_BATCH {
            break;
        }
    }
    report.pushed += pushed;
    Ok(pushed)
}

/// The running engine's link to its hub.
pub struct HubSync {
    pub client: HubClient,
    pub store: SharedStore,
    pub link: HubLink,
    pub clock: Arc<dyn Clock>,
    pub events: EngineEvents,
    /// Where refusals are shown; `None` logs them only.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// What to do on its own while the hub is away; `None` waits for the hub.
    pub while_away: Option<WhileAway>,
}

/// What a joined desktop runs on its own while its hub is away (see `crate::away`).
#[derive(Debug)]
pub struct WhileAway {
    /// Shared with the pager, which escalates while it is on.
    pub away: Away,
    /// `[hub] degraded_after`.
    pub after: Duration,
    /// The config's Alertmanagers.
    pub sources: Vec<AlertmanagerSource>,
    pub target: PollTarget,
}

/// What a replica holds besides the open incidents: those resolved within this (the hub's full
/// pull holds as much). What leaves it is pruned every [`PRUNE_EVERY`].
const REPLICA_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(30 * 24);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// How long a waiting action on a provisional incident may wait, once the hub is back, for the
/// hub to take over the incident's alerts.
const STRANDED_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

impl std::fmt::Debug for HubSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSync")
            .field("hub", &self.client.url())
            .field("desktop", &self.link.desktop_id)
            .finish_non_exhaustive()
    }
}

impl HubSync {
    /// Syncs until the task is aborted.
    pub async fn run(self) {
        let wake = Arc::new(Notify::new());
        let _stream = AbortOnDrop(tokio::spawn(listen(self.client.clone(), Arc::clone(&wake))));
        let mut backoff = Duration::from_millis(250);
        let mut last_sync = std::time::Instant::now();
        let mut first = true;
        // Since when the hub has not answered; the tasks running on their own meanwhile.
        let mut offline_since: Option<Timestamp> = None;
        let mut on_our_own: Vec<AbortOnDrop> = Vec::new();
        let mut back_since: Option<Timestamp> = None;
        let mut last_prune: Option<std::time::Instant> = None;
        loop {
            match sync_once(&self.client, &self.store, &self.link, &self.clock).await {
                Ok(report) => {
                    backoff = Duration::from_millis(250);
                    offline_since = None;
                    if !on_our_own.is_empty() {
                        on_our_own.clear();
                        self.back_from_away().await;
                        back_since = Some(self.clock.now());
                        // At once: the full resync replaces what this desktop decided alone.
                        wake.notify_one();
                    }
                    self.record_state(None).await;
                    self.tell(&report).await;
                    self.refuse_stranded(back_since).await;
                    if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                        self.prune().await;
                        last_prune = Some(std::time::Instant::now());
                    }
                    first = false;
                }
                Err(error) => {
                    if first || !matches!(error, EngineError::HubUnreachable { .. }) {
                        tracing::warn!(%error, "cannot sync with the hub");
                    }
                    first = false;
                    let now = self.clock.now();
                    let since = *offline_since.get_or_insert(now);
                    if on_our_own.is_empty()
                        && let Some(away) = &self.while_away
                        && now.duration_since(since).unsigned_abs() >= away.after
                    {
                        on_our_own = self.go_it_alone(away).await;
                    }
                    self.record_state(Some(error.to_string())).await;
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
            // Wait for a reason to sync: the stream, an action queued, or the idle pull.
            loop {
                tokio::select! {
                    () = wake.notified() => break,
                    () = QUEUED_HERE.notified() => break,
                    () = tokio::time::sleep(QUEUE_LOOK) => {}
                }
                let waiting = self
                    .store
                    .run(|s| Ok::<_, EngineError>(s.queue_state()?.waiting))
                    .await
                    .unwrap_or(0);
                if waiting > 0 || last_sync.elapsed() >= IDLE_PULL {
                    break;
                }
            }
            last_sync = std::time::Instant::now();
        }
    }

    /// Starts what the desktop does on its own: polling the config's Alertmanagers and writing
    /// back its person's acknowledgements; the pager escalates meanwhile.
    async fn go_it_alone(&self, away: &WhileAway) -> Vec<AbortOnDrop> {
        tracing::warn!(
            hub = %self.link.url,
            sources = away.sources.len(),
            "the hub has been away for {:?}: this desktop polls the Alertmanagers and pages its own person until it returns",
            away.after
        );
        away.away.set(true);
        let mut tasks = Vec::new();
        match AlertmanagerClient::new() {
            Ok(client) => {
                for source in away.sources.clone() {
                    tasks.push(AbortOnDrop(tokio::spawn(crate::away::poll_forever(
                        source,
                        client.clone(),
                        away.target.clone(),
                    ))));
                }
            }
            Err(error) => tracing::error!(%error, "cannot poll while the hub is away"),
        }
        match crate::outbox::OutboxWorker::new(
            self.store.clone(),
            away.sources.clone(),
            Arc::clone(&self.clock),
        ) {
            Ok(worker) => tasks.push(AbortOnDrop(tokio::spawn(
                worker.run(self.events.subscribe()),
            ))),
            Err(error) => tracing::error!(%error, "cannot write back while the hub is away"),
        }
        // A task that keeps the list non-empty even with no source to poll.
        tasks.push(AbortOnDrop(tokio::spawn(std::future::pending())));
        tasks
    }

    /// The hub answered again: stop acting alone, and resync in full so the hub's account
    /// replaces what this desktop decided meanwhile (provisional incidents merge into the
    /// hub's by their alerts).
    async fn back_from_away(&self) {
        if let Some(away) = &self.while_away {
            away.away.set(false);
        }
        tracing::info!(hub = %self.link.url, "the hub is back: resyncing in full");
        let result = self
            .store
            .run(|s| {
                s.set_write_back(&[])?;
                s.forget_hub_cookie()?;
                Ok::<_, EngineError>(())
            })
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "cannot prepare the resync");
        }
    }

    /// Takes what has left the replica's window out of it.
    async fn prune(&self) {
        let before = self.clock.now() - REPLICA_WINDOW;
        match self
            .store
            .run(move |s| Ok::<_, EngineError>(s.prune_replica(before)?))
            .await
        {
            Ok(pruned) if pruned.incidents + pruned.alerts > 0 => tracing::info!(
                incidents = pruned.incidents,
                alerts = pruned.alerts,
                "took what left the replica's 30-day window out of it"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot prune the replica"),
        }
    }

    /// Refuses here the waiting actions on provisional incidents the hub has not taken over
    /// within [`STRANDED_AFTER`] of its return.
    async fn refuse_stranded(&self, back_since: Option<Timestamp>) {
        let Some(back) = back_since else { return };
        let now = self.clock.now();
        if now.duration_since(back) < STRANDED_AFTER {
            return;
        }
        match self
            .store
            .run(move |s| Ok::<_, EngineError>(s.refuse_stranded(back, now)?))
            .await
        {
            Ok(refused) if !refused.is_empty() => {
                self.tell(&SyncReport {
                    refused,
                    ..SyncReport::default()
                })
                .await;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot settle stranded actions"),
        }
    }

    /// Records a change between connected and offline (only changes: not a write per sync).
    async fn record_state(&self, error: Option<String>) {
        let now = self.clock.now();
        let connected = error.is_none();
        let result: Result<bool> = self
            .store
            .run(move |s| {
                let before: Option<HubState> = s
                    .desktop_setting(HUB_STATE_KEY)?
                    .and_then(|t| serde_json::from_str(&t).ok());
                let since = match &before {
                    Some(b) if b.connected == connected => b.since,
                    _ => now,
                };
                let state = HubState {
                    connected,
                    since,
                    error,
                };
                let mut turned = false;
                if before.as_ref() != Some(&state) {
                    let text = serde_json::to_string(&state).unwrap_or_default();
                    s.set_desktop_setting(HUB_STATE_KEY, &text)?;
                    turned = before.is_none_or(|b| b.connected != connected);
                    if turned {
                        tracing::info!(connected, "hub connection changed");
                    }
                }
                Ok(turned)
            })
            .await;
        match result {
            // A window showing "hub: connected" reads again at once.
            Ok(true) => self.events.publish(EngineEvent::StoreChanged),
            Ok(false) => {}
            Err(error) => tracing::warn!(%error, "cannot record the hub's state"),
        }
    }

    /// Tells the host what changed, and the person what the hub refused.
    async fn tell(&self, report: &SyncReport) {
        if report.applied.rows > 0 || report.pushed > 0 {
            self.events.publish(EngineEvent::Pulled {
                pages: report.applied.new_pages,
            });
        }
        for refused in &report.refused {
            let reason = refused.reason.clone().unwrap_or_default();
            tracing::info!(action = %refused.name, %reason, "the hub refused an action");
            if let Some(notifier) = &self.notifier {
                let notification = DesktopNotification {
                    incident: refused.incident,
                    summary: format!("Not applied: your {}", refused.name.replace('_', " ")),
                    body: reason,
                    loudness: Loudness::Ordinary,
                    actions: Vec::new(),
                    replaces: None,
                };
                if let Err(error) = notifier.show(notification).await {
                    tracing::warn!(%error, "cannot show the hub's refusal");
                }
            }
        }
    }
}

/// Stops the stream's task with the sync's.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps the hub's stream open (reconnecting with backoff), waking the sync at each event and
/// whenever the stream breaks (the sync then finds out whether the hub is there).
async fn listen(client: HubClient, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        if let Ok(mut stream) = client.stream().await {
            backoff = Duration::from_millis(250);
            while let Ok(true) = stream.next().await {
                wake.notify_one();
            }
        }
        wake.notify_one();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

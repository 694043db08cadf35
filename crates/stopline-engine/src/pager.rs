//! The pager: moves escalations on and shows this desktop's pages.
//!
//! Each tick it records the escalation steps that are due (see `escalation`), then delivers the
//! pages not yet shown here. A page for the person at this desktop (`stopline whoami`) is a
//! critical notification with Acknowledge (and Open, where the host has a window); a teammate's
//! page shows as an ordinary notification only when `[notifications] teammates` is on (or the
//! person at this desktop turned it on in the app's settings). At most
//! one notification per incident per repeat of its escalation; more pages than the flood
//! threshold within a minute become one summary notification. A notification whose incident is
//! acknowledged or resolved (anywhere: here, the CLI, another desktop) is closed.
//!
//! A page is marked delivered after it is shown: a crash in between shows it once more after
//! the restart, and never loses it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::cover::with_overrides;
use stopline_core::ids::PersonId;
use stopline_core::incident::{Incident, IncidentId, IncidentState, Transition};
use stopline_core::reach::message::{loss_per_hour, summary_of, team_name};
use stopline_core::settings::NotificationSettings;
use stopline_core::target::format_duration;
use stopline_store::{Page, Store};
use tokio::sync::{broadcast, mpsc};

use crate::away::Away;
use crate::escalation::{Contacts, EscalationPass, escalate};
use crate::events::{EngineEvent, EngineEvents};
use crate::hub_link::HubLink;
use crate::live::LiveConfig;
use crate::notify::{
    ACTION_ACKNOWLEDGE, ACTION_OPEN, DesktopNotification, InvokedAction, Loudness, Notifier,
    NotifierStatus, on_the_terminal,
};
use crate::shared_store::SharedStore;
use crate::{EngineError, Result, desk};

/// The desktop setting that names the person at this desktop.
pub const WHOAMI_KEY: &str = "person";
/// The desktop setting where the running engine reports its notifier's status.
pub const NOTIFICATIONS_KEY: &str = "notifications";
/// The desktop setting that overrides `[notifications] teammates` on this desktop: "true" or
/// "false"; absent, the config decides.
pub const TEAMMATES_KEY: &str = "notifications.teammates";
/// The desktop setting that overrides `[notifications] flood_threshold` on this desktop.
pub const FLOOD_THRESHOLD_KEY: &str = "notifications.flood_threshold";

/// How pages show on this desktop: the config's `[notifications]`, with what the person at this
/// desktop chose in the app's settings (or `stopline prefs`) on top.
pub fn notification_settings(store: &Store, config: &Config) -> Result<NotificationSettings> {
    let mut settings = config.notifications;
    if let Some(teammates) = store.desktop_setting(TEAMMATES_KEY)? {
        settings.teammates = teammates == "true";
    }
    if let Some(threshold) = store
        .desktop_setting(FLOOD_THRESHOLD_KEY)?
        .and_then(|t| t.parse().ok())
    {
        settings.flood_threshold = threshold;
    }
    Ok(settings)
}
/// The longest the pager sleeps between ticks: how soon it notices an acknowledgement made by
/// another process.
const MAX_IDLE: Duration = Duration::from_secs(1);
/// The window of the flood rule.
const FLOOD_WINDOW: SignedDuration = SignedDuration::from_secs(60);
/// How many incidents a summary notification names.
const SUMMARY_LINES: usize = 5;

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub escalation: EscalationPass,
    /// Notifications shown, one per incident and repeat.
    pub shown: usize,
    /// Pages folded into the flood summary instead.
    pub summarised: usize,
    /// Notifications closed because their incident was acknowledged or resolved.
    pub closed: usize,
    /// Incidents raised to major by their estimated loss.
    pub raised: usize,
}

impl Tick {
    /// Whether the tick changed the store (pages, escalation steps, severities).
    pub fn changed_store(&self) -> bool {
        self.escalation.pages > 0 || self.escalation.deferred > 0 || self.raised > 0
    }
}

/// Called when the user picks Open on a notification: the host's window shows the incident.
pub type OpenIncident = Arc<dyn Fn(IncidentId) + Send + Sync>;

pub struct Pager {
    store: SharedStore,
    config: LiveConfig,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    open: Option<OpenIncident>,
    events: EngineEvents,
    delivery: tokio::sync::Mutex<Delivery>,
    /// The hub this desktop has joined: it escalates, pages come from it, and what the person
    /// does here is queued for it.
    hub: Option<HubLink>,
    /// Set while a joined desktop's hub is away: it then escalates on its own, paging only
    /// the person here.
    away: Away,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("notifier", &self.notifier)
            .finish_non_exhaustive()
    }
}

/// What this desktop has on screen.
#[derive(Debug, Default)]
struct Delivery {
    /// The notification showing for each incident, the repeat it belongs to, and whether it is
    /// a page to the person here (not a teammate's, shown quietly).
    shown: HashMap<IncidentId, (u32, u32, bool)>,
    /// When recent page notifications were shown, for the flood rule.
    recent: VecDeque<Timestamp>,
    /// The flood summary on screen, and the lines it lists.
    summary: Option<(u32, Vec<String>)>,
}

/// A page with what its notification says.
struct Pending {
    page: Page,
    incident: Incident,
}

/// Who sits at this desktop and how they want pages shown.
#[derive(Clone, Copy)]
struct Recipient<'a> {
    me: Option<&'a PersonId>,
    notifications: NotificationSettings,
}

impl Pager {
    pub fn new(
        store: SharedStore,
        config: LiveConfig,
        clock: Arc<dyn Clock>,
        notifier: Arc<dyn Notifier>,
        open: Option<OpenIncident>,
        events: EngineEvents,
    ) -> Self {
        Self {
            store,
            config,
            clock,
            notifier,
            open,
            events,
            delivery: tokio::sync::Mutex::new(Delivery::default()),
            hub: None,
            away: Away::default(),
        }
    }

    /// A pager on a desktop joined to `hub`: it shows the pages the hub sends and escalates
    /// nothing itself; each page shown is receipted to the hub, and an acknowledgement from a
    /// notification is queued for it.
    pub fn joined(mut self, hub: HubLink, away: Away) -> Self {
        self.hub = Some(hub);
        self.away = away;
        self
    }

    pub fn notifier(&self) -> &Arc<dyn Notifier> {
        &self.notifier
    }

    /// Whether notifications reach a screen (a notification server answered), not a terminal.
    fn on_screen(&self) -> bool {
        matches!(self.notifier.status(), NotifierStatus::Available { .. })
    }

    async fn with_store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Store, &Config) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let config = self.config.current();
        self.store.run(move |store| work(store, &config)).await
    }

    /// Records due escalation steps, shows new pages and closes stale notifications.
    pub async fn tick(&self) -> Result<Tick> {
        let now = self.clock.now();
        let mut delivery = self.delivery.lock().await;
        let showing: Vec<IncidentId> = delivery.shown.keys().copied().collect();
        let joined = self.hub.is_some();
        let alone = self.away.is_on();
        let (escalation, raised, me, pending, settled, notifications) = self
            .with_store(move |store, config| {
                // A joined desktop's hub raises and escalates, once for everyone; while it
                // is away, the desktop does, and the hub's account replaces it on return.
                let me = store
                    .desktop_setting(WHOAMI_KEY)?
                    .and_then(|id| PersonId::new(id).ok());
                let contacts = if joined {
                    Contacts::Off
                } else {
                    Contacts::On { here: me.as_ref() }
                };
                let (raised, escalation) = if joined && !alone {
                    (0, EscalationPass::default())
                } else {
                    let mark = store.replica_mark()?;
                    // Away from its hub, a desktop pages by the replica's rotas: the config's
                    // with the overrides the hub had sent (and the person's own waiting).
                    let merged;
                    let config = if joined {
                        merged = with_overrides(config, &store.hub_overrides(now)?);
                        &merged
                    } else {
                        config
                    };
                    let done = (
                        crate::swarm::raise_severities(store, config, now)?.len(),
                        escalate(store, config, now, contacts)?,
                    );
                    if joined {
                        store.mark_written_while_away(mark)?;
                    }
                    done
                };
                let mut pending = Vec::new();
                for page in store.undelivered_pages()? {
                    let incident = store.incident_record(page.incident)?;
                    pending.push(Pending { page, incident });
                }
                let mut settled = Vec::new();
                for id in showing {
                    if store.incident_record(id)?.state != IncidentState::Triggered {
                        settled.push(id);
                    }
                }
                let mut notifications = notification_settings(store, config)?;
                // On its own, a desktop pages only its own person.
                notifications.teammates &= !alone;
                Ok((escalation, raised, me, pending, settled, notifications))
            })
            .await?;
        let mut tick = Tick {
            escalation,
            raised,
            ..Tick::default()
        };
        for id in settled {
            if let Some((notification, _, _)) = delivery.shown.remove(&id) {
                self.notifier.close(notification).await;
                tick.closed += 1;
            }
        }
        let mut delivered = Vec::new();
        let mut shown_to_their_person = Vec::new();
        for pending in pending {
            let to = Recipient {
                me: me.as_ref(),
                notifications,
            };
            if self
                .deliver(&mut delivery, &pending, to, now, &mut tick)
                .await
            {
                shown_to_their_person.push(pending.page.id);
            }
            delivered.push(pending.page.id);
        }
        if !delivered.is_empty() {
            let receipts = self.hub.is_some();
            self.with_store(move |store, _| {
                store.exclusively(|store| {
                    store.mark_pages_delivered(&delivered, now)?;
                    // Shown within the grace: the person's contacts need not be paged.
                    store.contacts_not_needed(&shown_to_their_person, now)?;
                    // The hub learns each of its pages shown on this screen (its receipt),
                    // which keeps it from paging the person's contacts. A page that only
                    // reached a terminal gets none.
                    if receipts {
                        store.queue_page_receipts(&shown_to_their_person, now)?;
                    }
                    Ok(())
                })
            })
            .await?;
            if self.hub.is_some() {
                crate::hub_sync::queued_here();
            }
        }
        Ok(tick)
    }

    /// Shows one page; returns whether its own person now has it on screen (a notification
    /// of theirs for the incident, or the flood summary).
    async fn deliver(
        &self,
        delivery: &mut Delivery,
        pending: &Pending,
        to: Recipient<'_>,
        now: Timestamp,
        tick: &mut Tick,
    ) -> bool {
        let page = &pending.page;
        let mine = to.me == Some(&page.person);
        let notifications = to.notifications;
        if !mine && !notifications.teammates {
            return false;
        }
        // One notification per incident per repeat: all hands after the primary, for the same
        // person, is not a second notification.
        // A teammate's quiet notification does not stand for a page to the person here.
        if let Some((_, cycle, theirs)) = delivery.shown.get(&page.incident)
            && *cycle >= page.cycle
            && (*theirs || !mine)
        {
            return mine && *theirs && self.on_screen();
        }
        let loudness = if mine {
            Loudness::Page
        } else {
            Loudness::Ordinary
        };
        let (summary, body) = self.describe(pending, mine, now);
        if loudness == Loudness::Page {
            while delivery
                .recent
                .front()
                .is_some_and(|at| now.duration_since(*at) > FLOOD_WINDOW)
            {
                delivery.recent.pop_front();
            }
            let flooding = delivery.recent.len()
                >= usize::try_from(notifications.flood_threshold).unwrap_or(usize::MAX);
            delivery.recent.push_back(now);
            if flooding {
                let shown = self.summarise(delivery, &summary, page.incident).await;
                tick.summarised += 1;
                return shown;
            }
        }
        let mut actions = Vec::new();
        if mine {
            actions.push((ACTION_ACKNOWLEDGE.to_owned(), "Acknowledge".to_owned()));
            if self.open.is_some() {
                actions.push((ACTION_OPEN.to_owned(), "Open".to_owned()));
            }
        }
        let notification = DesktopNotification {
            incident: Some(page.incident),
            summary,
            body,
            loudness,
            actions,
            replaces: None,
        };
        let old = delivery.shown.get(&page.incident).map(|(id, _, _)| *id);
        match self.notifier.show(notification.clone()).await {
            Ok(id) => {
                if let Some(old) = old {
                    self.notifier.close(old).await;
                }
                delivery.shown.insert(page.incident, (id, page.cycle, mine));
                tick.shown += 1;
                tracing::info!(incident = %page.incident, person = %page.person, "page shown");
                self.events.publish(EngineEvent::PageShown {
                    incident: page.incident,
                });
                // A line on a terminal (no notification server) is not a desktop showing it.
                mine && self.on_screen()
            }
            Err(error) => {
                // The page must still reach the person: a bell and a line, as with no server.
                // That is not a desktop showing it: their contacts still get it after the grace.
                tracing::warn!(%error, "notification failed; paging on the terminal instead");
                on_the_terminal(&notification);
                false
            }
        }
    }

    /// The notification's summary and body: application and alert; team, severity, estimated
    /// loss per hour and age.
    fn describe(&self, pending: &Pending, mine: bool, now: Timestamp) -> (String, String) {
        let incident = &pending.incident;
        let config = self.config.current();
        let summary = summary_of(&config, incident);
        let team = team_name(&config, incident);
        let loss = loss_per_hour(&config, incident).map_or_else(
            || "loss unknown".to_owned(),
            |loss| format!("est. loss {loss}"),
        );
        let age = format_duration(now.duration_since(incident.opened_at));
        let who = if mine {
            format!("You are paged as {}", pending.page.reason)
        } else {
            format!(
                "{} is paged as {}",
                pending.page.person, pending.page.reason
            )
        };
        let body = format!(
            "{} · {team} · {} · {loss} · open {age}\n{who}",
            incident.id,
            incident.severity.as_str()
        );
        (summary, body)
    }

    /// Folds a page into the one summary notification of a flood.
    async fn summarise(&self, delivery: &mut Delivery, line: &str, incident: IncidentId) -> bool {
        let (replaces, mut lines) = delivery.summary.take().unwrap_or_default();
        lines.push(format!("{incident} {line}"));
        // Only the latest few are shown; older ones need not be kept.
        if lines.len() > SUMMARY_LINES {
            lines.drain(..lines.len() - SUMMARY_LINES);
        }
        let count = delivery.recent.len();
        let shown: Vec<&str> = lines
            .iter()
            .rev()
            .take(SUMMARY_LINES)
            .map(String::as_str)
            .collect();
        let notification = DesktopNotification {
            incident: None,
            summary: format!("Stopline: {count} pages in the last minute"),
            body: format!(
                "{}\nAcknowledge them in Stopline or with `stopline ack`.",
                shown.join("\n")
            ),
            loudness: Loudness::Page,
            actions: Vec::new(),
            replaces: (replaces != 0).then_some(replaces),
        };
        match self.notifier.show(notification.clone()).await {
            Ok(id) => {
                delivery.summary = Some((id, lines));
                self.on_screen()
            }
            Err(error) => {
                tracing::warn!(%error, "summary notification failed");
                on_the_terminal(&notification);
                delivery.summary = Some((replaces, lines));
                false
            }
        }
    }

    /// Acts on a button the user pressed: Acknowledge records the acknowledgement as the person
    /// at this desktop; Open asks the host to show the incident.
    pub async fn handle_action(&self, invoked: InvokedAction) -> Result<()> {
        let Some(incident) = invoked.incident else {
            return Ok(());
        };
        match invoked.action.as_str() {
            ACTION_ACKNOWLEDGE => {
                let clock = Arc::clone(&self.clock);
                let hub = self.hub.clone();
                let acknowledged = self
                    .with_store(move |store, config| {
                        let me = store.desktop_setting(WHOAMI_KEY)?.filter(|p| !p.is_empty());
                        let Some(me) = me else {
                            return Err(EngineError::NobodyHere);
                        };
                        // Stamped once the write lock is held: after any page recorded meanwhile.
                        store.exclusively(|store| {
                            let now = clock.now();
                            let mark = store.replica_mark()?;
                            let acknowledged = desk::transition(
                                store,
                                config,
                                incident,
                                Transition::Acknowledge,
                                &me,
                                false,
                                now,
                            )?;
                            if hub.is_some() {
                                store.queue_mutation(
                                    "acknowledge",
                                    &serde_json::json!({"incident": incident.to_string()}),
                                    Some(incident),
                                    now,
                                    mark,
                                )?;
                            }
                            Ok(acknowledged)
                        })
                    })
                    .await;
                if acknowledged.is_ok() && self.hub.is_some() {
                    crate::hub_sync::queued_here();
                }
                match acknowledged {
                    Ok(incident) => {
                        tracing::info!(incident = %incident.id, "acknowledged from the notification");
                        self.events.publish(EngineEvent::AcknowledgedHere {
                            incident: incident.id,
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%error, "acknowledge from the notification failed")
                    }
                }
                let mut delivery = self.delivery.lock().await;
                if let Some((id, _, _)) = delivery.shown.remove(&incident) {
                    self.notifier.close(id).await;
                }
                Ok(())
            }
            ACTION_OPEN => {
                if let Some(open) = &self.open {
                    open(incident);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Ticks until the task is aborted: at once when a delivery opened an incident, when the
    /// next escalation is due, or at least every second. Tells the engine's listeners when a
    /// tick changed the store.
    pub async fn run(self: Arc<Self>, mut actions: mpsc::UnboundedReceiver<InvokedAction>) {
        let mut events = self.events.subscribe();
        loop {
            match self.tick().await {
                Ok(tick) if tick.changed_store() => self.events.publish(EngineEvent::Escalated),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "paging tick failed"),
            }
            let idle = self.idle().await;
            tokio::select! {
                () = opened(&mut events) => {}
                Some(invoked) = actions.recv() => {
                    if let Err(error) = self.handle_action(invoked).await {
                        tracing::warn!(%error, "notification action failed");
                    }
                }
                () = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// How long until the next escalation step is due, at most [`MAX_IDLE`].
    async fn idle(&self) -> Duration {
        let now = self.clock.now();
        let next = self
            .with_store(|store, _| Ok(store.next_escalation_due()?))
            .await
            .ok()
            .flatten();
        match next {
            Some(due) if due <= now => Duration::ZERO,
            Some(due) => Duration::try_from(due.duration_since(now))
                .unwrap_or(MAX_IDLE)
                .min(MAX_IDLE),
            None => MAX_IDLE,
        }
    }
}

/// Waits until a delivery opened an incident (or the listener fell behind, when one may have).
/// Everything else already waiting is taken with it: the tick that follows covers it all.
async fn opened(events: &mut broadcast::Receiver<EngineEvent>) {
    loop {
        match events.recv().await {
            Ok(EngineEvent::AlertsStored { opened }) if !opened.is_empty() => {
                crate::events::drain(events);
                return;
            }
            // The hub's changes: new pages to show, or incidents to close notifications of.
            Ok(EngineEvent::Pulled { .. }) => {
                crate::events::drain(events);
                return;
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                crate::events::drain(events);
                return;
            }
            // Nobody publishes any more: the engine is stopping.
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

//! Pages beyond the desk from the hub, as a desktop with no hub sends them (docs/paging.md):
//! each page to a person with contacts queues one message per contact in the escalation
//! step's transaction, held for `[paging] desktop_grace` when a desktop of theirs is signed in
//! (they hold a token) and dropped when one of their desktops receipts the page within it.
//!
//! Every hub runs a sender. A round claims the due messages (`FOR UPDATE SKIP LOCKED`, so no
//! two hubs take the same one) and, for each contact with nothing leaving, decides by the rate
//! rule (`stopline_core::reach::batch`) the one message (or summary) it sends next, marks it
//! `sending` and commits, and only then sends (`stopline-reach`); each outcome is its own transaction, on the incident's timeline so
//! desktops pull it. A message a dead hub left `sending` for longer than twice the send
//! timeout is interrupted: an email is never sent again (`unknown`), a webhook goes again under
//! its idempotency key. Two hubs claiming different messages of one person at the same instant
//! may each count the other's as unsent: the rate limit holds to within one round.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::{SignedDuration, Timestamp};
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::ids::PersonId;
use stopline_core::incident::IncidentId;
use stopline_core::reach::link::{AckLink, Unusable, local_time};
use stopline_core::reach::message::{Message, PageText};
use stopline_core::reach::{Batch, PlannedMessage, batch, described};
use stopline_core::settings::SecretRef;
use stopline_core::timeline::TimelineEvent;
use stopline_reach::{GIVE_UP_AFTER, SEND_TIMEOUT, Sender, Sent, backoff, idempotency_key};
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::Result;
use crate::database::Database;
use crate::rows::{
    INCIDENT_COLUMNS, append_event, bump_version, corrupt, from_time, read_incident, to_time,
};

/// How often each hub's sender looks for due messages.
const EVERY: Duration = Duration::from_millis(250);
/// Messages claimed per round.
const CLAIM: i64 = 200;

/// Reads a secret the config names: the hub's environment or the OS keyring.
pub type SecretResolver =
    Arc<dyn Fn(&SecretRef, &str) -> std::result::Result<String, String> + Send + Sync>;

/// Which of `people` have a desktop signed in: a token not revoked.
pub(crate) async fn with_desktops(
    client: &impl GenericClient,
    people: &[&str],
) -> Result<HashSet<String>> {
    let rows = client
        .query(
            "SELECT DISTINCT person FROM tokens WHERE revoked_at IS NULL AND person = ANY($1)",
            &[&people],
        )
        .await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Queues a page's messages, in the escalation step's transaction.
pub(crate) async fn queue(
    tx: &Transaction<'_>,
    incident: i64,
    page: i64,
    planned: &[&PlannedMessage],
    now: Timestamp,
) -> Result<()> {
    for message in planned {
        tx.execute(
            "INSERT INTO contact_messages (incident_id, page_id, person, contact, channel,
                 address, status, created_at, hold_until, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $8, $8)
             ON CONFLICT (page_id, contact) DO NOTHING",
            &[
                &incident,
                &page,
                &message.person.as_str(),
                &message.contact,
                &message.channel,
                &message.address,
                &to_time(now),
                &to_time(message.hold_until),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A desktop of the page's person showed it at `shown_at`: what still waits out the grace is
/// not needed, said once on the timeline.
pub(crate) async fn shown(
    tx: &Transaction<'_>,
    page: i64,
    shown_at: Timestamp,
    version: i64,
) -> Result<()> {
    let dropped = tx
        .execute(
            "UPDATE contact_messages SET status = 'not_needed', finished_at = $2,
                 outcome = 'their desktop showed the page within the grace'
             WHERE page_id = $1 AND status = 'waiting' AND attempts = 0 AND hold_until > $2",
            &[&page, &to_time(shown_at)],
        )
        .await?;
    if dropped > 0 {
        let row = tx
            .query_one(
                "SELECT incident_id, person FROM pages WHERE id = $1",
                &[&page],
            )
            .await?;
        let person: String = row.get(1);
        append_event(
            tx,
            row.get(0),
            &TimelineEvent::paging(
                shown_at,
                format!("{person}'s desktop showed the page: their contacts are not paged"),
            ),
            version,
        )
        .await?;
    }
    Ok(())
}

/// One message as the sender reads it.
#[derive(Debug, Clone)]
struct Queued {
    id: i64,
    incident: Option<i64>,
    person: String,
    contact: String,
    channel: String,
    address: String,
    created_at: Timestamp,
    attempts: i32,
    reason: Option<String>,
}

const QUEUED_COLUMNS: &str = "m.id, m.incident_id, m.person, m.contact, m.channel, m.address,
    m.created_at, m.attempts, p.reason";

fn read_queued(row: &Row) -> Result<Queued> {
    Ok(Queued {
        id: row.get(0),
        incident: row.get(1),
        person: row.get(2),
        contact: row.get(3),
        channel: row.get(4),
        address: row.get(5),
        created_at: from_time(row.get::<_, SystemTime>(6))?,
        attempts: row.get(7),
        reason: row.get(8),
    })
}

impl Database {
    /// The key acknowledge links are signed with, kept in the database: every hub signs and
    /// checks alike.
    pub async fn ack_link_key(&self) -> Result<Vec<u8>> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT value FROM hub_keys WHERE name = 'ack_links'", &[])
            .await?;
        Ok(row.get::<_, String>(0).into_bytes())
    }

    /// Claims what is due: settles what a dead hub left leaving and what a settled incident
    /// no longer needs, then marks this round's messages `sending` (a flood as one summary).
    /// Returns the messages to send, by contact, in order.
    async fn claim(&self, config: &Config, now: Timestamp) -> Result<Vec<Vec<i64>>> {
        self.settle_interrupted(now).await?;
        let mut client = self.client().await?;
        // No version is taken: nothing here is pulled by desktops, and a round every quarter
        // second must not wake every desktop's stream.
        let tx = client.transaction().await?;
        tx.execute(
            "UPDATE contact_messages m SET status = 'cancelled', finished_at = $1,
                 outcome = 'the incident was ' || i.state || ' before it was sent'
             FROM incidents i
             WHERE i.id = m.incident_id AND m.status = 'waiting' AND i.state <> 'triggered'",
            &[&to_time(now)],
        )
        .await?;
        tx.execute(
            "UPDATE contact_messages s SET status = 'cancelled', finished_at = $1,
                 outcome = 'every incident in it was acknowledged or resolved before it was sent'
             WHERE s.status = 'waiting' AND s.incident_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM contact_messages m
                               JOIN incidents i ON i.id = m.incident_id
                               WHERE m.summary_id = s.id AND i.state = 'triggered')",
            &[&to_time(now)],
        )
        .await?;
        let due = tx
            .query(
                &format!(
                    "SELECT {QUEUED_COLUMNS} FROM contact_messages m
                     LEFT JOIN pages p ON p.id = m.page_id
                     WHERE m.status = 'waiting' AND m.next_attempt_at <= $1
                     ORDER BY m.id LIMIT $2
                     FOR UPDATE OF m SKIP LOCKED"
                ),
                &[&to_time(now), &CLAIM],
            )
            .await?;
        let mut by_contact: BTreeMap<(String, String), Vec<Queued>> = BTreeMap::new();
        for row in &due {
            let message = read_queued(row)?;
            by_contact
                .entry((message.person.clone(), message.contact.clone()))
                .or_default()
                .push(message);
        }
        let limit = config.paging.rate_limit;
        let since = now - SignedDuration::try_from(limit.per).unwrap_or_default();
        let mut claimed = Vec::new();
        for ((person, contact), messages) in by_contact {
            // One message at a time per contact, across hubs: a contact with one leaving waits.
            let leaving = tx
                .query_opt(
                    "SELECT 1 FROM contact_messages
                     WHERE person = $1 AND contact = $2 AND status = 'sending' LIMIT 1",
                    &[&person, &contact],
                )
                .await?;
            if leaving.is_some() {
                continue;
            }
            let sent: Vec<Timestamp> = tx
                .query(
                    "SELECT COALESCE(finished_at, sending_since) FROM contact_messages
                     WHERE person = $1
                       AND ((status = 'sent' AND finished_at >= $2) OR status = 'sending')
                     ORDER BY 1",
                    &[&person, &to_time(since)],
                )
                .await?
                .iter()
                .map(|row| from_time(row.get::<_, SystemTime>(0)))
                .collect::<Result<_>>()?;
            // A summary waiting to be tried again goes first, alone; else the oldest message,
            // or one summary of them all. The rest wait for the next round: each is marked
            // `sending` only in the round it leaves.
            let (retries, fresh): (Vec<_>, Vec<_>) =
                messages.into_iter().partition(|m| m.incident.is_none());
            let mut sends: Vec<i64> = retries.iter().take(1).map(|m| m.id).collect();
            match batch(&sent, fresh.len(), limit, now) {
                _ if !sends.is_empty() => {}
                Batch::Each => sends.extend(fresh.iter().take(1).map(|m| m.id)),
                Batch::Summary if !fresh.is_empty() => {
                    let summary: i64 = tx
                        .query_one(
                            "INSERT INTO contact_messages (person, contact, channel, address,
                                 status, created_at, hold_until, next_attempt_at)
                             VALUES ($1, $2, $3, $4, 'waiting', $5, $5, $5) RETURNING id",
                            &[
                                &person,
                                &contact,
                                &fresh[0].channel,
                                &fresh[0].address,
                                &to_time(now),
                            ],
                        )
                        .await?
                        .get(0);
                    let ids: Vec<i64> = fresh.iter().map(|m| m.id).collect();
                    tx.execute(
                        "UPDATE contact_messages SET status = 'summarised', summary_id = $2,
                             finished_at = $3,
                             outcome = 'held by the rate limit: it goes in a summary'
                         WHERE id = ANY($1)",
                        &[&ids, &summary, &to_time(now)],
                    )
                    .await?;
                    sends.push(summary);
                }
                Batch::Summary => {}
                Batch::Wait { until } => {
                    // The window is full: they wait for a place, out of the way of others.
                    let ids: Vec<i64> = fresh.iter().map(|m| m.id).collect();
                    tx.execute(
                        "UPDATE contact_messages SET next_attempt_at = GREATEST(next_attempt_at, $2)
                         WHERE id = ANY($1) AND status = 'waiting'",
                        &[&ids, &to_time(until)],
                    )
                    .await?;
                }
            }
            if !sends.is_empty() {
                tx.execute(
                    "UPDATE contact_messages SET status = 'sending', sending_since = $2
                     WHERE id = ANY($1)",
                    &[&sends, &to_time(now)],
                )
                .await?;
                claimed.push(sends);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Messages a hub left `sending` longer than twice the send timeout (it died, or lost the
    /// database): an email is never sent again, a webhook goes again under its key.
    async fn settle_interrupted(&self, now: Timestamp) -> Result<()> {
        let stale = now - SignedDuration::try_from(SEND_TIMEOUT * 2).unwrap_or_default();
        let mut client = self.client().await?;
        let any = client
            .query_opt(
                "SELECT 1 FROM contact_messages WHERE status = 'sending' AND sending_since < $1
                 LIMIT 1",
                &[&to_time(stale)],
            )
            .await?;
        if any.is_none() {
            return Ok(());
        }
        let tx = client.transaction().await?;
        // The organisation's version first, as every write that reaches the timeline.
        let version = bump_version(&*tx).await?;
        let interrupted = tx
            .query(
                &format!(
                    "SELECT {QUEUED_COLUMNS} FROM contact_messages m
                     LEFT JOIN pages p ON p.id = m.page_id
                     WHERE m.status = 'sending' AND m.sending_since < $1
                     FOR UPDATE OF m SKIP LOCKED"
                ),
                &[&to_time(stale)],
            )
            .await?;
        for row in &interrupted {
            let message = read_queued(row)?;
            if message.channel == "email" {
                let words =
                    "Stopline stopped while sending it: it may have arrived, and is not sent twice";
                finish(&tx, &message, "unknown", words, now, version, |m| {
                    format!(
                        "{}: a hub stopped while sending; it may have arrived, and is not sent twice",
                        described(&m.person, &m.channel, &m.address)
                    )
                })
                .await?;
            } else {
                tx.execute(
                    "UPDATE contact_messages SET status = 'waiting', sending_since = NULL,
                         next_attempt_at = $2 WHERE id = $1 AND status = 'sending'",
                    &[&message.id, &to_time(now)],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// What message `id` says, and who it goes to.
    async fn compose(
        &self,
        config: &Config,
        id: i64,
        link_key: &[u8],
    ) -> Result<(Queued, Message)> {
        let client = self.client().await?;
        let one = client
            .query_one(
                &format!(
                    "SELECT {QUEUED_COLUMNS} FROM contact_messages m
                     LEFT JOIN pages p ON p.id = m.page_id WHERE m.id = $1"
                ),
                &[&id],
            )
            .await?;
        let message = read_queued(&one)?;
        let members = if message.incident.is_some() {
            vec![message.clone()]
        } else {
            client
                .query(
                    &format!(
                        "SELECT {QUEUED_COLUMNS} FROM contact_messages m
                         LEFT JOIN pages p ON p.id = m.page_id
                         WHERE m.summary_id = $1 ORDER BY m.id"
                    ),
                    &[&id],
                )
                .await?
                .iter()
                .map(read_queued)
                .collect::<Result<_>>()?
        };
        let mut pages = Vec::new();
        for member in &members {
            let incident_id = member
                .incident
                .ok_or_else(|| corrupt("a contact message without an incident"))?;
            let row = client
                .query_one(
                    &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1"),
                    &[&incident_id],
                )
                .await?;
            let incident = read_incident(&row)?;
            let person = PersonId::new(member.person.clone())
                .map_err(|_| corrupt("the person of a contact message"))?;
            pages.push(PageText::of_message(
                config,
                &incident,
                &person,
                member.reason.as_deref().unwrap_or_default(),
                (member.id, member.created_at),
                link_key,
            ));
        }
        let text = if message.incident.is_some() {
            Message::Page(pages.remove(0))
        } else {
            Message::Summary(pages)
        };
        Ok((message, text))
    }

    /// Puts message `id`, marked `sending` but never sent, back in the queue.
    async fn release(&self, id: i64, error: &str, now: Timestamp) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE contact_messages SET status = 'waiting', sending_since = NULL,
                     attempts = attempts + 1, last_error = $2, next_attempt_at = $3
                 WHERE id = $1 AND status = 'sending'",
                &[&id, &error, &to_time(now + backoff(0))],
            )
            .await?;
        Ok(())
    }

    /// Records what became of message `id`, on the timeline of each incident it carried.
    async fn record(&self, message: &Queued, sent: Sent, now: Timestamp) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let version = bump_version(&*tx).await?;
        match sent {
            Sent::Delivered(words) => {
                finish(&tx, message, "sent", &words, now, version, |m| {
                    format!("{}: {words}", described(&m.person, &m.channel, &m.address))
                })
                .await?;
            }
            Sent::Permanent(error) => {
                fail(&tx, message, &error, now, version).await?;
            }
            Sent::Temporary(error) if now.duration_since(message.created_at) >= GIVE_UP_AFTER => {
                fail(
                    &tx,
                    message,
                    &format!("gave up after a day: {error}"),
                    now,
                    version,
                )
                .await?;
            }
            Sent::Temporary(error) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(0);
                tx.execute(
                    "UPDATE contact_messages SET status = 'waiting', sending_since = NULL,
                         attempts = attempts + 1, last_error = $2, next_attempt_at = $3
                     WHERE id = $1 AND status = 'sending'",
                    &[&message.id, &error, &to_time(now + backoff(attempts))],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn fail(
    tx: &Transaction<'_>,
    message: &Queued,
    error: &str,
    now: Timestamp,
    version: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE contact_messages SET last_error = $2 WHERE id = $1 AND status = 'sending'",
        &[&message.id, &error],
    )
    .await?;
    finish(tx, message, "failed", error, now, version, |m| {
        format!(
            "could not page {} by {} ({}): {error}",
            m.person, m.channel, m.address
        )
    })
    .await
}

/// Ends a message with `status` and `outcome`, and says so on the timeline of each incident it
/// carried (a summary's members').
async fn finish(
    tx: &Transaction<'_>,
    message: &Queued,
    status: &str,
    outcome: &str,
    now: Timestamp,
    version: i64,
    say: impl Fn(&Queued) -> String,
) -> Result<()> {
    // Only a message still leaving: another hub may have taken it over meanwhile.
    let changed = tx
        .execute(
            "UPDATE contact_messages SET status = $2, attempts = attempts + 1, finished_at = $3,
                 outcome = $4, sending_since = NULL
             WHERE id = $1 AND status = 'sending'",
            &[&message.id, &status, &to_time(now), &outcome],
        )
        .await?;
    if changed == 0 {
        return Ok(());
    }
    let incidents: Vec<i64> = match message.incident {
        Some(incident) => vec![incident],
        None => tx
            .query(
                "SELECT DISTINCT incident_id FROM contact_messages
                 WHERE summary_id = $1 AND incident_id IS NOT NULL",
                &[&message.id],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect(),
    };
    for incident in incidents {
        append_event(
            tx,
            incident,
            &TimelineEvent::paging(now, say(message)),
            version,
        )
        .await?;
    }
    Ok(())
}

/// Every hub's sender of pages beyond the desk.
#[derive(Clone)]
pub struct ContactSender {
    pub database: Database,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub secrets: SecretResolver,
}

impl std::fmt::Debug for ContactSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactSender").finish_non_exhaustive()
    }
}

impl ContactSender {
    /// Sends what comes due until `stop` completes. A round that fails (the database away) is
    /// logged and tried again.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let sender = match Sender::new() {
            Ok(sender) => sender,
            Err(error) => {
                tracing::error!(%error, "pages beyond the desk cannot be sent");
                return;
            }
        };
        let mut stop = std::pin::pin!(stop);
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut key: Option<Arc<Vec<u8>>> = None;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = &mut stop => return,
            }
            let link_key = match &key {
                Some(key) => Arc::clone(key),
                None => match self.database.ack_link_key().await {
                    Ok(found) => Arc::clone(key.insert(Arc::new(found))),
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the link key: trying again");
                        continue;
                    }
                },
            };
            let claimed = match self.database.claim(&self.config, self.clock.now()).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim messages now: trying again");
                    continue;
                }
            };
            // Each contact in order; contacts at once.
            for ids in claimed {
                let this = self.clone();
                let (sender, link_key) = (sender.clone(), Arc::clone(&link_key));
                tokio::spawn(async move {
                    for id in ids {
                        if let Err(error) = this.send(&sender, id, &link_key).await {
                            tracing::warn!(%error, "sending a page beyond the desk failed");
                        }
                    }
                });
            }
        }
    }

    async fn send(&self, sender: &Sender, id: i64, link_key: &[u8]) -> Result<()> {
        let config = &self.config;
        let (message, text) = match self.database.compose(config, id, link_key).await {
            Ok(composed) => composed,
            Err(error) => {
                // Nothing has left: back in the queue, rather than taken for sent after 30 s.
                self.database
                    .release(id, &error.to_string(), self.clock.now())
                    .await?;
                return Err(error);
            }
        };
        let contact = config
            .people
            .iter()
            .find(|p| p.id.as_str() == message.person)
            .and_then(|p| p.contacts.iter().find(|c| c.key() == message.contact));
        let sent = match contact {
            None => Sent::Permanent(format!(
                "{} no longer has this contact in the config",
                message.person
            )),
            Some(contact) => {
                let secrets = |secret: &SecretRef, what: &str| (self.secrets)(secret, what);
                sender
                    .send(
                        config,
                        contact,
                        &text,
                        &idempotency_key(link_key, id),
                        &secrets,
                        self.clock.now(),
                    )
                    .await
            }
        };
        match &sent {
            Sent::Delivered(words) => {
                tracing::info!(person = %message.person, channel = %message.channel, "paged away from the desk: {words}");
            }
            Sent::Temporary(error) | Sent::Permanent(error) => {
                tracing::warn!(person = %message.person, channel = %message.channel, attempt = message.attempts + 1, "paging away from the desk failed: {error}");
            }
        }
        self.database.record(&message, sent, self.clock.now()).await
    }
}

/// Whether `link` (signed and unexpired) may acknowledge now: unused, from a message this hub
/// sent to that person about that incident, and the incident still waits. Locks what it reads
/// when `client` is a transaction that asks (`lock`).
pub(crate) async fn check_link(
    client: &impl GenericClient,
    config: &Config,
    link: &AckLink,
    lock: bool,
) -> Result<std::result::Result<stopline_core::incident::Incident, Unusable>> {
    let for_update = if lock { " FOR UPDATE" } else { "" };
    let message = link.message;
    let used = client
        .query_opt(
            &format!("SELECT used_at FROM ack_links_used WHERE message_id = $1{for_update}"),
            &[&message],
        )
        .await?;
    if let Some(row) = used {
        let at = from_time(row.get::<_, SystemTime>(0))?;
        return Ok(Err(Unusable::Used {
            at: local_time(config, at),
        }));
    }
    match message_of(client, message).await? {
        Some((incident, person)) if incident == link.incident && person == link.person.as_str() => {
        }
        _ => return Ok(Err(Unusable::NotOurs)),
    }
    let row = client
        .query_one(
            &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1{for_update}"),
            &[&crate::rows::sql_id(link.incident)?],
        )
        .await?;
    let incident = read_incident(&row)?;
    Ok(match Unusable::settled(config, &incident) {
        Some(why) => Err(why),
        None => Ok(incident),
    })
}

/// The incident of a message and who it went to, to check a link against.
pub(crate) async fn message_of(
    client: &impl GenericClient,
    id: i64,
) -> Result<Option<(IncidentId, String)>> {
    let row = client
        .query_opt(
            "SELECT incident_id, person FROM contact_messages WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.and_then(|row| {
        let incident: Option<i64> = row.get(0);
        Some((IncidentId(u64::try_from(incident?).ok()?), row.get(1)))
    }))
}

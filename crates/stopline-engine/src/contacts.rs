//! The contact worker: carries the messages the store queued for people's contacts (email
//! through `[smtp]`, ntfy, Slack and JSON webhooks) away from the desk.
//!
//! Each contact is served in order, one message at a time, while different contacts go at once:
//! an SMTP relay or a webhook that is down delays nothing else, and never the desktop's own
//! notifications (the pager runs apart). A message is marked `sending` in the store before it
//! leaves and its outcome recorded after; a failure the server calls temporary (a refused
//! connection, a 4xx SMTP reply, an HTTP 5xx, 408 or 429) is tried again after 1 s, doubling to
//! 30 s, until its incident is acknowledged or resolved or a day has passed. The rate rule
//! (`stopline_core::reach::batch`) turns a flood into one summary.
//!
//! The sending itself (SMTP, webhooks, idempotency keys, what counts as temporary) is
//! `stopline-reach`'s, shared with the hub.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::ids::PersonId;
use stopline_core::reach::message::{Message, PageText};
use stopline_core::reach::{Batch, Contact, batch};
use stopline_core::settings::SecretRef;
use stopline_reach::{GIVE_UP_AFTER, Sender, Sent, backoff, idempotency_key};
use stopline_store::{ContactMessage, Store, StoreError};

use crate::events::{EngineEvent, EngineEvents};
use crate::live::LiveConfig;
use crate::secrets::{SecretStore, resolve};
use crate::shared_store::SharedStore;

/// How often the worker looks for messages that came due.
const TICK: Duration = Duration::from_millis(250);
/// Messages read per round.
const ROUND: usize = 500;

/// Where the worker reads secrets and signs links.
#[derive(Clone)]
pub struct ContactWorker {
    pub store: SharedStore,
    pub config: LiveConfig,
    pub clock: Arc<dyn Clock>,
    pub events: EngineEvents,
    /// Secrets the config names: the process environment…
    pub env: HashMap<String, String>,
    /// …and the OS keyring.
    pub keyring: Arc<dyn SecretStore>,
    /// The key acknowledge links are signed with (`DataDir::ack_link_key`).
    pub link_key: Arc<Vec<u8>>,
    pub sender: Sender,
}

impl std::fmt::Debug for ContactWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactWorker").finish_non_exhaustive()
    }
}

impl ContactWorker {
    /// Runs until aborted: first settles what a crash caught leaving, then sends what is due.
    pub async fn run(self) {
        let now = self.clock.now();
        match self
            .store
            .run(move |store| {
                Ok::<_, crate::EngineError>(store.recover_interrupted_contacts(now, now)?)
            })
            .await
        {
            Ok((0, 0)) => {}
            Ok((emails, webhooks)) => tracing::warn!(
                emails,
                webhooks,
                "messages were leaving when Stopline stopped: emails are not sent twice, webhooks go again under the same idempotency key"
            ),
            Err(error) => tracing::error!(%error, "cannot check for interrupted messages"),
        }
        let busy = Busy::default();
        // Woken at once when the pager records pages; else every tick, for holds that end
        // and retries that come due.
        let mut events = self.events.subscribe();
        loop {
            if let Err(error) = self.round(&busy).await {
                tracing::warn!(%error, "the contact worker's round failed; trying again");
            }
            let woken = async {
                loop {
                    match events.recv().await {
                        Ok(EngineEvent::Escalated)
                        | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                        Ok(_) => {}
                        // No sender left: only the tick wakes it.
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            };
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = woken => {}
            }
        }
    }

    /// One round: the due messages, by person and contact. Each person's batches are decided
    /// together by the rate rule (counting what was sent, what is leaving and what this worker
    /// has allotted but not yet sent); then each contact not already busy gets a task that
    /// sends its batches in order, each marked `sending` just before it leaves.
    async fn round(&self, busy: &Busy) -> Result<(), crate::EngineError> {
        let now = self.clock.now();
        // A message left leaving longer than any send takes (its outcome could not be
        // recorded): settled as after a crash.
        let stale = now
            - SignedDuration::try_from(2 * stopline_reach::SEND_TIMEOUT)
                .unwrap_or(SignedDuration::ZERO);
        self.store
            .run(move |store| {
                Ok::<_, crate::EngineError>(store.recover_interrupted_contacts(stale, now)?)
            })
            .await?;
        let due = self
            .store
            .run(move |store| Ok::<_, crate::EngineError>(store.due_contact_messages(now, ROUND)?))
            .await?;
        let mut by_person: BTreeMap<PersonId, BTreeMap<String, Vec<ContactMessage>>> =
            BTreeMap::new();
        for message in due {
            by_person
                .entry(message.person.clone())
                .or_default()
                .entry(message.contact.clone())
                .or_default()
                .push(message);
        }
        let limit = self.config.current().paging.rate_limit;
        let since = now - SignedDuration::try_from(limit.per).unwrap_or(SignedDuration::ZERO);
        for (person, contacts) in by_person {
            let free: Vec<(String, Vec<ContactMessage>)> = contacts
                .into_iter()
                .filter(|(contact, _)| {
                    !lock(&busy.contacts).contains(&(person.clone(), contact.clone()))
                })
                .collect();
            if free.is_empty() {
                continue;
            }
            let who = person.clone();
            let mut counted = self
                .store
                .run(move |store| {
                    Ok::<_, crate::EngineError>(store.contact_sent_times(&who, since, now)?)
                })
                .await?;
            let allotted = lock(&busy.allotted).get(&person).copied().unwrap_or(0);
            counted.extend(std::iter::repeat_n(now, allotted));
            for (contact, messages) in free {
                let (sends, hold) = batches(&counted, messages, limit, now);
                if let Some((ids, until)) = hold {
                    // The window is full: they wait for a place, out of the way of others.
                    self.store
                        .run(move |store| {
                            Ok::<_, crate::EngineError>(store.hold_contact_messages(&ids, until)?)
                        })
                        .await?;
                }
                if sends.is_empty() {
                    continue;
                }
                counted.extend(std::iter::repeat_n(now, sends.len()));
                *lock(&busy.allotted).entry(person.clone()).or_default() += sends.len();
                let key = (person.clone(), contact);
                lock(&busy.contacts).insert(key.clone());
                let (worker, busy) = (self.clone(), busy.clone());
                tokio::spawn(async move {
                    if let Err(error) = worker.serve_contact(&key.0, sends, &busy).await {
                        tracing::warn!(%error, person = %key.0, "sending to a contact failed");
                    }
                    lock(&busy.contacts).remove(&key);
                });
            }
        }
        Ok(())
    }

    /// Sends one contact's batches in order, each marked `sending` just before it leaves.
    async fn serve_contact(
        &self,
        person: &PersonId,
        sends: Vec<Send>,
        busy: &Busy,
    ) -> Result<(), crate::EngineError> {
        let mut left = sends.len();
        let result = async {
            for (ids, summary) in sends {
                let now = self.clock.now();
                let started = self
                    .store
                    .run(move |store| {
                        Ok::<_, crate::EngineError>(store.begin_sending(&ids, summary, now)?)
                    })
                    .await;
                // Marked (or gone): the store counts it from here.
                left -= 1;
                unallot(busy, person, 1);
                if let Some(id) = started? {
                    self.send(id).await?;
                }
            }
            Ok(())
        }
        .await;
        unallot(busy, person, left);
        result
    }

    /// Sends the message `id` (marked `sending`) and records what became of it.
    async fn send(&self, id: i64) -> Result<(), crate::EngineError> {
        let config = self.config.current();
        let key = Arc::clone(&self.link_key);
        let composed = match self
            .store
            .run(move |store| compose(store, &config, id, &key))
            .await
        {
            Ok(composed) => composed,
            Err(error) => {
                // Nothing has left: back in the queue, rather than taken for sent by a restart.
                let (words, now) = (error.to_string(), self.clock.now());
                self.store
                    .run(move |store| {
                        Ok::<_, crate::EngineError>(store.contact_retry(
                            id,
                            &words,
                            now + backoff(0),
                        )?)
                    })
                    .await?;
                return Err(error);
            }
        };
        let config = self.config.current();
        let outcome = match &composed.contact {
            None => Sent::Permanent(format!(
                "{} no longer has this contact in the config",
                composed.message.person
            )),
            Some(contact) => {
                let secrets = |secret: &SecretRef, what: &str| self.secret(secret, what);
                self.sender
                    .send(
                        &config,
                        contact,
                        &composed.text,
                        &composed.idempotency_key,
                        &secrets,
                        self.clock.now(),
                    )
                    .await
            }
        };
        let now = self.clock.now();
        let message = composed.message;
        match &outcome {
            Sent::Delivered(words) => {
                tracing::info!(person = %message.person, channel = %message.channel, "paged away from the desk: {words}");
            }
            Sent::Temporary(error) | Sent::Permanent(error) => {
                tracing::warn!(person = %message.person, channel = %message.channel, attempt = message.attempts + 1, "paging away from the desk failed: {error}");
            }
        }
        self.store
            .run(move |store| {
                match outcome {
                    Sent::Delivered(words) => store.contact_delivered(id, &words, now)?,
                    Sent::Permanent(error) => store.contact_failed(id, &error, now)?,
                    Sent::Temporary(error) => {
                        if now.duration_since(message.created_at) >= GIVE_UP_AFTER {
                            store.contact_failed(
                                id,
                                &format!("gave up after a day: {error}"),
                                now,
                            )?;
                        } else {
                            let retry_at = now + backoff(message.attempts);
                            store.contact_retry(id, &error, retry_at)?;
                        }
                    }
                }
                Ok::<_, crate::EngineError>(())
            })
            .await?;
        self.events.publish(EngineEvent::StoreChanged);
        Ok(())
    }

    fn secret(&self, secret: &SecretRef, what: &str) -> Result<String, String> {
        resolve(secret, what, &self.env, self.keyring.as_ref()).map_err(|e| e.to_string())
    }
}

/// A message ready to leave: its row, its contact in the current config, its text and key.
struct Composed {
    message: ContactMessage,
    contact: Option<Contact>,
    text: Message,
    idempotency_key: String,
}

/// Reads what a message says from the store and the config.
fn compose(
    store: &mut Store,
    config: &Config,
    id: i64,
    link_key: &[u8],
) -> Result<Composed, crate::EngineError> {
    let message = store.contact_message(id)?;
    let contact = config.person(&message.person).and_then(|person| {
        person
            .contacts
            .iter()
            .find(|c| c.key() == message.contact)
            .cloned()
    });
    let text = if message.incident.is_some() {
        Message::Page(page_text(store, config, &message, link_key)?)
    } else {
        let mut pages = Vec::new();
        for member in store.summarised_in(id)? {
            pages.push(page_text(store, config, &member, link_key)?);
        }
        Message::Summary(pages)
    };
    Ok(Composed {
        idempotency_key: idempotency_key(link_key, id),
        message,
        contact,
        text,
    })
}

fn page_text(
    store: &Store,
    config: &Config,
    message: &ContactMessage,
    link_key: &[u8],
) -> Result<PageText, crate::EngineError> {
    let incident_id = message.incident.ok_or_else(|| {
        StoreError::Corrupt(format!("contact message {} has no incident", message.id))
    })?;
    let incident = store.incident_record(incident_id)?;
    Ok(PageText::of_message(
        config,
        &incident,
        &message.person,
        message.reason.as_deref().unwrap_or_default(),
        (message.id, message.created_at),
        link_key,
    ))
}

/// The sender of a worker.
pub fn sender() -> Result<Sender, crate::EngineError> {
    Sender::new().map_err(|e| crate::EngineError::Http(crate::alertmanager::HttpClientError(e)))
}

/// What the worker has under way: the contacts a task is serving, and per person the batches
/// decided but not yet marked `sending` (which the rate rule counts as sent).
#[derive(Debug, Clone, Default)]
struct Busy {
    contacts: Arc<Mutex<HashSet<(PersonId, String)>>>,
    allotted: Arc<Mutex<HashMap<PersonId, usize>>>,
}

fn unallot(busy: &Busy, person: &PersonId, count: usize) {
    let mut allotted = lock(&busy.allotted);
    if let Some(left) = allotted.get_mut(person) {
        *left = left.saturating_sub(count);
        if *left == 0 {
            allotted.remove(person);
        }
    }
}

/// One contact's due messages as batches by the rate rule, given when its person's recent
/// messages went: each alone, or one summary, or nothing yet. A summary already waiting to be
/// tried again goes first, on its own.
/// What one contact sends next: the messages and whether they go as one summary.
type Send = (Vec<i64>, bool);

/// With the messages to hold until a place frees, when the window is full.
fn batches(
    counted: &[jiff::Timestamp],
    messages: Vec<ContactMessage>,
    limit: stopline_core::reach::RateLimit,
    now: jiff::Timestamp,
) -> (Vec<Send>, Option<(Vec<i64>, jiff::Timestamp)>) {
    let (retries, fresh): (Vec<_>, Vec<_>) =
        messages.into_iter().partition(|m| m.incident.is_none());
    let mut sends: Vec<Send> = retries.iter().map(|m| (vec![m.id], false)).collect();
    let mut sorted = counted.to_vec();
    sorted.sort();
    let mut hold = None;
    match batch(&sorted, fresh.len(), limit, now) {
        Batch::Each => sends.extend(fresh.iter().map(|m| (vec![m.id], false))),
        Batch::Summary if !fresh.is_empty() => {
            sends.push((fresh.iter().map(|m| m.id).collect(), true));
        }
        Batch::Summary => {}
        Batch::Wait { until } => hold = Some((fresh.iter().map(|m| m.id).collect(), until)),
    }
    (sends, hold)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a test message to one contact came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactTest {
    pub channel: &'static str,
    /// The address, or a webhook's host: never a secret.
    pub address: String,
    /// What the server said when it took it, or why it did not.
    pub outcome: Result<String, String>,
}

/// Sends a test message to each of `person`'s contacts now, through the config's `[smtp]` and
/// webhooks, one after another: what an administrator runs to see that a contact works.
/// Nothing is stored and no incident is opened.
pub async fn test_contacts(
    config: &Config,
    person: &str,
    env: &HashMap<String, String>,
    keyring: &dyn SecretStore,
    now: jiff::Timestamp,
) -> Result<Vec<ContactTest>, crate::EngineError> {
    let id = crate::lookup::person(config, person)?;
    let Some(who) = config.person(&id) else {
        return Err(crate::EngineError::UnknownPerson(person.to_owned()));
    };
    let sender = sender()?;
    let text = Message::Test {
        person_name: who.name.clone(),
        workspace: config.workspace.name.clone(),
    };
    let key = format!("stopline-test-{}-{}", id, now.as_millisecond());
    let secrets = |secret: &SecretRef, what: &str| {
        resolve(secret, what, env, keyring).map_err(|e| e.to_string())
    };
    let mut tried = Vec::new();
    for contact in &who.contacts {
        let sent = sender
            .send(config, contact, &text, &key, &secrets, now)
            .await;
        tried.push(ContactTest {
            channel: contact.channel(),
            address: contact.address(),
            outcome: match sent {
                Sent::Delivered(words) => Ok(words),
                Sent::Temporary(error) | Sent::Permanent(error) => Err(error),
            },
        });
    }
    Ok(tried)
}

/// The secrets pages beyond the desk need that cannot be read now (the SMTP password, a
/// webhook's token or URL), each said with whose contact needs it: logged when an engine or
/// hub starts, since a message to such a contact fails until the secret is there.
pub fn missing_secrets(
    config: &Config,
    env: &HashMap<String, String>,
    keyring: &dyn SecretStore,
) -> Vec<String> {
    let mut missing = Vec::new();
    let mut check = |secret: &SecretRef, what: String| {
        if let Err(error) = resolve(secret, &what, env, keyring) {
            missing.push(error.to_string());
        }
    };
    if let Some(password) = config.smtp.as_ref().and_then(|s| s.password.as_ref()) {
        check(password, "the SMTP password ([smtp])".to_owned());
    }
    for person in &config.people {
        for contact in &person.contacts {
            if let Contact::Webhook { url, token, .. } = contact {
                if let stopline_core::reach::WebhookUrl::Secret(secret) = url {
                    check(
                        secret,
                        format!("the URL of {}'s {} contact", person.id, contact.channel()),
                    );
                }
                if let Some(token) = token {
                    check(
                        token,
                        format!("the token of {}'s {} contact", person.id, contact.channel()),
                    );
                }
            }
        }
    }
    missing
}

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
//! Every message carries an idempotency key (`stopline-…-ID`): an email as its `Message-ID`,
//! a webhook as the `Idempotency-Key` header (and, in Stopline's JSON, in the body).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::SignedDuration;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::ids::PersonId;
use stopline_core::reach::link::AckLink;
use stopline_core::reach::message::{Message, PageText};
use stopline_core::reach::{
    Batch, Contact, SmtpSecurity, SmtpSettings, WebhookFormat, WebhookUrl, batch,
};
use stopline_core::settings::SecretRef;
use stopline_store::{ContactMessage, Store, StoreError};

use crate::events::{EngineEvent, EngineEvents};
use crate::live::LiveConfig;
use crate::secrets::{SecretStore, resolve};
use crate::shared_store::SharedStore;

/// How often the worker looks for messages that came due.
const TICK: Duration = Duration::from_millis(250);
/// The longest a send may take: an SMTP conversation or a webhook's answer.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest wait between two tries.
const LONGEST_RETRY: SignedDuration = SignedDuration::from_secs(30);
/// After this, a message that never left is given up (its link would have expired anyway).
const GIVE_UP_AFTER: SignedDuration = SignedDuration::from_hours(24);
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
    pub http: reqwest::Client,
}

impl std::fmt::Debug for ContactWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactWorker").finish_non_exhaustive()
    }
}

/// What became of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sent {
    /// Accepted, in words: "delivered to the SMTP server (250 2.0.0 Ok)".
    Delivered(String),
    /// Try again later.
    Temporary(String),
    /// Never worth trying again.
    Permanent(String),
}

impl ContactWorker {
    /// Runs until aborted: first settles what a crash caught leaving, then sends what is due.
    pub async fn run(self) {
        let now = self.clock.now();
        match self
            .store
            .run(move |store| Ok::<_, crate::EngineError>(store.recover_interrupted_contacts(now)?))
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
        let busy: Arc<Mutex<HashSet<(PersonId, String)>>> = Arc::default();
        loop {
            if let Err(error) = self.round(&busy).await {
                tracing::warn!(%error, "the contact worker's round failed; trying again");
            }
            tokio::time::sleep(TICK).await;
        }
    }

    /// One round: the due messages, grouped by contact; each contact not already busy gets a
    /// task that sends its batch in order.
    async fn round(
        &self,
        busy: &Arc<Mutex<HashSet<(PersonId, String)>>>,
    ) -> Result<(), crate::EngineError> {
        let now = self.clock.now();
        let due = self
            .store
            .run(move |store| Ok::<_, crate::EngineError>(store.due_contact_messages(now, ROUND)?))
            .await?;
        let mut by_contact: BTreeMap<(PersonId, String), Vec<ContactMessage>> = BTreeMap::new();
        for message in due {
            by_contact
                .entry((message.person.clone(), message.contact.clone()))
                .or_default()
                .push(message);
        }
        for (contact, messages) in by_contact {
            if !lock(busy).insert(contact.clone()) {
                continue;
            }
            let worker = self.clone();
            let busy = Arc::clone(busy);
            tokio::spawn(async move {
                if let Err(error) = worker.serve_contact(&contact, messages).await {
                    tracing::warn!(%error, person = %contact.0, "sending to a contact failed");
                }
                lock(&busy).remove(&contact);
            });
        }
        Ok(())
    }

    /// Sends one contact's due messages: each alone, or one summary, by the rate rule.
    async fn serve_contact(
        &self,
        (person, contact): &(PersonId, String),
        messages: Vec<ContactMessage>,
    ) -> Result<(), crate::EngineError> {
        let now = self.clock.now();
        let limit = self.config.current().paging.rate_limit;
        let since = now - SignedDuration::try_from(limit.per).unwrap_or(SignedDuration::ZERO);
        let (who, key) = (person.clone(), contact.clone());
        let sent = self
            .store
            .run(move |store| {
                Ok::<_, crate::EngineError>(store.contact_sent_times(&who, &key, since)?)
            })
            .await?;
        // A summary already waiting to be tried again goes on its own, first.
        let (retries, fresh): (Vec<_>, Vec<_>) =
            messages.into_iter().partition(|m| m.incident.is_none());
        let mut sends: Vec<(Vec<i64>, bool)> =
            retries.iter().map(|m| (vec![m.id], false)).collect();
        match batch(&sent, fresh.len(), limit, now) {
            Batch::Each => sends.extend(fresh.iter().map(|m| (vec![m.id], false))),
            Batch::Summary if !fresh.is_empty() => {
                sends.push((fresh.iter().map(|m| m.id).collect(), true));
            }
            Batch::Summary => {}
            Batch::Wait { until } => {
                tracing::debug!(person = %person, %until, "rate limit reached: waiting for a place");
            }
        }
        for (ids, summary) in sends {
            let now = self.clock.now();
            let started = self
                .store
                .run(move |store| {
                    Ok::<_, crate::EngineError>(store.begin_sending(&ids, summary, now)?)
                })
                .await?;
            if let Some(id) = started {
                self.send(id).await?;
            }
        }
        Ok(())
    }

    /// Sends the message `id` (marked `sending`) and records what became of it.
    async fn send(&self, id: i64) -> Result<(), crate::EngineError> {
        let config = self.config.current();
        let key = Arc::clone(&self.link_key);
        let composed = self
            .store
            .run(move |store| compose(store, &config, id, &key))
            .await?;
        let config = self.config.current();
        let outcome = match &composed.contact {
            None => Sent::Permanent(format!(
                "{} no longer has this contact in the config",
                composed.message.person
            )),
            Some(contact) => {
                let attempt = self.deliver(&config, contact, &composed);
                match tokio::time::timeout(SEND_TIMEOUT, attempt).await {
                    Ok(sent) => sent,
                    Err(_) => {
                        Sent::Temporary(format!("no answer within {} s", SEND_TIMEOUT.as_secs()))
                    }
                }
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

    async fn deliver(&self, config: &Config, contact: &Contact, composed: &Composed) -> Sent {
        match contact {
            Contact::Email { to } => match &config.smtp {
                None => Sent::Permanent("no [smtp] is configured to send email through".to_owned()),
                Some(smtp) => self.email(smtp, to, composed).await,
            },
            Contact::Webhook { url, format, token } => {
                self.webhook(url, *format, token.as_ref(), composed).await
            }
        }
    }

    fn secret(&self, secret: &SecretRef, what: &str) -> Result<String, String> {
        resolve(secret, what, &self.env, self.keyring.as_ref()).map_err(|e| e.to_string())
    }

    async fn email(&self, smtp: &SmtpSettings, to: &str, composed: &Composed) -> Sent {
        let built = (|| -> Result<lettre::Message, String> {
            let from: Mailbox = smtp
                .from
                .parse()
                .map_err(|e| format!("smtp.from {:?}: {e}", smtp.from))?;
            let to: Mailbox = to.parse().map_err(|e| format!("{to:?}: {e}"))?;
            let domain = from.email.domain().to_owned();
            MessageBuilder::new()
                .from(from)
                .to(to)
                .subject(composed.text.subject())
                .message_id(Some(format!("<{}@{domain}>", composed.idempotency_key)))
                .header(ContentType::TEXT_PLAIN)
                .body(composed.text.body())
                .map_err(|e| e.to_string())
        })();
        let email = match built {
            Ok(email) => email,
            Err(error) => return Sent::Permanent(error),
        };
        let transport = match self.smtp_transport(smtp) {
            Ok(transport) => transport,
            Err(error) => return Sent::Temporary(error),
        };
        match transport.send(email).await {
            Ok(response) => Sent::Delivered(format!(
                "delivered to the SMTP server ({} {})",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) if error.is_permanent() => Sent::Permanent(format!(
                "the SMTP server refused it: {}",
                describe_smtp(&error)
            )),
            Err(error) => Sent::Temporary(format!("SMTP: {}", describe_smtp(&error))),
        }
    }

    fn smtp_transport(
        &self,
        smtp: &SmtpSettings,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = || TlsParameters::new(smtp.host.clone()).map_err(|e| e.to_string());
        let security = match smtp.security {
            SmtpSecurity::StartTls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
            .port(smtp.port)
            .tls(security)
            .timeout(Some(SEND_TIMEOUT));
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            let password = self.secret(password, "the SMTP password")?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(builder.build())
    }

    async fn webhook(
        &self,
        url: &WebhookUrl,
        format: WebhookFormat,
        token: Option<&SecretRef>,
        composed: &Composed,
    ) -> Sent {
        let url = match url {
            WebhookUrl::Given(url) => url.clone(),
            WebhookUrl::Secret(secret) => match self.secret(secret, "the webhook URL") {
                Ok(url) => url,
                Err(error) => return Sent::Temporary(error),
            },
        };
        let (target, body) = match format {
            // ntfy's JSON publishing goes to the server's root, naming the topic.
            WebhookFormat::Ntfy => {
                let (root, topic) = url.rsplit_once('/').unwrap_or((&url, ""));
                (root.to_owned(), composed.text.ntfy(topic))
            }
            WebhookFormat::Slack => (url.clone(), composed.text.slack()),
            WebhookFormat::Json => (
                url.clone(),
                composed
                    .text
                    .json(&composed.idempotency_key, self.clock.now()),
            ),
        };
        let mut request = self
            .http
            .post(&target)
            .header("Idempotency-Key", &composed.idempotency_key)
            .json(&body);
        if let Some(token) = token {
            match self.secret(token, "the webhook token") {
                Ok(token) => request = request.bearer_auth(token),
                Err(error) => return Sent::Temporary(error),
            }
        }
        let host = stopline_core::reach::url_host(&target).to_owned();
        match request.send().await {
            Ok(response) if response.status().is_success() => Sent::Delivered(format!(
                "accepted by {host} (HTTP {})",
                response.status().as_u16()
            )),
            Ok(response) => {
                let status = response.status();
                let words = format!("{host} answered HTTP {}", status.as_u16());
                if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
                    Sent::Permanent(words)
                } else {
                    Sent::Temporary(words)
                }
            }
            Err(error) => Sent::Temporary(format!(
                "{host}: {}",
                stopline_alertmanager::describe(&error)
            )),
        }
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
    let ack_link = config.paging.ack_url_base.as_ref().map(|base| {
        AckLink {
            incident: incident.id,
            person: message.person.clone(),
            issued_at: message.created_at,
            message: message.id,
        }
        .url(base, link_key)
    });
    Ok(PageText {
        incident: incident.id,
        summary: crate::pager::notification_summary(config, &incident),
        team: crate::pager::team_name(config, &incident),
        severity: incident.severity.as_str().to_owned(),
        loss_per_hour: crate::pager::loss_per_hour(config, &incident),
        opened_at: incident.opened_at,
        person_name: config
            .person(&message.person)
            .map_or_else(|| message.person.to_string(), |p| p.name.clone()),
        person: message.person.clone(),
        reason: message.reason.clone().unwrap_or_default(),
        ack_link,
    })
}

/// The message's idempotency key: unique to this data directory (from its link key) and the
/// message, the same on every try.
pub fn idempotency_key(link_key: &[u8], id: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest([b"stopline messages\0".as_slice(), link_key].concat());
    let prefix: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("stopline-{prefix}-{id}")
}

/// 1 s, doubling with each try, at most 30 s.
fn backoff(attempts: u32) -> SignedDuration {
    let seconds = 1i64.checked_shl(attempts.min(10)).unwrap_or(i64::MAX);
    SignedDuration::from_secs(seconds).min(LONGEST_RETRY)
}

fn describe_smtp(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_wait_longer_each_time_up_to_half_a_minute() {
        let waits: Vec<i64> = (0..8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn idempotency_keys_differ_by_message_and_by_data_directory() {
        assert_eq!(idempotency_key(b"k", 1), idempotency_key(b"k", 1));
        assert_ne!(idempotency_key(b"k", 1), idempotency_key(b"k", 2));
        assert_ne!(idempotency_key(b"k", 1), idempotency_key(b"j", 1));
    }
}

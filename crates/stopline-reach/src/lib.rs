//! Sends pages beyond the desk, for the desktop's engine and the hub alike: one message to one
//! contact, as email through the workspace's `[smtp]` relay (lettre, TLS by rustls) or as an
//! HTTP POST in ntfy's, Slack's or Stopline's own JSON format. What a message says is
//! `stopline_core::reach::message`; when it goes, and what becomes of it, is the caller's queue.
//!
//! Every message carries its idempotency key: an email as its `Message-ID`, a webhook as the
//! `Idempotency-Key` header (and, in Stopline's JSON, in the body). A failure is told apart as
//! temporary (try again: no connection, a 4xx SMTP reply, HTTP 5xx, 408 or 429, no answer in
//! time) or permanent (a 5xx SMTP reply, any other HTTP 4xx).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MessageBuilder};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use stopline_core::config::Config;
use stopline_core::reach::message::Message;
use stopline_core::reach::{
    Contact, SmtpSecurity, SmtpSettings, WebhookFormat, WebhookUrl, check_webhook_url, url_host,
};
use stopline_core::settings::SecretRef;

/// The longest one send may take: an SMTP conversation, or a webhook's answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest wait between two tries.
pub const LONGEST_RETRY: SignedDuration = SignedDuration::from_secs(30);
/// After this, a message that never left is given up (its link would have expired anyway).
pub const GIVE_UP_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// What became of one try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Accepted, in words: "delivered to the SMTP server (250 2.0.0 Ok)".
    Delivered(String),
    /// Try again later.
    Temporary(String),
    /// Never worth trying again.
    Permanent(String),
}

/// Reads a secret the config names (`what` says what it is for, in messages).
pub type Secrets<'a> = &'a (dyn Fn(&SecretRef, &str) -> Result<String, String> + Sync);

/// Sends messages; one per process, its HTTP and SMTP connections reused.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    /// The SMTP transport (a pool of connections) for the settings and password it was made
    /// with; made again when either changes (a reloaded config, a new password).
    smtp: Arc<Mutex<Option<MadeTransport>>>,
}

/// An SMTP transport and the settings and password it was made with.
type MadeTransport = (
    SmtpSettings,
    Option<String>,
    AsyncSmtpTransport<Tokio1Executor>,
);

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Sender {
    pub fn new() -> Result<Self, String> {
        let http = stopline_http::client::client(|builder| {
            builder
                .connect_timeout(Duration::from_secs(5))
                .timeout(SEND_TIMEOUT)
        })?;
        Ok(Self {
            http,
            smtp: Arc::default(),
        })
    }

    /// Sends `text` to `contact` under `key`, within [`SEND_TIMEOUT`].
    pub async fn send(
        &self,
        config: &Config,
        contact: &Contact,
        text: &Message,
        key: &str,
        secrets: Secrets<'_>,
        now: Timestamp,
    ) -> Sent {
        let attempt = async {
            match contact {
                Contact::Email { to } => match &config.smtp {
                    None => {
                        Sent::Permanent("no [smtp] is configured to send email through".to_owned())
                    }
                    Some(smtp) => self.email(smtp, to, text, key, secrets).await,
                },
                Contact::Webhook { url, format, token } => {
                    self.webhook(url, *format, token.as_ref(), text, key, secrets, now)
                        .await
                }
            }
        };
        match tokio::time::timeout(SEND_TIMEOUT, attempt).await {
            Ok(sent) => sent,
            Err(_) => Sent::Temporary(format!("no answer within {} s", SEND_TIMEOUT.as_secs())),
        }
    }

    async fn email(
        &self,
        smtp: &SmtpSettings,
        to: &str,
        text: &Message,
        key: &str,
        secrets: Secrets<'_>,
    ) -> Sent {
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
                .subject(text.subject())
                .message_id(Some(format!("<{key}@{domain}>")))
                .header(ContentType::TEXT_PLAIN)
                .body(text.body())
                .map_err(|e| e.to_string())
        })();
        let message = match built {
            Ok(message) => message,
            Err(error) => return Sent::Permanent(error),
        };
        let transport = match self.smtp_transport(smtp, secrets) {
            Ok(transport) => transport,
            Err(error) => return Sent::Temporary(error),
        };
        match transport.send(message).await {
            Ok(response) => Sent::Delivered(format!(
                "delivered to the SMTP server ({} {})",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(error) if error.is_permanent() => Sent::Permanent(format!(
                "the SMTP server refused it: {}",
                with_sources(&error)
            )),
            Err(error) => Sent::Temporary(format!("SMTP: {}", with_sources(&error))),
        }
    }

    /// The transport for `smtp`: the one made before, while the settings and the password are
    /// the same.
    fn smtp_transport(
        &self,
        smtp: &SmtpSettings,
        secrets: Secrets<'_>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let password = match (&smtp.username, &smtp.password) {
            (Some(_), Some(password)) => Some(secrets(password, "the SMTP password")?),
            _ => None,
        };
        let mut made = self.smtp.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((settings, secret, transport)) = made.as_ref()
            && settings == smtp
            && *secret == password
        {
            return Ok(transport.clone());
        }
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
        if let (Some(user), Some(password)) = (&smtp.username, &password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let transport = builder.build();
        *made = Some((smtp.clone(), password, transport.clone()));
        Ok(transport)
    }

    #[allow(clippy::too_many_arguments)]
    async fn webhook(
        &self,
        url: &WebhookUrl,
        format: WebhookFormat,
        token: Option<&SecretRef>,
        text: &Message,
        key: &str,
        secrets: Secrets<'_>,
        now: Timestamp,
    ) -> Sent {
        let url = match url {
            WebhookUrl::Given(url) => url.clone(),
            WebhookUrl::Secret(secret) => match secrets(secret, "the webhook URL") {
                // Checked here, as the config checks a URL written in the file.
                Ok(url) => match check_webhook_url(&url) {
                    Ok(url) => url,
                    Err(why) => return Sent::Permanent(format!("the URL in {secret}: {why}")),
                },
                Err(error) => return Sent::Temporary(error),
            },
        };
        let (target, body) = match format {
            // ntfy's JSON publishing goes to the server's root, naming the topic.
            WebhookFormat::Ntfy => {
                let (root, topic) = url.rsplit_once('/').unwrap_or((&url, ""));
                (root.to_owned(), text.ntfy(topic))
            }
            WebhookFormat::Slack => (url.clone(), text.slack()),
            WebhookFormat::Json => (url.clone(), text.json(key, now)),
        };
        let mut request = self
            .http
            .post(&target)
            .header("Idempotency-Key", key)
            .json(&body);
        if let Some(token) = token {
            match secrets(token, "the webhook token") {
                Ok(token) => request = request.bearer_auth(token),
                Err(error) => return Sent::Temporary(error),
            }
        }
        let host = url_host(&target).to_owned();
        match request.send().await {
            Ok(response) if response.status().is_success() => Sent::Delivered(format!(
                "accepted by {host} (HTTP {})",
                response.status().as_u16()
            )),
            Ok(response) => {
                let status = response.status().as_u16();
                let words = format!("{host} answered HTTP {status}");
                if (400..500).contains(&status) && status != 408 && status != 429 {
                    Sent::Permanent(words)
                } else {
                    Sent::Temporary(words)
                }
            }
            // Without the URL: a Slack URL is a secret, and this reaches the log and timeline.
            Err(error) => {
                Sent::Temporary(format!("{host}: {}", describe_http(&error.without_url())))
            }
        }
    }
}

/// A message's idempotency key: unique to the sender's store (from its link key) and the
/// message, the same on every try.
pub fn idempotency_key(link_key: &[u8], id: i64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest([b"stopline messages\0".as_slice(), link_key].concat());
    let prefix: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("stopline-{prefix}-{id}")
}

/// The wait before the next try after `attempts` tries: 1 s, doubling, at most 30 s.
pub fn backoff(attempts: u32) -> SignedDuration {
    let seconds = 1i64.checked_shl(attempts.min(10)).unwrap_or(i64::MAX);
    SignedDuration::from_secs(seconds).min(LONGEST_RETRY)
}

fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

fn describe_http(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect (is it running?)".to_owned()
    } else {
        with_sources(error)
    }
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
    fn idempotency_keys_differ_by_message_and_by_sender() {
        assert_eq!(idempotency_key(b"k", 1), idempotency_key(b"k", 1));
        assert_ne!(idempotency_key(b"k", 1), idempotency_key(b"k", 2));
        assert_ne!(idempotency_key(b"k", 1), idempotency_key(b"j", 1));
    }
}

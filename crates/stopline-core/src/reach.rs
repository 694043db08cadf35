//! Pages beyond the desk: a person's contacts (email, push webhooks), when a page goes to them,
//! how a flood is held to a rate, what each message says, and the signed link that
//! acknowledges from a phone.
//!
//! A page goes to the person's desktop first. Their contacts get it as well when no desktop of
//! theirs shows it within `[paging] desktop_grace`, at once when they have no desktop here, and
//! at once out of hours for someone who chose `contacts_first_out_of_hours`. [`plan`] decides
//! that when the escalation step is recorded, so the messages are queued in the step's own
//! transaction; [`batch`] decides, when they are sent, whether a flood turns into one summary.

pub mod link;
pub mod message;

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::ids::PersonId;
use crate::settings::SecretRef;

/// How a person is reached away from their desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// An email through the workspace's `[smtp]` relay.
    Email { to: String },
    /// An HTTP POST in one of the [`WebhookFormat`]s.
    Webhook {
        url: WebhookUrl,
        format: WebhookFormat,
        /// Sent as `Authorization: Bearer …` (an ntfy access token, a gateway's key).
        token: Option<SecretRef>,
    },
}

/// Where a webhook posts: written in the file, or (a Slack incoming-webhook URL is itself the
/// secret) named, from the environment or the keyring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookUrl {
    Given(String),
    Secret(SecretRef),
}

/// The shape of a webhook's request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// ntfy's JSON publishing: the URL names the topic (`https://ntfy.example.org/aisha`).
    Ntfy,
    /// A Slack incoming webhook.
    Slack,
    /// Stopline's own documented JSON (docs/paging.md).
    Json,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Ntfy => "ntfy",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ntfy" => Some(WebhookFormat::Ntfy),
            "slack" => Some(WebhookFormat::Slack),
            "json" => Some(WebhookFormat::Json),
            _ => None,
        }
    }
}

impl Contact {
    /// What the contact is called in the queue: stable while the config names the same
    /// address, so a message queued before a reload still finds its contact.
    pub fn key(&self) -> String {
        match self {
            Contact::Email { to } => format!("email:{to}"),
            // A webhook's URL may itself be a secret (Slack's is): the key keeps a digest of
            // it, never the URL, since it is stored with every message.
            Contact::Webhook { url, format, .. } => match url {
                WebhookUrl::Given(url) => format!("{}:{}", format.as_str(), digest(url)),
                WebhookUrl::Secret(secret) => format!("{}:{}", format.as_str(), secret_key(secret)),
            },
        }
    }

    /// The channel, as the timeline and `stopline incident show` name it.
    pub fn channel(&self) -> &'static str {
        match self {
            Contact::Email { .. } => "email",
            Contact::Webhook { format, .. } => format.as_str(),
        }
    }

    /// Where it goes, without anything secret: the address, or a webhook's host.
    pub fn address(&self) -> String {
        match self {
            Contact::Email { to } => to.clone(),
            Contact::Webhook { url, .. } => match url {
                WebhookUrl::Given(url) => url_host(url).to_owned(),
                WebhookUrl::Secret(secret) => format!("the URL in {secret}"),
            },
        }
    }
}

/// 16 hex digits of the SHA-256 of `text`: tells URLs apart without keeping them.
fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn secret_key(secret: &SecretRef) -> String {
    match secret {
        SecretRef::Env(name) => format!("env:{name}"),
        SecretRef::Keyring(name) => format!("keyring:{name}"),
    }
}

/// A message as the timeline names it: `emailed aisha at aisha@example.org`, or `sent to
/// aisha's ntfy (ntfy.example.org)`.
pub fn described(person: &str, channel: &str, address: &str) -> String {
    if channel == "email" {
        format!("emailed {person} at {address}")
    } else {
        format!("sent to {person}'s {channel} ({address})")
    }
}

/// The host (and port) of an `http(s)://` URL, without any `user:password@` before it.
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// Whether `url` may carry pages: an `http(s)://` URL with a host, `https` unless it points at
/// this machine. `Err` says why not, without repeating the URL (it may be a secret).
pub fn check_webhook_url(url: &str) -> Result<String, &'static str> {
    let parsed = crate::settings::parse_http_url(url).ok_or("it is not an http(s) URL")?;
    if !parsed.starts_with("https://") && !is_loopback_host(url_host(&parsed)) {
        return Err("it is plain http to another machine: use https");
    }
    Ok(parsed)
}

/// Whether `host` (a name, an address, with or without a port) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `local@domain`, as SMTP relays accept it: printable ASCII in the local part, a domain of
/// letters, digits, dots and hyphens with at least one dot (or `localhost`).
pub fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '@' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '"' | '[' | ']' | '\\'
                )
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && (labels.len() >= 2 || domain.eq_ignore_ascii_case("localhost"))
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// `[paging]`: how pages reach people away from their desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingSettings {
    /// How long a page waits for a desktop of its person to show it before it goes to their
    /// contacts as well.
    pub desktop_grace: Duration,
    /// The public address acknowledge links start with (`https://stopline.example.org`),
    /// served by `stopline serve` (or a proxy in front of it); `None`: messages carry no link.
    pub ack_url_base: Option<String>,
    pub rate_limit: RateLimit,
}

pub const DEFAULT_DESKTOP_GRACE: Duration = Duration::from_secs(30);

impl Default for PagingSettings {
    fn default() -> Self {
        Self {
            desktop_grace: DEFAULT_DESKTOP_GRACE,
            ack_url_base: None,
            rate_limit: RateLimit::default(),
        }
    }
}

/// At most `messages` to one person (all their contacts together) within any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub messages: u32,
    pub per: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            messages: 20,
            per: Duration::from_secs(10 * 60),
        }
    }
}

/// `[smtp]`: the relay email pages go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// The sender, such as `Stopline <stopline@example.org>`.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<SecretRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587 by default).
    StartTls,
    /// TLS from the first byte (port 465 by default).
    Tls,
    /// No encryption: only to a relay on this machine (port 25 by default).
    None,
}

impl SmtpSecurity {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// One message to queue with a page: to which of the person's contacts, and from when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMessage {
    pub person: PersonId,
    /// [`Contact::key`].
    pub contact: String,
    pub channel: &'static str,
    pub address: String,
    /// Not sent before this: the page's time plus the desktop grace, or the page's time.
    pub hold_until: Timestamp,
    /// Why it is held (or not), for the timeline.
    pub why: &'static str,
}

/// The messages a page to `person` at `paged_at` queues for their contacts. `has_desktop`:
/// whether a desktop of theirs could show it (on a lone desktop, whether they sit at this one).
pub fn plan(
    config: &Config,
    person: &PersonId,
    paged_at: Timestamp,
    has_desktop: bool,
) -> Vec<PlannedMessage> {
    let Some(who) = config.person(person) else {
        return Vec::new();
    };
    if who.contacts.is_empty() {
        return Vec::new();
    }
    let out_of_hours = !config
        .workspace
        .working_hours
        .is_working_time(paged_at, &config.workspace.time_zone);
    let (hold_until, why) = if !has_desktop {
        (paged_at, "no desktop of theirs is signed in")
    } else if out_of_hours && who.contacts_first_out_of_hours {
        (
            paged_at,
            "out of hours, they asked for their contacts first",
        )
    } else {
        let grace =
            SignedDuration::try_from(config.paging.desktop_grace).unwrap_or(SignedDuration::ZERO);
        (
            paged_at.checked_add(grace).unwrap_or(paged_at),
            "unless their desktop shows it within the grace",
        )
    };
    who.contacts
        .iter()
        .map(|contact| PlannedMessage {
            person: person.clone(),
            contact: contact.key(),
            channel: contact.channel(),
            address: contact.address(),
            hold_until,
            why,
        })
        .collect()
}

/// What to send to one contact now, given what its person was sent recently and what is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// Each due message on its own.
    Each,
    /// One summary of every due message, in the window's last free place: more than the
    /// limit would otherwise go out.
    Summary,
    /// The window is full: nothing before this.
    Wait { until: Timestamp },
}

/// The rate rule: at most `limit.messages` to one person within any `limit.per`. While the
/// due messages fit with a place to spare, each goes on its own; otherwise what is due goes as
/// one summary, and what comes due after a full window waits for a place and is summarised
/// then. `sent` holds when the person's recent messages went (to any of their contacts),
/// oldest first.
pub fn batch(sent: &[Timestamp], due: usize, limit: RateLimit, now: Timestamp) -> Batch {
    let window = SignedDuration::try_from(limit.per).unwrap_or(SignedDuration::MAX);
    let recent: Vec<Timestamp> = sent
        .iter()
        .copied()
        .filter(|at| now.duration_since(*at) < window)
        .collect();
    let limit = usize::try_from(limit.messages.max(1)).unwrap_or(usize::MAX);
    if recent.len() >= limit {
        let oldest_to_leave = recent[recent.len() - limit];
        return Batch::Wait {
            until: oldest_to_leave.checked_add(window).unwrap_or(now),
        };
    }
    if recent.len() + due < limit {
        Batch::Each
    } else {
        Batch::Summary
    }
}

#[cfg(test)]
mod tests;

//! Settings for the running engine: how alerts group, where the webhook listens, which alert
//! sources to poll or accept, and when the alerting pipeline counts as blind. All optional in
//! config, with the defaults below; `stopline serve` with no config at all uses the defaults.

use std::net::SocketAddr;
use std::time::Duration;

use crate::ids::ApplicationId;

/// The webhook server's default address: loopback only, so nothing off this machine can reach it
/// unless configured.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9177";
/// Alertmanager's own limit is far below this; larger bodies are refused with 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Connections the webhook server serves at once; more wait in the kernel's queue.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// How long a client may take to send a request's head, and then its body.
pub const DEFAULT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
pub const DEFAULT_HEARTBEAT_ALERT: &str = "Watchdog";
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15);
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_UNREACHABLE_TIMEOUT: Duration = Duration::from_secs(2 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Labels whose values split an application's alerts into separate incidents.
    pub group_by: Vec<String>,
    /// Resolve an incident nobody acknowledged once all its alerts resolve.
    pub auto_resolve: bool,
    /// The alert name a source shows continuously to prove the pipeline works.
    pub heartbeat_alert: String,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            group_by: Vec::new(),
            auto_resolve: true,
            heartbeat_alert: DEFAULT_HEARTBEAT_ALERT.to_owned(),
        }
    }
}

/// How pages show on this desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationSettings {
    /// Show pages meant for teammates too, as ordinary (not critical) notifications.
    pub teammates: bool,
    /// More pages than this within a minute are shown as one summary notification.
    pub flood_threshold: u32,
}

pub const DEFAULT_FLOOD_THRESHOLD: u32 = 5;

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            teammates: false,
            flood_threshold: DEFAULT_FLOOD_THRESHOLD,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub listen: SocketAddr,
    /// Host names accepted in the `Host` header besides the loopback names.
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
    /// Connections served at once. A slow or idle client holds one until `read_timeout`.
    pub max_connections: usize,
    /// The time a client has to send the request's head, and again its body: a client that
    /// trickles bytes to hold connections open is cut off.
    pub read_timeout: std::time::Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("the default address parses"),
            allowed_hosts: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// How a desktop joined to a team hub behaves when the hub cannot be reached (`[hub]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HubSettings {
    /// After this long without the hub, a desktop polls the config's Alertmanagers itself,
    /// opens provisional incidents and pages its own person (docs/team.md).
    pub degraded_after: Duration,
}

pub const DEFAULT_DEGRADED_AFTER: Duration = Duration::from_secs(60);

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            degraded_after: DEFAULT_DEGRADED_AFTER,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSettings {
    /// The application whose team is told when the alerting pipeline goes blind. Without one,
    /// blindness shows in `stopline sources` and the log, but opens no incident.
    pub owner: Option<ApplicationId>,
    /// A source that has shown its heartbeat alert and then stops for this long is blind.
    pub heartbeat_timeout: Duration,
    /// A source unreachable for this long is blind.
    pub unreachable_timeout: Duration,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            owner: None,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            unreachable_timeout: DEFAULT_UNREACHABLE_TIMEOUT,
        }
    }
}

/// Where a secret is read from: never the config file itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable of the engine's process.
    Env(String),
    /// An entry of the OS keyring (Secret Service on Linux) under the service `stopline`,
    /// stored with `stopline secret set NAME`.
    Keyring(String),
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "environment variable {name}"),
            SecretRef::Keyring(name) => write!(f, "keyring entry {name:?}"),
        }
    }
}

/// An alert source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceConfig {
    /// Alerts are identified by (source name, fingerprint). Give the members of one Alertmanager
    /// HA pair one source, so each alert is stored once.
    pub name: String,
    pub kind: SourceKind,
}

/// Write-back to an Alertmanager: an acknowledged incident's alerts are silenced there, for
/// `silence_duration` at a time, extended while the incident stays acknowledged and expired when
/// it is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteBack {
    pub silence_duration: Duration,
}

pub const DEFAULT_SILENCE: Duration = Duration::from_secs(3600);
pub const MIN_SILENCE: Duration = Duration::from_secs(5 * 60);
pub const MAX_SILENCE: Duration = Duration::from_secs(7 * 24 * 3600);

impl Default for WriteBack {
    fn default() -> Self {
        Self {
            silence_duration: DEFAULT_SILENCE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Polled through its API v2; also the source of webhook deliveries to `/v1/alertmanager`.
    Alertmanager {
        urls: Vec<String>,
        poll_interval: Duration,
        /// A bearer token for the API, if it needs one.
        bearer_token: Option<SecretRef>,
        /// Whether acknowledging an incident silences its alerts here (`write_back = true`).
        write_back: Option<WriteBack>,
    },
    /// Events posted to `/v2/enqueue` with this source's routing key go to `application`.
    PagerDuty {
        application: ApplicationId,
        /// The routing key: a secret, never written in config.
        routing_key: SecretRef,
    },
}

impl SourceKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Alertmanager { .. } => "alertmanager",
            SourceKind::PagerDuty { .. } => "pagerduty",
        }
    }
}

/// `15s`, `5m`, `1h30m`, `500ms`, `2d`: whole numbers with units ms, s, m, h, d.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis_per = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return None,
        };
        total = total.checked_add(Duration::from_millis(number.checked_mul(millis_per)?))?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// An `http://` or `https://` URL with a host, without a trailing slash.
pub fn parse_http_url(text: &str) -> Option<String> {
    let trimmed = text.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    (!host.is_empty() && !host.contains(char::is_whitespace)).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("15s"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        for bad in ["", "15", "s", "1x", "-5s", "1.5s", "5 m"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        assert_eq!(
            parse_http_url("http://127.0.0.1:9093/").as_deref(),
            Some("http://127.0.0.1:9093")
        );
        assert_eq!(
            parse_http_url("https://am.example:443/prefix").as_deref(),
            Some("https://am.example:443/prefix")
        );
        for bad in ["127.0.0.1:9093", "ftp://x", "http://", "http:// x"] {
            assert_eq!(parse_http_url(bad), None, "{bad}");
        }
    }
}

//! Alerts as they arrive from a source, normalised.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Label name → value. Ordered, so a label set prints and hashes the same way every time.
pub type Labels = BTreeMap<String, String>;

/// A source's identity for an alert: Alertmanager's fingerprint, PagerDuty's dedup key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fingerprint {:?}: expected 1 to 255 printable characters", crate::text::shorten(.0, 64))]
pub struct FingerprintError(pub String);

impl Fingerprint {
    pub fn new(value: impl Into<String>) -> Result<Self, FingerprintError> {
        let value = value.into();
        if !value.is_empty() && value.len() <= 255 && !value.chars().any(char::is_control) {
            Ok(Self(value))
        } else {
            Err(FingerprintError(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = FingerprintError;
    fn try_from(value: String) -> Result<Self, FingerprintError> {
        Self::new(value)
    }
}

impl From<Fingerprint> for String {
    fn from(fingerprint: Fingerprint) -> String {
        fingerprint.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "firing" => Some(AlertState::Firing),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// One alert from one source. `(source, fingerprint)` identifies it: the same alert sent again
/// updates this record instead of creating another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The configured source's name (`alertmanager-eu`), or the route it came in on.
    pub source: String,
    pub fingerprint: Fingerprint,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub state: AlertState,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub generator_url: Option<String>,
    /// Extra links the source sent: Grafana's `dashboard`, `panel` and `silence` URLs.
    pub links: BTreeMap<String, String>,
    /// Silenced or inhibited at the source: recorded, but it pages nobody.
    pub muted: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// How much text one alert may carry. Senders stay far below these (Alertmanager label names
/// are identifiers, PagerDuty cuts a summary at 1,024 characters); the limits exist so that one
/// hostile or broken sender cannot fill the store or every screen with a single alert. Intake
/// refuses an alert beyond them with an error naming the field; nothing is cut silently.
pub mod limits {
    use super::Labels;

    /// A label's or annotation's name.
    pub const NAME_CHARS: usize = 256;
    /// A label's value. Labels route and title incidents: short by nature.
    pub const LABEL_VALUE_CHARS: usize = 2_048;
    /// An annotation's value: descriptions and runbook text may run longer.
    pub const ANNOTATION_VALUE_CHARS: usize = 16_384;
    /// Labels, or annotations, or links on one alert.
    pub const ENTRIES: usize = 128;
    /// A URL: the generator URL, a dashboard link.
    pub const URL_CHARS: usize = 4_096;
    /// A PagerDuty event's `payload.summary`, as PagerDuty itself limits it.
    pub const SUMMARY_CHARS: usize = 1_024;

    /// A text beyond its limit: `field` is the path below the alert (`labels.alertname`).
    #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
    #[error("{field}: {message}")]
    pub struct TooLong {
        pub field: String,
        pub message: String,
    }

    /// Refuses `text` longer than `max` characters, naming `field`.
    pub fn check_text(
        field: impl FnOnce() -> String,
        text: &str,
        max: usize,
    ) -> Result<(), TooLong> {
        // Counting stops at the limit: a 10 MB value costs no more than one at the limit.
        if text.chars().nth(max).is_some() {
            Err(TooLong {
                field: field(),
                message: format!("longer than {max} characters"),
            })
        } else {
            Ok(())
        }
    }

    /// Checks a label, annotation or link map named `set` (`labels`): the number of entries,
    /// each name, and each value against `max_value`.
    pub fn check_map(set: &str, map: &Labels, max_value: usize) -> Result<(), TooLong> {
        if map.len() > ENTRIES {
            return Err(TooLong {
                field: set.to_owned(),
                message: format!("{} entries, more than {ENTRIES}", map.len()),
            });
        }
        for (name, value) in map {
            // A name too long to print whole is named by its start.
            let short_name = || format!("{set}.{}", crate::text::shorten(name, 40));
            check_text(short_name, name, NAME_CHARS)?;
            check_text(|| format!("{set}.{name}"), value, max_value)?;
        }
        Ok(())
    }
}

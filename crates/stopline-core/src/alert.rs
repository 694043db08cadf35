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
#[error("invalid fingerprint {0:?}: expected 1 to 255 printable characters")]
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

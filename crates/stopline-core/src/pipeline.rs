//! Whether the alerting pipeline itself can be trusted: the health of each alert source (kept
//! by the store, so every process sees the same picture), and when a source makes Stopline
//! blind: unreachable for too long, or its heartbeat alert (`Watchdog`) gone quiet.

use jiff::{SignedDuration, Timestamp};

use crate::settings::PipelineSettings;

/// What is known about one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// Set while the source is failing: when the current run of failures began.
    pub failing_since: Option<Timestamp>,
    /// When the source last showed its heartbeat alert (`Watchdog`).
    pub heartbeat_seen_at: Option<Timestamp>,
}

impl SourceStatus {
    pub fn is_failing(&self) -> bool {
        self.failing_since.is_some()
    }
}

/// Why a source counts as blind at `now`, if it does.
pub fn blindness(
    status: &SourceStatus,
    settings: &PipelineSettings,
    now: Timestamp,
) -> Option<String> {
    let older_than = |at: Timestamp, limit: std::time::Duration| {
        SignedDuration::try_from(limit)
            .ok()
            .is_some_and(|limit| now.duration_since(at) > limit)
    };
    if let Some(since) = status.failing_since
        && older_than(since, settings.unreachable_timeout)
    {
        return Some(format!(
            "source {} unreachable since {since}: {}",
            status.name,
            status.last_error.as_deref().unwrap_or("no answer")
        ));
    }
    if let Some(seen) = status.heartbeat_seen_at
        && older_than(seen, settings.heartbeat_timeout)
    {
        return Some(format!(
            "source {} has not shown its heartbeat alert since {seen}",
            status.name
        ));
    }
    None
}

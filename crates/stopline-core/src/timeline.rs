//! The incident timeline: an append-only record of who did what, when.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::PersonId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Opened,
    Acknowledged,
    Resolved,
    Note,
    /// Alerts joined the incident or resolved.
    Alerts,
    /// Who was paged and why, a deferred callout, or an escalation that ran out.
    Paging,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Opened => "opened",
            TimelineKind::Acknowledged => "acknowledged",
            TimelineKind::Resolved => "resolved",
            TimelineKind::Note => "note",
            TimelineKind::Alerts => "alerts",
            TimelineKind::Paging => "paging",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "opened" => Some(TimelineKind::Opened),
            "acknowledged" => Some(TimelineKind::Acknowledged),
            "resolved" => Some(TimelineKind::Resolved),
            "note" => Some(TimelineKind::Note),
            "alerts" => Some(TimelineKind::Alerts),
            "paging" => Some(TimelineKind::Paging),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: Timestamp,
    /// Who did it; `None` when Stopline itself did (an alert opened the incident).
    pub who: Option<PersonId>,
    pub kind: TimelineKind,
    pub detail: String,
}

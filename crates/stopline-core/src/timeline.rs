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
    /// A checklist step changed (state, assignee), or the checklist started.
    Checklist,
    /// Someone took, handed over or left a role, or joined the swarm.
    Role,
    /// The severity changed: revised from money, or set by a person with a reason.
    Severity,
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
            TimelineKind::Checklist => "checklist",
            TimelineKind::Role => "role",
            TimelineKind::Severity => "severity",
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
            "checklist" => Some(TimelineKind::Checklist),
            "role" => Some(TimelineKind::Role),
            "severity" => Some(TimelineKind::Severity),
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

impl TimelineEvent {
    /// What paging did, said by Stopline itself: who was paged, a deferral, a message to a
    /// person's contacts and what became of it.
    pub fn paging(at: Timestamp, detail: String) -> Self {
        TimelineEvent {
            at,
            who: None,
            kind: TimelineKind::Paging,
            detail,
        }
    }
}

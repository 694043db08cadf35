//! Each alert source's health as people see it (`stopline sources`, the app's Sources view): the
//! polling state the store keeps, and what waits in its outbox.

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_store::Store;

use crate::Result;

/// One source: configured, polled, posting to the webhook, or with actions waiting for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceHealth {
    pub name: String,
    pub kind: String,
    pub url: Option<String>,
    /// `ok`, `failing`, or `unknown` before it first answered.
    pub state: &'static str,
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// While it fails: since when.
    pub failing_since: Option<Timestamp>,
    pub heartbeat_seen_at: Option<Timestamp>,
    /// Outbox actions (silences to create, extend or expire) still to send to it.
    pub waiting: u64,
    /// When the oldest of them was queued.
    pub waiting_since: Option<Timestamp>,
    /// Actions it refused for good, set aside.
    pub abandoned: u64,
    /// Why the outbox's last attempt failed, while actions wait.
    pub outbox_error: Option<String>,
}

impl SourceHealth {
    fn named(name: &str, kind: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: kind.to_owned(),
            url: None,
            state: "unknown",
            last_success: None,
            last_error: None,
            last_error_at: None,
            failing_since: None,
            heartbeat_seen_at: None,
            waiting: 0,
            waiting_since: None,
            abandoned: 0,
            outbox_error: None,
        }
    }

    /// "offline since 10:42 GMT, 3 actions waiting", with `when` formatting the time; `None`
    /// while the source is reachable and nothing waits.
    pub fn offline_summary(&self, when: impl Fn(Timestamp) -> String) -> Option<String> {
        let waiting = match self.waiting {
            0 => None,
            1 => Some("1 action waiting".to_owned()),
            n => Some(format!("{n} actions waiting")),
        };
        match (self.failing_since, waiting) {
            (Some(since), Some(waiting)) => {
                Some(format!("offline since {}, {waiting}", when(since)))
            }
            (Some(since), None) => Some(format!("offline since {}", when(since))),
            (None, Some(waiting)) => Some(waiting),
            (None, None) => None,
        }
    }
}

/// Every source the store knows of or the config names, by name.
pub fn source_health(store: &Store, config: Option<&Config>) -> Result<Vec<SourceHealth>> {
    let mut list: Vec<SourceHealth> = store
        .source_statuses()?
        .into_iter()
        .map(|s| SourceHealth {
            state: if s.is_failing() {
                "failing"
            } else if s.last_success.is_some() {
                "ok"
            } else {
                "unknown"
            },
            url: s.url,
            last_success: s.last_success,
            last_error: s.last_error,
            last_error_at: s.last_error_at,
            failing_since: s.failing_since,
            heartbeat_seen_at: s.heartbeat_seen_at,
            ..SourceHealth::named(&s.name, &s.kind)
        })
        .collect();
    // Configured sources that never reported yet are listed too, as unknown.
    for source in config.iter().flat_map(|c| &c.sources) {
        if !list.iter().any(|s| s.name == source.name) {
            list.push(SourceHealth::named(&source.name, source.kind.as_str()));
        }
    }
    for backlog in store.outbox_backlog()? {
        if !list.iter().any(|s| s.name == backlog.source) {
            list.push(SourceHealth::named(&backlog.source, "alertmanager"));
        }
        if let Some(entry) = list.iter_mut().find(|s| s.name == backlog.source) {
            entry.waiting = backlog.waiting;
            entry.waiting_since = backlog.oldest;
            entry.abandoned = backlog.abandoned;
            entry.outbox_error = backlog.last_error;
        }
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

//! The stream desktops keep open (`GET /v1/stream`, server-sent events): "pull now" whenever the
//! organisation's version moves, and each page addressed to the signed-in person as it is
//! recorded. It only wakes desktops sooner: a desktop that misses an event loses nothing,
//! because its next pull carries every change and page since its cookie.
//!
//! Each hub watches the version row with one cheap query every [`WATCH_EVERY`] (not
//! LISTEN/NOTIFY, which some PostgreSQL-compatible engines lack) and fans out to every stream
//! it serves; any replica's write is seen by every replica's streams.

use std::time::Duration;

use serde_json::{Value, json};
use stopline_core::ids::PersonId;
use tokio::sync::{broadcast, watch};

use crate::Result;
use crate::database::Database;
use crate::pull::page_json;

/// How often each hub looks at the organisation's version.
pub const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How many pages a slow stream may fall behind before it is told to pull instead.
const PAGE_BACKLOG: usize = 1024;

/// A page on its way to the streams of its person.
#[derive(Debug, Clone)]
pub(crate) struct StreamPage {
    pub person: String,
    pub page: Value,
}

/// What the streams of one hub listen to.
#[derive(Debug)]
pub(crate) struct Watcher {
    pub version: watch::Sender<i64>,
    pub pages: broadcast::Sender<StreamPage>,
}

impl Watcher {
    pub fn new() -> Self {
        Self {
            version: watch::channel(0).0,
            pages: broadcast::channel(PAGE_BACKLOG).0,
        }
    }
}

/// Watches the organisation's version until `stop`, telling the streams each change and
/// handing them the pages recorded with it. A failed look (the database away) is tried again.
pub(crate) async fn watch_versions(
    database: Database,
    watcher: std::sync::Arc<Watcher>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut seen: Option<i64> = None;
    let mut ticks = tokio::time::interval(WATCH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut stop => return,
        }
        match look(&database, &watcher, seen).await {
            Ok(now) => seen = Some(now),
            Err(error) => tracing::debug!(%error, "cannot read the organisation's version now"),
        }
    }
}

async fn look(database: &Database, watcher: &Watcher, seen: Option<i64>) -> Result<i64> {
    let now = database.org_version().await?;
    let Some(seen) = seen else {
        watcher.version.send_replace(now);
        return Ok(now);
    };
    if now <= seen {
        return Ok(seen);
    }
    for (person, page) in database.pages_between(seen, now).await? {
        // No stream listening is fine: the pull carries it.
        let _ = watcher.pages.send(StreamPage { person, page });
    }
    watcher.version.send_replace(now);
    Ok(now)
}

impl Database {
    /// The pages recorded after version `after` up to `until`, with their persons.
    pub(crate) async fn pages_between(
        &self,
        after: i64,
        until: i64,
    ) -> Result<Vec<(String, Value)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, incident_id, step, cycle, reason, paged_at, '{}'::text[], person
                 FROM pages WHERE version > $1 AND version <= $2 ORDER BY id",
                &[&after, &until],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let person: String = row.get(7);
                let id = PersonId::new(person.clone())
                    .map_err(|_| crate::rows::corrupt("a page's person"))?;
                Ok((person, page_json(row, &id)?))
            })
            .collect()
    }
}

/// One stream's next event: `pull` (with the version) or `page` (with the page).
pub(crate) fn pull_event(version: i64) -> (&'static str, Value) {
    ("pull", json!({ "version": version }))
}

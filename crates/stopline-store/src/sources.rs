//! The health of alert sources, kept in the store so every process (the engine, `stopline
//! sources`, the desktop app) sees the same picture.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use stopline_core::pipeline::SourceStatus;

use crate::{Result, Store, from_millis, to_millis};

impl Store {
    /// The source answered.
    pub fn record_source_success(
        &mut self,
        name: &str,
        kind: &str,
        url: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO sources (name, kind, url, last_success) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url,
                     last_success = excluded.last_success, failing_since = NULL",
            )?
            .execute(params![name, kind, url, to_millis(now)])?;
            Ok(())
        })
    }

    /// The source did not answer, or answered nonsense. Returns when it started failing.
    pub fn record_source_failure(
        &mut self,
        name: &str,
        kind: &str,
        url: Option<&str>,
        error: &str,
        now: Timestamp,
    ) -> Result<Timestamp> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO sources (name, kind, url, last_error, last_error_at, failing_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, url = excluded.url,
                     last_error = excluded.last_error, last_error_at = excluded.last_error_at,
                     failing_since = coalesce(sources.failing_since, excluded.failing_since)",
            )?
            .execute(params![name, kind, url, error, to_millis(now)])?;
            let since: i64 = tx
                .prepare_cached("SELECT failing_since FROM sources WHERE name = ?1")?
                .query_row([name], |row| row.get(0))?;
            from_millis(since)
        })
    }

    /// The source showed its heartbeat alert.
    pub fn record_heartbeat(&mut self, name: &str, kind: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO sources (name, kind, heartbeat_seen_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET heartbeat_seen_at = excluded.heartbeat_seen_at",
            )?
            .execute(params![name, kind, to_millis(now)])?;
            Ok(())
        })
    }

    pub fn source_status(&self, name: &str) -> Result<Option<SourceStatus>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SOURCE_COLUMNS} FROM sources WHERE name = ?1"
            ))?
            .query_row([name], read_source)
            .optional()?
            .transpose()
    }

    /// Every source ever recorded, by name.
    pub fn source_statuses(&self) -> Result<Vec<SourceStatus>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {SOURCE_COLUMNS} FROM sources ORDER BY name"
            ))?
            .query_map([], read_source)?
            .map(|row| row?)
            .collect()
    }
}

const SOURCE_COLUMNS: &str =
    "name, kind, url, last_success, last_error, last_error_at, failing_since, heartbeat_seen_at";

fn read_source(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SourceStatus>> {
    let time = |i: usize| -> rusqlite::Result<Option<i64>> { row.get(i) };
    let (success, error_at, failing, heartbeat) = (time(3)?, time(5)?, time(6)?, time(7)?);
    let name: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let url: Option<String> = row.get(2)?;
    let last_error: Option<String> = row.get(4)?;
    Ok((|| {
        Ok(SourceStatus {
            name,
            kind,
            url,
            last_success: success.map(from_millis).transpose()?,
            last_error,
            last_error_at: error_at.map(from_millis).transpose()?,
            failing_since: failing.map(from_millis).transpose()?,
            heartbeat_seen_at: heartbeat.map(from_millis).transpose()?,
        })
    })())
}

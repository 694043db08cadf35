//! Forward-only schema migrations. Each runs with its version bump in one transaction, so a crash
//! mid-migration leaves the previous version intact.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

/// Migration `i` brings the schema from version `i` to `i + 1`. Never edit one that has shipped:
/// add another.
const MIGRATIONS: &[&str] = &[
    // 1: incidents, their append-only timeline, and alerts keyed by (source, fingerprint).
    r#"
    CREATE TABLE incidents (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        application_id  TEXT,
        team_id         TEXT,
        title           TEXT NOT NULL,
        severity        TEXT NOT NULL CHECK (severity IN ('major', 'minor')),
        state           TEXT NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
        opened_at       INTEGER NOT NULL,
        opened_by       TEXT,
        acknowledged_at INTEGER,
        acknowledged_by TEXT,
        resolved_at     INTEGER,
        resolved_by     TEXT
    ) STRICT;
    CREATE INDEX incidents_open ON incidents (state) WHERE state <> 'resolved';

    CREATE TABLE timeline (
        id          INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        at          INTEGER NOT NULL,
        who         TEXT,
        kind        TEXT NOT NULL,
        detail      TEXT NOT NULL
    ) STRICT;
    CREATE INDEX timeline_by_incident ON timeline (incident_id, id);
    CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline
        BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
    CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
        BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;

    CREATE TABLE alerts (
        id            INTEGER PRIMARY KEY,
        source        TEXT NOT NULL,
        fingerprint   TEXT NOT NULL,
        labels        TEXT NOT NULL,
        annotations   TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        starts_at     INTEGER NOT NULL,
        ends_at       INTEGER,
        generator_url TEXT,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        incident_id   INTEGER REFERENCES incidents (id),
        UNIQUE (source, fingerprint)
    ) STRICT;
    "#,
    // 2: alert routing and muting, grouping incidents by key, and alert source health.
    r#"
    ALTER TABLE alerts ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE alerts ADD COLUMN links TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE alerts ADD COLUMN application_id TEXT;
    ALTER TABLE alerts ADD COLUMN team_id TEXT;
    CREATE INDEX alerts_by_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;
    CREATE INDEX alerts_unrouted ON alerts (last_seen) WHERE application_id IS NULL;

    ALTER TABLE incidents ADD COLUMN group_key TEXT;
    CREATE INDEX incidents_open_by_group ON incidents (group_key) WHERE state <> 'resolved';

    CREATE TABLE sources (
        name              TEXT PRIMARY KEY,
        kind              TEXT NOT NULL,
        url               TEXT,
        last_success      INTEGER,
        last_error        TEXT,
        last_error_at     INTEGER,
        failing_since     INTEGER,
        heartbeat_seen_at INTEGER
    ) STRICT;
    "#,
    // 3: a revision per alert, bumped by every change but `last_seen`, so a replayed delivery
    // can be recognised as a pure repeat without re-reading it.
    r#"
    ALTER TABLE alerts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    // An up-to-date store is the common case: check without the write lock, so opening a store to
    // read never waits for another process's write.
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Read inside the write lock, so two processes opening a new store migrate it once.
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

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
    // 4: paging. Every incident with an owning team gets an escalation in the same transaction
    // that opens it, and any change of state away from 'triggered' stops it in the transaction
    // that makes the change: triggers do both, so no code path can forget, and a crash between
    // "opened" and "paged" cannot lose the page. `pages` holds what escalation decided, one row
    // per person and step; `delivered_at` is set once this desktop has shown it.
    r#"
    CREATE TABLE escalations (
        incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),
        status      TEXT NOT NULL CHECK (status IN ('due', 'deferred', 'stopped', 'exhausted')),
        next_step   INTEGER NOT NULL DEFAULT 0,
        due_at      INTEGER NOT NULL,
        rota        TEXT,
        note        TEXT NOT NULL DEFAULT '',
        updated_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX escalations_due ON escalations (due_at) WHERE status IN ('due', 'deferred');
    CREATE TRIGGER escalation_starts AFTER INSERT ON incidents
        WHEN NEW.team_id IS NOT NULL AND NEW.state = 'triggered'
        BEGIN
            INSERT INTO escalations (incident_id, status, due_at, updated_at)
            VALUES (NEW.id, 'due', NEW.opened_at, NEW.opened_at);
        END;
    CREATE TRIGGER escalation_stops AFTER UPDATE OF state ON incidents
        WHEN NEW.state <> 'triggered'
        BEGIN
            UPDATE escalations SET status = 'stopped', note = 'stopped: ' || NEW.state
            WHERE incident_id = NEW.id AND status IN ('due', 'deferred');
        END;

    CREATE TABLE pages (
        id           INTEGER PRIMARY KEY,
        incident_id  INTEGER NOT NULL REFERENCES incidents (id),
        step         INTEGER NOT NULL,
        cycle        INTEGER NOT NULL,
        person       TEXT NOT NULL,
        reason       TEXT NOT NULL,
        paged_at     INTEGER NOT NULL,
        delivered_at INTEGER,
        UNIQUE (incident_id, step, person)
    ) STRICT;
    CREATE INDEX pages_undelivered ON pages (id) WHERE delivered_at IS NULL;

    CREATE TABLE desktop (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
    // 5: Stop The Line. Each incident's checklist, copied from its template when the swarm
    // starts; the roles people hold, with when they took and left them (at most one holder of
    // each lead role, and one open membership per responder, at a time: unique indexes); and
    // a person's severity override, whose reason stops the money-based revision.
    r#"
    CREATE TABLE checklist_steps (
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        position    INTEGER NOT NULL,
        step        TEXT NOT NULL,
        title       TEXT NOT NULL,
        required    INTEGER NOT NULL CHECK (required IN (0, 1)),
        runbook     TEXT,
        state       TEXT NOT NULL CHECK (state IN ('todo', 'doing', 'done', 'skipped')),
        assignee    TEXT,
        reason      TEXT,
        changed_at  INTEGER,
        changed_by  TEXT,
        PRIMARY KEY (incident_id, step)
    ) STRICT;

    CREATE TABLE roles (
        id          INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        role        TEXT NOT NULL CHECK (role IN ('commander', 'comms', 'scribe', 'responder')),
        person      TEXT NOT NULL,
        since       INTEGER NOT NULL,
        until       INTEGER,
        named_by    TEXT
    ) STRICT;
    CREATE UNIQUE INDEX roles_one_lead ON roles (incident_id, role)
        WHERE until IS NULL AND role <> 'responder';
    CREATE UNIQUE INDEX roles_one_membership ON roles (incident_id, person)
        WHERE until IS NULL AND role = 'responder';

    ALTER TABLE incidents ADD COLUMN severity_reason TEXT;
    "#,
    // 6: the outbox. Which sources take silences (`write_back`, copied from the config); the
    // actions waiting to reach them, queued by triggers in the very transaction of the change
    // that causes them (an acknowledgement silences the incident's firing alerts, and alerts that
    // join it later; leaving the acknowledged state expires them); and the silences that exist.
    r#"
    CREATE TABLE write_back (
        source          TEXT PRIMARY KEY,
        silence_seconds INTEGER NOT NULL CHECK (silence_seconds > 0)
    ) STRICT;

    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        source          TEXT NOT NULL,
        action          TEXT NOT NULL CHECK (action IN ('silence', 'extend', 'expire')),
        incident_id     INTEGER NOT NULL REFERENCES incidents (id),
        alert_id        INTEGER NOT NULL REFERENCES alerts (id),
        who             TEXT,
        created_at      INTEGER NOT NULL,
        status          TEXT NOT NULL DEFAULT 'waiting'
                            CHECK (status IN ('waiting', 'sent', 'abandoned')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        finished_at     INTEGER
    ) STRICT;
    CREATE INDEX outbox_waiting ON outbox (source, id) WHERE status = 'waiting';
    CREATE INDEX outbox_by_incident ON outbox (incident_id, alert_id);

    CREATE TABLE silences (
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        alert_id    INTEGER NOT NULL REFERENCES alerts (id),
        source      TEXT NOT NULL,
        silence_id  TEXT NOT NULL,
        ends_at     INTEGER NOT NULL,
        expired_at  INTEGER,
        PRIMARY KEY (incident_id, alert_id)
    ) STRICT;

    CREATE TRIGGER write_back_acknowledged AFTER UPDATE OF state ON incidents
        WHEN OLD.state = 'triggered' AND NEW.state = 'acknowledged'
        BEGIN
            INSERT INTO outbox (source, action, incident_id, alert_id, who, created_at,
                                next_attempt_at)
            SELECT a.source, 'silence', NEW.id, a.id, NEW.acknowledged_by, NEW.acknowledged_at,
                   NEW.acknowledged_at
            FROM alerts a JOIN write_back w ON w.source = a.source
            WHERE a.incident_id = NEW.id AND a.state = 'firing'
            ORDER BY a.id;
        END;
    CREATE TRIGGER write_back_arrived AFTER INSERT ON alerts
        WHEN NEW.incident_id IS NOT NULL AND NEW.state = 'firing'
        BEGIN
            INSERT INTO outbox (source, action, incident_id, alert_id, created_at, next_attempt_at)
            SELECT NEW.source, 'silence', i.id, NEW.id, NEW.last_seen, NEW.last_seen
            FROM incidents i JOIN write_back w ON w.source = NEW.source
            WHERE i.id = NEW.incident_id AND i.state = 'acknowledged';
        END;
    CREATE TRIGGER write_back_joined AFTER UPDATE OF incident_id ON alerts
        WHEN NEW.incident_id IS NOT NULL AND NEW.incident_id IS NOT OLD.incident_id
             AND NEW.state = 'firing'
        BEGIN
            INSERT INTO outbox (source, action, incident_id, alert_id, created_at, next_attempt_at)
            SELECT NEW.source, 'silence', i.id, NEW.id, NEW.last_seen, NEW.last_seen
            FROM incidents i JOIN write_back w ON w.source = NEW.source
            WHERE i.id = NEW.incident_id AND i.state = 'acknowledged';
        END;
    CREATE TRIGGER write_back_released AFTER UPDATE OF state ON incidents
        WHEN OLD.state = 'acknowledged' AND NEW.state <> 'acknowledged'
        BEGIN
            INSERT INTO outbox (source, action, incident_id, alert_id, who, created_at,
                                next_attempt_at)
            SELECT source, 'expire', NEW.id, alert_id, NEW.resolved_by,
                   COALESCE(NEW.resolved_at, NEW.acknowledged_at),
                   COALESCE(NEW.resolved_at, NEW.acknowledged_at)
            FROM (SELECT DISTINCT source, alert_id FROM outbox
                  WHERE incident_id = NEW.id AND action = 'silence' ORDER BY alert_id);
        END;
    "#,
    // 7: a loss figure a person gives with a severity override, which reports use instead of
    // exposure × duration.
    r#"
    ALTER TABLE incidents ADD COLUMN loss_override INTEGER CHECK (loss_override >= 0);
    "#,
    // 8: every severity an incident had, and since when, so a line it stopped while major is
    // still reported after it is lowered. Incidents from before start with their severity now.
    r#"
    CREATE TABLE severity_history (
        incident_id INTEGER NOT NULL REFERENCES incidents (id),
        severity    TEXT NOT NULL CHECK (severity IN ('major', 'minor')),
        since       INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX severity_history_by_incident ON severity_history (incident_id, since);
    INSERT INTO severity_history (incident_id, severity, since)
        SELECT id, severity, opened_at FROM incidents;
    "#,
    // 9: a desktop joined to a hub. Its store is a replica of the hub's incidents (rows keep the
    // hub's ids; timeline entries and role holdings also the hub's own id, `hub_id`) plus the
    // queue of its person's actions (`hub_mutations`), each applied here at once and marked
    // pending until the hub decides it. What an action wrote here carries its `mutation_id`, so
    // the hub's rows can take its place once decided. The timeline stays append-only for what
    // a desktop wrote on its own (both ids null): only replicated and pending entries may go,
    // and those of a provisional incident (one this desktop opened while its hub was away,
    // merged into the hub's when it returns). `mutation_id` 0 marks what the desktop wrote
    // while its hub was away, which the hub's account replaces when it returns.
    r#"
    ALTER TABLE incidents ADD COLUMN provisional INTEGER NOT NULL DEFAULT 0
        CHECK (provisional IN (0, 1));
    CREATE TABLE hub_mutations (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        args        TEXT NOT NULL,
        at          INTEGER NOT NULL,
        incident_id INTEGER,
        status      TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'applied', 'refused')),
        reason      TEXT,
        decided_at  INTEGER
    ) STRICT;
    CREATE INDEX hub_mutations_pending ON hub_mutations (id) WHERE status = 'pending';
    CREATE INDEX hub_mutations_by_incident ON hub_mutations (incident_id, id);

    ALTER TABLE timeline ADD COLUMN hub_id INTEGER;
    ALTER TABLE timeline ADD COLUMN mutation_id INTEGER;
    CREATE UNIQUE INDEX timeline_by_hub_id ON timeline (hub_id) WHERE hub_id IS NOT NULL;
    DROP TRIGGER timeline_no_update;
    CREATE TRIGGER timeline_no_update BEFORE UPDATE OF id, incident_id, at, who, kind, detail, hub_id
        ON timeline
        BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
    DROP TRIGGER timeline_no_delete;
    CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline
        WHEN OLD.hub_id IS NULL AND OLD.mutation_id IS NULL
             AND NOT EXISTS (SELECT 1 FROM incidents
                             WHERE id = OLD.incident_id AND provisional = 1)
        BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;

    ALTER TABLE roles ADD COLUMN hub_id INTEGER;
    ALTER TABLE roles ADD COLUMN mutation_id INTEGER;
    CREATE UNIQUE INDEX roles_by_hub_id ON roles (hub_id) WHERE hub_id IS NOT NULL;

    ALTER TABLE pages ADD COLUMN hub_id INTEGER;
    CREATE UNIQUE INDEX pages_by_hub_id ON pages (hub_id) WHERE hub_id IS NOT NULL;
    "#,
    // 10: the overrides a joined desktop's person and their teammates pushed to the hub (a
    // standalone desktop keeps its overrides in its config file). A row the hub sent has its
    // `hub_id`; one the person added here waits under its `mutation_id` until the hub decides,
    // when the hub's row takes its place. A provisional incident folded into the hub's is
    // remembered, so its number (shown to the person who opened it) still leads somewhere.
    r#"
    CREATE TABLE hub_overrides (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        hub_id      INTEGER UNIQUE,
        mutation_id INTEGER,
        rota        TEXT NOT NULL,
        layer       TEXT NOT NULL,
        person      TEXT NOT NULL,
        starts      INTEGER NOT NULL,
        ends        INTEGER NOT NULL
    ) STRICT;
    -- A provisional incident folded into the hub's: its number still leads to the incident.
    CREATE TABLE folded_incidents (
        provisional INTEGER PRIMARY KEY,
        hub         INTEGER NOT NULL
    ) STRICT;
    "#,
    // 11: pages beyond the desk. Each page to a person with contacts queues one message per
    // contact in the step's own transaction, held until `hold_until` (the desktop grace) and
    // dropped if their desktop shows the page before then. `sending` is the marker written
    // before a message leaves: a crash after it never sends an email twice. A summary (a flood
    // held by the rate limit) is a row of its own, with no incident, that the rows it stands
    // for point to. An acknowledge link, once used, is remembered by its message.
    r#"
    CREATE TABLE contact_messages (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id     INTEGER REFERENCES incidents (id),
        page_id         INTEGER REFERENCES pages (id),
        person          TEXT NOT NULL,
        contact         TEXT NOT NULL,
        channel         TEXT NOT NULL,
        address         TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('waiting', 'sending', 'sent',
                            'failed', 'not_needed', 'cancelled', 'summarised', 'unknown')),
        created_at      INTEGER NOT NULL,
        hold_until      INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        sending_since   INTEGER,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        outcome         TEXT,
        finished_at     INTEGER,
        summary_id      INTEGER REFERENCES contact_messages (id),
        UNIQUE (page_id, contact)
    ) STRICT;
    CREATE INDEX contact_messages_waiting ON contact_messages (next_attempt_at)
        WHERE status = 'waiting';
    CREATE INDEX contact_messages_sent ON contact_messages (person, finished_at)
        WHERE status = 'sent';
    CREATE INDEX contact_messages_by_incident ON contact_messages (incident_id);
    -- What the worker looks for four times a second: a marker left behind.
    CREATE INDEX contact_messages_sending ON contact_messages (sending_since)
        WHERE status = 'sending';
    CREATE TABLE ack_links_used (
        message_id  INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL,
        person      TEXT NOT NULL,
        used_at     INTEGER NOT NULL
    ) STRICT;
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

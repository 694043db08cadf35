//! The hub's schema and its forward-only migrations. The version lives in a one-row table,
//! `hub_schema`; a migration takes that row's lock (`FOR UPDATE`), so hubs starting together
//! migrate once, without advisory locks.

use deadpool_postgres::GenericClient;
use deadpool_postgres::Object;

use crate::Result;
use crate::error::{HubError, is_retryable};

/// Each migration, in order; the schema version is how many have run. Never edit one that has
/// shipped: add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the organisation's version (bumped by every write, so desktops pull changes in commit
    // order), and its incidents, their timelines and alerts. An alert is unique on its source
    // and fingerprint, so one delivered to two hubs at once is one alert; an incident group has
    // at most one open incident.
    r#"
    CREATE TABLE org_version (
        id      smallint PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
    );
    INSERT INTO org_version (id, version) VALUES (1, 0);

    CREATE TABLE incidents (
        id              bigserial PRIMARY KEY,
        application_id  text,
        team_id         text,
        title           text NOT NULL,
        severity        text NOT NULL CHECK (severity IN ('major', 'minor')),
        state           text NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
        opened_at       timestamptz NOT NULL,
        opened_by       text,
        acknowledged_at timestamptz,
        acknowledged_by text,
        resolved_at     timestamptz,
        resolved_by     text,
        group_key       text,
        severity_reason text,
        loss_override   bigint CHECK (loss_override >= 0),
        version         bigint NOT NULL
    );
    CREATE UNIQUE INDEX incidents_one_open_per_group ON incidents (group_key)
        WHERE state <> 'resolved' AND group_key IS NOT NULL;
    CREATE INDEX incidents_by_version ON incidents (version);

    CREATE TABLE timeline (
        id          bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incidents (id),
        at          timestamptz NOT NULL,
        who         text,
        kind        text NOT NULL,
        detail      text NOT NULL,
        version     bigint NOT NULL
    );
    CREATE INDEX timeline_by_incident ON timeline (incident_id, id);

    CREATE TABLE alerts (
        id             bigserial PRIMARY KEY,
        source         text NOT NULL,
        fingerprint    text NOT NULL,
        labels         text NOT NULL,
        annotations    text NOT NULL,
        links          text NOT NULL DEFAULT '{}',
        state          text NOT NULL CHECK (state IN ('firing', 'resolved')),
        starts_at      timestamptz NOT NULL,
        ends_at        timestamptz,
        generator_url  text,
        muted          boolean NOT NULL DEFAULT false,
        first_seen     timestamptz NOT NULL,
        last_seen      timestamptz NOT NULL,
        application_id text,
        team_id        text,
        incident_id    bigint REFERENCES incidents (id),
        version        bigint NOT NULL,
        UNIQUE (source, fingerprint)
    );
    CREATE INDEX alerts_by_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;
    "#,
    // 2: escalation, as on a desktop: an incident with a team starts one when it opens and
    // stops it when it leaves `triggered` (triggers, so no writer can forget). Every hub runs
    // escalation; a due step is claimed by one (`FOR UPDATE SKIP LOCKED`), and a page is unique
    // on (incident, step, cycle, person), so several hubs never page twice.
    r#"
    CREATE TABLE escalations (
        incident_id bigint PRIMARY KEY REFERENCES incidents (id),
        status      text NOT NULL CHECK (status IN ('due', 'deferred', 'stopped', 'exhausted')),
        next_step   integer NOT NULL DEFAULT 0,
        due_at      timestamptz NOT NULL,
        rota        text,
        note        text NOT NULL DEFAULT '',
        version     bigint NOT NULL
    );
    CREATE INDEX escalations_due ON escalations (due_at) WHERE status IN ('due', 'deferred');

    CREATE FUNCTION escalation_starts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO escalations (incident_id, status, due_at, version)
        VALUES (NEW.id, 'due', NEW.opened_at, NEW.version);
        RETURN NULL;
    END $$;
    CREATE TRIGGER escalation_starts AFTER INSERT ON incidents
        FOR EACH ROW WHEN (NEW.team_id IS NOT NULL AND NEW.state = 'triggered')
        EXECUTE FUNCTION escalation_starts();

    CREATE FUNCTION escalation_stops() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE escalations SET status = 'stopped', note = 'stopped: ' || NEW.state,
            version = NEW.version
        WHERE incident_id = NEW.id AND status IN ('due', 'deferred');
        RETURN NULL;
    END $$;
    CREATE TRIGGER escalation_stops AFTER UPDATE OF state ON incidents
        FOR EACH ROW WHEN (NEW.state <> 'triggered')
        EXECUTE FUNCTION escalation_stops();

    INSERT INTO escalations (incident_id, status, due_at, version)
        SELECT id, 'due', opened_at, version FROM incidents
        WHERE team_id IS NOT NULL AND state = 'triggered';

    CREATE TABLE pages (
        id          bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incidents (id),
        step        integer NOT NULL,
        cycle       integer NOT NULL,
        person      text NOT NULL,
        reason      text NOT NULL,
        paged_at    timestamptz NOT NULL,
        version     bigint NOT NULL,
        UNIQUE (incident_id, step, cycle, person)
    );
    "#,
    // 3: people's tokens, which desktops act with: only a hash of each is kept, so a copy of
    // the database lets nobody act as anyone.
    r#"
    CREATE TABLE tokens (
        id         bigserial PRIMARY KEY,
        person     text NOT NULL,
        hash       bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
    );
    "#,
    // 4: what desktops do, and what they need to pull. Each desktop is one person's, and its
    // last mutation id says what it has pushed; every mutation's outcome (or an admin's
    // command) is an audit row; the swarm's checklist steps and roles; notes are timeline rows
    // with the id their desktop made; a page's "shown" receipts. `org_id` names this
    // database's history, so a desktop's cookie from another (a restored backup) starts a
    // full resync.
    r#"
    ALTER TABLE org_version ADD COLUMN org_id text NOT NULL DEFAULT gen_random_uuid()::text;

    CREATE TABLE desktops (
        id               text PRIMARY KEY,
        person           text NOT NULL,
        last_mutation_id bigint NOT NULL DEFAULT 0,
        first_seen       timestamptz NOT NULL,
        last_seen        timestamptz NOT NULL
    );

    CREATE TABLE audit (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL,
        made_at     timestamptz,
        person      text,
        desktop_id  text,
        mutation_id bigint,
        name        text NOT NULL,
        args        jsonb NOT NULL,
        incident_id bigint,
        outcome     text NOT NULL CHECK (outcome IN ('applied', 'refused')),
        reason      text,
        version     bigint NOT NULL,
        UNIQUE (desktop_id, mutation_id)
    );
    CREATE INDEX audit_by_desktop ON audit (desktop_id, version);

    CREATE TABLE checklist_steps (
        incident_id bigint NOT NULL REFERENCES incidents (id),
        position    integer NOT NULL,
        step        text NOT NULL,
        title       text NOT NULL,
        required    boolean NOT NULL,
        runbook     text,
        state       text NOT NULL CHECK (state IN ('todo', 'doing', 'done', 'skipped')),
        assignee    text,
        reason      text,
        changed_by  text,
        changed_at  timestamptz,
        version     bigint NOT NULL,
        PRIMARY KEY (incident_id, step)
    );
    CREATE INDEX checklist_by_version ON checklist_steps (version);

    CREATE TABLE roles (
        id          bigserial PRIMARY KEY,
        incident_id bigint NOT NULL REFERENCES incidents (id),
        role        text NOT NULL CHECK (role IN ('commander', 'comms', 'scribe', 'responder')),
        person      text NOT NULL,
        since       timestamptz NOT NULL,
        until       timestamptz,
        named_by    text,
        version     bigint NOT NULL
    );
    CREATE UNIQUE INDEX roles_one_lead ON roles (incident_id, role)
        WHERE until IS NULL AND role <> 'responder';
    CREATE UNIQUE INDEX roles_one_responding ON roles (incident_id, person)
        WHERE until IS NULL AND role = 'responder';
    CREATE INDEX roles_by_version ON roles (version);

    ALTER TABLE timeline ADD COLUMN desktop_id text, ADD COLUMN note_id text;
    CREATE UNIQUE INDEX timeline_one_note ON timeline (desktop_id, note_id)
        WHERE note_id IS NOT NULL;
    CREATE INDEX timeline_by_version ON timeline (version);
    CREATE INDEX alerts_by_version ON alerts (version);
    CREATE INDEX pages_by_version ON pages (version);

    CREATE TABLE page_receipts (
        page_id    bigint NOT NULL REFERENCES pages (id),
        desktop_id text NOT NULL,
        shown_at   timestamptz NOT NULL,
        version    bigint NOT NULL,
        PRIMARY KEY (page_id, desktop_id)
    );
    CREATE INDEX page_receipts_by_version ON page_receipts (version);
    "#,
    // 5: overrides added from desktops, merged with the config's rotas for escalation and the
    // on-call view; who added each is in the audit.
    r#"
    CREATE TABLE overrides (
        id         bigserial PRIMARY KEY,
        rota       text NOT NULL,
        layer      text NOT NULL,
        person     text NOT NULL,
        starts     timestamptz NOT NULL,
        ends       timestamptz NOT NULL CHECK (ends > starts),
        added_by   text NOT NULL,
        added_at   timestamptz NOT NULL,
        version    bigint NOT NULL
    );
    CREATE INDEX overrides_by_end ON overrides (ends);
    CREATE INDEX overrides_by_version ON overrides (version);
    "#,
    // 6: which hub polls which Alertmanager source next: a hub claims a source's poll by moving
    // its `due_at` on, so one hub polls it per interval however many run.
    r#"
    CREATE TABLE source_polls (
        source      text PRIMARY KEY,
        due_at      timestamptz NOT NULL,
        polled_at   timestamptz,
        last_error  text
    );
    "#,
    // 7: write-back, as on a desktop (its store's migration 6). Which sources take silences
    // (`write_back`, from the config of the hubs); the actions waiting to reach them, queued by
    // triggers in the transaction of the change that causes them (an acknowledgement silences
    // the incident's firing alerts, and alerts that join it later; leaving `acknowledged`
    // expires them); and the silences that exist. A hub serves a source's queue while it holds
    // the source's `write_back` row (`FOR UPDATE SKIP LOCKED`), so each source's actions go out
    // in order, from one hub at a time.
    r#"
    CREATE TABLE write_back (
        source          text PRIMARY KEY,
        silence_seconds integer NOT NULL CHECK (silence_seconds > 0)
    );

    CREATE TABLE outbox (
        id              bigserial PRIMARY KEY,
        source          text NOT NULL,
        action          text NOT NULL CHECK (action IN ('silence', 'extend', 'expire')),
        incident_id     bigint NOT NULL REFERENCES incidents (id),
        alert_id        bigint NOT NULL REFERENCES alerts (id),
        who             text,
        created_at      timestamptz NOT NULL,
        status          text NOT NULL DEFAULT 'waiting'
                            CHECK (status IN ('waiting', 'sent', 'abandoned')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error      text,
        finished_at     timestamptz
    );
    CREATE INDEX outbox_waiting ON outbox (source, id) WHERE status = 'waiting';
    CREATE INDEX outbox_by_incident ON outbox (incident_id, alert_id);

    CREATE TABLE silences (
        incident_id bigint NOT NULL REFERENCES incidents (id),
        alert_id    bigint NOT NULL REFERENCES alerts (id),
        source      text NOT NULL,
        silence_id  text NOT NULL,
        ends_at     timestamptz NOT NULL,
        expired_at  timestamptz,
        PRIMARY KEY (incident_id, alert_id)
    );

    CREATE FUNCTION write_back_acknowledged() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO outbox (source, action, incident_id, alert_id, who, created_at,
                            next_attempt_at)
        SELECT a.source, 'silence', NEW.id, a.id, NEW.acknowledged_by, NEW.acknowledged_at,
               NEW.acknowledged_at
        FROM alerts a JOIN write_back w ON w.source = a.source
        WHERE a.incident_id = NEW.id AND a.state = 'firing'
        ORDER BY a.id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER write_back_acknowledged AFTER UPDATE OF state ON incidents
        FOR EACH ROW WHEN (OLD.state = 'triggered' AND NEW.state = 'acknowledged')
        EXECUTE FUNCTION write_back_acknowledged();

    CREATE FUNCTION write_back_joined() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO outbox (source, action, incident_id, alert_id, created_at, next_attempt_at)
        SELECT NEW.source, 'silence', i.id, NEW.id, NEW.last_seen, NEW.last_seen
        FROM incidents i JOIN write_back w ON w.source = NEW.source
        WHERE i.id = NEW.incident_id AND i.state = 'acknowledged';
        RETURN NULL;
    END $$;
    CREATE TRIGGER write_back_arrived AFTER INSERT ON alerts
        FOR EACH ROW WHEN (NEW.incident_id IS NOT NULL AND NEW.state = 'firing')
        EXECUTE FUNCTION write_back_joined();
    CREATE TRIGGER write_back_joined AFTER UPDATE OF incident_id ON alerts
        FOR EACH ROW WHEN (NEW.incident_id IS NOT NULL
            AND NEW.incident_id IS DISTINCT FROM OLD.incident_id AND NEW.state = 'firing')
        EXECUTE FUNCTION write_back_joined();

    CREATE FUNCTION write_back_released() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO outbox (source, action, incident_id, alert_id, who, created_at,
                            next_attempt_at)
        SELECT source, 'expire', NEW.id, alert_id, NEW.resolved_by,
               COALESCE(NEW.resolved_at, NEW.acknowledged_at),
               COALESCE(NEW.resolved_at, NEW.acknowledged_at)
        FROM (SELECT DISTINCT source, alert_id FROM outbox
              WHERE incident_id = NEW.id AND action = 'silence') AS silenced
        ORDER BY alert_id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER write_back_released AFTER UPDATE OF state ON incidents
        FOR EACH ROW WHEN (OLD.state = 'acknowledged' AND NEW.state <> 'acknowledged')
        EXECUTE FUNCTION write_back_released();
    "#,
    // 8: an incident opened by hand on a desktop (`open_incident`) names the desktop and the
    // mutation that opened it, so that desktop folds its provisional copy into the hub's.
    r#"
    ALTER TABLE incidents ADD COLUMN opened_by_desktop text;
    ALTER TABLE incidents ADD COLUMN opened_by_mutation bigint;
    "#,
    // 9: pages beyond the desk, as on a desktop (its store's migration 11): one message per
    // contact of a paged person, queued with the escalation step, held for the desktop grace
    // and dropped when a desktop of theirs receipts the page within it. `sending_since` is the
    // marker written before a message leaves: a hub that died meanwhile leaves it, and after
    // twice the send timeout another treats it as interrupted. The link key signs acknowledge
    // links; a used link is remembered by its message.
    r#"
    CREATE TABLE contact_messages (
        id              bigserial PRIMARY KEY,
        incident_id     bigint REFERENCES incidents (id),
        page_id         bigint REFERENCES pages (id),
        person          text NOT NULL,
        contact         text NOT NULL,
        channel         text NOT NULL,
        address         text NOT NULL,
        status          text NOT NULL CHECK (status IN ('waiting', 'sending', 'sent', 'failed',
                            'not_needed', 'cancelled', 'summarised', 'unknown')),
        created_at      timestamptz NOT NULL,
        hold_until      timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        sending_since   timestamptz,
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        outcome         text,
        finished_at     timestamptz,
        summary_id      bigint REFERENCES contact_messages (id),
        UNIQUE (page_id, contact)
    );
    CREATE INDEX contact_messages_waiting ON contact_messages (next_attempt_at)
        WHERE status = 'waiting';
    CREATE INDEX contact_messages_sent ON contact_messages (person, finished_at)
        WHERE status = 'sent';
    -- What each hub looks for four times a second: a marker a dead hub left behind.
    CREATE INDEX contact_messages_sending ON contact_messages (sending_since)
        WHERE status = 'sending';
    CREATE TABLE ack_links_used (
        message_id  bigint PRIMARY KEY,
        incident_id bigint NOT NULL,
        person      text NOT NULL,
        used_at     timestamptz NOT NULL
    );
    CREATE TABLE hub_keys (
        name  text PRIMARY KEY,
        value text NOT NULL
    );
    -- 244 bits from PostgreSQL's strong random source (two version 4 UUIDs).
    INSERT INTO hub_keys (name, value)
        VALUES ('ack_links', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
    "#,
];

/// What a migration did: the schema version before and after (equal when it was up to date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i64,
    pub to: i64,
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How many times a migration is tried when it collides with another hub's.
const ATTEMPTS: usize = 10;

pub(crate) async fn migrate(client: &mut Object) -> Result<Migrated> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match migrate_once(client).await {
            Err(HubError::Database(e)) if attempt < ATTEMPTS && collided(&e) => continue,
            other => return other,
        }
    }
}

/// Two hubs migrating an empty database at once may both create `hub_schema`, though each asks
/// `IF NOT EXISTS`: one wins, the other gets "already exists" (of the table or of its row type)
/// or a unique violation on the catalogue, and tries again, finding it made.
fn collided(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    is_retryable(error)
        || error.code().is_some_and(|c| {
            *c == SqlState::UNIQUE_VIOLATION
                || *c == SqlState::DUPLICATE_TABLE
                || *c == SqlState::DUPLICATE_OBJECT
        })
}

async fn migrate_once(client: &mut Object) -> Result<Migrated> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS hub_schema (
                 id      smallint PRIMARY KEY CHECK (id = 1),
                 version bigint NOT NULL
             );
             INSERT INTO hub_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;",
        )
        .await?;
    let tx = client.transaction().await?;
    // Waits for any other hub migrating now, then reads what it left.
    let from: i64 = tx
        .query_one(
            "SELECT version FROM hub_schema WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await?
        .get(0);
    if from > SCHEMA_VERSION {
        return Err(HubError::NewerSchema {
            found: from,
            known: SCHEMA_VERSION,
        });
    }
    let start = usize::try_from(from).unwrap_or(0);
    for sql in &MIGRATIONS[start..] {
        tx.batch_execute(sql).await?;
    }
    tx.execute(
        "UPDATE hub_schema SET version = $1 WHERE id = 1",
        &[&SCHEMA_VERSION],
    )
    .await?;
    tx.commit().await?;
    Ok(Migrated {
        from,
        to: SCHEMA_VERSION,
    })
}

/// The schema version now: 0 for a database no hub has migrated.
pub(crate) async fn version(client: &impl GenericClient) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('hub_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one("SELECT version FROM hub_schema WHERE id = 1", &[])
        .await?
        .get(0))
}

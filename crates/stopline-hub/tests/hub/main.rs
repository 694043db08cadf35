//! The hub against a real PostgreSQL the tests start (Debian's `postgresql`, `initdb` and
//! `pg_ctl` in a temporary directory, on a loopback port). One test binary; each test its own
//! server, so they run side by side.

use stopline_hub::{Database, HubError, Migrated, SCHEMA_VERSION};
use stopline_tests::postgres::Postgres;

mod escalation;
mod intake;
mod protocol;
mod server;
mod writeback;

fn server() -> (tempfile::TempDir, Postgres) {
    let dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(dir.path());
    (dir, postgres)
}

/// A server with one migrated database, `hub`.
async fn migrated() -> (tempfile::TempDir, Postgres, Database) {
    let (dir, postgres) = server();
    let db = Database::new(&postgres.create_database("hub")).unwrap();
    db.migrate().await.unwrap();
    (dir, postgres, db)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_database_is_migrated_once_and_again_changes_nothing() {
    let (_dir, postgres) = server();
    let url = postgres.create_database("hub");
    let db = Database::new(&url).unwrap();
    assert_eq!(db.schema_version().await.unwrap(), 0);
    assert_eq!(
        db.migrate().await.unwrap(),
        Migrated {
            from: 0,
            to: SCHEMA_VERSION
        }
    );
    assert_eq!(db.schema_version().await.unwrap(), SCHEMA_VERSION);
    let tables = postgres.psql(
        "hub",
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'",
    );
    assert_eq!(
        tables,
        "ack_links_used,alerts,audit,checklist_steps,contact_messages,desktops,escalations,\
         hub_keys,hub_schema,incidents,org_version,outbox,overrides,page_receipts,pages,roles,\
         silences,source_polls,timeline,tokens,write_back"
    );
    assert_eq!(
        db.migrate().await.unwrap(),
        Migrated {
            from: SCHEMA_VERSION,
            to: SCHEMA_VERSION
        },
        "already up to date"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hubs_migrating_at_once_migrate_once() {
    let (_dir, postgres) = server();
    let url = postgres.create_database("hub");
    let hubs: Vec<_> = (0..4)
        .map(|_| {
            let db = Database::new(&url).unwrap();
            tokio::spawn(async move { db.migrate().await })
        })
        .collect();
    let mut from_empty = 0;
    for hub in hubs {
        let migrated = hub.await.unwrap().unwrap();
        assert_eq!(migrated.to, SCHEMA_VERSION);
        if migrated.from == 0 {
            from_empty += 1;
        }
    }
    assert_eq!(from_empty, 1, "exactly one hub did the work");
    assert_eq!(
        postgres.psql("hub", "SELECT count(*) FROM org_version"),
        "1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_schema_is_refused_and_left_as_it_is() {
    let (_dir, postgres) = server();
    let url = postgres.create_database("hub");
    let db = Database::new(&url).unwrap();
    db.migrate().await.unwrap();
    postgres.psql("hub", "UPDATE hub_schema SET version = 99");
    let error = db.migrate().await.unwrap_err();
    assert!(
        matches!(error, HubError::NewerSchema { found: 99, known } if known == SCHEMA_VERSION),
        "{error}"
    );
    assert!(error.to_string().contains("upgrade Stopline"), "{error}");
    assert_eq!(postgres.psql("hub", "SELECT version FROM hub_schema"), "99");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_or_unreachable_database_says_so_without_its_password() {
    let error = Database::new("not a url at all").unwrap_err();
    assert!(error.is_usage(), "{error}");
    assert!(
        error.to_string().starts_with("not a PostgreSQL URL"),
        "{error}"
    );

    let port = stopline_tests::free_port();
    let db = Database::new(&format!("postgres://hub:s3cret@127.0.0.1:{port}/org")).unwrap();
    assert_eq!(db.target(), format!("127.0.0.1:{port}/org"));
    let error = db.migrate().await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}/org: "
        )),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    assert!(!error.is_usage());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_kept_only_as_its_hash_and_stops_working_when_revoked() {
    let (_dir, postgres, db) = migrated().await;
    let ben = stopline_core::ids::PersonId::new("ben").unwrap();
    let now: jiff::Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let made = db.create_token(&ben, None, now).await.unwrap();
    assert_eq!(made.token.len(), 64);
    assert!(
        !format!("{made:?}").contains(&made.token),
        "never in a debug print"
    );
    assert_eq!(
        db.person_of_token(&made.token).await.unwrap(),
        Some(ben.clone())
    );
    assert_eq!(db.person_of_token("not a token").await.unwrap(), None);
    // Nothing in the database is the token: only its hash.
    let dump = postgres.psql("hub", "SELECT string_agg(t::text, ' ') FROM tokens t");
    assert!(!dump.contains(&made.token), "{dump}");
    let listed = db.tokens().await.unwrap();
    assert_eq!(
        (listed[0].id, &listed[0].person, listed[0].revoked_at),
        (made.id, &ben, None)
    );
    assert!(db.revoke_token(made.id, None, now).await.unwrap());
    assert!(!db.revoke_token(made.id, None, now).await.unwrap(), "once");
    assert_eq!(db.person_of_token(&made.token).await.unwrap(), None);
    assert_eq!(db.tokens().await.unwrap()[0].revoked_at, Some(now));
}

//! The file itself: migrations, a newer schema refused, readers beside a writer, backups.

use crate::*;

#[test]
fn an_empty_database_migrates_to_the_current_schema_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopline.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        stopline_store::SCHEMA_VERSION
    );
    assert_eq!(store.integrity_problems().unwrap(), None);
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(
        again.schema_version().unwrap(),
        stopline_store::SCHEMA_VERSION
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_store_from_a_newer_stopline_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopline.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "nothing was created in a store we refused");
}

#[test]
fn source_health_survives_across_processes() {
    let (dir, mut store) = temp_store();
    store
        .record_source_success("am", "alertmanager", Some("http://127.0.0.1:9093"), at(T0))
        .unwrap();
    let since = store
        .record_source_failure("am", "alertmanager", None, "connection refused", at(T1))
        .unwrap();
    let again = store
        .record_source_failure("am", "alertmanager", None, "timed out", at(T2))
        .unwrap();
    assert_eq!(
        (since, again),
        (at(T1), at(T1)),
        "failing since the first failure"
    );
    let other = Store::open(&dir.path().join("stopline.db")).unwrap();
    let status = other.source_status("am").unwrap().unwrap();
    assert!(status.is_failing());
    assert_eq!(status.last_success, Some(at(T0)));
    assert_eq!(status.last_error.as_deref(), Some("timed out"));
    store
        .record_source_success("am", "alertmanager", None, at(T2))
        .unwrap();
    assert!(!other.source_status("am").unwrap().unwrap().is_failing());
}

#[test]
fn readers_are_not_blocked_by_a_writer() {
    let (dir, mut store) = temp_store();
    store
        .open_incident(new_incident("x"), at("2026-11-27T10:00:00Z"))
        .unwrap();
    let writer = rusqlite::Connection::open(dir.path().join("stopline.db")).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE; INSERT INTO incidents (title, severity, state, opened_at) VALUES ('held', 'minor', 'triggered', 0);").unwrap();
    let reader = Store::open(&dir.path().join("stopline.db")).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        reader.incidents(IncidentFilter::All).unwrap().len(),
        1,
        "the uncommitted row is not visible"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the read waited for the writer"
    );
    writer.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_backup_is_a_sound_copy_taken_while_the_store_is_open() {
    let (dir, mut store) = temp_store();
    let incident = store
        .open_incident(new_incident("Checkout down"), at(T0))
        .unwrap();
    assert_eq!(store.integrity_problems().unwrap(), None);
    let copy = dir.path().join("backup.db");
    store.backup_to(&copy).unwrap();
    assert!(
        !dir.path().join("backup.db-wal").exists(),
        "one self-contained file"
    );
    store
        .transition(
            incident.id,
            Transition::Acknowledge,
            &person("alice"),
            at(T1),
        )
        .unwrap();
    let restored = Store::open(&copy).unwrap();
    assert_eq!(restored.integrity_problems().unwrap(), None);
    assert_eq!(
        restored.incident(incident.id).unwrap().incident.state,
        IncidentState::Triggered,
        "the copy is the moment it was taken"
    );
}

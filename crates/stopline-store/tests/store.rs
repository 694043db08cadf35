//! The store against a real SQLite file.

use std::collections::BTreeMap;

use jiff::Timestamp;
use stopline_core::alert::{Alert, AlertState, Fingerprint, Labels};
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity, Transition};
use stopline_core::timeline::TimelineKind;
use stopline_store::{IncidentFilter, NewIncident, Store, StoreError};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn new_incident(title: &str) -> NewIncident {
    NewIncident {
        application: Some(ApplicationId::new("checkout-api").unwrap()),
        team: Some(TeamId::new("payments").unwrap()),
        title: title.to_owned(),
        severity: Severity::Major,
        opened_by: Some(person("desk1")),
    }
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("stopline.db")).unwrap();
    (dir, store)
}

#[test]
fn an_empty_database_migrates_to_the_current_schema_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopline.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), 1);
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.schema_version().unwrap(), 1);
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
fn open_acknowledge_resolve_records_who_and_when() {
    let (_dir, mut store) = temp_store();
    let opened = store
        .open_incident(new_incident("Checkout failing"), at("2026-11-27T10:00:00Z"))
        .unwrap();
    assert_eq!(opened.id, IncidentId(1));
    assert_eq!(opened.state, IncidentState::Triggered);
    store
        .transition(
            opened.id,
            Transition::Acknowledge,
            &person("alice"),
            at("2026-11-27T10:03:00Z"),
        )
        .unwrap();
    let resolved = store
        .transition(
            opened.id,
            Transition::Resolve,
            &person("bob"),
            at("2026-11-27T10:40:00Z"),
        )
        .unwrap();
    assert_eq!(resolved.state, IncidentState::Resolved);

    let detail = store.incident(opened.id).unwrap();
    assert_eq!(detail.incident, resolved);
    let kinds: Vec<_> = detail
        .timeline
        .iter()
        .map(|e| (e.kind, e.who.clone(), e.at))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                TimelineKind::Opened,
                Some(person("desk1")),
                at("2026-11-27T10:00:00Z")
            ),
            (
                TimelineKind::Acknowledged,
                Some(person("alice")),
                at("2026-11-27T10:03:00Z")
            ),
            (
                TimelineKind::Resolved,
                Some(person("bob")),
                at("2026-11-27T10:40:00Z")
            ),
        ]
    );
}

#[test]
fn an_invalid_transition_changes_nothing() {
    let (_dir, mut store) = temp_store();
    let id = store
        .open_incident(new_incident("Login down"), at("2026-11-27T10:00:00Z"))
        .unwrap()
        .id;
    store
        .transition(
            id,
            Transition::Resolve,
            &person("alice"),
            at("2026-11-27T10:05:00Z"),
        )
        .unwrap();
    let before = store.incident(id).unwrap();
    let err = store
        .transition(
            id,
            Transition::Acknowledge,
            &person("bob"),
            at("2026-11-27T10:06:00Z"),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Transition(_)), "{err}");
    assert_eq!(store.incident(id).unwrap(), before);
}

#[test]
fn unknown_incidents_are_not_found_and_nothing_is_written() {
    let (_dir, mut store) = temp_store();
    for id in [IncidentId(42), IncidentId(u64::MAX)] {
        assert!(matches!(store.incident(id), Err(StoreError::IncidentNotFound(i)) if i == id));
        assert!(matches!(
            store.add_note(id, &person("alice"), "hello", at("2026-11-27T10:00:00Z")),
            Err(StoreError::IncidentNotFound(_))
        ));
    }
    assert!(store.incidents(IncidentFilter::All).unwrap().is_empty());
}

#[test]
fn lists_filter_by_state_newest_first() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-11-27T10:00:00Z");
    let a = store.open_incident(new_incident("a"), now).unwrap().id;
    let b = store.open_incident(new_incident("b"), now).unwrap().id;
    let c = store.open_incident(new_incident("c"), now).unwrap().id;
    store
        .transition(a, Transition::Resolve, &person("x"), now)
        .unwrap();
    store
        .transition(b, Transition::Acknowledge, &person("x"), now)
        .unwrap();
    let ids = |filter| -> Vec<IncidentId> {
        store
            .incidents(filter)
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect()
    };
    assert_eq!(ids(IncidentFilter::Open), vec![c, b]);
    assert_eq!(ids(IncidentFilter::All), vec![c, b, a]);
    assert_eq!(ids(IncidentFilter::State(IncidentState::Resolved)), vec![a]);
    assert_eq!(
        ids(IncidentFilter::State(IncidentState::Triggered)),
        vec![c]
    );
}

#[test]
fn the_timeline_is_append_only() {
    let (dir, mut store) = temp_store();
    let id = store
        .open_incident(new_incident("x"), at("2026-11-27T10:00:00Z"))
        .unwrap()
        .id;
    store
        .add_note(
            id,
            &person("alice"),
            "rolled back",
            at("2026-11-27T10:01:00Z"),
        )
        .unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("stopline.db")).unwrap();
    let update = conn.execute("UPDATE timeline SET detail = 'rewritten'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM timeline", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.incident(id).unwrap().timeline.len(), 2);
}

fn alert(fingerprint: &str, state: AlertState, seen: Timestamp) -> Alert {
    let labels: Labels = [("alertname", "HighErrorRate"), ("service", "checkout-api")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Alert {
        source: "alertmanager".into(),
        fingerprint: Fingerprint::new(fingerprint).unwrap(),
        labels,
        annotations: BTreeMap::from([("summary".to_owned(), "5xx above 5%".to_owned())]),
        state,
        starts_at: at("2026-11-27T09:59:00Z"),
        ends_at: None,
        generator_url: Some("http://prometheus.local/graph".into()),
        first_seen: seen,
        last_seen: seen,
    }
}

#[test]
fn alert_upsert_is_keyed_by_source_and_fingerprint() {
    let (_dir, mut store) = temp_store();
    let first = at("2026-11-27T10:00:00Z");
    let later = at("2026-11-27T10:05:00Z");
    let outcome = store
        .upsert_alerts(&[
            alert("a1", AlertState::Firing, first),
            alert("a2", AlertState::Firing, first),
        ])
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (2, 0));
    let outcome = store
        .upsert_alerts(&[alert("a1", AlertState::Resolved, later)])
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (0, 1));

    let alerts = store.alerts().unwrap();
    assert_eq!(alerts.len(), 2);
    let a1 = alerts
        .iter()
        .find(|a| a.fingerprint.as_str() == "a1")
        .unwrap();
    assert_eq!(a1.state, AlertState::Resolved);
    assert_eq!(a1.first_seen, first, "first_seen survives an update");
    assert_eq!(a1.last_seen, later);
    assert_eq!(a1.labels["service"], "checkout-api");

    let mut other_source = alert("a1", AlertState::Firing, later);
    other_source.source = "grafana".into();
    let outcome = store.upsert_alerts(&[other_source]).unwrap();
    assert_eq!(
        outcome.inserted, 1,
        "the same fingerprint from another source is another alert"
    );
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

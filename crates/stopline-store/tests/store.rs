//! The store against a real SQLite file.

use std::collections::BTreeMap;

use jiff::Timestamp;
use stopline_core::alert::{Alert, AlertState, Fingerprint, Labels};
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity, Transition};
use stopline_core::routing::RoutedAlert;
use stopline_core::timeline::TimelineKind;
use stopline_store::{
    AlertFilter, AlertObservation, IncidentFilter, IngestPolicy, IngestSummary, NewIncident,
    OutboxAction, SentOutcome, Store, StoreError, StoredAlert,
};

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
        ends_at: (state == AlertState::Resolved).then(|| at("2026-11-27T10:20:00Z")),
        generator_url: Some("http://prometheus.local/graph".into()),
        links: BTreeMap::new(),
        muted: false,
        first_seen: seen,
        last_seen: seen,
    }
}

fn routed(alert: Alert) -> AlertObservation {
    AlertObservation {
        title: "HighErrorRate: 5xx above 5%".into(),
        route: Some(RoutedAlert {
            application: ApplicationId::new("checkout-api").unwrap(),
            team: TeamId::new("payments").unwrap(),
            severity: Severity::Major,
        }),
        group_key: Some("app=checkout-api".into()),
        alert,
    }
}

fn unrouted(alert: Alert) -> AlertObservation {
    AlertObservation {
        title: "x".into(),
        route: None,
        group_key: None,
        alert,
    }
}

fn ingest(store: &mut Store, batch: Vec<AlertObservation>, now: &str) -> IngestSummary {
    store
        .ingest(&batch, IngestPolicy::default(), at(now))
        .unwrap()
}

fn stored(store: &Store, fingerprint: &str) -> StoredAlert {
    store
        .alerts(AlertFilter::All)
        .unwrap()
        .into_iter()
        .find(|a| a.alert.fingerprint.as_str() == fingerprint)
        .unwrap()
}

const T0: &str = "2026-11-27T10:00:00Z";
const T1: &str = "2026-11-27T10:05:00Z";
const T2: &str = "2026-11-27T10:30:00Z";

#[test]
fn firing_alerts_of_one_application_open_one_incident() {
    let (_dir, mut store) = temp_store();
    let summary = ingest(
        &mut store,
        vec![
            routed(alert("a1", AlertState::Firing, at(T0))),
            routed(alert("a2", AlertState::Firing, at(T0))),
        ],
        T0,
    );
    assert_eq!(
        (summary.new, summary.opened.len(), summary.joined),
        (2, 1, 1)
    );
    let incident = summary.opened[0];
    let detail = store.incident(incident).unwrap();
    assert_eq!(detail.incident.title, "HighErrorRate: 5xx above 5%");
    assert_eq!(detail.incident.team.as_ref().unwrap().as_str(), "payments");
    assert_eq!(detail.incident.opened_by, None);
    assert_eq!(
        store.alerts(AlertFilter::Incident(incident)).unwrap().len(),
        2
    );

    // A later alert of the same application joins the open incident.
    let later = ingest(
        &mut store,
        vec![routed(alert("a3", AlertState::Firing, at(T1)))],
        T1,
    );
    assert!(later.opened.is_empty());
    assert_eq!(stored(&store, "a3").incident, Some(incident));
    let kinds: Vec<_> = store
        .incident(incident)
        .unwrap()
        .timeline
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            TimelineKind::Opened,
            TimelineKind::Alerts,
            TimelineKind::Alerts
        ]
    );
}

#[test]
fn a_replayed_delivery_changes_nothing_but_last_seen() {
    let (_dir, mut store) = temp_store();
    let first = vec![
        routed(alert("a1", AlertState::Firing, at(T0))),
        routed(alert("a2", AlertState::Firing, at(T0))),
    ];
    ingest(&mut store, first, T0);
    let before_incidents = store.incidents(IncidentFilter::All).unwrap();
    let before_timeline = store.incident(before_incidents[0].id).unwrap().timeline;

    let replay = vec![
        routed(alert("a1", AlertState::Firing, at(T1))),
        routed(alert("a2", AlertState::Firing, at(T1))),
    ];
    let summary = ingest(&mut store, replay, T1);
    assert_eq!(
        summary,
        IngestSummary {
            repeated: 2,
            ..IngestSummary::default()
        }
    );
    assert_eq!(
        store.incidents(IncidentFilter::All).unwrap(),
        before_incidents
    );
    assert_eq!(
        store.incident(before_incidents[0].id).unwrap().timeline,
        before_timeline
    );
    let a1 = stored(&store, "a1");
    assert_eq!(a1.alert.first_seen, at(T0));
    assert_eq!(a1.alert.last_seen, at(T1));
}

#[test]
fn a_resolved_before_its_firing_leaves_no_zombie() {
    let (_dir, mut store) = temp_store();
    let summary = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Resolved, at(T0)))],
        T0,
    );
    assert!(summary.opened.is_empty());
    // The delayed firing of the same occurrence arrives afterwards.
    let late = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Firing, at(T1)))],
        T1,
    );
    assert_eq!(late.stale, 1);
    assert!(late.opened.is_empty());
    assert_eq!(stored(&store, "a1").alert.state, AlertState::Resolved);
    assert!(store.incidents(IncidentFilter::All).unwrap().is_empty());
}

#[test]
fn a_new_occurrence_after_resolution_opens_a_new_incident() {
    let (_dir, mut store) = temp_store();
    let first = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Firing, at(T0)))],
        T0,
    )
    .opened[0];
    ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Resolved, at(T1)))],
        T1,
    );
    let mut again = alert("a1", AlertState::Firing, at(T2));
    again.starts_at = at("2026-11-27T10:25:00Z");
    let summary = ingest(&mut store, vec![routed(again)], T2);
    assert_eq!(summary.opened.len(), 1);
    assert_ne!(summary.opened[0], first);
    assert_eq!(stored(&store, "a1").incident, Some(summary.opened[0]));
}

#[test]
fn an_incident_nobody_acknowledged_resolves_with_its_last_alert() {
    let (_dir, mut store) = temp_store();
    let incident = ingest(
        &mut store,
        vec![
            routed(alert("a1", AlertState::Firing, at(T0))),
            routed(alert("a2", AlertState::Firing, at(T0))),
        ],
        T0,
    )
    .opened[0];
    let partly = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Resolved, at(T1)))],
        T1,
    );
    assert!(partly.auto_resolved.is_empty());
    assert_eq!(
        store.incident(incident).unwrap().incident.state,
        IncidentState::Triggered
    );
    let last = ingest(
        &mut store,
        vec![routed(alert("a2", AlertState::Resolved, at(T2)))],
        T2,
    );
    assert_eq!(last.auto_resolved, vec![incident]);
    let detail = store.incident(incident).unwrap();
    assert_eq!(detail.incident.state, IncidentState::Resolved);
    assert_eq!(detail.incident.resolved.as_ref().unwrap().by, None);
    let last_two: Vec<&str> = detail
        .timeline
        .iter()
        .rev()
        .take(2)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        last_two[1].contains("no alert is firing any more"),
        "{last_two:?}"
    );
}

#[test]
fn an_acknowledged_incident_waits_for_a_person_to_resolve_it() {
    let (_dir, mut store) = temp_store();
    let incident = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Firing, at(T0)))],
        T0,
    )
    .opened[0];
    store
        .transition(incident, Transition::Acknowledge, &person("alice"), at(T0))
        .unwrap();
    let summary = ingest(
        &mut store,
        vec![routed(alert("a1", AlertState::Resolved, at(T1)))],
        T1,
    );
    assert!(summary.auto_resolved.is_empty());
    assert_eq!(
        store.incident(incident).unwrap().incident.state,
        IncidentState::Acknowledged
    );

    // With the policy off, even an unacknowledged incident stays open.
    let (_dir, mut other) = temp_store();
    let policy = IngestPolicy {
        auto_resolve: false,
    };
    let id = other
        .ingest(
            &[routed(alert("b", AlertState::Firing, at(T0)))],
            policy,
            at(T0),
        )
        .unwrap()
        .opened[0];
    other
        .ingest(
            &[routed(alert("b", AlertState::Resolved, at(T1)))],
            policy,
            at(T1),
        )
        .unwrap();
    assert_eq!(
        other.incident(id).unwrap().incident.state,
        IncidentState::Triggered
    );
}

#[test]
fn unrouted_and_muted_alerts_are_kept_but_open_nothing() {
    let (_dir, mut store) = temp_store();
    let mut silenced = alert("muted", AlertState::Firing, at(T0));
    silenced.muted = true;
    let summary = ingest(
        &mut store,
        vec![
            unrouted(alert("lost", AlertState::Firing, at(T0))),
            routed(silenced),
        ],
        T0,
    );
    assert_eq!(summary.new, 2);
    assert!(summary.opened.is_empty());
    let queue = store.alerts(AlertFilter::Unrouted).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].alert.fingerprint.as_str(), "lost");
    assert!(stored(&store, "muted").alert.muted);

    // Once the silence ends the alert pages.
    let unmuted = ingest(
        &mut store,
        vec![routed(alert("muted", AlertState::Firing, at(T1)))],
        T1,
    );
    assert_eq!(unmuted.opened.len(), 1);
}

#[test]
fn a_snapshot_resolves_what_it_no_longer_contains() {
    let (_dir, mut store) = temp_store();
    let policy = IngestPolicy::default();
    let both = [
        routed(alert("a1", AlertState::Firing, at(T0))),
        routed(alert("a2", AlertState::Firing, at(T0))),
    ];
    store
        .ingest_snapshot("alertmanager", &both, policy, at(T0))
        .unwrap();
    let summary = store
        .ingest_snapshot("alertmanager", &both[..1], policy, at(T1))
        .unwrap();
    assert_eq!((summary.repeated, summary.resolved), (1, 1));
    assert_eq!(stored(&store, "a2").alert.state, AlertState::Resolved);
    assert_eq!(stored(&store, "a2").alert.ends_at, Some(at(T1)));
    // Another source's alerts are not touched by this source's snapshot.
    let mut grafana = alert("g1", AlertState::Firing, at(T1));
    grafana.source = "grafana".into();
    store.ingest(&[routed(grafana)], policy, at(T1)).unwrap();
    store
        .ingest_snapshot("alertmanager", &[], policy, at(T2))
        .unwrap();
    assert_eq!(stored(&store, "g1").alert.state, AlertState::Firing);
    assert_eq!(stored(&store, "a1").alert.state, AlertState::Resolved);
}

#[test]
fn the_same_fingerprint_from_another_source_is_another_alert() {
    let (_dir, mut store) = temp_store();
    let mut grafana = alert("a1", AlertState::Firing, at(T0));
    grafana.source = "grafana".into();
    let summary = ingest(
        &mut store,
        vec![
            routed(alert("a1", AlertState::Firing, at(T0))),
            routed(grafana),
        ],
        T0,
    );
    assert_eq!(summary.new, 2);
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
fn an_alert_named_twice_in_one_delivery_is_applied_in_order() {
    let (_dir, mut store) = temp_store();
    let summary = ingest(
        &mut store,
        vec![
            routed(alert("a1", AlertState::Firing, at(T0))),
            routed(alert("a1", AlertState::Firing, at(T0))),
            routed(alert("a1", AlertState::Resolved, at(T0))),
        ],
        T0,
    );
    assert_eq!((summary.new, summary.repeated, summary.resolved), (1, 1, 1));
    assert_eq!(stored(&store, "a1").alert.state, AlertState::Resolved);
    assert_eq!(store.alerts(AlertFilter::All).unwrap().len(), 1);
}

#[test]
fn a_replay_moves_only_last_seen_and_only_while_nothing_changed() {
    let (_dir, mut store) = temp_store();
    let delivery = vec![
        routed(alert("a1", AlertState::Firing, at(T0))),
        routed(alert("a2", AlertState::Firing, at(T0))),
    ];
    let (summary, receipt) = store
        .ingest_with_receipt(&delivery, IngestPolicy::default(), at(T0))
        .unwrap();
    assert_eq!(summary.opened.len(), 1);
    assert_eq!(receipt.len(), 2);
    let incidents = store.incidents(IncidentFilter::All).unwrap();

    assert!(store.replay(&receipt, at(T1)).unwrap());
    assert_eq!(stored(&store, "a1").alert.last_seen, at(T1));
    assert_eq!(stored(&store, "a1").alert.first_seen, at(T0));
    assert_eq!(store.incidents(IncidentFilter::All).unwrap(), incidents);

    // Once one of its alerts changes, the receipt no longer vouches for a pure repeat.
    ingest(
        &mut store,
        vec![routed(alert("a2", AlertState::Resolved, at(T1)))],
        T1,
    );
    assert!(!store.replay(&receipt, at(T2)).unwrap());
    assert_eq!(
        stored(&store, "a1").alert.last_seen,
        at(T1),
        "a refused replay changes nothing"
    );
}

// The outbox: silences queued by the store itself, in the transaction of the change.

/// A store whose "alertmanager" source takes silences for an hour, with an incident of firing
/// alerts with these fingerprints, acknowledged by alice at T0.
fn acknowledged(fingerprints: &[&str]) -> (tempfile::TempDir, Store, IncidentId) {
    let (dir, mut store) = temp_store();
    store
        .set_write_back(&[(
            "alertmanager".to_owned(),
            std::time::Duration::from_secs(3600),
        )])
        .unwrap();
    let alerts = fingerprints
        .iter()
        .map(|f| routed(alert(f, AlertState::Firing, at(T0))))
        .collect();
    let incident = ingest(&mut store, alerts, T0).opened[0];
    store
        .transition(incident, Transition::Acknowledge, &person("alice"), at(T0))
        .unwrap();
    (dir, store, incident)
}

fn actions(store: &Store, now: &str) -> Vec<OutboxAction> {
    store
        .outbox_due(at(now), 100)
        .unwrap()
        .into_iter()
        .map(|i| i.action)
        .collect()
}

#[test]
fn acknowledging_queues_a_silence_per_firing_alert_only_for_write_back_sources() {
    let (_dir, mut store, incident) = acknowledged(&["a1", "a2"]);
    let due = store.outbox_due(at(T1), 100).unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|i| i.action == OutboxAction::Silence));
    assert_eq!(due[0].who.as_deref(), Some("alice"));
    assert_eq!(due[0].labels.get("service").unwrap(), "checkout-api");
    assert_eq!(due[0].created_at, at(T0));

    // A refused acknowledgement queues nothing.
    assert!(
        store
            .transition(incident, Transition::Acknowledge, &person("bob"), at(T1))
            .is_err()
    );
    assert_eq!(store.outbox_due(at(T1), 100).unwrap().len(), 2);

    // Without write-back for the source, acknowledging queues nothing.
    let (_dir, mut plain) = temp_store();
    let other = ingest(
        &mut plain,
        vec![routed(alert("b1", AlertState::Firing, at(T0)))],
        T0,
    )
    .opened[0];
    plain
        .transition(other, Transition::Acknowledge, &person("alice"), at(T1))
        .unwrap();
    assert!(plain.outbox_due(at(T1), 100).unwrap().is_empty());
}

#[test]
fn alerts_joining_an_acknowledged_incident_are_silenced_and_resolving_expires_them() {
    let (_dir, mut store, incident) = acknowledged(&["a1"]);
    ingest(
        &mut store,
        vec![routed(alert("a2", AlertState::Firing, at(T1)))],
        T1,
    );
    let due = store.outbox_due(at(T1), 100).unwrap();
    assert_eq!(due.len(), 2, "{due:?}");
    for item in &due {
        let silenced = SentOutcome::Silenced {
            silence_id: format!("s-{}", item.alert_id),
            ends_at: at("2026-11-27T11:05:00Z"),
        };
        store.outbox_sent(item, &silenced, at(T1)).unwrap();
    }
    assert!(store.outbox_due(at(T1), 100).unwrap().is_empty());
    assert_eq!(store.silences(incident).unwrap().len(), 2);

    store
        .transition(incident, Transition::Resolve, &person("alice"), at(T2))
        .unwrap();
    let due = store.outbox_due(at(T2), 100).unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|i| i.action == OutboxAction::Expire));
    assert_eq!(
        due[0].silence.as_ref().unwrap().silence_id,
        format!("s-{}", due[0].alert_id)
    );
    for item in &due {
        store
            .outbox_sent(item, &SentOutcome::Expired, at(T2))
            .unwrap();
    }
    let silences = store.silences(incident).unwrap();
    assert!(silences.iter().all(|s| s.expired_at == Some(at(T2))));
    let backlog = store.outbox_backlog().unwrap();
    assert!(backlog.iter().all(|b| b.waiting == 0), "{backlog:?}");
}

#[test]
fn a_failing_source_holds_back_its_own_queue_in_order_and_a_refusal_moves_on() {
    let (_dir, mut store, _incident) = acknowledged(&["a1", "a2"]);
    let first = store.outbox_due(at(T0), 100).unwrap()[0].clone();
    store
        .outbox_retry(first.id, "cannot connect", at(T1))
        .unwrap();
    assert!(
        store.outbox_due(at(T0), 100).unwrap().is_empty(),
        "the second waits behind the first"
    );
    let backlog = store.outbox_backlog().unwrap();
    assert_eq!(backlog[0].waiting, 2);
    assert_eq!(backlog[0].oldest, Some(at(T0)));
    assert_eq!(backlog[0].last_error.as_deref(), Some("cannot connect"));

    let due = store.outbox_due(at(T1), 100).unwrap();
    assert_eq!(
        due.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![first.id, first.id + 1]
    );
    assert_eq!(due[0].attempts, 1);
    assert_eq!(
        store.outbox_due(at(T1), 1).unwrap().len(),
        1,
        "the limit holds"
    );
    store
        .outbox_abandon(first.id, "HTTP 400: bad matchers", at(T1))
        .unwrap();
    let backlog = store.outbox_backlog().unwrap();
    assert_eq!((backlog[0].waiting, backlog[0].abandoned), (1, 1));
}

#[test]
fn a_silence_is_extended_once_when_half_of_it_is_left() {
    let (_dir, mut store, _incident) = acknowledged(&["a1"]);
    let item = store.outbox_due(at(T0), 100).unwrap().remove(0);
    let ends_at = at("2026-11-27T11:00:00Z");
    store
        .outbox_sent(
            &item,
            &SentOutcome::Silenced {
                silence_id: "s1".into(),
                ends_at,
            },
            at(T0),
        )
        .unwrap();
    assert_eq!(
        store.queue_extensions(at("2026-11-27T10:29:00Z")).unwrap(),
        0
    );
    assert_eq!(
        store.queue_extensions(at("2026-11-27T10:31:00Z")).unwrap(),
        1
    );
    assert_eq!(
        store.queue_extensions(at("2026-11-27T10:32:00Z")).unwrap(),
        0,
        "once"
    );
    assert_eq!(
        actions(&store, "2026-11-27T10:32:00Z"),
        vec![OutboxAction::Extend]
    );
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

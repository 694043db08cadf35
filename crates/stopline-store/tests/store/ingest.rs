//! Deliveries of alerts: deduplication, grouping, staleness, snapshots, replays, resolving.

use crate::*;

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
fn alerts_are_listed_by_source_or_by_fingerprint_alone() {
    let (_dir, mut store) = temp_store();
    let mut elsewhere = alert("shared", AlertState::Firing, at(T0));
    elsewhere.source = "grafana".into();
    ingest(
        &mut store,
        vec![
            unrouted(alert("shared", AlertState::Firing, at(T0))),
            unrouted(elsewhere),
            unrouted(alert("other", AlertState::Firing, at(T0))),
        ],
        T0,
    );
    let from = |filter| -> Vec<(String, String)> {
        let mut found: Vec<_> = store
            .alerts(filter)
            .unwrap()
            .into_iter()
            .map(|a| (a.alert.source, a.alert.fingerprint.to_string()))
            .collect();
        found.sort();
        found
    };
    let pair = |s: &str, f: &str| (s.to_owned(), f.to_owned());
    assert_eq!(
        from(AlertFilter::Source("grafana")),
        [pair("grafana", "shared")]
    );
    assert_eq!(
        from(AlertFilter::Fingerprint("shared")),
        [pair("alertmanager", "shared"), pair("grafana", "shared")]
    );
    assert!(from(AlertFilter::Source("nowhere")).is_empty());
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

#[test]
fn a_source_resolving_one_alert_resolves_it_in_one_operation() {
    let (_dir, mut store) = temp_store();
    let summary = ingest(
        &mut store,
        vec![routed(alert("pd-1", AlertState::Firing, at(T0)))],
        T0,
    );
    let incident = summary.opened[0];
    let policy = IngestPolicy::default();
    let resolved = store
        .resolve_from_source(
            "alertmanager",
            &Fingerprint::new("pd-1").unwrap(),
            policy,
            at(T1),
        )
        .unwrap()
        .expect("the alert is known");
    assert_eq!(resolved.resolved, 1);
    assert_eq!(
        resolved.auto_resolved,
        vec![incident],
        "nobody acknowledged it"
    );
    let alert = stored(&store, "pd-1");
    assert_eq!(alert.alert.state, AlertState::Resolved);
    assert_eq!(alert.alert.ends_at, Some(at(T1)));
    assert_eq!(
        alert
            .application
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("checkout-api"),
        "resolving is not routing again"
    );
    assert_eq!(
        store.incident(incident).unwrap().incident.state,
        IncidentState::Resolved
    );
    // What the store never saw is nothing to resolve, and changes nothing.
    let before = store.alerts(AlertFilter::All).unwrap();
    let unknown = store
        .resolve_from_source(
            "alertmanager",
            &Fingerprint::new("nope").unwrap(),
            policy,
            at(T2),
        )
        .unwrap();
    assert_eq!(unknown, None);
    assert_eq!(store.alerts(AlertFilter::All).unwrap(), before);
}

#[test]
fn a_huge_delivery_is_written_in_chunks_with_the_same_result() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-11-27T10:00:00Z");
    let batch: Vec<AlertObservation> = (0..1_050)
        .map(|i| routed(alert(&format!("fp-{i}"), AlertState::Firing, now)))
        .collect();
    let (summary, receipt) = store
        .ingest_with_receipt(&batch, IngestPolicy::default(), now)
        .unwrap();
    assert_eq!(summary.new, 1_050);
    assert_eq!(
        summary.opened.len(),
        1,
        "one incident, though the chunks were separate"
    );
    assert_eq!(summary.joined, 1_049);
    assert_eq!(receipt.len(), 1_050);
    assert!(
        store.replay(&receipt, now).unwrap(),
        "the receipt covers every chunk"
    );
}

#[test]
fn another_writer_gets_its_turn_while_huge_deliveries_are_written_back_to_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let (dir, mut engine) = temp_store();
    let path = dir.path().join("stopline.db");
    let done = Arc::new(AtomicBool::new(false));
    // The engine's part: 2,000-alert deliveries, built beforehand so that one starts the moment
    // the last one committed, as when many senders queue for the engine.
    let now = at("2026-11-27T10:00:00Z");
    let batches: Vec<Vec<AlertObservation>> = (0..20)
        .map(|round| {
            (0..2_000)
                .map(|i| routed(alert(&format!("r{round}-{i}"), AlertState::Firing, now)))
                .collect()
        })
        .collect();
    let storm = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut rounds = 0;
            for batch in &batches {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                engine.ingest(batch, IngestPolicy::default(), now).unwrap();
                rounds += 1;
            }
            rounds
        })
    };
    // A person's command in another connection: each write must get the lock (SQLite's own
    // busy handler, polling every 100 ms, missed the gaps for its whole 10 s and failed).
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut person = Store::open(&path).unwrap();
    for i in 0..5 {
        person
            .open_incident(
                new_incident(&format!("by hand {i}")),
                at("2026-11-27T10:01:00Z"),
            )
            .unwrap_or_else(|e| panic!("write {i} during the storm: {e}"));
    }
    done.store(true, Ordering::Relaxed);
    assert!(storm.join().unwrap() >= 1, "the storm ran");
}

#[test]
fn a_chunked_delivery_never_splits_an_incident_group() {
    let (_dir, mut store) = temp_store();
    let first = ingest(
        &mut store,
        vec![routed(alert(
            "a",
            AlertState::Firing,
            at("2026-11-27T10:00:00Z"),
        ))],
        "2026-11-27T10:00:00Z",
    );
    let now = at("2026-11-27T10:05:00Z");
    // The group's only alert resolves first; 300 unrouted alerts later, a new one of the same
    // group fires. Split between chunks, the incident would resolve and a second one open.
    let mut batch = vec![routed(alert("a", AlertState::Resolved, now))];
    batch
        .extend((0..300).map(|i| unrouted(alert(&format!("filler-{i}"), AlertState::Firing, now))));
    batch.push(routed(alert("b", AlertState::Firing, now)));
    let summary = store.ingest(&batch, IngestPolicy::default(), now).unwrap();
    assert!(summary.opened.is_empty(), "{summary:?}");
    assert!(summary.auto_resolved.is_empty(), "{summary:?}");
    assert_eq!(stored(&store, "b").incident, Some(first.opened[0]));
}

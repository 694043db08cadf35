//! Write-back: silences queued in the acknowledging transaction, extended, expired, in order per source.

use crate::*;

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

//! Incidents and their timelines: opened, acknowledged and resolved by whom and when; refusals change nothing.

use crate::*;

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

#[test]
fn an_exclusive_run_is_one_transaction_whole_or_not_at_all() {
    let (_dir, mut store) = temp_store();
    let kept = store
        .exclusively(|store| {
            let id = store
                .open_incident(new_incident("Kept"), at("2026-11-27T10:00:00Z"))?
                .id;
            store.add_note(id, &person("ben"), "inside", at("2026-11-27T10:01:00Z"))?;
            Ok::<_, StoreError>(id)
        })
        .unwrap();
    assert_eq!(store.incident(kept).unwrap().timeline.len(), 2);
    let refused: Result<(), StoreError> = store.exclusively(|store| {
        store.open_incident(new_incident("Gone"), at("2026-11-27T10:02:00Z"))?;
        // A refused step inside refuses the whole run: the incident above is not kept either.
        store.transition(
            IncidentId(99),
            Transition::Acknowledge,
            &person("ben"),
            at("2026-11-27T10:03:00Z"),
        )?;
        Ok(())
    });
    assert!(matches!(refused, Err(StoreError::IncidentNotFound(_))));
    assert_eq!(store.incidents(IncidentFilter::All).unwrap().len(), 1);
    // The store is usable afterwards: the lock was given back.
    store
        .add_note(kept, &person("ben"), "after", at("2026-11-27T10:04:00Z"))
        .unwrap();
}

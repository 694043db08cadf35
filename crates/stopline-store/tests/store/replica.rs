//! A desktop joined to a hub: the replica laid over by pulls, and the queue of the person's
//! actions whose local effects give way to the hub's once it has decided them.

use serde_json::json;
use stopline_store::{Pull, ReplicaMark};

use super::*;

/// A pull as the hub sends it: INC-1 triggered, with its `opened` entry (hub id 1), and
/// `timeline` entries after it.
fn pull(last_mutation_id: i64, state: &str, timeline: serde_json::Value) -> Pull {
    let mut entries = vec![
        json!({"id": 1, "incident": "INC-1", "at": "2026-12-03T10:00:00Z",
        "who": null, "kind": "opened", "detail": "opened by GatewayDown"}),
    ];
    entries.extend(timeline.as_array().unwrap().iter().cloned());
    serde_json::from_value(json!({
        "cookie": "org:7", "reset": false, "last_mutation_id": last_mutation_id,
        "outcomes": [],
        "incidents": [{"id": "INC-1", "application": "checkout-api", "team": "payments",
            "title": "Checkout down", "severity": "major", "state": state,
            "opened_at": "2026-12-03T10:00:00Z", "opened_by": null,
            "acknowledged": null, "resolved": null,
            "severity_reason": null, "loss_override": null}],
        "timeline": entries,
    }))
    .unwrap()
}

fn notes(store: &Store) -> Vec<String> {
    store
        .incident(IncidentId(1))
        .unwrap()
        .timeline
        .into_iter()
        .filter(|e| e.kind == TimelineKind::Note)
        .map(|e| e.detail)
        .collect()
}

#[test]
fn a_queued_note_shows_at_once_and_gives_way_to_the_hubs_copy_when_decided() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    store
        .apply_pull(&pull(0, "triggered", json!([])), "ben-1", now)
        .unwrap();
    assert_eq!(store.hub_cookie().unwrap().as_deref(), Some("org:7"));

    // The person notes: applied here at once, and queued in the same transaction.
    let id = store
        .exclusively(|s| {
            let mark: ReplicaMark = s.replica_mark()?;
            s.add_note(IncidentId(1), &person("ben"), "rolling back", now)?;
            s.queue_mutation(
                "note",
                &json!({"text": "rolling back"}),
                Some(IncidentId(1)),
                now,
                mark,
            )
        })
        .unwrap();
    assert_eq!(notes(&store), ["rolling back"]);
    assert_eq!(store.queue_state().unwrap().waiting, 1);
    assert_eq!(store.pending_mutations(10).unwrap()[0].id, id);

    // A pull that does not yet have it keeps it.
    store
        .apply_pull(&pull(0, "triggered", json!([])), "ben-1", now)
        .unwrap();
    assert_eq!(notes(&store), ["rolling back"]);

    // The hub has it: its copy takes the place of this desktop's, once.
    let hubs = json!([{"id": 9, "incident": "INC-1", "at": "2026-12-03T10:05:00Z",
        "who": "ben", "kind": "note", "detail": "rolling back"}]);
    store
        .apply_pull(&pull(id, "triggered", hubs.clone()), "ben-1", now)
        .unwrap();
    store
        .apply_pull(&pull(id, "triggered", hubs), "ben-1", now)
        .unwrap();
    assert_eq!(notes(&store), ["rolling back"]);
    assert_eq!(store.queue_state().unwrap().waiting, 0);
    assert_eq!(
        store.hub_actions(Some(IncidentId(1)), 10).unwrap()[0].status,
        stopline_store::ActionStatus::Applied
    );
}

#[test]
fn a_refusal_is_kept_with_the_hubs_reason_and_the_hubs_state_wins() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    store
        .apply_pull(&pull(0, "triggered", json!([])), "ben-1", now)
        .unwrap();
    let id = store
        .exclusively(|s| {
            let mark = s.replica_mark()?;
            s.transition(IncidentId(1), Transition::Acknowledge, &person("ben"), now)?;
            s.queue_mutation("acknowledge", &json!({}), Some(IncidentId(1)), now, mark)
        })
        .unwrap();
    assert_eq!(
        store.incident_record(IncidentId(1)).unwrap().state,
        IncidentState::Acknowledged
    );
    let reason = "INC-1 is already acknowledged (by aisha at 2026-12-03T10:01:30Z)";
    let refused = store
        .record_outcomes(
            &[stopline_store::Outcome {
                id,
                outcome: "refused".into(),
                reason: Some(reason.into()),
            }],
            now,
        )
        .unwrap();
    assert_eq!(refused[0].reason.as_deref(), Some(reason));
    let mut acknowledged = pull(id, "acknowledged", json!([]));
    acknowledged.incidents[0].incident.acknowledged = Some(stopline_core::incident::Stamp {
        at: at("2026-12-03T10:01:30Z"),
        by: Some(person("aisha")),
    });
    store.apply_pull(&acknowledged, "ben-1", now).unwrap();
    let incident = store.incident_record(IncidentId(1)).unwrap();
    assert_eq!(incident.acknowledged.unwrap().by, Some(person("aisha")));
    let kinds: Vec<TimelineKind> = store
        .incident(IncidentId(1))
        .unwrap()
        .timeline
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [TimelineKind::Opened],
        "this desktop's own entry gave way"
    );
}

#[test]
fn a_desktops_own_timeline_stays_append_only() {
    let (dir, mut store) = temp_store();
    store
        .open_incident(new_incident("Checkout down"), at("2026-12-03T10:00:00Z"))
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("stopline.db")).unwrap();
    let refused = conn
        .execute("DELETE FROM timeline", [])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("append-only"), "{refused}");
    let refused = conn
        .execute("UPDATE timeline SET detail = 'rewritten'", [])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("append-only"), "{refused}");
}

#[test]
fn rows_of_an_incident_the_replica_does_not_hold_are_left_out() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    let mut pulled = pull(0, "triggered", json!([]));
    pulled.incidents.clear();
    pulled.timeline[0].incident = IncidentId(9);
    store.apply_pull(&pulled, "ben-1", now).unwrap();
    assert!(store.incidents(IncidentFilter::All).unwrap().is_empty());
    assert_eq!(store.hub_cookie().unwrap().as_deref(), Some("org:7"));
}

#[test]
fn a_provisional_incident_keeps_its_timeline_through_pulls_until_it_merges() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    store
        .apply_pull(&pull(0, "triggered", json!([])), "ben-1", now)
        .unwrap();
    let opened = store
        .ingest_provisional(
            &[routed(alert("fp-away", AlertState::Firing, now))],
            IngestPolicy::default(),
            now,
        )
        .unwrap()
        .opened;
    assert_eq!(opened.len(), 1);
    let provisional = opened[0];
    assert!(
        provisional.0 > stopline_store::PROVISIONAL_BASE as u64,
        "{provisional}"
    );
    // The hub answers again, without the alert: the provisional incident stays whole.
    store
        .apply_pull(&pull(0, "triggered", json!([])), "ben-1", now)
        .unwrap();
    let kinds: Vec<TimelineKind> = store
        .incident(provisional)
        .unwrap()
        .timeline
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&TimelineKind::Opened), "{kinds:?}");
}

/// Opens a provisional incident by hand and queues `open_incident` under its id, then a note
/// on it: what a joined desktop's `stopline open` and `stopline note` do.
fn open_by_hand(store: &mut Store, now: jiff::Timestamp) -> (IncidentId, i64, i64) {
    made_here(
        store,
        now,
        stopline_store::OPEN_INCIDENT,
        json!({"application": "checkout-api", "title": "Customers cannot pay"}),
    )
}

/// A provisional incident made by the person's action `name` (with `args`), queued under its
/// id, then a note on it.
fn made_here(
    store: &mut Store,
    now: jiff::Timestamp,
    name: &str,
    args: serde_json::Value,
) -> (IncidentId, i64, i64) {
    store
        .exclusively(|s| {
            let mark = s.replica_mark()?;
            let new = stopline_store::NewIncident {
                application: None,
                team: None,
                title: "Customers cannot pay".into(),
                severity: Severity::Major,
                opened_by: Some(person("aisha")),
            };
            let incident = s.open_provisional_incident(new, &[], now)?;
            let open = s.queue_mutation(name, &args, Some(incident.id), now, mark)?;
            let mark = s.replica_mark()?;
            s.add_note(incident.id, &person("aisha"), "first call", now)?;
            let note = s.queue_mutation(
                "note",
                &json!({"incident": incident.id.to_string(), "text": "first call"}),
                Some(incident.id),
                now,
                mark,
            )?;
            Ok::<_, stopline_store::StoreError>((incident.id, open, note))
        })
        .unwrap()
}

#[test]
fn an_incident_opened_by_hand_folds_into_the_hubs_and_its_waiting_actions_follow() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    let (copy, open, note) = open_by_hand(&mut store, now);
    assert!(copy.0 > stopline_store::PROVISIONAL_BASE as u64, "{copy}");
    // The opening goes first; the note waits until the hub's incident takes the copy's place.
    let waiting: Vec<i64> = store
        .pending_mutations(10)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(waiting, [open]);

    // The hub opened INC-1 for it.
    let mut opened = pull(open, "triggered", json!([]));
    opened.incidents[0].opened_by_mutation =
        Some(serde_json::from_value(json!({"desktop": "aisha-1", "mutation": open})).unwrap());
    store.apply_pull(&opened, "aisha-1", now).unwrap();
    assert!(store.incident(copy).is_err(), "the copy is folded in");
    assert_eq!(store.folded_into(copy).unwrap(), Some(IncidentId(1)));
    let waiting = store.pending_mutations(10).unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, note);
    assert_eq!(waiting[0].args["incident"], "INC-1");
}

#[test]
fn when_the_hub_refuses_to_open_an_incident_the_actions_waiting_on_it_are_refused_here() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    let (copy, open, note) = open_by_hand(&mut store, now);
    let outcomes: Vec<stopline_store::Outcome> = serde_json::from_value(json!([
        {"id": open, "outcome": "refused", "reason": "unknown application \"checkout-api\""}
    ]))
    .unwrap();
    let refused = store.record_outcomes(&outcomes, now).unwrap();
    let ids: Vec<i64> = refused.iter().map(|a| a.id).collect();
    assert_eq!(ids, [open, note]);
    assert!(
        refused[1]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("refused to open") && r.contains("checkout-api")),
        "{refused:?}"
    );
    assert!(store.pending_mutations(10).unwrap().is_empty());
    // The copy stays here, with what the person wrote on it.
    assert_eq!(
        store.incident(copy).unwrap().incident.title,
        "Customers cannot pay"
    );
}

#[test]
fn when_the_hub_refuses_an_alert_routed_by_hand_the_actions_on_its_copy_are_refused_here() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    let assign =
        json!({"source": "alertmanager", "fingerprint": "lost1", "application": "refunds"});
    let (copy, routed, note) = made_here(&mut store, now, stopline_store::ASSIGN_ALERT, assign);
    // Routing goes first, as an opening does; the note waits for the fold.
    let waiting: Vec<i64> = store
        .pending_mutations(10)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(waiting, [routed]);
    let outcomes: Vec<stopline_store::Outcome> = serde_json::from_value(json!([
        {"id": routed, "outcome": "refused", "reason": "the hub has no alert lost1 from alertmanager"}
    ]))
    .unwrap();
    let refused: Vec<i64> = store
        .record_outcomes(&outcomes, now)
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(refused, [routed, note]);
    assert!(store.pending_mutations(10).unwrap().is_empty());
    assert!(store.incident(copy).is_ok(), "the copy stays here");
}

#[test]
fn what_left_the_window_is_pruned_unless_the_person_still_acts_on_it() {
    let (_dir, mut store) = temp_store();
    let now = at("2026-12-03T10:05:00Z");
    let incident = |id: &str, state: &str, resolved: serde_json::Value| {
        json!({"id": id, "application": "checkout-api", "team": "payments",
            "title": "Checkout down", "severity": "major", "state": state,
            "opened_at": "2026-10-01T10:00:00Z", "opened_by": null,
            "acknowledged": resolved.clone(), "resolved": resolved,
            "severity_reason": null, "loss_override": null})
    };
    let long_ago = json!({"at": "2026-10-01T11:00:00Z", "by": "ben"});
    let pulled: Pull = serde_json::from_value(json!({
        "cookie": "org:7:1", "reset": true, "last_mutation_id": 0,
        "incidents": [
            incident("INC-1", "resolved", long_ago.clone()),
            incident("INC-2", "resolved", long_ago.clone()),
            incident("INC-3", "triggered", serde_json::Value::Null),
        ],
        "timeline": [
            {"id": 1, "incident": "INC-1", "at": "2026-10-01T10:00:00Z", "who": null,
             "kind": "opened", "detail": "opened"},
        ],
    }))
    .unwrap();
    store.apply_pull(&pulled, "ben-1", now).unwrap();
    // The person still has a note for INC-2 waiting for the hub.
    store
        .exclusively(|s| {
            let mark = s.replica_mark()?;
            s.add_note(IncidentId(2), &person("ben"), "for the review", now)?;
            s.queue_mutation("note", &json!({}), Some(IncidentId(2)), now, mark)?;
            Ok::<_, stopline_store::StoreError>(())
        })
        .unwrap();

    let pruned = store
        .prune_replica(now - jiff::SignedDuration::from_hours(30 * 24))
        .unwrap();
    assert_eq!(pruned.incidents, 1);
    assert!(
        store.incident(IncidentId(1)).is_err(),
        "INC-1 left the window"
    );
    assert!(
        store.incident(IncidentId(2)).is_ok(),
        "a waiting note keeps INC-2"
    );
    assert!(store.incident(IncidentId(3)).is_ok(), "open incidents stay");
}

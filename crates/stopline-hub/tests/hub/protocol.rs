//! Desktops' pushes and pulls against a real PostgreSQL: each mutation once, the conflict rules,
//! and pulls that miss nothing and see changes in commit order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use stopline_core::config::{Config, DEMO_CONFIG};
use stopline_core::ids::PersonId;
use stopline_core::mutation::{Push, parse_push};
use stopline_hub::{Cookie, Database, HubError, Pushed};

use super::intake::{T0, at, observation};
use super::migrated;

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn config() -> Config {
    Config::parse("demo.toml", DEMO_CONFIG).unwrap()
}

/// A push read from JSON, as the server reads it: `(id, name, args)` per mutation.
fn push(desktop: &str, mutations: &[(u64, &str, Value)]) -> Push {
    let mutations: Vec<Value> = mutations
        .iter()
        .map(|(id, name, args)| json!({"id": id, "name": name, "args": args, "at": T0}))
        .collect();
    let body = json!({"desktop_id": desktop, "mutations": mutations});
    parse_push(body.to_string().as_bytes()).unwrap()
}

/// One open incident, INC-1, for the payment gateway.
async fn one_incident(db: &Database) {
    let opened = db
        .ingest(&[observation("Down", true, true, at(T0))], true, at(T0))
        .await
        .unwrap()
        .opened;
    assert_eq!(opened.len(), 1);
}

async fn send(db: &Database, who: &str, push: &Push) -> Pushed {
    db.push(
        Some(&config()),
        &person(who),
        push,
        at("2026-12-03T10:05:00Z"),
    )
    .await
    .unwrap()
}

fn outcome(pushed: &Pushed, i: usize) -> (&str, Option<&str>) {
    let o = &pushed.outcomes[i];
    (o.outcome, o.reason.as_deref())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_push_changes_nothing_and_answers_as_the_first_time() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let first = push(
        "ben-laptop",
        &[
            (1, "acknowledge", json!({"incident": "INC-1"})),
            (
                2,
                "note",
                json!({"incident": "INC-1", "note_id": "n1", "text": "rolling back"}),
            ),
            (3, "join", json!({"incident": "INC-9"})),
        ],
    );
    let pushed = send(&db, "ben", &first).await;
    assert_eq!(pushed.last_mutation_id, 3);
    assert_eq!(outcome(&pushed, 0), ("applied", None));
    assert_eq!(outcome(&pushed, 1), ("applied", None));
    assert_eq!(
        outcome(&pushed, 2),
        ("refused", Some("there is no incident INC-9 on the hub"))
    );
    let version = postgres.psql("hub", "SELECT version FROM org_version");
    let timeline = postgres.psql("hub", "SELECT count(*) FROM timeline");
    let again = send(&db, "ben", &first).await;
    assert_eq!(again, pushed, "the same answer");
    assert_eq!(
        postgres.psql("hub", "SELECT version FROM org_version"),
        version
    );
    assert_eq!(
        postgres.psql("hub", "SELECT count(*) FROM timeline"),
        timeline
    );
    assert_eq!(
        postgres.psql("hub", "SELECT count(*) FROM audit"),
        "3",
        "each mutation audited once, refusals too"
    );
    // The acknowledgement started the swarm's checklist and stopped the escalation.
    let steps: usize = postgres
        .psql("hub", "SELECT count(*) FROM checklist_steps")
        .parse()
        .unwrap();
    assert!(steps >= 10, "{steps}");
    assert_eq!(
        postgres.psql("hub", "SELECT status FROM escalations"),
        "stopped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_acknowledgement_wins_and_a_later_one_is_kept_on_the_timeline() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let ack = |desktop| push(desktop, &[(1, "acknowledge", json!({"incident": "INC-1"}))]);
    assert_eq!(
        outcome(&send(&db, "aisha", &ack("aisha-1")).await, 0).0,
        "applied"
    );
    let late = send(&db, "ben", &ack("ben-1")).await;
    let (said, reason) = outcome(&late, 0);
    assert_eq!(said, "refused");
    assert!(
        reason
            .unwrap()
            .starts_with("INC-1 is already acknowledged (by aisha at")
            && reason.unwrap().ends_with("yours is kept on its timeline"),
        "{reason:?}"
    );
    assert_eq!(
        postgres.psql("hub", "SELECT acknowledged_by FROM incidents"),
        "aisha"
    );
    assert_eq!(
        postgres.psql("hub", "SELECT detail FROM timeline WHERE who = 'ben'"),
        "ben also acknowledged at 2026-12-03T10:00:00Z, received 2026-12-03T10:05:00Z"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn competing_commanders_one_wins_and_the_other_is_told_who_holds_it() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let claims: Vec<_> = ["aisha", "ben", "carla"]
        .into_iter()
        .map(|who| {
            let db = db.clone();
            tokio::spawn(async move {
                let take = push(
                    &format!("{who}-1"),
                    &[(
                        1,
                        "name_role",
                        json!({"incident": "INC-1", "role": "commander", "person": who, "replaces": null}),
                    )],
                );
                (who, send(&db, who, &take).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut reasons = Vec::new();
    for claim in claims {
        let (who, pushed) = claim.await.unwrap();
        match outcome(&pushed, 0) {
            ("applied", None) => winners.push(who),
            (_, reason) => reasons.push(reason.unwrap().to_owned()),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?} {reasons:?}");
    let winner = winners[0];
    for reason in &reasons {
        assert_eq!(
            reason,
            &format!(
                "incident commander of INC-1 is {winner} now, not nobody as when this was asked; nothing changed"
            )
        );
    }
    assert_eq!(
        postgres.psql("hub", "SELECT person FROM roles WHERE until IS NULL"),
        winner
    );
    // A handover names the holder it replaces.
    let next = if winner == "aisha" { "ben" } else { "aisha" };
    let handover = push(
        &format!("{winner}-2"),
        &[(
            1,
            "name_role",
            json!({"incident": "INC-1", "role": "commander", "person": next, "replaces": winner}),
        )],
    );
    assert_eq!(outcome(&send(&db, winner, &handover).await, 0).0, "applied");
    assert_eq!(
        postgres.psql("hub", "SELECT person FROM roles WHERE until IS NULL"),
        next
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_step_change_applies_only_when_it_moves_the_step_forward() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let step = |desktop: &str, id, from: &str, state: &str| {
        push(
            desktop,
            &[(
                id,
                "change_step",
                json!({"incident": "INC-1", "step": "diagnose", "from": from, "state": state}),
            )],
        )
    };
    let ack = push(
        "aisha-1",
        &[(1, "acknowledge", json!({"incident": "INC-1"}))],
    );
    send(&db, "aisha", &ack).await;
    assert_eq!(
        outcome(
            &send(&db, "aisha", &step("aisha-1", 2, "todo", "doing")).await,
            0
        ),
        ("applied", None)
    );
    // Ben saw it todo and started it too: refused, saying who did.
    let late = send(&db, "ben", &step("ben-1", 1, "todo", "doing")).await;
    assert_eq!(
        outcome(&late, 0),
        (
            "refused",
            Some(
                "step \"diagnose\" is doing now (by aisha), not todo as when this change was made; it stays doing"
            )
        )
    );
    // Ben saw it todo and finished it: further along, so it applies.
    let done = send(&db, "ben", &step("ben-1", 2, "todo", "done")).await;
    assert_eq!(outcome(&done, 0), ("applied", None));
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT state || ' ' || changed_by FROM checklist_steps WHERE step = 'diagnose'"
        ),
        "done ben"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_notes_pushed_twice_are_kept_once_in_one_order() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let notes = 1_000u64;
    let note = |i: u64| json!({"incident": "INC-1", "note_id": format!("note-{i}"), "text": format!("note {i}")});
    // Pushed once, then all again under new mutation ids (a desktop that lost its place).
    for round in 0..2u64 {
        for chunk in (0..notes).collect::<Vec<_>>().chunks(250) {
            let mutations: Vec<_> = chunk
                .iter()
                .map(|i| (round * notes + i + 1, "note", note(*i)))
                .collect();
            let pushed = send(&db, "ben", &push("ben-1", &mutations)).await;
            assert!(pushed.outcomes.iter().all(|o| o.outcome == "applied"));
        }
    }
    assert_eq!(
        postgres.psql("hub", "SELECT count(*) FROM timeline WHERE kind = 'note'"),
        notes.to_string()
    );
    // Two desktops pulling see the same notes in the same order.
    let order = |pulled: &stopline_hub::Pulled| -> Vec<String> {
        pulled
            .timeline
            .iter()
            .filter_map(|t| t["note_id"].as_str().map(str::to_owned))
            .collect()
    };
    let ben = db
        .pull(&person("ben"), "ben-1", None, at(T0))
        .await
        .unwrap();
    let aisha = db
        .pull(&person("aisha"), "aisha-1", None, at(T0))
        .await
        .unwrap();
    assert_eq!(order(&ben).len(), 1_000);
    assert_eq!(order(&ben), order(&aisha));
    assert_eq!(ben.last_mutation_id, 2 * notes);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_loop_misses_none_of_ten_thousand_concurrent_changes_and_sees_commit_order() {
    let (_dir, _postgres, db) = migrated().await;
    one_incident(&db).await;
    let (clients, each) = (20u64, 500u64);
    let writers: Vec<_> = (0..clients)
        .map(|c| {
            let db = db.clone();
            tokio::spawn(async move {
                // Several pushes per client, as a desktop sends its queue.
                for chunk in (1..=each).collect::<Vec<_>>().chunks(50) {
                    let mutations: Vec<_> = chunk
                        .iter()
                        .map(|i| {
                            let args = json!({"incident": "INC-1", "note_id": format!("c{c}-{i}"), "text": "x"});
                            (*i, "note", args)
                        })
                        .collect();
                    send(&db, "ben", &push(&format!("desk-{c}"), &mutations)).await;
                }
            })
        })
        .collect();
    let reader = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut cookie: Option<Cookie> = None;
            let mut seen: Vec<(i64, String)> = Vec::new();
            loop {
                let pulled = db
                    .pull(&person("aisha"), "aisha-1", cookie.as_ref(), at(T0))
                    .await
                    .unwrap();
                assert!(!pulled.reset || cookie.is_none(), "no resync mid-way");
                for row in &pulled.timeline {
                    if let Some(note) = row["note_id"].as_str() {
                        seen.push((row["version"].as_i64().unwrap(), note.to_owned()));
                    }
                }
                cookie = Cookie::parse(&pulled.cookie);
                if seen.len() as u64 >= clients * each {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(60), reader)
        .await
        .expect("the pull loop saw every change")
        .unwrap();
    let unique: BTreeSet<&String> = seen.iter().map(|(_, note)| note).collect();
    assert_eq!(seen.len(), unique.len(), "none twice");
    assert_eq!(unique.len() as u64, clients * each, "none missed");
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "each change after the one before it, in commit order"
    );
    // Each client's own notes arrive in the order it made them.
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for (_, note) in &seen {
        let (client, n) = note.split_once('-').unwrap();
        let n: u64 = n.parse().unwrap();
        assert!(last.insert(client.to_owned(), n).unwrap_or(0) < n);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_desktop_is_its_persons_alone_and_an_expired_cookie_resyncs() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    send(
        &db,
        "ben",
        &push("ben-1", &[(1, "join", json!({"incident": "INC-1"}))]),
    )
    .await;
    let version = postgres.psql("hub", "SELECT version FROM org_version");
    let error = db
        .push(
            Some(&config()),
            &person("aisha"),
            &push("ben-1", &[(2, "leave", json!({"incident": "INC-1"}))]),
            at(T0),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, HubError::DesktopOfAnother { .. }),
        "{error}"
    );
    assert!(matches!(
        db.pull(&person("aisha"), "ben-1", None, at(T0)).await,
        Err(HubError::DesktopOfAnother { .. })
    ));
    assert_eq!(
        postgres.psql("hub", "SELECT version FROM org_version"),
        version,
        "nothing changed"
    );

    let full = db
        .pull(&person("ben"), "ben-1", None, at(T0))
        .await
        .unwrap();
    assert!(full.reset);
    assert_eq!(full.incidents.len(), 1);
    let cookie = Cookie::parse(&full.cookie).unwrap();
    let nothing_new = db
        .pull(&person("ben"), "ben-1", Some(&cookie), at(T0))
        .await
        .unwrap();
    assert!(!nothing_new.reset);
    assert!(nothing_new.incidents.is_empty() && nothing_new.timeline.is_empty());
    // Six hours later the cookie still stands.
    let lifetime = stopline_hub::COOKIE_LIFETIME;
    let still = db
        .pull(&person("ben"), "ben-1", Some(&cookie), at(T0) + lifetime)
        .await
        .unwrap();
    assert!(!still.reset);
    // A cookie of another database (a restored backup, another organisation), from ahead, from
    // an older hub (no time), or older than its lifetime.
    let older_hub = Cookie::parse(&format!("{}:{}", cookie.org_id, cookie.version)).unwrap();
    assert_eq!(older_hub.issued, None);
    for (stale, now) in [
        (
            Cookie {
                org_id: "another-org".into(),
                ..cookie.clone()
            },
            at(T0),
        ),
        (
            Cookie {
                version: cookie.version + 1_000,
                ..cookie.clone()
            },
            at(T0),
        ),
        (older_hub, at(T0)),
        (
            cookie.clone(),
            at(T0) + lifetime + jiff::SignedDuration::from_secs(1),
        ),
    ] {
        let resync = db
            .pull(&person("ben"), "ben-1", Some(&stale), now)
            .await
            .unwrap();
        assert!(resync.reset, "{stale}");
        assert_eq!(resync.incidents.len(), 1, "everything again");
        assert_eq!(resync.timeline.len(), full.timeline.len());
        assert_eq!(resync.last_mutation_id, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restarted_during_a_burst_of_pushes_each_mutation_takes_effect_once() {
    let (_dir, mut postgres, db) = migrated().await;
    one_incident(&db).await;
    let total = 2_000u64;
    let pusher = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut next = 1u64;
            let mut failures = 0;
            while next <= total {
                // A desktop's queue: everything not yet answered, from the oldest.
                let mutations: Vec<_> = (next..=(next + 9).min(total))
                    .map(|i| {
                        let args =
                            json!({"incident": "INC-1", "note_id": format!("n{i}"), "text": "x"});
                        (i, "note", args)
                    })
                    .collect();
                let queued = push("ben-1", &mutations);
                match db
                    .push(Some(&config()), &person("ben"), &queued, at(T0))
                    .await
                {
                    Ok(pushed) => next = pushed.last_mutation_id + 1,
                    Err(_) => {
                        failures += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
            failures
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.stop();
        std::thread::sleep(std::time::Duration::from_millis(500));
        postgres.start_again();
        postgres
    })
    .await
    .unwrap();
    let failures = tokio::time::timeout(std::time::Duration::from_secs(60), pusher)
        .await
        .expect("the pushes finished once PostgreSQL was back")
        .unwrap();
    assert!(failures > 0, "the restart interrupted the burst");
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(DISTINCT note_id) || ' ' || count(*) FROM timeline WHERE kind = 'note'"
        ),
        format!("{total} {total}")
    );
    assert_eq!(
        postgres.psql("hub", "SELECT count(*) FROM audit"),
        total.to_string()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_last_severity_to_reach_the_hub_wins_and_each_is_audited() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    let set = |desktop: &str, severity: &str, reason: &str| {
        push(
            desktop,
            &[(
                1,
                "set_severity",
                json!({"incident": "INC-1", "severity": severity, "reason": reason}),
            )],
        )
    };
    send(
        &db,
        "aisha",
        &set("aisha-1", "minor", "only refunds are slow"),
    )
    .await;
    send(
        &db,
        "ben",
        &set("ben-1", "major", "checkout is failing too"),
    )
    .await;
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT severity || ': ' || severity_reason FROM incidents"
        ),
        "major: checkout is failing too"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT string_agg(person || ' ' || outcome, ', ' ORDER BY id) FROM audit WHERE name = 'set_severity'"
        ),
        "aisha applied, ben applied"
    );
    // Without a reason it is bad input, refused before anything is decided.
    let blank = json!({"desktop_id": "ben-1", "mutations": [{"id": 2, "name": "set_severity",
        "args": {"incident": "INC-1", "severity": "minor", "reason": "  "}, "at": T0}]});
    let error = parse_push(blank.to_string().as_bytes()).unwrap_err();
    assert_eq!(error.path, "mutations[0].args.reason");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_pull_holds_open_incidents_and_those_resolved_within_thirty_days() {
    let (_dir, _postgres, db) = migrated().await;
    one_incident(&db).await;
    send(
        &db,
        "ben",
        &push(
            "ben-1",
            &[(1, "resolve", json!({"incident": "INC-1", "force": true}))],
        ),
    )
    .await;
    let days = |n: i64| at(T0) + jiff::SignedDuration::from_hours(24 * n);
    let soon = db
        .pull(&person("ben"), "ben-1", None, days(10))
        .await
        .unwrap();
    assert_eq!(soon.incidents.len(), 1);
    assert!(!soon.timeline.is_empty() && !soon.alerts.is_empty());
    // Forty days on, a new desktop's replica starts without it.
    let later = db
        .pull(&person("ben"), "ben-2", None, days(40))
        .await
        .unwrap();
    assert!(later.reset);
    assert!(later.incidents.is_empty(), "{:?}", later.incidents);
    assert!(later.timeline.is_empty() && later.alerts.is_empty() && later.escalations.is_empty());
    assert!(later.checklist.is_empty() && later.roles.is_empty() && later.pages.is_empty());
    // A change to it still reaches desktops that pull after a cookie.
    let cookie = Cookie::parse(&later.cookie).unwrap();
    send(
        &db,
        "ben",
        &push(
            "ben-1",
            &[(
                2,
                "note",
                json!({"incident": "INC-1", "note_id": "n-1", "text": "review done"}),
            )],
        ),
    )
    .await;
    let next = db
        .pull(&person("ben"), "ben-2", Some(&cookie), days(40))
        .await
        .unwrap();
    assert!(!next.reset);
    assert_eq!(next.timeline.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn naming_a_commander_and_joining_tick_their_checklist_steps_on_the_hub() {
    let (_dir, postgres, db) = migrated().await;
    one_incident(&db).await;
    // The acknowledgement starts the checklist.
    let ack = push(
        "aisha-1",
        &[(1, "acknowledge", json!({"incident": "INC-1"}))],
    );
    assert_eq!(outcome(&send(&db, "aisha", &ack).await, 0).0, "applied");
    let state = |step: &str| {
        postgres.psql(
            "hub",
            &format!("SELECT state || ' ' || coalesce(changed_by, '') FROM checklist_steps WHERE step = '{step}'"),
        )
    };
    assert_eq!(state("name-commander"), "todo");
    let take = push(
        "aisha-1",
        &[(
            2,
            "name_role",
            json!({"incident": "INC-1", "role": "commander", "person": "aisha", "replaces": null}),
        )],
    );
    assert_eq!(outcome(&send(&db, "aisha", &take).await, 0).0, "applied");
    assert_eq!(state("name-commander"), "done aisha");
    assert_eq!(state("assemble-swarm"), "todo", "one person is not a swarm");
    let join = push("ben-1", &[(1, "join", json!({"incident": "INC-1"}))]);
    assert_eq!(outcome(&send(&db, "ben", &join).await, 0).0, "applied");
    assert_eq!(state("assemble-swarm"), "done ben");
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT detail FROM timeline WHERE detail LIKE '%ticked itself%' ORDER BY id"
        ),
        "Name an incident commander: done (ticked itself: aisha is the commander)\n\
         Assemble the swarm: done (ticked itself: 2 people in the swarm)"
    );
}

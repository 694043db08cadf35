//! Faults across network namespaces (kill -9 during bursts of actions, a partition) and on
//! loopback (a hub restored from a backup, a token gone from the keyring).

use super::*;

#[test]
fn every_action_a_desktop_said_was_saved_reaches_the_hub_exactly_once_through_kill_9() {
    let Some(mut lan) = Lan::new() else { return };
    let org = LanOrg::start(&mut lan, 1, "");
    let primary = payments_primary(&org.sandbox);
    let mut desktops: Vec<Desktop> = [primary.as_str(), teammate_of(&primary)]
        .into_iter()
        .map(|person| org.desktop(&mut lan, 0, person))
        .collect();
    for desktop in &mut desktops {
        desktop.serve();
    }
    org.alert(0, "GatewayDown", "payment-gateway");
    for desktop in &desktops {
        desktop.wait_for("INC-1", |i| i["state"] == "triggered");
    }

    // Bursts of notes from both desktops, each its own `stopline note`; some killed mid-way,
    // and each desktop's engine killed (-9) and started again between bursts, while it pushes.
    // The second desktop is cut off the LAN for two bursts, so its queue grows meanwhile.
    let mut saved = Vec::new();
    let mut cut_short = Vec::new();
    let mut random = crate::support::XorShift(0x5eed_cafe);
    for burst in 0..6 {
        if burst == 2 {
            lan.partition(desktops[1].host.as_ref().unwrap());
        }
        if burst == 4 {
            // Cut off, its actions waited.
            assert!(desktops[1].status()["hub"]["actions_waiting"].as_u64() > Some(0));
            lan.heal(desktops[1].host.as_ref().unwrap());
        }
        for i in 0..8 {
            for desktop in &desktops {
                let text = format!("burst {burst} note {i} from {}", desktop.person);
                let mut child = desktop
                    .command(&["note", "INC-1", &text, "--as", &desktop.person])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                if random.below(4) == 0 {
                    std::thread::sleep(Duration::from_millis(random.below(15)));
                    let _ = child.kill();
                }
                match child.wait().unwrap().code() {
                    Some(0) => saved.push(text),
                    _ => cut_short.push(text),
                }
            }
        }
        // The engines die as hard as they can, then start again on the same queues.
        for desktop in &mut desktops {
            let served = desktop.served.as_mut().unwrap();
            let _ = served.child.kill();
            let _ = served.child.wait();
            desktop.serve();
        }
    }
    assert!(saved.len() >= 60, "{} saved", saved.len());

    // The queues drain; each saved note is on the hub once, and nothing is there twice.
    for desktop in &desktops {
        desktop.wait_drained();
    }
    let notes = org.sql(
        "SELECT detail || '|' || count(*) FROM timeline WHERE kind = 'note' GROUP BY detail ORDER BY detail",
    );
    let counted: std::collections::BTreeMap<String, u32> = notes
        .lines()
        .map(|l| {
            let (text, n) = l.rsplit_once('|').unwrap();
            (text.to_owned(), n.parse().unwrap())
        })
        .collect();
    for text in &saved {
        assert_eq!(counted.get(text), Some(&1), "{text}: {counted:?}");
    }
    assert!(counted.values().all(|n| *n == 1), "{counted:?}");
    assert!(
        counted
            .keys()
            .all(|t| saved.contains(t) || cut_short.contains(t)),
        "{counted:?}"
    );
    // And each desktop's timeline is the hub's.
    for desktop in &desktops {
        desktop.wait_for("INC-1", |shown| {
            let mut here: Vec<String> = shown["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "note")
                .map(|e| e["detail"].as_str().unwrap().to_owned())
                .collect();
            here.sort();
            here == counted.keys().cloned().collect::<Vec<_>>()
        });
    }
    assert_eq!(
        shared(&desktops[0].incident("INC-1")),
        shared(&desktops[1].incident("INC-1"))
    );
    drop(desktops);
}

#[test]
fn across_network_namespaces_two_partitioned_desktops_both_acknowledge_and_every_seat_converges() {
    let Some(mut lan) = Lan::new() else { return };
    let org = LanOrg::start(&mut lan, 2, "");
    let primary = payments_primary(&org.sandbox);
    let others: Vec<&str> = ["aisha", "ben", "carla", "dmitri"]
        .into_iter()
        .filter(|p| *p != primary)
        .take(2)
        .collect();
    let people = [primary.as_str(), others[0], others[1]];
    // Each on a host of its own, joined to one hub or the other.
    let mut desktops: Vec<Desktop> = people
        .iter()
        .enumerate()
        .map(|(i, person)| org.desktop(&mut lan, i % 2, person))
        .collect();
    for desktop in &mut desktops {
        desktop.serve();
    }

    // An alert to the first hub, from its own host.
    org.alert(0, "GatewayDown", "payment-gateway");
    for desktop in &desktops {
        desktop.wait_for("INC-1", |i| i["state"] == "triggered");
    }
    // Only the person on call is notified, on their desktop.
    desktops[0].notifications.wait_for_notifications(1);
    std::thread::sleep(Duration::from_millis(500));
    assert!(desktops[1].notifications.notifications().is_empty());
    assert!(desktops[2].notifications.notifications().is_empty());

    // Two desktops cut off from the LAN both acknowledge: each applies it at once, pending.
    for desktop in &desktops[..2] {
        lan.partition(desktop.host.as_ref().unwrap());
    }
    for desktop in &desktops[..2] {
        desktop.ok(&["ack", "INC-1", "--as", &desktop.person]);
        assert_eq!(
            desktop.incident("INC-1")["hub_actions"][0]["status"],
            "pending"
        );
    }
    // The third, still connected, sees neither yet.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(desktops[2].incident("INC-1")["state"], "triggered");

    // Healed: one winner, both acknowledgements on every timeline, every seat as the hub.
    for desktop in &desktops[..2] {
        lan.heal(desktop.host.as_ref().unwrap());
    }
    for desktop in &desktops[..2] {
        desktop.wait_for("INC-1", |i| {
            i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
        });
    }
    let winner = org.sql("SELECT acknowledged_by FROM incidents WHERE id = 1");
    assert!(people[..2].contains(&winner.as_str()), "{winner}");
    let hub_timeline = org.sql(
        "SELECT string_agg(kind || ':' || detail, E'\\n' ORDER BY id) FROM timeline WHERE incident_id = 1",
    );
    assert!(hub_timeline.contains("also acknowledged"), "{hub_timeline}");
    for desktop in &desktops {
        desktop.wait_for("INC-1", |i| {
            i["acknowledged_by"] == winner.as_str()
                && i["timeline"].as_array().unwrap().iter().any(|e| {
                    e["detail"]
                        .as_str()
                        .unwrap_or("")
                        .contains("also acknowledged")
                })
        });
    }
    let seats: Vec<Value> = desktops
        .iter()
        .map(|d| shared(&d.incident("INC-1")))
        .collect();
    assert_eq!(seats[0], seats[1]);
    assert_eq!(seats[1], seats[2]);
    let entries = seats[0]["timeline"].as_array().unwrap().len();
    let on_hub: usize = org
        .sql("SELECT count(*) FROM timeline WHERE incident_id = 1")
        .parse()
        .unwrap();
    assert_eq!(entries, on_hub, "every seat has the hub's timeline");

    // Another incident, to the second hub: the person on call acknowledges it from the
    // notification on their desktop, and escalation stops everywhere; nobody else was notified.
    org.alert(1, "RefundsStuck", "refunds");
    // (The desktop that lost the race above showed its person the refusal: a notification too.)
    let refunds = |n: &Value| {
        n["summary"]
            .as_str()
            .is_some_and(|s| s.contains("RefundsStuck"))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        // The mock numbers notifications 1, 2, … in the order they were shown.
        let shown = desktops[0].notifications.notifications();
        if let Some(at) = shown.iter().position(refunds) {
            break at;
        }
        assert!(Instant::now() < deadline, "never paged: {shown:#?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    desktops[0]
        .notifications
        .invoke(u32::try_from(page + 1).unwrap(), "acknowledge");
    for desktop in &desktops {
        desktop.wait_for("INC-2", |i| {
            i["state"] == "acknowledged" && i["acknowledged_by"] == primary.as_str()
        });
    }
    assert_eq!(
        org.sql("SELECT status FROM escalations WHERE incident_id = 2"),
        "stopped"
    );
    for desktop in &desktops[1..] {
        let shown = desktop.notifications.notifications();
        assert!(!shown.iter().any(refunds), "{shown:#?}");
    }
    let seats: Vec<Value> = desktops
        .iter()
        .map(|d| shared(&d.incident("INC-2")))
        .collect();
    assert_eq!(seats[0], seats[1]);
    assert_eq!(seats[1], seats[2]);
    drop(desktops);
}

#[test]
fn a_hub_restored_from_a_backup_resyncs_every_desktop_in_full_and_keeps_its_waiting_actions() {
    let mut org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let mut desktop = Desktop::join(&org, 0, &primary);
    desktop.serve();
    org.alert("GatewayDown");
    desktop.wait_for("INC-1", |i| i["state"] == "triggered");
    // Last night's backup; then more happens, which the desktop pulls.
    let backup = org.postgres.dump("org");
    let (status, body) =
        org.hubs[0].post_alerts(TOKEN, &[("CheckoutDown", &[("service", "checkout-web")])]);
    assert_eq!(status, 200, "{body}");
    desktop.wait_for("INC-2", |i| i["state"] == "triggered");

    // The hub is lost and restored from the backup while the desktop keeps working.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    for i in 0..30 {
        desktop.ok(&[
            "note",
            "INC-1",
            &format!("while away {i}"),
            "--as",
            &primary,
        ]);
    }
    assert_eq!(desktop.status()["hub"]["actions_waiting"], 30);
    org.postgres.restore("org", &backup);
    org.hubs.push(org.hub(Some(&address)));

    // The desktop's cookie is ahead of the restored database: it resyncs in full (INC-2 is
    // gone with what the backup lacks), and every waiting note reaches the hub once.
    desktop.wait_drained();
    org.wait_for_sql(
        "SELECT count(DISTINCT detail) || '/' || count(*) FROM timeline WHERE kind = 'note'",
        "30/30",
    );
    desktop.wait_for_ids(&["INC-1"]);
    let here = desktop.incident("INC-1");
    let entries = here["timeline"].as_array().unwrap().len();
    let on_hub: usize = org
        .sql("SELECT count(*) FROM timeline WHERE incident_id = 1")
        .parse()
        .unwrap();
    assert_eq!(entries, on_hub, "{here:#}");
}

#[test]
fn a_desktop_whose_hub_token_is_gone_from_the_keyring_still_starts_and_says_why() {
    let org = Org::start(1);
    let mut desktop = Desktop::join(&org, 0, "ben");
    let entry = format!(
        "hub-token.{}",
        desktop.status()["hub"]["desktop_id"].as_str().unwrap()
    );
    desktop.ok(&["secret", "delete", &entry]);
    desktop.serve();
    let status = desktop.status();
    assert_eq!(status["hub"]["connected"], false, "{status:#}");
    let error = status["hub"]["error"].as_str().unwrap();
    assert!(error.contains("missing from the OS keyring"), "{error}");
    // Everything local still works.
    assert!(desktop.json(&["incidents"]).as_array().unwrap().is_empty());
}

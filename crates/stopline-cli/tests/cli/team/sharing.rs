//! On loopback: one incident shared by joined desktops, two desktops acknowledging while the hub
//! is away, and a desktop on its own while the hub is away.

use super::*;

#[test]
fn joined_desktops_share_one_incident_and_only_the_person_on_call_is_paged() {
    let org = Org::start(2);
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut on_call = Desktop::join(&org, 0, &primary);
    // The teammate's desktop talks to the other hub: replicas share one database.
    let mut other = Desktop::join(&org, 1, teammate);
    on_call.serve();
    other.serve();
    let status = on_call.status();
    assert_eq!(status["person"], primary.as_str());
    assert_eq!(status["hub"]["person"], primary.as_str());
    assert_eq!(status["hub"]["url"], org.url(0));

    org.alert("GatewayDown");
    on_call.wait_for("INC-1", |i| i["state"] == "triggered");
    other.wait_for("INC-1", |i| i["state"] == "triggered");
    // Only the person on call is notified, on their own desktop.
    let shown = on_call.notifications.wait_for_notifications(1);
    assert_eq!(
        shown[0]["summary"], "Payment Gateway: GatewayDown",
        "{shown:#?}"
    );
    // The receipt reaches the hub.
    org.wait_for_sql("SELECT count(*) FROM page_receipts", "1");

    // The acknowledgement on the on-call desktop reaches the other within a second or so, and
    // stops escalation on the hub.
    on_call.ok(&["ack", "INC-1", "--as", &primary]);
    let took = other.wait_for("INC-1", |i| i["state"] == "acknowledged");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        org.sql("SELECT status FROM escalations WHERE incident_id = 1"),
        "stopped"
    );
    assert!(other.notifications.notifications().is_empty());
    // The hub, and every seat, agree.
    on_call.wait_for("INC-1", |i| {
        i["hub_actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"] == "applied"))
    });
    assert_eq!(
        shared(&on_call.incident("INC-1")),
        shared(&other.incident("INC-1"))
    );

    // A page acknowledged on another desktop closes here within a second.
    let (status, body) =
        org.hubs[0].post_alerts(TOKEN, &[("RefundsDown", &[("service", "refunds")])]);
    assert_eq!(status, 200, "{body}");
    on_call.notifications.wait_for_notifications(2);
    other.wait_for("INC-2", |i| i["state"] == "triggered");
    let closes = || {
        on_call
            .notifications
            .calls()
            .iter()
            .filter(|c| c["method"] == "CloseNotification")
            .count()
    };
    let closed_before = closes();
    other.ok(&["ack", "INC-2", "--as", teammate]);
    let started = Instant::now();
    while closes() == closed_before {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the page was not closed on the on-call desktop within a second"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "page closed on the on-call desktop {:?} after the teammate's ack",
        started.elapsed()
    );
    assert!(other.notifications.notifications().is_empty());

    // A desktop acts as its person only.
    let as_other = on_call.run(&["ack", "INC-1", "--as", teammate]);
    assert_eq!(as_other.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&as_other.stderr).contains("it acts only as"),
        "{}",
        String::from_utf8_lossy(&as_other.stderr)
    );
}

#[test]
fn two_desktops_cut_off_from_the_hub_both_acknowledge_and_converge_on_one_winner() {
    let mut org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut first = Desktop::join(&org, 0, &primary);
    let mut second = Desktop::join(&org, 0, teammate);
    first.serve();
    second.serve();
    org.alert("GatewayDown");
    first.wait_for("INC-1", |i| i["state"] == "triggered");
    second.wait_for("INC-1", |i| i["state"] == "triggered");
    org.wait_for_sql("SELECT count(*) FROM page_receipts", "1");

    // The hub goes away: both desktops keep working on their replicas.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    let offline = |desktop: &Desktop| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = desktop.status();
            if status["hub"]["connected"] == false {
                return status;
            }
            assert!(Instant::now() < deadline, "never offline: {status:#}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    offline(&first);
    offline(&second);
    for desktop in [&first, &second] {
        desktop.ok(&["ack", "INC-1", "--as", &desktop.person]);
        let shown = desktop.incident("INC-1");
        assert_eq!(shown["state"], "acknowledged");
        assert_eq!(shown["hub_actions"][0]["status"], "pending");
        let status = desktop.status();
        assert_eq!(status["hub"]["actions_waiting"], 1);
        let text = String::from_utf8_lossy(&desktop.run(&["status"]).stdout).into_owned();
        assert!(
            text.contains("offline since") && text.contains("1 actions waiting"),
            "{text}"
        );
    }
    // The second to push loses; the first's stands. Bring the hub back on the same address.
    org.hubs.push(org.hub(Some(&address)));
    first.wait_for("INC-1", |i| {
        i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
    });
    second.wait_for("INC-1", |i| {
        i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
    });
    let (a, b) = (first.incident("INC-1"), second.incident("INC-1"));
    let outcomes = [
        a["hub_actions"][0]["status"].clone(),
        b["hub_actions"][0]["status"].clone(),
    ];
    assert!(
        outcomes.contains(&Value::from("applied")) && outcomes.contains(&Value::from("refused")),
        "{outcomes:?}"
    );
    let loser = if a["hub_actions"][0]["status"] == "refused" {
        &a
    } else {
        &b
    };
    let reason = loser["hub_actions"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("already acknowledged"), "{reason}");
    // Both acknowledgements are on every timeline, and every seat agrees with the hub.
    let winner_name = org.sql("SELECT acknowledged_by FROM incidents WHERE id = 1");
    for desktop in [&first, &second] {
        desktop.wait_for("INC-1", |i| {
            i["timeline"].as_array().unwrap().iter().any(|e| {
                e["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("also acknowledged")
            })
        });
        let shown = desktop.incident("INC-1");
        assert_eq!(shown["acknowledged_by"], winner_name.as_str());
    }
    assert_eq!(
        shared(&first.incident("INC-1")),
        shared(&second.incident("INC-1"))
    );
    drop(first);
    drop(second);
}

#[test]
fn while_the_hub_is_away_each_desktop_pages_only_its_own_person_and_merges_when_it_returns() {
    let am_dir = tempfile::tempdir().unwrap();
    let alertmanager = stopline_tests::alertmanager::Alertmanager::start(
        am_dir.path(),
        stopline_tests::free_port(),
        None,
    );
    let mut org = Org::start_with(
        1,
        &format!(
            "\n[hub]\ndegraded_after = \"2s\"\n\n[[sources]]\nname = \"prod-am\"\nkind = \"alertmanager\"\nurls = [\"{}\"]\npoll_interval = \"1s\"\nwrite_back = true\nsilence_duration = \"2h\"\n",
            alertmanager.url()
        ),
    );
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut on_call = Desktop::join(&org, 0, &primary);
    let mut other = Desktop::join(&org, 0, teammate);
    on_call.serve();
    other.serve();

    // The hub goes away; after `degraded_after` each desktop polls the Alertmanager itself.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    for desktop in [&on_call, &other] {
        desktop
            .served
            .as_ref()
            .unwrap()
            .wait_for_log("pages its own person until it returns");
    }
    alertmanager.post_alert_with("GatewayDown", &[("service", "payment-gateway")], None);
    let provisional = |desktop: &Desktop| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listed = desktop.json(&["incidents"]);
            if let Some(id) = listed
                .as_array()
                .unwrap()
                .first()
                .map(|i| i["id"].as_str().unwrap().to_owned())
            {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no provisional incident on {}'s desktop",
                desktop.person
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mine = provisional(&on_call);
    let theirs = provisional(&other);
    assert!(mine.starts_with("INC-100000000"), "{mine}");
    // Only the person on call is paged, on their own desktop.
    let shown = on_call.notifications.wait_for_notifications(1);
    let gateway = |n: &Value| {
        n["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Payment Gateway: GatewayDown"))
    };
    assert!(gateway(&shown[0]), "{shown:#?}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(other.notifications.notifications().is_empty());

    // The on-call person acknowledges: the desktop writes a Stopline silence back, and the
    // teammate's desktop stops escalating through it.
    on_call.ok(&["ack", &mine, "--as", &primary]);
    let elsewhere = |i: &Value| {
        i["state"] == "acknowledged"
            && i["timeline"].as_array().unwrap().iter().any(|e| {
                e["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("acknowledged elsewhere")
            })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !elsewhere(&other.incident(&theirs)) {
        assert!(
            Instant::now() < deadline,
            "{theirs} never acknowledged elsewhere on {teammate}'s desktop.\nsilences: {:#?}\nalerts: {:?}\n{primary}'s engine: {:#?}\n{teammate}'s engine: {:#?}\nmine: {:#}",
            alertmanager.silences(),
            alertmanager.request("GET", "/api/v2/alerts", None),
            on_call.served.as_ref().unwrap().seen_lines(),
            other.served.as_ref().unwrap().seen_lines(),
            on_call.incident(&mine),
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The hub returns: it takes the alert (a Stopline silence does not hide it from Stopline),
    // the provisional incidents merge into its incident, the waiting acknowledgement reaches
    // it, and nobody is paged twice.
    org.hubs.push(org.hub(Some(&address)));
    org.wait_for_sql("SELECT count(*) FROM incidents", "1");
    for desktop in [&on_call, &other] {
        desktop.wait_for("INC-1", |i| i["state"] == "acknowledged");
        desktop.wait_for_ids(&["INC-1"]);
    }
    assert_eq!(
        org.sql("SELECT acknowledged_by FROM incidents WHERE id = 1"),
        primary
    );
    org.wait_for_sql(
        "SELECT status FROM escalations WHERE incident_id = 1",
        "stopped",
    );
    on_call.wait_for("INC-1", |i| {
        i["hub_actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|a| a["status"] == "applied"))
    });
    std::thread::sleep(Duration::from_secs(1));
    let pages: Vec<Value> = on_call
        .notifications
        .notifications()
        .into_iter()
        .filter(|n| gateway(n))
        .collect();
    assert_eq!(pages.len(), 1, "paged once for the step: {pages:#?}");
    assert!(other.notifications.notifications().is_empty());
    assert_eq!(
        shared(&on_call.incident("INC-1")),
        shared(&other.incident("INC-1"))
    );
}

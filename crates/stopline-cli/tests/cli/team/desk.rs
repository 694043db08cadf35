//! On loopback: the service desk and the rotas on joined desktops. An incident opened by hand,
//! a customer's report and an override are kept here at once and queued for the hub, which
//! shares them with every seat.

use super::*;

/// A hub, and two seats serving: the service desk (a payments teammate) and the person on call
/// for payments.
fn desk_and_on_call() -> (Org, Desktop, Desktop) {
    let org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let mut desk = Desktop::join(&org, 0, teammate_of(&primary));
    let mut on_call = Desktop::join(&org, 0, &primary);
    desk.serve();
    on_call.serve();
    (org, desk, on_call)
}

#[test]
fn the_service_desk_and_overrides_work_on_a_joined_desktop_and_reach_every_seat() {
    let (org, desk, on_call) = desk_and_on_call();
    let desk_person = desk.person.clone();
    let desk_person = desk_person.as_str();

    // Opened by hand: a provisional number here at once, then the hub's.
    let said = desk.ok(&[
        "open",
        "--app",
        "payment-gateway",
        "--title",
        "Customers cannot pay",
        "--as",
        desk_person,
    ]);
    assert!(said.contains("Opened INC-1000000001"), "{said}");
    assert!(said.contains("until the hub opens it"), "{said}");
    // A note taken on the provisional copy before the hub has it follows it to the hub's.
    desk.ok(&[
        "note",
        "INC-1000000001",
        "first customer call",
        "--as",
        desk_person,
    ]);

    // The hub opens it for everyone and pages the person on call.
    on_call.wait_for("INC-1", |i| i["title"] == "Customers cannot pay");
    let shown = on_call.notifications.wait_for_notifications(1);
    assert!(
        shown[0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Customers cannot pay")),
        "{shown:#?}"
    );
    assert_eq!(
        org.sql("SELECT opened_by || ' ' || application_id FROM incidents"),
        format!("{desk_person} payment-gateway")
    );
    let has_note = |i: &Value| {
        i["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"] == "first customer call")
    };
    desk.wait_for("INC-1", has_note);
    on_call.wait_for("INC-1", has_note);
    desk.wait_for_ids(&["INC-1"]);
    // The number the desk was told still leads to the incident.
    assert_eq!(desk.incident("INC-1000000001")["id"], "INC-1");

    // A customer's report is a note on the incident everyone shares.
    desk.ok(&[
        "note",
        "INC-1",
        "I can't pay for my basket",
        "--customer",
        "--ref",
        "CS-4411",
        "--as",
        desk_person,
    ]);
    on_call.wait_for("INC-1", |i| {
        i["timeline"].as_array().unwrap().iter().any(|e| {
            e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("CS-4411") && d.contains("I can't pay"))
        })
    });
    // Every action of this desktop decided by the hub before comparing.
    desk.wait_for("INC-1", |i| {
        i["hub_actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|a| a["status"] == "applied"))
    });
    assert_eq!(
        shared(&desk.incident("INC-1")),
        shared(&on_call.incident("INC-1"))
    );

    // An override from the desk's desktop: in its own on-call view at once, and the hub's and
    // the other seat's once pushed. The config file is left alone.
    let config_before = desk.sandbox.read_config();
    let covered = desk.json(&[
        "override",
        "--rota",
        "payments-oncall",
        "--person",
        desk_person,
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2099-01-01T00:00:00Z",
        "--as",
        desk_person,
    ]);
    assert_eq!(covered["waiting_for_hub"], true, "{covered:#}");
    assert_eq!(covered["config"], Value::Null);
    assert_eq!(desk.sandbox.read_config(), config_before);
    let holder = |desktop: &Desktop| {
        desktop.json(&["oncall", "--team", "payments"])["rotas"][0]["layers"][0]["now"]["person"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(holder(&desk).as_deref(), Some(desk_person));
    org.wait_for_sql("SELECT person FROM overrides", desk_person);
    let deadline = Instant::now() + Duration::from_secs(20);
    while holder(&on_call).as_deref() != Some(desk_person) {
        assert!(
            Instant::now() < deadline,
            "the other seat never saw the override"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A refused override changes nothing and says why.
    let refused = desk.run(&[
        "override",
        "--rota",
        "payments-oncall",
        "--person",
        "nobody",
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2099-01-01T00:00:00Z",
        "--as",
        desk_person,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("nobody"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(desk.status()["hub"]["actions_waiting"], 0);
}

#[test]
fn an_unrouted_alert_routed_by_hand_on_a_joined_desktop_pages_the_team_through_the_hub() {
    let (org, desk, on_call) = desk_and_on_call();
    let desk_person = desk.person.clone();
    let desk_person = desk_person.as_str();

    // An alert no application matches reaches the desk's unrouted queue.
    let (status, body) =
        org.hubs[0].post_alerts(TOKEN, &[("QueueStuck", &[("service", "mystery-box")])]);
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let fingerprint = loop {
        let queue = desk.json(&["unrouted"]);
        if let Some(first) = queue.as_array().and_then(|a| a.first()) {
            break first["fingerprint"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "never unrouted here: {queue:#}");
        std::thread::sleep(Duration::from_millis(100));
    };

    // Saving a route would change the organisation's config: refused by name, nothing done.
    let refused = desk.run(&[
        "assign",
        &fingerprint,
        "--app",
        "refunds",
        "--save",
        "--as",
        desk_person,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--save") && said.contains("shared"), "{said}");
    assert_eq!(desk.status()["hub"]["actions_waiting"], 0);
    assert!(
        desk.json(&["incidents", "--state", "all"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Routed by hand: a provisional incident here at once, then the hub's, paged.
    let said = desk.ok(&[
        "assign",
        &fingerprint,
        "--app",
        "refunds",
        "--as",
        desk_person,
    ]);
    assert!(said.contains("INC-1000000001"), "{said}");
    assert!(said.contains("until the hub routes the alert"), "{said}");
    on_call.wait_for("INC-1", |i| i["application"] == "refunds");
    let shown = on_call.notifications.wait_for_notifications(1);
    assert!(
        shown[0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("QueueStuck")),
        "{shown:#?}"
    );
    assert!(
        desk.notifications.notifications().is_empty(),
        "the desk is not paged"
    );
    desk.wait_for_ids(&["INC-1"]);
    assert_eq!(desk.incident("INC-1000000001")["id"], "INC-1");
    let routed_by = |i: &Value| {
        i["timeline"].as_array().unwrap().iter().any(|e| {
            e["who"] == desk_person
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("routed by hand to refunds"))
        })
    };
    desk.wait_for("INC-1", |i| {
        routed_by(i) && i["hub_actions"][0]["status"] == "applied"
    });
    on_call.wait_for("INC-1", routed_by);
    assert!(desk.json(&["unrouted"]).as_array().unwrap().is_empty());
    assert_eq!(
        shared(&desk.incident("INC-1")),
        shared(&on_call.incident("INC-1"))
    );
}

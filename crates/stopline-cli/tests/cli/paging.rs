//! Paging as the person at the desk sees it: `stopline serve` with a real D-Bus session bus and a
//! real notification server (python3-dbusmock's notification daemon), alerts posted to the
//! webhook, the Notify calls read back from the server, and its Acknowledge button pressed.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{
    NotificationServer, Sandbox, Served, XorShift, incident, integrity_ok, payments_primary,
    wait_for_incident,
};
use serde_json::Value;

/// Someone else in payments: not primary on its rota right now.
fn payments_teammate(primary: &str) -> &'static str {
    ["aisha", "ben", "carla", "dmitri"]
        .into_iter()
        .find(|p| *p != primary)
        .unwrap()
}

/// Appends `extra` to the demo config.
fn add_config(sandbox: &Sandbox, extra: &str) {
    let config = sandbox.read_config() + extra;
    sandbox.write_config(&config);
}

/// The desk of whoever is primary on the payments rota now: a notification server that shows
/// actions, `stopline serve` on its bus, and the webhook token. Fields drop in order: the engine
/// stops before its notification server.
struct Desk {
    served: Served,
    server: NotificationServer,
    me: String,
    token: String,
}

impl Desk {
    fn of_the_payments_primary(sandbox: &Sandbox) -> Self {
        let server = NotificationServer::start(sandbox.dir.path(), "body actions");
        let me = payments_primary(sandbox);
        sandbox.ok(&["whoami", "--set", &me]);
        let served = Served::start_with_env(sandbox, &[], &server.env);
        let token = sandbox.ok(&["token"]).trim().to_owned();
        Self {
            served,
            server,
            me,
            token,
        }
    }
}

/// Whether the incident has a page with `field` equal to `value` that this desk has handled.
fn delivered(incident: &Value, field: &str, value: u64) -> bool {
    incident["pages"].as_array().is_some_and(|pages| {
        pages
            .iter()
            .any(|p| p[field] == value && p["delivered_at"].is_string())
    })
}

#[test]
fn a_page_shows_as_a_critical_notification_and_acknowledge_stops_it() {
    let sandbox = Sandbox::demo();
    let Desk {
        served,
        server,
        me,
        token,
    } = Desk::of_the_payments_primary(&sandbox);
    served.wait_for_log("notifications available (mock-notify 1.0, with actions)");

    let (status, _) = served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    assert_eq!(status, 200);
    let shown = server.wait_for_notifications(1);
    let page = &shown[0];
    assert_eq!(page["app"], "Stopline");
    assert_eq!(page["summary"], "Payment Gateway: HighErrorRate");
    let body = page["body"].as_str().unwrap();
    for part in [
        "INC-1",
        "Payments",
        "major",
        "est. loss GBP 780,000/h",
        "open ",
        "You are paged as primary on payments-oncall",
    ] {
        assert!(body.contains(part), "{part:?} missing from {body:?}");
    }
    assert_eq!(page["urgency"], 2, "critical");
    assert_eq!(page["timeout"], 0, "never expires");
    // No window to open from `stopline serve`: Acknowledge only.
    assert_eq!(
        page["actions"],
        serde_json::json!(["acknowledge", "Acknowledge"])
    );

    // The button, pressed (again, if the pager had not begun listening yet).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        server.invoke(1, "acknowledge");
        std::thread::sleep(Duration::from_millis(200));
        if incident(&sandbox, "INC-1")["state"] == "acknowledged" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the Acknowledge action never landed"
        );
    }
    let shown = incident(&sandbox, "INC-1");
    assert_eq!(shown["acknowledged_by"], me.as_str());
    assert_eq!(shown["escalation"]["status"], "stopped");
    assert_eq!(shown["pages"].as_array().unwrap().len(), 1);
    assert!(shown["pages"][0]["delivered_at"].is_string());
    // Paging stops: a secondary would be due in five minutes; nothing more is shown or closed
    // twice. The notification itself was taken away.
    std::thread::sleep(Duration::from_millis(1500));
    let calls = server.calls();
    assert_eq!(
        calls.iter().filter(|c| c["method"] == "Notify").count(),
        1,
        "{calls:#?}"
    );
    assert!(
        calls.iter().any(|c| c["method"] == "CloseNotification"),
        "{calls:#?}"
    );
}

#[test]
fn acknowledge_on_a_notification_with_nobody_at_the_desk_says_what_to_do() {
    let sandbox = Sandbox::demo();
    let Desk {
        served,
        server,
        token,
        ..
    } = Desk::of_the_payments_primary(&sandbox);
    served.wait_for_log("notifications available");
    served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    server.wait_for_notifications(1);
    // The person at the desk leaves it; the page is still on the screen.
    sandbox.ok(&["whoami", "--clear"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let said = loop {
        server.invoke(1, "acknowledge");
        if let Some(line) = served
            .seen_lines()
            .into_iter()
            .find(|l| l.contains("acknowledge from the notification failed"))
        {
            break line;
        }
        assert!(Instant::now() < deadline, "the press was never answered");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        said.contains("nobody sits at this desktop") && said.contains("stopline whoami --set"),
        "{said}"
    );
    assert!(!said.contains("unknown person"), "{said}");
    assert_eq!(
        incident(&sandbox, "INC-1")["state"],
        "triggered",
        "nothing changed"
    );
}

#[test]
fn open_starts_the_desktop_app_on_the_incident() {
    let sandbox = Sandbox::demo();
    let server = NotificationServer::start(sandbox.dir.path(), "body actions");
    let me = payments_primary(&sandbox);
    sandbox.ok(&["whoami", "--set", &me]);
    // Stands in for the desktop app: records what it was started with.
    let app = sandbox.dir.path().join("desktop-app");
    let started = sandbox.dir.path().join("desktop-app.env");
    std::fs::write(
        &app,
        format!(
            "#!/bin/sh\n{{ echo \"args: $*\"; env | grep '^STOPLINE_'; }} > '{}'\n",
            started.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut env = server.env.clone();
    env.push(("STOPLINE_DESKTOP".to_owned(), app.display().to_string()));
    let served = Served::start_with_env(&sandbox, &[], &env);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    let shown = server.wait_for_notifications(1);
    assert_eq!(
        shown[0]["actions"],
        serde_json::json!(["acknowledge", "Acknowledge", "open", "Open"])
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        server.invoke(1, "open");
        std::thread::sleep(Duration::from_millis(200));
        assert!(Instant::now() < deadline, "Open never started the app");
    }
    std::thread::sleep(Duration::from_millis(100));
    let env = std::fs::read_to_string(&started).unwrap();
    assert!(env.starts_with("args: --open INC-1\n"), "{env}");
    assert!(
        env.contains(&format!(
            "STOPLINE_DATA_DIR={}",
            sandbox.dir.path().join("data").display()
        )),
        "{env}"
    );
    // Opening is not acknowledging.
    assert_eq!(incident(&sandbox, "INC-1")["state"], "triggered");
}

#[test]
fn acknowledging_elsewhere_takes_the_notification_away() {
    let sandbox = Sandbox::demo();
    let Desk {
        served,
        server,
        token,
        ..
    } = Desk::of_the_payments_primary(&sandbox);
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    server.wait_for_notifications(1);
    // A teammate acknowledges from a terminal: the page on this desktop goes away.
    sandbox.ok(&["ack", "INC-1", "--as", "aisha"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .calls()
        .iter()
        .any(|c| c["method"] == "CloseNotification")
    {
        assert!(
            Instant::now() < deadline,
            "the notification was never closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.notifications().len(), 1);
}

#[test]
fn one_notification_per_incident_per_repeat_of_the_escalation() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config().replace(
        "ack_timeout = \"5m\"\nrepeat = 2",
        "ack_timeout = \"1s\"\nrepeat = 1",
    );
    sandbox.write_config(&config);
    let Desk {
        served,
        server,
        token,
        ..
    } = Desk::of_the_payments_primary(&sandbox);
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    // The first round: primary (this desk), secondary (someone else), then all hands, which
    // includes this desk again: still one notification.
    wait_for_incident(&sandbox, "INC-1", |i| delivered(i, "step", 2));
    assert_eq!(server.notifications().len(), 1, "{:#?}", server.calls());
    // The repeat pages the primary again: a new notification, the old one taken away.
    wait_for_incident(&sandbox, "INC-1", |i| delivered(i, "repeat", 1));
    let calls = server.calls();
    assert_eq!(
        calls.iter().filter(|c| c["method"] == "Notify").count(),
        2,
        "{calls:#?}"
    );
    assert!(calls.iter().any(|c| c["method"] == "CloseNotification"));
}

#[test]
fn a_flood_of_pages_becomes_one_summary_notification() {
    let sandbox = Sandbox::demo();
    add_config(
        &sandbox,
        "\n[alerts]\ngroup_by = [\"instance\"]\n\n[notifications]\nflood_threshold = 2\n",
    );
    let Desk {
        served,
        server,
        token,
        ..
    } = Desk::of_the_payments_primary(&sandbox);
    let instances = ["a", "b", "c", "d", "e"];
    let alerts: Vec<[(&str, &str); 2]> = instances
        .iter()
        .map(|i| [("service", "payment-gateway"), ("instance", *i)])
        .collect();
    let alerts: Vec<(&str, &[(&str, &str)])> =
        alerts.iter().map(|l| ("HighLatency", &l[..])).collect();
    let (status, body) = served.post_alerts(&token, &alerts);
    assert_eq!(status, 200, "{body}");
    // Five incidents: two pages, then one summary, updated in place for the other three.
    let shown = server.wait_for_notifications(5);
    let summaries: Vec<&Value> = shown
        .iter()
        .filter(|n| {
            n["summary"]
                .as_str()
                .unwrap()
                .contains("pages in the last minute")
        })
        .collect();
    assert_eq!(shown.len() - summaries.len(), 2, "{shown:#?}");
    assert_eq!(summaries.len(), 3, "{shown:#?}");
    assert_eq!(summaries[0]["replaces_id"], 0);
    assert_eq!(
        summaries[1]["replaces_id"], 3,
        "the summary replaces itself"
    );
    assert_eq!(summaries[2]["replaces_id"], 3);
    assert_eq!(
        summaries[2]["summary"],
        "Stopline: 5 pages in the last minute"
    );
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(server.notifications().len(), 5, "nothing more");
}

#[test]
fn a_teammates_page_is_recorded_but_not_shown_unless_configured() {
    let sandbox = Sandbox::demo();
    let server = NotificationServer::start(sandbox.dir.path(), "body");
    let me = payments_primary(&sandbox);
    let teammate = payments_teammate(&me);
    sandbox.ok(&["whoami", "--set", teammate]);
    let served = Served::start_with_env(&sandbox, &[], &server.env);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    let shown = wait_for_incident(&sandbox, "INC-1", |i| {
        i["pages"][0]["delivered_at"].is_string()
    });
    assert_eq!(shown["pages"][0]["person"], me.as_str());
    assert!(server.notifications().is_empty(), "not this desk's page");
    drop(served);

    // With teammates' pages on, they show, as ordinary notifications without buttons.
    add_config(&sandbox, "\n[notifications]\nteammates = true\n");
    let served = Served::start_with_env(&sandbox, &[], &server.env);
    served.post_alerts(&token, &[("Down", &[("service", "refunds")])]);
    let shown = server.wait_for_notifications(1);
    assert_eq!(shown[0]["summary"], "Refunds: Down");
    assert_eq!(shown[0]["urgency"], 1, "normal, not critical");
    assert_eq!(shown[0]["actions"], serde_json::json!([]));
    let body = shown[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("{me} is paged as primary on payments-oncall")),
        "{body}"
    );
}

#[test]
fn this_desktops_choice_of_teammates_pages_wins_over_the_config() {
    let sandbox = Sandbox::demo();
    let server = NotificationServer::start(sandbox.dir.path(), "body");
    let me = payments_primary(&sandbox);
    let teammate = payments_teammate(&me);
    sandbox.ok(&["whoami", "--set", teammate]);
    let chosen = sandbox.json(&[
        "notifications",
        "--teammates",
        "on",
        "--flood-threshold",
        "9",
    ]);
    assert_eq!(
        chosen,
        serde_json::json!({"teammates": true, "flood_threshold": 9})
    );
    let served = Served::start_with_env(&sandbox, &[], &server.env);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    let shown = server.wait_for_notifications(1);
    assert_eq!(
        shown[0]["urgency"], 1,
        "a teammate's page, shown as ordinary"
    );

    // Off again: the next teammate's page is recorded, delivered, and not shown.
    sandbox.ok(&["notifications", "--teammates", "off"]);
    served.post_alerts(&token, &[("Down", &[("service", "refunds")])]);
    wait_for_incident(&sandbox, "INC-2", |i| {
        i["pages"][0]["delivered_at"].is_string()
    });
    assert_eq!(server.notifications().len(), 1);

    let stderr = sandbox.fails(&["notifications", "--flood-threshold", "0"], 2);
    assert!(stderr.contains("--flood-threshold"), "{stderr}");
    let reset = sandbox.json(&["notifications", "--reset"]);
    assert_eq!(
        reset,
        serde_json::json!({"teammates": false, "flood_threshold": 5})
    );
}

#[test]
fn an_override_covers_a_shift_and_on_call_agrees() {
    let sandbox = Sandbox::demo();
    let me = payments_primary(&sandbox);
    let cover = payments_teammate(&me);
    let now = jiff::Timestamp::now();
    let from = (now - jiff::SignedDuration::from_mins(1)).to_string();
    let to = (now + jiff::SignedDuration::from_hours(12)).to_string();
    let before = sandbox.read_config();
    let args = |rota: &'static str| {
        vec![
            "override".to_owned(),
            "--rota".to_owned(),
            rota.to_owned(),
            "--person".to_owned(),
            cover.to_owned(),
            "--from".to_owned(),
            from.clone(),
            "--to".to_owned(),
            to.clone(),
            "--as".to_owned(),
            me.clone(),
        ]
    };
    let bad = args("payments-on-call");
    let stderr = sandbox.fails(&bad.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    assert!(
        stderr.contains("unknown rota \"payments-on-call\": expected one of \"payments-oncall\""),
        "{stderr}"
    );
    assert_eq!(sandbox.read_config(), before, "nothing written");

    let good = args("payments-oncall");
    let added = sandbox.json(&good.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(added["layer"], "primary");
    let oncall = sandbox.json(&["oncall", "--team", "payments"]);
    let primary = &oncall["rotas"][0]["layers"][0]["now"];
    assert_eq!(primary["person"], cover);
    assert_eq!(primary["override"], true);
    let config = sandbox.read_config();
    assert!(config.starts_with(&before[..before.find("[[rotas]]").unwrap()]));
    assert!(config.contains(&format!("# Added by {me} on ")), "{config}");
    sandbox.ok(&["check"]);
}

#[test]
fn without_a_notification_server_pages_still_reach_the_terminal() {
    let sandbox = Sandbox::demo();
    let me = payments_primary(&sandbox);
    sandbox.ok(&["whoami", "--set", &me]);
    let nowhere = [(
        "DBUS_SESSION_BUS_ADDRESS".to_owned(),
        format!("unix:path={}", sandbox.dir.path().join("no-bus").display()),
    )];
    let served = Served::start_with_env(&sandbox, &[], &nowhere);
    served.wait_for_log("notifications unavailable");
    let status = sandbox.json(&["status"]);
    assert!(
        status["notifications"]
            .as_str()
            .unwrap()
            .starts_with("notifications unavailable"),
        "{status:#}"
    );
    assert_eq!(status["person"], me.as_str());
    let token = sandbox.ok(&["token"]).trim().to_owned();
    served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    let line = served.wait_for_log("PAGE: Payment Gateway: Down");
    assert!(
        line.starts_with("\x07stopline: PAGE:"),
        "a bell first: {line:?}"
    );
    assert!(line.contains("You are paged as primary on payments-oncall"));

    let output = sandbox
        .command(&["notify-test"])
        .envs(nowhere.iter().cloned())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("notifications unavailable"), "{stderr}");
}

#[test]
fn notify_test_sends_a_test_page() {
    let sandbox = Sandbox::demo();
    let server = NotificationServer::start(sandbox.dir.path(), "body actions");
    sandbox.ok(&["whoami", "--set", "aisha"]);
    let output = sandbox
        .command(&["notify-test"])
        .envs(server.env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = server.notifications();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["summary"], "Stopline: test page");
    assert_eq!(shown[0]["urgency"], 2);
    assert!(shown[0]["body"].as_str().unwrap().contains("aisha"));
}

#[test]
fn whoami_oncall_and_shifts_name_their_bad_arguments() {
    let sandbox = Sandbox::demo();
    let stderr = sandbox.fails(&["whoami", "--set", "nobody"], 2);
    assert!(stderr.contains("unknown person \"nobody\""), "{stderr}");
    assert_eq!(sandbox.json(&["whoami"])["person"], Value::Null);
    let stderr = sandbox.fails(&["oncall", "--at", "tomorrow"], 2);
    assert!(
        stderr.contains("--at: invalid time \"tomorrow\""),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["oncall", "--team", "paymnets"], 2);
    assert!(stderr.contains("--team: unknown team"), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "shifts",
            "--person",
            "aisha",
            "--from",
            "2026-03-02",
            "--to",
            "2026-03-01",
        ],
        2,
    );
    assert!(stderr.contains("--to: must be after --from"), "{stderr}");
    // Over the spring change: the turn that holds it is an hour short, and all add up.
    let shifts = sandbox.json(&[
        "shifts",
        "--person",
        "aisha",
        "--from",
        "2026-03-01",
        "--to",
        "2026-05-01",
    ]);
    let shifts = shifts.as_array().unwrap();
    assert!(!shifts.is_empty());
    let at = |v: &Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    for pair in shifts.windows(2) {
        assert!(at(&pair[0]["until"]) <= at(&pair[1]["since"]));
    }
    let at_change = sandbox.json(&["oncall", "--team", "payments", "--at", "2026-03-29 01:30"]);
    let now = &at_change["rotas"][0]["layers"][0]["now"];
    assert_eq!(now["since"], "2026-03-23T09:00:00Z");
    assert_eq!(now["until"], "2026-03-30T08:00:00Z", "09:00 BST");
    assert_eq!(now["hours"], 167.0);
}

/// `kill -9` the engine at random moments while alerts arrive and people acknowledge; after
/// each restart no due page is lost, and no acknowledged incident gets another page.
#[test]
fn sigkill_during_paging_loses_no_page_and_never_pages_an_acknowledged_incident() {
    let sandbox = Sandbox::demo();
    add_config(
        &sandbox,
        "\n[alerts]\ngroup_by = [\"instance\"]\n\n[notifications]\nflood_threshold = 1000\n",
    );
    // Escalate every second so steps come due across the kills.
    let config = sandbox
        .read_config()
        .replace("ack_timeout = \"5m\"", "ack_timeout = \"1s\"");
    sandbox.write_config(&config);
    let server = NotificationServer::start(sandbox.dir.path(), "body actions");
    let me = payments_primary(&sandbox);
    sandbox.ok(&["whoami", "--set", &me]);
    let mut rng = XorShift(0x5eed_cafe);
    let mut opened = 0;
    let mut acknowledged = Vec::new();
    for round in 0..8 {
        let mut served = Served::start_with_env(&sandbox, &[], &server.env);
        let token = sandbox.ok(&["token"]).trim().to_owned();
        for i in 0..2 {
            let instance = format!("r{round}-{i}");
            let (status, _) = served.post_alerts(
                &token,
                &[(
                    "Down",
                    &[("service", "payment-gateway"), ("instance", &instance)],
                )],
            );
            if status == 200 {
                opened += 1;
            }
        }
        // Someone acknowledges an earlier incident from the command line meanwhile.
        if round > 0 {
            let id = format!("INC-{}", round * 2 - 1);
            let ack = sandbox
                .command(&["ack", &id, "--as", &me])
                .stdout(Stdio::null())
                .output()
                .unwrap();
            if ack.status.success() {
                acknowledged.push(id);
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        served.child.kill().unwrap(); // SIGKILL
        served.child.wait().unwrap();
    }
    integrity_ok(&sandbox.store_path());
    // The last restart: every due step is paged, late but not lost.
    let _served = Served::start_with_env(&sandbox, &[], &server.env);
    for n in 1..=opened {
        let id = format!("INC-{n}");
        let shown = if acknowledged.contains(&id) {
            incident(&sandbox, &id)
        } else {
            // Unacknowledged: the escalation moves past the primary and the secondary.
            wait_for_incident(&sandbox, &id, |i| {
                i["pages"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|page| page["step"].as_u64() >= Some(2)))
            })
        };
        let pages = shown["pages"].as_array().unwrap();
        assert!(!pages.is_empty(), "{id} was never paged: {shown:#}");
        assert_eq!(pages[0]["step"], 0, "{id}: the first step first");
        if let Some(acked_at) = shown["acknowledged_at"].as_str() {
            let acked_at: jiff::Timestamp = acked_at.parse().unwrap();
            for page in pages {
                let paged_at: jiff::Timestamp = page["paged_at"].as_str().unwrap().parse().unwrap();
                assert!(
                    paged_at <= acked_at,
                    "{id} paged after its acknowledgement: {shown:#}"
                );
            }
            assert_eq!(shown["escalation"]["status"], "stopped");
        }
    }
    assert!(acknowledged.len() >= 5, "{acknowledged:?}");
    integrity_ok(&sandbox.store_path());
}

#[test]
fn the_situation_names_who_was_paged_who_is_next_and_the_first_alerts_links() {
    let sandbox = Sandbox::demo();
    let Desk {
        served,
        server,
        me,
        token,
    } = Desk::of_the_payments_primary(&sandbox);
    served.wait_for_log("notifications available");
    let body = serde_json::json!({
        "version": "4", "status": "firing", "receiver": "stopline", "groupKey": "{}",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payment-gateway"},
            "annotations": {
                "summary": "5xx above 5% for 5 minutes",
                "runbook_url": "https://runbooks.example/payments/5xx",
                "dashboard_url": "javascript:alert(1)",
            },
            "startsAt": "2026-11-27T10:00:00Z",
        }],
    });
    let auth = format!("Bearer {token}");
    let (status, answer) = served.request(
        "POST",
        "/v1/alertmanager",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    server.wait_for_notifications(1);
    let shown = wait_for_incident(&sandbox, "INC-1", |i| {
        i["situation"]["paged"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    });
    let situation = &shown["situation"];
    // The person's name from the config: `name = "…"` after `id = "ID"`.
    let config = sandbox.read_config();
    let name_of = |id: &str| {
        let after = &config[config.find(&format!("id = \"{id}\"")).unwrap()..];
        let line = after.lines().find(|l| l.starts_with("name = ")).unwrap();
        line.trim_start_matches("name = ")
            .trim_matches('"')
            .to_owned()
    };
    assert_eq!(situation["paged"][0]["id"], me.as_str());
    assert_eq!(situation["paged"][0]["name"], name_of(&me).as_str());
    assert_eq!(situation["target_percent"], 99.9);
    assert_eq!(situation["loss_per_hour"], 780000);
    assert_eq!(situation["acknowledged"], Value::Null);
    // The next page: the secondary, five minutes after the first.
    let secondary = situation["secondary"]["id"].as_str().unwrap().to_owned();
    assert_ne!(secondary, me);
    assert_eq!(situation["secondary"]["layer"], "secondary");
    assert_eq!(
        situation["next_page"]["people"][0]["id"],
        secondary.as_str()
    );
    let paged_at: jiff::Timestamp = situation["paged"][0]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let next_at: jiff::Timestamp = situation["next_page"]["at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(next_at.duration_since(paged_at).as_secs(), 300);
    // The first alert's summary and its web links only.
    let first = &situation["first_alert"];
    assert_eq!(first["name"], "HighErrorRate");
    assert_eq!(first["summary"], "5xx above 5% for 5 minutes");
    assert_eq!(first["runbook"], "https://runbooks.example/payments/5xx");
    assert_eq!(first["dashboard"], Value::Null);
    // This week's budget: the incident's age so far, of the week's 0.1 %.
    let budget = &situation["week_budget"];
    let tolerable = budget["tolerable_seconds"].as_f64().unwrap();
    assert!((tolerable - 604.8).abs() < 4.0, "{budget}");
    let unavailable = budget["unavailable_seconds"].as_f64().unwrap();
    let age = situation["age_seconds"].as_f64().unwrap();
    assert!((unavailable - age).abs() <= 1.0, "{situation}");
    let used = budget["used_percent"].as_f64().unwrap();
    assert!((used - 100.0 * unavailable / tolerable).abs() < 1e-6);

    sandbox.json(&["ack", "INC-1", "--as", &me]);
    let acked = incident(&sandbox, "INC-1");
    assert_eq!(acked["situation"]["acknowledged"]["id"], me.as_str());
    assert_eq!(acked["situation"]["next_page"], Value::Null);
}

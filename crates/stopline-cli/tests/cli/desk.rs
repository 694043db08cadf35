//! The service desk and responders from the command line: routing by labels and journeys, an
//! incident opened and moved through its states, bad requests refused without changing anything.

use serde_json::Value;

use crate::support::Sandbox;

#[test]
fn labels_and_journeys_route_to_the_owning_team() {
    let sandbox = Sandbox::demo();
    let route = sandbox.json(&["route", "--labels", "service=checkout-web,env=prod"]);
    assert_eq!(route["route"], "routed");
    assert_eq!(route["application"]["id"], "checkout-web");
    assert_eq!(route["team"]["id"], "checkout");
    assert_eq!(route["team"]["name"], "Checkout");

    let regex = sandbox.json(&["route", "--labels", "job=warehouse-eu-sync"]);
    assert_eq!(regex["application"]["id"], "warehouse-sync");
    assert_eq!(regex["team"]["id"], "fulfilment");

    let unrouted = sandbox.json(&["route", "--labels", "service=unknown-thing"]);
    assert_eq!(unrouted["route"], "unrouted");
    assert_eq!(unrouted["application"], Value::Null);
    assert_eq!(unrouted["team"], Value::Null);

    let journey = sandbox.json(&["route", "--journey", "Forgot my password"]);
    assert_eq!(journey["application"]["id"], "login");
    assert_eq!(journey["team"]["id"], "identity");
    let nothing = sandbox.json(&["route", "--journey", "weather forecast"]);
    assert_eq!(nothing["route"], "unrouted");

    let stderr = sandbox.fails(&["route", "--labels", "service"], 2);
    assert!(stderr.contains("\"service\" is not key=value"), "{stderr}");
}

#[test]
fn the_service_desk_opens_an_incident_that_moves_through_its_states() {
    let sandbox = Sandbox::demo();
    let opened = sandbox.json(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "Customers can't pay",
        "--as",
        "aisha",
    ]);
    assert_eq!(opened["id"], "INC-1");
    assert_eq!(opened["application"], "checkout-web");
    assert_eq!(opened["team"], "checkout");
    assert_eq!(opened["state"], "triggered");
    assert_eq!(
        opened["severity"], "major",
        "a 99.9% application starts major"
    );
    assert_eq!(opened["opened_by"], "aisha");

    let by_app = sandbox.json(&[
        "open",
        "--app",
        "reporting",
        "--title",
        "Slow report",
        "--as",
        "aisha",
    ]);
    assert_eq!(by_app["team"], "data-platform");
    assert_eq!(by_app["severity"], "minor");
    let by_labels = sandbox.json(&[
        "open",
        "--labels",
        "service=login",
        "--title",
        "Login errors",
        "--as",
        "aisha",
    ]);
    assert_eq!(by_labels["team"], "identity");

    let acked = sandbox.json(&["ack", "INC-1", "--as", "ben"]);
    assert_eq!(acked["state"], "acknowledged");
    assert_eq!(acked["acknowledged_by"], "ben");
    sandbox.json(&["note", "INC-1", "Rolled back release 1.42", "--as", "ben"]);
    // The swarm's checklist (started when the desk opened it) holds the resolve back...
    let stderr = sandbox.fails(&["resolve", "inc-1", "--as", "carla"], 1);
    assert!(
        stderr.contains("required checklist steps still open"),
        "{stderr}"
    );
    // ...unless forced, which the timeline records.
    let resolved = sandbox.json(&["resolve", "inc-1", "--as", "carla", "--force"]);
    assert_eq!(resolved["state"], "resolved");

    let shown = sandbox.json(&["incident", "show", "INC-1"]);
    let timeline = shown["timeline"].as_array().unwrap();
    let steps: Vec<(&str, &str)> = timeline
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["who"].as_str().unwrap_or("stopline"),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("opened", "aisha"),
            ("checklist", "stopline"),
            ("acknowledged", "ben"),
            ("note", "ben"),
            ("resolved", "carla")
        ]
    );
    assert!(
        timeline[4]["detail"]
            .as_str()
            .unwrap()
            .contains("overriding required checklist steps still open: stop-the-line"),
        "{timeline:#?}"
    );
    for event in timeline {
        let at: jiff::Timestamp = event["at"].as_str().unwrap().parse().unwrap();
        assert!(at <= jiff::Timestamp::now());
    }
    assert_eq!(timeline[3]["detail"], "Rolled back release 1.42");

    let open: Vec<Value> = serde_json::from_value(sandbox.json(&["incidents"])).unwrap();
    let ids: Vec<&str> = open.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["INC-3", "INC-2"], "open incidents, newest first");
    let resolved: Vec<Value> =
        serde_json::from_value(sandbox.json(&["incidents", "--state", "resolved"])).unwrap();
    assert_eq!(resolved.len(), 1);
}

#[test]
fn invalid_requests_fail_clearly_and_change_nothing() {
    let sandbox = Sandbox::demo();
    sandbox.json(&[
        "open",
        "--app",
        "login",
        "--title",
        "Login errors",
        "--as",
        "aisha",
    ]);
    sandbox.json(&["resolve", "INC-1", "--as", "ben", "--force"]);
    let before = shown_as_stored(&sandbox, "INC-1");

    // Resolve, then acknowledge: the state machine says no.
    let stderr = sandbox.fails(&["ack", "INC-1", "--as", "ben"], 1);
    assert!(
        stderr.contains("INC-1 is already resolved (by ben at")
            && stderr.contains("cannot be acknowledged"),
        "{stderr}"
    );
    assert_eq!(shown_as_stored(&sandbox, "INC-1"), before);

    // Unknown and malformed ids.
    let stderr = sandbox.fails(&["ack", "INC-99", "--as", "ben"], 1);
    assert!(stderr.contains("no incident INC-99"), "{stderr}");
    let stderr = sandbox.fails(&["incident", "show", "INC-x"], 2);
    assert!(stderr.contains("invalid incident id \"INC-x\""), "{stderr}");

    // Unknown people, applications, journeys; empty titles.
    let stderr = sandbox.fails(&["note", "INC-1", "hello", "--as", "mallory"], 2);
    assert!(stderr.contains("unknown person \"mallory\""), "{stderr}");
    let stderr = sandbox.fails(
        &["open", "--app", "nope", "--title", "x", "--as", "aisha"],
        2,
    );
    assert!(stderr.contains("unknown application \"nope\""), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "open",
            "--journey",
            "weather",
            "--title",
            "x",
            "--as",
            "aisha",
        ],
        2,
    );
    assert!(
        stderr.contains("journey \"weather\" matches no application"),
        "{stderr}"
    );
    assert!(stderr.contains("name one with --app"), "{stderr}");
    sandbox.fails(
        &["open", "--app", "login", "--title", "  ", "--as", "aisha"],
        2,
    );
    // Two targets at once is a usage error from the argument parser.
    sandbox.fails(
        &[
            "open",
            "--app",
            "login",
            "--journey",
            "x",
            "--title",
            "x",
            "--as",
            "aisha",
        ],
        2,
    );

    assert_eq!(shown_as_stored(&sandbox, "INC-1"), before);
    let all: Vec<Value> =
        serde_json::from_value(sandbox.json(&["incidents", "--state", "all"])).unwrap();
    assert_eq!(all.len(), 1, "no failed command created an incident");
}

#[test]
fn a_broken_config_does_not_stop_anyone_listing_incidents() {
    let sandbox = Sandbox::demo();
    sandbox.json(&[
        "open",
        "--app",
        "login",
        "--title",
        "Login errors",
        "--as",
        "aisha",
    ]);
    sandbox.write_config("this is not toml");
    let output = sandbox.run(&["incidents"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("INC-1"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("times are shown in UTC"));
}

#[test]
fn a_customer_report_goes_to_the_open_incident_and_a_second_opening_says_where_it_could_have_gone()
{
    let sandbox = Sandbox::demo();
    let open = |title: &str| {
        sandbox.ok(&[
            "open",
            "--journey",
            "pay",
            "--title",
            title,
            "--as",
            "aisha",
        ])
    };
    let first = open("Payments failing");
    assert!(!first.contains("already had"), "{first}");
    let second = open("I can't pay");
    assert!(
        second.contains(
            "payment-gateway already had INC-1 open: a customer's report about the same problem goes there instead (stopline note INC-1 \"their words\" --customer --as aisha)."
        ),
        "{second}"
    );

    let note = sandbox.json(&[
        "note",
        "INC-1",
        "I can't pay",
        "--customer",
        "--ref",
        "CS-4411",
        "--as",
        "aisha",
    ]);
    assert_eq!(
        note["detail"],
        "Customer report (ref CS-4411): \"I can't pay\""
    );
    assert_eq!(note["kind"], "note");
    let text = sandbox.ok(&[
        "note",
        "INC-1",
        "still broken",
        "--customer",
        "--as",
        "aisha",
    ]);
    assert_eq!(text.trim(), "Customer report added to INC-1.");

    // Bad input changes nothing.
    let before = sandbox.json(&["incident", "show", "INC-1"])["timeline"].clone();
    let stderr = sandbox.fails(&["note", "INC-1", " ", "--customer", "--as", "aisha"], 2);
    assert!(
        stderr.contains("the customer's words must not be empty"),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["note", "INC-1", "x", "--ref", "CS-1", "--as", "aisha"], 2);
    assert!(stderr.contains("--customer"), "{stderr}");
    sandbox.ok(&["resolve", "INC-2", "--force", "--as", "aisha"]);
    let stderr = sandbox.fails(&["note", "INC-2", "x", "--customer", "--as", "aisha"], 1);
    assert!(
        stderr.contains("INC-2 is resolved: open a new incident for this report"),
        "{stderr}"
    );
    assert_eq!(
        sandbox.json(&["incident", "show", "INC-1"])["timeline"],
        before
    );
}

/// `incident show --json` without its situation, which is worked out as of now and so differs
/// from one read to the next: what the store holds.
fn shown_as_stored(sandbox: &Sandbox, id: &str) -> serde_json::Value {
    let mut shown = sandbox.json(&["incident", "show", id]);
    shown.as_object_mut().unwrap().remove("situation");
    shown
}

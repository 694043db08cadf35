//! The `stopline` binary as a user drives it: real processes, a real config file, a real store.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

mod support;

use support::{Sandbox, SecretService, Served, XorShift, fixture, integrity_ok, storm};

#[test]
fn demo_workspace_checks_clean() {
    let sandbox = Sandbox::demo();
    let check = sandbox.json(&["check"]);
    assert_eq!(check["ok"], true);
    assert!(check["teams"].as_u64().unwrap() >= 13);
    assert!(check["applications"].as_u64().unwrap() >= 30);
    let human = sandbox.ok(&["check"]);
    assert!(human.contains(": ok ("), "{human}");
}

#[test]
fn init_never_replaces_a_config_without_force() {
    let sandbox = Sandbox::demo();
    let before = sandbox.read_config();
    let stderr = sandbox.fails(&["init"], 2);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(sandbox.read_config(), before);
    sandbox.ok(&["init", "--force"]);
    assert_ne!(sandbox.read_config(), before);
    sandbox.ok(&["check"]);
}

/// Applies `edit` to the demo config and expects `stopline check` to fail with exit 2 and a
/// message at `file:line:column` containing `expected`.
fn assert_config_error(edit: impl Fn(&str) -> String, line: usize, expected: &str) {
    let sandbox = Sandbox::demo();
    let broken = edit(&sandbox.read_config());
    sandbox.write_config(&broken);
    let stderr = sandbox.fails(&["check"], 2);
    let place = format!("{}:{line}:", sandbox.config_path().display());
    assert!(stderr.contains(&place), "expected {place} in: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    // The config is read, never rewritten.
    assert_eq!(sandbox.read_config(), broken);
    let json: Value = serde_json::from_slice(&sandbox.run(&["check", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"][0]["line"], line);
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn an_application_whose_team_does_not_exist_is_a_config_error() {
    let config = Sandbox::demo().read_config();
    let line = line_of(&config, "team = \"payments\"");
    assert_config_error(
        |c| c.replacen("team = \"payments\"", "team = \"paymnets\"", 1),
        line,
        "applications[0].team: team \"paymnets\" does not exist",
    );
}

#[test]
fn a_duplicate_id_is_a_config_error() {
    let config = Sandbox::demo().read_config();
    let line = line_of(&config, "id = \"refunds\"");
    assert_config_error(
        |c| c.replacen("id = \"refunds\"", "id = \"payment-gateway\"", 1),
        line,
        "duplicate application id \"payment-gateway\"",
    );
}

#[test]
fn an_unknown_key_is_a_config_error() {
    assert_config_error(
        |c| {
            c.replacen(
                "currency = \"GBP\"",
                "currency = \"GBP\"\ncolour = \"teal\"",
                1,
            )
        },
        10,
        "unknown field `colour`",
    );
}

#[test]
fn a_toml_syntax_error_is_a_config_error() {
    assert_config_error(
        |c| {
            c.replacen(
                "name = \"Northwind Retail\"",
                "name = \"Northwind Retail",
                1,
            )
        },
        7,
        "",
    );
}

#[test]
fn without_a_config_commands_say_how_to_make_one() {
    let sandbox = Sandbox::new();
    for args in [
        &["check"][..],
        &["teams"],
        &["route", "--journey", "checkout"],
    ] {
        let stderr = sandbox.fails(args, 2);
        assert!(stderr.contains("stopline init"), "{stderr}");
    }
}

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
    let before = sandbox.json(&["incident", "show", "INC-1"]);

    // Resolve, then acknowledge: the state machine says no.
    let stderr = sandbox.fails(&["ack", "INC-1", "--as", "ben"], 1);
    assert!(
        stderr.contains("INC-1 is already resolved (by ben at")
            && stderr.contains("cannot be acknowledged"),
        "{stderr}"
    );
    assert_eq!(sandbox.json(&["incident", "show", "INC-1"]), before);

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

    assert_eq!(sandbox.json(&["incident", "show", "INC-1"]), before);
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
fn sigkill_during_many_writes_loses_nothing_that_reported_success() {
    let sandbox = Sandbox::demo();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);

    let (opened, killed_opens) = storm(&sandbox, &mut rng, |n| {
        [
            "open",
            "--app",
            "checkout-web",
            "--title",
            &format!("storm {n}"),
            "--as",
            "aisha",
            "--json",
        ]
        .map(String::from)
        .to_vec()
    });
    integrity_ok(&sandbox.store_path());
    let reported: Vec<(String, String)> = opened
        .iter()
        .map(|(n, stdout)| {
            let json: Value = serde_json::from_str(stdout).unwrap();
            (
                json["id"].as_str().unwrap().to_owned(),
                format!("storm {n}"),
            )
        })
        .collect();
    for (id, title) in &reported {
        let shown = sandbox.json(&["incident", "show", id]);
        assert_eq!(&shown["title"], title.as_str(), "seed {seed}");
    }

    let ids: Vec<String> = reported.iter().map(|(id, _)| id.clone()).collect();
    let (acked, killed_acks) = storm(&sandbox, &mut rng, |n| {
        ["ack", &ids[n % ids.len()], "--as", "ben", "--json"]
            .map(String::from)
            .to_vec()
    });
    integrity_ok(&sandbox.store_path());
    for (_, stdout) in &acked {
        let json: Value = serde_json::from_str(stdout).unwrap();
        let shown = sandbox.json(&["incident", "show", json["id"].as_str().unwrap()]);
        assert_eq!(shown["state"], "acknowledged", "seed {seed}");
        assert_eq!(shown["acknowledged_by"], "ben");
    }

    // The storm must have exercised both outcomes, or it proved nothing.
    assert!(
        !reported.is_empty() && !acked.is_empty(),
        "seed {seed}: nothing succeeded"
    );
    assert!(
        killed_opens + killed_acks > 0,
        "seed {seed}: nothing was killed"
    );
    eprintln!(
        "seed {seed}: {} opens succeeded, {killed_opens} killed; {} acks succeeded, {killed_acks} killed",
        reported.len(),
        acked.len()
    );
}

#[test]
fn serve_without_config_routes_by_labels_and_stops_cleanly_on_sigterm() {
    let sandbox = Sandbox::new();
    let mut served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    assert_eq!(token.len(), 64);
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (status, body) = served.request(
        "POST",
        "/v1/alertmanager",
        &headers,
        &fixture("alertmanager-webhook-v4.json"),
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = served.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 200);

    // Committed before the 200: visible to another process at once.
    let incidents: Vec<Value> = serde_json::from_value(sandbox.json(&["incidents"])).unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["team"], "checkout", "from the team label");
    assert_eq!(
        incidents[0]["application"], "payments-api",
        "from the service label"
    );
    let alerts: Vec<Value> = serde_json::from_value(sandbox.json(&["alerts"])).unwrap();
    assert_eq!(alerts.len(), 2);

    // One engine per data directory.
    let second = sandbox.run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));

    let status = served.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
}

#[test]
fn serve_refuses_a_broken_config_and_a_bad_url() {
    let sandbox = Sandbox::demo();
    let stderr = sandbox.fails(&["serve", "--alertmanager", "localhost:9093"], 2);
    assert!(
        stderr.contains("--alertmanager: \"localhost:9093\" is not a URL"),
        "{stderr}"
    );
    sandbox.write_config("[workspace]\nname = 1\n");
    let stderr = sandbox.fails(&["serve"], 2);
    assert!(stderr.contains("stopline.toml:2:8"), "{stderr}");
}

#[test]
fn sync_once_names_a_failing_source_and_sources_shows_it() {
    let sandbox = Sandbox::new();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let stderr = sandbox.fails(&["sync", "--once", "--alertmanager", &url], 1);
    assert!(
        stderr.contains("source alertmanager") && stderr.contains(&url),
        "{stderr}"
    );
    let sources: Vec<Value> = serde_json::from_value(sandbox.json(&["sources"])).unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0]["name"], "alertmanager");
    assert_eq!(sources[0]["state"], "failing");
    assert!(sources[0]["failing_since"].is_string());
    assert!(
        sources[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );
    let stderr = sandbox.fails(&["sync", "--once"], 2);
    assert!(stderr.contains("no Alertmanager to pull from"), "{stderr}");
}

#[test]
fn a_routing_key_can_live_in_the_os_keyring() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config()
        + "\n[[sources]]\nname = \"stock-events\"\nkind = \"pagerduty\"\napplication = \"warehouse-sync\"\nrouting_key_keyring = \"stock-events\"\n";
    sandbox.write_config(&config);
    let service = SecretService::start(sandbox.dir.path());
    let key = "R0UTINGKEYFORSTOCKSERVICE0000001";

    // No entry yet: serve refuses to start and says how to store one.
    let output = sandbox
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .envs(service.env.iter().cloned())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stopline secret set stock-events"),
        "{stderr}"
    );

    let mut set = sandbox
        .command(&["secret", "set", "stock-events"])
        .envs(service.env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        set.stdin
            .take()
            .unwrap()
            .write_all(format!("{key}\n").as_bytes())
            .unwrap();
    }
    let stored = set.wait_with_output().unwrap();
    assert!(
        stored.status.success(),
        "{}",
        String::from_utf8_lossy(&stored.stderr)
    );
    // The secret is nowhere in the config or the data directory.
    assert!(!sandbox.read_config().contains(key));

    let served = Served::start_with_env(&sandbox, &[], &service.env);
    let headers = [("Content-Type", "application/json")];
    let (status, body) = served.request(
        "POST",
        "/v2/enqueue",
        &headers,
        &fixture("pagerduty-events-v2-trigger.json"),
    );
    assert_eq!(status, 202, "{body}");
    let wrong = br#"{"routing_key":"WRONG","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"error"}}"#;
    let (status, _) = served.request("POST", "/v2/enqueue", &headers, wrong);
    assert_eq!(status, 400);
    drop(served);
    for file in walk(sandbox.dir.path().join("data").as_path()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
            "the routing key landed in {}",
            file.display()
        );
    }

    let removed = sandbox
        .command(&["secret", "delete", "stock-events"])
        .envs(service.env.iter().cloned())
        .output()
        .unwrap();
    assert!(removed.status.success());
    let again = sandbox
        .command(&["secret", "delete", "stock-events"])
        .envs(service.env.iter().cloned())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "nothing left to remove");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The CD pipeline step in docs/swarm.md, run for real: `curl --fail` passes while the team's
/// line runs and fails while a major incident holds it.
#[test]
fn the_line_endpoint_tells_a_pipeline_whether_to_deploy() {
    let sandbox = Sandbox::demo();
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let pipeline = |team: &str| {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--fail", "--header"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("http://{}/v1/teams/{team}/line", served.address))
            .output()
            .unwrap()
    };
    let running = pipeline("checkout");
    assert!(running.status.success(), "{running:?}");
    let body: Value = serde_json::from_slice(&running.stdout).unwrap();
    assert_eq!(body["state"], "running");

    sandbox.ok(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "Checkout down",
        "--as",
        "aisha",
    ]);
    sandbox.ok(&["ack", "INC-1", "--as", "elena"]);
    let stopped = pipeline("checkout");
    assert_eq!(stopped.status.code(), Some(22), "curl --fail: HTTP error");
    let auth = format!("Bearer {token}");
    let (status, body) = served.request(
        "GET",
        "/v1/teams/checkout/line",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(status, 423);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["team"], "checkout");
    assert_eq!(body["state"], "stopped");
    assert_eq!(body["incidents"], serde_json::json!(["INC-1"]));
    assert!(body["since"].is_string());
    assert_eq!(
        sandbox.json(&["line", "--team", "checkout"])["state"],
        "stopped"
    );
    // Another team deploys as usual.
    assert!(pipeline("search").status.success());

    // Unknown team: 404; no token: 401.
    let (status, body) = served.request(
        "GET",
        "/v1/teams/chekout/line",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(status, 404, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["error"],
        "unknown team \"chekout\": expected the id of a delivery team"
    );
    let (status, _) = served.request("GET", "/v1/teams/checkout/line", &[], b"");
    assert_eq!(status, 401);
    let stderr = sandbox.fails(&["line", "--team", "chekout"], 2);
    assert!(
        stderr.contains("--team: unknown team \"chekout\""),
        "{stderr}"
    );

    // Restarting the line lets the pipeline through again.
    sandbox.ok(&["step", "INC-1", "restart-the-line", "done", "--as", "elena"]);
    assert!(pipeline("checkout").status.success());
}

#[test]
fn the_swarm_from_the_command_line() {
    let sandbox = Sandbox::demo();
    sandbox.ok(&[
        "open",
        "--journey",
        "checkout",
        "--title",
        "Checkout down",
        "--as",
        "aisha",
    ]);
    let steps = sandbox.json(&["checklist", "INC-1"]);
    assert_eq!(steps[0]["step"], "stop-the-line");
    assert_eq!(steps[0]["state"], "todo");
    let step = sandbox.json(&["step", "INC-1", "stop-the-line", "done", "--as", "elena"]);
    assert_eq!(step["state"], "done");
    assert_eq!(step["changed_by"], "elena");
    let stderr = sandbox.fails(&["step", "INC-1", "diagnose", "skip", "--as", "elena"], 2);
    assert!(stderr.contains("needs a reason"), "{stderr}");
    let stderr = sandbox.fails(&["step", "INC-1", "reboot", "done", "--as", "elena"], 2);
    assert!(stderr.contains("INC-1 has no step \"reboot\""), "{stderr}");
    let stderr = sandbox.fails(&["step", "INC-1", "diagnose", "--as", "elena"], 2);
    assert!(stderr.contains("nothing to change"), "{stderr}");

    sandbox.ok(&["role", "INC-1", "commander", "elena", "--as", "elena"]);
    let stderr = sandbox.fails(&["role", "INC-1", "commander", "farid", "--as", "farid"], 1);
    assert!(
        stderr.contains("elena is already the incident commander of INC-1"),
        "{stderr}"
    );
    let roles = sandbox.json(&[
        "role",
        "INC-1",
        "commander",
        "farid",
        "--handover",
        "--as",
        "farid",
    ]);
    assert_eq!(roles["roles"][0]["person"], "farid");
    sandbox.ok(&["join", "INC-1", "--as", "grace"]);
    let stderr = sandbox.fails(&["leave", "INC-1", "--as", "hiro"], 1);
    assert!(stderr.contains("hiro is not in the swarm"), "{stderr}");

    let stderr = sandbox.fails(
        &[
            "severity", "INC-1", "minor", "--reason", " ", "--as", "elena",
        ],
        2,
    );
    assert!(stderr.contains("needs a reason"), "{stderr}");
    let changed = sandbox.json(&[
        "severity",
        "INC-1",
        "minor",
        "--reason",
        "three customers",
        "--as",
        "elena",
    ]);
    assert_eq!(changed["severity"], "minor");

    let stderr = sandbox.fails(&["resolve", "INC-1", "--as", "elena"], 1);
    assert!(
        stderr.contains("required checklist steps still open: assemble-swarm"),
        "{stderr}"
    );
    sandbox.ok(&["resolve", "INC-1", "--as", "elena", "--force"]);

    let out = sandbox.dir.path().join("reviews/INC-1.md");
    sandbox.ok(&[
        "review",
        "INC-1",
        "--format",
        "markdown",
        "--out",
        out.to_str().unwrap(),
    ]);
    let review = std::fs::read_to_string(&out).unwrap();
    assert!(
        review.starts_with("# Post-incident review: INC-1 Checkout down"),
        "{review}"
    );
    assert!(
        review.contains("| Severity | minor (set by hand: three customers) |"),
        "{review}"
    );
    assert!(
        review.contains("incident commander: handed over from elena to farid"),
        "{review}"
    );
    let stderr = sandbox.fails(&["review", "INC-9"], 1);
    assert!(stderr.contains("no incident INC-9"), "{stderr}");
}

#[test]
fn the_service_desk_routes_an_unrouted_alert_and_saves_the_route() {
    let sandbox = Sandbox::demo();
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let labels: &[(&str, &str)] = &[("service", "checkout-v2"), ("env", "prod")];
    {
        let served = Served::start(&sandbox, &[]);
        let (status, body) = served.post_alerts(&token, &[("QueueBacklog", labels)]);
        assert_eq!(status, 200, "{body}");
    }
    let queue = sandbox.json(&["unrouted"]);
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let fingerprint = queue[0]["fingerprint"].as_str().unwrap().to_owned();
    let config_before = sandbox.read_config();

    // Bad input changes nothing: not the store, not the config.
    let stderr = sandbox.fails(
        &["assign", &fingerprint, "--app", "nope", "--as", "aisha"],
        2,
    );
    assert!(stderr.contains("unknown application \"nope\""), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "assign",
            "0123456789abcdef",
            "--app",
            "checkout-web",
            "--as",
            "aisha",
        ],
        2,
    );
    assert!(stderr.contains("no alert with fingerprint"), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "assign",
            &fingerprint,
            "--app",
            "checkout-web",
            "--save",
            "--by",
            "team",
            "--as",
            "aisha",
        ],
        2,
    );
    assert!(
        stderr.contains("--by: the alert has no label \"team\""),
        "{stderr}"
    );
    assert_eq!(sandbox.json(&["unrouted"]).as_array().unwrap().len(), 1);
    assert_eq!(sandbox.read_config(), config_before);

    // An engine keeps running meanwhile; it picks up the saved route by itself.
    let served = Served::start(&sandbox, &[]);

    let assigned = sandbox.json(&[
        "assign",
        &fingerprint,
        "--app",
        "checkout-web",
        "--save",
        "--as",
        "aisha",
    ]);
    assert_eq!(assigned["incident"], "INC-1");
    assert_eq!(
        assigned["saved_route"],
        "[[routes]]\napplication = \"checkout-web\"\nmatch = { service = \"checkout-v2\" }\n"
    );
    assert!(sandbox.json(&["unrouted"]).as_array().unwrap().is_empty());
    let incident = sandbox.json(&["incident", "show", "INC-1"]);
    assert_eq!(incident["team"], "checkout");
    assert_eq!(
        incident["escalation"]["status"], "due",
        "the owning team is paged"
    );
    sandbox.ok(&["check"]);
    let stderr = sandbox.fails(
        &[
            "assign",
            &fingerprint,
            "--app",
            "checkout-web",
            "--as",
            "aisha",
        ],
        1,
    );
    assert!(
        stderr.contains("already routes to checkout-web"),
        "{stderr}"
    );

    // The next such alert routes itself, without restarting the engine.
    served.wait_for_log("config reloaded");
    let (_, body) = served.post_alerts(
        &token,
        &[(
            "QueueBacklog",
            &[("service", "checkout-v2"), ("env", "staging")],
        )],
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["new"], 1, "{body}");
    assert!(sandbox.json(&["unrouted"]).as_array().unwrap().is_empty());
    let alerts = sandbox.json(&["alerts"]);
    for alert in alerts.as_array().unwrap() {
        assert_eq!(alert["application"], "checkout-web", "{alert:#}");
        assert_eq!(alert["incident"], "INC-1", "joins the open incident");
    }
}

#[test]
fn a_running_engine_keeps_its_config_when_the_file_breaks() {
    let sandbox = Sandbox::demo();
    let served = Served::start(&sandbox, &[]);
    let good = sandbox.read_config();
    sandbox.write_config(&good.replace("team = \"payments\"", "team = \"paymnets\""));
    served.wait_for_log("the changed config is invalid: keeping the config in use");
    let problem = served.wait_for_log("team \"paymnets\" does not exist");
    assert!(problem.contains("stopline.toml:"), "{problem}");
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let (_, body) = served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["opened"],
        serde_json::json!(["INC-1"]),
        "still routing"
    );
    assert_eq!(
        sandbox.json(&["incident", "show", "INC-1"])["team"],
        "payments"
    );
}

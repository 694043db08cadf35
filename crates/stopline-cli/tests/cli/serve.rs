//! `stopline serve` and `stopline sync` as an operator runs them: routing without a config, a
//! clean stop on SIGTERM, broken config and bad URLs refused, secrets from the OS keyring, the line
//! endpoint a pipeline asks, a config reloaded (or kept) while it runs, and a system without CA
//! certificates.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::support::{Sandbox, SecretService, Served};
use stopline_tests::fixture;

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
fn sync_without_once_keeps_pulling_until_told_to_stop() {
    let sandbox = Sandbox::new();
    let alertmanager = stopline_tests::alertmanager::Alertmanager::start(
        &sandbox.dir.path().join("am"),
        stopline_tests::free_port(),
        None,
    );
    // A source polled every second, so a second pass comes quickly.
    sandbox.write_config(&format!(
        "{}\n[[sources]]\nname = \"am\"\nkind = \"alertmanager\"\nurls = [\"{}\"]\npoll_interval = \"1s\"\n",
        stopline_tests::workspace_toml(&[("ben", "Ben")]),
        alertmanager.url()
    ));
    alertmanager.post_alert_with("PaymentsDown", &[("service", "payments")], None);
    let mut sync = sandbox
        .command(&["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let names = |sandbox: &Sandbox| -> Vec<String> {
        sandbox
            .json(&["alerts"])
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["labels"]["alertname"].as_str().map(str::to_owned))
            .collect()
    };
    let wait_for = |name: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !names(&sandbox).iter().any(|n| n == name) {
            assert!(
                std::time::Instant::now() < deadline,
                "sync never pulled {name}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    wait_for("PaymentsDown");
    // Later passes pull what fires later: it keeps pulling.
    alertmanager.post_alert_with("CheckoutDown", &[("service", "checkout")], None);
    wait_for("CheckoutDown");
    assert!(sync.try_wait().unwrap().is_none(), "still running");
    let pid = sync.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = sync.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sync did not stop on SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
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

#[test]
fn serve_runs_without_ca_certificates_and_says_what_to_install() {
    // A minimal system without the ca-certificates package: the webhook, loopback sources and
    // notifications need no trust store, so the engine serves; HTTPS would fail request by
    // request. (rustls reads the trust store from these two variables when they are set.)
    let sandbox = Sandbox::demo();
    let empty = sandbox.dir.path().join("no-certificates");
    std::fs::create_dir(&empty).unwrap();
    let env = [
        (
            "SSL_CERT_FILE".to_owned(),
            empty.join("none.pem").display().to_string(),
        ),
        ("SSL_CERT_DIR".to_owned(), empty.display().to_string()),
    ];
    let served = Served::start_with_env(&sandbox, &[], &env);
    let warning = served.wait_for_log("ca-certificates");
    assert!(warning.contains("No CA certificates"), "{warning}");
    let (status, body) = served.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 200, "{body}");
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let (status, body) = served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    assert!((200..300).contains(&status), "{status} {body}");
}

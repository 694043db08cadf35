//! `stopline hub` from the command line, against a real PostgreSQL the test starts.

use serde_json::Value;
use stopline_tests::postgres::Postgres;

use crate::support::{Sandbox, Served, person_token, try_post_alerts};

#[test]
fn hub_migrate_brings_the_database_up_and_says_what_it_did() {
    let sandbox = Sandbox::new();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(pg_dir.path());
    let url = postgres.create_database("org");
    let target = format!("127.0.0.1:{}/org", postgres.port());

    let first = sandbox.json(&["hub", "migrate", "--database", &url]);
    assert_eq!(first["database"], target);
    assert_eq!(first["from"], 0);
    let version = first["to"].as_i64().unwrap();
    assert!(version >= 1);
    // From the environment, as a service would run it; already up to date.
    let output = sandbox
        .command(&["hub", "migrate"])
        .env("STOPLINE_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        format!("The hub's database at {target} is up to date (schema version {version}).")
    );

    // From a file (a systemd credential, say), its first line.
    let url_file = sandbox.dir.path().join("database-url");
    std::fs::write(&url_file, format!("{url}\n")).unwrap();
    let from_file = sandbox.ok(&[
        "hub",
        "migrate",
        "--database-url-file",
        url_file.to_str().unwrap(),
    ]);
    assert!(from_file.contains("is up to date"), "{from_file}");
    let missing = sandbox.fails(
        &["hub", "migrate", "--database-url-file", "/nonexistent/url"],
        2,
    );
    assert!(
        missing.contains("--database-url-file: /nonexistent/url"),
        "{missing}"
    );

    // A newer database is refused and left alone.
    postgres.psql("org", "UPDATE hub_schema SET version = 999");
    let stderr = sandbox.fails(&["hub", "migrate", "--database", &url], 1);
    assert!(
        stderr.contains("has schema version 999, newer than this Stopline knows"),
        "{stderr}"
    );
    assert_eq!(
        postgres.psql("org", "SELECT version FROM hub_schema"),
        "999"
    );
}

#[test]
fn hub_migrate_refuses_a_bad_or_unreachable_database_by_name_without_its_password() {
    let sandbox = Sandbox::new();
    let stderr = sandbox.fails(&["hub", "migrate", "--database", "hub.example"], 2);
    assert!(
        stderr.contains("--database: not a PostgreSQL URL"),
        "{stderr}"
    );
    let port = stopline_tests::free_port();
    let url = format!("postgres://hub:s3cret@127.0.0.1:{port}/org");
    let stderr = sandbox.fails(&["hub", "migrate", "--database", &url], 1);
    assert!(
        stderr.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}/org")),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let stderr = sandbox.fails(&["hub", "migrate"], 2);
    assert!(stderr.contains("--database"), "{stderr}");
}

/// A real PostgreSQL with a database `org` migrated by `stopline hub migrate`, and its URL.
fn migrated_database(sandbox: &Sandbox) -> (tempfile::TempDir, Postgres, String) {
    let dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(dir.path());
    let url = postgres.create_database("org");
    sandbox.ok(&["hub", "migrate", "--database", &url]);
    (dir, postgres, url)
}

/// A `stopline hub` on `url`, on a free loopback port, with `token`.
fn hub(sandbox: &Sandbox, url: &str, token: &str) -> Served {
    let mut command = sandbox.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .env("STOPLINE_DATABASE_URL", url)
        .env("STOPLINE_WEBHOOK_TOKEN", token);
    Served::spawn(command)
}

#[test]
fn two_hubs_on_one_database_take_the_same_delivery_as_one_alert() {
    let sandbox = Sandbox::demo();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(pg_dir.path());
    let url = postgres.create_database("org");

    // A database not migrated yet is found at the start, not at the first delivery.
    let mut command = sandbox.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .env("STOPLINE_DATABASE_URL", &url)
        .env("STOPLINE_WEBHOOK_TOKEN", TOKEN);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("run `stopline hub migrate` first"),
        "{stderr}"
    );

    sandbox.ok(&["hub", "migrate", "--database", &url]);
    let (first, second) = (hub(&sandbox, &url, TOKEN), hub(&sandbox, &url, TOKEN));
    let (status, body) = first.request("GET", "/healthz", &[], b"");
    assert_eq!((status, body.contains("\"ok\"")), (200, true), "{body}");

    // The same delivery to both hubs at once.
    let labels: &[(&str, &str)] = &[("service", "payment-gateway")];
    let (first_address, second_address) = (first.address.clone(), second.address.clone());
    let post = |address: &str| {
        try_post_alerts(address, TOKEN, &[("HighErrorRate", labels)]).expect("a hub answers")
    };
    let answers = std::thread::scope(|scope| {
        let to_first = scope.spawn(|| post(&first_address));
        let to_second = scope.spawn(|| post(&second_address));
        [to_first.join().unwrap(), to_second.join().unwrap()]
    });
    let mut opened = Vec::new();
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        let body: Value = serde_json::from_str(body).unwrap();
        opened.extend(body["opened"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(opened, [Value::from("INC-1")], "{answers:?}");
    assert_eq!(postgres.psql("org", "SELECT count(*) FROM alerts"), "1");
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT application_id || '/' || team_id || '/' || state FROM incidents"
        ),
        "payment-gateway/payments/triggered",
        "routed by the organisation's config"
    );
    // Both hubs escalate; the payments on-call person is paged once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while postgres.psql("org", "SELECT count(*) FROM pages") == "0" {
        assert!(std::time::Instant::now() < deadline, "nobody was paged");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT count(*) FROM timeline WHERE kind = 'paging' AND incident_id = 1"
        ),
        "1",
        "the first step is recorded once, by one of the two hubs"
    );

    // The same contract as `stopline serve`: refused requests name the problem, store nothing.
    let (status, body) = second.request(
        "POST",
        "/v1/alertmanager",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("headers.authorization"), "{body}");
    let auth = format!("Bearer {TOKEN}");
    let (status, body) = second.request(
        "POST",
        "/v1/alertmanager",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        br#"{"version": "4", "alerts": [{"status": "firing", "labels": {}, "startsAt": "yesterday"}]}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("alerts[0]"), "{body}");
    let (status, body) = second.request("GET", "/v2/nothing", &[], b"");
    assert_eq!(status, 404, "{body}");
    assert_eq!(postgres.psql("org", "SELECT count(*) FROM alerts"), "1");
}

#[test]
fn a_hub_refuses_plain_http_beyond_loopback_and_a_missing_token() {
    let sandbox = Sandbox::new();
    let stderr = sandbox.fails(
        &[
            "hub",
            "--listen",
            "0.0.0.0:0",
            "--database",
            "postgres://hub@127.0.0.1:1/org",
        ],
        2,
    );
    assert!(
        stderr.contains("--listen: 0.0.0.0:0 is not loopback")
            && stderr.contains("--insecure-plaintext"),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["hub", "--database", "postgres://hub@127.0.0.1:1/org"], 2);
    assert!(stderr.contains("STOPLINE_WEBHOOK_TOKEN"), "{stderr}");
}

/// A webhook token as `stopline token` makes one: long enough to be accepted.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn a_hub_killed_while_escalating_leaves_each_step_paged_once_by_another() {
    let sandbox = Sandbox::demo();
    let (_pg_dir, postgres, url) = migrated_database(&sandbox);
    let (doomed, survivor) = (hub(&sandbox, &url, TOKEN), hub(&sandbox, &url, TOKEN));
    // One incident on each of a dozen applications, delivered to the hub about to die.
    let apps = sandbox.json(&["apps"]);
    let ids: Vec<String> = apps
        .as_array()
        .unwrap()
        .iter()
        .take(12)
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let labels: Vec<[(&str, &str); 1]> = ids.iter().map(|id| [("service", id.as_str())]).collect();
    let alerts: Vec<(&str, &[(&str, &str)])> =
        labels.iter().map(|l| ("ServiceDown", &l[..])).collect();
    let (status, body) = doomed.post_alerts(TOKEN, &alerts);
    assert_eq!(status, 200, "{body}");
    // SIGKILL, escalating or not: whatever it had not committed is rolled back.
    drop(doomed);
    // (An application whose mapping does not match on `service` opens nothing.)
    let incidents = postgres.psql("org", "SELECT count(*) FROM incidents");
    assert!(
        incidents.parse::<usize>().unwrap() >= 8,
        "{incidents} incidents"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let paged_incidents = || {
        postgres.psql(
            "org",
            "SELECT count(DISTINCT incident_id) FROM timeline WHERE kind = 'paging'",
        )
    };
    while paged_incidents() != incidents {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {incidents} incidents were paged",
            paged_incidents()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT count(*) FROM (SELECT incident_id FROM timeline WHERE kind = 'paging'
             GROUP BY incident_id HAVING count(*) > 1) AS twice"
        ),
        "0",
        "each first step once"
    );
    drop(survivor);
}

#[test]
fn a_hub_takes_pagerduty_events_by_routing_key() {
    let sandbox = Sandbox::demo();
    let config = sandbox.read_config()
        + "\n[[sources]]\nname = \"stock-events\"\nkind = \"pagerduty\"\napplication = \"warehouse-sync\"\nrouting_key_env = \"STOCK_ROUTING_KEY\"\n";
    sandbox.write_config(&config);
    let (_pg_dir, postgres, url) = migrated_database(&sandbox);
    let key = "R0UTINGKEYFORSTOCKSERVICE0000001";
    let mut command = sandbox.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .env("STOPLINE_DATABASE_URL", &url)
        .env("STOPLINE_WEBHOOK_TOKEN", TOKEN)
        .env("STOCK_ROUTING_KEY", key);
    let hub = Served::spawn(command);
    let event = |action: &str, routing_key: &str| {
        let body = serde_json::json!({
            "routing_key": routing_key,
            "event_action": action,
            "dedup_key": "stock-sync-lag",
            "payload": {"summary": "Stock sync lagging", "source": "stock", "severity": "critical"},
        });
        hub.request(
            "POST",
            "/v2/enqueue",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    };
    let (status, body) = event("trigger", key);
    assert_eq!(status, 202, "{body}");
    assert!(body.contains("\"dedup_key\":\"stock-sync-lag\""), "{body}");
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT application_id || ' ' || state FROM incidents"
        ),
        "warehouse-sync triggered"
    );
    let (status, _) = event("acknowledge", key);
    assert_eq!(status, 202);
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT state || ' ' || coalesce(acknowledged_by, 'the sender') FROM incidents"
        ),
        "acknowledged the sender"
    );
    let (status, _) = event("resolve", key);
    assert_eq!(status, 202);
    assert_eq!(postgres.psql("org", "SELECT state FROM alerts"), "resolved");
    // A wrong key is refused in PagerDuty's words and changes nothing.
    let (status, body) = event("trigger", "WRONGKEYWRONGKEYWRONGKEY00000000");
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("\"status\":\"invalid event\"") && body.contains("routing_key"),
        "{body}"
    );
    assert_eq!(postgres.psql("org", "SELECT count(*) FROM alerts"), "1");
}

#[test]
fn hub_tokens_are_made_for_people_of_the_config_listed_and_revoked() {
    let sandbox = Sandbox::demo();
    let (_pg_dir, _postgres, url) = migrated_database(&sandbox);
    let made = sandbox.json(&[
        "hub",
        "token",
        "create",
        "--person",
        "ben",
        "--database",
        &url,
    ]);
    assert_eq!(made["person"], "ben");
    let token = made["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let listed = sandbox.ok(&["hub", "token", "list", "--database", &url]);
    assert!(
        listed.contains(" ben ") && !listed.contains(&token),
        "{listed}"
    );
    let stderr = sandbox.fails(
        &[
            "hub",
            "token",
            "create",
            "--person",
            "nobody",
            "--database",
            &url,
        ],
        2,
    );
    assert!(stderr.contains("--person"), "{stderr}");
    let id = made["id"].to_string();
    let revoked = sandbox.ok(&["hub", "token", "revoke", &id, "--database", &url]);
    assert!(revoked.contains("revoked"), "{revoked}");
    let stderr = sandbox.fails(&["hub", "token", "revoke", &id, "--database", &url], 1);
    assert!(stderr.contains("no token"), "{stderr}");
    let listed = sandbox.json(&["hub", "token", "list", "--database", &url]);
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");

    // Both changes are audited, newest first, as made through the database itself.
    let audit = sandbox.json(&["hub", "audit", "--database", &url]);
    let names: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["token_revoke", "token_create"], "{audit}");
    assert!(
        audit[0]["person"].is_null() && audit[0]["args"]["person"] == "ben",
        "{audit}"
    );
    let text = sandbox.ok(&["hub", "audit", "--database", &url, "--limit", "1"]);
    assert!(
        text.contains("(the database)")
            && text.contains("token_revoke")
            && !text.contains("token_create"),
        "{text}"
    );
    let stderr = sandbox.fails(
        &["hub", "audit", "--database", &url, "--incident", "INC-x"],
        2,
    );
    assert!(stderr.contains("--incident"), "{stderr}");
}

#[test]
fn a_hub_says_503_while_its_database_is_down_and_takes_deliveries_again_when_it_is_back() {
    let sandbox = Sandbox::demo();
    let (_pg_dir, mut postgres, url) = migrated_database(&sandbox);
    let hub = hub(&sandbox, &url, TOKEN);
    let labels: &[(&str, &str)] = &[("service", "payment-gateway")];

    postgres.stop();
    let (status, body) = hub.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("the hub cannot use its database"), "{body}");
    // A delivery now is refused with 503, so the sender retries; the hub keeps serving.
    let (status, body) = hub.post_alerts(TOKEN, &[("HighErrorRate", labels)]);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("retry"), "{body}");

    postgres.start_again();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _) = hub.request("GET", "/healthz", &[], b"");
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hub never recovered"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // The sender's retry is taken, once.
    let (status, body) = hub.post_alerts(TOKEN, &[("HighErrorRate", labels)]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(postgres.psql("org", "SELECT count(*) FROM alerts"), "1");
    assert_eq!(postgres.psql("org", "SELECT count(*) FROM incidents"), "1");
}

/// A self-signed certificate for 127.0.0.1 and its key, made by openssl: `(cert, key)`.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("hub.pem"), dir.join("hub.key"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=stopline hub test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl is missing: run scripts/setup");
    assert!(made.success());
    (cert, key)
}

#[test]
fn a_hub_serves_https_with_its_certificate_and_refuses_a_bad_one_by_name() {
    let sandbox = Sandbox::demo();
    let (_pg_dir, _postgres, url) = migrated_database(&sandbox);
    let (cert, key) = self_signed(sandbox.dir.path());
    let mut command = sandbox.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env("STOPLINE_DATABASE_URL", &url)
        .env("STOPLINE_WEBHOOK_TOKEN", TOKEN);
    let served = Served::spawn(command);
    let curl = |extra: &[&str], path: &str| {
        let output = std::process::Command::new("curl")
            .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}"])
            .args(extra)
            .arg(format!("https://{}{path}", served.address))
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let cacert = cert.to_str().unwrap();
    let (code, answer) = curl(&["--cacert", cacert], "/healthz");
    assert_eq!(code, Some(0), "{answer}");
    assert!(
        answer.ends_with("\n200") && answer.contains("\"ok\""),
        "{answer}"
    );
    // A client that does not trust the certificate gets no answer; plain HTTP gets none.
    let (code, _) = curl(&[], "/healthz");
    assert_ne!(
        code,
        Some(0),
        "an untrusted certificate is refused by the client"
    );
    assert!(
        crate::support::try_request(&served.address, "GET", "/healthz", &[], b"").is_none(),
        "plain HTTP is not served on the TLS port"
    );

    // A key that is not one, or only half of the pair, stops the start by name.
    let bad = sandbox.dir.path().join("bad.key");
    std::fs::write(&bad, "not a key").unwrap();
    let stderr = sandbox.fails(
        &[
            "hub",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            bad.to_str().unwrap(),
        ],
        2,
    );
    assert!(
        stderr.contains("--tls-cert/--tls-key") && stderr.contains("bad.key"),
        "{stderr}"
    );
    let stderr = sandbox.fails(
        &[
            "hub",
            "--database",
            &url,
            "--tls-cert",
            cert.to_str().unwrap(),
        ],
        2,
    );
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

#[test]
fn the_systemd_unit_is_valid_and_runs_what_this_build_accepts() {
    let unit = include_str!("../../../../deploy/stopline-hub.service");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopline-hub.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/stopline", env!("CARGO_BIN_EXE_stopline")),
    )
    .unwrap();
    let verified = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze is missing: run scripts/setup");
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success() && said.trim().is_empty(),
        "{said}"
    );
    // Every option the unit gives `stopline hub` is one this build knows.
    let start: String = unit
        .split("ExecStart=/usr/local/bin/stopline ")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.starts_with("Restart"))
        .collect::<Vec<_>>()
        .join(" ");
    let help = Sandbox::new().ok(&["hub", "--help"]);
    for option in start.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(
            help.contains(option),
            "{option} is not an option of stopline hub"
        );
    }
}

/// The demo workspace with a real Alertmanager as source `prod-am`, polled every second, with
/// `extra` lines for the source.
fn with_alertmanager(extra: &str) -> (Sandbox, stopline_tests::alertmanager::Alertmanager) {
    let sandbox = Sandbox::demo();
    let alertmanager = stopline_tests::alertmanager::Alertmanager::start(
        &sandbox.dir.path().join("am"),
        stopline_tests::free_port(),
        None,
    );
    let config = sandbox.read_config()
        + &format!(
            "\n[[sources]]\nname = \"prod-am\"\nkind = \"alertmanager\"\nurls = [\"{}\"]\npoll_interval = \"1s\"\n{extra}",
            alertmanager.url()
        );
    sandbox.write_config(&config);
    (sandbox, alertmanager)
}

#[test]
fn hubs_poll_an_alertmanager_once_per_interval_between_them_and_resolve_what_it_drops() {
    let (sandbox, alertmanager) = with_alertmanager("");
    let (_pg_dir, postgres, url) = migrated_database(&sandbox);
    let (_first, _second) = (hub(&sandbox, &url, TOKEN), hub(&sandbox, &url, TOKEN));
    let wait_for = |sql: &str, want: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let got = postgres.psql("org", sql);
            if got == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{sql}: {got}, not {want}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };

    alertmanager.post_alert_with("GatewayDown", &[("service", "payment-gateway")], None);
    wait_for(
        "SELECT count(*) || ' ' || min(state) FROM alerts WHERE source = 'prod-am'",
        "1 firing",
    );
    wait_for(
        "SELECT count(*) FROM incidents WHERE state = 'triggered'",
        "1",
    );
    // Its first step paged, once, though two hubs poll and escalate.
    wait_for(
        "SELECT (count(*) > 0)::text FROM pages WHERE step = 0",
        "true",
    );
    // One step on the timeline: had both hubs recorded it, there would be two entries.
    assert_eq!(
        postgres.psql("org", "SELECT count(*) FROM timeline WHERE kind = 'paging'"),
        "1"
    );

    // Resolved at the source: the next poll's view lacks it, and the incident resolves itself.
    alertmanager.post_alert_with(
        "GatewayDown",
        &[("service", "payment-gateway")],
        Some("2026-01-01T00:05:00Z"),
    );
    wait_for(
        "SELECT state FROM alerts WHERE source = 'prod-am'",
        "resolved",
    );
    wait_for("SELECT state FROM incidents", "resolved");
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT coalesce(last_error, 'none') FROM source_polls"
        ),
        "none"
    );
}

#[test]
fn a_hub_silences_an_acknowledged_incidents_alerts_and_expires_them_when_it_resolves() {
    let (sandbox, alertmanager) =
        with_alertmanager("write_back = true\nsilence_duration = \"2h\"\n");
    let (_pg_dir, postgres, url) = migrated_database(&sandbox);
    let aisha = person_token(&sandbox, &url, "aisha");
    let (first, _second) = (hub(&sandbox, &url, TOKEN), hub(&sandbox, &url, TOKEN));
    let wait = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    alertmanager.post_alert_with("GatewayDown", &[("service", "payment-gateway")], None);
    wait("the hub polled the alert", &|| {
        postgres.psql("org", "SELECT count(*) FROM incidents") == "1"
    });
    let push = |id: u64, name: &str, args: Value| {
        let body = serde_json::json!({"desktop_id": "aisha-1", "mutations": [
            {"id": id, "name": name, "args": args, "at": "2026-12-03T10:00:00Z"}]});
        let auth = format!("Bearer {aisha}");
        let (status, answer) = first.request(
            "POST",
            "/v1/push",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains("\"applied\""), "{answer}");
    };
    push(1, "acknowledge", serde_json::json!({"incident": "INC-1"}));
    let ours = |state: &str| {
        alertmanager.silences().iter().any(|s| {
            s["comment"]
                .as_str()
                .unwrap_or("")
                .contains("[stopline INC-1 alert")
                && s["status"]["state"] == state
        })
    };
    wait("a silence for the acknowledged alert", &|| ours("active"));
    assert_eq!(
        alertmanager.silences().len(),
        1,
        "one silence, though two hubs run write-back"
    );
    assert_eq!(
        postgres.psql(
            "org",
            "SELECT count(*) FROM silences WHERE expired_at IS NULL"
        ),
        "1"
    );
    push(
        2,
        "resolve",
        serde_json::json!({"incident": "INC-1", "force": true}),
    );
    wait("the silence expired when the incident resolved", &|| {
        ours("expired")
    });
    wait("the expiry recorded", &|| {
        postgres.psql(
            "org",
            "SELECT count(*) FROM silences WHERE expired_at IS NOT NULL",
        ) == "1"
    });
}

#[test]
fn hub_oncall_shows_the_hubs_view_with_the_overrides_desktops_pushed() {
    let sandbox = Sandbox::demo();
    let (_pg_dir, _postgres, url) = migrated_database(&sandbox);
    let ben = format!("Bearer {}", person_token(&sandbox, &url, "ben"));
    let served = hub(&sandbox, &url, TOKEN);
    let before = sandbox.json(&["hub", "oncall", "--team", "payments", "--database", &url]);
    let holder = |view: &Value| {
        view["rotas"][0]["layers"][0]["now"]["person"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The desktop's own view, from the same config, agrees before any override.
    let desktop = sandbox.json(&["oncall", "--team", "payments"]);
    assert_eq!(holder(&before), holder(&desktop));
    let covering = if holder(&before) == "carla" {
        "dmitri"
    } else {
        "carla"
    };
    let now = jiff::Timestamp::now();
    let push = serde_json::json!({"desktop_id": "ben-1", "mutations": [{"id": 1, "name": "add_override",
        "args": {"rota": "payments-oncall", "person": covering,
                 "from": now.checked_sub(jiff::SignedDuration::from_hours(1)).unwrap().to_string(),
                 "to": now.checked_add(jiff::SignedDuration::from_hours(8)).unwrap().to_string()},
        "at": now.to_string()}]});
    let (status, answer) = served.request(
        "POST",
        "/v1/push",
        &[
            ("Authorization", &ben),
            ("Content-Type", "application/json"),
        ],
        push.to_string().as_bytes(),
    );
    assert!(
        status == 200 && answer.contains("\"applied\""),
        "{status} {answer}"
    );

    let after = sandbox.json(&["hub", "oncall", "--team", "payments", "--database", &url]);
    assert_eq!(holder(&after), covering);
    assert_eq!(after["rotas"][0]["layers"][0]["now"]["override"], true);
    let (status, route) = served.request(
        "GET",
        "/v1/oncall?team=payments",
        &[("Authorization", &ben)],
        b"",
    );
    assert_eq!(status, 200);
    let route: Value = serde_json::from_str(&route).unwrap();
    assert_eq!(holder(&route), covering, "the command and the route agree");
    for key in ["since", "until", "override"] {
        assert_eq!(
            route["rotas"][0]["layers"][0]["now"][key], after["rotas"][0]["layers"][0]["now"][key],
            "{key}"
        );
    }
    let text = sandbox.ok(&["hub", "oncall", "--team", "payments", "--database", &url]);
    assert!(text.contains(&format!("{covering} (override)")), "{text}");
    let stderr = sandbox.fails(&["hub", "oncall", "--team", "nope", "--database", &url], 2);
    assert!(stderr.contains("--team"), "{stderr}");
}

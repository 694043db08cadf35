//! Stopline used as an attacker or a careless user would: alert text built to break or fool the
//! terminal, oversized fields, documents with markup in them, restores and configs that are not
//! what they claim to be, slow clients, weak secrets.

use serde_json::Value;

use crate::support::{Sandbox, Served};

fn bearer(sandbox: &Sandbox) -> String {
    format!("Bearer {}", sandbox.ok(&["token"]).trim())
}

/// One firing Alertmanager alert with these labels, as a webhook body.
fn webhook_body(labels: &Value) -> Vec<u8> {
    serde_json::json!({
        "version": "4",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": "\u{1b}[2J\u{1b}[Hall clear"},
            "startsAt": "2026-11-27T10:00:00Z",
        }],
    })
    .to_string()
    .into_bytes()
}

#[test]
fn oversized_alert_text_is_refused_and_tables_never_break() {
    let sandbox = Sandbox::new();
    let served = Served::start(&sandbox, &[]);
    let auth = bearer(&sandbox);
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    let huge = "x".repeat(70_000);
    let (status, body) = served.request(
        "POST",
        "/v1/alertmanager",
        &headers,
        &webhook_body(&serde_json::json!({"alertname": huge})),
    );
    assert_eq!(status, 400, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["path"], "alerts[0].labels.alertname");
    assert_eq!(answer["error"], "longer than 2048 characters");
    assert_eq!(
        sandbox.json(&["alerts"]),
        serde_json::json!([]),
        "nothing stored"
    );

    // The longest accepted text prints as a table, cut to fit, and every listing still works.
    let longest = "y".repeat(2_048);
    let (status, body) = served.request(
        "POST",
        "/v1/alertmanager",
        &headers,
        &webhook_body(&serde_json::json!({"alertname": longest, "team": "checkout", "service": "payments-api", "severity": "critical"})),
    );
    assert_eq!(status, 200, "{body}");
    let incidents: Vec<Value> = serde_json::from_value(sandbox.json(&["incidents"])).unwrap();
    let id = incidents[0]["id"].as_str().unwrap().to_owned();
    for args in [
        vec!["incidents"],
        vec!["incident", "show", &id],
        vec!["alerts"],
        vec!["unrouted"],
    ] {
        let output = sandbox
            .command(&args)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
    }
    let table = sandbox
        .command(&["incidents"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    for line in String::from_utf8(table.stdout).unwrap().lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    // Without a terminal a cell is still bounded.
    let table = sandbox.ok(&["alerts"]);
    assert!(table.lines().all(|l| l.chars().count() < 1_000), "{table}");
    assert!(table.contains('…'));
}

#[test]
fn alert_text_cannot_drive_the_terminal() {
    let sandbox = Sandbox::new();
    let served = Served::start(&sandbox, &[]);
    let auth = bearer(&sandbox);
    let hostile = "\u{1b}]0;owned\u{7}Disk\r\u{1b}[2K\u{1b}[32mall clear\u{0}\u{9b}1m\u{202e}evil";
    let (status, body) = served.request(
        "POST",
        "/v1/alertmanager",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
        ],
        &webhook_body(&serde_json::json!({"alertname": hostile, "team": "checkout", "service": "payments-api", "severity": "critical"})),
    );
    assert_eq!(status, 200, "{body}");
    let incidents: Vec<Value> = serde_json::from_value(sandbox.json(&["incidents"])).unwrap();
    let id = incidents[0]["id"].as_str().unwrap().to_owned();
    for args in [
        vec!["incidents"],
        vec!["incident", "show", &id],
        vec!["alerts"],
        vec!["unrouted"],
    ] {
        let shown = sandbox.ok(&args);
        assert!(
            !shown
                .chars()
                .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
            "{args:?} printed a control character raw: {shown:?}"
        );
    }
    let shown = sandbox.ok(&["alerts"]);
    assert!(shown.contains("\\u{1b}]0;owned\\u{7}Disk\\r"), "{shown}");
    // JSON stays exact: the same text comes back.
    let alerts: Vec<Value> = serde_json::from_value(sandbox.json(&["alerts"])).unwrap();
    assert_eq!(alerts[0]["labels"]["alertname"], hostile);
}

/// A raw HTTP/1.1 request written exactly as given (`head` without the blank line); the status.
fn raw_status(address: &str, head: &str, body: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(
            format!(
                "{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn headers_and_query_are_parsed_as_the_standards_say() {
    let sandbox = Sandbox::new();
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let body = webhook_body(&serde_json::json!({"alertname": "Disk", "team": "checkout"}));
    let post = |host: &str, auth: &str, path: &str| {
        raw_status(
            &served.address,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\n"
            ),
            &body,
        )
    };
    // The auth scheme is case-insensitive (RFC 7235).
    assert_eq!(
        post("127.0.0.1", &format!("bearer {token}"), "/v1/alertmanager"),
        200
    );
    assert_eq!(
        post("127.0.0.1", &format!("BEARER {token}"), "/v1/alertmanager"),
        200
    );
    assert_eq!(
        post("127.0.0.1", &format!("Basic {token}"), "/v1/alertmanager"),
        401
    );
    // A loopback name with trailing garbage is not a loopback name.
    let auth = format!("Bearer {token}");
    for host in ["[::1]evil.com", "127.0.0.1:80evil", "localhost.evil.com"] {
        assert_eq!(post(host, &auth, "/v1/alertmanager"), 403, "{host}");
    }
    assert_eq!(post("[::1]:9177", &auth, "/v1/alertmanager"), 200);
    // `?source=` is percent-decoded; a bad escape is a 400.
    assert_eq!(
        post("localhost", &auth, "/v1/alertmanager?source=am%2Deu%20west"),
        200
    );
    let sources: Vec<String> = serde_json::from_value::<Vec<Value>>(sandbox.json(&["alerts"]))
        .unwrap()
        .iter()
        .map(|a| a["source"].as_str().unwrap().to_owned())
        .collect();
    assert!(sources.contains(&"am-eu west".to_owned()), "{sources:?}");
    assert_eq!(
        post("localhost", &auth, "/v1/alertmanager?source=bad%zz"),
        400
    );
    assert_eq!(
        post("localhost", &auth, "/v1/alertmanager?source=a%1Bb"),
        400
    );
}

/// Runs `stopline args` with `--config config`; kills it and fails the test if it has not
/// finished within 20 s (a hang is the bug being tested for).
fn run_bounded(sandbox: &Sandbox, config: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--config", config.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut child = sandbox
        .command(&all)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("stopline {args:?} with --config {} hung", config.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_config_that_is_not_a_file_is_refused_not_read_forever() {
    let sandbox = Sandbox::demo();
    let fifo = sandbox.dir.path().join("config.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let huge = sandbox.dir.path().join("huge.toml");
    std::fs::write(&huge, vec![b'#'; 17 * 1024 * 1024]).unwrap();
    for (path, says) in [
        (std::path::PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo.clone(), "not a regular file"),
        (sandbox.dir.path().to_owned(), "a directory"),
        (huge, "larger than the 16 MiB a config may be"),
    ] {
        let output = run_bounded(&sandbox, &path, &["check"]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{}: {stderr}",
            path.display()
        );
        assert!(stderr.contains(says), "{}: {stderr}", path.display());
    }

    // A running engine whose config is replaced by a FIFO keeps its config and still stops.
    let mut served = Served::start(&sandbox, &[]);
    let config = sandbox.config_path();
    std::fs::remove_file(&config).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&config)
            .status()
            .unwrap()
            .success()
    );
    served.wait_for_log("the config file cannot be read: keeping the config in use");
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let (status, body) = served.post_alerts(&token, &[("Down", &[("service", "payment-gateway")])]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(served.terminate().code(), Some(0), "SIGTERM still stops it");
}

/// What the store holds now, as `incidents --json` lists it.
fn incident_ids(sandbox: &Sandbox) -> Vec<String> {
    serde_json::from_value::<Vec<Value>>(sandbox.json(&["incidents"]))
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_restore_that_fails_leaves_the_store_exactly_where_it_was() {
    let sandbox = Sandbox::demo();
    sandbox.ok(&[
        "open",
        "--app",
        "payment-gateway",
        "--title",
        "Card payments fail",
        "--as",
        "aisha",
    ]);
    let before = incident_ids(&sandbox);
    assert_eq!(before.len(), 1);
    let store = sandbox.store_path();
    let store_bytes = std::fs::read(&store).unwrap();

    // The live store itself.
    let stderr = sandbox.fails(&["restore", store.to_str().unwrap()], 2);
    assert!(stderr.contains("that is the store itself"), "{stderr}");

    // Another program's SQLite file claiming schema version 1.
    let foreign = sandbox.dir.path().join("foreign.db");
    let conn = rusqlite::Connection::open(&foreign).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); PRAGMA user_version = 1;")
        .unwrap();
    drop(conn);
    let stderr = sandbox.fails(&["restore", foreign.to_str().unwrap()], 2);
    assert!(stderr.contains("not a Stopline store"), "{stderr}");

    // A store file of ours with a table missing.
    let backup = sandbox.dir.path().join("backup.db");
    sandbox.ok(&["backup", backup.to_str().unwrap()]);
    let conn = rusqlite::Connection::open(&backup).unwrap();
    conn.execute_batch("DROP TABLE timeline;").unwrap();
    drop(conn);
    let stderr = sandbox.fails(&["restore", backup.to_str().unwrap()], 2);
    assert!(stderr.contains("it has no table timeline"), "{stderr}");

    // After every refusal: the same store, the same bytes, nothing left beside it.
    assert_eq!(incident_ids(&sandbox), before);
    assert_eq!(std::fs::read(&store).unwrap(), store_bytes);
    let beside: Vec<String> = std::fs::read_dir(store.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".restoring") || name.contains(".replaced"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn a_review_shows_markup_from_alerts_and_people_as_text() {
    let sandbox = Sandbox::demo();
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    let title = "<script>alert(1)</script> **down**";
    let (status, body) = served.post_alerts(
        &token,
        &[(
            title,
            &[("service", "payment-gateway"), ("severity", "critical")],
        )],
    );
    assert_eq!(status, 200, "{body}");
    drop(served);
    let id = sandbox.json(&["incidents"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for note in [
        "see [the runbook](javascript:alert(document.cookie))",
        "<img src=x onerror=alert(1)>",
        "fine\r# Pwned: all clear",
        "a | b\n## Injected heading",
    ] {
        sandbox.ok(&["note", &id, note, "--as", "aisha"]);
    }
    let out = sandbox.dir.path().join("review.md");
    sandbox.ok(&["review", &id, "--out", out.to_str().unwrap()]);
    let review = std::fs::read_to_string(&out).unwrap();
    for raw in ["<script", "<img", "[the runbook](", "**down**"] {
        assert!(
            !review.contains(raw),
            "{raw} reached the document:\n{review}"
        );
    }
    for line in review.lines() {
        assert!(
            !line.starts_with("# Pwned") && !line.starts_with("## Injected"),
            "an alert or a note started a heading:\n{review}"
        );
        assert!(!line.contains('\r'), "a bare CR reached the document");
    }
    // The text is still there to read, escaped: no link can form.
    assert!(review.contains("\\[the runbook\\](javascript:"), "{review}");
    assert!(
        review.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\*\\*down\\*\\*"),
        "{review}"
    );
    assert!(
        review.contains("a \\| b\\\\n\\#\\# Injected heading"),
        "{review}"
    );
    // Every timeline row still has its four cells.
    let rows: Vec<&str> = review
        .lines()
        .skip_while(|l| !l.starts_with("## Timeline"))
        .skip(4)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() >= 5, "{review}");
    for row in rows {
        assert_eq!(row.replace("\\|", "").matches('|').count(), 5, "{row}");
    }
}

/// A connection that sends the start of a request and then nothing more.
fn slow_client(address: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(b"POST /v2/enqueue HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        .unwrap();
    stream
}

/// Whether the server closed `stream` within `within`.
fn closed_within(stream: &mut std::net::TcpStream, within: std::time::Duration) -> bool {
    use std::io::Read;
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buffer = [0u8; 512];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn slow_clients_cannot_take_the_webhook_server_down() {
    let sandbox = Sandbox::new();
    sandbox.write_config(
        "[workspace]\nname = \"Slow\"\ntime_zone = \"UTC\"\ncurrency = \"EUR\"\n\n\
         [webhook]\nread_timeout = \"2s\"\nmax_connections = 400\n",
    );
    // Started under a soft file limit of 256: the engine raises it to the hard limit.
    let served = Served::start_with_file_limit(&sandbox, 256);
    let started = served.wait_for_log("raised the open-file limit");
    assert!(started.contains("to="), "{started}");

    // 300 slowloris connections, each holding a half-sent request head.
    let mut slow: Vec<std::net::TcpStream> =
        (0..300).map(|_| slow_client(&served.address)).collect();
    let (status, _) = served.request("GET", "/healthz", &[], b"");
    assert_eq!(
        status, 200,
        "/healthz answers with 300 slow clients connected"
    );
    // Each is cut off once its read timeout passes.
    assert!(closed_within(
        &mut slow[0],
        std::time::Duration::from_secs(15)
    ));
    assert!(closed_within(
        &mut slow[299],
        std::time::Duration::from_secs(15)
    ));
    drop(slow);

    // A body that never finishes arriving is answered 408.
    let auth = bearer(&sandbox);
    let answer = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&served.address).unwrap();
        stream
            .write_all(
                format!(
                    "POST /v1/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {auth}\r\n\
                     Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"version\""
                )
                .as_bytes(),
            )
            .unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(15)))
            .unwrap();
        let mut answer = vec![0u8; 4096];
        let n = stream.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..n]).into_owned()
    };
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[test]
fn the_connection_cap_is_logged_and_slow_clients_are_cleared() {
    let sandbox = Sandbox::new();
    sandbox.write_config(
        "[workspace]\nname = \"Capped\"\ntime_zone = \"UTC\"\ncurrency = \"EUR\"\n\n\
         [webhook]\nread_timeout = \"2s\"\nmax_connections = 20\n",
    );
    let served = Served::start(&sandbox, &[]);
    let slow: Vec<std::net::TcpStream> = (0..30).map(|_| slow_client(&served.address)).collect();
    served.wait_for_log("webhook connection limit reached");
    // The slow clients are cut off after their read timeout, and /healthz gets its turn.
    let (status, _) = served.request("GET", "/healthz", &[], b"");
    assert_eq!(status, 200);
    drop(slow);
}

/// `serve` with `--webhook-token-file file`, expected to refuse to start (exit 2); its stderr.
fn serve_refused_with_token_file(sandbox: &Sandbox, file: &std::path::Path) -> String {
    let file = file.to_str().unwrap();
    sandbox.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--webhook-token-file",
            file,
        ],
        2,
    )
}

#[test]
fn weak_or_exposed_secrets_are_refused_or_warned_about() {
    let sandbox = Sandbox::new();
    // Too short, from each place a token can come from; the error names the place.
    let stderr = sandbox.fails(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--webhook-token",
            "hunter2",
        ],
        2,
    );
    assert!(
        stderr
            .contains("--webhook-token: the webhook token is 7 characters: at least 16 are needed"),
        "{stderr}"
    );
    let output = sandbox
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .env("STOPLINE_WEBHOOK_TOKEN", "short-token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("STOPLINE_WEBHOOK_TOKEN: the webhook token is 11"),
        "{stderr}"
    );
    let file = sandbox.dir.path().join("token.txt");
    std::fs::write(&file, "abc\n").unwrap();
    let stderr = serve_refused_with_token_file(&sandbox, &file);
    assert!(
        stderr.contains("--webhook-token-file: the webhook token is 3"),
        "{stderr}"
    );
    // An empty one is refused too, not replaced by the stored token.
    std::fs::write(&file, "\n").unwrap();
    let stderr = serve_refused_with_token_file(&sandbox, &file);
    assert!(
        stderr.contains("--webhook-token-file: the webhook token is 0"),
        "{stderr}"
    );
    let stderr = serve_refused_with_token_file(&sandbox, std::path::Path::new("/dev/zero"));
    assert!(stderr.contains("not a regular file"), "{stderr}");

    // A PagerDuty routing key that is too short.
    sandbox.write_config(
        "[workspace]\nname = \"Keys\"\ntime_zone = \"UTC\"\ncurrency = \"EUR\"\n\n\
         [[people]]\nid = \"ann\"\nname = \"Ann\"\n\n\
         [[teams]]\nid = \"stock\"\nname = \"Stock\"\nkind = \"delivery\"\nmembers = [\"ann\"]\n\n\
         [[applications]]\nid = \"stock-sync\"\nname = \"Stock sync\"\nteam = \"stock\"\n\
         availability_target = 99.5\nexposure_per_hour = 100\nmatch = { service = \"stock\" }\n\n\
         [[sources]]\nname = \"stock-events\"\nkind = \"pagerduty\"\napplication = \"stock-sync\"\n\
         routing_key_env = \"STOCK_KEY\"\n",
    );
    let output = sandbox
        .command(&["serve", "--listen", "127.0.0.1:0"])
        .env("STOCK_KEY", "12345678")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the routing key of source \"stock-events\" is 8 characters"),
        "{stderr}"
    );

    // A strong token on the command line works, with a warning that `ps` shows it; one in a
    // file works without.
    std::fs::write(&file, "0123456789abcdef0123\n").unwrap();
    let env = [(
        "STOCK_KEY".to_owned(),
        "0123456789abcdef0123456789abcdef".to_owned(),
    )];
    let served = Served::start_with_env(
        &sandbox,
        &["--webhook-token-file", file.to_str().unwrap()],
        &env,
    );
    let (status, _) = served.request(
        "GET",
        "/v1/teams/stock/line",
        &[("Authorization", "Bearer 0123456789abcdef0123")],
        b"",
    );
    assert_eq!(status, 200, "the token from the file");
    assert!(
        !served
            .seen_lines()
            .iter()
            .any(|l| l.contains("shows the token to every user"))
    );
    drop(served);
    let served =
        Served::start_with_env(&sandbox, &["--webhook-token", "0123456789abcdef0123"], &env);
    served.wait_for_log("--webhook-token shows the token to every user of this machine");
    let (status, _) = served.request(
        "GET",
        "/v1/teams/stock/line",
        &[("Authorization", "Bearer 0123456789abcdef0123")],
        b"",
    );
    assert_eq!(status, 200);
}

#[test]
fn failed_authentications_are_logged_sparingly_and_slowed_down() {
    let sandbox = Sandbox::new();
    let served = Served::start(&sandbox, &[]);
    let wrong = [("Authorization", "Bearer wrong-wrong-wrong-wrong")];
    let mut took = Vec::new();
    for _ in 0..8 {
        let started = std::time::Instant::now();
        let (status, _) = served.request("GET", "/v1/teams/x/line", &wrong, b"");
        took.push(started.elapsed());
        assert_eq!(status, 401);
    }
    // The sixth failure on waits (250 ms, then 500, then 1 s); the first five do not.
    assert!(took[5] >= std::time::Duration::from_millis(250), "{took:?}");
    assert!(
        took[7] >= std::time::Duration::from_millis(1000),
        "{took:?}"
    );
    // A correct token from the same address is answered at once, as always.
    let auth = bearer(&sandbox);
    let (status, _) = served.request("GET", "/healthz", &[("Authorization", auth.as_str())], b"");
    assert_eq!(status, 200);
    let logged = served.wait_for_log("failed webhook authentication");
    assert!(logged.contains("address=127.0.0.1"), "{logged}");
    let lines = served
        .seen_lines()
        .iter()
        .filter(|l| l.contains("failed webhook authentication"))
        .count();
    assert_eq!(lines, 1, "eight failures within seconds are one log line");
}

#[cfg(unix)]
#[test]
fn the_store_and_backups_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::demo();
    let data = sandbox.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let served = Served::start(&sandbox, &[]);
    served.wait_for_log("the data directory was open to other users: narrowed");
    assert_eq!(mode(&data), 0o700);
    sandbox.ok(&[
        "open",
        "--app",
        "payment-gateway",
        "--title",
        "Down",
        "--as",
        "aisha",
    ]);
    for file in [
        "stopline.db",
        "stopline.db-wal",
        "stopline.db-shm",
        "webhook-token",
    ] {
        let path = data.join(file);
        assert!(path.exists(), "{file}");
        assert_eq!(mode(&path), 0o600, "{file}");
    }
    drop(served);
    let backup =
        std::path::PathBuf::from(sandbox.ok(&["backup"]).split_whitespace().last().unwrap());
    assert_eq!(mode(&backup), 0o600, "{}", backup.display());
    assert_eq!(mode(backup.parent().unwrap()), 0o700);
    assert_eq!(mode(&data.join("backups.log")), 0o600);
}

#[test]
fn listening_beyond_loopback_is_warned_about() {
    let sandbox = Sandbox::new();
    let quiet = Served::start(&sandbox, &[]);
    assert!(
        !quiet
            .seen_lines()
            .iter()
            .any(|l| l.contains("beyond loopback"))
    );
    drop(quiet);
    // Bound on every interface for a moment; nothing is sent to it.
    let open = Served::spawn(sandbox.command(&["serve", "--listen", "0.0.0.0:0"]));
    let warning = open.wait_for_log("the webhook server listens beyond loopback");
    assert!(warning.contains("0.0.0.0:"), "{warning}");
}

#[test]
fn json_documents_keep_hostile_text_exact_and_valid() {
    let sandbox = Sandbox::demo();
    let title = "Disk \u{202e}lluf\u{202c} \u{9b}2J \u{1b}[31m red";
    sandbox.ok(&[
        "open",
        "--app",
        "payment-gateway",
        "--title",
        title,
        "--as",
        "aisha",
    ]);
    let id = sandbox.json(&["incidents"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // `sandbox.json` parses what was printed: invalid JSON would fail here.
    let review = sandbox.json(&["review", &id]);
    assert_eq!(review["incident"]["title"], title, "{review}");
    let shown = sandbox.ok(&["review", &id, "--format", "json"]);
    let parsed: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(parsed["incident"]["title"], title);
    // The Markdown on a terminal shows them escaped.
    let markdown = sandbox.ok(&["review", &id]);
    assert!(markdown.contains("\\u{202e}"), "{markdown}");
    assert!(!markdown.contains('\u{202e}') && !markdown.contains('\u{1b}'));
}

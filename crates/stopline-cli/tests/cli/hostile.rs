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

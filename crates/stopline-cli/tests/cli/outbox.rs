//! Write-back through `stopline serve` as an operator runs it, against a real Alertmanager: an
//! acknowledgement made while Alertmanager is down waits in the outbox, `stopline sources` says
//! so, and the silence appears once Alertmanager is back; resolving expires it.

use std::time::{Duration, Instant};

use crate::support::{Sandbox, Served};
use serde_json::Value;
use stopline_tests::alertmanager::Alertmanager;
use stopline_tests::free_port;

/// Waits up to `seconds` for `check` to give a value.
fn wait_for<T>(seconds: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn an_acknowledgement_made_while_alertmanager_is_down_becomes_its_silence_when_it_is_back() {
    let sandbox = Sandbox::demo();
    let port = free_port();
    let config = sandbox.read_config()
        + &format!(
            "\n[[sources]]\nname = \"prod\"\nkind = \"alertmanager\"\nurls = [\"http://127.0.0.1:{port}\"]\npoll_interval = \"1s\"\nwrite_back = true\nsilence_duration = \"2h\"\n"
        );
    sandbox.write_config(&config);
    let served = Served::start(&sandbox, &[]);
    let token = sandbox.ok(&["token"]).trim().to_owned();
    // Alertmanager's webhook delivered this before it went down.
    let (status, _) = served.post_alerts(
        &token,
        &[("HighErrorRate", &[("service", "payment-gateway")])],
    );
    assert_eq!(status, 200);
    sandbox.ok(&["ack", "INC-1", "--as", "ben"]);

    let sources = wait_for(20, "the waiting action to show", || {
        let text = sandbox.ok(&["sources"]);
        text.contains("prod: offline since").then_some(text)
    });
    assert!(sources.contains(", 1 action waiting"), "{sources}");
    let json = sandbox.json(&["sources"]);
    let prod = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "prod")
        .unwrap()
        .clone();
    assert_eq!(prod["waiting"], 1, "{prod:#}");
    assert_eq!(prod["state"], "failing");
    // Everything local keeps working meanwhile.
    sandbox.ok(&[
        "note",
        "INC-1",
        "Failing over to the backup provider",
        "--as",
        "ben",
    ]);
    sandbox.ok(&["step", "INC-1", "stop-the-line", "done", "--as", "ben"]);

    let dir = sandbox.dir.path().join("am");
    let alertmanager = Alertmanager::start(&dir, port, None);
    let silence = wait_for(40, "the silence in Alertmanager", || {
        alertmanager
            .silences()
            .into_iter()
            .find(|s| s["status"]["state"] != "expired")
    });
    assert_eq!(silence["createdBy"], "ben");
    assert!(
        silence["comment"].as_str().unwrap().contains("INC-1"),
        "{silence:#}"
    );
    let names: Vec<&str> = silence["matchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"service") && names.contains(&"alertname"),
        "{names:?}"
    );
    let shown = wait_for(10, "the silence to be recorded", || {
        let shown = sandbox.json(&["incident", "show", "INC-1"]);
        (shown["outbox_waiting"] == 0).then_some(shown)
    });
    assert_eq!(shown["silences"][0]["source"], "prod");
    assert_eq!(shown["silences"][0]["silence_id"], silence["id"]);
    wait_for(10, "the outbox to empty", || {
        let json: Value = sandbox.json(&["sources"]);
        json.as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "prod" && s["waiting"] == 0)
            .then_some(())
    });

    sandbox.ok(&["resolve", "INC-1", "--as", "ben", "--force"]);
    wait_for(20, "the silence to expire", || {
        alertmanager
            .silences()
            .iter()
            .all(|s| s["status"]["state"] == "expired")
            .then_some(())
    });
    drop(served);
}

//! The swarm from the command line: the checklist, roles, severity, the review, and the service
//! desk routing an unrouted alert and saving the route.

use serde_json::Value;

use crate::support::{Sandbox, Served};

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
    // The engine says what is wrong; the command line adds which flag mends it.
    assert!(
        stderr.contains("skipping step \"diagnose\" needs a reason: add --reason \"why\""),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["step", "INC-1", "reboot", "done", "--as", "elena"], 2);
    assert!(stderr.contains("INC-1 has no step \"reboot\""), "{stderr}");
    let stderr = sandbox.fails(&["step", "INC-1", "diagnose", "--as", "elena"], 2);
    assert!(stderr.contains("nothing to change"), "{stderr}");
    assert!(stderr.contains("with --assign PERSON"), "{stderr}");

    sandbox.ok(&["role", "INC-1", "commander", "elena", "--as", "elena"]);
    let stderr = sandbox.fails(&["role", "INC-1", "commander", "farid", "--as", "farid"], 1);
    assert!(
        stderr.contains("elena is already the incident commander of INC-1"),
        "{stderr}"
    );
    assert!(stderr.contains(": hand over with --handover"), "{stderr}");
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
    assert!(
        stderr.contains("a severity override needs a reason: add --reason \"why\""),
        "{stderr}"
    );
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

    // Naming the commander and Grace joining ticked their steps; the rest are still open.
    let steps = sandbox.json(&["checklist", "INC-1"]);
    let state = |id: &str| {
        let step = steps
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == id)
            .unwrap();
        (step["state"].clone(), step["changed_by"].clone())
    };
    assert_eq!(state("name-commander"), ("done".into(), "elena".into()));
    assert_eq!(state("assemble-swarm"), ("done".into(), "grace".into()));
    let stderr = sandbox.fails(&["resolve", "INC-1", "--as", "elena"], 1);
    assert!(
        stderr.contains("required checklist steps still open: assess-impact"),
        "{stderr}"
    );
    assert!(
        stderr.contains("finish or skip them (stopline step), or resolve with --force"),
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
    // The same facts as JSON, for tools: --format json, or --json on standard output.
    let facts = sandbox.json(&["review", "INC-1", "--format", "json"]);
    assert_eq!(facts["incident"]["id"], "INC-1");
    assert_eq!(facts["incident"]["state"], "resolved");
    assert_eq!(facts["severity_reason"], "three customers");
    assert!(facts["duration_seconds"].as_i64().unwrap() >= 0);
    assert!(facts["timeline"].as_array().unwrap().len() > 3);
    assert!(
        facts["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "commander" && r["person"] == "farid")
    );
    let mut again = sandbox.json(&["--json", "review", "INC-1"]);
    again["reviewed_at"] = facts["reviewed_at"].clone();
    assert_eq!(again, facts, "--json gives the same facts");
    // With --out, the file gets the chosen format and standard output says where it went.
    let json_file = sandbox.dir.path().join("reviews/INC-1.json");
    let written = sandbox.json(&[
        "review",
        "INC-1",
        "--format",
        "json",
        "--out",
        json_file.to_str().unwrap(),
    ]);
    assert_eq!(written["incident"], "INC-1");
    assert_eq!(written["written"], json_file.to_str().unwrap());
    let in_file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(in_file["incident"]["id"], "INC-1");
    let stderr = sandbox.fails(&["review", "INC-1", "--format", "pdf"], 2);
    assert!(stderr.contains("pdf"), "{stderr}");
    let stderr = sandbox.fails(&["review", "INC-9"], 1);
    assert!(stderr.contains("no incident INC-9"), "{stderr}");
}

#[test]
fn a_saved_route_also_routes_the_alerts_already_waiting() {
    let sandbox = Sandbox::demo();
    let token = sandbox.ok(&["token"]).trim().to_owned();
    {
        let served = Served::start(&sandbox, &[]);
        let shards: Vec<String> = (1..=6).map(|n| n.to_string()).collect();
        let labels: Vec<[(&str, &str); 2]> = shards
            .iter()
            .map(|shard| [("job", "nightly-settlement"), ("shard", shard.as_str())])
            .collect();
        let mut batch: Vec<(&str, &[(&str, &str)])> =
            labels.iter().map(|l| ("SettlementLate", &l[..])).collect();
        batch.push(("DiskFull", &[("job", "backups")]));
        let (status, body) = served.post_alerts(&token, &batch);
        assert_eq!(status, 200, "{body}");
    }
    let waiting = sandbox.json(&["unrouted"]);
    assert_eq!(waiting.as_array().unwrap().len(), 7);
    let first = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["job"] == "nightly-settlement")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let assigned = sandbox.json(&[
        "assign",
        &first,
        "--app",
        "payment-reports",
        "--save",
        "--as",
        "aisha",
    ]);
    assert_eq!(assigned["also_routed"], 5, "{assigned:#}");
    assert_eq!(assigned["incident"], "INC-1");
    // Only the backups alert, which the route does not match, still waits.
    let waiting = sandbox.json(&["unrouted"]);
    assert_eq!(waiting.as_array().unwrap().len(), 1, "{waiting:#}");
    assert_eq!(waiting[0]["labels"]["job"], "backups");
    // The six settlement alerts share one incident, which says how they got there.
    let incident = sandbox.json(&["incident", "show", "INC-1"]);
    let alerts = sandbox.json(&["alerts"]);
    let in_incident = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["incident"] == "INC-1")
        .count();
    assert_eq!(in_incident, 6, "{alerts:#}");
    let said = incident["timeline"].to_string();
    assert!(
        said.contains(
            "5 waiting alerts routed to payment-reports by the route saved from the unrouted queue"
        ),
        "{said}"
    );
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

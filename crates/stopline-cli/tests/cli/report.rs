//! `stopline report` as a product manager or payroll uses it: the formats, one team, a person's
//! loss figure, and bad arguments named.

use crate::support::Sandbox;

fn open_and_acknowledge(sandbox: &Sandbox) {
    sandbox.ok(&[
        "open",
        "--journey",
        "pay",
        "--title",
        "Card payments fail",
        "--as",
        "aisha",
    ]);
    sandbox.ok(&["ack", "INC-1", "--as", "ben"]);
}

#[test]
fn the_report_in_json_markdown_and_csv_agrees_with_itself() {
    let sandbox = Sandbox::demo();
    open_and_acknowledge(&sandbox);
    let json = sandbox.json(&["report", "--team", "payments"]);
    assert_eq!(json["currency"], "GBP");
    let teams = json["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 1);
    assert_eq!(teams[0]["team"], "payments");
    assert_eq!(teams[0]["pay_model"], "standby and callout");
    // Two layers on call around the clock for four weeks, at 350 a week each.
    let standby = teams[0]["standby"].as_f64().unwrap();
    assert!((standby - 2800.0).abs() < 0.01, "{standby}");
    let apps: Vec<&str> = json["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application"].as_str().unwrap())
        .collect();
    assert_eq!(apps, vec!["payment-gateway", "refunds", "payment-reports"]);
    assert_eq!(json["incidents"][0]["incident"], "INC-1");

    let markdown = sandbox.ok(&["report", "--team", "payments"]);
    for section in [
        "# Operability report: Northwind Retail, team payments",
        "## On-call cost per team",
        "## Pay per person",
        "## Availability against target",
        "## Time to acknowledge and restore",
        "## Revenue insurance",
    ] {
        assert!(markdown.contains(section), "{section} in\n{markdown}");
    }
    assert!(
        markdown.contains("| **payments** | | **all** | **GBP 2,800** |"),
        "{markdown}"
    );

    let csv = sandbox.ok(&["report", "--team", "payments", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("person,name,standby_hours,callouts,callout_hours,standby_pay_GBP"),
        "{csv}"
    );
    assert_eq!(
        lines.len(),
        5,
        "a header and the four people of the payments rota:\n{csv}"
    );
    let pay: f64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(5).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(
        (pay - 2800.0).abs() < 0.05,
        "standby pay adds up to the team's standby: {pay}"
    );
    let costs = sandbox.ok(&["report", "--format", "csv", "--table", "costs"]);
    assert!(costs.starts_with("team,pay_model,application,standby_GBP,callout_GBP,total_GBP\n"));

    let file = sandbox.dir.path().join("payroll.csv");
    sandbox.ok(&["report", "--format", "csv", "--out", file.to_str().unwrap()]);
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("person,name,")
    );
}

#[test]
fn a_loss_figure_given_with_a_severity_override_is_what_the_report_counts() {
    let sandbox = Sandbox::demo();
    open_and_acknowledge(&sandbox);
    sandbox.ok(&[
        "severity",
        "INC-1",
        "minor",
        "--reason",
        "only one card scheme fails",
        "--loss",
        "12000",
        "--as",
        "ben",
    ]);
    let json = sandbox.json(&["report"]);
    let incident = &json["incidents"][0];
    assert_eq!(incident["estimated_loss"], 12000.0);
    assert_eq!(incident["loss_estimated_by_hand"], true);
    let shown = sandbox.json(&["incident", "show", "INC-1"]);
    let last = shown["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["detail"],
        "severity major → minor: only one card scheme fails; estimated loss 12,000"
    );
}

#[test]
fn bad_report_arguments_are_named_and_change_nothing() {
    let sandbox = Sandbox::demo();
    let stderr = sandbox.fails(&["report", "--team", "paymnts"], 2);
    assert!(
        stderr.contains("--team: unknown team \"paymnts\""),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["report", "--from", "2026-12-01", "--to", "2026-11-01"], 2);
    assert!(stderr.contains("must be after --from"), "{stderr}");
    let stderr = sandbox.fails(&["report", "--from", "last week"], 2);
    assert!(
        stderr.contains("--from: invalid time \"last week\""),
        "{stderr}"
    );
    let stderr = sandbox.fails(&["report", "--format", "pdf"], 2);
    assert!(stderr.contains("pdf"), "{stderr}");
    let stderr = sandbox.fails(
        &[
            "severity",
            "INC-1",
            "minor",
            "--reason",
            "x",
            "--loss=-5",
            "--as",
            "ben",
        ],
        2,
    );
    assert!(stderr.contains("--loss"), "{stderr}");
}

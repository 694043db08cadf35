//! The one API both hosts call, as they call it: a `Workspace` on a config file and a data
//! directory, time moved by hand. What the CLI and the app show and do goes through here.

use std::sync::Arc;

use jiff::Timestamp;
use stopline_core::clock::{Clock, ManualClock};
use stopline_core::config::DEMO_CONFIG;
use stopline_core::incident::IncidentState;
use stopline_engine::EngineError;
use stopline_engine::api::{Actor, OpenTarget, TimeArg, Workspace, parse_labels};
use stopline_engine::files::DataDir;
use stopline_store::IncidentFilter;

const NOW: &str = "2026-11-27T10:00:00Z";

fn workspace(dir: &tempfile::TempDir) -> (Workspace, Arc<ManualClock>) {
    let config = dir.path().join("stopline.toml");
    std::fs::write(&config, DEMO_CONFIG).unwrap();
    let clock = Arc::new(ManualClock::new(NOW.parse().unwrap()));
    let shared: Arc<dyn Clock> = clock.clone();
    let ws = Workspace::new(config, DataDir::new(dir.path().join("data")), shared);
    (ws, clock)
}

fn open(ws: &Workspace, title: &str) -> stopline_core::incident::IncidentId {
    let target = OpenTarget::Application("payment-gateway".into());
    ws.open_incident(&target, title, &Actor::Named("aisha".into()))
        .unwrap()
        .id
}

#[test]
fn acting_as_the_person_at_this_desk_needs_one_and_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = workspace(&dir);
    let id = open(&ws, "Payments failing");
    let refused = ws.acknowledge(id, &Actor::SittingHere).unwrap_err();
    assert!(matches!(refused, EngineError::NobodyHere), "{refused}");
    assert!(
        refused.to_string().contains("stopline whoami --set"),
        "{refused}"
    );
    assert_eq!(
        ws.incident(id).unwrap().incident().state,
        IncidentState::Triggered,
        "a refusal changes nothing"
    );

    let unknown = ws.set_whoami(Some("mallory")).unwrap_err();
    assert!(
        matches!(unknown, EngineError::UnknownPerson(_)),
        "{unknown}"
    );
    ws.set_whoami(Some("ben")).unwrap();
    let acknowledged = ws.acknowledge(id, &Actor::SittingHere).unwrap();
    assert_eq!(acknowledged.acknowledged.unwrap().actor(), "ben");
    let view = ws.incident(id).unwrap();
    assert!(!view.checklist.is_empty(), "the swarm's checklist started");
    assert_eq!(
        view.summary.application_name.as_deref(),
        Some("Payment Gateway")
    );
}

#[test]
fn the_queue_puts_names_and_my_teams_beside_the_incidents_and_survives_a_broken_config() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = workspace(&dir);
    open(&ws, "Payments failing");
    ws.set_whoami(Some("ben")).unwrap();
    let queue = ws.queue().unwrap();
    assert_eq!(queue.workspace.as_deref(), Some("Northwind Retail"));
    assert_eq!(queue.incidents.len(), 1);
    assert_eq!(queue.incidents[0].team_name.as_deref(), Some("Payments"));
    assert!(queue.my_teams.iter().any(|t| t.as_str() == "payments"));
    assert_eq!(
        queue.people.len(),
        DEMO_CONFIG.matches("[[people]]").count()
    );

    // The app keeps its one handle while the file changes under it.
    std::fs::write(ws.config_path(), "[workspace]\nname = 1\n").unwrap();
    let broken = ws.queue().unwrap();
    assert!(broken.config_error.unwrap().contains("stopline.toml:2:8"));
    assert_eq!(broken.incidents.len(), 1, "incidents are still listed");
    assert!(matches!(
        ws.acknowledge(broken.incidents[0].incident.id, &Actor::Named("ben".into())),
        Err(EngineError::ConfigInvalid(_))
    ));
    std::fs::write(ws.config_path(), DEMO_CONFIG).unwrap();
    assert!(
        ws.queue().unwrap().config_error.is_none(),
        "read again once mended"
    );
}

#[test]
fn the_service_desk_finds_the_owner_by_id_name_labels_or_journey() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = workspace(&dir);
    for query in [
        "payment-gateway",
        "Payment Gateway",
        "service=payment-gateway",
    ] {
        let route = ws.desk_route(query).unwrap().unwrap();
        assert_eq!(route.application.id.as_str(), "payment-gateway", "{query}");
        assert_eq!(route.team_name, "Payments");
        assert!(!route.on_call.is_empty());
    }
    assert!(ws.desk_route("nothing like it at all").unwrap().is_none());
    let error = parse_labels("--labels", "service").unwrap_err().to_string();
    assert!(
        error.starts_with("--labels: \"service\" is not key=value"),
        "{error}"
    );
    let labels = parse_labels("--labels", "service=payment-gateway, env=prod").unwrap();
    let routed = ws.route_labels(&labels).unwrap();
    assert_eq!(routed.team_name.as_deref(), Some("Payments"));
}

#[test]
fn the_service_desk_sees_the_open_incident_and_adds_the_customers_report_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = workspace(&dir);
    let desk = Actor::Named("aisha".into());
    let route = ws.desk_route("I can't pay").unwrap().unwrap();
    assert!(route.open_incidents.is_empty(), "nothing open yet");
    let first = open(&ws, "Payments failing");
    clock.advance(jiff::SignedDuration::from_mins(3));
    let route = ws.desk_route("I can't pay").unwrap().unwrap();
    assert_eq!(route.application.id.as_str(), "payment-gateway");
    let listed: Vec<_> = route.open_incidents.iter().map(|s| s.incident.id).collect();
    assert_eq!(listed, [first]);
    // Another application's incidents are not offered.
    let other = OpenTarget::Application("search-api".into());
    ws.open_incident(&other, "Search slow", &desk).unwrap();
    assert_eq!(
        ws.desk_route("I can't pay")
            .unwrap()
            .unwrap()
            .open_incidents
            .len(),
        1
    );

    let before = ws.incident(first).unwrap().timeline.len();
    let error = ws
        .add_customer_report(first, "  ", Some("CS-1"), &desk)
        .unwrap_err();
    assert!(error.is_usage(), "{error}");
    assert_eq!(
        ws.incident(first).unwrap().timeline.len(),
        before,
        "unchanged"
    );
    let note = ws
        .add_customer_report(first, "I can't pay", Some("CS-4411"), &desk)
        .unwrap();
    assert_eq!(
        note.detail,
        "Customer report (ref CS-4411): \"I can't pay\""
    );
    assert_eq!(note.who.unwrap().as_str(), "aisha");
    // No second incident, so nobody is paged again.
    assert_eq!(ws.incidents(IncidentFilter::Open).unwrap().len(), 2);

    ws.resolve(first, &desk, true).unwrap();
    let refused = ws
        .add_customer_report(first, "still can't pay", None, &desk)
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("is resolved: open a new incident"),
        "{refused}"
    );
}

#[test]
fn times_and_names_people_type_are_refused_by_the_argument_they_came_in() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = workspace(&dir);
    let bad = ws
        .report(
            Some(TimeArg {
                name: "from",
                text: "yesterday",
            }),
            None,
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(bad.starts_with("from: invalid time \"yesterday\""), "{bad}");
    let team = ws.report(None, None, Some("paymnts")).unwrap_err();
    assert!(matches!(team, EngineError::UnknownTeam(_)), "{team}");
    let report = ws.report(None, None, Some("payments")).unwrap();
    assert_eq!(report.report.period.to, clock.now());
    let shifts = ws
        .shifts(
            "ben",
            TimeArg {
                name: "--from",
                text: "2026-11-30",
            },
            TimeArg {
                name: "--to",
                text: "2026-11-01",
            },
        )
        .unwrap_err()
        .to_string();
    assert_eq!(shifts, "--to: must be after --from");
}

#[test]
fn lists_and_views_read_the_store_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, clock) = workspace(&dir);
    let first = open(&ws, "Payments failing");
    clock.advance(jiff::SignedDuration::from_mins(5));
    let second = open(&ws, "Payments slow");
    ws.resolve(first, &Actor::Named("ben".into()), true)
        .unwrap();
    let open_now: Vec<_> = ws
        .incidents(IncidentFilter::Open)
        .unwrap()
        .into_iter()
        .map(|s| s.incident.id)
        .collect();
    assert_eq!(open_now, vec![second]);
    let resolved = ws.incident(first).unwrap();
    let at: Timestamp = NOW.parse().unwrap();
    assert_eq!(
        resolved.incident().resolved.as_ref().unwrap().at,
        at + jiff::SignedDuration::from_mins(5),
        "at the clock's time, moved by hand"
    );
    assert!(resolved.timeline.iter().any(|e| {
        e.detail
            .contains("overriding required checklist steps still open")
    }));
}

#[test]
fn the_report_exports_as_one_markdown_file_or_a_csv_file_per_table() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = workspace(&dir);
    open(&ws, "Payments failing");
    let from = TimeArg {
        name: "from",
        // Summer time in the workspace's zone: midnight there is 23:00 UTC the day before.
        text: "2026-07-01",
    };
    let to = TimeArg {
        name: "to",
        text: "2026-08-01",
    };
    let report = ws.report(Some(from), Some(to), Some("payments")).unwrap();
    let out = dir.path().join("exports");
    let written = report
        .export(&out, stopline_engine::api::ExportFormat::Markdown)
        .unwrap();
    assert_eq!(
        written,
        [out.join("stopline-report-2026-07-01-to-2026-08-01-payments.md")]
    );
    assert_eq!(
        std::fs::read_to_string(&written[0]).unwrap(),
        report.markdown()
    );
    let csv = report
        .export(&out, stopline_engine::api::ExportFormat::Csv)
        .unwrap();
    let names: Vec<String> = csv
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["costs", "people", "availability", "times", "incidents"]
            .map(|t| format!("stopline-report-2026-07-01-to-2026-08-01-payments-{t}.csv"))
    );
    assert_eq!(
        std::fs::read_to_string(&csv[1]).unwrap(),
        report.csv(stopline_engine::api::CsvTable::People)
    );
}

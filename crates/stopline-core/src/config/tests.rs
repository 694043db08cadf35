//! The config from text: what parses, and every mistake named at its place.

use jiff::civil::Time;

use super::checker::parse_time;
use super::*;
use crate::settings::{SourceKind, WriteBack};
use crate::team::TeamKind;
use crate::workspace::WorkingHours;

const MINIMAL: &str = r#"
[workspace]
name = "Acme"
time_zone = "Europe/London"
currency = "GBP"

[[people]]
id = "alice"
name = "Alice"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice"]

[[applications]]
id = "checkout-api"
name = "Checkout API"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000
match = { service = "checkout-api" }
journeys = ["Checkout"]
"#;

fn problems(text: &str) -> Vec<ConfigProblem> {
    Config::parse("stopline.toml", text).unwrap_err().problems
}

#[test]
fn a_minimal_config_parses() {
    let config = Config::parse("stopline.toml", MINIMAL).unwrap();
    assert_eq!(config.workspace.name, "Acme");
    assert_eq!(config.teams[0].members[0].as_str(), "alice");
    let app = config
        .application(&"checkout-api".parse().unwrap())
        .unwrap();
    assert_eq!(app.target.to_string(), "99.9%");
    assert_eq!(app.journeys, vec!["checkout"]);
    assert_eq!(config.workspace.working_hours, WorkingHours::default());
}

#[test]
fn the_shipped_templates_are_valid() {
    let example = Config::parse("example.toml", EXAMPLE_CONFIG).unwrap();
    assert!(!example.applications.is_empty());
    let demo = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
    let delivery = demo
        .teams
        .iter()
        .filter(|t| t.kind == TeamKind::Delivery)
        .count();
    assert!(delivery >= 12, "{delivery} delivery teams");
    assert!(demo.teams.iter().any(|t| t.kind == TeamKind::ServiceDesk));
    assert!(demo.applications.len() >= 30);
    for band in [95.0, 99.0, 99.9] {
        assert!(
            demo.applications.iter().any(|a| a.target.percent() == band),
            "no application in the {band}% band"
        );
    }
    for team in demo.teams.iter().filter(|t| t.kind == TeamKind::Delivery) {
        assert!(
            team.members.len() >= 3,
            "{} has fewer than 3 people",
            team.id
        );
    }
}

#[test]
fn routes_send_more_labels_to_an_application() {
    let text = format!(
        "{MINIMAL}\n[[routes]]\napplication = \"checkout-api\"\nmatch = {{ service = \"checkout-v2\" }}\n"
    );
    let config = Config::parse("stopline.toml", &text).unwrap();
    let labels: crate::alert::Labels = [("service".to_owned(), "checkout-v2".to_owned())].into();
    let routed = config
        .mapping()
        .route_labels(&labels)
        .application()
        .unwrap();
    assert_eq!(routed.id.as_str(), "checkout-api");
    assert_eq!(
        config.applications.len(),
        1,
        "a route is not another application"
    );
    // The application's own matchers still route as before.
    let own: crate::alert::Labels = [("service".to_owned(), "checkout-api".to_owned())].into();
    assert!(config.mapping().route_labels(&own).application().is_some());

    let bad = format!("{MINIMAL}\n[[routes]]\napplication = \"nope\"\nmatch = {{ a = \"b\" }}\n");
    let found = problems(&bad);
    assert_eq!(found[0].key, "routes[0].application");
    assert!(
        found[0]
            .message
            .contains("application \"nope\" does not exist")
    );
    let empty = format!("{MINIMAL}\n[[routes]]\napplication = \"checkout-api\"\n");
    assert_eq!(problems(&empty)[0].key, "routes[0].match");
}

#[test]
fn unknown_team_is_named_with_its_place() {
    let text = MINIMAL.replace("team = \"payments\"", "team = \"payment\"");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    let p = &found[0];
    assert_eq!((p.line, p.column), (20, 8));
    assert_eq!(p.key, "applications[0].team");
    assert!(
        p.message.contains("team \"payment\" does not exist"),
        "{}",
        p.message
    );
    assert!(
        p.to_string()
            .starts_with("stopline.toml:20:8: applications[0].team: ")
    );
}

#[test]
fn duplicate_ids_name_both_places() {
    let text = format!("{MINIMAL}\n[[people]]\nid = \"alice\"\nname = \"Alice Again\"\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "people[1].id");
    assert!(
        found[0].message.contains("already defined at line 8"),
        "{}",
        found[0].message
    );
}

#[test]
fn unknown_keys_are_errors_with_a_place() {
    let text = MINIMAL.replace(
        "kind = \"delivery\"",
        "kind = \"delivery\"\ncolour = \"red\"",
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, 15);
    assert_eq!(found[0].column, 1);
    assert!(
        found[0].message.contains("unknown field `colour`"),
        "{}",
        found[0].message
    );
}

#[test]
fn syntax_errors_have_a_place() {
    let text = MINIMAL.replace("name = \"Acme\"", "name = \"Acme");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, 3);
}

#[test]
fn every_cross_check_problem_is_reported_at_once() {
    let text = MINIMAL
        .replace("members = [\"alice\"]", "members = [\"alice\", \"zed\"]")
        .replace("availability_target = 99.9", "availability_target = 100")
        .replace(
            "time_zone = \"Europe/London\"",
            "time_zone = \"Europe/Londn\"",
        )
        .replace(
            "match = { service = \"checkout-api\" }",
            "match_regex = { service = \"(checkout\" }",
        );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        vec![
            "workspace.time_zone",
            "teams[0].members[1]",
            "applications[0].availability_target",
            "applications[0].match_regex.service",
        ]
    );
}

#[test]
fn service_desk_cannot_own_applications() {
    let text = MINIMAL.replace("kind = \"delivery\"", "kind = \"service_desk\"");
    let found = problems(&text);
    assert!(
        found[0].message.contains("owned by a delivery team"),
        "{}",
        found[0].message
    );
}

#[test]
fn working_hours_are_checked() {
    let text = MINIMAL.replace(
        "currency = \"GBP\"",
        "currency = \"GBP\"\nworking_hours = { days = [\"mon\", \"funday\"], start = \"18:00\", end = \"09:00\" }",
    );
    let messages: Vec<String> = problems(&text).into_iter().map(|p| p.message).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("unknown day \"funday\""));
    assert!(messages[1].contains("must end after they start"));
}

#[test]
fn engine_settings_default_and_parse() {
    let config = Config::parse("stopline.toml", MINIMAL).unwrap();
    assert_eq!(config.webhook.listen.to_string(), "127.0.0.1:9177");
    assert!(config.alerts.auto_resolve);
    assert!(config.sources.is_empty());

    let text = format!(
        "{MINIMAL}
[alerts]
group_by = [\"region\"]
auto_resolve = false

[webhook]
listen = \"127.0.0.1:8080\"
allowed_hosts = [\"Stopline.Internal\"]

[pipeline]
owner = \"checkout-api\"
heartbeat_timeout = \"3m\"

[[sources]]
name = \"am\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\", \"http://127.0.0.1:9094/\"]
poll_interval = \"5s\"
write_back = true

[[sources]]
name = \"stock\"
kind = \"pagerduty\"
application = \"checkout-api\"
routing_key_env = \"STOCK_KEY\"
"
    );
    let config = Config::parse("stopline.toml", &text).unwrap();
    assert_eq!(config.alerts.group_by, vec!["region"]);
    assert!(!config.alerts.auto_resolve);
    assert_eq!(config.webhook.allowed_hosts, vec!["stopline.internal"]);
    assert_eq!(
        config.pipeline.owner.as_ref().unwrap().as_str(),
        "checkout-api"
    );
    assert_eq!(config.pipeline.heartbeat_timeout.as_secs(), 180);
    assert_eq!(
        config.sources[0].kind,
        SourceKind::Alertmanager {
            urls: vec![
                "http://127.0.0.1:9093".into(),
                "http://127.0.0.1:9094".into()
            ],
            poll_interval: std::time::Duration::from_secs(5),
            bearer_token: None,
            write_back: Some(WriteBack {
                silence_duration: std::time::Duration::from_secs(3600)
            }),
        }
    );
    assert!(matches!(
        config.sources[1].kind,
        SourceKind::PagerDuty { .. }
    ));
}

#[test]
fn bad_sources_name_their_place() {
    let text = format!(
        "{MINIMAL}
[[sources]]
name = \"am\"
kind = \"alertmanager\"
urls = [\"127.0.0.1:9093\"]
poll_interval = \"soon\"

[[sources]]
name = \"pd\"
kind = \"pagerduty\"
application = \"nope\"

[[sources]]
name = \"am\"
kind = \"nagios\"

[[sources]]
name = \"am2\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\"]
silence_duration = \"2h\"

[[sources]]
name = \"am3\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\"]
write_back = true
silence_duration = \"1m\"
"
    );
    let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        vec![
            "sources[0].urls[0]",
            "sources[0].poll_interval",
            "sources[1].application",
            "sources[1].routing_key_env",
            "sources[2].name",
            "sources[3].silence_duration",
            "sources[4].silence_duration",
        ]
    );
}

#[test]
fn times_parse_strictly() {
    assert_eq!(parse_time("09:00"), Some(Time::constant(9, 0, 0, 0)));
    assert_eq!(parse_time("17:30:15"), Some(Time::constant(17, 30, 15, 0)));
    for bad in ["9:00", "24:00", "09:60", "0900", "09:00:00:00", "aa:bb"] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

/// `count` more applications after the minimal config, each on its own ten lines.
fn with_applications(count: usize) -> String {
    let mut text = MINIMAL.to_owned();
    for i in 0..count {
        text.push_str(&format!(
            "\n[[applications]]\nid = \"app-{i}\"\nname = \"App {i}\"\nteam = \"payments\"\n\
             availability_target = 99.5\nexposure_per_hour = 1000\n\
             match = {{ service = \"app-{i}\" }}\njourneys = [\"journey {i}\"]\n"
        ));
    }
    text
}

#[test]
fn a_large_config_names_its_problems_at_the_right_place() {
    // 10,000 applications: every id and match is placed, so placing is done from an index of
    // line starts (a scan from the start for each took 30 s; `make bench` times it).
    let mut text = with_applications(10_000);
    let last_line = text.lines().count();
    text.push_str("\n[[applications]]\nid = \"app-9999\"\nname = \"Again\"\nteam = \"nobody\"\n");
    text.push_str(
        "availability_target = 99.5\nexposure_per_hour = 1\nmatch = { service = \"x\" }\n",
    );
    let found = problems(&text);
    let duplicate = found
        .iter()
        .find(|p| p.message.starts_with("duplicate application id"))
        .unwrap();
    assert_eq!((duplicate.line, duplicate.column), (last_line + 3, 6));
    assert!(
        duplicate.message.contains("already defined at line"),
        "{duplicate}"
    );
    let team = found.iter().find(|p| p.key.ends_with(".team")).unwrap();
    assert_eq!(team.line, last_line + 5, "{team}");
    assert!(Config::parse("big.toml", &with_applications(10_000)).is_ok());
}

#[test]
fn a_joined_desktop_goes_it_alone_after_degraded_after() {
    let config = Config::parse("stopline.toml", MINIMAL).unwrap();
    assert_eq!(config.hub.degraded_after.as_secs(), 60);
    let text = format!("{MINIMAL}\n[hub]\ndegraded_after = \"2m\"\n");
    let config = Config::parse("stopline.toml", &text).unwrap();
    assert_eq!(config.hub.degraded_after.as_secs(), 120);
    let text = format!("{MINIMAL}\n[hub]\ndegraded_after = \"soon\"\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "hub.degraded_after");
    assert!(
        found[0].message.contains("invalid duration \"soon\""),
        "{}",
        found[0].message
    );
    let text = format!("{MINIMAL}\n[hub]\ndegraded = \"2m\"\n");
    assert!(
        Config::parse("stopline.toml", &text).is_err(),
        "unknown keys are refused"
    );
}

#[test]
fn the_workspace_locale_is_a_language_tag_or_is_named_as_wrong() {
    let with = |locale: &str| {
        MINIMAL.replacen(
            "currency = \"GBP\"",
            &format!("currency = \"GBP\"\nlocale = \"{locale}\""),
            1,
        )
    };
    for good in ["en-GB", "de", "zh-Hant-TW", "es-419"] {
        let config = Config::parse("t.toml", &with(good)).unwrap();
        assert_eq!(config.workspace.locale.as_deref(), Some(good));
    }
    assert_eq!(
        Config::parse("t.toml", MINIMAL).unwrap().workspace.locale,
        None
    );
    let problems = Config::parse("t.toml", &with("English please"))
        .unwrap_err()
        .problems;
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.key, "workspace.locale");
    assert_eq!((p.line, p.column), (6, 10));
    assert!(p.message.contains("is not a language tag"), "{}", p.message);
}

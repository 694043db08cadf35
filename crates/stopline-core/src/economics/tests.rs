//! The formulas against figures worked out by hand.

use super::*;
use crate::application::DeployFrequency;
use crate::config::Config;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

const CONFIG: &str = r#"
[workspace]
name = "Shop"
time_zone = "Europe/London"
currency = "GBP"
working_hours = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

[pay]
model = "standby_and_callout"
standby = 168
per = "week"
callout_per_hour = 40
split = "exposure"

[[people]]
id = "alice"
name = "Alice"
[[people]]
id = "bob"
name = "Bob"
[[people]]
id = "cy"
name = "Cy"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice", "bob", "cy"]

[[applications]]
id = "gateway"
name = "Gateway"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000
deploys = "daily"

[[applications]]
id = "refunds"
name = "Refunds"
team = "payments"
availability_target = 99.0
exposure_per_hour = 200000
deploys = "weekly"

[[rotas]]
id = "payments-oncall"
teams = ["payments"]
time_zone = "Europe/London"
[[rotas.layers]]
name = "primary"
members = ["alice", "bob", "cy"]
start = "2026-11-02"
handoff = "mon 00:00"
"#;

fn config() -> Config {
    Config::parse("test.toml", CONFIG).unwrap()
}

/// Monday 23 November 2026 00:00 to the next Monday, London (GMT, so UTC).
fn week() -> Period {
    Period {
        from: at("2026-11-23T00:00:00Z"),
        to: at("2026-11-30T00:00:00Z"),
    }
}

/// Saturday morning: opened 09:50, acknowledged by alice at 10:00, bob joins at 10:30,
/// restored at 12:00.
fn saturday_outage() -> IncidentFacts {
    IncidentFacts {
        id: "INC-1".into(),
        application: Some(ApplicationId::new("gateway").unwrap()),
        team: Some(TeamId::new("payments").unwrap()),
        opened_at: at("2026-11-28T09:50:00Z"),
        acknowledged_at: Some(at("2026-11-28T10:00:00Z")),
        acknowledged_by: Some(person("alice")),
        resolved_at: Some(at("2026-11-28T12:00:00Z")),
        responders: vec![(person("bob"), at("2026-11-28T10:30:00Z"), None)],
        alerts_cleared_at: None,
        loss_override: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn out_of_hours_time_reads_the_working_week_and_holidays() {
    let config = config();
    let (hours, zone) = (&config.workspace.working_hours, &config.workspace.time_zone);
    let ooh = |from: &str, to: &str| out_of_hours(hours, zone, at(from), at(to)).as_secs() / 60;
    // Monday 16:00 to 18:00: one hour in, one out.
    assert_eq!(ooh("2026-11-23T16:00:00Z", "2026-11-23T18:00:00Z"), 60);
    // Friday 16:00 to Monday 10:00: 66 hours, 2 of them in working hours.
    assert_eq!(ooh("2026-11-27T16:00:00Z", "2026-11-30T10:00:00Z"), 64 * 60);
    // In summer time working hours are 08:00 to 16:00 UTC.
    assert_eq!(ooh("2026-07-06T07:00:00Z", "2026-07-06T09:00:00Z"), 60);
    let mut holiday = hours.clone();
    holiday.holidays.insert("2026-11-23".parse().unwrap());
    assert_eq!(
        out_of_hours(
            &holiday,
            zone,
            at("2026-11-23T10:00:00Z"),
            at("2026-11-23T11:00:00Z")
        )
        .as_secs(),
        3600,
        "a holiday is out of hours all day"
    );
}

#[test]
fn statistics_are_mean_median_and_nearest_rank_p90() {
    let stats = DurationStats::of((1..=10).map(|m| f64::from(m) * 60.0).collect());
    assert_eq!(stats.count, 10);
    assert!(close(stats.mean_seconds.unwrap(), 330.0));
    assert!(close(stats.median_seconds.unwrap(), 330.0));
    assert!(close(stats.p90_seconds.unwrap(), 540.0));
    let odd = DurationStats::of(vec![30.0, 10.0, 20.0]);
    assert_eq!(
        (odd.median_seconds, odd.p90_seconds),
        (Some(20.0), Some(30.0))
    );
    assert_eq!(DurationStats::of(Vec::new()).mean_seconds, None);
}

#[test]
fn the_playbooks_worked_example_of_loss_protection() {
    // 200,000 an hour at 99.0%: 1h 40m 48s a week may be lost, 336,000 projected; an
    // incident that lost 100,000 leaves 70% effectiveness.
    let mut app = config().applications[1].clone();
    app.exposure_per_hour = crate::money::ExposurePerHour(200_000);
    let projected = projected_loss(&app, 168.0);
    assert!(close(projected, 336_000.0), "{projected}");
    let e = effectiveness(projected, 100_000.0).unwrap();
    assert!(close(e, 236_000.0 / 336_000.0));
    assert_eq!((e * 100.0).round(), 70.0);
    assert_eq!(effectiveness(0.0, 5.0), None);
}

#[test]
fn a_week_of_on_call_in_money_and_minutes() {
    let config = config();
    let report = report(&config, &[saturday_outage()], week(), None);

    // Standby: 168 hours at 168 a week, split 600,000 : 200,000 by exposure.
    let payments = &report.teams[0];
    assert_eq!(payments.pay_model, "standby and callout");
    assert!(close(payments.standby, 168.0));
    let line = |app: &str| {
        payments
            .lines
            .iter()
            .find(|l| l.application.as_str() == app)
            .unwrap()
    };
    assert!(close(line("gateway").standby, 126.0));
    assert!(close(line("refunds").standby, 42.0));
    // Callout: Saturday, all out of hours. Alice 10:00-12:00, Bob 10:30-12:00: 3.5 h at 40.
    assert!(close(line("gateway").callout, 140.0));
    assert!(close(line("refunds").callout, 0.0));
    assert!(close(payments.total, 308.0));

    // Pay per person: whoever held the week's shift has 168 standby hours.
    let total_standby: f64 = report.people.iter().map(|p| p.standby_hours).sum();
    assert!(close(total_standby, 168.0));
    let alice = report
        .people
        .iter()
        .find(|p| p.person.as_str() == "alice")
        .unwrap();
    let bob = report
        .people
        .iter()
        .find(|p| p.person.as_str() == "bob")
        .unwrap();
    assert_eq!((alice.callouts, bob.callouts), (1, 1));
    assert!(close(alice.callout_hours, 2.0) && close(alice.callout_pay, 80.0));
    assert!(close(bob.callout_hours, 1.5) && close(bob.callout_pay, 60.0));

    // Availability: down 2 h 10 m against 10 m 4.8 s tolerable at 99.9%.
    let gateway = &report.applications[0];
    assert_eq!(gateway.weeks.len(), 1);
    let w = &gateway.weeks[0];
    assert!(close(w.unavailable_seconds, 7800.0));
    assert!(close(w.tolerable_seconds, 604.8));
    assert!(close(w.budget_remaining_seconds, 604.8 - 7800.0));
    assert!(!w.met);
    assert_eq!(gateway.months.len(), 1, "all within November");
    let refunds = &report.applications[1];
    assert!(refunds.weeks[0].met && close(refunds.weeks[0].budget_remaining_seconds, 6048.0));
    // Over the whole week: 7,800 s of 604,800 down, 12.9 times the budget; no week met.
    let period = report.period;
    assert!(close(
        gateway.availability_percent(period),
        100.0 * (1.0 - 7800.0 / 604_800.0)
    ));
    assert!(close(
        gateway.budget_used_percent(period),
        100.0 * 7800.0 / 604.8
    ));
    assert_eq!((gateway.weeks_met(), refunds.weeks_met()), (0, 1));
    assert!(close(refunds.budget_used_percent(period), 0.0));
    assert_eq!(
        report.incidents[0].time_to_restore_seconds(period),
        Some(7800.0)
    );

    // Times: acknowledged after 10 minutes, restored after 2 h 10 m.
    assert_eq!(gateway.time_to_acknowledge.mean_seconds, Some(600.0));
    assert_eq!(gateway.time_to_restore.p90_seconds, Some(7800.0));
    assert_eq!(
        report.team_times[0].time_to_restore.median_seconds,
        Some(7800.0)
    );

    // Revenue insurance: 600,000 × 2 h 10 m lost; 600,000 × 0.168 h projected.
    assert!(close(report.incidents[0].estimated_loss, 1_300_000.0));
    assert!(close(gateway.actual_loss, 1_300_000.0));
    assert!(close(gateway.projected_loss, 100_800.0));
    assert!(close(
        gateway.effectiveness.unwrap(),
        (100_800.0 - 1_300_000.0) / 100_800.0
    ));
    assert!(close(gateway.on_call_cost, 266.0));
    assert_eq!(gateway.fit.model, "you build it you run it");
    assert_eq!(refunds.fit.model, "you build it you run it");
}

#[test]
fn the_loss_stops_when_the_alerts_clear_though_the_incident_stays_open() {
    let until_resolved = report(&config(), &[saturday_outage()], week(), None);
    let cleared_at_11 = IncidentFacts {
        alerts_cleared_at: Some(at("2026-11-28T11:00:00Z")),
        resolved_at: None,
        ..saturday_outage()
    };
    let report = report(&config(), &[cleared_at_11], week(), None);
    // 09:50 to 11:00 is 70 minutes of the 130 to 12:00.
    let ratio = report.incidents[0].estimated_loss / until_resolved.incidents[0].estimated_loss;
    assert!(close(ratio * 130.0, 70.0), "{ratio}");
    assert!(close(report.incidents[0].duration_seconds, 70.0 * 60.0));
}

#[test]
fn loss_so_far_is_the_entered_figure_or_exposure_until_it_stopped() {
    let opened = at("2026-11-28T10:00:00Z");
    let now = at("2026-11-28T13:00:00Z");
    let counting = loss_so_far(opened, 60_000, None, None, now);
    assert_eq!((counting.amount, counting.stopped_at), (180_000, None));
    let stopped = loss_so_far(opened, 60_000, None, Some(at("2026-11-28T10:30:00Z")), now);
    assert_eq!(stopped.amount, 30_000);
    let entered = loss_so_far(opened, 60_000, Some(120_000), None, now);
    assert_eq!((entered.amount, entered.entered_by_hand), (120_000, true));
    assert_eq!(
        loss_stops_at(
            Some(at("2026-11-28T12:00:00Z")),
            Some(at("2026-11-28T11:00:00Z"))
        ),
        Some(at("2026-11-28T11:00:00Z"))
    );
    assert_eq!(loss_stops_at(None, None), None);
}

#[test]
fn a_persons_loss_figure_replaces_exposure_times_duration() {
    let outage = IncidentFacts {
        loss_override: Some(5_000),
        ..saturday_outage()
    };
    let report = report(&config(), &[outage], week(), None);
    assert!(close(report.incidents[0].estimated_loss, 5_000.0));
    assert!(report.incidents[0].loss_estimated_by_hand);
}

#[test]
fn a_domain_rota_is_charged_to_its_budget_holder_for_every_team_it_covers() {
    let text = CONFIG.replace(
        "[[rotas]]\nid = \"payments-oncall\"\nteams = [\"payments\"]",
        "[[teams]]\nid = \"search\"\nname = \"Search\"\nkind = \"delivery\"\nmembers = [\"cy\"]\n\n[[applications]]\nid = \"finder\"\nname = \"Finder\"\nteam = \"search\"\navailability_target = 99.0\nexposure_per_hour = 200000\n\n[[rotas]]\nid = \"payments-oncall\"\nteams = [\"payments\", \"search\"]\nbudget_holder = \"payments\"",
    ).replace("split = \"exposure\"", "split = \"equal\"");
    let config = Config::parse("test.toml", &text).unwrap();
    let report = report(&config, &[], week(), None);
    assert_eq!(report.teams.len(), 1, "only the budget holder pays");
    let lines = &report.teams[0].lines;
    assert_eq!(lines.len(), 3, "one line per application the rota covers");
    assert!(lines.iter().all(|l| close(l.standby, 56.0)), "{lines:?}");
    let only_search = super::report(&config, &[], week(), Some(&TeamId::new("search").unwrap()));
    assert!(only_search.teams.is_empty());
    assert_eq!(only_search.applications.len(), 1);
}

#[test]
fn the_operating_model_follows_exposure_and_change_and_warnings_name_the_risk() {
    let config = config();
    let mut app = config.applications[1].clone();
    app.target = crate::target::AvailabilityTarget::from_percent(95.0).unwrap();
    assert_eq!(
        fit(&app, Some(DeployFrequency::Monthly)).model,
        "central operations"
    );
    assert_eq!(fit(&app, None).model, "unknown");
    let gateway = &config.applications[0];
    assert_eq!(
        fit(gateway, Some(DeployFrequency::Fortnightly)).model,
        "mixed"
    );

    let small = CONFIG.replace(
        "members = [\"alice\", \"bob\", \"cy\"]\nstart",
        "members = [\"alice\", \"bob\"]\nstart",
    );
    let warnings = warnings(&Config::parse("test.toml", &small).unwrap());
    assert_eq!(
        warnings,
        vec![
            "rota payments-oncall has fewer than 3 people (2): on call too often to be sustainable"
        ]
    );
    let unpaid = CONFIG.replace("[pay]\nmodel", "[unused]\nmodel");
    assert!(
        Config::parse("test.toml", &unpaid).is_err(),
        "unknown tables are errors"
    );
}

#[test]
fn pay_mistakes_are_config_errors_at_their_place() {
    let bad = CONFIG
        .replace("model = \"standby_and_callout\"", "model = \"callout_only\"")
        .replace("members = [\"alice\", \"bob\", \"cy\"]\n\n[[applications]]", "members = [\"alice\", \"bob\", \"cy\"]\npay = { model = \"standby_and_callout\", per = \"fortnight\", split = \"equal\" }\n\n[[applications]]")
        .replace("deploys = \"daily\"", "deploys = \"hourly\"");
    let problems = Config::parse("test.toml", &bad).unwrap_err().problems;
    let keys: Vec<(&str, usize)> = problems.iter().map(|p| (p.key.as_str(), p.line)).collect();
    assert_eq!(
        keys,
        vec![
            ("teams[0].pay.split", 30),
            ("teams[0].pay.per", 30),
            ("pay.model", 9),
            ("applications[0].deploys", 38),
        ],
        "{problems:#?}"
    );
    assert!(problems[2].message.contains("callout-only pay is unfair"));
    let missing = CONFIG.replace("callout_per_hour = 40\n", "");
    let problems = Config::parse("test.toml", &missing).unwrap_err().problems;
    assert!(
        problems[0].message.contains("needs callout_per_hour"),
        "{problems:?}"
    );
}

#[test]
fn many_teams_with_their_own_out_of_hours_rota_is_a_warning() {
    let mut text = CONFIG.to_owned();
    for team in ["a", "b"] {
        text.push_str(&format!(
            "\n[[teams]]\nid = \"{team}\"\nname = \"{team}\"\nkind = \"delivery\"\nmembers = [\"alice\", \"bob\", \"cy\"]\n\n[[rotas]]\nid = \"{team}-oncall\"\nteams = [\"{team}\"]\ntime_zone = \"Europe/London\"\n[[rotas.layers]]\nname = \"primary\"\nmembers = [\"alice\", \"bob\", \"cy\"]\nstart = \"2026-11-02\"\n"
        ));
    }
    let warnings = warnings(&Config::parse("test.toml", &text).unwrap());
    assert_eq!(
        warnings,
        vec![
            "3 teams run their own out-of-hours rota: check their availability targets (a domain rota shared by sibling teams costs less)"
        ]
    );
}

#[test]
fn standby_follows_the_actual_shifts_overrides_included() {
    // The week of 23 November is alice's turn; cy covers Wednesday.
    let text = format!(
        "{CONFIG}\n[[rotas.overrides]]\nlayer = \"primary\"\nperson = \"cy\"\nfrom = \"2026-11-25 00:00\"\nto = \"2026-11-26 00:00\"\n"
    );
    let config = Config::parse("test.toml", &text).unwrap();
    let report = report(&config, &[], week(), None);
    let hours = |id: &str| {
        report
            .people
            .iter()
            .find(|p| p.person.as_str() == id)
            .map_or(0.0, |p| p.standby_hours)
    };
    assert!(close(hours("alice"), 144.0), "{:?}", report.people);
    assert!(close(hours("cy"), 24.0));
    assert!(close(hours("bob"), 0.0));
    let cy = report
        .people
        .iter()
        .find(|p| p.person.as_str() == "cy")
        .unwrap();
    assert!(close(cy.standby_pay, 24.0), "168 a week is 1 an hour");
    assert!(
        close(report.teams[0].standby, 168.0),
        "the rota costs the same"
    );
}

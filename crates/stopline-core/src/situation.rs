//! The situation at a glance: what a commander reads first on an incident, worked out from the
//! same rules that page and report. Who escalation pages next and when (the escalation rule run
//! at the step's due time), who holds the secondary layer now, how much of the application's
//! unavailability budget this calendar week has used (the report's availability rule, on this
//! week so far), and the links of the alert that opened it.
//!
//! Pure functions of the config, the incident, its escalation and `now`: the engine gathers the
//! store's rows and names the people.

use jiff::Timestamp;
use jiff::ToSpan;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::alert::Alert;
use crate::application::Application;
use crate::callout::Recipient;
use crate::config::Config;
use crate::economics::IncidentFacts;
use crate::escalation::{Escalation, EscalationDecision, EscalationStatus, decide};
use crate::ids::{PersonId, RotaId};
use crate::incident::Incident;

/// Who escalation pages next, and when; `None` once it stopped or ran out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage {
    pub at: Timestamp,
    /// Empty when nobody holds the step's layer then (escalation moves straight on).
    pub recipients: Vec<Recipient>,
}

/// The next page of a triggered incident, as escalation will decide it when it comes due.
pub fn next_page(
    config: &Config,
    escalation: &Escalation,
    incident: &Incident,
) -> Option<NextPage> {
    if !matches!(
        escalation.status,
        EscalationStatus::Due | EscalationStatus::Deferred
    ) {
        return None;
    }
    // A deferred first page is decided again at its time, when it pages: ask as of then, with
    // the escalation as it will be (due, not deferred), so the answer is the page, not the wait.
    let at = escalation.due_at;
    let due = Escalation {
        status: EscalationStatus::Due,
        ..escalation.clone()
    };
    match decide(config, &due, incident, at)? {
        EscalationDecision::Step { record, .. } => Some(NextPage {
            at,
            recipients: record.recipients,
        }),
        EscalationDecision::Defer { .. } => None,
    }
}

/// Who holds a layer of a rota now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerHolder {
    pub rota: RotaId,
    pub layer: String,
    pub person: PersonId,
}

/// Who holds the second layer (the secondary) of the incident's rota now: the rota escalation
/// chose, else the team's own rota, else the domain rota covering the team. `None` without a
/// team, a rota with a second layer, or anyone on it.
pub fn secondary_on_call(
    config: &Config,
    incident: &Incident,
    escalation: Option<&Escalation>,
    now: Timestamp,
) -> Option<LayerHolder> {
    let team = incident.team.as_ref()?;
    let rota = escalation
        .and_then(|e| e.rota.as_ref())
        .and_then(|id| config.rota(id))
        .or_else(|| config.team_rota(team))
        .or_else(|| config.domain_rota(team))?;
    let layer = rota.layers.get(1)?;
    let shift = rota.on_call(1, now)?;
    Some(LayerHolder {
        rota: rota.id.clone(),
        layer: layer.name.clone(),
        person: shift.person,
    })
}

/// How much of an application's tolerable unavailability this calendar week (Monday to Monday
/// in the workspace's zone) has used so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeekBudget {
    pub week_start: Timestamp,
    /// Unavailable from the week's start to `now`, overlapping incidents counted once.
    pub unavailable_seconds: f64,
    /// What the target tolerates over the whole week.
    pub tolerable_seconds: f64,
    /// Unavailable as a share of tolerable, in percent: above 100 the week's target is missed.
    pub used_percent: f64,
}

/// The week's budget of `app` from its incidents' facts (any that overlap the week; others are
/// ignored). The report's rule: an application is unavailable from an incident's opening to its
/// resolution.
pub fn week_budget(
    app: &Application,
    incidents: &[IncidentFacts],
    zone: &TimeZone,
    now: Timestamp,
) -> WeekBudget {
    let week_start = week_start(zone, now);
    let week_end = week_start
        .to_zoned_datetime(zone.clone())
        .checked_add(7.days())
        .map_or(week_start, |end| end.timestamp());
    let mut spans: Vec<(Timestamp, Timestamp)> = incidents
        .iter()
        .filter(|i| i.application.as_ref() == Some(&app.id))
        .filter_map(|i| {
            let (s, e) = (
                i.opened_at.max(week_start),
                i.resolved_at.unwrap_or(now).min(now),
            );
            (s < e).then_some((s, e))
        })
        .collect();
    let unavailable: f64 = crate::economics::merge_spans(&mut spans)
        .iter()
        .map(|(s, e)| e.duration_since(*s).as_secs_f64())
        .sum();
    let length = week_end.duration_since(week_start).as_secs_f64();
    let tolerable = length * (1.0 - app.target.percent() / 100.0);
    WeekBudget {
        week_start,
        unavailable_seconds: unavailable,
        tolerable_seconds: tolerable,
        used_percent: if tolerable > 0.0 {
            100.0 * unavailable / tolerable
        } else {
            0.0
        },
    }
}

/// Monday 00:00 of `now`'s week in `zone` (the report's calendar weeks).
fn week_start(zone: &TimeZone, now: Timestamp) -> Timestamp {
    let today = zone.to_datetime(now).date();
    let monday = today
        .checked_sub((today.weekday().to_monday_zero_offset() as i64).days())
        .unwrap_or(today);
    zone.to_ambiguous_timestamp(monday.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .unwrap_or(now)
}

/// What an alert says for people: its summary and the runbook and dashboard it links to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertBrief {
    /// `alertname`, else the fingerprint.
    pub name: String,
    /// The `summary` annotation, else `description`, else the PagerDuty summary it came with.
    pub summary: Option<String>,
    pub runbook: Option<String>,
    pub dashboard: Option<String>,
}

/// Annotations and links that name a runbook, most specific first.
const RUNBOOK_KEYS: [&str; 2] = ["runbook_url", "runbook"];
/// Annotations and links that name a dashboard: Prometheus rules' and Grafana's.
const DASHBOARD_KEYS: [&str; 4] = ["dashboard_url", "dashboard", "panel", "grafana_url"];

impl AlertBrief {
    pub fn of(alert: &Alert) -> Self {
        let web = |text: &String| text.starts_with("https://") || text.starts_with("http://");
        let first = |keys: &[&str]| {
            keys.iter().find_map(|key| {
                alert
                    .annotations
                    .get(*key)
                    .filter(|v| web(v))
                    .or_else(|| alert.links.get(*key).filter(|v| web(v)))
                    .cloned()
            })
        };
        AlertBrief {
            name: alert
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| alert.fingerprint.to_string()),
            summary: ["summary", "description"]
                .iter()
                .find_map(|key| alert.annotations.get(*key))
                .filter(|s| !s.trim().is_empty())
                .cloned(),
            runbook: first(&RUNBOOK_KEYS),
            dashboard: first(&DASHBOARD_KEYS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertState, Fingerprint};
    use crate::escalation::Escalation;
    use crate::incident::{IncidentId, Severity};

    const CONFIG: &str = r#"
[workspace]
name = "Shop"
time_zone = "Europe/London"
currency = "GBP"
working_hours = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

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

[[rotas]]
id = "payments-oncall"
teams = ["payments"]
time_zone = "Europe/London"
[[rotas.layers]]
name = "primary"
members = ["alice", "bob"]
start = "2026-11-02"
handoff = "mon 00:00"
[[rotas.layers]]
name = "secondary"
members = ["cy"]
start = "2026-11-02"
handoff = "mon 00:00"
"#;

    fn two_layer_config() -> Config {
        Config::parse("test.toml", CONFIG).unwrap()
    }

    fn incident(config: &Config) -> Incident {
        let app = &config.applications[0];
        Incident {
            id: IncidentId(1),
            application: Some(app.id.clone()),
            team: Some(app.team.clone()),
            title: "Gateway down".into(),
            severity: Severity::Major,
            state: crate::incident::IncidentState::Triggered,
            opened_at: "2026-12-02T10:00:00Z".parse().unwrap(),
            opened_by: None,
            acknowledged: None,
            resolved: None,
        }
    }

    #[test]
    fn next_page_is_the_step_escalation_will_take_at_its_time() {
        let config = two_layer_config();
        let incident = incident(&config);
        // Step 1 (the secondary) is due at 10:05, a Wednesday in working hours.
        let escalation = Escalation {
            incident: incident.id,
            status: EscalationStatus::Due,
            next_step: 1,
            due_at: "2026-12-02T10:05:00Z".parse().unwrap(),
            rota: Some(RotaId::new("payments-oncall").unwrap()),
            note: String::new(),
        };
        let next = next_page(&config, &escalation, &incident).unwrap();
        assert_eq!(next.at, escalation.due_at);
        let people: Vec<&str> = next.recipients.iter().map(|r| r.person.as_str()).collect();
        assert_eq!(people, ["cy"]);
        let stopped = Escalation {
            status: EscalationStatus::Stopped,
            ..escalation.clone()
        };
        assert_eq!(next_page(&config, &stopped, &incident), None);
        let secondary =
            secondary_on_call(&config, &incident, Some(&escalation), escalation.due_at).unwrap();
        assert_eq!(
            (secondary.layer.as_str(), secondary.person.as_str()),
            ("secondary", "cy")
        );
    }

    fn alert(name: &str) -> Alert {
        let at: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        Alert {
            source: "am".into(),
            fingerprint: Fingerprint::new("abc123").unwrap(),
            labels: [("alertname".to_owned(), name.to_owned())]
                .into_iter()
                .collect(),
            annotations: Default::default(),
            state: AlertState::Firing,
            starts_at: at,
            ends_at: None,
            generator_url: None,
            links: Default::default(),
            muted: false,
            first_seen: at,
            last_seen: at,
        }
    }

    #[test]
    fn week_budget_counts_this_week_only_and_overlaps_once() {
        let config = two_layer_config();
        let app = &config.applications[0];
        let zone = TimeZone::UTC;
        // Wednesday 2026-12-02 12:00 UTC: the week began Monday 2026-11-30 00:00.
        let now: Timestamp = "2026-12-02T12:00:00Z".parse().unwrap();
        let facts = |opened: &str, resolved: Option<&str>| IncidentFacts {
            id: "INC-1".into(),
            application: Some(app.id.clone()),
            team: Some(app.team.clone()),
            opened_at: opened.parse().unwrap(),
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: resolved.map(|r| r.parse().unwrap()),
            alerts_cleared_at: None,
            responders: Vec::new(),
            loss_override: None,
        };
        let incidents = [
            // Began last week: only Monday 00:00–00:30 counts.
            facts("2026-11-29T23:00:00Z", Some("2026-11-30T00:30:00Z")),
            // Two overlapping, 11:00–11:50 together.
            facts("2026-12-02T11:00:00Z", Some("2026-12-02T11:40:00Z")),
            facts("2026-12-02T11:30:00Z", Some("2026-12-02T11:50:00Z")),
            // Still open: to now.
            facts("2026-12-02T11:55:00Z", None),
        ];
        let budget = week_budget(app, &incidents, &zone, now);
        assert_eq!(budget.week_start, "2026-11-30T00:00:00Z".parse().unwrap());
        assert_eq!(budget.unavailable_seconds, (30 + 50 + 5) as f64 * 60.0);
        let tolerable = 7.0 * 86_400.0 * (1.0 - app.target.percent() / 100.0);
        assert!((budget.tolerable_seconds - tolerable).abs() < 1e-6);
        assert!((budget.used_percent - 100.0 * 85.0 * 60.0 / tolerable).abs() < 1e-9);
    }

    #[test]
    fn a_week_across_a_clock_change_is_its_real_length() {
        let config = two_layer_config();
        let app = &config.applications[0];
        let zone = TimeZone::get("Europe/London").unwrap();
        // The week of Monday 2026-10-19 to 2026-10-26 holds the end of summer time (25 October).
        let now: Timestamp = "2026-10-21T12:00:00Z".parse().unwrap();
        let budget = week_budget(app, &[], &zone, now);
        assert_eq!(budget.week_start, "2026-10-18T23:00:00Z".parse().unwrap());
        let hours = budget.tolerable_seconds / (1.0 - app.target.percent() / 100.0) / 3600.0;
        assert!((hours - 169.0).abs() < 1e-6, "{hours}");
    }

    #[test]
    fn the_brief_takes_web_links_only() {
        let mut alert = alert("HighLatency");
        alert
            .annotations
            .insert("summary".into(), "p99 over 2 s".into());
        alert
            .annotations
            .insert("runbook_url".into(), "file:///etc/passwd".into());
        alert
            .links
            .insert("runbook".into(), "https://wiki.example/run".into());
        alert
            .links
            .insert("dashboard".into(), "https://grafana.example/d/1".into());
        let brief = AlertBrief::of(&alert);
        assert_eq!(brief.name, "HighLatency");
        assert_eq!(brief.summary.as_deref(), Some("p99 over 2 s"));
        assert_eq!(brief.runbook.as_deref(), Some("https://wiki.example/run"));
        assert_eq!(
            brief.dashboard.as_deref(),
            Some("https://grafana.example/d/1")
        );
    }
}

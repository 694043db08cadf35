//! How an alert finds its application, team and starting severity.
//!
//! With a config, the application mapping decides and nothing else: no match means unrouted.
//! With no config at all (`stopline serve --alertmanager URL` on its own), labels decide: the
//! application is the first of `service`, `app`, `application`, `job`; the team is `team`; the
//! severity comes from the `severity` label. Either way an alert that finds no team is unrouted:
//! it is kept for the service desk, never dropped, and opens no incident.

use jiff::Timestamp;

use crate::alert::{Alert, Labels};
use crate::config::Config;
use crate::ids::{ApplicationId, TeamId};
use crate::incident::Severity;
use crate::payload::IncomingAlert;
use crate::settings::AlertSettings;

/// Labels that name an application when there is no config, in order of preference.
pub const APPLICATION_LABELS: [&str; 4] = ["service", "app", "application", "job"];
/// The label an alert is routed by when a person routes it by hand and saves the route: the
/// first of [`APPLICATION_LABELS`] it has, with its value. Alerts with the same one are "like
/// this": a route saved from one routes them all.
pub fn route_label(labels: &Labels) -> Option<(&'static str, &str)> {
    APPLICATION_LABELS
        .iter()
        .find_map(|name| labels.get(*name).map(|value| (*name, value.as_str())))
}

/// The label that names the owning team when there is no config.
pub const TEAM_LABEL: &str = "team";

/// Where a routed alert goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedAlert {
    pub application: ApplicationId,
    pub team: TeamId,
    /// The severity a new incident for this alert starts with.
    pub severity: Severity,
}

impl RoutedAlert {
    /// To a configured application, owned by its team, with the workspace's starting severity.
    pub fn to(config: &Config, application: &crate::application::Application) -> Self {
        Self {
            application: application.id.clone(),
            team: application.team.clone(),
            severity: config.initial_severity(application),
        }
    }
}

/// Routes alerts by the config's mapping, or by labels when there is no config.
#[derive(Debug, Clone, Copy)]
pub enum AlertRouter<'a> {
    Config(&'a Config),
    Labels,
}

impl AlertRouter<'_> {
    pub fn route(&self, labels: &Labels) -> Option<RoutedAlert> {
        match self {
            AlertRouter::Config(config) => {
                let app = config.mapping().route_labels(labels).application()?;
                Some(RoutedAlert::to(config, app))
            }
            AlertRouter::Labels => {
                let application = APPLICATION_LABELS
                    .iter()
                    .find_map(|name| labels.get(*name).and_then(|v| slug(v)))?;
                let team = labels.get(TEAM_LABEL).and_then(|v| slug(v))?;
                Some(RoutedAlert {
                    application: ApplicationId::new(application).ok()?,
                    team: TeamId::new(team).ok()?,
                    severity: severity_from_label(labels),
                })
            }
        }
    }
}

/// A label value as an id: lower-case, with anything but `a-z 0-9 - _ .` turned into `-`.
/// `None` when nothing usable is left.
pub fn slug(value: &str) -> Option<String> {
    let mut out: String = value
        .trim()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = out.trim_start_matches(['-', '_', '.']).len();
    out.drain(..out.len() - trimmed);
    out.truncate(64);
    (!out.is_empty()).then_some(out)
}

/// `critical`, `page`, `error`, `high` or `major` in the `severity` label mean major; anything
/// else, or no label, minor.
pub fn severity_from_label(labels: &Labels) -> Severity {
    let value = labels
        .get("severity")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    if ["critical", "page", "error", "high", "major"].contains(&value.as_str()) {
        Severity::Major
    } else {
        Severity::Minor
    }
}

/// A new incident's title from its first alert: `alertname: summary`, or whichever is there.
pub fn incident_title(labels: &Labels, annotations: &Labels) -> String {
    let name = labels
        .get("alertname")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let summary = ["summary", "title", "description"]
        .iter()
        .find_map(|k| annotations.get(*k))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    match (name, summary) {
        (Some(name), Some(summary)) if name == summary => name.to_owned(),
        (Some(name), Some(summary)) => format!("{name}: {summary}"),
        (Some(text), None) | (None, Some(text)) => text.to_owned(),
        (None, None) => "Alert without a name".to_owned(),
    }
}

/// Alerts with the same key join the same open incident: the application, plus the values of the
/// configured grouping labels (none by default: one open incident per application).
pub fn group_key(application: &ApplicationId, labels: &Labels, group_by: &[String]) -> String {
    let mut key = format!("app={application}");
    for label in group_by {
        key.push(',');
        key.push_str(label);
        key.push('=');
        key.push_str(labels.get(label).map_or("", String::as_str));
    }
    key
}

/// One alert as a source delivered it, with where it routes: what a store (the desktop's or the
/// hub's) applies a delivery's rules to.
#[derive(Debug, Clone)]
pub struct AlertObservation {
    /// `first_seen` and `last_seen` are when it arrived.
    pub alert: Alert,
    /// `None` when unrouted.
    pub route: Option<RoutedAlert>,
    /// Alerts with the same key join the same open incident; set when routed.
    pub group_key: Option<String>,
    /// The title of the incident this alert would open.
    pub title: String,
}

/// An alert from `source`, arrived at `now`, with its `route`: its incident group (by the
/// workspace's `group_by`) and the title an incident it opens takes.
pub fn observation(
    settings: &AlertSettings,
    source: &str,
    incoming: IncomingAlert,
    route: Option<RoutedAlert>,
    now: Timestamp,
) -> AlertObservation {
    let title = incident_title(&incoming.labels, &incoming.annotations);
    let group_key = route
        .as_ref()
        .map(|r| group_key(&r.application, &incoming.labels, &settings.group_by));
    AlertObservation {
        alert: Alert {
            source: source.to_owned(),
            fingerprint: incoming.fingerprint,
            labels: incoming.labels,
            annotations: incoming.annotations,
            links: incoming.links,
            muted: incoming.muted,
            state: incoming.state,
            starts_at: incoming.starts_at,
            ends_at: incoming.ends_at,
            generator_url: incoming.generator_url,
            first_seen: now,
            last_seen: now,
        },
        route,
        group_key,
        title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEMO_CONFIG;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn without_config_labels_name_application_and_team() {
        let routed = AlertRouter::Labels
            .route(&labels(&[
                ("job", "node"),
                ("service", "Payments API"),
                ("team", "Checkout"),
                ("severity", "critical"),
            ]))
            .unwrap();
        assert_eq!(
            routed.application.as_str(),
            "payments-api",
            "service beats job"
        );
        assert_eq!(routed.team.as_str(), "checkout");
        assert_eq!(routed.severity, Severity::Major);

        let by_job = AlertRouter::Labels
            .route(&labels(&[("job", "stock-sync"), ("team", "inventory")]))
            .unwrap();
        assert_eq!(by_job.application.as_str(), "stock-sync");
        assert_eq!(by_job.severity, Severity::Minor);

        assert_eq!(
            AlertRouter::Labels.route(&labels(&[("service", "x")])),
            None,
            "no team"
        );
        assert_eq!(
            AlertRouter::Labels.route(&labels(&[("team", "x")])),
            None,
            "no app"
        );
        assert_eq!(
            AlertRouter::Labels.route(&labels(&[("service", "!!!"), ("team", "x")])),
            None
        );
    }

    #[test]
    fn with_config_only_the_mapping_decides() {
        let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
        let router = AlertRouter::Config(&config);
        let routed = router
            .route(&labels(&[
                ("service", "checkout-web"),
                ("team", "someone-else"),
            ]))
            .unwrap();
        assert_eq!(routed.team.as_str(), "checkout");
        assert_eq!(
            routed.severity,
            Severity::Major,
            "650,000/h reaches the threshold"
        );
        assert_eq!(
            router.route(&labels(&[
                ("service", "nothing-known"),
                ("team", "checkout")
            ])),
            None,
            "labels do not bypass the mapping"
        );
    }

    #[test]
    fn slugs_are_valid_ids() {
        assert_eq!(slug("Payments API").as_deref(), Some("payments-api"));
        assert_eq!(slug("--x").as_deref(), Some("x"));
        assert_eq!(slug("  "), None);
        assert_eq!(slug(&"a".repeat(80)).unwrap().len(), 64);
    }

    #[test]
    fn titles_and_group_keys() {
        let l = labels(&[("alertname", "HighErrorRate"), ("region", "eu")]);
        let a = labels(&[("summary", "5xx above 5%")]);
        assert_eq!(incident_title(&l, &a), "HighErrorRate: 5xx above 5%");
        assert_eq!(incident_title(&l, &Labels::new()), "HighErrorRate");
        let same = labels(&[("summary", "HighErrorRate")]);
        assert_eq!(incident_title(&l, &same), "HighErrorRate", "never `X: X`");
        assert_eq!(
            incident_title(&Labels::new(), &Labels::new()),
            "Alert without a name"
        );
        let app = ApplicationId::new("checkout-web").unwrap();
        assert_eq!(group_key(&app, &l, &[]), "app=checkout-web");
        assert_eq!(
            group_key(&app, &l, &["region".into(), "zone".into()]),
            "app=checkout-web,region=eu,zone="
        );
    }
}

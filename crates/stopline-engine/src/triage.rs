//! The service desk's triage of unrouted alerts: route one to an application by hand, and
//! optionally save a `[[routes]]` rule in the config so the next such alert routes itself.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use stopline_core::alert::Labels;
use stopline_core::config::Config;
use stopline_core::incident::IncidentId;
use stopline_core::timeline::{TimelineEvent, TimelineKind};
use stopline_store::{AlertFilter, Store, StoredAlert};

use crate::files::write_atomically;
use crate::lookup::person;
use crate::payload::IncomingAlert;
use crate::{EngineError, Result};

// The labels a saved route matches on when none are named: the ones Stopline routes by without
// a config.
use stopline_core::routing::APPLICATION_LABELS as ROUTE_LABELS;

/// What assigning did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    /// The incident the alert now belongs to (opened for it, or joined), when it is firing.
    pub incident: Option<IncidentId>,
    /// The rule appended to the config, when asked to save one.
    pub saved_route: Option<String>,
    /// Other alerts waiting in the unrouted queue that the saved rule matches, routed with it
    /// in the same transaction: as if they had arrived after the rule was saved.
    pub also_routed: usize,
}

/// A route to save: the whole config text with the rule appended, checked to parse. Written with
/// [`RouteToSave::write`] once the assignment is committed, so a store that refuses the
/// assignment never leaves a route behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteToSave {
    config_text: String,
}

impl RouteToSave {
    pub fn write(&self, config_path: &Path) -> Result<()> {
        write_atomically(config_path, self.config_text.as_bytes())
    }
}

/// Finds an unrouted alert by fingerprint (and source, when several sources share it).
pub fn unrouted_alert(
    store: &Store,
    fingerprint: &str,
    source: Option<&str>,
) -> Result<StoredAlert> {
    let matching: Vec<StoredAlert> = store
        .alerts(AlertFilter::Fingerprint(fingerprint))?
        .into_iter()
        .filter(|a| source.is_none_or(|s| a.alert.source == s))
        .collect();
    match matching.as_slice() {
        [] => Err(EngineError::UnknownAlert(fingerprint.to_owned())),
        [one] if one.application.is_some() => Err(EngineError::AlreadyRouted {
            fingerprint: fingerprint.to_owned(),
            application: one
                .application
                .as_ref()
                .map_or(String::new(), ToString::to_string),
        }),
        [one] => Ok(one.clone()),
        several => Err(EngineError::AmbiguousAlert {
            fingerprint: fingerprint.to_owned(),
            sources: several.iter().map(|a| a.alert.source.clone()).collect(),
        }),
    }
}

/// What the service desk asks: route the alert to `application`, as `who`; with `save_by`,
/// also save a route on those labels (empty: the first of service, app, application, job the
/// alert has).
#[derive(Debug, Clone, Copy)]
pub struct AssignRequest<'a> {
    pub application: &'a str,
    pub save_by: Option<&'a [String]>,
    pub who: &'a str,
}

/// Routes an unrouted alert by hand. A firing alert opens (or joins) an incident for the
/// application's team, which is paged as usual. A route to save is worked out from the config
/// file at `config_path` and checked to parse first: one that cannot be made stops everything
/// before anything is written. The caller writes it once the assignment is committed. Saving a
/// route also routes the other waiting unrouted alerts it matches, in the same delivery.
pub fn assign(
    store: &mut Store,
    config: &Config,
    config_path: &Path,
    alert: &StoredAlert,
    request: AssignRequest<'_>,
    now: Timestamp,
) -> Result<(Assigned, Option<RouteToSave>)> {
    let AssignRequest {
        application,
        save_by,
        who,
    } = request;
    let who = person(config, who)?;
    let app = crate::lookup::application(config, application)?;
    // Work out the rule first: a rule that cannot be made must not leave a half-done triage.
    let route = save_by
        .map(|labels| {
            route_rule(
                config_path,
                &alert.alert.labels,
                labels,
                application,
                &who,
                now,
            )
        })
        .transpose()?;
    let stored = &alert.alert;
    // The other waiting alerts the saved rule routes to the same application, by the config as
    // it will be once the rule is saved.
    let like_it: Vec<StoredAlert> = match &route {
        Some(route) => store
            .alerts(AlertFilter::Unrouted)?
            .into_iter()
            .filter(|other| {
                (other.alert.source != stored.source
                    || other.alert.fingerprint != stored.fingerprint)
                    && route
                        .config
                        .mapping()
                        .route_labels(&other.alert.labels)
                        .application()
                        .is_some_and(|a| a.id == app.id)
            })
            .collect(),
        None => Vec::new(),
    };
    let observations: Vec<_> = std::iter::once(alert)
        .chain(&like_it)
        .map(|a| {
            crate::routing::alert_for(
                Some(config),
                &a.alert.source,
                Some(&app.id),
                incoming(&a.alert),
                now,
            )
        })
        .collect();
    store.ingest(
        &observations,
        crate::routing::ingest_policy(Some(config)),
        now,
    )?;
    let incident = store
        .alert(&stored.source, &stored.fingerprint)?
        .and_then(|a| a.incident);
    if let Some(incident) = incident {
        let name = stored
            .labels
            .get("alertname")
            .map_or("an alert", String::as_str);
        let detail = format!(
            "{name} from {} routed by hand to {} from the unrouted queue",
            stored.source, app.id
        );
        store.add_event(incident, &alerts_event(&who, detail, now))?;
    }
    // One line per incident the saved rule fed, not one per alert.
    let mut fed: BTreeMap<IncidentId, usize> = BTreeMap::new();
    for other in &like_it {
        if let Some(incident) = store
            .alert(&other.alert.source, &other.alert.fingerprint)?
            .and_then(|a| a.incident)
        {
            *fed.entry(incident).or_default() += 1;
        }
    }
    for (incident, count) in fed {
        let detail = format!(
            "{count} waiting alert{} routed to {} by the route saved from the unrouted queue",
            if count == 1 { "" } else { "s" },
            app.id
        );
        store.add_event(incident, &alerts_event(&who, detail, now))?;
    }
    let (saved_route, to_save) = match route {
        Some(route) => (
            Some(route.rule),
            Some(RouteToSave {
                config_text: route.config_text,
            }),
        ),
        None => (None, None),
    };
    Ok((
        Assigned {
            incident,
            saved_route,
            also_routed: like_it.len(),
        },
        to_save,
    ))
}

/// A line on an incident's timeline about its alerts, by the person triaging.
fn alerts_event(
    who: &stopline_core::ids::PersonId,
    detail: String,
    now: Timestamp,
) -> TimelineEvent {
    TimelineEvent {
        at: now,
        who: Some(who.clone()),
        kind: TimelineKind::Alerts,
        detail,
    }
}

/// A stored alert as it came in, to route again.
fn incoming(stored: &stopline_core::alert::Alert) -> IncomingAlert {
    IncomingAlert {
        fingerprint: stored.fingerprint.clone(),
        labels: stored.labels.clone(),
        annotations: stored.annotations.clone(),
        links: stored.links.clone(),
        state: stored.state,
        starts_at: stored.starts_at,
        ends_at: stored.ends_at,
        generator_url: stored.generator_url.clone(),
        muted: stored.muted,
    }
}

/// A rule worked out and checked: the config's text with it appended, the rule alone, and the
/// config as it will be.
struct NewRoute {
    config_text: String,
    rule: String,
    config: Config,
}

/// The config text with a `[[routes]]` rule appended, and the rule; checked to parse.
fn route_rule(
    config_path: &Path,
    labels: &Labels,
    by: &[String],
    application: &str,
    who: &stopline_core::ids::PersonId,
    now: Timestamp,
) -> Result<NewRoute> {
    let names: Vec<&str> = if by.is_empty() {
        stopline_core::routing::route_label(labels)
            .map(|(name, _)| name)
            .into_iter()
            .collect()
    } else {
        by.iter().map(String::as_str).collect()
    };
    if names.is_empty() {
        return Err(EngineError::NoRouteLabels(ROUTE_LABELS.join(", ")));
    }
    let mut matchers = Vec::new();
    for name in &names {
        let value = labels
            .get(*name)
            .ok_or_else(|| EngineError::MissingRouteLabel((*name).to_owned()))?;
        let key = if name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            (*name).to_owned()
        } else {
            toml::Value::String((*name).to_owned()).to_string()
        };
        matchers.push(format!("{key} = {}", toml::Value::String(value.clone())));
    }
    let rule = format!(
        "[[routes]]\napplication = \"{application}\"\nmatch = {{ {} }}\n",
        matchers.join(", ")
    );
    let current = crate::files::read_config_text(config_path)?;
    let separator = if current.ends_with('\n') { "" } else { "\n" };
    let text = format!(
        "{current}{separator}\n# Saved by `stopline assign` ({who}, {}): alerts with these labels belong to {application}.\n{rule}",
        now.strftime("%Y-%m-%d")
    );
    let config = Config::parse(&config_path.display().to_string(), &text)?;
    Ok(NewRoute {
        config_text: text,
        rule,
        config,
    })
}

//! The service desk's triage of unrouted alerts: route one to an application by hand, and
//! optionally save a `[[routes]]` rule in the config so the next such alert routes itself.

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
        .alerts(AlertFilter::All)?
        .into_iter()
        .filter(|a| a.alert.fingerprint.as_str() == fingerprint)
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
/// before anything is written. The caller writes it once the assignment is committed.
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
    let incoming = IncomingAlert {
        fingerprint: stored.fingerprint.clone(),
        labels: stored.labels.clone(),
        annotations: stored.annotations.clone(),
        links: stored.links.clone(),
        state: stored.state,
        starts_at: stored.starts_at,
        ends_at: stored.ends_at,
        generator_url: stored.generator_url.clone(),
        muted: stored.muted,
    };
    let observation =
        crate::routing::alert_for(Some(config), &stored.source, Some(&app.id), incoming, now);
    store.ingest(
        &[observation],
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
        store.add_event(
            incident,
            &TimelineEvent {
                at: now,
                who: Some(who.clone()),
                kind: TimelineKind::Alerts,
                detail: format!(
                    "{name} from {} routed by hand to {} from the unrouted queue",
                    stored.source, app.id
                ),
            },
        )?;
    }
    let (saved_route, to_save) = match route {
        Some((config_text, rule)) => (Some(rule), Some(RouteToSave { config_text })),
        None => (None, None),
    };
    Ok((
        Assigned {
            incident,
            saved_route,
        },
        to_save,
    ))
}

/// The config text with a `[[routes]]` rule appended, and the rule; checked to parse.
fn route_rule(
    config_path: &Path,
    labels: &Labels,
    by: &[String],
    application: &str,
    who: &stopline_core::ids::PersonId,
    now: Timestamp,
) -> Result<(String, String)> {
    let names: Vec<&str> = if by.is_empty() {
        ROUTE_LABELS
            .iter()
            .copied()
            .find(|l| labels.contains_key(*l))
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
    Config::parse(&config_path.display().to_string(), &text)?;
    Ok((text, rule))
}

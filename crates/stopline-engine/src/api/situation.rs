//! The situation at a glance, as the incident's header shows it and `stopline incident show
//! --json` prints it: the figures come from `stopline_core::situation` and the loss rule; this
//! module reads what they need from the store and names the people.

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_core::economics::{self, LossSoFar};
use stopline_core::ids::PersonId;
use stopline_core::situation::{self, AlertBrief, WeekBudget};
use stopline_store::{Page, Store, StoredAlert};

use super::queue::IncidentSummary;
use crate::Result;

/// A person by id and name (the id again when the config does not name them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

impl Named {
    fn new(config: Option<&Config>, person: &PersonId) -> Self {
        Named {
            id: person.to_string(),
            name: config
                .and_then(|c| c.person(person))
                .map_or_else(|| person.to_string(), |p| p.name.clone()),
        }
    }
}

/// Someone and when: paged at, acknowledged at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedAt {
    #[serde(flatten)]
    pub person: Named,
    pub at: Timestamp,
}

/// Who escalation pages next, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextPage {
    pub at: Timestamp,
    /// Empty when nobody holds the step's layer then: escalation moves straight on.
    pub people: Vec<Named>,
}

/// Who holds the rota's second layer now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secondary {
    #[serde(flatten)]
    pub person: Named,
    pub rota: String,
    pub layer: String,
}

/// What a commander reads first, as of `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Situation {
    pub as_of: Timestamp,
    /// How long it has been open, in whole seconds (to its resolution once resolved).
    pub age_seconds: i64,
    /// The application's availability target, in percent.
    pub target_percent: Option<f64>,
    /// The application's unavailability budget this calendar week, used so far.
    pub week_budget: Option<WeekBudget>,
    /// The loss so far; `None` without an application.
    pub loss: Option<LossSoFar>,
    pub loss_per_hour: Option<u64>,
    /// Everyone paged for it, each once, first page first.
    pub paged: Vec<NamedAt>,
    /// `None` until someone acknowledged (or Stopline did, for a source).
    pub acknowledged: Option<NamedAt>,
    /// `None` once paging stopped or ran out.
    pub next_page: Option<NextPage>,
    pub secondary: Option<Secondary>,
    /// The alert that came first: its summary, runbook and dashboard.
    pub first_alert: Option<AlertBrief>,
}

/// Works out the situation of one incident from what the view already read; `first_alert` is
/// the alert seen first (see `Store::alert_counts_of`).
pub(super) fn situation(
    store: &Store,
    config: Option<&Config>,
    summary: &IncidentSummary,
    pages: &[Page],
    first_alert: Option<&StoredAlert>,
    now: Timestamp,
) -> Result<Situation> {
    let incident = &summary.incident;
    let end = incident.resolved.as_ref().map_or(now, |r| r.at);
    let application = incident
        .application
        .as_ref()
        .and_then(|a| config?.application(a));
    let week_budget = match (application, config) {
        (Some(app), Some(config)) => {
            let zone = &config.workspace.time_zone;
            // The week's facts: incidents overlapping it, this one included.
            let week_start = situation::week_budget(app, &[], zone, now).week_start;
            let facts = store.report_facts(week_start, now.max(week_start))?;
            Some(situation::week_budget(app, &facts, zone, now))
        }
        _ => None,
    };
    let mut paged: Vec<NamedAt> = Vec::new();
    let mut by_time: Vec<&Page> = pages.iter().collect();
    by_time.sort_by_key(|p| p.paged_at);
    for page in by_time {
        if !paged.iter().any(|p| p.person.id == page.person.as_str()) {
            paged.push(NamedAt {
                person: Named::new(config, &page.person),
                at: page.paged_at,
            });
        }
    }
    let acknowledged = incident.acknowledged.as_ref().map(|stamp| NamedAt {
        person: stamp.by.as_ref().map_or_else(
            || Named {
                id: stamp.actor(),
                name: stamp.actor(),
            },
            |by| Named::new(config, by),
        ),
        at: stamp.at,
    });
    let next_page = config
        .zip(summary.paging.as_ref())
        .and_then(|(c, e)| situation::next_page(c, e, incident))
        .map(|next| NextPage {
            at: next.at,
            people: next
                .recipients
                .iter()
                .map(|r| Named::new(config, &r.person))
                .collect(),
        });
    let secondary = config
        .and_then(|c| situation::secondary_on_call(c, incident, summary.paging.as_ref(), now))
        .map(|holder| Secondary {
            person: Named::new(config, &holder.person),
            rota: holder.rota.to_string(),
            layer: holder.layer,
        });
    let first_alert = first_alert.map(|a| AlertBrief::of(&a.alert));
    Ok(Situation {
        as_of: now,
        age_seconds: end.duration_since(incident.opened_at).as_secs().max(0),
        target_percent: application.map(|a| a.target.percent()),
        week_budget,
        loss: summary.exposure_per_hour.map(|exposure| {
            economics::loss_so_far(
                incident.opened_at,
                exposure,
                summary.loss_entered,
                summary.loss_stopped_at,
                now,
            )
        }),
        loss_per_hour: summary.exposure_per_hour,
        paged,
        acknowledged,
        next_page,
        secondary,
        first_alert,
    })
}

//! The queue: the incidents people look at first, with what makes sense of them (names, money,
//! whose they are, which lines are stopped, what waits in the unrouted queue, which sources are
//! offline).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stopline_core::config::Config;
use stopline_core::economics::loss_stops_at;
use stopline_core::escalation::Escalation;
use stopline_core::ids::{PersonId, TeamId};
use stopline_core::incident::Incident;
use stopline_core::swarm::LineState;
use stopline_store::{AlertCounts, AlertFilter, IncidentFilter, LossFacts, Store, StoredAlert};

use super::Workspace;
use crate::Result;
use crate::health::{SourceHealth, source_health};

/// One incident as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSummary {
    pub incident: Incident,
    /// Names from the config; `None` without a config or for an unrouted incident.
    pub application_name: Option<String>,
    pub team_name: Option<String>,
    /// What the application loses per hour while it lasts, in the workspace's currency.
    pub exposure_per_hour: Option<u64>,
    /// A loss a person entered (with a severity change), which replaces exposure × duration.
    pub loss_entered: Option<u64>,
    /// When the loss stopped counting: its alerts cleared or it resolved.
    pub loss_stopped_at: Option<Timestamp>,
    /// Where its paging stands; `None` for an incident with no owning team.
    pub paging: Option<Escalation>,
    /// Its alerts firing now, and in all.
    pub firing_alerts: u32,
    pub alerts: u32,
    /// The values of the workspace's grouping labels (`group_by`) on its first alert, in the
    /// config's order: what sets it apart from its application's other incidents.
    pub group_labels: Vec<(String, String)>,
    /// Every label of its first alert: what a search over labels looks at.
    pub first_labels: std::collections::BTreeMap<String, String>,
    /// Who was paged for it or holds a role in its swarm now.
    pub involved: Vec<PersonId>,
}

impl IncidentSummary {
    pub(super) fn new(
        incident: Incident,
        config: Option<&Config>,
        paging: Option<Escalation>,
        loss: LossFacts,
        alerts: AlertCounts,
        involved: Vec<PersonId>,
    ) -> Self {
        let application = incident
            .application
            .as_ref()
            .and_then(|a| config?.application(a));
        let team = incident.team.as_ref().and_then(|t| config?.team(t));
        Self {
            application_name: application.map(|a| a.name.clone()),
            team_name: team.map(|t| t.name.clone()),
            exposure_per_hour: application.map(|a| a.exposure_per_hour.0),
            loss_entered: loss.entered,
            loss_stopped_at: loss_stops_at(
                incident.resolved.as_ref().map(|r| r.at),
                loss.alerts_cleared_at,
            ),
            paging,
            incident,
            firing_alerts: alerts.firing,
            alerts: alerts.total,
            group_labels: config
                .map(|c| {
                    c.alerts
                        .group_by
                        .iter()
                        .filter_map(|label| {
                            let value = alerts.first_labels.get(label)?;
                            Some((label.clone(), value.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            first_labels: alerts.first_labels,
            involved,
        }
    }
}

/// The main window's view: the workspace and its open incidents. A config that does not parse
/// does not hide incidents: it is reported beside them.
#[derive(Debug, Clone)]
pub struct QueueView {
    /// The workspace's name; `None` when the config cannot be read.
    pub workspace: Option<String>,
    /// Why the config cannot be read.
    pub config_error: Option<String>,
    /// Open incidents, newest first.
    pub incidents: Vec<IncidentSummary>,
    /// Who sits at this desktop.
    pub me: Option<PersonId>,
    /// Everyone in the config, id and name, to choose from.
    pub people: Vec<(PersonId, String)>,
    pub currency: Option<String>,
    /// The teams the person at this desktop belongs to.
    pub my_teams: Vec<TeamId>,
    /// Teams whose line an incident holds stopped now.
    pub stopped_lines: Vec<LineState>,
    /// How dates and numbers read (`[workspace] locale`); `None`: British English.
    pub locale: Option<String>,
    /// Whether any alert ever reached this store (the first-run card offers to connect one).
    pub has_alerts: bool,
    /// Every team's name by id, for what names teams (lines) beside incidents.
    pub team_names: std::collections::BTreeMap<String, String>,
    /// Alerts no application claimed: the service desk's queue.
    pub unrouted_alerts: usize,
    /// Sources that cannot be reached or have actions waiting.
    pub offline_sources: Vec<SourceHealth>,
    /// The workspace's zone for showing times (UTC without a config).
    pub zone: TimeZone,
}

impl Workspace {
    /// Incidents by state, newest first, with names from the config when it can be read.
    pub fn incidents(&self, filter: IncidentFilter) -> Result<Vec<IncidentSummary>> {
        let config = self.config().ok();
        self.with_store(|store| summaries(store, filter, config.as_deref()))
    }

    /// Every alert received, most recently seen first.
    pub fn alerts(&self) -> Result<Vec<StoredAlert>> {
        self.with_store(|store| Ok(store.alerts(AlertFilter::All)?))
    }

    /// The queue: open incidents and everything around them.
    pub fn queue(&self) -> Result<QueueView> {
        let (config, config_error) = match self.config() {
            Ok(config) => (Some(config), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let config = config.as_deref();
        let me = self.whoami()?;
        let now = self.now();
        self.with_store(|store| {
            let incidents = summaries(store, IncidentFilter::Open, config)?;
            let my_teams = match (config, &me) {
                (Some(config), Some(me)) => config
                    .teams
                    .iter()
                    .filter(|t| t.members.contains(me))
                    .map(|t| t.id.clone())
                    .collect(),
                _ => Vec::new(),
            };
            let stopped_lines: Vec<LineState> = match config {
                Some(config) => crate::swarm::lines(store, config, now)?
                    .into_iter()
                    .filter(|l| l.is_stopped())
                    .collect(),
                None => Vec::new(),
            };
            let offline_sources = source_health(store, config)?
                .into_iter()
                .filter(|s| s.failing_since.is_some() || s.waiting > 0)
                .collect();
            Ok(QueueView {
                workspace: config.map(|c| c.workspace.name.clone()),
                config_error,
                incidents,
                me: me.clone(),
                people: config
                    .map(|c| {
                        c.people
                            .iter()
                            .map(|p| (p.id.clone(), p.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                currency: config.map(|c| c.workspace.currency.to_string()),
                my_teams,
                stopped_lines,
                locale: config.and_then(|c| c.workspace.locale.clone()),
                has_alerts: store.has_alerts()?,
                team_names: config
                    .map(|c| {
                        c.teams
                            .iter()
                            .map(|t| (t.id.to_string(), t.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                unrouted_alerts: store.alerts(AlertFilter::Unrouted)?.len(),
                offline_sources,
                zone: config.map_or(TimeZone::UTC, |c| c.workspace.time_zone.clone()),
            })
        })
    }
}

fn summaries(
    store: &Store,
    filter: IncidentFilter,
    config: Option<&Config>,
) -> Result<Vec<IncidentSummary>> {
    let incidents = store.incidents(filter)?;
    let ids: Vec<_> = incidents.iter().map(|i| i.id).collect();
    let mut losses = store.loss_facts_of(&ids)?;
    let mut counts = store.alert_counts_of(&ids)?;
    let mut involved = store.people_involved_in(&ids)?;
    incidents
        .into_iter()
        .map(|incident| {
            let paging = store.escalation(incident.id)?;
            let loss = losses.remove(&incident.id).unwrap_or_default();
            let alerts = counts.remove(&incident.id).unwrap_or_default();
            let people = involved.remove(&incident.id).unwrap_or_default();
            Ok(IncidentSummary::new(
                incident, config, paging, loss, alerts, people,
            ))
        })
        .collect()
}

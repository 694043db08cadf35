//! The service desk: where a customer's words, an application's name or alert labels lead (the
//! owning team, who is on call for it now), opening an incident there, and the alerts no
//! application claimed, routed by hand.

use stopline_core::alert::Labels;
use stopline_core::application::Application;
use stopline_core::desk::find_application;
use stopline_core::ids::{ApplicationId, PersonId, RotaId};
use stopline_core::incident::{Incident, IncidentId};
use stopline_core::timeline::TimelineEvent;
use stopline_store::{ASSIGN_ALERT, AlertFilter, IncidentFilter, OPEN_INCIDENT, StoredAlert};

use super::queue::IncidentSummary;
use super::{Actor, Workspace};
use crate::desk::{self, Numbering, OpenTarget};
use crate::triage::{self, AssignRequest, Assigned};
use crate::{EngineError, Result};

/// Where the service desk's words lead.
#[derive(Debug, Clone)]
pub struct DeskRoute {
    pub application: Application,
    pub team_name: String,
    /// Each layer of the team's rotas (its own, then its domain's), with who holds it now.
    pub on_call: Vec<LayerOnCall>,
    /// The application's open incidents, newest first: a customer's report most likely belongs
    /// to one of them rather than to a new incident.
    pub open_incidents: Vec<IncidentSummary>,
}

/// Who holds one layer of a rota now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerOnCall {
    pub rota: RotaId,
    pub layer: String,
    /// `None` before the layer's rotation begins.
    pub person: Option<PersonId>,
}

/// Where labels or a journey route (`stopline route`).
#[derive(Debug, Clone)]
pub struct RouteView {
    /// `None`: unrouted, it goes to the service desk's queue.
    pub application: Option<Application>,
    pub team_name: Option<String>,
}

/// An application to give an unrouted alert to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationChoice {
    pub id: ApplicationId,
    pub name: String,
    pub team_name: String,
}

/// Alerts no application claimed, newest first, and the applications to give them to.
#[derive(Debug, Clone)]
pub struct UnroutedView {
    pub alerts: Vec<StoredAlert>,
    /// Empty when the config cannot be read.
    pub applications: Vec<ApplicationChoice>,
}

/// Labels a person typed (`service=checkout-api, env=prod`, see
/// `stopline_core::desk::parse_labels`); errors name the argument they came in.
pub fn parse_labels(name: &str, text: &str) -> Result<Labels> {
    stopline_core::desk::parse_labels(text).map_err(|problem| EngineError::BadLabels {
        name: name.to_owned(),
        problem,
    })
}

impl Workspace {
    /// Where the service desk's words lead: an application's id or name, alert labels, else a
    /// customer journey. `None` when nothing matches.
    pub fn desk_route(&self, query: &str) -> Result<Option<DeskRoute>> {
        let config = self.config()?;
        let Some(app) = find_application(&config, query) else {
            return Ok(None);
        };
        let now = self.now();
        let rotas = [config.team_rota(&app.team), config.domain_rota(&app.team)];
        let on_call = rotas
            .into_iter()
            .flatten()
            .flat_map(|rota| {
                (0..rota.layers.len()).map(move |layer| LayerOnCall {
                    rota: rota.id.clone(),
                    layer: rota.layers[layer].name.clone(),
                    person: rota.on_call(layer, now).map(|s| s.person),
                })
            })
            .collect();
        let open_incidents = self
            .incidents(IncidentFilter::Open)?
            .into_iter()
            .filter(|s| s.incident.application.as_ref() == Some(&app.id))
            .collect();
        Ok(Some(DeskRoute {
            team_name: config
                .team(&app.team)
                .map_or_else(|| app.team.to_string(), |t| t.name.clone()),
            application: app.clone(),
            on_call,
            open_incidents,
        }))
    }

    /// Where alert labels route, through the application mapping.
    pub fn route_labels(&self, labels: &Labels) -> Result<RouteView> {
        let config = self.config()?;
        Ok(route_view(
            &config,
            config.mapping().route_labels(labels).application(),
        ))
    }

    /// Where a customer journey routes.
    pub fn route_journey(&self, journey: &str) -> Result<RouteView> {
        let config = self.config()?;
        Ok(route_view(
            &config,
            config.mapping().route_journey(journey).application(),
        ))
    }

    /// Opens an incident for the application `target` names, owned by its team, which is paged;
    /// the swarm's checklist starts at once (a person has seen the problem).
    ///
    /// On a joined desktop it opens a provisional copy here at once (INC-1000000001 onwards)
    /// and queues `open_incident` for the hub, which opens the incident everyone shares and
    /// pages; the copy folds into it at the next pull (see `stopline_store::OPEN_INCIDENT`).
    pub fn open_incident(&self, target: &OpenTarget, title: &str, who: &Actor) -> Result<Incident> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        if self.hub_link()?.is_none() {
            return self.act(|store, now| {
                desk::open_incident(store, &config, target, title, &who, now, Numbering::Own)
            });
        }
        let application = stopline_core::desk::resolve_target(&config, target)?;
        let args =
            serde_json::json!({"application": application.id.as_str(), "title": title.trim()});
        let opened = self.act(|store, now| {
            let mark = store.replica_mark()?;
            let incident = desk::open_incident(
                store,
                &config,
                target,
                title,
                &who,
                now,
                Numbering::Provisional,
            )?;
            // Queued under the copy's id, so the pull that brings the hub's folds it in.
            store.queue_mutation(OPEN_INCIDENT, &args, Some(incident.id), now, mark)?;
            Ok(incident)
        })?;
        crate::hub_sync::queued_here();
        Ok(opened)
    }

    /// Adds a customer's words (and the desk's reference for them) to an open incident as a
    /// note, instead of opening a second incident (see `desk::add_customer_report`).
    pub fn add_customer_report(
        &self,
        id: IncidentId,
        words: &str,
        reference: Option<&str>,
        who: &Actor,
    ) -> Result<TimelineEvent> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        // On a joined desktop the report reaches the hub as the note it makes here.
        self.act_shared(
            |_, link| {
                let note = stopline_core::desk::customer_report_note(words, reference)?;
                super::incident::note_mutation(id, &note, link)
            },
            |store, now| desk::add_customer_report(store, &config, id, words, reference, &who, now),
        )
    }

    /// The unrouted alerts, newest first, and the applications to give them to.
    pub fn unrouted(&self) -> Result<UnroutedView> {
        let config = self.config().ok();
        let mut alerts = self.with_store(|store| Ok(store.alerts(AlertFilter::Unrouted)?))?;
        alerts.sort_by_key(|a| std::cmp::Reverse(a.alert.last_seen));
        let applications = config
            .as_deref()
            .map(|c| {
                c.applications
                    .iter()
                    .map(|a| ApplicationChoice {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        team_name: c
                            .team(&a.team)
                            .map_or_else(|| a.team.to_string(), |t| t.name.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(UnroutedView {
            alerts,
            applications,
        })
    }

    /// Gives an unrouted alert to an application (see `triage::assign`): a firing one opens or
    /// joins an incident for its team, which is paged. `source` is needed only when several
    /// sources sent the same fingerprint; `save_by` also saves a route (empty: the routing label
    /// the alert has).
    ///
    /// On a joined desktop it routes the alert here at once (an incident it opens is a
    /// provisional copy) and queues `assign_alert` for the hub, which routes it for everyone
    /// and pages; the copy folds into the hub's incident by the alert. A route cannot be saved
    /// there: the organisation's config is not this desktop's to change.
    pub fn assign_alert(
        &self,
        fingerprint: &str,
        source: Option<&str>,
        application: &str,
        save_by: Option<&[String]>,
        who: &Actor,
    ) -> Result<Assigned> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        let path = self.config_path().to_owned();
        let joined = self.hub_link()?.is_some();
        if joined && save_by.is_some() {
            return Err(EngineError::RouteNotSavedOnHub);
        }
        let (assigned, route) = self.act(|store, now| {
            let alert = triage::unrouted_alert(store, fingerprint, source)?;
            let request = AssignRequest {
                application,
                save_by,
                who: &who,
            };
            if !joined {
                return triage::assign(store, &config, &path, &alert, request, now);
            }
            let mark = store.replica_mark()?;
            let assigned = store.provisionally(|store| {
                triage::assign(store, &config, &path, &alert, request, now)
            })?;
            let args = serde_json::json!({
                "source": alert.alert.source,
                "fingerprint": alert.alert.fingerprint.as_str(),
                "application": crate::lookup::application(&config, application)?.id.as_str(),
            });
            // Queued under the incident it made or joined, so the person sees it there.
            store.queue_mutation(ASSIGN_ALERT, &args, assigned.0.incident, now, mark)?;
            Ok(assigned)
        })?;
        if joined {
            crate::hub_sync::queued_here();
        }
        // Only once the assignment is committed: a refused one leaves no route behind.
        if let Some(route) = route {
            route.write(&path)?;
        }
        Ok(assigned)
    }
}

fn route_view(config: &stopline_core::config::Config, app: Option<&Application>) -> RouteView {
    RouteView {
        team_name: app
            .and_then(|a| config.team(&a.team))
            .map(|t| t.name.clone()),
        application: app.cloned(),
    }
}

//! One incident and what people do to it: acknowledge, resolve, note, and the swarm (checklist
//! steps, roles, joining and leaving, severity). Every action names its person (an [`Actor`]),
//! is checked against the config, and commits one store transaction, or changes nothing.

use serde_json::json;
use stopline_core::incident::{Incident, IncidentId, Transition};
use stopline_core::swarm::{ChecklistStep, LineState, Role, RoleHolding, StepState};
use stopline_core::timeline::TimelineEvent;
use stopline_store::{AlertFilter, ContactMessage, HubAction, Page, SilenceRecord, StoredAlert};

use super::queue::IncidentSummary;
use super::situation::{Situation, situation};
use super::{Actor, Mutation, Workspace};
use crate::desk;
use crate::hub_link::HubLink;
use crate::swarm::{self, RoleRequest, SeverityRequest, StepRequest};
use crate::{EngineError, Result};

/// One incident with everything about it.
#[derive(Debug, Clone)]
pub struct IncidentView {
    pub summary: IncidentSummary,
    /// Oldest first.
    pub timeline: Vec<TimelineEvent>,
    pub pages: Vec<Page>,
    /// Empty before the swarm starts (at the acknowledgement).
    pub checklist: Vec<ChecklistStep>,
    /// Everyone who held a role, with since and until.
    pub roles: Vec<RoleHolding>,
    /// Why a person set the severity, when one did.
    pub severity_reason: Option<String>,
    /// Silences made for its alerts in write-back Alertmanagers.
    pub silences: Vec<SilenceRecord>,
    /// Outbox actions for it still waiting to reach their source.
    pub outbox_waiting: u64,
    /// Its pages to people's contacts away from the desk (email, webhooks), oldest first.
    pub contact_messages: Vec<ContactMessage>,
    /// Its alerts, most recently seen first.
    pub alerts: Vec<StoredAlert>,
    /// On a desktop joined to a hub: the person's actions on it, newest first, with where each
    /// stands with the hub. Empty on a desktop of its own.
    pub hub_actions: Vec<HubAction>,
    /// What a commander reads first, as of the clock's now.
    pub situation: Situation,
}

impl IncidentView {
    pub fn incident(&self) -> &Incident {
        &self.summary.incident
    }

    /// Who holds a role now.
    pub fn current_roles(&self) -> impl Iterator<Item = &RoleHolding> {
        self.roles.iter().filter(|r| r.until.is_none())
    }
}

impl Workspace {
    /// One incident with its timeline, pages, checklist, roles, silences and alerts.
    /// A provisional incident's number leads to the hub's incident it was folded into.
    pub fn incident(&self, id: IncidentId) -> Result<IncidentView> {
        let config = self.config().ok();
        self.with_store(|store| {
            let id = match store.folded_into(id)? {
                Some(hub) if store.incident_record(id).is_err() => hub,
                _ => id,
            };
            let detail = store.incident(id)?;
            let paging = store.escalation(id)?;
            let loss = store.loss_facts(id)?;
            let counts = store
                .alert_counts_of(&[id])?
                .remove(&id)
                .unwrap_or_default();
            let first_alert = counts.first_alert.clone();
            let involved = store
                .people_involved_in(&[id])?
                .remove(&id)
                .unwrap_or_default();
            let summary = IncidentSummary::new(
                detail.incident,
                config.as_deref(),
                paging,
                loss,
                counts,
                involved,
            );
            let pages = store.pages(id)?;
            let alerts = store.alerts(AlertFilter::Incident(id))?;
            let first_alert = first_alert.and_then(|(source, fingerprint)| {
                alerts.iter().find(|a| {
                    a.alert.source == source && a.alert.fingerprint.as_str() == fingerprint
                })
            });
            let situation = situation(
                store,
                config.as_deref(),
                &summary,
                &pages,
                first_alert,
                self.now(),
            )?;
            Ok(IncidentView {
                summary,
                timeline: detail.timeline,
                pages,
                checklist: store.checklist(id)?,
                roles: store.roles(id)?,
                severity_reason: store.severity_reason(id)?,
                silences: store.silences(id)?,
                outbox_waiting: store.outbox_waiting_for(id)?,
                contact_messages: store.contact_messages_of(id)?,
                alerts,
                hub_actions: store.hub_actions(Some(id), 200)?,
                situation,
            })
        })
    }

    /// Acknowledges the incident: paging stops and the swarm's checklist starts.
    pub fn acknowledge(&self, id: IncidentId, who: &Actor) -> Result<Incident> {
        self.transition(id, Transition::Acknowledge, who, false)
    }

    /// Resolves the incident; refused while required checklist steps are open unless `force`,
    /// which records the override.
    pub fn resolve(&self, id: IncidentId, who: &Actor, force: bool) -> Result<Incident> {
        self.transition(id, Transition::Resolve, who, force)
    }

    fn transition(
        &self,
        id: IncidentId,
        transition: Transition,
        who: &Actor,
        force: bool,
    ) -> Result<Incident> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        let mutation = match transition {
            Transition::Acknowledge => Mutation::on("acknowledge", id, json!({})),
            Transition::Resolve => Mutation::on("resolve", id, json!({"force": force})),
        };
        self.act_shared(
            |_, _| Ok(mutation),
            |store, now| desk::transition(store, &config, id, transition, &who, force, now),
        )
    }

    /// Adds a note to the timeline (resolved incidents too: the review comes after).
    pub fn note(&self, id: IncidentId, text: &str, who: &Actor) -> Result<TimelineEvent> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        self.act_shared(
            |_, link| note_mutation(id, text, link),
            |store, now| desk::add_note(store, &config, id, text, &who, now),
        )
    }

    /// The incident's checklist; for an incident acknowledged at its source, it starts here.
    pub fn checklist(&self, id: IncidentId) -> Result<Vec<ChecklistStep>> {
        // A replica's checklist is the hub's: it starts there.
        if self.hub_link()?.is_some() {
            return self.with_store(|store| Ok(store.checklist(id)?));
        }
        let config = self.config()?;
        self.act(|store, now| swarm::checklist(store, &config, id, now))
    }

    /// Changes one checklist step.
    pub fn change_step(
        &self,
        id: IncidentId,
        request: StepRequest<'_>,
        who: &Actor,
    ) -> Result<ChecklistStep> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        self.act_shared(
            |store, _| {
                // Compare and set on the state the person saw.
                let from = store
                    .checklist(id)?
                    .into_iter()
                    .find(|s| s.step.as_str() == request.step)
                    .map_or(StepState::Todo, |s| s.state);
                let mut args = json!({"step": request.step, "from": from.as_str()});
                if let Some(state) = request.state {
                    args["state"] = json!(state.as_str());
                }
                if let Some(assignee) = request.assignee {
                    args["assignee"] = json!(assignee.trim());
                }
                if let Some(reason) = request.reason {
                    args["reason"] = json!(reason);
                }
                Ok(Mutation::on("change_step", id, args))
            },
            |store, now| swarm::change_step(store, &config, id, request, &who, now),
        )
    }

    /// Names someone to a lead role; answers with who holds which role now.
    pub fn name_role(
        &self,
        id: IncidentId,
        request: RoleRequest<'_>,
        who: &Actor,
    ) -> Result<Vec<RoleHolding>> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        let me = who.clone();
        self.act_shared(
            |store, _| {
                if request.role == Role::Responder {
                    return if request.person.trim() == me {
                        Ok(Mutation::on("join", id, json!({})))
                    } else {
                        Err(EngineError::NotOnHub {
                            action: "naming someone else a responder (they join from their own desktop)",
                        })
                    };
                }
                // A handover names the holder it replaces: the one the person saw.
                let replaces = store
                    .roles(id)?
                    .into_iter()
                    .find(|r| r.role == request.role && r.until.is_none())
                    .map(|r| r.person.to_string());
                Ok(Mutation::on(
                    "name_role",
                    id,
                    json!({"role": request.role.as_str(), "person": request.person.trim(), "replaces": replaces}),
                ))
            },
            |store, now| {
                swarm::name_role(store, &config, id, request, &who, now)?;
                current_roles(store, id)
            },
        )
    }

    /// `who` joins the swarm as a responder; answers with who holds which role now.
    pub fn join(&self, id: IncidentId, who: &Actor) -> Result<Vec<RoleHolding>> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        self.act_shared(
            |_, _| Ok(Mutation::on("join", id, json!({}))),
            |store, now| {
                swarm::join(store, &config, id, &who, now)?;
                current_roles(store, id)
            },
        )
    }

    /// `who` leaves the swarm; answers with who holds which role now.
    pub fn leave(&self, id: IncidentId, who: &Actor) -> Result<Vec<RoleHolding>> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        self.act_shared(
            |_, _| Ok(Mutation::on("leave", id, json!({}))),
            |store, now| {
                swarm::leave(store, &config, id, &who, now)?;
                current_roles(store, id)
            },
        )
    }

    /// A person sets the severity, with a reason.
    pub fn set_severity(
        &self,
        id: IncidentId,
        request: SeverityRequest<'_>,
        who: &Actor,
    ) -> Result<Incident> {
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        let mut args = json!({"severity": request.severity.as_str(), "reason": request.reason});
        if let Some(loss) = request.loss {
            args["loss"] = json!(loss);
        }
        self.act_shared(
            |_, _| Ok(Mutation::on("set_severity", id, args)),
            |store, now| swarm::override_severity(store, &config, id, request, &who, now),
        )
    }

    /// Whether `team`'s line runs, and what holds it.
    pub fn line(&self, team: &str) -> Result<LineState> {
        let config = self.config()?;
        let now = self.now();
        self.with_store(|store| swarm::line(store, &config, team, now))
    }

    /// Every delivery team's line, in config order.
    pub fn lines(&self) -> Result<Vec<LineState>> {
        let config = self.config()?;
        let now = self.now();
        self.with_store(|store| swarm::lines(store, &config, now))
    }
}

fn current_roles(store: &stopline_store::Store, id: IncidentId) -> Result<Vec<RoleHolding>> {
    Ok(store
        .roles(id)?
        .into_iter()
        .filter(|r| r.until.is_none())
        .collect())
}

/// A note as the hub takes it, under an id made here and unique to this desktop: the hub keeps
/// the note once however often it is pushed.
pub(super) fn note_mutation(id: IncidentId, text: &str, link: &HubLink) -> Result<Mutation> {
    let note_id = format!(
        "{}-{}",
        link.desktop_id,
        &crate::secrets::generate_token()?[..12]
    );
    Ok(Mutation::on(
        "note",
        id,
        json!({"note_id": note_id, "text": text.trim()}),
    ))
}

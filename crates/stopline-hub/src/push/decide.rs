//! How each mutation of a push is decided, inside its own transaction: the incident locked,
//! `stopline-core`'s rule asked, the rows and the timeline written, or a refusal with its
//! reason. The push around it (`push`) records the outcome and moves the desktop's last id.

use std::time::SystemTime;

use jiff::Timestamp;
use stopline_core::StepId;
use stopline_core::alert::{AlertState, Fingerprint};
use stopline_core::application::Application;
use stopline_core::config::Config;
use stopline_core::cover::{CoverRequest, check_override};
use stopline_core::delivery::alert_name;
use stopline_core::desk::OpenTarget;
use stopline_core::ids::PersonId;
use stopline_core::incident::{Incident, IncidentId, IncidentState, Transition};
use stopline_core::payload::IncomingAlert;
use stopline_core::routing::{RoutedAlert, observation};
use stopline_core::severity;
use stopline_core::swarm::{
    self, ChecklistStep, Role, RoleHolding, StepChange, StepState, StepTemplate, default_checklist,
};
use stopline_core::timeline::{TimelineEvent, TimelineKind};
use tokio_postgres::Transaction;

use super::{Context, Decision, Refused};
use crate::Result;
use crate::rows::{
    INCIDENT_COLUMNS, append_event, corrupt, from_time, read_incident, save_state, sql_id, to_time,
};

/// One mutation being decided, inside its transaction at the organisation's `version`.
pub(super) struct Step<'a> {
    pub tx: &'a Transaction<'a>,
    pub context: &'a Context<'a>,
    pub version: i64,
    /// When the person made the change (their desktop's clock, never after now).
    pub made: Timestamp,
}

impl Step<'_> {
    fn who(&self) -> &PersonId {
        self.context.person
    }

    /// The incident, locked for this transaction, or a refusal naming it.
    async fn incident(&self, id: IncidentId) -> Result<std::result::Result<Incident, Refused>> {
        let row = self
            .tx
            .query_opt(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE"),
                &[&sql_id(id)?],
            )
            .await?;
        Ok(match row {
            Some(row) => Ok(read_incident(&row)?),
            None => Err(Refused(format!("there is no incident {id} on the hub"))),
        })
    }

    /// A person the config knows (any valid id when the hub runs without a config).
    fn known(&self, person: &PersonId) -> std::result::Result<(), Refused> {
        match self.context.config {
            Some(config) if config.person(person).is_none() => Err(Refused(format!(
                "{person} is not a person of the organisation's config"
            ))),
            _ => Ok(()),
        }
    }

    /// An application of the hub's config, with the config (refused when the hub runs
    /// without one).
    fn application(&self, id: &str) -> std::result::Result<(&Config, &Application), Refused> {
        let config = self.context.config.ok_or_else(|| {
            Refused("the hub runs without a config: it knows no applications".to_owned())
        })?;
        let target = OpenTarget::Application(id.to_owned());
        let app = stopline_core::desk::resolve_target(config, &target)?;
        Ok((config, app))
    }

    async fn append(&self, incident: IncidentId, event: &TimelineEvent) -> Result<()> {
        append_event(self.tx, sql_id(incident)?, event, self.version).await
    }

    /// The first acknowledgement to arrive wins; a later one is kept on the timeline.
    pub(super) async fn acknowledge(&self, id: IncidentId, at: Timestamp) -> Decision {
        let mut incident = match self.incident(id).await? {
            Ok(incident) => incident,
            Err(refused) => return Ok(Err(refused)),
        };
        if let Some(late) = incident.also_acknowledged(self.who(), at, self.context.now) {
            let refusal = incident
                .clone()
                .apply(Transition::Acknowledge, self.who(), self.made)
                .err()
                .map_or_else(String::new, |e| e.to_string());
            self.append(id, &late).await?;
            return Ok(Err(Refused(format!(
                "{refusal}; yours is kept on its timeline"
            ))));
        }
        // A desktop's clock is never earlier than the incident: a stamp before it opened would
        // make its time to acknowledge negative.
        let made = self.made.max(incident.opened_at);
        let event = match incident.apply(Transition::Acknowledge, self.who(), made) {
            Ok(event) => event,
            Err(e) => return Ok(Err(e.into())),
        };
        save_state(self.tx, &incident, self.version).await?;
        self.append(id, &event).await?;
        self.start_checklist(&incident).await?;
        Ok(Ok(()))
    }

    pub(super) async fn resolve(&self, id: IncidentId, force: bool) -> Decision {
        let mut incident = match self.incident(id).await? {
            Ok(incident) => incident,
            Err(refused) => return Ok(Err(refused)),
        };
        let made = self.made.max(incident.opened_at);
        let mut event = match incident.apply(Transition::Resolve, self.who(), made) {
            Ok(event) => event,
            Err(e) => return Ok(Err(e.into())),
        };
        let steps = self.steps(id).await?;
        if let Err(e) = swarm::gate_resolve(id, &steps, force, &mut event) {
            return Ok(Err(e.into()));
        }
        save_state(self.tx, &incident, self.version).await?;
        self.append(id, &event).await?;
        Ok(Ok(()))
    }

    /// A note is appended once under the id its desktop made, however often it is pushed.
    pub(super) async fn note(&self, id: IncidentId, note_id: &str, text: &str) -> Decision {
        if let Err(refused) = self.incident(id).await? {
            return Ok(Err(refused));
        }
        self.tx
            .execute(
                "INSERT INTO timeline (incident_id, at, who, kind, detail, version, desktop_id,
                     note_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (desktop_id, note_id) WHERE note_id IS NOT NULL DO NOTHING",
                &[
                    &sql_id(id)?,
                    &to_time(self.made),
                    &self.who().as_str(),
                    &TimelineKind::Note.as_str(),
                    &text,
                    &self.version,
                    &self.context.desktop,
                    &note_id,
                ],
            )
            .await?;
        Ok(Ok(()))
    }

    pub(super) async fn change_step(
        &self,
        id: IncidentId,
        name: &str,
        from: StepState,
        change: &StepChange,
    ) -> Decision {
        let incident = match self.incident(id).await? {
            Ok(incident) => incident,
            Err(refused) => return Ok(Err(refused)),
        };
        if let Some(assignee) = &change.assignee
            && let Err(refused) = self.known(assignee)
        {
            return Ok(Err(refused));
        }
        // Acknowledged at its source: its checklist starts the first time someone works on it.
        if swarm::starts_on_sight(&incident) {
            self.start_checklist(&incident).await?;
        }
        let steps = self.steps(id).await?;
        let (after, event) =
            match swarm::change_step_from(id, &steps, name, from, change, self.who(), self.made) {
                Ok(decided) => decided,
                Err(e) => return Ok(Err(e.into())),
            };
        self.tx
            .execute(
                "UPDATE checklist_steps SET state = $3, reason = $4, assignee = $5,
                     changed_by = $6, changed_at = $7, version = $8
                 WHERE incident_id = $1 AND step = $2",
                &[
                    &sql_id(id)?,
                    &name,
                    &after.state.as_str(),
                    &after.reason,
                    &after.assignee.as_ref().map(PersonId::as_str),
                    &after.changed_by.as_ref().map(PersonId::as_str),
                    &after.changed_at.map(to_time),
                    &self.version,
                ],
            )
            .await?;
        self.append(id, &event).await?;
        Ok(Ok(()))
    }

    pub(super) async fn name_role(
        &self,
        id: IncidentId,
        role: Role,
        person: &PersonId,
        replaces: Option<&PersonId>,
    ) -> Decision {
        if let Err(refused) = self.incident(id).await? {
            return Ok(Err(refused));
        }
        if let Err(refused) = self.known(person) {
            return Ok(Err(refused));
        }
        let holder = self
            .tx
            .query_opt(
                "SELECT person FROM roles WHERE incident_id = $1 AND role = $2 AND until IS NULL",
                &[&sql_id(id)?, &role.as_str()],
            )
            .await?
            .map(|row| PersonId::new(row.get::<_, String>(0)))
            .transpose()
            .map_err(|_| corrupt("a role's person"))?;
        let change = match swarm::name_replacing(
            id,
            role,
            holder.as_ref(),
            person,
            replaces,
            self.who(),
            self.made,
        ) {
            Ok(change) => change,
            Err(e) => return Ok(Err(e.into())),
        };
        if change.ends.is_some() {
            self.tx
                .execute(
                    "UPDATE roles SET until = $3, version = $4
                     WHERE incident_id = $1 AND role = $2 AND until IS NULL",
                    &[
                        &sql_id(id)?,
                        &role.as_str(),
                        &to_time(self.made),
                        &self.version,
                    ],
                )
                .await?;
        }
        self.tx
            .execute(
                "INSERT INTO roles (incident_id, role, person, since, named_by, version)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &sql_id(id)?,
                    &role.as_str(),
                    &person.as_str(),
                    &to_time(self.made),
                    &self.who().as_str(),
                    &self.version,
                ],
            )
            .await?;
        self.append(id, &change.event).await?;
        self.tick_steps(id).await?;
        Ok(Ok(()))
    }

    pub(super) async fn join_or_leave(&self, id: IncidentId, join: bool) -> Decision {
        if let Err(refused) = self.incident(id).await? {
            return Ok(Err(refused));
        }
        let responding = self
            .tx
            .query_opt(
                "SELECT 1 FROM roles WHERE incident_id = $1 AND person = $2
                     AND role = 'responder' AND until IS NULL",
                &[&sql_id(id)?, &self.who().as_str()],
            )
            .await?
            .is_some();
        let decided = if join {
            swarm::join(id, responding, self.who(), self.made)
        } else {
            swarm::leave(id, responding, self.who(), self.made)
        };
        let event = match decided {
            Ok(event) => event,
            Err(e) => return Ok(Err(e.into())),
        };
        if join {
            self.tx
                .execute(
                    "INSERT INTO roles (incident_id, role, person, since, named_by, version)
                     VALUES ($1, 'responder', $2, $3, $2, $4)",
                    &[
                        &sql_id(id)?,
                        &self.who().as_str(),
                        &to_time(self.made),
                        &self.version,
                    ],
                )
                .await?;
        } else {
            self.tx
                .execute(
                    "UPDATE roles SET until = $3, version = $4
                     WHERE incident_id = $1 AND person = $2 AND role = 'responder'
                         AND until IS NULL",
                    &[
                        &sql_id(id)?,
                        &self.who().as_str(),
                        &to_time(self.made),
                        &self.version,
                    ],
                )
                .await?;
        }
        self.append(id, &event).await?;
        if join {
            self.tick_steps(id).await?;
        }
        Ok(Ok(()))
    }

    /// The last severity to reach the hub wins; each is audited, and on the timeline.
    pub(super) async fn set_severity(
        &self,
        id: IncidentId,
        severity: stopline_core::Severity,
        reason: &str,
        loss: Option<u64>,
    ) -> Decision {
        let incident = match self.incident(id).await? {
            Ok(incident) => incident,
            Err(refused) => return Ok(Err(refused)),
        };
        let set =
            match severity::set_by_person(&incident, severity, reason, loss, self.who(), self.made)
            {
                Ok(set) => set,
                Err(e) => return Ok(Err(e.into())),
            };
        let loss = set.loss.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        self.tx
            .execute(
                "UPDATE incidents SET severity = $2, severity_reason = $3,
                     loss_override = COALESCE($4, loss_override), version = $5
                 WHERE id = $1",
                &[
                    &sql_id(id)?,
                    &set.severity.as_str(),
                    &set.reason,
                    &loss,
                    &self.version,
                ],
            )
            .await?;
        self.append(id, &set.event).await?;
        Ok(Ok(()))
    }

    /// The desktop showed the person their page: the receipt, kept once per desktop.
    pub(super) async fn page_shown(&self, page: u64) -> Decision {
        let page_id = i64::try_from(page).map_err(|_| corrupt("a page id"))?;
        let person = self
            .tx
            .query_opt("SELECT person FROM pages WHERE id = $1", &[&page_id])
            .await?
            .map(|row| row.get::<_, String>(0));
        match person {
            None => return Ok(Err(Refused(format!("there is no page {page} on the hub")))),
            Some(person) if person != self.who().as_str() => {
                return Ok(Err(Refused(format!(
                    "page {page} is addressed to {person}, not {}",
                    self.who()
                ))));
            }
            Some(_) => {}
        }
        self.tx
            .execute(
                "INSERT INTO page_receipts (page_id, desktop_id, shown_at, version)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (page_id, desktop_id) DO NOTHING",
                &[
                    &page_id,
                    &self.context.desktop,
                    &to_time(self.made),
                    &self.version,
                ],
            )
            .await?;
        // Shown within the grace: the person's contacts need not be paged.
        crate::contacts::shown(self.tx, page_id, self.made, self.version).await?;
        Ok(Ok(()))
    }

    /// Someone covers a layer of a rota: checked by core's rule against the config, kept as a
    /// row that escalation and the on-call view merge with the config's rotas. The last to
    /// arrive wins where two overlap (as in a config, the later override).
    pub(super) async fn add_override(&self, asked: CoverRequest<'_>) -> Decision {
        let Some(config) = self.context.config else {
            return Ok(Err(Refused(
                "the hub runs without a config: it has no rotas to cover".to_owned(),
            )));
        };
        let checked = match check_override(config, asked, self.context.now) {
            Ok(checked) => checked,
            Err(e) => return Ok(Err(e.into())),
        };
        self.tx
            .execute(
                "INSERT INTO overrides (rota, layer, person, starts, ends, added_by, added_at,
                     version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &checked.rota.as_str(),
                    &checked.layer,
                    &checked.person.as_str(),
                    &to_time(checked.from),
                    &to_time(checked.to),
                    &self.who().as_str(),
                    &to_time(self.context.now),
                    &self.version,
                ],
            )
            .await?;
        Ok(Ok(()))
    }

    /// An incident opened by hand on a desktop for an application of the config: owned by its
    /// team (whose rotas escalation pages), its severity estimated from the application's
    /// exposure, its checklist started (a person has seen the problem), as a desktop opens one
    /// (`stopline open`). It names the desktop's mutation, so that desktop folds the copy it
    /// made at once into this one.
    pub(super) async fn open_incident(
        &self,
        application: &str,
        title: &str,
        mutation: i64,
    ) -> Decision {
        let (config, app) = match self.application(application) {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        let id: i64 = self
            .tx
            .query_one(
                "INSERT INTO incidents (application_id, team_id, title, severity, state,
                     opened_at, opened_by, opened_by_desktop, opened_by_mutation, version)
                 VALUES ($1, $2, $3, $4, 'triggered', $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &app.id.as_str(),
                    &app.team.as_str(),
                    &title,
                    &config.initial_severity(app).as_str(),
                    &to_time(self.made),
                    &self.who().as_str(),
                    &self.context.desktop,
                    &mutation,
                    &self.version,
                ],
            )
            .await?
            .get(0);
        let incident = IncidentId(u64::try_from(id).map_err(|_| corrupt("an incident id"))?);
        let opened = TimelineEvent {
            at: self.made,
            who: Some(self.who().clone()),
            kind: TimelineKind::Opened,
            detail: format!("opened by {}: {title}", self.who()),
        };
        self.append(incident, &opened).await?;
        match self.incident(incident).await? {
            Ok(opened) => self.start_checklist(&opened).await?,
            Err(_) => return Err(corrupt("an incident just opened")),
        }
        Ok(Ok(()))
    }

    /// An alert that matched no application, routed to `application` by a person (the service
    /// desk's triage, as `stopline assign` does on a desktop of its own): delivered again with
    /// that route, by intake's rules, so a firing alert opens or joins an incident for the
    /// application's team, which escalation pages; the incident's timeline says who routed it.
    pub(super) async fn assign_alert(
        &self,
        source: &str,
        fingerprint: &str,
        application: &str,
    ) -> Decision {
        let (config, app) = match self.application(application) {
            Ok(found) => found,
            Err(refused) => return Ok(Err(refused)),
        };
        let Some(row) = self
            .tx
            .query_opt(
                "SELECT labels, annotations, links, muted, state, starts_at, ends_at,
                     generator_url, application_id, incident_id
                 FROM alerts WHERE source = $1 AND fingerprint = $2 FOR UPDATE",
                &[&source, &fingerprint],
            )
            .await?
        else {
            return Ok(Err(Refused(format!(
                "the hub has no alert {fingerprint} from {source}"
            ))));
        };
        if let Some(routed) = row.get::<_, Option<String>>(8) {
            let on = row
                .get::<_, Option<i64>>(9)
                .map(|id| format!(" ({})", IncidentId(u64::try_from(id).unwrap_or(0))))
                .unwrap_or_default();
            return Ok(Err(Refused(format!(
                "alert {fingerprint} is routed already, to {routed}{on}"
            ))));
        }
        let map = |i: usize| -> Result<stopline_core::alert::Labels> {
            serde_json::from_str(&row.get::<_, String>(i))
                .map_err(|e| corrupt(&format!("an alert's labels: {e}")))
        };
        let state = row.get::<_, String>(4);
        let incoming = IncomingAlert {
            fingerprint: Fingerprint::new(fingerprint).map_err(|e| corrupt(&e.to_string()))?,
            labels: map(0)?,
            annotations: map(1)?,
            links: map(2)?,
            muted: row.get(3),
            state: AlertState::parse(&state).ok_or_else(|| corrupt("an alert's state"))?,
            starts_at: from_time(row.get(5))?,
            ends_at: row
                .get::<_, Option<SystemTime>>(6)
                .map(from_time)
                .transpose()?,
            generator_url: row.get(7),
        };
        let observation = observation(
            &config.alerts,
            source,
            incoming,
            Some(RoutedAlert::to(config, app)),
            self.context.now,
        );
        crate::intake::ingest_in(
            self.tx,
            std::slice::from_ref(&observation),
            config.alerts.auto_resolve,
            self.context.now,
            self.version,
        )
        .await?;
        let name = alert_name(&observation.alert).to_owned();
        let incident: Option<i64> = self
            .tx
            .query_one(
                "SELECT incident_id FROM alerts WHERE source = $1 AND fingerprint = $2",
                &[&source, &fingerprint],
            )
            .await?
            .get(0);
        if let Some(incident) = incident {
            let routed = TimelineEvent {
                at: self.made,
                who: Some(self.who().clone()),
                kind: TimelineKind::Alerts,
                detail: format!(
                    "{name} from {source} routed by hand to {} from the unrouted queue",
                    app.id
                ),
            };
            append_event(self.tx, incident, &routed, self.version).await?;
        }
        Ok(Ok(()))
    }

    /// Starts the incident's checklist from the config's template, unless it has one.
    async fn start_checklist(&self, incident: &Incident) -> Result<()> {
        let id = sql_id(incident.id)?;
        let started = self
            .tx
            .query_opt(
                "SELECT 1 FROM checklist_steps WHERE incident_id = $1 LIMIT 1",
                &[&id],
            )
            .await?
            .is_some();
        if started || incident.state == IncidentState::Resolved {
            return Ok(());
        }
        let template: Vec<StepTemplate> = match self.context.config {
            Some(config) => {
                config.checklist_for(incident.team.as_ref(), incident.application.as_ref())
            }
            None => default_checklist(),
        };
        for (position, step) in template.iter().enumerate() {
            self.tx
                .execute(
                    "INSERT INTO checklist_steps (incident_id, position, step, title, required,
                         runbook, state, version)
                     VALUES ($1, $2, $3, $4, $5, $6, 'todo', $7)",
                    &[
                        &id,
                        &i32::try_from(position).unwrap_or(i32::MAX),
                        &step.id.as_str(),
                        &step.title,
                        &step.required,
                        &step.runbook,
                        &self.version,
                    ],
                )
                .await?;
        }
        self.append(
            incident.id,
            &swarm::started_event(&template, self.context.now),
        )
        .await
    }

    /// Ticks the steps the swarm's roles now tick (`swarm::ticked_by_roles`), as the person
    /// whose role change this is.
    async fn tick_steps(&self, id: IncidentId) -> Result<()> {
        let steps = self.steps(id).await?;
        if steps.is_empty() {
            return Ok(());
        }
        let roles = self
            .tx
            .query(
                "SELECT role, person, since, until, named_by FROM roles
                 WHERE incident_id = $1 ORDER BY id",
                &[&sql_id(id)?],
            )
            .await?
            .iter()
            .map(|row| {
                let person =
                    |text: String| PersonId::new(text).map_err(|_| corrupt("a role's person"));
                Ok(RoleHolding {
                    role: Role::parse(&row.get::<_, String>(0)).ok_or_else(|| corrupt("a role"))?,
                    person: person(row.get(1))?,
                    since: from_time(row.get(2))?,
                    until: row
                        .get::<_, Option<SystemTime>>(3)
                        .map(from_time)
                        .transpose()?,
                    named_by: row.get::<_, Option<String>>(4).map(person).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for (after, event) in swarm::ticked_by_roles(id, &steps, &roles, self.who(), self.made) {
            self.tx
                .execute(
                    "UPDATE checklist_steps SET state = $3, changed_by = $4, changed_at = $5,
                         version = $6
                     WHERE incident_id = $1 AND step = $2",
                    &[
                        &sql_id(id)?,
                        &after.step.as_str(),
                        &after.state.as_str(),
                        &self.who().as_str(),
                        &to_time(self.made),
                        &self.version,
                    ],
                )
                .await?;
            self.append(id, &event).await?;
        }
        Ok(())
    }

    async fn steps(&self, id: IncidentId) -> Result<Vec<ChecklistStep>> {
        let rows = self
            .tx
            .query(
                "SELECT step, title, required, runbook, state, assignee, reason, changed_by,
                     changed_at
                 FROM checklist_steps WHERE incident_id = $1 ORDER BY position",
                &[&sql_id(id)?],
            )
            .await?;
        rows.iter().map(read_step).collect()
    }
}

/// A checklist step from its row (`step, title, required, runbook, state, assignee, reason,
/// changed_by, changed_at`).
fn read_step(row: &tokio_postgres::Row) -> Result<ChecklistStep> {
    let person = |i: usize| {
        row.get::<_, Option<String>>(i)
            .map(PersonId::new)
            .transpose()
            .map_err(|_| corrupt("a checklist step's person"))
    };
    let state: String = row.get(4);
    Ok(ChecklistStep {
        step: StepId::new(row.get::<_, String>(0)).map_err(|_| corrupt("a checklist step id"))?,
        title: row.get(1),
        required: row.get(2),
        runbook: row.get(3),
        state: StepState::parse(&state).ok_or_else(|| corrupt(&format!("step state {state:?}")))?,
        assignee: person(5)?,
        reason: row.get(6),
        changed_by: person(7)?,
        changed_at: row
            .get::<_, Option<SystemTime>>(8)
            .map(from_time)
            .transpose()?,
    })
}

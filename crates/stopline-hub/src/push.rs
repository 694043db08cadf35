//! A push from a desktop: each mutation a person made there, applied once, in its own
//! transaction, by `stopline-core`'s rules (docs/hub-protocol.md).
//!
//! A mutation whose id is not above its desktop's last is a replay: nothing changes and the
//! outcome recorded the first time is answered again. Otherwise the rule decides; the outcome
//! (applied, or refused with a reason a person can read) is an audit row, and the desktop's
//! last mutation id moves on either way, so a refused mutation never jams its queue. A
//! transaction PostgreSQL asks to retry (40001, 40P01) is run again whole; one that cannot
//! commit leaves nothing, and the desktop pushes it again.

use std::time::SystemTime;

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_core::cover::{CoverRequest, check_override};
use stopline_core::ids::PersonId;
use stopline_core::incident::{Incident, IncidentId, IncidentState, Transition};
use stopline_core::mutation::{Change, Mutation, Push};
use stopline_core::swarm::{
    self, ChecklistStep, Role, StepChange, StepState, StepTemplate, default_checklist,
};
use stopline_core::timeline::{TimelineEvent, TimelineKind};
use stopline_core::{StepId, severity};
use tokio_postgres::Transaction;

use crate::Result;
use crate::database::Database;
use crate::error::{HubError, is_retryable};
use crate::rows::{
    INCIDENT_COLUMNS, append_event, bump_version, corrupt, from_time, read_incident, save_state,
    sql_id, to_time,
};

/// What became of one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub id: u64,
    /// `applied` or `refused`.
    pub outcome: &'static str,
    /// Why it was refused, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a push did: each mutation's outcome, and the desktop's last mutation id after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub last_mutation_id: u64,
    pub outcomes: Vec<Outcome>,
}

/// How many times a mutation's transaction is tried when PostgreSQL asks for a retry.
const ATTEMPTS: usize = 10;

impl Database {
    /// Applies `push` as `person` (the token's) at `now`, one transaction per mutation, and
    /// answers only after each has committed. Refused as a whole, changing nothing, when the
    /// desktop is another person's ([`HubError::DesktopOfAnother`]).
    pub async fn push(
        &self,
        config: Option<&Config>,
        person: &PersonId,
        push: &Push,
        now: Timestamp,
    ) -> Result<Pushed> {
        let mut client = self.client().await?;
        let last = self
            .desktop_last_mutation(&client, &push.desktop_id, person)
            .await?;
        let mut pushed = Pushed {
            last_mutation_id: last,
            outcomes: Vec::with_capacity(push.mutations.len()),
        };
        let context = Context {
            config,
            person,
            desktop: &push.desktop_id,
            now,
        };
        // What the hub has already (a queue pushed again after a lost answer) is answered from
        // the audit in one query, without taking the organisation's lock once per mutation.
        let (seen, fresh): (Vec<&Mutation>, Vec<&Mutation>) =
            push.mutations.iter().partition(|m| m.id <= last);
        let ids: Vec<u64> = seen.iter().map(|m| m.id).collect();
        let plain: &tokio_postgres::Client = &client;
        pushed
            .outcomes
            .extend(recorded_outcomes(plain, &push.desktop_id, &ids).await?);
        for mutation in fresh {
            let mut attempt = 0;
            let outcome = loop {
                attempt += 1;
                let tx = client.transaction().await?;
                match apply(&tx, &context, mutation).await {
                    Ok(Applied::Replayed(outcome)) => break outcome,
                    Ok(Applied::Decided(outcome)) => match tx.commit().await {
                        Ok(()) => break outcome,
                        Err(e) if attempt < ATTEMPTS && is_retryable(&e) => {}
                        Err(e) => return Err(e.into()),
                    },
                    Err(HubError::Database(e)) if attempt < ATTEMPTS && is_retryable(&e) => {}
                    Err(e) => return Err(e),
                }
            };
            pushed.last_mutation_id = pushed.last_mutation_id.max(mutation.id);
            pushed.outcomes.push(outcome);
        }
        Ok(pushed)
    }

    /// The desktop's last mutation id (0 for one the hub has not seen); refused when the
    /// desktop is another person's.
    pub(crate) async fn desktop_last_mutation(
        &self,
        client: &tokio_postgres::Client,
        desktop: &str,
        person: &PersonId,
    ) -> Result<u64> {
        let row = client
            .query_opt(
                "SELECT person, last_mutation_id FROM desktops WHERE id = $1",
                &[&desktop],
            )
            .await?;
        match row {
            None => Ok(0),
            Some(row) => {
                let owner: String = row.get(0);
                if owner != person.as_str() {
                    return Err(HubError::DesktopOfAnother {
                        desktop: desktop.to_owned(),
                    });
                }
                Ok(u64::try_from(row.get::<_, i64>(1)).unwrap_or(0))
            }
        }
    }
}

/// Who pushes, from where, and when the hub received it.
struct Context<'a> {
    config: Option<&'a Config>,
    person: &'a PersonId,
    desktop: &'a str,
    now: Timestamp,
}

enum Applied {
    /// Seen before: the outcome recorded then, and nothing to commit.
    Replayed(Outcome),
    /// Decided now, to commit.
    Decided(Outcome),
}

/// A mutation the rules refuse, with the reason a person reads.
struct Refused(String);

impl<E: std::fmt::Display> From<E> for Refused {
    fn from(error: E) -> Self {
        Refused(error.to_string())
    }
}

/// What a decision comes to: applied (with the incident it changed), refused, or the database
/// failing (the transaction is dropped and tried again, or the push answered 503).
type Decision = std::result::Result<std::result::Result<(), Refused>, HubError>;

async fn apply(
    tx: &Transaction<'_>,
    context: &Context<'_>,
    mutation: &Mutation,
) -> Result<Applied> {
    // The organisation's version first: the lock order of every write, and commit order for
    // pulls.
    let version = bump_version(tx).await?;
    let now = context.now;
    tx.execute(
        "INSERT INTO desktops (id, person, first_seen, last_seen) VALUES ($1, $2, $3, $3)
         ON CONFLICT (id) DO NOTHING",
        &[&context.desktop, &context.person.as_str(), &to_time(now)],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT person, last_mutation_id FROM desktops WHERE id = $1 FOR UPDATE",
            &[&context.desktop],
        )
        .await?;
    if row.get::<_, String>(0) != context.person.as_str() {
        return Err(HubError::DesktopOfAnother {
            desktop: context.desktop.to_owned(),
        });
    }
    let id = i64::try_from(mutation.id).map_err(|_| corrupt("a mutation id"))?;
    if id <= row.get::<_, i64>(1) {
        return Ok(Applied::Replayed(
            recorded_outcome(tx, context.desktop, mutation.id).await?,
        ));
    }
    // A desktop's clock is the person's word for when they did it, but never later than now.
    let made = mutation.at.min(now);
    let step = Step {
        tx,
        context,
        version,
        made,
    };
    let decided = match &mutation.change {
        Change::Acknowledge { incident } => step.acknowledge(*incident, mutation.at).await,
        Change::Resolve { incident, force } => step.resolve(*incident, *force).await,
        Change::Note {
            incident,
            note_id,
            text,
        } => step.note(*incident, note_id, text).await,
        Change::ChangeStep {
            incident,
            step: name,
            from,
            state,
            reason,
            assignee,
        } => {
            let change = StepChange {
                state: *state,
                reason: reason.clone(),
                assignee: assignee.clone(),
            };
            step.change_step(*incident, name, *from, &change).await
        }
        Change::NameRole {
            incident,
            role,
            person,
            replaces,
        } => {
            step.name_role(*incident, *role, person, replaces.as_ref())
                .await
        }
        Change::Join { incident } => step.join_or_leave(*incident, true).await,
        Change::Leave { incident } => step.join_or_leave(*incident, false).await,
        Change::SetSeverity {
            incident,
            severity,
            reason,
            loss,
        } => step.set_severity(*incident, *severity, reason, *loss).await,
        Change::PageShown { page } => step.page_shown(*page).await,
        Change::AddOverride {
            rota,
            layer,
            person,
            from,
            to,
        } => {
            let asked = CoverRequest {
                rota,
                layer: layer.as_deref(),
                person,
                from,
                to,
            };
            step.add_override(asked).await
        }
    }?;
    let outcome = Outcome {
        id: mutation.id,
        outcome: if decided.is_ok() {
            "applied"
        } else {
            "refused"
        },
        reason: decided.err().map(|Refused(reason)| reason),
    };
    let args = mutation_args(&mutation.change).to_string();
    tx.execute(
        "INSERT INTO audit (at, made_at, person, desktop_id, mutation_id, name, args, incident_id,
             outcome, reason, version)
         VALUES ($1, $2, $3, $4, $5, $6, ($7::text)::jsonb, $8, $9, $10, $11)",
        &[
            &to_time(now),
            &to_time(mutation.at),
            &context.person.as_str(),
            &context.desktop,
            &id,
            &mutation.change.name(),
            &args,
            &mutation.change.incident().map(sql_id).transpose()?,
            &outcome.outcome,
            &outcome.reason,
            &version,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE desktops SET last_mutation_id = $2, last_seen = $3 WHERE id = $1",
        &[&context.desktop, &id, &to_time(now)],
    )
    .await?;
    Ok(Applied::Decided(outcome))
}

/// The outcome recorded for a mutation seen before.
async fn recorded_outcome(tx: &Transaction<'_>, desktop: &str, id: u64) -> Result<Outcome> {
    let mut one = recorded_outcomes(tx, desktop, &[id]).await?;
    Ok(one.remove(0))
}

/// The outcomes recorded for mutations seen before, in the order of `ids`, in one query.
async fn recorded_outcomes(
    client: &impl tokio_postgres::GenericClient,
    desktop: &str,
    ids: &[u64],
) -> Result<Vec<Outcome>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<i64> = ids
        .iter()
        .map(|id| i64::try_from(*id).map_err(|_| corrupt("a mutation id")))
        .collect::<Result<_>>()?;
    let rows = client
        .query(
            "SELECT mutation_id, outcome, reason FROM audit
             WHERE desktop_id = $1 AND mutation_id = ANY($2)",
            &[&desktop, &wanted],
        )
        .await?;
    let recorded: std::collections::HashMap<i64, (String, Option<String>)> = rows
        .iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();
    Ok(ids
        .iter()
        .zip(&wanted)
        .map(|(&id, sql)| match recorded.get(sql) {
            Some((outcome, reason)) => Outcome {
                id,
                outcome: if outcome == "applied" {
                    "applied"
                } else {
                    "refused"
                },
                reason: reason.clone(),
            },
            // An id the desktop skipped (it numbered past it): nothing was ever asked under it.
            None => Outcome {
                id,
                outcome: "refused",
                reason: Some(format!(
                    "mutation {id} is not above this desktop's last mutation id: already pushed"
                )),
            },
        })
        .collect())
}

/// The arguments as the audit keeps them.
fn mutation_args(change: &Change) -> serde_json::Value {
    use serde_json::json;
    let incident = change.incident().map(|i| i.to_string());
    match change {
        Change::Acknowledge { .. } | Change::Join { .. } | Change::Leave { .. } => {
            json!({ "incident": incident })
        }
        Change::Resolve { force, .. } => json!({ "incident": incident, "force": force }),
        Change::Note { note_id, text, .. } => {
            json!({ "incident": incident, "note_id": note_id, "text": text })
        }
        Change::ChangeStep {
            step,
            from,
            state,
            reason,
            assignee,
            ..
        } => json!({
            "incident": incident, "step": step, "from": from.as_str(),
            "state": state.map(StepState::as_str), "reason": reason,
            "assignee": assignee.as_ref().map(PersonId::as_str),
        }),
        Change::NameRole {
            role,
            person,
            replaces,
            ..
        } => json!({
            "incident": incident, "role": role.as_str(), "person": person.as_str(),
            "replaces": replaces.as_ref().map(PersonId::as_str),
        }),
        Change::SetSeverity {
            severity,
            reason,
            loss,
            ..
        } => json!({
            "incident": incident, "severity": severity.as_str(), "reason": reason, "loss": loss,
        }),
        Change::PageShown { page } => json!({ "page": page }),
        Change::AddOverride {
            rota,
            layer,
            person,
            from,
            to,
        } => json!({ "rota": rota, "layer": layer, "person": person, "from": from, "to": to }),
    }
}

/// One mutation being decided, inside its transaction at the organisation's `version`.
struct Step<'a> {
    tx: &'a Transaction<'a>,
    context: &'a Context<'a>,
    version: i64,
    /// When the person made the change (their desktop's clock, never after now).
    made: Timestamp,
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

    async fn append(&self, incident: IncidentId, event: &TimelineEvent) -> Result<()> {
        append_event(self.tx, sql_id(incident)?, event, self.version).await
    }

    /// The first acknowledgement to arrive wins; a later one is kept on the timeline.
    async fn acknowledge(&self, id: IncidentId, at: Timestamp) -> Decision {
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

    async fn resolve(&self, id: IncidentId, force: bool) -> Decision {
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
    async fn note(&self, id: IncidentId, note_id: &str, text: &str) -> Decision {
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

    async fn change_step(
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

    async fn name_role(
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
        Ok(Ok(()))
    }

    async fn join_or_leave(&self, id: IncidentId, join: bool) -> Decision {
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
        Ok(Ok(()))
    }

    /// The last severity to reach the hub wins; each is audited, and on the timeline.
    async fn set_severity(
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
    async fn page_shown(&self, page: u64) -> Decision {
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
        Ok(Ok(()))
    }

    /// Someone covers a layer of a rota: checked by core's rule against the config, kept as a
    /// row that escalation and the on-call view merge with the config's rotas. The last to
    /// arrive wins where two overlap (as in a config, the later override).
    async fn add_override(&self, asked: CoverRequest<'_>) -> Decision {
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
pub(crate) fn read_step(row: &tokio_postgres::Row) -> Result<ChecklistStep> {
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

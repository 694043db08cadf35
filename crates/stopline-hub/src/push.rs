//! A push from a desktop: each mutation a person made there, applied once, in its own
//! transaction, by `stopline-core`'s rules (docs/hub-protocol.md).
//!
//! A mutation whose id is not above its desktop's last is a replay: nothing changes and the
//! outcome recorded the first time is answered again. Otherwise the rule decides; the outcome
//! (applied, or refused with a reason a person can read) is an audit row, and the desktop's
//! last mutation id moves on either way, so a refused mutation never jams its queue. A
//! transaction PostgreSQL asks to retry (40001, 40P01) is run again whole; one that cannot
//! commit leaves nothing, and the desktop pushes it again.

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::config::Config;
use stopline_core::cover::CoverRequest;
use stopline_core::ids::PersonId;
use stopline_core::mutation::{Change, Mutation, Push};
use stopline_core::reach::link::{AckLink, Unusable};
use stopline_core::swarm::{StepChange, StepState};
use tokio_postgres::Transaction;

mod decide;

use decide::Step;

use crate::Result;
use crate::database::Database;
use crate::error::{HubError, is_retryable};
use crate::rows::{bump_version, corrupt, sql_id, to_time};

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
        let row = client
            .query_opt(
                "SELECT person, last_mutation_id FROM desktops WHERE id = $1",
                &[&push.desktop_id],
            )
            .await?;
        let last = last_mutation_of(row.as_ref(), &push.desktop_id, person)?;
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
}

/// What the audit calls an acknowledgement from a link (it comes from no desktop).
const BY_LINK: &str = "acknowledge link";

impl Database {
    /// Acknowledges the incident of `link` as its person, from an acknowledge link a page
    /// carried away from the desk: checked again under lock (unused, this hub's, the incident
    /// still triggered), acknowledged by the same rule as a push, remembered as used, said on
    /// the timeline and in the audit, in one transaction.
    pub async fn acknowledge_by_link(
        &self,
        config: &Config,
        link: &AckLink,
        now: Timestamp,
    ) -> Result<std::result::Result<(), Unusable>> {
        let mut client = self.client().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = client.transaction().await?;
            let done = async {
                let version = bump_version(&*tx).await?;
                if let Err(why) = crate::contacts::check_link(&*tx, config, link, true).await? {
                    return Ok(Err(why));
                }
                let context = Context {
                    config: Some(config),
                    person: &link.person,
                    desktop: BY_LINK,
                    now,
                };
                let step = Step {
                    tx: &tx,
                    context: &context,
                    version,
                    made: now,
                };
                if let Err(Refused(reason)) = step.acknowledge(link.incident, now).await? {
                    return Err(HubError::Corrupt(format!(
                        "an acknowledgement checked as possible was refused: {reason}"
                    )));
                }
                let message = link.message;
                let incident = sql_id(link.incident)?;
                tx.execute(
                    "INSERT INTO ack_links_used (message_id, incident_id, person, used_at)
                     VALUES ($1, $2, $3, $4)",
                    &[&message, &incident, &link.person.as_str(), &to_time(now)],
                )
                .await?;
                let sent = tx
                    .query_one(
                        "SELECT channel, address FROM contact_messages WHERE id = $1",
                        &[&message],
                    )
                    .await?;
                let (channel, address): (String, String) = (sent.get(0), sent.get(1));
                let event = stopline_core::timeline::TimelineEvent::paging(
                    now,
                    format!(
                        "{} acknowledged from the link in the page sent by {channel} ({address})",
                        link.person
                    ),
                );
                crate::rows::append_event(&*tx, incident, &event, version).await?;
                tx.execute(
                    "INSERT INTO audit (at, made_at, person, desktop_id, mutation_id, name, args,
                         incident_id, outcome, reason, version)
                     VALUES ($1, $1, $2, NULL, NULL, 'acknowledge', ($3::text)::jsonb, $4,
                         'applied', NULL, $5)",
                    &[
                        &to_time(now),
                        &link.person.as_str(),
                        &serde_json::json!({"incident": link.incident.to_string(), "via": BY_LINK})
                            .to_string(),
                        &incident,
                        &version,
                    ],
                )
                .await?;
                Ok::<_, HubError>(Ok(()))
            }
            .await;
            match done {
                Ok(Ok(())) => match tx.commit().await {
                    Ok(()) => return Ok(Ok(())),
                    Err(e) if attempt < ATTEMPTS && is_retryable(&e) => {}
                    Err(e) => return Err(e.into()),
                },
                Ok(Err(why)) => return Ok(Err(why)),
                Err(HubError::Database(e)) if attempt < ATTEMPTS && is_retryable(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether `link` may acknowledge now (for the page a `GET` shows), and what it names.
    pub async fn link_state(
        &self,
        config: &Config,
        link: &AckLink,
    ) -> Result<std::result::Result<stopline_core::incident::Incident, Unusable>> {
        let client = self.client().await?;
        crate::contacts::check_link(&**client, config, link, false).await
    }
}

/// The last mutation id of a desktop from its row (`person, last_mutation_id`; none: a desktop
/// the hub has not seen, 0), or the refusal when the desktop is another person's.
pub(crate) fn last_mutation_of(
    row: Option<&tokio_postgres::Row>,
    desktop: &str,
    person: &PersonId,
) -> Result<u64> {
    let Some(row) = row else {
        return Ok(0);
    };
    if row.get::<_, String>(0) != person.as_str() {
        return Err(HubError::DesktopOfAnother {
            desktop: desktop.to_owned(),
        });
    }
    Ok(u64::try_from(row.get::<_, i64>(1)).unwrap_or(0))
}

/// Who pushes, from where, and when the hub received it.
pub(super) struct Context<'a> {
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
pub(super) struct Refused(String);

impl<E: std::fmt::Display> From<E> for Refused {
    fn from(error: E) -> Self {
        Refused(error.to_string())
    }
}

/// What a decision comes to: applied (with the incident it changed), refused, or the database
/// failing (the transaction is dropped and tried again, or the push answered 503).
pub(super) type Decision = std::result::Result<std::result::Result<(), Refused>, HubError>;

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
    let last = last_mutation_of(Some(&row), context.desktop, context.person)?;
    let id = i64::try_from(mutation.id).map_err(|_| corrupt("a mutation id"))?;
    if mutation.id <= last {
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
        Change::OpenIncident { application, title } => {
            step.open_incident(application, title, id).await
        }
        Change::AssignAlert {
            source,
            fingerprint,
            application,
        } => step.assign_alert(source, fingerprint, application).await,
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
        Change::OpenIncident { application, title } => {
            json!({ "application": application, "title": title })
        }
        Change::AssignAlert {
            source,
            fingerprint,
            application,
        } => json!({ "source": source, "fingerprint": fingerprint, "application": application }),
    }
}

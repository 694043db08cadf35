//! Escalation on the hub, run by every hub at once: each pass claims the escalations that have
//! come due (`FOR UPDATE SKIP LOCKED`, so two hubs never claim the same one and neither waits
//! for the other), asks the desktop's rule who to page (`stopline_core::escalation::decide`),
//! and records the pages, the timeline and the next step in one transaction. A page is unique
//! on (incident, step, cycle, person): should two passes ever decide the same step, the second
//! pages nobody.

use std::time::SystemTime;

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::escalation::{
    Escalation, EscalationDecision, EscalationStatus, EscalationStepRecord, after_deferral, decide,
};
use stopline_core::ids::RotaId;
use stopline_core::incident::IncidentId;
use stopline_core::reach::{PlannedMessage, plan};
use stopline_core::timeline::TimelineEvent;
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::Result;
use crate::database::Database;
use crate::error::{HubError, is_retryable};
use crate::rows::{
    INCIDENT_COLUMNS, append_event, bump_version, corrupt, from_time, read_incident_from, sql_id,
    to_time,
};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationPass {
    /// Pages this hub recorded, one per person and step.
    pub pages: usize,
    /// Escalations held until the next working day.
    pub deferred: usize,
}

/// Escalations claimed per transaction.
const CLAIM: i64 = 200;
/// A pass never takes more rounds than this: a config where nobody holds any layer cannot spin.
const MAX_ROUNDS: usize = 100;
/// How many times a round is tried when PostgreSQL asks for a retry.
const ATTEMPTS: usize = 10;

impl Database {
    /// Records every escalation step due at `now` that no other hub is recording.
    pub async fn escalate(&self, config: &Config, now: Timestamp) -> Result<EscalationPass> {
        let mut client = self.client().await?;
        let mut pass = EscalationPass::default();
        // Most passes find nothing due: they end here, before reading overrides.
        if !any_due(&**client, now).await? {
            return Ok(pass);
        }
        // Who holds each layer: the config's rotas with the overrides desktops pushed.
        let merged = self.rotas_at(config, now).await?;
        let config = &merged;
        for _ in 0..MAX_ROUNDS {
            let mut attempt = 0;
            let round = loop {
                attempt += 1;
                let tx = client.transaction().await?;
                let done = async {
                    let round = escalate_round(&tx, config, now).await?;
                    if round.changed {
                        tx.commit().await?;
                    }
                    // Nothing changed: dropping the transaction rolls back its version bump.
                    Ok::<_, HubError>(round)
                }
                .await;
                match done {
                    Err(HubError::Database(e)) if attempt < ATTEMPTS && is_retryable(&e) => {}
                    other => break other?,
                }
            };
            pass.pages += round.pages;
            pass.deferred += round.deferred;
            if !round.again {
                break;
            }
        }
        Ok(pass)
    }
}

/// Runs an escalation pass every `period`, and at once when `wake` is notified (intake opened
/// an incident), until `stop` completes: what each hub does beside serving. A pass that fails (the database away) is logged and tried again next time.
pub async fn escalate_every(
    database: Database,
    config: std::sync::Arc<Config>,
    clock: std::sync::Arc<dyn stopline_core::clock::Clock>,
    period: std::time::Duration,
    wake: std::sync::Arc<tokio::sync::Notify>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = wake.notified() => {}
            () = &mut stop => return,
        }
        match database.escalate(&config, clock.now()).await {
            Ok(pass) if pass.pages + pass.deferred > 0 => {
                tracing::info!(pages = pass.pages, deferred = pass.deferred, "escalated");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot escalate now: trying again"),
        }
    }
}

/// One round: what it did, and whether steps that paged nobody moved on at once (then another
/// round pages the next step).
#[derive(Debug, Default)]
struct Round {
    /// Whether the round wrote anything (else its transaction is rolled back).
    changed: bool,
    pages: usize,
    deferred: usize,
    again: bool,
}

/// Whether any escalation step is due at `now` (a look, taking no lock).
async fn any_due(client: &impl GenericClient, now: Timestamp) -> Result<bool> {
    Ok(client
        .query_opt(
            "SELECT 1 FROM escalations WHERE status IN ('due', 'deferred') AND due_at <= $1 LIMIT 1",
            &[&to_time(now)],
        )
        .await?
        .is_some())
}

async fn escalate_round(tx: &Transaction<'_>, config: &Config, now: Timestamp) -> Result<Round> {
    let mut round = Round::default();
    if !any_due(tx, now).await? {
        return Ok(round);
    }
    // The organisation's version first, as every write takes it: one lock order for all
    // writers (a push acknowledging an incident locks its escalation after this row), so
    // none waits on another in a circle. A change desktops will pull, in commit order.
    let version = bump_version(tx).await?;
    let claimed = tx
        .query(
            &format!(
                "SELECT e.incident_id, e.status, e.next_step, e.due_at, e.rota, e.note, {}
                 FROM escalations e JOIN incidents i ON i.id = e.incident_id
                 WHERE e.status IN ('due', 'deferred') AND e.due_at <= $1
                 ORDER BY e.due_at, e.incident_id
                 LIMIT $2
                 FOR UPDATE OF e SKIP LOCKED",
                INCIDENT_COLUMNS
                    .split(", ")
                    .map(|c| format!("i.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[&to_time(now), &CLAIM],
        )
        .await?;
    let mut decisions = Vec::new();
    for row in &claimed {
        let escalation = read_escalation(row)?;
        let incident = read_incident_from(row, 6)?;
        if let Some(decision) = decide(config, &escalation, &incident, now) {
            decisions.push((decision, escalation.status));
        }
    }
    if decisions.is_empty() {
        return Ok(round);
    }
    round.changed = true;
    // Whose desktops can show a page first: those whose contacts wait out the grace.
    let paged: Vec<&str> = decisions
        .iter()
        .filter_map(|(decision, _)| match decision {
            EscalationDecision::Step { record, .. } => Some(record),
            EscalationDecision::Defer { .. } => None,
        })
        .flat_map(|record| record.recipients.iter().map(|r| r.person.as_str()))
        .collect();
    let with_desktops = crate::contacts::with_desktops(tx, &paged).await?;
    for (decision, status) in &decisions {
        match decision {
            EscalationDecision::Step { incident, record } => {
                let contacts: Vec<PlannedMessage> = record
                    .recipients
                    .iter()
                    .flat_map(|r| {
                        let has_desktop = with_desktops.contains(r.person.as_str());
                        plan(config, &r.person, now, has_desktop)
                    })
                    .collect();
                round.pages += record_step(tx, *incident, record, &contacts, now, version).await?;
                round.again |= record.recipients.is_empty() && record.next_due.is_some();
            }
            EscalationDecision::Defer {
                incident,
                until,
                reason,
            } => {
                let after = after_deferral(*until, reason, now);
                tx.execute(
                    "UPDATE escalations SET status = $2, due_at = $3, note = $4, version = $5
                     WHERE incident_id = $1",
                    &[
                        &sql_id(*incident)?,
                        &after.status.as_str(),
                        &to_time(after.due_at),
                        &after.note,
                        &version,
                    ],
                )
                .await?;
                // Said once on the timeline, not at every re-check.
                if *status != EscalationStatus::Deferred {
                    append(tx, *incident, now, after.note, version).await?;
                }
                round.deferred += 1;
            }
        }
    }
    Ok(round)
}

/// Records one step: its pages (those not already recorded), the timeline, and when the next
/// is due. Returns how many pages this transaction recorded.
async fn record_step(
    tx: &Transaction<'_>,
    incident: IncidentId,
    record: &EscalationStepRecord,
    contacts: &[PlannedMessage],
    now: Timestamp,
    version: i64,
) -> Result<usize> {
    let id = sql_id(incident)?;
    let step = i32::try_from(record.step).map_err(|_| corrupt("an escalation step"))?;
    let cycle = i32::try_from(record.cycle).map_err(|_| corrupt("an escalation cycle"))?;
    let mut paged = 0;
    for recipient in &record.recipients {
        let page = tx
            .query_opt(
                "INSERT INTO pages (incident_id, step, cycle, person, reason, paged_at, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (incident_id, step, cycle, person) DO NOTHING
                 RETURNING id",
                &[
                    &id,
                    &step,
                    &cycle,
                    &recipient.person.as_str(),
                    &recipient.reason,
                    &to_time(now),
                    &version,
                ],
            )
            .await?;
        let Some(page) = page else { continue };
        paged += 1;
        // The page's messages to the person's contacts, in the same transaction.
        let theirs: Vec<&PlannedMessage> = contacts
            .iter()
            .filter(|m| m.person == recipient.person)
            .collect();
        if !theirs.is_empty() {
            crate::contacts::queue(tx, id, page.get(0), &theirs, now).await?;
        }
    }
    let after = record.after(now);
    tx.execute(
        "UPDATE escalations SET status = $2, next_step = $3, due_at = $4, rota = $5, note = $6,
             version = $7
         WHERE incident_id = $1",
        &[
            &id,
            &after.status.as_str(),
            &(step + 1),
            &to_time(after.due_at),
            &record.rota.as_ref().map(RotaId::as_str),
            &after.note,
            &version,
        ],
    )
    .await?;
    append(tx, incident, now, record.detail(), version).await?;
    if after.status == EscalationStatus::Exhausted {
        append(tx, incident, now, after.note, version).await?;
    }
    Ok(paged)
}

async fn append(
    tx: &Transaction<'_>,
    incident: IncidentId,
    now: Timestamp,
    detail: String,
    version: i64,
) -> Result<()> {
    let event = TimelineEvent::paging(now, detail);
    append_event(tx, sql_id(incident)?, &event, version).await
}

fn read_escalation(row: &Row) -> Result<Escalation> {
    let id: i64 = row.get(0);
    let status: String = row.get(1);
    let next_step: i32 = row.get(2);
    Ok(Escalation {
        incident: IncidentId(u64::try_from(id).map_err(|_| corrupt("an incident id"))?),
        status: EscalationStatus::parse(&status)
            .ok_or_else(|| corrupt(&format!("escalation status {status:?}")))?,
        next_step: u32::try_from(next_step).map_err(|_| corrupt("an escalation step"))?,
        due_at: from_time(row.get::<_, SystemTime>(3))?,
        rota: row
            .get::<_, Option<String>>(4)
            .map(RotaId::new)
            .transpose()
            .map_err(|_| corrupt(&format!("the rota of incident {id}'s escalation")))?,
        note: row.get(5),
    })
}

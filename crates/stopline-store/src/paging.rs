//! Escalation state and pages: what the pager has decided, kept so that a restart (even after
//! `kill -9`) carries on where it was.
//!
//! An escalation row appears with its incident and stops with it (triggers, see migration 4).
//! The pager reads the escalations that are due, decides who to page with the config (that rule
//! is `stopline_core::escalation::decide`), and records the step here: the pages and the next due time in one
//! transaction, only while the incident is still triggered and the step is the one it read. So a
//! step is recorded at most once, and an acknowledged or resolved incident never gets a new page.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use stopline_core::escalation::{
    Escalation, EscalationDecision, EscalationStatus, EscalationStepRecord, after_deferral,
};
use stopline_core::ids::{PersonId, RotaId};
use stopline_core::incident::{Incident, IncidentId};
use stopline_core::reach::PlannedMessage;
use stopline_core::timeline::TimelineEvent;

use crate::rows::{append, incident_id, load, parse_id, sql_id};
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// What recording a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// The pages were recorded (possibly none, when nobody held the layer).
    Recorded,
    /// The incident is no longer triggered, or the step was recorded already: nothing changed.
    Skipped,
}

/// A page as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: i64,
    pub incident: IncidentId,
    pub step: u32,
    pub cycle: u32,
    pub person: PersonId,
    pub reason: String,
    pub paged_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

const PAGE_COLUMNS: &str = "id, incident_id, step, cycle, person, reason, paged_at, delivered_at";

fn read_page(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Page>> {
    let incident: i64 = row.get(1)?;
    let step: i64 = row.get(2)?;
    let cycle: i64 = row.get(3)?;
    let person: String = row.get(4)?;
    let paged_at: i64 = row.get(6)?;
    let delivered_at: Option<i64> = row.get(7)?;
    let id: i64 = row.get(0)?;
    let reason: String = row.get(5)?;
    Ok((|| {
        Ok(Page {
            id,
            incident: incident_id(incident)?,
            step: small(step)?,
            cycle: small(cycle)?,
            person: parse_id(PersonId::new)(person)?,
            reason,
            paged_at: from_millis(paged_at)?,
            delivered_at: delivered_at.map(from_millis).transpose()?,
        })
    })())
}

fn small(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("step {value}")))
}

fn read_escalation(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Escalation>> {
    let incident: i64 = row.get(0)?;
    let status: String = row.get(1)?;
    let next_step: i64 = row.get(2)?;
    let due_at: i64 = row.get(3)?;
    let rota: Option<String> = row.get(4)?;
    let note: String = row.get(5)?;
    Ok((|| {
        Ok(Escalation {
            incident: incident_id(incident)?,
            status: EscalationStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("escalation status {status:?}")))?,
            next_step: small(next_step)?,
            due_at: from_millis(due_at)?,
            rota: rota.map(parse_id(RotaId::new)).transpose()?,
            note,
        })
    })())
}

const ESCALATION_COLUMNS: &str = "incident_id, status, next_step, due_at, rota, note";

impl Store {
    /// Escalations due or deferred whose time has come, earliest first, with their incidents.
    pub fn due_escalations(&self, now: Timestamp) -> Result<Vec<(Escalation, Incident)>> {
        let escalations = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ESCALATION_COLUMNS} FROM escalations
                 WHERE status IN ('due', 'deferred') AND due_at <= ?1 ORDER BY due_at, incident_id"
            ))?
            .query_map([to_millis(now)], read_escalation)?
            .map(|row| row?)
            .collect::<Result<Vec<_>>>()?;
        escalations
            .into_iter()
            .map(|e| {
                let incident = load(&self.conn, e.incident)?;
                Ok((e, incident))
            })
            .collect()
    }

    /// When the next escalation comes due, if any is waiting.
    pub fn next_escalation_due(&self) -> Result<Option<Timestamp>> {
        let next: Option<i64> = self.conn.query_row(
            "SELECT min(due_at) FROM escalations WHERE status IN ('due', 'deferred')",
            [],
            |row| row.get(0),
        )?;
        next.map(from_millis).transpose()
    }

    pub fn escalation(&self, incident: IncidentId) -> Result<Option<Escalation>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE incident_id = ?1"
            ))?
            .query_row([sql_id(incident)], read_escalation)
            .optional()?
            .transpose()
    }

    /// Records what the pager decided for several escalations in one transaction: one sync to
    /// disk however many incidents page at once. Each decision is recorded only while its
    /// incident is still triggered and its step is still the one due; the outcomes come back in
    /// order.
    ///
    /// `contacts` holds, beside each decision, the messages its pages queue for their people's
    /// contacts (`stopline_core::reach::plan`): queued in the same transaction as the page.
    pub fn record_escalations(
        &mut self,
        decisions: &[EscalationDecision],
        contacts: &[Vec<PlannedMessage>],
        now: Timestamp,
    ) -> Result<Vec<StepOutcome>> {
        self.write(|tx| {
            decisions
                .iter()
                .enumerate()
                .map(|(i, decision)| match decision {
                    EscalationDecision::Step { incident, record } => {
                        let planned = contacts.get(i).map_or(&[][..], Vec::as_slice);
                        record_step(tx, *incident, record, planned, now)
                    }
                    EscalationDecision::Defer {
                        incident,
                        until,
                        reason,
                    } => defer(tx, *incident, *until, reason, now),
                })
                .collect()
        })
    }

    /// Pages not yet shown on this desktop whose incidents are still triggered, oldest first.
    /// Pages of incidents acknowledged or resolved since are left out: they must not show.
    pub fn undelivered_pages(&self) -> Result<Vec<Page>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {} FROM pages p JOIN incidents i ON i.id = p.incident_id
                 WHERE p.delivered_at IS NULL AND i.state = 'triggered' ORDER BY p.id",
                PAGE_COLUMNS
                    .split(", ")
                    .map(|c| format!("p.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))?
            .query_map([], read_page)?
            .map(|row| row?)
            .collect()
    }

    /// Marks pages as handled on this desktop, in one transaction.
    pub fn mark_pages_delivered(&mut self, pages: &[i64], now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let mut update =
                tx.prepare_cached("UPDATE pages SET delivered_at = ?2 WHERE id = ?1")?;
            for page in pages {
                update.execute(params![page, to_millis(now)])?;
            }
            Ok(())
        })
    }

    /// Every page of an incident, oldest first.
    pub fn pages(&self, incident: IncidentId) -> Result<Vec<Page>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {PAGE_COLUMNS} FROM pages WHERE incident_id = ?1 ORDER BY id"
            ))?
            .query_map([sql_id(incident)], read_page)?
            .map(|row| row?)
            .collect()
    }

    /// A setting of this desktop (such as who sits at it), kept with the store it belongs to.
    pub fn desktop_setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM desktop WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    pub fn set_desktop_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO desktop (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
    }

    /// Forgets a desktop setting; reading it then gives `None`.
    pub fn delete_desktop_setting(&mut self, key: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM desktop WHERE key = ?1", [key])?;
            Ok(())
        })
    }
}

/// Records one step: its pages, on the timeline too, and when the next is due.
fn record_step(
    tx: &rusqlite::Connection,
    incident: IncidentId,
    record: &EscalationStepRecord,
    contacts: &[PlannedMessage],
    now: Timestamp,
) -> Result<StepOutcome> {
    if !step_is_current(tx, incident, record.step)? {
        return Ok(StepOutcome::Skipped);
    }
    for recipient in &record.recipients {
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO pages (incident_id, step, cycle, person, reason, paged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                sql_id(incident),
                record.step,
                record.cycle,
                recipient.person.as_str(),
                recipient.reason,
                to_millis(now),
            ])?;
        let theirs: Vec<&PlannedMessage> = contacts
            .iter()
            .filter(|m| m.person == recipient.person)
            .collect();
        if inserted == 1 && !theirs.is_empty() {
            crate::contacts::queue(tx, incident, tx.last_insert_rowid(), &theirs, now)?;
        }
    }
    let after = record.after(now);
    tx.prepare_cached(
        "UPDATE escalations SET status = ?2, next_step = ?3, due_at = ?4, rota = ?5,
             note = ?6, updated_at = ?7
         WHERE incident_id = ?1",
    )?
    .execute(params![
        sql_id(incident),
        after.status.as_str(),
        record.step + 1,
        to_millis(after.due_at),
        record.rota.as_ref().map(RotaId::as_str),
        after.note,
        to_millis(now),
    ])?;
    append(tx, incident, &paging_event(now, record.detail()))?;
    if after.status == EscalationStatus::Exhausted {
        append(tx, incident, &paging_event(now, after.note))?;
    }
    Ok(StepOutcome::Recorded)
}

/// Holds the first page until `until` (the next working day), saying why on the timeline.
/// `until` of `None` (a workspace with no working days) waits for a person to act.
fn defer(
    tx: &rusqlite::Connection,
    incident: IncidentId,
    until: Option<Timestamp>,
    reason: &str,
    now: Timestamp,
) -> Result<StepOutcome> {
    if !step_is_current(tx, incident, 0)? {
        return Ok(StepOutcome::Skipped);
    }
    let status: String = tx.query_row(
        "SELECT status FROM escalations WHERE incident_id = ?1",
        [sql_id(incident)],
        |row| row.get(0),
    )?;
    let after = after_deferral(until, reason, now);
    tx.prepare_cached(
        "UPDATE escalations SET status = ?2, due_at = ?3, note = ?4, updated_at = ?5
         WHERE incident_id = ?1",
    )?
    .execute(params![
        sql_id(incident),
        after.status.as_str(),
        to_millis(after.due_at),
        after.note,
        to_millis(now),
    ])?;
    // Said once on the timeline, not at every re-check.
    if status != EscalationStatus::Deferred.as_str() {
        append(tx, incident, &paging_event(now, after.note))?;
    }
    Ok(StepOutcome::Recorded)
}

/// Whether the incident is still triggered and its escalation is waiting on `step`.
fn step_is_current(tx: &rusqlite::Connection, incident: IncidentId, step: u32) -> Result<bool> {
    let row: Option<(String, i64, String)> = tx
        .query_row(
            "SELECT e.status, e.next_step, i.state FROM escalations e
             JOIN incidents i ON i.id = e.incident_id WHERE e.incident_id = ?1",
            [sql_id(incident)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(matches!(row, Some((status, next, state))
        if (status == "due" || status == "deferred") && next == i64::from(step) && state == "triggered"))
}

fn paging_event(at: Timestamp, detail: String) -> TimelineEvent {
    TimelineEvent::paging(at, detail)
}

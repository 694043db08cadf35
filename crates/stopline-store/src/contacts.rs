//! Messages to people's contacts (email, push webhooks): queued with the escalation step that
//! pages them, sent by the engine's contact worker, and remembered with what became of each.
//!
//! A message is queued `waiting` until its `hold_until` (the desktop grace): if the person's
//! desktop shows the page first, it is `not_needed`. Before it leaves, the worker marks it
//! `sending` (committed), so after a crash the message is known to have perhaps left: an email is
//! then never sent again (`unknown`), a webhook is sent again under the same idempotency key. A
//! message whose incident is acknowledged or resolved before it leaves is `cancelled`. When a
//! flood reaches the rate limit, the due messages become `summarised` into one summary row.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use stopline_core::ids::PersonId;
use stopline_core::incident::IncidentId;
use stopline_core::reach::PlannedMessage;
use stopline_core::timeline::TimelineEvent;

use crate::rows::{append, incident_id, parse_id, sql_id};
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactStatus {
    /// Queued: held for the grace, due, or waiting to be tried again.
    Waiting,
    /// Leaving now (or a crash came while it was leaving).
    Sending,
    /// Accepted by the SMTP server or the webhook.
    Sent,
    /// Refused for good, or given up after its incident's day.
    Failed,
    /// The person's desktop showed the page within the grace.
    NotNeeded,
    /// The incident was acknowledged or resolved before it was sent.
    Cancelled,
    /// Sent as part of a summary (the rate limit).
    Summarised,
    /// Stopline stopped while emailing it: perhaps delivered, never sent twice.
    Unknown,
}

impl ContactStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Waiting => "waiting",
            ContactStatus::Sending => "sending",
            ContactStatus::Sent => "sent",
            ContactStatus::Failed => "failed",
            ContactStatus::NotNeeded => "not_needed",
            ContactStatus::Cancelled => "cancelled",
            ContactStatus::Summarised => "summarised",
            ContactStatus::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "waiting" => ContactStatus::Waiting,
            "sending" => ContactStatus::Sending,
            "sent" => ContactStatus::Sent,
            "failed" => ContactStatus::Failed,
            "not_needed" => ContactStatus::NotNeeded,
            "cancelled" => ContactStatus::Cancelled,
            "summarised" => ContactStatus::Summarised,
            "unknown" => ContactStatus::Unknown,
            other => return Err(StoreError::Corrupt(format!("contact status {other:?}"))),
        })
    }
}

/// One queued message, with the page that queued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMessage {
    pub id: i64,
    /// `None` for a summary, which stands for several incidents.
    pub incident: Option<IncidentId>,
    pub page: Option<i64>,
    pub person: PersonId,
    /// The contact's key in the config (`stopline_core::reach::Contact::key`).
    pub contact: String,
    /// `email`, `ntfy`, `slack` or `json`.
    pub channel: String,
    /// Where it goes, without secrets.
    pub address: String,
    pub status: ContactStatus,
    pub created_at: Timestamp,
    pub hold_until: Timestamp,
    pub next_attempt_at: Timestamp,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// What became of it, in words: "delivered to the SMTP server".
    pub outcome: Option<String>,
    pub finished_at: Option<Timestamp>,
    /// The summary that carried it, when the rate limit held it.
    pub summary: Option<i64>,
    /// Why the person was paged (the page's reason), when it came with a page.
    pub reason: Option<String>,
}

const COLUMNS: &str = "m.id, m.incident_id, m.page_id, m.person, m.contact, m.channel, m.address,
    m.status, m.created_at, m.hold_until, m.next_attempt_at, m.attempts, m.last_error,
    m.outcome, m.finished_at, m.summary_id, p.reason";

const FROM: &str = "contact_messages m LEFT JOIN pages p ON p.id = m.page_id";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<ContactMessage>> {
    let incident: Option<i64> = row.get(1)?;
    let person: String = row.get(3)?;
    let status: String = row.get(7)?;
    let times: [i64; 3] = [row.get(8)?, row.get(9)?, row.get(10)?];
    let attempts: i64 = row.get(11)?;
    let finished: Option<i64> = row.get(14)?;
    let id: i64 = row.get(0)?;
    let page: Option<i64> = row.get(2)?;
    let contact: String = row.get(4)?;
    let channel: String = row.get(5)?;
    let address: String = row.get(6)?;
    let last_error: Option<String> = row.get(12)?;
    let outcome: Option<String> = row.get(13)?;
    let summary: Option<i64> = row.get(15)?;
    let reason: Option<String> = row.get(16)?;
    Ok((|| {
        Ok(ContactMessage {
            id,
            incident: incident.map(incident_id).transpose()?,
            page,
            person: parse_id(PersonId::new)(person)?,
            contact,
            channel,
            address,
            status: ContactStatus::parse(&status)?,
            created_at: from_millis(times[0])?,
            hold_until: from_millis(times[1])?,
            next_attempt_at: from_millis(times[2])?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            last_error,
            outcome,
            finished_at: finished.map(from_millis).transpose()?,
            summary,
            reason,
        })
    })())
}

/// Queues a page's messages to its person's contacts, in the step's transaction.
pub(crate) fn queue(
    tx: &rusqlite::Connection,
    incident: IncidentId,
    page: i64,
    planned: &[&PlannedMessage],
    now: Timestamp,
) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO contact_messages (incident_id, page_id, person, contact, channel,
             address, status, created_at, hold_until, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'waiting', ?7, ?8, ?8)",
    )?;
    for message in planned {
        insert.execute(params![
            sql_id(incident),
            page,
            message.person.as_str(),
            message.contact,
            message.channel,
            message.address,
            to_millis(now),
            to_millis(message.hold_until),
        ])?;
    }
    Ok(())
}

/// Cancels the waiting messages whose incidents are no longer triggered, and the waiting
/// summaries none of whose incidents are: they never leave.
fn cancel_settled(tx: &rusqlite::Connection, now: Timestamp) -> Result<()> {
    tx.prepare_cached(
        "UPDATE contact_messages SET status = 'cancelled', finished_at = ?1,
             outcome = 'the incident was ' || (SELECT state FROM incidents
                 WHERE id = contact_messages.incident_id) || ' before it was sent'
         WHERE status = 'waiting' AND incident_id IS NOT NULL
           AND (SELECT state FROM incidents WHERE id = contact_messages.incident_id)
               <> 'triggered'",
    )?
    .execute([to_millis(now)])?;
    tx.prepare_cached(
        "UPDATE contact_messages SET status = 'cancelled', finished_at = ?1,
             outcome = 'every incident in it was acknowledged or resolved before it was sent'
         WHERE status = 'waiting' AND incident_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM contact_messages m
                           JOIN incidents i ON i.id = m.incident_id
                           WHERE m.summary_id = contact_messages.id
                             AND i.state = 'triggered')",
    )?
    .execute([to_millis(now)])?;
    Ok(())
}

fn described(message: &ContactMessage) -> String {
    stopline_core::reach::described(message.person.as_str(), &message.channel, &message.address)
}

impl Store {
    /// Pages shown on their person's desktop: the messages still held for the grace are not
    /// needed, and the timeline says so once per page.
    pub fn contacts_not_needed(&mut self, pages: &[i64], now: Timestamp) -> Result<usize> {
        self.write(|tx| {
            let mut dropped = 0;
            for page in pages {
                let changed = tx
                    .prepare_cached(
                        "UPDATE contact_messages SET status = 'not_needed', finished_at = ?2,
                             outcome = 'their desktop showed the page within the grace'
                         WHERE page_id = ?1 AND status = 'waiting' AND attempts = 0
                           AND hold_until > ?2",
                    )?
                    .execute(params![page, to_millis(now)])?;
                if changed > 0 {
                    let (incident, person): (i64, String) = tx.query_row(
                        "SELECT incident_id, person FROM pages WHERE id = ?1",
                        [page],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )?;
                    append(
                        tx,
                        incident_id(incident)?,
                        &TimelineEvent::paging(
                            now,
                            format!(
                                "{person}'s desktop showed the page: their contacts are not paged"
                            ),
                        ),
                    )?;
                }
                dropped += changed;
            }
            Ok(dropped)
        })
    }

    /// The messages due at `now`, oldest first, at most `limit`. First, those whose incident
    /// was acknowledged or resolved meanwhile are cancelled: they never leave. With nothing
    /// due (nearly always), the write lock is not taken.
    pub fn due_contact_messages(
        &mut self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<ContactMessage>> {
        let any_due: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM contact_messages
                 WHERE status = 'waiting' AND next_attempt_at <= ?1 LIMIT 1",
            )?
            .query_row([to_millis(now)], |row| row.get(0))
            .optional()?;
        if any_due.is_none() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            cancel_settled(tx, now)?;
            tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM {FROM}
                 WHERE m.status = 'waiting' AND m.next_attempt_at <= ?1 ORDER BY m.id LIMIT ?2"
            ))?
            .query_map(
                params![to_millis(now), i64::try_from(limit).unwrap_or(i64::MAX)],
                read,
            )?
            .map(|row| row?)
            .collect()
        })
    }

    /// When messages to this person (any of their contacts) were sent since `since`, oldest
    /// first, with those leaving counted as sent at `now`: what the rate limit counts.
    pub fn contact_sent_times(
        &self,
        person: &PersonId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<Timestamp>> {
        self.conn
            .prepare_cached(
                "SELECT COALESCE(finished_at, ?3) AS at FROM contact_messages
                 WHERE person = ?1
                   AND ((status = 'sent' AND finished_at >= ?2) OR status = 'sending')
                 ORDER BY at",
            )?
            .query_map(
                params![person.as_str(), to_millis(since), to_millis(now)],
                |row| row.get::<_, i64>(0),
            )?
            .map(|at| from_millis(at?))
            .collect()
    }

    /// Marks messages as leaving (the marker a crash leaves behind), committed before anything
    /// is sent. One message: it, if still waiting and its incident still triggered (else it is
    /// cancelled). Several with `summary`: a new summary row that stands for those still
    /// waiting whose incidents are still triggered. A summary retried: it, if any incident it
    /// stands for is still triggered (else it is cancelled). Returns the id to send, or `None`
    /// when nothing is left to send.
    pub fn begin_sending(
        &mut self,
        ids: &[i64],
        summary: bool,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        self.write(|tx| {
            cancel_settled(tx, now)?;
            if !summary {
                let Some(id) = ids.first() else {
                    return Ok(None);
                };
                let changed = tx.execute(
                    "UPDATE contact_messages SET status = 'sending', sending_since = ?2
                     WHERE id = ?1 AND status = 'waiting'",
                    params![id, to_millis(now)],
                )?;
                return Ok((changed == 1).then_some(*id));
            }
            let mut waiting = Vec::new();
            for id in ids {
                let status: Option<String> = tx
                    .query_row(
                        "SELECT status FROM contact_messages WHERE id = ?1",
                        [id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if status.as_deref() == Some("waiting") {
                    waiting.push(*id);
                }
            }
            let Some(first) = waiting.first() else {
                return Ok(None);
            };
            tx.execute(
                "INSERT INTO contact_messages (person, contact, channel, address, status,
                     created_at, hold_until, next_attempt_at, sending_since)
                 SELECT person, contact, channel, address, 'sending', ?2, ?2, ?2, ?2
                 FROM contact_messages WHERE id = ?1",
                params![first, to_millis(now)],
            )?;
            let summary_id = tx.last_insert_rowid();
            for id in &waiting {
                tx.execute(
                    "UPDATE contact_messages SET status = 'summarised', summary_id = ?2,
                         finished_at = ?3,
                         outcome = 'held by the rate limit: it goes in a summary'
                     WHERE id = ?1",
                    params![id, summary_id, to_millis(now)],
                )?;
            }
            Ok(Some(summary_id))
        })
    }

    /// The window of the rate limit is full: these messages wait until `until`.
    pub fn hold_contact_messages(&mut self, ids: &[i64], until: Timestamp) -> Result<()> {
        self.write(|tx| {
            let mut hold = tx.prepare_cached(
                "UPDATE contact_messages SET next_attempt_at = max(next_attempt_at, ?2)
                 WHERE id = ?1 AND status = 'waiting'",
            )?;
            for id in ids {
                hold.execute(params![id, to_millis(until)])?;
            }
            Ok(())
        })
    }

    pub fn contact_message(&self, id: i64) -> Result<ContactMessage> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE m.id = ?1"))?
            .query_row([id], read)
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("no contact message {id}")))?
    }

    /// The messages a summary stands for, oldest first.
    pub fn summarised_in(&self, summary: i64) -> Result<Vec<ContactMessage>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE m.summary_id = ?1 ORDER BY m.id"
            ))?
            .query_map([summary], read)?
            .map(|row| row?)
            .collect()
    }

    /// The message left: what the server said, on the timeline of each incident it carried.
    pub fn contact_delivered(&mut self, id: i64, outcome: &str, now: Timestamp) -> Result<()> {
        self.finish(id, ContactStatus::Sent, outcome, now, |m| {
            format!("{}: {outcome}", described(m))
        })
    }

    /// Refused for good (or given up): said on the timeline; never tried again.
    pub fn contact_failed(&mut self, id: i64, error: &str, now: Timestamp) -> Result<()> {
        self.finish(id, ContactStatus::Failed, error, now, |m| {
            format!(
                "could not page {} by {} ({}): {error}",
                m.person, m.channel, m.address
            )
        })
    }

    fn finish(
        &mut self,
        id: i64,
        status: ContactStatus,
        outcome: &str,
        now: Timestamp,
        say: impl Fn(&ContactMessage) -> String,
    ) -> Result<()> {
        let message = self.contact_message(id)?;
        let carried = match message.incident {
            Some(incident) => vec![incident],
            None => self
                .summarised_in(id)?
                .iter()
                .filter_map(|m| m.incident)
                .collect(),
        };
        self.write(|tx| {
            // Only a message still leaving: an outcome recorded twice says nothing twice.
            let changed = tx.execute(
                "UPDATE contact_messages SET status = ?2, attempts = attempts + 1,
                     finished_at = ?3, outcome = ?4, sending_since = NULL,
                     last_error = CASE WHEN ?2 = 'failed' THEN ?4 ELSE last_error END
                 WHERE id = ?1 AND status = 'sending'",
                params![id, status.as_str(), to_millis(now), outcome],
            )?;
            if changed == 0 {
                return Ok(());
            }
            let mut said = std::collections::BTreeSet::new();
            for incident in carried {
                if said.insert(incident) {
                    append(tx, incident, &TimelineEvent::paging(now, say(&message)))?;
                }
            }
            Ok(())
        })
    }

    /// Not sent this time: tried again at `retry_at`.
    pub fn contact_retry(&mut self, id: i64, error: &str, retry_at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE contact_messages SET status = 'waiting', attempts = attempts + 1,
                     last_error = ?2, next_attempt_at = ?3, sending_since = NULL
                 WHERE id = ?1 AND status = 'sending'",
                params![id, error, to_millis(retry_at)],
            )?;
            Ok(())
        })
    }

    /// After a restart: messages a crash caught leaving. An email may have arrived and is
    /// never sent twice (`unknown`, said on the timeline); a webhook goes again under the same
    /// idempotency key, which its receiver uses to drop a repeat. Returns how many of each.
    ///
    /// `stale_before`: only messages marked before it (at a restart: now; while running: what
    /// no send could still be working on).
    pub fn recover_interrupted_contacts(
        &mut self,
        stale_before: Timestamp,
        now: Timestamp,
    ) -> Result<(usize, usize)> {
        let interrupted: Vec<ContactMessage> = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM {FROM}
                 WHERE m.status = 'sending' AND COALESCE(m.sending_since, 0) <= ?1 ORDER BY m.id"
            ))?
            .query_map([to_millis(stale_before)], read)?
            .map(|row| row?)
            .collect::<Result<_>>()?;
        let (mut unknown, mut again) = (0, 0);
        for message in interrupted {
            if message.channel == "email" {
                self.finish(
                    message.id,
                    ContactStatus::Unknown,
                    "Stopline stopped while sending it: it may have arrived, and is not sent twice",
                    now,
                    |m| {
                        format!(
                            "{}: Stopline stopped while sending; it may have arrived, and is not sent twice",
                            described(m)
                        )
                    },
                )?;
                unknown += 1;
            } else {
                self.write(|tx| {
                    tx.execute(
                        "UPDATE contact_messages SET status = 'waiting', next_attempt_at = ?2,
                             sending_since = NULL
                         WHERE id = ?1 AND status = 'sending'",
                        params![message.id, to_millis(now)],
                    )?;
                    Ok(())
                })?;
                again += 1;
            }
        }
        Ok((unknown, again))
    }

    /// An incident's messages, oldest first.
    pub fn contact_messages_of(&self, incident: IncidentId) -> Result<Vec<ContactMessage>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE m.incident_id = ?1 ORDER BY m.id"
            ))?
            .query_map([sql_id(incident)], read)?
            .map(|row| row?)
            .collect()
    }

    /// When the acknowledge link of this message was used, if it was.
    pub fn ack_link_used(&self, message: i64) -> Result<Option<Timestamp>> {
        let used: Option<i64> = self
            .conn
            .query_row(
                "SELECT used_at FROM ack_links_used WHERE message_id = ?1",
                [message],
                |row| row.get(0),
            )
            .optional()?;
        used.map(from_millis).transpose()
    }

    /// Remembers that this message's link was used (it works once), and says on the timeline
    /// where the acknowledgement came from.
    pub fn mark_ack_link_used(
        &mut self,
        message: i64,
        incident: IncidentId,
        person: &PersonId,
        now: Timestamp,
    ) -> Result<()> {
        let sent = self.contact_message(message)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO ack_links_used (message_id, incident_id, person, used_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![message, sql_id(incident), person.as_str(), to_millis(now)],
            )?;
            append(
                tx,
                incident,
                &TimelineEvent::paging(
                    now,
                    format!(
                        "{person} acknowledged from the link in the page sent by {} ({})",
                        sent.channel, sent.address
                    ),
                ),
            )?;
            Ok(())
        })
    }
}

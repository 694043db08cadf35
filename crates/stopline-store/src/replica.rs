//! A desktop joined to a hub: its store is a replica of the organisation's incidents plus the
//! queue of its person's own actions (docs/hub-protocol.md, docs/team.md).
//!
//! An action is applied here at once, by the same code as on a desktop of its own, and queued
//! in the same transaction as a **mutation** (`hub_mutations`), pending until the hub decides
//! it. What the action wrote to the timeline and the roles carries the mutation's id. A pull
//! then lays the hub's rows over the replica: each row is the hub's whole current state, keyed
//! by the hub's ids; the timeline entries and role holdings of mutations the hub has decided
//! give way to the hub's own (which include them when applied, and say why when refused).
//! Still-pending actions keep their local effects until their turn.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::Value;
use stopline_core::incident::{Incident, IncidentId};

use crate::hub_overrides;
use crate::provisional::{self, OpenedBy};
use crate::rows::{record_severity, sql_id};
use crate::{Result, Store, StoreError, from_millis, to_millis};

/// An action waiting in the queue, as it is pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedMutation {
    pub id: i64,
    pub name: String,
    pub args: Value,
    pub at: Timestamp,
}

/// One of the person's actions with what the hub said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAction {
    pub id: i64,
    pub name: String,
    pub incident: Option<IncidentId>,
    pub at: Timestamp,
    pub status: ActionStatus,
    /// The hub's reason, for a refusal.
    pub reason: Option<String>,
}

/// Where an action stands with the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Applied here, not yet decided by the hub.
    Pending,
    Applied,
    Refused,
}

impl ActionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Pending => "pending",
            ActionStatus::Applied => "applied",
            ActionStatus::Refused => "refused",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(ActionStatus::Pending),
            "applied" => Some(ActionStatus::Applied),
            "refused" => Some(ActionStatus::Refused),
            _ => None,
        }
    }
}

/// Where the timeline and the roles ended before an action, so what it adds can be marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaMark {
    pub(crate) timeline: i64,
    pub(crate) roles: i64,
    pub(crate) overrides: i64,
}

/// What the hub decided of one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Outcome {
    pub id: i64,
    pub outcome: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// A pull as the hub answers it (`POST /v1/pull`).
#[derive(Debug, Clone, Deserialize)]
pub struct Pull {
    pub cookie: String,
    pub reset: bool,
    pub last_mutation_id: i64,
    #[serde(default)]
    pub outcomes: Vec<Outcome>,
    #[serde(default)]
    pub incidents: Vec<PulledIncident>,
    #[serde(default)]
    pub timeline: Vec<PulledEntry>,
    #[serde(default)]
    pub checklist: Vec<PulledStep>,
    #[serde(default)]
    pub roles: Vec<PulledRole>,
    #[serde(default)]
    pub alerts: Vec<PulledAlert>,
    #[serde(default)]
    pub escalations: Vec<PulledEscalation>,
    #[serde(default)]
    pub pages: Vec<PulledPage>,
    #[serde(default)]
    pub overrides: Vec<PulledOverride>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledIncident {
    #[serde(flatten)]
    pub incident: Incident,
    pub severity_reason: Option<String>,
    pub loss_override: Option<i64>,
    #[serde(default)]
    pub opened_by_mutation: Option<OpenedBy>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledEntry {
    pub id: i64,
    pub incident: IncidentId,
    pub at: Timestamp,
    pub who: Option<String>,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledStep {
    pub incident: IncidentId,
    pub position: i64,
    pub step: String,
    pub title: String,
    pub required: bool,
    pub runbook: Option<String>,
    pub state: String,
    pub assignee: Option<String>,
    pub reason: Option<String>,
    pub changed_by: Option<String>,
    pub changed_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledRole {
    pub id: i64,
    pub incident: IncidentId,
    pub role: String,
    pub person: String,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    pub named_by: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledAlert {
    pub id: i64,
    pub source: String,
    pub fingerprint: String,
    pub labels: Value,
    pub annotations: Value,
    pub state: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub incident: Option<IncidentId>,
    pub application: Option<String>,
    pub team: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PulledEscalation {
    pub incident: IncidentId,
    pub status: String,
    pub next_step: i64,
    pub due_at: Timestamp,
    pub note: String,
}

pub use crate::hub_overrides::PulledOverride;

#[derive(Debug, Clone, Deserialize)]
pub struct PulledPage {
    pub id: i64,
    pub incident: IncidentId,
    pub step: i64,
    pub cycle: i64,
    pub person: String,
    pub reason: String,
    pub paged_at: Timestamp,
    #[serde(default)]
    pub shown_on: Vec<String>,
}

/// What applying a pull changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rows laid over the replica (incidents, entries, steps, roles, alerts, escalations, pages).
    pub rows: usize,
    /// This desktop's actions the hub refused in this pull, with its reasons.
    pub refused: Vec<HubAction>,
    /// Pages for the person not yet shown here.
    pub new_pages: usize,
}

/// How many of the person's actions wait for the hub, and the oldest's time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueState {
    pub waiting: u64,
    pub oldest: Option<Timestamp>,
}

impl Store {
    /// Where the timeline and roles end now: taken before an action that will be queued.
    pub fn replica_mark(&self) -> Result<ReplicaMark> {
        let max = |table: &str| -> Result<i64> {
            Ok(self.conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) FROM {table}"),
                [],
                |r| r.get(0),
            )?)
        };
        Ok(ReplicaMark {
            timeline: max("timeline")?,
            roles: max("roles")?,
            overrides: max("hub_overrides")?,
        })
    }

    /// Queues an action the person took here (already applied, in the same transaction), and
    /// marks what it wrote since `mark` as its own. Answers the mutation's id.
    pub fn queue_mutation(
        &mut self,
        name: &str,
        args: &Value,
        incident: Option<IncidentId>,
        at: Timestamp,
        mark: ReplicaMark,
    ) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO hub_mutations (name, args, at, incident_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                name,
                args.to_string(),
                to_millis(at),
                incident.map(sql_id)
            ])?;
        let id = self.conn.last_insert_rowid();
        self.conn.execute(
            "UPDATE timeline SET mutation_id = ?1 WHERE id > ?2 AND hub_id IS NULL",
            params![id, mark.timeline],
        )?;
        self.conn.execute(
            "UPDATE roles SET mutation_id = ?1 WHERE id > ?2 AND hub_id IS NULL",
            params![id, mark.roles],
        )?;
        self.conn.execute(
            "UPDATE hub_overrides SET mutation_id = ?1 WHERE id > ?2 AND hub_id IS NULL",
            params![id, mark.overrides],
        )?;
        Ok(id)
    }

    /// The oldest `limit` actions not yet decided by the hub, in the order they were taken.
    pub fn pending_mutations(&self, limit: usize) -> Result<Vec<QueuedMutation>> {
        let mut statement = self.conn.prepare_cached(
            // In order, up to the first about a provisional incident: it waits until the
            // incident merges into the hub's (its arguments then name the hub's). The actions
            // that make a provisional incident (`OPEN_INCIDENT`, `ASSIGN_ALERT`) go.
            "SELECT id, name, args, at FROM hub_mutations WHERE status = 'pending'
                 AND id < COALESCE((SELECT MIN(m.id) FROM hub_mutations m
                                    JOIN incidents i ON i.id = m.incident_id
                                    WHERE m.status = 'pending' AND i.provisional = 1
                                        AND m.name NOT IN ('open_incident', 'assign_alert')),
                                   9223372036854775807)
             ORDER BY id LIMIT ?1",
        )?;
        let rows = statement.query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut queued = Vec::new();
        for row in rows {
            let (id, name, args, at) = row?;
            queued.push(QueuedMutation {
                id,
                name,
                args: serde_json::from_str(&args)
                    .map_err(|e| StoreError::Corrupt(format!("mutation {id}'s arguments: {e}")))?,
                at: from_millis(at)?,
            });
        }
        Ok(queued)
    }

    /// How many actions wait for the hub.
    pub fn queue_state(&self) -> Result<QueueState> {
        let (waiting, oldest): (i64, Option<i64>) = self.conn.query_row(
            "SELECT COUNT(*), MIN(at) FROM hub_mutations WHERE status = 'pending'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(QueueState {
            waiting: u64::try_from(waiting).unwrap_or(0),
            oldest: oldest.map(from_millis).transpose()?,
        })
    }

    /// The person's actions on one incident (or, with `None`, the latest `limit` on any), newest
    /// first.
    pub fn hub_actions(
        &self,
        incident: Option<IncidentId>,
        limit: usize,
    ) -> Result<Vec<HubAction>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = "SELECT id, name, incident_id, at, status, reason FROM hub_mutations
                   WHERE (?1 IS NULL OR incident_id = ?1) ORDER BY id DESC LIMIT ?2";
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params![incident.map(sql_id), limit], read_action)?;
        rows.map(|r| r?).collect()
    }

    /// Records what the hub decided, for the mutations still pending; answers the refusals.
    pub fn record_outcomes(
        &mut self,
        outcomes: &[Outcome],
        now: Timestamp,
    ) -> Result<Vec<HubAction>> {
        self.write(|tx| record_outcomes(tx, outcomes, now))
    }

    /// Lays a pull over the replica, in one transaction: what the hub decided, then every row
    /// it sent. `desktop` is this desktop's id (a page shown here is delivered).
    pub fn apply_pull(&mut self, pull: &Pull, desktop: &str, now: Timestamp) -> Result<Applied> {
        self.write(|tx| apply_pull(tx, pull, desktop, now))
    }

    /// Queues the hub's receipt (`page_shown`) for each of these pages (local ids) that came
    /// from the hub; answers how many were queued.
    pub fn queue_page_receipts(&mut self, pages: &[i64], now: Timestamp) -> Result<usize> {
        self.write(|tx| {
            let ids = hub_page_ids(tx, pages)?;
            for id in &ids {
                tx.execute(
                    "INSERT INTO hub_mutations (name, args, at) VALUES ('page_shown', ?1, ?2)",
                    params![serde_json::json!({"page": id}).to_string(), to_millis(now)],
                )?;
            }
            Ok(ids.len())
        })
    }

    /// Refuses, here, the person's waiting actions on provisional incidents taken before
    /// `before` that the hub never took over (it never received their alerts): they would
    /// otherwise hold the queue up for ever. Answers the actions refused.
    pub fn refuse_stranded(&mut self, before: Timestamp, now: Timestamp) -> Result<Vec<HubAction>> {
        self.write(|tx| {
            let reason = "the hub never received this incident's alerts (it was opened on this desktop while the hub was away): kept here only";
            let mut statement = tx.prepare(
                "SELECT m.id FROM hub_mutations m JOIN incidents i ON i.id = m.incident_id
                 WHERE m.status = 'pending' AND i.provisional = 1 AND m.at < ?1",
            )?;
            let ids: Vec<i64> = statement
                .query_map(params![to_millis(before)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let outcomes: Vec<Outcome> = ids
                .into_iter()
                .map(|id| Outcome {
                    id,
                    outcome: "refused".to_owned(),
                    reason: Some(reason.to_owned()),
                })
                .collect();
            record_outcomes(tx, &outcomes, now)
        })
    }

    /// The cookie of the last pull applied; `None` before the first.
    pub fn hub_cookie(&self) -> Result<Option<String>> {
        self.desktop_setting(HUB_COOKIE_KEY)
    }
}

fn apply_pull(tx: &Connection, pull: &Pull, desktop: &str, now: Timestamp) -> Result<Applied> {
    let mut applied = Applied {
        refused: record_outcomes(tx, &pull.outcomes, now)?,
        ..Applied::default()
    };
    // Whatever the hub has of this desktop's queue is decided: the hub's rows replace
    // what those actions wrote here.
    tx.execute(
        "UPDATE hub_mutations SET status = 'applied', decided_at = ?2
             WHERE status = 'pending' AND id <= ?1",
        params![pull.last_mutation_id, to_millis(now)],
    )?;
    // (A provisional incident keeps what this desktop wrote of it until it merges.)
    for table in ["timeline", "roles"] {
        tx.execute(
            &format!(
                "DELETE FROM {table} WHERE hub_id IS NULL AND mutation_id <= ?1
                 AND incident_id NOT IN (SELECT id FROM incidents WHERE provisional = 1)"
            ),
            params![pull.last_mutation_id],
        )?;
    }
    hub_overrides::apply(tx, &pull.overrides, pull.last_mutation_id, pull.reset)?;
    if pull.reset {
        clear_replica(tx, pull)?;
    }
    for pulled in &pull.incidents {
        upsert_incident(tx, pulled)?;
    }
    // Rows of incidents the replica does not hold (resolved before its window, see the hub's
    // full pull) are left out: a note on an old incident changes nothing here.
    for entry in pull.timeline.iter().filter(|e| held(tx, e.incident)) {
        tx.prepare_cached(
            "INSERT INTO timeline (incident_id, at, who, kind, detail, hub_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            sql_id(entry.incident),
            to_millis(entry.at),
            entry.who,
            entry.kind,
            entry.detail,
            entry.id
        ])?;
    }
    for step in pull.checklist.iter().filter(|s| held(tx, s.incident)) {
        upsert_step(tx, step)?;
    }
    for role in pull.roles.iter().filter(|r| held(tx, r.incident)) {
        upsert_role(tx, role)?;
    }
    let merges = merges(tx, &pull.alerts)?;
    for alert in pull
        .alerts
        .iter()
        .filter(|a| a.incident.is_none_or(|i| held(tx, i)))
    {
        upsert_alert(tx, alert)?;
    }
    let opened = pull.incidents.iter().filter_map(|p| {
        let by = p.opened_by_mutation.clone()?;
        Some((p.incident.id, by))
    });
    let opened_here = provisional::opened_here(tx, opened, desktop)?;
    for (copy, hub) in merges.into_iter().chain(opened_here) {
        provisional::fold(tx, copy, hub)?;
    }
    for escalation in pull.escalations.iter().filter(|e| held(tx, e.incident)) {
        tx.prepare_cached(
            "INSERT INTO escalations (incident_id, status, next_step, due_at, note, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (incident_id) DO UPDATE SET status = excluded.status,
                     next_step = excluded.next_step, due_at = excluded.due_at,
                     note = excluded.note, updated_at = excluded.updated_at",
        )?
        .execute(params![
            sql_id(escalation.incident),
            escalation.status,
            escalation.next_step,
            to_millis(escalation.due_at),
            escalation.note,
            to_millis(now)
        ])?;
    }
    for page in pull.pages.iter().filter(|p| held(tx, p.incident)) {
        applied.new_pages += upsert_page(tx, page, desktop, now)?;
    }
    applied.rows = pull.incidents.len()
        + pull.timeline.len()
        + pull.checklist.len()
        + pull.roles.len()
        + pull.alerts.len()
        + pull.escalations.len()
        + pull.pages.len();
    tx.execute(
        "INSERT INTO desktop (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![HUB_COOKIE_KEY, pull.cookie],
    )?;
    Ok(applied)
}

/// The `mutation_id` of what a desktop wrote while its hub was away (`crate::degraded`).
pub(crate) const WRITTEN_WHILE_AWAY: i64 = 0;

/// The desktop setting holding the last pull's cookie.
pub const HUB_COOKIE_KEY: &str = "hub.cookie";

/// Whether the replica holds incident `id`.
fn held(tx: &Connection, id: IncidentId) -> bool {
    tx.prepare_cached("SELECT 1 FROM incidents WHERE id = ?1")
        .and_then(|mut s| s.exists(params![sql_id(id)]))
        .unwrap_or(false)
}

fn read_action(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<HubAction>> {
    let id: i64 = r.get(0)?;
    let incident: Option<i64> = r.get(2)?;
    let at: i64 = r.get(3)?;
    let status: String = r.get(4)?;
    Ok((|| {
        Ok(HubAction {
            id,
            name: r.get(1)?,
            incident: incident
                .map(|i| u64::try_from(i).map(IncidentId))
                .transpose()
                .map_err(|_| StoreError::Corrupt(format!("mutation {id}'s incident")))?,
            at: from_millis(at)?,
            status: ActionStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("mutation {id}'s status {status:?}")))?,
            reason: r.get(5)?,
        })
    })())
}

fn record_outcomes(
    tx: &Connection,
    outcomes: &[Outcome],
    now: Timestamp,
) -> Result<Vec<HubAction>> {
    let mut refused = Vec::new();
    for outcome in outcomes {
        let status = if outcome.outcome == "refused" {
            "refused"
        } else {
            "applied"
        };
        let changed = tx
            .prepare_cached(
                "UPDATE hub_mutations SET status = ?2, reason = ?3, decided_at = ?4
                 WHERE id = ?1 AND status = 'pending'",
            )?
            .execute(params![outcome.id, status, outcome.reason, to_millis(now)])?;
        if changed > 0 && status == "refused" {
            let action = tx
                .prepare_cached(
                    "SELECT id, name, incident_id, at, status, reason FROM hub_mutations
                     WHERE id = ?1",
                )?
                .query_row(params![outcome.id], read_action)?;
            refused.push(action?);
        }
    }
    if !refused.is_empty() {
        // Actions waiting on an incident whose opening the hub refused would wait for ever.
        let orphans: Vec<Outcome> = provisional::waiting_on_refused_open(tx)?
            .into_iter()
            .map(|(id, reason)| Outcome {
                id,
                outcome: "refused".to_owned(),
                reason: Some(reason),
            })
            .collect();
        if !orphans.is_empty() {
            refused.extend(record_outcomes(tx, &orphans, now)?);
        }
    }
    Ok(refused)
}

/// Before a full resync: everything the hub sent before goes, and what this desktop wrote while
/// the hub was away, except the effects of actions still pending, provisional incidents, and
/// pages (which remember what this desktop showed its person).
fn clear_replica(tx: &Connection, pull: &Pull) -> Result<()> {
    const HUBS: &str = "(SELECT id FROM incidents WHERE provisional = 0)";
    tx.execute_batch(&format!(
        "DELETE FROM escalations WHERE incident_id IN {HUBS};
         DELETE FROM checklist_steps WHERE incident_id IN {HUBS};
         DELETE FROM silences WHERE incident_id IN {HUBS};
         DELETE FROM outbox WHERE incident_id IN {HUBS};
         DELETE FROM contact_messages WHERE incident_id IN {HUBS};
         DELETE FROM timeline WHERE hub_id IS NOT NULL
             OR (mutation_id = {away} AND incident_id IN {HUBS});
         DELETE FROM roles WHERE hub_id IS NOT NULL
             OR (mutation_id = {away} AND incident_id IN {HUBS});
         DELETE FROM alerts WHERE incident_id IS NULL OR incident_id IN {HUBS};
         DELETE FROM severity_history WHERE incident_id IN {HUBS};",
        away = WRITTEN_WHILE_AWAY,
    ))?;
    let kept: Vec<i64> = pull
        .incidents
        .iter()
        .map(|p| sql_id(p.incident.id))
        .collect();
    let mut statement = tx.prepare(
        "SELECT id FROM incidents i WHERE provisional = 0
             AND NOT EXISTS (SELECT 1 FROM timeline WHERE incident_id = i.id)
             AND NOT EXISTS (SELECT 1 FROM roles WHERE incident_id = i.id)
             AND NOT EXISTS (SELECT 1 FROM pages WHERE incident_id = i.id)",
    )?;
    let unused: Vec<i64> = statement
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in unused.into_iter().filter(|id| !kept.contains(id)) {
        tx.execute("DELETE FROM incidents WHERE id = ?1", params![id])?;
    }
    Ok(())
}

/// Which provisional incidents the pulled alerts take over: (provisional, hub's), by the
/// alerts' (source, fingerprint).
fn merges(tx: &Connection, alerts: &[PulledAlert]) -> Result<Vec<(i64, i64)>> {
    let mut merges = Vec::new();
    for alert in alerts {
        let Some(hub) = alert.incident else { continue };
        let provisional: Option<i64> = tx
            .prepare_cached(
                "SELECT a.incident_id FROM alerts a JOIN incidents i ON i.id = a.incident_id
                 WHERE a.source = ?1 AND a.fingerprint = ?2 AND i.provisional = 1",
            )?
            .query_row(params![alert.source, alert.fingerprint], |r| r.get(0))
            .optional()?;
        if let Some(provisional) = provisional
            && !merges.iter().any(|(p, _)| *p == provisional)
        {
            merges.push((provisional, sql_id(hub)));
        }
    }
    Ok(merges)
}

fn upsert_incident(tx: &Connection, pulled: &PulledIncident) -> Result<()> {
    let incident = &pulled.incident;
    let id = sql_id(incident.id);
    let before: Option<String> = tx
        .query_row(
            "SELECT severity FROM incidents WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let stamp = |s: &Option<stopline_core::incident::Stamp>| {
        (
            s.as_ref().map(|s| to_millis(s.at)),
            s.as_ref()
                .and_then(|s| s.by.as_ref())
                .map(|p| p.as_str().to_owned()),
        )
    };
    let (acknowledged_at, acknowledged_by) = stamp(&incident.acknowledged);
    let (resolved_at, resolved_by) = stamp(&incident.resolved);
    tx.prepare_cached(
        "INSERT INTO incidents (id, application_id, team_id, title, severity, state, opened_at,
             opened_by, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
             severity_reason, loss_override)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET application_id = excluded.application_id,
             team_id = excluded.team_id, title = excluded.title, severity = excluded.severity,
             state = excluded.state, opened_at = excluded.opened_at,
             opened_by = excluded.opened_by, acknowledged_at = excluded.acknowledged_at,
             acknowledged_by = excluded.acknowledged_by, resolved_at = excluded.resolved_at,
             resolved_by = excluded.resolved_by, severity_reason = excluded.severity_reason,
             loss_override = excluded.loss_override",
    )?
    .execute(params![
        id,
        incident.application.as_ref().map(|a| a.as_str()),
        incident.team.as_ref().map(|t| t.as_str()),
        incident.title,
        incident.severity.as_str(),
        incident.state.as_str(),
        to_millis(incident.opened_at),
        incident.opened_by.as_ref().map(|p| p.as_str()),
        acknowledged_at,
        acknowledged_by,
        resolved_at,
        resolved_by,
        pulled.severity_reason,
        pulled.loss_override,
    ])?;
    match before {
        None => record_severity(tx, incident.id, incident.severity, incident.opened_at)?,
        Some(was) if was != incident.severity.as_str() => {
            let since = incident
                .acknowledged
                .as_ref()
                .map_or(incident.opened_at, |s| s.at);
            record_severity(tx, incident.id, incident.severity, since)?;
        }
        Some(_) => {}
    }
    Ok(())
}

fn upsert_step(tx: &Connection, step: &PulledStep) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO checklist_steps (incident_id, position, step, title, required, runbook,
             state, assignee, reason, changed_at, changed_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (incident_id, step) DO UPDATE SET position = excluded.position,
             title = excluded.title, required = excluded.required, runbook = excluded.runbook,
             state = excluded.state, assignee = excluded.assignee, reason = excluded.reason,
             changed_at = excluded.changed_at, changed_by = excluded.changed_by",
    )?
    .execute(params![
        sql_id(step.incident),
        step.position,
        step.step,
        step.title,
        i64::from(step.required),
        step.runbook,
        step.state,
        step.assignee,
        step.reason,
        step.changed_at.map(to_millis),
        step.changed_by,
    ])?;
    Ok(())
}

fn upsert_role(tx: &Connection, role: &PulledRole) -> Result<()> {
    let incident = sql_id(role.incident);
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM roles WHERE hub_id = ?1",
            params![role.id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        tx.execute(
            "UPDATE roles SET until = ?2, named_by = ?3 WHERE id = ?1",
            params![id, role.until.map(to_millis), role.named_by],
        )?;
        return Ok(());
    }
    if role.until.is_none() {
        // The hub's holding takes the place of a pending one here that would be a second.
        tx.execute(
            "DELETE FROM roles WHERE hub_id IS NULL AND incident_id = ?1 AND until IS NULL
                 AND ((role = ?2 AND role <> 'responder')
                      OR (role = 'responder' AND ?2 = 'responder' AND person = ?3))",
            params![incident, role.role, role.person],
        )?;
    }
    tx.prepare_cached(
        "INSERT INTO roles (incident_id, role, person, since, until, named_by, hub_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        incident,
        role.role,
        role.person,
        to_millis(role.since),
        role.until.map(to_millis),
        role.named_by,
        role.id,
    ])?;
    Ok(())
}

fn upsert_alert(tx: &Connection, alert: &PulledAlert) -> Result<()> {
    let ends = alert.ends_at.map(to_millis);
    let seen = to_millis(alert.ends_at.unwrap_or(alert.starts_at));
    // Keyed by (source, fingerprint): the replica numbers its alerts itself, so one this
    // desktop took while the hub was away never collides with the hub's numbering.
    tx.prepare_cached(
        "INSERT INTO alerts (source, fingerprint, labels, annotations, state, starts_at,
             ends_at, first_seen, last_seen, incident_id, application_id, team_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?8, ?9, ?10, ?11)
         ON CONFLICT (source, fingerprint) DO UPDATE SET labels = excluded.labels,
             annotations = excluded.annotations, state = excluded.state,
             starts_at = excluded.starts_at, ends_at = excluded.ends_at,
             last_seen = MAX(last_seen, excluded.last_seen),
             incident_id = excluded.incident_id, application_id = excluded.application_id,
             team_id = excluded.team_id, revision = revision + 1",
    )?
    .execute(params![
        alert.source,
        alert.fingerprint,
        alert.labels.to_string(),
        alert.annotations.to_string(),
        alert.state,
        to_millis(alert.starts_at),
        ends,
        seen,
        alert.incident.map(sql_id),
        alert.application,
        alert.team,
    ])?;
    Ok(())
}

/// Answers 1 when the page is new here and not yet shown on this desktop. A page this
/// desktop already showed its person for the same incident and step (paging on its own while
/// the hub was away) counts as shown: it is receipted, not shown twice.
fn upsert_page(tx: &Connection, page: &PulledPage, desktop: &str, now: Timestamp) -> Result<usize> {
    let shown_here = page.shown_on.iter().any(|d| d == desktop);
    let known: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT id, delivered_at FROM pages WHERE hub_id = ?1",
            params![page.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, delivered)) = known {
        if delivered.is_none() && shown_here {
            tx.execute(
                "UPDATE pages SET delivered_at = ?2 WHERE id = ?1",
                params![id, to_millis(page.paged_at)],
            )?;
        }
        return Ok(0);
    }
    let incident = sql_id(page.incident);
    let local: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT id, delivered_at FROM pages
             WHERE incident_id = ?1 AND step = ?2 AND person = ?3 AND hub_id IS NULL",
            params![incident, page.step, page.person],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((id, delivered)) = local {
        // This desktop's own page for the step becomes the hub's.
        tx.execute(
            "UPDATE pages SET hub_id = ?2 WHERE id = ?1",
            params![id, page.id],
        )?;
        if delivered.is_some() && !shown_here {
            tx.execute(
                "INSERT INTO hub_mutations (name, args, at) VALUES ('page_shown', ?1, ?2)",
                params![
                    serde_json::json!({"page": page.id}).to_string(),
                    to_millis(now)
                ],
            )?;
        }
        return Ok(0);
    }
    tx.prepare_cached(
        "INSERT INTO pages (incident_id, step, cycle, person, reason, paged_at, delivered_at,
             hub_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO NOTHING",
    )?
    .execute(params![
        incident,
        page.step,
        page.cycle,
        page.person,
        page.reason,
        to_millis(page.paged_at),
        shown_here.then(|| to_millis(page.paged_at)),
        page.id,
    ])?;
    Ok(usize::from(!shown_here))
}

/// The hub's ids of pages with these local ids (pages this desktop made itself have none).
pub(crate) fn hub_page_ids(tx: &Connection, pages: &[i64]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for page in pages {
        let hub: Option<Option<i64>> = tx
            .query_row(
                "SELECT hub_id FROM pages WHERE id = ?1",
                params![page],
                |r| r.get(0),
            )
            .optional()?;
        ids.extend(hub.flatten());
    }
    Ok(ids)
}

//! A pull from a desktop: every change after its cookie, in commit order (docs/hub-protocol.md).
//!
//! Every write transaction bumps the organisation's version first and stamps its rows with
//! it; the version row's lock puts writers one after another, so versions follow commit order
//! and a snapshot that sees version N sees every write up to N and none after. A pull reads in
//! one such snapshot (`REPEATABLE READ`) the rows stamped after the desktop's cookie, and
//! answers a cookie for N. A cookie from another database (a restore, another organisation)
//! or from ahead of this one is not an error: the answer is a full resync, flagged `reset`.

use std::time::SystemTime;

use futures_util::TryFutureExt;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use stopline_core::ids::PersonId;
use stopline_core::incident::{Incident, IncidentId};
use tokio_postgres::{IsolationLevel, Row, Transaction};

use crate::Result;
use crate::database::Database;
use crate::error::HubError;
use crate::push::last_mutation_of;
use crate::rows::{INCIDENT_COLUMNS, corrupt, from_time, read_incident};

/// Where a desktop's replica stands: this database's id, the version it has pulled to, and
/// when the hub made the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub org_id: String,
    pub version: i64,
    /// Seconds since the epoch by the hub's clock; `None` in a cookie of an older hub (which
    /// then expires).
    pub issued: Option<i64>,
}

/// How long a cookie lasts: a desktop that has not pulled for longer (away for a night, a
/// laptop shut) gets the replica's worth again, so what left the 30-day window leaves its
/// replica and it starts from the hub's state rather than from everything that happened
/// meanwhile.
pub const COOKIE_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(6);

impl Cookie {
    /// Reads `ORG_ID:VERSION:ISSUED` (or an older hub's `ORG_ID:VERSION`); `None` when it is
    /// not one (the caller answers 400 naming it).
    pub fn parse(text: &str) -> Option<Cookie> {
        let mut parts = text.rsplitn(3, ':');
        let last = parts.next()?;
        let middle = parts.next()?;
        let (org_id, version, issued) = match parts.next() {
            Some(org_id) => (org_id, middle, Some(last.parse::<i64>().ok()?)),
            None => (middle, last, None),
        };
        let version: i64 = version.parse().ok()?;
        (!org_id.is_empty() && version >= 0).then(|| Cookie {
            org_id: org_id.to_owned(),
            version,
            issued,
        })
    }

    /// Whether this cookie still stands against `head` (the database's, made now): the same
    /// history, not ahead of it, and younger than [`COOKIE_LIFETIME`].
    fn stands_against(&self, head: &Cookie) -> bool {
        let young = match (self.issued, head.issued) {
            (Some(issued), Some(now)) => now - issued <= COOKIE_LIFETIME.as_secs(),
            _ => false,
        };
        self.org_id == head.org_id && self.version <= head.version && young
    }
}

impl std::fmt::Display for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.issued {
            Some(issued) => write!(f, "{}:{}:{issued}", self.org_id, self.version),
            None => write!(f, "{}:{}", self.org_id, self.version),
        }
    }
}

/// An incident as a pull carries it: the domain's fields and what the hub keeps beside them.
#[derive(Debug, Clone, Serialize)]
pub struct PulledIncident {
    #[serde(flatten)]
    pub incident: Incident,
    /// Why a person set the severity, when one did.
    pub severity_reason: Option<String>,
    /// A person's estimate of the loss, when one gave it.
    pub loss_override: Option<i64>,
    /// The desktop's mutation that opened it by hand (`open_incident`), for that desktop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_by_mutation: Option<OpenedBy>,
}

/// Which desktop's mutation opened an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenedBy {
    pub desktop: String,
    pub mutation: i64,
}

/// An alert as a pull carries it. Its labels and annotations go out as they are stored (JSON
/// objects), not parsed and written again: a full pull may carry tens of thousands.
#[derive(Debug, Clone, Serialize)]
pub struct PulledAlert {
    pub id: i64,
    pub source: String,
    pub fingerprint: String,
    pub labels: Box<RawValue>,
    pub annotations: Box<RawValue>,
    pub state: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub incident: Option<String>,
    pub application: Option<String>,
    pub team: Option<String>,
}

/// Everything that changed after a cookie, for one desktop.
#[derive(Debug, Clone, Serialize)]
pub struct Pulled {
    pub cookie: String,
    /// The cookie was not this database's, or from ahead of it: this is everything, and the
    /// desktop replaces its replica with it.
    pub reset: bool,
    pub last_mutation_id: u64,
    /// The outcomes of this desktop's mutations recorded since the cookie.
    pub outcomes: Vec<Value>,
    pub incidents: Vec<PulledIncident>,
    pub timeline: Vec<Value>,
    pub checklist: Vec<Value>,
    pub roles: Vec<Value>,
    pub alerts: Vec<PulledAlert>,
    pub escalations: Vec<Value>,
    /// Pages addressed to the pulling person, with the desktops that showed each.
    pub pages: Vec<Value>,
    /// Overrides pushed to the hub (the config's own are in the config).
    pub overrides: Vec<Value>,
}

impl Database {
    /// What `desktop` (of `person`) has not seen since `cookie` (`None`: everything).
    ///
    /// Every read is sent at once on one connection (tokio-postgres pipelines concurrent
    /// queries), inside one snapshot: a pull is about one round trip, however many tables
    /// changed. They read after the cookie's version on the bet that it is this database's; a
    /// cookie that turns out not to be (rare: a restore) reads again from the start.
    ///
    /// A full pull (no cookie, or an expired one) holds the open incidents and those resolved
    /// within [`REPLICA_DAYS`] of `now`, with their rows, and the overrides not yet over: a
    /// desktop's replica, not the organisation's whole history. Later pulls carry every change,
    /// whatever its incident's age.
    pub async fn pull(
        &self,
        person: &PersonId,
        desktop: &str,
        cookie: Option<&Cookie>,
        now: jiff::Timestamp,
    ) -> Result<Pulled> {
        let window =
            crate::rows::to_time(now - jiff::SignedDuration::from_hours(24 * REPLICA_DAYS));
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let guess = cookie.map_or(0, |c| c.version);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&desktop];
        let (head, owner, mut pulled) = tokio::try_join!(
            // The history's name: the organisation's id and the version table's own id. A
            // database restored from a backup (`pg_restore --clean`, or into a new cluster)
            // has a new table, so every cookie of the lost history expires, even once new
            // writes have taken the version past them.
            tx.query_one(
                "SELECT org_id || '.' || 'org_version'::regclass::oid::text, version
                 FROM org_version WHERE id = 1",
                &[]
            )
            .map_err(HubError::from),
            tx.query_opt(
                "SELECT person, last_mutation_id FROM desktops WHERE id = $1",
                &params,
            )
            .map_err(HubError::from),
            changes(&tx, person, desktop, guess, window),
        )?;
        pulled.last_mutation_id = last_mutation_of(owner.as_ref(), desktop, person)?;
        let head = Cookie {
            org_id: head.get(0),
            version: head.get(1),
            issued: Some(now.as_second()),
        };
        let current = cookie.is_some_and(|c| c.stands_against(&head));
        if !current {
            let last = pulled.last_mutation_id;
            pulled = changes(&tx, person, desktop, 0, window).await?;
            pulled.last_mutation_id = last;
            pulled.reset = true;
        }
        pulled.cookie = head.to_string();
        Ok(pulled)
    }

    /// The organisation's version now: what streams watch to tell desktops to pull.
    pub async fn org_version(&self) -> Result<i64> {
        let client = self.client().await?;
        Ok(client
            .query_one("SELECT version FROM org_version WHERE id = 1", &[])
            .await?
            .get(0))
    }
}

/// Every row stamped after version `since`, all read at once.
async fn changes(
    tx: &Transaction<'_>,
    person: &PersonId,
    desktop: &str,
    since: i64,
    window: SystemTime,
) -> Result<Pulled> {
    let scope = Scope { since, window };
    let (outcomes, incidents, timeline, checklist, roles, alerts, escalations, pages, overrides) =
        tokio::try_join!(
            outcomes(tx, desktop, since),
            incidents(tx, scope),
            timeline(tx, scope),
            checklist(tx, scope),
            roles(tx, scope),
            alerts(tx, scope),
            escalations(tx, scope),
            pages(tx, person, scope),
            overrides(tx, scope),
        )?;
    Ok(Pulled {
        cookie: String::new(),
        reset: false,
        last_mutation_id: 0,
        outcomes,
        incidents,
        timeline,
        checklist,
        roles,
        alerts,
        escalations,
        pages,
        overrides,
    })
}

/// How many days of resolved incidents a full pull carries.
pub const REPLICA_DAYS: i64 = 30;

/// What a pull reads: the rows stamped after `since` (`$1` in every query); when `since` is 0
/// (a full pull), only those of incidents open or resolved since `window` (`$2`).
#[derive(Debug, Clone, Copy)]
struct Scope {
    since: i64,
    window: SystemTime,
}

/// The condition on a row's `incident_id` that keeps it in a pull's scope.
const IN_SCOPE: &str = "($1 > 0 OR incident_id IN
    (SELECT id FROM incidents WHERE state <> 'resolved' OR resolved_at >= $2))";

async fn overrides(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<Value>> {
    let sql = "SELECT id, rota, layer, person, starts, ends, added_by, added_at FROM overrides
             WHERE version > $1 AND ($1 > 0 OR ends >= $2) ORDER BY id";
    changed(tx, sql, scope, |row| {
        Ok(json!({
            "id": row.get::<_, i64>(0),
            "rota": row.get::<_, String>(1),
            "layer": row.get::<_, String>(2),
            "person": row.get::<_, String>(3),
            "from": time(row, 4)?,
            "to": time(row, 5)?,
            "added_by": row.get::<_, String>(6),
            "added_at": time(row, 7)?,
        }))
    })
    .await
}

/// The rows `sql` reads in `scope` (its `$1` and `$2`), each made what a pull carries by
/// `to_json`.
async fn changed<T>(
    tx: &Transaction<'_>,
    sql: &str,
    scope: Scope,
    to_json: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    tx.query(sql, &[&scope.since, &scope.window])
        .await?
        .iter()
        .map(to_json)
        .collect()
}

fn time(row: &Row, i: usize) -> Result<Option<String>> {
    Ok(row
        .get::<_, Option<SystemTime>>(i)
        .map(from_time)
        .transpose()?
        .map(|t| t.to_string()))
}

fn incident_name(id: i64) -> String {
    IncidentId(u64::try_from(id).unwrap_or(0)).to_string()
}

async fn outcomes(tx: &Transaction<'_>, desktop: &str, since: i64) -> Result<Vec<Value>> {
    let rows = tx
        .query(
            "SELECT mutation_id, outcome, reason FROM audit
             WHERE desktop_id = $1 AND version > $2 ORDER BY mutation_id",
            &[&desktop, &since],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            json!({
                "id": row.get::<_, i64>(0),
                "outcome": row.get::<_, String>(1),
                "reason": row.get::<_, Option<String>>(2),
            })
        })
        .collect())
}

async fn incidents(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<PulledIncident>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {INCIDENT_COLUMNS}, severity_reason, loss_override, opened_by_desktop,
                     opened_by_mutation FROM incidents
                 WHERE version > $1 AND ($1 > 0 OR state <> 'resolved' OR resolved_at >= $2)
                 ORDER BY id"
            ),
            &[&scope.since, &scope.window],
        )
        .await?;
    let extra = INCIDENT_COLUMNS.split(", ").count();
    rows.iter()
        .map(|row| {
            Ok(PulledIncident {
                incident: read_incident(row)?,
                severity_reason: row.get(extra),
                loss_override: row.get(extra + 1),
                opened_by_mutation: match (row.get(extra + 2), row.get(extra + 3)) {
                    (Some(desktop), Some(mutation)) => Some(OpenedBy { desktop, mutation }),
                    _ => None,
                },
            })
        })
        .collect()
}

async fn timeline(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT id, incident_id, at, who, kind, detail, note_id, version FROM timeline
         WHERE version > $1 AND {IN_SCOPE} ORDER BY version, id"
    );
    changed(tx, &sql, scope, |row| {
        Ok(json!({
            "id": row.get::<_, i64>(0),
            "incident": incident_name(row.get(1)),
            "at": time(row, 2)?,
            "who": row.get::<_, Option<String>>(3),
            "kind": row.get::<_, String>(4),
            "detail": row.get::<_, String>(5),
            "note_id": row.get::<_, Option<String>>(6),
            "version": row.get::<_, i64>(7),
        }))
    })
    .await
}

async fn checklist(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT incident_id, position, step, title, required, runbook, state, assignee,
             reason, changed_by, changed_at
         FROM checklist_steps WHERE version > $1 AND {IN_SCOPE} ORDER BY incident_id, position"
    );
    changed(tx, &sql, scope, |row| {
        Ok(json!({
            "incident": incident_name(row.get(0)),
            "position": row.get::<_, i32>(1),
            "step": row.get::<_, String>(2),
            "title": row.get::<_, String>(3),
            "required": row.get::<_, bool>(4),
            "runbook": row.get::<_, Option<String>>(5),
            "state": row.get::<_, String>(6),
            "assignee": row.get::<_, Option<String>>(7),
            "reason": row.get::<_, Option<String>>(8),
            "changed_by": row.get::<_, Option<String>>(9),
            "changed_at": time(row, 10)?,
        }))
    })
    .await
}

async fn roles(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT id, incident_id, role, person, since, until, named_by FROM roles
         WHERE version > $1 AND {IN_SCOPE} ORDER BY id"
    );
    changed(tx, &sql, scope, |row| {
        Ok(json!({
            "id": row.get::<_, i64>(0),
            "incident": incident_name(row.get(1)),
            "role": row.get::<_, String>(2),
            "person": row.get::<_, String>(3),
            "since": time(row, 4)?,
            "until": time(row, 5)?,
            "named_by": row.get::<_, Option<String>>(6),
        }))
    })
    .await
}

async fn alerts(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<PulledAlert>> {
    // Unrouted alerts in a full pull: those seen within the window.
    let sql = format!(
        "SELECT id, source, fingerprint, labels, annotations, state, starts_at, ends_at,
             incident_id, application_id, team_id
         FROM alerts WHERE version > $1
             AND ((incident_id IS NULL AND ($1 > 0 OR last_seen >= $2)) OR {IN_SCOPE})
         ORDER BY id"
    );
    changed(tx, &sql, scope, |row| {
        let map = |i: usize| -> Result<Box<RawValue>> {
            RawValue::from_string(row.get::<_, String>(i))
                .map_err(|e| corrupt(&format!("an alert's labels: {e}")))
        };
        Ok(PulledAlert {
            id: row.get(0),
            source: row.get(1),
            fingerprint: row.get(2),
            labels: map(3)?,
            annotations: map(4)?,
            state: row.get(5),
            starts_at: time(row, 6)?,
            ends_at: time(row, 7)?,
            incident: row.get::<_, Option<i64>>(8).map(incident_name),
            application: row.get(9),
            team: row.get(10),
        })
    })
    .await
}

async fn escalations(tx: &Transaction<'_>, scope: Scope) -> Result<Vec<Value>> {
    let sql = format!(
        "SELECT incident_id, status, next_step, due_at, note FROM escalations
         WHERE version > $1 AND {IN_SCOPE} ORDER BY incident_id"
    );
    changed(tx, &sql, scope, |row| {
        Ok(json!({
            "incident": incident_name(row.get(0)),
            "status": row.get::<_, String>(1),
            "next_step": row.get::<_, i32>(2),
            "due_at": time(row, 3)?,
            "note": row.get::<_, String>(4),
        }))
    })
    .await
}

/// The person's pages recorded, or shown somewhere, since the cookie.
async fn pages(tx: &Transaction<'_>, person: &PersonId, scope: Scope) -> Result<Vec<Value>> {
    let rows = tx
        .query(
            "SELECT p.id, p.incident_id, p.step, p.cycle, p.reason, p.paged_at,
                 COALESCE(array_agg(r.desktop_id ORDER BY r.desktop_id)
                     FILTER (WHERE r.desktop_id IS NOT NULL), '{}')
             FROM pages p LEFT JOIN page_receipts r ON r.page_id = p.id
             WHERE p.person = $1 AND (p.version > $2 OR EXISTS
                 (SELECT 1 FROM page_receipts n WHERE n.page_id = p.id AND n.version > $2))
               AND ($2 > 0 OR p.incident_id IN
                 (SELECT id FROM incidents WHERE state <> 'resolved' OR resolved_at >= $3))
             GROUP BY p.id ORDER BY p.id",
            &[&person.as_str(), &scope.since, &scope.window],
        )
        .await?;
    rows.iter()
        .map(|row| page_json(row, person))
        .collect::<Result<_>>()
        .map_err(|e: HubError| e)
}

/// A page as pulls and streams carry it (columns `id, incident_id, step, cycle, reason,
/// paged_at, shown_on`).
pub(crate) fn page_json(row: &Row, person: &PersonId) -> Result<Value> {
    Ok(json!({
        "id": row.get::<_, i64>(0),
        "incident": incident_name(row.get(1)),
        "step": row.get::<_, i32>(2),
        "cycle": row.get::<_, i32>(3),
        "person": person.as_str(),
        "reason": row.get::<_, String>(4),
        "paged_at": time(row, 5)?,
        "shown_on": row.get::<_, Vec<String>>(6),
    }))
}

//! The audit: every mutation a desktop pushed (its person, desktop, when it was made and
//! received, its arguments, and its outcome) and every change to people's tokens, by an admin on
//! `/v1/tokens` or by whoever holds the database (`stopline hub token`). Read with
//! `stopline hub audit`.

use std::time::SystemTime;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;
use stopline_core::ids::PersonId;
use stopline_core::incident::IncidentId;

use crate::Result;
use crate::database::Database;
use crate::rows::{corrupt, from_time, sql_id, to_time};

/// One audited action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When the hub recorded it.
    pub at: Timestamp,
    /// When the person made it, by their desktop's clock (mutations only).
    pub made_at: Option<Timestamp>,
    /// Who did it; `None` for a token command run against the database itself.
    pub person: Option<String>,
    pub desktop: Option<String>,
    pub mutation_id: Option<i64>,
    pub name: String,
    pub args: Value,
    pub incident: Option<IncidentId>,
    /// `applied` or `refused`.
    pub outcome: String,
    pub reason: Option<String>,
}

/// Which entries to read: newest first, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub person: Option<PersonId>,
    pub incident: Option<IncidentId>,
    pub limit: i64,
}

impl Database {
    /// The audit's newest entries that match `filter`.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let client = self.client().await?;
        let incident = filter.incident.map(sql_id).transpose()?;
        let rows = client
            .query(
                "SELECT id, at, made_at, person, desktop_id, mutation_id, name, args::text,
                     incident_id, outcome, reason
                 FROM audit
                 WHERE ($1::text IS NULL OR person = $1)
                     AND ($2::bigint IS NULL OR incident_id = $2)
                 ORDER BY id DESC LIMIT $3",
                &[
                    &filter.person.as_ref().map(PersonId::as_str),
                    &incident,
                    &filter.limit.max(0),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    id: row.get(0),
                    at: from_time(row.get::<_, SystemTime>(1))?,
                    made_at: row
                        .get::<_, Option<SystemTime>>(2)
                        .map(from_time)
                        .transpose()?,
                    person: row.get(3),
                    desktop: row.get(4),
                    mutation_id: row.get(5),
                    name: row.get(6),
                    args: serde_json::from_str(&row.get::<_, String>(7))
                        .map_err(|e| corrupt(&format!("an audit entry's arguments: {e}")))?,
                    incident: row
                        .get::<_, Option<i64>>(8)
                        .map(|id| IncidentId(u64::try_from(id).unwrap_or(0))),
                    outcome: row.get(9),
                    reason: row.get(10),
                })
            })
            .collect()
    }
}

/// Records a change to people's tokens by `by` (`None`: through the database itself), in the
/// transaction that makes it.
pub(crate) async fn token_change(
    client: &impl tokio_postgres::GenericClient,
    by: Option<&PersonId>,
    name: &str,
    args: &Value,
    now: Timestamp,
) -> Result<()> {
    client
        .execute(
            "INSERT INTO audit (at, person, name, args, outcome, reason, version)
                 VALUES ($1, $2, $3, ($4::text)::jsonb, $5, $6,
                     (SELECT version FROM org_version WHERE id = 1))",
            &[
                &to_time(now),
                &by.map(PersonId::as_str),
                &name,
                &args.to_string(),
                &"applied",
                &None::<String>,
            ],
        )
        .await?;
    Ok(())
}

//! People's tokens: what a desktop acts with on the hub, as one person. A token is 32 random
//! bytes shown once when made; the hub keeps only its SHA-256, so neither the database nor a
//! backup of it lets anyone act as anyone. A revoked token stops working at once.

use std::time::SystemTime;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use stopline_core::ids::PersonId;

use crate::Result;
use crate::audit;
use crate::database::Database;
use crate::error::HubError;
use crate::rows::{corrupt, from_time, to_time};

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: i64,
    pub person: PersonId,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A token just made: `token` is shown this once.
#[derive(Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: i64,
    pub token: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .finish()
    }
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Database {
    /// Makes a token for `person` (the caller checks the person is in the config), audited as
    /// made `by` an admin (`None`: through the database itself).
    pub async fn create_token(
        &self,
        person: &PersonId,
        by: Option<&PersonId>,
        now: Timestamp,
    ) -> Result<NewToken> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| HubError::Corrupt(format!("no randomness for a token: {e}")))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO tokens (person, hash, created_at) VALUES ($1, $2, $3) RETURNING id",
                &[&person.as_str(), &hash(&token), &to_time(now)],
            )
            .await?
            .get(0);
        let args = serde_json::json!({ "person": person.as_str(), "token_id": id });
        audit::token_change(&*tx, by, "token_create", &args, now).await?;
        tx.commit().await?;
        Ok(NewToken { id, token })
    }

    /// Every token made, oldest first.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let client = self.client().await?;
        client
            .query(
                "SELECT id, person, created_at, revoked_at FROM tokens ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|row| {
                Ok(TokenInfo {
                    id: row.get(0),
                    person: PersonId::new(row.get::<_, String>(1))
                        .map_err(|_| corrupt("a token's person"))?,
                    created_at: from_time(row.get::<_, SystemTime>(2))?,
                    revoked_at: row
                        .get::<_, Option<SystemTime>>(3)
                        .map(from_time)
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Revokes token `id`, audited as revoked `by` an admin (`None`: through the database
    /// itself); `false` when there is no such token or it was revoked already.
    pub async fn revoke_token(
        &self,
        id: i64,
        by: Option<&PersonId>,
        now: Timestamp,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let person: Option<String> = tx
            .query_opt(
                "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
                 RETURNING person",
                &[&id, &to_time(now)],
            )
            .await?
            .map(|row| row.get(0));
        let Some(person) = person else {
            return Ok(false);
        };
        let args = serde_json::json!({ "person": person, "token_id": id });
        audit::token_change(&*tx, by, "token_revoke", &args, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whose token `token` is, while it is not revoked.
    pub async fn person_of_token(&self, token: &str) -> Result<Option<PersonId>> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT person FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
                &[&hash(token)],
            )
            .await?
            .map(|row| {
                PersonId::new(row.get::<_, String>(0)).map_err(|_| corrupt("a token's person"))
            })
            .transpose()
    }
}

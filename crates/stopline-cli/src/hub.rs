//! `stopline hub …`: the team hub's commands. So far its database's schema (`migrate`); the
//! server itself is being built (docs/hub.md says what works today).

use stopline_hub::{Database, HubError};

use crate::context::Context;
use crate::engine::runtime;
use crate::failure::{Failure, Result};
use crate::output::print_json;

/// `stopline hub migrate --database URL`.
pub fn migrate(cx: &Context, url: &str) -> Result {
    let db = Database::new(url).map_err(|e| database_failure("--database", e))?;
    let migrated = runtime()?
        .block_on(db.migrate())
        .map_err(|e| database_failure("--database", e))?;
    if cx.json {
        print_json(&serde_json::json!({
            "database": db.target(),
            "from": migrated.from,
            "to": migrated.to,
        }));
    } else if migrated.from == migrated.to {
        out!(
            "The hub's database at {} is up to date (schema version {}).",
            db.target(),
            migrated.to
        );
    } else {
        out!(
            "Migrated the hub's database at {} from schema version {} to {}.",
            db.target(),
            migrated.from,
            migrated.to
        );
    }
    Ok(())
}

/// A hub error, naming the argument it came in when the person gave something wrong.
fn database_failure(argument: &str, error: HubError) -> Failure {
    if error.is_usage() {
        Failure::usage(format!("{argument}: {error}"))
    } else {
        Failure::refused(error.to_string())
    }
}

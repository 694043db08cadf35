//! What the engine's tests share: a workspace each test extends with the applications and
//! settings it needs.

use stopline_core::config::Config;

/// The base workspace: one person, the checkout team and its payments API (99.9%, major).
/// Its people, as `(id, name)`.
pub const PEOPLE: &[(&str, &str)] = &[("alice", "Alice")];

/// What this workspace has besides its `[workspace]` table and its people.
pub const TEAMS_AND_APPLICATIONS: &str = r#"
[[teams]]
id = "checkout"
name = "Checkout"
kind = "delivery"
members = ["alice"]

[[applications]]
id = "payments-api"
name = "Payments API"
team = "checkout"
availability_target = 99.9
exposure_per_hour = 600000
match = { service = "payments-api" }
"#;

/// The whole config text.
pub fn base_config() -> String {
    format!(
        "{}{TEAMS_AND_APPLICATIONS}",
        stopline_tests::workspace_toml(PEOPLE)
    )
}

/// The base workspace plus `extra` TOML.
pub fn config(extra: &str) -> Config {
    Config::parse("test.toml", &format!("{}{extra}", base_config())).unwrap()
}

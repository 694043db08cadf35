//! What the engine's test binaries share: the payload fixtures (from `stopline-tests`), and a workspace
//! each test extends with the applications and settings it needs.

use stopline_core::config::Config;

/// A workspace with one person, the checkout team and its payments API (99.9%, major).
pub const BASE_CONFIG: &str = r#"
[workspace]
name = "Test"
time_zone = "Europe/London"
currency = "GBP"

[[people]]
id = "alice"
name = "Alice"

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

/// The base workspace plus `extra` TOML.
pub fn config(extra: &str) -> Config {
    Config::parse("test.toml", &format!("{BASE_CONFIG}{extra}")).unwrap()
}

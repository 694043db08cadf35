//! Configuration as code: the workspace, its people, teams and applications, read from TOML.
//!
//! [`Config::parse`] takes the file's name (for messages) and its text; it never touches the file
//! system. Unknown keys are errors. Every problem names `file:line:column`, the key and what was
//! expected, and all cross-check problems are reported together, so one run of `stopline check`
//! shows everything to fix. See `docs/config.md`.

mod check;
mod checker;
mod model;
mod parse;
mod pay;
mod problems;
mod raw;
mod reach;
mod rotas;
mod sources;
mod swarm;
#[cfg(test)]
mod tests;

pub use model::Config;
pub use problems::{ConfigError, ConfigProblem};

/// A commented starting point, written by `stopline init`.
pub const EXAMPLE_CONFIG: &str = include_str!("../templates/example.toml");
/// A workspace big enough to feel real, written by `stopline init --demo`.
pub const DEMO_CONFIG: &str = include_str!("../templates/demo.toml");

//! `stopline`: Stopline from a terminal. Each subcommand unpacks its arguments, calls one engine
//! or store function and prints the result as a table or, with `--json`, as the stable JSON
//! documented in `docs/cli.md`. No business rule lives here.
//!
//! Exit status: 0 success; 1 the request was understood but could not be done (unknown incident,
//! a transition the incident's state forbids, a store failure); 2 bad input (arguments, config).
//! Every error is one line per problem on stderr, and a failed command changes nothing.

/// `println!` through [`output::emit`], so a closed pipe ends the command quietly.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::emit(&format!($($arg)*))
    };
}

mod args;
mod commands;
mod engine;
mod oncall;
mod output;
mod swarm;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

/// An error with the exit status it deserves.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            status: 2,
            message: message.into(),
        }
    }
}

impl From<stopline_engine::EngineError> for Failure {
    fn from(error: stopline_engine::EngineError) -> Self {
        Self {
            status: if error.is_usage() { 2 } else { 1 },
            message: error.to_string(),
        }
    }
}

impl From<stopline_store::StoreError> for Failure {
    fn from(error: stopline_store::StoreError) -> Self {
        stopline_engine::EngineError::from(error).into()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            for line in failure.message.lines() {
                eprintln!("stopline: {line}");
            }
            ExitCode::from(failure.status)
        }
    }
}

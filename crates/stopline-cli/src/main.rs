//! `stopline`: Stopline from a terminal. Each subcommand unpacks its arguments, calls the engine's
//! API (`stopline_engine::api`, one [`Workspace`](stopline_engine::api::Workspace) per run) and
//! prints the result as a table or, with `--json`, as the stable JSON documented in
//! `docs/cli.md`. No business rule lives here; the hints an error ends with ("add --reason")
//! do, since they name this program's flags.
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
mod context;
mod engine;
mod failure;
mod hub;
mod incidents;
mod join;
mod oncall;
mod output;
mod setup;
mod swarm;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // An error may quote what a sender or a person wrote: never raw to the terminal.
            for line in failure.message.lines() {
                eprintln!("stopline: {}", stopline_core::text::escape_controls(line));
            }
            ExitCode::from(failure.status)
        }
    }
}

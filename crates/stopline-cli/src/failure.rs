//! An error as the command line reports it: its exit status, and its message with the hint that
//! names this program's flags and commands (the engine's refusals name none).

use stopline_core::severity::SeverityError;
use stopline_core::swarm::SwarmError;
use stopline_engine::EngineError;
use stopline_store::StoreError;

/// An error with the exit status it deserves.
#[derive(Debug)]
pub struct Failure {
    pub status: u8,
    pub message: String,
}

pub type Result<T = ()> = std::result::Result<T, Failure>;

impl Failure {
    /// Bad input (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            status: 2,
            message: message.into(),
        }
    }

    /// Understood but not done (exit 1).
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            status: 1,
            message: message.into(),
        }
    }

    /// `error`, as it concerns the argument `name` (`--team: unknown team "x"`).
    pub fn argument(name: &str, error: EngineError) -> Self {
        let failure = Self::from(error);
        Self {
            message: format!("{name}: {}", failure.message),
            ..failure
        }
    }
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self {
            status: if error.is_usage() { 2 } else { 1 },
            message: format!("{error}{}", hint(&error)),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        EngineError::from(error).into()
    }
}

/// What to do about `error`, in this program's words; empty when the message says enough.
fn hint(error: &EngineError) -> &'static str {
    match error {
        EngineError::ConfigMissing { .. } => {
            ": create one with `stopline init` (or `stopline init --demo`)"
        }
        EngineError::ConfigExists { .. } => ": use --force to replace it",
        EngineError::UnknownPerson(_) | EngineError::UnknownTeam(_) => " (see `stopline teams`)",
        EngineError::UnknownApplication(_) => " (see `stopline apps`)",
        EngineError::Unrouted(_) => ": name one with --app (see `stopline apps`)",
        EngineError::UnknownAlert(_) => ": see `stopline unrouted`",
        EngineError::AmbiguousAlert { .. } => ": say which with --source",
        EngineError::NoRouteLabels(_) => ": name the labels to route by with --by LABEL",
        EngineError::Store(StoreError::Swarm(swarm)) => match swarm {
            SwarmError::OpenSteps { .. } => {
                "; finish or skip them (stopline step), or resolve with --force to record the override"
            }
            SwarmError::SkipWithoutReason { .. } => ": add --reason \"why\"",
            SwarmError::RoleTaken { .. } => ": hand over with --handover",
            SwarmError::NothingToChange => " with --assign PERSON",
            _ => "",
        },
        EngineError::Store(StoreError::Severity(SeverityError::ReasonRequired)) => {
            ": add --reason \"why\""
        }
        _ => "",
    }
}

//! What every subcommand works with: the engine's API handle, resolved once from the global
//! flags, and whether to print JSON.

use jiff::tz::TimeZone;
use stopline_core::incident::IncidentId;
use stopline_engine::EngineError;
use stopline_engine::api::Workspace;

use crate::failure::{Failure, Result};

pub struct Context {
    pub ws: Workspace,
    pub json: bool,
}

impl Context {
    /// The workspace's zone for showing times; UTC (with a warning) when the config cannot be
    /// read, so incidents can always be listed even while the config is broken.
    pub fn display_zone(&self) -> TimeZone {
        match self.ws.config() {
            Ok(config) => config.workspace.time_zone.clone(),
            Err(EngineError::ConfigMissing { .. }) => TimeZone::UTC,
            Err(e) => {
                eprintln!(
                    "stopline: warning: times are shown in UTC: {}",
                    e.to_string().lines().next().unwrap_or("")
                );
                TimeZone::UTC
            }
        }
    }
}

/// An incident id as typed: `INC-42` or `42`.
pub fn parse_id(text: &str) -> Result<IncidentId> {
    text.parse::<IncidentId>()
        .map_err(|e| Failure::usage(e.to_string()))
}

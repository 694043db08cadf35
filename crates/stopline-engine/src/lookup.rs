//! Finding what a person named (on the command line, in the app) in the config: text in, the
//! typed thing out, or an error that names what was asked for. Ids that are not even valid slugs
//! are simply unknown.

use stopline_core::application::Application;
use stopline_core::config::Config;
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::team::{Team, TeamKind};

use crate::{EngineError, Result};

/// The person with this id.
pub fn person(config: &Config, text: &str) -> Result<PersonId> {
    PersonId::new(text)
        .ok()
        .and_then(|id| config.person(&id))
        .map(|p| p.id.clone())
        .ok_or_else(|| EngineError::UnknownPerson(text.to_owned()))
}

/// The team with this id.
pub fn team<'a>(config: &'a Config, text: &str) -> Result<&'a Team> {
    TeamId::new(text)
        .ok()
        .and_then(|id| config.team(&id))
        .ok_or_else(|| EngineError::UnknownTeam(text.to_owned()))
}

/// The delivery team with this id (the service desk has no line and no applications).
pub fn delivery_team<'a>(config: &'a Config, text: &str) -> Result<&'a Team> {
    team(config, text)
        .ok()
        .filter(|t| t.kind == TeamKind::Delivery)
        .ok_or_else(|| EngineError::UnknownTeam(text.to_owned()))
}

/// The application with this id.
pub fn application<'a>(config: &'a Config, text: &str) -> Result<&'a Application> {
    ApplicationId::new(text)
        .ok()
        .and_then(|id| config.application(&id))
        .ok_or_else(|| EngineError::UnknownApplication(text.to_owned()))
}

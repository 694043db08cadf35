//! People and the teams they belong to.

use serde::{Deserialize, Serialize};

use crate::callout::EscalationPolicy;
use crate::ids::{PersonId, TeamId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// The person's own IANA zone when it differs from the workspace's.
    pub time_zone: Option<String>,
}

/// A delivery team builds and runs applications; the service desk routes customer reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    Delivery,
    ServiceDesk,
}

impl TeamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamKind::Delivery => "delivery",
            TeamKind::ServiceDesk => "service_desk",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub kind: TeamKind,
    pub members: Vec<PersonId>,
    /// The team's own escalation policy; `None` uses the workspace's.
    pub escalation: Option<EscalationPolicy>,
    /// The team's own checklist template; `None` uses the workspace's.
    pub checklist: Option<Vec<crate::swarm::StepTemplate>>,
    /// The team's own pay model (`pay`); `None` uses the workspace's `[pay]`.
    pub pay: Option<crate::economics::PayModel>,
}

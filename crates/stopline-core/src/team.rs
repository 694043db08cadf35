//! People, the teams they belong to, and how long a team's pages wait before escalating.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, TeamId};
use crate::pay::PayModel;
use crate::swarm::StepTemplate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// The person's own IANA zone when it differs from the workspace's.
    pub time_zone: Option<String>,
    /// May manage people's hub tokens (on the hub's `/v1/tokens`); nothing else needs it.
    pub admin: bool,
    /// How pages reach them away from their desk (`contacts = [...]`), in the file's order.
    pub contacts: Vec<crate::reach::Contact>,
    /// Out of hours, their contacts are paged at once rather than after the desktop grace.
    pub contacts_first_out_of_hours: bool,
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
    pub checklist: Option<Vec<StepTemplate>>,
    /// The team's own pay model (`pay`); `None` uses the workspace's `[pay]`.
    pub pay: Option<PayModel>,
}

/// How long a page waits for an acknowledgement before the next step, unless configured.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How many times the whole cycle runs again after the first, unless configured.
pub const DEFAULT_REPEAT: u32 = 2;

/// A team's escalation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub ack_timeout: Duration,
    pub repeat: u32,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            repeat: DEFAULT_REPEAT,
        }
    }
}

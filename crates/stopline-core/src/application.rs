//! Applications, the team that owns each, and how alerts and customer reports find them.

use regex::Regex;
use serde::Serialize;

use crate::alert::Labels;
use crate::ids::{ApplicationId, TeamId};
use crate::money::ExposurePerHour;
use crate::target::AvailabilityTarget;

#[derive(Debug, Clone)]
pub struct Application {
    pub id: ApplicationId,
    pub name: String,
    /// Exactly one owning delivery team.
    pub team: TeamId,
    pub target: AvailabilityTarget,
    pub exposure_per_hour: ExposurePerHour,
    /// All must match an alert's labels for the alert to belong here. Empty: no alert matches.
    pub matchers: Vec<LabelMatcher>,
    /// Lower-case journeys and keywords the service desk searches by ("checkout", "login").
    pub journeys: Vec<String>,
    /// How long an incident here is expected to last: with the exposure, the projected loss
    /// that decides its starting severity.
    pub expected_time_to_restore: std::time::Duration,
    /// Steps added to the swarm's checklist for this application (with runbook links).
    pub checklist_extra: Vec<crate::swarm::StepTemplate>,
    /// How often its team deploys it (`deploys`), for the operating-model fit; `None` unknown.
    pub deploys: Option<DeployFrequency>,
}

/// One hour, unless an application says otherwise.
pub const DEFAULT_EXPECTED_TIME_TO_RESTORE: std::time::Duration =
    std::time::Duration::from_secs(60 * 60);

impl Application {
    /// The estimated loss of an incident that has lasted `elapsed`: the projected loss
    /// (exposure × expected time to restore), or the loss so far (exposure × elapsed) once that
    /// is larger. In whole units of the workspace currency.
    pub fn estimated_loss(&self, elapsed: std::time::Duration) -> u64 {
        let longest = elapsed.max(self.expected_time_to_restore);
        let loss = u128::from(self.exposure_per_hour.0) * longest.as_millis() / 3_600_000;
        u64::try_from(loss).unwrap_or(u64::MAX)
    }
}

impl Application {
    /// Whether every matcher holds for these labels (and there is at least one matcher).
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.matchers.is_empty() && self.matchers.iter().all(|m| m.matches(labels))
    }

    /// How specific the matchers are: more matchers first, then more exact ones.
    pub fn specificity(&self) -> (usize, usize) {
        let exact = self
            .matchers
            .iter()
            .filter(|m| matches!(m.op, MatchOp::Equals(_)))
            .count();
        (self.matchers.len(), exact)
    }
}

#[derive(Debug, Clone)]
pub enum MatchOp {
    Equals(String),
    /// Anchored at both ends, as in Prometheus: `checkout-.*` must match the whole value.
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub struct LabelMatcher {
    pub label: String,
    pub op: MatchOp,
}

impl LabelMatcher {
    pub fn equals(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            op: MatchOp::Equals(value.into()),
        }
    }

    /// Compiles `pattern` anchored at both ends.
    pub fn regex(label: impl Into<String>, pattern: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            label: label.into(),
            op: MatchOp::Regex(Regex::new(&format!("^(?:{pattern})$"))?),
        })
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        let Some(value) = labels.get(&self.label) else {
            return false;
        };
        match &self.op {
            MatchOp::Equals(expected) => value == expected,
            MatchOp::Regex(regex) => regex.is_match(value),
        }
    }
}

/// How often an application's team deploys: product feature demand in the operating-model fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeployFrequency {
    Monthly,
    Fortnightly,
    Weekly,
    Daily,
}

impl DeployFrequency {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "monthly" => Some(Self::Monthly),
            "fortnightly" => Some(Self::Fortnightly),
            "weekly" => Some(Self::Weekly),
            "daily" => Some(Self::Daily),
            _ => None,
        }
    }
}

//! Applications, the team that owns each, and how alerts and customer reports find them.

use regex::Regex;

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

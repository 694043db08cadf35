//! Incidents and their state machine: triggered → acknowledged → resolved.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::timeline::{TimelineEvent, TimelineKind};

/// The short number people say out loud: `INC-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncidentId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid incident id {0:?}: expected INC-<number> or a number, such as INC-42")]
pub struct IncidentIdError(pub String);

impl std::str::FromStr for IncidentId {
    type Err = IncidentIdError;
    fn from_str(text: &str) -> Result<Self, IncidentIdError> {
        let trimmed = text.trim();
        let digits = trimmed
            .strip_prefix("INC-")
            .or_else(|| trimmed.strip_prefix("inc-"))
            .unwrap_or(trimmed);
        match digits.parse::<u64>() {
            Ok(n) if n > 0 && digits.chars().all(|c| c.is_ascii_digit()) => Ok(IncidentId(n)),
            _ => Err(IncidentIdError(text.to_owned())),
        }
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

impl Serialize for IncidentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IncidentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Restore immediately, whatever the hour.
    Major,
    /// Restore by the next working day, or add to the backlog.
    Minor,
}

impl Severity {
    /// The starting severity from money: the loss over the incident's first hour against the
    /// workspace's threshold.
    pub fn from_estimated_loss(loss_in_first_hour: u64, major_threshold: u64) -> Self {
        if loss_in_first_hour >= major_threshold {
            Severity::Major
        } else {
            Severity::Minor
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Major => "major",
            Severity::Minor => "minor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "major" => Some(Severity::Major),
            "minor" => Some(Severity::Minor),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Triggered,
    Acknowledged,
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Triggered => "triggered",
            IncidentState::Acknowledged => "acknowledged",
            IncidentState::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "triggered" => Some(IncidentState::Triggered),
            "acknowledged" => Some(IncidentState::Acknowledged),
            "resolved" => Some(IncidentState::Resolved),
            _ => None,
        }
    }

    pub fn is_open(self) -> bool {
        self != IncidentState::Resolved
    }
}

/// A change of state someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Acknowledge,
    Resolve,
}

impl Transition {
    fn verb(self) -> &'static str {
        match self {
            Transition::Acknowledge => "acknowledged",
            Transition::Resolve => "resolved",
        }
    }
}

/// A transition the state machine does not allow, such as acknowledging a resolved incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{id} is already {} (by {by} at {at}); it cannot be {}", state.as_str(), transition.verb())]
pub struct TransitionError {
    pub id: IncidentId,
    pub state: IncidentState,
    pub transition: Transition,
    /// Who moved it into its current state, and when.
    pub by: String,
    pub at: Timestamp,
}

/// Who did something, and when. `by` is `None` when Stopline itself did it (an incident that
/// resolved itself because all its alerts resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub by: Option<PersonId>,
    pub at: Timestamp,
}

impl Stamp {
    /// The person's id, or `stopline`.
    pub fn actor(&self) -> String {
        self.by
            .as_ref()
            .map_or_else(|| "stopline".to_owned(), ToString::to_string)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: IncidentId,
    /// `None` while the incident is unrouted.
    pub application: Option<ApplicationId>,
    pub team: Option<TeamId>,
    pub title: String,
    pub severity: Severity,
    pub state: IncidentState,
    pub opened_at: Timestamp,
    /// `None` when an alert opened it.
    pub opened_by: Option<PersonId>,
    pub acknowledged: Option<Stamp>,
    pub resolved: Option<Stamp>,
}

impl Incident {
    /// Applies `transition` by `who` at `at`, or explains why it is not allowed. On error the
    /// incident is unchanged.
    pub fn apply(
        &mut self,
        transition: Transition,
        who: &PersonId,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        self.apply_as(transition, Some(who), at)
    }

    /// Resolves an incident nobody acknowledged once all its alerts have resolved.
    pub fn resolve_automatically(
        &mut self,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        if self.state != IncidentState::Triggered {
            return Err(self.refusal(Transition::Resolve));
        }
        self.apply_as(Transition::Resolve, None, at)
    }

    /// Acknowledges on behalf of an alert source (a PagerDuty `acknowledge` event): someone
    /// there is on it. Only a triggered incident changes.
    pub fn acknowledge_for_source(
        &mut self,
        source: &str,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        self.acknowledge_unnamed(format!("acknowledged by the sender of {source}"), at)
    }

    /// Acknowledges a triggered incident with nobody named, saying how in `detail`.
    fn acknowledge_unnamed(
        &mut self,
        detail: String,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        if self.state != IncidentState::Triggered {
            return Err(self.refusal(Transition::Acknowledge));
        }
        let mut event = self.apply_as(Transition::Acknowledge, None, at)?;
        event.detail = detail;
        Ok(event)
    }

    /// While a joined desktop's hub is away: someone acknowledged it elsewhere (the hub or a
    /// teammate's desktop silenced its alerts at `source` with Stopline's marker). Only a
    /// triggered incident changes; nobody is named, since the silence does not say who.
    pub fn acknowledge_elsewhere(
        &mut self,
        source: &str,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        self.acknowledge_unnamed(
            format!(
                "acknowledged elsewhere: its alerts are silenced in {source} by Stopline (the hub was away)"
            ),
            at,
        )
    }

    /// An acknowledgement that reached the shared state after another: the first to arrive
    /// won; this one is kept on the timeline, saying when the person acknowledged (`at`, on
    /// their desktop) and when it arrived (`received`). `None` when the incident is still
    /// triggered (then [`Incident::apply`] acknowledges it).
    pub fn also_acknowledged(
        &self,
        who: &PersonId,
        at: Timestamp,
        received: Timestamp,
    ) -> Option<TimelineEvent> {
        if self.state == IncidentState::Triggered {
            return None;
        }
        let second = |t: Timestamp| t.round(jiff::Unit::Second).unwrap_or(t);
        Some(TimelineEvent {
            at: received,
            who: Some(who.clone()),
            kind: TimelineKind::Note,
            detail: format!(
                "{who} also acknowledged at {}, received {}",
                second(at),
                second(received)
            ),
        })
    }

    fn refusal(&self, transition: Transition) -> TransitionError {
        let current = match self.state {
            IncidentState::Resolved => self.resolved.as_ref(),
            _ => self.acknowledged.as_ref(),
        };
        TransitionError {
            id: self.id,
            state: self.state,
            transition,
            by: current.map_or_else(|| "unknown".to_owned(), Stamp::actor),
            at: current.map_or(self.opened_at, |s| s.at),
        }
    }

    fn apply_as(
        &mut self,
        transition: Transition,
        who: Option<&PersonId>,
        at: Timestamp,
    ) -> Result<TimelineEvent, TransitionError> {
        let stamp = Stamp {
            by: who.cloned(),
            at,
        };
        match (self.state, transition) {
            (IncidentState::Triggered, Transition::Acknowledge) => {
                self.state = IncidentState::Acknowledged;
                self.acknowledged = Some(stamp);
            }
            (IncidentState::Triggered | IncidentState::Acknowledged, Transition::Resolve) => {
                self.state = IncidentState::Resolved;
                self.resolved = Some(stamp);
            }
            (_, transition) => return Err(self.refusal(transition)),
        }
        let kind = match transition {
            Transition::Acknowledge => TimelineKind::Acknowledged,
            Transition::Resolve => TimelineKind::Resolved,
        };
        let detail = match who {
            Some(who) => format!("{} by {who}", transition.verb()),
            None => "resolved by Stopline: all its alerts resolved and nobody acknowledged it"
                .to_owned(),
        };
        Ok(TimelineEvent {
            at,
            who: who.cloned(),
            kind,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn incident() -> Incident {
        Incident {
            id: IncidentId(7),
            application: Some(ApplicationId::new("checkout-api").unwrap()),
            team: Some(TeamId::new("payments").unwrap()),
            title: "Checkout failing".into(),
            severity: Severity::Major,
            state: IncidentState::Triggered,
            opened_at: at("2026-11-27T10:00:00Z"),
            opened_by: None,
            acknowledged: None,
            resolved: None,
        }
    }

    #[test]
    fn ids_read_and_print_as_people_say_them() {
        assert_eq!("INC-42".parse::<IncidentId>(), Ok(IncidentId(42)));
        assert_eq!("inc-42".parse::<IncidentId>(), Ok(IncidentId(42)));
        assert_eq!("42".parse::<IncidentId>(), Ok(IncidentId(42)));
        for bad in ["INC-", "INC-0", "INC-x", "-3", "INC--3", "+3", ""] {
            assert!(bad.parse::<IncidentId>().is_err(), "{bad}");
        }
        assert_eq!(IncidentId(42).to_string(), "INC-42");
    }

    #[test]
    fn acknowledge_then_resolve_records_who_and_when() {
        let alice = PersonId::new("alice").unwrap();
        let bob = PersonId::new("bob").unwrap();
        let mut incident = incident();
        let ack = incident
            .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:02:00Z"))
            .unwrap();
        assert_eq!(ack.kind, TimelineKind::Acknowledged);
        assert_eq!(ack.who, Some(alice.clone()));
        assert_eq!(incident.state, IncidentState::Acknowledged);
        let resolved = incident
            .apply(Transition::Resolve, &bob, at("2026-11-27T10:30:00Z"))
            .unwrap();
        assert_eq!(resolved.kind, TimelineKind::Resolved);
        assert_eq!(incident.resolved.as_ref().unwrap().by, Some(bob));
        assert_eq!(incident.acknowledged.as_ref().unwrap().by, Some(alice));
    }

    #[test]
    fn a_triggered_incident_can_be_resolved_directly() {
        let alice = PersonId::new("alice").unwrap();
        let mut incident = incident();
        incident
            .apply(Transition::Resolve, &alice, at("2026-11-27T10:05:00Z"))
            .unwrap();
        assert_eq!(incident.state, IncidentState::Resolved);
    }

    #[test]
    fn invalid_transitions_are_errors_and_change_nothing() {
        let alice = PersonId::new("alice").unwrap();
        let mut incident = incident();
        incident
            .apply(Transition::Resolve, &alice, at("2026-11-27T10:05:00Z"))
            .unwrap();
        let before = incident.clone();
        for transition in [Transition::Acknowledge, Transition::Resolve] {
            let err = incident
                .apply(transition, &alice, at("2026-11-27T10:06:00Z"))
                .unwrap_err();
            assert_eq!(err.state, IncidentState::Resolved);
            assert_eq!(incident, before);
        }
        let err = incident
            .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:06:00Z"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "INC-7 is already resolved (by alice at 2026-11-27T10:05:00Z); it cannot be acknowledged"
        );

        let mut acked = self::incident();
        acked
            .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:01:00Z"))
            .unwrap();
        assert!(
            acked
                .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:02:00Z"))
                .is_err()
        );
    }

    #[test]
    fn a_late_acknowledgement_is_kept_on_the_timeline() {
        let (alice, ben) = (
            PersonId::new("alice").unwrap(),
            PersonId::new("ben").unwrap(),
        );
        let mut incident = incident();
        assert_eq!(
            incident.also_acknowledged(
                &ben,
                at("2026-11-27T10:02:00Z"),
                at("2026-11-27T10:40:00Z")
            ),
            None
        );
        incident
            .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:01:00Z"))
            .unwrap();
        let late = incident
            .also_acknowledged(
                &ben,
                at("2026-11-27T10:02:00.25Z"),
                at("2026-11-27T10:40:00Z"),
            )
            .unwrap();
        assert_eq!(
            late.detail,
            "ben also acknowledged at 2026-11-27T10:02:00Z, received 2026-11-27T10:40:00Z"
        );
        assert_eq!(late.at, at("2026-11-27T10:40:00Z"));
        assert_eq!(incident.acknowledged.as_ref().unwrap().by, Some(alice));
    }

    #[test]
    fn only_an_unacknowledged_incident_resolves_itself() {
        let mut quiet = incident();
        let event = quiet
            .resolve_automatically(at("2026-11-27T10:09:00Z"))
            .unwrap();
        assert_eq!(event.who, None);
        assert_eq!(quiet.state, IncidentState::Resolved);
        assert_eq!(quiet.resolved.as_ref().unwrap().actor(), "stopline");

        let mut worked_on = incident();
        let alice = PersonId::new("alice").unwrap();
        worked_on
            .apply(Transition::Acknowledge, &alice, at("2026-11-27T10:01:00Z"))
            .unwrap();
        assert!(
            worked_on
                .resolve_automatically(at("2026-11-27T10:09:00Z"))
                .is_err()
        );
        assert_eq!(
            worked_on.state,
            IncidentState::Acknowledged,
            "a human decides when it is over"
        );
    }

    #[test]
    fn severity_starts_from_money() {
        assert_eq!(
            Severity::from_estimated_loss(800_000, 250_000),
            Severity::Major
        );
        assert_eq!(
            Severity::from_estimated_loss(250_000, 250_000),
            Severity::Major
        );
        assert_eq!(
            Severity::from_estimated_loss(7_000, 250_000),
            Severity::Minor
        );
    }
}

//! Who is paged for an incident, and when: callout by availability target, and escalation.
//!
//! **Callout by availability target** (docs/domain.md, "Availability bands"). In working hours the owning team's rota is
//! paged. Out of hours the application's target decides: at 95.0% or lower nobody is called out
//! and the incident waits, visibly, for the start of the next working day; below 99.9% the
//! domain rota is paged when one covers the team, else the team's own; from 99.9% the team's own
//! rota, else the domain's. A team with no rota at all is paged all hands.
//!
//! **Escalation.** One cycle pages each layer of the chosen rota in order (primary, secondary),
//! waiting `ack_timeout` after each, then the whole owning team (Stop The Line, all hands). The
//! cycle runs `1 + repeat` times. Steps are numbered across cycles, so the store can keep one
//! integer per incident and a restart carries on from it.

use jiff::Timestamp;
use serde::Serialize;

use crate::application::Application;
use crate::config::Config;
use crate::ids::{PersonId, RotaId, TeamId};
use crate::rota::Rota;
use crate::target::AvailabilityTarget;
use crate::team::EscalationPolicy;

/// What an application's availability target buys out of working hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutOfHoursCallout {
    /// 95.0% or lower: the callout waits for the next working day.
    NextWorkingDay,
    /// Below 99.9%: the domain rota shared by sibling teams.
    DomainRota,
    /// 99.9% and above: the team's own rota.
    TeamRota,
}

impl OutOfHoursCallout {
    pub fn for_target(target: AvailabilityTarget) -> Self {
        if target <= AvailabilityTarget::from_thousandths(95_000) {
            OutOfHoursCallout::NextWorkingDay
        } else if target < AvailabilityTarget::from_thousandths(99_900) {
            OutOfHoursCallout::DomainRota
        } else {
            OutOfHoursCallout::TeamRota
        }
    }
}

/// The decision for an incident that has not been paged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callout {
    /// Page now through this rota; `None` pages the whole owning team.
    Page {
        rota: Option<RotaId>,
        reason: String,
    },
    /// Wait: out of hours for an application whose target does not justify a callout. `until`
    /// is the start of the next working day (`None` when the workspace has no working days).
    Defer {
        until: Option<Timestamp>,
        reason: String,
    },
}

/// One step of an escalation cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationStep {
    /// Whoever holds this layer of this rota when the step comes due.
    Layer { rota: RotaId, layer: usize },
    /// Every member of the owning team.
    AllHands,
}

/// One person to page, and why them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub person: PersonId,
    /// Such as "primary on payments-oncall" or "all hands on payments".
    pub reason: String,
}

/// The steps of one incident's escalation, across all its cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPlan {
    pub cycle: Vec<EscalationStep>,
    pub policy: EscalationPolicy,
}

impl EscalationPlan {
    /// Steps in all, across every cycle.
    pub fn len(&self) -> u32 {
        let per_cycle = u32::try_from(self.cycle.len()).unwrap_or(u32::MAX);
        per_cycle.saturating_mul(self.policy.repeat.saturating_add(1))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Step `index` (counted across cycles) and the cycle it belongs to (0 for the first).
    pub fn step(&self, index: u32) -> Option<(u32, &EscalationStep)> {
        if index >= self.len() {
            return None;
        }
        let per_cycle = u32::try_from(self.cycle.len()).ok()?;
        let step = self.cycle.get(usize::try_from(index % per_cycle).ok()?)?;
        Some((index / per_cycle, step))
    }
}

impl Config {
    /// The rota that covers only `team`.
    pub fn team_rota(&self, team: &TeamId) -> Option<&Rota> {
        self.rotas.iter().find(|r| r.teams == [team.clone()])
    }

    /// The rota `team` shares with its sibling teams.
    pub fn domain_rota(&self, team: &TeamId) -> Option<&Rota> {
        self.rotas.iter().find(|r| r.is_domain() && r.covers(team))
    }

    pub fn rota(&self, id: &RotaId) -> Option<&Rota> {
        self.rotas.iter().find(|r| &r.id == id)
    }

    /// The team's own escalation policy, else the workspace's.
    pub fn escalation_policy(&self, team: &TeamId) -> EscalationPolicy {
        self.team(team)
            .and_then(|t| t.escalation)
            .unwrap_or(self.escalation)
    }

    /// Whether `at` is within the workspace's working hours.
    pub fn is_working_time(&self, at: Timestamp) -> bool {
        self.workspace
            .working_hours
            .is_working_time(at, &self.workspace.time_zone)
    }

    /// Who an incident on `application`, opened (or due) at `at`, pages first.
    pub fn callout(&self, application: &Application, at: Timestamp) -> Callout {
        let team = &application.team;
        let team_rota = self.team_rota(team).map(|r| r.id.clone());
        let domain_rota = self.domain_rota(team).map(|r| r.id.clone());
        if self.is_working_time(at) {
            return match team_rota.or(domain_rota) {
                Some(rota) => Callout::Page {
                    reason: format!("in working hours: rota {rota}"),
                    rota: Some(rota),
                },
                None => Callout::Page {
                    rota: None,
                    reason: format!("in working hours: {team} has no rota, all hands"),
                },
            };
        }
        let target = application.target;
        let (first, second) = match OutOfHoursCallout::for_target(target) {
            OutOfHoursCallout::NextWorkingDay => {
                let until = self
                    .workspace
                    .working_hours
                    .next_working_start(at, &self.workspace.time_zone);
                return Callout::Defer {
                    until,
                    reason: format!(
                        "out of hours: a {target} application waits for the next working day"
                    ),
                };
            }
            OutOfHoursCallout::DomainRota => (domain_rota, team_rota),
            OutOfHoursCallout::TeamRota => (team_rota, domain_rota),
        };
        match first.or(second) {
            Some(rota) => Callout::Page {
                reason: format!("out of hours, {target} target: rota {rota}"),
                rota: Some(rota),
            },
            None => Callout::Page {
                rota: None,
                reason: format!("out of hours, {target} target: {team} has no rota, all hands"),
            },
        }
    }

    /// The escalation for an incident of `team` paged through `rota` (`None`: all hands only).
    pub fn escalation_plan(&self, team: &TeamId, rota: Option<&RotaId>) -> EscalationPlan {
        let mut cycle: Vec<EscalationStep> = rota
            .and_then(|id| self.rota(id))
            .map(|r| {
                (0..r.layers.len())
                    .map(|layer| EscalationStep::Layer {
                        rota: r.id.clone(),
                        layer,
                    })
                    .collect()
            })
            .unwrap_or_default();
        cycle.push(EscalationStep::AllHands);
        EscalationPlan {
            cycle,
            policy: self.escalation_policy(team),
        }
    }

    /// Who step `step` pages for an incident of `team` at `at`. Empty when nobody holds the
    /// layer (the rotation has not begun): the caller moves straight on to the next step.
    pub fn recipients(
        &self,
        step: &EscalationStep,
        team: &TeamId,
        at: Timestamp,
    ) -> Vec<Recipient> {
        match step {
            EscalationStep::Layer { rota, layer } => {
                let Some(r) = self.rota(rota) else {
                    return Vec::new();
                };
                let name = r.layers.get(*layer).map_or("layer", |l| l.name.as_str());
                r.on_call(*layer, at)
                    .map(|shift| Recipient {
                        person: shift.person,
                        reason: format!("{name} on {rota}"),
                    })
                    .into_iter()
                    .collect()
            }
            EscalationStep::AllHands => self
                .team(team)
                .map(|t| {
                    t.members
                        .iter()
                        .map(|person| Recipient {
                            person: person.clone(),
                            reason: format!("all hands on {team}"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::team::DEFAULT_ACK_TIMEOUT;

    #[test]
    fn out_of_hours_callout_follows_the_target_bands() {
        let band = |percent: f64| {
            OutOfHoursCallout::for_target(AvailabilityTarget::from_percent(percent).unwrap())
        };
        assert_eq!(band(90.0), OutOfHoursCallout::NextWorkingDay);
        assert_eq!(band(95.0), OutOfHoursCallout::NextWorkingDay);
        assert_eq!(band(95.001), OutOfHoursCallout::DomainRota);
        assert_eq!(band(99.0), OutOfHoursCallout::DomainRota);
        assert_eq!(band(99.899), OutOfHoursCallout::DomainRota);
        assert_eq!(band(99.9), OutOfHoursCallout::TeamRota);
        assert_eq!(band(99.99), OutOfHoursCallout::TeamRota);
    }

    #[test]
    fn a_plan_numbers_its_steps_across_cycles() {
        let plan = EscalationPlan {
            cycle: vec![
                EscalationStep::Layer {
                    rota: RotaId::new("r").unwrap(),
                    layer: 0,
                },
                EscalationStep::AllHands,
            ],
            policy: EscalationPolicy {
                ack_timeout: DEFAULT_ACK_TIMEOUT,
                repeat: 1,
            },
        };
        assert_eq!(plan.len(), 4);
        assert_eq!(plan.step(0).map(|(c, _)| c), Some(0));
        assert_eq!(plan.step(3), Some((1, &EscalationStep::AllHands)));
        assert_eq!(plan.step(4), None);
    }
}

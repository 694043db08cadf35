//! Operability economics: what on-call costs each team, application by application; how available
//! each application was against its target; how fast incidents were acknowledged and restored;
//! and production support as revenue insurance (see docs/domain.md).
//!
//! Everything here is a pure function of the config, the incidents of a period and the period
//! itself. Money is in whole units of the workspace currency as configured; computed amounts are
//! kept as `f64` and rounded to cents only when shown.

mod availability;
mod fit;
mod ledger;
mod loss;
#[cfg(test)]
mod tests;
mod times;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::Serialize;

use crate::config::Config;
use crate::ids::{ApplicationId, PersonId, TeamId};

pub use fit::{fit, warnings};
pub use ledger::out_of_hours;
pub use loss::{LossSoFar, effectiveness, loss_so_far, loss_stops_at, projected_loss};
pub use times::DurationStats;

pub use availability::merge as merge_spans;
use availability::{Calendar, Calendars, application_report, calendar_windows};
use ledger::Ledger;
use loss::incident_loss;
use times::times;

/// What the report needs of one incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    /// `INC-42`.
    pub id: String,
    pub application: Option<ApplicationId>,
    pub team: Option<TeamId>,
    pub opened_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<PersonId>,
    pub resolved_at: Option<Timestamp>,
    /// When its last alert resolved, if it had alerts and none fires now: the loss stops there.
    pub alerts_cleared_at: Option<Timestamp>,
    /// Everyone who joined the swarm as a responder, with when they joined and left.
    pub responders: Vec<(PersonId, Timestamp, Option<Timestamp>)>,
    /// A loss a person estimated instead of exposure × duration.
    pub loss_override: Option<u64>,
}

/// A period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    /// The period's length in seconds.
    pub fn seconds(self) -> f64 {
        self.to.duration_since(self.from).as_secs_f64()
    }

    pub(crate) fn hours(self) -> f64 {
        self.to.duration_since(self.from).as_secs_f64() / 3600.0
    }

    pub(crate) fn clip(self, start: Timestamp, end: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let (s, e) = (start.max(self.from), end.min(self.to));
        (s < e).then_some((s, e))
    }
}

/// One line of a team's budget: what it pays for on-call of one application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostLine {
    pub application: ApplicationId,
    pub standby: f64,
    pub callout: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamCost {
    pub team: TeamId,
    pub pay_model: &'static str,
    pub standby: f64,
    pub callout: f64,
    pub total: f64,
    pub lines: Vec<CostLine>,
}

/// What one person is owed for the period: a payroll line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonPay {
    pub person: PersonId,
    pub name: String,
    pub standby_hours: f64,
    pub callouts: usize,
    pub callout_hours: f64,
    pub standby_pay: f64,
    pub callout_pay: f64,
    pub total: f64,
}

/// Availability over one window (a calendar week or month, cut to the period).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvailabilityWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub unavailable_seconds: f64,
    pub tolerable_seconds: f64,
    /// Tolerable minus unavailable: negative when the target was missed.
    pub budget_remaining_seconds: f64,
    pub availability_percent: f64,
    pub met: bool,
}

/// The operating model the application's exposure and change rate suggest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fit {
    /// `you build it you run it`, `central operations`, `mixed` or `unknown`.
    pub model: &'static str,
    pub advice: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplicationReport {
    pub application: ApplicationId,
    pub name: String,
    pub team: TeamId,
    pub target_percent: f64,
    pub exposure_per_hour: u64,
    pub weeks: Vec<AvailabilityWindow>,
    pub months: Vec<AvailabilityWindow>,
    pub unavailable_seconds: f64,
    pub time_to_acknowledge: DurationStats,
    pub time_to_restore: DurationStats,
    pub projected_loss: f64,
    pub actual_loss: f64,
    pub effectiveness: Option<f64>,
    /// What on-call for it cost (its line in its budget holder's budget, with callouts).
    pub on_call_cost: f64,
    /// Projected minus actual loss: what production support kept from being lost.
    pub losses_avoided: f64,
    pub fit: Fit,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamTimes {
    pub team: TeamId,
    pub time_to_acknowledge: DurationStats,
    pub time_to_restore: DurationStats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentLoss {
    pub incident: String,
    pub application: Option<ApplicationId>,
    pub team: Option<TeamId>,
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// How long it cost money within the period: from opening until its alerts cleared or it
    /// resolved.
    pub duration_seconds: f64,
    pub estimated_loss: f64,
    /// Whether a person's figure replaced exposure × duration.
    pub loss_estimated_by_hand: bool,
}

impl ApplicationReport {
    /// Availability over the whole period, in percent.
    pub fn availability_percent(&self, period: Period) -> f64 {
        let length = period.seconds();
        if length > 0.0 {
            100.0 * (1.0 - self.unavailable_seconds / length)
        } else {
            100.0
        }
    }

    /// Unavailable time as a share of the unavailability the target tolerates over the period,
    /// in percent: above 100 the target was missed.
    pub fn budget_used_percent(&self, period: Period) -> f64 {
        let tolerable = period.seconds() * (1.0 - self.target_percent / 100.0);
        if tolerable > 0.0 {
            100.0 * self.unavailable_seconds / tolerable
        } else {
            0.0
        }
    }

    /// The calendar weeks in which the target was met.
    pub fn weeks_met(&self) -> usize {
        self.weeks.iter().filter(|w| w.met).count()
    }
}

impl IncidentLoss {
    /// How long it took to restore, for an incident resolved within the period.
    pub fn time_to_restore_seconds(&self, period: Period) -> Option<f64> {
        let resolved = self.resolved_at.filter(|r| *r < period.to)?;
        Some(resolved.duration_since(self.opened_at).as_secs_f64())
    }
}

/// The whole report for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    pub currency: String,
    pub teams: Vec<TeamCost>,
    pub people: Vec<PersonPay>,
    pub applications: Vec<ApplicationReport>,
    pub team_times: Vec<TeamTimes>,
    pub incidents: Vec<IncidentLoss>,
    pub warnings: Vec<String>,
}

/// Which teams the report is about: all, or one (its applications, its budget, its people).
pub type TeamFilter<'a> = Option<&'a TeamId>;

/// Builds the report for `period` from the config and the incidents that overlap it.
pub fn report(
    config: &Config,
    incidents: &[IncidentFacts],
    period: Period,
    only: TeamFilter<'_>,
) -> Report {
    let wanted = |team: &TeamId| only.is_none_or(|t| t == team);
    let mut ledger = Ledger {
        config,
        budget: BTreeMap::new(),
        pay: BTreeMap::new(),
    };
    for rota in &config.rotas {
        ledger.charge_standby(rota, period);
    }
    let mut losses = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let app = incident
            .application
            .as_ref()
            .and_then(|a| config.application(a));
        if let Some(app) = app {
            ledger.charge_callouts(incident, app, period);
        }
        losses.push(incident_loss(incident, app, period));
    }

    let teams: Vec<TeamCost> = ledger
        .budget
        .iter()
        .filter(|(team, _)| wanted(team))
        .map(|(team, lines)| {
            let lines: Vec<CostLine> = lines
                .iter()
                .map(|(application, (standby, callout))| CostLine {
                    application: application.clone(),
                    standby: *standby,
                    callout: *callout,
                })
                .collect();
            let standby = lines.iter().map(|l| l.standby).sum();
            let callout = lines.iter().map(|l| l.callout).sum();
            TeamCost {
                team: team.clone(),
                pay_model: config.pay_model(team).name(),
                standby,
                callout,
                total: standby + callout,
                lines,
            }
        })
        .collect();

    let members_of_wanted: BTreeSet<&PersonId> = config
        .teams
        .iter()
        .filter(|t| wanted(&t.id))
        .flat_map(|t| &t.members)
        .collect();
    let on_call_cost: BTreeMap<&ApplicationId, f64> = ledger.budget.values().flatten().fold(
        BTreeMap::new(),
        |mut costs, (app, (standby, callout))| {
            *costs.entry(app).or_default() += standby + callout;
            costs
        },
    );
    let people: Vec<PersonPay> = ledger
        .pay
        .values()
        .filter(|p| only.is_none() || members_of_wanted.contains(&p.person))
        .map(|p| PersonPay {
            total: p.standby_pay + p.callout_pay,
            ..p.clone()
        })
        .collect();

    // Grouped once, not searched once per application or team.
    let mut by_application: BTreeMap<&ApplicationId, Vec<&IncidentFacts>> = BTreeMap::new();
    let mut by_team: BTreeMap<&TeamId, Vec<&IncidentFacts>> = BTreeMap::new();
    for incident in incidents {
        if let Some(app) = &incident.application {
            by_application.entry(app).or_default().push(incident);
        }
        if let Some(team) = &incident.team {
            by_team.entry(team).or_default().push(incident);
        }
    }
    let mut actual_loss: BTreeMap<&ApplicationId, f64> = BTreeMap::new();
    for loss in &losses {
        if let Some(app) = &loss.application {
            *actual_loss.entry(app).or_default() += loss.estimated_loss;
        }
    }
    let zone = &config.workspace.time_zone;
    let calendar = Calendars {
        weeks: calendar_windows(period, zone, Calendar::Week),
        months: calendar_windows(period, zone, Calendar::Month),
    };
    let applications: Vec<ApplicationReport> = config
        .applications
        .iter()
        .filter(|a| wanted(&a.team))
        .map(|app| {
            let own = by_application.get(&app.id).map_or(&[][..], Vec::as_slice);
            let mut report = application_report(app, own, period, &calendar);
            report.actual_loss = actual_loss.get(&app.id).copied().unwrap_or(0.0);
            report.effectiveness = effectiveness(report.projected_loss, report.actual_loss);
            report.losses_avoided = report.projected_loss - report.actual_loss;
            report.on_call_cost = on_call_cost.get(&app.id).copied().unwrap_or(0.0);
            report
        })
        .collect();

    let team_times = config
        .teams
        .iter()
        .filter(|t| t.kind == crate::team::TeamKind::Delivery && wanted(&t.id))
        .map(|team| {
            let own = by_team.get(&team.id).map_or(&[][..], Vec::as_slice);
            let (time_to_acknowledge, time_to_restore) = times(own, period);
            TeamTimes {
                team: team.id.clone(),
                time_to_acknowledge,
                time_to_restore,
            }
        })
        .collect();

    Report {
        period,
        currency: config.workspace.currency.to_string(),
        teams,
        people,
        applications,
        team_times,
        incidents: losses
            .into_iter()
            .filter(|l| only.is_none() || l.team.as_ref().is_some_and(&wanted))
            .collect(),
        warnings: warnings(config),
    }
}

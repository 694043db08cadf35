//! Operability economics: what on-call costs each team, application by application; how available
//! each application was against its target; how fast incidents were acknowledged and restored;
//! and production support as revenue insurance (see docs/domain.md).
//!
//! Everything here is a pure function of the config, the incidents of a period and the period
//! itself. Money is in whole units of the workspace currency as configured; computed amounts are
//! kept as `f64` and rounded to cents only when shown.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;

use crate::application::Application;
use crate::config::Config;
use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::workspace::WorkingHours;

/// What a rate is paid per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayBasis {
    Hour,
    Day,
    Week,
}

impl PayBasis {
    fn hours(self) -> f64 {
        match self {
            Self::Hour => 1.0,
            Self::Day => 24.0,
            Self::Week => 168.0,
        }
    }
}

/// How people are paid for being on call: a flat standby rate, and with "standby and callout" an
/// hourly rate while responding out of hours. (Callout-only pay is unfair and not offered.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PayModel {
    /// Paid per `per` on call, whether paged or not, in whole units of the currency.
    pub standby: u64,
    pub per: PayBasis,
    /// Paid per hour of out-of-hours response; `None` for "standby only".
    pub callout_per_hour: Option<u64>,
}

impl PayModel {
    pub fn standby_per_hour(&self) -> f64 {
        self.standby as f64 / self.per.hours()
    }

    pub fn name(&self) -> &'static str {
        if self.callout_per_hour.is_some() {
            "standby and callout"
        } else {
            "standby only"
        }
    }
}

impl Default for PayModel {
    /// Nothing configured: nothing paid, and the report says so.
    fn default() -> Self {
        Self {
            standby: 0,
            per: PayBasis::Week,
            callout_per_hour: None,
        }
    }
}

/// How a rota's standby cost is split into one line per application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CostSplit {
    /// Every application the rota covers gets the same share.
    #[default]
    Equal,
    /// Shares in proportion to each application's exposure per hour.
    Exposure,
}

/// The workspace's `[pay]`: the default pay model and how standby is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaySettings {
    /// `None` when the config has no `[pay]`: costs are zero and the report warns.
    pub model: Option<PayModel>,
    pub split: CostSplit,
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
    fn hours(self) -> f64 {
        self.to.duration_since(self.from).as_secs_f64() / 3600.0
    }

    fn clip(self, start: Timestamp, end: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let (s, e) = (start.max(self.from), end.min(self.to));
        (s < e).then_some((s, e))
    }
}

/// The time of `[start, end)` that falls outside working hours, reading the wall clock in `zone`.
pub fn out_of_hours(
    hours: &WorkingHours,
    zone: &TimeZone,
    start: Timestamp,
    end: Timestamp,
) -> SignedDuration {
    if end <= start {
        return SignedDuration::ZERO;
    }
    let mut working = SignedDuration::ZERO;
    let mut date: Date = zone.to_datetime(start).date();
    let last: Date = zone.to_datetime(end).date();
    while date <= last {
        if hours.days.contains(&date.weekday()) && !hours.holidays.contains(&date) {
            let at = |time| {
                zone.to_ambiguous_timestamp(date.to_datetime(time))
                    .compatible()
                    .ok()
            };
            if let (Some(open), Some(close)) = (at(hours.start), at(hours.end)) {
                let (s, e) = (open.max(start), close.min(end));
                if s < e {
                    working += e.duration_since(s);
                }
            }
        }
        let Ok(next) = date.checked_add(1.day()) else {
            break;
        };
        date = next;
    }
    end.duration_since(start) - working
}

/// Mean, median and 90th percentile (nearest rank) of some durations, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct DurationStats {
    pub count: usize,
    pub mean_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

impl DurationStats {
    pub fn of(mut seconds: Vec<f64>) -> Self {
        if seconds.is_empty() {
            return Self::default();
        }
        seconds.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let index = ((p * seconds.len() as f64).ceil() as usize).clamp(1, seconds.len()) - 1;
            seconds[index]
        };
        let median = if seconds.len() % 2 == 1 {
            seconds[seconds.len() / 2]
        } else {
            (seconds[seconds.len() / 2 - 1] + seconds[seconds.len() / 2]) / 2.0
        };
        Self {
            count: seconds.len(),
            mean_seconds: Some(seconds.iter().sum::<f64>() / seconds.len() as f64),
            median_seconds: Some(median),
            p90_seconds: Some(rank(0.9)),
        }
    }
}

/// Financial loss protection effectiveness: (projected − actual) / projected; `None` without a
/// projection (an application with no tolerable unavailability or no exposure).
pub fn effectiveness(projected: f64, actual: f64) -> Option<f64> {
    (projected > 0.0).then(|| (projected - actual) / projected)
}

/// The loss expected over `hours` of the period if the application used exactly its tolerable
/// unavailability: exposure per hour × tolerable unavailability per week × weeks.
pub fn projected_loss(app: &Application, hours: f64) -> f64 {
    let tolerable_hours_per_week =
        app.target.tolerable_unavailability_per_week().as_secs_f64() / 3600.0;
    app.exposure_per_hour.0 as f64 * tolerable_hours_per_week * hours / 168.0
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
    /// Open for this long within the period.
    pub duration_seconds: f64,
    pub estimated_loss: f64,
    /// Whether a person's figure replaced exposure × duration.
    pub loss_estimated_by_hand: bool,
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
            .and_then(|a| config.application(a.as_str()));
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

/// What the period's on-call is charged and owed, as it is added up.
struct Ledger<'c> {
    config: &'c Config,
    /// Budget holder → application → (standby, callout).
    budget: BTreeMap<TeamId, BTreeMap<ApplicationId, (f64, f64)>>,
    pay: BTreeMap<PersonId, PersonPay>,
}

impl Ledger<'_> {
    /// The person's pay line, started at zero.
    fn person(&mut self, person: &PersonId) -> &mut PersonPay {
        let config = self.config;
        self.pay.entry(person.clone()).or_insert_with(|| PersonPay {
            person: person.clone(),
            name: config
                .people
                .iter()
                .find(|p| &p.id == person)
                .map_or_else(|| person.to_string(), |p| p.name.clone()),
            standby_hours: 0.0,
            callouts: 0,
            callout_hours: 0.0,
            standby_pay: 0.0,
            callout_pay: 0.0,
            total: 0.0,
        })
    }

    /// Standby: every shift of every layer, paid at the budget holder's rate, charged to it and
    /// split over the applications the rota covers.
    fn charge_standby(&mut self, rota: &crate::rota::Rota, period: Period) {
        let config = self.config;
        let rate = config.pay_model(&rota.budget_holder).standby_per_hour();
        let mut rota_cost = 0.0;
        for layer in 0..rota.layers.len() {
            for shift in rota.shifts(layer, period.from, period.to) {
                let hours = shift.end.duration_since(shift.start).as_secs_f64() / 3600.0;
                let cost = hours * rate;
                rota_cost += cost;
                let entry = self.person(&shift.person);
                entry.standby_hours += hours;
                entry.standby_pay += cost;
            }
        }
        let covered: Vec<&Application> = config
            .applications
            .iter()
            .filter(|a| rota.teams.contains(&a.team))
            .collect();
        let weights: Vec<f64> = covered
            .iter()
            .map(|a| match config.pay.split {
                CostSplit::Equal => 1.0,
                CostSplit::Exposure => a.exposure_per_hour.0 as f64,
            })
            .collect();
        let total_weight: f64 = weights.iter().sum();
        let lines = self.budget.entry(rota.budget_holder.clone()).or_default();
        for (app, weight) in covered.iter().zip(&weights) {
            let share = if total_weight > 0.0 {
                rota_cost * weight / total_weight
            } else {
                rota_cost / covered.len() as f64
            };
            lines.entry(app.id.clone()).or_default().0 += share;
        }
    }

    /// Callouts: out-of-hours response from acknowledgement to resolution, for the person who
    /// acknowledged and each responder who joined, charged to the incident's application.
    fn charge_callouts(&mut self, incident: &IncidentFacts, app: &Application, period: Period) {
        let Some(acked) = incident.acknowledged_at else {
            return;
        };
        let (hours, zone) = (
            &self.config.workspace.working_hours,
            &self.config.workspace.time_zone,
        );
        let end = incident.resolved_at.unwrap_or(period.to);
        let mut spans: BTreeMap<PersonId, Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
        if let Some(by) = &incident.acknowledged_by {
            spans.entry(by.clone()).or_default().push((acked, end));
        }
        for (person, since, until) in &incident.responders {
            let (s, e) = ((*since).max(acked), until.unwrap_or(end).min(end));
            if s < e {
                spans.entry(person.clone()).or_default().push((s, e));
            }
        }
        let rate = self
            .config
            .pay_model(&app.team)
            .callout_per_hour
            .unwrap_or(0) as f64;
        for (person, mut list) in spans {
            let mut callout = SignedDuration::ZERO;
            for (s, e) in merge(&mut list) {
                if let Some((s, e)) = period.clip(s, e) {
                    callout += out_of_hours(hours, zone, s, e);
                }
            }
            if callout.is_zero() {
                continue;
            }
            let callout_hours = callout.as_secs_f64() / 3600.0;
            let cost = callout_hours * rate;
            let entry = self.person(&person);
            entry.callouts += 1;
            entry.callout_hours += callout_hours;
            entry.callout_pay += cost;
            self.budget
                .entry(app.team.clone())
                .or_default()
                .entry(app.id.clone())
                .or_default()
                .1 += cost;
        }
    }
}

/// An incident's estimated loss in the period: a person's figure, else exposure × the time it
/// was open in the period.
fn incident_loss(
    incident: &IncidentFacts,
    app: Option<&Application>,
    period: Period,
) -> IncidentLoss {
    let end = incident.resolved_at.unwrap_or(period.to);
    let duration = period
        .clip(incident.opened_at, end)
        .map_or(0.0, |(s, e)| e.duration_since(s).as_secs_f64());
    let loss = match (incident.loss_override, app) {
        (Some(figure), _) => figure as f64,
        (None, Some(app)) => app.exposure_per_hour.0 as f64 * duration / 3600.0,
        (None, None) => 0.0,
    };
    IncidentLoss {
        incident: incident.id.clone(),
        application: incident.application.clone(),
        team: incident.team.clone(),
        opened_at: incident.opened_at,
        resolved_at: incident.resolved_at,
        duration_seconds: duration,
        estimated_loss: loss,
        loss_estimated_by_hand: incident.loss_override.is_some(),
    }
}

/// Time to acknowledge and to restore of the incidents opened in the period.
fn times(incidents: &[&IncidentFacts], period: Period) -> (DurationStats, DurationStats) {
    let opened: Vec<&&IncidentFacts> = incidents
        .iter()
        .filter(|i| period.from <= i.opened_at && i.opened_at < period.to)
        .collect();
    (
        DurationStats::of(opened.iter().filter_map(|i| tta(i)).collect()),
        DurationStats::of(opened.iter().filter_map(|i| ttr(i)).collect()),
    )
}

/// The period's calendar weeks and months, the same for every application.
struct Calendars {
    weeks: Vec<(Timestamp, Timestamp)>,
    months: Vec<(Timestamp, Timestamp)>,
}

/// An application's availability, times and projected loss from its own incidents; the caller
/// adds what depends on the whole report (actual loss, effectiveness, on-call cost).
fn application_report(
    app: &Application,
    own: &[&IncidentFacts],
    period: Period,
    calendar: &Calendars,
) -> ApplicationReport {
    let mut down: Vec<(Timestamp, Timestamp)> = own
        .iter()
        .filter_map(|i| period.clip(i.opened_at, i.resolved_at.unwrap_or(period.to)))
        .collect();
    let down = merge(&mut down);
    let window = |&(start, end): &(Timestamp, Timestamp)| {
        let unavailable: f64 = down
            .iter()
            .filter_map(|(s, e)| {
                let (s, e) = ((*s).max(start), (*e).min(end));
                (s < e).then(|| e.duration_since(s).as_secs_f64())
            })
            .sum();
        let length = end.duration_since(start).as_secs_f64();
        let tolerable = length * (1.0 - app.target.percent() / 100.0);
        AvailabilityWindow {
            start,
            end,
            unavailable_seconds: unavailable,
            tolerable_seconds: tolerable,
            budget_remaining_seconds: tolerable - unavailable,
            availability_percent: 100.0 * (1.0 - unavailable / length),
            met: unavailable <= tolerable,
        }
    };
    let (time_to_acknowledge, time_to_restore) = times(own, period);
    let projected = projected_loss(app, period.hours());
    ApplicationReport {
        application: app.id.clone(),
        name: app.name.clone(),
        team: app.team.clone(),
        target_percent: app.target.percent(),
        exposure_per_hour: app.exposure_per_hour.0,
        weeks: calendar.weeks.iter().map(window).collect(),
        months: calendar.months.iter().map(window).collect(),
        unavailable_seconds: down
            .iter()
            .map(|(s, e)| e.duration_since(*s).as_secs_f64())
            .sum(),
        time_to_acknowledge,
        time_to_restore,
        projected_loss: projected,
        actual_loss: 0.0,
        effectiveness: effectiveness(projected, 0.0),
        on_call_cost: 0.0,
        losses_avoided: projected,
        fit: fit(app, app.deploys),
    }
}

fn tta(incident: &IncidentFacts) -> Option<f64> {
    Some(
        incident
            .acknowledged_at?
            .duration_since(incident.opened_at)
            .as_secs_f64(),
    )
}

fn ttr(incident: &IncidentFacts) -> Option<f64> {
    Some(
        incident
            .resolved_at?
            .duration_since(incident.opened_at)
            .as_secs_f64(),
    )
}

/// Sorts and joins overlapping spans, so overlapping incidents count once.
fn merge(spans: &mut [(Timestamp, Timestamp)]) -> Vec<(Timestamp, Timestamp)> {
    spans.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
    for &(s, e) in spans.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[derive(Debug, Clone, Copy)]
enum Calendar {
    Week,
    Month,
}

/// The calendar weeks (Monday to Monday) or months of the workspace's zone that overlap the
/// period, each cut to it.
fn calendar_windows(
    period: Period,
    zone: &TimeZone,
    calendar: Calendar,
) -> Vec<(Timestamp, Timestamp)> {
    let start_of = |date: Date| {
        zone.to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .compatible()
            .ok()
    };
    let first = zone.to_datetime(period.from).date();
    let mut date = match calendar {
        Calendar::Week => first
            .checked_sub((first.weekday().to_monday_zero_offset() as i64).days())
            .unwrap_or(first),
        Calendar::Month => first.first_of_month(),
    };
    let mut windows = Vec::new();
    while let Some(start) = start_of(date) {
        if start >= period.to {
            break;
        }
        let next = match calendar {
            Calendar::Week => date.checked_add(7.days()),
            Calendar::Month => date.checked_add(1.month()),
        };
        let Ok(next) = next else { break };
        let Some(end) = start_of(next) else { break };
        if let Some(window) = period.clip(start, end) {
            windows.push(window);
        }
        date = next;
    }
    windows
}

/// The operating model exposure (as the availability target) and feature demand (as deployment
/// frequency) point to: weekly or faster with a 99.0%+ target favours You Build It You Run It;
/// fortnightly or slower with a lower target favours a central operations team.
pub fn fit(app: &Application, deploys: Option<DeployFrequency>) -> Fit {
    let high = app.target.percent() >= 99.0;
    let Some(deploys) = deploys else {
        return Fit {
            model: "unknown",
            advice: "set `deploys` on the application to judge its operating model".to_owned(),
        };
    };
    let fast = deploys >= DeployFrequency::Weekly;
    match (fast, high) {
        (true, true) => Fit {
            model: "you build it you run it",
            advice: "frequent change and high exposure: the team that builds it runs it, on call out of hours".to_owned(),
        },
        (false, false) => Fit {
            model: "central operations",
            advice: "infrequent change and low exposure: a central operations team could run it".to_owned(),
        },
        (true, false) => Fit {
            model: "you build it you run it",
            advice: "frequent change but low exposure: the team runs it in working hours; an out-of-hours rota is not worth its cost".to_owned(),
        },
        (false, true) => Fit {
            model: "mixed",
            advice: "high exposure but infrequent change: check the availability target, or deploy more often".to_owned(),
        },
    }
}

/// Warnings about the on-call arrangement itself.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut warnings = Vec::new();
    if config.pay.model.is_none() && config.teams.iter().all(|t| t.pay.is_none()) {
        warnings.push("no [pay] in the config: on-call costs are shown as zero".to_owned());
    }
    let delivery = config
        .teams
        .iter()
        .filter(|t| t.kind == crate::team::TeamKind::Delivery)
        .count();
    let own_rotas = config.rotas.iter().filter(|r| !r.is_domain()).count();
    if own_rotas >= 3 && own_rotas * 2 > delivery {
        warnings.push(format!(
            "{own_rotas} teams run their own out-of-hours rota: check their availability targets (a domain rota shared by sibling teams costs less)"
        ));
    }
    for rota in &config.rotas {
        let people: BTreeSet<&PersonId> = rota.layers.iter().flat_map(|l| &l.members).collect();
        if people.len() < 3 {
            warnings.push(format!(
                "rota {} has fewer than 3 people ({}): on call too often to be sustainable",
                rota.id,
                people.len()
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn person(id: &str) -> PersonId {
        PersonId::new(id).unwrap()
    }

    const CONFIG: &str = r#"
[workspace]
name = "Shop"
time_zone = "Europe/London"
currency = "GBP"
working_hours = { days = ["mon", "tue", "wed", "thu", "fri"], start = "09:00", end = "17:00" }

[pay]
model = "standby_and_callout"
standby = 168
per = "week"
callout_per_hour = 40
split = "exposure"

[[people]]
id = "alice"
name = "Alice"
[[people]]
id = "bob"
name = "Bob"
[[people]]
id = "cy"
name = "Cy"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice", "bob", "cy"]

[[applications]]
id = "gateway"
name = "Gateway"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000
deploys = "daily"

[[applications]]
id = "refunds"
name = "Refunds"
team = "payments"
availability_target = 99.0
exposure_per_hour = 200000
deploys = "weekly"

[[rotas]]
id = "payments-oncall"
teams = ["payments"]
time_zone = "Europe/London"
[[rotas.layers]]
name = "primary"
members = ["alice", "bob", "cy"]
start = "2026-11-02"
handoff = "mon 00:00"
"#;

    fn config() -> Config {
        Config::parse("test.toml", CONFIG).unwrap()
    }

    /// Monday 23 November 2026 00:00 to the next Monday, London (GMT, so UTC).
    fn week() -> Period {
        Period {
            from: at("2026-11-23T00:00:00Z"),
            to: at("2026-11-30T00:00:00Z"),
        }
    }

    /// Saturday morning: opened 09:50, acknowledged by alice at 10:00, bob joins at 10:30,
    /// restored at 12:00.
    fn saturday_outage() -> IncidentFacts {
        IncidentFacts {
            id: "INC-1".into(),
            application: Some(ApplicationId::new("gateway").unwrap()),
            team: Some(TeamId::new("payments").unwrap()),
            opened_at: at("2026-11-28T09:50:00Z"),
            acknowledged_at: Some(at("2026-11-28T10:00:00Z")),
            acknowledged_by: Some(person("alice")),
            resolved_at: Some(at("2026-11-28T12:00:00Z")),
            responders: vec![(person("bob"), at("2026-11-28T10:30:00Z"), None)],
            loss_override: None,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn out_of_hours_time_reads_the_working_week_and_holidays() {
        let config = config();
        let (hours, zone) = (&config.workspace.working_hours, &config.workspace.time_zone);
        let ooh = |from: &str, to: &str| out_of_hours(hours, zone, at(from), at(to)).as_secs() / 60;
        // Monday 16:00 to 18:00: one hour in, one out.
        assert_eq!(ooh("2026-11-23T16:00:00Z", "2026-11-23T18:00:00Z"), 60);
        // Friday 16:00 to Monday 10:00: 66 hours, 2 of them in working hours.
        assert_eq!(ooh("2026-11-27T16:00:00Z", "2026-11-30T10:00:00Z"), 64 * 60);
        // In summer time working hours are 08:00 to 16:00 UTC.
        assert_eq!(ooh("2026-07-06T07:00:00Z", "2026-07-06T09:00:00Z"), 60);
        let mut holiday = hours.clone();
        holiday.holidays.insert("2026-11-23".parse().unwrap());
        assert_eq!(
            out_of_hours(
                &holiday,
                zone,
                at("2026-11-23T10:00:00Z"),
                at("2026-11-23T11:00:00Z")
            )
            .as_secs(),
            3600,
            "a holiday is out of hours all day"
        );
    }

    #[test]
    fn statistics_are_mean_median_and_nearest_rank_p90() {
        let stats = DurationStats::of((1..=10).map(|m| f64::from(m) * 60.0).collect());
        assert_eq!(stats.count, 10);
        assert!(close(stats.mean_seconds.unwrap(), 330.0));
        assert!(close(stats.median_seconds.unwrap(), 330.0));
        assert!(close(stats.p90_seconds.unwrap(), 540.0));
        let odd = DurationStats::of(vec![30.0, 10.0, 20.0]);
        assert_eq!(
            (odd.median_seconds, odd.p90_seconds),
            (Some(20.0), Some(30.0))
        );
        assert_eq!(DurationStats::of(Vec::new()).mean_seconds, None);
    }

    #[test]
    fn the_playbooks_worked_example_of_loss_protection() {
        // 200,000 an hour at 99.0%: 1h 40m 48s a week may be lost, 336,000 projected; an
        // incident that lost 100,000 leaves 70% effectiveness.
        let mut app = config().applications[1].clone();
        app.exposure_per_hour = crate::money::ExposurePerHour(200_000);
        let projected = projected_loss(&app, 168.0);
        assert!(close(projected, 336_000.0), "{projected}");
        let e = effectiveness(projected, 100_000.0).unwrap();
        assert!(close(e, 236_000.0 / 336_000.0));
        assert_eq!((e * 100.0).round(), 70.0);
        assert_eq!(effectiveness(0.0, 5.0), None);
    }

    #[test]
    fn a_week_of_on_call_in_money_and_minutes() {
        let config = config();
        let report = report(&config, &[saturday_outage()], week(), None);

        // Standby: 168 hours at 168 a week, split 600,000 : 200,000 by exposure.
        let payments = &report.teams[0];
        assert_eq!(payments.pay_model, "standby and callout");
        assert!(close(payments.standby, 168.0));
        let line = |app: &str| {
            payments
                .lines
                .iter()
                .find(|l| l.application.as_str() == app)
                .unwrap()
        };
        assert!(close(line("gateway").standby, 126.0));
        assert!(close(line("refunds").standby, 42.0));
        // Callout: Saturday, all out of hours. Alice 10:00-12:00, Bob 10:30-12:00: 3.5 h at 40.
        assert!(close(line("gateway").callout, 140.0));
        assert!(close(line("refunds").callout, 0.0));
        assert!(close(payments.total, 308.0));

        // Pay per person: whoever held the week's shift has 168 standby hours.
        let total_standby: f64 = report.people.iter().map(|p| p.standby_hours).sum();
        assert!(close(total_standby, 168.0));
        let alice = report
            .people
            .iter()
            .find(|p| p.person.as_str() == "alice")
            .unwrap();
        let bob = report
            .people
            .iter()
            .find(|p| p.person.as_str() == "bob")
            .unwrap();
        assert_eq!((alice.callouts, bob.callouts), (1, 1));
        assert!(close(alice.callout_hours, 2.0) && close(alice.callout_pay, 80.0));
        assert!(close(bob.callout_hours, 1.5) && close(bob.callout_pay, 60.0));

        // Availability: down 2 h 10 m against 10 m 4.8 s tolerable at 99.9%.
        let gateway = &report.applications[0];
        assert_eq!(gateway.weeks.len(), 1);
        let w = &gateway.weeks[0];
        assert!(close(w.unavailable_seconds, 7800.0));
        assert!(close(w.tolerable_seconds, 604.8));
        assert!(close(w.budget_remaining_seconds, 604.8 - 7800.0));
        assert!(!w.met);
        assert_eq!(gateway.months.len(), 1, "all within November");
        let refunds = &report.applications[1];
        assert!(refunds.weeks[0].met && close(refunds.weeks[0].budget_remaining_seconds, 6048.0));

        // Times: acknowledged after 10 minutes, restored after 2 h 10 m.
        assert_eq!(gateway.time_to_acknowledge.mean_seconds, Some(600.0));
        assert_eq!(gateway.time_to_restore.p90_seconds, Some(7800.0));
        assert_eq!(
            report.team_times[0].time_to_restore.median_seconds,
            Some(7800.0)
        );

        // Revenue insurance: 600,000 × 2 h 10 m lost; 600,000 × 0.168 h projected.
        assert!(close(report.incidents[0].estimated_loss, 1_300_000.0));
        assert!(close(gateway.actual_loss, 1_300_000.0));
        assert!(close(gateway.projected_loss, 100_800.0));
        assert!(close(
            gateway.effectiveness.unwrap(),
            (100_800.0 - 1_300_000.0) / 100_800.0
        ));
        assert!(close(gateway.on_call_cost, 266.0));
        assert_eq!(gateway.fit.model, "you build it you run it");
        assert_eq!(refunds.fit.model, "you build it you run it");
    }

    #[test]
    fn a_persons_loss_figure_replaces_exposure_times_duration() {
        let outage = IncidentFacts {
            loss_override: Some(5_000),
            ..saturday_outage()
        };
        let report = report(&config(), &[outage], week(), None);
        assert!(close(report.incidents[0].estimated_loss, 5_000.0));
        assert!(report.incidents[0].loss_estimated_by_hand);
    }

    #[test]
    fn a_domain_rota_is_charged_to_its_budget_holder_for_every_team_it_covers() {
        let text = CONFIG.replace(
            "[[rotas]]\nid = \"payments-oncall\"\nteams = [\"payments\"]",
            "[[teams]]\nid = \"search\"\nname = \"Search\"\nkind = \"delivery\"\nmembers = [\"cy\"]\n\n[[applications]]\nid = \"finder\"\nname = \"Finder\"\nteam = \"search\"\navailability_target = 99.0\nexposure_per_hour = 200000\n\n[[rotas]]\nid = \"payments-oncall\"\nteams = [\"payments\", \"search\"]\nbudget_holder = \"payments\"",
        ).replace("split = \"exposure\"", "split = \"equal\"");
        let config = Config::parse("test.toml", &text).unwrap();
        let report = report(&config, &[], week(), None);
        assert_eq!(report.teams.len(), 1, "only the budget holder pays");
        let lines = &report.teams[0].lines;
        assert_eq!(lines.len(), 3, "one line per application the rota covers");
        assert!(lines.iter().all(|l| close(l.standby, 56.0)), "{lines:?}");
        let only_search =
            super::report(&config, &[], week(), Some(&TeamId::new("search").unwrap()));
        assert!(only_search.teams.is_empty());
        assert_eq!(only_search.applications.len(), 1);
    }

    #[test]
    fn the_operating_model_follows_exposure_and_change_and_warnings_name_the_risk() {
        let config = config();
        let mut app = config.applications[1].clone();
        app.target = crate::target::AvailabilityTarget::from_percent(95.0).unwrap();
        assert_eq!(
            fit(&app, Some(DeployFrequency::Monthly)).model,
            "central operations"
        );
        assert_eq!(fit(&app, None).model, "unknown");
        let gateway = &config.applications[0];
        assert_eq!(
            fit(gateway, Some(DeployFrequency::Fortnightly)).model,
            "mixed"
        );

        let small = CONFIG.replace(
            "members = [\"alice\", \"bob\", \"cy\"]\nstart",
            "members = [\"alice\", \"bob\"]\nstart",
        );
        let warnings = warnings(&Config::parse("test.toml", &small).unwrap());
        assert_eq!(
            warnings,
            vec![
                "rota payments-oncall has fewer than 3 people (2): on call too often to be sustainable"
            ]
        );
        let unpaid = CONFIG.replace("[pay]\nmodel", "[unused]\nmodel");
        assert!(
            Config::parse("test.toml", &unpaid).is_err(),
            "unknown tables are errors"
        );
    }

    #[test]
    fn pay_mistakes_are_config_errors_at_their_place() {
        let bad = CONFIG
            .replace("model = \"standby_and_callout\"", "model = \"callout_only\"")
            .replace("members = [\"alice\", \"bob\", \"cy\"]\n\n[[applications]]", "members = [\"alice\", \"bob\", \"cy\"]\npay = { model = \"standby_and_callout\", per = \"fortnight\", split = \"equal\" }\n\n[[applications]]")
            .replace("deploys = \"daily\"", "deploys = \"hourly\"");
        let problems = Config::parse("test.toml", &bad).unwrap_err().problems;
        let keys: Vec<(&str, usize)> = problems.iter().map(|p| (p.key.as_str(), p.line)).collect();
        assert_eq!(
            keys,
            vec![
                ("teams[0].pay.split", 30),
                ("teams[0].pay.per", 30),
                ("pay.model", 9),
                ("applications[0].deploys", 38),
            ],
            "{problems:#?}"
        );
        assert!(problems[2].message.contains("callout-only pay is unfair"));
        let missing = CONFIG.replace("callout_per_hour = 40\n", "");
        let problems = Config::parse("test.toml", &missing).unwrap_err().problems;
        assert!(
            problems[0].message.contains("needs callout_per_hour"),
            "{problems:?}"
        );
    }

    #[test]
    fn many_teams_with_their_own_out_of_hours_rota_is_a_warning() {
        let mut text = CONFIG.to_owned();
        for team in ["a", "b"] {
            text.push_str(&format!(
                "\n[[teams]]\nid = \"{team}\"\nname = \"{team}\"\nkind = \"delivery\"\nmembers = [\"alice\", \"bob\", \"cy\"]\n\n[[rotas]]\nid = \"{team}-oncall\"\nteams = [\"{team}\"]\ntime_zone = \"Europe/London\"\n[[rotas.layers]]\nname = \"primary\"\nmembers = [\"alice\", \"bob\", \"cy\"]\nstart = \"2026-11-02\"\n"
            ));
        }
        let warnings = warnings(&Config::parse("test.toml", &text).unwrap());
        assert_eq!(
            warnings,
            vec![
                "3 teams run their own out-of-hours rota: check their availability targets (a domain rota shared by sibling teams costs less)"
            ]
        );
    }

    #[test]
    fn standby_follows_the_actual_shifts_overrides_included() {
        // The week of 23 November is alice's turn; cy covers Wednesday.
        let text = format!(
            "{CONFIG}\n[[rotas.overrides]]\nlayer = \"primary\"\nperson = \"cy\"\nfrom = \"2026-11-25 00:00\"\nto = \"2026-11-26 00:00\"\n"
        );
        let config = Config::parse("test.toml", &text).unwrap();
        let report = report(&config, &[], week(), None);
        let hours = |id: &str| {
            report
                .people
                .iter()
                .find(|p| p.person.as_str() == id)
                .map_or(0.0, |p| p.standby_hours)
        };
        assert!(close(hours("alice"), 144.0), "{:?}", report.people);
        assert!(close(hours("cy"), 24.0));
        assert!(close(hours("bob"), 0.0));
        let cy = report
            .people
            .iter()
            .find(|p| p.person.as_str() == "cy")
            .unwrap();
        assert!(close(cy.standby_pay, 24.0), "168 a week is 1 an hour");
        assert!(
            close(report.teams[0].standby, 168.0),
            "the rota costs the same"
        );
    }
}

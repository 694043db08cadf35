//! The ledger: standby charged per rota to its budget holder, one line per application it
//! covers; out-of-hours callouts charged to the incident's application; and what each person is
//! owed, for payroll.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::availability::merge;
use super::{IncidentFacts, Period, PersonPay};
use crate::application::Application;
use crate::config::Config;
use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::pay::CostSplit;
use crate::workspace::WorkingHours;

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

/// What the period's on-call is charged and owed, as it is added up.
pub(super) struct Ledger<'c> {
    pub(super) config: &'c Config,
    /// Budget holder → application → (standby, callout).
    pub(super) budget: BTreeMap<TeamId, BTreeMap<ApplicationId, (f64, f64)>>,
    pub(super) pay: BTreeMap<PersonId, PersonPay>,
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
    pub(super) fn charge_standby(&mut self, rota: &crate::rota::Rota, period: Period) {
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
    pub(super) fn charge_callouts(
        &mut self,
        incident: &IncidentFacts,
        app: &Application,
        period: Period,
    ) {
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

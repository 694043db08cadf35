//! Each application's row of the report: availability per calendar week and month against
//! its target, its times, and its projected loss; and the calendar windows, worked out once.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::fit::fit;
use super::loss::{effectiveness, projected_loss};
use super::times::times;
use super::{ApplicationReport, AvailabilityWindow, IncidentFacts, Period};
use crate::application::Application;

/// The period's calendar weeks and months, the same for every application.
pub(super) struct Calendars {
    pub(super) weeks: Vec<(Timestamp, Timestamp)>,
    pub(super) months: Vec<(Timestamp, Timestamp)>,
}

/// An application's availability, times and projected loss from its own incidents; the caller
/// adds what depends on the whole report (actual loss, effectiveness, on-call cost).
pub(super) fn application_report(
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

/// Sorts and joins overlapping spans, so overlapping incidents count once.
pub fn merge(spans: &mut [(Timestamp, Timestamp)]) -> Vec<(Timestamp, Timestamp)> {
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
pub(super) enum Calendar {
    Week,
    Month,
}

/// The calendar weeks (Monday to Monday) or months of the workspace's zone that overlap the
/// period, each cut to it.
pub(super) fn calendar_windows(
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

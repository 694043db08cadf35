//! Settings that hold for the whole organisation: its name, time zone, working hours (with
//! holidays) and currency. Working hours decide in-hours against out-of-hours callout.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::money::Currency;

#[derive(Debug, Clone)]
pub struct WorkspaceSettings {
    pub name: String,
    /// The IANA name as written in config (`Europe/London`), kept for display.
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    pub working_hours: WorkingHours,
    pub currency: Currency,
    /// How dates, times and numbers read in the app (a BCP 47 tag, `en-GB`); `None`: British
    /// English, the language of the app's words.
    pub locale: Option<String>,
    /// An incident whose estimated loss over its first hour reaches this is major; below, minor.
    pub major_loss_per_hour: u64,
}

/// The default threshold between minor and major incidents: above the 99.0% band's maximum
/// exposure (docs/domain.md), so every application in the 99.9% band starts major.
pub const DEFAULT_MAJOR_LOSS_PER_HOUR: u64 = 250_000;

/// When people are at work, in the workspace's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: Time,
    pub end: Time,
    /// Whole days off (public holidays) on which no working hours begin.
    pub holidays: BTreeSet<Date>,
}

impl WorkingHours {
    fn is_working_day(&self, date: Date) -> bool {
        self.days.contains(&date.weekday()) && !self.holidays.contains(&date)
    }

    /// Whether `at` falls within working hours, reading the wall clock in `zone`.
    pub fn is_working_time(&self, at: Timestamp, zone: &TimeZone) -> bool {
        let local = zone.to_datetime(at);
        self.is_working_day(local.date()) && local.time() >= self.start && local.time() < self.end
    }

    /// The first moment at or after `at` that is within working hours: `at` itself when it is
    /// already in hours. `None` only when no day is a working day (no `days`), or none falls in
    /// the next ten years because of holidays.
    pub fn next_working_start(&self, at: Timestamp, zone: &TimeZone) -> Option<Timestamp> {
        if self.is_working_time(at, zone) {
            return Some(at);
        }
        let mut date = zone.to_datetime(at).date();
        for _ in 0..3660 {
            if self.is_working_day(date) {
                // A start inside a skipped hour moves forward with the clocks, as handoffs do.
                let start = zone
                    .to_ambiguous_timestamp(date.to_datetime(self.start))
                    .compatible()
                    .ok()?;
                if start >= at {
                    return Some(start);
                }
            }
            date = date.checked_add(1.day()).ok()?;
        }
        None
    }
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            days: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
            start: Time::constant(9, 0, 0, 0),
            end: Time::constant(17, 0, 0, 0),
            holidays: BTreeSet::new(),
        }
    }
}

/// `mon` … `sun` (or the full English name) → the weekday.
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    let day = match text.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    };
    Some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn working_time_is_read_on_the_local_wall_clock() {
        let hours = WorkingHours::default();
        // 08:30 UTC in July is 09:30 BST: in hours. In January it is 08:30 GMT: not yet.
        assert!(hours.is_working_time(at("2026-07-01T08:30:00Z"), &london()));
        assert!(!hours.is_working_time(at("2026-01-07T08:30:00Z"), &london()));
        // Saturday is not a working day; 17:00 is already out of hours.
        assert!(!hours.is_working_time(at("2026-11-28T12:00:00Z"), &london()));
        assert!(!hours.is_working_time(at("2026-11-27T17:00:00Z"), &london()));
    }

    #[test]
    fn the_next_working_day_skips_weekends_and_holidays() {
        let mut hours = WorkingHours::default();
        hours.holidays.insert(Date::constant(2026, 12, 28));
        // Friday 25 December 2026, 22:00: the next start is Tuesday 29th at 09:00 (Monday is off).
        hours.holidays.insert(Date::constant(2026, 12, 25));
        assert_eq!(
            hours.next_working_start(at("2026-12-24T22:00:00Z"), &london()),
            Some(at("2026-12-29T09:00:00Z"))
        );
        // In hours already: now.
        let now = at("2026-11-27T10:00:00Z");
        assert_eq!(hours.next_working_start(now, &london()), Some(now));
        // Early morning: the same day's start.
        assert_eq!(
            hours.next_working_start(at("2026-11-27T06:00:00Z"), &london()),
            Some(at("2026-11-27T09:00:00Z"))
        );
        let never = WorkingHours {
            days: Vec::new(),
            ..WorkingHours::default()
        };
        assert_eq!(never.next_working_start(now, &london()), None);
    }
}

//! Settings that hold for the whole organisation: its name, time zone, working hours and currency.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;

use crate::money::Currency;

#[derive(Debug, Clone)]
pub struct WorkspaceSettings {
    pub name: String,
    /// The IANA name as written in config (`Europe/London`), kept for display.
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    pub working_hours: WorkingHours,
    pub currency: Currency,
    /// An incident whose estimated loss over its first hour reaches this is major; below, minor.
    pub major_loss_per_hour: u64,
}

/// The default threshold between minor and major incidents: above the 99.0% band's maximum
/// exposure (DOMAIN.md), so every application in the 99.9% band starts major.
pub const DEFAULT_MAJOR_LOSS_PER_HOUR: u64 = 250_000;

/// When people are at work, in the workspace's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: Time,
    pub end: Time,
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

//! Availability targets and the unavailability they tolerate.

use std::fmt;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Milliseconds in a week: tolerable unavailability is a share of 168 hours.
const WEEK_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Targets are kept in thousandths of a percent, so 99.999% is exact.
const SCALE: u32 = 1000;
pub const MIN_PERCENT: f64 = 90.0;
pub const MAX_PERCENT: f64 = 99.999;

/// Why a number is not an availability target.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    #[error("availability target {0}% is out of range: expected {MIN_PERCENT}% to {MAX_PERCENT}%")]
    OutOfRange(f64),
    #[error("availability target {0}% has more than three decimal places")]
    TooPrecise(f64),
}

/// An availability target between 90% and 99.999%, such as 99.9%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct AvailabilityTarget {
    thousandths_of_percent: u32,
}

impl AvailabilityTarget {
    /// A target given in thousandths of a percent: `99_900` is 99.9%. For constants; config
    /// goes through [`AvailabilityTarget::from_percent`], which checks the range.
    pub const fn from_thousandths(thousandths_of_percent: u32) -> Self {
        Self {
            thousandths_of_percent,
        }
    }

    pub fn from_percent(percent: f64) -> Result<Self, TargetError> {
        if !percent.is_finite() || !(MIN_PERCENT..=MAX_PERCENT).contains(&percent) {
            return Err(TargetError::OutOfRange(percent));
        }
        let scaled = percent * f64::from(SCALE);
        let rounded = scaled.round();
        if (scaled - rounded).abs() > 1e-6 {
            return Err(TargetError::TooPrecise(percent));
        }
        // In range and rounded, so it fits: 90_000..=99_999.
        Ok(Self {
            thousandths_of_percent: rounded as u32,
        })
    }

    pub fn percent(self) -> f64 {
        f64::from(self.thousandths_of_percent) / f64::from(SCALE)
    }

    /// `(1 − target) × 168 h`: how long the application may be unavailable in a week.
    pub fn tolerable_unavailability_per_week(self) -> SignedDuration {
        let unavailable = i64::from(100 * SCALE - self.thousandths_of_percent);
        SignedDuration::from_millis(unavailable * WEEK_MS / i64::from(100 * SCALE))
    }
}

impl TryFrom<f64> for AvailabilityTarget {
    type Error = TargetError;
    fn try_from(percent: f64) -> Result<Self, TargetError> {
        Self::from_percent(percent)
    }
}

impl From<AvailabilityTarget> for f64 {
    fn from(target: AvailabilityTarget) -> f64 {
        target.percent()
    }
}

impl fmt::Display for AvailabilityTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // 99.9%, 95.0%, 99.999%: at least one decimal, no trailing zeros beyond it.
        let text = format!("{:.3}", self.percent());
        let trimmed = text.trim_end_matches('0');
        let trimmed = if trimmed.ends_with('.') {
            format!("{trimmed}0")
        } else {
            trimmed.to_owned()
        };
        write!(f, "{trimmed}%")
    }
}

/// A duration as people read it in a table: `1h 40m 48s`, `10m 5s`, `8h 24m 0s`.
/// Rounded to the nearest second.
pub fn format_duration(duration: SignedDuration) -> String {
    let millis = duration.as_millis();
    let sign = if millis < 0 { "-" } else { "" };
    let total_seconds = (millis.unsigned_abs() + 500) / 1000;
    let (days, rest) = (total_seconds / 86_400, total_seconds % 86_400);
    let (hours, rest) = (rest / 3600, rest % 3600);
    let (minutes, seconds) = (rest / 60, rest % 60);
    if days > 0 {
        format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
    } else if hours > 0 {
        format!("{sign}{hours}h {minutes}m {seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m {seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(percent: f64) -> AvailabilityTarget {
        AvailabilityTarget::from_percent(percent).unwrap()
    }

    #[test]
    fn playbook_bands_tolerate_the_documented_weekly_unavailability() {
        // docs/domain.md: 95.0% → 8h 24m 0s, 99.0% → 1h 40m 48s, 99.9% → 10m 5s.
        assert_eq!(
            target(95.0).tolerable_unavailability_per_week(),
            SignedDuration::from_secs(8 * 3600 + 24 * 60)
        );
        assert_eq!(
            target(99.0).tolerable_unavailability_per_week(),
            SignedDuration::from_secs(3600 + 40 * 60 + 48)
        );
        assert_eq!(
            target(99.9).tolerable_unavailability_per_week(),
            SignedDuration::from_millis(604_800)
        );
        assert_eq!(
            format_duration(target(99.9).tolerable_unavailability_per_week()),
            "10m 5s"
        );
        assert_eq!(
            format_duration(target(95.0).tolerable_unavailability_per_week()),
            "8h 24m 0s"
        );
        assert_eq!(
            format_duration(target(99.0).tolerable_unavailability_per_week()),
            "1h 40m 48s"
        );
    }

    #[test]
    fn range_is_90_to_99_999_percent() {
        assert!(AvailabilityTarget::from_percent(90.0).is_ok());
        assert!(AvailabilityTarget::from_percent(99.999).is_ok());
        assert_eq!(
            AvailabilityTarget::from_percent(89.99),
            Err(TargetError::OutOfRange(89.99))
        );
        assert!(AvailabilityTarget::from_percent(100.0).is_err());
        assert!(AvailabilityTarget::from_percent(f64::NAN).is_err());
        assert_eq!(
            AvailabilityTarget::from_percent(99.9999),
            Err(TargetError::OutOfRange(99.9999))
        );
        assert_eq!(
            AvailabilityTarget::from_percent(99.0005),
            Err(TargetError::TooPrecise(99.0005))
        );
    }

    #[test]
    fn displays_as_people_write_it() {
        assert_eq!(target(95.0).to_string(), "95.0%");
        assert_eq!(target(99.9).to_string(), "99.9%");
        assert_eq!(target(99.999).to_string(), "99.999%");
        assert_eq!(target(99.95).to_string(), "99.95%");
    }
}

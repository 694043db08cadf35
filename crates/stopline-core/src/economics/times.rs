//! Time to acknowledge and time to restore: mean, median and 90th percentile.

use serde::Serialize;

use super::{IncidentFacts, Period};

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

/// Time to acknowledge and to restore of the incidents opened in the period.
pub(super) fn times(
    incidents: &[&IncidentFacts],
    period: Period,
) -> (DurationStats, DurationStats) {
    let opened: Vec<&&IncidentFacts> = incidents
        .iter()
        .filter(|i| period.from <= i.opened_at && i.opened_at < period.to)
        .collect();
    (
        DurationStats::of(opened.iter().filter_map(|i| tta(i)).collect()),
        DurationStats::of(opened.iter().filter_map(|i| ttr(i)).collect()),
    )
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

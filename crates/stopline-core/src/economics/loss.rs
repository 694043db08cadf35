//! Production support as revenue insurance: the loss an application is projected to suffer if
//! it uses exactly its tolerable unavailability, what its incidents actually lost, and the
//! effectiveness of the protection (docs/domain.md, "Revenue insurance, worked out").

use jiff::Timestamp;
use serde::Serialize;

use super::{IncidentFacts, IncidentLoss, Period};
use crate::application::Application;

/// When an incident stops costing money: when availability came back (its last alert
/// resolved, with none firing) or when it was resolved, whichever came first; `None` while it
/// still costs. An incident kept open after its alerts cleared (the swarm finishing its
/// checklist) loses nothing more.
pub fn loss_stops_at(
    resolved_at: Option<Timestamp>,
    alerts_cleared_at: Option<Timestamp>,
) -> Option<Timestamp> {
    match (resolved_at, alerts_cleared_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What an incident has cost so far, as the queue, the incident and its review show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LossSoFar {
    /// Whole units of the workspace currency.
    pub amount: u64,
    /// A person entered the figure (with a severity change); it replaces exposure × duration.
    pub entered_by_hand: bool,
    /// When it stopped counting (see [`loss_stops_at`]); `None` while it counts.
    pub stopped_at: Option<Timestamp>,
}

/// The loss of an incident opened at `opened_at`, at `now`: a person's figure when one was
/// entered, else the application's exposure per hour × the time from opening until the loss
/// stopped (or `now`).
pub fn loss_so_far(
    opened_at: Timestamp,
    exposure_per_hour: u64,
    entered: Option<u64>,
    stopped_at: Option<Timestamp>,
    now: Timestamp,
) -> LossSoFar {
    let amount = entered.unwrap_or_else(|| {
        let end = stopped_at.unwrap_or(now);
        let millis = u128::try_from(end.duration_since(opened_at).as_millis()).unwrap_or(0);
        u64::try_from(u128::from(exposure_per_hour) * millis / 3_600_000).unwrap_or(u64::MAX)
    });
    LossSoFar {
        amount,
        entered_by_hand: entered.is_some(),
        stopped_at,
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

/// An incident's estimated loss in the period: a person's figure, else exposure × the time it
/// cost money within the period (from opening until [`loss_stops_at`]).
pub(super) fn incident_loss(
    incident: &IncidentFacts,
    app: Option<&Application>,
    period: Period,
) -> IncidentLoss {
    let end = loss_stops_at(incident.resolved_at, incident.alerts_cleared_at).unwrap_or(period.to);
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

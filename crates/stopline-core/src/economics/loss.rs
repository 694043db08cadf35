//! Production support as revenue insurance: the loss an application is projected to suffer if
//! it uses exactly its tolerable unavailability, what its incidents actually lost, and the
//! effectiveness of the protection (docs/domain.md, "Revenue insurance, worked out").

use super::{IncidentFacts, IncidentLoss, Period};
use crate::application::Application;

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
/// was open in the period.
pub(super) fn incident_loss(
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

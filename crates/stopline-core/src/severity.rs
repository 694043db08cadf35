//! Severity from money (docs/domain.md, "Severity from money"): an incident starts major when
//! the loss its application is expected to suffer reaches the workspace's threshold, money raises
//! a minor incident to major once its loss so far reaches it, and money never lowers one. A person
//! may set the severity either way, with a reason, and from then on money leaves it alone.

use jiff::Timestamp;

use crate::config::Config;
use crate::ids::PersonId;
use crate::incident::{Incident, IncidentState, Severity};
use crate::money::group_thousands;
use crate::target::format_duration;
use crate::timeline::{TimelineEvent, TimelineKind};

/// Money raising an incident's severity: the new severity and its timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityRaise {
    pub severity: Severity,
    pub event: TimelineEvent,
}

/// Whether money raises `incident` at `now`: an open minor incident whose severity no person set
/// (`set_by_person`), whose estimated loss (the projected loss, or the loss so far once it has
/// lasted longer than expected) reaches the workspace's threshold.
pub fn raise_by_money(
    config: &Config,
    incident: &Incident,
    set_by_person: bool,
    now: Timestamp,
) -> Option<SeverityRaise> {
    if set_by_person
        || incident.state == IncidentState::Resolved
        || incident.severity == Severity::Major
    {
        return None;
    }
    let app = config.application(incident.application.as_ref()?)?;
    let lasted = now.duration_since(incident.opened_at);
    let elapsed = std::time::Duration::try_from(lasted).ok()?;
    if config.severity_after(app, elapsed) != Severity::Major {
        return None;
    }
    let detail = format!(
        "severity minor → major: estimated loss {} {} after {}",
        config.workspace.currency,
        group_thousands(app.estimated_loss(elapsed)),
        format_duration(lasted)
    );
    Some(SeverityRaise {
        severity: Severity::Major,
        event: TimelineEvent {
            at: now,
            who: None,
            kind: TimelineKind::Severity,
            detail,
        },
    })
}

/// A person setting the severity: what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityOverride {
    pub severity: Severity,
    /// Why, trimmed; never empty.
    pub reason: String,
    /// The person's estimate of the loss, which reports use instead of exposure × duration.
    pub loss: Option<u64>,
    pub event: TimelineEvent,
}

/// Why a person's severity is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeverityError {
    #[error("a severity override needs a reason")]
    ReasonRequired,
}

/// A person sets `incident`'s severity; the reason is required and goes on the timeline.
pub fn set_by_person(
    incident: &Incident,
    severity: Severity,
    reason: &str,
    loss: Option<u64>,
    who: &PersonId,
    now: Timestamp,
) -> Result<SeverityOverride, SeverityError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(SeverityError::ReasonRequired);
    }
    let figure = loss
        .map(|l| format!("; estimated loss {}", group_thousands(l)))
        .unwrap_or_default();
    Ok(SeverityOverride {
        severity,
        reason: reason.to_owned(),
        loss,
        event: TimelineEvent {
            at: now,
            who: Some(who.clone()),
            kind: TimelineKind::Severity,
            detail: format!(
                "severity {} → {}: {reason}{figure}",
                incident.severity.as_str(),
                severity.as_str()
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::IncidentId;

    const CONFIG: &str = r#"
[workspace]
name = "T"
time_zone = "Europe/London"
currency = "GBP"

[[people]]
id = "ben"
name = "Ben"

[[teams]]
id = "shop"
name = "Shop"
kind = "delivery"
members = ["ben"]

[[applications]]
id = "reviews"
name = "Reviews"
team = "shop"
availability_target = 99.0
exposure_per_hour = 60000
match = { service = "reviews" }
"#;

    fn incident(opened: &str) -> Incident {
        Incident {
            id: IncidentId(1),
            application: Some("reviews".parse().unwrap()),
            team: Some("shop".parse().unwrap()),
            title: "Slow".into(),
            severity: Severity::Minor,
            state: IncidentState::Triggered,
            opened_at: opened.parse().unwrap(),
            opened_by: None,
            acknowledged: None,
            resolved: None,
        }
    }

    #[test]
    fn money_raises_once_the_loss_reaches_the_threshold_and_never_an_overridden_one() {
        let config = Config::parse("t.toml", CONFIG).unwrap();
        let open = incident("2026-11-27T10:00:00Z");
        // 60,000/h reaches 250,000 after 4h 10m.
        let before: Timestamp = "2026-11-27T14:09:00Z".parse().unwrap();
        let after: Timestamp = "2026-11-27T14:10:00Z".parse().unwrap();
        assert_eq!(raise_by_money(&config, &open, false, before), None);
        let raised = raise_by_money(&config, &open, false, after).unwrap();
        assert_eq!(raised.severity, Severity::Major);
        assert_eq!(
            raised.event.detail,
            "severity minor → major: estimated loss GBP 250,000 after 4h 10m 0s"
        );
        assert_eq!(raise_by_money(&config, &open, true, after), None);
        let major = Incident {
            severity: Severity::Major,
            ..open
        };
        assert_eq!(raise_by_money(&config, &major, false, after), None);
    }

    #[test]
    fn a_person_needs_a_reason_and_may_give_a_loss() {
        let ben = PersonId::new("ben").unwrap();
        let at: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let open = incident("2026-11-27T09:00:00Z");
        assert_eq!(
            set_by_person(&open, Severity::Major, "  ", None, &ben, at),
            Err(SeverityError::ReasonRequired)
        );
        let set =
            set_by_person(&open, Severity::Major, " press ", Some(120_000), &ben, at).unwrap();
        assert_eq!(set.reason, "press");
        assert_eq!(
            set.event.detail,
            "severity minor → major: press; estimated loss 120,000"
        );
    }
}

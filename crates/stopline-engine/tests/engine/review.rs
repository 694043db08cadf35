//! What the review and the reports remember of an incident: the loss a person entered, a loss
//! that stopped when the alerts cleared, and a line stopped while the incident was major.

use jiff::{Timestamp, ToSpan};
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity, Transition};
use stopline_engine::{review, swarm};

use crate::swarm::{T0, World, at};

impl World {
    /// Lowers (or raises) the severity as `who`, with `loss` as their estimate.
    fn set_severity(
        &mut self,
        id: IncidentId,
        severity: Severity,
        loss: Option<u64>,
        at: Timestamp,
    ) {
        swarm::override_severity(
            &mut self.store,
            &self.config,
            id,
            swarm::SeverityRequest {
                severity,
                reason: "only internal users",
                loss,
            },
            "alice",
            at,
        )
        .unwrap();
    }

    /// Checkout's `HighErrorRate` alert, firing or resolved at `at`; returns its incident.
    fn checkout_alert(&mut self, firing: bool, at: Timestamp) -> IncidentId {
        self.alert("checkout", Severity::Major, firing, at)
    }

    /// `app`'s one alert, firing or resolved at `at`; returns its incident.
    fn alert(&mut self, app: &str, severity: Severity, firing: bool, at: Timestamp) -> IncidentId {
        use stopline_core::alert::{Alert, AlertState, Fingerprint};
        let state = if firing {
            AlertState::Firing
        } else {
            AlertState::Resolved
        };
        let observation = stopline_store::AlertObservation {
            title: "HighErrorRate".into(),
            route: Some(stopline_core::routing::RoutedAlert {
                application: ApplicationId::new(app).unwrap(),
                team: TeamId::new("payments").unwrap(),
                severity,
            }),
            group_key: Some(format!("app={app}")),
            alert: Alert {
                source: "alertmanager".into(),
                fingerprint: Fingerprint::new(app).unwrap(),
                labels: [("alertname".to_owned(), "HighErrorRate".to_owned())].into(),
                annotations: Default::default(),
                state,
                starts_at: at,
                ends_at: (!firing).then_some(at),
                generator_url: None,
                links: Default::default(),
                muted: false,
                first_seen: at,
                last_seen: at,
            },
        };
        self.store
            .ingest(&[observation], Default::default(), at)
            .unwrap();
        self.store
            .alerts(stopline_store::AlertFilter::All)
            .unwrap()
            .into_iter()
            .find(|a| a.alert.fingerprint.as_str() == app)
            .and_then(|a| a.incident)
            .unwrap()
    }

    fn review(&self, id: IncidentId, now: Timestamp) -> (String, serde_json::Value) {
        let review = review::review(&self.store, &self.config, id, now).unwrap();
        (review.markdown(), serde_json::to_value(&review).unwrap())
    }
}

#[test]
fn the_review_and_the_queue_use_the_loss_a_person_entered() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("checkout", t0);
    w.set_severity(id, Severity::Minor, Some(120_000), t0 + 10.minutes());
    let (text, facts) = w.review(id, t0 + 2.hours());
    assert!(
        text.contains(
            "| Estimated financial loss | GBP 120,000 (entered by hand with the severity) |"
        ),
        "{text}"
    );
    assert_eq!(facts["estimated_loss"], 120_000);
    assert_eq!(facts["loss_entered_by_hand"], true);
    // What the queue and the incident panel are built from.
    assert_eq!(w.store.loss_facts(id).unwrap().entered, Some(120_000));
    // The queue reads every open incident's at once; an id the store lacks is left out.
    let all = w.store.loss_facts_of(&[id, IncidentId(99)]).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[&id], w.store.loss_facts(id).unwrap());
}

#[test]
fn the_loss_stops_when_the_last_alert_resolves_though_the_incident_stays_open() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.checkout_alert(true, t0);
    w.act(id, Transition::Acknowledge, "ben", false, t0 + 5.minutes())
        .unwrap();
    assert_eq!(w.checkout_alert(false, t0 + 30.minutes()), id);
    assert_eq!(
        w.store.incident(id).unwrap().incident.state,
        IncidentState::Acknowledged,
        "the swarm keeps it open to finish its checklist"
    );
    // Two hours on, the loss is still half an hour of GBP 600,000/h.
    let (text, facts) = w.review(id, t0 + 2.hours());
    assert_eq!(facts["estimated_loss"], 300_000);
    assert_eq!(facts["loss_stopped_at"], "2026-11-27T10:30:00Z");
    assert!(
        text.contains(
            "| Estimated financial loss | GBP 300,000 (GBP 600,000/h × 30m 0s, until its alerts cleared at 2026-11-27 10:30 GMT) |"
        ),
        "{text}"
    );
    // The report agrees.
    let facts = w.store.report_facts(t0, t0 + 3.hours()).unwrap();
    assert_eq!(facts[0].alerts_cleared_at, Some(t0 + 30.minutes()));
    // It fires again: the loss counts again.
    w.checkout_alert(true, t0 + 3.hours());
    let (_, facts) = w.review(id, t0 + 4.hours());
    assert_eq!(facts["estimated_loss"], 2_400_000);
    assert_eq!(facts["loss_stopped_at"], serde_json::Value::Null);

    // Money does not raise an incident whose alerts cleared: it loses nothing more. Refunds
    // (60,000/h) would be major after 4h 10m.
    let refunds = w.alert("refunds", Severity::Minor, true, t0);
    w.act(
        refunds,
        Transition::Acknowledge,
        "ben",
        false,
        t0 + 1.minutes(),
    )
    .unwrap();
    w.alert("refunds", Severity::Minor, false, t0 + 10.minutes());
    assert_eq!(
        w.store.incident(refunds).unwrap().incident.state,
        IncidentState::Acknowledged
    );
    let raised = swarm::raise_severities(&mut w.store, &w.config, t0 + 5.hours()).unwrap();
    assert!(!raised.contains(&refunds), "{raised:?}");
}

#[test]
fn a_major_incident_lowered_to_minor_is_reviewed_as_having_stopped_the_line() {
    let mut w = World::new();
    let t0 = at(T0);
    let id = w.open("checkout", t0);
    w.act(id, Transition::Acknowledge, "ben", false, t0 + 5.minutes())
        .unwrap();
    assert!(w.line("payments", t0 + 10.minutes()).is_stopped());
    w.set_severity(id, Severity::Minor, None, t0 + 25.minutes());
    // Lowered: the line runs again, and its stop is remembered.
    let line = w.line("payments", t0 + 30.minutes());
    assert!(!line.is_stopped());
    assert_eq!(line.stopped_seconds, 20 * 60);
    w.act(id, Transition::Resolve, "ben", true, t0 + 1.hours())
        .unwrap();
    let (text, facts) = w.review(id, t0 + 2.hours());
    assert!(text.contains("| Line stopped | 20m 0s |"), "{text}");
    assert_eq!(facts["line_stopped_seconds"], 20 * 60);
}

//! The store against a real SQLite file. One test binary; each module is one part of the store,
//! and the helpers below build what they share.

use std::collections::BTreeMap;

use jiff::Timestamp;
use stopline_core::alert::{Alert, AlertState, Fingerprint, Labels};
use stopline_core::ids::{ApplicationId, PersonId, TeamId};
use stopline_core::incident::{IncidentId, IncidentState, Severity, Transition};
use stopline_core::routing::RoutedAlert;
use stopline_core::timeline::TimelineKind;
use stopline_store::{
    AlertFilter, AlertObservation, IncidentFilter, IngestPolicy, IngestSummary, NewIncident,
    OutboxAction, SentOutcome, Store, StoreError, StoredAlert,
};

mod ingest;
mod outbox;
mod records;
mod replica;
mod schema;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn person(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}

fn new_incident(title: &str) -> NewIncident {
    NewIncident {
        application: Some(ApplicationId::new("checkout-api").unwrap()),
        team: Some(TeamId::new("payments").unwrap()),
        title: title.to_owned(),
        severity: Severity::Major,
        opened_by: Some(person("desk1")),
    }
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("stopline.db")).unwrap();
    (dir, store)
}

fn alert(fingerprint: &str, state: AlertState, seen: Timestamp) -> Alert {
    let labels: Labels = [("alertname", "HighErrorRate"), ("service", "checkout-api")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Alert {
        source: "alertmanager".into(),
        fingerprint: Fingerprint::new(fingerprint).unwrap(),
        labels,
        annotations: BTreeMap::from([("summary".to_owned(), "5xx above 5%".to_owned())]),
        state,
        starts_at: at("2026-11-27T09:59:00Z"),
        ends_at: (state == AlertState::Resolved).then(|| at("2026-11-27T10:20:00Z")),
        generator_url: Some("http://prometheus.local/graph".into()),
        links: BTreeMap::new(),
        muted: false,
        first_seen: seen,
        last_seen: seen,
    }
}

fn routed(alert: Alert) -> AlertObservation {
    AlertObservation {
        title: "HighErrorRate: 5xx above 5%".into(),
        route: Some(RoutedAlert {
            application: ApplicationId::new("checkout-api").unwrap(),
            team: TeamId::new("payments").unwrap(),
            severity: Severity::Major,
        }),
        group_key: Some("app=checkout-api".into()),
        alert,
    }
}

fn unrouted(alert: Alert) -> AlertObservation {
    AlertObservation {
        title: "x".into(),
        route: None,
        group_key: None,
        alert,
    }
}

fn ingest(store: &mut Store, batch: Vec<AlertObservation>, now: &str) -> IngestSummary {
    store
        .ingest(&batch, IngestPolicy::default(), at(now))
        .unwrap()
}

fn stored(store: &Store, fingerprint: &str) -> StoredAlert {
    store
        .alerts(AlertFilter::All)
        .unwrap()
        .into_iter()
        .find(|a| a.alert.fingerprint.as_str() == fingerprint)
        .unwrap()
}

const T0: &str = "2026-11-27T10:00:00Z";
const T1: &str = "2026-11-27T10:05:00Z";
const T2: &str = "2026-11-27T10:30:00Z";

//! Intake on the hub: the desktop's delivery rules on PostgreSQL, and deliveries to several hubs
//! at once.

use std::collections::BTreeMap;

use jiff::{Timestamp, ToSpan};
use stopline_core::alert::{Alert, AlertState, Fingerprint};
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::Severity;
use stopline_core::routing::{AlertObservation, RoutedAlert};
use stopline_hub::Database;

use super::migrated;

pub(super) const T0: &str = "2026-12-03T10:00:00Z";

pub(super) fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Alert `name` from `am`, routed to the payment gateway (or not), firing or resolved at `when`.
pub(super) fn observation(
    name: &str,
    routed: bool,
    firing: bool,
    when: Timestamp,
) -> AlertObservation {
    let labels = BTreeMap::from([("alertname".to_owned(), name.to_owned())]);
    let start = at(T0);
    AlertObservation {
        alert: Alert {
            source: "am".into(),
            fingerprint: Fingerprint::new(format!("fp-{name}")).unwrap(),
            labels,
            annotations: BTreeMap::new(),
            state: if firing {
                AlertState::Firing
            } else {
                AlertState::Resolved
            },
            starts_at: start,
            ends_at: (!firing).then_some(when),
            generator_url: None,
            links: BTreeMap::new(),
            muted: false,
            first_seen: when,
            last_seen: when,
        },
        route: routed.then(|| RoutedAlert {
            application: ApplicationId::new("payment-gateway").unwrap(),
            team: TeamId::new("payments").unwrap(),
            severity: Severity::Major,
        }),
        group_key: routed.then(|| "app=payment-gateway".to_owned()),
        title: format!("{name}: payments failing"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_open_join_repeat_and_resolve_an_incident_by_the_desktops_rules() {
    let (_dir, postgres, db) = migrated().await;
    let t0 = at(T0);
    let first = db
        .ingest(&[observation("HighErrorRate", true, true, t0)], true, t0)
        .await
        .unwrap();
    assert_eq!((first.new, first.opened.len()), (1, 1));
    let incident = first.opened[0];
    // Alertmanager sends the group again: nothing new, nobody paged twice.
    let again = db
        .ingest(
            &[observation("HighErrorRate", true, true, t0 + 1.minutes())],
            true,
            t0 + 1.minutes(),
        )
        .await
        .unwrap();
    assert_eq!((again.repeated, again.new, again.opened.len()), (1, 0, 0));
    // A second alert of the group joins the open incident; an unrouted one opens nothing.
    let more = db
        .ingest(
            &[
                observation("HighLatency", true, true, t0 + 2.minutes()),
                observation("DiskFull", false, true, t0 + 2.minutes()),
            ],
            true,
            t0 + 2.minutes(),
        )
        .await
        .unwrap();
    assert_eq!((more.new, more.joined, more.opened.len()), (2, 1, 0));
    assert!(more.version > again.version && again.version > first.version);
    // Both resolve: nobody acknowledged it, so it resolves itself.
    let resolved = db
        .ingest(
            &[
                observation("HighErrorRate", true, false, t0 + 10.minutes()),
                observation("HighLatency", true, false, t0 + 10.minutes()),
            ],
            true,
            t0 + 10.minutes(),
        )
        .await
        .unwrap();
    assert_eq!(resolved.resolved, 2);
    assert_eq!(resolved.auto_resolved, [incident]);
    let id = incident.0.to_string();
    assert_eq!(
        postgres.psql(
            "hub",
            &format!("SELECT state FROM incidents WHERE id = {id}")
        ),
        "resolved"
    );
    let timeline = postgres.psql(
        "hub",
        &format!(
            "SELECT string_agg(kind || ': ' || detail, ' | ' ORDER BY id) FROM timeline
             WHERE incident_id = {id}"
        ),
    );
    assert!(
        timeline.starts_with(
            "opened: opened by alert HighErrorRate from am | alerts: 1 alert joined: HighLatency | \
             alerts: 2 alerts resolved: HighErrorRate, HighLatency; no alert is firing any more | \
             resolved: "
        ),
        "{timeline}"
    );
    assert_eq!(
        postgres.psql(
            "hub",
            "SELECT count(*) FROM alerts WHERE incident_id IS NULL"
        ),
        "1",
        "the unrouted alert is kept, with no incident"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_alerts_delivered_to_two_hubs_at_once_are_one_alert_and_one_incident() {
    let (_dir, postgres, first_hub) = migrated().await;
    let second_hub = Database::new(&postgres.url("hub")).unwrap();
    let t0 = at(T0);
    let batch: Vec<AlertObservation> = (0..20)
        .map(|n| observation(&format!("Alert{n}"), true, true, t0))
        .collect();
    // Each hub gets every delivery ten times over, all at once.
    let deliveries: Vec<_> = (0..20)
        .map(|n| {
            let hub = if n % 2 == 0 {
                first_hub.clone()
            } else {
                second_hub.clone()
            };
            let batch = batch.clone();
            tokio::spawn(async move { hub.ingest(&batch, true, t0).await })
        })
        .collect();
    let mut versions = Vec::new();
    let mut opened = 0;
    for delivery in deliveries {
        let summary = delivery.await.unwrap().unwrap();
        versions.push(summary.version);
        opened += summary.opened.len();
    }
    assert_eq!(opened, 1, "one incident, opened once");
    assert_eq!(postgres.psql("hub", "SELECT count(*) FROM alerts"), "20");
    assert_eq!(postgres.psql("hub", "SELECT count(*) FROM incidents"), "1");
    // Every delivery committed as its own version, with none skipped.
    versions.sort_unstable();
    assert_eq!(versions, (1..=20).collect::<Vec<i64>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn one_hub_claims_a_sources_poll_per_interval() {
    let (_dir, postgres, db) = migrated().await;
    let hubs: Vec<Database> = (0..4)
        .map(|_| Database::new(&postgres.url("hub")).unwrap())
        .collect();
    let every = std::time::Duration::from_secs(15);
    let claims = |now: Timestamp| {
        let hubs = hubs.clone();
        async move {
            let runs: Vec<_> = hubs
                .into_iter()
                .map(|hub| {
                    tokio::spawn(async move { hub.claim_poll("am", every, now).await.unwrap() })
                })
                .collect();
            let mut won = 0;
            for run in runs {
                won += usize::from(run.await.unwrap());
            }
            won
        }
    };
    let t0 = at(T0);
    assert_eq!(claims(t0).await, 1, "one of four hubs at once");
    assert_eq!(
        claims(t0.checked_add(14.seconds()).unwrap()).await,
        0,
        "not due yet"
    );
    assert_eq!(claims(t0.checked_add(15.seconds()).unwrap()).await, 1);
    assert!(
        db.claim_poll("another", every, t0).await.unwrap(),
        "each source its own"
    );
}

//! Hub intake of a 10,000-alert delivery into a durable PostgreSQL (`fsync = on`,
//! `synchronous_commit = on`), against a raw `COPY` of the same rows into the same table in the
//! same run. `make bench` runs it; figures go to docs/performance.md.
//!
//! Each run takes a fresh database: the delivery opens 200 incidents (50 alerts each), as a
//! storm across 200 applications would.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use jiff::Timestamp;
use stopline_core::alert::{Alert, AlertState, Fingerprint};
use stopline_core::ids::{ApplicationId, TeamId};
use stopline_core::incident::Severity;
use stopline_core::routing::{AlertObservation, RoutedAlert};
use stopline_hub::Database;
use stopline_tests::postgres::Postgres;

const ALERTS: usize = 10_000;
const GROUPS: usize = 200;
const RUNS: usize = 5;

fn batch(now: Timestamp) -> Vec<AlertObservation> {
    (0..ALERTS)
        .map(|n| {
            let group = n % GROUPS;
            let labels = BTreeMap::from([
                ("alertname".to_owned(), format!("Alert{n}")),
                ("service".to_owned(), format!("app-{group}")),
                (
                    "instance".to_owned(),
                    format!("10.0.{}.{}:9100", n / 250, n % 250),
                ),
            ]);
            AlertObservation {
                alert: Alert {
                    source: "alertmanager".into(),
                    fingerprint: Fingerprint::new(format!("{n:016x}")).unwrap(),
                    labels,
                    annotations: BTreeMap::from([(
                        "summary".to_owned(),
                        format!("instance {n} is failing"),
                    )]),
                    state: AlertState::Firing,
                    starts_at: now,
                    ends_at: None,
                    generator_url: None,
                    links: BTreeMap::new(),
                    muted: false,
                    first_seen: now,
                    last_seen: now,
                },
                route: Some(RoutedAlert {
                    application: ApplicationId::new(format!("app-{group}")).unwrap(),
                    team: TeamId::new(format!("team-{}", group % 20)).unwrap(),
                    severity: Severity::Major,
                }),
                group_key: Some(format!("app=app-{group}")),
                title: format!("app-{group} failing"),
            }
        })
        .collect()
}

/// The same rows as `COPY` text: what a raw bulk load of the alerts costs.
fn copy_text(batch: &[AlertObservation]) -> Vec<u8> {
    let mut text = String::new();
    for o in batch {
        let a = &o.alert;
        let labels = serde_json::to_string(&a.labels).unwrap();
        let annotations = serde_json::to_string(&a.annotations).unwrap();
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\tfiring\t{}\t{}\t{}\t1\n",
            a.source,
            a.fingerprint.as_str(),
            labels.replace('\\', "\\\\"),
            annotations.replace('\\', "\\\\"),
            a.starts_at,
            a.first_seen,
            a.last_seen
        ));
    }
    text.into_bytes()
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start_durable(dir.path());
    let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let alerts = batch(now);
    let copy = copy_text(&alerts);
    let (mut intake, mut raw) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let url = postgres.create_database(&format!("intake{run}"));
        let db = Database::new(&url).unwrap();
        db.migrate().await.unwrap();
        let started = Instant::now();
        let summary = db.ingest(&alerts, true, now).await.unwrap();
        intake.push(started.elapsed());
        assert_eq!((summary.new, summary.opened.len()), (ALERTS, GROUPS));

        let url = postgres.create_database(&format!("copy{run}"));
        let db = Database::new(&url).unwrap();
        db.migrate().await.unwrap();
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let started = Instant::now();
        let sink = client
            .copy_in(
                "COPY alerts (source, fingerprint, labels, annotations, state, starts_at, \
                 first_seen, last_seen, version) FROM STDIN",
            )
            .await
            .unwrap();
        let mut sink = std::pin::pin!(sink);
        sink.send(bytes::Bytes::from(copy.clone())).await.unwrap();
        let copied = sink.finish().await.unwrap();
        raw.push(started.elapsed());
        assert_eq!(copied, ALERTS as u64);
    }
    let (intake, raw) = (median(intake), median(raw));
    let rate = |d: Duration| ALERTS as f64 / d.as_secs_f64();
    println!(
        "hub intake of {ALERTS} alerts into {GROUPS} incidents, durable PostgreSQL, median of {RUNS}:"
    );
    println!(
        "  intake (one transaction, core's rules): {:.0} ms, {:.0} alerts/s",
        intake.as_secs_f64() * 1e3,
        rate(intake)
    );
    println!(
        "  raw COPY of the same rows:              {:.0} ms, {:.0} alerts/s",
        raw.as_secs_f64() * 1e3,
        rate(raw)
    );
    println!(
        "  intake / COPY: {:.2}x",
        intake.as_secs_f64() / raw.as_secs_f64()
    );
}

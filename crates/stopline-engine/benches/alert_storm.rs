//! Alert storm benchmark (`make bench`): how fast the engine takes alerts over real HTTP on
//! loopback, against the store's physical limit measured in the same run.
//!
//! - one Alertmanager payload of 10,000 alerts across 200 applications: alerts/s and request time;
//! - the same payload replayed (deduplication: only `last_seen` moves);
//! - 1,000 payloads of 10 alerts, 8 in flight: request latency p50/p99 and alerts/s;
//! - a raw rusqlite batch insert of the same 10,000 rows (every column, into the store's own
//!   table) in one transaction, with the same durability: the store's physical limit;
//! - the store's share alone: the same alerts applied to a fresh store, parsed and routed
//!   beforehand;
//! - peak RSS of this process (engine and load generator together).
//!
//! Medians of several runs; figures go to docs/performance.md. Never run by `make test`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopline_core::clock::{Clock, SystemClock};
use stopline_core::config::Config;
use stopline_engine::files::DataDir;
use stopline_engine::serve::{Engine, ServeOptions};

const APPLICATIONS: usize = 200;
const BIG: usize = 10_000;
const SMALL_PAYLOADS: usize = 1_000;
const SMALL: usize = 10;
const RUNS: usize = 5;
const TOKEN: &str = "bench-token";

fn config() -> Config {
    let mut text = String::from(
        "[workspace]\nname = \"Bench\"\ntime_zone = \"UTC\"\ncurrency = \"GBP\"\n\n[[people]]\nid = \"p\"\nname = \"P\"\n\n",
    );
    for team in 0..20 {
        text.push_str(&format!(
            "[[teams]]\nid = \"team-{team}\"\nname = \"Team {team}\"\nkind = \"delivery\"\nmembers = [\"p\"]\n\n"
        ));
    }
    for app in 0..APPLICATIONS {
        text.push_str(&format!(
            "[[applications]]\nid = \"app-{app}\"\nname = \"App {app}\"\nteam = \"team-{}\"\navailability_target = 99.9\nexposure_per_hour = 500000\nmatch = {{ service = \"app-{app}\" }}\n\n",
            app % 20
        ));
    }
    Config::parse("bench.toml", &text).unwrap()
}

/// An Alertmanager v4 payload of `count` alerts, numbered from `first`, spread over the
/// applications.
fn payload(first: usize, count: usize) -> Vec<u8> {
    let alerts: Vec<Value> = (first..first + count)
        .map(|i| {
            json!({
                "status": "firing",
                "labels": {
                    "alertname": format!("Storm{}", i % 7),
                    "service": format!("app-{}", i % APPLICATIONS),
                    "instance": format!("host-{i}:9100"),
                    "severity": "critical",
                },
                "annotations": {"summary": "latency above SLO", "runbook_url": "https://runbooks.local/storm"},
                "startsAt": "2026-11-20T09:14:03.512Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.local/graph?g0.expr=up",
                "fingerprint": format!("{i:016x}"),
            })
        })
        .collect();
    serde_json::to_vec(
        &json!({"version": "4", "status": "firing", "receiver": "stopline", "alerts": alerts}),
    )
    .unwrap()
}

struct Running {
    base: String,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        config: Some(config()),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        token: Some(TOKEN.into()),
        env: HashMap::new(),
        ..ServeOptions::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::start(&DataDir::new(dir.path()), options, clock)
        .await
        .unwrap();
    let base = format!("http://{}/v1/alertmanager", engine.webhook_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        engine
            .run(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        base,
        _dir: dir,
        stop,
        task,
    }
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> Duration {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .bearer_auth(TOKEN)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    started.elapsed()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// One alert row as the engine stores it.
struct RawRow {
    fingerprint: String,
    labels: String,
    annotations: String,
    generator_url: String,
    starts_at: i64,
    application: String,
    team: String,
    incident: i64,
}

/// The store's physical limit: the same rows (every column the engine writes, into the store's
/// own `alerts` table with its indexes and foreign key), inserted raw with one prepared statement
/// in one transaction, with the same durability.
fn raw_insert_seconds(body: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.db");
    // The real schema, made by the store's own migrations; then plain rusqlite.
    drop(stopline_store::Store::open(&path).unwrap());
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    // The incidents the alerts belong to, one per application, as the engine would have opened.
    let tx = conn.transaction().unwrap();
    for app in 0..APPLICATIONS {
        tx.execute(
            "INSERT INTO incidents (id, application_id, team_id, title, severity, state, opened_at)
             VALUES (?1, ?2, 'team', 'storm', 'major', 'triggered', 0)",
            (app as i64 + 1, format!("app-{app}")),
        )
        .unwrap();
    }
    tx.commit().unwrap();
    // The rows exactly as the engine stores them, built before the clock starts.
    let intake = stopline_engine::routing::AlertRouting::new(Some(config()));
    let now = jiff::Timestamp::now();
    let alerts = stopline_engine::payload::alertmanager_webhook(body).unwrap();
    let delivery = intake.alerts("alertmanager", alerts, now);
    let rows: Vec<RawRow> = delivery
        .observations
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let route = o.route.as_ref().unwrap();
            RawRow {
                fingerprint: o.alert.fingerprint.to_string(),
                labels: serde_json::to_string(&o.alert.labels).unwrap(),
                annotations: serde_json::to_string(&o.alert.annotations).unwrap(),
                generator_url: o.alert.generator_url.clone().unwrap_or_default(),
                starts_at: o.alert.starts_at.as_millisecond(),
                application: route.application.to_string(),
                team: route.team.to_string(),
                incident: (i % APPLICATIONS) as i64 + 1,
            }
        })
        .collect();
    let started = Instant::now();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO alerts (source, fingerprint, labels, annotations, links, muted, state,
                     starts_at, ends_at, generator_url, application_id, team_id, incident_id,
                     first_seen, last_seen)
                 VALUES ('alertmanager', ?1, ?2, ?3, '{}', 0, 'firing', ?4, NULL, ?5, ?6, ?7, ?8, ?9, ?9)",
            )
            .unwrap();
        let seen = now.as_millisecond();
        for row in &rows {
            insert
                .execute(rusqlite::params![
                    row.fingerprint,
                    row.labels,
                    row.annotations,
                    row.starts_at,
                    row.generator_url,
                    row.application,
                    row.team,
                    row.incident,
                    seen
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    started.elapsed().as_secs_f64()
}

/// The store's share alone: the same 10,000 alerts, parsed and routed beforehand, applied to a
/// fresh store in one delivery.
fn store_only_seconds(body: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut store = stopline_store::Store::open(&dir.path().join("stopline.db")).unwrap();
    let intake = stopline_engine::routing::AlertRouting::new(Some(config()));
    let now = jiff::Timestamp::now();
    let alerts = stopline_engine::payload::alertmanager_webhook(body).unwrap();
    let delivery = intake.alerts("alertmanager", alerts, now);
    let started = Instant::now();
    store
        .ingest_with_receipt(&delivery.observations, intake.policy(), now)
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    drop(delivery);
    took
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let big = payload(0, BIG);
    let small: Vec<Vec<u8>> = (0..SMALL_PAYLOADS)
        .map(|i| payload(BIG + i * SMALL, SMALL))
        .collect();

    let (mut first, mut replay, mut raw, mut store_only) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut small_rate, mut p50, mut p99) = (Vec::new(), Vec::new(), Vec::new());
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for run in 0..RUNS {
            let engine = start().await;
            let ingest = post(&client, &engine.base, big.clone()).await.as_secs_f64();
            let again = post(&client, &engine.base, big.clone()).await.as_secs_f64();
            first.push(ingest);
            replay.push(again);

            // 1,000 small payloads into the same store, 8 in flight.
            let started = Instant::now();
            let semaphore = Arc::new(tokio::sync::Semaphore::new(8));
            let mut tasks = Vec::new();
            for body in small.clone() {
                let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
                let (client, url) = (client.clone(), engine.base.clone());
                tasks.push(tokio::spawn(async move {
                    let took = post(&client, &url, body).await;
                    drop(permit);
                    took
                }));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.push(task.await.unwrap());
            }
            let elapsed = started.elapsed().as_secs_f64();
            latencies.sort();
            small_rate.push((SMALL_PAYLOADS * SMALL) as f64 / elapsed);
            p50.push(percentile(&latencies, 0.50).as_secs_f64() * 1000.0);
            p99.push(percentile(&latencies, 0.99).as_secs_f64() * 1000.0);
            raw.push(raw_insert_seconds(&big));
            store_only.push(store_only_seconds(&big));
            engine.stop.send(()).unwrap();
            engine.task.await.unwrap();
            eprintln!(
                "run {}/{RUNS}: first {ingest:.3}s, replay {again:.3}s",
                run + 1
            );
        }
    });

    let (first, replay, raw, store_only) = (
        median(first),
        median(replay),
        median(raw),
        median(store_only),
    );
    println!("| measure | median of {RUNS} runs |");
    println!("|---|---|");
    println!(
        "| 10,000-alert payload, first ingest: request time | {:.0} ms |",
        first * 1000.0
    );
    println!(
        "| 10,000-alert payload, first ingest: alerts/s | {:.0} |",
        BIG as f64 / first
    );
    println!(
        "| same payload replayed: request time | {:.0} ms |",
        replay * 1000.0
    );
    println!(
        "| same payload replayed: alerts/s | {:.0} |",
        BIG as f64 / replay
    );
    println!(
        "| replay speed-up over first ingest | {:.2}× |",
        first / replay
    );
    println!(
        "| raw rusqlite insert of the same 10,000 rows | {:.0} ms |",
        raw * 1000.0
    );
    println!("| first ingest ÷ raw insert | {:.2}× |", first / raw);
    println!(
        "| store share alone (same alerts, parsed and routed beforehand) | {:.0} ms |",
        store_only * 1000.0
    );
    println!("| store share ÷ raw insert | {:.2}× |", store_only / raw);
    println!(
        "| 1,000 payloads of 10 alerts, 8 in flight: alerts/s | {:.0} |",
        median(small_rate)
    );
    println!(
        "| 1,000 payloads of 10 alerts: request p50 | {:.1} ms |",
        median(p50)
    );
    println!(
        "| 1,000 payloads of 10 alerts: request p99 | {:.1} ms |",
        median(p99)
    );
    println!(
        "| peak RSS (engine and load generator, one process) | {:.0} MiB |",
        peak_rss_mib()
    );
}

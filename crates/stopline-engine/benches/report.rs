//! Report benchmark (`make bench`): the operability report over a year of history for 50 teams,
//! 10,000 incidents and 500,000 alerts, read from a store on disk.
//!
//! The history is written straight into the store's own tables in one transaction (a year of
//! incidents through the engine would take hours of fsyncs and proves nothing about reading it).
//! Then `report::build` (reading the period's incidents and responders, and every formula) runs
//! several times; the medians of the whole build and of its two parts are printed. Target: under
//! 200 ms. Never run by `make test`.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use rusqlite::params;
use stopline_core::config::Config;
use stopline_store::Store;

use stopline_tests::year::{ALERTS_PER_INCIDENT, APPS_PER_TEAM, INCIDENTS, PEOPLE_PER_TEAM, TEAMS};

const RUNS: usize = 7;

fn config() -> Config {
    Config::parse("bench.toml", &stopline_tests::year::config_text()).unwrap()
}

/// A small deterministic generator, so every run writes the same year.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A year of incidents, their alerts and responders, written into the store's tables.
fn history(path: &std::path::Path, year: Timestamp) {
    drop(Store::open(path).unwrap()); // the schema, by the store's own migrations
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    let mut rng = XorShift(0x5eed_2026);
    let ms = |t: Timestamp| t.as_millisecond();
    {
        let mut incident = tx
            .prepare(
                "INSERT INTO incidents (id, application_id, team_id, title, severity, state,
                     opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by)
                 VALUES (?1, ?2, ?3, ?4, 'major', ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .unwrap();
        let mut alert = tx
            .prepare(
                "INSERT INTO alerts (source, fingerprint, labels, annotations, state, starts_at,
                     first_seen, last_seen, incident_id, application_id, team_id)
                 VALUES ('alertmanager', ?1, ?2, '{}', 'resolved', ?3, ?3, ?4, ?5, ?6, ?7)",
            )
            .unwrap();
        let mut responder = tx
            .prepare(
                "INSERT INTO roles (incident_id, role, person, since, until)
                 VALUES (?1, 'responder', ?2, ?3, ?4)",
            )
            .unwrap();
        for n in 1..=INCIDENTS {
            let team = rng.below(TEAMS as u64);
            let app = rng.below(APPS_PER_TEAM as u64);
            let opened =
                year + SignedDuration::from_secs(i64::try_from(rng.below(364 * 86_400)).unwrap());
            let acked =
                opened + SignedDuration::from_secs(60 + i64::try_from(rng.below(1800)).unwrap());
            let resolved = acked
                + SignedDuration::from_secs(600 + i64::try_from(rng.below(6 * 3600)).unwrap());
            let person = format!("p{team}-{}", rng.below(PEOPLE_PER_TEAM as u64));
            let (application, team_id) = (format!("app-{team}-{app}"), format!("team-{team}"));
            incident
                .execute(params![
                    n as i64,
                    application,
                    team_id,
                    format!("Incident {n}"),
                    "resolved",
                    ms(opened),
                    ms(acked),
                    person,
                    ms(resolved),
                    person
                ])
                .unwrap();
            if n % 3 == 0 {
                let other = format!(
                    "p{team}-{}",
                    (rng.below(PEOPLE_PER_TEAM as u64) + 1) % PEOPLE_PER_TEAM as u64
                );
                responder
                    .execute(params![
                        n as i64,
                        other,
                        ms(acked + SignedDuration::from_mins(5)),
                        Option::<i64>::None
                    ])
                    .unwrap();
            }
            for a in 0..ALERTS_PER_INCIDENT {
                let labels = format!(
                    "{{\"alertname\":\"Alert{a}\",\"service\":\"{application}\",\"instance\":\"host-{n}-{a}\"}}"
                );
                alert
                    .execute(params![
                        format!("{n:06}{a:03}"),
                        labels,
                        ms(opened),
                        ms(resolved),
                        n as i64,
                        application,
                        team_id
                    ])
                    .unwrap();
            }
        }
    }
    tx.commit().unwrap();
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let config = config();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stopline.db");
    let year: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let started = Instant::now();
    history(&path, year);
    println!(
        "history: {INCIDENTS} incidents, {} alerts, written in {:.1} s",
        INCIDENTS * ALERTS_PER_INCIDENT,
        started.elapsed().as_secs_f64()
    );
    let store = Store::open(&path).unwrap();
    let end = year + SignedDuration::from_hours(365 * 24);
    let (mut whole, mut reading, mut formulas) = (Vec::new(), Vec::new(), Vec::new());
    let mut report = None;
    for run in 1..=RUNS {
        let t0 = Instant::now();
        let built = stopline_engine::report::build(&store, &config, year, end, None).unwrap();
        let total = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = Instant::now();
        let facts = store.report_facts(year, end).unwrap();
        let read = t1.elapsed().as_secs_f64() * 1000.0;
        let t2 = Instant::now();
        let _ = stopline_core::economics::report(
            &config,
            &facts,
            stopline_core::economics::Period {
                from: year,
                to: end,
            },
            None,
        );
        let computed = t2.elapsed().as_secs_f64() * 1000.0;
        println!(
            "run {run}/{RUNS}: report {total:.1} ms (reading {read:.1} ms, formulas {computed:.1} ms)"
        );
        whole.push(total);
        reading.push(read);
        formulas.push(computed);
        report = Some(built);
    }
    let report = report.unwrap();
    assert_eq!(report.incidents.len(), INCIDENTS);
    let markdown_started = Instant::now();
    let markdown = stopline_engine::report::markdown(&report, &config, None);
    let markdown_ms = markdown_started.elapsed().as_secs_f64() * 1000.0;
    println!("| measure | median of {RUNS} runs |");
    println!("|---|---|");
    println!(
        "| report over a year (50 teams, 200 applications, 40 rotas, {INCIDENTS} incidents, {} alerts in the store) | {:.1} ms |",
        INCIDENTS * ALERTS_PER_INCIDENT,
        median(whole)
    );
    println!(
        "| of which reading the year's incidents and responders | {:.1} ms |",
        median(reading)
    );
    println!("| of which the formulas | {:.1} ms |", median(formulas));
    println!(
        "| rendering it as Markdown (once) | {markdown_ms:.1} ms, {} KiB |",
        markdown.len() / 1024
    );
}

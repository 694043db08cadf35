//! A joined desktop's memory when its hub holds a year of 50 teams (docs/performance.md): the
//! report benchmark's organisation (`stopline_tests::year`: 50 teams, 200 applications,
//! 10,000 incidents with 50 alerts each) written into the hub's PostgreSQL.
//!
//! Two histories, each in its own database with its own `stopline hub`: the year spread over
//! 365 days (a full pull carries the open incidents and the last 30 days: the replica's window),
//! and the same volume inside the last 30 days (a month as bad as a whole year, all of it in the
//! window). For each, a desktop joins with the real `stopline connect` (timed, its peak memory
//! sampled from /proc), then `stopline serve` runs on the replica; its memory is read once its
//! first sync is done. A standalone `stopline serve` on the demo workspace is the baseline.
//! `make bench` runs it; nothing here asserts a time or a size.

#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use stopline_tests::postgres::Postgres;
use stopline_tests::year::{ALERTS_PER_INCIDENT, INCIDENTS, PEOPLE_PER_TEAM, TEAMS};
use support::{Sandbox, SecretService, Served, person_token, usage};

const WEBHOOK_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The year's incidents, resolved, opened over the `span_days` before yesterday, with what a
/// real one carries: 50 alerts, the timeline (opened, paged, acknowledged, resolved), the
/// checklist done, a commander (and a second responder for a third of them), the page.
fn history_sql(span_days: u32) -> String {
    let steps: Vec<String> = stopline_core::swarm::default_checklist()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "({i}, '{}', '{}')",
                s.id.as_str(),
                s.title.replace('\'', "''")
            )
        })
        .collect();
    format!(
        "BEGIN;
        UPDATE org_version SET version = 1;
        CREATE TEMP TABLE year AS
          SELECT i, team, app, person, opened,
                 opened + ack_s * interval '1 second' AS acked,
                 opened + (ack_s + fix_s) * interval '1 second' AS resolved
          FROM (SELECT i, (i * 7919) % {TEAMS} AS team, (i * 104729) % 4 AS app,
                       'p' || (i * 7919) % {TEAMS} || '-' || i % {PEOPLE_PER_TEAM} AS person,
                       now() - interval '1 day' * ({span_days} + 1)
                         + interval '1 second' * ((i::bigint * 2654435761) % ({span_days} * 86400)) AS opened,
                       60 + (i * 31) % 1800 AS ack_s, 600 + (i * 97) % 21600 AS fix_s
                FROM generate_series(1, {INCIDENTS}) i) AS drawn;
        INSERT INTO incidents (id, application_id, team_id, title, severity, state, opened_at,
                               acknowledged_at, acknowledged_by, resolved_at, resolved_by, version)
          SELECT i, 'app-' || team || '-' || app, 'team-' || team, 'App ' || team || '.' || app || ' failing',
                 CASE WHEN app = 0 THEN 'major' ELSE 'minor' END, 'resolved', opened,
                 acked, person, resolved, person, 1
          FROM year;
        SELECT setval('incidents_id_seq', {INCIDENTS});
        INSERT INTO alerts (source, fingerprint, labels, annotations, state, starts_at, ends_at,
                            first_seen, last_seen, application_id, team_id, incident_id, version)
          SELECT 'alertmanager', lpad(i::text, 6, '0') || lpad(a::text, 3, '0'),
                 '{{\"alertname\":\"Alert' || a || '\",\"service\":\"app-' || team || '-' || app
                   || '\",\"instance\":\"host-' || i || '-' || a || '\"}}',
                 '{{\"summary\":\"App ' || team || '.' || app || ' fails on host-' || i || '-' || a || '\"}}',
                 'resolved', opened, resolved, opened, resolved,
                 'app-' || team || '-' || app, 'team-' || team, i, 1
          FROM year, generate_series(0, {last_alert}) AS a;
        INSERT INTO timeline (incident_id, at, who, kind, detail, version)
          SELECT i, t.at, t.who, t.kind, t.detail, 1 FROM year, LATERAL (VALUES
            (opened, NULL, 'opened', 'opened by {ALERTS_PER_INCIDENT} alerts'),
            (opened, NULL, 'paging', 'paged ' || person || ' (primary on team-' || team || '-oncall)'),
            (acked, person, 'acknowledged', 'acknowledged'),
            (resolved, person, 'resolved', 'resolved')) AS t(at, who, kind, detail);
        INSERT INTO checklist_steps (incident_id, position, step, title, required, state,
                                     changed_by, changed_at, version)
          SELECT i, s.position, s.step, s.title, true, 'done', person, acked, 1
          FROM year, (VALUES {steps}) AS s(position, step, title);
        INSERT INTO roles (incident_id, role, person, since, until, named_by, version)
          SELECT i, 'commander', person, acked, resolved, person, 1 FROM year;
        INSERT INTO roles (incident_id, role, person, since, until, named_by, version)
          SELECT i, 'responder', 'p' || team || '-' || (i + 1) % {PEOPLE_PER_TEAM}, acked, resolved, NULL, 1
          FROM year WHERE i % 3 = 0;
        INSERT INTO pages (incident_id, step, cycle, person, reason, paged_at, version)
          SELECT i, 0, 0, person, 'primary on team-' || team || '-oncall', opened, 1 FROM year;
        COMMIT;",
        last_alert = ALERTS_PER_INCIDENT - 1,
        steps = steps.join(", "),
    )
}

/// The peak resident memory (VmHWM) of process `pid` so far, in KiB; `None` once it is gone.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Joins a desktop to the hub holding `span_days` of the year and reports what it costs.
fn measure(org: &Sandbox, postgres: &Postgres, name: &str, span_days: u32) {
    let database = postgres.create_database(name);
    org.ok(&["hub", "migrate", "--database", &database]);
    let started = Instant::now();
    postgres.psql(name, &history_sql(span_days));
    let written = started.elapsed();
    let in_window = postgres.psql(
        name,
        "SELECT count(*) || ' incidents, ' || (SELECT count(*) FROM alerts a JOIN incidents i
           ON i.id = a.incident_id WHERE i.resolved_at >= now() - interval '30 days') || ' alerts'
         FROM incidents WHERE resolved_at >= now() - interval '30 days'",
    );
    let mut command = org.command(&["hub", "--listen", "127.0.0.1:0"]);
    command
        .env("STOPLINE_DATABASE_URL", &database)
        .env("STOPLINE_WEBHOOK_TOKEN", WEBHOOK_TOKEN);
    let hub = Served::spawn(command);
    let url = format!("http://{}", hub.address);
    let token = person_token(org, &database, "p0-0");

    let desktop = Sandbox::new();
    desktop.write_config(&org.read_config());
    let keyring = SecretService::start(desktop.dir.path());
    let mut connect = desktop.command(&["connect", &url, "--token-stdin"]);
    connect
        .envs(keyring.env.iter().cloned())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let hub_before = usage(hub.child.id());
    let started = Instant::now();
    let mut child = connect.spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(token.as_bytes())
            .unwrap();
    }
    let mut connect_peak = 0;
    while child.try_wait().unwrap().is_none() {
        connect_peak = connect_peak.max(peak_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    }
    let joined = started.elapsed();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let hub_after = usage(hub.child.id());

    let replica = desktop.dir.path().join("data/replica.db");
    let counts: (i64, i64) = rusqlite::Connection::open(&replica)
        .unwrap()
        .query_row(
            "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM alerts)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut serve = desktop.command(&["serve", "--listen", "127.0.0.1:0"]);
    serve.envs(keyring.env.iter().cloned());
    let engine = Served::spawn(serve);
    // Connected in `stopline status` once the engine's first sync is done; then a few idle
    // seconds, so what is read is its settled memory.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = desktop.json(&["status"]);
        if status["hub"]["connected"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "never connected: {status}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let engine_rss = usage(engine.child.id()).0;
    let engine_peak = peak_kib(engine.child.id()).unwrap_or(0);
    let replica_bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", replica.display())).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{name}: history written in {:.1} s; in the 30-day window: {in_window}",
        written.as_secs_f64()
    );
    println!(
        "  stopline connect (full pull): {:.2} s, peak {:.0} MiB; hub RSS {:.0} -> {:.0} MiB, CPU {} ticks",
        joined.as_secs_f64(),
        mib(connect_peak),
        mib(hub_before.0),
        mib(hub_after.0),
        hub_after.1 - hub_before.1
    );
    println!(
        "  replica: {} incidents, {} alerts, {:.1} MiB on disk; stopline serve on it: RSS {:.1} MiB (peak {:.1} MiB)",
        counts.0,
        counts.1,
        replica_bytes as f64 / 1048576.0,
        mib(engine_rss),
        mib(engine_peak)
    );
}

fn main() {
    let org = Sandbox::new();
    org.write_config(&stopline_tests::year::config_text());
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(pg_dir.path());

    // The baseline: an engine on the demo workspace, standalone and empty.
    let standalone = Sandbox::demo();
    let engine = Served::spawn(standalone.command(&["serve", "--listen", "127.0.0.1:0"]));
    std::thread::sleep(Duration::from_secs(3));
    println!(
        "standalone stopline serve (demo workspace, empty store): RSS {:.1} MiB",
        mib(usage(engine.child.id()).0)
    );
    drop(engine);

    measure(&org, &postgres, "year", 365);
    measure(&org, &postgres, "month", 29);
}

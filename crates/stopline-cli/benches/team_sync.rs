//! Desktops joined to a hub (docs/team.md): how soon an acknowledgement made on desktop A is in
//! desktop B's replica, and how long a desktop takes to drain 1,000 actions queued while the hub
//! was away, with the hub's CPU meanwhile; and each desktop's memory.
//!
//! Runs the real `stopline hub` and two `stopline serve` desktops (release builds), joined with
//! `stopline connect`, on a durable PostgreSQL (`fsync = on`) the bench starts, all on loopback;
//! each desktop has its own data directory and the OS keyring (GNOME Keyring on a private
//! session bus) holds the tokens. A trial posts an alert to the hub (a new incident), waits for
//! it in both replicas, runs `stopline ack` on A, and times until B's replica (read directly,
//! every millisecond) says acknowledged; then resolves it. The drain: the hub stopped, 1,000
//! `stopline note`s on A, the hub started again, timed until A's queue is empty. `make bench`
//! runs it; nothing here asserts a time.

#[path = "../tests/cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::{Duration, Instant};

use stopline_tests::postgres::Postgres;
use support::{Sandbox, SecretService, Served, percentile, person_token, usage, with_stdin};

const TRIALS: usize = 40;
const QUEUED: usize = 1_000;
const WEBHOOK_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// One desktop: its data directory, keyring and engine.
struct Desktop {
    sandbox: Sandbox,
    keyring: SecretService,
    served: Option<Served>,
}

impl Desktop {
    fn join(org: &Sandbox, url: &str, token: &str) -> Self {
        let sandbox = Sandbox::new();
        sandbox.write_config(&org.read_config());
        let keyring = SecretService::start(sandbox.dir.path());
        let mut connect = sandbox.command(&["connect", url, "--token-stdin"]);
        connect.envs(keyring.env.iter().cloned());
        assert!(with_stdin(connect, token).status.success());
        let mut desktop = Self {
            sandbox,
            keyring,
            served: None,
        };
        desktop.serve();
        desktop
    }

    fn serve(&mut self) {
        let mut command = self.sandbox.command(&["serve", "--listen", "127.0.0.1:0"]);
        command.envs(self.keyring.env.iter().cloned());
        self.served = Some(Served::spawn(command));
    }

    fn run(&self, args: &[&str]) {
        let output = self
            .sandbox
            .command(args)
            .envs(self.keyring.env.iter().cloned())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The replica, read-only: what this desktop shows.
    fn replica(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.sandbox.dir.path().join("data/replica.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    fn rss_kib(&self) -> u64 {
        let pid = self.served.as_ref().unwrap().child.id();
        usage(pid).0
    }
}

/// Waits until `query` on `db` answers `expected`, polling every millisecond.
fn wait_for(db: &rusqlite::Connection, query: &str, expected: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let answer: Option<String> = db.query_row(query, [], |r| r.get(0)).ok();
        if answer.as_deref() == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{query}: {answer:?}, not {expected}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn hub(org: &Sandbox, database: &str, listen: &str) -> Served {
    let mut command = org.command(&["hub", "--listen", listen]);
    command
        .env("STOPLINE_DATABASE_URL", database)
        .env("STOPLINE_WEBHOOK_TOKEN", WEBHOOK_TOKEN);
    Served::spawn(command)
}

fn main() {
    let org = Sandbox::demo();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start_durable(pg_dir.path());
    let database = postgres.create_database("org");
    org.ok(&["hub", "migrate", "--database", &database]);
    let mut server = hub(&org, &database, "127.0.0.1:0");
    let address = server.address.clone();
    let url = format!("http://{address}");
    let token = |person: &str| person_token(&org, &database, person);
    let mut a = Desktop::join(&org, &url, &token("aisha"));
    let b = Desktop::join(&org, &url, &token("ben"));
    let (replica_a, replica_b) = (a.replica(), b.replica());

    // Acknowledged on A, in B's replica.
    let mut latencies = Vec::new();
    for trial in 1..=TRIALS {
        let name = format!("Trial{trial}");
        let (status, body) =
            server.post_alerts(WEBHOOK_TOKEN, &[(&name, &[("service", "payment-gateway")])]);
        assert_eq!(status, 200, "{body}");
        let incident = format!("INC-{trial}");
        let is = |state: &str| {
            format!("SELECT state FROM incidents WHERE id = {trial} AND '{state}' = state")
        };
        wait_for(
            &replica_a,
            &is("triggered"),
            "triggered",
            Duration::from_secs(20),
        );
        wait_for(
            &replica_b,
            &is("triggered"),
            "triggered",
            Duration::from_secs(20),
        );
        let started = Instant::now();
        a.run(&["ack", &incident, "--as", "aisha"]);
        wait_for(
            &replica_b,
            &is("acknowledged"),
            "acknowledged",
            Duration::from_secs(20),
        );
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        a.run(&["resolve", &incident, "--as", "aisha", "--force"]);
        wait_for(
            &replica_b,
            &is("resolved"),
            "resolved",
            Duration::from_secs(20),
        );
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "ack on desktop A -> in desktop B's replica ({TRIALS} trials, `stopline ack` included): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().unwrap()
    );

    // 1,000 actions queued while the hub is away, drained when it is back.
    drop(server);
    for i in 0..QUEUED {
        a.run(&[
            "note",
            "INC-1",
            &format!("queued note {i}"),
            "--as",
            "aisha",
        ]);
    }
    let waiting: i64 = replica_a
        .query_row(
            "SELECT COUNT(*) FROM hub_mutations WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(waiting >= QUEUED as i64, "{waiting} waiting");
    server = hub(&org, &database, &address);
    let started = Instant::now();
    let (_, cpu_before) = usage(server.child.id());
    wait_for(
        &replica_a,
        "SELECT CAST(COUNT(*) AS TEXT) FROM hub_mutations WHERE status = 'pending'",
        "0",
        Duration::from_secs(120),
    );
    let drained = started.elapsed();
    let (_, cpu_after) = usage(server.child.id());
    // Linux counts CPU time in USER_HZ ticks, 100 a second.
    let ticks = 100.0;
    let cpu_ms = (cpu_after - cpu_before) as f64 / ticks * 1000.0;
    let notes: usize = postgres
        .psql("org", "SELECT count(*) FROM timeline WHERE kind = 'note'")
        .parse()
        .unwrap();
    assert_eq!(notes, QUEUED);
    println!(
        "drain of {QUEUED} queued actions after the hub came back: {:.0} ms ({:.0} actions/s), hub CPU {cpu_ms:.0} ms",
        drained.as_secs_f64() * 1000.0,
        QUEUED as f64 / drained.as_secs_f64()
    );
    // The desktops' memory now, with this history in their replicas.
    println!(
        "desktop engine RSS: A {} MiB, B {} MiB ({TRIALS} incidents, {QUEUED} notes)",
        a.rss_kib() / 1024,
        b.rss_kib() / 1024
    );
    a.serve_stop();
    drop(server);
}

impl Desktop {
    fn serve_stop(&mut self) {
        self.served = None;
    }
}

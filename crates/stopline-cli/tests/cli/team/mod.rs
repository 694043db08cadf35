//! Desktops joined to a team hub (docs/team.md): a real PostgreSQL, real hubs, and desktops that
//! each have their own data directory, session bus, notification server and keyring, run as
//! `stopline serve`: `sharing` on loopback (one incident, a hub away, a partition by stopping the
//! hub), `faults` across network namespaces, through kill -9 and a restore from a backup, `desk`
//! the service desk and overrides, `outage` five minutes of scripted incidents without the hubs,
//! `overnight` a night away in moved time (in this process).

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use stopline_tests::netns::{Host, Lan};
use stopline_tests::postgres::Postgres;

use crate::support::{NotificationServer, Sandbox, SecretService, Served, payments_primary};

mod desk;
mod faults;
mod outage;
mod overnight;
mod reach;
mod sharing;

/// The senders' token of the hubs these tests start.
const TOKEN: &str = "team-hub-webhook-token-0123456789";

/// A PostgreSQL with a migrated hub database, and a hub on it (the demo organisation).
struct Org {
    sandbox: Sandbox,
    _pg_dir: tempfile::TempDir,
    postgres: Postgres,
    database: String,
    hubs: Vec<Served>,
}

impl Org {
    fn start(hubs: usize) -> Self {
        Self::start_with(hubs, "")
    }

    /// With `extra` appended to the demo config (which every desktop then shares).
    fn start_with(hubs: usize, extra: &str) -> Self {
        let sandbox = Sandbox::demo();
        sandbox.write_config(&(sandbox.read_config() + extra));
        let pg_dir = tempfile::tempdir().unwrap();
        let postgres = Postgres::start(pg_dir.path());
        let database = postgres.create_database("org");
        sandbox.ok(&["hub", "migrate", "--database", &database]);
        let mut org = Self {
            sandbox,
            _pg_dir: pg_dir,
            postgres,
            database,
            hubs: Vec::new(),
        };
        for _ in 0..hubs {
            let hub = org.hub(None);
            org.hubs.push(hub);
        }
        org
    }

    /// A hub on the database, on `address` (default: a free loopback port).
    fn hub(&self, address: Option<&str>) -> Served {
        let mut command =
            self.sandbox
                .command(&["hub", "--listen", address.unwrap_or("127.0.0.1:0")]);
        command
            .env("STOPLINE_DATABASE_URL", &self.database)
            .env("STOPLINE_WEBHOOK_TOKEN", TOKEN);
        Served::spawn(command)
    }

    fn url(&self, hub: usize) -> String {
        format!("http://{}", self.hubs[hub].address)
    }

    fn token_for(&self, person: &str) -> String {
        crate::support::person_token(&self.sandbox, &self.database, person)
    }

    /// An alert for the payment gateway, to hub 0.
    fn alert(&self, name: &str) {
        let (status, body) =
            self.hubs[0].post_alerts(TOKEN, &[(name, &[("service", "payment-gateway")])]);
        assert_eq!(status, 200, "{body}");
    }

    fn sql(&self, query: &str) -> String {
        self.postgres.psql("org", query)
    }

    /// Waits until `query` answers `expected`.
    fn wait_for_sql(&self, query: &str, expected: &str) {
        until_answers(&self.postgres, query, expected);
    }
}

/// Waits until `query` on the organisation's database answers `expected`.
fn until_answers(postgres: &Postgres, query: &str, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = postgres.psql("org", query);
        if answer == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{query} answers {answer}, not {expected}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An organisation on a LAN of network namespaces (`stopline_tests::netns`): PostgreSQL on a
/// host of its own and hubs on hosts of their own, in plain HTTP on port 9178, answering by
/// their LAN addresses; the demo config with what a test appends.
struct LanOrg {
    sandbox: Sandbox,
    _pg_dir: tempfile::TempDir,
    postgres: Postgres,
    database: String,
    hub_hosts: Vec<Host>,
    /// The running hubs; cleared to stop them, [`LanOrg::start_hubs`] to start them again.
    hubs: Vec<Served>,
}

impl LanOrg {
    fn start(lan: &mut Lan, hubs: usize, extra: &str) -> Self {
        let db = lan.host("db");
        let hub_hosts: Vec<Host> = (0..hubs).map(|i| lan.host(&format!("hub{i}"))).collect();
        let sandbox = Sandbox::demo();
        let allowed: Vec<String> = hub_hosts
            .iter()
            .map(|h| format!("\"{}\"", h.address))
            .collect();
        sandbox.write_config(&format!(
            "{}\n[webhook]\nallowed_hosts = [{}]\n{extra}",
            sandbox.read_config(),
            allowed.join(", ")
        ));
        let pg_dir = tempfile::tempdir().unwrap();
        let postgres = Postgres::start_in(pg_dir.path(), &db.namespace, &db.address);
        let database = postgres.create_database("org");
        let migrated = hub_hosts[0]
            .wrap(&sandbox.command(&["hub", "migrate", "--database", &database]))
            .output()
            .unwrap();
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        let mut org = Self {
            sandbox,
            _pg_dir: pg_dir,
            postgres,
            database,
            hub_hosts,
            hubs: Vec::new(),
        };
        org.start_hubs();
        org
    }

    /// A hub on each hub host.
    fn start_hubs(&mut self) {
        self.hubs = self
            .hub_hosts
            .iter()
            .map(|host| {
                let mut command = self.sandbox.command(&[
                    "hub",
                    "--listen",
                    &format!("{}:9178", host.address),
                    "--insecure-plaintext",
                ]);
                command
                    .env("STOPLINE_DATABASE_URL", &self.database)
                    .env("STOPLINE_WEBHOOK_TOKEN", TOKEN);
                Served::spawn(host.wrap(&command))
            })
            .collect();
    }

    fn url(&self, hub: usize) -> String {
        format!("http://{}:9178", self.hub_hosts[hub].address)
    }

    fn sql(&self, query: &str) -> String {
        self.postgres.psql("org", query)
    }

    fn wait_for_sql(&self, query: &str, expected: &str) {
        until_answers(&self.postgres, query, expected);
    }

    /// A desktop for `person` on a host of its own, joined to hub `hub` with a token made by
    /// `stopline hub token create` on the hub's host (where the database is reachable).
    fn desktop(&self, lan: &mut Lan, hub: usize, person: &str) -> Desktop {
        // Named after the person (a host name is at most 6 letters).
        let host = lan.host(&person[..person.len().min(6)]);
        let output = self.hub_hosts[0]
            .wrap(&self.sandbox.command(&[
                "hub",
                "token",
                "create",
                "--person",
                person,
                "--database",
                &self.database,
                "--json",
            ]))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let made: Value = serde_json::from_slice(&output.stdout).unwrap();
        let token = made["token"].as_str().unwrap();
        Desktop::join_at(&self.sandbox, &self.url(hub), token, person, Some(host))
    }

    /// Posts one firing alert (`alertname`, `service`) to hub `hub`, from its own host.
    fn alert(&self, hub: usize, alertname: &str, service: &str) {
        let alert = serde_json::json!({"version": "4", "status": "firing", "alerts": [{"status": "firing",
            "startsAt": "2026-01-01T00:00:00Z",
            "labels": {"alertname": alertname, "service": service}}]});
        let posted = self.hub_hosts[hub]
            .command("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {TOKEN}"))
            .args(["-H", "Content-Type: application/json", "--data-binary"])
            .arg(alert.to_string())
            .arg(format!("{}/v1/alertmanager", self.url(hub)))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&posted.stdout),
            "200",
            "{}",
            String::from_utf8_lossy(&posted.stderr)
        );
    }
}

/// One person's desktop: its own sandbox, session bus with a notification server and a
/// keyring, joined to the hub. Fields drop in order: the engine before its bus.
struct Desktop {
    served: Option<Served>,
    keyring: SecretService,
    notifications: NotificationServer,
    sandbox: Sandbox,
    person: String,
    /// The network namespace it runs in; `None` on the machine's loopback.
    host: Option<Host>,
}

impl Desktop {
    fn join(org: &Org, hub: usize, person: &str) -> Self {
        let token = org.token_for(person);
        Self::join_at(&org.sandbox, &org.url(hub), &token, person, None)
    }

    /// Joins the hub at `url` with `token`, from `host` (its network namespace) if given.
    fn join_at(org: &Sandbox, url: &str, token: &str, person: &str, host: Option<Host>) -> Self {
        let sandbox = Sandbox::new();
        // The organisation's config, as every seat has it.
        sandbox.write_config(&org.read_config());
        let notifications = NotificationServer::start(sandbox.dir.path(), "body actions");
        let keyring = SecretService::start_on_bus(sandbox.dir.path(), &notifications.env[0].1);
        let desktop = Self {
            served: None,
            keyring,
            notifications,
            sandbox,
            person: person.to_owned(),
            host,
        };
        let joined = desktop.connect(url, token);
        assert!(
            joined.status.success(),
            "{}",
            String::from_utf8_lossy(&joined.stderr)
        );
        desktop
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.sandbox.command(args);
        command.envs(self.keyring.env.iter().cloned());
        command
    }

    /// A command that talks to the network: inside the desktop's namespace, if it has one.
    fn networked(&self, args: &[&str]) -> std::process::Command {
        let command = self.command(args);
        match &self.host {
            Some(host) => host.wrap(&command),
            None => command,
        }
    }

    fn connect(&self, url: &str, token: &str) -> std::process::Output {
        let insecure = self.host.is_some();
        let mut args = vec!["connect", url, "--token-stdin"];
        if insecure {
            // A hub on the namespaces' LAN, not loopback, in plain HTTP.
            args.push("--insecure-plaintext");
        }
        crate::support::with_stdin(self.networked(&args), token)
    }

    fn serve(&mut self) {
        let mut command = self.networked(&["serve", "--listen", "127.0.0.1:0"]);
        command.envs(self.notifications.env.iter().cloned());
        self.served = Some(Served::spawn(command));
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{} stopline {args:?} failed: {}",
            self.person,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let output = self.run(&args);
        assert!(
            output.status.success(),
            "{} {args:?}: {}",
            self.person,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn incident(&self, id: &str) -> Value {
        self.json(&["incident", "show", id])
    }

    /// Waits until `check` holds of incident `id` here; answers how long it took.
    fn wait_for(&self, id: &str, check: impl Fn(&Value) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            let output = self.run(&["incident", "show", id, "--json"]);
            if output.status.success() {
                let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
                if check(&shown) {
                    return start.elapsed();
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(45),
                "{id} never got there on {}'s desktop: {}",
                self.person,
                String::from_utf8_lossy(&output.stdout)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until every incident here (resolved ones too) is one of `ids`, in that order.
    fn wait_for_ids(&self, ids: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let listed = self.json(&["incidents", "--state", "all"]);
            let here: Vec<&str> = listed
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect();
            if here == ids {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}'s desktop still has {here:?}",
                self.person
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn status(&self) -> Value {
        self.json(&["status"])
    }

    /// Waits until none of this desktop's actions waits for the hub.
    fn wait_drained(&self) {
        let deadline = Instant::now() + Duration::from_secs(45);
        while self.status()["hub"]["actions_waiting"] != 0 {
            assert!(
                Instant::now() < deadline,
                "{}'s queue never drained: {:#}",
                self.person,
                self.status()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What every seat must agree on about an incident: its state and stamps, its timeline (without
/// local ids), checklist and roles.
fn shared(incident: &Value) -> Value {
    let timeline: Vec<Value> = incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::json!([e["at"], e["who"], e["kind"], e["detail"]]))
        .collect();
    serde_json::json!({
        "state": incident["state"],
        "acknowledged_by": incident["acknowledged_by"],
        "acknowledged_at": incident["acknowledged_at"],
        "severity": incident["severity"],
        "timeline": timeline,
        "checklist": incident["checklist"],
        "roles": incident["roles"],
    })
}

fn teammate_of(primary: &str) -> &'static str {
    ["aisha", "ben", "carla", "dmitri"]
        .into_iter()
        .find(|p| *p != primary)
        .unwrap()
}

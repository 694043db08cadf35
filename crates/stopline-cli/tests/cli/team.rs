//! Desktops joined to a team hub (docs/team.md): a real PostgreSQL, real hubs, and desktops that
//! each have their own data directory, session bus, notification server and keyring, run as
//! `stopline serve`. Scenarios across network namespaces are in the `tests` crate; these run on
//! loopback.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use stopline_tests::netns::{Host, Lan};
use stopline_tests::postgres::Postgres;

use crate::support::{NotificationServer, Sandbox, SecretService, Served, payments_primary};

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
        let made = self.sandbox.json(&[
            "hub",
            "token",
            "create",
            "--person",
            person,
            "--database",
            &self.database,
        ]);
        made["token"].as_str().unwrap().to_owned()
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
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let answer = self.sql(query);
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
        let mut child = self
            .networked(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{token}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn serve(&mut self) {
        let mut command = self.networked(&["serve", "--listen", "127.0.0.1:0"]);
        command.envs(self.notifications.env.iter().cloned());
        self.served = Some(Served::spawn(command));
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
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

    fn status(&self) -> Value {
        self.json(&["status"])
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

#[test]
fn joined_desktops_share_one_incident_and_only_the_person_on_call_is_paged() {
    let org = Org::start(2);
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut on_call = Desktop::join(&org, 0, &primary);
    // The teammate's desktop talks to the other hub: replicas share one database.
    let mut other = Desktop::join(&org, 1, teammate);
    on_call.serve();
    other.serve();
    let status = on_call.status();
    assert_eq!(status["person"], primary.as_str());
    assert_eq!(status["hub"]["person"], primary.as_str());
    assert_eq!(status["hub"]["url"], org.url(0));

    org.alert("GatewayDown");
    on_call.wait_for("INC-1", |i| i["state"] == "triggered");
    other.wait_for("INC-1", |i| i["state"] == "triggered");
    // Only the person on call is notified, on their own desktop.
    let shown = on_call.notifications.wait_for_notifications(1);
    assert_eq!(
        shown[0]["summary"], "Payment Gateway: GatewayDown",
        "{shown:#?}"
    );
    // The receipt reaches the hub.
    org.wait_for_sql("SELECT count(*) FROM page_receipts", "1");

    // The acknowledgement on the on-call desktop reaches the other within a second or so, and
    // stops escalation on the hub.
    let acked = on_call.run(&["ack", "INC-1", "--as", &primary]);
    assert!(
        acked.status.success(),
        "{}",
        String::from_utf8_lossy(&acked.stderr)
    );
    let took = other.wait_for("INC-1", |i| i["state"] == "acknowledged");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        org.sql("SELECT status FROM escalations WHERE incident_id = 1"),
        "stopped"
    );
    assert!(other.notifications.notifications().is_empty());
    // The hub, and every seat, agree.
    let here = on_call.wait_for("INC-1", |i| {
        i["hub_actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"] == "applied"))
    });
    let _ = here;
    assert_eq!(
        shared(&on_call.incident("INC-1")),
        shared(&other.incident("INC-1"))
    );

    // A desktop acts as its person only.
    let as_other = on_call.run(&["ack", "INC-1", "--as", teammate]);
    assert_eq!(as_other.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&as_other.stderr).contains("it acts only as"),
        "{}",
        String::from_utf8_lossy(&as_other.stderr)
    );
}

#[test]
fn two_desktops_cut_off_from_the_hub_both_acknowledge_and_converge_on_one_winner() {
    let mut org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut first = Desktop::join(&org, 0, &primary);
    let mut second = Desktop::join(&org, 0, teammate);
    first.serve();
    second.serve();
    org.alert("GatewayDown");
    first.wait_for("INC-1", |i| i["state"] == "triggered");
    second.wait_for("INC-1", |i| i["state"] == "triggered");
    org.wait_for_sql("SELECT count(*) FROM page_receipts", "1");

    // The hub goes away: both desktops keep working on their replicas.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    let offline = |desktop: &Desktop| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = desktop.status();
            if status["hub"]["connected"] == false {
                return status;
            }
            assert!(Instant::now() < deadline, "never offline: {status:#}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    offline(&first);
    offline(&second);
    for desktop in [&first, &second] {
        let acked = desktop.run(&["ack", "INC-1", "--as", &desktop.person]);
        assert!(
            acked.status.success(),
            "{}",
            String::from_utf8_lossy(&acked.stderr)
        );
        let shown = desktop.incident("INC-1");
        assert_eq!(shown["state"], "acknowledged");
        assert_eq!(shown["hub_actions"][0]["status"], "pending");
        let status = desktop.status();
        assert_eq!(status["hub"]["actions_waiting"], 1);
        let text = String::from_utf8_lossy(&desktop.run(&["status"]).stdout).into_owned();
        assert!(
            text.contains("offline since") && text.contains("1 actions waiting"),
            "{text}"
        );
    }
    // The second to push loses; the first's stands. Bring the hub back on the same address.
    org.hubs.push(org.hub(Some(&address)));
    first.wait_for("INC-1", |i| {
        i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
    });
    second.wait_for("INC-1", |i| {
        i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
    });
    let (a, b) = (first.incident("INC-1"), second.incident("INC-1"));
    let outcomes = [
        a["hub_actions"][0]["status"].clone(),
        b["hub_actions"][0]["status"].clone(),
    ];
    assert!(
        outcomes.contains(&Value::from("applied")) && outcomes.contains(&Value::from("refused")),
        "{outcomes:?}"
    );
    let loser = if a["hub_actions"][0]["status"] == "refused" {
        &a
    } else {
        &b
    };
    let reason = loser["hub_actions"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("already acknowledged"), "{reason}");
    // Both acknowledgements are on every timeline, and every seat agrees with the hub.
    let winner_name = org.sql("SELECT acknowledged_by FROM incidents WHERE id = 1");
    for desktop in [&first, &second] {
        desktop.wait_for("INC-1", |i| {
            i["timeline"].as_array().unwrap().iter().any(|e| {
                e["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("also acknowledged")
            })
        });
        let shown = desktop.incident("INC-1");
        assert_eq!(shown["acknowledged_by"], winner_name.as_str());
    }
    assert_eq!(
        shared(&first.incident("INC-1")),
        shared(&second.incident("INC-1"))
    );
    drop(first);
    drop(second);
}

#[test]
fn while_the_hub_is_away_each_desktop_pages_only_its_own_person_and_merges_when_it_returns() {
    let am_dir = tempfile::tempdir().unwrap();
    let alertmanager = stopline_tests::alertmanager::Alertmanager::start(
        am_dir.path(),
        stopline_tests::free_port(),
        None,
    );
    let mut org = Org::start_with(
        1,
        &format!(
            "\n[hub]\ndegraded_after = \"2s\"\n\n[[sources]]\nname = \"prod-am\"\nkind = \"alertmanager\"\nurls = [\"{}\"]\npoll_interval = \"1s\"\nwrite_back = true\nsilence_duration = \"2h\"\n",
            alertmanager.url()
        ),
    );
    let primary = payments_primary(&org.sandbox);
    let teammate = teammate_of(&primary);
    let mut on_call = Desktop::join(&org, 0, &primary);
    let mut other = Desktop::join(&org, 0, teammate);
    on_call.serve();
    other.serve();

    // The hub goes away; after `degraded_after` each desktop polls the Alertmanager itself.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    for desktop in [&on_call, &other] {
        desktop
            .served
            .as_ref()
            .unwrap()
            .wait_for_log("pages its own person until it returns");
    }
    alertmanager.post_alert_with("GatewayDown", &[("service", "payment-gateway")], None);
    let provisional = |desktop: &Desktop| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listed = desktop.json(&["incidents"]);
            if let Some(id) = listed
                .as_array()
                .unwrap()
                .first()
                .map(|i| i["id"].as_str().unwrap().to_owned())
            {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no provisional incident on {}'s desktop",
                desktop.person
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let mine = provisional(&on_call);
    let theirs = provisional(&other);
    assert!(mine.starts_with("INC-100000000"), "{mine}");
    // Only the person on call is paged, on their own desktop.
    let shown = on_call.notifications.wait_for_notifications(1);
    let gateway = |n: &Value| {
        n["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Payment Gateway: GatewayDown"))
    };
    assert!(gateway(&shown[0]), "{shown:#?}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(other.notifications.notifications().is_empty());

    // The on-call person acknowledges: the desktop writes a Stopline silence back, and the
    // teammate's desktop stops escalating through it.
    let acked = on_call.run(&["ack", &mine, "--as", &primary]);
    assert!(
        acked.status.success(),
        "{}",
        String::from_utf8_lossy(&acked.stderr)
    );
    other.wait_for(&theirs, |i| {
        i["state"] == "acknowledged"
            && i["timeline"].as_array().unwrap().iter().any(|e| {
                e["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("acknowledged elsewhere")
            })
    });

    // The hub returns: it takes the alert (a Stopline silence does not hide it from Stopline),
    // the provisional incidents merge into its incident, the waiting acknowledgement reaches
    // it, and nobody is paged twice.
    org.hubs.push(org.hub(Some(&address)));
    org.wait_for_sql("SELECT count(*) FROM incidents", "1");
    for desktop in [&on_call, &other] {
        desktop.wait_for("INC-1", |i| i["state"] == "acknowledged");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let listed = desktop.json(&["incidents", "--state", "all"]);
            let ids: Vec<&str> = listed
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap())
                .collect();
            if ids == ["INC-1"] {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}'s desktop still has {ids:?}",
                desktop.person
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    assert_eq!(
        org.sql("SELECT acknowledged_by FROM incidents WHERE id = 1"),
        primary
    );
    org.wait_for_sql(
        "SELECT status FROM escalations WHERE incident_id = 1",
        "stopped",
    );
    on_call.wait_for("INC-1", |i| {
        i["hub_actions"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|a| a["status"] == "applied"))
    });
    std::thread::sleep(Duration::from_secs(1));
    let pages: Vec<Value> = on_call
        .notifications
        .notifications()
        .into_iter()
        .filter(|n| gateway(n))
        .collect();
    assert_eq!(pages.len(), 1, "paged once for the step: {pages:#?}");
    assert!(other.notifications.notifications().is_empty());
    assert_eq!(
        shared(&on_call.incident("INC-1")),
        shared(&other.incident("INC-1"))
    );
}

#[test]
fn every_action_a_desktop_said_was_saved_reaches_the_hub_exactly_once_through_kill_9() {
    let org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let mut desktop = Desktop::join(&org, 0, &primary);
    desktop.serve();
    org.alert("GatewayDown");
    desktop.wait_for("INC-1", |i| i["state"] == "triggered");

    // Bursts of notes, each its own `stopline note`; some killed mid-way, and the desktop's
    // engine killed (-9) and started again between bursts, while it pushes.
    let mut saved = Vec::new();
    let mut cut_short = Vec::new();
    let mut random = crate::support::XorShift(0x5eed_cafe);
    for burst in 0..6 {
        for i in 0..12 {
            let text = format!("burst {burst} note {i}");
            let mut child = desktop
                .command(&["note", "INC-1", &text, "--as", &primary])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if random.below(4) == 0 {
                std::thread::sleep(Duration::from_millis(random.below(15)));
                let _ = child.kill();
            }
            match child.wait().unwrap().code() {
                Some(0) => saved.push(text),
                _ => cut_short.push(text),
            }
        }
        // The engine dies as hard as it can, then starts again on the same queue.
        let served = desktop.served.as_mut().unwrap();
        let _ = served.child.kill();
        let _ = served.child.wait();
        desktop.serve();
    }
    assert!(saved.len() >= 40, "{} saved", saved.len());

    // The queue drains; each saved note is on the hub once, and nothing is there twice.
    let deadline = Instant::now() + Duration::from_secs(30);
    while desktop.status()["hub"]["actions_waiting"] != 0 {
        assert!(
            Instant::now() < deadline,
            "the queue never drained: {}",
            desktop.status()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let notes = org.sql(
        "SELECT detail || '|' || count(*) FROM timeline WHERE kind = 'note' GROUP BY detail ORDER BY detail",
    );
    let counted: std::collections::BTreeMap<String, u32> = notes
        .lines()
        .map(|l| {
            let (text, n) = l.rsplit_once('|').unwrap();
            (text.to_owned(), n.parse().unwrap())
        })
        .collect();
    for text in &saved {
        assert_eq!(counted.get(text), Some(&1), "{text}: {counted:?}");
    }
    assert!(counted.values().all(|n| *n == 1), "{counted:?}");
    assert!(
        counted
            .keys()
            .all(|t| saved.contains(t) || cut_short.contains(t)),
        "{counted:?}"
    );
    // And the desktop's timeline is the hub's.
    let here: Vec<String> = desktop.incident("INC-1")["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect();
    let mut here_sorted = here.clone();
    here_sorted.sort();
    here_sorted.dedup();
    assert_eq!(
        here.len(),
        here_sorted.len(),
        "no note twice here: {here:?}"
    );
    assert_eq!(here_sorted, counted.keys().cloned().collect::<Vec<_>>());
}

/// The hub's people's tokens, made inside `host` (the database is on the LAN).
fn token_in(org: &Sandbox, host: &Host, database: &str, person: &str) -> String {
    let output = host
        .wrap(&org.command(&[
            "hub",
            "token",
            "create",
            "--person",
            person,
            "--database",
            database,
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
    made["token"].as_str().unwrap().to_owned()
}

#[test]
fn across_network_namespaces_two_partitioned_desktops_both_acknowledge_and_every_seat_converges() {
    let Some(mut lan) = Lan::new() else { return };
    let db = lan.host("db");
    let hub_hosts = [lan.host("huba"), lan.host("hubb")];
    let org = Sandbox::demo();
    // The hubs answer by their addresses on the LAN.
    org.write_config(
        &(org.read_config() + "\n[webhook]\nallowed_hosts = [\"10.77.0.2\", \"10.77.0.3\"]\n"),
    );
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start_in(pg_dir.path(), &db.namespace, &db.address);
    let database = postgres.create_database("org");
    let migrated = hub_hosts[0]
        .wrap(&org.command(&["hub", "migrate", "--database", &database]))
        .output()
        .unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    // Two hubs, one on each host, on the LAN in plain HTTP.
    let hubs: Vec<Served> = hub_hosts
        .iter()
        .map(|host| {
            let mut command = org.command(&[
                "hub",
                "--listen",
                &format!("{}:9178", host.address),
                "--insecure-plaintext",
            ]);
            command
                .env("STOPLINE_DATABASE_URL", &database)
                .env("STOPLINE_WEBHOOK_TOKEN", TOKEN);
            Served::spawn(host.wrap(&command))
        })
        .collect();
    let url = |i: usize| format!("http://{}:9178", hub_hosts[i].address);

    let primary = payments_primary(&org);
    let others: Vec<&str> = ["aisha", "ben", "carla", "dmitri"]
        .into_iter()
        .filter(|p| *p != primary)
        .take(2)
        .collect();
    let people = [primary.as_str(), others[0], others[1]];
    let mut desktops: Vec<Desktop> = people
        .iter()
        .enumerate()
        .map(|(i, person)| {
            let host = lan.host(&format!("desk{i}"));
            let token = token_in(&org, &hub_hosts[0], &database, person);
            Desktop::join_at(&org, &url(i % 2), &token, person, Some(host))
        })
        .collect();
    for desktop in &mut desktops {
        desktop.serve();
    }

    // An alert to the first hub, from its own host.
    let alert = serde_json::json!({"version": "4", "status": "firing", "alerts": [{"status": "firing",
        "startsAt": "2026-01-01T00:00:00Z",
        "labels": {"alertname": "GatewayDown", "service": "payment-gateway"}}]});
    let posted = hub_hosts[0]
        .command("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {TOKEN}"))
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(alert.to_string())
        .arg(format!("{}/v1/alertmanager", url(0)))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&posted.stdout), "200");
    for desktop in &desktops {
        desktop.wait_for("INC-1", |i| i["state"] == "triggered");
    }
    // Only the person on call is notified, on their desktop.
    desktops[0].notifications.wait_for_notifications(1);
    std::thread::sleep(Duration::from_millis(500));
    assert!(desktops[1].notifications.notifications().is_empty());
    assert!(desktops[2].notifications.notifications().is_empty());

    // Two desktops cut off from the LAN both acknowledge: each applies it at once, pending.
    for desktop in &desktops[..2] {
        lan.partition(desktop.host.as_ref().unwrap());
    }
    for desktop in &desktops[..2] {
        let acked = desktop.run(&["ack", "INC-1", "--as", &desktop.person]);
        assert!(
            acked.status.success(),
            "{}",
            String::from_utf8_lossy(&acked.stderr)
        );
        assert_eq!(
            desktop.incident("INC-1")["hub_actions"][0]["status"],
            "pending"
        );
    }
    // The third, still connected, sees neither yet.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(desktops[2].incident("INC-1")["state"], "triggered");

    // Healed: one winner, both acknowledgements on every timeline, every seat as the hub.
    for desktop in &desktops[..2] {
        lan.heal(desktop.host.as_ref().unwrap());
    }
    for desktop in &desktops[..2] {
        desktop.wait_for("INC-1", |i| {
            i["hub_actions"][0]["status"] == "applied" || i["hub_actions"][0]["status"] == "refused"
        });
    }
    let winner = postgres.psql("org", "SELECT acknowledged_by FROM incidents WHERE id = 1");
    assert!(people[..2].contains(&winner.as_str()), "{winner}");
    let hub_timeline = postgres.psql(
        "org",
        "SELECT string_agg(kind || ':' || detail, E'\\n' ORDER BY id) FROM timeline WHERE incident_id = 1",
    );
    assert!(hub_timeline.contains("also acknowledged"), "{hub_timeline}");
    for desktop in &desktops {
        desktop.wait_for("INC-1", |i| {
            i["acknowledged_by"] == winner.as_str()
                && i["timeline"].as_array().unwrap().iter().any(|e| {
                    e["detail"]
                        .as_str()
                        .unwrap_or("")
                        .contains("also acknowledged")
                })
        });
    }
    let seats: Vec<Value> = desktops
        .iter()
        .map(|d| shared(&d.incident("INC-1")))
        .collect();
    assert_eq!(seats[0], seats[1]);
    assert_eq!(seats[1], seats[2]);
    let entries = seats[0]["timeline"].as_array().unwrap().len();
    let on_hub: usize = postgres
        .psql("org", "SELECT count(*) FROM timeline WHERE incident_id = 1")
        .parse()
        .unwrap();
    assert_eq!(entries, on_hub, "every seat has the hub's timeline");
    drop(desktops);
    drop(hubs);
}

#[test]
fn a_hub_restored_from_a_backup_resyncs_every_desktop_in_full_and_keeps_its_waiting_actions() {
    let mut org = Org::start(1);
    let primary = payments_primary(&org.sandbox);
    let mut desktop = Desktop::join(&org, 0, &primary);
    desktop.serve();
    org.alert("GatewayDown");
    desktop.wait_for("INC-1", |i| i["state"] == "triggered");
    // Last night's backup; then more happens, which the desktop pulls.
    let backup = org.postgres.dump("org");
    let (status, body) =
        org.hubs[0].post_alerts(TOKEN, &[("CheckoutDown", &[("service", "checkout-web")])]);
    assert_eq!(status, 200, "{body}");
    desktop.wait_for("INC-2", |i| i["state"] == "triggered");

    // The hub is lost and restored from the backup while the desktop keeps working.
    let address = org.hubs[0].address.clone();
    org.hubs.clear();
    for i in 0..30 {
        let noted = desktop.run(&[
            "note",
            "INC-1",
            &format!("while away {i}"),
            "--as",
            &primary,
        ]);
        assert!(
            noted.status.success(),
            "{}",
            String::from_utf8_lossy(&noted.stderr)
        );
    }
    assert_eq!(desktop.status()["hub"]["actions_waiting"], 30);
    org.postgres.restore("org", &backup);
    org.hubs.push(org.hub(Some(&address)));

    // The desktop's cookie is ahead of the restored database: it resyncs in full (INC-2 is
    // gone with what the backup lacks), and every waiting note reaches the hub once.
    let deadline = Instant::now() + Duration::from_secs(45);
    while desktop.status()["hub"]["actions_waiting"] != 0 {
        assert!(
            Instant::now() < deadline,
            "never drained: {}",
            desktop.status()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    org.wait_for_sql(
        "SELECT count(DISTINCT detail) || '/' || count(*) FROM timeline WHERE kind = 'note'",
        "30/30",
    );
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let listed = desktop.json(&["incidents", "--state", "all"]);
        let ids: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        if ids == ["INC-1"] {
            break;
        }
        assert!(Instant::now() < deadline, "still {ids:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let here = desktop.incident("INC-1");
    let entries = here["timeline"].as_array().unwrap().len();
    let on_hub: usize = org
        .sql("SELECT count(*) FROM timeline WHERE incident_id = 1")
        .parse()
        .unwrap();
    assert_eq!(entries, on_hub, "{here:#}");
}

//! A desktop away for a night (scenario 4 of the team tests): eight hours of moved time, 500
//! actions waiting, and a cookie that has expired meanwhile.
//!
//! Time is moved, not waited for, so the hub and the desktops run in this process on one
//! `ManualClock`: the hub as `stopline hub` runs it (`HubServer` on loopback over a real
//! PostgreSQL, escalation beside it), each desktop as the `Workspace` the CLI and the app call,
//! syncing with the engine's own `sync_once` over HTTP. What each seat ends up showing is read
//! with the real `stopline incident show --json` on its data directory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use stopline_core::clock::{Clock, ManualClock};
use stopline_core::config::Config;
use stopline_core::desk::OpenTarget;
use stopline_core::incident::IncidentId;
use stopline_core::swarm::{Role, StepState};
use stopline_engine::EngineError;
use stopline_engine::api::{Actor, RoleRequest, StepRequest, Workspace};
use stopline_engine::files::DataDir;
use stopline_engine::hub_client::HubClient;
use stopline_engine::hub_link::HubLink;
use stopline_engine::hub_sync::sync_once;
use stopline_engine::secrets::{KeyringError, SecretStore};
use stopline_hub::{Database, HubServer, HubState};
use stopline_tests::postgres::Postgres;

use super::{TOKEN, shared, teammate_of};
use crate::support::{Sandbox, payments_primary, person_token, try_post_alerts};

/// How many actions the desktop away takes while it is away.
const ACTIONS_AWAY: usize = 500;

/// Keeps the person's token for a desktop in this process. The OS keyring (the Secret Service
/// on its own session bus) is what the other team tests use; here the desktops are not
/// processes with a bus of their own, and the keyring is not what is tested.
#[derive(Debug, Default)]
struct KeptInMemory(Mutex<HashMap<String, String>>);

impl SecretStore for KeptInMemory {
    fn get(&self, entry: &str) -> Result<Option<String>, KeyringError> {
        Ok(self.0.lock().unwrap().get(entry).cloned())
    }
    fn set(&self, entry: &str, secret: &str) -> Result<(), KeyringError> {
        self.0
            .lock()
            .unwrap()
            .insert(entry.to_owned(), secret.to_owned());
        Ok(())
    }
    fn delete(&self, entry: &str) -> Result<bool, KeyringError> {
        Ok(self.0.lock().unwrap().remove(entry).is_some())
    }
}

/// One seat: a sandbox (config and data directory) and the workspace on it, on the shared clock.
struct Seat {
    sandbox: Sandbox,
    workspace: Workspace,
    client: HubClient,
    link: HubLink,
    person: String,
    clock: Arc<dyn Clock>,
}

impl Seat {
    fn join(
        runtime: &tokio::runtime::Runtime,
        org: &Sandbox,
        url: &str,
        token: &str,
        person: &str,
        clock: &Arc<dyn Clock>,
    ) -> Self {
        let sandbox = Sandbox::new();
        sandbox.write_config(&org.read_config());
        let workspace = Workspace::new(
            sandbox.config_path(),
            DataDir::new(sandbox.dir.path().join("data")),
            Arc::clone(clock),
        );
        let keyring = KeptInMemory::default();
        let connected = runtime
            .block_on(workspace.connect(url, token, false, &keyring))
            .unwrap();
        assert_eq!(connected.link.person, person);
        Self {
            client: HubClient::new(url, token).unwrap(),
            link: connected.link,
            sandbox,
            workspace,
            person: person.to_owned(),
            clock: Arc::clone(clock),
        }
    }

    fn me(&self) -> Actor {
        Actor::Named(self.person.clone())
    }

    /// Pushes everything waiting, then pulls: what the engine does at each sync.
    fn sync(&self, runtime: &tokio::runtime::Runtime) -> stopline_engine::hub_sync::SyncReport {
        let store = self.workspace.store().unwrap();
        runtime
            .block_on(sync_once(&self.client, &store, &self.link, &self.clock))
            .unwrap()
    }

    /// What the hub answers this seat's cookie now, not yet laid over the replica.
    fn pull(&self, runtime: &tokio::runtime::Runtime) -> stopline_store::Pull {
        let store = self.workspace.store().unwrap();
        let cookie = runtime
            .block_on(store.run(|s| Ok::<_, EngineError>(s.hub_cookie()?)))
            .unwrap();
        runtime
            .block_on(self.client.pull(&self.link.desktop_id, cookie.as_deref()))
            .unwrap()
    }

    fn waiting(&self) -> u64 {
        self.workspace.hub_status().unwrap().unwrap().waiting
    }

    /// `stopline incident show ID --json` on this seat's data directory.
    fn show(&self, id: &str) -> Value {
        self.sandbox.json(&["incident", "show", id])
    }
}

fn inc(id: &str) -> IncidentId {
    id.parse().unwrap()
}

/// The texts of `who`'s notes on a shown incident, in timeline order (those this test wrote:
/// the hub's "also acknowledged" entry is a note too).
fn notes_by(incident: &Value, who: &str) -> Vec<String> {
    incident["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "note" && e["who"] == who)
        .filter(|e| {
            !e["detail"]
                .as_str()
                .unwrap()
                .contains(" also acknowledged at ")
        })
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_desktop_away_eight_hours_with_500_actions_converges_through_a_full_resync() {
    let org = Sandbox::demo();
    let pg_dir = tempfile::tempdir().unwrap();
    let postgres = Postgres::start(pg_dir.path());
    let database = postgres.create_database("org");
    org.ok(&["hub", "migrate", "--database", &database]);
    let away_person = payments_primary(&org);
    let online_person = teammate_of(&away_person);
    let fresh_person = ["aisha", "ben", "carla", "dmitri"]
        .into_iter()
        .find(|p| *p != away_person && *p != online_person)
        .unwrap();
    let tokens: Vec<String> = [away_person.as_str(), online_person, fresh_person]
        .iter()
        .map(|p| person_token(&org, &database, p))
        .collect();

    // One clock for the hub and every seat, starting now (the alerts' own stamps are now).
    let start = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    let manual = Arc::new(ManualClock::new(start));
    let clock: Arc<dyn Clock> = manual.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = Config::parse("stopline.toml", &org.read_config()).unwrap();
    let (address, wake) = runtime.block_on(async {
        let db = Database::new(&database).unwrap();
        let state = HubState::new(db.clone(), Some(config), Arc::clone(&clock), TOKEN.into());
        let wake = Arc::clone(&state.escalate_now);
        tokio::spawn(stopline_hub::escalate_every(
            db,
            Arc::clone(state.config.as_ref().unwrap()),
            Arc::clone(&clock),
            Duration::from_secs(3600),
            Arc::clone(&wake),
            std::future::pending(),
        ));
        let server = HubServer::bind("127.0.0.1:0".parse().unwrap(), state)
            .await
            .unwrap();
        let address = server.local_addr().to_string();
        tokio::spawn(server.serve(std::future::pending()));
        (address, wake)
    });
    let url = format!("http://{address}");
    let alert = |service: &str| {
        let (status, body) =
            try_post_alerts(&address, TOKEN, &[("Down", &[("service", service)])]).unwrap();
        assert_eq!(status, 200, "{body}");
    };

    alert("payment-gateway");
    let away = Seat::join(&runtime, &org, &url, &tokens[0], &away_person, &clock);
    let online = Seat::join(&runtime, &org, &url, &tokens[1], online_person, &clock);
    assert_eq!(away.show("INC-1")["state"], "triggered");

    // The on-call person's desktop loses the hub (it syncs no more). The teammate, still
    // online, acknowledges first.
    manual.advance(SignedDuration::from_secs(30));
    online
        .workspace
        .acknowledge(inc("INC-1"), &online.me())
        .unwrap();
    online.sync(&runtime);

    // Eight hours of work while away, one action every 57.6 s: 500 in all, each saved here
    // at once and queued. Meanwhile the teammate writes an hourly note and another incident
    // opens on the hub.
    let step = SignedDuration::from_millis(8 * 3600 * 1000 / ACTIONS_AWAY as i64);
    let me = away.me();
    let mut away_notes = Vec::new();
    let mut provisional_notes = Vec::new();
    let mut online_notes = Vec::new();
    for i in 0..ACTIONS_AWAY {
        manual.advance(step);
        match i {
            0 => {
                let acked = away.workspace.acknowledge(inc("INC-1"), &me).unwrap();
                let by = acked.acknowledged.and_then(|stamp| stamp.by);
                assert_eq!(by.as_ref().map(|p| p.as_str()), Some(away_person.as_str()));
            }
            1 => {
                let request = StepRequest {
                    step: "stop-the-line",
                    state: Some(StepState::Done),
                    reason: None,
                    assignee: None,
                };
                away.workspace
                    .change_step(inc("INC-1"), request, &me)
                    .unwrap();
            }
            2 => {
                let request = RoleRequest {
                    role: Role::Commander,
                    person: &away_person,
                    handover: false,
                };
                away.workspace
                    .name_role(inc("INC-1"), request, &me)
                    .unwrap();
            }
            3 => {
                let opened = away
                    .workspace
                    .open_incident(
                        &OpenTarget::Application("refunds".into()),
                        "Refunds stuck since midnight",
                        &me,
                    )
                    .unwrap();
                assert_eq!(opened.id.to_string(), "INC-1000000001");
            }
            4..=13 => {
                let text = format!("refunds check {i}");
                away.workspace
                    .note(inc("INC-1000000001"), &text, &me)
                    .unwrap();
                provisional_notes.push(text);
            }
            _ => {
                let text = format!("overnight note {i}");
                away.workspace.note(inc("INC-1"), &text, &me).unwrap();
                away_notes.push(text);
            }
        }
        if i % 63 == 62 {
            let text = format!("teammate's hourly note {i}");
            online
                .workspace
                .note(inc("INC-1"), &text, &online.me())
                .unwrap();
            online.sync(&runtime);
            online_notes.push(text);
        }
        if i == ACTIONS_AWAY / 2 {
            alert("order-service");
            wake.notify_one();
        }
    }
    assert_eq!(
        away.waiting(),
        ACTIONS_AWAY as u64,
        "every action waits here"
    );
    let before = away.show("INC-1");
    assert_eq!(notes_by(&before, &away_person), away_notes);

    // Back online, its cookie is eight hours old: the hub answers with everything (a reset).
    // Pulled before anything is pushed, the reset must keep every waiting action, and what
    // they did is still what this desktop shows.
    let pull = online.pull(&runtime);
    assert!(!pull.reset, "the teammate's cookie is an hour old at most");
    let pull = away.pull(&runtime);
    assert!(pull.reset, "an eight-hour-old cookie has expired");
    let (desktop, now) = (away.link.desktop_id.clone(), away.workspace.now());
    let store = away.workspace.store().unwrap();
    runtime
        .block_on(store.run(move |s| Ok::<_, EngineError>(s.apply_pull(&pull, &desktop, now)?)))
        .unwrap();
    assert_eq!(
        away.waiting(),
        ACTIONS_AWAY as u64,
        "the reset kept the queue"
    );
    let after_reset = away.show("INC-1");
    assert_eq!(notes_by(&after_reset, &away_person), away_notes);
    assert_eq!(notes_by(&after_reset, online_person), online_notes);
    assert_eq!(away.show("INC-2")["application"], "order-service");
    assert_eq!(
        notes_by(&away.show("INC-1000000001"), &away_person),
        provisional_notes
    );

    // The queue drains in order. Only the acknowledgement loses: the teammate's came first.
    let report = away.sync(&runtime);
    assert_eq!(report.pushed, ACTIONS_AWAY);
    assert_eq!(away.waiting(), 0);
    let refused: Vec<&str> = report.refused.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(refused, ["acknowledge"], "{:?}", report.refused);
    online.sync(&runtime);
    let fresh = Seat::join(&runtime, &org, &url, &tokens[2], fresh_person, &clock);

    // Each action reached the hub once, in the order it was taken.
    let audited = postgres.psql(
        "org",
        &format!(
            "SELECT count(*), count(DISTINCT mutation_id), \
             bool_and(mutation_id > coalesce(lag, 0)) FROM \
             (SELECT mutation_id, lag(mutation_id) OVER (ORDER BY id) AS lag FROM audit \
              WHERE desktop_id = '{}') AS pushed",
            away.link.desktop_id
        ),
    );
    assert_eq!(audited, format!("{ACTIONS_AWAY}|{ACTIONS_AWAY}|t"));

    // Every seat shows what the hub holds; the fresh seat knows only the hub's full pull.
    let on_hub = fresh.show("INC-1");
    assert_eq!(on_hub["acknowledged_by"], online_person);
    assert_eq!(notes_by(&on_hub, &away_person), away_notes);
    assert_eq!(notes_by(&on_hub, online_person), online_notes);
    let also: Vec<&Value> = on_hub["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["detail"]
                .as_str()
                .unwrap_or("")
                .contains("also acknowledged")
        })
        .collect();
    assert_eq!(
        also.len(),
        1,
        "the later acknowledgement is on the timeline"
    );
    let opened = fresh.show("INC-3");
    assert_eq!(opened["title"], "Refunds stuck since midnight");
    assert_eq!(notes_by(&opened, &away_person), provisional_notes);
    for id in ["INC-1", "INC-2", "INC-3"] {
        let hub = shared(&fresh.show(id));
        assert_eq!(
            shared(&away.show(id)),
            hub,
            "{id} on the desktop that was away"
        );
        assert_eq!(
            shared(&online.show(id)),
            hub,
            "{id} on the teammate's desktop"
        );
    }
    // The provisional number still leads to the hub's incident.
    assert_eq!(away.show("INC-1000000001")["id"], "INC-3");
}

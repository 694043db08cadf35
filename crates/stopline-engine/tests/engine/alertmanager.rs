//! Against a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`), started on a free
//! loopback port with a temporary config and storage path: polling, its own webhook
//! notifications, what happens when it goes away and comes back, and write-back: silences for
//! acknowledged incidents made, extended and expired through the outbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use stopline_core::alert::AlertState;
use stopline_core::clock::{Clock, ManualClock, SystemClock};
use stopline_core::incident::{IncidentId, IncidentState, Transition};
use stopline_core::settings::WriteBack;
use stopline_engine::alertmanager::{
    AlertmanagerClient, AlertmanagerSource, PollTarget, poll_once,
};
use stopline_engine::blind::check_pipeline;
use stopline_engine::events::EngineEvents;
use stopline_engine::files::DataDir;
use stopline_engine::outbox::{OutboxWorker, Round};
use stopline_engine::routing::AlertRouting;
use stopline_engine::serve::{Engine, ServeOptions};
use stopline_engine::shared_store::SharedStore;
use stopline_store::{AlertFilter, IncidentFilter, Store};
use stopline_tests::alertmanager::{Alertmanager, Webhook};
use stopline_tests::free_port;

const TOKEN: &str = "alertmanager-test-token";

/// Besides the base workspace: the platform team owns the alerting pipeline itself.
const EXTRA: &str = r#"
[[teams]]
id = "platform"
name = "Platform"
kind = "delivery"
members = ["alice"]

[[applications]]
id = "alerting"
name = "Alerting pipeline"
team = "platform"
availability_target = 99.9
exposure_per_hour = 300000

[pipeline]
owner = "alerting"
unreachable_timeout = "1m"
heartbeat_timeout = "2m"
"#;

fn setup() -> (
    tempfile::TempDir,
    SharedStore,
    PollTarget,
    AlertmanagerClient,
) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let store = SharedStore::new(Store::open(&dir.path().join("stopline.db")).unwrap());
    let target = PollTarget {
        store: store.clone(),
        routing: AlertRouting::new(Some(crate::support::config(EXTRA))),
        events: EngineEvents::default(),
        clock: Arc::new(SystemClock),
    };
    (dir, store, target, AlertmanagerClient::new().unwrap())
}

fn source(alertmanager: &Alertmanager) -> AlertmanagerSource {
    AlertmanagerSource {
        name: "alertmanager".into(),
        urls: vec![alertmanager.url()],
        poll_interval: Duration::from_secs(1),
        bearer_token: None,
        write_back: None,
    }
}

#[tokio::test]
async fn polling_finds_alerts_and_follows_their_resolution() {
    let (dir, store, target, client) = setup();
    let alertmanager = Alertmanager::start(&dir.path().join("am"), free_port(), None);
    alertmanager.post_alert("PaymentsHighErrorRate", None);

    let outcome = poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();
    assert_eq!(outcome.alerts, 1);
    assert_eq!(outcome.summary.opened.len(), 1);
    let incident = outcome.summary.opened[0];
    let again = poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();
    assert_eq!(again.summary.repeated, 1, "a second poll pages nobody");
    assert!(again.summary.opened.is_empty());

    // Resolve it in Alertmanager: the next poll resolves it here.
    alertmanager.post_alert(
        "PaymentsHighErrorRate",
        Some(&(Timestamp::now() - SignedDuration::from_secs(1)).to_string()),
    );
    poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();
    let store = store.lock();
    let alerts = store.alerts(AlertFilter::All).unwrap();
    assert_eq!(alerts[0].alert.state, AlertState::Resolved);
    let detail = store.incident(incident).unwrap();
    assert_eq!(
        detail.incident.state,
        IncidentState::Resolved,
        "nobody acknowledged it"
    );
    let status = store.source_status("alertmanager").unwrap().unwrap();
    assert!(!status.is_failing());
    assert!(status.last_success.is_some());
}

#[tokio::test]
async fn silenced_alerts_are_recorded_but_page_nobody() {
    let (dir, store, target, client) = setup();
    let alertmanager = Alertmanager::start(&dir.path().join("am"), free_port(), None);
    let now = Timestamp::now();
    let silence = json!({
        "matchers": [{"name": "alertname", "value": "Quiet", "isRegex": false, "isEqual": true}],
        "startsAt": now.to_string(),
        "endsAt": (now + SignedDuration::from_hours(1)).to_string(),
        "createdBy": "test",
        "comment": "maintenance",
    });
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", alertmanager.url()))
        .json(&silence)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    alertmanager.post_alert("Quiet", None);
    // Alertmanager marks silences on its next evaluation.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let outcome = poll_once(&source(&alertmanager), &client, &target)
            .await
            .unwrap();
        assert!(outcome.summary.opened.is_empty(), "a silenced alert paged");
        let muted = store
            .lock()
            .alerts(AlertFilter::All)
            .unwrap()
            .iter()
            .any(|a| a.alert.muted);
        if muted {
            break;
        }
        assert!(Instant::now() < deadline, "the silence never showed");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        store
            .lock()
            .incidents(IncidentFilter::All)
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn alertmanagers_own_webhook_reaches_stopline_serve() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        config: Some(crate::support::config(EXTRA)),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        token: Some(TOKEN.into()),
        env: HashMap::new(),
        ..ServeOptions::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::start(&DataDir::new(dir.path()), options, clock)
        .await
        .unwrap();
    let webhook = format!("http://{}/v1/alertmanager", engine.webhook_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(engine.run(async move {
        let _ = stopped.await;
    }));
    let alertmanager = Alertmanager::start(
        &dir.path().join("am"),
        free_port(),
        Some(Webhook {
            url: &webhook,
            token: TOKEN,
        }),
    );
    let store = Store::open(&dir.path().join("stopline.db")).unwrap();

    alertmanager.post_alert("CheckoutDown", None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.incidents(IncidentFilter::Open).unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the webhook notification never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let incident = store.incidents(IncidentFilter::Open).unwrap()[0].clone();
    assert_eq!(incident.team.as_ref().unwrap().as_str(), "checkout");

    alertmanager.post_alert(
        "CheckoutDown",
        Some(&(Timestamp::now() - SignedDuration::from_secs(1)).to_string()),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.incident(incident.id).unwrap().incident.state != IncidentState::Resolved {
        assert!(
            Instant::now() < deadline,
            "the resolved notification never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_stopped_alertmanager_fails_makes_the_pipeline_blind_and_recovers() {
    let (dir, store, target, client) = setup();
    let mut alertmanager = Alertmanager::start(&dir.path().join("am"), free_port(), None);
    let settings = target.routing.config().unwrap().pipeline.clone();
    poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();

    alertmanager.stop();
    let err = poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap_err();
    assert!(
        err.0.contains(&alertmanager.url()),
        "names the source: {err}"
    );
    let failing_since = {
        let store = store.lock();
        let status = store.source_status("alertmanager").unwrap().unwrap();
        assert!(status.is_failing());
        status.failing_since.unwrap()
    };

    // Within the timeout: not blind yet. Past it (time moved, not slept): blind.
    {
        let mut store = store.lock();
        let soon = failing_since + SignedDuration::from_secs(30);
        assert!(
            check_pipeline(&mut store, &target.routing, &settings, soon)
                .unwrap()
                .blind
                .is_empty()
        );
        let later = failing_since + SignedDuration::from_secs(90);
        assert_eq!(
            check_pipeline(&mut store, &target.routing, &settings, later)
                .unwrap()
                .blind,
            vec!["alertmanager"]
        );
        let open = store.incidents(IncidentFilter::Open).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].team.as_ref().unwrap().as_str(), "platform");
        assert!(
            open[0].title.contains("AlertingPipelineBlind"),
            "{}",
            open[0].title
        );
        assert!(open[0].title.contains("unreachable"), "{}", open[0].title);
    }

    alertmanager.restart(None);
    poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();
    let mut store = store.lock();
    assert!(
        !store
            .source_status("alertmanager")
            .unwrap()
            .unwrap()
            .is_failing()
    );
    assert!(
        check_pipeline(&mut store, &target.routing, &settings, Timestamp::now())
            .unwrap()
            .blind
            .is_empty()
    );
    assert!(
        store.incidents(IncidentFilter::Open).unwrap().is_empty(),
        "the blind incident resolved"
    );
}

#[tokio::test]
async fn a_missing_heartbeat_makes_the_pipeline_blind() {
    let (dir, store, target, client) = setup();
    let alertmanager = Alertmanager::start(&dir.path().join("am"), free_port(), None);
    let settings = target.routing.config().unwrap().pipeline.clone();
    alertmanager.post_alert("Watchdog", None);
    let outcome = poll_once(&source(&alertmanager), &client, &target)
        .await
        .unwrap();
    assert!(
        outcome.summary.opened.is_empty(),
        "the heartbeat pages nobody"
    );
    let seen = store
        .lock()
        .source_status("alertmanager")
        .unwrap()
        .unwrap()
        .heartbeat_seen_at
        .unwrap();
    let mut store = store.lock();
    let later = seen + SignedDuration::from_mins(3);
    assert_eq!(
        check_pipeline(&mut store, &target.routing, &settings, later)
            .unwrap()
            .blind,
        vec!["alertmanager"]
    );
    let open = store.incidents(IncidentFilter::Open).unwrap();
    assert!(open[0].title.contains("heartbeat"), "{}", open[0].title);
}

#[tokio::test]
async fn the_two_members_of_an_ha_pair_yield_one_alert_per_fingerprint() {
    let (dir, store, target, client) = setup();
    let first = Alertmanager::start(&dir.path().join("am1"), free_port(), None);
    let second = Alertmanager::start(&dir.path().join("am2"), free_port(), None);
    // Prometheus sends every alert to both members.
    first.post_alert("PaymentsHighErrorRate", None);
    second.post_alert("PaymentsHighErrorRate", None);
    let pair = AlertmanagerSource {
        name: "alertmanager".into(),
        urls: vec![first.url(), second.url()],
        poll_interval: Duration::from_secs(1),
        bearer_token: None,
        write_back: None,
    };
    let outcome = poll_once(&pair, &client, &target).await.unwrap();
    assert_eq!(outcome.alerts, 1);
    assert_eq!(store.lock().alerts(AlertFilter::All).unwrap().len(), 1);

    // With one member down the pair still answers, and nothing resolves.
    drop(first);
    let outcome = poll_once(&pair, &client, &target).await.unwrap();
    assert_eq!(outcome.unreachable.len(), 1);
    assert_eq!(outcome.summary.resolved, 0);
    let store = store.lock();
    assert!(
        !store
            .source_status("alertmanager")
            .unwrap()
            .unwrap()
            .is_failing()
    );
    assert_eq!(store.incidents(IncidentFilter::Open).unwrap().len(), 1);
}

// Write-back: silences for acknowledged incidents, through the outbox, against the real thing.

fn writing_back(alertmanager: &Alertmanager, minutes: u64) -> AlertmanagerSource {
    AlertmanagerSource {
        write_back: Some(WriteBack {
            silence_duration: Duration::from_secs(minutes * 60),
        }),
        ..source(alertmanager)
    }
}

/// An Alertmanager with one firing alert, polled into an incident (INC-1), and an outbox worker
/// for it on a clock the test moves.
struct WriteBackCase {
    dir: tempfile::TempDir,
    alertmanager: Alertmanager,
    store: SharedStore,
    worker: OutboxWorker,
    clock: Arc<ManualClock>,
    target: PollTarget,
    client: AlertmanagerClient,
    source: AlertmanagerSource,
}

impl WriteBackCase {
    async fn start(minutes: u64) -> Self {
        let (dir, store, target, client) = setup();
        let alertmanager = Alertmanager::start(&dir.path().join("am"), free_port(), None);
        let clock = Arc::new(ManualClock::new(Timestamp::now()));
        alertmanager.post_alert("PaymentsHighErrorRate", None);
        let source = writing_back(&alertmanager, minutes);
        let shared: Arc<dyn Clock> = clock.clone();
        let worker = OutboxWorker::new(store.clone(), vec![source.clone()], shared).unwrap();
        let case = Self {
            dir,
            alertmanager,
            store,
            worker,
            clock,
            target,
            client,
            source,
        };
        let opened = case.poll().await.opened;
        assert_eq!(opened, vec![IncidentId(1)]);
        case
    }

    /// As `start`, with INC-1 acknowledged by alice.
    async fn acknowledged(minutes: u64) -> Self {
        let case = Self::start(minutes).await;
        case.transition(Transition::Acknowledge);
        case
    }

    fn transition(&self, transition: Transition) {
        let alice = stopline_core::ids::PersonId::new("alice").unwrap();
        self.store
            .lock()
            .transition(IncidentId(1), transition, &alice, self.clock.now())
            .unwrap();
    }

    async fn poll(&self) -> stopline_store::IngestSummary {
        poll_once(&self.source, &self.client, &self.target)
            .await
            .unwrap()
            .summary
    }
}

#[tokio::test]
async fn acknowledging_silences_the_alert_in_alertmanager_and_resolving_expires_it() {
    let case = WriteBackCase::acknowledged(60).await;

    let round = case.worker.round().await.unwrap();
    assert_eq!(round.sent, 1, "{round:?}");

    let found = case.alertmanager.silences();
    assert_eq!(found.len(), 1, "{found:#?}");
    let silence = &found[0];
    assert_eq!(silence["status"]["state"], "active");
    assert_eq!(silence["createdBy"], "alice");
    let comment = silence["comment"].as_str().unwrap();
    assert!(
        comment.contains("Stopline INC-1: acknowledged by alice"),
        "{comment}"
    );
    let mut matchers: Vec<(String, String, bool, bool)> = silence["matchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["value"].as_str().unwrap().to_owned(),
                m["isRegex"].as_bool().unwrap(),
                m["isEqual"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    matchers.sort();
    assert_eq!(
        matchers,
        vec![
            (
                "alertname".into(),
                "PaymentsHighErrorRate".into(),
                false,
                true
            ),
            ("service".into(), "payments-api".into(), false, true),
            ("severity".into(), "critical".into(), false, true),
        ],
        "exact matchers on every label"
    );
    let recorded = case.store.lock().silences(IncidentId(1)).unwrap();
    assert_eq!(recorded[0].silence_id, silence["id"].as_str().unwrap());

    // Nothing more to send: a second round creates nothing.
    assert_eq!(case.worker.round().await.unwrap(), Round::default());
    assert_eq!(case.alertmanager.silences().len(), 1);

    case.transition(Transition::Resolve);
    assert_eq!(case.worker.round().await.unwrap().sent, 1);
    let found = case.alertmanager.silences();
    assert_eq!(found[0]["status"]["state"], "expired", "{found:#?}");
    assert!(
        case.store.lock().silences(IncidentId(1)).unwrap()[0]
            .expired_at
            .is_some()
    );
}

#[tokio::test]
async fn a_silence_queued_while_alertmanager_is_down_is_made_when_it_is_back() {
    let mut case = WriteBackCase::start(60).await;
    let (store, worker, clock) = (
        case.store.clone(),
        case.worker.clone(),
        Arc::clone(&case.clock),
    );
    case.alertmanager.stop();
    case.transition(Transition::Acknowledge);
    let round = worker.round().await.unwrap();
    assert_eq!((round.sent, round.retried), (0, 1));

    // Offline, with the action waiting: what `stopline sources` and the app show.
    let health = stopline_engine::health::source_health(&store.lock(), None).unwrap();
    let source = health.iter().find(|s| s.name == "alertmanager").unwrap();
    assert_eq!(source.state, "failing");
    assert_eq!(source.waiting, 1);
    let summary = source.offline_summary(|t| t.to_string()).unwrap();
    assert!(summary.starts_with("offline since "), "{summary}");
    assert!(summary.ends_with(", 1 action waiting"), "{summary}");
    // Everything local still works meanwhile.
    store
        .lock()
        .add_note(
            IncidentId(1),
            &stopline_core::ids::PersonId::new("alice").unwrap(),
            "working on it",
            clock.now(),
        )
        .unwrap();

    case.alertmanager.restart(None);
    assert_eq!(
        worker.round().await.unwrap(),
        Round::default(),
        "it waits out its backoff"
    );
    clock.advance(SignedDuration::from_secs(2));
    assert_eq!(worker.round().await.unwrap().sent, 1);
    let found = case.alertmanager.silences();
    assert_eq!(found.len(), 1);
    // It starts at the test clock's now, two seconds ahead of Alertmanager's: pending until then.
    let state = found[0]["status"]["state"].as_str().unwrap();
    assert!(["active", "pending"].contains(&state), "{state}");
    let health = stopline_engine::health::source_health(&store.lock(), None).unwrap();
    assert_eq!(health[0].waiting, 0);
    assert_eq!(health[0].state, "ok");

    // Reconciliation: the restarted Alertmanager has the alert again; polling it joins the
    // acknowledged incident, opens nothing and pages nobody.
    case.alertmanager.post_alert("PaymentsHighErrorRate", None);
    let summary = case.poll().await;
    assert!(summary.opened.is_empty(), "{summary:?}");
    let store = store.lock();
    let incident = store.incident(IncidentId(1)).unwrap().incident;
    assert_eq!(incident.state, IncidentState::Acknowledged);
    let escalation = store.escalation(IncidentId(1)).unwrap().unwrap();
    assert_eq!(
        escalation.status,
        stopline_core::escalation::EscalationStatus::Stopped
    );
}

#[tokio::test]
async fn a_silence_retried_after_a_crash_is_not_created_twice() {
    let case = WriteBackCase::acknowledged(60).await;

    assert_eq!(case.worker.round().await.unwrap().sent, 1);
    // Failure injection: the process died after Alertmanager answered and before the outcome
    // was committed, so the case.store still has the action waiting and knows no silence.
    let raw = rusqlite::Connection::open(case.dir.path().join("stopline.db")).unwrap();
    raw.execute_batch(
        "UPDATE outbox SET status = 'waiting', finished_at = NULL; DELETE FROM silences;",
    )
    .unwrap();
    assert_eq!(case.worker.round().await.unwrap().sent, 1);
    let found = case.alertmanager.silences();
    assert_eq!(found.len(), 1, "adopted, not created again: {found:#?}");
    let recorded = case.store.lock().silences(IncidentId(1)).unwrap();
    assert_eq!(recorded[0].silence_id, found[0]["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_silence_is_extended_while_the_incident_stays_acknowledged() {
    let case = WriteBackCase::acknowledged(10).await;

    case.worker.round().await.unwrap();
    let first = case.store.lock().silences(IncidentId(1)).unwrap()[0].clone();

    case.clock.advance(SignedDuration::from_mins(6));
    assert_eq!(case.worker.round().await.unwrap().sent, 1, "extended");
    let extended = case.store.lock().silences(IncidentId(1)).unwrap()[0].clone();
    assert_eq!(
        extended.ends_at.duration_since(first.ends_at),
        SignedDuration::from_mins(6)
    );
    let live: Vec<_> = case
        .alertmanager
        .silences()
        .into_iter()
        .filter(|s| s["status"]["state"] != "expired")
        .collect();
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0]["id"].as_str().unwrap(), extended.silence_id);
    let ends: Timestamp = live[0]["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(ends.as_second(), extended.ends_at.as_second());
    assert_eq!(case.worker.round().await.unwrap(), Round::default(), "once");
}

//! The engine over real HTTP on loopback: every route, every bad input, and what lands in the
//! store. Alertmanager itself is exercised in `alertmanager.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use stopline_core::clock::{Clock, ManualClock};
use stopline_core::incident::IncidentState;
use stopline_core::timeline::{TimelineEvent, TimelineKind};
use stopline_engine::files::DataDir;
use stopline_engine::serve::{Engine, ServeOptions};
use stopline_store::{AlertFilter, IncidentFilter, Store};

use stopline_tests::fixture;

const TOKEN: &str = "test-token-0123456789";
const ROUTING_KEY: &str = "R0UTINGKEYFORSTOCKSERVICE0000001";

/// Besides the base workspace: a second team with a Grafana-fed application, and a PagerDuty
/// source whose routing key comes from the environment.
const EXTRA: &str = r#"
[[teams]]
id = "discovery"
name = "Discovery"
kind = "delivery"
members = ["alice"]

[[applications]]
id = "search-api"
name = "Search API"
team = "discovery"
availability_target = 99.0
exposure_per_hour = 90000
match = { service = "search-api" }

[[applications]]
id = "stock-sync"
name = "Stock Sync"
team = "checkout"
availability_target = 99.0
exposure_per_hour = 40000

[webhook]
max_body_bytes = 65536

[[sources]]
name = "stock-events"
kind = "pagerduty"
application = "stock-sync"
routing_key_env = "STOCK_ROUTING_KEY"
"#;

struct Running {
    base: String,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let options = ServeOptions {
            config: Some(crate::support::config(EXTRA)),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(TOKEN.into()),
            env: HashMap::from([("STOCK_ROUTING_KEY".to_owned(), ROUTING_KEY.to_owned())]),
            ..ServeOptions::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(
            "2026-11-20T12:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let engine = Engine::start(&DataDir::new(dir.path()), options, clock)
            .await
            .unwrap();
        let base = format!("http://{}", engine.webhook_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            engine
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            base,
            dir,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    fn post(&self, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .bearer_auth(TOKEN)
            .body(body)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.path().join("stopline.db")).unwrap()
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap().await.unwrap();
    }
}

#[tokio::test]
async fn an_alertmanager_delivery_opens_one_incident_and_a_replay_changes_nothing() {
    let engine = Running::start().await;
    let (status, body) = engine
        .send(engine.post("/v1/alertmanager", fixture("alertmanager-webhook-v4.json")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["new"], 2);
    assert_eq!(body["opened"], json!(["INC-1"]));

    // Committed before the answer: another connection sees it at once.
    let store = engine.store();
    let incidents = store.incidents(IncidentFilter::All).unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].team.as_ref().unwrap().as_str(), "checkout");
    assert_eq!(store.alerts(AlertFilter::All).unwrap().len(), 2);
    // The pager writes its own entries as it pages; the replay must add none of the rest.
    let without_paging = |store: &Store| -> Vec<TimelineEvent> {
        store
            .incident(incidents[0].id)
            .unwrap()
            .timeline
            .into_iter()
            .filter(|e| e.kind != TimelineKind::Paging)
            .collect()
    };
    let timeline = without_paging(&store);

    let (status, body) = engine
        .send(engine.post("/v1/alertmanager", fixture("alertmanager-webhook-v4.json")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["repeated"], 2);
    assert_eq!(store.incidents(IncidentFilter::All).unwrap(), incidents);
    assert_eq!(without_paging(&store), timeline);

    // The resolved delivery resolves one of the two alerts: the incident waits for the other.
    let (status, body) = engine
        .send(engine.post(
            "/v1/alertmanager",
            fixture("alertmanager-webhook-v4-resolved.json"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["resolved"], 1);
    assert_eq!(
        store.incident(incidents[0].id).unwrap().incident.state,
        IncidentState::Triggered
    );
    engine.stop().await;
}

#[tokio::test]
async fn grafana_alerts_keep_their_links() {
    let engine = Running::start().await;
    let (status, body) = engine
        .send(engine.post("/v1/grafana", fixture("grafana-webhook-v1.json")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alerts = engine.store().alerts(AlertFilter::All).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert.source, "grafana");
    assert_eq!(
        alerts[0].alert.links["dashboard"],
        "https://grafana.example.org/d/search-overview"
    );
    assert_eq!(alerts[0].team.as_ref().unwrap().as_str(), "discovery");
    engine.stop().await;
}

#[tokio::test]
async fn pagerduty_events_trigger_acknowledge_and_resolve() {
    let engine = Running::start().await;
    let (status, body) = engine
        .send(engine.post("/v2/enqueue", fixture("pagerduty-events-v2-trigger.json")))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body,
        json!({"status": "success", "message": "Event processed", "dedup_key": "stock-sync-lag-eu-west"})
    );
    let store = engine.store();
    let incident = store.incidents(IncidentFilter::All).unwrap()[0].clone();
    assert_eq!(
        incident.application.as_ref().unwrap().as_str(),
        "stock-sync"
    );
    assert_eq!(incident.title, "Stock sync lag above 15 minutes in eu-west");

    let (status, _) = engine
        .send(engine.post(
            "/v2/enqueue",
            fixture("pagerduty-events-v2-acknowledge.json"),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let acked = store.incident(incident.id).unwrap();
    assert_eq!(acked.incident.state, IncidentState::Acknowledged);
    assert!(
        acked
            .timeline
            .last()
            .unwrap()
            .detail
            .contains("stock-events")
    );

    let (status, _) = engine
        .send(engine.post("/v2/enqueue", fixture("pagerduty-events-v2-resolve.json")))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let alert = &store.alerts(AlertFilter::All).unwrap()[0];
    assert_eq!(
        alert.alert.state,
        stopline_core::alert::AlertState::Resolved
    );
    // Acknowledged by a person's tool: a person resolves it.
    assert_eq!(
        store.incident(incident.id).unwrap().incident.state,
        IncidentState::Acknowledged
    );

    // PagerDuty's route needs no bearer token: the routing key is the credential.
    let response = engine
        .http
        .post(format!("{}/v2/enqueue", engine.base))
        .header("content-type", "application/json")
        .body(fixture("pagerduty-events-v2-trigger.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    engine.stop().await;
}

/// Each bad request gets its 4xx with `{"error", "path"}`, stores nothing, and the server keeps
/// serving.
#[tokio::test]
async fn bad_requests_are_refused_and_change_nothing() {
    let engine = Running::start().await;
    let good = fixture("alertmanager-webhook-v4.json");
    let url = format!("{}/v1/alertmanager", engine.base);
    let json_post = |body: Vec<u8>| {
        engine
            .http
            .post(&url)
            .header("content-type", "application/json")
            .bearer_auth(TOKEN)
            .body(body)
    };
    let alert = |field: &str, value: Value| -> Vec<u8> {
        let mut alert = json!({
            "status": "firing",
            "labels": {"alertname": "X", "service": "payments-api"},
            "startsAt": "2026-11-20T09:14:03Z",
        });
        if value.is_null() {
            alert.as_object_mut().unwrap().remove(field);
        } else {
            alert[field] = value;
        }
        serde_json::to_vec(&json!({"version": "4", "alerts": [alert]})).unwrap()
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "no token",
            engine.http.post(&url).header("content-type", "application/json").body(good.clone()),
            StatusCode::UNAUTHORIZED,
            "headers.authorization",
        ),
        (
            "wrong token",
            engine.http.post(&url).header("content-type", "application/json").bearer_auth("guess").body(good.clone()),
            StatusCode::UNAUTHORIZED,
            "headers.authorization",
        ),
        (
            "foreign Host",
            json_post(good.clone()).header("host", "attacker.example:9177"),
            StatusCode::FORBIDDEN,
            "headers.host",
        ),
        (
            "wrong content type",
            engine.http.post(&url).header("content-type", "text/plain").bearer_auth(TOKEN).body(good.clone()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "headers.content-type",
        ),
        (
            "body over the limit",
            json_post(vec![b' '; 70_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            ".",
        ),
        ("invalid JSON", json_post(b"{\"version\": \"4\", ".to_vec()), StatusCode::BAD_REQUEST, "."),
        (
            "deeply nested JSON",
            json_post(format!("{{\"version\":\"4\",\"alerts\":[],\"x\":{}{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
            StatusCode::BAD_REQUEST,
            ".",
        ),
        (
            "wrong version",
            json_post(br#"{"version":"3","alerts":[]}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "version",
        ),
        (
            "missing version",
            json_post(br#"{"alerts":[]}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "version",
        ),
        ("missing startsAt", json_post(alert("startsAt", Value::Null)), StatusCode::BAD_REQUEST, "alerts[0]"),
        ("missing labels", json_post(alert("labels", Value::Null)), StatusCode::BAD_REQUEST, "alerts[0]"),
        (
            "unparsable timestamp",
            json_post(alert("startsAt", json!("Tuesday"))),
            StatusCode::BAD_REQUEST,
            "alerts[0].startsAt",
        ),
        (
            "unknown routing key",
            engine
                .http
                .post(format!("{}/v2/enqueue", engine.base))
                .header("content-type", "application/json")
                .body(br#"{"routing_key":"nope","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"error"}}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "routing_key",
        ),
    ];
    for (what, request, status, path) in cases {
        let (got, body) = engine.send(request).await;
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["path"], path, "{what}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {body}"
        );
        let store = engine.store();
        assert!(
            store.alerts(AlertFilter::All).unwrap().is_empty(),
            "{what} stored something"
        );
        assert!(
            store.incidents(IncidentFilter::All).unwrap().is_empty(),
            "{what} opened something"
        );
    }
    // Still serving.
    let (status, _) = engine.send(json_post(good)).await;
    assert_eq!(status, StatusCode::OK);
    let health = engine
        .http
        .get(format!("{}/healthz", engine.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let missing = engine
        .http
        .get(format!("{}/v1/nothing", engine.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    engine.stop().await;
}

#[tokio::test]
async fn a_second_engine_on_the_same_data_dir_refuses_to_start() {
    let engine = Running::start().await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    let options = ServeOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ServeOptions::default()
    };
    let err = Engine::start(&DataDir::new(engine.dir.path()), options, clock)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already running"), "{err}");
    engine.stop().await;
}

#[tokio::test]
async fn a_missing_routing_key_secret_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        config: Some(crate::support::config(EXTRA)),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ServeOptions::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(Timestamp::UNIX_EPOCH));
    let err = Engine::start(&DataDir::new(dir.path()), options, clock)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("STOCK_ROUTING_KEY is not set"),
        "{err}"
    );
}

/// A store that cannot commit answers 503 (Alertmanager retries those), stores nothing, and the
/// retry succeeds once the store works again.
#[tokio::test]
async fn a_store_failure_answers_503_and_the_retry_succeeds() {
    let engine = Running::start().await;
    let outside = rusqlite::Connection::open(engine.dir.path().join("stopline.db")).unwrap();
    // Failure injection: the table the delivery must write to is gone.
    outside
        .execute_batch("ALTER TABLE alerts RENAME TO alerts_away")
        .unwrap();
    let (status, body) = engine
        .send(engine.post("/v1/alertmanager", fixture("alertmanager-webhook-v4.json")))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("retry"), "{body}");
    outside
        .execute_batch("ALTER TABLE alerts_away RENAME TO alerts")
        .unwrap();
    assert!(
        engine
            .store()
            .incidents(IncidentFilter::All)
            .unwrap()
            .is_empty(),
        "nothing half-stored"
    );

    let (status, body) = engine
        .send(engine.post("/v1/alertmanager", fixture("alertmanager-webhook-v4.json")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["new"], 2);
    engine.stop().await;
}

#[tokio::test]
async fn a_heartbeat_by_webhook_is_recorded_under_its_sender_and_pages_nobody() {
    let engine = Running::start().await;
    let body = json!({
        "version": "1",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "Watchdog"},
            "startsAt": "2026-11-20T09:00:00Z",
        }],
    });
    let (status, body) = engine
        .send(engine.post("/v1/grafana", serde_json::to_vec(&body).unwrap()))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let store = engine.store();
    let grafana = store.source_status("grafana").unwrap().unwrap();
    assert_eq!(grafana.kind, "grafana");
    assert!(grafana.heartbeat_seen_at.is_some());
    assert!(store.alerts(AlertFilter::All).unwrap().is_empty());
    assert!(store.incidents(IncidentFilter::All).unwrap().is_empty());
    engine.stop().await;
}

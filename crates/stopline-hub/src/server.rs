//! The hub's HTTP server: where alert senders deliver to the whole organisation. The same routes
//! and the same contract as a desktop's `stopline serve` (`stopline-http`): the `Host`
//! allow-list, the bearer token, the content type, the body limits, refusals naming the JSON
//! path, and a 2xx only after the delivery is committed. Any number of hubs serve one database;
//! the same delivery to two of them is one alert (see `intake`).
//!
//! Routes: `POST /v1/alertmanager`, `POST /v1/grafana`, `POST /v2/enqueue` (PagerDuty Events
//! v2, authenticated by routing key), `GET /healthz`; and the desktops' `POST /v1/push`,
//! `POST /v1/pull`, `GET /v1/stream`, authenticated by a person's token, and an admin's
//! `/v1/tokens` (`protocol`); and `GET`/`POST /v1/ack/TOKEN`, the acknowledge links in pages
//! sent away from the desk (`ack_link`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::json;
use stopline_core::payload::{self, IncomingAlert, PagerDutyEvent, PayloadError};
use stopline_core::routing::{AlertRouter, observation};
use stopline_http::{Answer, Limits, Received, Refusal, source_param};
use tokio::net::TcpListener;

use crate::Result;
use crate::error::HubError;
use crate::intake::IntakeSummary;
use crate::protocol;
use crate::state::HubState;

/// A bound hub server, ready to serve.
#[derive(Debug)]
pub struct HubServer {
    listener: TcpListener,
    router: Router,
    limits: Limits,
    state: Arc<HubState>,
}

impl HubServer {
    pub async fn bind(address: SocketAddr, state: HubState) -> Result<Self> {
        let listener =
            stopline_http::bind(address).map_err(|source| HubError::Listen { address, source })?;
        let limits = Limits {
            max_connections: state.max_connections,
            read_timeout: state.read_timeout,
            at_limit: "hub connection limit reached: new connections wait until one closes \
                       (raise [webhook] max_connections if this is real traffic)"
                .to_owned(),
            tls: state.tls.clone(),
        };
        let state = Arc::new(state);
        let router = Router::new()
            .route("/v1/alertmanager", post(alertmanager))
            .route("/v1/grafana", post(grafana))
            .route("/v2/enqueue", post(pagerduty))
            .route("/v1/push", post(protocol::push))
            .route("/v1/pull", post(protocol::pull))
            .route("/v1/stream", get(protocol::stream))
            .route("/v1/oncall", get(protocol::on_call))
            .route("/v1/whoami", get(protocol::whoami))
            .route(
                "/v1/tokens",
                post(protocol::create_token).get(protocol::list_tokens),
            )
            .route("/v1/tokens/{id}", delete(protocol::revoke_token))
            .route(
                "/v1/ack/{token}",
                get(crate::ack_link::show).post(crate::ack_link::acknowledge),
            )
            .route("/healthz", get(healthz))
            .fallback(not_found)
            .with_state(Arc::clone(&state));
        Ok(Self {
            listener,
            router,
            limits,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets the requests in flight finish a while.
    /// Desktops' streams are told of changes by a watcher of the organisation's version that
    /// runs as long as the server.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let state = Arc::clone(&self.state);
        let mut closed = state.closing.subscribe();
        let watching = tokio::spawn(crate::stream::watch_versions(
            state.database.clone(),
            Arc::clone(&state.watcher),
            async move {
                let _ = closed.changed().await;
            },
        ));
        let closing = async move {
            shutdown.await;
            state.closing.send_replace(true);
        };
        stopline_http::serve(self.listener, self.router, self.limits, closing).await;
        self.state.closing.send_replace(true);
        let _ = watching.await;
    }
}

async fn alertmanager(State(state): State<Arc<HubState>>, request: Request) -> Response {
    let source = source_param(&request).map(|named| named.unwrap_or_else(|| "alertmanager".into()));
    answer(deliver(state, request, source, payload::alertmanager_webhook).await)
}

async fn grafana(State(state): State<Arc<HubState>>, request: Request) -> Response {
    let source = source_param(&request).map(|named| named.unwrap_or_else(|| "grafana".into()));
    answer(deliver(state, request, source, payload::grafana_webhook).await)
}

async fn pagerduty(State(state): State<Arc<HubState>>, request: Request) -> Response {
    pagerduty_event(&state, request)
        .await
        .unwrap_or_else(stopline_http::pagerduty_refusal)
}

/// A PagerDuty event: a trigger is a delivery of one alert to the key's application; a resolve
/// resolves that alert; an acknowledge acknowledges its incident on the sender's behalf.
async fn pagerduty_event(state: &HubState, request: Request) -> Answer {
    let gate = state.gate();
    gate.check_host(request.headers())?;
    stopline_http::check_json(request.headers())?;
    let peer = stopline_http::peer_of(&request);
    let body = gate.read_body(request.into_body()).await?;
    let now = state.clock.now();
    let event = payload::pagerduty_event(&body, now).map_err(Refusal::payload)?;
    let key = gate
        .routing_key(&state.routing_keys, &event.routing_key, peer)
        .await?;
    let dedup_key = event.dedup_key().to_string();
    let settings = state.alert_settings();
    let stored = match event.event {
        PagerDutyEvent::Trigger(alert) => {
            let route = state
                .config
                .as_deref()
                .and_then(|c| c.application(&key.application).map(|app| (c, app)))
                .map(|(c, app)| stopline_core::routing::RoutedAlert::to(c, app));
            let observation = observation(&settings, &key.source, alert, route, now);
            state
                .database
                .ingest(&[observation], settings.auto_resolve, now)
                .await
                .map(|summary| {
                    if !summary.opened.is_empty() {
                        state.escalate_now.notify_one();
                    }
                })
        }
        PagerDutyEvent::Resolve(fingerprint) => state
            .database
            .resolve_from_source(&key.source, &fingerprint, settings.auto_resolve, now)
            .await
            .map(drop),
        PagerDutyEvent::Acknowledge(fingerprint) => state
            .database
            .acknowledge_from_source(&key.source, &fingerprint, now)
            .await
            .map(drop),
    };
    stored.map_err(unavailable)?;
    Ok(stopline_http::pagerduty_accepted(&dedup_key))
}

/// A delivery the database could not take: 503, so the sender retries.
fn unavailable(error: HubError) -> Refusal {
    tracing::error!(%error, "cannot store a delivery");
    Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("cannot store it now, retry: {error}"),
        ".",
    )
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Checks, parses, routes and commits one delivery; answers what it did.
async fn deliver(
    state: Arc<HubState>,
    request: Request,
    source: std::result::Result<String, Refusal>,
    parse: fn(&[u8]) -> std::result::Result<Vec<IncomingAlert>, PayloadError>,
) -> Answer {
    let body = state.gate().accept(request).await?;
    // A bad `?source=` is told only to a sender who passed the host and token checks.
    let source = source?;
    let alerts = parse(&body).map_err(Refusal::payload)?;
    let count = alerts.len();
    let now = state.clock.now();
    let settings = state.alert_settings();
    let router = match state.config.as_deref() {
        Some(config) => AlertRouter::Config(config),
        None => AlertRouter::Labels,
    };
    let observations: Vec<_> = alerts
        .into_iter()
        // The pipeline's heartbeat says the pipeline works; it is no alert to page for.
        .filter(|alert| alert.labels.get("alertname") != Some(&settings.heartbeat_alert))
        .map(|alert| {
            let route = router.route(&alert.labels);
            observation(&settings, &source, alert, route, now)
        })
        .collect();
    let summary = state
        .database
        .ingest(&observations, settings.auto_resolve, now)
        .await
        .map_err(unavailable)?;
    if !summary.opened.is_empty() {
        state.escalate_now.notify_one();
    }
    Ok(received(&summary, count))
}

fn received(summary: &IntakeSummary, alerts: usize) -> Response {
    let opened: Vec<String> = summary.opened.iter().map(ToString::to_string).collect();
    Received {
        alerts,
        new: summary.new,
        repeated: summary.repeated + summary.stale,
        resolved: summary.resolved,
        opened: &opened,
    }
    .answer()
}

/// 200 while the database answers, 503 (with why) when it does not: what a load balancer asks.
async fn healthz(State(state): State<Arc<HubState>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = state.gate().check_host(&headers) {
        return refusal.into_response();
    }
    match state.database.schema_version().await {
        Ok(_) => (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response(),
        Err(error) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the hub cannot use its database: {error}"),
            ".",
        )
        .into_response(),
    }
}

async fn not_found(request: Request) -> Response {
    Refusal::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}: the hub's routes are POST /v1/alertmanager, POST /v1/grafana, \
             POST /v2/enqueue, POST /v1/push, POST /v1/pull, GET /v1/stream, GET /v1/oncall, GET /v1/whoami, POST and GET \
             /v1/tokens, DELETE /v1/tokens/ID, GET and POST /v1/ack/TOKEN and GET /healthz",
            request.uri().path()
        ),
        ".",
    )
    .into_response()
}

//! The webhook server: where Alertmanager, Grafana and anything that speaks PagerDuty Events v2
//! deliver alerts.
//!
//! Every request passes, in order: the `Host` allow-list (403, against DNS rebinding), the bearer
//! token (401; PagerDuty events authenticate by routing key instead), the content type (415), the
//! body limit (413) and the payload's shape (400, naming the JSON path). A 2xx is answered only
//! after the alerts are committed; a store failure answers 503, since a retry can help. A rejected
//! request stores nothing and the server keeps serving.

mod ack_link;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use stopline_core::alert::Fingerprint;
use stopline_core::clock::Clock;
use stopline_store::{IngestSummary, Receipt, Store};
use tokio::net::TcpListener;

use crate::events::{EngineEvent, EngineEvents};
use crate::payload::{self, PagerDutyEvent, PayloadError};
use crate::replay::{Remembered, ReplayCache};
use crate::routing::{AlertRouting, RoutedDelivery};
use crate::shared_store::{SharedStore, StoreTaskFailed};
use crate::{EngineError, Result};
use stopline_http::auth_failures::AuthFailures;
use stopline_http::{Answer, Gate, Limits, Received, Refusal, check_json, peer_of, source_param};

pub use stopline_http::RoutingKey;

/// What the server needs to answer requests.
pub struct WebhookState {
    pub store: SharedStore,
    pub routing: AlertRouting,
    pub events: EngineEvents,
    pub clock: Arc<dyn Clock>,
    pub token: String,
    pub allowed_hosts: Vec<String>,
    pub max_body_bytes: usize,
    /// Connections served at once.
    pub max_connections: usize,
    /// The time a client has to send a request's head, and again its body.
    pub read_timeout: std::time::Duration,
    pub routing_keys: Vec<RoutingKey>,
    /// The source name webhook deliveries to `/v1/alertmanager` are recorded under.
    pub alertmanager_source: String,
    /// Deliveries already applied, to recognise the sender's repeats.
    pub replays: Mutex<ReplayCache>,
    /// Failed authentications by client address: logged sparingly, answered slowly.
    pub auth_failures: Mutex<AuthFailures>,
    /// The hub this desktop has joined: alerts go there, and deliveries here are refused (a
    /// replica takes incidents only from its hub).
    pub joined_hub: Option<String>,
    /// The key acknowledge links are signed with (`DataDir::ack_link_key`).
    pub link_key: Arc<Vec<u8>>,
}

/// A delivery to a desktop joined to a hub: refused (409) with where to send it.
fn refuse_on_replica(state: &WebhookState) -> std::result::Result<(), Refusal> {
    match &state.joined_hub {
        Some(hub) => Err(Refusal::new(
            StatusCode::CONFLICT,
            format!("this desktop is joined to the hub at {hub}: send alerts to the hub"),
            ".",
        )),
        None => Ok(()),
    }
}

impl std::fmt::Debug for WebhookState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token or the routing keys.
        f.debug_struct("WebhookState")
            .field("allowed_hosts", &self.allowed_hosts)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// A bound webhook server, ready to serve.
#[derive(Debug)]
pub struct WebhookServer {
    listener: TcpListener,
    router: Router,
    max_connections: usize,
    read_timeout: std::time::Duration,
}

impl WebhookServer {
    pub async fn bind(address: SocketAddr, state: WebhookState) -> Result<Self> {
        let listener = stopline_http::bind(address)
            .map_err(|source| EngineError::Listen { address, source })?;
        let (max_connections, read_timeout) = (state.max_connections, state.read_timeout);
        let router = Router::new()
            .route("/v1/alertmanager", post(alertmanager))
            .route("/v1/grafana", post(grafana))
            .route("/v2/enqueue", post(pagerduty))
            .route("/healthz", get(healthz))
            .route("/v1/teams/{team}/line", get(team_line))
            .route("/v1/calendar/{kind}/{file}", get(calendar))
            .route(
                "/v1/ack/{token}",
                get(ack_link::show).post(ack_link::acknowledge),
            )
            .fallback(not_found)
            .with_state(Arc::new(state));
        Ok(Self {
            listener,
            router,
            max_connections,
            read_timeout,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then gives the requests in flight a while to finish.
    ///
    /// Its own accept loop, not `axum::serve`, for what an exposed server needs: at most
    /// `max_connections` at once (the rest wait in the kernel's queue, and the log says so), and
    /// a client that does not send its request head within `read_timeout` is cut off, so slow
    /// or idle clients cannot hold every connection (or every file descriptor).
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let limits = Limits {
            max_connections: self.max_connections,
            read_timeout: self.read_timeout,
            at_limit: "webhook connection limit reached: new connections wait until one closes \
                       (raise [webhook] max_connections if this is real traffic)"
                .to_owned(),
            // A desktop's engine serves loopback (or a proxy) only: plain HTTP.
            tls: None,
        };
        stopline_http::serve(self.listener, self.router, limits, shutdown).await;
        Ok(())
    }
}

/// The checks of the webhook's token-authenticated routes, with its settings.
fn gate(state: &WebhookState) -> Gate<'_> {
    Gate {
        name: "webhook",
        allowed_hosts: &state.allowed_hosts,
        token: &state.token,
        max_body_bytes: state.max_body_bytes,
        read_timeout: state.read_timeout,
        failures: &state.auth_failures,
        settings: "[webhook]",
        token_hint: "see `stopline token`",
    }
}

/// Why a store operation behind a request failed; either way the request is answered 503, since
/// a retry can help.
#[derive(Debug, thiserror::Error)]
enum StoreFailure {
    #[error(transparent)]
    Store(#[from] stopline_store::StoreError),
    #[error(transparent)]
    Task(#[from] StoreTaskFailed),
}

impl From<StoreFailure> for Refusal {
    fn from(failure: StoreFailure) -> Self {
        tracing::error!(error = %failure, "cannot store a delivery");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot store it now, retry: {failure}"),
            ".",
        )
    }
}

/// Runs a store operation on a blocking thread; the caller answers only after it committed.
async fn with_store<T: Send + 'static>(
    state: &Arc<WebhookState>,
    work: impl FnOnce(&mut Store, jiff::Timestamp) -> stopline_store::Result<T> + Send + 'static,
) -> std::result::Result<T, Refusal> {
    let now = state.clock.now();
    Ok(state
        .store
        .run(move |store| work(store, now).map_err(StoreFailure::from))
        .await?)
}

/// Commits a delivery from a source of `kind`; returns what it did and the receipt for
/// recognising its repeats.
async fn commit(
    state: &Arc<WebhookState>,
    source: String,
    kind: &'static str,
    intake: RoutedDelivery,
) -> std::result::Result<(IngestSummary, Receipt), Refusal> {
    let policy = state.routing.policy();
    let committed = with_store(state, move |store, now| {
        if intake.heartbeat {
            store.record_heartbeat(&source, kind, now)?;
        }
        store.ingest_with_receipt(&intake.observations, policy, now)
    })
    .await;
    if let Ok((summary, _)) = &committed {
        state.events.alerts_stored(summary);
    }
    committed
}

fn received(summary: &IngestSummary, alerts: usize) -> Response {
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

async fn alertmanager(State(state): State<Arc<WebhookState>>, request: Request) -> Response {
    let source = source_param(&request)
        .map(|named| named.unwrap_or_else(|| state.alertmanager_source.clone()));
    answer(
        webhook_route(
            state,
            request,
            source,
            "alertmanager",
            payload::alertmanager_webhook,
        )
        .await,
    )
}

async fn grafana(State(state): State<Arc<WebhookState>>, request: Request) -> Response {
    let source = source_param(&request).map(|named| named.unwrap_or_else(|| "grafana".to_owned()));
    answer(webhook_route(state, request, source, "grafana", payload::grafana_webhook).await)
}

async fn webhook_route(
    state: Arc<WebhookState>,
    request: Request,
    source: std::result::Result<String, Refusal>,
    kind: &'static str,
    parse: fn(&[u8]) -> std::result::Result<Vec<payload::IncomingAlert>, PayloadError>,
) -> Answer {
    let body = gate(&state).accept(request).await?;
    // A bad `?source=` is told only to a sender who passed the host and token checks.
    let source = source?;
    refuse_on_replica(&state)?;
    let key = lock(&state.replays).key(&source, &body);
    let remembered = lock(&state.replays).get(&key);
    if let Some(remembered) = remembered {
        let (receipt, heartbeat, name) = (
            remembered.receipt.clone(),
            remembered.heartbeat,
            source.clone(),
        );
        let repeated = with_store(&state, move |store, now| {
            let unchanged = store.replay(&receipt, now)?;
            if unchanged && heartbeat {
                store.record_heartbeat(&name, kind, now)?;
            }
            Ok(unchanged)
        })
        .await?;
        if repeated {
            let summary = IngestSummary {
                repeated: remembered.receipt.len(),
                ..IngestSummary::default()
            };
            return Ok(received(&summary, remembered.receipt.len()));
        }
        lock(&state.replays).forget(&key);
    }
    let alerts = parse(&body).map_err(Refusal::payload)?;
    let count = alerts.len();
    let intake = state.routing.alerts(&source, alerts, state.clock.now());
    let heartbeat = intake.heartbeat;
    let (summary, receipt) = commit(&state, source, kind, intake).await?;
    lock(&state.replays).remember(key, Remembered { receipt, heartbeat });
    Ok(received(&summary, count))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means a request panicked; the cache is still consistent.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// PagerDuty Events API v2: answers like PagerDuty, so senders need only the URL changed.
async fn pagerduty(State(state): State<Arc<WebhookState>>, request: Request) -> Response {
    pagerduty_route(&state, request)
        .await
        .unwrap_or_else(stopline_http::pagerduty_refusal)
}

async fn pagerduty_route(state: &Arc<WebhookState>, request: Request) -> Answer {
    gate(state).check_host(request.headers())?;
    check_json(request.headers())?;
    let peer = peer_of(&request);
    let body = gate(state).read_body(request.into_body()).await?;
    let now = state.clock.now();
    let event = payload::pagerduty_event(&body, now).map_err(Refusal::payload)?;
    let key = gate(state)
        .routing_key(&state.routing_keys, &event.routing_key, peer)
        .await?
        .clone();
    refuse_on_replica(state)?;
    let dedup_key = event.dedup_key().to_string();
    match event.event {
        PagerDutyEvent::Trigger(alert) => {
            let observation =
                state
                    .routing
                    .alert_for(&key.source, Some(&key.application), alert, now);
            let intake = RoutedDelivery {
                observations: vec![observation],
                heartbeat: false,
            };
            commit(state, key.source.clone(), "pagerduty", intake).await?;
        }
        PagerDutyEvent::Resolve(fingerprint) => {
            resolve_pagerduty(state, &key, fingerprint).await?;
        }
        PagerDutyEvent::Acknowledge(fingerprint) => {
            acknowledge_pagerduty(state, &key, fingerprint).await?;
        }
    }
    Ok(stopline_http::pagerduty_accepted(&dedup_key))
}

/// A PagerDuty resolve: the stored alert with this dedup key resolves, in one store operation.
/// An unknown key is fine (PagerDuty accepts it too): there is nothing to resolve.
async fn resolve_pagerduty(
    state: &Arc<WebhookState>,
    key: &RoutingKey,
    fingerprint: Fingerprint,
) -> std::result::Result<(), Refusal> {
    let (source, policy) = (key.source.clone(), state.routing.policy());
    let resolved = with_store(state, move |store, now| {
        store.resolve_from_source(&source, &fingerprint, policy, now)
    })
    .await?;
    if let Some(summary) = resolved {
        state.events.alerts_stored(&summary);
    }
    Ok(())
}

/// A PagerDuty acknowledge: the alert's incident is acknowledged on the sender's behalf.
async fn acknowledge_pagerduty(
    state: &Arc<WebhookState>,
    key: &RoutingKey,
    fingerprint: Fingerprint,
) -> std::result::Result<(), Refusal> {
    let source = key.source.clone();
    let acknowledged = with_store(state, move |store, now| {
        store.acknowledge_from_source(&source, &fingerprint, now)
    })
    .await?;
    if acknowledged.is_some() {
        state.events.publish(EngineEvent::StoreChanged);
    }
    Ok(())
}

async fn healthz(State(state): State<Arc<WebhookState>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = gate(&state).check_host(&headers) {
        return refusal.into_response();
    }
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

/// `GET /v1/teams/{team}/line`: 200 while the team's line runs, 423 (Locked) while an incident
/// holds it, so a CD pipeline can refuse to deploy feature work with `curl --fail`. Needs the
/// bearer token like every route but `/healthz`.
async fn team_line(
    State(state): State<Arc<WebhookState>>,
    axum::extract::Path(team): axum::extract::Path<String>,
    request: Request,
) -> Response {
    let peer = peer_of(&request);
    if let Err(refusal) = gate(&state).authenticate(request.headers(), peer).await {
        return refusal.into_response();
    }
    let Some(config) = state.routing.config() else {
        return Refusal::new(
            StatusCode::NOT_FOUND,
            format!(
                "unknown team {team:?}: this engine runs without a config, so it knows no teams"
            ),
            "team",
        )
        .into_response();
    };
    let now = state.clock.now();
    let asked = team.clone();
    let looked_up: std::result::Result<_, EngineError> = state
        .store
        .run(move |store| crate::swarm::line(store, &config, &asked, now))
        .await;
    match looked_up {
        Ok(line) => {
            let status = if line.is_stopped() {
                StatusCode::LOCKED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(line)).into_response()
        }
        Err(EngineError::UnknownTeam(_)) => Refusal::new(
            StatusCode::NOT_FOUND,
            format!("unknown team {team:?}: expected the id of a delivery team"),
            "team",
        )
        .into_response(),
        Err(error) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read the line now, retry: {error}"),
            ".",
        )
        .into_response(),
    }
}

/// `GET /v1/calendar/people/{person}.ics` and `/v1/calendar/rotas/{rota}.ics`: on-call shifts
/// as an iCalendar feed, from 30 days back to 90 ahead, for calendar apps to subscribe to.
/// Calendar apps cannot send a bearer token, so the feed takes the calendar key
/// (`?key=`, see `api::calendar_key`; `stopline calendar` prints the URL) or the token.
async fn calendar(
    State(state): State<Arc<WebhookState>>,
    axum::extract::Path((kind, file)): axum::extract::Path<(String, String)>,
    request: Request,
) -> Response {
    use crate::api::{CalendarFor, FEED_AHEAD_DAYS, FEED_PAST_DAYS, calendar_key};
    let peer = peer_of(&request);
    let key = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .unwrap_or("");
    let expected = calendar_key(&state.token);
    // Compared whole, not stopping at the first difference.
    let key_matches = key.len() == expected.len()
        && key
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0;
    if key_matches {
        if let Err(refusal) = gate(&state).check_host(request.headers()) {
            return refusal.into_response();
        }
    } else if let Err(refusal) = gate(&state).authenticate(request.headers(), peer).await {
        return refusal.into_response();
    }
    let Some(id) = file.strip_suffix(".ics") else {
        return Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no calendar {file:?}: calendars end in .ics, such as ben.ics"),
            "file",
        )
        .into_response();
    };
    let of = match kind.as_str() {
        "people" => CalendarFor::Person(id),
        "rotas" => CalendarFor::Rota(id),
        _ => {
            return Refusal::new(
                StatusCode::NOT_FOUND,
                format!("no calendars of {kind:?}: the calendars are /v1/calendar/people/PERSON.ics and /v1/calendar/rotas/ROTA.ics"),
                "kind",
            )
            .into_response();
        }
    };
    let Some(config) = state.routing.config() else {
        return Refusal::new(
            StatusCode::NOT_FOUND,
            "this engine runs without a config, so it knows no rotas".to_owned(),
            ".",
        )
        .into_response();
    };
    let now = state.clock.now();
    let from = now - jiff::SignedDuration::from_hours(24 * FEED_PAST_DAYS);
    let to = now + jiff::SignedDuration::from_hours(24 * FEED_AHEAD_DAYS);
    match crate::api::calendar_feed(&config, of, from, to, now) {
        Ok(text) => (
            StatusCode::OK,
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "text/calendar; charset=utf-8",
                ),
                (axum::http::header::CACHE_CONTROL, "no-cache"),
            ],
            text,
        )
            .into_response(),
        Err(error @ (EngineError::UnknownPerson(_) | EngineError::UnknownRota(..))) => {
            Refusal::new(StatusCode::NOT_FOUND, error.to_string(), "file").into_response()
        }
        Err(error) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot make the calendar now, retry: {error}"),
            ".",
        )
        .into_response(),
    }
}

async fn not_found(request: Request) -> Response {
    Refusal::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}: the routes are POST /v1/alertmanager, POST /v1/grafana, POST /v2/enqueue, GET /v1/teams/TEAM/line, GET /v1/calendar/people/PERSON.ics, GET /v1/calendar/rotas/ROTA.ics, GET and POST /v1/ack/TOKEN (links in pages sent away from the desk) and GET /healthz",
            request.uri().path()
        ),
        ".",
    )
    .into_response()
}

/// Routing keys from the configured PagerDuty sources, read from where the config says.
pub fn routing_keys(
    config: Option<&stopline_core::config::Config>,
    env: &HashMap<String, String>,
    keyring: &dyn crate::secrets::SecretStore,
) -> Result<Vec<RoutingKey>> {
    let Some(config) = config else {
        return Ok(Vec::new());
    };
    config
        .sources
        .iter()
        .filter_map(|source| match &source.kind {
            stopline_core::settings::SourceKind::PagerDuty {
                application,
                routing_key,
            } => Some((source, application, routing_key)),
            _ => None,
        })
        .map(|(source, application, secret)| {
            let what = format!("the routing key of source {:?}", source.name);
            let key = crate::secrets::resolve(secret, &what, env, keyring)?;
            crate::secrets::check_strength(&key, &what)?;
            Ok(RoutingKey {
                key,
                source: source.name.clone(),
                application: application.clone(),
            })
        })
        .collect()
}

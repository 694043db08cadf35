//! The webhook server: where Alertmanager, Grafana and anything that speaks PagerDuty Events v2
//! deliver alerts.
//!
//! Every request passes, in order: the `Host` allow-list (403, against DNS rebinding), the bearer
//! token (401; PagerDuty events authenticate by routing key instead), the content type (415), the
//! body limit (413) and the payload's shape (400, naming the JSON path). A 2xx is answered only
//! after the alerts are committed; a store failure answers 503, since a retry can help. A rejected
//! request stores nothing and the server keeps serving.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use stopline_core::alert::Fingerprint;
use stopline_core::clock::Clock;
use stopline_core::ids::ApplicationId;
use stopline_store::{IngestSummary, Receipt, Store};
use tokio::net::TcpListener;

use crate::auth_failures::AuthFailures;
use crate::events::{EngineEvent, EngineEvents};
use crate::payload::{self, PagerDutyEvent, PayloadError};
use crate::replay::{Remembered, ReplayCache};
use crate::routing::{AlertRouting, RoutedDelivery};
use crate::secrets::constant_time_eq;
use crate::shared_store::{SharedStore, StoreTaskFailed};
use crate::{EngineError, Result};

/// Host names always accepted: the loopback names.
const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

/// A PagerDuty routing key and where its events go.
#[derive(Clone)]
pub struct RoutingKey {
    pub key: String,
    pub source: String,
    pub application: ApplicationId,
}

impl std::fmt::Debug for RoutingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingKey")
            .field("key", &"<redacted>")
            .field("source", &self.source)
            .field("application", &self.application)
            .finish()
    }
}

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

/// How often, at most, the server logs that it is at its connection limit.
const LIMIT_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
/// How long requests in flight get to finish after shutdown is asked for.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl WebhookServer {
    pub async fn bind(address: SocketAddr, state: WebhookState) -> Result<Self> {
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| EngineError::Listen { address, source })?;
        let (max_connections, read_timeout) = (state.max_connections, state.read_timeout);
        let router = Router::new()
            .route("/v1/alertmanager", post(alertmanager))
            .route("/v1/grafana", post(grafana))
            .route("/v2/enqueue", post(pagerduty))
            .route("/healthz", get(healthz))
            .route("/v1/teams/{team}/line", get(team_line))
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
        use hyper_util::rt::{TokioIo, TokioTimer};
        let slots = Arc::new(tokio::sync::Semaphore::new(self.max_connections));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut last_warning: Option<std::time::Instant> = None;
        loop {
            let slot = match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    if last_warning.is_none_or(|at| at.elapsed() >= LIMIT_LOG_EVERY) {
                        last_warning = Some(std::time::Instant::now());
                        tracing::warn!(
                            limit = self.max_connections,
                            "webhook connection limit reached: new connections wait until one closes (raise [webhook] max_connections if this is real traffic)"
                        );
                    }
                    tokio::select! {
                        slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
                        () = &mut shutdown => break,
                    }
                }
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors, say: wait a little instead of spinning.
                        tracing::warn!(%error, "cannot accept a webhook connection");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let router = self.router.clone();
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    tower::ServiceExt::oneshot(router.clone(), request.map(Body::new))
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                // A client that went away or timed out is no failure of the server.
                let _ = connection.await;
                drop(slot);
            });
        }
        drop(self.listener);
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "requests still in flight after {}s: stopping anyway",
                DRAIN_TIMEOUT.as_secs()
            );
        }
        Ok(())
    }
}

/// A refusal: a status and a JSON body naming the problem.
struct Refusal {
    status: StatusCode,
    error: String,
    path: String,
}

impl Refusal {
    fn new(status: StatusCode, error: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            path: path.into(),
        }
    }

    fn payload(error: PayloadError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error.message, error.path)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({ "error": self.error, "path": self.path })),
        )
            .into_response()
    }
}

type Answer = std::result::Result<Response, Refusal>;

/// The host name of a `Host` header, lower-cased and without its port: `127.0.0.1:9177`,
/// `[::1]:9177`, `stopline.internal`. `None` for anything else, such as `[::1]evil.com` or a
/// port that is not a number, so trailing garbage can never pass as an allowed name.
fn host_name(host: &str) -> Option<String> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (format!("[{inside}]"), port)
    } else if host.matches(':').count() > 1 {
        // A bare IPv6 address: no port can be told apart from it.
        if !host
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (host.to_owned(), None)
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (host.to_owned(), None),
        }
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    (port_ok && name_ok).then(|| name.to_ascii_lowercase())
}

fn check_host(state: &WebhookState, headers: &HeaderMap) -> std::result::Result<(), Refusal> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let allowed = host_name(host).is_some_and(|name| {
        LOOPBACK_HOSTS.contains(&name.as_str()) || state.allowed_hosts.contains(&name)
    });
    if allowed {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "host {:?} is not allowed: add it to [webhook] allowed_hosts",
                stopline_core::text::shorten(host, 100)
            ),
            "headers.host",
        ))
    }
}

/// The credentials of an `Authorization` header using `scheme`, which is matched without regard
/// to case (RFC 7235: `bearer` is `Bearer`).
fn credentials<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.trim_start().split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

fn check_token(state: &WebhookState, headers: &HeaderMap) -> std::result::Result<(), Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: Bearer <token> (see `stopline token`)",
            "headers.authorization",
        ));
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| credentials(v, "Bearer"))
        .unwrap_or("");
    if constant_time_eq(presented.as_bytes(), state.token.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::UNAUTHORIZED,
            "wrong bearer token",
            "headers.authorization",
        ))
    }
}

fn check_json(headers: &HeaderMap) -> std::result::Result<(), Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" {
        Ok(())
    } else {
        Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?} is not accepted: send application/json"),
            "headers.content-type",
        ))
    }
}

async fn read_body(state: &WebhookState, body: Body) -> std::result::Result<Vec<u8>, Refusal> {
    let read = tokio::time::timeout(
        state.read_timeout,
        axum::body::to_bytes(body, state.max_body_bytes),
    )
    .await
    .map_err(|_| {
        Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {}s (set [webhook] read_timeout)",
                state.read_timeout.as_secs()
            ),
            ".",
        )
    })?;
    read.map(|bytes| bytes.to_vec()).map_err(|_| {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "body larger than {} bytes (set [webhook] max_body_bytes)",
                state.max_body_bytes
            ),
            ".",
        )
    })
}

/// The client's address, as the accept loop recorded it (unspecified when a test calls the
/// router without one).
fn peer_of(request: &Request) -> std::net::IpAddr {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

/// Answers a failed authentication from `peer`: counted, logged (sparingly) and, after a few
/// from the same address, answered only after a growing delay. `what` says what failed.
async fn failed_authentication(
    state: &WebhookState,
    peer: std::net::IpAddr,
    what: &str,
    refusal: Refusal,
) -> Refusal {
    let verdict = lock(&state.auth_failures).record(peer, std::time::Instant::now());
    if verdict.log {
        tracing::warn!(
            address = %peer,
            failures = verdict.failures,
            delay_ms = verdict.delay.as_millis(),
            "failed webhook authentication: {what}"
        );
    }
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    refusal
}

/// The host and bearer token checks of every token-authenticated route; `peer` is the client.
async fn authenticate(
    state: &WebhookState,
    headers: &HeaderMap,
    peer: std::net::IpAddr,
) -> std::result::Result<(), Refusal> {
    check_host(state, headers)?;
    if let Err(refusal) = check_token(state, headers) {
        let what = refusal.error.clone();
        return Err(failed_authentication(state, peer, &what, refusal).await);
    }
    Ok(())
}

/// The checks every token-authenticated route makes, then the body.
async fn accept(state: &WebhookState, request: Request) -> std::result::Result<Vec<u8>, Refusal> {
    let peer = peer_of(&request);
    let (parts, body) = request.into_parts();
    authenticate(state, &parts.headers, peer).await?;
    check_json(&parts.headers)?;
    read_body(state, body).await
}

/// `?source=NAME` overrides the source a delivery is recorded under. The value is
/// percent-decoded (`?source=alertmanager%2Deu`); one that does not decode to a plain name (bad
/// escapes, invalid UTF-8, control characters, over 128 characters) is refused.
fn source_param(request: &Request) -> std::result::Result<Option<String>, Refusal> {
    let Some(raw) = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("source=")))
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let refuse = |why: &str| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("?source= {why}: expected a source name such as alertmanager-eu"),
            "query.source",
        )
    };
    let bytes = percent_decode(raw).ok_or_else(|| refuse("has a bad %-escape"))?;
    let name = String::from_utf8(bytes).map_err(|_| refuse("is not UTF-8"))?;
    if name.chars().any(stopline_core::text::is_unsafe_on_terminal) {
        return Err(refuse("has a control character"));
    }
    if name.trim().is_empty() || name.chars().count() > 128 {
        return Err(refuse("is empty or longer than 128 characters"));
    }
    Ok(Some(name))
}

/// `%XX` escapes decoded to bytes; `None` when an escape is cut short or not hexadecimal.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    Some(decoded)
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
    (
        StatusCode::OK,
        axum::Json(json!({
            "status": "ok",
            "alerts": alerts,
            "new": summary.new,
            "repeated": summary.repeated + summary.stale,
            "resolved": summary.resolved,
            "opened": opened,
        })),
    )
        .into_response()
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
    let body = accept(&state, request).await?;
    // A bad `?source=` is told only to a sender who passed the host and token checks.
    let source = source?;
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
    match pagerduty_route(&state, request).await {
        Ok(response) => response,
        Err(refusal) => {
            let status = refusal.status;
            let body = json!({
                "status": if status == StatusCode::BAD_REQUEST { "invalid event" } else { "error" },
                "message": refusal.error,
                "errors": [refusal.error],
                "error": refusal.error,
                "path": refusal.path,
            });
            (status, axum::Json(body)).into_response()
        }
    }
}

async fn pagerduty_route(state: &Arc<WebhookState>, request: Request) -> Answer {
    check_host(state, request.headers())?;
    check_json(request.headers())?;
    let peer = peer_of(&request);
    let body = read_body(state, request.into_body()).await?;
    let now = state.clock.now();
    let event = payload::pagerduty_event(&body, now).map_err(Refusal::payload)?;
    let Some(key) = state
        .routing_keys
        .iter()
        .find(|k| constant_time_eq(k.key.as_bytes(), event.routing_key.as_bytes()))
        .cloned()
    else {
        let refusal = Refusal::new(
            StatusCode::BAD_REQUEST,
            "unknown routing key: configure a [[sources]] entry of kind \"pagerduty\" for it",
            "routing_key",
        );
        return Err(failed_authentication(state, peer, "unknown routing key", refusal).await);
    };
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
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "status": "success",
            "message": "Event processed",
            "dedup_key": dedup_key,
        })),
    )
        .into_response())
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
    if let Err(refusal) = check_host(&state, &headers) {
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
    if let Err(refusal) = authenticate(&state, request.headers(), peer).await {
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

async fn not_found(request: Request) -> Response {
    Refusal::new(
        StatusCode::NOT_FOUND,
        format!(
            "no route {}: the routes are POST /v1/alertmanager, POST /v1/grafana, POST /v2/enqueue, GET /v1/teams/TEAM/line and GET /healthz",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_parsed_strictly() {
        for (host, name) in [
            ("127.0.0.1:9177", "127.0.0.1"),
            ("localhost", "localhost"),
            ("LocalHost:80", "localhost"),
            ("[::1]:9177", "[::1]"),
            ("[::1]", "[::1]"),
            ("::1", "::1"),
            ("stopline.internal:443", "stopline.internal"),
        ] {
            assert_eq!(host_name(host).as_deref(), Some(name), "{host}");
        }
        for host in [
            "[::1]evil.com",
            "[::1]:80evil",
            "localhost:",
            "localhost:abc",
            "localhost:9177:1",
            "local host",
            "evil.com/127.0.0.1",
            "",
            "[::1",
        ] {
            assert_eq!(host_name(host), None, "{host}");
        }
    }

    #[test]
    fn the_bearer_scheme_is_matched_without_case() {
        assert_eq!(credentials("Bearer abc", "Bearer"), Some("abc"));
        assert_eq!(credentials("bearer abc", "Bearer"), Some("abc"));
        assert_eq!(credentials("BEARER  abc ", "Bearer"), Some("abc"));
        assert_eq!(credentials("Basic abc", "Bearer"), None);
        assert_eq!(credentials("Bearerabc", "Bearer"), None);
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("am%2Deu").unwrap(), b"am-eu");
        assert_eq!(percent_decode("a%20b").unwrap(), b"a b");
        assert_eq!(percent_decode("plain").unwrap(), b"plain");
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
    }
}

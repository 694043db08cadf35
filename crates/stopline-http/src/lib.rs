//! The HTTP contract every Stopline server keeps with the senders and programs that call it,
//! shared by the desktop's engine (`stopline serve`) and the team hub so both answer alike:
//! the `Host` allow-list (403, against DNS rebinding), the bearer token (401, compared in
//! constant time, failures counted and slowed per address: [`auth_failures`]), the content type
//! (415), the body limit and read timeout (413, 408), refusals as `{"error", "path"}` naming the
//! problem, and an accept loop that caps connections and cuts off clients too slow to send
//! their request ([`serve`]). And the one way Stopline builds the HTTP clients it talks out with
//! ([`client`]).

pub mod ack_page;
pub mod auth_failures;
pub mod client;

pub use tokio_rustls::TlsAcceptor;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use stopline_core::payload::PayloadError;
use tokio::net::TcpListener;

use crate::auth_failures::AuthFailures;

/// Host names always accepted: the loopback names.
pub const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

/// How often, at most, the accept loop logs that it is at its connection limit.
const LIMIT_LOG_EVERY: Duration = Duration::from_secs(10);
/// How long requests in flight get to finish after shutdown is asked for.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A refusal: a status and a JSON body naming the problem, `{"error", "path"}`.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: String,
    pub path: String,
}

impl Refusal {
    pub fn new(status: StatusCode, error: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            status,
            error: error.into(),
            path: path.into(),
        }
    }

    pub fn payload(error: PayloadError) -> Self {
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

/// A route's answer: a response, or a refusal.
pub type Answer = std::result::Result<Response, Refusal>;

/// What a token-authenticated route checks before it reads a body.
#[derive(Debug)]
pub struct Gate<'a> {
    /// What the server is called in the log (`webhook`).
    pub name: &'a str,
    /// Host names accepted besides the loopback ones.
    pub allowed_hosts: &'a [String],
    pub token: &'a str,
    pub max_body_bytes: usize,
    /// The time a client has to send the body.
    pub read_timeout: Duration,
    /// Failed authentications by client address.
    pub failures: &'a Mutex<AuthFailures>,
    /// How the settings are named in refusals (`[webhook]`), so a person knows what to change.
    pub settings: &'a str,
    /// How to find the token, said when it is missing (`see \`stopline token\``).
    pub token_hint: &'a str,
}

impl Gate<'_> {
    /// 403 unless the `Host` header names loopback or an allowed host.
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let allowed = host_name(host).is_some_and(|name| {
            LOOPBACK_HOSTS.contains(&name.as_str()) || self.allowed_hosts.contains(&name)
        });
        if allowed {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::FORBIDDEN,
                format!(
                    "host {:?} is not allowed: add it to {} allowed_hosts",
                    stopline_core::text::shorten(host, 100),
                    self.settings
                ),
                "headers.host",
            ))
        }
    }

    /// 401 unless the request carries the bearer token.
    pub fn check_token(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "missing Authorization: Bearer <token> ({})",
                    self.token_hint
                ),
                "headers.authorization",
            ));
        };
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| credentials(v, "Bearer"))
            .unwrap_or("");
        if constant_time_eq(presented.as_bytes(), self.token.as_bytes()) {
            Ok(())
        } else {
            Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "wrong bearer token",
                "headers.authorization",
            ))
        }
    }

    /// The host and token checks; a failed authentication is answered by [`Gate::failed`].
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: std::net::IpAddr,
    ) -> Result<(), Refusal> {
        self.check_host(headers)?;
        match self.check_token(headers) {
            Ok(()) => Ok(()),
            Err(refusal) => {
                let what = refusal.error.clone();
                Err(self.failed(peer, &what, refusal).await)
            }
        }
    }

    /// Answers a failed authentication from `peer` with `refusal`: counted, logged sparingly
    /// and, after a few from the same address, only after a growing delay. `what` says what
    /// failed.
    pub async fn failed(&self, peer: std::net::IpAddr, what: &str, refusal: Refusal) -> Refusal {
        let verdict = self
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .record(peer, std::time::Instant::now());
        if verdict.log {
            tracing::warn!(
                address = %peer,
                failures = verdict.failures,
                delay_ms = verdict.delay.as_millis(),
                "failed {} authentication: {what}",
                self.name
            );
        }
        if !verdict.delay.is_zero() {
            tokio::time::sleep(verdict.delay).await;
        }
        refusal
    }

    /// Every check of a token-authenticated route that posts JSON, then its body.
    pub async fn accept(&self, request: Request) -> Result<Vec<u8>, Refusal> {
        let peer = peer_of(&request);
        let (parts, body) = request.into_parts();
        self.authenticate(&parts.headers, peer).await?;
        check_json(&parts.headers)?;
        self.read_body(body).await
    }

    /// The body, within the size limit (413) and the read timeout (408).
    pub async fn read_body(&self, body: Body) -> Result<Vec<u8>, Refusal> {
        let read = tokio::time::timeout(
            self.read_timeout,
            axum::body::to_bytes(body, self.max_body_bytes),
        )
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {}s (set {} read_timeout)",
                    self.read_timeout.as_secs(),
                    self.settings
                ),
                ".",
            )
        })?;
        read.map(|bytes| bytes.to_vec()).map_err(|_| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "body larger than {} bytes (set {} max_body_bytes)",
                    self.max_body_bytes, self.settings
                ),
                ".",
            )
        })
    }
}

/// The host name of a `Host` header, lower-cased and without its port: `127.0.0.1:9177`,
/// `[::1]:9177`, `stopline.internal`. `None` for anything else, such as `[::1]evil.com` or a
/// port that is not a number, so trailing garbage can never pass as an allowed name.
pub fn host_name(host: &str) -> Option<String> {
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

/// The credentials of an `Authorization` header using `scheme`, which is matched without regard
/// to case (RFC 7235: `bearer` is `Bearer`).
pub fn credentials<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.trim_start().split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// 415 unless the body is declared `application/json`.
pub fn check_json(headers: &HeaderMap) -> std::result::Result<(), Refusal> {
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

/// The client's address, as the accept loop recorded it (unspecified when a test calls the
/// router without one).
pub fn peer_of(request: &Request) -> std::net::IpAddr {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |info| info.0.ip())
}

/// `%XX` escapes decoded to bytes; `None` when an escape is cut short or not hexadecimal.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
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

/// `?source=NAME` overrides the source a delivery is recorded under. The value is
/// percent-decoded (`?source=alertmanager%2Deu`); one that does not decode to a plain name (bad
/// escapes, invalid UTF-8, control characters, over 128 characters) is refused.
pub fn source_param(request: &Request) -> Result<Option<String>, Refusal> {
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

/// Compares two secrets in time that depends only on their lengths, so a wrong guess reveals
/// nothing about how close it was.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a delivery did, as the sender is told: every Stopline server answers alike.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// Alerts in the delivery.
    pub alerts: usize,
    pub new: usize,
    /// Repeats and stale ones: nothing new.
    pub repeated: usize,
    pub resolved: usize,
    /// Incidents it opened, as `INC-1`.
    pub opened: &'a [String],
}

impl Received<'_> {
    /// `200 {"status": "ok", "alerts", "new", "repeated", "resolved", "opened"}`.
    pub fn answer(&self) -> Response {
        (
            StatusCode::OK,
            axum::Json(json!({
                "status": "ok",
                "alerts": self.alerts,
                "new": self.new,
                "repeated": self.repeated,
                "resolved": self.resolved,
                "opened": self.opened,
            })),
        )
            .into_response()
    }
}

/// A PagerDuty routing key, and the source and application its events go to.
#[derive(Clone)]
pub struct RoutingKey {
    pub key: String,
    pub source: String,
    pub application: stopline_core::ids::ApplicationId,
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

impl Gate<'_> {
    /// The routing key a PagerDuty event presented, among `keys` (compared in constant time);
    /// an unknown one is a failed authentication from `peer`, answered 400 as PagerDuty does.
    pub async fn routing_key<'k>(
        &self,
        keys: &'k [RoutingKey],
        presented: &str,
        peer: std::net::IpAddr,
    ) -> Result<&'k RoutingKey, Refusal> {
        if let Some(key) = keys
            .iter()
            .find(|k| constant_time_eq(k.key.as_bytes(), presented.as_bytes()))
        {
            return Ok(key);
        }
        let refusal = Refusal::new(
            StatusCode::BAD_REQUEST,
            "unknown routing key: configure a [[sources]] entry of kind \"pagerduty\" for it",
            "routing_key",
        );
        Err(self.failed(peer, "unknown routing key", refusal).await)
    }
}

/// A refused PagerDuty event, in the shape PagerDuty's own API answers (`status`, `message`,
/// `errors`), with Stopline's `error` and `path` beside.
pub fn pagerduty_refusal(refusal: Refusal) -> Response {
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

/// A PagerDuty event taken: `202 {"status": "success", "message", "dedup_key"}`.
pub fn pagerduty_accepted(dedup_key: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "status": "success",
            "message": "Event processed",
            "dedup_key": dedup_key,
        })),
    )
        .into_response()
}

/// How many connections the kernel holds for the accept loop (clamped by `net.core.somaxconn`).
/// The standard library's 128 overflows when hundreds of desktops connect at once (a hub
/// restarting, every stream told to pull): the kernel then drops connections and their
/// clients retry a second later.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds `address` for [`serve`], with a [`LISTEN_BACKLOG`]-deep accept queue.
pub fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As the standard library does: a restarted server takes its port back at once.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// What the accept loop allows.
#[derive(Clone)]
pub struct Limits {
    /// Connections served at once; the rest wait in the kernel's queue.
    pub max_connections: usize,
    /// The time a client has to send its request head.
    pub read_timeout: Duration,
    /// What the log says when the limit is reached, with what to raise.
    pub at_limit: String,
    /// Serve HTTPS with this (see [`tls_acceptor`]); `None`: plain HTTP. The handshake, like the
    /// request head, must finish within `read_timeout`.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("max_connections", &self.max_connections)
            .field("read_timeout", &self.read_timeout)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// A TLS acceptor from a PEM certificate chain (`cert`, the server's certificate first) and its
/// PEM private key (`key`), with rustls's safe defaults (TLS 1.2 and 1.3). The error names the
/// file and what is wrong with it.
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect)
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in it (expected -----BEGIN CERTIFICATE-----)",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(certs, private)
    .map_err(|e| {
        format!(
            "{} and {}: the key does not go with the certificate, or is unusable: {e}",
            cert.display(),
            key.display()
        )
    })?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves until `shutdown` completes, then gives the requests in flight a while to finish.
///
/// Its own accept loop, not `axum::serve`, for what an exposed server needs: at most
/// `max_connections` at once (the rest wait in the kernel's queue, and the log says so), and
/// a client that does not send its request head within `read_timeout` is cut off, so slow
/// or idle clients cannot hold every connection (or every file descriptor).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_warning: Option<std::time::Instant> = None;
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if last_warning.is_none_or(|at| at.elapsed() >= LIMIT_LOG_EVERY) {
                    last_warning = Some(std::time::Instant::now());
                    tracing::warn!(limit = limits.max_connections, "{}", limits.at_limit);
                }
                tokio::select! {
                    slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(router.clone(), request.map(Body::new))
            });
        let builder = {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.read_timeout);
            builder
        };
        match &limits.tls {
            None => {
                let connection =
                    graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // A client that went away or timed out is no failure of the server.
                    let _ = connection.await;
                    drop(slot);
                });
            }
            Some(tls) => {
                let tls = tls.clone();
                let timeout = limits.read_timeout;
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // The handshake in the connection's own task, within the read timeout: a
                    // slow client holds its own slot and nothing else.
                    if let Ok(Ok(stream)) = tokio::time::timeout(timeout, tls.accept(stream)).await
                    {
                        let connection = builder.serve_connection(TokioIo::new(stream), service);
                        let _ = watcher.watch(connection).await;
                    }
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {}s: stopping anyway",
            DRAIN_TIMEOUT.as_secs()
        );
    }
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

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}

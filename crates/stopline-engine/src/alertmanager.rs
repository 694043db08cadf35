//! Polling Alertmanager's API v2 (`GET /api/v2/alerts`), from 0.25 (Debian 12) on.
//!
//! A poll is a complete view of a source's active alerts: alerts that disappeared, or whose
//! `endsAt` passed, are resolved. Silenced and inhibited alerts are recorded as muted and page
//! nobody. The members of an HA pair are one source: each is asked, their answers merged by
//! fingerprint, and the poll counts as a success when at least one answered.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use stopline_core::alert::{AlertState, Fingerprint};
use stopline_core::clock::Clock;
use stopline_store::IngestSummary;

use crate::events::EngineEvents;
use crate::payload::{IncomingAlert, check_limits, label_fingerprint};
use crate::routing::AlertRouting;
use crate::shared_store::{SharedStore, StoreTaskFailed};

/// One Alertmanager source: a single instance or the members of an HA pair.
#[derive(Clone)]
pub struct AlertmanagerSource {
    pub name: String,
    pub urls: Vec<String>,
    pub poll_interval: Duration,
    /// Sent as `Authorization: Bearer …`; read from the environment, never logged.
    pub bearer_token: Option<String>,
    /// Silences for acknowledged incidents, when `write_back = true` (see `outbox`).
    pub write_back: Option<stopline_core::settings::WriteBack>,
}

impl std::fmt::Debug for AlertmanagerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertmanagerSource")
            .field("name", &self.name)
            .field("urls", &self.urls)
            .field("poll_interval", &self.poll_interval)
            .field("write_back", &self.write_back)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a poll failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PollError(pub String);

impl From<StoreTaskFailed> for PollError {
    fn from(failed: StoreTaskFailed) -> Self {
        PollError(failed.to_string())
    }
}

/// What a successful poll did.
#[derive(Debug, Clone)]
pub struct PollOutcome {
    pub alerts: usize,
    pub summary: IngestSummary,
    /// Members of an HA pair that did not answer, with why.
    pub unreachable: Vec<String>,
}

/// Talks HTTP to Alertmanagers, with short timeouts: a hung source must not hang the engine.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    http: reqwest::Client,
}

impl AlertmanagerClient {
    pub fn new() -> Result<Self, HttpClientError> {
        Ok(Self {
            http: http_client()?,
        })
    }

    /// Every alert one Alertmanager holds, active, silenced and inhibited alike.
    pub async fn alerts(
        &self,
        base_url: &str,
        bearer_token: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<IncomingAlert>, PollError> {
        let url = format!(
            "{base_url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"
        );
        let mut request = self.http.get(&url);
        if let Some(token) = bearer_token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PollError(format!("{base_url}: {}", describe(&e))))?;
        let status = response.status();
        if !status.is_success() {
            return Err(PollError(format!("{base_url}: answered HTTP {status}")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| PollError(format!("{base_url}: {}", describe(&e))))?;
        let alerts: Vec<ApiAlert> = serde_json::from_slice(&body).map_err(|e| {
            PollError(format!(
                "{base_url}: not an Alertmanager API v2 answer: {}",
                stopline_core::text::shorten(&e.to_string(), 200)
            ))
        })?;
        alerts
            .into_iter()
            .map(|a| a.into_incoming(now, base_url))
            .collect()
    }
}

/// The HTTP client for talking to Alertmanagers (polling, the outbox): short timeouts, so a hung
/// source never hangs the engine.
pub(crate) fn http_client() -> Result<reqwest::Client, HttpClientError> {
    // rustls needs a process-wide crypto provider; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("stopline/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpClientError(e.to_string()))
}

/// The HTTP client cannot be set up (no TLS backend, a broken system configuration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct HttpClientError(pub String);

/// The part of a reqwest error a person can act on.
pub(crate) fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect (is it running?)".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        text
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: String,
    ends_at: String,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    fingerprint: String,
    status: ApiStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiStatus {
    state: String,
    #[serde(default)]
    silenced_by: Vec<String>,
    #[serde(default)]
    inhibited_by: Vec<String>,
    /// Only from Alertmanager 0.28 on.
    #[serde(default)]
    muted_by: Vec<String>,
}

impl ApiAlert {
    fn into_incoming(self, now: Timestamp, base_url: &str) -> Result<IncomingAlert, PollError> {
        let time = |text: &str, field: &str| {
            text.parse::<Timestamp>().map_err(|e| {
                PollError(format!(
                    "{base_url}: alert {}: invalid {field} {:?}: {e}",
                    stopline_core::text::shorten(&self.fingerprint, 64),
                    stopline_core::text::shorten(text, 64)
                ))
            })
        };
        let starts_at = time(&self.starts_at, "startsAt")?;
        let ends_at = time(&self.ends_at, "endsAt")?;
        let state = if ends_at <= now {
            AlertState::Resolved
        } else {
            AlertState::Firing
        };
        let muted = self.status.state == "suppressed"
            || !self.status.silenced_by.is_empty()
            || !self.status.inhibited_by.is_empty()
            || !self.status.muted_by.is_empty();
        let fingerprint = Fingerprint::new(self.fingerprint.clone())
            .unwrap_or_else(|_| label_fingerprint(&self.labels));
        let incoming = IncomingAlert {
            fingerprint,
            labels: self.labels,
            annotations: self.annotations,
            links: BTreeMap::new(),
            state,
            starts_at,
            // While firing, endsAt is only Alertmanager's resolve timeout: not an end.
            ends_at: (state == AlertState::Resolved).then_some(ends_at),
            generator_url: self.generator_url.filter(|u| !u.is_empty()),
            muted,
        };
        let alert = format!("alert {}", incoming.fingerprint);
        check_limits(&incoming, &alert)
            .map_err(|e| PollError(format!("{base_url}: {}: {}", e.path, e.message)))?;
        Ok(incoming)
    }
}

/// What polling needs besides the source: where alerts go, how they route, who to tell, the time.
#[derive(Debug, Clone)]
pub struct PollTarget {
    pub store: SharedStore,
    pub routing: AlertRouting,
    pub events: EngineEvents,
    pub clock: Arc<dyn Clock>,
}

/// Polls a source once and records the result (and the source's health) in the store.
pub async fn poll_once(
    source: &AlertmanagerSource,
    client: &AlertmanagerClient,
    target: &PollTarget,
) -> Result<PollOutcome, PollError> {
    let now = target.clock.now();
    let mut merged: BTreeMap<Fingerprint, IncomingAlert> = BTreeMap::new();
    let mut failures = Vec::new();
    for url in &source.urls {
        match client
            .alerts(url, source.bearer_token.as_deref(), now)
            .await
        {
            Ok(alerts) => {
                for alert in alerts {
                    merged.entry(alert.fingerprint.clone()).or_insert(alert);
                }
            }
            Err(e) => failures.push(e.0),
        }
    }
    let answered = failures.len() < source.urls.len();
    let routing = target.routing.clone();
    let name = source.name.clone();
    let url_list = source.urls.join(", ");
    let count = merged.len();
    let error = failures.join("; ");
    let outcome = target
        .store
        .run(move |store| {
            if !answered {
                store
                    .record_source_failure(&name, "alertmanager", Some(&url_list), &error, now)
                    .map_err(|e| PollError(format!("cannot record the failure: {e}")))?;
                return Err(PollError(error));
            }
            let delivery = routing.alerts(&name, merged.into_values().collect(), now);
            let summary = store
                .ingest_snapshot(&name, &delivery.observations, routing.policy(), now)
                .map_err(|e| PollError(format!("cannot store the alerts: {e}")))?;
            if delivery.heartbeat {
                store
                    .record_heartbeat(&name, "alertmanager", now)
                    .map_err(|e| PollError(format!("cannot record the heartbeat: {e}")))?;
            }
            store
                .record_source_success(&name, "alertmanager", Some(&url_list), now)
                .map_err(|e| PollError(format!("cannot record the success: {e}")))?;
            Ok(summary)
        })
        .await?;
    target.events.alerts_stored(&outcome);
    Ok(PollOutcome {
        alerts: count,
        summary: outcome,
        unreachable: failures,
    })
}

/// Polls a source every `poll_interval` until the task is aborted.
pub async fn poll_forever(
    source: AlertmanagerSource,
    client: AlertmanagerClient,
    target: PollTarget,
) {
    let mut ticker = tokio::time::interval(source.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match poll_once(&source, &client, &target).await {
            Ok(outcome) => {
                for member in &outcome.unreachable {
                    tracing::warn!(source = %source.name, "HA member unreachable: {member}");
                }
                let s = &outcome.summary;
                if s.new + s.changed + s.resolved > 0 {
                    tracing::info!(
                        source = %source.name,
                        alerts = outcome.alerts,
                        new = s.new,
                        resolved = s.resolved,
                        opened = s.opened.len(),
                        "polled"
                    );
                }
            }
            Err(error) => tracing::warn!(source = %source.name, "poll failed: {error}"),
        }
    }
}

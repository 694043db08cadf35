//! Stopline as a client of Prometheus Alertmanager's API v2 (from 0.25, Debian 12's): reading
//! every alert an Alertmanager holds (`GET /api/v2/alerts`), parsed into the plain alerts of
//! `stopline_core::payload` with their limits checked, and its silences (`silences`). A
//! desktop's engine and the hub poll and write back with it. Short timeouts throughout: a hung source must never hang its caller.

pub mod silences;

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use stopline_core::alert::{AlertState, Fingerprint};
use stopline_core::payload::{IncomingAlert, check_limits, label_fingerprint};

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

/// Talks HTTP to Alertmanagers, with short timeouts: a hung source must not hang the engine.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    pub(crate) http: reqwest::Client,
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
        Ok(self
            .alerts_with_silences(base_url, bearer_token, now)
            .await?
            .into_iter()
            .map(|(alert, _)| alert)
            .collect())
    }

    /// As [`AlertmanagerClient::alerts`], each with the ids of the silences that mute it.
    async fn alerts_with_silences(
        &self,
        base_url: &str,
        bearer_token: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<(IncomingAlert, Vec<String>)>, PollError> {
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
            .map(|a| {
                // Muted by silences only: the ids, to tell Stopline's from others'.
                let silences = if a.status.inhibited_by.is_empty() && a.status.muted_by.is_empty() {
                    a.status.silenced_by.clone()
                } else {
                    Vec::new()
                };
                Ok((a.into_incoming(now, base_url)?, silences))
            })
            .collect()
    }
}

/// What the members of one source answered, merged.
#[derive(Debug, Clone)]
pub struct SourceAlerts {
    /// Every alert any member holds, one per fingerprint.
    pub alerts: Vec<IncomingAlert>,
    /// Members that did not answer, with why.
    pub unreachable: Vec<String>,
    /// Alerts muted only by silences Stopline made (an acknowledgement written back, by a hub
    /// or a desktop): they are not muted for Stopline (`muted` is false), since the silence
    /// stands for an acknowledgement in Stopline itself.
    pub silenced_by_stopline: Vec<Fingerprint>,
}

impl AlertmanagerClient {
    /// Asks every member of `source` (an HA pair's members hold the same alerts) and merges
    /// their answers by fingerprint; an error, naming each member's failure, when none answered.
    pub async fn source_alerts(
        &self,
        source: &AlertmanagerSource,
        now: Timestamp,
    ) -> Result<SourceAlerts, PollError> {
        let mut merged: BTreeMap<Fingerprint, (IncomingAlert, Vec<String>)> = BTreeMap::new();
        let mut unreachable = Vec::new();
        for url in &source.urls {
            match self
                .alerts_with_silences(url, source.bearer_token.as_deref(), now)
                .await
            {
                Ok(alerts) => {
                    for (alert, silences) in alerts {
                        merged
                            .entry(alert.fingerprint.clone())
                            .or_insert((alert, silences));
                    }
                }
                Err(e) => unreachable.push(e.0),
            }
        }
        if unreachable.len() == source.urls.len() {
            return Err(PollError(unreachable.join("; ")));
        }
        // Which silences are Stopline's, asked only when some alert is silenced. Without an
        // answer every silence counts as a mute, as before.
        let mut silenced_by_stopline = Vec::new();
        if merged.values().any(|(_, silences)| !silences.is_empty())
            && let Ok(all) = self.list_silences(source).await
        {
            let ours: Vec<&str> = all
                .iter()
                .filter(|s| {
                    s.status.state == "active" && s.comment.contains(silences::MARKER_PREFIX)
                })
                .map(|s| s.id.as_str())
                .collect();
            for (alert, silences) in merged.values_mut() {
                if !silences.is_empty() && silences.iter().all(|id| ours.contains(&id.as_str())) {
                    alert.muted = false;
                    silenced_by_stopline.push(alert.fingerprint.clone());
                }
            }
        }
        Ok(SourceAlerts {
            alerts: merged.into_values().map(|(alert, _)| alert).collect(),
            unreachable,
            silenced_by_stopline,
        })
    }
}

/// The HTTP client for talking to Alertmanagers (polling, the outbox): short timeouts, so a hung
/// source never hangs the engine.
pub fn http_client() -> Result<reqwest::Client, HttpClientError> {
    stopline_http::client::client(|builder| {
        builder
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
    })
    .map_err(HttpClientError)
}

/// The HTTP client cannot be set up (no TLS backend, a broken system configuration).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct HttpClientError(pub String);

/// The part of a reqwest error a person can act on.
pub fn describe(error: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str, now: &str) -> Result<Vec<IncomingAlert>, PollError> {
        let alerts: Vec<ApiAlert> = serde_json::from_str(json).unwrap();
        let now: Timestamp = now.parse().unwrap();
        alerts
            .into_iter()
            .map(|a| a.into_incoming(now, "http://am"))
            .collect()
    }

    #[test]
    fn an_api_alert_reads_as_firing_resolved_or_muted() {
        let json = r#"[
          {"labels": {"alertname": "Down"}, "startsAt": "2026-12-03T10:00:00Z",
           "endsAt": "2026-12-03T10:05:00Z", "fingerprint": "abc123", "generatorURL": "",
           "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
          {"labels": {"alertname": "Slow"}, "startsAt": "2026-12-03T09:00:00Z",
           "endsAt": "2026-12-03T09:30:00Z", "fingerprint": "def456",
           "status": {"state": "suppressed", "silencedBy": ["s1"], "inhibitedBy": []}}
        ]"#;
        let alerts = parse(json, "2026-12-03T10:01:00Z").unwrap();
        assert_eq!(alerts[0].state, AlertState::Firing);
        assert_eq!(
            alerts[0].ends_at, None,
            "endsAt of a firing alert is no end"
        );
        assert_eq!(alerts[0].generator_url, None);
        assert_eq!(alerts[1].state, AlertState::Resolved);
        assert!(alerts[1].muted);
        let bad = r#"[{"labels": {}, "startsAt": "yesterday", "endsAt": "2026-12-03T10:05:00Z",
            "fingerprint": "x", "status": {"state": "active"}}]"#;
        let error = parse(bad, "2026-12-03T10:01:00Z").unwrap_err();
        assert!(error.0.contains("invalid startsAt"), "{error}");
    }
}

//! Alertmanager's silences through its API v2: listing, reading, creating or changing, and
//! expiring them, each sent to the first member of an HA pair that answers; and the backoff a
//! sender waits between tries. What to silence, and when, is the caller's: a desktop's outbox,
//! or the hub's.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{AlertmanagerClient, AlertmanagerSource, describe};

/// The first retry waits this long; each further one twice as long as the one before.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// No retry waits longer than this.
pub const LONGEST_RETRY: Duration = Duration::from_secs(300);
/// How long to wait before attempt `attempts + 1`, given a `jitter` in [0, 1): between half and
/// all of the exponential delay ("equal jitter").
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let exponential = FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(16)))
        .min(LONGEST_RETRY);
    exponential.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A random number in [0, 1), so that many senders do not retry in step.
pub fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

/// Why an action did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth trying again later: no answer, a timeout, HTTP 5xx or 429.
    Transient(String),
    /// The source refused the request as such: trying again would not help.
    Refused(String),
}

impl AlertmanagerClient {
    /// Sends a request to the first member of the source that answers.
    async fn call(
        &self,
        source: &AlertmanagerSource,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, String), Failure> {
        let mut problems = Vec::new();
        for url in &source.urls {
            let mut request = build(url);
            if let Some(token) = &source.bearer_token {
                request = request.bearer_auth(token);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    {
                        problems.push(format!("{url}: answered HTTP {status}: {}", body.trim()));
                        continue;
                    }
                    return Ok((status, body));
                }
                Err(error) => problems.push(format!("{url}: {}", describe(&error))),
            }
        }
        Err(Failure::Transient(problems.join("; ")))
    }

    pub async fn list_silences(
        &self,
        source: &AlertmanagerSource,
    ) -> Result<Vec<ApiSilence>, Failure> {
        let (status, body) = self
            .call(source, |url| {
                self.http.get(format!("{url}/api/v2/silences"))
            })
            .await?;
        if !status.is_success() {
            return Err(Failure::Transient(format!(
                "listing silences: HTTP {status}: {}",
                body.trim()
            )));
        }
        serde_json::from_str(&body)
            .map_err(|e| Failure::Transient(format!("listing silences: not an API v2 answer: {e}")))
    }

    pub async fn get_silence(
        &self,
        source: &AlertmanagerSource,
        id: &str,
    ) -> Result<Option<ApiSilence>, Failure> {
        let (status, body) = self
            .call(source, |url| {
                self.http.get(format!("{url}/api/v2/silence/{id}"))
            })
            .await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(Failure::Transient(format!(
                "reading silence {id}: HTTP {status}: {}",
                body.trim()
            )));
        }
        serde_json::from_str(&body).map(Some).map_err(|e| {
            Failure::Transient(format!("reading silence {id}: not an API v2 answer: {e}"))
        })
    }

    pub async fn post_silence(
        &self,
        source: &AlertmanagerSource,
        silence: &NewSilence,
    ) -> Result<String, Failure> {
        let (status, body) = self
            .call(source, |url| {
                self.http
                    .post(format!("{url}/api/v2/silences"))
                    .json(silence)
            })
            .await?;
        if !status.is_success() {
            return Err(Failure::Refused(format!("HTTP {status}: {}", body.trim())));
        }
        #[derive(Deserialize)]
        struct Created {
            #[serde(rename = "silenceID")]
            silence_id: String,
        }
        serde_json::from_str::<Created>(&body)
            .map(|c| c.silence_id)
            .map_err(|e| {
                Failure::Transient(format!("creating a silence: not an API v2 answer: {e}"))
            })
    }

    pub async fn delete_silence(
        &self,
        source: &AlertmanagerSource,
        id: &str,
    ) -> Result<(), Failure> {
        let (status, body) = self
            .call(source, |url| {
                self.http.delete(format!("{url}/api/v2/silence/{id}"))
            })
            .await?;
        // Gone already, or expired already: either way it silences nothing now.
        if status.is_success()
            || status == reqwest::StatusCode::NOT_FOUND
            || body.contains("already expired")
        {
            return Ok(());
        }
        Err(Failure::Refused(format!("HTTP {status}: {}", body.trim())))
    }
}

/// `now` plus `by` (now itself if that is out of range).
pub fn later(now: Timestamp, by: Duration) -> Timestamp {
    SignedDuration::try_from(by)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(now)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSilence {
    /// An existing silence's id, to change it (extend it); `None` to make a new one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

/// A silence as Alertmanager's API v2 shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiSilence {
    pub id: String,
    pub status: ApiSilenceStatus,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiSilenceStatus {
    /// `active`, `pending` or `expired`.
    pub state: String,
}

/// What write-back asks of a source for one alert of one incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Silence the alert: its incident was acknowledged.
    Silence,
    /// Push the silence's end on: the incident is still acknowledged.
    Extend,
    /// Expire the silence: the incident left `acknowledged`.
    Expire,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Silence => "silence",
            Action::Extend => "extend",
            Action::Expire => "expire",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "silence" => Some(Action::Silence),
            "extend" => Some(Action::Extend),
            "expire" => Some(Action::Expire),
            _ => None,
        }
    }
}

/// One queued write-back action, as the caller's queue holds it.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    pub action: Action,
    /// The incident, as people say it (`INC-42`): named in the silence's comment and marker.
    pub incident: &'a str,
    pub alert_id: i64,
    /// The alert's labels: a silence matches exactly these.
    pub labels: &'a BTreeMap<String, String>,
    /// Who acknowledged, when a person did.
    pub who: Option<&'a str>,
    /// The silence recorded for this alert and incident, if one was: its id, its end, and
    /// whether it was expired.
    pub silence: Option<(&'a str, Timestamp, bool)>,
}

/// What the source now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The silence exists (created or extended) with this id, until then.
    Silenced {
        silence_id: String,
        ends_at: Timestamp,
    },
    /// The silence is expired (or was gone already).
    Expired,
    /// Nothing to do (an expiry for a silence that was never made).
    Nothing,
}

/// The marker a silence made for this alert of this incident carries in its comment: how a
/// retry after a crash finds the silence it made before, instead of making a second.
pub fn marker(incident: &str, alert_id: i64) -> String {
    format!("{MARKER_PREFIX}{incident} alert {alert_id}]")
}

/// How every marker starts: a silence whose comment holds it was made by Stopline.
pub const MARKER_PREFIX: &str = "[stopline ";

/// Carries out one action against `source` at `now`, silences lasting the source's
/// `silence_duration`. `existing` caches the source's silences for the round (read when a
/// marker must be looked for).
pub async fn carry_out(
    client: &AlertmanagerClient,
    source: &AlertmanagerSource,
    item: Pending<'_>,
    now: Timestamp,
    existing: &mut Option<Vec<ApiSilence>>,
) -> Result<Sent, Failure> {
    let duration = source.write_back.map(|w| w.silence_duration);
    let live = item.silence.filter(|(_, _, expired)| !expired);
    match item.action {
        Action::Silence => {
            if let Some((silence_id, ends_at, _)) = live {
                return Ok(Sent::Silenced {
                    silence_id: silence_id.to_owned(),
                    ends_at,
                });
            }
            let Some(duration) = duration else {
                return Err(Failure::Refused(format!(
                    "write_back is off for source {:?}",
                    source.name
                )));
            };
            if let Some(found) = find_marked(client, source, &item, existing).await? {
                return Ok(found);
            }
            let ends_at = later(now, duration);
            let silence = NewSilence {
                id: None,
                matchers: matchers(item.labels),
                starts_at: now,
                ends_at,
                created_by: item.who.unwrap_or("stopline").to_owned(),
                comment: format!(
                    "Stopline {}: acknowledged{}; expires when the incident is resolved. {}",
                    item.incident,
                    item.who.map(|w| format!(" by {w}")).unwrap_or_default(),
                    marker(item.incident, item.alert_id)
                ),
            };
            let silence_id = client.post_silence(source, &silence).await?;
            Ok(Sent::Silenced {
                silence_id,
                ends_at,
            })
        }
        Action::Extend => {
            let (Some((silence_id, _, _)), Some(duration)) = (live, duration) else {
                return Ok(Sent::Nothing);
            };
            let Some(current) = client.get_silence(source, silence_id).await? else {
                return Ok(Sent::Nothing);
            };
            let ends_at = later(now, duration);
            let update = NewSilence {
                id: Some(current.id.clone()),
                matchers: current.matchers,
                starts_at: current.starts_at,
                ends_at,
                created_by: current.created_by,
                comment: current.comment,
            };
            let silence_id = client.post_silence(source, &update).await?;
            Ok(Sent::Silenced {
                silence_id,
                ends_at,
            })
        }
        Action::Expire => {
            let silence_id = match live {
                Some((silence_id, _, _)) => Some(silence_id.to_owned()),
                // Never recorded: maybe made just before a crash. Look for it.
                None if item.silence.is_none() => {
                    match find_marked(client, source, &item, existing).await? {
                        Some(Sent::Silenced { silence_id, .. }) => Some(silence_id),
                        _ => None,
                    }
                }
                None => None,
            };
            match silence_id {
                Some(id) => {
                    client.delete_silence(source, &id).await?;
                    Ok(Sent::Expired)
                }
                None => Ok(Sent::Nothing),
            }
        }
    }
}

/// A live silence in the source that carries this item's marker: one made before a crash.
async fn find_marked(
    client: &AlertmanagerClient,
    source: &AlertmanagerSource,
    item: &Pending<'_>,
    existing: &mut Option<Vec<ApiSilence>>,
) -> Result<Option<Sent>, Failure> {
    if existing.is_none() {
        *existing = Some(client.list_silences(source).await?);
    }
    let marker = marker(item.incident, item.alert_id);
    Ok(existing
        .iter()
        .flatten()
        .find(|s| s.status.state != "expired" && s.comment.contains(&marker))
        .map(|s| Sent::Silenced {
            silence_id: s.id.clone(),
            ends_at: s.ends_at,
        }))
}

/// Exact matchers on every label of the alert: the silence covers this alert and nothing else.
fn matchers(labels: &BTreeMap<String, String>) -> Vec<Matcher> {
    labels
        .iter()
        .map(|(name, value)| Matcher {
            name: name.clone(),
            value: value.clone(),
            is_regex: false,
            is_equal: true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_five_minutes() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(
            backoff(1, 0.999_999),
            Duration::from_secs(1).mul_f64(0.999_999_5)
        );
        assert_eq!(backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(4, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(10, 1.0), LONGEST_RETRY, "capped");
        assert_eq!(backoff(u32::MAX, 0.0), LONGEST_RETRY / 2);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
            seen.insert(backoff(6, j));
        }
        assert!(seen.len() > 1, "jittered: {seen:?}");
    }
}

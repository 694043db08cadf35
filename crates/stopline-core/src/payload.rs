//! The payloads alert senders post, parsed into plain alerts. Every rejection names the JSON path
//! of the problem (`alerts[3].startsAt`) and is final: the same body will never be accepted, so the
//! webhook answers 4xx and Alertmanager does not retry it.
//!
//! Formats: Alertmanager's webhook `"version": "4"`, Grafana alerting's webhook `"version": "1"`
//! (the same shape plus dashboard, panel and silence URLs), and the PagerDuty Events API v2.
//! Unknown fields are ignored: senders add fields between versions.

use std::collections::BTreeMap;

use crate::alert::limits::{self, TooLong};
use crate::alert::{AlertState, Fingerprint, Labels};
use crate::text::shorten;
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// One alert as a sender described it, before Stopline routes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAlert {
    pub fingerprint: Fingerprint,
    pub labels: Labels,
    pub annotations: Labels,
    pub links: Labels,
    pub state: AlertState,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub generator_url: Option<String>,
    /// Silenced or inhibited at the source (known only from the Alertmanager API).
    pub muted: bool,
}

/// Why a body was refused, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PayloadError {
    /// The JSON path of the problem; `.` for the whole body.
    pub path: String,
    pub message: String,
}

impl PayloadError {
    pub(crate) fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The most of a sender's own text an error quotes back.
const MAX_ECHO_CHARS: usize = 200;

/// No sender nests this deep; a body that does is refused before it is parsed.
pub const MAX_DEPTH: usize = 64;

/// Refuses JSON nested deeper than [`MAX_DEPTH`]: one pass over the bytes, skipping strings.
fn check_depth(body: &[u8]) -> Result<(), PayloadError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(PayloadError::at(
                        ".",
                        format!("JSON nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Deserialises `body`, naming the JSON path of the first problem.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    check_depth(body)?;
    // Tracking the path costs time on every value; only a failure needs it, so parse again
    // with tracking to explain one.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        // An unknown position prints as `?`: name the nearest known parent instead.
        let raw = e.path().to_string();
        let known = raw.trim_end_matches('?').trim_end_matches('.').to_owned();
        let path = if known.is_empty() {
            ".".to_owned()
        } else {
            known
        };
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("invalid JSON: {inner}")
        } else {
            inner.to_string()
        };
        // serde quotes the offending value and map keys whole (`invalid type: string "…"`):
        // a refusal never sends a sender's megabytes back to it, or into the log.
        PayloadError::at(
            shorten(&path, MAX_ECHO_CHARS).into_owned(),
            shorten(&message, MAX_ECHO_CHARS).into_owned(),
        )
    })
}

// ---- Alertmanager and Grafana ----

#[derive(Deserialize)]
struct WebhookBody {
    version: Option<String>,
    alerts: Vec<WebhookAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    status: String,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: String,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    // Grafana only.
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "silenceURL")]
    silence_url: Option<String>,
}

/// An Alertmanager webhook body (`"version": "4"`).
pub fn alertmanager_webhook(body: &[u8]) -> Result<Vec<IncomingAlert>, PayloadError> {
    webhook(body, "4", "Alertmanager")
}

/// A Grafana alerting webhook body (`"version": "1"`), keeping its dashboard, panel and silence
/// links.
pub fn grafana_webhook(body: &[u8]) -> Result<Vec<IncomingAlert>, PayloadError> {
    webhook(body, "1", "Grafana")
}

fn webhook(body: &[u8], version: &str, sender: &str) -> Result<Vec<IncomingAlert>, PayloadError> {
    let parsed: WebhookBody = parse(body)?;
    match parsed.version.as_deref() {
        Some(v) if v == version => {}
        Some(other) => {
            return Err(PayloadError::at(
                "version",
                format!(
                    "unsupported version {:?}: this route takes {sender} webhooks with \"version\": \"{version}\"",
                    shorten(other, 64)
                ),
            ));
        }
        None => {
            return Err(PayloadError::at(
                "version",
                format!("missing field `version`: expected \"{version}\""),
            ));
        }
    }
    parsed
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| webhook_alert(alert, &format!("alerts[{i}]")))
        .collect()
}

fn webhook_alert(alert: WebhookAlert, path: &str) -> Result<IncomingAlert, PayloadError> {
    let state = match alert.status.as_str() {
        "firing" => AlertState::Firing,
        "resolved" => AlertState::Resolved,
        other => {
            return Err(PayloadError::at(
                format!("{path}.status"),
                format!(
                    "unknown status {:?}: expected \"firing\" or \"resolved\"",
                    shorten(other, 64)
                ),
            ));
        }
    };
    let starts_at = timestamp(&alert.starts_at, &format!("{path}.startsAt"))?;
    let ends_at = match alert.ends_at.as_deref() {
        None | Some("") => None,
        Some(text) => {
            Some(timestamp(text, &format!("{path}.endsAt"))?).filter(|t| !is_zero_time(*t))
        }
    };
    let fingerprint = match alert.fingerprint {
        Some(text) => Fingerprint::new(text)
            .map_err(|e| PayloadError::at(format!("{path}.fingerprint"), e.to_string()))?,
        None => label_fingerprint(&alert.labels),
    };
    if alert.labels.is_empty() {
        return Err(PayloadError::at(
            format!("{path}.labels"),
            "an alert needs at least one label",
        ));
    }
    let links: Labels = [
        ("dashboard", alert.dashboard_url),
        ("panel", alert.panel_url),
        ("silence", alert.silence_url),
    ]
    .into_iter()
    .filter_map(|(name, url)| Some((name.to_owned(), url.filter(|u| !u.is_empty())?)))
    .collect();
    let incoming = IncomingAlert {
        fingerprint,
        labels: alert.labels,
        annotations: alert.annotations,
        links,
        state,
        starts_at,
        ends_at,
        generator_url: alert.generator_url.filter(|u| !u.is_empty()),
        muted: false,
    };
    check_limits(&incoming, path)?;
    Ok(incoming)
}

/// Refuses an alert carrying more text than [`limits`] allow, naming the field under `path`
/// (`alerts[0].labels.alertname`). Every way an alert arrives passes through here.
pub fn check_limits(alert: &IncomingAlert, path: &str) -> Result<(), PayloadError> {
    let at = |e: TooLong| PayloadError::at(format!("{path}.{}", e.field), e.message);
    limits::check_map("labels", &alert.labels, limits::LABEL_VALUE_CHARS).map_err(at)?;
    limits::check_map(
        "annotations",
        &alert.annotations,
        limits::ANNOTATION_VALUE_CHARS,
    )
    .map_err(at)?;
    // Grafana's links arrive as the alert's own fields; the map holds them under these names.
    let link_field = |name: &str| match name {
        "dashboard" => "dashboardURL",
        "panel" => "panelURL",
        "silence" => "silenceURL",
        _ => "links",
    };
    for (name, url) in &alert.links {
        limits::check_text(|| link_field(name).to_owned(), url, limits::URL_CHARS).map_err(at)?;
    }
    if let Some(url) = &alert.generator_url {
        limits::check_text(|| "generatorURL".to_owned(), url, limits::URL_CHARS).map_err(at)?;
    }
    Ok(())
}

/// Alertmanager's and Grafana's way of saying "not ended": `0001-01-01T00:00:00Z`.
fn is_zero_time(t: Timestamp) -> bool {
    t.as_second() < -62_000_000_000
}

fn timestamp(text: &str, path: &str) -> Result<Timestamp, PayloadError> {
    text.parse::<Timestamp>().map_err(|e| {
        PayloadError::at(
            path,
            format!(
                "invalid timestamp {:?}: expected RFC 3339 such as \"2026-11-20T09:14:03Z\" ({e})",
                shorten(text, 64)
            ),
        )
    })
}

/// Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted names and values, each
/// followed by 0xff), so an alert without one gets the same identity the Alertmanager API shows.
pub fn label_fingerprint(labels: &Labels) -> Fingerprint {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    // BTreeMap iterates in name order, as Alertmanager sorts them.
    for (name, value) in labels {
        feed(name.as_bytes());
        feed(&[0xff]);
        feed(value.as_bytes());
        feed(&[0xff]);
    }
    Fingerprint::new(format!("{hash:016x}")).expect("16 hex digits are a valid fingerprint")
}

// ---- PagerDuty Events API v2 ----

/// What a PagerDuty event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PagerDutyEvent {
    Trigger(IncomingAlert),
    Acknowledge(Fingerprint),
    Resolve(Fingerprint),
}

/// A PagerDuty Events v2 body, with its routing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagerDutyEnqueue {
    pub routing_key: String,
    pub event: PagerDutyEvent,
}

impl PagerDutyEnqueue {
    /// The dedup key the event concerns, as PagerDuty answers it.
    pub fn dedup_key(&self) -> &Fingerprint {
        match &self.event {
            PagerDutyEvent::Trigger(alert) => &alert.fingerprint,
            PagerDutyEvent::Acknowledge(key) | PagerDutyEvent::Resolve(key) => key,
        }
    }
}

#[derive(Deserialize)]
struct PagerDutyBody {
    routing_key: String,
    event_action: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<PagerDutyPayload>,
    #[serde(default)]
    links: Vec<PagerDutyLink>,
    #[serde(default)]
    client_url: Option<String>,
}

#[derive(Deserialize)]
struct PagerDutyPayload {
    summary: String,
    source: String,
    severity: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PagerDutyLink {
    href: String,
    #[serde(default)]
    text: Option<String>,
}

/// A PagerDuty Events API v2 `enqueue` body. `now` stands in for a trigger's missing timestamp,
/// and a trigger without a dedup key gets one derived from its content (as PagerDuty does, a
/// repeat of the same trigger then deduplicates).
pub fn pagerduty_event(body: &[u8], now: Timestamp) -> Result<PagerDutyEnqueue, PayloadError> {
    let parsed: PagerDutyBody = parse(body)?;
    if parsed.routing_key.trim().is_empty() {
        return Err(PayloadError::at("routing_key", "must not be empty"));
    }
    let dedup_key = parsed
        .dedup_key
        .filter(|k| !k.is_empty())
        .map(|k| Fingerprint::new(k).map_err(|e| PayloadError::at("dedup_key", e.to_string())))
        .transpose()?;
    let event = match parsed.event_action.as_str() {
        "trigger" => {
            let payload = parsed.payload.ok_or_else(|| {
                PayloadError::at(
                    "payload",
                    "missing field `payload`: a trigger needs summary, source and severity",
                )
            })?;
            PagerDutyEvent::Trigger(pagerduty_alert(
                payload,
                dedup_key,
                parsed.links,
                parsed.client_url,
                now,
            )?)
        }
        action @ ("acknowledge" | "resolve") => {
            let key = dedup_key.ok_or_else(|| {
                PayloadError::at(
                    "dedup_key",
                    format!("missing field `dedup_key`: {action} needs the key of the trigger"),
                )
            })?;
            if action == "acknowledge" {
                PagerDutyEvent::Acknowledge(key)
            } else {
                PagerDutyEvent::Resolve(key)
            }
        }
        other => {
            return Err(PayloadError::at(
                "event_action",
                format!(
                    "unknown event_action {:?}: expected \"trigger\", \"acknowledge\" or \"resolve\"",
                    shorten(other, 64)
                ),
            ));
        }
    };
    Ok(PagerDutyEnqueue {
        routing_key: parsed.routing_key,
        event,
    })
}

fn pagerduty_alert(
    payload: PagerDutyPayload,
    dedup_key: Option<Fingerprint>,
    links: Vec<PagerDutyLink>,
    client_url: Option<String>,
    now: Timestamp,
) -> Result<IncomingAlert, PayloadError> {
    const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];
    if !SEVERITIES.contains(&payload.severity.as_str()) {
        return Err(PayloadError::at(
            "payload.severity",
            format!(
                "unknown severity {:?}: expected critical, error, warning or info",
                shorten(&payload.severity, 64)
            ),
        ));
    }
    if payload.summary.trim().is_empty() {
        return Err(PayloadError::at("payload.summary", "must not be empty"));
    }
    check_pagerduty_limits(&payload, &links, client_url.as_deref())?;
    let starts_at = match payload.timestamp.as_deref() {
        Some(text) => timestamp(text, "payload.timestamp")?,
        None => now,
    };
    let mut labels = Labels::new();
    labels.insert("alertname".into(), payload.summary.clone());
    labels.insert("source".into(), payload.source);
    labels.insert("severity".into(), payload.severity);
    for (name, value) in [
        ("component", payload.component),
        ("group", payload.group),
        ("class", payload.class),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            labels.insert(name.into(), value);
        }
    }
    let mut annotations = Labels::new();
    annotations.insert("summary".into(), payload.summary);
    if let Some(details) = payload.custom_details {
        annotations.insert("custom_details".into(), details.to_string());
    }
    let mut link_map = Labels::new();
    for (i, link) in links.into_iter().enumerate() {
        let name = link
            .text
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| format!("link {}", i + 1));
        link_map.insert(name, link.href);
    }
    let fingerprint = dedup_key.unwrap_or_else(|| label_fingerprint(&labels));
    Ok(IncomingAlert {
        fingerprint,
        labels,
        annotations,
        links: link_map,
        state: AlertState::Firing,
        starts_at,
        ends_at: None,
        generator_url: client_url,
        muted: false,
    })
}

/// The [`limits`] for a PagerDuty event, checked on its own fields so an error names the field
/// the sender wrote (`payload.summary`), not the label Stopline makes of it.
fn check_pagerduty_limits(
    payload: &PagerDutyPayload,
    links: &[PagerDutyLink],
    client_url: Option<&str>,
) -> Result<(), PayloadError> {
    let at = |e: TooLong| PayloadError::at(e.field, e.message);
    let field = |name: &'static str| move || name.to_owned();
    limits::check_text(
        field("payload.summary"),
        &payload.summary,
        limits::SUMMARY_CHARS,
    )
    .map_err(at)?;
    for (name, value) in [
        ("payload.source", Some(&payload.source)),
        ("payload.component", payload.component.as_ref()),
        ("payload.group", payload.group.as_ref()),
        ("payload.class", payload.class.as_ref()),
    ] {
        if let Some(value) = value {
            limits::check_text(field(name), value, limits::LABEL_VALUE_CHARS).map_err(at)?;
        }
    }
    if let Some(details) = &payload.custom_details {
        let text = details.to_string();
        limits::check_text(
            field("payload.custom_details"),
            &text,
            limits::ANNOTATION_VALUE_CHARS,
        )
        .map_err(at)?;
    }
    if links.len() > limits::ENTRIES {
        return Err(PayloadError::at(
            "links",
            format!("{} links, more than {}", links.len(), limits::ENTRIES),
        ));
    }
    for (i, link) in links.iter().enumerate() {
        limits::check_text(|| format!("links[{i}].href"), &link.href, limits::URL_CHARS)
            .map_err(at)?;
        if let Some(text) = &link.text {
            limits::check_text(|| format!("links[{i}].text"), text, limits::NAME_CHARS)
                .map_err(at)?;
        }
    }
    if let Some(url) = client_url {
        limits::check_text(field("client_url"), url, limits::URL_CHARS).map_err(at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use stopline_tests::fixture;

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn alertmanager_fixture_parses() {
        let alerts = alertmanager_webhook(&fixture("alertmanager-webhook-v4.json")).unwrap();
        assert_eq!(alerts.len(), 2);
        let first = &alerts[0];
        assert_eq!(first.fingerprint.as_str(), "6f1c2a0e9b3d4c51");
        assert_eq!(first.state, AlertState::Firing);
        assert_eq!(first.ends_at, None, "0001-01-01 means not ended");
        assert_eq!(first.labels["service"], "payments-api");
        assert_eq!(
            first.starts_at,
            "2026-11-20T09:14:03.512Z".parse::<Timestamp>().unwrap()
        );
        assert!(
            first
                .generator_url
                .as_deref()
                .unwrap()
                .contains("payments_5xx_ratio")
        );

        let resolved =
            alertmanager_webhook(&fixture("alertmanager-webhook-v4-resolved.json")).unwrap();
        assert_eq!(resolved[0].state, AlertState::Resolved);
        assert_eq!(
            resolved[0].ends_at,
            Some("2026-11-20T09:41:33Z".parse().unwrap())
        );
    }

    #[test]
    fn grafana_fixture_keeps_its_links() {
        let alerts = grafana_webhook(&fixture("grafana-webhook-v1.json")).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            alerts[0].links["dashboard"],
            "https://grafana.example.org/d/search-overview"
        );
        assert!(alerts[0].links["panel"].ends_with("viewPanel=4"));
        assert!(alerts[0].links["silence"].contains("alerting/silence/new"));
        // A Grafana body on the Alertmanager route names the version as the problem.
        let err = alertmanager_webhook(&fixture("grafana-webhook-v1.json")).unwrap_err();
        assert_eq!(err.path, "version");
    }

    #[test]
    fn pagerduty_fixtures_parse() {
        let trigger = pagerduty_event(&fixture("pagerduty-events-v2-trigger.json"), now()).unwrap();
        assert_eq!(trigger.routing_key, "R0UTINGKEYFORSTOCKSERVICE0000001");
        assert_eq!(trigger.dedup_key().as_str(), "stock-sync-lag-eu-west");
        let PagerDutyEvent::Trigger(alert) = &trigger.event else {
            panic!("{trigger:?}")
        };
        assert_eq!(alert.labels["severity"], "error");
        assert_eq!(alert.labels["component"], "stock-sync");
        assert_eq!(
            alert.annotations["summary"],
            "Stock sync lag above 15 minutes in eu-west"
        );
        assert_eq!(
            alert.links["Stock dashboard"],
            "https://grafana.example.org/d/stock"
        );
        assert!(alert.annotations["custom_details"].contains("\"lag_minutes\":17"));

        let ack = pagerduty_event(&fixture("pagerduty-events-v2-acknowledge.json"), now()).unwrap();
        assert!(
            matches!(ack.event, PagerDutyEvent::Acknowledge(ref k) if k.as_str() == "stock-sync-lag-eu-west")
        );
        let resolve = pagerduty_event(&fixture("pagerduty-events-v2-resolve.json"), now()).unwrap();
        assert!(matches!(resolve.event, PagerDutyEvent::Resolve(_)));
    }

    #[test]
    fn problems_name_their_json_path() {
        let cases: [(&str, &str, &str); 9] = [
            (
                r#"{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"}}]}"#,
                "alerts[0]",
                "missing field `startsAt`",
            ),
            (
                r#"{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"}]}"#,
                "alerts[0].startsAt",
                "invalid timestamp \"yesterday\"",
            ),
            (
                r#"{"version":"4","alerts":[{"status":"on fire","labels":{"a":"b"},"startsAt":"2026-11-20T09:00:00Z"}]}"#,
                "alerts[0].status",
                "unknown status",
            ),
            (
                r#"{"version":"3","alerts":[]}"#,
                "version",
                "unsupported version \"3\"",
            ),
            (r#"{"alerts":[]}"#, "version", "missing field `version`"),
            (r#"{"version":"4"}"#, ".", "missing field `alerts`"),
            (
                r#"{"version":"4","alerts":[{"status":"firing","labels":{"a":1},"startsAt":"2026-11-20T09:00:00Z"}]}"#,
                "alerts[0].labels.a",
                "invalid type",
            ),
            (
                r#"{"version":"4","alerts":[{"status":"firing","labels":{},"startsAt":"2026-11-20T09:00:00Z"}]}"#,
                "alerts[0].labels",
                "at least one label",
            ),
            (r#"{"version":"4","alerts":["#, "alerts", "invalid JSON"),
        ];
        for (body, path, message) in cases {
            let err = alertmanager_webhook(body.as_bytes()).unwrap_err();
            assert_eq!(err.path, path, "{body}: {err}");
            assert!(err.message.contains(message), "{body}: {err}");
        }
        let pd: [(&str, &str); 4] = [
            (r#"{"routing_key":"k","event_action":"trigger"}"#, "payload"),
            (
                r#"{"routing_key":"k","event_action":"resolve"}"#,
                "dedup_key",
            ),
            (
                r#"{"routing_key":"k","event_action":"page"}"#,
                "event_action",
            ),
            (
                r#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"fatal"}}"#,
                "payload.severity",
            ),
        ];
        for (body, path) in pd {
            assert_eq!(
                pagerduty_event(body.as_bytes(), now()).unwrap_err().path,
                path,
                "{body}"
            );
        }
    }

    #[test]
    fn text_beyond_the_limits_is_refused_naming_the_field() {
        let webhook = |labels: String, annotations: String| {
            format!(
                r#"{{"version":"4","alerts":[{{"status":"firing","labels":{labels},"annotations":{annotations},"startsAt":"2026-11-20T09:00:00Z"}}]}}"#
            )
        };
        let long = |n: usize| "x".repeat(n);
        let cases = [
            (
                webhook(
                    format!(r#"{{"alertname":"{}"}}"#, long(70_000)),
                    "{}".into(),
                ),
                "alerts[0].labels.alertname",
            ),
            (
                webhook(format!(r#"{{"{}":"v"}}"#, long(300)), "{}".into()),
                "alerts[0].labels.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…",
            ),
            (
                webhook(
                    r#"{"a":"b"}"#.into(),
                    format!(r#"{{"description":"{}"}}"#, long(20_000)),
                ),
                "alerts[0].annotations.description",
            ),
            (
                webhook(
                    format!(
                        "{{{}}}",
                        (0..200)
                            .map(|i| format!(r#""l{i}":"v""#))
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    "{}".into(),
                ),
                "alerts[0].labels",
            ),
        ];
        for (body, path) in cases {
            let err = alertmanager_webhook(body.as_bytes()).unwrap_err();
            assert_eq!(err.path, path, "{err}");
            assert!(err.message.contains("more than") || err.message.contains("longer than"));
            assert!(
                err.to_string().len() < 200,
                "the error does not echo the text"
            );
        }
        // At the limit is fine.
        let at_limit = webhook(
            format!(r#"{{"alertname":"{}"}}"#, long(limits::LABEL_VALUE_CHARS)),
            "{}".into(),
        );
        assert!(alertmanager_webhook(at_limit.as_bytes()).is_ok());

        let trigger = |summary: &str| {
            format!(
                r#"{{"routing_key":"k","event_action":"trigger","payload":{{"summary":"{summary}","source":"s","severity":"error"}}}}"#
            )
        };
        let err = pagerduty_event(trigger(&long(65_536)).as_bytes(), now()).unwrap_err();
        assert_eq!(err.path, "payload.summary");
        assert_eq!(err.message, "longer than 1024 characters");
        assert!(pagerduty_event(trigger(&long(1_024)).as_bytes(), now()).is_ok());
        // Multi-byte characters count as one each.
        assert!(pagerduty_event(trigger(&"ä".repeat(1_024)).as_bytes(), now()).is_ok());
        let err = pagerduty_event(
            format!(
                r#"{{"routing_key":"k","event_action":"page{}"}}"#,
                long(100_000)
            )
            .as_bytes(),
            now(),
        )
        .unwrap_err();
        assert!(err.message.len() < 200, "{}", err.message.len());
    }

    #[test]
    fn deeply_nested_json_is_refused_not_overflowed() {
        // Nested under a field the parser skips: skipping recurses too.
        let body = format!(
            r#"{{"version":"4","extra":{}{},"alerts":[]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let err = alertmanager_webhook(body.as_bytes()).unwrap_err();
        assert!(err.message.contains("nested deeper than 64"), "{err}");
        // Brackets inside strings are text, not nesting.
        let text = format!(
            r#"{{"version":"4","alerts":[{{"status":"firing","labels":{{"a":"{}\"{}"}},"startsAt":"2026-11-20T09:00:00Z"}}]}}"#,
            "[".repeat(200),
            "{".repeat(200)
        );
        assert_eq!(alertmanager_webhook(text.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn a_missing_fingerprint_is_alertmanagers() {
        // Computed by Alertmanager 0.25 for {alertname="Watchdog"}: the empty label set hashes to
        // the FNV offset basis, and the function is FNV-1a over name 0xff value 0xff.
        let empty = label_fingerprint(&Labels::new());
        assert_eq!(empty.as_str(), "cbf29ce484222325");
        let one: Labels = [("a".to_owned(), "b".to_owned())].into();
        let two: Labels = [("a".to_owned(), "c".to_owned())].into();
        assert_ne!(label_fingerprint(&one), label_fingerprint(&two));
        let body = r#"{"version":"4","alerts":[{"status":"firing","labels":{"a":"b"},"startsAt":"2026-11-20T09:00:00Z"}]}"#;
        assert_eq!(
            alertmanager_webhook(body.as_bytes()).unwrap()[0].fingerprint,
            label_fingerprint(&one)
        );
    }
}

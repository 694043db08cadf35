//! The engine's part of the config: `[alerts]`, `[webhook]`, `[pipeline]` and `[[sources]]`
//! (Alertmanagers to poll and write back to, PagerDuty routing keys), with their secrets named,
//! never written in the file.

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use crate::application::Application;
use crate::settings::{
    AlertSettings, DEFAULT_POLL_INTERVAL, HubSettings, MAX_SILENCE, MIN_SILENCE, PipelineSettings,
    SecretRef, SourceConfig, SourceKind, WebhookSettings, WriteBack, parse_http_url,
};

use super::checker::Checker;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlerts {
    #[serde(default)]
    pub(super) group_by: Vec<String>,
    #[serde(default)]
    pub(super) auto_resolve: Option<bool>,
    #[serde(default)]
    pub(super) heartbeat_alert: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    #[serde(default)]
    pub(super) listen: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) allowed_hosts: Vec<String>,
    #[serde(default)]
    pub(super) max_body_bytes: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) max_connections: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) read_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHub {
    #[serde(default)]
    pub(super) degraded_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPipeline {
    #[serde(default)]
    pub(super) owner: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) heartbeat_timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) unreachable_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Spanned<String>,
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) urls: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) poll_interval: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) bearer_token_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) bearer_token_keyring: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) application: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) routing_key_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) routing_key_keyring: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) write_back: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) silence_duration: Option<Spanned<String>>,
}

impl Checker<'_> {
    pub(super) fn alerts(&mut self, raw: Option<RawAlerts>) -> AlertSettings {
        let mut settings = AlertSettings::default();
        let Some(raw) = raw else { return settings };
        settings.group_by = raw.group_by;
        settings.auto_resolve = raw.auto_resolve.unwrap_or(true);
        if let Some(name) = raw.heartbeat_alert {
            settings.heartbeat_alert = self.non_empty(&name, "alerts.heartbeat_alert");
        }
        settings
    }

    pub(super) fn webhook(&mut self, raw: Option<RawWebhook>) -> WebhookSettings {
        let mut settings = WebhookSettings::default();
        let Some(raw) = raw else { return settings };
        if let Some(listen) = raw.listen {
            match listen.get_ref().parse() {
                Ok(address) => settings.listen = address,
                Err(_) => self.problem(
                    listen.span(),
                    "webhook.listen",
                    format!(
                        "invalid address {:?}: expected IP:PORT such as \"127.0.0.1:9177\"",
                        listen.get_ref()
                    ),
                ),
            }
        }
        settings.allowed_hosts = raw
            .allowed_hosts
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if let Some(limit) = raw.max_connections {
            match usize::try_from(*limit.get_ref()) {
                Ok(count @ 1..=65_536) => settings.max_connections = count,
                _ => self.problem(
                    limit.span(),
                    "webhook.max_connections",
                    "expected 1 to 65536 connections",
                ),
            }
        }
        if let Some(timeout) = raw.read_timeout
            && let Some(duration) = self.duration(&timeout, "webhook.read_timeout")
        {
            settings.read_timeout = duration;
        }
        if let Some(limit) = raw.max_body_bytes {
            match usize::try_from(*limit.get_ref()) {
                Ok(bytes) if bytes >= 1024 => settings.max_body_bytes = bytes,
                _ => self.problem(
                    limit.span(),
                    "webhook.max_body_bytes",
                    "expected at least 1024 bytes",
                ),
            }
        }
        settings
    }

    pub(super) fn hub(&mut self, raw: Option<RawHub>) -> HubSettings {
        let mut settings = HubSettings::default();
        if let Some(value) = raw.as_ref().and_then(|r| r.degraded_after.as_ref())
            && let Some(d) = self.duration(value, "hub.degraded_after")
        {
            settings.degraded_after = d;
        }
        settings
    }

    pub(super) fn pipeline(
        &mut self,
        raw: Option<RawPipeline>,
        applications: &[Application],
    ) -> PipelineSettings {
        let mut settings = PipelineSettings::default();
        let Some(raw) = raw else { return settings };
        if let Some(owner) = raw.owner {
            match applications.iter().find(|a| a.id.as_str() == owner.get_ref()) {
                Some(app) => settings.owner = Some(app.id.clone()),
                None => self.problem(
                    owner.span(),
                    "pipeline.owner",
                    format!(
                        "application {:?} does not exist: expected the id of the application that stands for the alerting pipeline",
                        owner.get_ref()
                    ),
                ),
            }
        }
        if let Some(value) = &raw.heartbeat_timeout
            && let Some(d) = self.duration(value, "pipeline.heartbeat_timeout")
        {
            settings.heartbeat_timeout = d;
        }
        if let Some(value) = &raw.unreachable_timeout
            && let Some(d) = self.duration(value, "pipeline.unreachable_timeout")
        {
            settings.unreachable_timeout = d;
        }
        settings
    }

    /// A secret given by exactly one of `{name}_env` and `{name}_keyring` (or neither, when
    /// optional). `Err(())` when the problem was reported.
    pub(super) fn secret(
        &mut self,
        key: &str,
        name: &str,
        env: &Option<Spanned<String>>,
        keyring: &Option<Spanned<String>>,
    ) -> Result<Option<SecretRef>, ()> {
        match (env, keyring) {
            (Some(env), Some(_)) => {
                self.problem(
                    env.span(),
                    format!("{key}.{name}_env"),
                    format!("give {name}_env or {name}_keyring, not both"),
                );
                Err(())
            }
            (Some(value), None) | (None, Some(value)) if value.get_ref().trim().is_empty() => {
                self.problem(value.span(), format!("{key}.{name}"), "must not be empty");
                Err(())
            }
            (Some(env), None) => Ok(Some(SecretRef::Env(env.get_ref().trim().to_owned()))),
            (None, Some(entry)) => Ok(Some(SecretRef::Keyring(entry.get_ref().trim().to_owned()))),
            (None, None) => Ok(None),
        }
    }

    pub(super) fn sources(
        &mut self,
        raw: Vec<RawSource>,
        applications: &[Application],
    ) -> Vec<SourceConfig> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut sources = Vec::new();
        for (i, source) in raw.into_iter().enumerate() {
            let key = format!("sources[{i}]");
            let name = self.non_empty(&source.name, &format!("{key}.name"));
            if let Some(first) = seen.get(&name) {
                self.problem(
                    source.name.span(),
                    format!("{key}.name"),
                    format!("duplicate source name {name:?}: already defined at line {first}"),
                );
                continue;
            }
            seen.insert(name.clone(), self.line_of(&source.name.span()));
            let kind = match source.kind.get_ref().as_str() {
                "alertmanager" => {
                    if source.urls.is_empty() {
                        self.problem(
                            source.kind.span(),
                            format!("{key}.urls"),
                            "an alertmanager source needs urls = [\"http://HOST:PORT\"] (both members of an HA pair, if it has two)",
                        );
                    }
                    let mut urls = Vec::new();
                    for (j, url) in source.urls.iter().enumerate() {
                        match parse_http_url(url.get_ref()) {
                            Some(u) => urls.push(u),
                            None => self.problem(
                                url.span(),
                                format!("{key}.urls[{j}]"),
                                format!("invalid URL {:?}: expected http://HOST:PORT or https://HOST:PORT", url.get_ref()),
                            ),
                        }
                    }
                    let poll_interval = match &source.poll_interval {
                        Some(value) => self.duration(value, &format!("{key}.poll_interval")),
                        None => Some(DEFAULT_POLL_INTERVAL),
                    };
                    let bearer_token = self.secret(
                        &key,
                        "bearer_token",
                        &source.bearer_token_env,
                        &source.bearer_token_keyring,
                    );
                    let write_back = self.write_back(&source, &key);
                    match (poll_interval, bearer_token, write_back) {
                        (Some(poll_interval), Ok(bearer_token), Ok(write_back)) => {
                            Some(SourceKind::Alertmanager {
                                urls,
                                poll_interval,
                                bearer_token,
                                write_back,
                            })
                        }
                        _ => None,
                    }
                }
                "pagerduty" => {
                    let application = match &source.application {
                        Some(app) => {
                            match applications.iter().find(|a| a.id.as_str() == app.get_ref()) {
                                Some(found) => Some(found.id.clone()),
                                None => {
                                    self.problem(
                                        app.span(),
                                        format!("{key}.application"),
                                        format!("application {:?} does not exist", app.get_ref()),
                                    );
                                    None
                                }
                            }
                        }
                        None => {
                            self.problem(
                                source.kind.span(),
                                format!("{key}.application"),
                                "a pagerduty source needs the application its events go to",
                            );
                            None
                        }
                    };
                    let routing_key = match self.secret(
                        &key,
                        "routing_key",
                        &source.routing_key_env,
                        &source.routing_key_keyring,
                    ) {
                        Ok(Some(secret)) => Some(secret),
                        Ok(None) => {
                            self.problem(
                                source.kind.span(),
                                format!("{key}.routing_key_env"),
                                "a pagerduty source needs routing_key_env (an environment variable) or routing_key_keyring (an OS keyring entry) that holds its routing key: never the key itself",
                            );
                            None
                        }
                        Err(()) => None,
                    };
                    application
                        .zip(routing_key)
                        .map(|(application, routing_key)| SourceKind::PagerDuty {
                            application,
                            routing_key,
                        })
                }
                other => {
                    self.problem(
                        source.kind.span(),
                        format!("{key}.kind"),
                        format!("unknown source kind {other:?}: expected \"alertmanager\" or \"pagerduty\""),
                    );
                    None
                }
            };
            if let Some(kind) = kind {
                sources.push(SourceConfig { name, kind });
            }
        }
        sources
    }

    /// `write_back = true` with an optional `silence_duration` (at least 5 minutes, at most a
    /// week); `silence_duration` alone is a mistake, since it would do nothing.
    pub(super) fn write_back(
        &mut self,
        source: &RawSource,
        key: &str,
    ) -> Result<Option<WriteBack>, ()> {
        let on = source.write_back.as_ref().is_some_and(|w| *w.get_ref());
        let Some(text) = &source.silence_duration else {
            return Ok(on.then(WriteBack::default));
        };
        if !on {
            self.problem(
                text.span(),
                format!("{key}.silence_duration"),
                "silence_duration needs write_back = true: without it Stopline creates no silences",
            );
            return Err(());
        }
        let path = format!("{key}.silence_duration");
        let duration = self.duration(text, &path).ok_or(())?;
        if !(MIN_SILENCE..=MAX_SILENCE).contains(&duration) {
            self.problem(
                text.span(),
                path,
                format!(
                    "silence_duration {:?} is out of range: between \"5m\" and \"7d\"",
                    text.get_ref()
                ),
            );
            return Err(());
        }
        Ok(Some(WriteBack {
            silence_duration: duration,
        }))
    }
}

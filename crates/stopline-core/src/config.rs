//! Configuration as code: the workspace, its people, teams and applications, read from TOML.
//!
//! [`Config::parse`] takes the file's name (for messages) and its text; it never touches the file
//! system. Unknown keys are errors. Every problem names `file:line:column`, the key and what was
//! expected, and all cross-check problems are reported together, so one run of `stopline check`
//! shows everything to fix. See `docs/config.md`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

mod economics;
mod rotas;
mod swarm;

use crate::application::{Application, DEFAULT_EXPECTED_TIME_TO_RESTORE, LabelMatcher};
use crate::callout::EscalationPolicy;
use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::mapping::{ApplicationMapping, MappingIndex, normalise};
use crate::money::{Currency, ExposurePerHour};
use crate::rota::Rota;
use crate::settings::{
    AlertSettings, DEFAULT_POLL_INTERVAL, MAX_SILENCE, MIN_SILENCE, NotificationSettings,
    PipelineSettings, SecretRef, SourceConfig, SourceKind, WebhookSettings, WriteBack,
    parse_duration, parse_http_url,
};
use crate::swarm::{LineStopsOn, StepTemplate, default_checklist};
use crate::target::AvailabilityTarget;
use crate::team::{Person, Team, TeamKind};
use crate::workspace::{
    DEFAULT_MAJOR_LOSS_PER_HOUR, WorkingHours, WorkspaceSettings, parse_weekday,
};

/// A commented starting point, written by `stopline init`.
pub const EXAMPLE_CONFIG: &str = include_str!("../templates/example.toml");
/// A workspace big enough to feel real, written by `stopline init --demo`.
pub const DEMO_CONFIG: &str = include_str!("../templates/demo.toml");

/// A valid configuration: every id unique, every reference resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub workspace: WorkspaceSettings,
    pub people: Vec<Person>,
    pub teams: Vec<Team>,
    /// In config order, which breaks ties in the application mapping.
    pub applications: Vec<Application>,
    pub alerts: AlertSettings,
    pub webhook: WebhookSettings,
    pub pipeline: PipelineSettings,
    pub sources: Vec<SourceConfig>,
    /// On-call rotas, team and domain; see `rota` and `callout`.
    pub rotas: Vec<Rota>,
    /// The workspace's escalation policy, for teams without their own.
    pub escalation: EscalationPolicy,
    pub notifications: NotificationSettings,
    /// The workspace's checklist template (the built-in one unless `[checklist]` is given).
    pub checklist: Vec<StepTemplate>,
    /// Which acknowledged incidents stop their team's line.
    pub line_stops_on: LineStopsOn,
    /// The workspace's pay model and how standby is split into application lines.
    pub pay: crate::economics::PaySettings,
    /// The applications followed by one copy per `[[routes]]` entry (with the route's matchers):
    /// what the mapping routes over.
    routing: Vec<Application>,
    /// Built once from `routing`, so routing an alert storm stays fast.
    mapping_index: MappingIndex,
}

impl Config {
    /// Parses and cross-checks `text`; `file` is only used to name places in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            problems: vec![syntax_problem(file, text, &e)],
        })?;
        let mut checker = Checker {
            file,
            text,
            problems: Vec::new(),
        };
        let config = checker.check(raw);
        if checker.problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError {
                problems: checker.problems,
            })
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id.as_str() == id)
    }

    /// How a team's on-call is paid: its own `pay`, else the workspace's `[pay]`, else nothing.
    pub fn pay_model(&self, team: &crate::ids::TeamId) -> crate::economics::PayModel {
        self.teams
            .iter()
            .find(|t| &t.id == team)
            .and_then(|t| t.pay)
            .or(self.pay.model)
            .unwrap_or_default()
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id.as_str() == id)
    }

    pub fn application(&self, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.id.as_str() == id)
    }

    pub fn applications_of<'a>(
        &'a self,
        team: &'a TeamId,
    ) -> impl Iterator<Item = &'a Application> {
        self.applications.iter().filter(move |a| &a.team == team)
    }

    /// The severity an incident on `application` starts with: its projected loss (exposure ×
    /// expected time to restore) against the workspace's threshold.
    pub fn initial_severity(&self, application: &Application) -> crate::incident::Severity {
        self.severity_after(application, std::time::Duration::ZERO)
    }

    /// The severity money says an incident on `application` has after lasting `elapsed`.
    pub fn severity_after(
        &self,
        application: &Application,
        elapsed: std::time::Duration,
    ) -> crate::incident::Severity {
        crate::incident::Severity::from_estimated_loss(
            application.estimated_loss(elapsed),
            self.workspace.major_loss_per_hour,
        )
    }

    /// The checklist an incident of `team` on `application` starts with: the team's template
    /// (else the workspace's), with the application's extra steps.
    pub fn checklist_for(
        &self,
        team: Option<&TeamId>,
        application: Option<&ApplicationId>,
    ) -> Vec<StepTemplate> {
        let template = team
            .and_then(|t| self.team(t.as_str()))
            .and_then(|t| t.checklist.as_deref())
            .unwrap_or(&self.checklist);
        let extra = application
            .and_then(|a| self.application(a.as_str()))
            .map_or(&[][..], |a| a.checklist_extra.as_slice());
        crate::swarm::checklist_for(template, extra)
    }

    /// Routes alerts and journeys: the applications, then the `[[routes]]` to them.
    pub fn mapping(&self) -> ApplicationMapping<'_> {
        ApplicationMapping::with_index(&self.routing, &self.mapping_index)
    }
}

/// One or more problems with a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// One problem, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The key's path, such as `applications[3].team`; empty when the problem is the syntax.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn syntax_problem(file: &str, text: &str, error: &toml::de::Error) -> ConfigProblem {
    let span = error.span().unwrap_or(0..0);
    let (line, column) = line_column(text, span.start);
    // The message toml gives is the useful part ("unknown field `colour`, expected one of …");
    // the key, when the span covers one, is the word at that place.
    let at = text.get(span.clone()).unwrap_or("").trim();
    let key = if !at.is_empty()
        && at.len() <= 64
        && at
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        at.to_owned()
    } else {
        String::new()
    };
    ConfigProblem {
        file: file.to_owned(),
        line,
        column,
        key,
        message: error.message().trim().to_owned(),
    }
}

// ---- The file's shape, as serde reads it. Positions are kept for the cross-checks. ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    workspace: RawWorkspace,
    #[serde(default)]
    people: Vec<RawPerson>,
    #[serde(default)]
    teams: Vec<RawTeam>,
    #[serde(default)]
    applications: Vec<RawApplication>,
    #[serde(default)]
    alerts: Option<RawAlerts>,
    #[serde(default)]
    webhook: Option<RawWebhook>,
    #[serde(default)]
    pipeline: Option<RawPipeline>,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    rotas: Vec<rotas::RawRota>,
    #[serde(default)]
    escalation: Option<rotas::RawEscalation>,
    #[serde(default)]
    notifications: Option<rotas::RawNotifications>,
    #[serde(default)]
    checklist: Option<swarm::RawChecklist>,
    #[serde(default)]
    line: Option<swarm::RawLine>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    pay: Option<economics::RawPay>,
}

/// More labels that send alerts to an application (`stopline assign --save` writes these).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    application: Spanned<String>,
    #[serde(default, rename = "match")]
    match_equal: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    match_regex: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default)]
    auto_resolve: Option<bool>,
    #[serde(default)]
    heartbeat_alert: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    #[serde(default)]
    listen: Option<Spanned<String>>,
    #[serde(default)]
    allowed_hosts: Vec<String>,
    #[serde(default)]
    max_body_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    #[serde(default)]
    owner: Option<Spanned<String>>,
    #[serde(default)]
    heartbeat_timeout: Option<Spanned<String>>,
    #[serde(default)]
    unreachable_timeout: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    urls: Vec<Spanned<String>>,
    #[serde(default)]
    poll_interval: Option<Spanned<String>>,
    #[serde(default)]
    bearer_token_env: Option<Spanned<String>>,
    #[serde(default)]
    bearer_token_keyring: Option<Spanned<String>>,
    #[serde(default)]
    application: Option<Spanned<String>>,
    #[serde(default)]
    routing_key_env: Option<Spanned<String>>,
    #[serde(default)]
    routing_key_keyring: Option<Spanned<String>>,
    #[serde(default)]
    write_back: Option<Spanned<bool>>,
    #[serde(default)]
    silence_duration: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    name: Spanned<String>,
    time_zone: Spanned<String>,
    currency: Spanned<String>,
    #[serde(default)]
    working_hours: Option<RawWorkingHours>,
    #[serde(default)]
    major_loss_per_hour: Option<u64>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkingHours {
    days: Vec<Spanned<String>>,
    start: Spanned<String>,
    end: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    id: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    time_zone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    id: Spanned<String>,
    name: Spanned<String>,
    kind: TeamKind,
    #[serde(default)]
    members: Vec<Spanned<String>>,
    #[serde(default)]
    escalation: Option<rotas::RawEscalation>,
    #[serde(default)]
    checklist: Option<Vec<swarm::RawStep>>,
    #[serde(default)]
    pay: Option<economics::RawPay>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    id: Spanned<String>,
    name: Spanned<String>,
    team: Spanned<String>,
    availability_target: Spanned<f64>,
    exposure_per_hour: u64,
    #[serde(default, rename = "match")]
    match_equal: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    match_regex: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    journeys: Vec<Spanned<String>>,
    #[serde(default)]
    expected_time_to_restore: Option<Spanned<String>>,
    #[serde(default)]
    checklist_extra: Vec<swarm::RawStep>,
    #[serde(default)]
    deploys: Option<Spanned<String>>,
}

/// Collects problems while turning the raw file into a [`Config`].
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<ConfigProblem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.problems.push(ConfigProblem {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        });
    }

    fn line_of(&self, span: &Range<usize>) -> usize {
        line_column(self.text, span.start).0
    }

    fn non_empty(&mut self, value: &Spanned<String>, key: &str) -> String {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.problem(value.span(), key, "must not be empty");
        }
        text.to_owned()
    }

    fn time_zone(&mut self, value: &Spanned<String>, key: &str) -> Option<TimeZone> {
        match TimeZone::get(value.get_ref()) {
            Ok(zone) => Some(zone),
            Err(_) => {
                self.problem(
                    value.span(),
                    key,
                    format!(
                        "unknown time zone {:?}: expected an IANA name such as \"Europe/London\"",
                        value.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// Parses a unique id; `seen` remembers where each id was first defined.
    fn unique_id<T>(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        what: &str,
        seen: &mut HashMap<String, usize>,
        make: fn(String) -> Result<T, crate::ids::IdError>,
    ) -> Option<T> {
        let span = value.span();
        let id = match make(value.get_ref().clone()) {
            Ok(id) => id,
            Err(e) => {
                self.problem(span, key, e.to_string());
                return None;
            }
        };
        let line = self.line_of(&span);
        if let Some(first) = seen.get(value.get_ref()) {
            self.problem(
                span,
                key,
                format!(
                    "duplicate {what} id {:?}: already defined at line {first}",
                    value.get_ref()
                ),
            );
            return None;
        }
        seen.insert(value.get_ref().clone(), line);
        Some(id)
    }

    fn check(&mut self, raw: RawConfig) -> Config {
        let workspace = self.workspace(raw.workspace);
        let people = self.people(raw.people);
        let escalation = self.escalation(
            raw.escalation.as_ref(),
            "escalation",
            EscalationPolicy::default(),
        );
        let teams = self.teams(raw.teams, &people, escalation);
        let rotas = self.rotas(
            raw.rotas,
            &people,
            &teams,
            (&workspace.time_zone_name, &workspace.time_zone),
        );
        let notifications = self.notifications(raw.notifications);
        let checklist = self
            .checklist(raw.checklist.as_ref())
            .unwrap_or_else(default_checklist);
        let line_stops_on = self.line(raw.line.as_ref());
        let pay = self.pay(raw.pay.as_ref());
        let applications = self.applications(raw.applications, &teams);
        let alerts = self.alerts(raw.alerts);
        let webhook = self.webhook(raw.webhook);
        let pipeline = self.pipeline(raw.pipeline, &applications);
        let sources = self.sources(raw.sources, &applications);
        let mut routing = applications.clone();
        routing.extend(self.routes(&raw.routes, &applications));
        let mapping_index = MappingIndex::build(&routing);
        Config {
            workspace,
            people,
            teams,
            applications,
            alerts,
            webhook,
            pipeline,
            sources,
            rotas,
            escalation,
            notifications,
            checklist,
            line_stops_on,
            pay,
            routing,
            mapping_index,
        }
    }

    fn duration(&mut self, value: &Spanned<String>, key: &str) -> Option<std::time::Duration> {
        let parsed = parse_duration(value.get_ref()).filter(|d| !d.is_zero());
        if parsed.is_none() {
            self.problem(
                value.span(),
                key,
                format!(
                    "invalid duration {:?}: expected a positive whole number with a unit, such as \"15s\", \"5m\" or \"1h30m\"",
                    value.get_ref()
                ),
            );
        }
        parsed
    }

    fn alerts(&mut self, raw: Option<RawAlerts>) -> AlertSettings {
        let mut settings = AlertSettings::default();
        let Some(raw) = raw else { return settings };
        settings.group_by = raw.group_by;
        settings.auto_resolve = raw.auto_resolve.unwrap_or(true);
        if let Some(name) = raw.heartbeat_alert {
            settings.heartbeat_alert = self.non_empty(&name, "alerts.heartbeat_alert");
        }
        settings
    }

    fn webhook(&mut self, raw: Option<RawWebhook>) -> WebhookSettings {
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

    fn pipeline(
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
    fn secret(
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

    fn sources(&mut self, raw: Vec<RawSource>, applications: &[Application]) -> Vec<SourceConfig> {
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
    fn write_back(&mut self, source: &RawSource, key: &str) -> Result<Option<WriteBack>, ()> {
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

    fn workspace(&mut self, raw: RawWorkspace) -> WorkspaceSettings {
        let name = self.non_empty(&raw.name, "workspace.name");
        let time_zone = self
            .time_zone(&raw.time_zone, "workspace.time_zone")
            .unwrap_or(TimeZone::UTC);
        let currency = match Currency::new(raw.currency.get_ref().clone()) {
            Ok(currency) => currency,
            Err(e) => {
                self.problem(raw.currency.span(), "workspace.currency", e.to_string());
                Currency::new("XXX").expect("XXX is a valid code")
            }
        };
        let mut working_hours = match raw.working_hours {
            Some(hours) => self.working_hours(hours),
            None => WorkingHours::default(),
        };
        working_hours.holidays = self.holidays(&raw.holidays);
        WorkspaceSettings {
            name,
            time_zone_name: raw.time_zone.into_inner(),
            time_zone,
            working_hours,
            currency,
            major_loss_per_hour: raw
                .major_loss_per_hour
                .unwrap_or(DEFAULT_MAJOR_LOSS_PER_HOUR),
        }
    }

    fn working_hours(&mut self, raw: RawWorkingHours) -> WorkingHours {
        let mut days = Vec::new();
        for (i, day) in raw.days.iter().enumerate() {
            match parse_weekday(day.get_ref()) {
                Some(d) if days.contains(&d) => self.problem(
                    day.span(),
                    format!("workspace.working_hours.days[{i}]"),
                    format!("{:?} is listed twice", day.get_ref()),
                ),
                Some(d) => days.push(d),
                None => self.problem(
                    day.span(),
                    format!("workspace.working_hours.days[{i}]"),
                    format!(
                        "unknown day {:?}: expected mon, tue, wed, thu, fri, sat or sun",
                        day.get_ref()
                    ),
                ),
            }
        }
        let mut time = |value: &Spanned<String>, key: &str| match parse_time(value.get_ref()) {
            Some(t) => Some(t),
            None => {
                self.problem(
                    value.span(),
                    key,
                    format!(
                        "invalid time {:?}: expected HH:MM such as \"09:00\"",
                        value.get_ref()
                    ),
                );
                None
            }
        };
        let start = time(&raw.start, "workspace.working_hours.start");
        let end = time(&raw.end, "workspace.working_hours.end");
        let default = WorkingHours::default();
        if let (Some(start), Some(end)) = (start, end)
            && start >= end
        {
            self.problem(
                raw.end.span(),
                "workspace.working_hours.end",
                "working hours must end after they start on the same day",
            );
        }
        WorkingHours {
            days,
            start: start.unwrap_or(default.start),
            end: end.unwrap_or(default.end),
            holidays: default.holidays,
        }
    }

    fn people(&mut self, raw: Vec<RawPerson>) -> Vec<Person> {
        let mut seen = HashMap::new();
        let mut people = Vec::new();
        for (i, person) in raw.into_iter().enumerate() {
            let key = format!("people[{i}]");
            let id = self.unique_id(
                &person.id,
                &format!("{key}.id"),
                "person",
                &mut seen,
                PersonId::new,
            );
            let name = self.non_empty(&person.name, &format!("{key}.name"));
            if let Some(zone) = &person.time_zone {
                self.time_zone(zone, &format!("{key}.time_zone"));
            }
            if let Some(id) = id {
                people.push(Person {
                    id,
                    name,
                    time_zone: person.time_zone.map(Spanned::into_inner),
                });
            }
        }
        people
    }

    fn teams(
        &mut self,
        raw: Vec<RawTeam>,
        people: &[Person],
        default_escalation: EscalationPolicy,
    ) -> Vec<Team> {
        let mut seen = HashMap::new();
        let mut teams = Vec::new();
        for (i, team) in raw.into_iter().enumerate() {
            let key = format!("teams[{i}]");
            let id = self.unique_id(
                &team.id,
                &format!("{key}.id"),
                "team",
                &mut seen,
                TeamId::new,
            );
            let name = self.non_empty(&team.name, &format!("{key}.name"));
            let mut members: Vec<PersonId> = Vec::new();
            for (j, member) in team.members.iter().enumerate() {
                let member_key = format!("{key}.members[{j}]");
                match people.iter().find(|p| p.id.as_str() == member.get_ref()) {
                    Some(p) if members.contains(&p.id) => self.problem(
                        member.span(),
                        member_key,
                        format!("{:?} is listed twice", member.get_ref()),
                    ),
                    Some(p) => members.push(p.id.clone()),
                    None => self.problem(
                        member.span(),
                        member_key,
                        format!(
                            "{:?} is not a person: add it to [[people]] first",
                            member.get_ref()
                        ),
                    ),
                }
            }
            let escalation = team.escalation.as_ref().map(|raw| {
                self.escalation(Some(raw), &format!("{key}.escalation"), default_escalation)
            });
            let checklist = team
                .checklist
                .as_ref()
                .map(|steps| self.steps(steps, &format!("{key}.checklist")));
            let pay = team
                .pay
                .as_ref()
                .and_then(|raw| self.team_pay(raw, &format!("{key}.pay")));
            if let Some(id) = id {
                teams.push(Team {
                    id,
                    name,
                    kind: team.kind,
                    members,
                    escalation,
                    checklist,
                    pay,
                });
            }
        }
        teams
    }

    fn applications(&mut self, raw: Vec<RawApplication>, teams: &[Team]) -> Vec<Application> {
        let mut seen = HashMap::new();
        let mut applications = Vec::new();
        for (i, app) in raw.into_iter().enumerate() {
            let key = format!("applications[{i}]");
            let id = self.unique_id(
                &app.id,
                &format!("{key}.id"),
                "application",
                &mut seen,
                ApplicationId::new,
            );
            let name = self.non_empty(&app.name, &format!("{key}.name"));
            let team = match teams.iter().find(|t| t.id.as_str() == app.team.get_ref()) {
                Some(team) if team.kind == TeamKind::Delivery => Some(team.id.clone()),
                Some(team) => {
                    self.problem(
                        app.team.span(),
                        format!("{key}.team"),
                        format!(
                            "{:?} is a {} team: an application is owned by a delivery team",
                            team.id.as_str(),
                            team.kind.as_str()
                        ),
                    );
                    None
                }
                None => {
                    self.problem(
                        app.team.span(),
                        format!("{key}.team"),
                        format!(
                            "team {:?} does not exist: expected the id of a team in [[teams]]",
                            app.team.get_ref()
                        ),
                    );
                    None
                }
            };
            let target = match AvailabilityTarget::from_percent(*app.availability_target.get_ref())
            {
                Ok(target) => Some(target),
                Err(e) => {
                    self.problem(
                        app.availability_target.span(),
                        format!("{key}.availability_target"),
                        e.to_string(),
                    );
                    None
                }
            };
            let matchers = self.matchers(&app.match_equal, &app.match_regex, &key);
            let mut journeys = Vec::new();
            for (j, journey) in app.journeys.iter().enumerate() {
                let normalised = normalise(journey.get_ref());
                if normalised.is_empty() {
                    self.problem(
                        journey.span(),
                        format!("{key}.journeys[{j}]"),
                        "must not be empty",
                    );
                } else if !journeys.contains(&normalised) {
                    journeys.push(normalised);
                }
            }
            let deploys = self.deploys(app.deploys.as_ref(), &format!("{key}.deploys"));
            let expected_time_to_restore = match &app.expected_time_to_restore {
                Some(value) => self
                    .duration(value, &format!("{key}.expected_time_to_restore"))
                    .unwrap_or(DEFAULT_EXPECTED_TIME_TO_RESTORE),
                None => DEFAULT_EXPECTED_TIME_TO_RESTORE,
            };
            let checklist_extra =
                self.steps(&app.checklist_extra, &format!("{key}.checklist_extra"));
            if let (Some(id), Some(team), Some(target)) = (id, team, target) {
                applications.push(Application {
                    id,
                    name,
                    team,
                    target,
                    exposure_per_hour: ExposurePerHour(app.exposure_per_hour),
                    matchers,
                    journeys,
                    expected_time_to_restore,
                    checklist_extra,
                    deploys,
                });
            }
        }
        applications
    }
}

impl Checker<'_> {
    /// `match` and `match_regex` tables as matchers; a bad regular expression is a problem at
    /// its place.
    fn matchers(
        &mut self,
        equal: &BTreeMap<String, Spanned<String>>,
        regex: &BTreeMap<String, Spanned<String>>,
        key: &str,
    ) -> Vec<LabelMatcher> {
        let mut matchers = Vec::new();
        for (label, value) in equal {
            matchers.push(LabelMatcher::equals(label.clone(), value.get_ref().clone()));
        }
        for (label, pattern) in regex {
            match LabelMatcher::regex(label.clone(), pattern.get_ref()) {
                Ok(m) => matchers.push(m),
                Err(e) => {
                    // The regex crate's message spans lines; the first says what is wrong.
                    let detail = e.to_string();
                    let reason = detail.lines().last().unwrap_or("").trim().to_owned();
                    self.problem(
                        pattern.span(),
                        format!("{key}.match_regex.{label}"),
                        format!(
                            "invalid regular expression {:?}: {reason}",
                            pattern.get_ref()
                        ),
                    );
                }
            }
        }
        matchers
    }

    /// Extra routes to applications: each becomes a copy of its application with the route's
    /// matchers (and no journeys), listed after the applications, so the mapping's rules (most
    /// specific wins, ties to the one listed first) hold for routes too.
    fn routes(&mut self, raw: &[RawRoute], applications: &[Application]) -> Vec<Application> {
        let mut routes = Vec::new();
        for (i, route) in raw.iter().enumerate() {
            let key = format!("routes[{i}]");
            let matchers = self.matchers(&route.match_equal, &route.match_regex, &key);
            if route.match_equal.is_empty() && route.match_regex.is_empty() {
                self.problem(
                    route.application.span(),
                    format!("{key}.match"),
                    "a route needs match or match_regex: the labels that send alerts to the application",
                );
                continue;
            }
            match applications
                .iter()
                .find(|a| a.id.as_str() == route.application.get_ref())
            {
                Some(app) => routes.push(Application {
                    matchers,
                    journeys: Vec::new(),
                    ..app.clone()
                }),
                None => self.problem(
                    route.application.span(),
                    format!("{key}.application"),
                    format!(
                        "application {:?} does not exist: expected the id of an application in [[applications]]",
                        route.application.get_ref()
                    ),
                ),
            }
        }
        routes
    }
}

/// `HH:MM` (or `HH:MM:SS`) as a wall-clock time.
fn parse_time(text: &str) -> Option<Time> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let number = |p: &str| p.parse::<i8>().ok();
    let hour = number(parts[0])?;
    let minute = number(parts[1])?;
    let second = parts.get(2).map_or(Some(0), |p| number(p))?;
    Time::new(hour, minute, second, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[workspace]
name = "Acme"
time_zone = "Europe/London"
currency = "GBP"

[[people]]
id = "alice"
name = "Alice"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice"]

[[applications]]
id = "checkout-api"
name = "Checkout API"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000
match = { service = "checkout-api" }
journeys = ["Checkout"]
"#;

    fn problems(text: &str) -> Vec<ConfigProblem> {
        Config::parse("stopline.toml", text).unwrap_err().problems
    }

    #[test]
    fn a_minimal_config_parses() {
        let config = Config::parse("stopline.toml", MINIMAL).unwrap();
        assert_eq!(config.workspace.name, "Acme");
        assert_eq!(config.teams[0].members[0].as_str(), "alice");
        let app = config.application("checkout-api").unwrap();
        assert_eq!(app.target.to_string(), "99.9%");
        assert_eq!(app.journeys, vec!["checkout"]);
        assert_eq!(config.workspace.working_hours, WorkingHours::default());
    }

    #[test]
    fn the_shipped_templates_are_valid() {
        let example = Config::parse("example.toml", EXAMPLE_CONFIG).unwrap();
        assert!(!example.applications.is_empty());
        let demo = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
        let delivery = demo
            .teams
            .iter()
            .filter(|t| t.kind == TeamKind::Delivery)
            .count();
        assert!(delivery >= 12, "{delivery} delivery teams");
        assert!(demo.teams.iter().any(|t| t.kind == TeamKind::ServiceDesk));
        assert!(demo.applications.len() >= 30);
        for band in [95.0, 99.0, 99.9] {
            assert!(
                demo.applications.iter().any(|a| a.target.percent() == band),
                "no application in the {band}% band"
            );
        }
        for team in demo.teams.iter().filter(|t| t.kind == TeamKind::Delivery) {
            assert!(
                team.members.len() >= 3,
                "{} has fewer than 3 people",
                team.id
            );
        }
    }

    #[test]
    fn routes_send_more_labels_to_an_application() {
        let text = format!(
            "{MINIMAL}\n[[routes]]\napplication = \"checkout-api\"\nmatch = {{ service = \"checkout-v2\" }}\n"
        );
        let config = Config::parse("stopline.toml", &text).unwrap();
        let labels: crate::alert::Labels =
            [("service".to_owned(), "checkout-v2".to_owned())].into();
        let routed = config
            .mapping()
            .route_labels(&labels)
            .application()
            .unwrap();
        assert_eq!(routed.id.as_str(), "checkout-api");
        assert_eq!(
            config.applications.len(),
            1,
            "a route is not another application"
        );
        // The application's own matchers still route as before.
        let own: crate::alert::Labels = [("service".to_owned(), "checkout-api".to_owned())].into();
        assert!(config.mapping().route_labels(&own).application().is_some());

        let bad =
            format!("{MINIMAL}\n[[routes]]\napplication = \"nope\"\nmatch = {{ a = \"b\" }}\n");
        let found = problems(&bad);
        assert_eq!(found[0].key, "routes[0].application");
        assert!(
            found[0]
                .message
                .contains("application \"nope\" does not exist")
        );
        let empty = format!("{MINIMAL}\n[[routes]]\napplication = \"checkout-api\"\n");
        assert_eq!(problems(&empty)[0].key, "routes[0].match");
    }

    #[test]
    fn unknown_team_is_named_with_its_place() {
        let text = MINIMAL.replace("team = \"payments\"", "team = \"payment\"");
        let found = problems(&text);
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert_eq!((p.line, p.column), (20, 8));
        assert_eq!(p.key, "applications[0].team");
        assert!(
            p.message.contains("team \"payment\" does not exist"),
            "{}",
            p.message
        );
        assert!(
            p.to_string()
                .starts_with("stopline.toml:20:8: applications[0].team: ")
        );
    }

    #[test]
    fn duplicate_ids_name_both_places() {
        let text = format!("{MINIMAL}\n[[people]]\nid = \"alice\"\nname = \"Alice Again\"\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "people[1].id");
        assert!(
            found[0].message.contains("already defined at line 8"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_a_place() {
        let text = MINIMAL.replace(
            "kind = \"delivery\"",
            "kind = \"delivery\"\ncolour = \"red\"",
        );
        let found = problems(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 15);
        assert_eq!(found[0].column, 1);
        assert!(
            found[0].message.contains("unknown field `colour`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn syntax_errors_have_a_place() {
        let text = MINIMAL.replace("name = \"Acme\"", "name = \"Acme");
        let found = problems(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 3);
    }

    #[test]
    fn every_cross_check_problem_is_reported_at_once() {
        let text = MINIMAL
            .replace("members = [\"alice\"]", "members = [\"alice\", \"zed\"]")
            .replace("availability_target = 99.9", "availability_target = 100")
            .replace(
                "time_zone = \"Europe/London\"",
                "time_zone = \"Europe/Londn\"",
            )
            .replace(
                "match = { service = \"checkout-api\" }",
                "match_regex = { service = \"(checkout\" }",
            );
        let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            vec![
                "workspace.time_zone",
                "teams[0].members[1]",
                "applications[0].availability_target",
                "applications[0].match_regex.service",
            ]
        );
    }

    #[test]
    fn service_desk_cannot_own_applications() {
        let text = MINIMAL.replace("kind = \"delivery\"", "kind = \"service_desk\"");
        let found = problems(&text);
        assert!(
            found[0].message.contains("owned by a delivery team"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn working_hours_are_checked() {
        let text = MINIMAL.replace(
            "currency = \"GBP\"",
            "currency = \"GBP\"\nworking_hours = { days = [\"mon\", \"funday\"], start = \"18:00\", end = \"09:00\" }",
        );
        let messages: Vec<String> = problems(&text).into_iter().map(|p| p.message).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].contains("unknown day \"funday\""));
        assert!(messages[1].contains("must end after they start"));
    }

    #[test]
    fn engine_settings_default_and_parse() {
        let config = Config::parse("stopline.toml", MINIMAL).unwrap();
        assert_eq!(config.webhook.listen.to_string(), "127.0.0.1:9177");
        assert!(config.alerts.auto_resolve);
        assert!(config.sources.is_empty());

        let text = format!(
            "{MINIMAL}
[alerts]
group_by = [\"region\"]
auto_resolve = false

[webhook]
listen = \"127.0.0.1:8080\"
allowed_hosts = [\"Stopline.Internal\"]

[pipeline]
owner = \"checkout-api\"
heartbeat_timeout = \"3m\"

[[sources]]
name = \"am\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\", \"http://127.0.0.1:9094/\"]
poll_interval = \"5s\"
write_back = true

[[sources]]
name = \"stock\"
kind = \"pagerduty\"
application = \"checkout-api\"
routing_key_env = \"STOCK_KEY\"
"
        );
        let config = Config::parse("stopline.toml", &text).unwrap();
        assert_eq!(config.alerts.group_by, vec!["region"]);
        assert!(!config.alerts.auto_resolve);
        assert_eq!(config.webhook.allowed_hosts, vec!["stopline.internal"]);
        assert_eq!(
            config.pipeline.owner.as_ref().unwrap().as_str(),
            "checkout-api"
        );
        assert_eq!(config.pipeline.heartbeat_timeout.as_secs(), 180);
        assert_eq!(
            config.sources[0].kind,
            SourceKind::Alertmanager {
                urls: vec![
                    "http://127.0.0.1:9093".into(),
                    "http://127.0.0.1:9094".into()
                ],
                poll_interval: std::time::Duration::from_secs(5),
                bearer_token: None,
                write_back: Some(WriteBack {
                    silence_duration: std::time::Duration::from_secs(3600)
                }),
            }
        );
        assert!(matches!(
            config.sources[1].kind,
            SourceKind::PagerDuty { .. }
        ));
    }

    #[test]
    fn bad_sources_name_their_place() {
        let text = format!(
            "{MINIMAL}
[[sources]]
name = \"am\"
kind = \"alertmanager\"
urls = [\"127.0.0.1:9093\"]
poll_interval = \"soon\"

[[sources]]
name = \"pd\"
kind = \"pagerduty\"
application = \"nope\"

[[sources]]
name = \"am\"
kind = \"nagios\"

[[sources]]
name = \"am2\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\"]
silence_duration = \"2h\"

[[sources]]
name = \"am3\"
kind = \"alertmanager\"
urls = [\"http://127.0.0.1:9093\"]
write_back = true
silence_duration = \"1m\"
"
        );
        let keys: Vec<String> = problems(&text).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            vec![
                "sources[0].urls[0]",
                "sources[0].poll_interval",
                "sources[1].application",
                "sources[1].routing_key_env",
                "sources[2].name",
                "sources[3].silence_duration",
                "sources[4].silence_duration",
            ]
        );
    }

    #[test]
    fn times_parse_strictly() {
        assert_eq!(parse_time("09:00"), Some(Time::constant(9, 0, 0, 0)));
        assert_eq!(parse_time("17:30:15"), Some(Time::constant(17, 30, 15, 0)));
        for bad in ["9:00", "24:00", "09:60", "0900", "09:00:00:00", "aa:bb"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}

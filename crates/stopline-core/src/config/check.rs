//! The cross-checks that turn the raw file into a [`Config`]: ids unique, every reference
//! resolved (a team's members, an application's team, a route's application), the workspace's
//! zone and working hours valid.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use toml::Spanned;

use crate::application::{Application, DEFAULT_EXPECTED_TIME_TO_RESTORE, LabelMatcher};
use crate::ids::{ApplicationId, PersonId, TeamId};
use crate::mapping::{MappingIndex, normalise};
use crate::money::{Currency, ExposurePerHour};
use crate::swarm::default_checklist;
use crate::target::AvailabilityTarget;
use crate::team::{EscalationPolicy, Person, Team, TeamKind};
use crate::workspace::{
    DEFAULT_MAJOR_LOSS_PER_HOUR, WorkingHours, WorkspaceSettings, parse_weekday,
};

use super::checker::{Checker, parse_time};
use super::model::Config;
use super::raw::*;

impl Checker<'_> {
    pub(super) fn check(&mut self, raw: RawConfig) -> Config {
        let workspace = self.workspace(raw.workspace);
        let smtp_configured = raw.smtp.is_some();
        let people = self.people(raw.people, smtp_configured);
        let paging = self.paging(raw.paging);
        let smtp = self.smtp(raw.smtp);
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
        let hub = self.hub(raw.hub);
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
            hub,
            sources,
            rotas,
            escalation,
            notifications,
            checklist,
            line_stops_on,
            pay,
            paging,
            smtp,
            routing,
            mapping_index,
        }
    }

    pub(super) fn workspace(&mut self, raw: RawWorkspace) -> WorkspaceSettings {
        let name = self.non_empty(&raw.name, "workspace.name");
        let time_zone = self
            .time_zone(&raw.time_zone, "workspace.time_zone")
            .unwrap_or(TimeZone::UTC);
        let currency = match Currency::new(raw.currency.get_ref().clone()) {
            Ok(currency) => currency,
            Err(e) => {
                self.problem(raw.currency.span(), "workspace.currency", e.to_string());
                Currency::none()
            }
        };
        let locale = raw.locale.as_ref().and_then(|locale| {
            let text = locale.get_ref();
            if is_locale_tag(text) {
                Some(text.clone())
            } else {
                self.problem(
                    locale.span(),
                    "workspace.locale",
                    format!(
                        "{text:?} is not a language tag: expected one such as \"en-GB\", \"de-DE\" or \"fr\""
                    ),
                );
                None
            }
        });
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
            locale,
            major_loss_per_hour: raw
                .major_loss_per_hour
                .unwrap_or(DEFAULT_MAJOR_LOSS_PER_HOUR),
        }
    }

    pub(super) fn working_hours(&mut self, raw: RawWorkingHours) -> WorkingHours {
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

    pub(super) fn people(&mut self, raw: Vec<RawPerson>, smtp: bool) -> Vec<Person> {
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
            let contacts = self.contacts(person.contacts, &key, smtp);
            if let Some(id) = id {
                people.push(Person {
                    id,
                    name,
                    time_zone: person.time_zone.map(Spanned::into_inner),
                    admin: person.admin,
                    contacts,
                    contacts_first_out_of_hours: person.contacts_first_out_of_hours,
                });
            }
        }
        people
    }

    pub(super) fn teams(
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

    pub(super) fn applications(
        &mut self,
        raw: Vec<RawApplication>,
        teams: &[Team],
    ) -> Vec<Application> {
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
    pub(super) fn matchers(
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
    pub(super) fn routes(
        &mut self,
        raw: &[RawRoute],
        applications: &[Application],
    ) -> Vec<Application> {
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

/// A BCP 47 language tag's shape: a 2–3 letter language, then subtags of 2–8 letters or digits
/// (`en`, `en-GB`, `de-CH`, `zh-Hant-TW`, `es-419`).
fn is_locale_tag(text: &str) -> bool {
    let mut parts = text.split('-');
    let language = parts.next().unwrap_or("");
    (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

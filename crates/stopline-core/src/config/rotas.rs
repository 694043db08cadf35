//! The on-call part of the config: `[[rotas]]` with their layers and overrides, `[escalation]`
//! (and a team's own `escalation`), `[notifications]` and the workspace's holidays.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use super::checker::{Checker, parse_time};
use crate::ids::{PersonId, RotaId, TeamId};
use crate::rota::{Handoff, Layer, Override, Rota, parse_instant};
use crate::settings::NotificationSettings;
use crate::team::{EscalationPolicy, Person, Team, TeamKind};
use crate::workspace::parse_weekday;

/// The default handoff: Monday 09:00, weekly, the default rotation length (docs/domain.md).
const DEFAULT_HANDOFF: &str = "mon 09:00";
const DEFAULT_LENGTH: &str = "1w";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRota {
    id: Spanned<String>,
    #[serde(default)]
    name: Option<Spanned<String>>,
    teams: Vec<Spanned<String>>,
    #[serde(default)]
    budget_holder: Option<Spanned<String>>,
    #[serde(default)]
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    layers: Vec<RawLayer>,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    name: Spanned<String>,
    members: Vec<Spanned<String>>,
    start: Spanned<String>,
    #[serde(default)]
    handoff: Option<Spanned<String>>,
    #[serde(default)]
    length: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    layer: Spanned<String>,
    person: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEscalation {
    #[serde(default)]
    ack_timeout: Option<Spanned<String>>,
    #[serde(default)]
    repeat: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifications {
    #[serde(default)]
    teammates: Option<bool>,
    #[serde(default)]
    flood_threshold: Option<Spanned<u32>>,
}

impl Checker<'_> {
    pub(super) fn holidays(&mut self, raw: &[Spanned<String>]) -> BTreeSet<Date> {
        let mut days = BTreeSet::new();
        for (i, day) in raw.iter().enumerate() {
            match day.get_ref().parse::<Date>() {
                Ok(date) => {
                    days.insert(date);
                }
                Err(_) => self.problem(
                    day.span(),
                    format!("workspace.holidays[{i}]"),
                    format!("invalid date {:?}: expected YYYY-MM-DD", day.get_ref()),
                ),
            }
        }
        days
    }

    pub(super) fn escalation(
        &mut self,
        raw: Option<&RawEscalation>,
        key: &str,
        default: EscalationPolicy,
    ) -> EscalationPolicy {
        let mut policy = default;
        let Some(raw) = raw else { return policy };
        if let Some(value) = &raw.ack_timeout
            && let Some(d) = self.duration(value, &format!("{key}.ack_timeout"))
        {
            policy.ack_timeout = d;
        }
        if let Some(repeat) = raw.repeat {
            policy.repeat = repeat;
        }
        policy
    }

    pub(super) fn notifications(&mut self, raw: Option<RawNotifications>) -> NotificationSettings {
        let mut settings = NotificationSettings::default();
        let Some(raw) = raw else { return settings };
        settings.teammates = raw.teammates.unwrap_or(false);
        if let Some(limit) = raw.flood_threshold {
            if *limit.get_ref() == 0 {
                self.problem(
                    limit.span(),
                    "notifications.flood_threshold",
                    "expected at least 1 page a minute before pages are summarised",
                );
            } else {
                settings.flood_threshold = *limit.get_ref();
            }
        }
        settings
    }

    pub(super) fn rotas(
        &mut self,
        raw: Vec<RawRota>,
        people: &[Person],
        teams: &[Team],
        default_zone: (&str, &TimeZone),
    ) -> Vec<Rota> {
        let mut seen = HashMap::new();
        // Which rota already covers a team, alone or as a domain, for the one-each rule.
        let mut team_rota_of: HashMap<TeamId, RotaId> = HashMap::new();
        let mut domain_rota_of: HashMap<TeamId, RotaId> = HashMap::new();
        let mut rotas = Vec::new();
        for (i, rota) in raw.into_iter().enumerate() {
            let key = format!("rotas[{i}]");
            let id = self.unique_id(
                &rota.id,
                &format!("{key}.id"),
                "rota",
                &mut seen,
                RotaId::new,
            );
            let name = match &rota.name {
                Some(name) => self.non_empty(name, &format!("{key}.name")),
                None => rota.id.get_ref().clone(),
            };
            let covered = self.rota_teams(&rota, &key, teams);
            let budget_holder = self.budget_holder(&rota, &key, &covered);
            let (time_zone_name, time_zone) = match &rota.time_zone {
                Some(zone) => (
                    zone.get_ref().clone(),
                    self.time_zone(zone, &format!("{key}.time_zone")),
                ),
                None => (default_zone.0.to_owned(), Some(default_zone.1.clone())),
            };
            let zone = time_zone.clone().unwrap_or(TimeZone::UTC);
            let allowed: Vec<&PersonId> = teams
                .iter()
                .filter(|t| covered.contains(&t.id))
                .flat_map(|t| t.members.iter())
                .collect();
            let layers = self.layers(&rota, &key, people, &allowed);
            let overrides = self.overrides(&rota, &key, people, &layers, &zone);
            let (Some(id), Some(budget_holder), Some(time_zone)) = (id, budget_holder, time_zone)
            else {
                continue;
            };
            if covered.is_empty() || layers.len() != rota.layers.len() {
                continue;
            }
            let index = if covered.len() == 1 {
                &mut team_rota_of
            } else {
                &mut domain_rota_of
            };
            let what = if covered.len() == 1 {
                "its own"
            } else {
                "a domain"
            };
            let mut clash = false;
            for team in &covered {
                if let Some(other) = index.get(team) {
                    self.problem(
                        rota.teams.first().map_or(rota.id.span(), Spanned::span),
                        format!("{key}.teams"),
                        format!(
                            "team {team:?} already has {what} rota {:?}: a team has at most one of its own and one domain rota",
                            other.as_str()
                        ),
                    );
                    clash = true;
                } else {
                    index.insert(team.clone(), id.clone());
                }
            }
            if clash {
                continue;
            }
            rotas.push(Rota {
                id,
                name,
                teams: covered,
                budget_holder,
                time_zone_name,
                time_zone,
                layers,
                overrides,
            });
        }
        rotas
    }

    fn rota_teams(&mut self, rota: &RawRota, key: &str, teams: &[Team]) -> Vec<TeamId> {
        if rota.teams.is_empty() {
            self.problem(
                rota.id.span(),
                format!("{key}.teams"),
                "a rota covers one team (its own rota) or several sibling teams (a domain rota): teams = [\"payments\"]",
            );
        }
        let mut covered = Vec::new();
        for (j, team) in rota.teams.iter().enumerate() {
            let team_key = format!("{key}.teams[{j}]");
            match teams.iter().find(|t| t.id.as_str() == team.get_ref()) {
                Some(t) if t.kind != TeamKind::Delivery => self.problem(
                    team.span(),
                    team_key,
                    format!(
                        "{:?} is a {} team: rotas are for delivery teams",
                        team.get_ref(),
                        t.kind.as_str()
                    ),
                ),
                Some(t) if covered.contains(&t.id) => self.problem(
                    team.span(),
                    team_key,
                    format!("{:?} is listed twice", team.get_ref()),
                ),
                Some(t) => covered.push(t.id.clone()),
                None => self.problem(
                    team.span(),
                    team_key,
                    format!(
                        "team {:?} does not exist: expected the id of a team in [[teams]]",
                        team.get_ref()
                    ),
                ),
            }
        }
        covered
    }

    fn budget_holder(&mut self, rota: &RawRota, key: &str, covered: &[TeamId]) -> Option<TeamId> {
        match &rota.budget_holder {
            Some(holder) => match covered.iter().find(|t| t.as_str() == holder.get_ref()) {
                Some(team) => Some(team.clone()),
                None => {
                    self.problem(
                        holder.span(),
                        format!("{key}.budget_holder"),
                        format!(
                            "{:?} is not one of the rota's teams: exactly one of them holds its budget",
                            holder.get_ref()
                        ),
                    );
                    None
                }
            },
            None if covered.len() > 1 => {
                self.problem(
                    rota.id.span(),
                    format!("{key}.budget_holder"),
                    "a domain rota needs budget_holder: the one team whose budget pays for it",
                );
                None
            }
            None => covered.first().cloned(),
        }
    }

    fn layers(
        &mut self,
        rota: &RawRota,
        key: &str,
        people: &[Person],
        allowed: &[&PersonId],
    ) -> Vec<Layer> {
        if rota.layers.is_empty() {
            self.problem(
                rota.id.span(),
                format!("{key}.layers"),
                "a rota needs at least one [[rotas.layers]] (the primary)",
            );
        }
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut layers = Vec::new();
        for (j, layer) in rota.layers.iter().enumerate() {
            let key = format!("{key}.layers[{j}]");
            let name = self.non_empty(&layer.name, &format!("{key}.name"));
            if let Some(first) = names.get(&name) {
                self.problem(
                    layer.name.span(),
                    format!("{key}.name"),
                    format!("duplicate layer name {name:?}: already defined at line {first}"),
                );
            }
            names.insert(name.clone(), self.line_of(&layer.name.span()));
            let mut ok = true;
            if layer.members.is_empty() {
                self.problem(
                    layer.name.span(),
                    format!("{key}.members"),
                    "a layer needs at least one member",
                );
                ok = false;
            }
            let mut members: Vec<PersonId> = Vec::new();
            for (m, member) in layer.members.iter().enumerate() {
                let member_key = format!("{key}.members[{m}]");
                match people.iter().find(|p| p.id.as_str() == member.get_ref()) {
                    None => {
                        self.problem(
                            member.span(),
                            member_key,
                            format!(
                                "{:?} is not a person: add it to [[people]] first",
                                member.get_ref()
                            ),
                        );
                        ok = false;
                    }
                    Some(p) if !allowed.contains(&&p.id) => {
                        self.problem(
                            member.span(),
                            member_key,
                            format!(
                                "{:?} is not a member of the rota's teams ({}): add them to the team's members first",
                                member.get_ref(),
                                rota.teams.iter().map(|t| t.get_ref().as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        );
                        ok = false;
                    }
                    Some(p) if members.contains(&p.id) => {
                        self.problem(
                            member.span(),
                            member_key,
                            format!("{:?} is listed twice", member.get_ref()),
                        );
                        ok = false;
                    }
                    Some(p) => members.push(p.id.clone()),
                }
            }
            let start = match layer.start.get_ref().parse::<Date>() {
                Ok(date) => Some(date),
                Err(_) => {
                    self.problem(
                        layer.start.span(),
                        format!("{key}.start"),
                        format!(
                            "invalid date {:?}: expected YYYY-MM-DD",
                            layer.start.get_ref()
                        ),
                    );
                    None
                }
            };
            let handoff = self.handoff(
                layer.handoff.as_ref(),
                &layer.name,
                &format!("{key}.handoff"),
            );
            let length = self.length(layer.length.as_ref(), &layer.name, &format!("{key}.length"));
            if let (Some(Handoff::Weekly(..)), Some(days)) = (handoff, length)
                && days % 7 != 0
            {
                let span = layer
                    .length
                    .as_ref()
                    .map_or(layer.name.span(), Spanned::span);
                self.problem(
                    span,
                    format!("{key}.length"),
                    "a weekday handoff needs a length in whole weeks (\"1w\", \"2w\"): use a daily handoff (\"09:00\") for shifts counted in days",
                );
                ok = false;
            }
            if let (true, Some(start), Some(handoff), Some(length_days)) =
                (ok, start, handoff, length)
            {
                layers.push(Layer {
                    name,
                    members,
                    start,
                    handoff,
                    length_days,
                });
            }
        }
        layers
    }

    fn handoff(
        &mut self,
        value: Option<&Spanned<String>>,
        fallback: &Spanned<String>,
        key: &str,
    ) -> Option<Handoff> {
        let text = value.map_or(DEFAULT_HANDOFF, |v| v.get_ref().as_str());
        let parsed = match text.split_whitespace().collect::<Vec<_>>()[..] {
            [time] => parse_time(time).map(Handoff::Daily),
            [day, time] => parse_weekday(day)
                .zip(parse_time(time))
                .map(|(day, time): (Weekday, _)| Handoff::Weekly(day, time)),
            _ => None,
        };
        if parsed.is_none() {
            self.problem(
                value.map_or(fallback.span(), Spanned::span),
                key,
                format!(
                    "invalid handoff {text:?}: expected a weekday and a time (\"mon 09:00\") or a daily time (\"09:00\")"
                ),
            );
        }
        parsed
    }

    /// A shift length in whole days: `1d`, `3d`, `1w`, `2w`.
    fn length(
        &mut self,
        value: Option<&Spanned<String>>,
        fallback: &Spanned<String>,
        key: &str,
    ) -> Option<u32> {
        let text = value
            .map_or(DEFAULT_LENGTH, |v| v.get_ref().as_str())
            .trim();
        let span = value.map_or(fallback.span(), Spanned::span);
        // The unit is the last character, which need not be one byte (`3ü`: found by fuzzing).
        let unit_at = text.char_indices().last().map_or(0, |(i, _)| i);
        let (number, unit) = text.split_at(unit_at);
        let days = match (number.parse::<u32>(), unit) {
            (Ok(n), "d") => Some(n),
            (Ok(n), "w") => n.checked_mul(7),
            _ => None,
        };
        match days {
            Some(0) => {
                self.problem(
                    span,
                    key,
                    "a shift of zero length would leave nobody on call: expected at least \"1d\"",
                );
                None
            }
            Some(days) if days <= 366 => Some(days),
            _ => {
                self.problem(
                    span,
                    key,
                    format!("invalid length {text:?}: expected days or weeks such as \"1d\", \"1w\" or \"2w\" (at most a year)"),
                );
                None
            }
        }
    }

    fn overrides(
        &mut self,
        rota: &RawRota,
        key: &str,
        people: &[Person],
        layers: &[Layer],
        zone: &TimeZone,
    ) -> Vec<Override> {
        let mut overrides = Vec::new();
        for (j, o) in rota.overrides.iter().enumerate() {
            let key = format!("{key}.overrides[{j}]");
            let layer = layers.iter().position(|l| &l.name == o.layer.get_ref());
            if layer.is_none() && layers.len() == rota.layers.len() {
                self.problem(
                    o.layer.span(),
                    format!("{key}.layer"),
                    format!(
                        "layer {:?} does not exist in this rota: expected one of {}",
                        o.layer.get_ref(),
                        layers
                            .iter()
                            .map(|l| format!("{:?}", l.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            let person = people.iter().find(|p| p.id.as_str() == o.person.get_ref());
            if person.is_none() {
                self.problem(
                    o.person.span(),
                    format!("{key}.person"),
                    format!(
                        "{:?} is not a person: add it to [[people]] first",
                        o.person.get_ref()
                    ),
                );
            }
            let from = self.instant(&o.from, &format!("{key}.from"), zone);
            let to = self.instant(&o.to, &format!("{key}.to"), zone);
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                self.problem(
                    o.to.span(),
                    format!("{key}.to"),
                    "an override must end after it starts",
                );
                continue;
            }
            if let (Some(layer), Some(person), Some(from), Some(to)) = (layer, person, from, to) {
                overrides.push(Override {
                    layer,
                    person: person.id.clone(),
                    from,
                    to,
                });
            }
        }
        overrides
    }

    /// An instant written with an offset (`2026-03-28T18:00:00Z`) or as a wall-clock time in the
    /// rota's zone (`2026-03-28 18:00`).
    fn instant(
        &mut self,
        value: &Spanned<String>,
        key: &str,
        zone: &TimeZone,
    ) -> Option<Timestamp> {
        let text = value.get_ref().trim();
        if let Some(at) = parse_instant(zone, text) {
            return Some(at);
        }
        self.problem(
            value.span(),
            key,
            format!(
                "invalid time {text:?}: expected a wall-clock time in the rota's zone (\"2026-03-28 18:00\") or one with an offset (\"2026-03-28T18:00:00Z\")"
            ),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::callout::{Callout, EscalationStep};
    use crate::config::Config;

    const BASE: &str = r#"
[workspace]
name = "Acme"
time_zone = "Europe/London"
currency = "GBP"
holidays = ["2026-12-25"]

[[people]]
id = "alice"
name = "Alice"
[[people]]
id = "ben"
name = "Ben"
[[people]]
id = "chen"
name = "Chen"
[[people]]
id = "dana"
name = "Dana"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["alice", "ben", "chen"]
escalation = { ack_timeout = "2m" }

[[teams]]
id = "refunds"
name = "Refunds"
kind = "delivery"
members = ["dana"]

[[applications]]
id = "checkout"
name = "Checkout"
team = "payments"
availability_target = 99.9
exposure_per_hour = 600000

[[applications]]
id = "statements"
name = "Statements"
team = "payments"
availability_target = 95.0
exposure_per_hour = 2000

[[applications]]
id = "refund-api"
name = "Refund API"
team = "refunds"
availability_target = 99.0
exposure_per_hour = 60000
"#;

    const ROTA: &str = r#"
[[rotas]]
id = "payments-oncall"
teams = ["payments"]

[[rotas.layers]]
name = "primary"
members = ["alice", "ben", "chen"]
start = "2026-01-05"

[[rotas.layers]]
name = "secondary"
members = ["chen", "alice", "ben"]
start = "2026-01-05"
handoff = "09:00"
length = "7d"

[[rotas]]
id = "money"
teams = ["payments", "refunds"]
budget_holder = "payments"
time_zone = "America/Chicago"

[[rotas.layers]]
name = "primary"
members = ["dana", "alice"]
start = "2026-01-01"
handoff = "08:00"
length = "1d"

[[rotas.overrides]]
layer = "primary"
person = "ben"
from = "2026-03-08 02:30"
to = "2026-03-09T12:00:00Z"
"#;

    fn parse(extra: &str) -> Result<Config, Vec<String>> {
        Config::parse("stopline.toml", &format!("{BASE}{extra}"))
            .map_err(|e| e.problems.iter().map(ToString::to_string).collect())
    }

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn rotas_parse_with_their_defaults() {
        let config = parse(ROTA).unwrap();
        let own = config.team_rota(&"payments".parse_id()).unwrap();
        assert_eq!(own.layers.len(), 2);
        assert_eq!(own.layers[0].length_days, 7, "a week by default");
        assert_eq!(
            own.time_zone_name, "Europe/London",
            "the workspace's zone by default"
        );
        let domain = config.domain_rota(&"refunds".parse_id()).unwrap();
        assert_eq!(domain.budget_holder.as_str(), "payments");
        // 02:30 on 8 March does not exist in Chicago: the override starts at 03:30 CDT.
        assert_eq!(domain.overrides[0].from, at("2026-03-08T08:30:00Z"));
        let policy = config.escalation_policy(&"payments".parse_id());
        assert_eq!(policy.ack_timeout.as_secs(), 120);
        assert_eq!(policy.repeat, 2, "the workspace default");
        assert!(
            config
                .workspace
                .working_hours
                .holidays
                .contains(&jiff::civil::date(2026, 12, 25))
        );
    }

    #[test]
    fn a_length_ending_in_a_multibyte_character_is_a_problem_not_a_panic() {
        // Found by `make fuzz` (the config target): the unit was cut off at the last byte.
        for length in ["3ü", "é", "1週"] {
            let bad = ROTA.replace(r#"length = "7d""#, &format!("length = \"{length}\""));
            let problems = parse(&bad).unwrap_err();
            assert!(
                problems.iter().any(|p| p.contains("layers[1].length")),
                "{length}: {problems:?}"
            );
        }
    }

    #[test]
    fn invalid_rotations_name_their_place() {
        let bad = ROTA
            .replace(
                r#"members = ["chen", "alice", "ben"]"#,
                r#"members = ["chen", "dana"]"#,
            )
            .replace(r#"length = "7d""#, r#"length = "0w""#)
            .replace(
                r#"time_zone = "America/Chicago""#,
                r#"time_zone = "America/Chicgo""#,
            );
        let problems = parse(&bad).unwrap_err();
        let line = |needle: &str| {
            let text = format!("{BASE}{bad}");
            text.lines().position(|l| l.contains(needle)).unwrap() + 1
        };
        assert_eq!(
            problems,
            [
                format!(
                    "stopline.toml:{}:20: rotas[0].layers[1].members[1]: \"dana\" is not a member of the rota's teams (payments): add them to the team's members first",
                    line(r#"members = ["chen", "dana"]"#)
                ),
                format!(
                    "stopline.toml:{}:10: rotas[0].layers[1].length: a shift of zero length would leave nobody on call: expected at least \"1d\"",
                    line(r#"length = "0w""#)
                ),
                format!(
                    "stopline.toml:{}:13: rotas[1].time_zone: unknown time zone \"America/Chicgo\": expected an IANA name such as \"Europe/London\"",
                    line("America/Chicgo")
                ),
            ]
        );
    }

    #[test]
    fn domain_rotas_and_clashes_are_checked() {
        let no_holder = ROTA.replace("budget_holder = \"payments\"\n", "");
        assert!(parse(&no_holder).unwrap_err()[0].contains("a domain rota needs budget_holder"));
        let twice = format!(
            "{ROTA}{}",
            ROTA.split("[[rotas]]\nid = \"money\"")
                .next()
                .unwrap()
                .replace("payments-oncall", "payments-2")
        );
        let problems = parse(&twice).unwrap_err();
        assert!(
            problems[0].contains("already has its own rota \"payments-oncall\""),
            "{problems:?}"
        );
        let weekly_days = ROTA
            .replace("length = \"7d\"", "length = \"3d\"")
            .replace("handoff = \"09:00\"", "handoff = \"tue 09:00\"");
        assert!(parse(&weekly_days).unwrap_err()[0].contains("whole weeks"));
        let unknown_layer = ROTA.replace("layer = \"primary\"", "layer = \"tertiary\"");
        assert!(
            parse(&unknown_layer).unwrap_err()[0].contains("layer \"tertiary\" does not exist")
        );
    }

    #[test]
    fn callout_follows_working_hours_and_targets() {
        let config = parse(ROTA).unwrap();
        let checkout = config.application(&"checkout".parse().unwrap()).unwrap();
        let statements = config.application(&"statements".parse().unwrap()).unwrap();
        let refund = config.application(&"refund-api".parse().unwrap()).unwrap();
        let rota = |c: Callout| match c {
            Callout::Page { rota, .. } => rota.map(|r| r.as_str().to_owned()),
            Callout::Defer { .. } => Some("deferred".to_owned()),
        };
        // Friday 27 November 2026, in hours: every application pages its team's rota.
        let in_hours = at("2026-11-27T10:00:00Z");
        assert_eq!(
            rota(config.callout(statements, in_hours)).as_deref(),
            Some("payments-oncall")
        );
        assert_eq!(
            rota(config.callout(refund, in_hours)).as_deref(),
            Some("money"),
            "refunds has only the domain rota"
        );
        // Friday night: 95% waits until Monday 09:00; 99.0% pages the domain; 99.9% the team.
        let night = at("2026-11-27T23:00:00Z");
        assert_eq!(
            config.callout(statements, night),
            Callout::Defer {
                until: Some(at("2026-11-30T09:00:00Z")),
                reason: "out of hours: a 95.0% application waits for the next working day".into()
            }
        );
        assert_eq!(
            rota(config.callout(checkout, night)).as_deref(),
            Some("payments-oncall")
        );
        assert_eq!(
            rota(config.callout(refund, night)).as_deref(),
            Some("money")
        );
        // The escalation: each layer, then all hands; three cycles by default.
        let plan = config.escalation_plan(&checkout.team, Some(&"payments-oncall".parse_id()));
        assert_eq!(plan.cycle.len(), 3);
        assert_eq!(plan.len(), 9);
        assert_eq!(plan.cycle[2], EscalationStep::AllHands);
        let first = config.recipients(&plan.cycle[0], &checkout.team, night);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].reason, "primary on payments-oncall");
        let everyone = config.recipients(&EscalationStep::AllHands, &checkout.team, night);
        assert_eq!(everyone.len(), 3);
    }

    /// Parses ids in tests without ceremony.
    trait ParseId {
        fn parse_id<T: TryFrom<String>>(&self) -> T
        where
            T::Error: std::fmt::Debug;
    }

    impl ParseId for str {
        fn parse_id<T: TryFrom<String>>(&self) -> T
        where
            T::Error: std::fmt::Debug,
        {
            T::try_from(self.to_owned()).unwrap()
        }
    }
}

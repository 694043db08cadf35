//! Who is on call: each layer of each rota now and next, a person's shifts, and covering a shift
//! (an override written beside its rota in the config).

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stopline_core::config::Config;
use stopline_core::cover::{check_override, with_overrides};
use stopline_core::ids::PersonId;
use stopline_core::rota::{Rota, Shift};

use super::{Actor, Mutation, TimeArg, Workspace, parse_time};
use crate::overrides::{self, AddedOverride, OverrideRequest, RemoveRequest};
use crate::{EngineError, Result};

/// How far ahead "my shifts" look.
const MY_SHIFTS_AHEAD: jiff::SignedDuration = jiff::SignedDuration::from_hours(28 * 24);

pub use stopline_core::cover::{LayerNow, layer_now};

/// A rota with each of its layers now and next.
#[derive(Debug, Clone)]
pub struct RotaNow {
    pub rota: Rota,
    pub layers: Vec<LayerNow>,
}

/// Who is on call at a moment.
#[derive(Debug, Clone)]
pub struct OnCallView {
    pub at: Timestamp,
    pub rotas: Vec<RotaNow>,
    /// The shifts of the person at this desktop over the next four weeks, in order.
    pub my_shifts: Vec<Shift>,
    /// The workspace's zone, for showing times.
    pub zone: TimeZone,
    /// The window the timeline shows: from the start of today (workspace zone) for
    /// [`TIMELINE_DAYS`] days.
    pub timeline_from: Timestamp,
    pub timeline_to: Timestamp,
    /// Each rota's layers over the timeline's window, overrides included; the rotas of the
    /// person's teams first, then the others in config order.
    pub timeline: Vec<RotaTimeline>,
    /// The teams of the person at this desktop.
    pub my_teams: Vec<stopline_core::ids::TeamId>,
    /// Whether overrides can be removed here: on a desktop of its own they are in its config;
    /// a joined desktop's are the hub's.
    pub overrides_editable: bool,
}

/// How many days the on-call timeline shows.
pub const TIMELINE_DAYS: i64 = 14;

/// One rota's layers over the timeline's window.
#[derive(Debug, Clone)]
pub struct RotaTimeline {
    pub rota: Rota,
    /// Per layer, in escalation order: its name and shifts.
    pub layers: Vec<(String, Vec<Shift>)>,
    /// Its overrides that end after the window starts, in config order.
    pub overrides: Vec<stopline_core::rota::Override>,
}

/// Someone covers a layer of a rota for a while: the rota, the layer (`None`: the primary),
/// the person, and from and to (a wall-clock time in the rota's zone, or one with an offset).
/// Core's, so the hub reads an override pushed to it the same way.
pub type OverrideForm<'a> = stopline_core::cover::CoverRequest<'a>;

impl Workspace {
    /// Every rota covering `team` (every rota, without one), each layer now and next, at `at`
    /// (now, without one).
    pub fn on_call(&self, team: Option<&str>, at: Option<TimeArg<'_>>) -> Result<OnCallView> {
        let config = self.rotas_config()?;
        let at = match at {
            Some(time) => parse_time(&config, time)?,
            None => self.now(),
        };
        let team = team
            .map(|t| crate::lookup::team(&config, t).map(|t| t.id.clone()))
            .transpose()?;
        let rotas = config
            .rotas
            .iter()
            .filter(|r| team.as_ref().is_none_or(|t| r.teams.contains(t)))
            .map(|rota| RotaNow {
                layers: (0..rota.layers.len())
                    .map(|i| layer_now(rota, i, at))
                    .collect(),
                rota: rota.clone(),
            })
            .collect();
        let my_shifts = match self.whoami()? {
            Some(me) => {
                let until = at.checked_add(MY_SHIFTS_AHEAD).unwrap_or(at);
                shifts_of(&config.rotas, &me, at, until)
            }
            None => Vec::new(),
        };
        let zone = config.workspace.time_zone.clone();
        let today = zone.to_datetime(at).date();
        let timeline_from = zone
            .to_ambiguous_timestamp(today.to_datetime(jiff::civil::Time::midnight()))
            .compatible()
            .unwrap_or(at);
        let timeline_to = timeline_from
            .to_zoned_datetime(zone.clone())
            .checked_add(jiff::ToSpan::days(TIMELINE_DAYS))
            .map_or(at, |end| end.timestamp());
        let my_teams: Vec<stopline_core::ids::TeamId> = match self.whoami()? {
            Some(me) => config
                .teams
                .iter()
                .filter(|t| t.members.contains(&me))
                .map(|t| t.id.clone())
                .collect(),
            None => Vec::new(),
        };
        let mut timeline: Vec<RotaTimeline> = config
            .rotas
            .iter()
            .filter(|r| team.as_ref().is_none_or(|t| r.teams.contains(t)))
            .map(|rota| RotaTimeline {
                layers: (0..rota.layers.len())
                    .map(|i| {
                        (
                            rota.layers[i].name.clone(),
                            rota.shifts(i, timeline_from, timeline_to),
                        )
                    })
                    .collect(),
                overrides: rota
                    .overrides
                    .iter()
                    .filter(|o| o.to > timeline_from)
                    .cloned()
                    .collect(),
                rota: rota.clone(),
            })
            .collect();
        // My teams' rotas first; the sort is stable, so config order otherwise.
        timeline.sort_by_key(|r| !r.rota.teams.iter().any(|t| my_teams.contains(t)));
        Ok(OnCallView {
            at,
            rotas,
            my_shifts,
            zone,
            timeline_from,
            timeline_to,
            timeline,
            my_teams,
            overrides_editable: self.hub_link()?.is_none(),
        })
    }

    /// Removes an override from a rota in the config (see `overrides::remove_override`), as
    /// `who`. A joined desktop's overrides are the hub's: refused there, saying so.
    pub fn remove_override(&self, request: RemoveRequest<'_>, who: &Actor) -> Result<()> {
        if let Some(link) = self.hub_link()? {
            return Err(EngineError::BadOverride(format!(
                "this desktop is joined to the hub at {}, which keeps the organisation's overrides: \
                 an override is removed in the hub's config (stopline hub oncall shows them)",
                link.url
            )));
        }
        let config = self.config()?;
        self.person_text(&config, who)?;
        overrides::remove_override(self.config_path(), &config, request)
    }

    /// A person's shifts over `[from, to)`, in order, overrides included.
    pub fn shifts(&self, person: &str, from: TimeArg<'_>, to: TimeArg<'_>) -> Result<Vec<Shift>> {
        let config = self.rotas_config()?;
        let person = crate::lookup::person(&config, person)?;
        let (start, end) = self.period(from, to)?;
        Ok(shifts_of(&config.rotas, &person, start, end))
    }

    /// Every layer's shifts of one rota between two moments, cut to that window, in order.
    pub fn rota_shifts(
        &self,
        rota: &str,
        from: TimeArg<'_>,
        to: TimeArg<'_>,
    ) -> Result<Vec<Shift>> {
        let config = self.rotas_config()?;
        let rota = find_rota(&config, rota)?;
        let (start, end) = self.period(from, to)?;
        Ok(layers_shifts(rota, start, end))
    }

    /// Two moments a person typed (the workspace's zone, or RFC 3339), the first before the
    /// second; errors name the argument.
    pub fn period(&self, from: TimeArg<'_>, to: TimeArg<'_>) -> Result<(Timestamp, Timestamp)> {
        let config = self.config()?;
        let start = parse_time(&config, from)?;
        let end = parse_time(&config, to)?;
        if start >= end {
            return Err(EngineError::BadPeriod {
                from: from.name.to_owned(),
                to: to.name.to_owned(),
            });
        }
        Ok((start, end))
    }

    /// The config with the overrides of a joined desktop's replica merged into its rotas (those
    /// the hub sent, then the person's own waiting), as the hub pages by them; a standalone
    /// desktop's overrides are in its config already.
    pub fn rotas_config(&self) -> Result<Arc<Config>> {
        let config = self.config()?;
        if self.hub_link()?.is_none() {
            return Ok(config);
        }
        let now = self.now();
        let extra = self.with_store(|store| Ok(store.hub_overrides(now)?))?;
        Ok(Arc::new(with_overrides(&config, &extra)))
    }

    /// Writes an override beside its rota in the config (comments and layout kept, the file
    /// checked to parse before it is written), as `who`. On a joined desktop it is checked by
    /// the same rule, kept in the replica at once and queued for the hub, which keeps the
    /// organisation's overrides: the config file is left alone.
    pub fn add_override(&self, form: OverrideForm<'_>, who: &Actor) -> Result<AddedOverride> {
        if self.hub_link()?.is_some() {
            return self.add_shared_override(form, who);
        }
        let config = self.config()?;
        let who = self.person_text(&config, who)?;
        // Without a layer, the primary: the rota's first (an unknown rota is reported by
        // `add_override`, with the rotas there are).
        let primary = config
            .rotas
            .iter()
            .find(|r| r.id.as_str() == form.rota)
            .and_then(|r| r.layers.first())
            .map_or("primary", |l| l.name.as_str());
        let request = OverrideRequest {
            rota: form.rota,
            layer: form.layer.unwrap_or(primary),
            person: form.person,
            from: form.from,
            to: form.to,
            who: &who,
        };
        overrides::add_override(self.config_path(), &config, request, self.now())
    }

    fn add_shared_override(&self, form: OverrideForm<'_>, who: &Actor) -> Result<AddedOverride> {
        let config = self.rotas_config()?;
        // Refuses acting as anyone but the token's person.
        self.person_text(&config, who)?;
        // An unknown person is refused as everywhere in the engine (with the people there are).
        crate::lookup::person(&config, form.person)?;
        let cover =
            check_override(&config, form, self.now()).map_err(|e| EngineError::BadOverride(e.0))?;
        let added = AddedOverride {
            rota: cover.rota.to_string(),
            layer: cover.layer.clone(),
            person: cover.person.to_string(),
            from: cover.from,
            to: cover.to,
            written_to: None,
        };
        self.act_shared(
            |_, _| {
                Ok(Mutation {
                    name: "add_override",
                    incident: None,
                    args: serde_json::json!({
                        "rota": cover.rota.as_str(), "layer": cover.layer,
                        "person": cover.person.as_str(),
                        "from": cover.from.to_string(), "to": cover.to.to_string(),
                    }),
                })
            },
            |store, _| Ok(store.add_pending_override(&cover)?),
        )?;
        Ok(added)
    }
}

/// Whose shifts a calendar holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarFor<'a> {
    /// A person's shifts on every rota.
    Person(&'a str),
    /// Every layer of one rota: who is on call when.
    Rota(&'a str),
}

impl Workspace {
    /// The shifts of a person or a rota over `[from, to)` as an iCalendar feed (see
    /// `stopline_core::calendar`), overrides included; unknown people and rotas are refused,
    /// naming the ones there are.
    pub fn calendar(&self, of: CalendarFor<'_>, from: Timestamp, to: Timestamp) -> Result<String> {
        calendar_feed(&*self.rotas_config()?, of, from, to, self.now())
    }

    /// The address a calendar app subscribes to for `of`'s shifts, served by the engine's
    /// webhook server (`stopline serve` or the app) with the calendar key (see
    /// [`calendar_key`]): `http://127.0.0.1:9177/v1/calendar/people/ben.ics?key=…`.
    pub fn calendar_url(&self, of: CalendarFor<'_>) -> Result<String> {
        let config = self.config()?;
        let (kind, id) = match of {
            CalendarFor::Person(person) => (
                "people",
                crate::lookup::person(&config, person)?.to_string(),
            ),
            CalendarFor::Rota(rota) => ("rotas", find_rota(&config, rota)?.id.to_string()),
        };
        let key = calendar_key(&self.webhook_token()?);
        Ok(format!(
            "http://{}/v1/calendar/{kind}/{id}.ics?key={key}",
            config.webhook.listen
        ))
    }
}

/// The key of the calendar feeds, derived from the webhook token: it reads calendars and nothing
/// else, and a calendar URL someone shares does not give away the token that posts alerts.
pub fn calendar_key(webhook_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("stopline calendar feed\0{webhook_token}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// How far back and ahead a served calendar feed reaches from now.
pub const FEED_PAST_DAYS: i64 = 30;
pub const FEED_AHEAD_DAYS: i64 = 90;

/// The iCalendar text of `of`'s shifts over `[from, to)` by `config`'s rotas.
pub(crate) fn calendar_feed(
    config: &Config,
    of: CalendarFor<'_>,
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Result<String> {
    use stopline_core::calendar::{CalendarOf, NamedShift, ics};
    if from >= to {
        return Err(EngineError::BadPeriod {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let (calendar, shifts) = match of {
        CalendarFor::Person(person) => {
            let person = crate::lookup::person(config, person)?;
            let name = config
                .person(&person)
                .map_or_else(|| person.to_string(), |p| p.name.clone());
            let of = CalendarOf {
                name: format!("On call: {name}"),
                names_people: false,
            };
            (of, shifts_of(&config.rotas, &person, from, to))
        }
        CalendarFor::Rota(id) => {
            let rota = find_rota(config, id)?;
            let of = CalendarOf {
                name: format!("On call: {}", rota.name),
                names_people: true,
            };
            (of, layers_shifts(rota, from, to))
        }
    };
    let named: Vec<NamedShift<'_>> = shifts
        .iter()
        .map(|shift| NamedShift {
            shift,
            rota_name: config
                .rota(&shift.rota)
                .map_or(shift.rota.as_str(), |r| r.name.as_str()),
            person_name: config
                .person(&shift.person)
                .map_or(shift.person.as_str(), |p| p.name.as_str()),
        })
        .collect();
    Ok(ics(&calendar, &named, now))
}

/// Every layer's shifts of `rota` over `[from, to)`, in order of start.
fn layers_shifts(rota: &Rota, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    let mut shifts: Vec<Shift> = (0..rota.layers.len())
        .flat_map(|layer| rota.shifts(layer, from, to))
        .collect();
    shifts.sort_by_key(|s| (s.start, s.layer.clone()));
    shifts
}

/// The rota with this id, or an error naming the rotas there are.
fn find_rota<'c>(config: &'c Config, id: &str) -> Result<&'c Rota> {
    config
        .rotas
        .iter()
        .find(|r| r.id.as_str() == id)
        .ok_or_else(|| {
            let known: Vec<&str> = config.rotas.iter().map(|r| r.id.as_str()).collect();
            EngineError::UnknownRota(id.to_owned(), known.join(", "))
        })
}

fn shifts_of(rotas: &[Rota], person: &PersonId, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    let mut shifts: Vec<Shift> = rotas
        .iter()
        .flat_map(|r| r.shifts_of(person, from, to))
        .collect();
    shifts.sort_by_key(|s| s.start);
    shifts
}

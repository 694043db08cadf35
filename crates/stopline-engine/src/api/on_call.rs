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
use crate::overrides::{self, AddedOverride, OverrideRequest};
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
        Ok(OnCallView {
            at,
            rotas,
            my_shifts,
            zone: config.workspace.time_zone.clone(),
        })
    }

    /// A person's shifts over `[from, to)`, in order, overrides included.
    pub fn shifts(&self, person: &str, from: TimeArg<'_>, to: TimeArg<'_>) -> Result<Vec<Shift>> {
        let config = self.rotas_config()?;
        let person = crate::lookup::person(&config, person)?;
        let start = parse_time(&config, from)?;
        let end = parse_time(&config, to)?;
        if start >= end {
            return Err(EngineError::BadPeriod {
                from: from.name.to_owned(),
                to: to.name.to_owned(),
            });
        }
        Ok(shifts_of(&config.rotas, &person, start, end))
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

fn shifts_of(rotas: &[Rota], person: &PersonId, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    let mut shifts: Vec<Shift> = rotas
        .iter()
        .flat_map(|r| r.shifts_of(person, from, to))
        .collect();
    shifts.sort_by_key(|s| s.start);
    shifts
}

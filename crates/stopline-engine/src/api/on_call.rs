//! Who is on call: each layer of each rota now and next, a person's shifts, and covering a shift
//! (an override written beside its rota in the config).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use stopline_core::ids::PersonId;
use stopline_core::rota::{Rota, Shift};

use super::{Actor, TimeArg, Workspace, parse_time};
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
        let config = self.config()?;
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
        let config = self.config()?;
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

    /// Writes an override beside its rota in the config (comments and layout kept, the file
    /// checked to parse before it is written), as `who`.
    pub fn add_override(&self, form: OverrideForm<'_>, who: &Actor) -> Result<AddedOverride> {
        self.refuse_on_hub("adding an override from a joined desktop")?;
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
}

fn shifts_of(rotas: &[Rota], person: &PersonId, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    let mut shifts: Vec<Shift> = rotas
        .iter()
        .flat_map(|r| r.shifts_of(person, from, to))
        .collect();
    shifts.sort_by_key(|s| s.start);
    shifts
}

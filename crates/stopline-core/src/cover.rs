//! Covering someone's shift, and who holds each layer of a rota at a moment.
//!
//! An override asked for (from a desktop's `stopline override`, or pushed to the hub) is checked
//! here, by one rule wherever it is kept: the rota, layer and person must be known, the times
//! must read (a wall-clock time in the rota's zone, or one with an offset), and it must end
//! after it starts and after now. A desktop writes it beside its rota in the config; the hub
//! keeps it as a row and merges it into the config's rotas ([`with_overrides`]). Who is on call
//! ([`layer_now`]) is then answered alike by both.

use jiff::Timestamp;

use crate::config::Config;
use crate::ids::{PersonId, RotaId};
use crate::rota::{Override, Rota, Shift, parse_instant};

/// An override someone asks for, as they typed it.
#[derive(Debug, Clone, Copy)]
pub struct CoverRequest<'a> {
    pub rota: &'a str,
    /// `None`: the rota's first layer (the primary).
    pub layer: Option<&'a str>,
    pub person: &'a str,
    /// A wall-clock time in the rota's zone (`2026-12-24 17:00`) or one with an offset
    /// (`2026-12-24T17:00:00Z`).
    pub from: &'a str,
    pub to: &'a str,
}

/// An override that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOverride {
    pub rota: RotaId,
    pub layer: String,
    pub person: PersonId,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Why an override is refused, in words for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CoverError(pub String);

/// Checks an override against `config` at `now`.
pub fn check_override(
    config: &Config,
    request: CoverRequest<'_>,
    now: Timestamp,
) -> Result<CheckedOverride, CoverError> {
    let refuse = |why: String| Err(CoverError(why));
    let Some(rota) = config.rotas.iter().find(|r| r.id.as_str() == request.rota) else {
        return refuse(format!(
            "unknown rota {:?}: expected one of {}",
            request.rota,
            list(config.rotas.iter().map(|r| r.id.as_str()))
        ));
    };
    let layer = match request.layer {
        Some(name) => name,
        None => match rota.layers.first() {
            Some(first) => first.name.as_str(),
            None => return refuse(format!("rota {} has no layers", rota.id)),
        },
    };
    if !rota.layers.iter().any(|l| l.name == layer) {
        return refuse(format!(
            "rota {} has no layer {layer:?}: expected one of {}",
            rota.id,
            list(rota.layers.iter().map(|l| l.name.as_str()))
        ));
    }
    let person = PersonId::new(request.person)
        .ok()
        .filter(|p| config.person(p).is_some());
    let Some(person) = person else {
        return refuse(format!(
            "unknown person {:?}: not in the config's [[people]]",
            crate::text::shorten(request.person, 64)
        ));
    };
    let instant = |name: &str, text: &str| {
        parse_instant(&rota.time_zone, text).ok_or_else(|| {
            CoverError(format!(
                "{name} {:?} is not a time: expected a wall-clock time in the rota's zone ({}) \
                 such as \"2026-12-24 17:00\", or one with an offset such as \
                 \"2026-12-24T17:00:00Z\"",
                crate::text::shorten(text, 64),
                rota.time_zone_name
            ))
        })
    };
    let from = instant("from", request.from)?;
    let to = instant("to", request.to)?;
    if from >= to {
        return refuse("the override must end after it starts".to_owned());
    }
    if to <= now {
        return refuse("the override has already ended: give a time still to come".to_owned());
    }
    Ok(CheckedOverride {
        rota: rota.id.clone(),
        layer: layer.to_owned(),
        person,
        from,
        to,
    })
}

/// `config` with `extra` overrides added to their rotas (an unknown rota or layer, from a config
/// changed since, is left out): the hub's rotas, its overrides rows merged with the config's.
pub fn with_overrides(config: &Config, extra: &[CheckedOverride]) -> Config {
    let mut merged = config.clone();
    for cover in extra {
        let Some(rota) = merged.rotas.iter_mut().find(|r| r.id == cover.rota) else {
            continue;
        };
        let Some(layer) = rota.layers.iter().position(|l| l.name == cover.layer) else {
            continue;
        };
        rota.overrides.push(Override {
            layer,
            person: cover.person.clone(),
            from: cover.from,
            to: cover.to,
        });
    }
    merged
}

/// One layer of a rota: who holds it at the moment asked about, and who is next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerNow {
    pub layer: String,
    /// `None` before the rotation begins.
    pub now: Option<Shift>,
    pub next: Option<Shift>,
}

/// Layer `i` of `rota` at `at`, and the shift after it (or, before the rotation begins, its
/// first shift).
pub fn layer_now(rota: &Rota, i: usize, at: Timestamp) -> LayerNow {
    let now = rota.on_call(i, at);
    let next_at = now.as_ref().map(|s| s.end).or_else(|| {
        rota.layers[i]
            .turn_start(0, &rota.time_zone)
            .filter(|s| *s > at)
    });
    LayerNow {
        layer: rota.layers[i].name.clone(),
        next: next_at.and_then(|t| rota.on_call(i, t)),
        now,
    }
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<_> = names.map(|n| format!("{n:?}")).collect();
    if names.is_empty() {
        "none (there are no [[rotas]] yet)".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEMO_CONFIG;

    fn demo() -> Config {
        Config::parse("demo.toml", DEMO_CONFIG).unwrap()
    }

    #[test]
    fn an_override_is_checked_and_then_holds_its_layer() {
        let config = demo();
        let rota = &config.rotas[0];
        let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let someone = config.people.last().unwrap().id.to_string();
        let asked = CoverRequest {
            rota: rota.id.as_str(),
            layer: None,
            person: &someone,
            from: "2026-12-03T09:00:00Z",
            to: "2026-12-03T18:00:00Z",
        };
        let checked = check_override(&config, asked, now).unwrap();
        assert_eq!(checked.layer, rota.layers[0].name, "the primary by default");
        let merged = with_overrides(&config, &[checked]);
        let held = layer_now(&merged.rotas[0], 0, now);
        assert_eq!(held.now.unwrap().person.as_str(), someone);

        for (bad, said) in [
            (
                CoverRequest {
                    rota: "nope",
                    ..asked
                },
                "unknown rota \"nope\"",
            ),
            (
                CoverRequest {
                    layer: Some("tertiary-x"),
                    ..asked
                },
                "has no layer \"tertiary-x\"",
            ),
            (
                CoverRequest {
                    person: "nobody",
                    ..asked
                },
                "unknown person \"nobody\"",
            ),
            (
                CoverRequest {
                    from: "soon",
                    ..asked
                },
                "from \"soon\" is not a time",
            ),
            (
                CoverRequest {
                    to: "2026-12-03T08:00:00Z",
                    ..asked
                },
                "must end after it starts",
            ),
            (
                CoverRequest {
                    from: "2026-12-02T08:00:00Z",
                    to: "2026-12-02T09:00:00Z",
                    ..asked
                },
                "already ended",
            ),
        ] {
            let error = check_override(&config, bad, now).unwrap_err();
            assert!(error.0.contains(said), "{error}");
        }
    }
}

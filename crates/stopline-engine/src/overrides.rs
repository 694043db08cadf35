//! Covering someone's shift: an override added to a rota from the app or `stopline override`.
//!
//! Overrides live in the config file, beside the rota they change, so there is one place that
//! says who is on call and the engine's config reload picks them up within seconds. The file is
//! edited in place (comments and layout kept), the whole result is checked to parse before it is
//! written, and it is written atomically: a request that cannot be met changes nothing.

use std::path::Path;

use jiff::Timestamp;
use stopline_core::config::Config;
use stopline_core::cover::{CoverRequest, check_override};
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::files::write_atomically;
use crate::lookup::person;
use crate::{EngineError, Result};

/// Who covers which layer of which rota, and when. `from` and `to` are written as the config
/// takes them: with an offset (`2026-12-24T17:00:00Z`) or as wall-clock times in the rota's zone
/// (`2026-12-24 17:00`).
#[derive(Debug, Clone, Copy)]
pub struct OverrideRequest<'a> {
    pub rota: &'a str,
    pub layer: &'a str,
    pub person: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// Who adds it; named in a comment above the override.
    pub who: &'a str,
}

/// The override as added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedOverride {
    pub rota: String,
    pub layer: String,
    pub person: String,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The config file it was written to; `None` on a joined desktop, where it was queued for
    /// the hub instead.
    pub written_to: Option<std::path::PathBuf>,
}

/// Adds an override to a rota in the config file at `config_path`. Refused, with nothing
/// written, when the rota, layer or person is unknown, a time does not parse, the override ends
/// before it starts or has already ended, or the file would no longer parse.
pub fn add_override(
    config_path: &Path,
    config: &Config,
    request: OverrideRequest<'_>,
    now: Timestamp,
) -> Result<AddedOverride> {
    let who = person(config, request.who)?;
    // An unknown person is refused as everywhere in the engine (with the people there are).
    person(config, request.person)?;
    // The rule is core's, the same the hub applies to an override pushed to it.
    let checked = check_override(
        config,
        CoverRequest {
            rota: request.rota,
            layer: Some(request.layer),
            person: request.person,
            from: request.from,
            to: request.to,
        },
        now,
    )
    .map_err(|e| EngineError::BadOverride(e.0))?;
    let (covering, from, to) = (checked.person, checked.from, checked.to);
    let rota = config
        .rotas
        .iter()
        .find(|r| r.id == checked.rota)
        .expect("check_override found the rota");

    let (mut document, path) = editable(config_path)?;
    let table = rota_to_edit(&mut document, request.rota, &path)?;
    let mut entry = InlineTable::new();
    entry.insert("layer", Value::from(request.layer));
    entry.insert("person", Value::from(covering.as_str()));
    entry.insert("from", Value::from(rota.wall_clock_text(from)));
    entry.insert("to", Value::from(rota.wall_clock_text(to)));
    let comment = format!(
        "\n# Added by {who} on {}.\n",
        now.strftime("%Y-%m-%d %H:%M UTC")
    );
    match table.get_mut("overrides") {
        None => {
            let mut overrides = ArrayOfTables::new();
            overrides.push(as_table(entry, &comment));
            table.insert("overrides", Item::ArrayOfTables(overrides));
        }
        Some(Item::ArrayOfTables(overrides)) => overrides.push(as_table(entry, &comment)),
        Some(Item::Value(Value::Array(overrides))) => overrides.push(entry),
        Some(_) => {
            return Err(EngineError::BadOverride(format!(
                "overrides of rota {} in {path} are neither tables nor an array",
                request.rota
            )));
        }
    }
    let text = document.to_string();
    // The engine will read this file: it must parse, and the new override must be there.
    Config::parse(&path, &text)?;
    write_atomically(config_path, text.as_bytes())?;
    Ok(AddedOverride {
        rota: rota.id.to_string(),
        layer: request.layer.to_owned(),
        person: covering.to_string(),
        from,
        to,
        written_to: Some(config_path.to_owned()),
    })
}

/// One override to remove: the rota, the layer's name, the person, and its start and end as
/// the config holds them.
#[derive(Debug, Clone, Copy)]
pub struct RemoveRequest<'a> {
    pub rota: &'a str,
    pub layer: &'a str,
    pub person: &'a str,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Removes one override from a rota in the config file: the entry whose layer, person, start and
/// end are the request's (the first, were there two alike). Refused, with nothing written, when
/// the rota has no such override or the file would no longer parse; the rest of the file,
/// comments included, stays as it was.
pub fn remove_override(
    config_path: &Path,
    config: &Config,
    request: RemoveRequest<'_>,
) -> Result<()> {
    let rota = config
        .rotas
        .iter()
        .find(|r| r.id.as_str() == request.rota)
        .ok_or_else(|| EngineError::BadOverride(format!("unknown rota {:?}", request.rota)))?;
    let layer = rota.layer_index(request.layer).ok_or_else(|| {
        EngineError::BadOverride(format!(
            "rota {} has no layer {:?}",
            request.rota, request.layer
        ))
    })?;
    // The parsed overrides are in the file's order: the position of the match is the entry's.
    let position = rota
        .overrides
        .iter()
        .position(|o| {
            o.layer == layer
                && o.person.as_str() == request.person
                && o.from == request.from
                && o.to == request.to
        })
        .ok_or_else(|| {
            EngineError::BadOverride(format!(
                "rota {} has no override of {} on {} from {} to {}: it may have been removed already",
                request.rota,
                request.person,
                request.layer,
                rota.wall_clock_text(request.from),
                rota.wall_clock_text(request.to)
            ))
        })?;
    let (mut document, path) = editable(config_path)?;
    let table = rota_to_edit(&mut document, request.rota, &path)?;
    match table.get_mut("overrides") {
        Some(Item::ArrayOfTables(overrides)) if position < overrides.len() => {
            overrides.remove(position);
            if overrides.is_empty() {
                table.remove("overrides");
            }
        }
        Some(Item::Value(Value::Array(overrides))) if position < overrides.len() => {
            overrides.remove(position);
        }
        _ => {
            return Err(EngineError::BadOverride(format!(
                "the overrides of rota {} in {path} are not as the config reads them; edit the file by hand",
                request.rota
            )));
        }
    }
    let text = document.to_string();
    let after = Config::parse(&path, &text)?;
    // The right one went: one fewer override on that rota, nothing else changed.
    let left = after
        .rotas
        .iter()
        .find(|r| r.id == rota.id)
        .map_or(0, |r| r.overrides.len());
    if left + 1 != rota.overrides.len() {
        return Err(EngineError::BadOverride(format!(
            "removing the override would not leave {path} as expected; nothing was written"
        )));
    }
    write_atomically(config_path, text.as_bytes())
}

/// The config file parsed for editing (comments and layout kept), and its path as errors say it.
fn editable(config_path: &Path) -> Result<(DocumentMut, String)> {
    let path = config_path.display().to_string();
    let current = crate::files::read_config_text(config_path)?;
    let document = current.parse().map_err(|e: toml_edit::TomlError| {
        EngineError::BadOverride(format!("{path} does not parse: {e}"))
    })?;
    Ok((document, path))
}

/// The `[[rotas]]` table of `rota` to edit, or why it cannot be.
fn rota_to_edit<'d>(
    document: &'d mut DocumentMut,
    rota: &str,
    path: &str,
) -> Result<&'d mut Table> {
    rota_table(document, rota).ok_or_else(|| {
        EngineError::BadOverride(format!(
            "rota {rota} is not written as a [[rotas]] table in {path}, so it cannot be edited here"
        ))
    })
}

/// The `[[rotas]]` table with this id.
fn rota_table<'d>(document: &'d mut DocumentMut, id: &str) -> Option<&'d mut Table> {
    document
        .get_mut("rotas")?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(id))
}

fn as_table(entry: InlineTable, comment: &str) -> Table {
    let mut table = entry.into_table();
    table.decor_mut().set_prefix(comment);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"# The on-call people of a small shop.
[workspace]
name = "Shop"
time_zone = "Europe/London"
currency = "EUR"

[[people]]
id = "ana"
name = "Ana"

[[people]]
id = "bo"
name = "Bo"

[[people]]
id = "cy"
name = "Cy"

[[teams]]
id = "payments"
name = "Payments"
kind = "delivery"
members = ["ana", "bo"]

[[teams]]
id = "search"
name = "Search"
kind = "delivery"
members = ["cy"]

[[rotas]]
id = "payments"
name = "Payments on call"
teams = ["payments"]
time_zone = "Europe/London"

[[rotas.layers]]
name = "primary"
members = ["ana", "bo"]
start = "2026-11-02"
handoff = "mon 09:00"

# Search keeps its own rota.
[[rotas]]
id = "search"
name = "Search on call"
teams = ["search"]
time_zone = "Europe/London"

[[rotas.layers]]
name = "primary"
members = ["cy"]
start = "2026-11-02"
handoff = "mon 09:00"
"#;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn setup() -> (tempfile::TempDir, std::path::PathBuf, Config) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stopline.toml");
        std::fs::write(&path, CONFIG).unwrap();
        let config = Config::parse("stopline.toml", CONFIG).unwrap();
        (dir, path, config)
    }

    fn request<'a>(rota: &'a str, from: &'a str, to: &'a str) -> OverrideRequest<'a> {
        OverrideRequest {
            rota,
            layer: "primary",
            person: "bo",
            from,
            to,
            who: "ana",
        }
    }

    #[test]
    fn an_override_lands_on_its_rota_and_changes_who_is_on_call() {
        let (_dir, path, config) = setup();
        let now = at("2026-11-27T10:00:00Z");
        let added = add_override(
            &path,
            &config,
            request("payments", "2026-11-27 17:00", "2026-11-28T09:00:00Z"),
            now,
        )
        .unwrap();
        assert_eq!(added.from, at("2026-11-27T17:00:00Z"));

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# The on-call people of a small shop."),
            "comments are kept"
        );
        assert!(text.contains("# Search keeps its own rota."));
        assert!(
            text.contains("# Added by ana on 2026-11-27 10:00 UTC."),
            "{text}"
        );
        let reread = Config::parse("stopline.toml", &text).unwrap();
        let payments = reread.rotas.iter().find(|r| r.id.as_str() == "payments");
        let payments = payments.unwrap();
        assert_eq!(payments.overrides.len(), 1, "{text}");
        assert_eq!(
            payments
                .on_call(0, at("2026-11-27T20:00:00Z"))
                .unwrap()
                .person
                .as_str(),
            "bo"
        );
        let search = reread.rotas.iter().find(|r| r.id.as_str() == "search");
        assert!(search.unwrap().overrides.is_empty(), "{text}");

        // A second one joins the first.
        add_override(
            &path,
            &reread,
            request("payments", "2026-12-24 17:00", "2026-12-26 09:00"),
            now,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let reread = Config::parse("stopline.toml", &text).unwrap();
        assert_eq!(reread.rotas[0].overrides.len(), 2, "{text}");
    }

    #[test]
    fn a_bad_request_says_what_is_wrong_and_writes_nothing() {
        let (_dir, path, config) = setup();
        let now = at("2026-11-27T10:00:00Z");
        let cases = [
            (
                request("nope", "2026-11-27 17:00", "2026-11-28 09:00"),
                "unknown rota \"nope\"",
            ),
            (
                OverrideRequest {
                    layer: "tertiary",
                    ..request("payments", "2026-11-27 17:00", "2026-11-28 09:00")
                },
                "no layer \"tertiary\": expected one of \"primary\"",
            ),
            (
                OverrideRequest {
                    person: "zed",
                    ..request("payments", "2026-11-27 17:00", "2026-11-28 09:00")
                },
                "unknown person \"zed\"",
            ),
            (
                request("payments", "tonight", "2026-11-28 09:00"),
                "from \"tonight\" is not a time",
            ),
            (
                request("payments", "2026-11-28 09:00", "2026-11-27 17:00"),
                "must end after it starts",
            ),
            (
                request("payments", "2026-11-20 09:00", "2026-11-21 09:00"),
                "already ended",
            ),
        ];
        for (request, expected) in cases {
            let error = add_override(&path, &config, request, now).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
            assert!(error.is_usage(), "{error}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), CONFIG);
        }
    }

    #[test]
    fn times_are_written_as_wall_clock_unless_that_would_be_ambiguous() {
        let (_dir, path, config) = setup();
        let now = at("2026-10-20T10:00:00Z");
        // 01:30 on 25 October 2026 happens twice in London; the second is 01:30 GMT.
        add_override(
            &path,
            &config,
            request("payments", "2026-10-25T01:30:00Z", "2026-10-25 12:00"),
            now,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("from = \"2026-10-25T01:30:00+00"), "{text}");
        assert!(text.contains("to = \"2026-10-25 12:00\""), "{text}");
        let reread = Config::parse("stopline.toml", &text).unwrap();
        assert_eq!(
            reread.rotas[0].overrides[0].from,
            at("2026-10-25T01:30:00Z")
        );
    }

    #[test]
    fn removing_an_override_takes_out_that_one_and_keeps_the_rest_of_the_file() {
        let (_dir, path, config) = setup();
        let now = at("2026-11-27T10:00:00Z");
        add_override(
            &path,
            &config,
            request("payments", "2026-11-27 17:00", "2026-11-28 09:00"),
            now,
        )
        .unwrap();
        let once =
            Config::parse("stopline.toml", &std::fs::read_to_string(&path).unwrap()).unwrap();
        add_override(
            &path,
            &once,
            request("payments", "2026-12-24 17:00", "2026-12-26 09:00"),
            now,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let twice = Config::parse("stopline.toml", &text).unwrap();
        let remove = |from: &str, to: &str| RemoveRequest {
            rota: "payments",
            layer: "primary",
            person: "bo",
            from: at(from),
            to: at(to),
        };
        // One that is not there: refused, naming it, the file untouched.
        let error = remove_override(
            &path,
            &twice,
            remove("2026-11-27T18:00:00Z", "2026-11-28T09:00:00Z"),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains(
                "rota payments has no override of bo on primary from 2026-11-27 18:00 to 2026-11-28 09:00"
            ),
            "{error}"
        );
        assert!(error.is_usage());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        remove_override(
            &path,
            &twice,
            remove("2026-11-27T17:00:00Z", "2026-11-28T09:00:00Z"),
        )
        .unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        let reread = Config::parse("stopline.toml", &after).unwrap();
        let left = &reread.rotas[0].overrides;
        assert_eq!(left.len(), 1, "{after}");
        assert_eq!(left[0].from, at("2026-12-24T17:00:00Z"));
        assert!(after.starts_with("# The on-call people of a small shop."));
        assert!(after.contains("# Search keeps its own rota."));
    }
}

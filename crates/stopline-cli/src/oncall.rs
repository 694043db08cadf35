//! The on-call subcommands: `whoami`, `oncall`, `shifts`, `override`, `notifications`,
//! `notify-test`, `contact-test` and `status`.

use jiff::Timestamp;
use serde::Serialize;
use stopline_core::rota::Shift;
use stopline_engine::EngineError;
use stopline_engine::api::{
    Actor, CalendarFor, HubStatus, NotificationsChange, OverrideForm, RotaNow, TimeArg,
};
use stopline_engine::notify::{NotifierStatus, send_test_page};

use crate::args::{OnOff, ShiftsFormat};
use crate::context::Context;
use crate::failure::{Failure, Result};
use crate::output::{local_time, print_json, print_table};

pub fn whoami(cx: &Context, set: Option<&str>, clear: bool) -> Result {
    let person = if let Some(person) = set {
        cx.ws.set_whoami(Some(person))?
    } else if clear {
        cx.ws.set_whoami(None)?
    } else {
        cx.ws.whoami()?
    };
    if cx.json {
        print_json(&serde_json::json!({ "person": person }));
    } else {
        match person {
            Some(p) => out!("{p} sits at this desktop: their pages show here."),
            None => out!("Nobody: set it with `stopline whoami --set PERSON` to get pages here."),
        }
    }
    Ok(())
}

/// `stopline override`: someone covers a layer of a rota for a while.
pub fn add_override(
    cx: &Context,
    (rota, layer): (&str, Option<&str>),
    person: &str,
    (from, to): (&str, &str),
    who: &Actor,
) -> Result {
    let form = OverrideForm {
        rota,
        layer,
        person,
        from,
        to,
    };
    let added = cx.ws.add_override(form, who)?;
    if cx.json {
        print_json(&serde_json::json!({
            "rota": added.rota,
            "layer": added.layer,
            "person": added.person,
            "from": added.from,
            "to": added.to,
            "config": added.written_to,
            "waiting_for_hub": added.written_to.is_none(),
        }));
    } else {
        let zone = cx.display_zone();
        let kept = match &added.written_to {
            Some(path) => format!("added to {}", path.display()),
            None => "sent to the hub; pending until it confirms".to_owned(),
        };
        out!(
            "{} covers {} of {} from {} to {} ({kept}).",
            added.person,
            added.layer,
            added.rota,
            local_time(added.from, &zone),
            local_time(added.to, &zone),
        );
    }
    Ok(())
}

/// `stopline notifications`: this desktop's choices on top of the config's `[notifications]`.
pub fn notifications(
    cx: &Context,
    teammates: Option<OnOff>,
    flood_threshold: Option<u32>,
    reset: bool,
) -> Result {
    let change = NotificationsChange {
        teammates: teammates.map(|t| t == OnOff::On),
        flood_threshold,
        reset,
    };
    let settings = cx.ws.change_notifications(change)?.settings;
    if cx.json {
        print_json(&serde_json::json!({
            "teammates": settings.teammates,
            "flood_threshold": settings.flood_threshold,
        }));
    } else {
        out!(
            "Teammates' pages: {}. More than {} pages a minute become one summary.",
            if settings.teammates {
                "shown"
            } else {
                "not shown"
            },
            settings.flood_threshold
        );
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct OnCallJson {
    at: Timestamp,
    rotas: Vec<RotaJson>,
}

#[derive(Debug, Serialize)]
struct RotaJson {
    id: String,
    name: String,
    /// `team` (one team's own) or `domain` (shared by sibling teams).
    kind: &'static str,
    teams: Vec<String>,
    budget_holder: String,
    time_zone: String,
    layers: Vec<LayerJson>,
}

#[derive(Debug, Serialize)]
struct LayerJson {
    layer: String,
    /// `None` before the rotation begins.
    now: Option<ShiftJson>,
    next: Option<ShiftJson>,
}

#[derive(Debug, Serialize)]
struct ShiftJson {
    rota: String,
    layer: String,
    person: String,
    since: Timestamp,
    until: Timestamp,
    hours: f64,
    #[serde(rename = "override")]
    is_override: bool,
}

impl From<&Shift> for ShiftJson {
    fn from(shift: &Shift) -> Self {
        Self {
            rota: shift.rota.to_string(),
            layer: shift.layer.clone(),
            person: shift.person.to_string(),
            since: shift.start,
            until: shift.end,
            hours: shift.end.duration_since(shift.start).as_secs_f64() / 3600.0,
            is_override: shift.is_override,
        }
    }
}

fn rota_json(now: &RotaNow) -> RotaJson {
    let rota = &now.rota;
    RotaJson {
        id: rota.id.to_string(),
        name: rota.name.clone(),
        kind: if rota.is_domain() { "domain" } else { "team" },
        teams: rota.teams.iter().map(ToString::to_string).collect(),
        budget_holder: rota.budget_holder.to_string(),
        time_zone: rota.time_zone_name.clone(),
        layers: now
            .layers
            .iter()
            .map(|layer| LayerJson {
                layer: layer.layer.clone(),
                now: layer.now.as_ref().map(ShiftJson::from),
                next: layer.next.as_ref().map(ShiftJson::from),
            })
            .collect(),
    }
}

pub fn oncall(cx: &Context, team: Option<&str>, at: Option<&str>) -> Result {
    let at = at.map(|text| TimeArg { name: "--at", text });
    let view = cx.ws.on_call(team, at).map_err(|e| match e {
        EngineError::UnknownTeam(_) => Failure::argument("--team", e),
        other => other.into(),
    })?;
    print_on_call(cx, &view.rotas, view.at, &view.zone, team);
    Ok(())
}

/// Who holds each layer of `rotas` at `at`: a table, or `--json`. `stopline oncall` prints a
/// desktop's view with it, `stopline hub oncall` the hub's.
pub fn print_on_call(
    cx: &Context,
    rotas: &[RotaNow],
    at: jiff::Timestamp,
    zone: &jiff::tz::TimeZone,
    team: Option<&str>,
) {
    let rotas: Vec<RotaJson> = rotas.iter().map(rota_json).collect();
    if cx.json {
        print_json(&OnCallJson { at, rotas });
        return;
    }
    if rotas.is_empty() {
        out!(
            "No rota covers {}: add [[rotas]] to the config (docs/config.md).",
            team.unwrap_or("any team")
        );
        return;
    }
    let mut rows = Vec::new();
    for rota in &rotas {
        for layer in &rota.layers {
            let (person, since, until) = match &layer.now {
                Some(s) => (
                    format!(
                        "{}{}",
                        s.person,
                        if s.is_override { " (override)" } else { "" }
                    ),
                    local_time(s.since, zone),
                    local_time(s.until, zone),
                ),
                None => ("-".into(), "not started".into(), "-".into()),
            };
            rows.push(vec![
                rota.id.clone(),
                rota.teams.join(","),
                layer.layer.clone(),
                person,
                since,
                until,
                layer.next.as_ref().map_or("-".into(), |s| s.person.clone()),
            ]);
        }
    }
    print_table(
        &[
            "ROTA", "TEAMS", "LAYER", "ON CALL", "SINCE", "UNTIL", "NEXT",
        ],
        &rows,
    );
}

pub fn shifts(
    cx: &Context,
    person: Option<&str>,
    rota: Option<&str>,
    from: &str,
    to: &str,
    format: Option<ShiftsFormat>,
) -> Result {
    let from = TimeArg {
        name: "--from",
        text: from,
    };
    let to = TimeArg {
        name: "--to",
        text: to,
    };
    let format = format.unwrap_or(if cx.json {
        ShiftsFormat::Json
    } else {
        ShiftsFormat::Table
    });
    let argument = |e: EngineError| match e {
        EngineError::UnknownPerson(_) => Failure::argument("--person", e),
        EngineError::UnknownRota(..) => Failure::argument("--rota", e),
        other => other.into(),
    };
    if format == ShiftsFormat::Ics {
        let (start, end) = cx.ws.period(from, to)?;
        let of = match (person, rota) {
            (Some(person), _) => CalendarFor::Person(person),
            (None, Some(rota)) => CalendarFor::Rota(rota),
            (None, None) => unreachable!("clap requires --person or --rota"),
        };
        let text = cx.ws.calendar(of, start, end).map_err(argument)?;
        // Written as it is: CRLF line ends are part of the format.
        crate::output::emit_raw(&text);
        return Ok(());
    }
    let shifts: Vec<Shift> = match (person, rota) {
        (Some(person), _) => cx.ws.shifts(person, from, to).map_err(argument)?,
        (None, Some(rota)) => cx.ws.rota_shifts(rota, from, to).map_err(argument)?,
        (None, None) => unreachable!("clap requires --person or --rota"),
    };
    if format == ShiftsFormat::Json {
        print_json(&shifts.iter().map(ShiftJson::from).collect::<Vec<_>>());
        return Ok(());
    }
    let zone = &cx.display_zone();
    let rows: Vec<Vec<String>> = shifts
        .iter()
        .map(|s| {
            let json = ShiftJson::from(s);
            vec![
                s.rota.to_string(),
                s.layer.clone(),
                s.person.to_string(),
                local_time(s.start, zone),
                local_time(s.end, zone),
                format!("{:.1}", json.hours),
                if s.is_override { "override" } else { "" }.to_owned(),
            ]
        })
        .collect();
    print_table(
        &["ROTA", "LAYER", "PERSON", "FROM", "TO", "HOURS", ""],
        &rows,
    );
    Ok(())
}

/// Prints the calendar feed's address for a person or a rota.
pub fn calendar_url(cx: &Context, person: Option<&str>, rota: Option<&str>) -> Result {
    let of = match (person, rota) {
        (Some(person), _) => CalendarFor::Person(person),
        (None, Some(rota)) => CalendarFor::Rota(rota),
        (None, None) => unreachable!("clap requires --person or --rota"),
    };
    let url = cx.ws.calendar_url(of).map_err(|e| match e {
        EngineError::UnknownPerson(_) => Failure::argument("--person", e),
        EngineError::UnknownRota(..) => Failure::argument("--rota", e),
        other => other.into(),
    })?;
    if cx.json {
        print_json(&serde_json::json!({ "url": url }));
    } else {
        out!("{url}");
        out!(
            "Subscribe to it in your calendar app. It is served while Stopline runs (the app or \
             `stopline serve`) and reaches 30 days back and 90 ahead; the key in it reads \
             calendars only."
        );
    }
    Ok(())
}

/// Sends a test page to this desktop, through the same notifier the engine uses.
pub fn notify_test(cx: &Context) -> Result {
    let person = cx.ws.whoami()?.map(|p| p.to_string());
    let runtime = crate::engine::runtime()?;
    let (status, shown) = runtime.block_on(send_test_page(person.as_deref()));
    if cx.json {
        print_json(&serde_json::json!({
            "notifications": status_json(&status),
            "shown": shown.is_ok(),
            "person": person,
        }));
    }
    match (&status, shown) {
        (NotifierStatus::Available { .. }, Ok(id)) => {
            if !cx.json {
                out!("Sent test page {id}: {status}.");
            }
            Ok(())
        }
        (NotifierStatus::Available { .. }, Err(e)) => Err(Failure::refused(e.to_string())),
        (NotifierStatus::Unavailable { .. }, _) => Err(Failure::refused(format!(
            "{status}; pages show as a bell and a line from `stopline serve` instead"
        ))),
    }
}

/// Sends a test message to each of a person's contacts, and says what each server said.
pub fn contact_test(cx: &Context, person: &str) -> Result {
    let config = cx.ws.config()?;
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let runtime = crate::engine::runtime()?;
    let tried = runtime.block_on(stopline_engine::contacts::test_contacts(
        &config,
        person,
        &env,
        &stopline_engine::secrets::OsKeyring,
        cx.ws.now(),
    ))?;
    if tried.is_empty() {
        return Err(Failure::refused(format!(
            "{person} has no contacts: add `contacts = [{{ kind = \"email\", to = \"…\" }}]` to them in the config (docs/paging.md)"
        )));
    }
    if cx.json {
        print_json(&serde_json::json!(
            tried
                .iter()
                .map(|t| serde_json::json!({
                    "channel": t.channel,
                    "address": t.address,
                    "delivered": t.outcome.is_ok(),
                    "outcome": match &t.outcome { Ok(words) | Err(words) => words },
                }))
                .collect::<Vec<_>>()
        ));
    } else {
        let rows: Vec<Vec<String>> = tried
            .iter()
            .map(|t| {
                let (result, words) = match &t.outcome {
                    Ok(words) => ("sent", words),
                    Err(error) => ("FAILED", error),
                };
                vec![
                    t.channel.to_owned(),
                    t.address.clone(),
                    result.to_owned(),
                    words.clone(),
                ]
            })
            .collect();
        print_table(
            &["CHANNEL", "ADDRESS", "RESULT", "WHAT THE SERVER SAID"],
            &rows,
        );
    }
    let failed = tried.iter().filter(|t| t.outcome.is_err()).count();
    if failed > 0 {
        return Err(Failure::refused(format!(
            "{failed} of {} contacts did not take the test message",
            tried.len()
        )));
    }
    Ok(())
}

fn status_json(status: &NotifierStatus) -> serde_json::Value {
    match status {
        NotifierStatus::Available { server, actions } => serde_json::json!({
            "available": true, "server": server, "actions": actions, "text": status.to_string(),
        }),
        NotifierStatus::Unavailable { reason } => serde_json::json!({
            "available": false, "reason": reason, "text": status.to_string(),
        }),
    }
}

/// This desktop: who sits here, whether an engine runs, what it found of notifications, and
/// which pages wait.
pub fn status(cx: &Context) -> Result {
    let status = cx.ws.status()?;
    let hub = cx.ws.hub_status()?;
    let person = status.person.as_ref().map(ToString::to_string);
    if cx.json {
        print_json(&serde_json::json!({
            "person": person,
            "engine_pid": status.engine_pid,
            "notifications": status.notifications,
            "pages_waiting": status.pages_waiting,
            "hub": hub.as_ref().map(hub_json),
        }));
        return Ok(());
    }
    out!(
        "person        {}",
        person
            .as_deref()
            .unwrap_or("nobody (stopline whoami --set PERSON)")
    );
    out!(
        "engine        {}",
        status
            .engine_pid
            .map_or("not running (stopline serve)".to_owned(), |pid| format!(
                "running, pid {pid}"
            ))
    );
    out!("notifications {}", status.notifications);
    out!("pages waiting {}", status.pages_waiting);
    out!("hub           {}", hub_line(cx, hub.as_ref()));
    for refused in hub.iter().flat_map(|h| &h.refused) {
        out!(
            "  refused     {} {}: {}",
            refused.name,
            refused.incident.map(|i| i.to_string()).unwrap_or_default(),
            refused.reason.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

/// "connected to URL as ben since …", "offline since … (why)", with the actions waiting.
fn hub_line(cx: &Context, hub: Option<&HubStatus>) -> String {
    let Some(hub) = hub else {
        return "not joined (stopline connect URL --token-stdin)".to_owned();
    };
    let zone = cx.display_zone();
    let state = match &hub.state {
        None => "not yet reached (start the engine: stopline serve)".to_owned(),
        Some(state) if state.connected => {
            format!("connected since {}", local_time(state.since, &zone))
        }
        Some(state) => format!(
            "offline since {} ({})",
            local_time(state.since, &zone),
            state.error.as_deref().unwrap_or("no answer")
        ),
    };
    format!(
        "{} as {}: {state}; {} actions waiting",
        hub.link.url, hub.link.person, hub.waiting
    )
}

fn hub_json(hub: &HubStatus) -> serde_json::Value {
    serde_json::json!({
        "url": hub.link.url,
        "person": hub.link.person,
        "desktop_id": hub.link.desktop_id,
        "connected": hub.state.as_ref().map(|s| s.connected),
        "since": hub.state.as_ref().map(|s| s.since.to_string()),
        "error": hub.state.as_ref().and_then(|s| s.error.clone()),
        "actions_waiting": hub.waiting,
        "oldest_waiting": hub.oldest_waiting.map(|t| t.to_string()),
        "refused": hub.refused.iter().map(|a| serde_json::json!({
            "id": a.id, "action": a.name, "incident": a.incident.map(|i| i.to_string()),
            "at": a.at.to_string(), "reason": a.reason,
        })).collect::<Vec<_>>(),
    })
}

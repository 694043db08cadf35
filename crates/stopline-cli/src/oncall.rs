//! The on-call subcommands: `whoami`, `oncall`, `shifts`, `override`, `notifications`,
//! `notify-test` and `status`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use serde::Serialize;
use stopline_core::clock::Clock;
use stopline_core::config::Config;
use stopline_core::rota::{Rota, Shift};
use stopline_engine::EngineError;
use stopline_engine::notify::{DesktopNotification, Loudness, NotifierStatus, desktop_notifier};
use stopline_engine::pager::{
    FLOOD_THRESHOLD_KEY, NOTIFICATIONS_KEY, TEAMMATES_KEY, WHOAMI_KEY, notification_settings,
};

use crate::Failure;
use crate::args::OnOff;
use crate::commands::Context;
use crate::output::{local_time, print_json, print_table};

type Result<T = ()> = std::result::Result<T, Failure>;

/// A time on the command line: with an offset (`2026-03-29T01:30:00Z`), or on the workspace's
/// wall clock (`2026-03-29 01:30`, `2026-03-29`: midnight). `arg` names the flag in errors.
pub fn parse_time(config: &Config, arg: &str, text: &str) -> Result<Timestamp> {
    let text = text.trim();
    let zone = &config.workspace.time_zone;
    let parsed = text.parse::<Timestamp>().ok().or_else(|| {
        let local = text.parse::<DateTime>().ok().or_else(|| {
            text.parse::<Date>()
                .ok()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })?;
        zone.to_ambiguous_timestamp(local).compatible().ok()
    });
    parsed.ok_or_else(|| {
        Failure::usage(format!(
            "{arg}: invalid time {text:?}: expected \"2026-03-29 09:00\" (the workspace's zone, {}), \"2026-03-29\" or \"2026-03-29T09:00:00Z\"",
            config.workspace.time_zone_name
        ))
    })
}

pub fn whoami(cx: &Context, set: Option<&str>, clear: bool) -> Result {
    let mut store = cx.store()?;
    if let Some(person) = set {
        let config = cx.config()?;
        let person = stopline_engine::desk::person(&config, person)?;
        store.set_desktop_setting(WHOAMI_KEY, person.as_str())?;
    } else if clear {
        store.set_desktop_setting(WHOAMI_KEY, "")?;
    }
    let person = store.desktop_setting(WHOAMI_KEY)?.filter(|p| !p.is_empty());
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
    rota: &str,
    layer: Option<&str>,
    person: &str,
    (from, to): (&str, &str),
    who: &str,
) -> Result {
    let config = cx.config()?;
    // Without --layer, the primary: the first layer of the rota (an unknown rota is reported by
    // the engine, with the rotas there are).
    let primary = config
        .rotas
        .iter()
        .find(|r| r.id.as_str() == rota)
        .and_then(|r| r.layers.first())
        .map_or("primary", |l| l.name.as_str());
    let request = stopline_engine::overrides::OverrideRequest {
        rota,
        layer: layer.unwrap_or(primary),
        person,
        from,
        to,
        who,
    };
    let added = stopline_engine::overrides::add_override(
        &cx.config_path,
        &config,
        request,
        cx.clock.now(),
    )?;
    if cx.json {
        print_json(&serde_json::json!({
            "rota": added.rota,
            "layer": added.layer,
            "person": added.person,
            "from": added.from,
            "to": added.to,
            "config": cx.config_path,
        }));
    } else {
        out!(
            "{} covers {} of {} from {} to {} (added to {}).",
            added.person,
            added.layer,
            added.rota,
            local_time(added.from, &config.workspace.time_zone),
            local_time(added.to, &config.workspace.time_zone),
            cx.config_path.display()
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
    let config = cx.config()?;
    let mut store = cx.store()?;
    if reset {
        store.delete_desktop_setting(TEAMMATES_KEY)?;
        store.delete_desktop_setting(FLOOD_THRESHOLD_KEY)?;
    }
    if let Some(teammates) = teammates {
        let value = if teammates == OnOff::On {
            "true"
        } else {
            "false"
        };
        store.set_desktop_setting(TEAMMATES_KEY, value)?;
    }
    if let Some(threshold) = flood_threshold {
        store.set_desktop_setting(FLOOD_THRESHOLD_KEY, &threshold.to_string())?;
    }
    let settings = notification_settings(&store, &config)?;
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

fn rota_json(rota: &Rota, at: Timestamp) -> RotaJson {
    let layers = (0..rota.layers.len())
        .map(|i| {
            let now = rota.on_call(i, at);
            // The next shift begins where this one ends (or, before the rotation, at its start).
            let next_at = now.as_ref().map(|s| s.end).or_else(|| {
                rota.layers[i]
                    .turn_start(0, &rota.time_zone)
                    .filter(|s| *s > at)
            });
            let next = next_at.and_then(|t| rota.on_call(i, t));
            LayerJson {
                layer: rota.layers[i].name.clone(),
                now: now.as_ref().map(ShiftJson::from),
                next: next.as_ref().map(ShiftJson::from),
            }
        })
        .collect();
    RotaJson {
        id: rota.id.to_string(),
        name: rota.name.clone(),
        kind: if rota.is_domain() { "domain" } else { "team" },
        teams: rota.teams.iter().map(ToString::to_string).collect(),
        budget_holder: rota.budget_holder.to_string(),
        time_zone: rota.time_zone_name.clone(),
        layers,
    }
}

pub fn oncall(cx: &Context, team: Option<&str>, at: Option<&str>) -> Result {
    let config = cx.config()?;
    let at = match at {
        Some(text) => parse_time(&config, "--at", text)?,
        None => cx.clock.now(),
    };
    if let Some(team) = team
        && stopline_engine::lookup::team(&config, team).is_err()
    {
        return Err(Failure::usage(format!(
            "--team: unknown team {team:?}: expected a team id (see `stopline teams`)"
        )));
    }
    let rotas: Vec<RotaJson> = config
        .rotas
        .iter()
        .filter(|r| team.is_none_or(|t| r.teams.iter().any(|id| id.as_str() == t)))
        .map(|r| rota_json(r, at))
        .collect();
    if cx.json {
        print_json(&OnCallJson { at, rotas });
        return Ok(());
    }
    if rotas.is_empty() {
        out!(
            "No rota covers {}: add [[rotas]] to the config (docs/config.md).",
            team.unwrap_or("any team")
        );
        return Ok(());
    }
    let zone = &config.workspace.time_zone;
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
    Ok(())
}

pub fn shifts(cx: &Context, person: &str, from: &str, to: &str) -> Result {
    let config = cx.config()?;
    let person = stopline_engine::desk::person(&config, person)
        .map_err(|e| Failure::usage(format!("--person: {e}")))?;
    let from = parse_time(&config, "--from", from)?;
    let to = parse_time(&config, "--to", to)?;
    if from >= to {
        return Err(Failure::usage("--to: must be after --from"));
    }
    let mut shifts: Vec<Shift> = config
        .rotas
        .iter()
        .flat_map(|r| r.shifts_of(&person, from, to))
        .collect();
    shifts.sort_by_key(|s| s.start);
    if cx.json {
        print_json(&shifts.iter().map(ShiftJson::from).collect::<Vec<_>>());
        return Ok(());
    }
    let zone = &config.workspace.time_zone;
    let rows: Vec<Vec<String>> = shifts
        .iter()
        .map(|s| {
            let json = ShiftJson::from(s);
            vec![
                s.rota.to_string(),
                s.layer.clone(),
                local_time(s.start, zone),
                local_time(s.end, zone),
                format!("{:.1}", json.hours),
                if s.is_override { "override" } else { "" }.to_owned(),
            ]
        })
        .collect();
    print_table(&["ROTA", "LAYER", "FROM", "TO", "HOURS", ""], &rows);
    Ok(())
}

/// Sends a test page to this desktop, through the same notifier the engine uses.
pub fn notify_test(cx: &Context) -> Result {
    let store = cx.store()?;
    let person = store.desktop_setting(WHOAMI_KEY)?.filter(|p| !p.is_empty());
    let runtime = crate::engine::runtime()?;
    let (status, shown) = runtime.block_on(async {
        let (actions, _received) = tokio::sync::mpsc::unbounded_channel();
        let notifier = desktop_notifier(actions).await;
        let shown = notifier
            .show(DesktopNotification {
                incident: None,
                summary: "Stopline: test page".to_owned(),
                body: format!(
                    "If you can read this, pages for {} reach this desktop.",
                    person.as_deref().unwrap_or("the person at this desktop")
                ),
                loudness: Loudness::Page,
                actions: Vec::new(),
                replaces: None,
            })
            .await;
        (notifier.status(), shown)
    });
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
        (NotifierStatus::Available { .. }, Err(e)) => Err(Failure {
            status: 1,
            message: e.to_string(),
        }),
        (NotifierStatus::Unavailable { .. }, _) => Err(Failure {
            status: 1,
            message: format!(
                "{status}; pages show as a bell and a line from `stopline serve` instead"
            ),
        }),
    }
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
    let store = cx.store()?;
    let person = store.desktop_setting(WHOAMI_KEY)?.filter(|p| !p.is_empty());
    let engine = match cx.data_dir.lock_engine() {
        Ok(_lock) => None,
        Err(EngineError::AlreadyRunning { pid, .. }) => Some(pid),
        Err(other) => return Err(other.into()),
    };
    let notifications = match (&engine, store.desktop_setting(NOTIFICATIONS_KEY)?) {
        (Some(_), Some(text)) => text,
        (None, Some(text)) => format!("{text} (when the engine last ran)"),
        (_, None) => "unknown: no engine has run on this data directory".to_owned(),
    };
    let waiting = store.undelivered_pages()?.len();
    if cx.json {
        print_json(&serde_json::json!({
            "person": person,
            "engine_pid": engine,
            "notifications": notifications,
            "pages_waiting": waiting,
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
        engine.map_or("not running (stopline serve)".to_owned(), |pid| format!(
            "running, pid {pid}"
        ))
    );
    out!("notifications {notifications}");
    out!("pages waiting {waiting}");
    Ok(())
}

//! The config from the command line: `init`, `check`, `teams`, `apps`.

use stopline_core::config::{DEMO_CONFIG, EXAMPLE_CONFIG};
use stopline_core::money::group_thousands;
use stopline_core::target::format_duration;
use stopline_engine::EngineError;
use stopline_engine::files;

use crate::context::Context;
use crate::failure::Result;
use crate::output::{ApplicationJson, CheckJson, ProblemJson, TeamJson, print_json, print_table};

pub fn init(cx: &Context, demo: bool, force: bool) -> Result {
    let text = if demo { DEMO_CONFIG } else { EXAMPLE_CONFIG };
    files::write_config(cx.ws.config_path(), text, force)?;
    let what = if demo {
        "the demo workspace"
    } else {
        "an example config"
    };
    if cx.json {
        print_json(&serde_json::json!({ "written": cx.ws.config_path(), "demo": demo }));
    } else {
        out!("Wrote {what} to {}", cx.ws.config_path().display());
        out!("Next: edit it, then run `stopline check`.");
    }
    Ok(())
}

pub fn check(cx: &Context) -> Result {
    let file = cx.ws.config_path().display().to_string();
    match cx.ws.config() {
        Ok(config) => {
            if cx.json {
                print_json(&CheckJson {
                    ok: true,
                    file,
                    people: config.people.len(),
                    teams: config.teams.len(),
                    applications: config.applications.len(),
                    problems: Vec::new(),
                });
            } else {
                out!(
                    "{file}: ok ({} people, {} teams, {} applications)",
                    config.people.len(),
                    config.teams.len(),
                    config.applications.len()
                );
            }
            Ok(())
        }
        Err(EngineError::ConfigInvalid(error)) => {
            if cx.json {
                print_json(&CheckJson {
                    ok: false,
                    file,
                    people: 0,
                    teams: 0,
                    applications: 0,
                    problems: error.problems.iter().map(ProblemJson::from).collect(),
                });
            }
            Err(EngineError::ConfigInvalid(error).into())
        }
        Err(other) => Err(other.into()),
    }
}

pub fn teams(cx: &Context) -> Result {
    let config = cx.ws.config()?;
    if cx.json {
        let teams: Vec<TeamJson> = config
            .teams
            .iter()
            .map(|t| TeamJson::new(&config, t))
            .collect();
        print_json(&teams);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = config
        .teams
        .iter()
        .map(|t| {
            vec![
                t.id.to_string(),
                t.name.clone(),
                t.kind.as_str().replace('_', " "),
                t.members.len().to_string(),
                config.applications_of(&t.id).count().to_string(),
            ]
        })
        .collect();
    print_table(&["TEAM", "NAME", "KIND", "PEOPLE", "APPS"], &rows);
    Ok(())
}

pub fn apps(cx: &Context) -> Result {
    let config = cx.ws.config()?;
    if cx.json {
        let apps: Vec<ApplicationJson> = config
            .applications
            .iter()
            .map(|a| ApplicationJson::new(&config, a))
            .collect();
        print_json(&apps);
        return Ok(());
    }
    let currency = &config.workspace.currency;
    let rows: Vec<Vec<String>> = config
        .applications
        .iter()
        .map(|a| {
            vec![
                a.id.to_string(),
                a.name.clone(),
                a.team.to_string(),
                a.target.to_string(),
                format_duration(a.target.tolerable_unavailability_per_week()),
                format!("{currency} {}", group_thousands(a.exposure_per_hour.0)),
            ]
        })
        .collect();
    print_table(
        &["APP", "NAME", "TEAM", "TARGET", "DOWN/WEEK", "EXPOSURE/H"],
        &rows,
    );
    Ok(())
}

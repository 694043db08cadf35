//! The config as its author meets it: `init`, `check`, and every kind of mistake named at its
//! `file:line:column`.

use serde_json::Value;

use crate::support::Sandbox;

#[test]
fn demo_workspace_checks_clean() {
    let sandbox = Sandbox::demo();
    let check = sandbox.json(&["check"]);
    assert_eq!(check["ok"], true);
    assert!(check["teams"].as_u64().unwrap() >= 13);
    assert!(check["applications"].as_u64().unwrap() >= 30);
    let human = sandbox.ok(&["check"]);
    assert!(human.contains(": ok ("), "{human}");
}

#[test]
fn init_never_replaces_a_config_without_force() {
    let sandbox = Sandbox::demo();
    let before = sandbox.read_config();
    let stderr = sandbox.fails(&["init"], 2);
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(sandbox.read_config(), before);
    sandbox.ok(&["init", "--force"]);
    assert_ne!(sandbox.read_config(), before);
    sandbox.ok(&["check"]);
}

/// Applies `edit` to the demo config and expects `stopline check` to fail with exit 2 and a
/// message at `file:line:column` containing `expected`.
fn assert_config_error(edit: impl Fn(&str) -> String, line: usize, expected: &str) {
    let sandbox = Sandbox::demo();
    let broken = edit(&sandbox.read_config());
    sandbox.write_config(&broken);
    let stderr = sandbox.fails(&["check"], 2);
    let place = format!("{}:{line}:", sandbox.config_path().display());
    assert!(stderr.contains(&place), "expected {place} in: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    // The config is read, never rewritten.
    assert_eq!(sandbox.read_config(), broken);
    let json: Value = serde_json::from_slice(&sandbox.run(&["check", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"][0]["line"], line);
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn an_application_whose_team_does_not_exist_is_a_config_error() {
    let config = Sandbox::demo().read_config();
    let line = line_of(&config, "team = \"payments\"");
    assert_config_error(
        |c| c.replacen("team = \"payments\"", "team = \"paymnets\"", 1),
        line,
        "applications[0].team: team \"paymnets\" does not exist",
    );
}

#[test]
fn a_duplicate_id_is_a_config_error() {
    let config = Sandbox::demo().read_config();
    let line = line_of(&config, "id = \"refunds\"");
    assert_config_error(
        |c| c.replacen("id = \"refunds\"", "id = \"payment-gateway\"", 1),
        line,
        "duplicate application id \"payment-gateway\"",
    );
}

#[test]
fn an_unknown_key_is_a_config_error() {
    assert_config_error(
        |c| {
            c.replacen(
                "currency = \"GBP\"",
                "currency = \"GBP\"\ncolour = \"teal\"",
                1,
            )
        },
        10,
        "unknown field `colour`",
    );
}

#[test]
fn a_toml_syntax_error_is_a_config_error() {
    assert_config_error(
        |c| {
            c.replacen(
                "name = \"Northwind Retail\"",
                "name = \"Northwind Retail",
                1,
            )
        },
        7,
        "",
    );
}

#[test]
fn without_a_config_commands_say_how_to_make_one() {
    let sandbox = Sandbox::new();
    for args in [
        &["check"][..],
        &["teams"],
        &["route", "--journey", "checkout"],
    ] {
        let stderr = sandbox.fails(args, 2);
        assert!(stderr.contains("stopline init"), "{stderr}");
    }
}

#[test]
fn version_names_the_release_and_the_commit_it_was_built_from() {
    let sandbox = Sandbox::new();
    let said = sandbox.ok(&["--version"]);
    let said = said.trim();
    let expected = format!("stopline {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(said.starts_with(&expected), "{said}");
    let commit = said.trim_start_matches(&expected).trim_end_matches(')');
    // Built in this repository: its HEAD, or what the packager named (STOPLINE_COMMIT).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match (std::env::var("STOPLINE_COMMIT").ok(), head) {
        (Some(named), _) if !named.trim().is_empty() => assert_eq!(commit, named.trim()),
        (_, Some(head)) => assert_eq!(commit, head),
        (_, None) => assert_eq!(commit, "unknown"),
    }
}

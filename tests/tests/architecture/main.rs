//! The rules that span crates: layers point one way and every crate says what it owns and
//! follows the workspace lints (checked against `cargo metadata`); no module imports one that
//! imports it back (`modules`); the repository stands alone and keeps its files short
//! (`repository`).

mod modules;
mod repository;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// What the test suites share: it may be a dev-dependency of any crate, and of nothing else.
const TEST_SUPPORT: &str = "stopline-tests";

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Each workspace package's name → (manifest path, the workspace packages it depends on). A
/// dependency on the shared test support (`stopline-tests`) that only tests use
/// (`[dev-dependencies]`) is left out: it never reaches a build people run.
fn workspace_graph() -> BTreeMap<String, (PathBuf, BTreeSet<String>)> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| !(d["kind"] == "dev" && d["name"] == TEST_SUPPORT))
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d))
                .collect();
            (
                p["name"].as_str().unwrap().to_owned(),
                (PathBuf::from(p["manifest_path"].as_str().unwrap()), deps),
            )
        })
        .collect()
}

#[test]
fn layers_point_one_way() {
    // core ← store ← engine ← hosts (cli, desktop), and core ← hub ← cli: the hub applies the
    // same rules on PostgreSQL, never through the desktop's SQLite store. Both servers keep one
    // HTTP contract, `stopline-http` (on core), and talk to Alertmanager with one client,
    // `stopline-alertmanager` (on core), and send pages beyond the desk with one sender,
    // `stopline-reach` (on core); those two build their HTTP clients one way, through
    // `stopline-http`. A crate may use only the layers listed here.
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("stopline-core", &[][..]),
        ("stopline-store", &["stopline-core"][..]),
        ("stopline-http", &["stopline-core"][..]),
        (
            "stopline-alertmanager",
            &["stopline-core", "stopline-http"][..],
        ),
        ("stopline-reach", &["stopline-core", "stopline-http"][..]),
        (
            "stopline-engine",
            &[
                "stopline-core",
                "stopline-store",
                "stopline-http",
                "stopline-alertmanager",
                "stopline-reach",
            ][..],
        ),
        (
            "stopline-hub",
            &[
                "stopline-core",
                "stopline-http",
                "stopline-alertmanager",
                "stopline-reach",
            ][..],
        ),
        (
            "stopline-cli",
            &[
                "stopline-core",
                "stopline-store",
                "stopline-engine",
                "stopline-hub",
            ][..],
        ),
        (
            "stopline-desktop",
            &["stopline-core", "stopline-store", "stopline-engine"][..],
        ),
        ("stopline-tests", &[][..]),
    ]);
    let graph = workspace_graph();
    let packages: BTreeSet<&str> = graph.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = allowed.keys().copied().collect();
    assert_eq!(
        packages, known,
        "a new crate needs its place in the layering"
    );
    for (name, (_, deps)) in &graph {
        for dep in deps {
            assert!(
                allowed[name.as_str()].contains(&dep.as_str()),
                "{name} depends on {dep}, against the layering"
            );
        }
    }
}

#[test]
fn every_crate_says_what_it_owns_and_uses_the_workspace_lints() {
    for (name, (manifest, _)) in workspace_graph() {
        let dir = manifest.parent().unwrap();
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{name} does not use [workspace.lints]"
        );
        let root = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
            .unwrap();
        let source = std::fs::read_to_string(&root).unwrap();
        let has_doc = source.lines().any(|l| l.starts_with("//!"));
        assert!(
            has_doc,
            "{} has no //! paragraph saying what it owns",
            root.display()
        );
    }
}

/// The root source file (`lib.rs` or `main.rs`) of every crate of the workspace.
pub(crate) fn crate_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for (_, (manifest, _)) in workspace_graph() {
        let dir = manifest.parent().unwrap();
        for file in ["src/lib.rs", "src/main.rs"] {
            let root = dir.join(file);
            if root.exists() {
                roots.push(root);
            }
        }
    }
    roots
}

//! Records the commit this build came from, as `STOPLINE_BUILD_COMMIT`: `STOPLINE_COMMIT` when
//! the packager sets it (a build from a source archive has no repository), else the
//! repository's `HEAD`, else "unknown". Read by `stopline --version` and the app's Settings.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=STOPLINE_COMMIT");
    // Built again when HEAD moves: a new commit, a checkout.
    // (Only files that exist: Cargo runs the script on every build for one that does not.)
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let dir = Path::new(&dir);
        let mut watched = vec![dir.join("HEAD"), dir.join("packed-refs")];
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(dir.join(head));
        }
        for path in watched.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    } else {
        // Not in a repository: nothing to watch but the environment.
        println!("cargo:rerun-if-changed=build.rs");
    }
    let commit = std::env::var("STOPLINE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=STOPLINE_BUILD_COMMIT={}", commit.trim());
}

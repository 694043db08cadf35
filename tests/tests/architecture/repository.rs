//! The repository stands alone, and its source files stay short enough to read.
//!
//! `.ci/run` proves the first for real (it runs `make test` in a copy of the checkout with nothing
//! beside it); this catches the mistake earlier and names the file: no file git knows of refers to
//! a folder beside the repository. And no source file (Rust, TypeScript, JavaScript) is longer than
//! [`MAX_LINES`]: a file that long holds more than one idea.

use std::path::PathBuf;
use std::process::Command;

/// The longest a source file may be.
const MAX_LINES: usize = 900;

/// What a build or an install writes into the tree: never part of the repository.
const NOT_SOURCE: [&str; 6] = [
    ".git",
    "target",
    "node_modules",
    "dist",
    "test-artifacts",
    "gen",
];

/// Every file of the repository: what git knows of in the work tree (committed, staged, or new and
/// not ignored), or, in a copy without git (`.ci/run` tests one), every file but what builds and
/// installs write.
fn repository_files() -> Vec<PathBuf> {
    let root = crate::workspace_root();
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|output| output.status.success());
    match listed {
        Some(output) => output
            .stdout
            .split(|b| *b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| root.join(String::from_utf8_lossy(name).as_ref()))
            .filter(|path| path.is_file())
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(&root, &mut files);
            files
        }
    }
}

fn walk(dir: &std::path::Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !NOT_SOURCE.iter().any(|n| name == *n) {
                walk(&path, files);
            }
        } else if path.is_file() {
            files.push(path);
        }
    }
}

fn is_source(path: &std::path::Path) -> bool {
    let generated = path.components().any(|c| c.as_os_str() == "gen");
    let source = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "rs" | "ts" | "tsx" | "mjs" | "js"));
    source && !generated
}

/// The lines of `files` that name the folder that sits beside the repository on a developer's
/// machine (its shared reference and fixtures), as `path:line: text`.
fn references_beside(files: &[PathBuf]) -> Vec<String> {
    // Spelled in two parts so this file does not name it itself.
    let outside = ["../", "shared"].concat();
    let outside_fixtures = ["shared/", "fixtures"].concat();
    let mut found = Vec::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // not text: images, icons
        };
        for (number, line) in text.lines().enumerate() {
            if line.contains(&outside) || line.contains(&outside_fixtures) {
                found.push(format!(
                    "{}:{}: {}",
                    path.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

#[test]
fn nothing_in_the_repository_reads_a_folder_beside_it() {
    let found = references_beside(&repository_files());
    assert!(
        found.is_empty(),
        "these lines reach outside the repository; copy what they need into it (tests/fixtures):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_for_a_folder_beside_it_finds_one() {
    let dir = std::env::temp_dir().join(format!("stopline-beside-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reads = dir.join("reads.rs");
    let clean = dir.join("clean.rs");
    let image = dir.join("icon.png");
    std::fs::write(
        &reads,
        ["let p = \"", "../", "shar", "ed/fixtures/x.json\";\n"].concat(),
    )
    .unwrap();
    std::fs::write(&clean, "let p = \"tests/fixtures/x.json\";\n").unwrap();
    std::fs::write(&image, [0xff_u8, 0xfe, 0x00, 0x80]).unwrap();
    let found = references_beside(&[reads.clone(), clean, image]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!("{}:1:", reads.display())),
        "{found:?}"
    );
}

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let mut long = Vec::new();
    for path in repository_files().into_iter().filter(|p| is_source(p)) {
        let lines = std::fs::read_to_string(&path).map_or(0, |t| t.lines().count());
        if lines > MAX_LINES {
            long.push(format!("{}: {lines} lines", path.display()));
        }
    }
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines; split them by concern:\n{}",
        long.join("\n")
    );
}

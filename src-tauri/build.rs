//! Declares the app's commands in an app manifest, which makes each one a permission
//! (`allow-overview`), so a window can call only what its capability file grants. The names are
//! read from `src/commands.rs`, where `ipc_commands!` declares each command once.

fn main() {
    println!("cargo:rerun-if-changed=src/commands.rs");
    let source = std::fs::read_to_string("src/commands.rs")
        .unwrap_or_else(|e| panic!("cannot read src/commands.rs: {e}"));
    // Inside `ipc_commands! { … }`, each command starts `    async fn name(`.
    let source: &'static str = String::leak(source);
    let names: Vec<&'static str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("    async fn "))
        .filter_map(|rest| rest.split_once('(').map(|(name, _)| name))
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert!(!names.is_empty(), "no commands found in src/commands.rs");
    let names: &'static [&'static str] = Vec::leak(names);
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(names));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}

fn main() {
    // Declaring the app's commands in a manifest makes each one a permission (`allow-overview`),
    // so a window can call only what its capability file grants.
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
            "overview",
            "incident",
            "act",
            "set_me",
            "desk_route",
            "desk_open",
            "sources",
            "test_page",
            "on_call",
            "add_override",
            "settings",
            "save_settings",
            "open_link",
            "unrouted",
            "assign_alert",
            "report",
            "report_csv",
        ]));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}

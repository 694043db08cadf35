//! The desktop binary as a user starts it, where no window can be shown.

use std::process::Command;

#[test]
fn without_a_display_it_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_stopline-desktop"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("STOPLINE_CONFIG", dir.path().join("stopline.toml"))
        .env("STOPLINE_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no display"), "{stderr}");
    assert!(stderr.contains("stopline"), "points to the CLI: {stderr}");
    assert!(
        !dir.path().join("stopline.toml").exists(),
        "nothing was written"
    );
}

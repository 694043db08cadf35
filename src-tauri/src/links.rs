//! Web links of alerts and runbooks open in the person's browser: the app's own window never
//! navigates away from Stopline, and nothing but http and https is opened.

use crate::dto::{CommandError, ErrorCode};

/// Opens `url` with the desktop's opener (`xdg-open`, `open` on macOS).
pub fn open_in_browser(url: &str) -> Result<(), CommandError> {
    let url = url.trim();
    let web = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(char::is_whitespace);
    if !web {
        return Err(CommandError {
            code: ErrorCode::BadInput,
            message: format!("not a web link, so it is not opened: {url}"),
        });
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        // Reaped on a thread of its own, so no finished opener lingers as a zombie.
        .map(|mut child| drop(std::thread::spawn(move || child.wait())))
        .map_err(|e| CommandError {
            code: ErrorCode::Refused,
            message: format!("cannot start {opener} to open {url}: {e}"),
        })
}

//! Start at login, hidden in the tray (`--hidden`), so pages arrive from the moment the person
//! logs in without a window in the way. This module is the one place that knows how each
//! platform does it:
//!
//! - **Linux**: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/stopline.desktop` (GNOME,
//!   KDE, Xfce and most other desktops run it at login), starting the app on the same config and
//!   data directory as now. Written here rather than by `tauri-plugin-autostart`, whose Linux
//!   side does a smaller job: it writes under `~/.config` whatever `XDG_CONFIG_HOME` says, puts
//!   the program and its arguments on the `Exec` line unquoted (a path with a space breaks the
//!   entry), and cannot carry the config and data directory the app runs on. The entry is one
//!   small file, written atomically; removing it turns the setting off.
//! - **macOS and Windows**: `tauri-plugin-autostart` (a launch agent; the `Run` registry key),
//!   registered by [`register`] on those platforms only, starting `stopline-desktop --hidden` on
//!   the default config and data directory. That code is not built by this project's CI, which
//!   runs on Linux.

use std::path::Path;
#[cfg(target_os = "linux")]
use std::path::PathBuf;

use crate::launch::HIDDEN;

/// Why start at login cannot be turned on or off here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AutostartError(pub String);

/// Where start at login is set up for this person, or why it cannot be.
#[derive(Debug, Clone)]
pub enum Autostart {
    /// The entry's path; it exists when start at login is on.
    #[cfg(target_os = "linux")]
    Entry(PathBuf),
    /// The platform's login items, through `tauri-plugin-autostart`.
    #[cfg(not(target_os = "linux"))]
    Launcher(tauri::AppHandle),
    Unsupported(String),
}

/// Adds what start at login needs to the app: nothing on Linux, the plugin elsewhere.
pub fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(tauri_plugin_autostart::Builder::new().arg(HIDDEN).build());
    builder
}

impl Autostart {
    /// This person's start at login. `app` is the running app (the plugin lives there on macOS
    /// and Windows); Linux does not need it.
    pub fn for_this_user(app: Option<&tauri::AppHandle>) -> Self {
        #[cfg(target_os = "linux")]
        {
            let _ = app;
            match dirs::config_dir() {
                Some(dir) => Self::in_config_dir(&dir),
                None => {
                    Self::Unsupported("there is no config directory (HOME is unset)".to_owned())
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        match app {
            Some(app) => Self::Launcher(app.clone()),
            None => Self::Unsupported("the app is still starting".to_owned()),
        }
    }

    #[cfg(target_os = "linux")]
    pub fn in_config_dir(config_dir: &Path) -> Self {
        Self::Entry(config_dir.join("autostart").join(ENTRY))
    }

    pub fn is_on(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Self::Entry(path) => path.exists(),
            #[cfg(not(target_os = "linux"))]
            Self::Launcher(app) => {
                use tauri_plugin_autostart::ManagerExt;
                app.autolaunch().is_enabled().unwrap_or(false)
            }
            Self::Unsupported(_) => false,
        }
    }

    /// What to tell the person: where the entry is, or why there is none.
    pub fn detail(&self) -> String {
        match self {
            #[cfg(target_os = "linux")]
            Self::Entry(path) => path.display().to_string(),
            #[cfg(not(target_os = "linux"))]
            Self::Launcher(app) => {
                use tauri_plugin_autostart::ManagerExt;
                match app.autolaunch().is_enabled() {
                    Ok(_) => "this system's login items".to_owned(),
                    Err(error) => format!("cannot read this system's login items: {error}"),
                }
            }
            Self::Unsupported(reason) => reason.clone(),
        }
    }

    /// Turns start at login on or off. On Linux the entry starts `executable` with the
    /// environment variables in `env` (the config and data directory the app runs on); the
    /// plugin elsewhere starts the installed app on its defaults.
    pub fn set(
        &self,
        on: bool,
        executable: &Path,
        env: &[(&str, String)],
    ) -> Result<(), AutostartError> {
        match self {
            #[cfg(target_os = "linux")]
            Self::Entry(path) => set_entry(path, on, executable, env),
            #[cfg(not(target_os = "linux"))]
            Self::Launcher(app) => {
                use tauri_plugin_autostart::ManagerExt;
                let _ = (executable, env);
                let manager = app.autolaunch();
                let done = if on {
                    manager.enable()
                } else {
                    manager.disable()
                };
                done.map_err(|e| AutostartError(e.to_string()))
            }
            Self::Unsupported(reason) => Err(AutostartError(reason.clone())),
        }
    }
}

/// The file name of the entry in the autostart directory.
#[cfg(target_os = "linux")]
const ENTRY: &str = "stopline.desktop";

#[cfg(target_os = "linux")]
fn set_entry(
    path: &Path,
    on: bool,
    executable: &Path,
    env: &[(&str, String)],
) -> Result<(), AutostartError> {
    if !on {
        return match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AutostartError(format!(
                "cannot remove {}: {e}",
                path.display()
            ))),
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| AutostartError(format!("cannot create {}: {e}", dir.display())))?;
    }
    stopline_engine::files::write_atomically(path, entry(executable, env).as_bytes())
        .map_err(|e| AutostartError(e.to_string()))
}

/// The text of the autostart entry.
#[cfg(target_os = "linux")]
fn entry(executable: &Path, env: &[(&str, String)]) -> String {
    let mut command: Vec<String> = Vec::new();
    if !env.is_empty() {
        command.push("env".to_owned());
        command.extend(
            env.iter()
                .map(|(name, value)| quote(&format!("{name}={value}"))),
        );
    }
    command.push(quote(&executable.display().to_string()));
    command.push(HIDDEN.to_owned());
    format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Stopline\n\
         Comment=Incident command: pages reach this desktop while Stopline runs in the tray\n\
         Exec={}\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n",
        command.join(" ")
    )
}

/// One argument of an `Exec` line: quoted when it needs to be, with the characters the Desktop
/// Entry Specification reserves inside quotes escaped. `%` is doubled everywhere, since a single
/// one starts a field code.
#[cfg(target_os = "linux")]
fn quote(argument: &str) -> String {
    let escaped = argument.replace('%', "%%");
    let plain = escaped
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c));
    if plain && !escaped.is_empty() {
        return escaped;
    }
    let mut quoted = String::from("\"");
    for c in escaped.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    // The file format itself reads `\` as an escape in string values, so each one is doubled.
    quoted.replace('\\', "\\\\")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn turning_it_on_writes_an_entry_that_starts_the_app_hidden_and_off_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let autostart = Autostart::in_config_dir(dir.path());
        assert!(!autostart.is_on());
        let executable = Path::new("/opt/Stop line/stopline-desktop");
        let env = [("STOPLINE_DATA_DIR", "/home/ana/incidents 100%".to_owned())];
        autostart.set(true, executable, &env).unwrap();
        assert!(autostart.is_on());
        let text = std::fs::read_to_string(dir.path().join("autostart/stopline.desktop")).unwrap();
        assert!(
            text.starts_with("[Desktop Entry]\nType=Application\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Exec=env \"STOPLINE_DATA_DIR=/home/ana/incidents 100%%\" \"/opt/Stop line/stopline-desktop\" --hidden\n"
            ),
            "{text}"
        );
        // Idempotent both ways.
        autostart.set(true, executable, &env).unwrap();
        autostart.set(false, executable, &env).unwrap();
        assert!(!autostart.is_on());
        autostart.set(false, executable, &env).unwrap();
    }

    #[test]
    fn reserved_characters_are_escaped() {
        assert_eq!(
            quote("/usr/bin/stopline-desktop"),
            "/usr/bin/stopline-desktop"
        );
        assert_eq!(quote("a\"b"), "\"a\\\\\"b\"");
        assert_eq!(quote("$HOME"), "\"\\\\$HOME\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn without_a_place_for_the_entry_it_says_why() {
        let autostart = Autostart::Unsupported("no HOME".to_owned());
        assert!(!autostart.is_on());
        let error = autostart.set(true, Path::new("/x"), &[]).unwrap_err();
        assert_eq!(error.to_string(), "no HOME");
    }
}

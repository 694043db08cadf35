//! Start at login: an XDG autostart entry (`~/.config/autostart/stopline.desktop`), which GNOME,
//! KDE, Xfce and most other Linux desktops run when the person logs in. The entry starts the app
//! hidden in the tray (`--hidden`), on the same config and data directory as now, so pages arrive
//! from the moment of login without a window in the way.
//!
//! No plugin: the entry is one small text file, written atomically, and removing it turns the
//! setting off.

use std::path::{Path, PathBuf};

/// Why start at login cannot be turned on or off here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AutostartError(pub String);

/// The file name of the entry in the autostart directory.
const ENTRY: &str = "stopline.desktop";
/// The argument that starts the app in the tray, without its window.
pub const HIDDEN: &str = "--hidden";

/// Where start at login is set up for this person, or why it cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Autostart {
    /// The entry's path; it exists when start at login is on.
    Entry(PathBuf),
    Unsupported(String),
}

impl Autostart {
    /// This person's autostart entry, from the XDG config directory.
    pub fn for_this_user() -> Self {
        if !cfg!(target_os = "linux") {
            return Self::Unsupported(
                "start at login is set up by the Linux desktop's autostart folder; on this system, add Stopline to the login items yourself".to_owned(),
            );
        }
        match dirs::config_dir() {
            Some(dir) => Self::in_config_dir(&dir),
            None => Self::Unsupported("there is no config directory (HOME is unset)".to_owned()),
        }
    }

    pub fn in_config_dir(config_dir: &Path) -> Self {
        Self::Entry(config_dir.join("autostart").join(ENTRY))
    }

    pub fn is_on(&self) -> bool {
        matches!(self, Self::Entry(path) if path.exists())
    }

    /// What to tell the person: where the entry is, or why there is none.
    pub fn detail(&self) -> String {
        match self {
            Self::Entry(path) => path.display().to_string(),
            Self::Unsupported(reason) => reason.clone(),
        }
    }

    /// Turns start at login on (writing an entry that starts `executable` with the environment
    /// variables that point it at this config and data directory) or off (removing the entry).
    pub fn set(
        &self,
        on: bool,
        executable: &Path,
        env: &[(&str, String)],
    ) -> Result<(), AutostartError> {
        let path = match self {
            Self::Entry(path) => path,
            Self::Unsupported(reason) => return Err(AutostartError(reason.clone())),
        };
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
}

/// The text of the autostart entry.
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

#[cfg(test)]
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

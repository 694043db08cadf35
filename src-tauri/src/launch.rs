//! What `stopline-desktop` is started with: `--hidden` (start at login: wait in the tray),
//! `--open INCIDENT` (a notification's Open button: show that incident), `--version`, `--help`.
//! The same words travel to the running app when a second start hands over to it (`instance`),
//! so they are read by one function in both places.

/// The argument that starts the app in the tray, without its window.
pub const HIDDEN: &str = "--hidden";
/// The argument that names the incident to show first.
pub const OPEN: &str = "--open";

/// The usage line printed by `--help` and after a wrong argument.
pub const USAGE: &str = "usage: stopline-desktop [--hidden] [--open INCIDENT] [--version] [--help]";

/// What `--help` prints.
pub const HELP: &str = "usage: stopline-desktop [--hidden] [--open INCIDENT] [--version] [--help]

  --hidden          start in the tray, without the window (start at login)
  --open INCIDENT   show this incident first
  --version         print the version and the commit it was built from

The config and data directory are those of the `stopline` command (STOPLINE_CONFIG, STOPLINE_DATA_DIR).";

/// What one start asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// Start in the tray, without the window.
    pub hidden: bool,
    /// Show this incident first.
    pub open: Option<String>,
    /// Print the version and stop.
    pub version: bool,
    /// Print the usage and stop.
    pub help: bool,
}

impl Launch {
    /// Reads the arguments after the program's name.
    pub fn parse<I, S>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut launch = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            match arg {
                HIDDEN => launch.hidden = true,
                "--version" | "-V" => launch.version = true,
                "--help" | "-h" => launch.help = true,
                OPEN => match args.next() {
                    Some(id) => launch.open = Some(incident(id.as_ref())?),
                    None => return Err(format!("{OPEN} needs an incident, as in {OPEN} INC-12")),
                },
                _ => match arg.strip_prefix("--open=") {
                    Some(id) => launch.open = Some(incident(id)?),
                    None => return Err(format!("unknown argument `{arg}`")),
                },
            }
        }
        Ok(launch)
    }
}

fn incident(id: &str) -> Result<String, String> {
    let id = id.trim();
    if id.is_empty() || id.starts_with('-') {
        return Err(format!("{OPEN} needs an incident, as in {OPEN} INC-12"));
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_login_and_a_notification_start_the_app_with() {
        assert_eq!(
            Launch::parse::<[&str; 0], &str>([]).unwrap(),
            Launch::default()
        );
        let login = Launch::parse([HIDDEN]).unwrap();
        assert!(login.hidden && login.open.is_none());
        assert_eq!(
            Launch::parse([OPEN, "INC-7"]).unwrap().open.as_deref(),
            Some("INC-7")
        );
        assert_eq!(
            Launch::parse(["--open=INC-8", HIDDEN]).unwrap(),
            Launch {
                hidden: true,
                open: Some("INC-8".to_owned()),
                ..Launch::default()
            }
        );
        assert!(Launch::parse(["--version"]).unwrap().version);
    }

    #[test]
    fn the_help_starts_with_the_usage_and_names_every_argument() {
        assert!(HELP.starts_with(USAGE));
        for argument in [HIDDEN, OPEN, "--version"] {
            assert!(HELP.contains(&format!("\n  {argument}")), "{argument}");
        }
    }

    #[test]
    fn a_wrong_argument_is_named() {
        assert_eq!(
            Launch::parse(["--hiden"]).unwrap_err(),
            "unknown argument `--hiden`"
        );
        assert!(
            Launch::parse([OPEN])
                .unwrap_err()
                .contains("needs an incident")
        );
        assert!(
            Launch::parse([OPEN, "--hidden"])
                .unwrap_err()
                .contains("needs an incident")
        );
    }
}

//! One app per data directory. A second start (from the launcher, from login, from a
//! notification's Open button while `stopline serve` hosts the engine) hands its arguments to
//! the app that runs, which comes forward (on the incident of `--open`), and ends.
//!
//! Two parts, each doing one job:
//! - **Who is first**: a lock file in the data directory (`desktop.lock`, holding the pid). The
//!   operating system releases it when the process ends, even on `kill -9`, so nothing stale
//!   keeps the app from starting. It works the same on every platform.
//! - **The hand-over**: `tauri-plugin-single-instance`. On Linux it owns a D-Bus name on the
//!   session bus, which this module names after the data directory (two people's desktops on one
//!   machine, or a test's, do not meet); on macOS it listens on a socket in `/tmp`, on Windows
//!   it uses a named mutex and a window message, both named after the app's identifier alone.
//!
//! The plugin decides first (it runs while the app is built); the lock is taken after it, so of
//! two starts at once the one that hands over is never the one left holding the lock. Where the
//! plugin cannot hand over (Linux without a session bus), a start that then finds the lock
//! taken says so and exits with an error instead of running a second engine beside the first.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use crate::launch::Launch;

/// Why this app cannot take the lock of its data directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InstanceError(pub String);

/// The outcome of trying to be the app of a data directory.
#[derive(Debug)]
pub enum Claim {
    /// This process is the app; keep the value alive as long as it runs.
    First(FirstInstance),
    /// Another app holds the data directory (its pid, when known).
    Second { pid: String },
}

/// The lock held by the first app.
#[derive(Debug)]
pub struct FirstInstance {
    _lock: File,
}

/// The pid of the app holding `data_dir`, when one does; takes nothing.
pub fn running(data_dir: &Path) -> Option<String> {
    let lock_path = data_dir.join("desktop.lock");
    let lock = File::open(&lock_path).ok()?;
    match lock.try_lock_shared() {
        // Free: dropping the file lets it go again.
        Ok(()) => None,
        Err(_) => Some(
            std::fs::read_to_string(&lock_path)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        ),
    }
}

/// Becomes the app of `data_dir`, or finds that another already is.
pub fn claim(data_dir: &Path) -> Result<Claim, InstanceError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| InstanceError(format!("cannot create {}: {e}", data_dir.display())))?;
    let lock_path = data_dir.join("desktop.lock");
    let mut lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .map_err(|e| InstanceError(format!("cannot open {}: {e}", lock_path.display())))?;
    // A start that only looks ([`running`]) holds a shared lock for an instant: try a few times
    // before taking the lock for another app's.
    let mut attempt = 0;
    let locked = loop {
        match lock.try_lock() {
            Err(TryLockError::WouldBlock) if attempt < 4 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => break other,
        }
    };
    match locked {
        Ok(()) => {
            // The pid, for the message a second start prints.
            let _ = lock.set_len(0);
            let _ = writeln!(lock, "{}", std::process::id());
            Ok(Claim::First(FirstInstance { _lock: lock }))
        }
        Err(TryLockError::WouldBlock) => Ok(Claim::Second {
            pid: std::fs::read_to_string(&lock_path)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }),
        Err(TryLockError::Error(e)) => Err(InstanceError(format!(
            "cannot lock {}: {e}",
            lock_path.display()
        ))),
    }
}

/// The plugin that carries a second start's arguments to the first app, which comes forward on
/// them. Registered before anything else: in a second start it hands over and ends the process
/// while the app is being built.
pub fn plugin(data_dir: &Path) -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(dbus_id(data_dir))
        .callback(|app, argv, _cwd| {
            // argv[0] is the program. Words this version does not know (a newer app started
            // while an older one runs) still bring the window forward.
            let launch = Launch::parse(argv.iter().skip(1)).unwrap_or_default();
            match launch.open {
                Some(id) => crate::tray::open_incident(app, &id),
                // Started at login while already running: stay as it is.
                None if launch.hidden => {}
                None => crate::tray::show_window(app),
            }
        })
        .build()
}

/// The D-Bus name's stem for one data directory: the app's identifier and a digest of the
/// directory's path (FNV-1a, the same in every build, so an upgraded app finds an older one).
/// Used on Linux only; the plugin ignores it elsewhere.
fn dbus_id(data_dir: &Path) -> String {
    let path = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let digest = path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    // A D-Bus name's element may not start with a digit, hence the `d`.
    format!("org.stopline.desktop.d{digest:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_holds_the_lock_and_it_outlives_no_process() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(running(dir.path()), None, "nothing ran here yet");
        let Claim::First(first) = claim(dir.path()).unwrap() else {
            panic!("the first claim wins");
        };
        let Claim::Second { pid } = claim(dir.path()).unwrap() else {
            panic!("a second claim finds the first");
        };
        assert_eq!(pid, std::process::id().to_string());
        assert_eq!(running(dir.path()), Some(pid));
        drop(first);
        assert_eq!(running(dir.path()), None, "looking takes nothing");
        assert!(matches!(claim(dir.path()).unwrap(), Claim::First(_)));
    }

    #[test]
    fn each_data_directory_has_a_name_of_its_own_on_the_bus() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        assert_eq!(dbus_id(a.path()), dbus_id(a.path()));
        assert_ne!(dbus_id(a.path()), dbus_id(b.path()));
        let name = dbus_id(a.path());
        assert!(name.starts_with("org.stopline.desktop.d"), "{name}");
        assert_eq!(name.len(), "org.stopline.desktop.d".len() + 16);
    }
}

//! Where Stopline keeps things on disk: the data directory (with the store) and the config file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use stopline_core::config::Config;
use stopline_store::Store;

use crate::{EngineError, Result};

/// The store's file name inside the data directory.
pub const STORE_FILE: &str = "stopline.db";
/// The webhook token's file inside the data directory (mode 0600).
pub const TOKEN_FILE: &str = "webhook-token";
/// Written by `stopline connect` (see `crate::hub_link`): while it exists, this desktop is
/// joined to a hub and uses [`REPLICA_FILE`].
/// The key acknowledge links are signed with (mode 0600, made on first use).
pub const ACK_LINK_KEY_FILE: &str = "ack-links.key";
pub const HUB_LINK_FILE: &str = "hub.json";
/// The replica's store file, used while joined to a hub.
pub const REPLICA_FILE: &str = "replica.db";
/// Held by the running engine, so two engines never serve (and page) from one data directory.
pub const LOCK_FILE: &str = "engine.lock";

/// The config file's name inside the config directory.
pub const CONFIG_FILE: &str = "stopline.toml";

/// `$XDG_DATA_HOME/stopline` (usually `~/.local/share/stopline`).
pub fn default_data_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("stopline"))
}

/// `$XDG_CONFIG_HOME/stopline/stopline.toml` (usually `~/.config/stopline/stopline.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("stopline").join(CONFIG_FILE))
}

/// The directory that holds the store (and later the lock file and webhook token).
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The store in use: the replica while this desktop is joined to a hub
    /// (`crate::hub_link`), otherwise its own.
    pub fn store_path(&self) -> PathBuf {
        if self.root.join(HUB_LINK_FILE).exists() {
            self.replica_path()
        } else {
            self.standalone_store_path()
        }
    }

    /// The desktop's own store, used while it has joined no hub (and kept aside while it has).
    pub fn standalone_store_path(&self) -> PathBuf {
        self.root.join(STORE_FILE)
    }

    /// The replica of a hub's incidents, used while this desktop is joined to it.
    pub fn replica_path(&self) -> PathBuf {
        self.root.join(REPLICA_FILE)
    }

    pub fn token_path(&self) -> PathBuf {
        self.root.join(TOKEN_FILE)
    }

    /// The webhook token: the one stored here, or a new one stored now.
    pub fn webhook_token(&self) -> Result<String> {
        create_private_dir(&self.root)?;
        crate::secrets::load_or_create_token(&self.token_path())
    }

    /// The key that signs the acknowledge links pages carry away from the desk: the one stored
    /// here, or a new random one stored now. Replacing the file voids every link sent.
    pub fn ack_link_key(&self) -> Result<Vec<u8>> {
        create_private_dir(&self.root)?;
        crate::secrets::load_or_create_token(&self.root.join(ACK_LINK_KEY_FILE))
            .map(String::into_bytes)
    }

    /// Takes the engine lock, or says which process holds it. The lock lasts as long as the
    /// returned value, and the OS releases it if the process dies, even by `kill -9`.
    pub fn lock_engine(&self) -> Result<EngineLock> {
        create_private_dir(&self.root)?;
        let path = self.root.join(LOCK_FILE);
        let io = |action| {
            let path = path.clone();
            move |source| EngineError::Io {
                action,
                path,
                source,
            }
        };
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("cannot open the engine lock"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                return Err(EngineError::AlreadyRunning {
                    data_dir: self.root.clone(),
                    pid: holder.trim().to_owned(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("cannot lock")(e)),
        }
        file.set_len(0)
            .map_err(io("cannot write the engine lock"))?;
        writeln!(file, "{}", std::process::id()).map_err(io("cannot write the engine lock"))?;
        Ok(EngineLock { _file: file })
    }

    /// Opens the store, creating the directory (readable by its owner only) on first use.
    pub fn open_store(&self) -> Result<Store> {
        create_private_dir(&self.root)?;
        Ok(Store::open(&self.store_path())?)
    }
}

/// Proof that this process is the data directory's one engine.
#[derive(Debug)]
pub struct EngineLock {
    _file: fs::File,
}

pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    let io = |source| EngineError::Io {
        action: "cannot create directory",
        path: path.to_owned(),
        source,
    };
    if path.is_dir() {
        return tighten_dir(path).map_err(io);
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(io)
}

/// A data directory that others can read or enter (one made by hand with the usual mode 0755)
/// is narrowed: group and others lose every permission, the owner's and special bits stay. It
/// holds the store and the webhook token. Only a directory this user owns is changed; for any
/// other, or when the change is refused, the log says so and nothing fails.
fn tighten_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = fs::metadata(path)?;
        let mode = meta.permissions().mode();
        if mode & 0o077 == 0 {
            return Ok(());
        }
        let mine = meta.uid() == rustix::process::geteuid().as_raw();
        let narrowed = if mine {
            fs::set_permissions(path, fs::Permissions::from_mode(mode & !0o077))
        } else {
            Err(std::io::Error::other("it belongs to another user"))
        };
        match narrowed {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                was = format!("{:o}", mode & 0o7777),
                now = format!("{:o}", mode & 0o7777 & !0o077),
                "the data directory was open to other users: narrowed"
            ),
            Err(error) => tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o7777),
                %error,
                "the data directory is open to other users and cannot be narrowed: the store and token are still private (0600)"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The largest config file read: 10,000 applications take about 2 MiB.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Reads and checks the config file. Problems name `file:line:column` with the path as given.
pub fn load_config(path: &Path) -> Result<Config> {
    let text = read_config_text(path)?;
    Ok(Config::parse(&path.display().to_string(), &text)?)
}

/// The config file's text, read safely whatever the path turns out to be: only a regular file
/// (a FIFO would block the reader forever, `/dev/zero` would never end), at most
/// [`MAX_CONFIG_BYTES`], and UTF-8. Opening does not block, even on a FIFO.
pub fn read_config_text(path: &Path) -> Result<String> {
    use std::io::Read;
    let unreadable = |reason: String| EngineError::ConfigUnreadable {
        path: path.to_owned(),
        reason,
    };
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Reinterpreting the flag's bits as the `c_int` `open` takes.
        #[allow(clippy::cast_possible_wrap)]
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EngineError::ConfigMissing {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(EngineError::Io {
                action: "cannot read config",
                path: path.to_owned(),
                source,
            });
        }
    };
    let io = |source| EngineError::Io {
        action: "cannot read config",
        path: path.to_owned(),
        source,
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(unreadable(format!(
            "it is {kind}; give the path of a TOML file"
        )));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(unreadable(format!(
            "{} bytes, larger than the {} MiB a config may be",
            meta.len(),
            MAX_CONFIG_BYTES / 1024 / 1024
        )));
    }
    // The file may grow while it is read: never take more than the limit.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(unreadable(format!(
            "larger than the {} MiB a config may be",
            MAX_CONFIG_BYTES / 1024 / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "not UTF-8 text (an invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Writes a config file, refusing to replace one unless `overwrite`. The text is written to a
/// temporary file and renamed into place, so a crash never leaves half a config.
pub fn write_config(path: &Path, text: &str, overwrite: bool) -> Result<()> {
    if path.exists() && !overwrite {
        return Err(EngineError::ConfigExists {
            path: path.to_owned(),
        });
    }
    write_atomically(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file renamed into place: a reader or a crash
/// sees the old file or the new one, never half of one. Creates the parent directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |action| {
        move |source| EngineError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io("cannot create the directory for"))?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = std::path::PathBuf::from(temporary);
    let mut file = fs::File::create(&temporary).map_err(io("cannot write"))?;
    file.write_all(bytes).map_err(io("cannot write"))?;
    file.sync_all().map_err(io("cannot write"))?;
    fs::rename(&temporary, path).map_err(io("cannot write"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_config_is_named_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.toml");
        let err = load_config(&path).unwrap_err();
        assert!(matches!(err, EngineError::ConfigMissing { .. }));
        // How to make one is the host's to say (`stopline init` on the command line).
        assert!(err.to_string().contains(&path.display().to_string()));
    }

    #[test]
    fn write_config_never_replaces_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/stopline.toml");
        write_config(&path, "a = 1\n", false).unwrap();
        let err = write_config(&path, "b = 2\n", false).unwrap_err();
        assert!(matches!(err, EngineError::ConfigExists { .. }));
        assert_eq!(fs::read_to_string(&path).unwrap(), "a = 1\n");
        write_config(&path, "b = 2\n", true).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "b = 2\n");
    }

    #[test]
    fn only_one_engine_holds_a_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let held = data.lock_engine().unwrap();
        let err = data.lock_engine().unwrap_err();
        assert!(
            err.to_string().contains(&std::process::id().to_string()),
            "names the holder: {err}"
        );
        drop(held);
        data.lock_engine().unwrap();
    }

    #[test]
    fn the_data_dir_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        data.open_store().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.root()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(data.store_path().exists());
    }
}

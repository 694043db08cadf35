//! The webhook token and other secrets: generated with the OS's random source, stored readable by
//! the owner only, compared in constant time, and never logged.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use stopline_core::settings::SecretRef;

use crate::{EngineError, Result};

/// The service name Stopline's entries have in the OS keyring.
pub const KEYRING_SERVICE: &str = "stopline";

/// Why the keyring could not do what was asked, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyringError(pub String);

/// A place secrets are kept: the OS keyring, or (for failure injection in tests) something else.
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// The secret stored under `entry`; `None` when there is none.
    fn get(&self, entry: &str) -> std::result::Result<Option<String>, KeyringError>;
    fn set(&self, entry: &str, secret: &str) -> std::result::Result<(), KeyringError>;
    /// Whether there was something to delete.
    fn delete(&self, entry: &str) -> std::result::Result<bool, KeyringError>;
}

/// The OS keyring: the Secret Service on Linux (GNOME Keyring, KWallet), Keychain on macOS,
/// Credential Manager on Windows.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(name: &str) -> std::result::Result<keyring::Entry, KeyringError> {
        keyring::Entry::new(KEYRING_SERVICE, name)
            .map_err(|e| KeyringError(format!("the OS keyring is not available: {e}")))
    }
}

impl SecretStore for OsKeyring {
    fn get(&self, entry: &str) -> std::result::Result<Option<String>, KeyringError> {
        match Self::entry(entry)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError(format!(
                "cannot read keyring entry {entry:?}: {e}"
            ))),
        }
    }

    fn set(&self, entry: &str, secret: &str) -> std::result::Result<(), KeyringError> {
        Self::entry(entry)?
            .set_password(secret)
            .map_err(|e| KeyringError(format!("cannot store keyring entry {entry:?}: {e}")))
    }

    fn delete(&self, entry: &str) -> std::result::Result<bool, KeyringError> {
        match Self::entry(entry)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(KeyringError(format!(
                "cannot delete keyring entry {entry:?}: {e}"
            ))),
        }
    }
}

/// Reads a secret a config refers to. `what` says what it is for, in messages.
pub fn resolve(
    secret: &SecretRef,
    what: &str,
    env: &HashMap<String, String>,
    keyring: &dyn SecretStore,
) -> Result<String> {
    let found = match secret {
        SecretRef::Env(name) => env.get(name).map(|v| v.trim().to_owned()),
        SecretRef::Keyring(entry) => keyring
            .get(entry)
            .map_err(|reason| EngineError::SecretUnavailable {
                secret: secret.to_string(),
                reason: reason.to_string(),
            })?
            .map(|v| v.trim().to_owned()),
    };
    match found {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(EngineError::MissingSecret {
            secret: secret.to_string(),
            what: what.to_owned(),
            hint: match secret {
                SecretRef::Env(_) => "set it in the engine's environment".to_owned(),
                SecretRef::Keyring(entry) => format!("store it with `stopline secret set {entry}`"),
            },
        }),
    }
}

/// The shortest token or routing key accepted: a shorter one can be guessed.
pub const MIN_SECRET_CHARS: usize = 16;

/// Refuses a secret shorter than [`MIN_SECRET_CHARS`]; `what` names it in the error.
pub fn check_strength(secret: &str, what: &str) -> Result<()> {
    let length = secret.chars().count();
    if length < MIN_SECRET_CHARS {
        return Err(EngineError::WeakSecret {
            what: what.to_owned(),
            length,
        });
    }
    Ok(())
}

/// A new token: 32 random bytes as 64 hex digits.
pub fn generate_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::Io {
        action: "cannot read random bytes for",
        path: "the webhook token".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the token stored at `path`, or generates one and stores it with mode 0600.
pub fn load_or_create_token(path: &Path) -> Result<String> {
    let io = |action| {
        move |source| EngineError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    match fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("cannot read the webhook token at")(e)),
    }
    let token = generate_token()?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(io("cannot write the webhook token to"))?;
    file.write_all(token.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(io("cannot write the webhook token to"))?;
    Ok(token)
}

pub use stopline_http::constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhook-token");
        let first = load_or_create_token(&path).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(load_or_create_token(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_ne!(generate_token().unwrap(), first);
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let source = crate::alertmanager::AlertmanagerSource {
            name: "am".into(),
            urls: vec!["http://127.0.0.1:9093".into()],
            poll_interval: std::time::Duration::from_secs(15),
            bearer_token: Some("am-secret-token".into()),
            write_back: None,
        };
        let key = crate::webhook::RoutingKey {
            key: "routing-secret".into(),
            source: "stock".into(),
            application: stopline_core::ids::ApplicationId::new("stock-sync").unwrap(),
        };
        let options = crate::serve::ServeOptions {
            token: Some("webhook-secret".into()),
            env: HashMap::from([("KEY".to_owned(), "env-secret".to_owned())]),
            ..Default::default()
        };
        let printed = format!("{source:?} {key:?} {options:?}");
        for secret in [
            "am-secret-token",
            "routing-secret",
            "webhook-secret",
            "env-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
    }
}

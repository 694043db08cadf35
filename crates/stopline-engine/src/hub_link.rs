//! Whether this desktop has joined a team hub, and as whom (docs/team.md).
//!
//! `stopline connect` writes `hub.json` in the data directory: the hub's address, the person
//! its token belongs to, and this desktop's id. The token itself is kept in the OS keyring
//! (entry `hub-token.DESKTOP_ID`), never in a file or the store. While the link exists the
//! engine uses `replica.db` (a replica of the hub's incidents and the person's queue of
//! actions) instead of `stopline.db`, which stays as it was: the desktop's standalone history,
//! kept aside, not uploaded and not lost. `stopline disconnect` removes the link and the token,
//! and moves the replica aside.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::secrets::SecretStore;
use crate::{EngineError, Result};

pub use crate::files::{HUB_LINK_FILE, REPLICA_FILE};

/// A desktop's membership of a hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubLink {
    /// Such as `https://hub.example:9177`, without a trailing slash.
    pub url: String,
    /// Whose token this desktop holds: every action here is theirs.
    pub person: String,
    /// Made once when joining; the hub knows the desktop by it.
    pub desktop_id: String,
    pub connected_at: Timestamp,
}

impl HubLink {
    /// Whether the desktop of `data_dir` has joined a hub, and as whom.
    pub fn of(data_dir: &crate::files::DataDir) -> Result<Option<HubLink>> {
        Self::read(data_dir.root())
    }

    /// The keyring entry holding the person's token.
    pub fn keyring_entry(&self) -> String {
        format!("hub-token.{}", self.desktop_id)
    }

    /// The person's token, from the keyring.
    pub fn token(&self, keyring: &dyn SecretStore) -> Result<String> {
        let entry = self.keyring_entry();
        match keyring.get(&entry) {
            Ok(Some(token)) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
            Ok(_) => Err(EngineError::HubTokenMissing { entry }),
            Err(reason) => Err(EngineError::SecretUnavailable {
                secret: format!("keyring entry {entry:?}"),
                reason: reason.to_string(),
            }),
        }
    }

    /// Reads the link in `dir`; `None` when this desktop has not joined a hub.
    pub fn read(dir: &Path) -> Result<Option<HubLink>> {
        let path = dir.join(HUB_LINK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(EngineError::Io {
                    action: "cannot read",
                    path,
                    source,
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| EngineError::ConfigUnreadable {
                path,
                reason: format!(
                    "line {} column {}: {e} (remove it with `stopline disconnect`)",
                    e.line(),
                    e.column()
                ),
            })
    }

    /// Writes the link in `dir`, replacing any.
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::files::create_private_dir(dir)?;
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        crate::files::write_atomically(&dir.join(HUB_LINK_FILE), text.as_bytes())
    }
}

/// Checks the address a person gave `stopline connect`: `https://HOST[:PORT]`, or `http://`
/// for a hub on loopback (or anywhere with `insecure_plaintext`). Answers it without a
/// trailing slash.
pub fn check_hub_url(text: &str, insecure_plaintext: bool) -> Result<String> {
    let bad = |why: &str| EngineError::BadHubUrl {
        url: text.to_owned(),
        why: why.to_owned(),
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("it names no host"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback && !insecure_plaintext {
                return Err(bad(
                    "plain http beyond loopback would send the token in the clear: use https \
                     (or --insecure-plaintext on a network you trust)",
                ));
            }
        }
        other => return Err(bad(&format!("scheme {other:?}: expected https or http"))),
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad(
            "give only the scheme, host and port (and a path prefix)",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A new desktop id: the person's id and eight random hex digits (`ben-7f3a91c2`).
pub fn new_desktop_id(person: &str) -> Result<String> {
    let token = crate::secrets::generate_token()?;
    Ok(format!("{person}-{}", &token[..8]))
}

/// Where a replica goes when its desktop disconnects: beside it, named by the time, never over
/// another.
pub fn set_aside_path(dir: &Path, now: Timestamp) -> PathBuf {
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut path = dir.join(format!("replica-{stamp}.db"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("replica-{stamp}-{n}.db"));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses_are_https_or_loopback() {
        assert_eq!(
            check_hub_url("https://hub.example:9177/", false).unwrap(),
            "https://hub.example:9177"
        );
        assert_eq!(
            check_hub_url("http://127.0.0.1:9178", false).unwrap(),
            "http://127.0.0.1:9178"
        );
        assert!(check_hub_url("http://[::1]:9178", false).is_ok());
        assert!(check_hub_url("http://localhost:9178", false).is_ok());
        let refused = check_hub_url("http://10.0.0.1:9178", false)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("in the clear"), "{refused}");
        assert!(check_hub_url("http://10.0.0.1:9178", true).is_ok());
        assert!(check_hub_url("ftp://hub", false).is_err());
        assert!(check_hub_url("hub.example", false).is_err());
        assert!(check_hub_url("https://ben:pw@hub.example", false).is_err());
    }

    #[test]
    fn a_damaged_link_is_named_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(HUB_LINK_FILE), "{\"url\": 3}").unwrap();
        let error = HubLink::read(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("hub.json") && error.contains("line 1 column"),
            "{error}"
        );
    }
}

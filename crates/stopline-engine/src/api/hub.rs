//! Joining a team hub and acting on a desktop that has (docs/team.md): `connect`, `disconnect`,
//! the hub's line in the status, and [`Workspace::act_shared`], through which every action a
//! person takes on a joined desktop is applied here at once and queued for the hub.

use jiff::Timestamp;
use serde_json::Value;
use stopline_core::incident::IncidentId;
use stopline_store::{HubAction, Store};

use super::Workspace;
use crate::hub_client::HubClient;
use crate::hub_link::{HubLink, check_hub_url, new_desktop_id, set_aside_path};
use crate::hub_sync::{HUB_STATE_KEY, HubState, sync_once};
use crate::pager::WHOAMI_KEY;
use crate::secrets::SecretStore;
use crate::{EngineError, Result};

/// An action as the hub's protocol names it: `name` and its `args` (docs/hub-protocol.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    pub name: &'static str,
    pub incident: Option<IncidentId>,
    pub args: Value,
}

impl Mutation {
    /// A mutation about one incident: `args` gains `"incident": "INC-N"`.
    pub fn on(name: &'static str, incident: IncidentId, mut args: Value) -> Self {
        if let Value::Object(map) = &mut args {
            map.insert("incident".to_owned(), Value::String(incident.to_string()));
        }
        Self {
            name,
            incident: Some(incident),
            args,
        }
    }
}

/// What `stopline connect` found.
#[derive(Debug, Clone)]
pub struct Connected {
    pub link: HubLink,
    pub name: Option<String>,
    /// Incidents in the replica after the first pull.
    pub incidents: usize,
    /// The desktop's own store, kept as it was.
    pub standalone: std::path::PathBuf,
}

/// A joined desktop's standing with its hub.
#[derive(Debug, Clone)]
pub struct HubStatus {
    pub link: HubLink,
    /// How the hub answered last; `None` before the engine first synced.
    pub state: Option<HubState>,
    /// The person's actions not yet decided by the hub, and when the oldest was taken.
    pub waiting: u64,
    pub oldest_waiting: Option<Timestamp>,
    /// The latest actions the hub refused, newest first.
    pub refused: Vec<HubAction>,
}

impl Workspace {
    /// Whether this desktop has joined a hub.
    pub fn hub_link(&self) -> Result<Option<HubLink>> {
        HubLink::of(self.data_dir())
    }

    /// Runs a person's action (see `act`); on a joined desktop, also queues it for the hub in
    /// the same transaction, described by `mutation` as the person saw the incident before it.
    pub(super) fn act_shared<T>(
        &self,
        mutation: impl FnOnce(&Store, &HubLink) -> Result<Mutation>,
        work: impl FnOnce(&mut Store, Timestamp) -> Result<T>,
    ) -> Result<T> {
        let joined = self.hub_link()?;
        let queued = joined.is_some();
        let value = self.act(|store, now| {
            let Some(link) = joined else {
                return work(store, now);
            };
            let mutation = mutation(store, &link)?;
            let mark = store.replica_mark()?;
            let value = work(store, now)?;
            store.queue_mutation(mutation.name, &mutation.args, mutation.incident, now, mark)?;
            Ok(value)
        })?;
        // Committed: an engine in this process (the app's) pushes it now.
        if queued {
            crate::hub_sync::queued_here();
        }
        Ok(value)
    }

    /// Joins the hub at `url` with a person's `token`: checks both with the hub, keeps the
    /// token in `keyring`, sets this desktop's own store aside and fills a replica from the
    /// hub. Refused while an engine runs on this data directory (stop it first), or while
    /// joined already. Anything that fails leaves the desktop as it was.
    pub async fn connect(
        &self,
        url: &str,
        token: &str,
        insecure_plaintext: bool,
        keyring: &dyn SecretStore,
    ) -> Result<Connected> {
        if let Some(link) = self.hub_link()? {
            return Err(EngineError::AlreadyJoined {
                hub: link.url,
                person: link.person,
            });
        }
        let url = check_hub_url(url, insecure_plaintext)?;
        let token = token.trim();
        crate::secrets::check_strength(token, "the hub token")?;
        let _lock = self.data_dir().lock_engine()?;
        let client = HubClient::new(&url, token)?;
        let who = client.whoami().await?;
        if let Ok(config) = self.config() {
            crate::lookup::person(&config, &who.person)?;
        }
        let link = HubLink {
            url,
            person: who.person.clone(),
            desktop_id: new_desktop_id(&who.person)?,
            connected_at: self.now(),
        };
        let entry = link.keyring_entry();
        keyring
            .set(&entry, token)
            .map_err(|reason| EngineError::SecretUnavailable {
                secret: format!("keyring entry {entry:?}"),
                reason: reason.to_string(),
            })?;
        match self.fill_replica(&client, &link).await {
            Ok(incidents) => Ok(Connected {
                standalone: self.data_dir().standalone_store_path(),
                link,
                name: who.name,
                incidents,
            }),
            Err(error) => {
                // Back to standalone: no link, no token, no half-made replica.
                self.close_store();
                let _ = std::fs::remove_file(
                    self.data_dir().root().join(crate::hub_link::HUB_LINK_FILE),
                );
                remove_replica(&self.data_dir().replica_path());
                let _ = keyring.delete(&entry);
                Err(error)
            }
        }
    }

    async fn fill_replica(&self, client: &HubClient, link: &HubLink) -> Result<usize> {
        // A replica left by an interrupted connect is no one's: start clean.
        remove_replica(&self.data_dir().replica_path());
        link.write(self.data_dir().root())?;
        self.close_store();
        let store = self.store()?;
        let person = link.person.clone();
        store
            .run(move |s| Ok::<_, EngineError>(s.set_desktop_setting(WHOAMI_KEY, &person)?))
            .await?;
        let clock = self.clock();
        sync_once(client, &store, link, &clock).await?;
        store
            .run(|s| Ok::<_, EngineError>(s.incidents(stopline_store::IncidentFilter::All)?.len()))
            .await
    }

    /// Leaves the hub: the token leaves the keyring, the replica is moved aside (never
    /// deleted) and the desktop's own store is used again. Refused while actions wait for the
    /// hub unless `discard_waiting` (they stay in the replica set aside).
    pub fn disconnect(
        &self,
        discard_waiting: bool,
        keyring: &dyn SecretStore,
    ) -> Result<Disconnected> {
        let link = self.hub_link()?.ok_or(EngineError::NotJoined)?;
        let _lock = self.data_dir().lock_engine()?;
        let waiting = self.with_store(|s| Ok::<_, EngineError>(s.queue_state()?.waiting))?;
        if waiting > 0 && !discard_waiting {
            return Err(EngineError::ActionsWaiting { waiting });
        }
        self.close_store();
        let replica = self.data_dir().replica_path();
        let aside = set_aside_path(self.data_dir().root(), self.now());
        for suffix in ["", "-wal", "-shm"] {
            let from = path_with(&replica, suffix);
            if from.exists() {
                std::fs::rename(&from, path_with(&aside, suffix)).map_err(|source| {
                    EngineError::Io {
                        action: "cannot move aside",
                        path: from.clone(),
                        source,
                    }
                })?;
            }
        }
        let link_path = self.data_dir().root().join(crate::hub_link::HUB_LINK_FILE);
        std::fs::remove_file(&link_path).map_err(|source| EngineError::Io {
            action: "cannot remove",
            path: link_path,
            source,
        })?;
        if let Err(reason) = keyring.delete(&link.keyring_entry()) {
            tracing::warn!(%reason, "cannot remove the hub token from the keyring");
        }
        Ok(Disconnected {
            link,
            replica_kept: aside,
            discarded: waiting,
        })
    }

    /// The hub this desktop has joined and how it stands; `None` when it has joined none.
    pub fn hub_status(&self) -> Result<Option<HubStatus>> {
        let Some(link) = self.hub_link()? else {
            return Ok(None);
        };
        self.with_store(|store| {
            let state = store
                .desktop_setting(HUB_STATE_KEY)?
                .and_then(|t| serde_json::from_str(&t).ok());
            let queue = store.queue_state()?;
            let refused = store
                .hub_actions(None, 50)?
                .into_iter()
                .filter(|a| a.status == stopline_store::ActionStatus::Refused)
                .take(5)
                .collect();
            Ok(Some(HubStatus {
                link,
                state,
                waiting: queue.waiting,
                oldest_waiting: queue.oldest,
                refused,
            }))
        })
    }
}

/// What `stopline disconnect` did.
#[derive(Debug, Clone)]
pub struct Disconnected {
    pub link: HubLink,
    pub replica_kept: std::path::PathBuf,
    /// Actions that had not reached the hub (kept in the replica set aside).
    pub discarded: u64,
}

fn path_with(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    text.into()
}

fn remove_replica(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(path_with(path, suffix));
    }
}

//! This desktop: who sits at it (what the app and the notifications do, they do as that person),
//! how pages show here (on top of the config's `[notifications]`), and whether an engine runs on
//! its data directory. These settings live in the store beside the data they belong to.

use stopline_core::ids::PersonId;
use stopline_core::settings::NotificationSettings;

use super::Workspace;
use crate::pager::{
    FLOOD_THRESHOLD_KEY, NOTIFICATIONS_KEY, TEAMMATES_KEY, WHOAMI_KEY, notification_settings,
};
use crate::{EngineError, Result};

/// How pages show on this desktop, and whether this desktop chose it (else the config decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationChoices {
    pub settings: NotificationSettings,
    pub chosen_here: bool,
}

/// A change to this desktop's notification choices; `None` leaves one as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationsChange {
    pub teammates: Option<bool>,
    pub flood_threshold: Option<u32>,
    /// Forget this desktop's choices first: the config decides again.
    pub reset: bool,
}

/// What the Settings view shows of this desktop.
#[derive(Debug, Clone)]
pub struct SettingsView {
    pub me: Option<PersonId>,
    /// Everyone in the config, id and name.
    pub people: Vec<(PersonId, String)>,
    pub notifications: NotificationChoices,
}

/// This desktop at a glance (`stopline status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopStatus {
    pub person: Option<PersonId>,
    /// The process id of the engine running on this data directory, if one is.
    pub engine_pid: Option<String>,
    /// What the engine found of this desktop's notification server.
    pub notifications: String,
    /// Pages recorded but not yet shown here.
    pub pages_waiting: usize,
}

impl Workspace {
    /// Who sits at this desktop, if anyone was chosen.
    pub fn whoami(&self) -> Result<Option<PersonId>> {
        let chosen = self.with_store(|store| Ok(store.desktop_setting(WHOAMI_KEY)?))?;
        Ok(chosen
            .filter(|p| !p.is_empty())
            .and_then(|p| PersonId::new(p).ok()))
    }

    /// Says who sits at this desktop (a person in the config), or nobody.
    pub fn set_whoami(&self, person: Option<&str>) -> Result<Option<PersonId>> {
        let person = match person {
            Some(text) => Some(crate::lookup::person(&*self.config()?, text)?),
            None => None,
        };
        // A joined desktop's person is the one whose token it holds.
        if let Some(link) = self.hub_link()?
            && person.as_ref().is_none_or(|p| p.as_str() != link.person)
        {
            return Err(EngineError::SignedInAsAnother {
                hub: link.url,
                person: link.person,
                asked: person.map_or_else(|| "nobody".to_owned(), |p| p.to_string()),
            });
        }
        let value = person.as_ref().map_or("", PersonId::as_str).to_owned();
        self.with_store(|store| Ok(store.set_desktop_setting(WHOAMI_KEY, &value)?))?;
        Ok(person)
    }

    /// How pages show on this desktop.
    pub fn notifications(&self) -> Result<NotificationChoices> {
        let config = self.config()?;
        self.with_store(|store| {
            let mut chosen_here = false;
            for key in [TEAMMATES_KEY, FLOOD_THRESHOLD_KEY] {
                chosen_here |= store.desktop_setting(key)?.is_some();
            }
            Ok(NotificationChoices {
                settings: notification_settings(store, &config)?,
                chosen_here,
            })
        })
    }

    /// Changes this desktop's notification choices; answers with them after the change.
    pub fn change_notifications(&self, change: NotificationsChange) -> Result<NotificationChoices> {
        if change.flood_threshold == Some(0) {
            return Err(EngineError::BadFloodThreshold);
        }
        self.with_store(|store| {
            if change.reset {
                store.delete_desktop_setting(TEAMMATES_KEY)?;
                store.delete_desktop_setting(FLOOD_THRESHOLD_KEY)?;
            }
            if let Some(teammates) = change.teammates {
                store
                    .set_desktop_setting(TEAMMATES_KEY, if teammates { "true" } else { "false" })?;
            }
            if let Some(threshold) = change.flood_threshold {
                store.set_desktop_setting(FLOOD_THRESHOLD_KEY, &threshold.to_string())?;
            }
            Ok(())
        })?;
        self.notifications()
    }

    /// Who sits here, everyone to choose from, and how pages show.
    pub fn settings(&self) -> Result<SettingsView> {
        let config = self.config()?;
        Ok(SettingsView {
            me: self.whoami()?,
            people: config
                .people
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
            notifications: self.notifications()?,
        })
    }

    /// What the engine that last ran on this data directory found of this desktop's
    /// notification server; `None` when no engine has run here yet.
    pub fn notification_server(&self) -> Result<Option<String>> {
        self.with_store(|store| Ok(store.desktop_setting(NOTIFICATIONS_KEY)?))
    }

    /// Who sits here, whether an engine runs, what it found of notifications, which pages wait.
    pub fn status(&self) -> Result<DesktopStatus> {
        let engine_pid = match self.data_dir().lock_engine() {
            Ok(_lock) => None,
            Err(EngineError::AlreadyRunning { pid, .. }) => Some(pid),
            Err(other) => return Err(other),
        };
        let found = self.notification_server()?;
        let pages_waiting = self.with_store(|store| Ok(store.undelivered_pages()?.len()))?;
        let notifications = match (&engine_pid, found) {
            (Some(_), Some(text)) => text,
            (None, Some(text)) => format!("{text} (when the engine last ran)"),
            (_, None) => "unknown: no engine has run on this data directory".to_owned(),
        };
        Ok(DesktopStatus {
            person: self.whoami()?,
            engine_pid,
            notifications,
            pages_waiting,
        })
    }
}

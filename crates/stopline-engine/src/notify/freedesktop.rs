//! The freedesktop notification protocol, through notify-rust over the session's D-Bus: Linux
//! and the BSDs. Other platforms have no [`DbusNotifier`]; see the parent module.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::{
    BoxFuture, DesktopNotification, InvokedAction, Loudness, NOTIFY_TIMEOUT, Notifier,
    NotifierStatus, NotifyError,
};

/// Notifications through the session's D-Bus notification server.
pub struct DbusNotifier {
    status: NotifierStatus,
    actions_supported: bool,
    /// Shown notifications still open, by id: closing needs the handle's connection.
    open: Mutex<HashMap<u32, Arc<notify_rust::NotificationHandle>>>,
    actions: mpsc::UnboundedSender<InvokedAction>,
}

impl fmt::Debug for DbusNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbusNotifier")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl DbusNotifier {
    /// Asks the session bus for a notification server, within [`NOTIFY_TIMEOUT`]. `Err` carries
    /// the reason there is none, for the status line.
    pub async fn probe(actions: mpsc::UnboundedSender<InvokedAction>) -> Result<Self, NotifyError> {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
            && std::env::var_os("XDG_RUNTIME_DIR").is_none()
        {
            return Err(NotifyError(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_owned(),
            ));
        }
        let asked = tokio::task::spawn_blocking(|| {
            let info = notify_rust::get_server_information()?;
            let capabilities = notify_rust::get_capabilities()?;
            Ok::<_, notify_rust::error::Error>((info, capabilities))
        });
        let (info, capabilities) = match tokio::time::timeout(NOTIFY_TIMEOUT, asked).await {
            Ok(Ok(Ok(found))) => found,
            Ok(Ok(Err(e))) => {
                return Err(NotifyError(format!(
                    "no notification server on the session bus ({e})"
                )));
            }
            Ok(Err(e)) => return Err(NotifyError(format!("the probe failed: {e}"))),
            Err(_) => {
                return Err(NotifyError(format!(
                    "the notification server did not answer within {NOTIFY_TIMEOUT:?}"
                )));
            }
        };
        let actions_supported = capabilities.iter().any(|c| c == "actions");
        Ok(Self {
            status: NotifierStatus::Available {
                server: format!("{} {}", info.name, info.version),
                actions: actions_supported,
            },
            actions_supported,
            open: Mutex::new(HashMap::new()),
            actions,
        })
    }

    fn forget(&self, id: u32) -> Option<Arc<notify_rust::NotificationHandle>> {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
    }
}

impl Notifier for DbusNotifier {
    fn status(&self) -> NotifierStatus {
        self.status.clone()
    }

    fn show(&self, notification: DesktopNotification) -> BoxFuture<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            let mut n = notify_rust::Notification::new();
            n.appname("Stopline")
                .summary(&notification.summary)
                .body(&notification.body);
            match notification.loudness {
                Loudness::Page => {
                    n.urgency(notify_rust::Urgency::Critical)
                        .timeout(notify_rust::Timeout::Never)
                        .hint(notify_rust::Hint::Category("im.received".to_owned()));
                }
                Loudness::Ordinary => {
                    n.urgency(notify_rust::Urgency::Normal);
                }
            }
            if self.actions_supported {
                for (id, label) in &notification.actions {
                    n.action(id, label);
                }
            }
            if let Some(id) = notification.replaces {
                n.id(id);
            }
            let handle = tokio::time::timeout(NOTIFY_TIMEOUT, n.show_async())
                .await
                .map_err(|_| NotifyError(format!("no answer within {NOTIFY_TIMEOUT:?}")))?
                .map_err(|e| NotifyError(e.to_string()))?;
            let id = handle.id();
            let handle = Arc::new(handle);
            self.open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, Arc::clone(&handle));
            if self.actions_supported && !notification.actions.is_empty() {
                let sender = self.actions.clone();
                let incident = notification.incident;
                tokio::spawn(async move {
                    handle
                        .wait_for_action_async(move |response| {
                            if let notify_rust::NotificationResponse::Action(action) = response {
                                let _ = sender.send(InvokedAction {
                                    notification: id,
                                    incident,
                                    action: action.clone(),
                                });
                            }
                        })
                        .await;
                });
            }
            Ok(id)
        })
    }

    fn close(&self, id: u32) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(handle) = self.forget(id) {
                let _ = tokio::time::timeout(NOTIFY_TIMEOUT, handle.close_async()).await;
            }
        })
    }
}

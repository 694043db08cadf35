//! Desktop notifications behind one trait, so the pager does not care how a page reaches the
//! person at this desktop.
//!
//! - [`DbusNotifier`] speaks the freedesktop notification protocol (through notify-rust) to
//!   whatever server the session runs (GNOME Shell, KDE, dunst, mako). Every call has a short
//!   timeout: a hung server must not hold up paging. Actions the user invokes (Acknowledge,
//!   Open) come back on a channel.
//! - [`ConsoleNotifier`] is what remains when there is no notification server: a terminal bell
//!   and a line on standard error, so `stopline serve` in a terminal still pages.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stopline_core::incident::IncidentId;
use tokio::sync::mpsc;

/// The freedesktop notification server: where the desktop shows notifications on Linux.
#[cfg(all(unix, not(target_os = "macos")))]
mod freedesktop;
#[cfg(all(unix, not(target_os = "macos")))]
pub use freedesktop::DbusNotifier;

/// How long any one call to the notification server may take.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(2);

/// The action that acknowledges the incident as the person at this desktop.
pub const ACTION_ACKNOWLEDGE: &str = "acknowledge";
/// The action that opens the incident in the app.
pub const ACTION_OPEN: &str = "open";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How loud a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loudness {
    /// A page for the person at this desktop: critical, never expires.
    Page,
    /// Someone else's page, or a summary: an ordinary notification.
    Ordinary,
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopNotification {
    /// The incident it is about; `None` for a summary of several.
    pub incident: Option<IncidentId>,
    pub summary: String,
    pub body: String,
    pub loudness: Loudness,
    /// Action ids and labels, offered where the server supports actions.
    pub actions: Vec<(String, String)>,
    /// Replace this earlier notification (the flood summary updates in place).
    pub replaces: Option<u32>,
}

/// An action the user invoked on a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokedAction {
    pub notification: u32,
    pub incident: Option<IncidentId>,
    pub action: String,
}

/// Whether notifications reach this desktop, as found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifierStatus {
    Available {
        /// The server's name and version, such as "dunst 1.9.0".
        server: String,
        /// Whether it shows action buttons.
        actions: bool,
    },
    Unavailable {
        reason: String,
    },
}

impl fmt::Display for NotifierStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifierStatus::Available { server, actions } => write!(
                f,
                "notifications available ({server}{})",
                if *actions {
                    ", with actions"
                } else {
                    ", no action buttons"
                }
            ),
            NotifierStatus::Unavailable { reason } => {
                write!(f, "notifications unavailable: {reason}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot show the notification: {0}")]
pub struct NotifyError(pub String);

/// Shows and closes notifications on this desktop.
pub trait Notifier: Send + Sync + fmt::Debug {
    fn status(&self) -> NotifierStatus;
    /// Shows a notification; its id lets it be closed or replaced later.
    fn show(&self, notification: DesktopNotification) -> BoxFuture<'_, Result<u32, NotifyError>>;
    /// Takes a notification away (the incident was acknowledged elsewhere). Best effort.
    fn close(&self, id: u32) -> BoxFuture<'_, ()>;
}

/// The fallback with no notification server: a bell and a line on standard error.
#[derive(Debug)]
pub struct ConsoleNotifier {
    reason: String,
    next_id: Mutex<u32>,
}

impl ConsoleNotifier {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            next_id: Mutex::new(0),
        }
    }
}

impl Notifier for ConsoleNotifier {
    fn status(&self) -> NotifierStatus {
        NotifierStatus::Unavailable {
            reason: self.reason.clone(),
        }
    }

    fn show(&self, notification: DesktopNotification) -> BoxFuture<'_, Result<u32, NotifyError>> {
        Box::pin(async move {
            on_the_terminal(&notification);
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            Ok(*next)
        })
    }

    fn close(&self, _id: u32) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A notification as a line on standard error, led by a bell when it is a page: how pages
/// reach a person when no notification server shows them.
pub fn on_the_terminal(notification: &DesktopNotification) {
    let (bell, what) = match notification.loudness {
        Loudness::Page => ("\x07", "PAGE"),
        Loudness::Ordinary => ("", "page"),
    };
    eprintln!(
        "{bell}stopline: {what}: {} | {}",
        notification.summary,
        notification.body.replace('\n', " | ")
    );
}

/// The best notifier this session has: D-Bus when a server answers, else the console.
#[cfg(all(unix, not(target_os = "macos")))]
pub async fn desktop_notifier(actions: mpsc::UnboundedSender<InvokedAction>) -> Arc<dyn Notifier> {
    match DbusNotifier::probe(actions).await {
        Ok(dbus) => Arc::new(dbus),
        Err(reason) => Arc::new(ConsoleNotifier::new(reason.0)),
    }
}

/// macOS and Windows: not wired yet, so pages show in the app, its tray menu and by email or
/// webhook, and here on the terminal. The one place to fill in is a notifier beside
/// [`DbusNotifier`] (notify-rust shows notifications on both, without action buttons).
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub async fn desktop_notifier(actions: mpsc::UnboundedSender<InvokedAction>) -> Arc<dyn Notifier> {
    drop(actions);
    Arc::new(ConsoleNotifier::new(
        "desktop notifications are not wired on this platform yet",
    ))
}

/// Sends a test page for `person` (the person at this desktop, if chosen) through the best
/// notifier this session has: what that notifier is, and whether the page showed.
pub async fn send_test_page(person: Option<&str>) -> (NotifierStatus, Result<u32, NotifyError>) {
    let (actions, _received) = mpsc::unbounded_channel();
    let notifier = desktop_notifier(actions).await;
    let shown = notifier
        .show(DesktopNotification {
            incident: None,
            summary: "Stopline: test page".to_owned(),
            body: format!(
                "If you can read this, pages for {} reach this desktop.",
                person.unwrap_or("the person at this desktop")
            ),
            loudness: Loudness::Page,
            actions: Vec::new(),
            replaces: None,
        })
        .await;
    (notifier.status(), shown)
}

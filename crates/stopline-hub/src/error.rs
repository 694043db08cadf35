//! What can go wrong talking to the hub's database, in words that say what to do. A database URL
//! is never repeated whole: it may carry a password.

/// A hub error.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("not a PostgreSQL URL (expected postgres://USER@HOST:PORT/DATABASE): {0}")]
    BadUrl(String),
    #[error("cannot reach PostgreSQL at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error(
        "the hub's database has schema version {found}, newer than this Stopline knows ({known}): \
         upgrade Stopline, or point it at another database"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("PostgreSQL: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("the hub's database holds what it cannot read: {0}")]
    Corrupt(String),
    #[error(
        "desktop {desktop:?} belongs to another person: a desktop acts as the one person who \
         first pushed from it"
    )]
    DesktopOfAnother { desktop: String },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
}

impl HubError {
    /// Whether the person gave something wrong (exit status 2), rather than the database failing.
    pub fn is_usage(&self) -> bool {
        matches!(self, HubError::BadUrl(_))
    }
}

/// Whether a failed transaction may simply be run again: a serialization failure (40001) or a
/// deadlock (40P01). Nothing it did was kept.
pub(crate) fn is_retryable(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED
    })
}

//! The hub's database: a pool of connections to one PostgreSQL database, and its schema brought
//! up to this build's.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::Host;

use crate::Result;
use crate::error::HubError;
use crate::schema::{self, Migrated};

/// Connections each hub keeps to the database, at most.
pub(crate) const POOL_SIZE: usize = 16;

/// Connections to the hub's database. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// `host:port/database`, for messages: never the password.
    target: String,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// A pool on the database `url` names (`postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`, or
    /// the key=value form). Nothing connects until it is used.
    pub fn new(url: &str) -> Result<Self> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| HubError::BadUrl(e.to_string()))?;
        if config.get_hosts().is_empty() {
            return Err(HubError::BadUrl("no host".to_owned()));
        }
        let target = describe(&config);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| HubError::BadUrl(e.to_string()))?;
        Ok(Self { pool, target })
    }

    /// `host:port/database`.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(|e| {
            let reason = match e {
                deadpool_postgres::PoolError::Backend(e) => e.to_string(),
                other => other.to_string(),
            };
            HubError::Unreachable {
                target: self.target.clone(),
                reason,
            }
        })
    }

    /// Brings the schema up to this build's ([`crate::SCHEMA_VERSION`]), forward only, in one
    /// transaction; refuses a schema newer than this build knows, changing nothing. Any number of
    /// hubs may migrate at once: the first does the work and the others find it done.
    pub async fn migrate(&self) -> Result<Migrated> {
        let mut client = self.client().await?;
        schema::migrate(&mut client).await
    }

    /// The schema version the database has now (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64> {
        let client = self.client().await?;
        schema::version(&client).await
    }
}

fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => String::new(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{host}:{port}/{database}")
}

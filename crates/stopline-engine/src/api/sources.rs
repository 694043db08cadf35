//! Where alerts come from: each source's health (reachable, failing since when, heartbeat) and
//! the write-back actions waiting for it, and the token senders use.

use super::Workspace;
use crate::Result;
use crate::health::{SourceHealth, source_health};

impl Workspace {
    /// Every known source's health, configured ones first. Works without a config.
    pub fn sources(&self) -> Result<Vec<SourceHealth>> {
        let config = self.config().ok();
        self.with_store(|store| source_health(store, config.as_deref()))
    }

    /// The bearer token senders put in `Authorization: Bearer …` (made on first use).
    pub fn webhook_token(&self) -> Result<String> {
        self.data_dir().webhook_token()
    }
}

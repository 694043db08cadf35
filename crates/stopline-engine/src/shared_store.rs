//! The store as the engine's tasks share it: one connection behind a mutex, since the store has
//! one writer. Async code (the webhook server, the pager, the pollers, the outbox) runs each
//! store operation on a blocking thread with [`SharedStore::run`], so SQLite never holds up a
//! tokio worker; synchronous callers (the API behind the command line and the app) use
//! [`SharedStore::blocking`].

use std::sync::{Arc, Mutex, MutexGuard};

use stopline_store::Store;

/// A blocking store task that ended without an answer (it panicked, or the runtime is
/// shutting down). Nothing it did was committed unless it had returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the store task stopped before it answered: {0}")]
pub struct StoreTaskFailed(pub String);

/// A store connection shared between tasks; clones share it.
#[derive(Debug, Clone)]
pub struct SharedStore(Arc<Mutex<Store>>);

impl SharedStore {
    pub fn new(store: Store) -> Self {
        Self(Arc::new(Mutex::new(store)))
    }

    /// The store itself, for synchronous code doing several things in a row. Never hold it
    /// across an `.await`: use [`SharedStore::run`] there.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // A poisoned lock only means a task panicked mid-operation; its transaction rolled back,
        // so the store is as consistent as ever.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many handles share this connection now (this one included).
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.0)
    }

    /// Runs `work` on this thread, waiting for the store if another task has it.
    pub fn blocking<T>(&self, work: impl FnOnce(&mut Store) -> T) -> T {
        work(&mut self.lock())
    }

    /// Runs `work` on a blocking thread and waits for its answer without holding up the async
    /// runtime. The caller answers (a webhook's 2xx, a person's "saved") only after this returns,
    /// so only after the work committed.
    pub async fn run<T, E>(
        &self,
        work: impl FnOnce(&mut Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreTaskFailed> + Send + 'static,
    {
        let shared = self.clone();
        match tokio::task::spawn_blocking(move || work(&mut shared.lock())).await {
            Ok(result) => result,
            Err(join) => Err(StoreTaskFailed(join.to_string()).into()),
        }
    }
}

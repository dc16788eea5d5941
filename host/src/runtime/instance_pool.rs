//! Warm instances of one plugin version. At most `limits.instances` exist at
//! once (a semaphore); an idle instance is reused for the next event; an
//! instance that trapped is dropped and a fresh one is made from the
//! `InstancePre` when needed.

use std::sync::{Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Store;

use super::event_ref::HandleExport;
use super::query_bindings::QueryGuest;
use super::state::StoreState;

/// One live instance and its store.
pub struct Instance {
    pub(crate) store: Store<StoreState>,
    /// Its `handler#handle` export, called with the event in place.
    pub(crate) handle: HandleExport,
    /// Its `query` export, when its component answers queries.
    pub(crate) query: Option<QueryGuest>,
}

/// The idle instances of a plugin version and the permits to run one.
pub struct InstancePool {
    idle: Mutex<Vec<Instance>>,
    permits: std::sync::Arc<Semaphore>,
}

/// The right to run one instance; returns it to the pool when asked.
pub struct Lease {
    pub(crate) instance: Instance,
    _permit: OwnedSemaphorePermit,
}

impl InstancePool {
    /// A pool allowing `size` instances at once.
    pub fn new(size: u32) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            permits: std::sync::Arc::new(Semaphore::new(size as usize)),
        }
    }

    /// Put an already-made instance in the pool (the one validated at load).
    pub fn seed(&self, instance: Instance) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
    }

    /// Wait for a permit, then take an idle instance or make one with `make`.
    pub async fn lease<F, Fut, E>(&self, make: F) -> Result<Lease, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Instance, E>>,
        E: From<&'static str>,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| E::from("instance pool closed"))?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let instance = match idle {
            Some(instance) => instance,
            None => make().await?,
        };
        Ok(Lease {
            instance,
            _permit: permit,
        })
    }

    /// Return a healthy instance for reuse.
    pub fn give_back(&self, lease: Lease) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(lease.instance);
    }

    /// Idle instances right now.
    pub fn idle(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

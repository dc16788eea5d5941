//! The event log and KV store the settings choose, opened and connected.

use std::sync::Arc;
use std::time::Duration;

use super::StartError;
use crate::config::{KvBackend, LogBackend, Settings};
use crate::storage::embedded::{EmbeddedOptions, EmbeddedStore};
use crate::storage::kafka::KafkaLog;
use crate::storage::redis::RedisKv;
use crate::storage::{EventLog, IngestIds, KvStore, StorageError, StorageHealth};

/// The opened stores.
pub(super) struct Stores {
    pub(super) log: Arc<dyn EventLog>,
    pub(super) kv: Arc<dyn KvStore>,
    /// The embedded store, when the log or the KV store is embedded.
    pub(super) embedded: Option<Arc<EmbeddedStore>>,
    /// Whether the log is embedded (then its retention runs in the gateway).
    pub(super) log_is_embedded: bool,
    /// Whether the storage can take writes: the embedded store's, or one
    /// only the disk watch reports to.
    pub(super) health: Arc<StorageHealth>,
}

/// The event log and KV store `settings` choose.
pub(super) async fn open_storage(settings: &Settings) -> Result<Stores, StartError> {
    let mut embedded: Option<Arc<EmbeddedStore>> = None;
    let mut open_embedded = || -> Result<Arc<EmbeddedStore>, StorageError> {
        if let Some(store) = &embedded {
            return Ok(store.clone());
        }
        let store = Arc::new(EmbeddedStore::open_with_options(
            &settings.storage.data_dir,
            EmbeddedOptions {
                segment_bytes: settings.storage.segment_bytes,
                unsafe_bypass_fsync: settings.storage.unsafe_bypass_fsync,
            },
        )?);
        embedded = Some(store.clone());
        Ok(store)
    };
    // The KV store also remembers ingested ids for a log that cannot.
    let (kv, ids): (Arc<dyn KvStore>, Arc<dyn IngestIds>) = match settings.kv.backend {
        KvBackend::Redis => {
            let redis = Arc::new(RedisKv::connect(&settings.kv.redis_resolved()?).await?);
            (redis.clone(), redis)
        }
        KvBackend::Embedded => {
            let store = open_embedded()?;
            (store.clone(), store)
        }
    };
    let log: Arc<dyn EventLog> = match settings.log.backend {
        LogBackend::Kafka => {
            if settings.kv.backend == KvBackend::Embedded {
                tracing::warn!(
                    "log.backend = kafka with kv.backend = embedded: plugin state stays on this machine; run one instance, or set kv.backend = redis"
                );
            }
            Arc::new(
                KafkaLog::connect(settings.log.kafka_resolved()?, kv.clone(), ids)?
                    .with_idempotency_window(Duration::from_secs(
                        settings.storage.idempotency_window_secs,
                    )),
            )
        }
        LogBackend::Embedded => open_embedded()?,
    };
    let health = embedded
        .as_ref()
        .map_or_else(Arc::default, |store| store.health());
    Ok(Stores {
        log,
        kv,
        log_is_embedded: settings.log.backend == LogBackend::Embedded,
        embedded,
        health,
    })
}

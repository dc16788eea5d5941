//! The wasmtime engine shared by every plugin: component model, pooling
//! allocator, epoch interruption, and the linker with all host capabilities.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::RuntimeError;
use super::bindings::Plugin;
use super::state::StoreState;
use crate::config::RuntimeSettings;

/// The engine, its linker and its epoch ticker.
#[derive(Clone)]
pub struct PluginEngine {
    pub(crate) engine: Engine,
    pub(crate) linker: Arc<Linker<StoreState>>,
    /// Length of one epoch tick.
    pub tick: Duration,
}

impl PluginEngine {
    /// Build the engine for `settings` and start its epoch ticker.
    pub fn new(settings: &RuntimeSettings) -> Result<Self, RuntimeError> {
        let engine_err = |e: wasmtime::Error| RuntimeError::Engine(format!("{e:#}"));
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.max_wasm_stack(1 << 20);
        config.async_stack_size(2 << 20);

        let max_memory =
            usize::try_from(settings.max_memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let instances = settings.max_instances;
        let mut pool = PoolingAllocationConfig::default();
        // Components from other languages (Python, JS) hold dozens of core
        // modules; size the per-component limits for them.
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(32))
            .total_memories(instances.saturating_mul(4))
            .total_tables(instances.saturating_mul(8))
            .total_stacks(instances)
            .max_core_instances_per_component(64)
            .max_memories_per_component(8)
            .max_tables_per_component(32)
            .max_component_instance_size(1 << 20)
            .max_core_instance_size(1 << 20)
            .table_elements(100_000)
            .max_memory_size(max_memory);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));

        let engine = Engine::new(&config).map_err(engine_err)?;
        let mut linker = Linker::<StoreState>::new(&engine);
        // WASI with a deny-all context: guests built for wasm32-wasip2 import
        // it even when they use nothing of it.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_err)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(engine_err)?;
        Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_err)?;

        let tick = Duration::from_millis(settings.epoch_tick_ms.max(1));
        spawn_epoch_ticker(&engine, tick)?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            tick,
        })
    }

    /// The underlying wasmtime engine.
    pub fn wasmtime(&self) -> &Engine {
        &self.engine
    }

    /// The linker with every host capability (what plugins are
    /// instantiated against).
    pub fn linker(&self) -> &Linker<StoreState> {
        &self.linker
    }

    /// Ticks of `ms` milliseconds, at least one.
    pub fn ticks(&self, ms: u64) -> u64 {
        let tick = u64::try_from(self.tick.as_millis()).unwrap_or(1).max(1);
        ms.div_ceil(tick).max(1)
    }
}

/// One ticker thread per engine; it stops when the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine, tick: Duration) -> Result<(), RuntimeError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("streamplug-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(|_| ())
        .map_err(|e| RuntimeError::Engine(format!("epoch ticker: {e}")))
}

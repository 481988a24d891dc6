//! The sandbox: one wasmtime [`Engine`] for the process, the limits every
//! call runs under, and the capabilities lent to plugins (HTTP, logging,
//! settings, a minimal WASI with no filesystem, environment or sockets).
//!
//! This module knows nothing of HTTP routes, SQL or what a plugin is for:
//! [`crate::plugins`] builds on it.
//!
//! How a call is bounded:
//! - **time**: epoch interruption. One ticker thread increments the engine's
//!   epoch every [`EPOCH_TICK`]; at each tick a running guest yields to the
//!   async executor (so a busy plugin never starves other tasks) and is
//!   interrupted once its call's deadline has passed. Host-side waits (HTTP)
//!   are bounded by the same deadline.
//! - **memory**: a [`wasmtime::ResourceLimiter`] per store caps linear memory
//!   and records the guest's peak.
//! - **output**: what a call returns is bounded while it is copied out of
//!   the guest (wasmtime's hostcall fuel, set to the output cap), then its
//!   size is checked against the same cap.
//! - **log**: what a plugin writes to the host's log (the `log` import,
//!   stdout, stderr) is cut per record and budgeted per call and per
//!   second ([`logcap`]).

mod error;
mod host;
pub mod http;
mod limits;
mod logcap;
mod stdio;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

pub use error::PluginError;
pub(crate) use host::HostState;
pub use http::{Exchange, HostPattern, HttpBackend, NetworkPolicy, Tape};
pub use limits::{HttpLimits, Limits};

/// Bindings generated from `wit/connector.wit`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "connector",
        imports: {
            "shopbridge:connector/http.send": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

/// How often the epoch advances. The deadline is checked at this grain, and
/// a busy guest yields to the executor this often: 10 ms keeps a stuck
/// plugin's overshoot small and the ticker's cost nil.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Sizing of the instance pool.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Instances that may be alive at once (feed sessions + order calls +
    /// status polls across every plugin). Each reserves a 4 GiB virtual
    /// slot for its memory (no physical memory until touched), which lets
    /// Cranelift drop bounds checks: 256 slots are 1 TiB of address space.
    pub max_instances: u32,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig { max_instances: 256 }
    }
}

/// The process-wide wasmtime engine, its linker and its epoch ticker.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    http: http::HttpClients,
    ticker: Option<JoinHandle<()>>,
    stop_ticker: Arc<AtomicBool>,
}

impl Runtime {
    /// Builds the engine with the pooling allocator and starts the ticker.
    pub fn new(config: &RuntimeConfig) -> Result<Self, PluginError> {
        let engine = Engine::new(&engine_config(config)).map_err(engine_error)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(engine_error)?;
        bindings::Connector::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(engine_error)?;
        let http = http::HttpClients::new()
            .map_err(|e| PluginError::Contract(format!("HTTP client: {e}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.weak();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                })
                .map_err(|e| PluginError::Contract(format!("epoch ticker: {e}")))?
        };
        Ok(Runtime {
            engine,
            linker,
            http,
            ticker: Some(ticker),
            stop_ticker,
        })
    }

    /// The engine, for compiling components.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// A fresh store for one call or one feed session of `plugin`.
    pub(crate) fn new_store(&self, sandbox: Sandbox) -> Store<HostState> {
        let output_bytes = sandbox.limits.output_bytes;
        let state = HostState::new(sandbox, self.http.clone());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        // What the guest hands the host in one call (an export's answer, an
        // import's arguments) is bounded while it is copied, at the output
        // cap: the host never holds more of it (wasmtime's default is 128
        // MiB).
        store.set_hostcall_fuel(output_bytes);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|ctx| {
            let state = ctx.data();
            if Instant::now() >= state.call_deadline {
                Ok(wasmtime::UpdateDeadline::Interrupt)
            } else {
                Ok(wasmtime::UpdateDeadline::Yield(1))
            }
        });
        store
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

/// Everything a store's host side needs to know about the plugin it runs.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    pub(crate) plugin: Arc<str>,
    pub(crate) declared_hosts: Arc<[HostPattern]>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) network: NetworkPolicy,
    pub(crate) limits: Limits,
}

/// A plugin's settings for one binding, with the defaults it declares.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    values: std::collections::BTreeMap<String, String>,
}

impl Settings {
    /// Settings from `key=value` pairs.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Settings {
            values: pairs.into_iter().collect(),
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Fills in what is not set from the plugin's declared defaults.
    pub(crate) fn with_defaults(
        mut self,
        specs: &[bindings::shopbridge::connector::types::SettingSpec],
    ) -> Self {
        for spec in specs {
            if let Some(default) = &spec.default_value {
                self.values
                    .entry(spec.name.clone())
                    .or_insert_with(|| default.clone());
            }
        }
        self
    }
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.epoch_interruption(true);
    // Inline small wasm functions into their callers: fewer calls, and fewer
    // of the epoch checks Cranelift puts at every function entry. Measured
    // here: +10% on feed parsing, for a little more compile time.
    c.compiler_inlining(wasmtime::Inlining::Yes);
    // Guest stacks: 1 MiB of wasm stack is Rust's default main-thread need
    // and plenty for a parser; async fibers get 2 MiB so host calls on top fit.
    c.max_wasm_stack(1 << 20);
    c.async_stack_size(2 << 20);

    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(config.max_instances);
    // A Rust wasip2 component instantiates a handful of core modules (the
    // program and wasm-component-ld's shims): 8 per component is ample.
    pool.max_core_instances_per_component(8);
    pool.total_core_instances(config.max_instances.saturating_mul(8));
    pool.total_memories(config.max_instances);
    pool.total_tables(config.max_instances.saturating_mul(4));
    pool.total_stacks(config.max_instances);
    // Hard ceiling per memory; each binding's limiter sets a lower one.
    pool.max_memory_size(1 << 30);
    // Between two instances, reset only the pages the last one dirtied
    // (Linux PAGEMAP_SCAN, 6.7+) and keep them mapped, up to 2 MiB: a call
    // touches a few pages of stack, data and heap, and re-faulting them
    // (plus the madvise and TLB shootdown) was two thirds of a call (27 µs
    // → 9.7 µs here). Without PAGEMAP_SCAN wasmtime would memset the whole
    // kept region on every reset, so keep nothing and let madvise do it.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(wasmtime::Enabled::Yes);
        pool.linear_memory_keep_resident(2 << 20);
        pool.table_keep_resident(64 << 10);
    }
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    c
}

/// Compiles a component for `engine` on a throwaway engine of the same
/// settings, then loads the machine code into `engine`.
///
/// Why not `Component::new(engine, …)`: an engine keeps Cranelift's
/// compilation contexts for reuse, sized by the largest function it ever
/// compiled, and glibc keeps what the compiling threads freed in their
/// arenas. Compiling one feed parser that way left a server idling at
/// ~230 MiB resident instead of ~20 (measured); with the compiler dropped
/// and the freed pages handed back, the idle server stays small.
///
/// A component that does not compile is [`PluginError::InvalidComponent`].
/// One that compiles but does not fit the pooling allocator's per-instance
/// limits is [`PluginError::OverLimits`]: the throwaway engine allocates on
/// demand, so those limits are checked only when `engine` loads the code.
pub fn compile_component(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    let mut config = engine.config().clone();
    // The compiler's settings, tunables and features make the artefact
    // compatible; the instance allocator does not enter into it.
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    let compiled = Engine::new(&config).and_then(|compiler| compiler.precompile_component(bytes));
    release_freed_memory();
    let artefact = compiled.map_err(|e| PluginError::InvalidComponent(format!("{e:#}")))?;
    load_own_artefact(engine, &artefact).map_err(|e| PluginError::OverLimits(format!("{e:#}")))
}

/// Loads machine code that [`compile_component`] produced just now.
#[allow(unsafe_code)]
fn load_own_artefact(engine: &Engine, artefact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime runs deserialized code as it is, so it must come from
    // a trusted compiler: these bytes were produced in this process, a
    // moment ago, by wasmtime's own compiler with this engine's settings
    // (wasmtime still checks that the settings match).
    unsafe { Component::deserialize(engine, artefact) }
}

/// Gives back to the system the pages the allocator holds free (glibc keeps
/// what each thread freed in that thread's arena).
#[allow(unsafe_code)]
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages of the allocator's arenas
    // back to the kernel; no live allocation is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn engine_error(e: wasmtime::Error) -> PluginError {
    PluginError::Contract(format!("{e:#}"))
}

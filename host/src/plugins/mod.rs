//! Loaded plugins: compiling a component, checking it against the contract,
//! reading its metadata, and calling its capabilities in a fresh sandbox.
//!
//! A [`Plugin`] holds the compiled component and its `InstancePre` (imports
//! resolved once); every call gets a fresh `Store` and instance, so no state
//! leaks from one call (or one shop) to the next. A feed is parsed in one
//! store for its whole length: [`FeedSession`].
//!
//! The export indices of each of the four interfaces are looked up once, at
//! load; a call then fetches and type-checks only the functions of the one
//! interface it uses (`ConnectorPre::instantiate_async` would type-check all
//! eight exports on every instantiation: a fifth of a `describe` call).

mod contract;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::{Component, Instance, InstancePre, ResourceAny};

use crate::runtime::bindings::ConnectorPre;
use crate::runtime::bindings::exports::shopbridge::connector::{catalog, orders, plugin, status};
use crate::runtime::bindings::shopbridge::connector::types::{
    FeedError, FeedRecord, Metadata, Order, OrderError, StatusUpdate, Submission,
};
use crate::runtime::{
    HostPattern, HostState, Limits, NetworkPolicy, PluginError, Runtime, Sandbox, Settings,
};

pub use contract::{ComponentReport, inspect_component};

/// Largest component accepted: real connectors are 0.2–2 MiB; 32 MiB leaves
/// room for a bundled data table while bounding compile time and memory.
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

/// A compiled plugin, ready to instantiate.
pub struct Plugin {
    metadata: Metadata,
    /// The metadata's name and hosts, shared by every call's sandbox.
    name: Arc<str>,
    declared_hosts: Arc<[HostPattern]>,
    pre: InstancePre<HostState>,
    exports: ExportIndices,
    report: ComponentReport,
}

/// Where each exported interface's functions are in the component.
struct ExportIndices {
    plugin: plugin::GuestIndices,
    catalog: catalog::GuestIndices,
    orders: orders::GuestIndices,
    status: status::GuestIndices,
}

impl ExportIndices {
    fn new(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
        Ok(ExportIndices {
            plugin: plugin::GuestIndices::new(pre)?,
            catalog: catalog::GuestIndices::new(pre)?,
            orders: orders::GuestIndices::new(pre)?,
            status: status::GuestIndices::new(pre)?,
        })
    }
}

/// How one binding runs a plugin: its settings, where it may connect, its caps.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The binding's settings.
    pub settings: Settings,
    /// Where the plugin may connect.
    pub network: NetworkPolicy,
    /// Caps of each call.
    pub limits: Limits,
}

impl Plugin {
    /// Compiles and checks a component, then reads its metadata.
    pub async fn load(runtime: &Runtime, bytes: &[u8]) -> Result<Plugin, PluginError> {
        let component = Plugin::compile(runtime.engine(), bytes)?;
        Plugin::from_component(runtime, component).await
    }

    /// Compiles a component (the expensive part of [`Plugin::load`], run on
    /// a blocking thread by callers that can), refusing what is too large or
    /// not a component.
    pub fn compile(engine: &wasmtime::Engine, bytes: &[u8]) -> Result<Component, PluginError> {
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(PluginError::InvalidComponent(format!(
                "{} bytes is more than the {MAX_COMPONENT_BYTES} allowed",
                bytes.len()
            )));
        }
        if !contract::looks_like_component(bytes) {
            return Err(PluginError::InvalidComponent(
                "not a WebAssembly component (a core module or another file?); build the plugin for wasm32-wasip2".into(),
            ));
        }
        crate::runtime::compile_component(engine, bytes)
    }

    /// Checks a compiled component against the contract, then reads its
    /// metadata.
    pub async fn from_component(
        runtime: &Runtime,
        component: Component,
    ) -> Result<Plugin, PluginError> {
        let report = inspect_component(runtime.engine(), &component)?;
        let instance_pre = runtime
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Contract(format!("{e:#}")))?;
        let contract_error = |e: wasmtime::Error| PluginError::Contract(format!("{e:#}"));
        // Checks that every export of the world is there, with its type.
        let pre = ConnectorPre::new(instance_pre).map_err(contract_error)?;
        let exports = ExportIndices::new(pre.instance_pre()).map_err(contract_error)?;
        let pre = pre.instance_pre().clone();

        // Read the metadata in a throwaway sandbox with no network.
        let probe = Sandbox {
            plugin: Arc::from("(loading)"),
            declared_hosts: Arc::from([]),
            settings: Arc::new(Settings::default()),
            network: NetworkPolicy::default(),
            limits: Limits {
                deadline: Duration::from_secs(5),
                ..Limits::default()
            },
        };
        let mut store = runtime.new_store(probe);
        let metadata = run(&mut store, "(loading)", async |store| {
            let instance = pre.instantiate_async(&mut *store).await?;
            let plugin = exports.plugin.load(&mut *store, &instance)?;
            plugin.call_describe(&mut *store).await
        })
        .await?;
        contract::check_metadata(&metadata)?;
        Ok(Plugin {
            name: Arc::from(metadata.name.as_str()),
            declared_hosts: metadata.hosts.iter().map(|h| HostPattern::new(h)).collect(),
            metadata,
            pre,
            exports,
            report,
        })
    }

    /// What the plugin says about itself.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The values in `settings` of the settings this plugin declares
    /// secret: what a stored HTTP tape masks.
    pub fn secret_values(&self, settings: &Settings) -> Vec<String> {
        self.metadata
            .settings
            .iter()
            .filter(|spec| spec.secret)
            .filter_map(|spec| settings.get(&spec.name).map(str::to_owned))
            .collect()
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// What the component imports and exports.
    pub fn report(&self) -> &ComponentReport {
        &self.report
    }

    /// The compiled component (to serialize it into the compiled cache).
    pub fn component(&self) -> &Component {
        self.pre.component()
    }

    fn sandbox(&self, options: &CallOptions) -> Sandbox {
        Sandbox {
            plugin: self.name.clone(),
            declared_hosts: self.declared_hosts.clone(),
            settings: Arc::new(
                options
                    .settings
                    .clone()
                    .with_defaults(&self.metadata.settings),
            ),
            network: options.network.clone(),
            limits: options.limits.clone(),
        }
    }

    /// A fresh store and instance, and the exported interface `load` picks.
    async fn instance<I>(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        load: impl FnOnce(&ExportIndices, &mut Store<HostState>, &Instance) -> wasmtime::Result<I>,
    ) -> Result<(Store<HostState>, I), PluginError> {
        let mut store = runtime.new_store(self.sandbox(options));
        store.data_mut().begin_call(options.limits.deadline);
        let instantiate_error = |e: wasmtime::Error| PluginError::Instantiate {
            plugin: self.name().to_owned(),
            message: format!("{e:#}"),
        };
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(instantiate_error)?;
        let interface = load(&self.exports, &mut store, &instance).map_err(instantiate_error)?;
        Ok((store, interface))
    }

    /// Starts parsing a feed. The session keeps one instance for the whole feed.
    pub async fn open_feed(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        content_type: Option<String>,
    ) -> Result<Result<FeedSession, FeedError>, PluginError> {
        let (mut store, catalog) = self
            .instance(runtime, options, |e, store, instance| {
                e.catalog.load(store, instance)
            })
            .await?;
        let name = self.name().to_owned();
        let opened = run(&mut store, &name, async |store| {
            catalog
                .feed_parser()
                .call_open(&mut *store, content_type.as_deref())
                .await
        })
        .await?;
        Ok(opened.map(|parser| FeedSession {
            store,
            catalog,
            parser: Some(parser),
            plugin: name,
            deadline: options.limits.deadline,
            output_cap: options.limits.output_bytes,
            poisoned: false,
        }))
    }

    /// Calls `describe` in a fresh instance: the cheapest full call, used as
    /// a liveness probe (and by the call-overhead benchmark).
    pub async fn describe(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
    ) -> Result<Metadata, PluginError> {
        let (mut store, plugin) = self
            .instance(runtime, options, |e, store, instance| {
                e.plugin.load(store, instance)
            })
            .await?;
        run(&mut store, self.name(), async |store| {
            plugin.call_describe(&mut *store).await
        })
        .await
    }

    /// Checks an order with the supplier without placing it.
    pub async fn check_order(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        order: &Order,
    ) -> Result<Result<(), OrderError>, PluginError> {
        let (mut store, orders) = self
            .instance(runtime, options, |e, store, instance| {
                e.orders.load(store, instance)
            })
            .await?;
        run(&mut store, self.name(), async |store| {
            orders.call_check_order(&mut *store, order).await
        })
        .await
    }

    /// Places an order with the supplier.
    pub async fn submit_order(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        order: &Order,
    ) -> Result<Result<Submission, OrderError>, PluginError> {
        let (mut store, orders) = self
            .instance(runtime, options, |e, store, instance| {
                e.orders.load(store, instance)
            })
            .await?;
        run(&mut store, self.name(), async |store| {
            orders.call_submit_order(&mut *store, order).await
        })
        .await
    }

    /// Cancels a submitted order.
    pub async fn cancel_order(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        supplier_reference: &str,
        reason: Option<&str>,
    ) -> Result<Result<(), OrderError>, PluginError> {
        let (mut store, orders) = self
            .instance(runtime, options, |e, store, instance| {
                e.orders.load(store, instance)
            })
            .await?;
        run(&mut store, self.name(), async |store| {
            orders
                .call_cancel_order(&mut *store, supplier_reference, reason)
                .await
        })
        .await
    }

    /// The state of a batch of supplier orders.
    pub async fn poll_status(
        &self,
        runtime: &Runtime,
        options: &CallOptions,
        supplier_references: &[String],
    ) -> Result<Result<Vec<StatusUpdate>, OrderError>, PluginError> {
        let (mut store, status) = self
            .instance(runtime, options, |e, store, instance| {
                e.status.load(store, instance)
            })
            .await?;
        let cap = options.limits.output_bytes;
        let updates = run(&mut store, self.name(), async |store| {
            status
                .call_poll_status(&mut *store, supplier_references)
                .await
        })
        .await?;
        if let Ok(list) = &updates {
            let bytes = serde_json::to_vec(list)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            check_output(self.name(), bytes, cap)?;
        }
        Ok(updates)
    }
}

/// One feed being parsed by one instance of a plugin.
pub struct FeedSession {
    store: Store<HostState>,
    catalog: catalog::Guest,
    parser: Option<ResourceAny>,
    plugin: String,
    deadline: Duration,
    output_cap: usize,
    poisoned: bool,
}

impl FeedSession {
    /// Pushes the next bytes; returns the records they completed.
    pub async fn push(
        &mut self,
        chunk: &[u8],
    ) -> Result<Result<Vec<FeedRecord>, FeedError>, PluginError> {
        let parser = self.live_parser()?;
        self.store.data_mut().begin_call(self.deadline);
        let catalog = &self.catalog;
        let result = run(&mut self.store, &self.plugin, async |store| {
            catalog
                .feed_parser()
                .call_push(&mut *store, parser, chunk)
                .await
        })
        .await;
        self.settle(result)
    }

    /// Ends the feed and returns the last records. The instance is released.
    pub async fn finish(&mut self) -> Result<Result<Vec<FeedRecord>, FeedError>, PluginError> {
        let parser = self.live_parser()?;
        self.store.data_mut().begin_call(self.deadline);
        let catalog = &self.catalog;
        let result = run(&mut self.store, &self.plugin, async |store| {
            let records = catalog
                .feed_parser()
                .call_finish(&mut *store, parser)
                .await?;
            parser.resource_drop_async(&mut *store).await?;
            Ok(records)
        })
        .await;
        self.parser = None;
        self.settle(result)
    }

    /// The largest linear memory the guest has used so far, in bytes.
    pub fn memory_peak(&self) -> usize {
        self.store.data().memory.peak()
    }

    fn live_parser(&self) -> Result<ResourceAny, PluginError> {
        match self.parser {
            Some(parser) if !self.poisoned => Ok(parser),
            _ => Err(PluginError::Poisoned {
                plugin: self.plugin.clone(),
            }),
        }
    }

    fn settle(
        &mut self,
        result: Result<Result<Vec<FeedRecord>, FeedError>, PluginError>,
    ) -> Result<Result<Vec<FeedRecord>, FeedError>, PluginError> {
        if result.is_err() {
            self.poisoned = true;
        }
        let records = result?;
        if let Ok(records) = &records {
            let bytes: usize = records.iter().map(record_size).sum();
            if let Err(e) = check_output(&self.plugin, bytes, self.output_cap) {
                self.poisoned = true;
                return Err(e);
            }
        }
        Ok(records)
    }
}

/// Runs one call into the guest and turns a failure into a [`PluginError`]:
/// deadline, memory limit or trap. A tokio timeout backs the epoch deadline
/// for time spent in host calls.
async fn run<T>(
    store: &mut Store<HostState>,
    plugin: &str,
    call: impl AsyncFnOnce(&mut Store<HostState>) -> wasmtime::Result<T>,
) -> Result<T, PluginError> {
    let deadline = store.data().call_deadline;
    let budget = store.data().call_budget;
    let remaining = deadline.saturating_duration_since(Instant::now());
    // The epoch callback fires at the next tick after the deadline; give the
    // host-side timeout two ticks more so the guest is stopped by the former.
    let grace = crate::runtime::EPOCH_TICK * 2;
    let outcome = tokio::time::timeout(remaining + grace, call(store)).await;
    let error = match outcome {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) => e,
        Err(_elapsed) => {
            return Err(PluginError::Deadline {
                plugin: plugin.to_owned(),
                deadline: budget,
            });
        }
    };
    // wasmtime stops copying an answer larger than the hostcall fuel (set
    // to the output cap in `Runtime::new_store`); its error type is private,
    // its message says so.
    if format!("{error:#}").contains("fuel allocated for hostcalls has been exhausted") {
        let limit = store.hostcall_fuel();
        return Err(PluginError::OutputTooLarge {
            plugin: plugin.to_owned(),
            bytes: limit.saturating_add(1),
            limit_bytes: limit,
        });
    }
    let state = store.data();
    if state.memory.hit() {
        return Err(PluginError::MemoryLimit {
            plugin: plugin.to_owned(),
            limit_bytes: state.memory.limit(),
        });
    }
    if let Some(trap) = error.downcast_ref::<wasmtime::Trap>()
        && *trap == wasmtime::Trap::Interrupt
    {
        return Err(PluginError::Deadline {
            plugin: plugin.to_owned(),
            deadline: budget,
        });
    }
    Err(PluginError::Trap {
        plugin: plugin.to_owned(),
        message: format!("{error:#}"),
    })
}

fn check_output(plugin: &str, bytes: usize, limit: usize) -> Result<(), PluginError> {
    if bytes > limit {
        return Err(PluginError::OutputTooLarge {
            plugin: plugin.to_owned(),
            bytes,
            limit_bytes: limit,
        });
    }
    Ok(())
}

/// Approximate bytes of a record: the text it carries.
fn record_size(record: &FeedRecord) -> usize {
    use crate::runtime::bindings::shopbridge::connector::types::Product;
    fn opt(s: &Option<String>) -> usize {
        s.as_ref().map_or(0, String::len)
    }
    fn list(l: &[String]) -> usize {
        l.iter().map(String::len).sum()
    }
    fn product(p: &Product) -> usize {
        64 + p.sku.len()
            + p.name.len()
            + opt(&p.gtin)
            + opt(&p.mpn)
            + opt(&p.brand)
            + opt(&p.description)
            + opt(&p.link)
            + opt(&p.group_id)
            + list(&p.category_path)
            + list(&p.image_urls)
            + p.attributes
                .iter()
                .map(|a| a.name.len() + a.value.len())
                .sum::<usize>()
            + p.variants
                .iter()
                .map(|v| {
                    64 + v.sku.len()
                        + list(&v.image_urls)
                        + v.attributes
                            .iter()
                            .map(|a| a.name.len() + a.value.len())
                            .sum::<usize>()
                })
                .sum::<usize>()
    }
    match record {
        FeedRecord::Product(p) => product(p),
        FeedRecord::Rejected(r) => 16 + opt(&r.sku) + opt(&r.position) + r.reason.len(),
    }
}

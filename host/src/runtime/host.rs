//! The host side of a store: the state a plugin's imports see, and the
//! implementation of those imports (`http`, `log`, `settings`).

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::Sandbox;
use super::bindings::shopbridge::connector::{http, log, settings, types};
use super::http::{HttpCapability, HttpClients};
use super::limits::MemoryLimiter;
use super::logcap::{self, CallBudget};
use super::stdio::LogStream;

pub(crate) struct HostState {
    pub(crate) plugin: Arc<str>,
    pub(crate) memory: MemoryLimiter,
    pub(crate) call_deadline: Instant,
    /// The length of the current call's deadline, for error messages.
    pub(crate) call_budget: std::time::Duration,
    pub(crate) http: HttpCapability,
    settings: Arc<super::Settings>,
    /// What the current call may still write to the log.
    log_budget: CallBudget,
    /// Built on the guest's first WASI call: most calls (metadata, a feed
    /// chunk, an order) never make one, and building it seeds two RNGs.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
}

impl HostState {
    pub(crate) fn new(sandbox: Sandbox, clients: HttpClients) -> Self {
        HostState {
            memory: MemoryLimiter::new(sandbox.limits.memory_bytes),
            call_deadline: Instant::now() + sandbox.limits.deadline,
            call_budget: sandbox.limits.deadline,
            http: HttpCapability::new(
                clients,
                sandbox.declared_hosts,
                sandbox.network,
                sandbox.limits.http,
            ),
            settings: sandbox.settings,
            plugin: sandbox.plugin,
            log_budget: CallBudget::default(),
            wasi: None,
            table: ResourceTable::new(),
        }
    }

    /// Starts a call: sets its deadline and resets the per-call budgets.
    pub(crate) fn begin_call(&mut self, budget: std::time::Duration) {
        self.call_deadline = Instant::now() + budget;
        self.call_budget = budget;
        self.log_budget = CallBudget::default();
        self.http.reset_budget();
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        // A fixture case reports the guest's memory peak across its calls.
        if let Some(tape) = self.http.tape() {
            tape.note_memory_peak(self.memory.peak());
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let plugin = &self.plugin;
        let ctx = self.wasi.get_or_insert_with(|| {
            // No preopened directories, no environment, no arguments, no
            // sockets. Clocks and random are WASI's own. Stdout and stderr
            // go to tracing.
            WasiCtx::builder()
                .stdout(LogStream::new(plugin.clone(), "stdout"))
                .stderr(LogStream::new(plugin.clone(), "stderr"))
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build()
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

impl http::Host for HostState {
    async fn send(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::Error>> {
        let plugin = self.plugin.clone();
        Ok(self.http.send(&plugin, request, self.call_deadline).await)
    }
}

impl log::Host for HostState {
    fn log(
        &mut self,
        level: log::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        // Bounded before anything is formatted: the message, each field and
        // all of them are cut, then the call's and the second's budgets
        // decide (see `logcap`).
        let message = logcap::cut(&message, logcap::MAX_MESSAGE_BYTES);
        let fields = logcap::fields_text(&fields);
        let plugin = &*self.plugin;
        if !self.log_budget.admit(plugin, message.len() + fields.len()) {
            return Ok(());
        }
        match level {
            log::Level::Trace => tracing::trace!(target: "plugin", plugin, fields, "{message}"),
            log::Level::Debug => tracing::debug!(target: "plugin", plugin, fields, "{message}"),
            log::Level::Info => tracing::info!(target: "plugin", plugin, fields, "{message}"),
            log::Level::Warn => tracing::warn!(target: "plugin", plugin, fields, "{message}"),
            log::Level::Error => tracing::error!(target: "plugin", plugin, fields, "{message}"),
        }
        Ok(())
    }
}

impl settings::Host for HostState {
    fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.settings.get(&name).map(str::to_owned))
    }
}

//! Plugin call overhead: a fresh store + instantiate from `InstancePre` +
//! one trivial export call (`describe`) through the host's full machinery
//! (`Plugin::describe`: pooling allocator, epoch deadline, memory limiter,
//! output cap, lazy WASI, async), against a bare wasmtime instantiate + call
//! of an empty component, in the same run.
//!
//! The headline ratio is the host on `minimal`, the smallest component the
//! contract allows (no std, no WASI, one small memory), against the bare
//! empty component. The floor under it, bare wasmtime with the host's pooling
//! settings on the same minimal component (synchronous, typed, no limits),
//! is printed beside it: the empty component has no memory to reset, any
//! contract-conforming one does (`describe` returns strings).
//!
//! A real plugin (`hostile`, a full Rust std component) costs more whoever
//! runs it, so its figures are printed too, with two baselines: bare
//! wasmtime (synchronous, no limits, imports stubbed) instantiating it and
//! calling the same export, with wasmtime's default allocator and with the
//! host's pooling settings.
//!
//! Run: `cargo xtask bench call_overhead` (release build).

use std::time::Duration;

use shopbridge::plugins::CallOptions;
use shopbridge::runtime::bindings::shopbridge::connector::types::Metadata;
use shopbridge_tests::measure::median_per_iteration;
use shopbridge_tests::{block_on, components, plugin, runtime};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

const BATCHES: usize = 21;
const PER_BATCH: u32 = 2_000;

fn main() {
    // Bare wasmtime: default allocator, synchronous call, no limits, no WASI.
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).expect("engine");
    let wat = r#"(component
        (core module $m (func (export "f")))
        (core instance $i (instantiate $m))
        (func (export "f") (canon lift (core func $i "f"))))"#;
    let bytes = wat::parse_str(wat).expect("valid WAT");
    let component = Component::new(&engine, bytes).expect("compiles");
    let linker: Linker<()> = Linker::new(&engine);
    let pre = linker
        .instantiate_pre(&component)
        .expect("pre-instantiates");
    let bare = median_per_iteration(BATCHES, PER_BATCH, || {
        let mut store = Store::new(&engine, ());
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let f = instance
            .get_typed_func::<(), ()>(&mut store, "f")
            .expect("exports f");
        f.call(&mut store, ()).expect("calls");
    });

    // Bare wasmtime, the real plugin, the same export: with wasmtime's
    // default config, then with the host's allocator settings (pooling,
    // dirty-page reset), synchronous, no WASI, no limits: the floor for this
    // plugin.
    let bare_plugin = bare_describe(&engine, components::HOSTILE);
    let mut pooled = Config::new();
    pooled.wasm_component_model(true);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(wasmtime::Enabled::Yes);
        pool.linear_memory_keep_resident(2 << 20);
        pool.table_keep_resident(64 << 10);
    }
    pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    let pooled = Engine::new(&pooled).expect("pooled engine");
    let pooled_minimal = bare_describe(&pooled, components::MINIMAL);
    let pooled_plugin = bare_describe(&pooled, components::HOSTILE);

    // The host: Plugin::describe (fresh store, InstancePre, every limit,
    // lazy WASI), on the minimal component, then on the real plugin.
    let host_minimal = host_describe(components::MINIMAL);
    let host_plugin = host_describe(components::HOSTILE);

    println!(
        "call_overhead: bare wasmtime, empty component, instantiate+call: {:.2} µs",
        micros(bare)
    );
    println!(
        "call_overhead: host, minimal component, instantiate from InstancePre + describe(), all limits on: {:.2} µs",
        micros(host_minimal)
    );
    println!(
        "call_overhead: bare wasmtime + the host's pooling settings, minimal component, instantiate+describe(): {:.2} µs",
        micros(pooled_minimal)
    );
    println!(
        "call_overhead: ratio host (minimal component) / bare empty component = {:.2}x (target: within 2x); host / bare wasmtime on the minimal component = {:.2}x",
        ratio(host_minimal, bare),
        ratio(host_minimal, pooled_minimal)
    );
    println!(
        "call_overhead: real plugin (hostile, Rust std): bare wasmtime, instantiate+describe(): {:.2} µs",
        micros(bare_plugin)
    );
    println!(
        "call_overhead: real plugin (hostile, Rust std): bare wasmtime + the host's pooling settings, instantiate+describe(): {:.2} µs",
        micros(pooled_plugin)
    );
    println!(
        "call_overhead: real plugin (hostile, Rust std): host, instantiate from InstancePre + describe(), all limits on: {:.2} µs",
        micros(host_plugin)
    );
    println!(
        "call_overhead: real plugin: ratio host / bare empty component = {:.2}x; host / bare wasmtime on the same plugin = {:.2}x (default config), {:.2}x (pooling)",
        ratio(host_plugin, bare),
        ratio(host_plugin, bare_plugin),
        ratio(host_plugin, pooled_plugin)
    );
}

/// The host's full path: `Plugin::describe` on the component at `path`,
/// with the default call options (every limit on).
fn host_describe(path: &str) -> Duration {
    let plugin = block_on(plugin(path));
    let options = CallOptions::default();
    block_on(async {
        let mut samples = Vec::new();
        for _ in 0..=BATCHES {
            let started = std::time::Instant::now();
            for _ in 0..PER_BATCH {
                let ok = plugin
                    .describe(runtime(), &options)
                    .await
                    .expect("calls describe");
                std::hint::black_box(ok);
            }
            samples.push(started.elapsed() / PER_BATCH);
        }
        samples.remove(0); // warm-up
        samples.sort();
        samples[samples.len() / 2]
    })
}

/// Bare wasmtime on `engine`: instantiate the component at `path` (imports
/// stubbed as traps; `describe` calls none) and call `describe` through the
/// typed API, as the host does.
fn bare_describe(engine: &Engine, path: &str) -> Duration {
    let bytes = std::fs::read(path).expect("plugin built");
    let component = Component::new(engine, bytes).expect("compiles");
    let mut linker: Linker<()> = Linker::new(engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("stubs imports");
    let pre = linker
        .instantiate_pre(&component)
        .expect("pre-instantiates");
    let interface = component
        .get_export_index(None, "shopbridge:connector/plugin@0.1.0")
        .expect("exports plugin");
    let describe = component
        .get_export_index(Some(&interface), "describe")
        .expect("exports describe");
    median_per_iteration(BATCHES, PER_BATCH, || {
        let mut store = Store::new(engine, ());
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let func = instance
            .get_typed_func::<(), (Metadata,)>(&mut store, describe)
            .expect("describe");
        let (metadata,) = func.call(&mut store, ()).expect("calls");
        std::hint::black_box(metadata);
    })
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

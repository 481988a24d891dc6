//! Plugin call overhead: a fresh store + instantiate from `InstancePre` +
//! one trivial export call (`describe`) of a real plugin, through the host's
//! full machinery (pooling allocator, epoch deadline, memory limiter, WASI,
//! async), measured in the same run against two baselines:
//! - a bare wasmtime instantiate + call of an empty component (the figure
//!   the issue names);
//! - bare wasmtime (default config, synchronous, no limits, imports stubbed)
//!   instantiating the same plugin and calling the same export: what the
//!   component itself costs, so the difference is the host's own overhead.
//!
//! Run: `cargo xtask bench call_overhead` (release build).

use std::time::Duration;

use shopbridge::plugins::CallOptions;
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

    // Bare wasmtime, the same plugin, the same export: with wasmtime's
    // default config, then with the host's allocator settings (pooling,
    // dirty-page reset), synchronous, no WASI, no limits: the floor for this
    // plugin.
    let bare_plugin = bare_describe(&engine);
    let mut pooled = Config::new();
    pooled.wasm_component_model(true);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    if wasmtime::PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(wasmtime::Enabled::Yes);
        pool.linear_memory_keep_resident(2 << 20);
    }
    pooled.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    let pooled_plugin = bare_describe(&Engine::new(&pooled).expect("pooled engine"));

    // The host: a real plugin through Plugin (fresh store, InstancePre,
    // limits, WASI), describe() as the trivial export.
    let hostile = block_on(plugin(components::HOSTILE));
    let options = CallOptions::default();
    let host = block_on(async {
        let mut samples = Vec::new();
        for _ in 0..=BATCHES {
            let started = std::time::Instant::now();
            for _ in 0..PER_BATCH {
                let ok = hostile
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
    });

    println!(
        "call_overhead: bare wasmtime, empty component, instantiate+call: {:.2} µs",
        micros(bare)
    );
    println!(
        "call_overhead: bare wasmtime, the plugin, instantiate+describe(): {:.2} µs",
        micros(bare_plugin)
    );
    println!(
        "call_overhead: bare wasmtime + the host's pooling settings, the plugin, instantiate+describe(): {:.2} µs",
        micros(pooled_plugin)
    );
    println!(
        "call_overhead: host, the plugin, instantiate from InstancePre + describe(), all limits on: {:.2} µs",
        micros(host)
    );
    println!(
        "call_overhead: ratio host / bare empty component = {:.2}x (target: within 2x)",
        ratio(host, bare)
    );
    println!(
        "call_overhead: ratio host / bare wasmtime on the same plugin = {:.2}x (default config), {:.2}x (pooling)",
        ratio(host, bare_plugin),
        ratio(host, pooled_plugin)
    );
}

/// Bare wasmtime on `engine`: instantiate the plugin (imports stubbed as
/// traps; `describe` calls none) and call `describe` through the dynamic API.
fn bare_describe(engine: &Engine) -> Duration {
    let bytes = std::fs::read(components::HOSTILE).expect("plugin built");
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
        let func = instance.get_func(&mut store, describe).expect("describe");
        let mut results = [wasmtime::component::Val::Bool(false)];
        func.call(&mut store, &[], &mut results).expect("calls");
        std::hint::black_box(&results);
    })
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

//! Feed throughput: a generated ~100 MB Google Merchant feed parsed by the
//! `google-merchant` plugin through the host in 64 KiB chunks with every
//! sandbox limit on (epoch deadline, memory cap, output cap), against the
//! same parser compiled natively, in the same run. Also reports the guest's
//! memory peak.
//!
//! Beside them, to show where the gap lies, the same component on bare
//! wasmtime with the host's compiler and allocator settings but without
//! epoch interruption, limiter or output cap (imports stubbed as traps:
//! parsing calls none): the ratio the sandbox's deadline checks leave.
//!
//! And the same feed written in windows-1252 (its declaration saying so),
//! through the host and natively: what decoding a legacy encoding in the
//! guest costs against the UTF-8 feed, which passes through undecoded.
//!
//! Run: `cargo xtask bench feed_throughput` (release build).
//! `FEED_MB` changes the size (default 100).

use std::time::{Duration, Instant};

use google_merchant::MerchantParser;
use shopbridge::plugins::CallOptions;
use shopbridge::runtime::bindings::ConnectorPre;
use shopbridge_guest_sdk::{FeedParse, FeedRecord};
use shopbridge_tests::feedgen::merchant_feed;
use shopbridge_tests::{block_on, components, plugin, runtime};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

const CHUNK: usize = 64 << 10;
const ROUNDS: usize = 5;

fn main() {
    let megabytes: usize = std::env::var("FEED_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (feed, items) = merchant_feed(megabytes << 20);
    println!(
        "feed_throughput: {:.1} MB, {items} items, {} KiB chunks",
        feed.len() as f64 / 1e6,
        CHUNK >> 10
    );

    let legacy = windows_1252(&feed);
    let merchant = block_on(plugin(components::GOOGLE_MERCHANT));
    let options = CallOptions::default();
    let bare = BareGuest::new(components::GOOGLE_MERCHANT, false);
    let bare_epochs = BareGuest::new(components::GOOGLE_MERCHANT, true);
    let mut native = Vec::new();
    let mut guest = Vec::new();
    let mut unlimited = Vec::new();
    let mut epochs = Vec::new();
    let mut legacy_native = Vec::new();
    let mut legacy_guest = Vec::new();
    let mut peak = 0usize;
    // Alternate the two so that both see the same machine conditions.
    for _ in 0..ROUNDS {
        native.push(parse_natively(&feed, items));
        let (elapsed, memory) = parse_through_host(&merchant, &options, &feed, items);
        guest.push(elapsed);
        peak = peak.max(memory);
        legacy_native.push(parse_natively(&legacy, items));
        let (elapsed, memory) = parse_through_host(&merchant, &options, &legacy, items);
        legacy_guest.push(elapsed);
        peak = peak.max(memory);

        let started = Instant::now();
        assert_eq!(bare.parse(&feed), items, "bare wasmtime lost items");
        unlimited.push(started.elapsed());

        let started = Instant::now();
        assert_eq!(bare_epochs.parse(&feed), items, "bare wasmtime lost items");
        epochs.push(started.elapsed());
    }
    let native = median(native);
    let guest = median(guest);
    let unlimited = median(unlimited);
    let epochs = median(epochs);
    let legacy_native = median(legacy_native);
    let legacy_guest = median(legacy_guest);
    let mbps = |d: Duration| feed.len() as f64 / 1e6 / d.as_secs_f64();
    println!("feed_throughput: native parser: {:.1} MB/s", mbps(native));
    println!(
        "feed_throughput: plugin through the host, all limits on: {:.1} MB/s",
        mbps(guest)
    );
    println!(
        "feed_throughput: ratio plugin / native = {:.2}x (target: at least 0.75x)",
        native.as_secs_f64() / guest.as_secs_f64()
    );
    println!(
        "feed_throughput: guest memory peak = {:.2} MiB (target: under 8 MiB)",
        peak as f64 / (1 << 20) as f64
    );
    println!(
        "feed_throughput: the same component on bare wasmtime, epoch checks compiled in, no limits: {:.1} MB/s, {:.2}x native",
        mbps(epochs),
        native.as_secs_f64() / epochs.as_secs_f64()
    );
    println!(
        "feed_throughput: the same component on bare wasmtime, no epoch interruption, no limits: {:.1} MB/s, {:.2}x native",
        mbps(unlimited),
        native.as_secs_f64() / unlimited.as_secs_f64()
    );
    let legacy_mbps = |d: Duration| legacy.len() as f64 / 1e6 / d.as_secs_f64();
    println!(
        "feed_throughput: the same feed in windows-1252 ({:.1} MB): native {:.1} MB/s, through the host {:.1} MB/s ({:.2}x native); the host takes {:.2}x the UTF-8 feed's time",
        legacy.len() as f64 / 1e6,
        legacy_mbps(legacy_native),
        legacy_mbps(legacy_guest),
        legacy_native.as_secs_f64() / legacy_guest.as_secs_f64(),
        legacy_guest.as_secs_f64() / guest.as_secs_f64()
    );
}

/// `feed` written in windows-1252, its declaration saying so (the
/// generated feed's text is all in windows-1252's repertoire).
fn windows_1252(feed: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(feed).expect("the generated feed is UTF-8");
    let text = text.replacen("encoding=\"UTF-8\"", "encoding=\"windows-1252\"", 1);
    let encoding = shopbridge_guest_sdk::encoding::for_label("windows-1252").expect("known");
    let (bytes, _, unmappable) = encoding.encode(&text);
    assert!(!unmappable, "the generated feed fits windows-1252");
    bytes.into_owned()
}

/// Time to parse `feed` with the native parser, checking its count.
fn parse_natively(feed: &[u8], items: u64) -> Duration {
    let started = Instant::now();
    let mut parser = MerchantParser::new("EUR");
    let mut products = 0u64;
    for chunk in feed.chunks(CHUNK) {
        products += count(parser.push(chunk).expect("native parses"));
    }
    products += count(parser.finish().expect("native finishes"));
    let elapsed = started.elapsed();
    assert_eq!(products, items, "native parser lost items");
    elapsed
}

/// Time to parse `feed` through the host with every limit on, and the
/// guest's memory peak, checking the count.
fn parse_through_host(
    merchant: &shopbridge::plugins::Plugin,
    options: &CallOptions,
    feed: &[u8],
    items: u64,
) -> (Duration, usize) {
    let (elapsed, products, memory) = block_on(async {
        let started = Instant::now();
        let mut session = merchant
            .open_feed(runtime(), options, None)
            .await
            .expect("instantiates")
            .expect("opens");
        let mut products = 0u64;
        for chunk in feed.chunks(CHUNK) {
            products += count_host(session.push(chunk).await.expect("runs").expect("parses"));
        }
        products += count_host(session.finish().await.expect("runs").expect("finishes"));
        (started.elapsed(), products, session.memory_peak())
    });
    assert_eq!(products, items, "plugin lost items");
    (elapsed, memory)
}

/// The plugin on a bare wasmtime engine: the host's compiler and pooling
/// settings (inlining, dirty-page reset), epoch checks compiled in or not
/// (never firing: nothing advances the epoch), no memory limiter, no
/// output cap, no settings, other imports stubbed as traps.
struct BareGuest {
    engine: Engine,
    pre: ConnectorPre<()>,
    epochs: bool,
}

impl BareGuest {
    fn new(path: &str, epochs: bool) -> Self {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(epochs);
        config.compiler_inlining(wasmtime::Inlining::Yes);
        let mut pool = PoolingAllocationConfig::new();
        if PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(wasmtime::Enabled::Yes);
            pool.linear_memory_keep_resident(2 << 20);
            pool.table_keep_resident(64 << 10);
        }
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).expect("engine");
        let component = Component::from_file(&engine, path).expect("compiles");
        let mut linker: Linker<()> = Linker::new(&engine);
        // Settings: the currency, as the host's bench gives none either
        // (the parser's default); everything else traps.
        linker
            .instance("shopbridge:connector/settings@0.1.0")
            .expect("settings")
            .func_wrap("get", |_, (_name,): (String,)| Ok((None::<String>,)))
            .expect("defines settings.get");
        linker
            .define_unknown_imports_as_traps(&component)
            .expect("stubs imports");
        let pre = ConnectorPre::new(linker.instantiate_pre(&component).expect("links"))
            .expect("exports the contract");
        BareGuest {
            engine,
            pre,
            epochs,
        }
    }

    /// Products parsed from `feed`, pushed in `CHUNK`s.
    fn parse(&self, feed: &[u8]) -> u64 {
        block_on(async {
            let mut store = Store::new(&self.engine, ());
            if self.epochs {
                store.set_epoch_deadline(u64::MAX / 2);
            }
            let connector = self
                .pre
                .instantiate_async(&mut store)
                .await
                .expect("instantiates");
            let parser = connector.shopbridge_connector_catalog().feed_parser();
            let session = parser
                .call_open(&mut store, None)
                .await
                .expect("runs")
                .expect("opens");
            let mut products = 0;
            for chunk in feed.chunks(CHUNK) {
                let records = parser.call_push(&mut store, session, chunk).await;
                products += count_host(records.expect("runs").expect("parses"));
            }
            let records = parser.call_finish(&mut store, session).await;
            products += count_host(records.expect("runs").expect("finishes"));
            session
                .resource_drop_async(&mut store)
                .await
                .expect("drops");
            products
        })
    }
}

fn count(records: Vec<FeedRecord>) -> u64 {
    records
        .iter()
        .filter(|r| matches!(r, FeedRecord::Product(_)))
        .count() as u64
}

fn count_host(
    records: Vec<shopbridge::runtime::bindings::shopbridge::connector::types::FeedRecord>,
) -> u64 {
    use shopbridge::runtime::bindings::shopbridge::connector::types::FeedRecord as R;
    records
        .iter()
        .filter(|r| matches!(r, R::Product(_)))
        .count() as u64
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

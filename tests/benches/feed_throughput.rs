//! Feed throughput: a generated ~100 MB Google Merchant feed parsed by the
//! `google-merchant` plugin through the host in 64 KiB chunks with every
//! sandbox limit on (epoch deadline, memory cap, output cap), against the
//! same parser compiled natively, in the same run. Also reports the guest's
//! memory peak.
//!
//! Run: `cargo xtask bench feed_throughput` (release build).
//! `FEED_MB` changes the size (default 100).

use std::time::{Duration, Instant};

use google_merchant::MerchantParser;
use shopbridge::plugins::CallOptions;
use shopbridge_guest_sdk::{FeedParse, FeedRecord};
use shopbridge_tests::feedgen::merchant_feed;
use shopbridge_tests::{block_on, components, plugin, runtime};

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

    let merchant = block_on(plugin(components::GOOGLE_MERCHANT));
    let options = CallOptions::default();
    let mut native = Vec::new();
    let mut guest = Vec::new();
    let mut peak = 0usize;
    // Alternate the two so that both see the same machine conditions.
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let mut parser = MerchantParser::new("EUR");
        let mut products = 0u64;
        for chunk in feed.chunks(CHUNK) {
            products += count(parser.push(chunk).expect("native parses"));
        }
        products += count(parser.finish().expect("native finishes"));
        native.push(started.elapsed());
        assert_eq!(products, items, "native parser lost items");

        let (elapsed, products, memory) = block_on(async {
            let started = Instant::now();
            let mut session = merchant
                .open_feed(runtime(), &options, None)
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
        guest.push(elapsed);
        peak = peak.max(memory);
        assert_eq!(products, items, "plugin lost items");
    }
    let native = median(native);
    let guest = median(guest);
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

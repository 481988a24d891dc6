//! Catalog sync benchmark, against the release `shopbridge serve` binary on
//! SQLite: a generated Google Merchant feed (100,000 products by default)
//! served over loopback HTTP, synced through the `google-merchant` plugin
//! (fetch, parse in the sandbox, diff, store), then synced again unchanged
//! (the server sends no ETag, so the whole feed is parsed again) to show
//! that nothing is written. Reports the times, the writes, and the server's
//! peak resident memory.
//!
//! Run: `cargo xtask bench catalog_sync`. `PRODUCTS` changes the size
//! (`PRODUCTS=1000000` for the million).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use shopbridge::signature;

const SECRET: &str = "bench-shop-secret";
const TARGET: Duration = Duration::from_secs(5);

fn main() {
    let products: u64 = std::env::var("PRODUCTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    // The generator works in bytes: measure its bytes per item first.
    let (sample, sample_items) = shopbridge_tests::feedgen::merchant_feed(1 << 20);
    let per_item = sample.len() as u64 / sample_items.max(1);
    let (feed, items) = shopbridge_tests::feedgen::merchant_feed((products * per_item) as usize);
    println!(
        "catalog_sync: feed of {items} items, {:.1} MB",
        feed.len() as f64 / 1e6
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let feed = bytes::Bytes::from(feed);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let feed_address = listener.local_addr().expect("address");
    runtime.spawn(async move {
        let app = Router::new().route("/feed.xml", get(move || async move { feed.clone() }));
        let _ = axum::serve(listener, app).await;
    });

    let dir = std::env::temp_dir().join(format!("shopbridge-catalog-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut server, base) = start(&dir, &format!("http://{feed_address}/feed.xml"));
    let client = reqwest::Client::new();
    // What the server holds once started (its plugin compiled), then its
    // peak while syncing: the peak is reset between the two.
    let at_start = peak_rss_mib(server.id());
    reset_peak_rss(server.id());
    let idle = peak_rss_mib(server.id());

    let first = runtime.block_on(sync(&client, &base));
    let second = runtime.block_on(sync(&client, &base));
    let peak = peak_rss_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "catalog_sync: full sync of {} products: {:.2} s ({:.0} products/s), {} created, {} rejected",
        first.products,
        first.elapsed.as_secs_f64(),
        first.products as f64 / first.elapsed.as_secs_f64(),
        first.created,
        first.rejected
    );
    println!(
        "catalog_sync: unchanged re-sync: {:.2} s, {} product rows written ({} unchanged)",
        second.elapsed.as_secs_f64(),
        second.created + second.updated + second.removed,
        second.unchanged
    );
    println!(
        "catalog_sync: server resident memory {at_start:.0} MiB at start-up (peak), {idle:.0} MiB idle after it, peak {peak:.0} MiB during the syncs (target: under 256 MiB); guest memory peak {:.2} MiB (target: under 8 MiB)",
        first.guest_memory_peak.max(second.guest_memory_peak) as f64 / (1 << 20) as f64
    );
    println!(
        "catalog_sync: ratio full sync / 5 s target = {:.2}x (target: at most 1x for 100,000 products)",
        first.elapsed.as_secs_f64() / TARGET.as_secs_f64()
            * (100_000.0 / first.products.max(1) as f64)
    );
}

struct Run {
    elapsed: Duration,
    products: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    removed: i64,
    rejected: i64,
    guest_memory_peak: i64,
}

fn start(dir: &std::path::Path, feed_url: &str) -> (Child, String) {
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
database = "sqlite://{}/shopbridge.db"

[[plugins]]
name = "google-merchant"
path = "{}"

[[shops]]
id = "bench"
key_id = "bench"
secret = "{SECRET}"

[[bindings]]
id = "feed"
shop = "bench"
plugin = "google-merchant"
allow_hosts = ["127.0.0.1"]
allow_private_network = true

[bindings.catalog]
feed_url = "{feed_url}"
pricing = {{ markup_percent = 30.0, ending_cents = 99 }}
"#,
            dir.display(),
            shopbridge_tests::components::GOOGLE_MERCHANT
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SHOPBRIDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting shopbridge serve");
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(url) = line.strip_prefix("shopbridge: listening on ") {
            std::thread::spawn(move || for _ in lines {});
            return (child, url.to_owned());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

async fn signed(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: &str,
) -> serde_json::Value {
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let sig = signature::sign(SECRET, ts, method, path, body.as_bytes());
    let bytes = client
        .request(method.parse().expect("method"), format!("{base}{path}"))
        .header(signature::KEY_HEADER, "bench")
        .header(signature::TIMESTAMP_HEADER, ts.to_string())
        .header(signature::SIGNATURE_HEADER, sig)
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers")
        .bytes()
        .await
        .expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

async fn sync(client: &reqwest::Client, base: &str) -> Run {
    let started = Instant::now();
    let run = signed(
        client,
        base,
        "POST",
        "/v1/shops/bench/bindings/feed/syncs",
        "",
    )
    .await;
    let id = run["id"].as_i64().expect("a run id");
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let run = signed(
            client,
            base,
            "GET",
            &format!("/v1/shops/bench/bindings/feed/syncs/{id}"),
            "",
        )
        .await;
        match run["state"].as_str() {
            Some("queued" | "running") => continue,
            Some("succeeded") => {
                let n = |k: &str| run[k].as_i64().unwrap_or(0);
                return Run {
                    elapsed: started.elapsed(),
                    products: n("created") + n("updated") + n("unchanged"),
                    created: n("created"),
                    updated: n("updated"),
                    unchanged: n("unchanged"),
                    removed: n("removed"),
                    rejected: n("rejected"),
                    guest_memory_peak: n("guest_memory_peak_bytes"),
                };
            }
            _ => panic!("the sync did not succeed: {run}"),
        }
    }
}

/// Resets the process's peak resident size (`VmHWM`) to its current size
/// (Linux: writing 5 to `clear_refs`).
fn reset_peak_rss(pid: u32) {
    if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
        eprintln!(
            "catalog_sync: could not reset the server's peak memory ({e}): it includes start-up"
        );
    }
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

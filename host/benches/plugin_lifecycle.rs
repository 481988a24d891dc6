//! Plugin lifecycle timings, against the release `shopbridge serve` binary
//! on SQLite:
//!
//! 1. Activation latency with compilation: upload a new version (compile,
//!    contract checks, conformance suite, compiled cache written), activate
//!    it on a binding, and post an order until one is submitted by the new
//!    version (the `swap` plugin's supplier references say which: `v1-` or
//!    `v2-`).
//! 2. Activation latency with a cached artefact: a new process on the same
//!    database, which never loaded 2.0.0, activates it (deserialized from
//!    the compiled cache) and runs an order on it.
//! 3. Restart with 50 plugin versions active (50 bindings, each on its own
//!    build of `swap`: 2.0.0 with its version string patched in place, so
//!    50 distinct components, each with its own compiled artefact): from
//!    spawning `serve` to its listening line, which comes after every
//!    active version is loaded. Then the same restart with the compiled
//!    cache emptied, for contrast.
//!
//! Run: `cargo xtask bench plugin_lifecycle`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shopbridge::signature;

const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789";
const SECRET: &str = "bench-shop-secret";
/// Plugin versions active at the restart, as the issue asks.
const PLUGINS: usize = 50;

fn main() {
    let dir =
        std::env::temp_dir().join(format!("shopbridge-bench-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = write_config(&dir);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let http = reqwest::Client::new();
    let v2 = std::fs::read(shopbridge_tests::components::SWAP_V2).expect("swap 2.0.0");

    // 1. With compilation.
    let (mut server, base, _) = start(&config);
    runtime.block_on(async {
        let on_v1 = first_order(&http, &base, "warmup", "v1-").await;
        assert!(on_v1 > Duration::ZERO);
        let started = Instant::now();
        let uploaded = call(&http, &base, "/v1/plugins", v2.clone(), "application/wasm").await;
        let upload = started.elapsed();
        assert_eq!(uploaded["version"], "2.0.0", "{uploaded}");
        let activate_started = Instant::now();
        activate(&http, &base, "2.0.0", "swapped").await;
        let activation = activate_started.elapsed();
        let order = first_order(&http, &base, "compiled", "v2-").await;
        println!(
            "plugin_lifecycle: upload to first call, compiling:    {:>7.1} ms (upload with compile and conformance {:.1} ms, activate {:.1} ms, first order submitted {:.1} ms)",
            ms(started.elapsed()),
            ms(upload),
            ms(activation),
            ms(order)
        );
        // Back to 1.0.0, so that the next process has not loaded 2.0.0.
        call(&http, &base, "/v1/plugins/swap/rollback", json!({"binding": "swapped"}).to_string().into_bytes(), "application/json").await;
    });
    kill(&mut server);

    // 2. From the compiled cache, in a process that never loaded 2.0.0.
    let (mut server, base, _) = start(&config);
    let variants: Vec<(String, Vec<u8>)> = (1..=PLUGINS).map(|i| variant(&v2, i)).collect();
    runtime.block_on(async {
        first_order(&http, &base, "warmup-2", "v1-").await;
        let started = Instant::now();
        activate(&http, &base, "2.0.0", "swapped").await;
        let activation = started.elapsed();
        let order = first_order(&http, &base, "cached", "v2-").await;
        println!(
            "plugin_lifecycle: activation to first call, cached:   {:>7.1} ms (activate {:.1} ms, first order submitted {:.1} ms)",
            ms(started.elapsed()),
            ms(activation),
            ms(order)
        );

        // 50 versions, one per binding.
        let started = Instant::now();
        for (i, (version, bytes)) in variants.iter().enumerate() {
            let uploaded = call(&http, &base, "/v1/plugins", bytes.clone(), "application/wasm").await;
            assert_eq!(uploaded["version"], version.as_str(), "{uploaded}");
            activate(&http, &base, version, &format!("b{i:02}")).await;
        }
        println!(
            "plugin_lifecycle: {PLUGINS} uploads and activations:          {:>7.1} ms ({:.1} ms each, compile and conformance included)",
            ms(started.elapsed()),
            ms(started.elapsed()) / PLUGINS as f64
        );
    });
    kill(&mut server);

    // 3. Restarts.
    let (mut server, base, cached) = start(&config);
    let from_cache = runtime.block_on(loaded_from(&http, &base, "cache"));
    kill(&mut server);
    runtime.block_on(empty_cache(&dir.join("shopbridge.db")));
    let (mut server, base, compiled) = start(&config);
    let recompiled = runtime.block_on(loaded_from(&http, &base, "compiled"));
    kill(&mut server);
    assert_eq!(from_cache, PLUGINS, "every version came from the cache");
    assert_eq!(recompiled, PLUGINS, "every version was compiled again");
    println!(
        "plugin_lifecycle: restart with {PLUGINS} plugins, from the cache:  {:>7.1} ms (spawn to listening)",
        ms(cached)
    );
    println!(
        "plugin_lifecycle: restart with {PLUGINS} plugins, cache emptied:   {:>7.1} ms (each compiled again)",
        ms(compiled)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// 2.0.0 with its version string made `2.x.y` (same length, so the
/// component stays valid): another component, another artefact.
fn variant(v2: &[u8], i: usize) -> (String, Vec<u8>) {
    let version = format!("2.{}.{}", i / 10, i % 10);
    let at = v2
        .windows(5)
        .position(|w| w == b"2.0.0")
        .expect("swap 2.0.0 declares its version");
    let mut bytes = v2.to_vec();
    bytes[at..at + 5].copy_from_slice(version.as_bytes());
    (version, bytes)
}

fn write_config(dir: &Path) -> std::path::PathBuf {
    let mut text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
database = "sqlite://{}/shopbridge.db"

[[plugins]]
name = "swap"
path = "{}"

[[shops]]
id = "bench"
key_id = "bench"
secret = "{SECRET}"

[[operators]]
name = "ops"
token = "{OPERATOR_TOKEN}"

[[bindings]]
id = "swapped"
shop = "bench"
plugin = "swap"
sku_prefixes = [""]
status_poll = "1h"
"#,
        dir.display(),
        shopbridge_tests::components::SWAP_V1
    );
    for i in 0..PLUGINS {
        text.push_str(&format!(
            "\n[[bindings]]\nid = \"b{i:02}\"\nshop = \"bench\"\nplugin = \"swap\"\nsku_prefixes = [\"B{i:02}-\"]\nstatus_poll = \"1h\"\n"
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("writing the config");
    path
}

/// Starts `serve`; returns it, its URL and the time to its listening line.
fn start(config: &Path) -> (Child, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["serve", "--config"])
        .arg(config)
        .env("SHOPBRIDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting shopbridge serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(url) = line.strip_prefix("shopbridge: listening on ") {
            let elapsed = started.elapsed();
            std::thread::spawn(move || for _ in lines {});
            return (child, url.to_owned(), elapsed);
        }
    }
    kill(&mut child);
    panic!("the server did not start");
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(OPERATOR_TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("an answer");
    let body: Value = serde_json::from_slice(&bytes).expect("a JSON answer");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn activate(http: &reqwest::Client, base: &str, version: &str, binding: &str) {
    let body = json!({ "binding": binding }).to_string().into_bytes();
    call(
        http,
        base,
        &format!("/v1/plugins/swap/versions/{version}/activate"),
        body,
        "application/json",
    )
    .await;
}

/// Posts a paid order and polls (every millisecond) until it is submitted;
/// asserts the version that submitted it and returns the time taken.
async fn first_order(
    http: &reqwest::Client,
    base: &str,
    reference: &str,
    prefix: &str,
) -> Duration {
    let started = Instant::now();
    let path = "/v1/shops/bench/orders";
    let order = json!({
        "reference": reference, "placed_at": "2026-11-30T10:00:00Z", "currency": "EUR", "paid": true,
        "shipping_address": { "first_name": "Jeanne", "last_name": "Martin", "line1": "12 rue des Lilas",
            "postal_code": "75011", "city": "Paris", "country_code": "FR" },
        "lines": [{ "sku": "SKU-1", "quantity": 1, "unit_price": 1599 }],
    })
    .to_string();
    let answer = signed(http, base, "POST", path, order.as_bytes()).await;
    assert_eq!(answer.0, 202, "{}", answer.1);
    let get = format!("{path}/{reference}");
    loop {
        let (_, view) = signed(http, base, "GET", &get, b"").await;
        if let Some(supplier) = view["supplier_orders"][0]["supplier_reference"].as_str() {
            assert!(
                supplier.starts_with(prefix),
                "{reference} ran on {supplier}, not {prefix}"
            );
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{reference} was not submitted: {view}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn signed(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Value) {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let sig = signature::sign(SECRET, timestamp, method, path, body);
    let response = http
        .request(method.parse().expect("method"), format!("{base}{path}"))
        .header(signature::KEY_HEADER, "bench")
        .header(signature::TIMESTAMP_HEADER, timestamp.to_string())
        .header(signature::SIGNATURE_HEADER, sig)
        .body(body.to_vec())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// How many bindings run a version loaded from `source`.
async fn loaded_from(http: &reqwest::Client, base: &str, source: &str) -> usize {
    let body: Value = http
        .get(format!("{base}/v1/plugins"))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .expect("the server answers")
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))
        .expect("an answer");
    body["bindings"]
        .as_array()
        .map(|b| {
            b.iter()
                .filter(|b| {
                    b["binding"].as_str().is_some_and(|id| id.starts_with('b'))
                        && b["loaded_from"] == source
                })
                .count()
        })
        .unwrap_or_default()
}

async fn empty_cache(db: &Path) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("the bench's database");
    sqlx::query("DELETE FROM compiled_artefacts")
        .execute(&mut conn)
        .await
        .expect("emptying the compiled cache");
}

//! Order hook load test, against the release `shopbridge serve` binary on
//! the default SQLite store (WAL, fsync at every commit): signed orders
//! posted over loopback by a load generator in this process.
//!
//! 1. Throughput: `CONCURRENCY` connections posting back to back for
//!    `SECONDS`; every 202 is an order durably committed before the answer.
//! 2. Latency at a fixed rate (500 orders/s, open loop: latency counted
//!    from when each request was due, so a stall is not hidden).
//! 3. The baseline, in the same run: a bare axum endpoint (a child process
//!    of this bench) doing one SQLite insert per request, same pragmas,
//!    same load.
//!
//! Orders are posted unpaid to a shop that dispatches once paid, so what is
//! measured is the hook (authenticate, validate, split, commit, answer),
//! not the suppliers.
//!
//! Run: `cargo xtask bench order_hook`. `SECONDS` and `CONCURRENCY` tune it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shopbridge::signature;
use tokio::sync::Mutex;

const SECRET: &str = "bench-shop-secret";
const FIXED_RATE: u32 = 500;

fn main() {
    // The baseline server runs in a child process of this same binary.
    if let Ok(db) = std::env::var("ORDER_HOOK_BASELINE_DB") {
        baseline_server(&db);
        return;
    }
    let seconds: u64 = env_or("SECONDS", 5);
    let concurrency: usize = env_or("CONCURRENCY", 64);
    let dir = std::env::temp_dir().join(format!("shopbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let (mut server, base) = start_shopbridge(&dir);
    let host = runtime.block_on(run_load("shopbridge", &base, seconds, concurrency));
    kill(&mut server);

    let (mut bare, bare_base) = start_baseline(&dir);
    let baseline = runtime.block_on(run_load(
        "bare axum + one SQLite insert",
        &bare_base,
        seconds,
        concurrency,
    ));
    kill(&mut bare);
    let _ = std::fs::remove_dir_all(&dir);

    println!();
    println!(
        "order_hook: shopbridge {:.0} orders/s (p50 {:.1} ms, p99 {:.1} ms at full load; p99 {:.1} ms at {FIXED_RATE}/s)",
        host.throughput, host.p50_full, host.p99_full, host.p99_fixed
    );
    println!(
        "order_hook: baseline   {:.0} orders/s (p50 {:.1} ms, p99 {:.1} ms at full load; p99 {:.1} ms at {FIXED_RATE}/s)",
        baseline.throughput, baseline.p50_full, baseline.p99_full, baseline.p99_fixed
    );
    println!(
        "order_hook: ratio shopbridge / bare axum+SQLite = {:.2}x (target: at least 1x; 2,000 orders/s; p99 < 20 ms at {FIXED_RATE}/s)",
        host.throughput / baseline.throughput
    );
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `shopbridge: listening on <url>` (or the baseline's equivalent).
fn wait_for_address(child: &mut Child) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(url) = line.strip_prefix("shopbridge: listening on ") {
            std::thread::spawn(move || for _ in lines {});
            return url.to_owned();
        }
    }
    panic!("the server did not start");
}

fn start_shopbridge(dir: &Path) -> (Child, String) {
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
database = "sqlite://{}/shopbridge.db"

[[plugins]]
name = "csv-wholesaler"
path = "{}"

[[shops]]
id = "bench"
key_id = "bench"
secret = "{SECRET}"
dispatch = "once-paid"

[[bindings]]
id = "wholesaler"
shop = "bench"
plugin = "csv-wholesaler"
sku_prefixes = [""]
wholesale = {{ "BB-1" = 850, "BB-2" = 1200 }}
settings = {{ api-base-url = "http://127.0.0.1:9", api-key = "unused" }}
"#,
            dir.display(),
            shopbridge_tests::components::CSV_WHOLESALER
        ),
    )
    .expect("writing the config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SHOPBRIDGE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting shopbridge serve");
    let base = wait_for_address(&mut child);
    (child, base)
}

fn start_baseline(dir: &Path) -> (Child, String) {
    let exe = std::env::current_exe().expect("this bench's path");
    let mut child = Command::new(exe)
        .env("ORDER_HOOK_BASELINE_DB", dir.join("baseline.db"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the baseline server");
    let base = wait_for_address(&mut child);
    (child, base)
}

/// The baseline: axum, one SQLite insert (same durability) per request.
fn baseline_server(db: &str) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::StatusCode;
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(PathBuf::from(db))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("baseline database");
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        )
        .execute(&pool)
        .await
        .expect("baseline table");
        async fn insert(State(pool): State<sqlx::SqlitePool>, body: Bytes) -> StatusCode {
            let text = String::from_utf8_lossy(&body).into_owned();
            match sqlx::query("INSERT INTO orders (body) VALUES (?)")
                .bind(text)
                .execute(&pool)
                .await
            {
                Ok(_) => StatusCode::ACCEPTED,
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
        let app = axum::Router::new()
            .route("/v1/shops/{shop}/orders", axum::routing::post(insert))
            .with_state(pool);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        println!("shopbridge: listening on http://{address}");
        axum::serve(listener, app).await.expect("serve");
    });
}

struct Figures {
    throughput: f64,
    p50_full: f64,
    p99_full: f64,
    p99_fixed: f64,
}

fn order_body(reference: &str) -> String {
    serde_json::json!({
        "reference": reference,
        "currency": "EUR",
        "paid": false,
        "customer_email": "jeanne@example.fr",
        "shipping_address": {
            "first_name": "Jeanne", "last_name": "Martin", "line1": "12 rue des Lilas",
            "postal_code": "75011", "city": "Paris", "country_code": "FR"
        },
        "lines": [
            { "sku": "BB-1", "quantity": 2, "unit_price": 1599 },
            { "sku": "BB-2", "quantity": 1, "unit_price": 2490 }
        ]
    })
    .to_string()
}

async fn post(client: &reqwest::Client, base: &str, reference: &str) -> bool {
    let path = "/v1/shops/bench/orders";
    let body = order_body(reference);
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let sig = signature::sign(SECRET, timestamp, "POST", path, body.as_bytes());
    let sent = client
        .post(format!("{base}{path}"))
        .header(signature::KEY_HEADER, "bench")
        .header(signature::TIMESTAMP_HEADER, timestamp.to_string())
        .header(signature::SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    matches!(sent, Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

async fn run_load(name: &str, base: &str, seconds: u64, concurrency: usize) -> Figures {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let prefix = format!("{}-{}", name.len(), std::process::id());
    // Warm-up.
    for i in 0..200 {
        post(&client, base, &format!("W{prefix}-{i}")).await;
    }

    // Closed loop, full load.
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..concurrency {
        let client = client.clone();
        let base = base.to_owned();
        let latencies = latencies.clone();
        let failures = failures.clone();
        let prefix = prefix.clone();
        tasks.spawn(async move {
            let mut mine = Vec::new();
            let mut i = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                if post(&client, &base, &format!("F{prefix}-{lane}-{i}")).await {
                    mine.push(t.elapsed());
                } else {
                    failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                i += 1;
            }
            latencies.lock().await.extend(mine);
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let mut full = std::mem::take(&mut *latencies.lock().await);
    full.sort();
    let throughput = full.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{name}: {} orders acknowledged in {:.1} s with {concurrency} connections: {throughput:.0}/s, {} failed",
        full.len(),
        elapsed.as_secs_f64(),
        failures.load(std::sync::atomic::Ordering::Relaxed)
    );

    // Open loop at a fixed rate.
    let total = FIXED_RATE as u64 * seconds;
    let interval = Duration::from_secs(1) / FIXED_RATE;
    let fixed = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let client = client.clone();
        let base = base.to_owned();
        let fixed = fixed.clone();
        let prefix = prefix.clone();
        tasks.spawn(async move {
            if post(&client, &base, &format!("R{prefix}-{i}")).await {
                fixed.lock().await.push(due.elapsed());
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let mut fixed = std::mem::take(&mut *fixed.lock().await);
    fixed.sort();
    println!(
        "{name}: {} of {total} orders at {FIXED_RATE}/s acknowledged, p50 {:.1} ms, p99 {:.1} ms",
        fixed.len(),
        percentile(&fixed, 0.5),
        percentile(&fixed, 0.99)
    );
    Figures {
        throughput,
        p50_full: percentile(&full, 0.5),
        p99_full: percentile(&full, 0.99),
        p99_fixed: percentile(&fixed, 0.99),
    }
}

//! What the server tests share: a database of either kind, the real
//! `shopbridge serve` process, a shop client that signs like a shop module,
//! and a fake shop that receives webhooks.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use shopbridge::signature::{self, KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
use shopbridge_tests::{LoopbackServer, block_on, components};

pub(crate) const SHOP: &str = "demo";
pub(crate) const KEY_ID: &str = "demo-key";
pub(crate) const SECRET: &str = "a-long-shop-secret";
pub(crate) const SUPPLIER_KEY: &str = "supplier-api-key";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one kind, dropped with the test's data.
pub(crate) struct Database {
    pub(crate) url: String,
    dir: PathBuf,
    postgres_name: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("SHOPBRIDGE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    )
}

impl Database {
    pub(crate) fn new(kind: Db) -> Database {
        let dir = std::env::temp_dir().join(unique("shopbridge-test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match kind {
            Db::Sqlite => Database {
                url: format!("sqlite://{}/shopbridge.db", dir.display()),
                dir,
                postgres_name: None,
            },
            Db::Postgres => {
                let name = unique("sbtest");
                let admin = postgres_admin_url();
                block_on(async {
                    use sqlx::Connection;
                    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is not reachable at {admin} ({e}): the server tests run on PostgreSQL too. \
                             Start it (.ci/run does) or point SHOPBRIDGE_TEST_POSTGRES at one."
                        )
                    });
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&mut conn)
                        .await
                        .expect("creating the test database");
                });
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                Database {
                    url: format!("{base}/{name}"),
                    dir,
                    postgres_name: Some(name),
                }
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(name) = &self.postgres_name {
            let admin = postgres_admin_url();
            let name = name.clone();
            block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        }
    }
}

/// A binding to a fake wholesaler, as the config file declares it.
pub(crate) struct BindingSpec<'a> {
    pub(crate) id: &'a str,
    pub(crate) supplier: &'a FakeWholesaler,
    pub(crate) sku_prefix: &'a str,
    pub(crate) wholesale: &'a [(&'a str, i64)],
}

/// Builds the configuration file of a test.
pub(crate) struct ConfigSpec<'a> {
    pub(crate) database: &'a Database,
    pub(crate) bindings: Vec<BindingSpec<'a>>,
    pub(crate) callback_url: Option<String>,
    pub(crate) dispatch: &'a str,
    pub(crate) extra_server: &'a str,
    pub(crate) listen: String,
}

impl<'a> ConfigSpec<'a> {
    pub(crate) fn new(database: &'a Database, supplier: &'a FakeWholesaler) -> ConfigSpec<'a> {
        ConfigSpec {
            database,
            bindings: vec![BindingSpec {
                id: "wholesaler",
                supplier,
                sku_prefix: "",
                wholesale: &[],
            }],
            callback_url: None,
            dispatch: "at-confirmation",
            extra_server: "",
            listen: "127.0.0.1:0".into(),
        }
    }

    pub(crate) fn toml(&self) -> String {
        let mut text = format!(
            r#"
[server]
listen = "{}"
database = "{}"
retry_base = "100ms"
retry_max = "2s"
{}

[[plugins]]
name = "csv-wholesaler"
path = "{}"

[[shops]]
id = "{SHOP}"
key_id = "{KEY_ID}"
secret = "{SECRET}"
dispatch = "{}"
{}
"#,
            self.listen,
            self.database.url,
            self.extra_server,
            components::CSV_WHOLESALER,
            self.dispatch,
            self.callback_url
                .as_ref()
                .map(|u| format!("callback_url = \"{u}\""))
                .unwrap_or_default(),
        );
        for b in &self.bindings {
            let wholesale = b
                .wholesale
                .iter()
                .map(|(sku, cost)| format!("\"{sku}\" = {cost}"))
                .collect::<Vec<_>>()
                .join(", ");
            text.push_str(&format!(
                r#"
[[bindings]]
id = "{}"
shop = "{SHOP}"
plugin = "csv-wholesaler"
sku_prefixes = ["{}"]
allow_hosts = ["127.0.0.1"]
allow_private_network = true
status_poll = "200ms"
wholesale = {{ {wholesale} }}
settings = {{ api-base-url = "{}", api-key = "{SUPPLIER_KEY}" }}
"#,
                b.id,
                b.sku_prefix,
                b.supplier.base_url()
            ));
        }
        text
    }
}

/// The head of a test's configuration file: the server on a free loopback
/// port over `database` (with `server_extra` lines in its table), the
/// plugins by (name, component), the shop `demo` and the `other_shops` by
/// (id, key id, secret). Bindings follow.
pub(crate) fn config_head(
    database: &Database,
    server_extra: &str,
    plugins: &[(&str, &str)],
    other_shops: &[(&str, &str, &str)],
) -> String {
    let mut text = format!(
        "\n[server]\nlisten = \"127.0.0.1:0\"\ndatabase = \"{}\"\n{server_extra}\n",
        database.url
    );
    for (name, path) in plugins {
        text.push_str(&format!(
            "\n[[plugins]]\nname = \"{name}\"\npath = \"{path}\"\n"
        ));
    }
    for (id, key_id, secret) in [(SHOP, KEY_ID, SECRET)].iter().chain(other_shops) {
        text.push_str(&format!(
            "\n[[shops]]\nid = \"{id}\"\nkey_id = \"{key_id}\"\nsecret = \"{secret}\"\n"
        ));
    }
    text
}

/// Writes `config` to a file of its own (named after `name`) and starts
/// `shopbridge serve` on it.
pub(crate) fn serve_config(name: &str, config: &str) -> Server {
    static FILES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("shopbridge-{name}-{}-{n}.toml", std::process::id()));
    std::fs::write(&path, config).expect("writing the configuration");
    Server::start_with_file(path)
}

/// A running `shopbridge serve` process, killed when dropped.
pub(crate) struct Server {
    pub(crate) base: String,
    child: Child,
    pub(crate) config_path: PathBuf,
}

impl Server {
    pub(crate) fn start(config: &ConfigSpec<'_>) -> Server {
        let path = std::env::temp_dir().join(format!("{}.toml", unique("shopbridge-config")));
        std::fs::write(&path, config.toml()).expect("writing the config");
        Server::start_with_file(path)
    }

    pub(crate) fn start_with_file(config_path: PathBuf) -> Server {
        let (child, base) = spawn(&config_path);
        Server {
            base,
            child,
            config_path,
        }
    }

    /// Kills the process at once (no graceful shutdown).
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for it to exit; returns whether it exited cleanly.
    pub(crate) fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Starts it again with the same configuration (after a kill).
    pub(crate) fn restart(&mut self) {
        self.kill();
        let (child, base) = spawn(&self.config_path);
        self.child = child;
        self.base = base;
    }

    pub(crate) fn shop(&self) -> ShopClient {
        self.shop_as(KEY_ID, SECRET)
    }

    /// A client signing as another shop, with its key id and secret.
    pub(crate) fn shop_as(&self, key_id: &str, secret: &str) -> ShopClient {
        ShopClient {
            base: self.base.clone(),
            http: reqwest::Client::new(),
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.config_path);
    }
}

/// Starts `shopbridge serve --config <path>` and waits for its address.
fn spawn(config_path: &PathBuf) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["serve", "--config"])
        .arg(config_path)
        .env("SHOPBRIDGE_LOG", "shopbridge=info,warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting shopbridge serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("shopbridge: listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(base) => (child, base),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait().ok();
            panic!("shopbridge serve did not start listening (exit: {status:?})");
        }
    }
}

/// A free loopback port (for a server that must come back on the same one).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A shop module: signs its requests.
#[derive(Clone)]
pub(crate) struct ShopClient {
    pub(crate) base: String,
    http: reqwest::Client,
    key_id: String,
    secret: String,
}

/// Status and JSON body of an answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: reqwest::header::HeaderMap,
}

impl ShopClient {
    /// Posts an order; None when the server cannot be reached.
    pub(crate) fn try_post_order(&self, order: &Value) -> Option<Answer> {
        let body = order.to_string();
        let path = format!("/v1/shops/{SHOP}/orders");
        let timestamp = now();
        let sig = signature::sign(SECRET, timestamp, "POST", &path, body.as_bytes());
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(10))
            .header(KEY_HEADER, KEY_ID)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sig)
            .body(body);
        block_on(async move {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.ok()?;
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Some(Answer {
                status,
                body,
                headers,
            })
        })
    }

    pub(crate) fn send(&self, method: &str, path: &str, body: &[u8]) -> Answer {
        self.send_signed(method, path, body, &self.secret, now())
    }

    pub(crate) fn send_signed(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        secret: &str,
        timestamp: i64,
    ) -> Answer {
        let sig = signature::sign(secret, timestamp, method, path, body);
        let request = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .header(KEY_HEADER, &self.key_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(body.to_vec());
        block_on(async move {
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await.expect("a body");
            let body = serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
            Answer {
                status,
                body,
                headers,
            }
        })
    }

    pub(crate) fn post_order(&self, order: &Value) -> Answer {
        self.send(
            "POST",
            &format!("/v1/shops/{SHOP}/orders"),
            order.to_string().as_bytes(),
        )
    }

    pub(crate) fn order(&self, reference: &str) -> Answer {
        self.send("GET", &format!("/v1/shops/{SHOP}/orders/{reference}"), b"")
    }

    pub(crate) fn events(&self, since: i64) -> Answer {
        self.send(
            "GET",
            &format!("/v1/shops/{SHOP}/events?since={since}"),
            b"",
        )
    }

    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let http = self.http.clone();
        block_on(async move {
            let response = http.get(url).send().await.expect("the server answers");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// An order as a PrestaShop module would post it.
pub(crate) fn order_json(reference: &str, skus: &[&str]) -> Value {
    json!({
        "reference": reference,
        "placed_at": "2026-11-25T10:00:00Z",
        "currency": "EUR",
        "paid": true,
        "customer_email": "jeanne@example.fr",
        "shipping_address": {
            "first_name": "Jeanne", "last_name": "Martin", "line1": "12 rue des Lilas",
            "line2": "Bâtiment B", "postal_code": "75011", "city": "Paris", "country_code": "FR",
            "phone": "+33612345678"
        },
        "lines": skus.iter().map(|sku| json!({ "sku": sku, "quantity": 2, "unit_price": 1599, "name": format!("Produit {sku}") })).collect::<Vec<_>>(),
    })
}

/// Polls `check` until it returns Some, or panics after `timeout` saying `what`.
pub(crate) fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A shop's webhook endpoint: checks each signature, keeps what it gets.
pub(crate) struct FakeShop {
    server: LoopbackServer,
    received: Arc<Mutex<Vec<Value>>>,
    bad_signatures: Arc<Mutex<u32>>,
}

#[derive(Clone)]
struct ShopState {
    received: Arc<Mutex<Vec<Value>>>,
    bad: Arc<Mutex<u32>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn webhook(State(state): State<ShopState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let verified = signature::verify(
        SECRET,
        &header(TIMESTAMP_HEADER),
        &header(SIGNATURE_HEADER),
        signature::Signed {
            method: "POST",
            path: "/shopbridge/webhook",
            body: &body,
        },
        now(),
        300,
    );
    if verified.is_err() || header(KEY_HEADER) != KEY_ID {
        *state.bad.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        return StatusCode::UNAUTHORIZED;
    }
    {
        let mut fail = state.fail_first.lock().unwrap_or_else(|e| e.into_inner());
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    match serde_json::from_slice(&body) {
        Ok(event) => {
            state
                .received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event);
            StatusCode::NO_CONTENT
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

impl FakeShop {
    /// A shop whose first `fail_first` webhook deliveries answer 503.
    pub(crate) fn start(fail_first: u32) -> FakeShop {
        let received = Arc::new(Mutex::new(Vec::new()));
        let bad = Arc::new(Mutex::new(0));
        let state = ShopState {
            received: received.clone(),
            bad: bad.clone(),
            fail_first: Arc::new(Mutex::new(fail_first)),
        };
        let router = Router::new()
            .route("/shopbridge/webhook", post(webhook))
            .with_state(state);
        FakeShop {
            server: LoopbackServer::start(router),
            received,
            bad_signatures: bad,
        }
    }

    pub(crate) fn callback_url(&self) -> String {
        self.server.url("/shopbridge/webhook")
    }

    pub(crate) fn received(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn bad_signatures(&self) -> u32 {
        *self
            .bad_signatures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

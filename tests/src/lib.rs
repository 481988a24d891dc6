//! Support for Shopbridge's end-to-end tests and benchmarks.
//!
//! - [`components`]: paths of the guest components, built from source for
//!   wasm32-wasip2 by this crate's build script;
//! - [`shared_fixtures`] / [`project_fixture`]: real-world files from
//!   `../shared/fixtures` and the project's own;
//! - [`block_on`], [`runtime`], [`plugin`]: one async runtime and one
//!   wasmtime engine for the whole test binary, with compiled plugins cached;
//! - [`LoopbackServer`]: a real HTTP server on 127.0.0.1 for fake suppliers.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

pub mod fakes;
pub mod feedgen;
pub mod measure;

use shopbridge::plugins::Plugin;
use shopbridge::runtime::{Runtime, RuntimeConfig};

/// Paths of the guest components.
pub mod components {
    include!(concat!(env!("OUT_DIR"), "/components.rs"));
}

static ASYNC: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("starting the test async runtime")
});

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Runtime::new(&RuntimeConfig::default()).expect("building the wasmtime runtime")
});

static PLUGINS: LazyLock<Mutex<HashMap<String, Arc<Plugin>>>> = LazyLock::new(Default::default);

/// Runs a future on the test binary's shared async runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    ASYNC.block_on(future)
}

/// The shared wasmtime runtime.
pub fn runtime() -> &'static Runtime {
    &RUNTIME
}

/// The plugin at `path`, compiled once per test binary.
pub async fn plugin(path: &str) -> Arc<Plugin> {
    if let Some(p) = PLUGINS.lock().expect("plugin cache").get(path) {
        return p.clone();
    }
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let plugin = Arc::new(
        Plugin::load(runtime(), &bytes)
            .await
            .unwrap_or_else(|e| panic!("loading {path}: {e}")),
    );
    PLUGINS
        .lock()
        .expect("plugin cache")
        .insert(path.to_owned(), plugin.clone());
    plugin
}

/// The shared fixtures folder (`$SHOPBRIDGE_FIXTURES`, else
/// `../shared/fixtures` beside the repository); see
/// [`shopbridge_guest_sdk::testing::shared_fixtures`].
pub fn shared_fixtures() -> Option<PathBuf> {
    shopbridge_guest_sdk::testing::shared_fixtures(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures"
    ))
}

/// A realistic order for one supplier: a French address, two units of each
/// SKU at 15.99 EUR, `key` as the idempotency key.
pub fn sample_order(
    key: &str,
    skus: &[&str],
) -> shopbridge::runtime::bindings::shopbridge::connector::types::Order {
    use shopbridge::runtime::bindings::shopbridge::connector::types::{
        Address, Money, Order, OrderLine,
    };
    Order {
        reference: format!("shop-{key}"),
        idempotency_key: key.to_owned(),
        placed_at: "2026-11-25T10:00:00Z".into(),
        customer_email: Some("jeanne@example.fr".into()),
        shipping_address: Address {
            first_name: "Jeanne".into(),
            last_name: "Martin".into(),
            company: None,
            line1: "12 rue des Lilas".into(),
            line2: Some("Bâtiment B".into()),
            postal_code: "75011".into(),
            city: "Paris".into(),
            region: None,
            country_code: "FR".into(),
            phone: Some("+33612345678".into()),
            email: None,
        },
        billing_address: None,
        lines: skus
            .iter()
            .map(|sku| OrderLine {
                sku: (*sku).to_owned(),
                quantity: 2,
                unit_price: Money {
                    amount_minor: 1599,
                    currency: "EUR".into(),
                },
                name: None,
            })
            .collect(),
        shipping_method: None,
        note: None,
    }
}

/// A file of the project's own fixtures, relative to the repository root.
pub fn project_fixture(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(relative)
}

/// A real HTTP server on an ephemeral loopback port, stopped when dropped.
pub struct LoopbackServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LoopbackServer {
    /// Serves `router` on 127.0.0.1 on the shared runtime.
    pub fn start(router: axum::Router) -> LoopbackServer {
        LoopbackServer::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), router)
            .expect("binding a loopback port")
    }

    /// Serves `router` on `addr` (port 0: any free one).
    pub fn start_on(addr: SocketAddr, router: axum::Router) -> std::io::Result<LoopbackServer> {
        let listener = block_on(tokio::net::TcpListener::bind(addr))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        ASYNC.spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(LoopbackServer {
            addr,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

//! Hostile suppliers against the server (issue 14): each test reproduces a
//! finding of the adversarial review on the real server, over loopback.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use shopbridge_tests::{LoopbackServer, components};

use crate::catalog::sync_binding;
use crate::support::*;

/// F5: the catalog fetch followed a feed server's redirect anywhere, and
/// another loopback service's answer was stored in the shop's catalog. A
/// feed on a private network is now followed only on its own host and
/// port; a redirect elsewhere fails the sync, saying where it led.
#[test]
fn a_feed_cannot_redirect_the_host_to_another_service() {
    // Another service on this machine, which the feed server knows of.
    let secret = LoopbackServer::start(Router::new().route(
        "/internal.csv",
        get(|| async { "sku;name;price\nSECRET-1;Admin token abc123;1,00\n" }),
    ));
    let internal = secret.url("/internal.csv");
    let feeds =
        LoopbackServer::start(
            Router::new()
                .route(
                    "/feed.csv",
                    get(|| async { "sku;name;price\nOK-1;Bol;2,50\n" }),
                )
                // Moved on its own server: followed.
                .route(
                    "/old.csv",
                    get(|| async {
                        (
                            StatusCode::MOVED_PERMANENTLY,
                            [(header::LOCATION, "/feed.csv")],
                        )
                    }),
                )
                // Sent to the other service: refused.
                .route(
                    "/evil.csv",
                    get(move || {
                        let internal = internal.clone();
                        async move {
                            (StatusCode::FOUND, [(header::LOCATION, internal)]).into_response()
                        }
                    }),
                ),
        );
    let database = Database::new(Db::Sqlite);
    let mut config = config_head(
        &database,
        "",
        &[("csv-wholesaler", components::CSV_WHOLESALER)],
        &[],
    );
    for binding in ["old", "evil"] {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{binding}"
shop = "{SHOP}"
plugin = "csv-wholesaler"
sku_prefixes = ["{binding}-"]

[bindings.catalog]
feed_url = "{}"
"#,
            feeds.url(&format!("/{binding}.csv"))
        ));
    }
    let server = serve_config("redirects", &config);
    let shop = server.shop();

    let moved = sync_binding(&shop, "old");
    assert_eq!(moved["state"], "succeeded", "{moved}");
    assert_eq!(moved["created"], 1, "{moved}");

    let evil = sync_binding(&shop, "evil");
    assert_eq!(evil["state"], "failed", "{evil}");
    let error = evil["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("redirect") && error.contains(&secret.url("/internal.csv")),
        "{evil}"
    );
    let leaked = shop.send("GET", "/v1/shops/demo/catalog/products/SECRET-1", b"");
    assert_eq!(leaked.status, 404, "{:?}", leaked.body);
}

/// F20: a supplier's `Retry-After` (BigBuy's `X-Ratelimit-Reset`) of
/// 4294967295 seconds parked the dispatch for 136 years. It is honoured up
/// to `server.retry_after_max` (an hour by default; a second here).
#[test]
fn a_supplier_cannot_park_an_order_for_a_century() {
    use shopbridge_tests::fakes::wholesaler::{FakeWholesaler, Outage};
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    supplier.fail_next([Outage::RateLimited {
        reset_seconds: u32::MAX,
    }]);
    let mut config = ConfigSpec::new(&database, &supplier);
    config.extra_server = "retry_after_max = \"1s\"";
    let server = Server::start(&config);
    let shop = server.shop();
    assert_eq!(
        shop.post_order(&order_json("PS-9001", &["BB-7"])).status,
        202
    );
    let state = wait_for(
        "the order to get through",
        std::time::Duration::from_secs(30),
        || {
            let order = shop.order("PS-9001");
            let state = order.body["supplier_orders"][0]["state"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            ["submitted", "accepted", "processing"]
                .contains(&state.as_str())
                .then_some(state)
        },
    );
    assert!(!state.is_empty());
    assert_eq!(supplier.create_attempts(), 2, "one 429, then the order");
}

/// F3: a plugin flooded the host's log: messages were capped, fields were
/// not, and ERROR passes the default filter (419 MB from one fixture run).
/// The hostile plugin writes 1,000 records of a 64 KiB message and 64
/// fields of 64 KiB at ERROR, and 10,000 lines of 4 KiB on stdout: what
/// reaches the log is cut and budgeted, and says that it was.
#[test]
fn a_plugin_cannot_flood_the_hosts_log() {
    let feed = std::env::temp_dir().join(format!("shopbridge-flood-{}.xml", std::process::id()));
    std::fs::write(&feed, b"<x/>").expect("feed");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args([
            "feed",
            "parse",
            "--plugin",
            components::HOSTILE,
            "--settings",
            "mode=logflood",
        ])
        .arg(&feed)
        .env("SHOPBRIDGE_LOG", "info")
        .output()
        .expect("running shopbridge");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{}",
        &stderr[..stderr.len().min(4096)]
    );
    // Budgets: 64 KiB a call for the import, 64 KiB for stdout, 256 KiB a
    // second for the plugin; a few lines of the host's own besides.
    assert!(
        stderr.len() < 512 << 10,
        "{} bytes of log: {}",
        stderr.len(),
        &stderr[..stderr.len().min(4096)]
    );
    assert!(
        stderr.contains("plugin log limit reached"),
        "{}",
        &stderr[..stderr.len().min(4096)]
    );
    assert!(stderr.contains("flooded") || out.stdout.windows(7).any(|w| w == b"flooded"));
}

/// F11: unchecked arithmetic on supplier amounts: a release build wrapped a
/// wholesale price near the 64-bit limit times the markup into a retail
/// price of −9,223,372,036,854,775,617 EUR, shown to the shop. The product
/// is now rejected with its reason, and the others are priced.
#[test]
fn a_price_beyond_64_bits_is_a_rejection_not_a_wrapped_number() {
    // i64::MAX minor units, written as a French price.
    let feed = "sku;name;prix ht\nBIG-1;Trop cher;92233720368547758,07\nOK-1;Bol;2,50\n";
    let feeds =
        LoopbackServer::start(Router::new().route("/f.csv", get(move || async move { feed })));
    let database = Database::new(Db::Sqlite);
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
database = "{}"

[[plugins]]
name = "csv-wholesaler"
path = "{}"

[[shops]]
id = "{SHOP}"
key_id = "{KEY_ID}"
secret = "{SECRET}"

[[bindings]]
id = "big"
shop = "{SHOP}"
plugin = "csv-wholesaler"

[bindings.catalog]
feed_url = "{}"
pricing = {{ markup_percent = 30 }}
"#,
        database.url,
        components::CSV_WHOLESALER,
        feeds.url("/f.csv"),
    );
    let server = serve_config("hardening-big", &config);
    let shop = server.shop();
    let run = sync_binding(&shop, "big");
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(
        [run["created"].clone(), run["rejected"].clone()],
        [1, 1],
        "{run}"
    );
    assert!(
        run["rejections"]
            .to_string()
            .contains("does not fit in 64 bits"),
        "{run}"
    );
    let big = shop.send("GET", "/v1/shops/demo/catalog/products/BIG-1", b"");
    assert_eq!(big.status, 404, "{:?}", big.body);
    let ok = shop.send("GET", "/v1/shops/demo/catalog/products/OK-1", b"");
    assert_eq!(
        ok.body["shop"]["retail_price"]["amount_minor"], 325,
        "{:?}",
        ok.body
    );
}

/// F4: one supplier's feed took over another supplier's SKU: the catalog
/// decided who sells a SKU before the configuration, last write won, and
/// the next order for it, with the customer's address, went to the other
/// supplier. The configuration now decides first, and a feed cannot claim
/// a SKU that the configuration or another feed of the shop gives to
/// another binding: it is a rejection naming the owner, in the sync run.
#[test]
fn a_feed_cannot_take_over_another_suppliers_sku() {
    use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
    let feeds = LoopbackServer::start(
        Router::new()
            .route(
                "/honest.csv",
                get(|| async { "sku;name;prix ht\nH-1;Tasse;2,00\nSHARED-1;Bol;3,00\n" }),
            )
            // Lists the honest supplier's SKUs, configured and catalogued.
            .route(
                "/greedy.csv",
                get(|| async {
                    "sku;name;prix ht\nG-1;Assiette;1,00\nH-1;Tasse;0,50\nSHARED-1;Bol;0,50\n"
                }),
            ),
    );
    let honest = FakeWholesaler::start(SUPPLIER_KEY);
    let greedy = FakeWholesaler::start(SUPPLIER_KEY);
    let database = Database::new(Db::Sqlite);
    let mut config = config_head(
        &database,
        r#"retry_base = "100ms""#,
        &[("csv-wholesaler", components::CSV_WHOLESALER)],
        &[],
    );
    for (binding, prefixes, supplier) in
        [("honest", r#"["H-"]"#, &honest), ("greedy", "[]", &greedy)]
    {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{binding}"
shop = "{SHOP}"
plugin = "csv-wholesaler"
sku_prefixes = {prefixes}
allow_hosts = ["127.0.0.1"]
allow_private_network = true
settings = {{ api-base-url = "{}", api-key = "{SUPPLIER_KEY}" }}

[bindings.catalog]
feed_url = "{}"
"#,
            supplier.base_url(),
            feeds.url(&format!("/{binding}.csv"))
        ));
    }
    let server = serve_config("hardening-sku", &config);
    let shop = server.shop();

    let first = sync_binding(&shop, "honest");
    assert_eq!(first["created"], 2, "{first}");
    let second = sync_binding(&shop, "greedy");
    assert_eq!(second["state"], "succeeded", "{second}");
    assert_eq!(
        [second["created"].clone(), second["rejected"].clone()],
        [1, 2],
        "{second}"
    );
    let reasons = second["rejections"].to_string();
    assert!(
        reasons.contains("H-1") && reasons.contains("SHARED-1") && reasons.contains("'honest'"),
        "{reasons}"
    );
    // The shop still sees the honest supplier's products, at its prices.
    for sku in ["H-1", "SHARED-1"] {
        let product = shop.send(
            "GET",
            &format!("/v1/shops/demo/catalog/products/{sku}"),
            b"",
        );
        assert_eq!(
            product.body["binding"], "honest",
            "{sku}: {:?}",
            product.body
        );
    }
    // And the orders go to it.
    let accepted = shop.post_order(&order_json("PS-4401", &["H-1", "SHARED-1"]));
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let bindings: Vec<&str> = accepted.body["supplier_orders"]
        .as_array()
        .map(|s| s.iter().filter_map(|o| o["binding"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(bindings, ["honest"], "{:?}", accepted.body);
}

/// F12: a second `serve` on the same SQLite file started and took over the
/// first one's in-flight jobs (it releases every lease at start, which is
/// right only when no other process runs). It now refuses to start, saying
/// why, and the first one runs on.
#[test]
fn a_second_server_on_one_sqlite_file_refuses_to_start() {
    use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let config = ConfigSpec::new(&database, &supplier);
    let first = Server::start(&config);
    let path = std::env::temp_dir().join(format!("shopbridge-second-{}.toml", std::process::id()));
    std::fs::write(&path, config.toml()).expect("config");
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["serve", "--config"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running a second shopbridge serve");
    // It must give up at once; one still running after 20 s is serving.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = second.try_wait().expect("waiting") {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = second.kill();
            let _ = second.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = second.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    assert!(
        status.is_some_and(|s| !s.success()),
        "the second server ran: {status:?} {stderr}"
    );
    assert!(stderr.contains("another shopbridge process"), "{stderr}");
    // The first one still takes orders.
    let shop = first.shop();
    assert_eq!(
        shop.post_order(&order_json("PS-1201", &["BB-1"])).status,
        202
    );
}

/// F16: shop routes read the whole body before authenticating, so anyone
/// could hold a connection and a body buffer with no key at all. A request
/// whose key, shop and timestamp are not right is refused before its body
/// is read: here one that announces 200 KB and sends 10 bytes.
#[test]
fn a_request_is_refused_before_its_body_is_read() {
    use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
    use std::io::{Read, Write};
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let server = Server::start(&ConfigSpec::new(&database, &supplier));
    let address = server.base.trim_start_matches("http://").to_owned();
    for (key, timestamp) in [("not-a-key", now()), (KEY_ID, now() - 3600)] {
        let mut stream = std::net::TcpStream::connect(&address).expect("connects");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let head = format!(
            "POST /v1/shops/demo/orders HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: 200000\r\nX-Shopbridge-Key: {key}\r\nX-Shopbridge-Timestamp: {timestamp}\r\n\
             X-Shopbridge-Signature: 00\r\n\r\n{{\"refer"
        );
        stream.write_all(head.as_bytes()).expect("writes");
        let mut answer = [0u8; 512];
        let read = stream.read(&mut answer).unwrap_or(0);
        let answer = String::from_utf8_lossy(&answer[..read]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{key}: {answer:?}");
    }
}

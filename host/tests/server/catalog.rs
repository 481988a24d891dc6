//! Catalog sync through HTTP, on SQLite and PostgreSQL: a supplier's CSV
//! feed served by a real HTTP server (with ETags), synced by the real
//! server through the `csv-wholesaler` plugin, diffed, priced by the
//! binding's rules, and read back by the shop as changes by cursor.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use shopbridge_tests::{LoopbackServer, components};

use crate::support::*;

const FIRST: &str = "Référence;Désignation;Marque;Catégorie;Prix HT;TVA;Stock;Délai\n\
BB-1;Théière fonte;Acme;Maison > Cuisine;10,00;20;5;\n\
BB-2;Tasse;Acme;Maison > Cuisine;2,50;20;0;6\n\
BB-3;Plateau;Bois&Co;Maison > Salon;8,00;20;12;\n\
;Sans référence;Acme;Maison;1,00;20;1;\n";

/// The second version adds the supplier's public price (PVC), its
/// minimum advertised price, to BB-1, and gives BB-1 twice.
const SECOND: &str = "Référence;Désignation;Marque;Catégorie;Prix HT;PVC;TVA;Stock;Délai\n\
BB-1;Théière fonte;Acme;Maison > Cuisine;11,00;24,00;20;5;\n\
BB-2;Tasse;Acme;Maison > Cuisine;2,50;;20;0;6\n\
BB-5;Sous-verre;Bois&Co;Maison > Salon;1,20;;20;40;\n\
BB-1;Théière fonte (doublon);Acme;Maison > Cuisine;99,00;;20;5;\n";

/// A supplier's feed endpoint: serves the current version with an ETag and
/// answers 304 to a request that already has it.
#[derive(Clone, Default)]
struct Feed {
    inner: Arc<Mutex<(String, u32, u32)>>, // body, version, 304s answered
}

async fn serve_feed(State(feed): State<Feed>, headers: HeaderMap) -> Response {
    let mut inner = feed.inner.lock().unwrap_or_else(|e| e.into_inner());
    let etag = format!("\"v{}\"", inner.1);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        inner.2 += 1;
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".into()),
        ],
        inner.0.clone(),
    )
        .into_response()
}

impl Feed {
    fn set(&self, body: &str) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 = body.to_owned();
        inner.1 += 1;
    }
    fn not_modified(&self) -> u32 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).2
    }
}

/// The catalog tests' configuration: one shop, the `csv-wholesaler`
/// binding `bigbuy` reading `feed_url` (also the PHP modules' catalog test's).
pub(crate) fn config(database: &Database, feed_url: &str) -> String {
    format!(
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
id = "bigbuy"
shop = "{SHOP}"
plugin = "csv-wholesaler"
allow_hosts = ["127.0.0.1"]
allow_private_network = true
settings = {{ delimiter = ";" }}

[bindings.catalog]
feed_url = "{feed_url}"
full_sync = "0 3 * * *"
prices_sync = "0 * * * *"
availability = "hide"
categories = {{ "Maison > Cuisine" = "Cuisine" }}
pricing = {{ markup_percent = 30.0, add_vat = true, ending_cents = 99 }}
"#,
        database.url,
        components::CSV_WHOLESALER,
    )
}

fn sync_and_wait(shop: &ShopClient) -> Value {
    sync_binding(shop, "bigbuy")
}

/// Asks for a full sync of `binding` now and waits for its end.
pub(crate) fn sync_binding(shop: &ShopClient, binding: &str) -> Value {
    sync_binding_of(shop, SHOP, binding)
}

/// Asks for a full sync of `binding` of shop `shop_id` now and waits for its end.
pub(crate) fn sync_binding_of(shop: &ShopClient, shop_id: &str, binding: &str) -> Value {
    let started = shop.send(
        "POST",
        &format!("/v1/shops/{shop_id}/bindings/{binding}/syncs"),
        br#"{"kind":"full"}"#,
    );
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_i64().expect("a run id");
    wait_for("the sync to end", Duration::from_secs(30), || {
        let run = shop.send(
            "GET",
            &format!("/v1/shops/{shop_id}/bindings/{binding}/syncs/{id}"),
            b"",
        );
        let state = run.body["state"].as_str().unwrap_or_default().to_owned();
        (!["queued", "running"].contains(&state.as_str())).then_some(run.body)
    })
}

fn changes(shop: &ShopClient, since: i64, limit: i64) -> (Vec<Value>, i64) {
    let page = shop.send(
        "GET",
        &format!("/v1/shops/demo/catalog/changes?since={since}&limit={limit}"),
        b"",
    );
    assert_eq!(page.status, 200, "{:?}", page.body);
    (
        page.body["changes"].as_array().cloned().unwrap_or_default(),
        page.body["next"].as_i64().unwrap_or(since),
    )
}

fn counts(run: &Value) -> [i64; 5] {
    ["created", "updated", "unchanged", "removed", "rejected"]
        .map(|k| run[k].as_i64().unwrap_or(-1))
}

on_both_databases!(a_feed_is_synced_diffed_priced_and_read_by_cursor);

mod feeds {
    use super::{Db, real_generated_truncated_and_hostile_feeds_over_http};
    on_both_databases!(real_generated_truncated_and_hostile_feeds_over_http);
}

/// A binding, its feed, and the counts its sync gives (created, updated,
/// unchanged, removed, rejected), or `None` when the sync must fail.
type FeedCase = (&'static str, Vec<u8>, Option<[i64; 5]>);

/// Merchant feeds served over HTTP, one binding each, synced through the
/// `google-merchant` plugin: the project's fixtures and the real ones of
/// `../shared/fixtures` (when present: said loudly otherwise) with their
/// exact counts, a generated feed synced twice (nothing written the second
/// time), the same feed gzip-compressed, cut in the middle, and an entity
/// bomb.
fn real_generated_truncated_and_hostile_feeds_over_http(db: Db) {
    let (generated, items) = shopbridge_tests::feedgen::merchant_feed(2 << 20);
    let truncated = generated[..generated.len() / 2].to_vec();
    let gzipped = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&generated).expect("gzip");
        encoder.finish().expect("gzip")
    };
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&lol2;</g:title></item></channel></rss>"#;
    let project = |name: &str| {
        std::fs::read(format!(
            "{}/../plugins/google-merchant/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("the project's fixture")
    };
    let mut feeds: Vec<FeedCase> = vec![
        ("rss", project("merchant-rss.xml"), Some([5, 0, 0, 0, 5])),
        ("atom", project("merchant-atom.xml"), Some([2, 0, 0, 0, 1])),
        ("generated", generated, Some([items as i64, 0, 0, 0, 0])),
        // The same items, compressed: each read, and refused as the
        // `generated` binding's, whose feed listed them first.
        ("gzipped", gzipped, Some([0, 0, 0, 0, items as i64])),
        ("truncated", truncated, None),
        ("bomb", bomb.to_vec(), None),
    ];
    if let Some(shared) = shopbridge_tests::shared_fixtures() {
        let read = |name: &str| std::fs::read(shared.join(name)).expect("a shared fixture");
        feeds.push((
            "shared-rss",
            read("xml/google-base-rss-products2.xml"),
            Some([2, 0, 0, 0, 0]),
        ));
        // Its two entries share one id: the second is rejected as a
        // duplicate (written twice, PostgreSQL would refuse the batch).
        feeds.push((
            "shared-atom",
            read("xml/google-base-atom-products.xml"),
            Some([1, 0, 0, 0, 1]),
        ));
    }
    let mut router = Router::new();
    for (binding, body, _) in &feeds {
        let body = axum::body::Bytes::from(body.clone());
        // The gzipped one says so, as a web server compressing it would.
        let encoding = if *binding == "gzipped" {
            "gzip"
        } else {
            "identity"
        };
        router = router.route(
            &format!("/{binding}.xml"),
            get(move || async move { ([(header::CONTENT_ENCODING, encoding)], body.clone()) }),
        );
    }
    let feed_server = LoopbackServer::start(router);

    let database = Database::new(db);
    let mut config = config_head(
        &database,
        "",
        &[("google-merchant", components::GOOGLE_MERCHANT)],
        &[],
    );
    for (binding, _, _) in &feeds {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{binding}"
shop = "{SHOP}"
plugin = "google-merchant"
allow_hosts = ["127.0.0.1"]
allow_private_network = true

[bindings.catalog]
feed_url = "{}"
"#,
            feed_server.url(&format!("/{binding}.xml"))
        ));
    }
    let server = serve_config("feeds", &config);
    let shop = server.shop();

    for (binding, _, expected) in &feeds {
        let run = sync_binding(&shop, binding);
        match expected {
            Some(expected) => {
                assert_eq!(run["state"], "succeeded", "{binding}: {run}");
                assert_eq!(&counts(&run), expected, "{binding}: {run}");
            }
            None => {
                assert_eq!(run["state"], "failed", "{binding}: {run}");
                assert!(
                    run["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{binding}: {run}"
                );
            }
        }
    }
    // The bomb expanded nothing into the catalog.
    assert_eq!(
        shop.send("GET", "/v1/shops/demo/catalog/products/A", b"")
            .status,
        404
    );
    // The generated feed again (no validators): parsed, nothing written.
    let again = sync_binding(&shop, "generated");
    assert_eq!(again["state"], "succeeded", "{again}");
    assert_eq!(counts(&again), [0, 0, items as i64, 0, 0], "{again}");
}

fn a_feed_is_synced_diffed_priced_and_read_by_cursor(db: Db) {
    let database = Database::new(db);
    let feed = Feed::default();
    feed.set(FIRST);
    let feed_server = LoopbackServer::start(
        Router::new()
            .route("/feed.csv", get(serve_feed))
            .with_state(feed.clone()),
    );
    let path = std::env::temp_dir().join(format!(
        "shopbridge-catalog-{}-{db:?}.toml",
        std::process::id()
    ));
    std::fs::write(&path, config(&database, &feed_server.url("/feed.csv"))).expect("config");
    let server = Server::start_with_file(path);
    let shop = server.shop();

    // First sync: three products, one rejected record.
    let run = sync_and_wait(&shop);
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(counts(&run), [3, 0, 0, 0, 1], "{run}");
    assert!(run["bytes"].as_i64().unwrap_or(0) > 100, "{run}");
    // The parser's footprint is recorded: some memory, far under the cap.
    let guest = run["guest_memory_peak_bytes"].as_i64().unwrap_or(0);
    assert!(guest > 0 && guest < 8 << 20, "{run}");

    let (first, cursor) = changes(&shop, 0, 100);
    let by_sku: BTreeMap<&str, &Value> = first
        .iter()
        .map(|c| (c["sku"].as_str().unwrap_or_default(), c))
        .collect();
    assert_eq!(
        by_sku.keys().copied().collect::<Vec<_>>(),
        ["BB-1", "BB-2", "BB-3"]
    );
    // 10.00 HT × 1.30 × 1.20 VAT = 15.60 → 15.99.
    assert_eq!(by_sku["BB-1"]["shop"]["retail_price"]["amount_minor"], 1599);
    assert_eq!(by_sku["BB-1"]["shop"]["category"], json!(["Cuisine"]));
    assert_eq!(
        by_sku["BB-3"]["shop"]["category"],
        json!(["Maison", "Salon"])
    );
    // Out of stock and the policy hides it.
    assert_eq!(by_sku["BB-2"]["shop"]["visible"], false);
    assert_eq!(by_sku["BB-1"]["changed"], json!(["*"]));

    // The same feed again: one request answered 304, nothing parsed or written.
    let run = sync_and_wait(&shop);
    assert_eq!(run["state"], "unchanged", "{run}");
    assert_eq!(feed.not_modified(), 1);
    assert!(changes(&shop, cursor, 100).0.is_empty());

    // A new version: a price changed, a product gone, a new one.
    feed.set(SECOND);
    let run = sync_and_wait(&shop);
    assert_eq!(run["state"], "succeeded", "{run}");
    // The second BB-1 is rejected: the first one stands (11.00, not 99.00).
    assert_eq!(counts(&run), [1, 1, 1, 1, 1], "{run}");
    assert_eq!(run["updated_fields"]["wholesale_price"], 1, "{run}");
    assert!(
        run["rejections"].as_array().is_some_and(|r| r.iter().any(
            |r| r["sku"] == "BB-1" && r["reason"].as_str().is_some_and(|t| t.contains("again"))
        )),
        "{run}"
    );

    // Read by pages of two: every change exactly once.
    let mut seen = Vec::new();
    let mut at = cursor;
    loop {
        let (page, next) = changes(&shop, at, 2);
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        seen.extend(page);
        at = next;
    }
    let mut skus: Vec<(&str, bool)> = seen
        .iter()
        .map(|c| {
            (
                c["sku"].as_str().unwrap_or_default(),
                c["removed"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    skus.sort();
    assert_eq!(skus, [("BB-1", false), ("BB-3", true), ("BB-5", false)]);
    let bb1 = seen.iter().find(|c| c["sku"] == "BB-1").expect("BB-1");
    // 11.00 × 1.30 × 1.20 = 17.16 → 17.99.
    assert_eq!(bb1["shop"]["retail_price"]["amount_minor"], 1799);
    assert!(
        bb1["changed"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("wholesale_price"))),
        "{bb1}"
    );

    let gone = shop.send("GET", "/v1/shops/demo/catalog/products/BB-3", b"");
    assert_eq!(gone.status, 200);
    assert_eq!(gone.body["removed"], true);
    assert_eq!(
        shop.send("GET", "/v1/shops/demo/catalog/products/NOPE", b"")
            .status,
        404
    );

    // The catalog says who sells what, and at what cost: an order for
    // BB-1 goes to this binding with the feed's wholesale price (11.00),
    // and a product gone from the feed cannot be ordered.
    let accepted = shop.post_order(&order_json("PS-CAT-1", &["BB-1"]));
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    assert_eq!(accepted.body["supplier_orders"][0]["binding"], "bigbuy");
    assert_eq!(
        accepted.body["supplier_orders"][0]["wholesale_total"],
        2 * 1100
    );
    let refused = shop.post_order(&order_json("PS-CAT-2", &["BB-3"]));
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["code"], "unknown-sku");

    // A preview of other rules on a few products, nothing saved.
    let preview = shop.send(
        "POST",
        "/v1/shops/demo/bindings/bigbuy/catalog/preview",
        json!({ "skus": ["BB-1", "NOPE"], "pricing": { "markup_percent": 50.0, "ending_cents": 90 } })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    let bb1 = &preview.body["products"][0];
    assert_eq!(bb1["current"]["retail_price"]["amount_minor"], 1799);
    // 11.00 × 1.50 = 16.50 → 16.90 (no VAT in the proposal).
    assert_eq!(bb1["proposed"]["retail_price"]["amount_minor"], 1690);
    assert!(preview.body["products"][1]["error"].is_string());
    // With the supplier's public price as a floor: 24.00 TTC is 20.00 HT,
    // above the markup's 16.50, → 20.90.
    let preview = shop.send(
        "POST",
        "/v1/shops/demo/bindings/bigbuy/catalog/preview",
        json!({ "skus": ["BB-1"], "pricing": { "markup_percent": 50.0, "ending_cents": 90, "floor_at_supplier_retail": true } })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(
        preview.body["products"][0]["proposed"]["retail_price"]["amount_minor"], 2090,
        "{:?}",
        preview.body
    );
    assert_eq!(
        changes(&shop, at, 100).0.len(),
        0,
        "a preview wrote something"
    );

    // One sync at a time; a finished one cannot be cancelled.
    let id = run["id"].as_i64().expect("id");
    let cancel = shop.send(
        "POST",
        &format!("/v1/shops/demo/bindings/bigbuy/syncs/{id}/cancel"),
        b"",
    );
    assert_eq!(cancel.status, 409);
}

/// A feed that trickles in: 40 chunks of rows, 100 ms apart.
async fn slow_feed() -> axum::body::Body {
    let chunks = futures_util::stream::unfold(0u32, |i| async move {
        if i >= 40 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut text = String::new();
        if i == 0 {
            text.push_str("Référence;Désignation;Prix HT;Stock\n");
        }
        for j in 0..10 {
            text.push_str(&format!("BB-{i}-{j};Article {i}-{j};3,00;5\n"));
        }
        Some((
            Ok::<_, std::io::Error>(axum::body::Bytes::from(text)),
            i + 1,
        ))
    });
    axum::body::Body::from_stream(chunks)
}

#[test]
fn a_sync_can_be_cancelled_and_one_killed_midway_is_failed_at_restart() {
    let database = Database::new(Db::Sqlite);
    let feed_server = LoopbackServer::start(Router::new().route("/slow.csv", get(slow_feed)));
    let path = std::env::temp_dir().join(format!(
        "shopbridge-catalog-slow-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, config(&database, &feed_server.url("/slow.csv"))).expect("config");
    let mut server = Server::start_with_file(path);
    let shop = server.shop();
    let run_of = |shop: &ShopClient, id: i64| {
        shop.send(
            "GET",
            &format!("/v1/shops/demo/bindings/bigbuy/syncs/{id}"),
            b"",
        )
        .body
    };

    // Cancelled while it runs: it stops, keeps what it wrote, says so.
    let started = shop.send("POST", "/v1/shops/demo/bindings/bigbuy/syncs", b"");
    let id = started.body["id"].as_i64().expect("id");
    wait_for("the sync to run", Duration::from_secs(10), || {
        (run_of(&shop, id)["state"] == "running").then_some(())
    });
    let second = shop.send("POST", "/v1/shops/demo/bindings/bigbuy/syncs", b"");
    assert_eq!(second.status, 409, "two syncs of one binding at once");
    let cancel = shop.send(
        "POST",
        &format!("/v1/shops/demo/bindings/bigbuy/syncs/{id}/cancel"),
        b"",
    );
    assert_eq!(cancel.status, 202, "{:?}", cancel.body);
    let ended = wait_for("the cancel to land", Duration::from_secs(10), || {
        let run = run_of(&shop, id);
        (run["state"] == "cancelled").then_some(run)
    });
    assert!(ended["created"].as_i64().unwrap_or(0) < 400, "{ended}");

    // Killed mid-sync: at restart that run is failed, and the next one runs.
    let started = shop.send("POST", "/v1/shops/demo/bindings/bigbuy/syncs", b"");
    let id = started.body["id"].as_i64().expect("id");
    wait_for("the sync to run", Duration::from_secs(10), || {
        (run_of(&shop, id)["state"] == "running").then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));
    server.restart();
    let shop = server.shop();
    let interrupted = run_of(&shop, id);
    assert_eq!(interrupted["state"], "failed", "{interrupted}");
    assert!(
        interrupted["error"]
            .as_str()
            .unwrap_or_default()
            .contains("interrupted"),
        "{interrupted}"
    );
    let run = sync_and_wait(&shop);
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(
        run["created"].as_i64().unwrap_or(0) + run["unchanged"].as_i64().unwrap_or(0),
        400,
        "{run}"
    );
}

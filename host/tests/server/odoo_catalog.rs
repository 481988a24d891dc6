//! A catalog read from the supplier's API (the `odoo` connector) syncs every
//! time, on SQLite and PostgreSQL: stock moved in Odoo between syncs reaches
//! the shop at each one, whether the binding has no `feed_url` (the API
//! catalog) or, as before, an empty file standing for the feed.

use serde_json::json;
use shopbridge_tests::components;
use shopbridge_tests::fakes::odoo::{DATABASE, FakeOdoo, LOGIN};

use crate::catalog::sync_binding_of;
use crate::support::*;

const ODOO_KEY: &str = "odoo-api-key";
const OTHER_KEY_ID: &str = "other-key";
const OTHER_SECRET: &str = "another-long-shop-secret";

on_both_databases!(an_api_catalog_picks_up_stock_changes_at_every_sync);

fn an_api_catalog_picks_up_stock_changes_at_every_sync(db: Db) {
    let database = Database::new(db);
    let odoo = FakeOdoo::start(ODOO_KEY);
    odoo.add_product(json!({ "default_code": "TEA-20", "name": "Teapot", "list_price": 20.0, "qty_available": 7.0 }));
    let empty = std::env::temp_dir().join(format!(
        "shopbridge-odoo-feed-{}-{db:?}.xml",
        std::process::id()
    ));
    std::fs::write(&empty, b"").expect("an empty feed file");
    let mut config = config_head(
        &database,
        "",
        &[("odoo", components::ODOO)],
        &[("other", OTHER_KEY_ID, OTHER_SECRET)],
    );
    // One binding each way, in a shop each: a SKU has one seller in a shop.
    let bindings = [
        ("erp", SHOP, String::new()),
        (
            "erp-file",
            "other",
            format!("feed_url = \"file://{}\"", empty.display()),
        ),
    ];
    for (binding, shop, feed_url) in &bindings {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{binding}"
shop = "{shop}"
plugin = "odoo"
sku_prefixes = ["{binding}:"]
allow_hosts = ["127.0.0.1"]
allow_private_network = true
settings = {{ url = "{}", database = "{DATABASE}", username = "{LOGIN}", api-key = "{ODOO_KEY}" }}

[bindings.catalog]
{feed_url}
"#,
            odoo.url()
        ));
    }
    let server = serve_config("odoo-catalog", &config);
    let clients = [server.shop(), server.shop_as(OTHER_KEY_ID, OTHER_SECRET)];

    for (round, stock) in [(1, 7.0), (2, 3.0), (3, 12.0)] {
        if round > 1 {
            odoo.set_stock("TEA-20", stock);
        }
        for ((binding, shop, _), client) in bindings.iter().zip(&clients) {
            let run = sync_binding_of(client, shop, binding);
            assert_eq!(run["state"], "succeeded", "{binding}, sync {round}: {run}");
            // The fake's database holds three products of its own besides.
            let expected = if round == 1 { [4, 0, 0] } else { [0, 1, 3] };
            let counts = ["created", "updated", "unchanged"].map(|k| run[k].as_i64().unwrap_or(-1));
            assert_eq!(counts, expected, "{binding}, sync {round}: {run}");
            let product = client.send(
                "GET",
                &format!("/v1/shops/{shop}/catalog/products/TEA-20"),
                b"",
            );
            assert_eq!(product.status, 200, "{shop}: {:?}", product.body);
            assert_eq!(
                product.body["product"]["stock_quantity"].as_f64(),
                Some(stock),
                "{shop}, sync {round}: {:?}",
                product.body
            );
        }
    }
}

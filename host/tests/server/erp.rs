//! An ERP over XML-RPC behind the same hook, on SQLite and PostgreSQL:
//! orders posted by a shop become confirmed Odoo sale orders totalling what
//! the customer paid, Odoo's deliveries come back as tracking and its
//! posted invoices as links; an Odoo without the Delivery app (and an Odoo
//! 17) takes orders and reports them too; an order in a currency Odoo does
//! not price in fails and writes nothing.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use shopbridge_tests::components;
use shopbridge_tests::fakes::odoo::{DATABASE, Edition, FakeOdoo, LOGIN};

use crate::catalog::sync_binding;
use crate::support::*;

const ODOO_KEY: &str = "odoo-api-key";

on_both_databases!(
    an_order_becomes_a_confirmed_odoo_sale_order_and_its_delivery_comes_back,
    an_odoo_without_the_delivery_app_takes_orders_and_reports_them,
    an_order_in_a_currency_odoo_does_not_price_in_fails_and_writes_nothing,
);

/// A server with one binding `erp` to this Odoo, its catalog read through
/// the API, and the shop's webhooks going to `shop_site`.
fn serve(name: &str, db: Db, database: &Database, odoo: &FakeOdoo, shop_site: &FakeShop) -> Server {
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"
database = "{}"
retry_base = "100ms"

[[plugins]]
name = "odoo"
path = "{}"

[[shops]]
id = "{SHOP}"
key_id = "{KEY_ID}"
secret = "{SECRET}"
callback_url = "{}"

[[bindings]]
id = "erp"
shop = "{SHOP}"
plugin = "odoo"
sku_prefixes = [""]
allow_hosts = ["127.0.0.1"]
allow_private_network = true
status_poll = "200ms"
settings = {{ url = "{}", database = "{DATABASE}", username = "{LOGIN}", api-key = "{ODOO_KEY}" }}

[bindings.catalog]
"#,
        database.url,
        components::ODOO,
        shop_site.callback_url(),
        odoo.url()
    );
    let path: PathBuf = std::env::temp_dir().join(format!(
        "shopbridge-erp-{name}-{}-{db:?}.toml",
        std::process::id()
    ));
    std::fs::write(&path, config).expect("writing the config");
    Server::start_with_file(path)
}

/// The first webhook about `reference` in this state.
fn webhook(shop_site: &FakeShop, reference: &str, state: &str) -> Value {
    wait_for(
        &format!("the {state} webhook of {reference}"),
        Duration::from_secs(30),
        || {
            shop_site
                .received()
                .into_iter()
                .find(|e| e["order_reference"] == reference && e["data"]["state"] == state)
        },
    )
}

/// What the order's lines cost the customer, in cents.
fn paid_cents(order: &Value) -> i64 {
    order["lines"]
        .as_array()
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    l["unit_price"].as_i64().unwrap_or(0) * l["quantity"].as_i64().unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0)
}

fn an_order_becomes_a_confirmed_odoo_sale_order_and_its_delivery_comes_back(db: Db) {
    let database = Database::new(db);
    let odoo = FakeOdoo::start(ODOO_KEY);
    // The teapot's tax is the seeded 20 % excluded from prices (a fresh
    // company's); its price-included twin exists. The cups' is included.
    odoo.add_tax("20% TTC", 20.0, true);
    let cups_tax = odoo.add_tax("5.5% TTC", 5.5, true);
    odoo.add_product(json!({ "default_code": "TEA-20", "name": "Teapot", "list_price": 20.0, "qty_available": 7.0, "taxes_id": [1] }));
    odoo.add_product(json!({ "default_code": "CUP-6", "name": "Cups", "list_price": 9.5, "qty_available": 30.0, "taxes_id": [cups_tax] }));
    let shop_site = FakeShop::start(0);
    let server = serve("main", db, &database, &odoo, &shop_site);
    let shop = server.shop();

    let mut order = order_json("PS-7001", &["TEA-20", "CUP-6"]);
    order["lines"][0]["unit_price"] = json!(3100);
    order["lines"][1]["quantity"] = json!(6);
    order["lines"][1]["unit_price"] = json!(920);
    let accepted = shop.post_order(&order);
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let key = accepted.body["supplier_orders"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let sale = wait_for("the sale order in Odoo", Duration::from_secs(30), || {
        odoo.sale_orders()
            .into_iter()
            .find(|s| s.client_order_ref == key && s.state == "sale")
    });
    let lines: Vec<(String, f64)> = sale
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    assert_eq!(
        lines,
        [("TEA-20".to_owned(), 2.0), ("CUP-6".to_owned(), 6.0)]
    );
    assert_eq!(odoo.sale_orders_created(&key), 1);
    // VAT is not charged twice: the sale order totals what was paid, with
    // VAT-excluded and VAT-included taxes alike, in the order's currency.
    assert_eq!(
        (sale.amount_total * 100.0).round() as i64,
        paid_cents(&order),
        "{sale:?}"
    );
    assert_eq!(paid_cents(&order), 2 * 3100 + 6 * 920);
    assert_eq!(sale.currency, "EUR");

    odoo.ship_partially(sale.id, "Colissimo", "6A1", &["CUP-6"]);
    let partly = webhook(&shop_site, "PS-7001", "partly_shipped");
    assert_eq!(
        partly["data"]["detail"]["shipments"][0]["skus"],
        json!(["CUP-6"]),
        "{partly}"
    );
    odoo.ship(sale.id, "Colissimo", "6A99887766554");
    let shipped = webhook(&shop_site, "PS-7001", "shipped");
    let shipments = &shipped["data"]["detail"]["shipments"];
    assert_eq!(
        shipments[1]["tracking_numbers"][0], "6A99887766554",
        "{shipped}"
    );
    // A fully shipped order's parcels keep their SKUs.
    assert_eq!(shipments[0]["skus"], json!(["CUP-6"]), "{shipped}");
    assert_eq!(shipments[1]["skus"], json!(["TEA-20"]), "{shipped}");
    let view = shop.order("PS-7001");
    assert_eq!(
        view.body["supplier_orders"][0]["supplier_reference"],
        sale.id.to_string()
    );

    // Invoiced and posted in Odoo: the shop hears of it with a link.
    let invoice = odoo.invoice(sale.id, true);
    let invoiced = wait_for("the invoice webhook", Duration::from_secs(30), || {
        shop_site.received().into_iter().find(|e| {
            e["order_reference"] == "PS-7001" && e["data"]["detail"]["invoice_url"].is_string()
        })
    });
    let url = invoiced["data"]["detail"]["invoice_url"]
        .as_str()
        .unwrap_or_default();
    assert!(
        url.starts_with(&format!(
            "{}/my/invoices/{invoice}?access_token=",
            odoo.url()
        )),
        "{invoiced}"
    );
    assert!(
        invoiced["data"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("INV/2026/00001")),
        "{invoiced}"
    );
    assert_eq!(odoo.sale_orders_created(&key), 1);
}

fn an_odoo_without_the_delivery_app_takes_orders_and_reports_them(db: Db) {
    let database = Database::new(db);
    // Odoo 17 (product types `product` / `consu`), no Delivery app.
    let odoo = FakeOdoo::start_as(
        ODOO_KEY,
        Edition {
            version: 17,
            delivery: false,
        },
    );
    odoo.add_product(json!({ "default_code": "TEA-20", "name": "Teapot", "list_price": 20.0, "qty_available": 0.0 }));
    // A consumable whose stock Odoo does not track: sold without stock.
    odoo.add_product(json!({ "default_code": "MUG", "name": "Mug", "list_price": 9.2, "is_storable": false, "qty_available": 0.0 }));
    odoo.add_receipt("TEA-20", 20.0, "2026-03-02 10:00:00");
    let shop_site = FakeShop::start(0);
    let server = serve("nodelivery", db, &database, &odoo, &shop_site);
    let shop = server.shop();

    let run = sync_binding(&shop, "erp");
    assert_eq!(run["state"], "succeeded", "{run}");
    for (sku, availability) in [("MUG", "in_stock"), ("TEA-20", "out_of_stock")] {
        let product = shop.send(
            "GET",
            &format!("/v1/shops/{SHOP}/catalog/products/{sku}"),
            b"",
        );
        assert_eq!(product.status, 200, "{:?}", product.body);
        assert_eq!(
            product.body["shop"]["availability"], availability,
            "{sku}: {:?}",
            product.body
        );
    }

    let mut order = order_json("PS-7002", &["TEA-20", "MUG"]);
    order["shipping_method"] = json!("Colissimo");
    let accepted = shop.post_order(&order);
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let sale = wait_for("the sale order in Odoo", Duration::from_secs(30), || {
        odoo.sale_orders().into_iter().find(|s| s.state == "sale")
    });
    assert_eq!(sale.carrier_id, None);
    assert!(
        sale.messages.iter().any(|m| m.contains("Colissimo")),
        "the shipping method as a note: {:?}",
        sale.messages
    );

    // Nothing reserved for the teapot: waiting for the receipt of 2 March.
    odoo.set_delivery_state(sale.id, "confirmed");
    let backordered = webhook(&shop_site, "PS-7002", "backordered");
    assert_eq!(
        backordered["data"]["detail"]["until"], "2026-03-02",
        "{backordered}"
    );

    odoo.set_delivery_state(sale.id, "assigned");
    odoo.ship(sale.id, "Colissimo", "6A2");
    let shipped = webhook(&shop_site, "PS-7002", "shipped");
    let parcel = &shipped["data"]["detail"]["shipments"][0];
    assert_eq!(parcel["skus"], json!(["TEA-20", "MUG"]), "{shipped}");
    assert_eq!(
        parcel["tracking_numbers"],
        json!([]),
        "no tracking without the app: {shipped}"
    );
    assert!(parcel["carrier"].is_null(), "{shipped}");
}

fn an_order_in_a_currency_odoo_does_not_price_in_fails_and_writes_nothing(db: Db) {
    let database = Database::new(db);
    let odoo = FakeOdoo::start(ODOO_KEY);
    // A fresh company: in USD, with its pricelist.
    odoo.set_company_currency("USD");
    let partners = odoo.partners().len();
    let shop_site = FakeShop::start(0);
    let server = serve("currency", db, &database, &odoo, &shop_site);
    let shop = server.shop();

    let accepted = shop.post_order(&order_json("PS-7003", &["SKU-1"]));
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let failed = wait_for("the order to fail", Duration::from_secs(30), || {
        let view = shop.order("PS-7003");
        let supplier_order = view.body["supplier_orders"][0].clone();
        (supplier_order["state"] == "failed").then_some(supplier_order)
    });
    let text = failed.to_string();
    assert!(
        text.contains("EUR") && text.contains("USD") && text.contains("configuration"),
        "{failed}"
    );
    assert!(odoo.sale_orders().is_empty());
    assert_eq!(odoo.partners().len(), partners, "no contact was created");
}

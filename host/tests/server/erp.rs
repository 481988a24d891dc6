//! An ERP over XML-RPC behind the same hook: orders posted by a shop become
//! confirmed Odoo sale orders, and Odoo's deliveries come back as tracking.

use std::time::Duration;

use serde_json::json;
use shopbridge_tests::components;
use shopbridge_tests::fakes::odoo::{DATABASE, FakeOdoo, LOGIN};

use crate::support::*;

const ODOO_KEY: &str = "odoo-api-key";

#[test]
fn an_order_becomes_a_confirmed_odoo_sale_order_and_its_delivery_comes_back() {
    let database = Database::new(Db::Sqlite);
    let odoo = FakeOdoo::start(ODOO_KEY);
    odoo.add_product(json!({ "default_code": "TEA-20", "name": "Teapot", "list_price": 20.0, "qty_available": 7.0 }));
    odoo.add_product(json!({ "default_code": "CUP-6", "name": "Cups", "list_price": 9.5, "qty_available": 30.0 }));
    let shop_site = FakeShop::start(0);
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
"#,
        database.url,
        components::ODOO,
        shop_site.callback_url(),
        odoo.url()
    );
    let path = std::env::temp_dir().join(format!("shopbridge-erp-{}.toml", std::process::id()));
    std::fs::write(&path, config).expect("writing the config");
    let server = Server::start_with_file(path);
    let shop = server.shop();

    let mut order = order_json("PS-7001", &["TEA-20", "CUP-6"]);
    order["lines"][1]["quantity"] = json!(6);
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

    odoo.ship(sale.id, "Colissimo", "6A99887766554");
    let shipped = wait_for("the shipped webhook", Duration::from_secs(30), || {
        shop_site
            .received()
            .into_iter()
            .find(|e| e["data"]["state"] == "shipped")
    });
    assert_eq!(shipped["order_reference"], "PS-7001");
    assert_eq!(
        shipped["data"]["detail"]["shipments"][0]["tracking_numbers"][0],
        "6A99887766554"
    );
    let view = shop.order("PS-7001");
    assert_eq!(
        view.body["supplier_orders"][0]["supplier_reference"],
        sale.id.to_string()
    );
    assert_eq!(odoo.sale_orders_created(&key), 1);
}

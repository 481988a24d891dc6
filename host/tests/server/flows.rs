//! Orders end to end through HTTP only, on SQLite and on PostgreSQL: a shop
//! posts a signed order, the server dispatches it to a fake supplier through
//! the real plugin, polls its status and tells the fake shop.

use std::time::Duration;

use serde_json::{Value, json};
use shopbridge_tests::fakes::wholesaler::{FakeWholesaler, Outage, UNKNOWN_SKU_PREFIX};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(30);

on_both_databases!(
    an_order_is_dispatched_shipped_and_the_shop_is_told,
    an_order_split_across_two_suppliers_goes_to_each,
    needs_attention_is_fixed_and_resubmitted,
    rate_limits_and_outages_are_retried,
    a_held_order_goes_out_once_paid_and_can_be_cancelled,
);

fn supplier_order(answer: &Answer, index: usize) -> Value {
    answer.body["supplier_orders"][index].clone()
}

/// Handed over to the supplier: submitted, or already further along (the
/// status poller runs every 200 ms and the fake accepts at once).
fn handed_over(state: &str) -> bool {
    ["submitted", "accepted", "processing"].contains(&state)
}

fn state_of(shop: &ShopClient, reference: &str, index: usize) -> String {
    let answer = shop.order(reference);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    supplier_order(&answer, index)["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn an_order_is_dispatched_shipped_and_the_shop_is_told(db: Db) {
    let database = Database::new(db);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let shop_site = FakeShop::start(1);
    let mut config = ConfigSpec::new(&database, &supplier);
    config.callback_url = Some(shop_site.callback_url());
    config.bindings[0].wholesale = &[("BB-1", 1000), ("BB-2", 500)];
    let server = Server::start(&config);
    let shop = server.shop();

    // The checkout's hook: 202 with the split, after the commit.
    let order = order_json("PS-1001", &["BB-1", "BB-2"]);
    let accepted = shop.post_order(&order);
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    assert_eq!(accepted.body["reference"], "PS-1001");
    let split = supplier_order(&accepted, 0);
    assert_eq!(split["binding"], "wholesaler");
    assert_eq!(split["state"], "queued");
    assert_eq!(split["wholesale_total"], 3000);
    let key = split["id"].as_str().expect("an id").to_owned();

    // A retry of the same post: the same answer, nothing new.
    let again = shop.post_order(&order);
    assert_eq!(again.status, 202);
    assert_eq!(again.body, accepted.body);
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );

    // Dispatched through the plugin, once, under the idempotency key.
    let fake = wait_for("the supplier to receive the order", WAIT, || {
        supplier
            .orders()
            .into_iter()
            .find(|o| o.internal_reference == key)
    });
    assert_eq!(supplier.orders().len(), 1);
    wait_for("the order to be submitted", WAIT, || {
        handed_over(&state_of(&shop, "PS-1001", 0)).then_some(())
    });

    // The supplier ships; the poller notices; the shop is told.
    supplier.ship(&fake.id, "Colissimo", "6A12345678901");
    let shipped = wait_for("the shipped webhook", WAIT, || {
        shop_site
            .received()
            .into_iter()
            .find(|e| e["kind"] == "supplier_order.status" && e["data"]["state"] == "shipped")
    });
    assert_eq!(shipped["order_reference"], "PS-1001");
    assert_eq!(shipped["shop"], SHOP);
    let shipment = &shipped["data"]["detail"]["shipments"][0];
    assert_eq!(shipment["carrier"], "Colissimo");
    assert_eq!(shipment["tracking_numbers"][0], "6A12345678901");
    assert_eq!(shop_site.bad_signatures(), 0);

    // The order view: supplier reference, history, tracking, margin.
    let view = shop.order("PS-1001");
    assert_eq!(view.status, 200);
    let so = supplier_order(&view, 0);
    assert_eq!(so["state"], "shipped");
    assert_eq!(so["supplier_reference"], fake.id);
    let history: Vec<&str> = so["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["state"].as_str())
        .collect();
    assert_eq!(history.first(), Some(&"submitted"), "{history:?}");
    assert_eq!(history.last(), Some(&"shipped"), "{history:?}");
    assert_eq!(
        so["tracking"][0]["tracking_url"],
        "https://tracking.example/6A12345678901"
    );
    assert_eq!(view.body["margin"]["retail_total"], 4 * 1599);
    assert_eq!(view.body["margin"]["wholesale_total"], 3000);
    assert_eq!(view.body["margin"]["margin"], 4 * 1599 - 3000);

    // The same story from the events feed, in order, by cursor.
    let page = shop.events(0);
    assert_eq!(page.status, 200, "{:?}", page.body);
    let kinds: Vec<&str> = page.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(
        kinds.first(),
        Some(&"supplier_order.submitted"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"supplier_order.status"), "{kinds:?}");
    let next = page.body["next"].as_i64().expect("a cursor");
    let rest = shop.events(next);
    assert_eq!(rest.body["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(rest.body["next"], next);

    // The supplier order was submitted exactly once, despite the replayed post
    // and the first webhook failing (retried).
    assert_eq!(supplier.create_attempts(), 1);
    let webhooks_for_shipped = shop_site
        .received()
        .iter()
        .filter(|e| e["data"]["state"] == "shipped")
        .count();
    assert_eq!(webhooks_for_shipped, 1);
}

fn an_order_split_across_two_suppliers_goes_to_each(db: Db) {
    let database = Database::new(db);
    let first = FakeWholesaler::start(SUPPLIER_KEY);
    let second = FakeWholesaler::start(SUPPLIER_KEY);
    let mut config = ConfigSpec::new(&database, &first);
    config.bindings = vec![
        BindingSpec {
            id: "bigbuy",
            supplier: &first,
            sku_prefix: "BB-",
            wholesale: &[("BB-1", 700)],
        },
        BindingSpec {
            id: "other",
            supplier: &second,
            sku_prefix: "XX-",
            wholesale: &[],
        },
    ];
    let server = Server::start(&config);
    let shop = server.shop();

    let accepted = shop.post_order(&order_json("PS-2001", &["BB-1", "XX-9", "BB-3"]));
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let bindings: Vec<&str> = accepted.body["supplier_orders"]
        .as_array()
        .expect("split")
        .iter()
        .filter_map(|s| s["binding"].as_str())
        .collect();
    assert_eq!(bindings, ["bigbuy", "other"]);

    let at_first = wait_for("the first supplier's order", WAIT, || {
        first.orders().into_iter().next()
    });
    let at_second = wait_for("the second supplier's order", WAIT, || {
        second.orders().into_iter().next()
    });
    let skus = |o: &shopbridge_tests::fakes::wholesaler::FakeOrder| -> Vec<String> {
        o.body["order"]["products"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter_map(|l| l["reference"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(skus(&at_first), ["BB-1", "BB-3"], "{}", at_first.body);
    assert_eq!(skus(&at_second), ["XX-9"], "{}", at_second.body);
    wait_for("both submitted", WAIT, || {
        let view = shop.order("PS-2001");
        view.body["supplier_orders"]
            .as_array()
            .is_some_and(|s| {
                s.iter()
                    .all(|so| handed_over(so["state"].as_str().unwrap_or_default()))
            })
            .then_some(())
    });
    // The second supplier's cost is unknown: the margin says so.
    let view = shop.order("PS-2001");
    assert_eq!(view.body["margin"]["complete"], false);
    assert_eq!(first.orders().len(), 1);
    assert_eq!(second.orders().len(), 1);
}

fn needs_attention_is_fixed_and_resubmitted(db: Db) {
    let database = Database::new(db);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let config = ConfigSpec::new(&database, &supplier);
    let server = Server::start(&config);
    let shop = server.shop();

    let mut order = order_json("PS-3001", &["BB-1"]);
    order["shipping_address"]["postal_code"] = json!("");
    assert_eq!(shop.post_order(&order).status, 202);
    wait_for("needs attention", WAIT, || {
        (state_of(&shop, "PS-3001", 0) == "needs_attention").then_some(())
    });
    let view = shop.order("PS-3001");
    let issues = &supplier_order(&view, 0)["issues"];
    assert_eq!(
        issues[0]["field"], "shipping-address.postal-code",
        "{issues}"
    );
    assert_eq!(issues[0]["code"], "missing");
    assert!(supplier.orders().is_empty());

    // The shop fixes the address: the supplier order goes out again.
    let mut address = order["shipping_address"].clone();
    address["postal_code"] = json!("75011");
    let fixed = shop.send(
        "PATCH",
        "/v1/shops/demo/orders/PS-3001",
        json!({ "shipping_address": address })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(fixed.status, 200, "{:?}", fixed.body);
    wait_for("the fixed order to be submitted", WAIT, || {
        handed_over(&state_of(&shop, "PS-3001", 0)).then_some(())
    });
    let sent = supplier.orders();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["order"]["shippingAddress"]["postcode"], "75011",
        "{}",
        sent[0].body
    );

    // An unknown SKU at the supplier: needs attention on that line, and a
    // submitted order cannot be patched any more.
    let unknown = format!("{UNKNOWN_SKU_PREFIX}42");
    assert_eq!(
        shop.post_order(&order_json("PS-3002", &[&unknown])).status,
        202
    );
    wait_for("needs attention on the SKU", WAIT, || {
        (state_of(&shop, "PS-3002", 0) == "needs_attention").then_some(())
    });
    let view = shop.order("PS-3002");
    assert!(
        supplier_order(&view, 0)["issues"]
            .to_string()
            .contains("lines"),
        "{:?}",
        view.body
    );
    let refused = shop.send(
        "PATCH",
        "/v1/shops/demo/orders/PS-3001",
        json!({ "note": "late change" }).to_string().as_bytes(),
    );
    assert_eq!(refused.status, 409, "{:?}", refused.body);
}

fn rate_limits_and_outages_are_retried(db: Db) {
    let database = Database::new(db);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    supplier.fail_next([
        Outage::RateLimited { reset_seconds: 1 },
        Outage::Unavailable,
    ]);
    let config = ConfigSpec::new(&database, &supplier);
    let server = Server::start(&config);
    let shop = server.shop();

    let started = std::time::Instant::now();
    assert_eq!(
        shop.post_order(&order_json("PS-4001", &["BB-7"])).status,
        202
    );
    wait_for("the order to get through", WAIT, || {
        handed_over(&state_of(&shop, "PS-4001", 0)).then_some(())
    });
    // The 429 asked for a second: the retry waited for it.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(supplier.create_attempts(), 3);
    assert_eq!(supplier.orders().len(), 1);
    let (status, metrics) = shop.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(
            r#"shopbridge_dispatch_outcomes_total{binding="wholesaler",outcome="transient"} 2"#
        ),
        "{metrics}"
    );
}

fn a_held_order_goes_out_once_paid_and_can_be_cancelled(db: Db) {
    let database = Database::new(db);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let mut config = ConfigSpec::new(&database, &supplier);
    config.dispatch = "once-paid";
    let server = Server::start(&config);
    let shop = server.shop();

    let mut order = order_json("PS-5001", &["BB-1"]);
    order["paid"] = json!(false);
    let accepted = shop.post_order(&order);
    assert_eq!(supplier_order(&accepted, 0)["state"], "held");
    std::thread::sleep(Duration::from_millis(500));
    assert!(supplier.orders().is_empty(), "a held order went out");

    let paid = shop.send("POST", "/v1/shops/demo/orders/PS-5001/payment", b"{}");
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.body["released"], 1);
    let fake = wait_for("the paid order at the supplier", WAIT, || {
        supplier.orders().into_iter().next()
    });
    wait_for("submitted", WAIT, || {
        handed_over(&state_of(&shop, "PS-5001", 0)).then_some(())
    });

    // Cancelled through the supplier.
    let cancel = shop.send(
        "POST",
        "/v1/shops/demo/orders/PS-5001/cancel",
        json!({ "reason": "customer changed their mind" })
            .to_string()
            .as_bytes(),
    );
    assert_eq!(cancel.status, 202, "{:?}", cancel.body);
    assert_eq!(cancel.body["supplier_orders"][0]["state"], "cancelling");
    wait_for("cancelled", WAIT, || {
        (state_of(&shop, "PS-5001", 0) == "cancelled").then_some(())
    });
    let at_supplier = supplier
        .orders()
        .into_iter()
        .find(|o| o.id == fake.id)
        .expect("still there");
    assert_eq!(at_supplier.status, "cancelled");
    assert_eq!(
        at_supplier.cancel_reason.as_deref(),
        Some("customer changed their mind")
    );

    // A held order that is cancelled never reaches the supplier.
    let mut second = order_json("PS-5002", &["BB-1"]);
    second["paid"] = json!(false);
    assert_eq!(shop.post_order(&second).status, 202);
    let cancel = shop.send("POST", "/v1/shops/demo/orders/PS-5002/cancel", b"");
    assert_eq!(cancel.body["supplier_orders"][0]["state"], "cancelled");
    let paid = shop.send("POST", "/v1/shops/demo/orders/PS-5002/payment", b"{}");
    assert_eq!(paid.body["released"], 0);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(supplier.orders().len(), 1);
}

//! What the order hook refuses, and that a refusal changes nothing: bad
//! signatures, stale timestamps, malformed, invalid and oversized bodies,
//! a reference reused with another body.

use serde_json::json;
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;

use crate::support::*;

#[test]
fn refused_requests_get_clear_errors_and_change_nothing() {
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let mut config = ConfigSpec::new(&database, &supplier);
    config.bindings[0].sku_prefix = "BB-";
    config.extra_server = "max_body_bytes = 4096";
    let server = Server::start(&config);
    let shop = server.shop();
    let path = "/v1/shops/demo/orders";
    let order = order_json("PS-9001", &["BB-1"]);
    let body = order.to_string();

    // A wrong secret, a stale timestamp, no signature at all.
    let wrong = shop.send_signed("POST", path, body.as_bytes(), "not-the-secret", now());
    assert_eq!(wrong.status, 401, "{:?}", wrong.body);
    assert!(
        wrong.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("signature"),
        "{:?}",
        wrong.body
    );
    assert_eq!(wrong.headers["content-type"], "application/problem+json");
    let stale = shop.send_signed("POST", path, body.as_bytes(), SECRET, now() - 3600);
    assert_eq!(stale.status, 401);
    assert!(
        stale.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("timestamp"),
        "{:?}",
        stale.body
    );
    // Signed for another path: not valid here.
    let sig_elsewhere = shopbridge::signature::sign(
        SECRET,
        now(),
        "POST",
        "/v1/shops/demo/orders/X/payment",
        body.as_bytes(),
    );
    let (status, _) = shopbridge_tests::block_on(async {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .header("x-shopbridge-key", KEY_ID)
            .header("x-shopbridge-timestamp", now().to_string())
            .header("x-shopbridge-signature", sig_elsewhere)
            .body(body.clone())
            .send()
            .await
            .expect("answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    });
    assert_eq!(status, 401);

    // Malformed JSON: 400, with where it broke.
    let malformed = shop.send("POST", path, b"{\"reference\": \"PS-9001\", ");
    assert_eq!(malformed.status, 400, "{:?}", malformed.body);
    assert_eq!(
        malformed.body["type"],
        "https://shopbridge.dev/problems/malformed-json"
    );

    // A field of the wrong type: 422 naming the field.
    let mut wrong_type = order.clone();
    wrong_type["lines"][0]["quantity"] = json!("two");
    let answer = shop.post_order(&wrong_type);
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["errors"][0]["field"], "lines[0].quantity");

    // Several semantic problems at once, each with its field.
    let mut invalid = order.clone();
    invalid["currency"] = json!("euro");
    invalid["lines"] = json!([
        { "sku": "BB-1", "quantity": 0, "unit_price": 100 },
        { "sku": "ZZ-unknown", "quantity": 1, "unit_price": 100 }
    ]);
    let answer = shop.post_order(&invalid);
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["currency", "lines[0].quantity", "lines[1].sku"]);
    assert_eq!(answer.body["errors"][2]["code"], "unknown-sku");

    // Too large.
    let mut huge = order.clone();
    huge["note"] = json!("x".repeat(8000));
    let answer = shop.post_order(&huge);
    assert_eq!(answer.status, 413, "{:?}", answer.body);

    // None of that stored anything.
    assert_eq!(shop.order("PS-9001").status, 404);
    assert_eq!(
        shop.events(0).body["events"].as_array().map(Vec::len),
        Some(0)
    );

    // Now the real one, then the same reference with another body: 409.
    assert_eq!(shop.post_order(&order).status, 202);
    let mut other = order.clone();
    other["lines"][0]["quantity"] = json!(5);
    let conflict = shop.post_order(&other);
    assert_eq!(conflict.status, 409, "{:?}", conflict.body);
    let view = shop.order("PS-9001");
    assert_eq!(view.body["order"]["lines"][0]["quantity"], 2);

    // An unsigned read is refused; an unknown route is a problem too.
    let (status, _) = shop.get("/v1/shops/demo/orders/PS-9001");
    assert_eq!(status, 401);
    let (status, body) = shop.get("/nowhere");
    assert_eq!(status, 404);
    assert!(body.contains("no route"), "{body}");

    let (status, metrics) = shop.get("/metrics");
    assert_eq!(status, 200);
    for line in [
        r#"shopbridge_orders_received_total{outcome="unauthorized"} 3"#,
        r#"shopbridge_orders_received_total{outcome="created"} 1"#,
        r#"shopbridge_orders_received_total{outcome="conflict"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
}

#[test]
fn health_readiness_openapi_and_graceful_shutdown() {
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let config = ConfigSpec::new(&database, &supplier);
    let mut server = Server::start(&config);
    let shop = server.shop();
    assert_eq!(shop.get("/healthz").0, 200);
    let (status, ready) = shop.get("/readyz");
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains("sqlite"), "{ready}");
    let (status, openapi) = shop.get("/openapi.yaml");
    assert_eq!(status, 200);
    // Every route the server has is in the document.
    for path in [
        "/v1/shops/{shop}/orders:",
        "/v1/shops/{shop}/orders/{reference}:",
        "/v1/shops/{shop}/orders/{reference}/payment:",
        "/v1/shops/{shop}/orders/{reference}/cancel:",
        "/v1/shops/{shop}/orders/{reference}/resubmit:",
        "/v1/shops/{shop}/events:",
        "/v1/shops/{shop}/bindings/{binding}/syncs:",
        "/v1/shops/{shop}/bindings/{binding}/syncs/{id}:",
        "/v1/shops/{shop}/bindings/{binding}/syncs/{id}/cancel:",
        "/v1/shops/{shop}/catalog/changes:",
        "/v1/shops/{shop}/bindings/{binding}/catalog/preview:",
        "/v1/shops/{shop}/catalog/products/{sku}:",
        "/v1/plugins:",
        "/v1/plugins/{name}/versions:",
        "/v1/plugins/{name}/versions/{version}/activate:",
        "/v1/plugins/{name}/rollback:",
        "/v1/plugins/{name}/versions/{version}/tests:",
        "/v1/plugins/{name}/versions/{version}/shadow:",
        "/healthz:",
        "/readyz:",
        "/metrics:",
    ] {
        assert!(openapi.contains(path), "{path} is not documented");
    }
    assert!(server.terminate(), "serve did not exit cleanly on SIGTERM");
}

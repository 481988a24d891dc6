//! Tenants kept apart (issue 14): a shop names only its own things. Each
//! resource a shop names in a path is looked up with its owner; another
//! shop's id is a 404 and is never acted on.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use shopbridge_tests::{LoopbackServer, components};

use crate::catalog::sync_binding;
use crate::support::*;

const OTHER_KEY_ID: &str = "other-key";
const OTHER_SECRET: &str = "another-long-shop-secret";

/// F1: shop A cancelled shop B's running sync by naming its own binding and
/// B's (sequential) sync id.
#[test]
fn a_shop_cannot_see_or_cancel_another_shops_sync() {
    // B's feed takes 3 s to come, so that B's sync is running when A strikes.
    let feed = "sku;name;price\nB-1;Bol;2,50\n";
    let router = Router::new()
        .route("/a.csv", get(move || async move { feed }))
        .route(
            "/b.csv",
            get(move || async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                feed
            }),
        );
    let feeds = LoopbackServer::start(router);
    let database = Database::new(Db::Sqlite);
    let mut config = config_head(
        &database,
        "",
        &[("csv-wholesaler", components::CSV_WHOLESALER)],
        &[("other", OTHER_KEY_ID, OTHER_SECRET)],
    );
    for (binding, shop) in [("a", SHOP), ("b", "other")] {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{binding}"
shop = "{shop}"
plugin = "csv-wholesaler"
sku_prefixes = ["{}-"]
allow_hosts = ["127.0.0.1"]
allow_private_network = true

[bindings.catalog]
feed_url = "{}"
"#,
            binding.to_uppercase(),
            feeds.url(&format!("/{binding}.csv"))
        ));
    }
    let server = serve_config("tenants", &config);
    let a = server.shop();
    let b = server.shop_as(OTHER_KEY_ID, OTHER_SECRET);

    // A's own sync, so that A knows what ids look like.
    let own = sync_binding(&a, "a");
    assert_eq!(own["state"], "succeeded", "{own}");

    let started = b.send(
        "POST",
        "/v1/shops/other/bindings/b/syncs",
        br#"{"kind":"full"}"#,
    );
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_i64().expect("an id");
    wait_for("B's sync to run", Duration::from_secs(10), || {
        let run = b.send(
            "GET",
            &format!("/v1/shops/other/bindings/b/syncs/{id}"),
            b"",
        );
        (run.body["state"] == "running").then_some(())
    });

    // Through A's own binding, B's run is not there: neither to read nor to cancel.
    let seen = a.send("GET", &format!("/v1/shops/demo/bindings/a/syncs/{id}"), b"");
    assert_eq!(seen.status, 404, "{:?}", seen.body);
    let cancel = a.send(
        "POST",
        &format!("/v1/shops/demo/bindings/a/syncs/{id}/cancel"),
        b"",
    );
    assert_eq!(cancel.status, 404, "{:?}", cancel.body);
    assert!(
        cancel.body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/unknown-sync")),
        "{:?}",
        cancel.body
    );
    // Through B's binding, A is not B.
    let cancel = a.send(
        "POST",
        &format!("/v1/shops/demo/bindings/b/syncs/{id}/cancel"),
        b"",
    );
    assert_eq!(cancel.status, 404, "{:?}", cancel.body);

    // B's run was not touched: it ends as it would have.
    let run = wait_for("B's sync to end", Duration::from_secs(30), || {
        let run = b.send(
            "GET",
            &format!("/v1/shops/other/bindings/b/syncs/{id}"),
            b"",
        );
        (!["queued", "running", "cancelling"].contains(&run.body["state"].as_str().unwrap_or("")))
            .then_some(run.body)
    });
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["created"], 1, "{run}");

    // B may cancel its own; a finished run is a conflict, not a 404.
    let again = b.send(
        "POST",
        "/v1/shops/other/bindings/b/syncs",
        br#"{"kind":"full"}"#,
    );
    let again_id = again.body["id"].as_i64().expect("an id");
    let cancelled = b.send(
        "POST",
        &format!("/v1/shops/other/bindings/b/syncs/{again_id}/cancel"),
        b"",
    );
    assert_eq!(cancelled.status, 202, "{:?}", cancelled.body);
    let finished = b.send(
        "POST",
        &format!("/v1/shops/other/bindings/b/syncs/{id}/cancel"),
        b"",
    );
    assert_eq!(finished.status, 409, "{:?}", finished.body);
}

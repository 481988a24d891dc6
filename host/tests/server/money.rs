//! Money through HTTP, on SQLite and PostgreSQL: supplier feeds whose
//! prices sit on the pricing rules' boundaries (the issue's 1,00 € and
//! 509,20 € at 10 %, 0,01 €, 999 999,99 €, a markup of 12.5 %, a brand
//! override, VAT halves, the supplier's floor, endings, yen and dinars)
//! synced through the `csv-wholesaler` plugin, with the shop's prices
//! worked out by hand; and orders in yen whose totals and margin are exact,
//! or refused when they do not fit in 64 bits.

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
use shopbridge_tests::{LoopbackServer, components};

use crate::support::*;

on_both_databases!(
    boundary_prices_are_priced_exactly_through_http,
    order_totals_and_margins_are_exact_or_refused,
);

const HEADER: &str = "Référence;Désignation;Marque;Catégorie;Prix HT;PVC;TVA;Stock\n";

/// The issue's binding: `markup_percent = 10.0`, `"brand:Acme" = 25.0`.
const ISSUE: &str = "\
I-1;Un euro;Autre;Divers;1,00;;;5
I-2;Cinq cent neuf;Autre;Divers;509,20;;;5
I-3;Un centime;Autre;Divers;0,01;;;5
I-4;Le plus cher;Autre;Divers;999 999,99;;;5
I-5;Un euro Acme;Acme;Divers;1,00;;;5
I-6;Cinq cent neuf Acme;Acme;Divers;509,20;;;5
I-7;Yen;Autre;Divers;1001 JPY;;;5
I-8;Dinar;Autre;Divers;10,001 KWD;;;5
";

/// `markup_percent = 12.5, add_vat = true, floor_at_supplier_retail = true`.
const VAT: &str = "\
V-1;Huit euros;Autre;Divers;8,00;;20;5
V-2;Un centime;Autre;Divers;0,01;;20;5
V-3;Le plus cher;Autre;Divers;999 999,99;;20;5
V-4;Demi centime;Autre;Divers;2,66;;5,5;5
V-5;Prix plancher;Autre;Divers;1,00;9,99;5,5;5
V-6;Yen;Autre;Divers;1001 JPY;;10;5
V-7;Dinar;Autre;Divers;10,001 KWD;;;5
";

/// `markup_percent = 10, ending_cents = 99`.
const ENDING: &str = "\
E-1;Dix euros;Autre;Divers;10,00;;;5
E-2;Déjà en 99;Autre;Divers;10,90;;;5
E-3;Yen;Autre;Divers;1001 JPY;;;5
E-4;Yen en 99;Autre;Divers;1090 JPY;;;5
E-5;Dinar;Autre;Divers;10,001 KWD;;;5
E-6;Dinar en 990;Autre;Divers;10,900 KWD;;;5
";

fn config(database: &Database, feeds: &LoopbackServer) -> String {
    let mut text = config_head(
        database,
        "",
        &[("csv-wholesaler", components::CSV_WHOLESALER)],
        &[],
    );
    for (id, pricing) in [
        (
            "issue",
            r#"{ markup_percent = 10.0, overrides = { "brand:Acme" = 25.0 } }"#,
        ),
        (
            "vat",
            "{ markup_percent = 12.5, add_vat = true, floor_at_supplier_retail = true }",
        ),
        ("ending", "{ markup_percent = 10, ending_cents = 99 }"),
    ] {
        text.push_str(&format!(
            r#"
[[bindings]]
id = "{id}"
shop = "{SHOP}"
plugin = "csv-wholesaler"
allow_hosts = ["127.0.0.1"]
allow_private_network = true
settings = {{ delimiter = ";" }}

[bindings.catalog]
feed_url = "{}"
pricing = {pricing}
"#,
            feeds.url(&format!("/{id}.csv"))
        ));
    }
    text
}

/// Syncs `binding` now and waits for its end.
fn sync(shop: &ShopClient, binding: &str) -> Value {
    let started = shop.send(
        "POST",
        &format!("/v1/shops/{SHOP}/bindings/{binding}/syncs"),
        br#"{"kind":"full"}"#,
    );
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_i64().expect("a run id");
    wait_for(
        "the sync to end",
        std::time::Duration::from_secs(30),
        || {
            let run = shop.send(
                "GET",
                &format!("/v1/shops/{SHOP}/bindings/{binding}/syncs/{id}"),
                b"",
            );
            let state = run.body["state"].as_str().unwrap_or_default().to_owned();
            (!["queued", "running"].contains(&state.as_str())).then_some(run.body)
        },
    )
}

fn boundary_prices_are_priced_exactly_through_http(db: Db) {
    let database = Database::new(db);
    let feed = |rows: &'static str| move || async move { format!("{HEADER}{rows}") };
    let feeds = LoopbackServer::start(
        Router::new()
            .route("/issue.csv", get(feed(ISSUE)))
            .route("/vat.csv", get(feed(VAT)))
            .route("/ending.csv", get(feed(ENDING))),
    );
    let server = serve_config("money", &config(&database, &feeds));
    let shop = server.shop();
    for binding in ["issue", "vat", "ending"] {
        let run = sync(&shop, binding);
        assert_eq!(run["state"], "succeeded", "{binding}: {run}");
        assert_eq!(run["rejected"], 0, "{binding}: {run}");
    }
    let page = shop.send(
        "GET",
        &format!("/v1/shops/{SHOP}/catalog/changes?since=0&limit=100"),
        b"",
    );
    assert_eq!(page.status, 200, "{:?}", page.body);
    let prices: BTreeMap<String, Value> = page.body["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let price = &c["shop"]["retail_price"];
            (
                c["sku"].as_str().unwrap_or_default().to_owned(),
                json!([price["amount_minor"], price["currency"]]),
            )
        })
        .collect();
    let expected: BTreeMap<String, Value> = [
        // The issue's binding: 10 %, Acme 25 %, rounded up to the minor unit.
        ("I-1", 110, "EUR"),         // 1,00 × 1.10 = 1,10 exactly (was 1,11)
        ("I-2", 56_012, "EUR"),      // 509,20 × 1.10 = 560,12 exactly (was 560,13)
        ("I-3", 2, "EUR"),           // 0,01 × 1.10 = 0,011 → 0,02
        ("I-4", 109_999_999, "EUR"), // 999 999,99 × 1.10 = 1 099 999,989 → 1 099 999,99
        ("I-5", 125, "EUR"),         // 1,00 × 1.25 = 1,25 exactly
        ("I-6", 63_650, "EUR"),      // 509,20 × 1.25 = 636,50 exactly
        ("I-7", 1102, "JPY"),        // ¥1,001 × 1.10 = ¥1,101.1 → ¥1,102
        ("I-8", 11_002, "KWD"),      // 10.001 × 1.10 = 11.0011 → 11.002 KWD
        // 12.5 % rounded up, then VAT to the nearest (a half away from zero).
        ("V-1", 1080, "EUR"),        // 8,00 × 1.125 = 9,00; × 1.20 = 10,80
        ("V-2", 2, "EUR"),           // 0,01 × 1.125 → 0,02; × 1.20 = 0,024 → 0,02
        ("V-3", 134_999_999, "EUR"), // 999 999,99 × 1.125 = 1 124 999,98875 → …,99; × 1.20 = 1 349 999,988 → 1 349 999,99
        ("V-4", 317, "EUR"),         // 2,66 × 1.125 = 2,9925 → 3,00; × 1.055 = 3,165 → 3,17
        ("V-5", 999, "EUR"), // 1,00 → 1,13 → 1,19215 → 1,19, below the supplier's 9,99: 9,99
        ("V-6", 1240, "JPY"), // ¥1,001 × 1.125 = ¥1,126.125 → ¥1,127; × 1.10 = ¥1,239.7 → ¥1,240
        ("V-7", 11_252, "KWD"), // 10.001 × 1.125 = 11.251125 → 11.252 KWD; no VAT given
        // 10 % then up to the ending 99: hundredths of the major unit, or
        // the last two digits of a currency without minor unit.
        ("E-1", 1199, "EUR"),   // 10,00 × 1.10 = 11,00 → 11,99
        ("E-2", 1199, "EUR"),   // 10,90 × 1.10 = 11,99 exactly: stays
        ("E-3", 1199, "JPY"),   // ¥1,001 → ¥1,102 → ¥1,199
        ("E-4", 1199, "JPY"),   // ¥1,090 × 1.10 = ¥1,199 exactly: stays
        ("E-5", 11_990, "KWD"), // 10.001 → 11.002 → 11.990 KWD
        ("E-6", 11_990, "KWD"), // 10.900 × 1.10 = 11.990 exactly: stays
    ]
    .into_iter()
    .map(|(sku, amount, currency)| (sku.to_owned(), json!([amount, currency])))
    .collect();
    assert_eq!(prices, expected);

    // Proposed rules through the preview, exact too: 1,00 € at 12.5 % is
    // 1,125 € → 1,13 €, and "0.1" % is 0.1 %, not the nearest float.
    let preview = |pricing: Value| {
        shop.send(
            "POST",
            &format!("/v1/shops/{SHOP}/bindings/issue/catalog/preview"),
            json!({ "skus": ["I-1", "I-4"], "pricing": pricing })
                .to_string()
                .as_bytes(),
        )
    };
    let answer = preview(json!({ "markup_percent": 12.5 }));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let proposed =
        |i: usize| answer.body["products"][i]["proposed"]["retail_price"]["amount_minor"].clone();
    assert_eq!(proposed(0), 113);
    assert_eq!(proposed(1), 112_499_999); // 999 999,99 × 1.125 = 1 124 999,98875 → 1 124 999,99
    let answer = preview(json!({ "markup_percent": "0.1" }));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let proposed =
        |i: usize| answer.body["products"][i]["proposed"]["retail_price"]["amount_minor"].clone();
    assert_eq!(proposed(0), 101); // 1,001 € → 1,01 €
    assert_eq!(proposed(1), 100_099_999); // 1 000 999,98999 → 1 000 999,99
    let answer = preview(json!({ "markup_percent": 12.34567 }));
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["errors"][0]["field"], "pricing.markup_percent");
    assert!(
        answer.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("12.34567 has more decimals than the 4")),
        "{:?}",
        answer.body
    );
}

fn order_totals_and_margins_are_exact_or_refused(db: Db) {
    let database = Database::new(db);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let mut spec = ConfigSpec::new(&database, &supplier);
    // Costs in yen; the second one overflows when ordered twice.
    spec.bindings[0].wholesale = &[("BB-1", 1000), ("BB-2", 5_000_000_000_000_000_000)];
    let text = spec.toml().replace(
        "status_poll = \"200ms\"",
        "status_poll = \"200ms\"\ncurrency = \"JPY\"",
    );
    let server = serve_config("money-orders", &text);
    let shop = server.shop();
    let order = |reference: &str, lines: Value| {
        let mut order = order_json(reference, &[]);
        order["currency"] = json!("JPY");
        order["lines"] = lines;
        order
    };

    // ¥1,299 × 2 paid, ¥1,000 × 2 owed: a margin of ¥598, to the yen.
    let answer = shop.post_order(&order(
        "JP-1",
        json!([{ "sku": "BB-1", "quantity": 2, "unit_price": 1299 }]),
    ));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(answer.body["supplier_orders"][0]["wholesale_total"], 2000);
    assert_eq!(
        answer.body["supplier_orders"][0]["wholesale_currency"],
        "JPY"
    );
    let margin = &shop.order("JP-1").body["margin"];
    assert_eq!(
        *margin,
        json!({ "currency": "JPY", "retail_total": 2598, "wholesale_total": 2000, "margin": 598, "complete": true })
    );

    // The largest total there is: exact, not saturated.
    let answer = shop.post_order(&order(
        "JP-2",
        json!([{ "sku": "BB-1", "quantity": 1, "unit_price": i64::MAX }]),
    ));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    let margin = &shop.order("JP-2").body["margin"];
    assert_eq!(margin["retail_total"], i64::MAX);
    assert_eq!(margin["margin"], i64::MAX - 1000);

    // One yen more is refused at intake, saying which field.
    for (reference, lines) in [
        (
            "JP-3",
            json!([{ "sku": "BB-1", "quantity": 2, "unit_price": i64::MAX / 2 + 1 }]),
        ),
        (
            "JP-4",
            json!([
                { "sku": "BB-1", "quantity": 1, "unit_price": i64::MAX },
                { "sku": "BB-1", "quantity": 1, "unit_price": 1 },
            ]),
        ),
    ] {
        let answer = shop.post_order(&order(reference, lines));
        assert_eq!(answer.status, 422, "{:?}", answer.body);
        assert_eq!(
            answer.body["errors"][0]["field"], "lines",
            "{:?}",
            answer.body
        );
        assert!(
            answer.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("does not fit in 64 bits")),
            "{:?}",
            answer.body
        );
        assert_eq!(shop.order(reference).status, 404);
    }

    // A cost beyond 64 bits is unknown, never saturated: no margin.
    let answer = shop.post_order(&order(
        "JP-5",
        json!([{ "sku": "BB-2", "quantity": 2, "unit_price": 1 }]),
    ));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(
        answer.body["supplier_orders"][0]["wholesale_total"],
        Value::Null
    );
    let margin = &shop.order("JP-5").body["margin"];
    assert_eq!(margin["margin"], Value::Null);
    assert_eq!(margin["complete"], false);
}

//! The `odoo` plugin through the plugin ABI, in the sandbox, against an
//! Odoo-like XML-RPC server on loopback: sale orders, faults, status with
//! tracking, cancellation and the catalog by pages.

use std::time::Duration;

use serde_json::json;
use shopbridge::plugins::{CallOptions, Plugin};
use shopbridge::runtime::bindings::shopbridge::connector::types::{
    Availability, FeedRecord, Money, Order, OrderError, OrderState, Product,
};
use shopbridge::runtime::{HostPattern, Limits, NetworkPolicy, Settings};
use shopbridge_tests::fakes::odoo::{DATABASE, Edition, Failure, FakeOdoo, LOGIN, SaleOrderLine};
use shopbridge_tests::{block_on, components, plugin, runtime, sample_order};

const KEY: &str = "odoo-api-key";

fn options(odoo: &FakeOdoo, extra: &[(&str, &str)]) -> CallOptions {
    let mut settings = vec![
        ("url".to_owned(), odoo.url()),
        ("database".to_owned(), DATABASE.to_owned()),
        ("username".to_owned(), LOGIN.to_owned()),
        ("api-key".to_owned(), KEY.to_owned()),
    ];
    for (k, v) in extra {
        settings.retain(|(name, _)| name != k);
        settings.push(((*k).to_owned(), (*v).to_owned()));
    }
    CallOptions {
        settings: Settings::from_pairs(settings),
        network: NetworkPolicy {
            allowed_hosts: vec![HostPattern::new("127.0.0.1")],
            // The fake listens on loopback: this binding allows it explicitly.
            allow_private_network: true,
            ..NetworkPolicy::default()
        },
        limits: Limits {
            deadline: Duration::from_secs(10),
            ..Limits::default()
        },
    }
}

async fn connector() -> std::sync::Arc<Plugin> {
    plugin(components::ODOO).await
}

async fn submit(
    p: &Plugin,
    opts: &CallOptions,
    order: &Order,
) -> Result<shopbridge::runtime::bindings::shopbridge::connector::types::Submission, OrderError> {
    p.submit_order(runtime(), opts, order).await.expect("runs")
}

fn sale_order_id(reference: &str) -> i64 {
    reference.parse().expect("the reference is a sale order id")
}

#[test]
fn an_order_becomes_one_confirmed_sale_order_even_when_retried() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let order = sample_order("key-1", &["SKU-1", "SKU-2"]);
        p.check_order(runtime(), &opts, &order)
            .await
            .expect("runs")
            .expect("checks");
        let first = submit(&p, &opts, &order).await.expect("submits");
        let sale = odoo
            .sale_order(sale_order_id(&first.supplier_reference))
            .expect("the sale order exists");
        assert_eq!(sale.state, "sale", "confirmed");
        assert_eq!(sale.client_order_ref, "key-1");
        assert_eq!(sale.origin, "shop-key-1");
        assert_eq!(
            sale.lines,
            [
                SaleOrderLine {
                    sku: "SKU-1".into(),
                    quantity: 2.0,
                    price_unit: 15.99
                },
                SaleOrderLine {
                    sku: "SKU-2".into(),
                    quantity: 2.0,
                    price_unit: 15.99
                },
            ]
        );
        assert_eq!(sale.partner["email"], "jeanne@example.fr");
        assert_eq!(sale.partner["name"], "Jeanne Martin");
        assert_eq!(sale.shipping["type"], "delivery");
        assert_eq!(sale.shipping["parent_id"], sale.partner["id"]);
        assert_eq!(sale.shipping["street"], "12 rue des Lilas");
        assert_eq!(sale.shipping["street2"], "Bâtiment B");
        assert_eq!(sale.shipping["zip"], "75011");
        assert_eq!(sale.shipping["city"], "Paris");
        assert_eq!(sale.shipping["country_id"], 75);
        assert_eq!(sale.shipping["phone"], "+33612345678");
        assert!(
            first
                .message
                .as_deref()
                .is_some_and(|m| m.contains(&sale.name)),
            "{first:?}"
        );
        // The merchant's own ERP: no wholesale total from the sale order.
        assert_eq!(first.wholesale_total, None);

        // A retry after a crash: the same sale order, nothing new.
        let again = submit(&p, &opts, &order).await.expect("submits again");
        assert_eq!(again.supplier_reference, first.supplier_reference);
        assert_eq!(odoo.sale_orders_created("key-1"), 1);
        assert_eq!(odoo.sale_orders().len(), 1);

        // Another order by the same customer to the same address reuses
        // her partner and her delivery contact.
        let partners = odoo.partners().len();
        let second = submit(&p, &opts, &sample_order("key-2", &["SKU-3"]))
            .await
            .expect("submits");
        let second = odoo
            .sale_order(sale_order_id(&second.supplier_reference))
            .expect("exists");
        assert_eq!(second.partner["id"], sale.partner["id"]);
        assert_eq!(second.shipping["id"], sale.shipping["id"]);
        assert_eq!(odoo.partners().len(), partners);
    });
}

#[test]
fn a_customer_is_found_by_her_exact_email_and_the_carrier_by_its_name() {
    let odoo = FakeOdoo::start(KEY);
    // `_` is a wildcard for Odoo's `=ilike`: this one must not be taken.
    odoo.add_partner(json!({"name": "Jean X", "email": "jeanXne@example.fr", "type": "contact"}));
    let her = odoo
        .add_partner(json!({"name": "Jeanne", "email": "Jean_Ne@Example.fr", "type": "contact"}));
    block_on(async {
        let p = connector().await;
        let mut order = sample_order("key-email", &["SKU-1"]);
        order.customer_email = Some("jean_ne@example.fr".into());
        order.shipping_method = Some("COLISSIMO".into());
        let s = submit(&p, &options(&odoo, &[]), &order)
            .await
            .expect("submits");
        let sale = odoo
            .sale_order(sale_order_id(&s.supplier_reference))
            .expect("exists");
        assert_eq!(sale.partner["id"], her);
        assert_eq!(
            sale.carrier_id,
            Some(1),
            "Odoo's delivery method of that name"
        );
    });
}

#[test]
fn a_retry_after_a_failed_confirmation_confirms_the_same_sale_order() {
    let odoo = FakeOdoo::start(KEY);
    odoo.fail_next(
        "sale.order.action_confirm",
        Failure::Http {
            status: 503,
            retry_after: Some(12),
        },
    );
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let order = sample_order("key-confirm", &["SKU-1"]);
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(t)) => assert_eq!(t.retry_after_seconds, Some(12)),
            other => panic!("expected transient, got {other:?}"),
        }
        let draft = &odoo.sale_orders()[0];
        assert_eq!(draft.state, "draft");
        let ok = submit(&p, &opts, &order)
            .await
            .expect("the retry goes through");
        assert_eq!(sale_order_id(&ok.supplier_reference), draft.id);
        assert_eq!(odoo.sale_order(draft.id).expect("exists").state, "sale");
        assert_eq!(odoo.sale_orders_created("key-confirm"), 1);
    });
}

#[test]
fn unknown_skus_and_incomplete_addresses_need_attention() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);

        // Incomplete address: caught before any request.
        let mut incomplete = sample_order("key-addr", &["SKU-1"]);
        incomplete.shipping_address.postal_code = "  ".into();
        incomplete.shipping_address.city = String::new();
        match submit(&p, &opts, &incomplete).await {
            Err(OrderError::NeedsAttention(issues)) => {
                let fields: Vec<(&str, &str)> = issues
                    .iter()
                    .map(|i| (i.field.as_str(), i.code.as_str()))
                    .collect();
                assert_eq!(
                    fields,
                    [
                        ("shipping-address.postal-code", "missing"),
                        ("shipping-address.city", "missing")
                    ]
                );
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
        assert!(odoo.calls().is_empty(), "{:?}", odoo.calls());

        // Unknown SKU and unknown country: Odoo says so, the plugin names
        // the fields, and nothing is written.
        let mut unknown = sample_order("key-sku", &["SKU-1", "NOPE-42"]);
        unknown.shipping_address.country_code = "ZZ".into();
        match submit(&p, &opts, &unknown).await {
            Err(OrderError::NeedsAttention(issues)) => {
                assert!(
                    issues
                        .iter()
                        .any(|i| i.field == "lines[1].sku" && i.code == "unknown-sku"),
                    "{issues:?}"
                );
                assert!(
                    issues
                        .iter()
                        .any(|i| i.field == "shipping-address.country-code" && i.code == "invalid"),
                    "{issues:?}"
                );
                assert!(!issues.iter().any(|i| i.field == "lines[0].sku"));
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
        assert!(odoo.sale_orders().is_empty());
        assert!(
            !odoo.calls().iter().any(|c| c.ends_with(".create")),
            "{:?}",
            odoo.calls()
        );
        match p
            .check_order(runtime(), &opts, &unknown)
            .await
            .expect("runs")
        {
            Err(OrderError::NeedsAttention(_)) => {}
            other => panic!("expected needs-attention, got {other:?}"),
        }

        // Odoo's own validation of the address, as a user error.
        odoo.fail_next(
            "res.partner.create",
            Failure::Fault {
                code: 2,
                message: "The postal code 75011 is not valid for this street.".into(),
            },
        );
        match submit(&p, &opts, &sample_order("key-zip", &["SKU-1"])).await {
            Err(OrderError::NeedsAttention(issues)) => {
                assert_eq!(issues[0].field, "shipping-address");
                assert!(issues[0].message.contains("not valid"), "{issues:?}");
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
        assert!(odoo.sale_orders().is_empty());
    });
}

#[test]
fn refused_credentials_are_configuration_errors() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let order = sample_order("key-cred", &["SKU-1"]);
        for (setting, value) in [("api-key", "wrong"), ("username", "nobody@example.com")] {
            let opts = options(&odoo, &[(setting, value)]);
            match submit(&p, &opts, &order).await {
                Err(OrderError::Configuration(message)) => {
                    assert!(message.contains("refused the login"), "{message}")
                }
                other => panic!("{setting}: expected configuration, got {other:?}"),
            }
        }
        let opts = options(&odoo, &[("database", "nope")]);
        match submit(&p, &opts, &order).await {
            Err(OrderError::Configuration(message)) => {
                assert!(message.contains("does not exist"), "{message}")
            }
            other => panic!("expected configuration, got {other:?}"),
        }
        // A key revoked between two calls: Odoo's "Access Denied" fault.
        odoo.fail_next(
            "sale.order.search_read",
            Failure::Fault {
                code: 3,
                message: "Access Denied".into(),
            },
        );
        match submit(&p, &options(&odoo, &[]), &order).await {
            Err(OrderError::Configuration(message)) => {
                assert!(message.contains("Access Denied"), "{message}")
            }
            other => panic!("expected configuration, got {other:?}"),
        }
        // A URL that is no Odoo server.
        let opts = options(&odoo, &[("url", &format!("{}/nothing-here", odoo.url()))]);
        match submit(&p, &opts, &order).await {
            Err(OrderError::Configuration(message)) => {
                assert!(message.contains("404"), "{message}")
            }
            other => panic!("expected configuration, got {other:?}"),
        }
        assert!(odoo.sale_orders().is_empty());
    });
}

#[test]
fn outages_and_database_conflicts_are_transient() {
    let odoo = FakeOdoo::start(KEY);
    odoo.fail_next(
        "authenticate",
        Failure::Http {
            status: 503,
            retry_after: Some(30),
        },
    );
    odoo.fail_next(
        "*",
        Failure::Http {
            status: 429,
            retry_after: Some(5),
        },
    );
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let order = sample_order("key-outage", &["SKU-1"]);
        for expected in [30, 5] {
            match submit(&p, &opts, &order).await {
                Err(OrderError::Transient(t)) => {
                    assert_eq!(t.retry_after_seconds, Some(expected), "{t:?}")
                }
                other => panic!("expected transient, got {other:?}"),
            }
        }
        // A serialization failure in Odoo's database: try again later.
        odoo.fail_next(
            "sale.order.create",
            Failure::Fault {
                code: 1,
                message: "Traceback (most recent call last):\n  File \"odoo/sql_db.py\"\n\
                          psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n"
                    .into(),
            },
        );
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(t)) => {
                assert!(t.message.contains("SerializationFailure"), "{t:?}")
            }
            other => panic!("expected transient, got {other:?}"),
        }
        assert!(odoo.sale_orders().is_empty());
        // Any other traceback is the order's refusal, for good.
        odoo.fail_next(
            "sale.order.create",
            Failure::Fault {
                code: 1,
                message: "Traceback (most recent call last):\nKeyError: 'route_id'\n".into(),
            },
        );
        match submit(&p, &opts, &order).await {
            Err(OrderError::Rejected(message)) => {
                assert!(message.contains("KeyError"), "{message}")
            }
            other => panic!("expected rejected, got {other:?}"),
        }
        let ok = submit(&p, &opts, &order)
            .await
            .expect("goes through at last");
        assert_eq!(odoo.sale_orders_created("key-outage"), 1);
        assert_eq!(
            odoo.sale_orders()[0].id,
            sale_order_id(&ok.supplier_reference)
        );
    });
}

#[test]
fn a_sale_order_created_while_the_answer_timed_out_is_found_on_retry() {
    let odoo = FakeOdoo::start(KEY);
    // Odoo creates the sale order, but answers too late.
    odoo.fail_next("sale.order.create", Failure::Late(Duration::from_secs(3)));
    block_on(async {
        let p = connector().await;
        let mut opts = options(&odoo, &[]);
        opts.limits.http.request_timeout = Duration::from_millis(500);
        let order = sample_order("key-late", &["SKU-1"]);
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(t)) => assert!(t.message.contains("timed out"), "{t:?}"),
            other => panic!("expected transient, got {other:?}"),
        }
        assert_eq!(odoo.sale_orders_created("key-late"), 1);
        let ok = submit(&p, &opts, &order)
            .await
            .expect("the retry goes through");
        let sale = odoo
            .sale_order(sale_order_id(&ok.supplier_reference))
            .expect("exists");
        assert_eq!(sale.client_order_ref, "key-late");
        assert_eq!(sale.state, "sale", "the retry confirmed it");
        assert_eq!(odoo.sale_orders_created("key-late"), 1, "never twice");
    });
}

#[test]
fn a_confirmation_odoo_refuses_is_rejected_and_the_quotation_stays() {
    let odoo = FakeOdoo::start(KEY);
    odoo.fail_next(
        "sale.order.action_confirm",
        Failure::Fault {
            code: 2,
            message: "No route is configured for the product SKU-1.".into(),
        },
    );
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        match submit(&p, &opts, &sample_order("key-route", &["SKU-1"])).await {
            Err(OrderError::Rejected(message)) => {
                assert!(message.contains("No route"), "{message}")
            }
            other => panic!("expected rejected, got {other:?}"),
        }
        assert_eq!(odoo.sale_orders()[0].state, "draft");
    });
}

#[test]
fn status_is_polled_in_one_batch_with_tracking_and_cancellation_goes_through() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let mut refs = Vec::new();
        for (key, skus) in [
            ("k-a", &["SKU-1"][..]),
            ("k-b", &["SKU-1"]),
            ("k-c", &["SKU-1"]),
            ("k-d", &["SKU-1"]),
            ("k-e", &["SKU-1", "SKU-2", "SKU-3"]),
        ] {
            let s = submit(&p, &opts, &sample_order(key, skus))
                .await
                .expect("submits");
            refs.push(s.supplier_reference);
        }
        let [a, b, c, d, e] = [&refs[0], &refs[1], &refs[2], &refs[3], &refs[4]];
        odoo.ship(sale_order_id(a), "Colissimo", "6A12345678901");
        odoo.ship_partially(sale_order_id(e), "DHL", "JD0001", &["SKU-3", "SKU-1"]);
        odoo.set_delivery_state(sale_order_id(b), "confirmed");
        // A purchase brings SKU-1 on 2 March: that is when b can ship.
        odoo.add_receipt("SKU-1", 10.0, "2026-03-02 10:00:00");
        p.cancel_order(runtime(), &opts, c, Some("customer changed their mind"))
            .await
            .expect("runs")
            .expect("cancels");
        let cancelled = odoo.sale_order(sale_order_id(c)).expect("exists");
        assert_eq!(cancelled.state, "cancel");
        assert!(
            cancelled
                .messages
                .iter()
                .any(|m| m.contains("customer changed their mind")),
            "{:?}",
            cancelled.messages
        );

        let before = odoo.calls().len();
        let mut asked = refs.clone();
        asked.extend(["999999".to_owned(), "not-an-id".to_owned(), a.clone()]);
        let updates = p
            .poll_status(runtime(), &opts, &asked)
            .await
            .expect("runs")
            .expect("polls");
        assert_eq!(
            odoo.calls()[before..],
            [
                "authenticate",
                "sale.order.search_read",
                // Whether the Delivery app's carrier fields exist.
                "stock.picking.fields_get",
                "stock.picking.search_read",
                // What left in each parcel, and what b waits for.
                "stock.move.search_read",
                "product.product.search_read",
                // When that comes.
                "stock.move.search_read",
            ],
            "one batch, not one call per order"
        );
        assert_eq!(
            updates.len(),
            5,
            "unknown references are left out, repeated ones answered once: {updates:?}"
        );
        let update = |r: &str| {
            updates
                .iter()
                .find(|u| u.supplier_reference == r)
                .expect("an update")
        };
        match &update(a).state {
            OrderState::Shipped(parcels) => {
                assert_eq!(parcels.len(), 1);
                assert_eq!(parcels[0].carrier.as_deref(), Some("Colissimo"));
                assert_eq!(parcels[0].tracking_numbers, ["6A12345678901"]);
                assert_eq!(
                    parcels[0].tracking_url.as_deref(),
                    Some("https://tracking.example/6A12345678901")
                );
                assert_eq!(parcels[0].skus, ["SKU-1"], "a full shipment keeps its SKUs");
            }
            other => panic!("expected shipped, got {other:?}"),
        }
        assert_eq!(
            update(a).changed_at.as_deref(),
            Some("2026-01-12T09:30:00Z")
        );
        assert_eq!(
            update(b).state,
            OrderState::Backordered(Some("2026-03-02".into())),
            "the receipt's date, not the waiting delivery's"
        );
        assert_eq!(update(c).state, OrderState::Cancelled(None));
        assert_eq!(update(d).state, OrderState::Processing);
        match &update(e).state {
            OrderState::PartlyShipped(parcels) => {
                assert_eq!(parcels.len(), 1);
                assert_eq!(parcels[0].carrier.as_deref(), Some("DHL"));
                assert_eq!(parcels[0].tracking_numbers, ["JD0001"]);
                assert_eq!(
                    parcels[0].skus,
                    ["SKU-1", "SKU-3"],
                    "in the order of its moves"
                );
            }
            other => panic!("expected partly shipped, got {other:?}"),
        }

        // Cancelling again is fine; a shipped order or an unknown one cannot be.
        p.cancel_order(runtime(), &opts, c, None)
            .await
            .expect("runs")
            .expect("already cancelled");
        match p
            .cancel_order(runtime(), &opts, a, None)
            .await
            .expect("runs")
        {
            Err(OrderError::Rejected(message)) => assert!(message.contains("shipped"), "{message}"),
            other => panic!("expected rejected, got {other:?}"),
        }
        assert_eq!(
            odoo.sale_order(sale_order_id(a)).expect("exists").state,
            "sale"
        );
        match p
            .cancel_order(runtime(), &opts, "999999", None)
            .await
            .expect("runs")
        {
            Err(OrderError::Rejected(message)) => {
                assert!(message.contains("no sale order"), "{message}")
            }
            other => panic!("expected rejected, got {other:?}"),
        }
    });
}

#[test]
fn as_a_suppliers_erp_orders_go_to_the_shops_partner_at_pricelist_prices() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(
            &odoo,
            &[
                ("partner-id", "1"),
                ("line-prices", "pricelist"),
                ("pricelist-id", "1"),
            ],
        );
        let s = submit(
            &p,
            &opts,
            &sample_order("key-supplier", &["SKU-1", "SKU-2"]),
        )
        .await
        .expect("submits");
        let sale = odoo
            .sale_order(sale_order_id(&s.supplier_reference))
            .expect("exists");
        assert_eq!(sale.partner["id"], 1);
        assert_eq!(sale.shipping["parent_id"], 1);
        assert_eq!(sale.pricelist_id, Some(1));
        assert!(sale.lines.iter().all(|l| l.price_unit == 10.0), "{sale:?}");
        assert_eq!(
            s.wholesale_total,
            Some(Money {
                amount_minor: 4000,
                currency: "EUR".into()
            })
        );
        // No customer was looked up or created.
        assert!(
            !odoo
                .partners()
                .iter()
                .any(|p| p.get("email").is_some_and(|e| e == "jeanne@example.fr")
                    && p.get("parent_id").is_none()),
        );
    });
}

fn products(records: &[FeedRecord]) -> Vec<&Product> {
    records
        .iter()
        .filter_map(|r| match r {
            FeedRecord::Product(p) => Some(p),
            FeedRecord::Rejected(_) => None,
        })
        .collect()
}

#[test]
fn the_catalog_reads_products_and_stock_page_by_page() {
    let odoo = FakeOdoo::start(KEY);
    odoo.add_product(json!({
        "default_code": "TEA-20", "name": "Teapot", "barcode": "3760123456789",
        "description_sale": "Cast iron, 1 litre.", "list_price": 20.0, "standard_price": 8.5,
        "qty_available": 7.0, "weight": 1.25, "taxes_id": [1], "sale_delay": 2,
    }));
    odoo.add_product(json!({
        "default_code": "TS-M", "name": "T-shirt", "list_price": 12.0,
        "qty_available": 0.0, "product_template_attribute_value_ids": [1],
    }));
    odoo.add_product(json!({
        "default_code": "WRAP", "name": "Gift wrapping", "list_price": 3.0, "type": "service",
    }));
    odoo.add_product(json!({"default_code": false, "name": "Mystery box", "list_price": 5.0}));
    odoo.add_product(json!({"default_code": "INTERNAL", "name": "Pallet", "sale_ok": false}));
    odoo.add_product(json!({"default_code": "OLD", "name": "Old teapot", "active": false}));
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[("page-size", "2")]);

        // A host that pushes one empty chunk per page until none comes back.
        let mut session = p
            .open_feed(runtime(), &opts, None)
            .await
            .expect("runs")
            .expect("opens");
        let mut paged = Vec::new();
        let mut pushes = 0;
        loop {
            let page = session
                .push(b"")
                .await
                .expect("runs")
                .expect("reads a page");
            pushes += 1;
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 2, "{page:?}");
            paged.extend(page);
        }
        assert!(
            session
                .finish()
                .await
                .expect("runs")
                .expect("finishes")
                .is_empty(),
            "every page was read"
        );
        // 3 seeded + TEA-20, TS-M, WRAP, the box without a reference: 7
        // records in 4 pages (the last one short).
        assert_eq!(paged.len(), 7, "{paged:?}");
        assert_eq!(pushes, 5);
        assert!(session.memory_peak() < 8 << 20, "{}", session.memory_peak());

        // A host that pushes nothing gets the same catalog from `finish`.
        let mut session = p
            .open_feed(runtime(), &opts, None)
            .await
            .expect("runs")
            .expect("opens");
        let finished = session.finish().await.expect("runs").expect("finishes");
        assert_eq!(finished, paged);

        let all = products(&paged);
        let skus: Vec<&str> = all.iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus, ["SKU-1", "SKU-2", "SKU-3", "TEA-20", "TS-M", "WRAP"]);
        let eur = |minor| {
            Some(Money {
                amount_minor: minor,
                currency: "EUR".into(),
            })
        };
        let tea = all[3];
        assert_eq!(tea.name, "Teapot");
        assert_eq!(tea.gtin.as_deref(), Some("3760123456789"));
        assert_eq!(tea.description.as_deref(), Some("Cast iron, 1 litre."));
        assert_eq!(tea.category_path, ["All", "Saleable"]);
        assert_eq!(tea.wholesale_price, eur(850));
        assert_eq!(tea.retail_price, eur(2400), "20.00 + 20 % VAT");
        assert_eq!(tea.vat_rate_basis_points, Some(2000));
        assert_eq!(tea.stock_quantity, Some(7));
        assert_eq!(tea.availability, Availability::InStock);
        assert_eq!(tea.weight_grams, Some(1250));
        assert_eq!(tea.lead_time_days, Some(2));
        let shirt = all[4];
        assert_eq!(shirt.availability, Availability::OutOfStock);
        assert!(
            shirt
                .group_id
                .as_deref()
                .is_some_and(|g| g.starts_with("template-")),
            "{shirt:?}"
        );
        assert_eq!(shirt.attributes.len(), 1);
        assert_eq!(
            (
                shirt.attributes[0].name.as_str(),
                shirt.attributes[0].value.as_str()
            ),
            ("size", "M")
        );
        let wrap = all[5];
        assert_eq!(wrap.availability, Availability::InStock);
        assert_eq!(wrap.stock_quantity, None);
        let seeded = all[0];
        assert_eq!(seeded.retail_price, eur(1000));
        assert_eq!(seeded.wholesale_price, eur(400));
        assert_eq!(seeded.stock_quantity, Some(25));

        let rejected: Vec<_> = paged
            .iter()
            .filter_map(|r| match r {
                FeedRecord::Rejected(r) => Some(r),
                FeedRecord::Product(_) => None,
            })
            .collect();
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].reason.contains("default_code"), "{rejected:?}");
    });
}

#[test]
fn the_hosts_feed_driver_reads_the_whole_catalog_from_an_empty_file() {
    let odoo = FakeOdoo::start(KEY);
    for i in 0..30 {
        odoo.add_product(json!({
            "default_code": format!("BULK-{i:03}"), "name": format!("Bulk {i}"),
            "list_price": 2.5, "qty_available": f64::from(i),
        }));
    }
    block_on(async {
        let p = connector().await;
        // What `shopbridge feed parse … /dev/null` does: no push, one finish.
        let mut records = Vec::new();
        let summary = shopbridge::feed::parse_feed(
            runtime(),
            &p,
            &options(&odoo, &[("page-size", "7")]),
            &shopbridge::feed::FeedSource::parse("/dev/null"),
            64 * 1024,
            |r| records.push(r.clone()),
            |_, _| {},
        )
        .await
        .expect("parses");
        assert_eq!(summary.products, 33, "{summary:?}");
        assert_eq!(summary.rejected, 0);
        assert_eq!(
            products(&records).last().map(|p| p.sku.as_str()),
            Some("BULK-029")
        );
        let pages = odoo
            .calls()
            .iter()
            .filter(|c| *c == "product.product.search_read")
            .count();
        assert_eq!(pages, 5, "33 products in pages of 7");
    });
}

#[test]
fn without_the_right_to_read_taxes_the_catalog_comes_without_vat() {
    let odoo = FakeOdoo::start(KEY);
    for sku in ["TEA-20", "TEA-21", "TEA-22"] {
        odoo.add_product(json!({
            "default_code": sku, "name": "Teapot", "list_price": 20.0, "taxes_id": [1],
        }));
    }
    odoo.fail_next(
        "account.tax.search_read",
        Failure::Fault {
            code: 4,
            message: "You are not allowed to access 'Tax' (account.tax) records.".into(),
        },
    );
    block_on(async {
        let p = connector().await;
        let mut session = p
            .open_feed(runtime(), &options(&odoo, &[("page-size", "4")]), None)
            .await
            .expect("runs")
            .expect("opens");
        let records = session.finish().await.expect("runs").expect("reads");
        let teapots: Vec<_> = products(&records)
            .into_iter()
            .filter(|p| p.sku.starts_with("TEA-"))
            .collect();
        assert_eq!(teapots.len(), 3);
        for tea in teapots {
            assert_eq!(tea.vat_rate_basis_points, None);
            assert_eq!(
                tea.retail_price,
                Some(Money {
                    amount_minor: 2000,
                    currency: "EUR".into()
                })
            );
        }
        let asked = odoo
            .calls()
            .iter()
            .filter(|c| *c == "account.tax.search_read")
            .count();
        assert_eq!(asked, 1, "refused once, not asked again");
    });
}

#[test]
fn a_catalog_that_cannot_be_read_says_why() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let bad = options(&odoo, &[("api-key", "wrong")]);
        let mut session = p
            .open_feed(runtime(), &bad, None)
            .await
            .expect("runs")
            .expect("opens without a request");
        match session.finish().await.expect("runs") {
            Err(e) => assert!(format!("{e:?}").contains("Configuration"), "{e:?}"),
            Ok(records) => panic!("expected a configuration error, got {records:?}"),
        }
        let missing = options(&odoo, &[("page-size", "0")]);
        match p.open_feed(runtime(), &missing, None).await.expect("runs") {
            Err(e) => assert!(format!("{e:?}").contains("page-size"), "{e:?}"),
            Ok(_) => panic!("a page size of 0 was accepted"),
        }
        odoo.fail_next(
            "product.product.search_read",
            Failure::Http {
                status: 502,
                retry_after: None,
            },
        );
        let mut session = p
            .open_feed(runtime(), &options(&odoo, &[]), None)
            .await
            .expect("runs")
            .expect("opens");
        match session.push(b"").await.expect("runs") {
            Err(e) => assert!(format!("{e:?}").contains("try again"), "{e:?}"),
            Ok(records) => panic!("expected an error, got {records:?}"),
        }
    });
}

/// Every edition the connector must work with: Odoo 17 and 18, with and
/// without the Delivery app.
const EDITIONS: [Edition; 4] = [
    Edition {
        version: 18,
        delivery: true,
    },
    Edition {
        version: 18,
        delivery: false,
    },
    Edition {
        version: 17,
        delivery: true,
    },
    Edition {
        version: 17,
        delivery: false,
    },
];

#[test]
fn without_the_delivery_app_orders_go_through_and_parcels_come_without_tracking() {
    for edition in EDITIONS {
        let odoo = FakeOdoo::start_as(KEY, edition);
        block_on(async {
            let p = connector().await;
            let opts = options(&odoo, &[]);
            let mut order = sample_order("key-ship", &["SKU-1", "SKU-2"]);
            order.shipping_method = Some("Colissimo".into());
            let s = submit(&p, &opts, &order)
                .await
                .unwrap_or_else(|e| panic!("{edition:?}: {e:?}"));
            let id = sale_order_id(&s.supplier_reference);
            let sale = odoo.sale_order(id).expect("exists");
            assert_eq!(sale.state, "sale", "{edition:?}");
            if edition.delivery {
                assert_eq!(sale.carrier_id, Some(1), "{edition:?}");
                assert!(
                    !odoo.calls().iter().any(|c| c == "sale.order.message_post"),
                    "{edition:?}: the carrier says it all"
                );
            } else {
                assert_eq!(sale.carrier_id, None);
                assert!(
                    !odoo
                        .calls()
                        .iter()
                        .any(|c| c.starts_with("delivery.carrier")),
                    "{edition:?}: {:?}",
                    odoo.calls()
                );
                assert!(
                    sale.messages.iter().any(|m| m.contains("Colissimo")),
                    "{edition:?}: the shipping method as a note: {:?}",
                    sale.messages
                );
            }

            odoo.ship_partially(id, "Colissimo", "6A1", &["SKU-2"]);
            let poll = async || {
                p.poll_status(
                    runtime(),
                    &opts,
                    std::slice::from_ref(&s.supplier_reference),
                )
                .await
                .expect("runs")
                .unwrap_or_else(|e| panic!("{edition:?}: {e:?}"))
            };
            let polled = poll().await;
            match &polled[0].state {
                OrderState::PartlyShipped(parcels) => {
                    assert_eq!(parcels.len(), 1, "{edition:?}");
                    assert_eq!(parcels[0].skus, ["SKU-2"], "{edition:?}");
                    if edition.delivery {
                        assert_eq!(parcels[0].tracking_numbers, ["6A1"]);
                    } else {
                        assert_eq!(parcels[0].carrier, None);
                        assert!(parcels[0].tracking_numbers.is_empty());
                        assert_eq!(parcels[0].tracking_url, None);
                    }
                }
                other => panic!("{edition:?}: expected partly shipped, got {other:?}"),
            }
            odoo.ship(id, "Colissimo", "6A2");
            let polled = poll().await;
            match &polled[0].state {
                OrderState::Shipped(parcels) => {
                    let skus: Vec<&[String]> = parcels.iter().map(|p| &p.skus[..]).collect();
                    assert_eq!(skus, [&["SKU-2".to_owned()][..], &["SKU-1".to_owned()]]);
                }
                other => panic!("{edition:?}: expected shipped, got {other:?}"),
            }
        });
    }
}

#[test]
fn deliveries_wait_for_stock_and_services_need_none() {
    for edition in EDITIONS {
        let odoo = FakeOdoo::start_as(KEY, edition);
        odoo.add_product(json!({"default_code": "RARE", "name": "Rare", "qty_available": 0.0}));
        odoo.add_product(
            json!({"default_code": "SETUP", "name": "Setup", "type": "service", "list_price": 30.0}),
        );
        block_on(async {
            let p = connector().await;
            let opts = options(&odoo, &[]);
            let short = submit(&p, &opts, &sample_order("key-short", &["RARE"]))
                .await
                .expect("submits");
            let service = submit(&p, &opts, &sample_order("key-service", &["SETUP"]))
                .await
                .expect("submits");
            let refs = [short.supplier_reference, service.supplier_reference];
            let polled = p
                .poll_status(runtime(), &opts, &refs)
                .await
                .expect("runs")
                .expect("polls");
            let state = |r: &str| {
                polled
                    .iter()
                    .find(|u| u.supplier_reference == r)
                    .map(|u| u.state.clone())
            };
            assert_eq!(
                state(&refs[0]),
                Some(OrderState::Backordered(None)),
                "{edition:?}: no stock to reserve, and no receipt coming: {polled:?}"
            );
            assert_eq!(
                state(&refs[1]),
                Some(OrderState::Accepted),
                "{edition:?}: a services-only order has no delivery"
            );
        });
    }
}

#[test]
fn only_stock_tracked_goods_can_be_out_of_stock_in_odoo_17_and_18() {
    for edition in EDITIONS {
        let odoo = FakeOdoo::start_as(KEY, edition);
        odoo.add_product(
            json!({"default_code": "TRACKED", "name": "Tracked", "qty_available": 0.0}),
        );
        odoo.add_product(json!({
            "default_code": "MUG", "name": "Mug", "is_storable": false, "qty_available": 0.0,
        }));
        odoo.add_product(json!({"default_code": "WRAP", "name": "Wrap", "type": "service"}));
        block_on(async {
            let p = connector().await;
            let mut session = p
                .open_feed(runtime(), &options(&odoo, &[]), None)
                .await
                .expect("runs")
                .expect("opens");
            let records = session.finish().await.expect("runs").expect("finishes");
            let all = products(&records);
            let availability = |sku: &str| {
                all.iter()
                    .find(|p| p.sku == sku)
                    .map(|p| (p.availability.clone(), p.stock_quantity))
            };
            assert_eq!(
                availability("TRACKED"),
                Some((Availability::OutOfStock, Some(0))),
                "{edition:?}"
            );
            assert_eq!(
                availability("MUG"),
                Some((Availability::InStock, None)),
                "{edition:?}: an untracked consumable sells without stock"
            );
            assert_eq!(
                availability("WRAP"),
                Some((Availability::InStock, None)),
                "{edition:?}"
            );
            assert_eq!(
                odoo.calls().iter().filter(|c| *c == "version").count(),
                1,
                "{edition:?}: the version is asked once"
            );
        });
    }
}

/// What the customer paid for the whole order, in cents.
fn paid_cents(order: &Order) -> i64 {
    order
        .lines
        .iter()
        .map(|l| l.unit_price.amount_minor * i64::from(l.quantity))
        .sum()
}

#[test]
fn the_sale_order_totals_what_was_paid_whether_taxes_include_vat_or_not() {
    // Odoo 18, and Odoo 17 on a binding that names its company.
    for (edition, company) in [(EDITIONS[0], None), (EDITIONS[2], Some("1"))] {
        let odoo = FakeOdoo::start_as(KEY, edition);
        // Tax 1 is the seeded 20 % excluded from prices, as a fresh
        // company's sales tax is; the books' 5.5 % is included.
        odoo.add_tax("20% TTC", 20.0, true);
        let books = odoo.add_tax("5.5% TTC", 5.5, true);
        odoo.add_product(json!({
            "default_code": "MUG", "name": "Mug", "list_price": 7.67, "taxes_id": [1],
            "qty_available": 50.0,
        }));
        odoo.add_product(json!({
            "default_code": "BOOK", "name": "Book", "list_price": 19.99, "taxes_id": [books],
            "qty_available": 50.0,
        }));
        block_on(async {
            let p = connector().await;
            let opts = match company {
                Some(company) => options(&odoo, &[("company-id", company)]),
                None => options(&odoo, &[]),
            };
            let mut order = sample_order("key-vat", &["MUG", "BOOK", "SKU-1"]);
            order.lines[0].unit_price.amount_minor = 920;
            order.lines[0].quantity = 3;
            order.lines[1].unit_price.amount_minor = 1999;
            order.lines[1].quantity = 1;
            order.lines[2].unit_price.amount_minor = 3100;
            order.lines[2].quantity = 1;
            let s = submit(&p, &opts, &order).await.expect("submits");
            let sale = odoo
                .sale_order(sale_order_id(&s.supplier_reference))
                .expect("exists");
            assert_eq!(
                (sale.amount_total * 100.0).round() as i64,
                paid_cents(&order),
                "{edition:?}: Odoo's total is what was paid: {sale:?}"
            );
            // The mug's VAT is taken out of its price, not added to it.
            assert!(sale.amount_untaxed < sale.amount_total, "{sale:?}");
            assert_eq!(sale.lines[0].price_unit, 9.2);
        });
    }
}

#[test]
fn without_a_price_included_twin_of_an_excluded_tax_nothing_is_written() {
    let odoo = FakeOdoo::start(KEY);
    odoo.add_product(json!({
        "default_code": "MUG", "name": "Mug", "list_price": 7.67, "taxes_id": [1],
        "qty_available": 50.0,
    }));
    let partners = odoo.partners().len();
    block_on(async {
        let p = connector().await;
        match submit(
            &p,
            &options(&odoo, &[]),
            &sample_order("key-notwin", &["MUG"]),
        )
        .await
        {
            Err(OrderError::Configuration(message)) => {
                assert!(message.contains("20%"), "{message}")
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
    });
    assert!(odoo.sale_orders().is_empty());
    assert_eq!(odoo.partners().len(), partners, "no contact was created");
}

#[test]
fn a_currency_odoo_does_not_price_in_is_refused_before_anything_is_written() {
    let odoo = FakeOdoo::start(KEY);
    // A fresh company: USD, and its pricelist with it.
    odoo.set_company_currency("USD");
    let partners = odoo.partners().len();
    block_on(async {
        let p = connector().await;
        let order = sample_order("key-eur", &["SKU-1"]);
        for opts in [
            options(&odoo, &[]),
            options(&odoo, &[("pricelist-id", "1")]),
        ] {
            match submit(&p, &opts, &order).await {
                Err(OrderError::Configuration(message)) => {
                    assert!(
                        message.contains("EUR") && message.contains("USD"),
                        "{message}"
                    )
                }
                other => panic!("expected a configuration error, got {other:?}"),
            }
            match p.check_order(runtime(), &opts, &order).await.expect("runs") {
                Err(OrderError::Configuration(_)) => {}
                other => panic!("expected a configuration error, got {other:?}"),
            }
        }
        assert!(odoo.sale_orders().is_empty());
        assert_eq!(odoo.partners().len(), partners, "no contact was created");
        assert!(
            !odoo.calls().iter().any(|c| c.ends_with(".create")),
            "{:?}",
            odoo.calls()
        );

        // A pricelist in euros: the sale order is in euros.
        let euros = odoo.add_pricelist("Euro", "EUR");
        let s = submit(&p, &options(&odoo, &[]), &order)
            .await
            .expect("submits");
        let sale = odoo
            .sale_order(sale_order_id(&s.supplier_reference))
            .expect("exists");
        assert_eq!(sale.currency, "EUR");
        assert_eq!(sale.pricelist_id, Some(euros));
        assert_eq!(
            (sale.amount_total * 100.0).round() as i64,
            paid_cents(&order)
        );
    });
}

#[test]
fn a_posted_invoice_reaches_the_status_with_a_link_the_customer_can_open() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let s = submit(&p, &opts, &sample_order("key-invoice", &["SKU-1"]))
            .await
            .expect("submits");
        let id = sale_order_id(&s.supplier_reference);
        odoo.ship(id, "Colissimo", "6A3");
        let refs = [s.supplier_reference.clone()];
        let poll = || async {
            p.poll_status(runtime(), &opts, &refs)
                .await
                .expect("runs")
                .expect("polls")
                .remove(0)
        };

        // A draft invoice is not the customer's yet.
        let invoice = odoo.invoice(id, false);
        let update = poll().await;
        assert_eq!(update.invoice_url, None, "{update:?}");

        odoo.post_invoice(invoice);
        let update = poll().await;
        assert!(matches!(update.state, OrderState::Shipped(_)), "{update:?}");
        let url = update.invoice_url.expect("the invoice's link");
        let portal = format!("{}/my/invoices/{invoice}?access_token=", odoo.url());
        assert!(url.starts_with(&portal), "{url}");
        assert!(url.ends_with("&report_type=pdf&download=true"), "{url}");
        assert!(url.len() > portal.len() + 30, "a token: {url}");
        assert!(
            update
                .message
                .as_deref()
                .is_some_and(|m| m.contains("INV/2026/00001")),
            "{:?}",
            update.message
        );
        let made = |calls: Vec<String>| {
            calls
                .iter()
                .filter(|c| *c == "account.move.get_portal_url")
                .count()
        };
        assert_eq!(made(odoo.calls()), 1);

        // The token stays: the same link, without asking for it again.
        let again = poll().await;
        assert_eq!(again.invoice_url.as_deref(), Some(url.as_str()));
        assert_eq!(made(odoo.calls()), 1, "the token is read, not made again");
    });
}

#[test]
fn a_locked_sale_order_cannot_be_cancelled_and_its_status_is_still_read() {
    let odoo = FakeOdoo::start(KEY);
    block_on(async {
        let p = connector().await;
        let opts = options(&odoo, &[]);
        let s = submit(&p, &opts, &sample_order("key-locked", &["SKU-1"]))
            .await
            .expect("submits");
        let id = sale_order_id(&s.supplier_reference);
        odoo.lock_order(id);
        match p
            .cancel_order(runtime(), &opts, &s.supplier_reference, None)
            .await
            .expect("runs")
        {
            Err(OrderError::Rejected(message)) => {
                assert!(message.contains("locked"), "{message}")
            }
            other => panic!("expected rejected, got {other:?}"),
        }
        let sale = odoo.sale_order(id).expect("exists");
        assert_eq!(sale.state, "sale", "a locked order stays a sale order");
        let update = p
            .poll_status(
                runtime(),
                &opts,
                std::slice::from_ref(&s.supplier_reference),
            )
            .await
            .expect("runs")
            .expect("polls");
        assert_eq!(update[0].state, OrderState::Processing);
    });
}

//! The `printful` plugin through the plugin ABI, in the sandbox, against a
//! Printful-like v2 API on loopback: drafts then confirmations, exactly
//! once per key, refusals as field issues, rate limits, status with
//! shipments and invoices, cancellation by status.

use std::time::Duration;

use shopbridge::plugins::{CallOptions, Plugin};
use shopbridge::runtime::bindings::shopbridge::connector::types::{
    Money, Order, OrderError, OrderState, Shipment, StatusUpdate, Submission,
};
use shopbridge::runtime::{HostPattern, HttpLimits, Limits, NetworkPolicy, Settings};
use shopbridge_tests::fakes::printful::{Endpoint, Failure, FakePrintful, SHIPPING_CENTS, base64};
use shopbridge_tests::{block_on, components, plugin, runtime, sample_order};

const TOKEN: &str = "pf-private-token";
/// Sync variants the fake's store sells (see `SYNC_VARIANTS`).
const TEE_M: &str = "3001001";
const POSTER: &str = "3001003";

fn options(printful: &FakePrintful, extra: &[(&str, &str)]) -> CallOptions {
    let mut settings = vec![
        ("api-base-url".to_owned(), printful.base_url()),
        ("api-key".to_owned(), TOKEN.to_owned()),
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
    plugin(components::PRINTFUL).await
}

async fn submit(p: &Plugin, opts: &CallOptions, order: &Order) -> Result<Submission, OrderError> {
    p.submit_order(runtime(), opts, order).await.expect("runs")
}

async fn cancel(p: &Plugin, opts: &CallOptions, reference: &str) -> Result<(), OrderError> {
    p.cancel_order(
        runtime(),
        opts,
        reference,
        Some("the customer changed their mind"),
    )
    .await
    .expect("runs")
}

async fn poll(p: &Plugin, opts: &CallOptions, references: &[&str]) -> Vec<StatusUpdate> {
    let references: Vec<String> = references.iter().map(|r| (*r).to_owned()).collect();
    p.poll_status(runtime(), opts, &references)
        .await
        .expect("runs")
        .expect("polls")
}

fn issues(result: Result<Submission, OrderError>) -> Vec<(String, String)> {
    match result {
        Err(OrderError::NeedsAttention(issues)) => {
            issues.into_iter().map(|i| (i.field, i.code)).collect()
        }
        other => panic!("expected needs-attention, got {other:?}"),
    }
}

fn pair(field: &str, code: &str) -> Vec<(String, String)> {
    vec![(field.to_owned(), code.to_owned())]
}

#[test]
fn an_order_is_one_confirmed_printful_order_even_when_retried() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);
        let order = sample_order("SB-KEY-1", &[TEE_M, POSTER]);
        p.check_order(runtime(), &opts, &order)
            .await
            .expect("runs")
            .expect("checks");
        assert!(printful.requests().is_empty(), "check-order sends nothing");

        let first = submit(&p, &opts, &order).await.expect("submits");
        let placed = printful
            .order(&first.supplier_reference)
            .expect("the reference is the Printful order id");
        assert_eq!(placed.status, "pending", "confirmed");
        assert_eq!(placed.external_id.as_deref(), Some("SB-KEY-1"));
        let r = &placed.recipient;
        assert_eq!(r["name"], "Jeanne Martin");
        assert_eq!(r["address1"], "12 rue des Lilas");
        assert_eq!(r["address2"], "Bâtiment B");
        assert_eq!(r["zip"], "75011");
        assert_eq!(r["city"], "Paris");
        assert_eq!(r["country_code"], "FR");
        assert_eq!(r["email"], "jeanne@example.fr");
        assert_eq!(r["phone"], "+33612345678");
        let items: Vec<_> = placed.items.iter().map(|i| &i.received).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["source"], "sync");
        assert_eq!(items[0]["sync_variant_id"], 3_001_001);
        assert_eq!(items[0]["quantity"], 2);
        assert_eq!(items[0]["retail_price"], "15.99");
        assert_eq!(items[0]["external_id"], TEE_M);
        assert_eq!(items[1]["sync_variant_id"], 3_001_003);
        assert_eq!(
            placed.customization["packing_slip"]["custom_order_id"],
            "shop-SB-KEY-1"
        );
        assert_eq!(placed.retail_costs["currency"], "EUR");
        // Two tees at 12.95, two posters at 14.50, and shipping.
        assert_eq!(
            first.wholesale_total,
            Some(Money {
                amount_minor: 2 * 1295 + 2 * 1450 + SHIPPING_CENTS,
                currency: "EUR".into()
            })
        );

        // A retry after a crash: the same order, nothing new at Printful.
        let second = submit(&p, &opts, &order).await.expect("submits");
        assert_eq!(second.supplier_reference, first.supplier_reference);
        assert!(
            second
                .message
                .as_deref()
                .is_some_and(|m| m.contains("already")),
            "{second:?}"
        );
        assert_eq!(printful.orders_with_external_id("SB-KEY-1"), 1);
        assert_eq!(printful.creations(), 1);
        assert_eq!(printful.confirmations(), 1);
        let requests = printful.requests();
        assert_eq!(
            requests,
            vec![
                "GET /v2/orders/@SB-KEY-1".to_owned(),
                "POST /v2/orders".to_owned(),
                format!("POST /v2/orders/{}/confirmation", first.supplier_reference),
                "GET /v2/orders/@SB-KEY-1".to_owned(),
            ]
        );
    });
}

#[test]
fn a_draft_left_unconfirmed_is_confirmed_by_the_retry_never_created_twice() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);

        // The draft is made, then the confirmation fails.
        let order = sample_order("SB-KEY-2", &[TEE_M]);
        printful.fail_next(Endpoint::Confirm, Failure::Unavailable);
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(_)) => {}
            other => panic!("expected transient, got {other:?}"),
        }
        let drafts = printful.orders();
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].status, "draft");
        let submission = submit(&p, &opts, &order).await.expect("the retry confirms");
        assert_eq!(submission.supplier_reference, drafts[0].id.to_string());
        assert_eq!(printful.orders_with_external_id("SB-KEY-2"), 1);
        assert_eq!(printful.creations(), 1);
        assert_eq!(
            printful
                .order(&submission.supplier_reference)
                .map(|o| o.status),
            Some("pending".to_owned())
        );

        // Printful creates the draft, but its answer is lost.
        let order = sample_order("SB-KEY-3", &[TEE_M]);
        printful.fail_next(Endpoint::CreateOrder, Failure::CarriedOutThenFails);
        assert!(matches!(
            submit(&p, &opts, &order).await,
            Err(OrderError::Transient(_))
        ));
        assert_eq!(printful.orders_with_external_id("SB-KEY-3"), 1);
        submit(&p, &opts, &order).await.expect("the retry confirms");
        assert_eq!(printful.orders_with_external_id("SB-KEY-3"), 1);
        assert_eq!(printful.creations(), 2);

        // Printful confirms, but its answer is lost.
        let order = sample_order("SB-KEY-4", &[TEE_M]);
        printful.fail_next(Endpoint::Confirm, Failure::CarriedOutThenFails);
        assert!(matches!(
            submit(&p, &opts, &order).await,
            Err(OrderError::Transient(_))
        ));
        let confirmations = printful.confirmations();
        let again = submit(&p, &opts, &order).await.expect("found confirmed");
        assert_eq!(
            printful.confirmations(),
            confirmations,
            "not confirmed twice"
        );
        assert_eq!(
            printful.order(&again.supplier_reference).map(|o| o.status),
            Some("pending".to_owned())
        );
        assert_eq!(printful.orders_with_external_id("SB-KEY-4"), 1);
    });
}

#[test]
fn refused_addresses_and_variants_need_attention_with_field_issues() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);

        // Printful refuses the postal code: the plugin names the field.
        let mut order = sample_order("SB-ADDR", &[TEE_M]);
        order.shipping_address.postal_code = "7501".into();
        assert_eq!(
            issues(submit(&p, &opts, &order).await),
            pair("shipping-address.postal-code", "invalid")
        );
        order.shipping_address.postal_code = String::new();
        assert_eq!(
            issues(submit(&p, &opts, &order).await),
            pair("shipping-address.postal-code", "missing")
        );

        // A sync variant the store does not have: the line is named.
        let order = sample_order("SB-SKU", &[TEE_M, "3001999"]);
        assert_eq!(
            issues(submit(&p, &opts, &order).await),
            pair("lines[1].sku", "unknown-sku")
        );
        assert!(printful.orders().is_empty());

        // What Printful would refuse anyway never reaches it.
        let before = printful.requests().len();
        let mut order = sample_order("SB-LOCAL", &["TS-BLACK-M"]);
        order.shipping_address.city = String::new();
        order.shipping_address.country_code = "US".into();
        assert_eq!(
            issues(submit(&p, &opts, &order).await),
            vec![
                ("shipping-address.city".to_owned(), "missing".to_owned()),
                ("shipping-address.region".to_owned(), "missing".to_owned()),
                ("lines[0].sku".to_owned(), "unknown-sku".to_owned()),
            ]
        );
        assert_eq!(printful.requests().len(), before);
    });
}

#[test]
fn rate_limits_and_outages_are_transient_with_the_delay_asked() {
    let printful = FakePrintful::start(TOKEN);
    printful.fail_next(
        Endpoint::CreateOrder,
        Failure::RateLimited { retry_after: 7 },
    );
    printful.fail_next(Endpoint::GetOrder, Failure::Unavailable);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);
        let order = sample_order("SB-429", &[TEE_M]);
        // The lookup by external id meets the outage…
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(t)) => {
                assert!(t.message.contains("503"), "{t:?}")
            }
            other => panic!("expected transient, got {other:?}"),
        }
        // …the creation the rate limit.
        match submit(&p, &opts, &order).await {
            Err(OrderError::Transient(t)) => assert_eq!(t.retry_after_seconds, Some(7)),
            other => panic!("expected transient with retry-after, got {other:?}"),
        }
        let placed = submit(&p, &opts, &order).await.expect("goes through");
        assert_eq!(printful.orders_with_external_id("SB-429"), 1);
        assert_eq!(
            printful.order(&placed.supplier_reference).map(|o| o.status),
            Some("pending".to_owned())
        );
    });
}

#[test]
fn a_refused_token_or_store_is_a_configuration_problem() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let order = sample_order("SB-AUTH", &[TEE_M]);
        let bad = options(&printful, &[("api-key", "wrong")]);
        match submit(&p, &bad, &order).await {
            Err(OrderError::Configuration(m)) => assert!(m.contains("api-key"), "{m}"),
            other => panic!("expected configuration, got {other:?}"),
        }
        let references = vec!["1".to_owned()];
        assert!(matches!(
            p.poll_status(runtime(), &bad, &references)
                .await
                .expect("runs"),
            Err(OrderError::Configuration(_))
        ));

        // An account-level token: the store must be named, and exist.
        printful.require_store("4242");
        for opts in [
            options(&printful, &[]),
            options(&printful, &[("store-id", "9999")]),
        ] {
            match submit(&p, &opts, &order).await {
                Err(OrderError::Configuration(m)) => assert!(m.contains("store-id"), "{m}"),
                other => panic!("expected configuration, got {other:?}"),
            }
        }
        assert!(printful.orders().is_empty());
        let opts = options(&printful, &[("store-id", "4242")]);
        submit(&p, &opts, &order).await.expect("submits");
        assert_eq!(printful.orders_with_external_id("SB-AUTH"), 1);
    });
}

#[test]
fn status_follows_orders_to_their_shipments_and_delivery() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);
        let mut refs = Vec::new();
        for key in ["SB-S1", "SB-S2", "SB-S3", "SB-S4", "SB-S5"] {
            let placed = submit(&p, &opts, &sample_order(key, &[TEE_M, POSTER]))
                .await
                .expect("submits");
            refs.push(placed.supplier_reference);
        }
        let [shipped, partial, pending, held, producing] =
            [0, 1, 2, 3, 4].map(|i| refs[i].as_str());
        printful.ship(shipped, "DHL", "JJD0099123", None);
        printful.ship(partial, "USPS", "9400111899223344556677", Some(&[0]));
        printful.hold_out_of_stock(held, "2026-12-10");
        printful.set_status(producing, "inprocess");

        let updates = poll(
            &p,
            &opts,
            &[shipped, partial, pending, held, producing, "999999"],
        )
        .await;
        let got: Vec<&str> = updates
            .iter()
            .map(|u| u.supplier_reference.as_str())
            .collect();
        assert_eq!(
            got,
            vec![shipped, partial, pending, held, producing],
            "the unknown order is left out"
        );
        assert_eq!(
            updates[0].state,
            OrderState::Shipped(vec![Shipment {
                carrier: Some("DHL".into()),
                tracking_numbers: vec!["JJD0099123".into()],
                tracking_url: Some("https://www.printful.com/tracking/JJD0099123".into()),
                skus: vec![TEE_M.into(), POSTER.into()],
            }])
        );
        let invoice = format!("%PDF-1.4\n% invoice for Printful order {shipped}\n");
        assert_eq!(
            updates[0].invoice_url,
            Some(format!(
                "data:application/pdf;base64,{}",
                base64(invoice.as_bytes())
            ))
        );
        assert!(
            updates[0]
                .changed_at
                .as_deref()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert_eq!(
            updates[1].state,
            OrderState::PartlyShipped(vec![Shipment {
                carrier: Some("USPS".into()),
                tracking_numbers: vec!["9400111899223344556677".into()],
                tracking_url: Some(
                    "https://www.printful.com/tracking/9400111899223344556677".into()
                ),
                skus: vec![TEE_M.into()],
            }])
        );
        assert_eq!(
            updates[1].invoice_url, None,
            "only fulfilled orders' invoices"
        );
        assert_eq!(updates[2].state, OrderState::Accepted);
        assert_eq!(
            updates[3].state,
            OrderState::Backordered(Some("2026-12-10".into()))
        );
        assert_eq!(updates[4].state, OrderState::Processing);

        // The rest ships; then everything is delivered.
        printful.ship(partial, "USPS", "9400111899223344550000", None);
        printful.deliver(shipped);
        let updates = poll(&p, &opts, &[shipped, partial]).await;
        assert_eq!(updates[0].state, OrderState::Delivered);
        match &updates[1].state {
            OrderState::Shipped(parcels) => {
                assert_eq!(parcels.len(), 2);
                assert_eq!(parcels[1].skus, vec![POSTER.to_owned()]);
            }
            other => panic!("expected shipped, got {other:?}"),
        }
    });
}

#[test]
fn a_poll_larger_than_the_request_budget_returns_the_orders_it_reached() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);
        let mut refs = Vec::new();
        for i in 0..5 {
            let placed = submit(&p, &opts, &sample_order(&format!("SB-B{i}"), &[TEE_M]))
                .await
                .expect("submits");
            refs.push(placed.supplier_reference);
        }
        let mut tight = options(&printful, &[]);
        tight.limits.http = HttpLimits {
            max_requests_per_call: 3,
            ..HttpLimits::default()
        };
        let all: Vec<&str> = refs.iter().map(String::as_str).collect();
        let updates = poll(&p, &tight, &all).await;
        let got: Vec<&str> = updates
            .iter()
            .map(|u| u.supplier_reference.as_str())
            .collect();
        assert_eq!(got, all[..3].to_vec());
    });
}

#[test]
fn cancellation_deletes_drafts_cancels_pending_orders_and_is_refused_in_production() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let opts = options(&printful, &[]);

        // A draft (left for a person to confirm) is deleted.
        let drafts = options(&printful, &[("confirm-orders", "false")]);
        let draft = submit(&p, &drafts, &sample_order("SB-C1", &[TEE_M]))
            .await
            .expect("a draft");
        assert_eq!(
            printful.order(&draft.supplier_reference).map(|o| o.status),
            Some("draft".to_owned())
        );
        cancel(&p, &opts, &draft.supplier_reference)
            .await
            .expect("deleted");
        assert_eq!(printful.order(&draft.supplier_reference), None);
        assert!(
            printful
                .requests()
                .contains(&format!("DELETE /v2/orders/{}", draft.supplier_reference))
        );

        // A pending order is cancelled (API v1's DELETE), and stays so.
        let pending = submit(&p, &opts, &sample_order("SB-C2", &[TEE_M]))
            .await
            .expect("submits");
        cancel(&p, &opts, &pending.supplier_reference)
            .await
            .expect("cancelled");
        assert!(
            printful
                .requests()
                .contains(&format!("DELETE /orders/{}", pending.supplier_reference))
        );
        let updates = poll(&p, &opts, &[&pending.supplier_reference]).await;
        assert_eq!(updates[0].state, OrderState::Cancelled(None));
        cancel(&p, &opts, &pending.supplier_reference)
            .await
            .expect("cancelling again is no error");

        // In production, Printful no longer cancels.
        let producing = submit(&p, &opts, &sample_order("SB-C3", &[TEE_M]))
            .await
            .expect("submits");
        printful.set_status(&producing.supplier_reference, "inprocess");
        let shipped = submit(&p, &opts, &sample_order("SB-C4", &[TEE_M]))
            .await
            .expect("submits");
        printful.ship(&shipped.supplier_reference, "DHL", "JJD1", None);
        for reference in [&producing.supplier_reference, &shipped.supplier_reference] {
            let before = printful.order(reference).map(|o| o.status);
            match cancel(&p, &opts, reference).await {
                Err(OrderError::Rejected(m)) => assert!(m.contains("production"), "{m}"),
                other => panic!("expected rejected, got {other:?}"),
            }
            assert_eq!(printful.order(reference).map(|o| o.status), before);
        }
        assert!(matches!(
            cancel(&p, &opts, "999999").await,
            Err(OrderError::Rejected(_))
        ));
    });
}

#[test]
fn catalog_variants_carry_the_design_of_the_placements_setting() {
    let printful = FakePrintful::start(TOKEN);
    block_on(async {
        let p = connector().await;
        let placements = r#"[{"placement": "front", "technique": "dtg", "layers": [{"type": "file", "url": "https://shop.example/logo.png"}]}]"#;
        let opts = options(
            &printful,
            &[
                ("sku-mode", "catalog"),
                ("sku-prefix", "pf-"),
                ("placements", placements),
                ("shipping", "express"),
            ],
        );
        let placed = submit(&p, &opts, &sample_order("SB-CAT", &["pf-4011"]))
            .await
            .expect("submits");
        let order = printful.order(&placed.supplier_reference).expect("placed");
        assert_eq!(order.shipping, "EXPRESS");
        let item = &order.items[0].received;
        assert_eq!(item["source"], "catalog");
        assert_eq!(item["catalog_variant_id"], 4011);
        assert_eq!(item["external_id"], "pf-4011");
        assert_eq!(
            item["placements"][0]["layers"][0]["url"],
            "https://shop.example/logo.png"
        );
        // Without the design, the binding is misconfigured.
        let opts = options(&printful, &[("sku-mode", "catalog")]);
        assert!(matches!(
            submit(&p, &opts, &sample_order("SB-CAT2", &["4011"])).await,
            Err(OrderError::Configuration(_))
        ));
    });
}

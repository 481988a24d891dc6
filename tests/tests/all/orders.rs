//! Orders through the plugin ABI: the `csv-wholesaler` plugin, in the
//! sandbox, against a BigBuy-style fake supplier on loopback.

use std::time::Duration;

use shopbridge::plugins::{CallOptions, Plugin};
use shopbridge::runtime::bindings::shopbridge::connector::types::{
    Money, Order, OrderError, OrderState,
};
use shopbridge::runtime::{HostPattern, Limits, NetworkPolicy, Settings};
use shopbridge_tests::fakes::wholesaler::{FakeWholesaler, Outage, UNKNOWN_SKU_PREFIX};
use shopbridge_tests::{block_on, components, plugin, runtime, sample_order};

const KEY: &str = "test-api-key";

fn options(supplier: &FakeWholesaler) -> CallOptions {
    CallOptions {
        settings: Settings::from_pairs([
            ("api-base-url".to_owned(), supplier.base_url()),
            ("api-key".to_owned(), KEY.to_owned()),
        ]),
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

fn order(key: &str, skus: &[&str]) -> Order {
    sample_order(key, skus)
}

async fn wholesaler() -> std::sync::Arc<Plugin> {
    plugin(components::CSV_WHOLESALER).await
}

#[test]
fn an_order_is_submitted_once_even_when_retried() {
    let supplier = FakeWholesaler::start(KEY);
    block_on(async {
        let p = wholesaler().await;
        let opts = options(&supplier);
        let o = order("key-1", &["SKU-1", "SKU-2"]);
        p.check_order(runtime(), &opts, &o)
            .await
            .expect("runs")
            .expect("checks");
        let first = p
            .submit_order(runtime(), &opts, &o)
            .await
            .expect("runs")
            .expect("submits");
        // A retry after a crash: same key, same supplier order, nothing new.
        let second = p
            .submit_order(runtime(), &opts, &o)
            .await
            .expect("runs")
            .expect("submits");
        assert_eq!(first.supplier_reference, second.supplier_reference);
        let orders = supplier.orders();
        assert_eq!(orders.len(), 1, "ordered twice: {orders:?}");
        assert_eq!(orders[0].id, first.supplier_reference);
        assert_eq!(orders[0].internal_reference, "key-1");
        let body = &orders[0].body["order"];
        assert_eq!(
            body["shippingAddress"]["address"],
            "12 rue des Lilas, Bâtiment B"
        );
        assert_eq!(body["shippingAddress"]["postcode"], "75011");
        assert_eq!(body["products"][1]["reference"], "SKU-2");
        assert_eq!(body["products"][1]["quantity"], 2);
        assert_eq!(
            second.wholesale_total,
            Some(Money {
                amount_minor: 3198,
                currency: "EUR".into()
            })
        );
    });
}

#[test]
fn rate_limits_and_outages_are_transient_with_the_delay_asked() {
    let supplier = FakeWholesaler::start(KEY);
    supplier.fail_next([
        Outage::RateLimited { reset_seconds: 7 },
        Outage::Unavailable,
    ]);
    block_on(async {
        let p = wholesaler().await;
        let opts = options(&supplier);
        let o = order("key-429", &["SKU-1"]);
        match p.submit_order(runtime(), &opts, &o).await.expect("runs") {
            Err(OrderError::Transient(t)) => assert_eq!(t.retry_after_seconds, Some(7)),
            other => panic!("expected transient with retry-after, got {other:?}"),
        }
        match p.submit_order(runtime(), &opts, &o).await.expect("runs") {
            Err(OrderError::Transient(_)) => {}
            other => panic!("expected transient, got {other:?}"),
        }
        let ok = p
            .submit_order(runtime(), &opts, &o)
            .await
            .expect("runs")
            .expect("third try goes through");
        assert_eq!(supplier.create_attempts(), 3);
        assert_eq!(supplier.orders().len(), 1);
        assert_eq!(supplier.orders()[0].id, ok.supplier_reference);
    });
}

#[test]
fn bad_orders_need_attention_with_field_issues() {
    let supplier = FakeWholesaler::start(KEY);
    block_on(async {
        let p = wholesaler().await;
        let opts = options(&supplier);
        // Incomplete address: caught before any request.
        let mut incomplete = order("key-addr", &["SKU-1"]);
        incomplete.shipping_address.postal_code = String::new();
        match p
            .submit_order(runtime(), &opts, &incomplete)
            .await
            .expect("runs")
        {
            Err(OrderError::NeedsAttention(issues)) => {
                assert!(
                    issues
                        .iter()
                        .any(|i| i.field == "shipping-address.postal-code" && i.code == "missing"),
                    "{issues:?}"
                );
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
        assert_eq!(
            supplier.create_attempts(),
            0,
            "an incomplete order reached the supplier"
        );
        // An unknown SKU: the supplier says so, the plugin names the line.
        let unknown = format!("{UNKNOWN_SKU_PREFIX}42");
        let o = order("key-sku", &["SKU-1", &unknown]);
        match p.submit_order(runtime(), &opts, &o).await.expect("runs") {
            Err(OrderError::NeedsAttention(issues)) => {
                assert!(
                    issues
                        .iter()
                        .any(|i| i.field == "lines[1].sku" && i.code == "unknown-sku"),
                    "{issues:?}"
                );
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
        assert!(supplier.orders().is_empty());
    });
}

#[test]
fn status_is_polled_in_batches_and_cancellation_goes_through() {
    let supplier = FakeWholesaler::start(KEY);
    block_on(async {
        let p = wholesaler().await;
        let opts = options(&supplier);
        let a = p
            .submit_order(runtime(), &opts, &order("k-a", &["SKU-1"]))
            .await
            .expect("runs")
            .expect("a");
        let b = p
            .submit_order(runtime(), &opts, &order("k-b", &["SKU-2"]))
            .await
            .expect("runs")
            .expect("b");
        let c = p
            .submit_order(runtime(), &opts, &order("k-c", &["SKU-3"]))
            .await
            .expect("runs")
            .expect("c");
        supplier.ship(&a.supplier_reference, "Colissimo", "6A12345678901");
        supplier.set_status(&b.supplier_reference, "processing");
        p.cancel_order(
            runtime(),
            &opts,
            &c.supplier_reference,
            Some("customer changed their mind"),
        )
        .await
        .expect("runs")
        .expect("cancels");

        let refs = vec![
            a.supplier_reference.clone(),
            b.supplier_reference.clone(),
            c.supplier_reference.clone(),
            "999".to_owned(),
        ];
        let updates = p
            .poll_status(runtime(), &opts, &refs)
            .await
            .expect("runs")
            .expect("polls");
        assert_eq!(
            updates.len(),
            3,
            "the unknown reference is left out: {updates:?}"
        );
        let state = |r: &str| {
            &updates
                .iter()
                .find(|u| u.supplier_reference == r)
                .expect("an update")
                .state
        };
        match state(&a.supplier_reference) {
            OrderState::Shipped(parcels) => {
                assert_eq!(parcels[0].carrier.as_deref(), Some("Colissimo"));
                assert_eq!(
                    parcels[0].tracking_numbers,
                    vec!["6A12345678901".to_owned()]
                );
                assert_eq!(
                    parcels[0].tracking_url.as_deref(),
                    Some("https://tracking.example/6A12345678901")
                );
            }
            other => panic!("expected shipped, got {other:?}"),
        }
        assert_eq!(state(&b.supplier_reference), &OrderState::Processing);
        assert_eq!(
            state(&c.supplier_reference),
            &OrderState::Cancelled(Some("customer changed their mind".into()))
        );
        // A shipped order cannot be cancelled: the supplier refuses, for good.
        match p
            .cancel_order(runtime(), &opts, &a.supplier_reference, None)
            .await
            .expect("runs")
        {
            Err(OrderError::Rejected(message)) => assert!(message.contains("shipped"), "{message}"),
            other => panic!("expected rejected, got {other:?}"),
        }
    });
}

#[test]
fn without_the_binding_allowing_loopback_the_supplier_is_unreachable() {
    let supplier = FakeWholesaler::start(KEY);
    block_on(async {
        let p = wholesaler().await;
        let mut opts = options(&supplier);
        opts.network.allow_private_network = false;
        match p
            .submit_order(runtime(), &opts, &order("k-x", &["SKU-1"]))
            .await
            .expect("runs")
        {
            Err(OrderError::Configuration(message)) => {
                assert!(message.contains("private"), "{message}")
            }
            other => panic!("expected a configuration error, got {other:?}"),
        }
        assert_eq!(supplier.create_attempts(), 0);
        // A wrong API key is a configuration problem too.
        let mut opts = options(&supplier);
        opts.settings = Settings::from_pairs([
            ("api-base-url".to_owned(), supplier.base_url()),
            ("api-key".to_owned(), "wrong".to_owned()),
        ]);
        match p
            .submit_order(runtime(), &opts, &order("k-y", &["SKU-1"]))
            .await
            .expect("runs")
        {
            Err(OrderError::Configuration(_)) => {}
            other => panic!("expected a configuration error, got {other:?}"),
        }
    });
}

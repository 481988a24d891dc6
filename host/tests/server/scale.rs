//! Several `serve` processes on one PostgreSQL database share the work:
//! every order is dispatched, none twice.

use std::time::Duration;

use shopbridge_tests::block_on;
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;

use crate::support::*;

const ORDERS: usize = 500;

#[test]
fn two_processes_on_one_postgres_dispatch_500_orders_once_each() {
    let database = Database::new(Db::Postgres);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let config = ConfigSpec::new(&database, &supplier);
    let first = Server::start(&config);
    let second = Server::start(&config);
    let shops = [first.shop(), second.shop()];

    // Posted to both processes at once, eight at a time.
    block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for lane in 0..8 {
            let shops = shops.clone();
            tasks.spawn_blocking(move || {
                for i in (lane..ORDERS).step_by(8) {
                    let reference = format!("PS-{i:05}");
                    let answer = shops[i % 2].post_order(&order_json(&reference, &["BB-1"]));
                    assert_eq!(answer.status, 202, "{reference}: {:?}", answer.body);
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("a posting lane panicked");
        }
    });

    wait_for(
        "every order at the supplier",
        Duration::from_secs(120),
        || (supplier.orders().len() >= ORDERS).then_some(()),
    );
    // Let any straggler that would submit twice do so before counting.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(supplier.orders().len(), ORDERS);
    assert_eq!(
        supplier.create_attempts() as usize,
        ORDERS,
        "some supplier order was sent more than once"
    );
    // Both processes did part of the work.
    let (_, metrics_first) = shops[0].get("/metrics");
    let (_, metrics_second) = shops[1].get("/metrics");
    let submitted = |metrics: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(r#"shopbridge_dispatch_outcomes_total{binding="wholesaler",outcome="submitted"}"#))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let (a, b) = (submitted(&metrics_first), submitted(&metrics_second));
    assert_eq!(a + b, ORDERS as u64, "{a} + {b}");
    assert!(a > 0 && b > 0, "one process did all the work: {a} / {b}");
}

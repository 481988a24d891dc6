//! Crash safety: `shopbridge serve` killed with SIGKILL at random moments
//! while 1,000 orders flow in. Shops retry what was not acknowledged (as
//! the PHP modules do); after the last restart every order reaches the
//! supplier exactly once and none is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;

use crate::support::*;

const ORDERS: usize = 1_000;
const KILLS: usize = 6;

#[test]
fn kill_9_at_random_moments_loses_no_order_and_duplicates_none() {
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let mut config = ConfigSpec::new(&database, &supplier);
    let port = free_port();
    config.listen = format!("127.0.0.1:{port}");
    // A short lease would only matter with several processes; SQLite
    // takes its jobs back at start.
    let mut server = Server::start(&config);
    let shop = server.shop();

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut lanes = Vec::new();
    for lane in 0..4 {
        let shop = shop.clone();
        let acknowledged = acknowledged.clone();
        lanes.push(std::thread::spawn(move || {
            for i in (lane..ORDERS).step_by(4) {
                let order = order_json(&format!("CR-{i:05}"), &["BB-1"]);
                // Like a shop module: retry until acknowledged.
                loop {
                    match shop.try_post_order(&order) {
                        Some(answer) if answer.status == 202 => break,
                        Some(answer) if answer.status >= 500 => {}
                        Some(answer) => {
                            panic!("order {i} refused: {} {:?}", answer.status, answer.body)
                        }
                        None => {}
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                acknowledged.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // Kill at random moments while the orders flow in: at random points of
    // the intake (so that the kills land during it however fast it runs),
    // then twice more while the dispatch catches up.
    let mut rng = rand::rng();
    let mut points: Vec<usize> = (0..KILLS)
        .map(|_| rng.random_range(50..ORDERS - 50))
        .collect();
    points.sort();
    let mut killed_during_intake = 0;
    for point in points {
        while acknowledged.load(Ordering::Relaxed) < point {
            std::thread::sleep(Duration::from_millis(1));
        }
        if acknowledged.load(Ordering::Relaxed) < ORDERS {
            killed_during_intake += 1;
        }
        server.kill();
        server.restart();
        assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    }
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(rng.random_range(50..400)));
        server.kill();
        server.restart();
    }
    for lane in lanes {
        lane.join().expect("a posting lane panicked");
    }
    assert_eq!(acknowledged.load(Ordering::Relaxed), ORDERS);
    assert!(
        killed_during_intake >= 2,
        "only {killed_during_intake} kills happened while orders came in"
    );

    wait_for(
        "every order at the supplier",
        Duration::from_secs(120),
        || (supplier.orders().len() >= ORDERS).then_some(()),
    );
    std::thread::sleep(Duration::from_millis(500));
    let orders = supplier.orders();
    assert_eq!(
        orders.len(),
        ORDERS,
        "orders at the supplier (one per idempotency key)"
    );
    // Each shop order became exactly one supplier order, under its own key.
    let mut keys: Vec<String> = orders
        .iter()
        .map(|o| o.internal_reference.clone())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), ORDERS);
    // And the host knows each one as handed over, with the supplier's reference.
    let shop = server.shop();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    for i in (0..ORDERS).step_by(37) {
        loop {
            let view = shop.order(&format!("CR-{i:05}"));
            // Submitted, and maybe accepted by now (the poller runs too).
            let so = &view.body["supplier_orders"][0];
            if so["supplier_reference"].is_string()
                && ["submitted", "accepted"].contains(&so["state"].as_str().unwrap_or_default())
            {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order CR-{i:05} is not recorded as submitted: {}",
                view.body
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!(
        "crash test: {} kills ({killed_during_intake} during intake), {ORDERS} orders, {} create requests at the supplier for {} orders",
        KILLS + 2,
        supplier.create_attempts(),
        orders.len()
    );
}

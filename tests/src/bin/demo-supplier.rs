//! The demo's supplier: the BigBuy-style fake wholesaler on a fixed port,
//! which ships every order a few seconds after receiving it, so that the
//! demo shows an order's whole life (`cargo xtask demo` starts it).
//!
//! `demo-supplier [ADDRESS]` (default 127.0.0.1:8090; API key
//! `demo-supplier-key`, as in the embedded demo configuration).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shopbridge_tests::fakes::wholesaler::FakeWholesaler;

const SHIP_AFTER: Duration = Duration::from_secs(5);

fn main() -> std::process::ExitCode {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let Ok(address) = address.parse() else {
        eprintln!("demo-supplier: '{address}' is not an address such as 127.0.0.1:8090");
        return std::process::ExitCode::FAILURE;
    };
    let supplier = match FakeWholesaler::start_on(address, "demo-supplier-key") {
        Ok(supplier) => supplier,
        Err(e) => {
            eprintln!("demo-supplier: cannot listen on {address}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    eprintln!(
        "demo-supplier: a BigBuy-style wholesaler on {}",
        supplier.base_url()
    );
    let mut seen: HashMap<String, Instant> = HashMap::new();
    let mut parcel = 1_000u32;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        for order in supplier.orders() {
            let first_seen = *seen.entry(order.id.clone()).or_insert_with(|| {
                eprintln!(
                    "demo-supplier: order {} received ({})",
                    order.id, order.internal_reference
                );
                Instant::now()
            });
            if order.parcels.is_empty()
                && order.status != "cancelled"
                && first_seen.elapsed() >= SHIP_AFTER
            {
                parcel += 1;
                let tracking = format!("6A{parcel:011}");
                supplier.ship(&order.id, "Colissimo", &tracking);
                eprintln!(
                    "demo-supplier: order {} shipped, tracking {tracking}",
                    order.id
                );
            }
        }
    }
}

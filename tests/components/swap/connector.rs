// The `swap` test plugin, shared by its builds (`v1/`, `v2/`, `v3/`), which
// differ only in `VERSION` (and 3.0.0 crashes on an order whose address has
// no first line, for the conformance suite): a hot-swap test tells from each supplier
// reference (`v<major>-<idempotency key>`) which version placed the order.
// It talks to no supplier; each submission takes a few milliseconds of
// work so that swaps land while calls are in flight.

use shopbridge_guest_sdk::export_connector;
use shopbridge_guest_sdk::prelude::*;

/// The connector (public so that the native build sees it used).
pub struct Swap;

impl Connector for Swap {
    fn metadata() -> Metadata {
        Metadata {
            name: "swap".into(),
            version: VERSION.into(),
            description: "Answers every order with a reference naming its own version.".into(),
            capabilities: vec![Capability::Orders],
            settings: Vec::new(),
            hosts: Vec::new(),
        }
    }

    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        if VERSION.starts_with("3.") && order.shipping_address.line1.is_empty() {
            panic!("swap {VERSION} crashes on an address without a first line");
        }
        // About a millisecond of work per call (not a sleep: no clock
        // import), so that some calls are in flight when a swap lands.
        let mut x: u64 = 1;
        for i in 0..200_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let major = VERSION.split('.').next().unwrap_or("0");
        Ok(Submission {
            supplier_reference: format!("v{major}-{}", order.idempotency_key),
            wholesale_total: None,
            message: Some(format!("swap {VERSION} ({})", x % 10)),
        })
    }
}

export_connector!(Swap);

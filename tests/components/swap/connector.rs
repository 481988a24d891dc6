// The `swap` test plugin, shared by its builds (`v1/`, `v2/`, `v3/`), which
// differ only in `VERSION` (and 3.0.0 crashes on an order whose address has
// no first line, for the conformance suite, hangs on an order whose note
// is "hang", for the shadow run's deadline, and crashes on a product named
// "crash", for the shadow run's feed): a hot-swap test tells from each supplier
// reference (`v<major>-<idempotency key>`) which version placed the order.
// It talks to no supplier; each submission takes a few milliseconds of
// work so that swaps land while calls are in flight.
//
// Its feed is one `sku;name;price in cents` per line. 2.0.0 changes what
// it gives, for the shadow run's feed comparison: names in upper case, a
// line without a price is a product without one (1.0.0 rejects it), and
// a price of 0 is a sample, left out.

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
            capabilities: vec![Capability::Orders, Capability::Catalog],
            settings: Vec::new(),
            hosts: Vec::new(),
        }
    }

    fn open_feed(_content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        Ok(Box::new(Lines {
            pending: Vec::new(),
            line: 0,
        }))
    }

    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        if VERSION.starts_with("3.") && order.shipping_address.line1.is_empty() {
            panic!("swap {VERSION} crashes on an address without a first line");
        }
        if VERSION.starts_with("3.") && order.note.as_deref() == Some("hang") {
            // Spins until the host's deadline stops it (no clock import:
            // a loop the optimiser cannot remove).
            let mut x: u64 = 1;
            loop {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
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

/// The feed parser: complete lines in, one record each.
struct Lines {
    pending: Vec<u8>,
    line: u64,
}

impl Lines {
    fn record(&mut self, raw: &[u8]) -> Option<FeedRecord> {
        self.line += 1;
        let position = Some(format!("line {}", self.line));
        let Ok(text) = std::str::from_utf8(raw) else {
            return Some(FeedRecord::Rejected(Rejection::new(None, position, "not UTF-8")));
        };
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            return None;
        }
        let fields: Vec<&str> = text.split(';').collect();
        let (sku, name) = match fields.as_slice() {
            [sku, name, ..] if !sku.is_empty() => (sku.to_string(), name.to_string()),
            _ => {
                return Some(FeedRecord::Rejected(Rejection::new(
                    None,
                    position,
                    "expected sku;name;price",
                )));
            }
        };
        if VERSION.starts_with("3.") && name == "crash" {
            panic!("swap {VERSION} crashes on a product named 'crash'");
        }
        let v2 = VERSION.starts_with("2.");
        let name = if v2 { name.to_uppercase() } else { name };
        let price = match fields.get(2).map(|p| p.trim().parse::<i64>()) {
            Some(Ok(cents)) => Some(cents),
            Some(Err(_)) | None if v2 => None,
            _ => {
                return Some(FeedRecord::Rejected(Rejection::new(
                    Some(sku),
                    position,
                    "no price in cents",
                )));
            }
        };
        if v2 && price == Some(0) {
            return None;
        }
        let mut product = Product::new(sku, name);
        product.wholesale_price = price.map(|amount_minor| Money {
            amount_minor,
            currency: "EUR".into(),
        });
        Some(FeedRecord::Product(product))
    }
}

impl FeedParse for Lines {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError> {
        self.pending.extend_from_slice(chunk);
        let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(Vec::new());
        };
        // Whole lines, without the last one's newline.
        let complete: Vec<u8> = self.pending.drain(..=last).collect();
        let lines = &complete[..complete.len() - 1];
        Ok(lines
            .split(|&b| b == b'\n')
            .filter_map(|l| self.record(l))
            .collect())
    }

    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError> {
        let rest = std::mem::take(&mut self.pending);
        Ok(self.record(&rest).into_iter().collect())
    }
}

export_connector!(Swap);

//! The conformance suite every uploaded version goes through, whatever its
//! supplier: inputs a connector meets sooner or later (an empty feed, a
//! truncated one, a feed in the wrong format, an entity bomb, a 1 MB
//! description, odd Unicode, feeds in legacy encodings (windows-1252 XML,
//! Excel's UTF-16 "Unicode text", an unknown encoding), an order with an unknown SKU, one with an
//! incomplete address, a supplier answering 500, one answering 429). Each
//! must give an answer or a typed error (a `FeedError`, an `OrderError`,
//! rejected records): a trap, a deadline, the memory cap or the output cap
//! fails the case.
//!
//! Cases run with no settings and no network: an order case answers with
//! the plugin's own configuration or network error, which is a typed
//! answer. The two supplier cases start a loopback server answering every
//! request with that status, give every setting whose name says `url` its
//! address (the others without a default a placeholder) and let the plugin reach
//! it. A capability the plugin does not declare skips its cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use serde::Serialize;

use crate::plugins::{CallOptions, Plugin};
use crate::runtime::bindings::shopbridge::connector::types::{
    Address, Capability, Money, Order, OrderLine,
};
use crate::runtime::{HostPattern, Limits, NetworkPolicy, PluginError, Runtime, Settings};

/// Deadline of each call of the suite: a connector answers these inputs in
/// milliseconds; 5 s calls a hang a hang without making an upload wait the
/// 30 s of a real call per case.
const CASE_DEADLINE: Duration = Duration::from_secs(5);

/// Bytes pushed per call, as a sync does (`feed::DEFAULT_CHUNK_BYTES`).
const CHUNK: usize = 64 << 10;

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    /// The case.
    pub case: &'static str,
    /// `answer`, `typed-error`, `skipped`, or the sandbox failure
    /// (`trap`, `deadline`, `memory`, `output`, `instantiate`).
    pub outcome: String,
    /// Whether the plugin survived it.
    pub passed: bool,
    /// What happened, for a person.
    pub detail: String,
    /// Time taken.
    pub millis: u64,
}

/// The suite's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether every case passed.
    pub passed: bool,
    /// Each case.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// The failed cases, as one line.
    pub fn failures(&self) -> String {
        self.cases
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{} ({}: {})", c.case, c.outcome, c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs the suite against a loaded plugin.
pub async fn run(runtime: &Runtime, plugin: &Plugin) -> Report {
    let options = CallOptions {
        limits: Limits {
            deadline: CASE_DEADLINE,
            ..Limits::default()
        },
        ..CallOptions::default()
    };
    let capabilities = &plugin.metadata().capabilities;
    let catalog = capabilities.contains(&Capability::Catalog);
    let orders = capabilities.contains(&Capability::Orders);
    let mut cases = Vec::new();
    for (case, content_type, feed) in feeds() {
        let started = Instant::now();
        let (outcome, detail) = if catalog {
            feed_case(runtime, plugin, &options, content_type, &feed).await
        } else {
            ("skipped".into(), "no catalog capability".into())
        };
        cases.push(report(case, outcome, detail, started));
    }
    for (case, order) in orders_cases() {
        let started = Instant::now();
        let (outcome, detail) = if orders {
            match plugin.submit_order(runtime, &options, &order).await {
                Ok(Ok(s)) => (
                    "answer".into(),
                    format!("submitted as {}", s.supplier_reference),
                ),
                Ok(Err(e)) => ("typed-error".into(), format!("{e:?}")),
                Err(e) => failure(e),
            }
        } else {
            ("skipped".into(), "no orders capability".into())
        };
        cases.push(report(case, outcome, detail, started));
    }
    for (case, status) in [
        ("supplier answers 500", StatusCode::INTERNAL_SERVER_ERROR),
        ("supplier answers 429", StatusCode::TOO_MANY_REQUESTS),
    ] {
        let started = Instant::now();
        let (outcome, detail) = if orders {
            supplier_case(runtime, plugin, status).await
        } else {
            ("skipped".into(), "no orders capability".into())
        };
        cases.push(report(case, outcome, detail, started));
    }
    Report {
        passed: cases.iter().all(|c| c.passed),
        cases,
    }
}

fn report(case: &'static str, outcome: String, detail: String, started: Instant) -> CaseReport {
    let passed = matches!(outcome.as_str(), "answer" | "typed-error" | "skipped");
    CaseReport {
        case,
        outcome,
        passed,
        detail,
        millis: started.elapsed().as_millis() as u64,
    }
}

fn failure(e: PluginError) -> (String, String) {
    let outcome = match &e {
        PluginError::Deadline { .. } => "deadline",
        PluginError::MemoryLimit { .. } => "memory",
        PluginError::OutputTooLarge { .. } => "output",
        PluginError::Trap { .. } => "trap",
        _ => "instantiate",
    };
    (outcome.into(), e.to_string())
}

/// Submits an order to a supplier that answers every request with `status`.
async fn supplier_case(runtime: &Runtime, plugin: &Plugin, status: StatusCode) -> (String, String) {
    let supplier = match Supplier::start(status).await {
        Ok(s) => s,
        Err(e) => return ("skipped".into(), format!("no loopback supplier: {e}")),
    };
    let settings = plugin
        .metadata()
        .settings
        .iter()
        .filter_map(|s| {
            if s.name.to_ascii_lowercase().contains("url") {
                Some((s.name.clone(), supplier.url.clone()))
            } else if s.default_value.is_none() {
                Some((s.name.clone(), "conformance".to_owned()))
            } else {
                None
            }
        })
        .collect::<Vec<_>>();
    let options = CallOptions {
        settings: Settings::from_pairs(settings),
        network: NetworkPolicy {
            // The fake supplier's port only: nothing else on loopback.
            allowed_hosts: vec![HostPattern::new(&supplier.authority)],
            allow_private_network: true,
            ..NetworkPolicy::default()
        },
        limits: Limits {
            deadline: CASE_DEADLINE,
            ..Limits::default()
        },
    };
    let (_, order) = orders_cases().swap_remove(0);
    let order = Order {
        lines: vec![OrderLine {
            sku: "SKU-1".into(),
            ..order.lines[0].clone()
        }],
        ..order
    };
    let result = plugin.submit_order(runtime, &options, &order).await;
    let requests = supplier.requests();
    match result {
        Ok(Ok(s)) => (
            "answer".into(),
            format!(
                "submitted as {} after {requests} requests",
                s.supplier_reference
            ),
        ),
        Ok(Err(e)) => (
            "typed-error".into(),
            format!("{e:?} after {requests} requests"),
        ),
        Err(e) => failure(e),
    }
}

/// A supplier on loopback that answers every request with one status.
struct Supplier {
    url: String,
    /// `127.0.0.1:<port>`.
    authority: String,
    requests: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Supplier {
    async fn start(status: StatusCode) -> std::io::Result<Supplier> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let authority = listener.local_addr()?.to_string();
        let url = format!("http://{authority}");
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let router = axum::Router::new().fallback(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                // One second: a plugin that honours it stays within its deadline.
                (
                    [("retry-after", "1")],
                    (status, "conformance: the supplier is unwell"),
                )
            }
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Supplier {
            url,
            authority,
            requests,
            stop: Some(stop),
        })
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Supplier {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Pushes `feed` in chunks, then finishes.
async fn feed_case(
    runtime: &Runtime,
    plugin: &Plugin,
    options: &CallOptions,
    content_type: &str,
    feed: &[u8],
) -> (String, String) {
    let mut session = match plugin
        .open_feed(runtime, options, Some(content_type.to_owned()))
        .await
    {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => return ("typed-error".into(), format!("open: {e:?}")),
        Err(e) => return failure(e),
    };
    let mut records = 0;
    for chunk in feed.chunks(CHUNK) {
        match session.push(chunk).await {
            Ok(Ok(r)) => records += r.len(),
            Ok(Err(e)) => return ("typed-error".into(), format!("push: {e:?}")),
            Err(e) => return failure(e),
        }
    }
    match session.finish().await {
        Ok(Ok(r)) => ("answer".into(), format!("{} records", records + r.len())),
        Ok(Err(e)) => ("typed-error".into(), format!("finish: {e:?}")),
        Err(e) => failure(e),
    }
}

/// (case, content type, bytes) of each feed case.
fn feeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let item = |id: &str, title: &str, description: &str| {
        format!(
            "<item><g:id>{id}</g:id><title>{title}</title><description>{description}</description>\
             <g:price>12.50 EUR</g:price><g:availability>in stock</g:availability></item>"
        )
    };
    let rss = |items: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
             xmlns:g=\"http://base.google.com/ns/1.0\"><channel><title>conformance</title>{items}</channel></rss>"
        )
    };
    let whole = rss(&item("SKU-1", "Mug", "A mug"));
    let truncated = whole.as_bytes()[..whole.len() * 2 / 3].to_vec();
    // Nine levels of ten: a billion expansions for a parser that expands.
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for level in 1..=9 {
        let previous = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        bomb.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    bomb.push_str(
        "]>\n<rss><channel><item><g:id>B</g:id><title>&lol9;</title></item></channel></rss>",
    );
    let odd = "\u{202e}gnp.exe \u{0301}\u{0301} \u{1F600}\u{200d}\u{1F525} \u{fffd} \u{10ffff} Ω≈ç";
    let mut odd_feed = rss(&item(&format!("SKU-{odd}"), odd, odd)).into_bytes();
    // Bytes that are not UTF-8 at all, after a valid item.
    odd_feed.splice(odd_feed.len() - 17..odd_feed.len() - 17, *b"\xff\xfe\xc3(");
    let csv_truncated = b"sku;name;price;stock\nSKU-1;Mug;12.50;3\nSKU-2;\"Tea".to_vec();
    // "Crème brûlée", "Cœur façonné" and "10 €" in windows-1252 (Microsoft's
    // cp1252 table: 0xE8 è, 0xFB û, 0xE9 é, 0x9C œ, 0xE7 ç, 0x80 €), with the
    // declaration that names it.
    let legacy_xml = {
        let item = item("SKU-\u{1}", "\u{2}", "\u{3}");
        let mut doc = rss(&item)
            .replacen("encoding=\"UTF-8\"", "encoding=\"windows-1252\"", 1)
            .into_bytes();
        for (placeholder, bytes) in [
            (1u8, &b"Cr\xE8me"[..]),
            (2, b"Cr\xE8me br\xFBl\xE9e"),
            (3, b"C\x9Cur fa\xE7onn\xE9, 10 \x80"),
        ] {
            if let Some(at) = doc.iter().position(|b| *b == placeholder) {
                doc.splice(at..=at, bytes.iter().copied());
            }
        }
        doc
    };
    // Excel's "Unicode text": UTF-16LE with a byte order mark, tab-separated.
    let unicode_text: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "sku\tname\tprice\tstock\r\nSKU-1\tCrème brûlée\t12,50\t3\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    vec![
        ("empty feed", "application/xml", Vec::new()),
        ("truncated feed", "application/xml", truncated),
        ("truncated CSV feed", "text/csv", csv_truncated),
        (
            "wrong format",
            "application/xml",
            b"{\"products\": [1, 2, {\"sku\": null}]}\x00\x01\x02".to_vec(),
        ),
        ("entity bomb", "application/xml", bomb.into_bytes()),
        (
            "1 MB description",
            "application/xml",
            // 12 bytes repeated to 1 MiB.
            rss(&item(
                "SKU-BIG",
                "Big",
                &"lorem ipsum ".repeat((1 << 20) / 12),
            ))
            .into_bytes(),
        ),
        ("odd Unicode", "application/xml", odd_feed),
        (
            "legacy encoding (windows-1252)",
            "application/xml",
            legacy_xml,
        ),
        (
            "unknown encoding",
            "application/xml",
            rss(&item("SKU-1", "Mug", "A mug"))
                .replacen("encoding=\"UTF-8\"", "encoding=\"x-unheard-of\"", 1)
                .into_bytes(),
        ),
        ("UTF-16 text (CSV)", "text/csv", unicode_text),
        // The same two in CSV, for the connectors that read CSV.
        (
            "1 MB description (CSV)",
            "text/csv",
            format!(
                "sku;name;description;price;stock\nSKU-BIG;Big;\"{}\";12.50;3\n",
                "lorem ipsum ".repeat((1 << 20) / 12)
            )
            .into_bytes(),
        ),
        ("odd Unicode (CSV)", "text/csv", {
            let mut csv =
                format!("sku;name;description;price;stock\nSKU-{odd};{odd};\"{odd}\n").into_bytes();
            // Bytes that are not UTF-8, inside a quoted field.
            csv.extend_from_slice(b"\xff\xfe\";12.50;3\n");
            csv
        }),
    ]
}

/// (case, order) of each order case.
fn orders_cases() -> Vec<(&'static str, Order)> {
    let address = Address {
        first_name: "Jeanne".into(),
        last_name: "Martin".into(),
        company: None,
        line1: "12 rue des Lilas".into(),
        line2: None,
        postal_code: "75011".into(),
        city: "Paris".into(),
        region: None,
        country_code: "FR".into(),
        phone: None,
        email: None,
    };
    let order = |key: &str, sku: &str, address: Address| Order {
        reference: format!("conformance-{key}"),
        idempotency_key: format!("conformance-{key}"),
        placed_at: "2026-01-01T00:00:00Z".into(),
        customer_email: None,
        shipping_address: address,
        billing_address: None,
        lines: vec![OrderLine {
            sku: sku.into(),
            quantity: 1,
            unit_price: Money {
                amount_minor: 1250,
                currency: "EUR".into(),
            },
            name: None,
        }],
        shipping_method: None,
        note: None,
    };
    let incomplete = Address {
        first_name: String::new(),
        last_name: String::new(),
        line1: String::new(),
        postal_code: String::new(),
        city: String::new(),
        country_code: String::new(),
        ..address.clone()
    };
    vec![
        (
            "order with an unknown SKU",
            order("unknown-sku", "NO-SUCH-SKU-\u{1F600}", address),
        ),
        (
            "order with an incomplete address",
            order("incomplete-address", "SKU-1", incomplete),
        ),
    ]
}

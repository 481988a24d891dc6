//! A plugin that misbehaves on demand, to prove the sandbox contains it.
//!
//! The setting `mode` decides what `push` does:
//! - `ok`: one product per chunk (named after the chunk's length);
//! - `loop`: spins forever;
//! - `oom`: allocates until memory runs out;
//! - `trap`: panics;
//! - `bloat`: returns records far larger than the chunk;
//! - `print`: writes a line to stdout and one to stderr, then behaves;
//! - `http`: sends a GET to the setting `url` (`repeat` times, default 1)
//!   and reports the last outcome as a product named
//!   `status <code> retry-after <seconds>` or a rejection with the error.
//!
//! `submit-order` with `mode=loop` spins too, so order calls are covered.

use shopbridge_guest_sdk::prelude::*;
use shopbridge_guest_sdk::{export_connector, http, settings};

/// The connector (public so that the native build, where the export macro
/// expands to nothing, still sees it used).
pub struct Hostile;

impl Connector for Hostile {
    fn metadata() -> Metadata {
        Metadata {
            name: "hostile".into(),
            version: "0.1.0".into(),
            description: "Misbehaves on demand, for sandbox tests.".into(),
            capabilities: vec![Capability::Catalog, Capability::Orders],
            settings: vec![SettingSpec {
                name: "mode".into(),
                description: "ok, loop, oom, trap, bloat or http".into(),
                required: false,
                secret: false,
                default_value: Some("ok".into()),
            }],
            hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "supplier.test".into(),
            ],
        }
    }

    fn open_feed(_content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        Ok(Box::new(Misbehave {
            mode: settings::get("mode").unwrap_or_default(),
            hoard: Vec::new(),
        }))
    }

    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        if settings::get("mode").as_deref() == Some("loop") {
            spin();
        }
        Ok(Submission {
            supplier_reference: format!("H-{}", order.idempotency_key),
            wholesale_total: None,
            message: None,
        })
    }
}

struct Misbehave {
    mode: String,
    hoard: Vec<Vec<u8>>,
}

impl FeedParse for Misbehave {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError> {
        match self.mode.as_str() {
            "loop" => spin(),
            "oom" => loop {
                // Touch every page so the memory is really committed.
                self.hoard.push(vec![1u8; 1 << 20]);
            },
            "trap" => panic!("the hostile plugin panics on purpose"),
            // A flood of log: records with huge messages and fields at
            // ERROR, and as many long lines on stdout.
            "logflood" => {
                let big = "x".repeat(64 << 10);
                let fields: Vec<(&str, &str)> = (0..64).map(|_| ("field", big.as_str())).collect();
                for _ in 0..1_000 {
                    shopbridge_guest_sdk::log::log(
                        shopbridge_guest_sdk::log::Level::Error,
                        &big,
                        &fields,
                    );
                }
                let line = "y".repeat(4 << 10);
                for _ in 0..10_000 {
                    println!("{line}");
                }
                Ok(vec![FeedRecord::Product(Product::new("flooded", "ok"))])
            }
            "print" => {
                println!("hello on stdout from the plugin");
                eprintln!("hello on stderr from the plugin");
                Ok(vec![FeedRecord::Product(Product::new("printed", "ok"))])
            }
            "bloat" => {
                let big = "x".repeat(1 << 20);
                Ok((0..24)
                    .map(|i| {
                        let mut p = Product::new(format!("bloat-{i}"), "bloat");
                        p.description = Some(big.clone());
                        FeedRecord::Product(p)
                    })
                    .collect())
            }
            "http" => {
                let url = settings::get("url").unwrap_or_default();
                let repeat: u32 = settings::get("repeat")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(1);
                // A header the plugin asks for, `name:value` (F18: `Host`).
                let header = settings::get("header");
                let request = |url: String| {
                    let mut request = http::Request::get(url);
                    if let Some((name, value)) = header.as_deref().and_then(|h| h.split_once(':')) {
                        request = request.header(name, value);
                    }
                    request
                };
                let mut outcome = request(url.clone()).send();
                for _ in 1..repeat {
                    outcome = request(url.clone()).send();
                }
                Ok(vec![match outcome {
                    Ok(response) => FeedRecord::Product(Product::new(
                        "http",
                        match response.retry_after_seconds {
                            Some(s) => format!("status {} retry-after {s}", response.status),
                            None => format!("status {}", response.status),
                        },
                    )),
                    Err(e) => FeedRecord::Rejected(Rejection::new(None, None, http::describe(&e))),
                }])
            }
            _ => Ok(vec![FeedRecord::Product(Product::new(
                format!("chunk-{}", chunk.len()),
                "ok",
            ))]),
        }
    }

    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError> {
        Ok(Vec::new())
    }
}

fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

export_connector!(Hostile);

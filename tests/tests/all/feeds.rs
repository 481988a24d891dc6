//! Feeds through the plugin ABI: real files (the shared fixtures and the
//! project's own), every chunk size, over real HTTP, hostile XML, and a
//! large generated feed in a few MiB of guest memory.

use std::time::{Duration, Instant};

use shopbridge::feed::{FeedRunError, FeedSource, FeedSummary, parse_feed};
use shopbridge::plugins::{CallOptions, Plugin};
use shopbridge::runtime::Settings;
use shopbridge::runtime::bindings::shopbridge::connector::types::{
    Availability, FeedError, FeedRecord, Money, Product,
};
use shopbridge_tests::feedgen::merchant_feed;
use shopbridge_tests::{
    LoopbackServer, block_on, components, plugin, project_fixture, runtime, shared_fixtures,
};

/// Parses `bytes` with `plugin`, pushing `chunk` bytes at a time.
async fn parse_bytes(
    plugin: &Plugin,
    options: &CallOptions,
    bytes: &[u8],
    chunk: usize,
) -> Result<Vec<FeedRecord>, String> {
    let mut session = plugin
        .open_feed(runtime(), options, None)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e:?}"))?;
    let mut records = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        records.extend(
            session
                .push(piece)
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{e:?}"))?,
        );
    }
    records.extend(
        session
            .finish()
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{e:?}"))?,
    );
    Ok(records)
}

async fn parse_file(
    plugin: &Plugin,
    options: &CallOptions,
    path: &std::path::Path,
) -> (Vec<FeedRecord>, FeedSummary) {
    let mut records = Vec::new();
    let summary = parse_feed(
        runtime(),
        plugin,
        options,
        &FeedSource::File(path.to_path_buf()),
        shopbridge::feed::DEFAULT_CHUNK_BYTES,
        |r| records.push(r.clone()),
        |_, _| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (records, summary)
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

fn usd(amount_minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: "USD".into(),
    })
}

#[test]
fn google_base_rss_fixture_gives_the_right_values() {
    let Some(dir) = shared_fixtures() else { return };
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let (records, summary) = parse_file(
            &merchant,
            &CallOptions::default(),
            &dir.join("xml/google-base-rss-products2.xml"),
        )
        .await;
        let p = products(&records);
        assert_eq!(p.len(), 2, "{records:?}");
        assert_eq!(summary.products, 2);
        assert_eq!(summary.rejected, 0);
        assert_eq!(p[0].sku, "1092");
        assert_eq!(p[0].name, "Google Mini");
        assert_eq!(p[0].retail_price, usd(299_500));
        assert_eq!(p[0].brand.as_deref(), Some("Google"));
        assert_eq!(p[0].gtin.as_deref(), Some("12348573"));
        assert_eq!(
            p[0].link.as_deref(),
            Some("http://www.googlestore.com/appliance/GO0123.asp")
        );
        assert_eq!(
            p[0].image_urls.first().map(String::as_str),
            Some("http://www.googlestore.com/appliance/images/products/GO0144E.jpg")
        );
        assert!(
            p[0].description
                .as_deref()
                .is_some_and(|d| d.starts_with("Now the same reliable results"))
        );
        assert_eq!(p[1].sku, "822");
        assert_eq!(p[1].name, "Acme Laptop");
        assert_eq!(p[1].retail_price, usd(140_000));
        assert_eq!(p[1].brand.as_deref(), Some("Acme"));
        assert_eq!(p[1].gtin.as_deref(), Some("2305934757"));
        assert!(summary.guest_memory_peak_bytes < 8 << 20);
    });
}

#[test]
fn google_base_atom_fixture_gives_the_right_values() {
    let Some(dir) = shared_fixtures() else { return };
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let (records, _) = parse_file(
            &merchant,
            &CallOptions::default(),
            &dir.join("xml/google-base-atom-products.xml"),
        )
        .await;
        let p = products(&records);
        assert_eq!(p.len(), 2, "{records:?}");
        assert_eq!(p[0].sku, "tag:providers-website-item1.com,2003:3.2397");
        assert_eq!(p[0].name, "Google Mini");
        assert_eq!(
            p[0].link.as_deref(),
            Some("http://provider-website.com/item1-info-page.html")
        );
        assert_eq!(p[0].retail_price, usd(299_500));
        assert_eq!(p[1].name, "Acme Laptop");
    });
}

#[test]
fn every_chunk_size_gives_the_same_records() {
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let bytes = std::fs::read(project_fixture(
            "plugins/google-merchant/fixtures/merchant-rss.xml",
        ))
        .expect("fixture");
        let whole = parse_bytes(&merchant, &CallOptions::default(), &bytes, bytes.len())
            .await
            .expect("parses");
        assert!(products(&whole).len() >= 3, "{whole:?}");
        for chunk in 1..=bytes.len() {
            let cut = parse_bytes(&merchant, &CallOptions::default(), &bytes, chunk)
                .await
                .expect("parses");
            assert_eq!(cut, whole, "chunk size {chunk} changed the output");
        }
    });
}

#[test]
fn a_feed_over_http_parses_like_the_file() {
    let path = project_fixture("plugins/google-merchant/fixtures/merchant-rss.xml");
    let body = std::fs::read(&path).expect("fixture");
    let server = LoopbackServer::start(axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/rss+xml")], body) }
        }),
    ));
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let (from_file, _) = parse_file(&merchant, &CallOptions::default(), &path).await;
        let mut from_http = Vec::new();
        let source = FeedSource::parse(&server.url("/feed.xml"));
        assert!(matches!(source, FeedSource::Url(_)));
        let mut progress = Vec::new();
        let summary = parse_feed(
            runtime(),
            &merchant,
            &CallOptions::default(),
            &source,
            100,
            |r| from_http.push(r.clone()),
            |done, total| progress.push((done, total)),
        )
        .await
        .expect("parses over HTTP");
        assert_eq!(from_http, from_file);
        assert_eq!(
            summary.bytes,
            std::fs::metadata(&path).expect("fixture").len()
        );
        assert!(progress.len() > 2, "progress is reported per chunk");
        assert_eq!(progress.last().map(|p| p.1), Some(Some(summary.bytes)));
        // A feed URL that answers 404 is a clear source error.
        let missing = FeedSource::parse(&server.url("/missing.xml"));
        let err = parse_feed(
            runtime(),
            &merchant,
            &CallOptions::default(),
            &missing,
            100,
            |_| {},
            |_, _| {},
        )
        .await
        .expect_err("404");
        assert!(
            matches!(&err, FeedRunError::Source(m) if m.contains("404")),
            "{err}"
        );
    });
}

#[test]
fn hostile_xml_is_refused_quickly_without_expansion_or_fetch() {
    let Some(dir) = shared_fixtures() else { return };
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let attacks = std::fs::read_dir(dir.join("attacks")).expect("attacks folder");
        let mut seen = 0;
        for entry in attacks {
            let path = entry.expect("entry").path();
            seen += 1;
            let started = Instant::now();
            let mut records = Vec::new();
            let result = parse_feed(
                runtime(),
                &merchant,
                &CallOptions::default(),
                &FeedSource::File(path.clone()),
                4096,
                |r| records.push(r.clone()),
                |_, _| {},
            )
            .await;
            let took = started.elapsed();
            assert!(
                took < Duration::from_secs(2),
                "{} took {took:?}",
                path.display()
            );
            match result {
                Err(FeedRunError::Feed(FeedError::Refused(_) | FeedError::Malformed(_))) => {}
                Ok(summary) => {
                    assert_eq!(
                        summary.products,
                        0,
                        "{} produced products: {records:?}",
                        path.display()
                    );
                    assert!(summary.guest_memory_peak_bytes < 8 << 20);
                }
                Err(other) => panic!("{}: unexpected {other}", path.display()),
            }
        }
        assert!(
            seen >= 8,
            "expected the defusedxml attack files, saw {seen}"
        );
    });
}

#[test]
fn a_large_feed_streams_in_a_few_mib_of_guest_memory() {
    block_on(async {
        let merchant = plugin(components::GOOGLE_MERCHANT).await;
        let (feed, items) = merchant_feed(16 << 20);
        let mut session = merchant
            .open_feed(runtime(), &CallOptions::default(), None)
            .await
            .expect("instantiates")
            .expect("opens");
        let mut count = 0u64;
        let mut last: Option<Product> = None;
        for chunk in feed.chunks(64 << 10) {
            for r in session.push(chunk).await.expect("runs").expect("parses") {
                if let FeedRecord::Product(p) = r {
                    count += 1;
                    last = Some(p);
                }
            }
        }
        assert!(
            session
                .finish()
                .await
                .expect("runs")
                .expect("finishes")
                .is_empty()
        );
        assert_eq!(count, items);
        let last = last.expect("products");
        assert_eq!(last.sku, format!("SKU-{:08}", items - 1));
        assert_eq!(last.category_path, vec!["Vêtements", "Hauts", "T-shirts"]);
        assert!(
            session.memory_peak() < 8 << 20,
            "guest memory peak {}",
            session.memory_peak()
        );
    });
}

#[test]
fn csv_wholesaler_feed_uses_its_settings() {
    let csv = "Reference;Nom;PrixHT;PVC;Stock;EAN13;Marque;Categorie\n\
               REF-1;Théière fonte 1,2 L;24,90;49,90;12;0012345678905;Fonte & Co;Cuisine > Thé\n\
               REF-2;Tasse \"bistrot\";3,10;6,90;0;3760000000019;Bistrot;Cuisine > Tasses\n\
               REF-3;Prix illisible;abc;6,90;4;;;\n";
    block_on(async {
        let wholesaler = plugin(components::CSV_WHOLESALER).await;
        let options = CallOptions {
            settings: Settings::from_pairs([
                ("delimiter".to_owned(), ";".to_owned()),
                (
                    "columns".to_owned(),
                    "sku=Reference;name=Nom;wholesale_price=PrixHT;retail_price=PVC;stock=Stock;ean=EAN13;brand=Marque;category=Categorie".to_owned(),
                ),
            ]),
            ..CallOptions::default()
        };
        for chunk in [1, 7, 64, csv.len()] {
            let records = parse_bytes(&wholesaler, &options, csv.as_bytes(), chunk)
                .await
                .expect("parses");
            let p = products(&records);
            assert_eq!(p.len(), 2, "chunk {chunk}: {records:?}");
            assert_eq!(p[0].sku, "REF-1");
            assert_eq!(p[0].name, "Théière fonte 1,2 L");
            assert_eq!(
                p[0].wholesale_price,
                Some(Money {
                    amount_minor: 2490,
                    currency: "EUR".into()
                })
            );
            assert_eq!(
                p[0].retail_price,
                Some(Money {
                    amount_minor: 4990,
                    currency: "EUR".into()
                })
            );
            assert_eq!(p[0].gtin.as_deref(), Some("0012345678905"));
            assert_eq!(p[0].stock_quantity, Some(12));
            assert_eq!(p[0].category_path, vec!["Cuisine", "Thé"]);
            assert_eq!(p[1].name, "Tasse \"bistrot\"");
            assert_eq!(p[1].availability, Availability::OutOfStock);
            let rejected: Vec<_> = records
                .iter()
                .filter_map(|r| match r {
                    FeedRecord::Rejected(r) => Some(r),
                    FeedRecord::Product(_) => None,
                })
                .collect();
            assert_eq!(rejected.len(), 1, "{records:?}");
            assert_eq!(rejected[0].sku.as_deref(), Some("REF-3"));
            assert!(
                rejected[0]
                    .position
                    .as_deref()
                    .is_some_and(|p| p.contains('4')),
                "{:?}",
                rejected[0]
            );
        }
    });
}

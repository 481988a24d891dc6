//! Feeds in the encodings suppliers really use, synced over HTTP by the real
//! server on SQLite and PostgreSQL, and read back by the shop: Merchant XML
//! in windows-1252, windows-1250, ISO-8859-15 and UTF-16 (as their XML
//! declarations or byte order marks say), a CSV saved by Excel in
//! windows-1252 read by the `encoding` setting (and by `auto`), Excel's
//! UTF-16LE "Unicode text", a row that is not valid in its encoding, and
//! feeds that lie about their encoding.
//!
//! The legacy bytes come from the code pages' published tables (Microsoft's
//! cp1252.txt and cp1250.txt, ISO/IEC 8859-15): windows-1252 0xE8 è, 0xFB û,
//! 0xE9 é, 0x9C œ, 0xE7 ç, 0x80 €; windows-1250 0x8A Š, 0xE8 č, 0xE1 á,
//! 0xF8 ř, 0xED í; ISO-8859-15 0xBD œ, 0xA4 €.

use axum::Router;
use axum::http::header;
use axum::routing::get;
use shopbridge_tests::feedgen::{merchant_feed_in as merchant, utf16le_with_mark};
use shopbridge_tests::{LoopbackServer, components};

use crate::catalog::sync_binding as sync;
use crate::support::*;

on_both_databases!(feeds_in_legacy_encodings_sync_with_every_accent);

/// The names the tests expect, in UTF-8, and the same in windows-1252.
const FRENCH: [&str; 3] = ["Crème brûlée", "Cœur façonné", "Prix 10 €"];
const FRENCH_1252: [&[u8]; 3] = [
    b"Cr\xE8me br\xFBl\xE9e",
    b"C\x9Cur fa\xE7onn\xE9",
    b"Prix 10 \x80",
];

/// A `;` CSV export whose product `{prefix}{i}` is named `names[i]`, with
/// the header line `header`, each line ending in `\r\n` as Excel writes.
fn export(header: &[u8], prefix: &str, names: &[&[u8]]) -> Vec<u8> {
    let mut csv = header.to_vec();
    for (i, name) in names.iter().enumerate() {
        csv.extend_from_slice(format!("{prefix}{i};").as_bytes());
        csv.extend_from_slice(name);
        csv.extend_from_slice(b";4,50;3\r\n");
    }
    csv
}

/// One binding: its id, plugin, settings (TOML inline table body), feed,
/// and the names its products must have, by SKU (`None`: the sync fails
/// with an error containing the text given instead).
struct Case {
    binding: &'static str,
    plugin: &'static str,
    settings: &'static str,
    feed: Vec<u8>,
    expect: Result<Vec<(String, String)>, &'static str>,
}

fn named(prefix: &str, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{prefix}{i}"), (*n).to_owned()))
        .collect()
}

fn cases() -> Vec<Case> {
    let header_1252 = b"R\xE9f\xE9rence;D\xE9signation;Prix HT;Stock\r\n";
    let unicode = {
        let mut text = String::from("Référence\tDésignation\tPrix HT\tStock\r\n");
        for (i, name) in FRENCH.iter().enumerate() {
            text.push_str(&format!("UT{i}\t{name}\t4,50\t3\r\n"));
        }
        utf16le_with_mark(&text)
    };
    // Line 3 holds a lone surrogate: not UTF-16, so that row alone is out.
    let broken = {
        let mut bytes =
            utf16le_with_mark("Référence;Désignation;Prix HT;Stock\r\nBR0;Crème;4,50;3\r\nBR1;C");
        bytes.extend_from_slice(&0xDC00u16.to_le_bytes());
        bytes.extend(
            "ur;4,50;3\r\nBR2;Prix 10 €;4,50;3\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        bytes
    };
    let utf16_xml = {
        let utf8 = merchant("UTF-16", "XU", &FRENCH.map(str::as_bytes));
        utf16le_with_mark(&String::from_utf8(utf8).expect("UTF-8"))
    };
    vec![
        Case {
            binding: "xml-1252",
            plugin: "google-merchant",
            settings: "",
            feed: merchant("windows-1252", "XW", &FRENCH_1252),
            expect: Ok(named("XW", &FRENCH)),
        },
        Case {
            binding: "xml-1250",
            plugin: "google-merchant",
            settings: "",
            feed: merchant(
                "windows-1250",
                "XC",
                &[b"\x8Akoda \xE8erven\xE1", b"\xF8\xEDzen\xED"],
            ),
            expect: Ok(named("XC", &["Škoda červená", "řízení"])),
        },
        Case {
            binding: "xml-8859-15",
            plugin: "google-merchant",
            settings: "",
            feed: merchant("ISO-8859-15", "XI", &[b"C\xBDur", b"10 \xA4"]),
            expect: Ok(named("XI", &["Cœur", "10 €"])),
        },
        Case {
            binding: "xml-utf16",
            plugin: "google-merchant",
            settings: "",
            feed: utf16_xml,
            expect: Ok(named("XU", &FRENCH)),
        },
        Case {
            binding: "xml-lying",
            plugin: "google-merchant",
            settings: "",
            feed: merchant("windows-1252", "XL", &FRENCH.map(str::as_bytes)),
            expect: Err("its text is UTF-8"),
        },
        Case {
            binding: "xml-unknown",
            plugin: "google-merchant",
            settings: "",
            feed: merchant("x-klingon", "XK", &[b"a"]),
            expect: Err("unknown encoding 'x-klingon'"),
        },
        Case {
            binding: "csv-1252",
            plugin: "csv-wholesaler",
            settings: r#"delimiter = ";", encoding = "windows-1252""#,
            feed: export(header_1252, "CW", &FRENCH_1252),
            expect: Ok(named("CW", &FRENCH)),
        },
        Case {
            binding: "csv-auto",
            plugin: "csv-wholesaler",
            settings: r#"encoding = "auto""#,
            feed: export(header_1252, "CA", &FRENCH_1252),
            expect: Ok(named("CA", &FRENCH)),
        },
        Case {
            binding: "csv-unicode",
            plugin: "csv-wholesaler",
            settings: "",
            feed: unicode,
            expect: Ok(named("UT", &FRENCH)),
        },
        Case {
            binding: "csv-broken-row",
            plugin: "csv-wholesaler",
            settings: "",
            feed: broken,
            expect: Ok(vec![
                ("BR0".into(), "Crème".into()),
                ("BR2".into(), "Prix 10 €".into()),
            ]),
        },
        Case {
            binding: "csv-as-utf8",
            plugin: "csv-wholesaler",
            settings: "",
            feed: export(header_1252, "CU", &FRENCH_1252),
            expect: Err("is not valid UTF-8"),
        },
    ]
}

fn feeds_in_legacy_encodings_sync_with_every_accent(db: Db) {
    let cases = cases();
    let mut router = Router::new();
    for case in &cases {
        let body = axum::body::Bytes::from(case.feed.clone());
        // Served as web servers serve files they know nothing of.
        router = router.route(
            &format!("/{}", case.binding),
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    body.clone(),
                )
            }),
        );
    }
    let feed_server = LoopbackServer::start(router);

    let database = Database::new(db);
    let mut config = config_head(
        &database,
        "",
        &[
            ("google-merchant", components::GOOGLE_MERCHANT),
            ("csv-wholesaler", components::CSV_WHOLESALER),
        ],
        &[],
    );
    for case in &cases {
        config.push_str(&format!(
            r#"
[[bindings]]
id = "{}"
shop = "{SHOP}"
plugin = "{}"
allow_hosts = ["127.0.0.1"]
allow_private_network = true
settings = {{ {} }}

[bindings.catalog]
feed_url = "{}"
"#,
            case.binding,
            case.plugin,
            case.settings,
            feed_server.url(&format!("/{}", case.binding))
        ));
    }
    let server = serve_config("encodings", &config);
    let shop = server.shop();

    for case in &cases {
        let run = sync(&shop, case.binding);
        let binding = case.binding;
        match &case.expect {
            Ok(products) => {
                assert_eq!(run["state"], "succeeded", "{binding}: {run}");
                assert_eq!(
                    run["created"].as_u64(),
                    Some(products.len() as u64),
                    "{binding}: {run}"
                );
                for (sku, name) in products {
                    let product = shop.send(
                        "GET",
                        &format!("/v1/shops/demo/catalog/products/{sku}"),
                        b"",
                    );
                    assert_eq!(product.status, 200, "{binding} {sku}: {:?}", product.body);
                    assert_eq!(
                        product.body["product"]["name"].as_str(),
                        Some(name.as_str()),
                        "{binding} {sku}: {:?}",
                        product.body
                    );
                }
            }
            Err(error) => {
                assert_eq!(run["state"], "failed", "{binding}: {run}");
                assert!(
                    run["error"].as_str().is_some_and(|e| e.contains(error)),
                    "{binding}: {run}"
                );
            }
        }
    }
    // The broken row is a rejection naming its line and encoding, and
    // nothing half-decoded was stored for it.
    let broken = sync(&shop, "csv-broken-row");
    assert_eq!(broken["rejected"], 1, "{broken}");
    let missing = shop.send("GET", "/v1/shops/demo/catalog/products/BR1", b"");
    assert_eq!(missing.status, 404, "{:?}", missing.body);
    let text = broken["rejections"].to_string();
    assert!(
        text.contains("line 3") && text.contains("not valid UTF-16LE"),
        "{text}"
    );
}

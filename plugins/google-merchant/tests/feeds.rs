//! The connector against real Google Base feeds (the shared fixtures), the
//! project's own Merchant Center fixtures, and XML attack files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use google_merchant::MerchantParser;
use shopbridge_guest_sdk::prelude::*;
use shopbridge_guest_sdk::testing;

fn shared_fixtures() -> Option<PathBuf> {
    shopbridge_guest_sdk::testing::shared_fixtures(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ))
}

fn shared(path: &str) -> Option<Vec<u8>> {
    let file = shared_fixtures()?.join(path);
    Some(std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
}

fn own(name: &str) -> Vec<u8> {
    let file = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")).join(name);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// Parses `feed` pushed in chunks of `chunk` bytes with EUR as default.
fn parse(feed: &[u8], chunk: usize) -> Result<Vec<FeedRecord>, FeedError> {
    let mut parser = MerchantParser::new("EUR");
    let mut records = Vec::new();
    for piece in feed.chunks(chunk.max(1)) {
        records.extend(parser.push(piece)?);
    }
    records.extend(parser.finish()?);
    Ok(records)
}

fn parse_all(feed: &[u8]) -> Vec<FeedRecord> {
    parse(feed, 4096).expect("the feed parses")
}

fn product(record: &FeedRecord) -> &Product {
    match record {
        FeedRecord::Product(p) => p,
        FeedRecord::Rejected(r) => panic!("expected a product, got {r:?}"),
    }
}

fn rejection(record: &FeedRecord) -> &Rejection {
    match record {
        FeedRecord::Rejected(r) => r,
        FeedRecord::Product(p) => panic!("expected a rejection, got {p:?}"),
    }
}

fn money(amount_minor: i64, currency: &str) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: currency.into(),
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn attributes(pairs: &[(&str, &str)]) -> Vec<Attribute> {
    pairs
        .iter()
        .map(|(name, value)| Attribute {
            name: (*name).into(),
            value: (*value).into(),
        })
        .collect()
}

const GOOGLE_MINI: &str = "Now the same reliable results you expect from Google web search";

#[test]
fn legacy_google_base_rss() {
    let Some(feed) = shared("xml/google-base-rss-products2.xml") else {
        return;
    };
    let records = parse_all(&feed);
    assert_eq!(records.len(), 2);

    let mini = product(&records[0]);
    assert_eq!(mini.sku, "1092"); // from <guid>: the file has no g:id
    assert_eq!(mini.name, "Google Mini");
    assert!(
        mini.description
            .as_deref()
            .is_some_and(|d| d.starts_with(GOOGLE_MINI) && d.ends_with("replacement coverage."))
    );
    assert_eq!(
        mini.link.as_deref(),
        Some("http://www.googlestore.com/appliance/GO0123.asp")
    );
    assert_eq!(
        mini.image_urls,
        ["http://www.googlestore.com/appliance/images/products/GO0144E.jpg"]
    );
    // "2995" with the legacy <g:currency>USD</g:currency>.
    assert_eq!(mini.retail_price, money(299_500, "USD"));
    assert_eq!(mini.sale_price, None);
    assert_eq!(mini.brand.as_deref(), Some("Google"));
    assert_eq!(mini.gtin.as_deref(), Some("12348573")); // g:upc
    assert_eq!(mini.mpn.as_deref(), Some("2325")); // g:manufacturer_id
    assert_eq!(mini.stock_quantity, Some(300));
    assert_eq!(mini.availability, Availability::InStock);
    assert_eq!(
        mini.attributes,
        attributes(&[("size", "10x50x20"), ("color", "blue")])
    );
    assert!(mini.category_path.is_empty());
    assert_eq!(mini.weight_grams, None); // g:weight "2" has no unit
    assert_eq!(mini.group_id, None);

    let laptop = product(&records[1]);
    assert_eq!(laptop.sku, "822");
    assert_eq!(laptop.name, "Acme Laptop");
    assert_eq!(
        laptop.description.as_deref(),
        Some("Acme 2000 series laptop")
    );
    assert_eq!(
        laptop.link.as_deref(),
        Some("http://provider-website.com/item2-info-page.html")
    );
    assert_eq!(
        laptop.image_urls,
        ["http://www.providers-website.com/image2.jpg"]
    );
    // The nested <g:shipping><g:price>32.95</g:price> is not the product's.
    assert_eq!(laptop.retail_price, money(140_000, "USD"));
    assert_eq!(laptop.brand.as_deref(), Some("Acme"));
    assert_eq!(laptop.gtin.as_deref(), Some("2305934757"));
    assert_eq!(laptop.mpn.as_deref(), Some("834"));
    assert_eq!(laptop.stock_quantity, Some(20));
    assert_eq!(laptop.category_path, ["electronics"]);
    assert_eq!(
        laptop.attributes,
        attributes(&[("size", "14x14x3"), ("color", "black")])
    );
}

#[test]
fn legacy_google_base_atom() {
    let Some(feed) = shared("xml/google-base-atom-products.xml") else {
        return;
    };
    let records = parse_all(&feed);
    assert_eq!(records.len(), 2);

    let mini = product(&records[0]);
    assert_eq!(mini.sku, "tag:providers-website-item1.com,2003:3.2397"); // <id>
    assert_eq!(mini.name, "Google Mini");
    assert!(
        mini.description
            .as_deref()
            .is_some_and(|d| d.starts_with(GOOGLE_MINI))
    );
    assert_eq!(
        mini.link.as_deref(),
        Some("http://provider-website.com/item1-info-page.html")
    );
    assert_eq!(
        mini.image_urls,
        ["http://www.googlestore.com/appliance/images/products/GO0144E.jpg"]
    );
    assert_eq!(mini.retail_price, money(299_500, "USD"));
    assert_eq!(mini.brand.as_deref(), Some("Google"));
    assert_eq!(mini.gtin.as_deref(), Some("12348573"));
    assert_eq!(mini.stock_quantity, Some(300));
    assert_eq!(mini.category_path, ["ship"]);

    let laptop = product(&records[1]);
    assert_eq!(laptop.name, "Acme Laptop");
    assert_eq!(
        laptop.description.as_deref(),
        Some("Acme 2000 series laptop")
    );
    assert_eq!(
        laptop.link.as_deref(),
        Some("http://provider-website.com/item2-info-page.html")
    );
    assert_eq!(laptop.retail_price, money(140_000, "USD"));
    assert_eq!(laptop.gtin.as_deref(), Some("2305934757"));
    assert_eq!(laptop.category_path, ["electronics"]);
}

#[test]
fn modern_merchant_rss() {
    let records = parse_all(&own("merchant-rss.xml"));
    assert_eq!(records.len(), 10);

    let mut red = Product::new("TS-RED-M", "Organic cotton T-shirt – red, M");
    red.description = Some(
        "<p>Soft <strong>organic</strong> cotton, 180 g/m².</p>\n\
         <p>Made in Portugal — « élégant » & durable.</p>"
            .into(),
    );
    red.link = Some(
        "https://shop.example.com/products/organic-tee?variant=red-m&utm_source=google".into(),
    );
    red.image_urls = strings(&[
        "https://cdn.example.com/tee-red-front.jpg",
        "https://cdn.example.com/tee-red-back.jpg",
        "https://cdn.example.com/tee-red-detail.jpg",
    ]);
    red.availability = Availability::InStock;
    red.stock_quantity = Some(42);
    red.retail_price = money(2990, "EUR");
    red.sale_price = money(1990, "EUR");
    red.brand = Some("Lumière & Fils".into());
    red.gtin = Some("03234567890126".into());
    red.mpn = Some("LF-TEE-001-RM".into());
    red.category_path = strings(&["Apparel & Accessories", "Clothing", "Shirts & Tops"]);
    red.group_id = Some("TS-ORGANIC".into());
    red.attributes = attributes(&[
        ("color", "Red"),
        ("size", "M"),
        ("material", "Organic cotton"),
        ("pattern", "Solid"),
        ("gender", "unisex"),
        ("age_group", "adult"),
    ]);
    red.weight_grams = Some(250);
    assert_eq!(product(&records[0]), &red);

    let blue = product(&records[1]);
    assert_eq!(blue.sku, "TS-BLUE-L");
    assert_eq!(
        blue.description.as_deref(),
        Some("<p>Classic fit &mdash; <em>garment-dyed</em>.</p>")
    );
    assert_eq!(blue.availability, Availability::OutOfStock);
    assert_eq!(blue.retail_price, money(2990, "EUR"));
    assert_eq!(blue.sale_price, None);
    assert_eq!(blue.group_id.as_deref(), Some("TS-ORGANIC"));
    assert_eq!(
        blue.attributes,
        attributes(&[("color", "Blue"), ("size", "L")])
    );
    assert_eq!(blue.gtin.as_deref(), Some("3234567890133"));
    assert_eq!(blue.weight_grams, Some(300));
    assert_eq!(
        blue.image_urls,
        ["https://cdn.example.com/tee-blue-front.jpg"]
    );

    let book = product(&records[2]);
    assert_eq!(book.name, "Les Jardins de Kyōto (hardcover)");
    assert_eq!(
        book.availability,
        Availability::Preorder(Some("2027-03-15".into()))
    );
    assert_eq!(book.retail_price, money(2400, "USD"));
    assert_eq!(book.gtin.as_deref(), Some("9780306406157"));
    assert_eq!(book.category_path, ["Media", "Books", "Travel"]);
    assert_eq!(book.weight_grams, Some(907)); // 2 lb

    let lamp = product(&records[3]);
    assert_eq!(lamp.availability, Availability::Backorder);
    assert_eq!(lamp.retail_price, money(8900, "EUR")); // "89", default currency
    assert_eq!(lamp.category_path, ["Home & Garden", "Lighting", "Lamps"]);
    assert_eq!(lamp.weight_grams, Some(85)); // 3 oz
    assert_eq!(lamp.mpn.as_deref(), Some("AN-DL-7"));
    assert_eq!(lamp.image_urls.len(), 2);

    let expected_rejections = [
        (
            Some("CANDLE-09"),
            "item 5",
            "price 'twelve euros' is not an amount",
        ),
        (Some("SOCK-01"), "item 6", "missing title"),
        (Some("BAG-XL"), "item 7", "undefined entity &nbsp;"),
        (None, "item 8", "missing id (g:id)"),
        (
            Some("VASE-03"),
            "item 9",
            "availability 'maybe later' is not one of in_stock, out_of_stock, preorder, \
             backorder, discontinued",
        ),
    ];
    for (record, (sku, position, reason)) in records[4..9].iter().zip(expected_rejections) {
        let rejection = rejection(record);
        assert_eq!(rejection.sku.as_deref(), sku);
        assert_eq!(rejection.position.as_deref(), Some(position));
        assert_eq!(rejection.reason, reason);
    }

    let teapot = product(&records[9]);
    assert_eq!(teapot.sku, "TEA-POT-08");
    assert_eq!(teapot.name, "Théière en fonte 日本 0,8 l");
    assert_eq!(
        teapot.link.as_deref(),
        Some("https://shop.example.com/teapots/tetsubin")
    );
    assert_eq!(
        teapot.description.as_deref(),
        Some("Cast-iron teapot.   Enamelled inside.")
    );
    assert_eq!(teapot.availability, Availability::InStock);
    assert_eq!(teapot.retail_price, money(5900, "EUR"));
    assert_eq!(teapot.sale_price, money(4950, "EUR"));
    assert_eq!(
        teapot.category_path,
        ["Home & Garden", "Kitchen & Dining", "Teapots"]
    );
    assert_eq!(teapot.weight_grams, Some(1500));
    assert_eq!(teapot.stock_quantity, Some(3));
}

#[test]
fn merchant_atom() {
    let records = parse_all(&own("merchant-atom.xml"));
    assert_eq!(records.len(), 3);

    let mut mug = Product::new("MUG-01", "Stoneware mug, 350 ml");
    mug.link = Some("https://shop.example.com/mugs/stoneware?color=blue&size=350".into());
    mug.description = Some("Hand-glazed <b>stoneware</b>; each one is unique.".into());
    mug.image_urls = strings(&[
        "https://cdn.example.com/mug.jpg",
        "https://cdn.example.com/mug-top.jpg",
    ]);
    mug.retail_price = money(1250, "EUR");
    mug.stock_quantity = Some(120);
    mug.brand = Some("Atelier Nord".into());
    mug.gtin = Some("4006381333931".into());
    mug.category_path = strings(&["Home", "Kitchen", "Mugs"]);
    mug.group_id = Some("MUG".into());
    mug.attributes = attributes(&[("color", "Blue")]);
    mug.weight_grams = Some(450);
    assert_eq!(product(&records[0]), &mug);

    let towel = product(&records[1]);
    assert_eq!(towel.sku, "urn:uuid:9d6c1a8e-2f55-4c1b-8f0e-4a7f3b2e6d01");
    assert_eq!(towel.name, "Linen tea towel");
    // The rel="enclosure" link is skipped; a link without rel is the page.
    assert_eq!(
        towel.link.as_deref(),
        Some("https://shop.example.com/linen/tea-towel")
    );
    assert_eq!(
        towel.description.as_deref(),
        Some("<ul><li>100 % linen</li><li>50 × 70 cm</li></ul>")
    );
    assert_eq!(towel.retail_price, money(700, "EUR"));
    assert_eq!(
        towel.availability,
        Availability::Preorder(Some("2026-09-01".into()))
    );
    assert_eq!(towel.mpn.as_deref(), Some("LT-50-70"));

    let bowl = rejection(&records[2]);
    assert_eq!(bowl.sku.as_deref(), Some("BOWL-02"));
    assert_eq!(bowl.position.as_deref(), Some("entry 3"));
    assert_eq!(bowl.reason, "sale_price 'cheap' is not an amount");
}

#[test]
fn the_output_does_not_depend_on_the_chunk_size() {
    let mut feeds = vec![
        ("merchant-rss.xml", own("merchant-rss.xml")),
        ("merchant-atom.xml", own("merchant-atom.xml")),
    ];
    if let Some(feed) = shared("xml/google-base-rss-products2.xml") {
        feeds.push(("google-base-rss-products2.xml", feed));
    }
    for (name, feed) in feeds {
        let whole = parse(&feed, feed.len()).expect("parses");
        for size in 1..feed.len() {
            let chunked = parse(&feed, size).expect("parses");
            assert!(chunked == whole, "{name}: chunks of {size} bytes differ");
        }
    }
}

#[test]
fn attack_files_are_refused_quickly_and_nothing_is_fetched() {
    let Some(dir) = shared_fixtures() else {
        return;
    };
    testing::reset();
    let refused = [
        "attacks/xmlbomb.xml",
        "attacks/xmlbomb2.xml",
        "attacks/quadratic.xml",
        "attacks/cyclic.xml",
        "attacks/external.xml",
        "attacks/external_file.xml",
    ];
    // No entities, but no feed either: an XHTML page with an external DTD, a
    // DTD with element declarations, an Icecat sheet with an external DTD.
    let not_feeds = [
        ("attacks/dtd.xml", "<html>"),
        ("attacks/dtd_element.xml", "<test>"),
        ("xml/icecat-8806088281285-en.xml", "<ICECAT-interface>"),
    ];
    for file in refused {
        let feed = std::fs::read(dir.join(file)).expect("readable");
        for chunk in [1, 64, feed.len()] {
            let started = Instant::now();
            let result = parse(&feed, chunk);
            assert!(started.elapsed() < Duration::from_secs(2), "{file} is slow");
            assert_eq!(
                result,
                Err(FeedError::Refused(
                    "DTD entity declarations are not allowed".into()
                )),
                "{file}"
            );
        }
    }
    for (file, root) in not_feeds {
        let feed = std::fs::read(dir.join(file)).expect("readable");
        let started = Instant::now();
        match parse(&feed, 1024) {
            Err(FeedError::Malformed(message)) => assert!(message.contains(root), "{message}"),
            other => panic!("{file}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2), "{file} is slow");
    }
    assert!(testing::requests().is_empty(), "the parser made a request");
}

#[test]
fn an_entity_bomb_inside_a_feed_is_refused() {
    let feed = b"<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY a \"aaaaaaaaaa\">\n\
        <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n]>\n\
        <rss xmlns:g=\"http://base.google.com/ns/1.0\"><channel>\
        <item><g:id>1</g:id><title>&b;</title></item></channel></rss>";
    assert_eq!(
        parse(feed, 16),
        Err(FeedError::Refused(
            "DTD entity declarations are not allowed".into()
        ))
    );
}

#[test]
fn a_record_over_the_cap_is_refused() {
    let mut feed = b"<rss><channel><item><g:id>1</g:id><title>".to_vec();
    feed.extend(std::iter::repeat_n(b'x', 10_000));
    feed.extend_from_slice(b"</title></item></channel></rss>");
    let mut parser = MerchantParser::new("EUR").with_max_record_bytes(4096);
    let result = feed
        .chunks(1000)
        .try_for_each(|chunk| parser.push(chunk).map(drop));
    assert!(matches!(result, Err(FeedError::Refused(_))), "{result:?}");
    // Under the default cap it is a product.
    let records = parse(&feed, 1000).expect("parses");
    assert_eq!(product(&records[0]).name.len(), 10_000);
}

#[test]
fn broken_and_foreign_documents_are_malformed() {
    let cases: [&[u8]; 5] = [
        b"<rss><channel><item><g:id>1</g:id><title>cut here",
        b"<rss><channel><item><g:id>1</g:id><title>t</title></item>",
        b"{\"products\": []}",
        b"sku;name;price\n1;Mug;12,50\n",
        b"<html><body>502 Bad Gateway</body></html>",
    ];
    for feed in cases {
        let result = parse(feed, 7);
        assert!(
            matches!(result, Err(FeedError::Malformed(_))),
            "{}: {result:?}",
            String::from_utf8_lossy(feed)
        );
    }
    // A feed with no item is fine: nothing to import.
    assert_eq!(parse(b"<rss><channel></channel></rss>", 3), Ok(Vec::new()));
}

#[test]
fn another_prefix_for_the_google_namespace() {
    let feed = b"<rss xmlns:google=\"http://base.google.com/ns/1.0\"><channel><item>\
        <google:id>X1</google:id><title>Pen</title><google:price>2.00 GBP</google:price>\
        <g:price>999 EUR</g:price></item></channel></rss>";
    let records = parse(feed, 5).expect("parses");
    let pen = product(&records[0]);
    assert_eq!(pen.sku, "X1");
    assert_eq!(pen.retail_price, money(200, "GBP"));
}

/// A Merchant feed written in `encoding`, its items' titles given as bytes
/// of that encoding.
fn merchant_feed(encoding: &str, titles: &[&[u8]]) -> Vec<u8> {
    let mut feed = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
         <rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\"><channel>"
    )
    .into_bytes();
    for (i, title) in titles.iter().enumerate() {
        feed.extend_from_slice(format!("<item><g:id>P{i}</g:id><title>").as_bytes());
        feed.extend_from_slice(title);
        feed.extend_from_slice(b"</title><g:price>1 299,00 CZK</g:price></item>");
    }
    feed.extend_from_slice(b"</channel></rss>");
    feed
}

#[test]
fn feeds_in_legacy_encodings_keep_their_accents_at_every_cut() {
    // Microsoft's cp1250.txt and cp1252.txt: 0x8A Š, 0xE8 č, 0xE1 á, 0xF8 ř,
    // 0x9E ž (1250); 0xE8 è, 0xFB û, 0xE9 é, 0x9C œ, 0xE7 ç, 0x80 € (1252).
    for (encoding, titles, expected) in [
        (
            "windows-1250",
            [&b"\x8Akoda \xE8erven\xE1"[..], b"\xF8\xEDzen\xED \x9Eidle"],
            ["Škoda červená", "řízení židle"],
        ),
        (
            "windows-1252",
            [
                &b"Cr\xE8me br\xFBl\xE9e"[..],
                b"C\x9Cur fa\xE7onn\xE9 10 \x80",
            ],
            ["Crème brûlée", "Cœur façonné 10 €"],
        ),
    ] {
        let feed = merchant_feed(encoding, &titles);
        for size in 1..=feed.len() {
            let records = parse(&feed, size).expect("parses");
            let names: Vec<&str> = records.iter().map(|r| product(r).name.as_str()).collect();
            assert_eq!(names, expected, "{encoding}, chunks of {size}");
            assert_eq!(product(&records[0]).retail_price, money(129_900, "CZK"));
        }
    }
}

#[test]
fn an_unknown_or_false_encoding_fails_the_feed_clearly() {
    let unknown = parse(&merchant_feed("x-klingon", &[b"a"]), 4096);
    assert!(
        matches!(&unknown, Err(FeedError::Malformed(m)) if m.contains("unknown encoding 'x-klingon'")),
        "{unknown:?}"
    );
    let false_label = parse(&merchant_feed("windows-1250", &["Škoda".as_bytes()]), 4096);
    assert!(
        matches!(&false_label, Err(FeedError::Malformed(m)) if m.contains("windows-1250") && m.contains("UTF-8")),
        "{false_label:?}"
    );
}

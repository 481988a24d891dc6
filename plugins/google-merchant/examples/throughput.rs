//! Native throughput of the XML splitter and of the whole Merchant parser on
//! a generated feed (the items of `fixtures/merchant-rss.xml`, repeated).
//!
//! `cargo run --release -p google-merchant --example throughput [MiB] [chunk KiB]`

use std::time::Instant;

use google_merchant::MerchantParser;
use shopbridge_guest_sdk::FeedParse;
use shopbridge_guest_sdk::xml::RecordSplitter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(Ok(100), |a| a.parse())?;
    let chunk_kib: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let feed = generate(mib << 20)?;
    let chunk = (chunk_kib << 10).max(1);
    let mb = feed.len() as f64 / 1e6;
    println!("feed: {mb:.1} MB, chunks of {chunk} bytes");

    for round in 0..3 {
        let started = Instant::now();
        let mut splitter = RecordSplitter::new(&["item", "entry"]);
        let mut records = 0u64;
        let mut text_bytes = 0usize;
        for piece in feed.chunks(chunk) {
            splitter.push(piece, |r| {
                records += 1;
                text_bytes += r.children().map(|f| f.text().len()).sum::<usize>();
            })?;
        }
        splitter.finish(|_| records += 1)?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: splitter      {:7.1} MB/s  ({records} records, {text_bytes} text bytes)",
            mb / secs
        );

        let started = Instant::now();
        let mut parser = MerchantParser::new("EUR");
        let mut products = 0usize;
        for piece in feed.chunks(chunk) {
            products += parser.push(piece)?.len();
        }
        products += parser.finish()?.len();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "round {round}: MerchantParser {:7.1} MB/s  ({products} records)",
            mb / secs
        );
    }
    Ok(())
}

/// A feed of about `size` bytes made of the fixture's items.
fn generate(size: usize) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/merchant-rss.xml"
    ))?;
    let first = fixture.find("<item>").ok_or("no item")?;
    let last = fixture.rfind("</item>").ok_or("no item")? + "</item>".len();
    let (head, items, tail) = (&fixture[..first], &fixture[first..last], &fixture[last..]);
    let mut feed = Vec::with_capacity(size + fixture.len());
    feed.extend_from_slice(head.as_bytes());
    while feed.len() < size {
        feed.extend_from_slice(items.as_bytes());
        feed.push(b'\n');
    }
    feed.extend_from_slice(tail.as_bytes());
    Ok(feed)
}

//! The XML and CSV readers on feeds in legacy encodings and UTF-16, by
//! property: random texts, written in the encoding by a model independent
//! of the SDK's decoder (windows-1252 from Microsoft's table, UTF-16 by the
//! standard library), pushed in chunks cut at random, must read back as the
//! model says.

use proptest::prelude::*;
use shopbridge_guest_sdk::csv::{CsvOptions, CsvStream};
use shopbridge_guest_sdk::encoding::CsvEncoding;
use shopbridge_guest_sdk::xml::RecordSplitter;

/// windows-1252's bytes 0x80 to 0x9F, from Microsoft's cp1252.txt
/// (unicode.org/Public/MAPPINGS/VENDORS/MICSFT/WINDOWS/CP1252.TXT); the five
/// it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are `None` and never
/// generated. 0xA0 to 0xFF are Latin-1's, the code point of the byte.
const CP1252_80_9F: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// The model's windows-1252: a byte's character.
fn cp1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => CP1252_80_9F[usize::from(byte - 0x80)].unwrap_or(char::from(byte)),
        _ => char::from(byte),
    }
}

/// A windows-1252 byte that is text anywhere: printable ASCII but for
/// `forbidden`, or a defined byte from 0x80 up.
fn text_byte(forbidden: &'static [u8]) -> impl Strategy<Value = u8> {
    (0x20u8..=0xFF).prop_filter("markup or undefined", move |b| {
        let defined = match b {
            0x80..=0x9F => CP1252_80_9F[usize::from(b - 0x80)].is_some(),
            _ => true,
        };
        defined && *b != 0x7F && !forbidden.contains(b)
    })
}

/// A character that is text anywhere in XML and CSV but for `forbidden`:
/// any scalar value XML allows, beyond the control characters.
fn text_char(forbidden: &'static [char]) -> impl Strategy<Value = char> {
    proptest::char::ranges(
        vec![
            ' '..='~',
            '\u{A0}'..='\u{D7FF}',
            '\u{E000}'..='\u{FFFD}',
            '\u{10000}'..='\u{10FFFF}',
        ]
        .into(),
    )
    .prop_filter("markup", move |c| !forbidden.contains(c))
}

/// Chunk sizes, used in turn until the input is all pushed.
fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..12, 1..8)
}

fn chunks<'a>(input: &'a [u8], sizes: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 0;
    sizes.iter().cycle().map_while(move |size| {
        (at < input.len()).then(|| {
            let end = (at + size).min(input.len());
            let chunk = &input[at..end];
            at = end;
            chunk
        })
    })
}

/// The titles of `doc`'s items, and each one's problem if any.
fn titles(doc: &[u8], sizes: &[usize]) -> Vec<(String, Option<String>)> {
    let mut splitter = RecordSplitter::new(&["item"]);
    let mut out = Vec::new();
    let mut take = |r: shopbridge_guest_sdk::xml::Record<'_>| {
        out.push((
            r.get("title").unwrap_or_default().to_owned(),
            r.problem().map(str::to_owned),
        ))
    };
    for chunk in chunks(doc, sizes) {
        splitter.push(chunk, &mut take).expect("parses");
    }
    splitter.finish(&mut take).expect("complete");
    out
}

/// The rows of a `;` CSV file read with `encoding`, fields joined by `|`.
fn rows(file: &[u8], encoding: CsvEncoding, sizes: &[usize]) -> Vec<String> {
    let mut csv = CsvStream::new(CsvOptions {
        delimiter: Some(b';'),
        has_headers: false,
        encoding,
        ..CsvOptions::default()
    });
    let mut out = Vec::new();
    let mut take = |row: shopbridge_guest_sdk::csv::RowResult<'_>| match row {
        Ok(row) => out.push(row.iter().collect::<Vec<_>>().join("|")),
        Err(bad) => out.push(format!("bad: {bad}")),
    };
    for chunk in chunks(file, sizes) {
        csv.push(chunk, &mut take).expect("reads");
    }
    csv.finish(&mut take).expect("complete");
    out
}

fn rss(declaration: &str, titles: &[Vec<u8>]) -> Vec<u8> {
    let mut doc = format!("{declaration}<rss><channel>").into_bytes();
    for title in titles {
        doc.extend_from_slice(b"<item><title>");
        doc.extend_from_slice(title);
        doc.extend_from_slice(b"</title></item>");
    }
    doc.extend_from_slice(b"</channel></rss>");
    doc
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn xml_in_windows_1252_reads_as_the_table_says(
        raw in prop::collection::vec(prop::collection::vec(text_byte(b"<&"), 0..40), 1..6),
        sizes in cuts(),
    ) {
        let doc = rss("<?xml version=\"1.0\" encoding=\"windows-1252\"?>", &raw);
        let expected: Vec<(String, Option<String>)> = raw
            .iter()
            .map(|t| (t.iter().map(|b| cp1252(*b)).collect(), None))
            .collect();
        // A document that happens to be UTF-8 with characters beyond ASCII
        // is refused as a liar: the decoder's unit tests' business.
        prop_assume!(doc.is_ascii() || std::str::from_utf8(&doc).is_err());
        prop_assert_eq!(titles(&doc, &sizes), expected);
    }

    #[test]
    fn xml_in_utf16_reads_back_whatever_the_cuts(
        texts in prop::collection::vec(
            prop::collection::vec(text_char(&['<', '&']), 0..20).prop_map(String::from_iter),
            1..6,
        ),
        big_endian in any::<bool>(),
        mark in any::<bool>(),
        sizes in cuts(),
    ) {
        let utf8: Vec<Vec<u8>> = texts.iter().map(|t| t.clone().into_bytes()).collect();
        let text = String::from_utf8(rss("<?xml version=\"1.0\" encoding=\"UTF-16\"?>", &utf8))
            .expect("UTF-8");
        let units = text.encode_utf16();
        let mut doc: Vec<u8> = match (mark, big_endian) {
            (false, _) => Vec::new(),
            (true, false) => vec![0xFF, 0xFE],
            (true, true) => vec![0xFE, 0xFF],
        };
        if big_endian {
            doc.extend(units.flat_map(u16::to_be_bytes));
        } else {
            doc.extend(units.flat_map(u16::to_le_bytes));
        }
        let expected: Vec<(String, Option<String>)> =
            texts.iter().map(|t| (t.clone(), None)).collect();
        prop_assert_eq!(titles(&doc, &sizes), expected);
    }

    #[test]
    fn csv_in_windows_1252_reads_as_the_table_says(
        raw in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(text_byte(b";\""), 1..12), 3),
            1..6,
        ),
        auto in any::<bool>(),
        sizes in cuts(),
    ) {
        let mut file = Vec::new();
        for row in &raw {
            file.extend_from_slice(&row.join(&b';'));
            file.extend_from_slice(b"\r\n");
        }
        // `auto` takes a file that is valid UTF-8 for UTF-8, as it should.
        let utf8 = std::str::from_utf8(&file).is_ok();
        let expected: Vec<String> = raw
            .iter()
            .map(|row| {
                row.iter()
                    .map(|field| match (auto && utf8, std::str::from_utf8(field)) {
                        (true, Ok(text)) => text.to_owned(),
                        _ => field.iter().map(|b| cp1252(*b)).collect(),
                    })
                    .collect::<Vec<String>>()
                    .join("|")
            })
            .collect();
        let encoding = if auto {
            CsvEncoding::Auto
        } else {
            prop_assume!(file.is_ascii() || !utf8);
            CsvEncoding::parse("windows-1252").expect("known")
        };
        prop_assert_eq!(rows(&file, encoding, &sizes), expected);
    }

    #[test]
    fn csv_in_utf16_reads_back_by_its_mark(
        texts in prop::collection::vec(
            prop::collection::vec(
                prop::collection::vec(text_char(&[';', '"', '\u{FEFF}']), 1..10)
                    .prop_map(String::from_iter),
                3,
            ),
            1..6,
        ),
        setting in prop::sample::select(vec!["utf-8", "auto", "windows-1252"]),
        sizes in cuts(),
    ) {
        let text: String = texts.iter().map(|row| row.join(";") + "\r\n").collect();
        let file: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let expected: Vec<String> = texts.iter().map(|row| row.join("|")).collect();
        let encoding = CsvEncoding::parse(setting).expect("known");
        prop_assert_eq!(rows(&file, encoding, &sizes), expected);
    }
}

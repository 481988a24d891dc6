//! Text encodings of feeds: whatever a supplier's file is written in, the
//! [`xml`](crate::xml) and [`csv`](crate::csv) readers see UTF-8.
//!
//! [`FeedDecoder`] sits in front of both readers. It decides the feed's
//! encoding from its first bytes, then turns each chunk into UTF-8 as it
//! comes, with `encoding_rs`'s streaming decoder (the WHATWG Encoding
//! Standard's decoders, as browsers use them): a character cut by a chunk
//! boundary is finished by the next chunk, and memory stays bounded by the
//! chunk plus at most [`SNIFF_BYTES`] held back while deciding.
//!
//! How the encoding is decided:
//! - a byte order mark wins (UTF-8, UTF-16LE, UTF-16BE), as in the WHATWG
//!   decode algorithm and in libxml2;
//! - XML ([`FeedDecoder::xml`], XML 1.0 §4.3.3 and Appendix F): `<` `?` in
//!   UTF-16 without a mark is UTF-16; otherwise the `encoding` of the XML
//!   declaration, else UTF-8;
//! - CSV ([`FeedDecoder::csv`]): the [`CsvEncoding`] setting: a WHATWG label
//!   (`utf-8` by default, `windows-1252`, `iso-8859-15`, `utf-16le`…), or
//!   `auto`: UTF-8 when the first [`SNIFF_BYTES`] are valid UTF-8, else
//!   `windows-1252` (what Excel writes on a French or English Windows).
//!
//! What bad input gets:
//! - a label nobody knows is [`EncodingError::UnknownLabel`], naming it;
//! - a feed that says one encoding and is another is
//!   [`EncodingError::Mismatch`]: an XML declaration of UTF-16 on 8-bit
//!   text, or a legacy encoding (declared, or set) on text that is UTF-8
//!   (valid UTF-8 with characters beyond ASCII in its first
//!   [`SNIFF_BYTES`]: in a real windows-1252 text that would take pairs
//!   such as `Ã©`);
//! - a byte sequence that is not valid in the encoding is written as the
//!   byte [`INVALID_MARK`], which never occurs in UTF-8: the readers' own
//!   UTF-8 checks then reject the record or row that holds it, by its line
//!   or position, and the feed goes on. Nothing half-decoded (no U+FFFD
//!   standing for what the supplier wrote) reaches a product.
//!
//! UTF-8 input is passed through untouched (a UTF-8 byte order mark
//! included, which the readers drop), so a UTF-8 feed costs one copy, as
//! before.

use std::fmt;

pub use encoding_rs::Encoding;
use encoding_rs::{Decoder, DecoderResult, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::FeedError;

/// The byte written in place of a sequence that is not valid in the feed's
/// encoding: `0xFF` is never part of UTF-8.
pub const INVALID_MARK: u8 = 0xFF;

/// How much of a feed is looked at before its encoding is settled, when the
/// first bytes are not enough (`auto`, and the check that a legacy encoding
/// is not UTF-8 after all): 64 KiB.
pub const SNIFF_BYTES: usize = 64 << 10;

/// The longest XML declaration looked for.
const MAX_DECLARATION: usize = 1024;

/// Why a feed's encoding cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodingError {
    /// The label is not one of the WHATWG Encoding Standard's.
    UnknownLabel(String),
    /// The feed says one encoding and is written in another.
    Mismatch(String),
}

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodingError::UnknownLabel(label) => write!(
                f,
                "unknown encoding '{label}' (expected a label such as utf-8, windows-1252, \
                 iso-8859-15 or utf-16)"
            ),
            EncodingError::Mismatch(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EncodingError {}

impl From<EncodingError> for FeedError {
    fn from(error: EncodingError) -> Self {
        FeedError::Malformed(error.to_string())
    }
}

/// The encoding a label names (`"windows-1252"`, `"latin1"`, `"UTF-16"`…),
/// by the WHATWG Encoding Standard. Labels that the standard maps to its
/// "replacement" encoding (ISO-2022-KR and the like) are unknown here.
pub fn for_label(label: &str) -> Result<&'static Encoding, EncodingError> {
    Encoding::for_label_no_replacement(label.trim().as_bytes())
        .ok_or_else(|| EncodingError::UnknownLabel(label.trim().to_owned()))
}

/// How a CSV feed is decoded: the `encoding` setting of a CSV connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// Always this encoding (a byte order mark still wins).
    Label(&'static Encoding),
    /// A byte order mark, else UTF-8 when the first [`SNIFF_BYTES`] are
    /// valid UTF-8, else windows-1252.
    Auto,
}

impl Default for CsvEncoding {
    fn default() -> Self {
        CsvEncoding::Label(UTF_8)
    }
}

impl CsvEncoding {
    /// `auto`, or any WHATWG label; empty is the default, UTF-8.
    pub fn parse(setting: &str) -> Result<CsvEncoding, EncodingError> {
        let setting = setting.trim();
        if setting.is_empty() {
            Ok(CsvEncoding::default())
        } else if setting.eq_ignore_ascii_case("auto") {
            Ok(CsvEncoding::Auto)
        } else {
            for_label(setting).map(CsvEncoding::Label)
        }
    }
}

/// What kind of feed the decoder reads, for deciding its encoding.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Xml,
    Csv(CsvEncoding),
}

#[derive(Debug)]
enum State {
    /// Holding the first bytes back until the encoding is settled.
    Deciding(Vec<u8>),
    /// UTF-8: bytes pass through.
    Utf8,
    /// Anything else.
    Decoding(Decoder),
}

/// Turns a feed, pushed in chunks cut anywhere, into UTF-8. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct FeedDecoder {
    kind: Kind,
    state: State,
    encoding: Option<&'static Encoding>,
}

impl FeedDecoder {
    /// A decoder for an XML feed: byte order mark, else XML declaration,
    /// else UTF-8.
    pub fn xml() -> Self {
        Self::new(Kind::Xml)
    }

    /// A decoder for a CSV feed read as `encoding` says.
    pub fn csv(encoding: CsvEncoding) -> Self {
        Self::new(Kind::Csv(encoding))
    }

    fn new(kind: Kind) -> Self {
        FeedDecoder {
            kind,
            state: State::Deciding(Vec::new()),
            encoding: None,
        }
    }

    /// The feed's encoding, once settled.
    pub fn encoding(&self) -> Option<&'static Encoding> {
        self.encoding
    }

    /// The name of the feed's encoding for messages: UTF-8 until settled.
    pub fn encoding_name(&self) -> &'static str {
        self.encoding.unwrap_or(UTF_8).name()
    }

    /// Whether bytes pass through as they are (the feed is UTF-8): a reader
    /// may then skip [`FeedDecoder::push`] and read the chunk itself.
    pub fn passes_through(&self) -> bool {
        matches!(self.state, State::Utf8)
    }

    /// Bytes held back while the encoding is being decided.
    pub fn held_bytes(&self) -> usize {
        match &self.state {
            State::Deciding(held) => held.len(),
            State::Utf8 | State::Decoding(_) => 0,
        }
    }

    /// Appends the UTF-8 text of `chunk` to `out` (nothing while the
    /// encoding is being decided; then what was held back as well).
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<(), EncodingError> {
        self.feed(chunk, out, false)
    }

    /// Ends the feed: appends what was held back or is left in the
    /// decoder (an incomplete character becomes [`INVALID_MARK`]).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), EncodingError> {
        self.feed(&[], out, true)
    }

    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>, last: bool) -> Result<(), EncodingError> {
        match &mut self.state {
            State::Utf8 => {
                out.extend_from_slice(chunk);
                Ok(())
            }
            State::Decoding(decoder) => {
                decode(decoder, chunk, out, last);
                Ok(())
            }
            State::Deciding(held) => {
                held.extend_from_slice(chunk);
                let Some((encoding, skip)) = self.decide(last)? else {
                    return Ok(());
                };
                let held = match std::mem::replace(&mut self.state, State::Utf8) {
                    State::Deciding(held) => held,
                    State::Utf8 | State::Decoding(_) => Vec::new(),
                };
                self.encoding = Some(encoding);
                let rest = held.get(skip..).unwrap_or_default();
                if encoding == UTF_8 {
                    out.extend_from_slice(rest);
                } else {
                    let mut decoder = encoding.new_decoder_without_bom_handling();
                    decode(&mut decoder, rest, out, last);
                    self.state = State::Decoding(decoder);
                }
                Ok(())
            }
        }
    }

    /// The encoding and the bytes of byte order mark to skip, once the held
    /// bytes (all of the feed, with `last`) are enough to tell.
    fn decide(&self, last: bool) -> Result<Option<(&'static Encoding, usize)>, EncodingError> {
        let State::Deciding(held) = &self.state else {
            return Ok(None);
        };
        // Every test below needs at most four bytes to start with.
        if held.len() < 4 && !last {
            return Ok(None);
        }
        if let Some((encoding, mark)) = Encoding::for_bom(held) {
            // A UTF-8 mark stays for the readers, which drop it themselves.
            let skip = if encoding == UTF_8 { 0 } else { mark };
            return Ok(Some((encoding, skip)));
        }
        match self.kind {
            Kind::Xml => decide_xml(held, last),
            Kind::Csv(CsvEncoding::Label(encoding)) => {
                checked_legacy(encoding, held, last, "the feed's `encoding` setting says")
            }
            Kind::Csv(CsvEncoding::Auto) => {
                if held.len() < SNIFF_BYTES && !last {
                    return Ok(None);
                }
                let sample = &held[..held.len().min(SNIFF_BYTES)];
                let utf8 = valid_utf8(sample, last && sample.len() == held.len());
                Ok(Some((if utf8 { UTF_8 } else { WINDOWS_1252 }, 0)))
            }
        }
    }
}

/// XML without a byte order mark: UTF-16 by its first characters, else the
/// declaration's encoding, else UTF-8.
fn decide_xml(
    held: &[u8],
    last: bool,
) -> Result<Option<(&'static Encoding, usize)>, EncodingError> {
    if held.starts_with(b"<\0?\0") {
        return Ok(Some((UTF_16LE, 0)));
    }
    if held.starts_with(b"\0<\0?") {
        return Ok(Some((UTF_16BE, 0)));
    }
    if !held.starts_with(b"<?xml") {
        if !last && b"<?xml".starts_with(held) {
            return Ok(None);
        }
        return Ok(Some((UTF_8, 0)));
    }
    let declaration = match memchr::memmem::find(held, b"?>") {
        Some(end) => &held[..end],
        None if held.len() < MAX_DECLARATION && !last => return Ok(None),
        // No end to the declaration: the XML reader will say so.
        None => return Ok(Some((UTF_8, 0))),
    };
    let Some(label) = declared_encoding(declaration) else {
        return Ok(Some((UTF_8, 0)));
    };
    let label = String::from_utf8_lossy(label);
    let encoding = for_label(&label)?;
    if encoding == UTF_16LE || encoding == UTF_16BE {
        return Err(EncodingError::Mismatch(format!(
            "the feed declares encoding=\"{label}\" but its declaration is written in an \
             8-bit encoding, not UTF-16"
        )));
    }
    checked_legacy(encoding, held, last, "the feed's XML declaration says")
}

/// `encoding`, once it is known that a legacy (not UTF-8, not UTF-16)
/// encoding is not UTF-8 text after all: see [`EncodingError::Mismatch`].
fn checked_legacy(
    encoding: &'static Encoding,
    held: &[u8],
    last: bool,
    who: &str,
) -> Result<Option<(&'static Encoding, usize)>, EncodingError> {
    if encoding == UTF_8 || encoding == UTF_16LE || encoding == UTF_16BE {
        return Ok(Some((encoding, 0)));
    }
    if held.len() < SNIFF_BYTES && !last {
        return Ok(None);
    }
    let sample = &held[..held.len().min(SNIFF_BYTES)];
    let complete = last && sample.len() == held.len();
    if !sample.is_ascii() && valid_utf8(sample, complete) {
        return Err(EncodingError::Mismatch(format!(
            "{who} {} but its text is UTF-8 (its first {} bytes are valid UTF-8 with \
             characters beyond ASCII)",
            encoding.name(),
            sample.len()
        )));
    }
    Ok(Some((encoding, 0)))
}

/// The value of the `encoding` pseudo-attribute of an XML declaration.
fn declared_encoding(declaration: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(declaration, b"encoding")?;
    let rest = declaration[at + b"encoding".len()..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let (&quote, rest) = rest.split_first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = memchr::memchr(quote, rest)?;
    Some(&rest[..end])
}

/// Whether `sample` is UTF-8; unless `complete`, a character cut by its end
/// does not count against it.
fn valid_utf8(sample: &[u8], complete: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// Decodes `input` onto the end of `out`, a malformed sequence written as
/// [`INVALID_MARK`].
fn decode(decoder: &mut Decoder, mut input: &[u8], out: &mut Vec<u8>, last: bool) {
    loop {
        let room = decoder
            .max_utf8_buffer_length_without_replacement(input.len())
            .unwrap_or(input.len().saturating_mul(3))
            .max(4);
        let start = out.len();
        out.resize(start + room, 0);
        let (result, read, written) =
            decoder.decode_to_utf8_without_replacement(input, &mut out[start..], last);
        out.truncate(start + written);
        input = &input[read..];
        match result {
            DecoderResult::InputEmpty => return,
            DecoderResult::OutputFull => {}
            DecoderResult::Malformed(_, _) => out.push(INVALID_MARK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `feed` pushed in pieces of `size` bytes.
    fn decoded(
        mut decoder: FeedDecoder,
        feed: &[u8],
        size: usize,
    ) -> Result<Vec<u8>, EncodingError> {
        let mut out = Vec::new();
        for chunk in feed.chunks(size.max(1)) {
            decoder.push(chunk, &mut out)?;
        }
        decoder.finish(&mut out)?;
        Ok(out)
    }

    // Code points from the code pages' tables (Microsoft's cp1252.txt and
    // cp1250.txt, unicode.org/Public/MAPPINGS/VENDORS/MICSFT/WINDOWS/):
    // 0xE8 è, 0xFB û, 0xE9 é, 0x9C œ, 0xE7 ç, 0x80 € in windows-1252;
    // 0x9A š, 0xE8 č, 0xF8 ř, 0xB9 ą, 0x9F ź in windows-1250.
    const CP1252: &[u8] = b"Cr\xE8me br\xFBl\xE9e, C\x9Cur fa\xE7onn\xE9, Prix 10 \x80";
    const CP1252_TEXT: &str = "Crème brûlée, Cœur façonné, Prix 10 €";
    const CP1250: &[u8] = b"\x9Akoda \xE8erven\xE1 \xF8\xEDzen\xED, \xB9 \x9F";
    const CP1250_TEXT: &str = "škoda červená řízení, ą ź";

    fn xml(encoding: &str, body: &[u8]) -> Vec<u8> {
        let mut doc = format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<r>").into_bytes();
        doc.extend_from_slice(body);
        doc.extend_from_slice(b"</r>");
        doc
    }

    fn text_of(out: &[u8]) -> &str {
        std::str::from_utf8(out).unwrap_or("<not UTF-8>")
    }

    #[test]
    fn xml_declarations_are_honoured_at_every_cut() {
        for (label, body, text) in [
            ("windows-1252", CP1252, CP1252_TEXT),
            ("ISO-8859-1", CP1252, CP1252_TEXT),
            ("windows-1250", CP1250, CP1250_TEXT),
            ("UTF-8", CP1252_TEXT.as_bytes(), CP1252_TEXT),
        ] {
            let feed = xml(label, body);
            for size in [1, 2, 3, 7, 64, feed.len()] {
                let out = decoded(FeedDecoder::xml(), &feed, size).expect("decodes");
                let expected =
                    format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n<r>{text}</r>");
                assert_eq!(text_of(&out), expected, "{label}, chunks of {size}");
            }
        }
    }

    #[test]
    fn utf16_with_and_without_a_mark() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><r>Cœur 🍰</r>";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (feed, what) in [
            ([&b"\xFF\xFE"[..], &le].concat(), "LE with a mark"),
            ([&b"\xFE\xFF"[..], &be].concat(), "BE with a mark"),
            (le.clone(), "LE without"),
            (be.clone(), "BE without"),
        ] {
            // Every cut, including inside a surrogate pair.
            for size in 1..=5 {
                let out = decoded(FeedDecoder::xml(), &feed, size).expect("decodes");
                assert_eq!(text_of(&out), text, "{what}, chunks of {size}");
            }
        }
    }

    #[test]
    fn utf8_passes_through_untouched_mark_and_bad_bytes_included() {
        let feed = b"\xEF\xBB\xBF<?xml version=\"1.0\"?><r>caf\xC3\xA9 \xFF</r>";
        let mut decoder = FeedDecoder::xml();
        let mut out = Vec::new();
        decoder.push(feed, &mut out).expect("decodes");
        assert!(decoder.passes_through());
        decoder.finish(&mut out).expect("ends");
        assert_eq!(out, feed);
        assert_eq!(decoder.encoding_name(), "UTF-8");
    }

    #[test]
    fn unknown_and_mismatched_encodings_are_clear_errors() {
        let error = decoded(FeedDecoder::xml(), &xml("klingon-8", b"x"), 64).expect_err("fails");
        assert_eq!(error, EncodingError::UnknownLabel("klingon-8".into()));
        assert!(error.to_string().contains("'klingon-8'"), "{error}");
        // A label the standard maps to "replacement" is no encoding here.
        assert!(decoded(FeedDecoder::xml(), &xml("iso-2022-kr", b"x"), 64).is_err());

        let error = decoded(FeedDecoder::xml(), &xml("UTF-16", b"x"), 64).expect_err("fails");
        assert!(
            matches!(&error, EncodingError::Mismatch(m) if m.contains("UTF-16")),
            "{error}"
        );
        // Declared windows-1252, written in UTF-8.
        let error = decoded(
            FeedDecoder::xml(),
            &xml("windows-1252", CP1252_TEXT.as_bytes()),
            9,
        )
        .expect_err("fails");
        assert!(
            matches!(&error, EncodingError::Mismatch(m) if m.contains("windows-1252") && m.contains("UTF-8")),
            "{error}"
        );
        // Plain ASCII is the same in both: no complaint.
        let out = decoded(FeedDecoder::xml(), &xml("windows-1252", b"plain"), 9).expect("decodes");
        assert!(text_of(&out).ends_with("<r>plain</r>"));
    }

    #[test]
    fn a_legacy_check_looks_at_no_more_than_the_sniffing_window() {
        // 64 KiB of windows-1252 text, then UTF-8: decided on the first part.
        let mut body = b"caf\xE9 ".repeat(SNIFF_BYTES / 5 + 1);
        body.extend_from_slice("thé".as_bytes());
        let feed = xml("windows-1252", &body);
        let mut decoder = FeedDecoder::xml();
        let mut out = Vec::new();
        let mut held_most = 0;
        for chunk in feed.chunks(4096) {
            decoder.push(chunk, &mut out).expect("decodes");
            held_most = held_most.max(decoder.held_bytes());
        }
        decoder.finish(&mut out).expect("ends");
        assert!(held_most <= SNIFF_BYTES + 4096, "{held_most}");
        assert_eq!(decoder.encoding_name(), "windows-1252");
        assert!(text_of(&out).ends_with("café thÃ©</r>"));
    }

    #[test]
    fn csv_settings_and_auto_detection() {
        let label = |s: &str| CsvEncoding::parse(s).expect("known");
        assert_eq!(label(""), CsvEncoding::Label(UTF_8));
        assert_eq!(label(" AUTO "), CsvEncoding::Auto);
        assert_eq!(label("latin1"), CsvEncoding::Label(WINDOWS_1252));
        assert_eq!(
            CsvEncoding::parse("ebcdic-fr"),
            Err(EncodingError::UnknownLabel("ebcdic-fr".into()))
        );

        let rows = [&b"sku;name\nA;"[..], CP1252, b"\n"].concat();
        let text = format!("sku;name\nA;{CP1252_TEXT}\n");
        // auto: not UTF-8, so windows-1252.
        let mut decoder = FeedDecoder::csv(CsvEncoding::Auto);
        let mut out = Vec::new();
        decoder.push(&rows, &mut out).expect("decodes");
        assert!(out.is_empty(), "auto holds the first 64 KiB back");
        decoder.finish(&mut out).expect("ends");
        assert_eq!(text_of(&out), text);
        assert_eq!(decoder.encoding_name(), "windows-1252");
        // auto: UTF-8 stays UTF-8, cut anywhere.
        for size in [1, 2, 3, 5] {
            let out = decoded(FeedDecoder::csv(CsvEncoding::Auto), text.as_bytes(), size)
                .expect("decodes");
            assert_eq!(text_of(&out), text);
        }
        // A label set to windows-1252 on a UTF-8 file.
        let error = decoded(FeedDecoder::csv(label("windows-1252")), text.as_bytes(), 64)
            .expect_err("fails");
        assert!(matches!(error, EncodingError::Mismatch(_)), "{error}");
        // Excel's "Unicode text": UTF-16LE with a mark, whatever the setting.
        let unicode: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for setting in ["utf-8", "auto", "windows-1252"] {
            let out = decoded(FeedDecoder::csv(label(setting)), &unicode, 3).expect("decodes");
            assert_eq!(text_of(&out), text, "{setting}");
        }
    }

    #[test]
    fn what_is_not_valid_in_the_encoding_is_marked() {
        // A lone surrogate in UTF-16LE, and a file cut in the middle of a unit.
        let mut feed: Vec<u8> = [0xFF, 0xFE].to_vec();
        feed.extend("a;".encode_utf16().flat_map(u16::to_le_bytes));
        feed.extend_from_slice(&0xD800u16.to_le_bytes());
        feed.extend("b\n".encode_utf16().flat_map(u16::to_le_bytes));
        feed.push(b'c');
        let out = decoded(FeedDecoder::csv(CsvEncoding::Auto), &feed, 3).expect("decodes");
        assert_eq!(out, b"a;\xFFb\n\xFF");
        // windows-1253 has no character at 0xAA (WHATWG index-windows-1253).
        let greek = Encoding::for_label(b"windows-1253").expect("known");
        let out = decoded(
            FeedDecoder::csv(CsvEncoding::Label(greek)),
            b"\xE1\xAA\n",
            1,
        )
        .expect("decodes");
        assert_eq!(out, ["α".as_bytes(), &[INVALID_MARK, b'\n']].concat());
    }
}

//! A streaming XML record splitter over quick-xml.
//!
//! A feed is a long list of records (`<item>` in RSS, `<entry>` in Atom,
//! `<Product>` elsewhere) inside a few wrapper elements. [`RecordSplitter`]
//! takes the feed in chunks cut anywhere (inside a tag, an entity or a UTF-8
//! character) and hands each complete record to a callback as a [`Record`]:
//! the record's elements in document order, each with its qualified name
//! (prefix kept: `g:price`), its text and its attributes. Repeated elements
//! (`g:additional_image_link`) stay separate; nested elements are kept with
//! their depth and parent.
//!
//! ```
//! use shopbridge_guest_sdk::xml::RecordSplitter;
//!
//! let mut splitter = RecordSplitter::new(&["item"]);
//! let mut titles = Vec::new();
//! for chunk in [&b"<rss><channel><item><title>Tea &amp; "[..], b"cups</title></item>"] {
//!     splitter.push(chunk, |record| titles.push(record.get("title").unwrap_or("").to_owned()))?;
//! }
//! splitter.push(b"</channel></rss>", |_| {})?;
//! splitter.finish(|_| {})?;
//! assert_eq!(titles, ["Tea & cups"]);
//! # Ok::<(), shopbridge_guest_sdk::xml::XmlError>(())
//! ```
//!
//! How it streams: the splitter keeps only the bytes of the last event it
//! could not finish (a tag, an entity, a CDATA section cut by the chunk
//! boundary; of a cut text, only its last incomplete character) and resumes
//! from there on the next chunk. What it already read of an unfinished record
//! is kept decoded, so nothing is parsed twice. Texts are copied once, from
//! the reader's borrowed slices into a per-record arena reused from record to
//! record: a record costs no allocation once the buffers have grown.
//!
//! What is plain (elements without attributes, text, CDATA sections,
//! `&name;` references, inside records and between them) is read by the
//! splitter's own scanner: one SIMD UTF-8 check (`simdutf8`) per 4 KiB
//! window of the buffer, memchr to the next `<` or `&` (16 bytes a step in
//! the guest, with `simd128`), end tags compared with the open element.
//! Everything else (attributes, comments, processing instructions, a lone
//! `&`, end tags outside records, bytes that are not UTF-8, markup cut by
//! the end of the buffer) goes to quick-xml, one event at a time, and both
//! hand their pieces to the same code, so the records and errors do not
//! depend on which read them. quick-xml's cost is per event (state machine,
//! UTF-8 check of every piece), and a feed is mostly short events.
//!
//! Text is not trimmed (trimming would eat the spaces around `&amp;`); line
//! ends are normalized to `\n` as XML requires.
//!
//! Encodings: a feed in UTF-16 or in a legacy encoding its XML declaration
//! names (`windows-1250`, `ISO-8859-15`…) is decoded to UTF-8 as it streams
//! by [`FeedDecoder::xml`](crate::encoding::FeedDecoder::xml), before
//! anything here reads it (see [`crate::encoding`] for how the encoding is
//! decided and what a wrong one gets). Byte offsets in messages count bytes
//! of that UTF-8 text, which for a UTF-8 feed are the feed's own.
//!
//! Safety:
//! - custom entities are never expanded: a DOCTYPE whose internal subset
//!   declares `<!ENTITY` is refused ([`XmlError::Refused`]); an external
//!   DOCTYPE (`SYSTEM "http://…"`) is ignored and never fetched;
//! - only the five predefined entities and character references are
//!   resolved; any other `&name;` in a record marks that record invalid
//!   ([`Record::problem`]) and the feed goes on;
//! - text that is not valid in the feed's encoding marks its record invalid
//!   the same way;
//! - a record, or any single piece of markup, larger than the cap (8 MiB by
//!   default) is refused, and so is nesting deeper than 256 elements, so
//!   memory stays bounded whatever the input.
//!
//! A lone `&` that starts no reference ("AT&T") is kept as text: suppliers
//! write it and nothing is gained by dropping their product.

use std::fmt;

use quick_xml::encoding::EncodingError;
use quick_xml::errors::Error as QuickXmlError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::{Config, Reader};

use crate::FeedError;
use crate::encoding::{EncodingError as FeedEncodingError, FeedDecoder};

/// Default cap on the bytes of one record (or of one piece of markup outside
/// records): 8 MiB.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// Deepest element nesting accepted, records included.
pub const MAX_DEPTH: usize = 256;

/// Most elements accepted in one record.
pub const MAX_ELEMENTS_PER_RECORD: usize = 100_000;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why the feed as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// Refused for safety: DTD entity declarations, a record over the cap,
    /// nesting too deep.
    Refused(String),
    /// Not well-formed XML, or the document ended in the middle.
    Malformed(String),
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlError::Refused(message) => write!(f, "refused: {message}"),
            XmlError::Malformed(message) => write!(f, "malformed XML: {message}"),
        }
    }
}

impl std::error::Error for XmlError {}

impl From<FeedEncodingError> for XmlError {
    fn from(error: FeedEncodingError) -> Self {
        XmlError::Malformed(error.to_string())
    }
}

impl From<XmlError> for FeedError {
    fn from(error: XmlError) -> Self {
        match error {
            XmlError::Refused(message) => FeedError::Refused(message),
            XmlError::Malformed(message) => FeedError::Malformed(message),
        }
    }
}

/// Splits a streamed XML document into records. See the [module docs](self).
#[derive(Debug)]
pub struct RecordSplitter {
    record_names: Vec<String>,
    max_record_bytes: usize,
    /// Bytes received and not yet consumed (plus, before `pos`, consumed
    /// bytes that the next push drops).
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Index in `buf` of the first byte not consumed.
    pos: usize,
    /// Names of the open elements outside records, concatenated.
    outer_names: String,
    /// Start of each open element's name in `outer_names`.
    outer_starts: Vec<usize>,
    root: Option<String>,
    /// `(prefix, uri)` declared by elements outside records; `""` for the
    /// default namespace.
    namespaces: Vec<(String, String)>,
    records: u64,
    builder: Builder,
    state: State,
    /// Turns the feed's bytes into the UTF-8 that `buf` holds.
    decoder: FeedDecoder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    Failed(XmlError),
}

impl RecordSplitter {
    /// A splitter yielding every element named one of `record_names`
    /// (qualified names, compared exactly: `"item"`, `"entry"`, `"atom:entry"`)
    /// that is not itself inside a record.
    pub fn new(record_names: &[&str]) -> Self {
        RecordSplitter {
            record_names: record_names.iter().map(|n| (*n).to_owned()).collect(),
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            buf: Vec::new(),
            base: 0,
            pos: 0,
            outer_names: String::new(),
            outer_starts: Vec::new(),
            root: None,
            namespaces: Vec::new(),
            records: 0,
            builder: Builder::default(),
            state: State::Open,
            decoder: FeedDecoder::xml(),
        }
    }

    /// Sets the cap on the bytes of one record (and of any single piece of
    /// markup outside records). Default [`DEFAULT_MAX_RECORD_BYTES`].
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.max_record_bytes = bytes;
        self
    }

    /// Name of the document's root element, once its start tag was read.
    pub fn root_name(&self) -> Option<&str> {
        self.root.as_deref()
    }

    /// The prefix bound to `uri` by an element outside the records
    /// (`Some("")` for the default namespace), if one was declared.
    pub fn prefix_of(&self, uri: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .find(|(_, u)| u == uri)
            .map(|(prefix, _)| prefix.as_str())
    }

    /// Number of records handed out so far (valid or not).
    pub fn records_seen(&self) -> u64 {
        self.records
    }

    /// Bytes kept between chunks: the unfinished piece of markup (or the last
    /// incomplete character of a text) at the end of the input so far, and
    /// the first bytes while the feed's encoding is being decided.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() - self.pos + self.decoder.held_bytes()
    }

    /// Consumes the next chunk, calling `on_record` for each record it
    /// completes, in document order.
    pub fn push<F>(&mut self, chunk: &[u8], mut on_record: F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        match &self.state {
            State::Open => {}
            State::Failed(error) => return Err(error.clone()),
            State::Finished => {
                return Err(XmlError::Malformed(
                    "data pushed after the end of the feed".into(),
                ));
            }
        }
        self.compact();
        if self.decoder.passes_through() {
            self.buf.extend_from_slice(chunk);
        } else if let Err(error) = self.decoder.push(chunk, &mut self.buf) {
            return self.settle(Err(error.into()));
        }
        let result = self
            .run(false, &mut on_record)
            .and_then(|()| self.check_pending());
        self.settle(result)
    }

    /// Ends the document: calls `on_record` for the last records, then fails
    /// with [`XmlError::Malformed`] if the document stopped in the middle.
    pub fn finish<F>(&mut self, mut on_record: F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        match &self.state {
            State::Open => {}
            State::Failed(error) => return Err(error.clone()),
            State::Finished => return Ok(()),
        }
        if let Err(error) = self.decoder.finish(&mut self.buf) {
            return self.settle(Err(error.into()));
        }
        let result = self
            .run(true, &mut on_record)
            .and_then(|()| self.check_complete());
        let result = self.settle(result);
        if result.is_ok() {
            self.state = State::Finished;
        }
        self.buf = Vec::new();
        self.pos = 0;
        result
    }

    fn settle(&mut self, result: Result<(), XmlError>) -> Result<(), XmlError> {
        if let Err(error) = &result {
            self.state = State::Failed(error.clone());
        }
        result
    }

    /// Drops the consumed bytes, keeping the buffer's capacity.
    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
    }

    fn check_pending(&self) -> Result<(), XmlError> {
        let end = self.base + self.buf.len() as u64;
        let pending = if self.builder.active {
            end - self.builder.start
        } else {
            end - (self.base + self.pos as u64)
        };
        if pending > self.max_record_bytes as u64 {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn too_large(&self) -> XmlError {
        XmlError::Refused(format!(
            "a record or a piece of markup is larger than {} bytes",
            self.max_record_bytes
        ))
    }

    fn check_complete(&self) -> Result<(), XmlError> {
        if self.builder.active {
            return Err(XmlError::Malformed(format!(
                "unexpected end of document inside <{}> (record {})",
                self.builder.record_name(),
                self.records + 1
            )));
        }
        if let Some(&start) = self.outer_starts.last() {
            return Err(XmlError::Malformed(format!(
                "unexpected end of document: <{}> is not closed",
                &self.outer_names[start..]
            )));
        }
        if self.root.is_none() {
            return Err(XmlError::Malformed(
                "the document has no root element".into(),
            ));
        }
        Ok(())
    }

    /// Parses from `pos` as far as the input allows. With `at_end`, the input
    /// is complete: an event cut by the end of the buffer is an error.
    fn run<F>(&mut self, at_end: bool, on_record: &mut F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        // The buffer is lent to the reader while `self` records the events.
        let buf = std::mem::take(&mut self.buf);
        let result = self.run_on(&buf, at_end, on_record);
        self.buf = buf;
        result
    }

    fn run_on<F>(&mut self, buf: &[u8], at_end: bool, on_record: &mut F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        let mut window = Window::default();
        'resume: loop {
            self.scan(buf, &mut window, on_record)?;
            // A fresh reader strips a leading byte order mark without counting
            // it: skip the document's BOM here, and keep a U+FEFF met at a
            // resume point as the text it is.
            while buf[self.pos..].starts_with(UTF8_BOM) {
                if self.base + self.pos as u64 != 0 {
                    self.builder.text("\u{FEFF}");
                }
                self.pos += UTF8_BOM.len();
            }
            // One event, then back to the scanner.
            let slice = &buf[self.pos..];
            let mut reader = Reader::from_reader(slice);
            configure(reader.config_mut());
            let event = reader.read_event();
            let end = reader.buffer_position() as usize;
            let at = self.base + self.pos as u64;
            match event {
                Ok(Event::Eof) => {
                    self.pos += slice.len();
                    return Ok(());
                }
                // Text running into the end of the buffer goes on in the next
                // chunk: keep what is complete, so that a long text is never
                // read twice.
                Ok(Event::Text(text)) if !at_end && end == slice.len() => {
                    self.pos += self.partial_text(&text);
                    return Ok(());
                }
                Ok(event) => {
                    self.on_event(event, at, end, on_record)?;
                    self.pos += end;
                }
                Err(error) => {
                    let in_text = slice.first().is_some_and(|b| *b != b'<');
                    if !at_end && cut_by_end(&error, slice.len(), end) {
                        // A UTF-8 character cut by the end of a text: keep the
                        // text before it.
                        let valid = match &error {
                            QuickXmlError::Encoding(EncodingError::Utf8(e)) if in_text => {
                                e.valid_up_to()
                            }
                            _ => 0,
                        };
                        let before = slice.get(..valid).unwrap_or_default();
                        let kept =
                            std::str::from_utf8(before).map_or(0, |text| self.partial_text(text));
                        self.pos += kept;
                        return Ok(());
                    }
                    if in_text
                        && let QuickXmlError::Encoding(EncodingError::Utf8(e)) = &error
                        && let Some(bytes) = slice.get(..end).filter(|b| !b.is_empty())
                    {
                        // The reader skipped past the bad text: keep it with
                        // U+FFFD for what is not UTF-8, flag the record, and
                        // go on after it.
                        let bad_at = at + e.valid_up_to() as u64;
                        let encoding = self.decoder.encoding_name();
                        self.builder.text(&String::from_utf8_lossy(bytes));
                        self.builder
                            .problem(|| format!("text at byte {bad_at} is not valid {encoding}"));
                        self.pos += end;
                        continue 'resume;
                    }
                    return Err(XmlError::Malformed(format!("{error} (at byte {at})")));
                }
            }
        }
    }

    /// Reads what it can from `self.pos` by itself, as long as the document
    /// holds only what feeds are made of: elements without attributes, text,
    /// CDATA sections and `&name;` references. It stops before anything else
    /// (attributes, comments, processing instructions, a lone `&`, an end tag
    /// that does not close the innermost open element of a record, any end
    /// tag outside records, bytes that are not UTF-8, a piece cut by the end
    /// of the buffer), which quick-xml then reads as before.
    ///
    /// Why: quick-xml spends most of its time per event (state machine,
    /// UTF-8 validation of every piece, bookkeeping of open names), and a
    /// feed is mostly short events; in the sandbox every loop turn and call
    /// also pays a deadline check. The scanner checks UTF-8 once per
    /// [`SCAN_WINDOW`] with SIMD, finds pieces with memchr, and hands each
    /// one to the same `on_start`, `emit` and `Builder` methods as quick-xml's
    /// events (an end tag it reads closes what `on_end` would: anything else
    /// is quick-xml's), so the records, errors and byte offsets are the same
    /// whichever reads them.
    fn scan<'b, F>(
        &mut self,
        buf: &'b [u8],
        window: &mut Window<'b>,
        on_record: &mut F,
    ) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        loop {
            let rest = self
                .pos
                .checked_sub(window.start)
                .and_then(|offset| window.text.get(offset..))
                .filter(|rest| !rest.is_empty());
            let Some(rest) = rest else {
                if !window.refill(buf, self.pos) {
                    return Ok(());
                }
                continue;
            };
            let whole = buf.get(window.start + window.text.len()) == Some(&b'<');
            match self.scan_piece(rest, whole, on_record)? {
                Piece::Read(len) => {
                    if !self.builder.active && len > self.max_record_bytes {
                        return Err(self.too_large());
                    }
                    self.pos += len;
                }
                // Runs past the window: once more from a window that starts
                // here, unless this one already does.
                Piece::Unfinished if window.start != self.pos => {
                    if !window.refill(buf, self.pos) {
                        return Ok(());
                    }
                }
                Piece::Unfinished | Piece::Other => return Ok(()),
            }
        }
    }

    /// The piece at the start of `rest`. `whole`: `rest` ends just before a
    /// `<` (a text running to its end is complete).
    fn scan_piece<F>(
        &mut self,
        rest: &str,
        whole: bool,
        on_record: &mut F,
    ) -> Result<Piece, XmlError>
    where
        F: FnMut(Record<'_>),
    {
        const CDATA: &str = "<![CDATA[";
        let bytes = rest.as_bytes();
        let text_end = match memchr::memchr2(b'<', b'&', bytes) {
            Some(0) => None,
            Some(i) => Some(i),
            None if whole => Some(rest.len()),
            None => return Ok(Piece::Unfinished),
        };
        if let Some(end) = text_end {
            // Cut before an ASCII byte: a char boundary.
            let Some(text) = rest.get(..end) else {
                return Ok(Piece::Other);
            };
            self.builder.text(text);
            return Ok(Piece::Read(end));
        }
        if bytes[0] == b'&' {
            // `&name;` (quick-xml's `GeneralRef`); a lone `&` is quick-xml's.
            let Some(semi) = memchr::memchr3(b';', b'&', b'<', &bytes[1..]) else {
                return Ok(Piece::Unfinished);
            };
            let semi = semi + 1;
            if bytes[semi] != b';' {
                return Ok(Piece::Other);
            }
            let Some(name) = rest.get(1..semi) else {
                return Ok(Piece::Other);
            };
            self.builder.reference(name);
            return Ok(Piece::Read(semi + 1));
        }
        match bytes.get(1) {
            Some(b'/') => {
                // Only the end tag of the innermost open element (or of the
                // record): a mismatch, a space before `>`, an end tag outside
                // records are quick-xml's.
                let Some(gt) = memchr::memchr(b'>', bytes) else {
                    return Ok(Piece::Unfinished);
                };
                let name = &bytes[2..gt];
                let len = gt + 1;
                match self.builder.open.last() {
                    _ if !self.builder.active => return Ok(Piece::Other),
                    Some(&field) if self.builder.field_name(field).as_bytes() == name => {
                        self.builder.open.pop();
                    }
                    Some(_) => return Ok(Piece::Other),
                    None if self.builder.record_name().as_bytes() == name => {
                        self.emit(self.base + (self.pos + len) as u64, on_record)?;
                    }
                    None => return Ok(Piece::Other),
                }
                Ok(Piece::Read(len))
            }
            Some(b'!') if rest.starts_with(CDATA) => {
                let Some(end) = memchr::memmem::find(&bytes[CDATA.len()..], b"]]>") else {
                    return Ok(Piece::Unfinished);
                };
                let Some(text) = rest.get(CDATA.len()..CDATA.len() + end) else {
                    return Ok(Piece::Other);
                };
                self.builder.text(text);
                Ok(Piece::Read(CDATA.len() + end + 3))
            }
            Some(b'!' | b'?') => Ok(Piece::Other),
            None => Ok(Piece::Unfinished),
            Some(_) => {
                let Some(gt) = memchr::memchr(b'>', bytes) else {
                    return Ok(Piece::Unfinished);
                };
                let (content, empty) = match bytes[1..gt].strip_suffix(b"/") {
                    Some(content) => (content.len(), true),
                    None => (gt - 1, false),
                };
                let Some(name) = rest.get(1..1 + content).filter(|name| plain_name(name)) else {
                    return Ok(Piece::Other);
                };
                let at = self.base + self.pos as u64;
                self.on_start(&BytesStart::new(name), at, empty, on_record)?;
                Ok(Piece::Read(gt + 1))
            }
        }
    }

    /// Takes the complete part of a text cut by the end of the buffer and
    /// returns its length in bytes; the rest is read again with the next
    /// chunk. A `&…` is always read again (it may be a reference), and so is
    /// a final `\r` (it may be the first half of a `\r\n`).
    fn partial_text(&mut self, text: &str) -> usize {
        if text.starts_with('&') {
            return 0;
        }
        let complete = text.strip_suffix('\r').unwrap_or(text);
        self.builder.text(complete);
        complete.len()
    }

    fn on_event<F>(
        &mut self,
        event: Event<'_>,
        at: u64,
        len: usize,
        on_record: &mut F,
    ) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        match event {
            Event::Text(text) => self.builder.text(&text),
            Event::CData(text) => self.builder.text(&text),
            Event::GeneralRef(reference) => self.builder.reference(&reference),
            Event::Start(start) => self.on_start(&start, at, false, on_record)?,
            Event::Empty(start) => self.on_start(&start, at, true, on_record)?,
            Event::End(end) => self.on_end(end.name().into_inner(), at + len as u64, on_record)?,
            Event::DocType(doctype) => check_doctype(&doctype)?,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::Eof => {}
        }
        if !self.builder.active && len > self.max_record_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn depth(&self) -> usize {
        self.outer_starts.len() + usize::from(self.builder.active) + self.builder.open.len()
    }

    fn on_start<F>(
        &mut self,
        start: &BytesStart<'_>,
        at: u64,
        empty: bool,
        on_record: &mut F,
    ) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        if self.depth() >= MAX_DEPTH {
            return Err(XmlError::Refused(format!(
                "elements nested deeper than {MAX_DEPTH}"
            )));
        }
        let name = start.name().into_inner();
        if self.builder.active {
            return self.builder.element(start, empty);
        }
        if self.root.is_none() {
            self.root = Some(name.to_owned());
        } else if self.outer_starts.is_empty() {
            return Err(XmlError::Malformed(format!(
                "a second root element <{name}> at byte {at}"
            )));
        }
        if self.record_names.iter().any(|n| n == name) {
            self.builder.begin(start, at);
            if empty {
                self.emit(at, on_record)?;
            }
            return Ok(());
        }
        if start.attributes_raw().contains("xmlns") {
            self.declare_namespaces(start);
        }
        if !empty {
            self.outer_starts.push(self.outer_names.len());
            self.outer_names.push_str(name);
        }
        Ok(())
    }

    fn on_end<F>(&mut self, name: &str, end: u64, on_record: &mut F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        if self.builder.active {
            if let Some(field) = self.builder.open.pop() {
                let expected = self.builder.field_name(field);
                if expected != name {
                    return Err(mismatched(expected, name, end));
                }
                return Ok(());
            }
            let expected = self.builder.record_name();
            if expected != name {
                return Err(mismatched(expected, name, end));
            }
            return self.emit(end, on_record);
        }
        match self.outer_starts.pop() {
            Some(start) => {
                let expected = &self.outer_names[start..];
                if expected != name {
                    return Err(mismatched(expected, name, end));
                }
                self.outer_names.truncate(start);
                Ok(())
            }
            None => Err(XmlError::Malformed(format!(
                "end tag </{name}> without a start tag (before byte {end})"
            ))),
        }
    }

    fn emit<F>(&mut self, end: u64, on_record: &mut F) -> Result<(), XmlError>
    where
        F: FnMut(Record<'_>),
    {
        if end - self.builder.start > self.max_record_bytes as u64 {
            return Err(self.too_large());
        }
        self.records += 1;
        on_record(self.builder.record(self.records, &self.namespaces));
        self.builder.reset();
        Ok(())
    }

    fn declare_namespaces(&mut self, start: &BytesStart<'_>) {
        let mut attributes = start.attributes();
        attributes.with_checks(false);
        for attribute in attributes.flatten() {
            let key = attribute.key.into_inner();
            let prefix = match key.strip_prefix("xmlns") {
                Some("") => "",
                Some(rest) => match rest.strip_prefix(':') {
                    Some(prefix) => prefix,
                    None => continue,
                },
                None => continue,
            };
            self.namespaces
                .push((prefix.to_owned(), attribute.value.trim().to_owned()));
        }
    }
}

/// Whether `name` is the name of a start tag with no attributes and no space
/// (what [`RecordSplitter::scan_piece`] reads itself).
///
/// Conservative: any byte below `-` (spaces, quotes, and punctuation no name
/// may hold) sends the tag to quick-xml. Checked 8 bytes a step: in the
/// sandbox a loop pays a deadline check per turn.
fn plain_name(name: &str) -> bool {
    const LOW: u64 = u64::from_ne_bytes([b'-'; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether a byte of `word` is below `-` ("hasless" from Bit Twiddling Hacks).
    let below = |word: [u8; 8]| {
        let x = u64::from_ne_bytes(word);
        x.wrapping_sub(LOW) & !x & HIGH != 0
    };
    if name.is_empty() {
        return false;
    }
    let mut chunks = name.as_bytes().chunks_exact(8);
    for chunk in &mut chunks {
        if <[u8; 8]>::try_from(chunk).is_ok_and(below) {
            return false;
        }
    }
    let mut last = [b'a'; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    !below(last)
}

/// Bytes of the buffer the record scanner checks as UTF-8 at once: a few
/// records, so that the check runs on long stretches (SIMD) but not much
/// further than the scanner reads before quick-xml takes over.
const SCAN_WINDOW: usize = 4 << 10;

/// A stretch of the buffer known to be UTF-8, from `start`.
#[derive(Default)]
struct Window<'b> {
    start: usize,
    text: &'b str,
}

impl<'b> Window<'b> {
    /// The next window from `pos`: up to [`SCAN_WINDOW`] bytes, cut before
    /// a `<` when there is one (a text is then whole), and before the first
    /// byte that is not UTF-8 (a character cut by the end of the buffer, or
    /// bad text, which quick-xml then reads). False when that is nothing.
    fn refill(&mut self, buf: &'b [u8], pos: usize) -> bool {
        let rest = buf.get(pos..).unwrap_or_default();
        let mut end = rest.len().min(SCAN_WINDOW);
        if end < rest.len()
            && let Some(lt) = memchr::memrchr(b'<', &rest[..end]).filter(|&lt| lt > 0)
        {
            end = lt;
        }
        let text = match simdutf8::compat::from_utf8(&rest[..end]) {
            Ok(text) => text,
            Err(e) => simdutf8::compat::from_utf8(&rest[..e.valid_up_to()]).unwrap_or_default(),
        };
        *self = Window { start: pos, text };
        !text.is_empty()
    }
}

/// What [`RecordSplitter::scan_piece`] made of the next piece.
enum Piece {
    /// Read, this many bytes.
    Read(usize),
    /// Runs past the window.
    Unfinished,
    /// For quick-xml.
    Other,
}

fn configure(config: &mut Config) {
    // Each reader starts mid-document: end tags of elements opened before
    // are expected, and names are matched by the splitter itself.
    config.allow_unmatched_ends = true;
    config.check_end_names = false;
    config.allow_dangling_amp = true;
    config.check_comments = false;
    config.expand_empty_elements = false;
    config.trim_text(false);
}

/// Whether `error` may only mean that the event at the start of a buffer of
/// `len` bytes goes on past its end (`end`: where the reader stopped).
fn cut_by_end(error: &QuickXmlError, len: usize, end: usize) -> bool {
    // The reader reached the end looking for the end of the event, or gave
    // up on a `<` or `<!` with nothing after it.
    end == len || (matches!(error, QuickXmlError::Syntax(_)) && len <= 2)
}

fn mismatched(expected: &str, found: &str, end: u64) -> XmlError {
    XmlError::Malformed(format!(
        "end tag </{found}> does not close <{expected}> (before byte {end})"
    ))
}

/// Refuses a DOCTYPE declaring entities; any other DOCTYPE is ignored (an
/// external DTD is never fetched).
fn check_doctype(doctype: &str) -> Result<(), XmlError> {
    let declares_entity = doctype
        .as_bytes()
        .windows(b"<!ENTITY".len())
        .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"));
    if declares_entity {
        return Err(XmlError::Refused(
            "DTD entity declarations are not allowed".into(),
        ));
    }
    Ok(())
}

/// Resolves a predefined entity or a character reference (`name` without `&`
/// and `;`).
fn resolve_reference(name: &str) -> Result<char, String> {
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ if name.starts_with('#') => match BytesRef::new(name).resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(format!("invalid character reference &{name};")),
        },
        _ => Err(format!("undefined entity &{name};")),
    }
}

/// Appends `text` with XML line-end normalization (`\r\n` and `\r` → `\n`).
fn push_normalized(arena: &mut String, text: &str) {
    // memchr scans 16 bytes a step with simd128; `<[u8]>::contains` 4.
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        arena.push_str(text);
        return;
    }
    let mut rest = text;
    while let Some(i) = memchr::memchr(b'\r', rest.as_bytes()) {
        arena.push_str(&rest[..i]);
        arena.push('\n');
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('\n') {
            rest = after;
        }
    }
    arena.push_str(rest);
}

/// A byte range in a record's arena.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    fn at(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }

    fn is_empty(self) -> bool {
        self.start == self.end
    }

    fn get(self, arena: &str) -> &str {
        arena.get(self.start..self.end).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy)]
struct FieldSpan {
    name: Span,
    text: Span,
    /// Range in `Builder::attributes`.
    attributes: Span,
    parent: Option<usize>,
    depth: usize,
}

#[derive(Debug, Clone, Copy)]
struct AttributeSpan {
    name: Span,
    value: Span,
}

/// The record being read. Everything lives in reused buffers.
#[derive(Debug, Default)]
struct Builder {
    active: bool,
    /// Stream offset of the record's start tag.
    start: u64,
    name: Span,
    attributes_of_record: Span,
    arena: String,
    fields: Vec<FieldSpan>,
    attributes: Vec<AttributeSpan>,
    /// The open elements inside the record, innermost last.
    open: Vec<usize>,
    problem: Option<String>,
}

impl Builder {
    fn reset(&mut self) {
        self.active = false;
        self.arena.clear();
        self.fields.clear();
        self.attributes.clear();
        self.open.clear();
        self.problem = None;
    }

    fn begin(&mut self, start: &BytesStart<'_>, at: u64) {
        self.reset();
        self.active = true;
        self.start = at;
        self.name = self.push(start.name().into_inner());
        self.attributes_of_record = self.push_attributes(start);
    }

    fn record_name(&self) -> &str {
        self.name.get(&self.arena)
    }

    fn field_name(&self, field: usize) -> &str {
        self.fields
            .get(field)
            .map_or("", |f| f.name.get(&self.arena))
    }

    fn push(&mut self, text: &str) -> Span {
        let start = self.arena.len();
        self.arena.push_str(text);
        Span {
            start,
            end: self.arena.len(),
        }
    }

    fn problem(&mut self, reason: impl FnOnce() -> String) {
        if self.active && self.problem.is_none() {
            self.problem = Some(reason());
        }
    }

    fn element(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<(), XmlError> {
        if self.fields.len() >= MAX_ELEMENTS_PER_RECORD {
            return Err(XmlError::Refused(format!(
                "a record has more than {MAX_ELEMENTS_PER_RECORD} elements"
            )));
        }
        let name = self.push(start.name().into_inner());
        let attributes = self.push_attributes(start);
        let index = self.fields.len();
        self.fields.push(FieldSpan {
            name,
            text: Span::at(self.arena.len()),
            attributes,
            parent: self.open.last().copied(),
            depth: self.open.len() + 1,
        });
        if !empty {
            self.open.push(index);
        }
        Ok(())
    }

    /// Appends a piece of text to the innermost open element of the record.
    /// Text directly inside the record element, or outside records, is
    /// dropped.
    fn text(&mut self, piece: &str) {
        let Some(&top) = self.open.last() else {
            return;
        };
        if piece.is_empty() {
            return;
        }
        let Some(field) = self.fields.get_mut(top) else {
            return;
        };
        let arena = &mut self.arena;
        if field.text.end != arena.len() {
            if field.text.is_empty() {
                field.text = Span::at(arena.len());
            } else {
                // A child element came in between: move the text so far to
                // the end of the arena to keep it contiguous.
                let old = field.text;
                arena.extend_from_within(old.start..old.end);
                field.text = Span {
                    start: arena.len() - (old.end - old.start),
                    end: arena.len(),
                };
            }
        }
        push_normalized(arena, piece);
        field.text.end = arena.len();
    }

    fn reference(&mut self, reference: &str) {
        if !self.active {
            return;
        }
        match resolve_reference(reference) {
            Ok(c) => {
                let mut utf8 = [0; 4];
                self.text(c.encode_utf8(&mut utf8));
            }
            Err(reason) => self.problem(|| reason),
        }
    }

    fn push_attributes(&mut self, start: &BytesStart<'_>) -> Span {
        let first = self.attributes.len();
        let raw = start.attributes_raw();
        if raw.bytes().all(|b| b.is_ascii_whitespace()) {
            return Span::at(first);
        }
        let mut attributes = start.attributes();
        attributes.with_checks(false);
        for attribute in attributes {
            match attribute {
                Ok(attribute) => {
                    let name = self.push(attribute.key.into_inner());
                    let value = self.push_attribute_value(&attribute.value);
                    self.attributes.push(AttributeSpan { name, value });
                }
                Err(error) => {
                    let element = start.name().into_inner().to_owned();
                    self.problem(|| format!("malformed attribute in <{element}>: {error}"));
                    break;
                }
            }
        }
        Span {
            start: first,
            end: self.attributes.len(),
        }
    }

    /// Appends an attribute value, resolving references and normalizing
    /// white space as XML requires.
    fn push_attribute_value(&mut self, raw: &str) -> Span {
        let start = self.arena.len();
        let mut rest = raw;
        while let Some(i) = rest.find(['&', '\t', '\n', '\r']) {
            self.arena.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix('&') {
                match after.find(';') {
                    Some(semi) => {
                        match resolve_reference(&after[..semi]) {
                            Ok(c) => self.arena.push(c),
                            Err(reason) => self.problem(|| format!("{reason} in an attribute")),
                        }
                        rest = &after[semi + 1..];
                    }
                    None => {
                        self.arena.push('&');
                        rest = after;
                    }
                }
            } else {
                // `\r\n` is one line end, hence one space.
                self.arena.push(' ');
                rest = tail.strip_prefix("\r\n").unwrap_or(&tail[1..]);
            }
        }
        self.arena.push_str(rest);
        Span {
            start,
            end: self.arena.len(),
        }
    }

    fn record<'a>(&'a self, index: u64, namespaces: &'a [(String, String)]) -> Record<'a> {
        Record {
            name: self.record_name(),
            namespaces,
            index,
            offset: self.start,
            own_attributes: self.attributes_of_record,
            arena: &self.arena,
            fields: &self.fields,
            attributes: &self.attributes,
            problem: self.problem.as_deref(),
        }
    }
}

/// One complete record, borrowed from the splitter for the duration of the
/// callback.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    name: &'a str,
    namespaces: &'a [(String, String)],
    index: u64,
    offset: u64,
    own_attributes: Span,
    arena: &'a str,
    fields: &'a [FieldSpan],
    attributes: &'a [AttributeSpan],
    problem: Option<&'a str>,
}

impl<'a> Record<'a> {
    /// The record element's qualified name (`"item"`).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Position of the record in the feed, from 1.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Byte offset of the record's start tag in the document.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Why the record is invalid (an undefined entity, text that is not
    /// UTF-8, a malformed attribute), if it is. Its fields are still readable,
    /// to name the record in a rejection.
    pub fn problem(&self) -> Option<&'a str> {
        self.problem
    }

    /// The prefix bound to the namespace `uri` (`Some("")` for the default
    /// namespace): by the record element itself, or else by an element
    /// around the records.
    pub fn prefix_of(&self, uri: &str) -> Option<&'a str> {
        let own = self.attributes().find_map(|(name, value)| {
            let prefix = match name.strip_prefix("xmlns")? {
                "" => "",
                rest => rest.strip_prefix(':')?,
            };
            (value.trim() == uri).then_some(prefix)
        });
        own.or_else(|| {
            self.namespaces
                .iter()
                .find(|(_, u)| u == uri)
                .map(|(prefix, _)| prefix.as_str())
        })
    }

    /// An attribute of the record element itself.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        find_attribute(self.arena, self.attributes, self.own_attributes, name)
    }

    /// The record element's own attributes, `(name, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        attributes_in(self.arena, self.attributes, self.own_attributes)
    }

    /// Every element inside the record, in document order, nested ones
    /// included.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        let (arena, attributes) = (self.arena, self.attributes);
        self.fields
            .iter()
            .enumerate()
            .map(move |(index, span)| Field {
                arena,
                attributes,
                span,
                index,
            })
    }

    /// The elements directly inside the record, in document order.
    pub fn children(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        self.fields().filter(|f| f.depth() == 1)
    }

    /// The field at `index` (as [`Field::index`] and [`Field::parent`] give).
    pub fn field(&self, index: usize) -> Option<Field<'a>> {
        self.fields.get(index).map(|span| Field {
            arena: self.arena,
            attributes: self.attributes,
            span,
            index,
        })
    }

    /// The text of the first direct child named `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.children().find(|f| f.name() == name).map(|f| f.text())
    }

    /// The texts of every direct child named `name`, in document order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.children()
            .filter(move |f| f.name() == name)
            .map(|f| f.text())
    }
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("name", &self.name)
            .field("index", &self.index)
            .field("attributes", &self.attributes().collect::<Vec<_>>())
            .field("problem", &self.problem)
            .field("fields", &self.fields().collect::<Vec<_>>())
            .finish()
    }
}

/// One element inside a record.
#[derive(Clone, Copy)]
pub struct Field<'a> {
    arena: &'a str,
    attributes: &'a [AttributeSpan],
    span: &'a FieldSpan,
    index: usize,
}

impl<'a> Field<'a> {
    /// The qualified name, prefix kept (`"g:price"`).
    pub fn name(&self) -> &'a str {
        self.span.name.get(self.arena)
    }

    /// The name without its prefix (`"price"`).
    pub fn local_name(&self) -> &'a str {
        let name = self.name();
        name.split_once(':').map_or(name, |(_, local)| local)
    }

    /// The prefix, if any (`Some("g")`).
    pub fn prefix(&self) -> Option<&'a str> {
        self.name().split_once(':').map(|(prefix, _)| prefix)
    }

    /// The element's own text (texts of nested elements excluded), entities
    /// resolved, CDATA included, not trimmed.
    pub fn text(&self) -> &'a str {
        self.span.text.get(self.arena)
    }

    /// 1 for a direct child of the record, 2 for its children…
    pub fn depth(&self) -> usize {
        self.span.depth
    }

    /// Index of this field in [`Record::fields`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// Index of the enclosing field, `None` for a direct child of the record.
    pub fn parent(&self) -> Option<usize> {
        self.span.parent
    }

    /// The value of an attribute, references resolved.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        find_attribute(self.arena, self.attributes, self.span.attributes, name)
    }

    /// The element's attributes, `(name, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        attributes_in(self.arena, self.attributes, self.span.attributes)
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Field");
        s.field("name", &self.name()).field("text", &self.text());
        if self.depth() != 1 {
            s.field("depth", &self.depth())
                .field("parent", &self.parent());
        }
        if !self.span.attributes.is_empty() {
            s.field("attributes", &self.attributes().collect::<Vec<_>>());
        }
        s.finish()
    }
}

fn attributes_in<'a>(
    arena: &'a str,
    attributes: &'a [AttributeSpan],
    range: Span,
) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    attributes
        .get(range.start..range.end)
        .unwrap_or_default()
        .iter()
        .map(move |a| (a.name.get(arena), a.value.get(arena)))
}

fn find_attribute<'a>(
    arena: &'a str,
    attributes: &'a [AttributeSpan],
    range: Span,
    name: &str,
) -> Option<&'a str> {
    attributes_in(arena, attributes, range).find_map(|(n, v)| (n == name).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `doc` in chunks of `size` bytes; returns the records as debug
    /// strings, or the error as a string.
    fn split(doc: &[u8], names: &[&str], size: usize) -> Result<Vec<String>, XmlError> {
        let mut splitter = RecordSplitter::new(names);
        let mut out = Vec::new();
        for chunk in doc.chunks(size.max(1)) {
            splitter.push(chunk, |r| out.push(format!("{r:?}")))?;
        }
        splitter.finish(|r| out.push(format!("{r:?}")))?;
        Ok(out)
    }

    fn records<T>(doc: &str, mut map: impl FnMut(Record<'_>) -> T) -> Result<Vec<T>, XmlError> {
        let mut splitter = RecordSplitter::new(&["item", "entry"]);
        let mut out = Vec::new();
        splitter.push(doc.as_bytes(), |r| out.push(map(r)))?;
        splitter.finish(|r| out.push(map(r)))?;
        Ok(out)
    }

    const DOC: &str = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
        <!DOCTYPE rss SYSTEM \"http://example.invalid/rss.dtd\">\r\n\
        <!-- a comment with <item> inside -->\r\n\
        <rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\r\n\
        <channel><title>Shop &amp; Co</title>\r\n\
        <item id=\"a&amp;b\">\r\n\
          <title>Caf\u{e9} &amp; th\u{e9} &lt;3 &#233;t\u{e9} &#x20AC;5 \u{65e5}\u{672c} \u{1F389}</title>\r\n\
          <description><![CDATA[<p>Bold & <b>brash</b></p>]]> and more\r\nlines</description>\r\n\
          <g:price>15.00 EUR</g:price>\r\n\
          <g:label>one</g:label><g:label>two</g:label>\r\n\
          <g:shipping>\r\n  <g:country>FR</g:country>\r\n  <g:price>4.95 EUR</g:price>\r\n</g:shipping>\r\n\
          <link href=\"http://x.test/?a=1&amp;b=2\" rel='alternate'/>\r\n\
          <empty/><spaced>  padded  </spaced>\r\n\
          <bom>\u{FEFF}starts with a BOM</bom>\r\n\
          <amp>AT&T and &apos;quotes&quot;</amp>\r\n\
        </item>\r\n\
        <item><title>second</title><g:id>&unknown;</g:id></item>\r\n\
        <item/>\r\n\
        <entry><title>\u{1F600}</title></entry>\r\n\
        </channel></rss>\r\n";

    #[test]
    fn the_output_does_not_depend_on_where_the_chunks_are_cut() {
        let whole = split(DOC.as_bytes(), &["item", "entry"], DOC.len()).expect("parses");
        assert_eq!(whole.len(), 4);
        for size in 1..=DOC.len() {
            let chunked = split(DOC.as_bytes(), &["item", "entry"], size).expect("parses");
            assert_eq!(chunked, whole, "chunk size {size}");
        }
    }

    #[test]
    fn fields_texts_and_attributes() {
        let mut seen = 0;
        let mut splitter = RecordSplitter::new(&["item", "entry"]);
        let mut check = |r: Record<'_>| {
            seen += 1;
            match r.index() {
                1 => {
                    assert_eq!(r.name(), "item");
                    assert_eq!(r.attribute("id"), Some("a&b"));
                    assert_eq!(r.problem(), None);
                    assert_eq!(r.get("title"), Some("Café & thé <3 été €5 日本 🎉"));
                    assert_eq!(
                        r.get("description"),
                        Some("<p>Bold & <b>brash</b></p> and more\nlines")
                    );
                    // The nested g:price of g:shipping is not the item's.
                    assert_eq!(r.get("g:price"), Some("15.00 EUR"));
                    assert_eq!(r.get_all("g:label").collect::<Vec<_>>(), ["one", "two"]);
                    let nested: Vec<_> = r
                        .fields()
                        .filter(|f| f.depth() == 2)
                        .map(|f| {
                            (
                                f.name(),
                                f.text(),
                                f.parent().and_then(|p| r.field(p)).map(|p| p.name()),
                            )
                        })
                        .collect();
                    assert_eq!(
                        nested,
                        [
                            ("g:country", "FR", Some("g:shipping")),
                            ("g:price", "4.95 EUR", Some("g:shipping"))
                        ]
                    );
                    let link = r.children().find(|f| f.name() == "link").expect("link");
                    assert_eq!(link.attribute("href"), Some("http://x.test/?a=1&b=2"));
                    assert_eq!(link.attribute("rel"), Some("alternate"));
                    assert_eq!(link.text(), "");
                    assert_eq!(r.get("empty"), Some(""));
                    assert_eq!(r.get("spaced"), Some("  padded  "));
                    assert_eq!(r.get("bom"), Some("\u{FEFF}starts with a BOM"));
                    assert_eq!(r.get("amp"), Some("AT&T and 'quotes\""));
                    let price = r.children().find(|f| f.name() == "g:price").expect("price");
                    assert_eq!((price.prefix(), price.local_name()), (Some("g"), "price"));
                }
                2 => {
                    assert_eq!(r.problem(), Some("undefined entity &unknown;"));
                    assert_eq!(r.get("title"), Some("second"));
                }
                3 => assert_eq!(r.fields().count(), 0),
                _ => {
                    assert_eq!(r.name(), "entry");
                    assert_eq!(r.get("title"), Some("😀"));
                }
            }
        };
        splitter.push(DOC.as_bytes(), &mut check).expect("parses");
        splitter.finish(&mut check).expect("complete");
        assert_eq!(seen, 4);
        assert_eq!(splitter.root_name(), Some("rss"));
        assert_eq!(
            splitter.prefix_of("http://base.google.com/ns/1.0"),
            Some("g")
        );
        let doc = "<feed xmlns='urn:atom' xmlns:g='urn:google'><entry xmlns:h='urn:h'/></feed>";
        let prefixes = records(doc, |r| {
            [
                r.prefix_of("urn:atom"),
                r.prefix_of("urn:google"),
                r.prefix_of("urn:h"),
                r.prefix_of("urn:x"),
            ]
            .map(|p| p.map(str::to_owned))
        })
        .expect("parses");
        assert_eq!(
            prefixes,
            [[Some("".into()), Some("g".into()), Some("h".into()), None]]
        );
        assert_eq!(splitter.records_seen(), 4);
    }

    #[test]
    fn entity_declarations_are_refused() {
        let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n\
            <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n\
            <lolz><item>&lol2;</item></lolz>";
        for size in [1, 7, bomb.len()] {
            let result = split(bomb.as_bytes(), &["item"], size);
            assert_eq!(
                result,
                Err(XmlError::Refused(
                    "DTD entity declarations are not allowed".into()
                ))
            );
        }
        // Parameter entities too, and the refusal sticks.
        let mut splitter = RecordSplitter::new(&["item"]);
        let doc = b"<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://evil.test/x.dtd\"> %p;]><x/>";
        assert!(matches!(
            splitter.push(doc, |_| {}),
            Err(XmlError::Refused(_))
        ));
        assert!(matches!(
            splitter.push(b"<x/>", |_| {}),
            Err(XmlError::Refused(_))
        ));
        assert!(matches!(splitter.finish(|_| {}), Err(XmlError::Refused(_))));
    }

    #[test]
    fn doctypes_without_entities_are_ignored() {
        let external = "<?xml version=\"1.0\"?>\n<!DOCTYPE feed SYSTEM \"http://data.test/feed.dtd\">\n\
            <feed><entry><title>t</title></entry></feed>";
        let titles = records(external, |r| r.get("title").map(str::to_owned)).expect("parses");
        assert_eq!(titles, [Some("t".to_owned())]);
        let internal = "<!DOCTYPE feed [<!ELEMENT feed (entry*)>]><feed><entry/></feed>";
        assert_eq!(records(internal, |_| ()).expect("parses").len(), 1);
    }

    #[test]
    fn an_undefined_entity_invalidates_only_its_record() {
        let doc = "<rss><item><title>&nbsp;x</title><g:id>1</g:id></item>\
            <item><title>ok</title><g:id>2</g:id></item>\
            <item><link href=\"/a?&bogus;\"/></item>\
            <item><title>&#xFFFFFFFF;</title></item></rss>";
        let out = records(doc, |r| {
            (
                r.get("g:id").map(str::to_owned),
                r.problem().map(str::to_owned),
            )
        })
        .expect("parses");
        assert_eq!(
            out,
            [
                (Some("1".into()), Some("undefined entity &nbsp;".into())),
                (Some("2".into()), None),
                (
                    None,
                    Some("undefined entity &bogus; in an attribute".into())
                ),
                (
                    None,
                    Some("invalid character reference &#xFFFFFFFF;".into())
                ),
            ]
        );
    }

    /// The titles and problems of `doc`'s items, pushed in chunks of `size`.
    fn titles(doc: &[u8], size: usize) -> Result<Vec<(String, Option<String>)>, XmlError> {
        let mut splitter = RecordSplitter::new(&["item"]);
        let mut out = Vec::new();
        let mut take = |r: Record<'_>| {
            out.push((
                r.get("title").unwrap_or_default().to_owned(),
                r.problem().map(str::to_owned),
            ))
        };
        for chunk in doc.chunks(size.max(1)) {
            splitter.push(chunk, &mut take)?;
        }
        splitter.finish(&mut take)?;
        Ok(out)
    }

    /// An RSS document declaring `encoding`, with `titles` written as bytes
    /// of that encoding.
    fn declared(encoding: &str, titles: &[&[u8]]) -> Vec<u8> {
        let mut doc =
            format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<rss><channel>").into_bytes();
        for title in titles {
            doc.extend_from_slice(b"<item><title>");
            doc.extend_from_slice(title);
            doc.extend_from_slice(b"</title></item>");
        }
        doc.extend_from_slice(b"</channel></rss>");
        doc
    }

    #[test]
    fn feeds_in_the_encoding_their_declaration_names() {
        // Bytes from Microsoft's code page tables (cp1252.txt, cp1250.txt)
        // and ISO/IEC 8859-15: 0xE8 è, 0xFB û, 0xE9 é, 0x9C œ, 0xE7 ç,
        // 0x80 € (1252); 0x9A š, 0xE8 č, 0xF8 ř, 0xE1 á (1250); 0xBD œ,
        // 0xA4 € (8859-15).
        type Case<'a> = (&'a str, &'a [&'a [u8]], [&'a str; 2]);
        let cases: [Case<'_>; 4] = [
            (
                "windows-1252",
                &[
                    b"Cr\xE8me br\xFBl\xE9e",
                    b"C\x9Cur fa\xE7onn\xE9 &amp; Prix 10 \x80",
                ],
                ["Crème brûlée", "Cœur façonné & Prix 10 €"],
            ),
            (
                "ISO-8859-1",
                &[b"Cr\xE8me br\xFBl\xE9e", b"caf\xE9"],
                ["Crème brûlée", "café"],
            ),
            ("iso-8859-15", &[b"C\xBDur", b"10 \xA4"], ["Cœur", "10 €"]),
            (
                "windows-1250",
                &[b"\x9Akoda \xE8erven\xE1", b"\xF8\xEDzen\xED"],
                ["škoda červená", "řízení"],
            ),
        ];
        for (encoding, raw, expected) in cases {
            let doc = declared(encoding, raw);
            let want: Vec<(String, Option<String>)> =
                expected.iter().map(|t| ((*t).to_owned(), None)).collect();
            // Every chunk size, so every byte offset is a cut at least once.
            for size in 1..=doc.len() {
                assert_eq!(
                    titles(&doc, size),
                    Ok(want.clone()),
                    "{encoding}, chunks of {size}"
                );
            }
        }
    }

    #[test]
    fn utf16_feeds_are_cut_inside_their_characters() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss><channel>\
                    <item><title>Crème 🍰 brûlée</title></item></channel></rss>";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for doc in [le, be] {
            for size in 1..=doc.len() {
                assert_eq!(
                    titles(&doc, size),
                    Ok(vec![("Crème 🍰 brûlée".to_owned(), None)]),
                    "chunks of {size}"
                );
            }
        }
    }

    #[test]
    fn text_not_valid_in_the_declared_encoding_invalidates_its_record() {
        // A lone high surrogate (0xD800) in the first title of a UTF-16LE feed.
        let mut doc: Vec<u8> = vec![0xFF, 0xFE];
        let mut utf16 = |s: &str| doc.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        utf16("<rss><item><title>a");
        doc.extend_from_slice(&0xD800u16.to_le_bytes());
        let mut utf16 = |s: &str| doc.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        utf16("b</title></item><item><title>ok</title></item></rss>");
        for size in 1..=doc.len() {
            let seen = titles(&doc, size).expect("parses");
            assert_eq!(seen.len(), 2);
            assert!(
                seen[0]
                    .1
                    .as_deref()
                    .is_some_and(|p| p.contains("not valid UTF-16LE")),
                "{seen:?}"
            );
            assert_eq!(seen[1], ("ok".to_owned(), None));
        }
    }

    #[test]
    fn unknown_or_wrong_encodings_fail_the_feed_clearly() {
        let unknown = titles(&declared("x-mac-klingon", &[b"a"]), 64);
        assert!(
            matches!(&unknown, Err(XmlError::Malformed(m)) if m.contains("unknown encoding 'x-mac-klingon'")),
            "{unknown:?}"
        );
        // Declared UTF-16, written in ASCII.
        let wrong = titles(&declared("UTF-16", &[b"a"]), 64);
        assert!(
            matches!(&wrong, Err(XmlError::Malformed(m)) if m.contains("not UTF-16")),
            "{wrong:?}"
        );
        // Declared windows-1252, written in UTF-8.
        let wrong = titles(&declared("windows-1252", &["Crème".as_bytes()]), 64);
        assert!(
            matches!(&wrong, Err(XmlError::Malformed(m)) if m.contains("windows-1252") && m.contains("is UTF-8")),
            "{wrong:?}"
        );
        let error = FeedError::from(wrong.expect_err("fails"));
        assert!(matches!(error, FeedError::Malformed(_)), "{error:?}");
    }

    #[test]
    fn invalid_utf8_invalidates_only_its_record() {
        // Latin-1 "café crème brûlée", then a euro sign cut short.
        let mut doc = b"<rss><item><title>caf\xE9 cr\xE8me br\xFBl\xE9e \xE2\x82</title>".to_vec();
        doc.extend_from_slice(b"</item><item><title>ok</title></item></rss>");
        let whole = split(&doc, &["item"], doc.len()).expect("parses");
        assert!(
            whole[0].contains("text at byte 21 is not valid UTF-8"),
            "{whole:?}"
        );
        let lossy = "caf\u{fffd} cr\u{fffd}me br\u{fffd}l\u{fffd}e \u{fffd}";
        assert!(whole[0].contains(lossy), "{whole:?}");
        assert!(whole[1].contains("problem: None"), "{whole:?}");
        for size in 1..doc.len() {
            assert_eq!(
                split(&doc, &["item"], size).expect("parses"),
                whole,
                "size {size}"
            );
        }
        // In markup it is the document that is broken, wherever it is cut.
        let doc = b"<rss><item><title>x<b a=\"\xE9\">y</b></title></item></rss>";
        let whole = split(doc, &["item"], doc.len());
        assert!(
            matches!(&whole, Err(XmlError::Malformed(m)) if m.contains("at byte 19")),
            "{whole:?}"
        );
        for size in 1..doc.len() {
            assert_eq!(split(doc, &["item"], size), whole, "size {size}");
        }
    }

    #[test]
    fn a_record_over_the_cap_is_refused() {
        let cap = 1024;
        let mut splitter = RecordSplitter::new(&["item"]).with_max_record_bytes(cap);
        splitter
            .push(b"<rss><item><title>", |_| {})
            .expect("small so far");
        let filler = vec![b'x'; 256];
        let mut result = Ok(());
        for _ in 0..8 {
            result = splitter.push(&filler, |_| {});
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(XmlError::Refused(_))), "{result:?}");
        // Whole, in one chunk: refused too.
        let mut doc = b"<rss><item><title>".to_vec();
        doc.extend_from_slice(&[b'y'; 2048]);
        doc.extend_from_slice(b"</title></item></rss>");
        let splitter = RecordSplitter::new(&["item"]).with_max_record_bytes(cap);
        let mut splitter = splitter;
        assert!(matches!(
            splitter.push(&doc, |_| {}),
            Err(XmlError::Refused(_))
        ));
        // An endless comment outside records as well.
        let mut splitter = RecordSplitter::new(&["item"]).with_max_record_bytes(cap);
        splitter.push(b"<rss><!-- ", |_| {}).expect("small so far");
        let result = (0..8).try_for_each(|_| splitter.push(&filler, |_| {}));
        assert!(matches!(result, Err(XmlError::Refused(_))));
    }

    #[test]
    fn many_small_records_never_hit_the_cap_and_the_buffer_stays_small() {
        let cap = 4096;
        let mut splitter = RecordSplitter::new(&["item"]).with_max_record_bytes(cap);
        splitter.push(b"<rss>", |_| {}).expect("starts");
        let item = b"<item><title>a title long enough</title><g:id>12345</g:id></item>\n";
        let mut count = 0;
        for _ in 0..10_000 {
            splitter.push(item, |_| count += 1).expect("small records");
            // Cut in the middle of a record as well.
            splitter
                .push(&item[..17], |_| count += 1)
                .expect("small records");
            splitter
                .push(&item[17..], |_| count += 1)
                .expect("small records");
            assert!(splitter.pending_bytes() < item.len());
            assert!(splitter.buf.capacity() < 4 * item.len());
        }
        splitter.push(b"</rss>", |_| {}).expect("ends");
        splitter.finish(|_| {}).expect("complete");
        assert_eq!(count, 20_000);
    }

    #[test]
    fn a_long_text_is_taken_as_it_comes() {
        let mut splitter = RecordSplitter::new(&["item"]);
        splitter
            .push(b"<rss><item><description>", |_| {})
            .expect("starts");
        // "ab\r\n€" repeated, cut everywhere: inside the euro sign, between
        // \r and \n, before and inside an entity.
        let unit = "ab\r\n\u{20AC}&amp;".as_bytes();
        let text = unit.repeat(50_000);
        for chunk in text.chunks(1021) {
            splitter.push(chunk, |_| {}).expect("text");
            assert!(
                splitter.pending_bytes() < unit.len(),
                "the text is kept pending"
            );
        }
        let mut description = None;
        splitter
            .push(b"</description></item></rss>", |r| {
                description = r.get("description").map(str::to_owned)
            })
            .expect("ends");
        splitter.finish(|_| {}).expect("complete");
        assert_eq!(description, Some("ab\n\u{20AC}&".repeat(50_000)));
    }

    #[test]
    fn broken_documents_are_malformed() {
        let cases = [
            ("<rss><item><title>x</title>", "inside <item>"),
            ("<rss><item><title>x</title></item>", "<rss> is not closed"),
            ("<rss><item><title>x</item></rss>", "does not close <title>"),
            ("<rss></channel>", "does not close <rss>"),
            ("", "no root element"),
            ("not xml at all", "no root element"),
            (
                "<rss><item><title x=\"1></title></item></rss>",
                "not closed",
            ),
            ("<a/><b/>", "second root"),
        ];
        for (doc, expected) in cases {
            for size in [1, 3, doc.len()] {
                match split(doc.as_bytes(), &["item"], size) {
                    Err(XmlError::Malformed(message)) => {
                        assert!(message.contains(expected), "{doc}: {message}")
                    }
                    other => panic!("{doc}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn nesting_is_capped() {
        let doc = "<a>".repeat(MAX_DEPTH + 1);
        let result = split(doc.as_bytes(), &["item"], 64);
        assert!(matches!(result, Err(XmlError::Refused(_))), "{result:?}");
    }

    #[test]
    fn plain_names_are_told_from_tags_with_spaces_or_quotes() {
        for len in 1..=20 {
            let name = "g".repeat(len);
            assert!(plain_name(&name));
            for at in 0..len {
                for odd in [' ', '\t', '\r', '\n', '"', '\'', '!', ',', '\0'] {
                    let mut odd_name = name.clone();
                    odd_name.replace_range(at..=at, odd.encode_utf8(&mut [0; 4]));
                    assert!(!plain_name(&odd_name), "{odd_name:?}");
                }
            }
        }
        assert!(plain_name("g:google_product_category"));
        assert!(plain_name("prix-été_2"));
        assert!(!plain_name(""));
    }

    #[test]
    fn errors_map_to_feed_errors() {
        assert_eq!(
            FeedError::from(XmlError::Refused("r".into())),
            FeedError::Refused("r".into())
        );
        assert_eq!(
            FeedError::from(XmlError::Malformed("m".into())),
            FeedError::Malformed("m".into())
        );
    }
}

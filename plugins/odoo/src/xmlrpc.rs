//! A small XML-RPC codec: method calls out, method responses and faults in.
//!
//! It speaks the dialect of Python's `xmlrpc.client`, which Odoo's server
//! uses: the value types of the [specification] (`int`/`i4`, `boolean`,
//! `string`, `double`, `dateTime.iso8601`, `base64`, `array`, `struct`),
//! plus the `nil` and `i8` extensions (`ex:`-prefixed or not). A `<value>`
//! without a type element is a string, as the specification says.
//!
//! Encoding escapes `&`, `<` and `>`, writes carriage returns as `&#13;` (so
//! that XML's line-end normalization does not eat them) and replaces the
//! characters XML 1.0 cannot carry (C0 controls other than tab and line
//! ends, U+FFFE, U+FFFF) with U+FFFD: a customer's address never makes the
//! server's parser fail.
//!
//! Decoding refuses a DTD (no entity is ever expanded beyond the five
//! predefined ones and character references), nesting deeper than
//! [`MAX_DEPTH`], and anything that is not a well-formed `methodResponse`.
//!
//! [specification]: http://xmlrpc.com/spec.md

use std::collections::VecDeque;
use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Deepest nesting of arrays and structs accepted in a response. Odoo's
/// answers nest three or four levels (a list of records, a record, a
/// many2one pair); 64 leaves room and keeps recursion bounded.
pub const MAX_DEPTH: usize = 64;

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `int`, `i4` or `i8`.
    Int(i64),
    /// `boolean`. Odoo answers `false` for an empty field of any type.
    Bool(bool),
    /// `double`.
    Double(f64),
    /// `string`, or a `value` without a type.
    String(String),
    /// `dateTime.iso8601`, as written (`20260112T09:30:00`).
    DateTime(String),
    /// `base64`, as written (not decoded).
    Base64(String),
    /// `array`.
    Array(Vec<Value>),
    /// `struct`, members in document order.
    Struct(Vec<(String, Value)>),
    /// `nil` (Python's `None` with `allow_none`).
    Nil,
}

impl Value {
    /// A struct from `(name, value)` pairs.
    pub fn structure<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An array of these values.
    pub fn array(items: impl IntoIterator<Item = Value>) -> Value {
        Value::Array(items.into_iter().collect())
    }

    /// A struct's member by name (the first, if repeated).
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, if this is a double or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The text, if this is a string (not Odoo's `false` for "empty").
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::DateTime(s) => Some(s),
            _ => None,
        }
    }

    /// The text, trimmed, if this is a non-blank string.
    pub fn as_text(&self) -> Option<&str> {
        self.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// An Odoo many2one as read: `[id, "display name"]` (or `false`).
    pub fn as_many2one(&self) -> Option<(i64, &str)> {
        match self.as_array()? {
            [Value::Int(id), name] => Some((*id, name.as_str().unwrap_or_default())),
            _ => None,
        }
    }

    /// Odoo's `false` (or `nil`): the field is empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Bool(false) | Value::Nil)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(d: f64) -> Self {
        Value::Double(d)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

/// Why a response gave no value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResponseError {
    /// The server answered a fault.
    #[error("XML-RPC fault {code}: {message}")]
    Fault {
        /// `faultCode` (0 when the server sent no integer).
        code: i64,
        /// `faultString`.
        message: String,
    },
    /// The body is not an XML-RPC method response.
    #[error("not an XML-RPC response: {0}")]
    Malformed(String),
}

/// A `methodCall` document.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\"?>\n<methodCall><methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName><params>");
    for param in params {
        out.push_str("<param>");
        write_value(&mut out, param);
        out.push_str("</param>");
    }
    out.push_str("</params></methodCall>\n");
    out
}

fn write_value(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Int(i) if i32::try_from(*i).is_ok() => {
            let _ = write!(out, "<int>{i}</int>");
        }
        Value::Int(i) => {
            let _ = write!(out, "<i8>{i}</i8>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::Double(d) => {
            // Rust's shortest round-trip form, never with an exponent (the
            // specification allows none); Python's words for the rest.
            if d.is_finite() {
                let _ = write!(out, "<double>{d}</double>");
            } else if d.is_nan() {
                out.push_str("<double>nan</double>");
            } else if *d > 0.0 {
                out.push_str("<double>inf</double>");
            } else {
                out.push_str("<double>-inf</double>");
            }
        }
        Value::String(s) => {
            out.push_str("<string>");
            escape_into(out, s);
            out.push_str("</string>");
        }
        Value::DateTime(s) => {
            out.push_str("<dateTime.iso8601>");
            escape_into(out, s);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(s) => {
            out.push_str("<base64>");
            escape_into(out, s);
            out.push_str("</base64>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>");
            for (name, member) in members {
                out.push_str("<member><name>");
                escape_into(out, name);
                out.push_str("</name>");
                write_value(out, member);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

/// Appends `text` escaped for XML character data.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Reads a `methodResponse`: its one parameter, or its fault.
pub fn decode_response(body: &[u8]) -> Result<Value, ResponseError> {
    let mut parser = Parser::new(body);
    parser.skip_space()?;
    parser.expect_start("methodResponse")?;
    parser.skip_space()?;
    let result = match parser.next()? {
        Token::Start(name) if name == "params" => {
            parser.skip_space()?;
            parser.expect_start("param")?;
            parser.skip_space()?;
            let value = parser.value(0)?;
            parser.skip_space()?;
            parser.expect_end("param")?;
            parser.skip_space()?;
            parser.expect_end("params")?;
            Ok(value)
        }
        Token::Start(name) if name == "fault" => {
            parser.skip_space()?;
            let value = parser.value(0)?;
            parser.skip_space()?;
            parser.expect_end("fault")?;
            Err(fault(&value))
        }
        other => return Err(unexpected("<params> or <fault>", &other)),
    };
    parser.skip_space()?;
    parser.expect_end("methodResponse")?;
    parser.skip_space()?;
    match parser.next()? {
        Token::Eof => result,
        other => Err(unexpected("the end of the document", &other)),
    }
}

fn fault(value: &Value) -> ResponseError {
    let code = value.get("faultCode");
    let message = value
        .get("faultString")
        .and_then(Value::as_str)
        .or_else(|| code.and_then(Value::as_str))
        .unwrap_or("no fault string")
        .to_owned();
    ResponseError::Fault {
        code: code.and_then(Value::as_i64).unwrap_or(0),
        message,
    }
}

/// What the parser works on: element names without their prefix, and text
/// with references resolved and line ends normalized.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Start(String),
    End(String),
    Text(String),
    Eof,
}

fn unexpected(wanted: &str, found: &Token) -> ResponseError {
    let found = match found {
        Token::Start(name) => format!("<{name}>"),
        Token::End(name) => format!("</{name}>"),
        Token::Text(text) => {
            let mut excerpt: String = text.trim().chars().take(40).collect();
            if excerpt.len() < text.trim().len() {
                excerpt.push('…');
            }
            format!("text '{excerpt}'")
        }
        Token::Eof => "the end of the document".to_owned(),
    };
    ResponseError::Malformed(format!("expected {wanted}, found {found}"))
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    /// Tokens read but not yet consumed, in order.
    pending: VecDeque<Token>,
}

impl<'a> Parser<'a> {
    fn new(body: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(body);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.trim_text(false);
        Parser {
            reader,
            pending: VecDeque::new(),
        }
    }

    fn next(&mut self) -> Result<Token, ResponseError> {
        if let Some(token) = self.pending.pop_front() {
            return Ok(token);
        }
        let mut text: Option<String> = None;
        loop {
            let event = self
                .reader
                .read_event()
                .map_err(|e| ResponseError::Malformed(e.to_string()))?;
            match event {
                Event::Text(t) => text.get_or_insert_default().push_str(&t.xml10_content()),
                Event::CData(c) => text.get_or_insert_default().push_str(&c.xml10_content()),
                Event::GeneralRef(r) => text.get_or_insert_default().push(resolve_reference(&r)?),
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
                Event::DocType(_) => {
                    return Err(ResponseError::Malformed(
                        "a DTD is not allowed in a response".to_owned(),
                    ));
                }
                Event::Start(s) => {
                    self.pending
                        .push_back(Token::Start(local_name(s.name().into_inner())));
                    break;
                }
                Event::End(e) => {
                    self.pending
                        .push_back(Token::End(local_name(e.name().into_inner())));
                    break;
                }
                // Not produced with `expand_empty_elements`; read exactly anyway.
                Event::Empty(s) => {
                    let name = local_name(s.name().into_inner());
                    self.pending.push_back(Token::Start(name.clone()));
                    self.pending.push_back(Token::End(name));
                    break;
                }
                Event::Eof => {
                    self.pending.push_back(Token::Eof);
                    break;
                }
            }
        }
        if let Some(text) = text {
            self.pending.push_front(Token::Text(text));
        }
        self.pending
            .pop_front()
            .ok_or_else(|| ResponseError::Malformed("nothing to read".to_owned()))
    }

    fn peek(&mut self) -> Result<&Token, ResponseError> {
        if self.pending.is_empty() {
            let token = self.next()?;
            self.pending.push_front(token);
        }
        self.pending
            .front()
            .ok_or_else(|| ResponseError::Malformed("nothing to read".to_owned()))
    }

    /// Skips whitespace between elements; other text is an error there.
    fn skip_space(&mut self) -> Result<(), ResponseError> {
        if let Token::Text(text) = self.peek()? {
            if !text.trim().is_empty() {
                let token = self.next()?;
                return Err(unexpected("an element", &token));
            }
            self.next()?;
        }
        Ok(())
    }

    fn expect_start(&mut self, name: &str) -> Result<(), ResponseError> {
        match self.next()? {
            Token::Start(n) if n == name => Ok(()),
            other => Err(unexpected(&format!("<{name}>"), &other)),
        }
    }

    fn expect_end(&mut self, name: &str) -> Result<(), ResponseError> {
        match self.next()? {
            Token::End(n) if n == name => Ok(()),
            other => Err(unexpected(&format!("</{name}>"), &other)),
        }
    }

    /// The text of an element whose start tag was read, up to its end tag.
    fn text_of(&mut self, name: &str) -> Result<String, ResponseError> {
        let text = match self.next()? {
            Token::Text(text) => text,
            Token::End(n) if n == name => return Ok(String::new()),
            other => return Err(unexpected(&format!("the text of <{name}>"), &other)),
        };
        self.expect_end(name)?;
        Ok(text)
    }

    /// A `<value>` element, its start tag not yet read.
    fn value(&mut self, depth: usize) -> Result<Value, ResponseError> {
        if depth > MAX_DEPTH {
            return Err(ResponseError::Malformed(format!(
                "values nested deeper than {MAX_DEPTH}"
            )));
        }
        self.expect_start("value")?;
        let typed = match self.next()? {
            Token::End(n) if n == "value" => return Ok(Value::String(String::new())),
            Token::Text(text) => match self.next()? {
                Token::End(n) if n == "value" => return Ok(Value::String(text)),
                start @ Token::Start(_) if text.trim().is_empty() => start,
                other => return Err(unexpected("</value>", &other)),
            },
            other => other,
        };
        let Token::Start(kind) = typed else {
            return Err(unexpected("a value", &typed));
        };
        let value = match kind.as_str() {
            "string" => Value::String(self.text_of(&kind)?),
            "int" | "i4" | "i8" => {
                let text = self.text_of(&kind)?;
                Value::Int(text.trim().parse().map_err(|_| {
                    ResponseError::Malformed(format!("<{kind}>{text}</{kind}> is not an integer"))
                })?)
            }
            "boolean" => {
                let text = self.text_of(&kind)?;
                Value::Bool(match text.trim() {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => {
                        return Err(ResponseError::Malformed(format!(
                            "<boolean>{text}</boolean> is not 0 or 1"
                        )));
                    }
                })
            }
            "double" => {
                let text = self.text_of(&kind)?;
                Value::Double(text.trim().parse().map_err(|_| {
                    ResponseError::Malformed(format!("<double>{text}</double> is not a number"))
                })?)
            }
            "dateTime.iso8601" => Value::DateTime(self.text_of(&kind)?.trim().to_owned()),
            "base64" => Value::Base64(
                self.text_of(&kind)?
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect(),
            ),
            "nil" => {
                self.skip_space()?;
                self.expect_end("nil")?;
                Value::Nil
            }
            "array" => {
                self.skip_space()?;
                self.expect_start("data")?;
                let mut items = Vec::new();
                loop {
                    self.skip_space()?;
                    match self.peek()? {
                        Token::End(n) if n == "data" => break,
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
                self.expect_end("data")?;
                self.skip_space()?;
                self.expect_end("array")?;
                Value::Array(items)
            }
            "struct" => {
                let mut members = Vec::new();
                loop {
                    self.skip_space()?;
                    match self.next()? {
                        Token::End(n) if n == "struct" => break,
                        Token::Start(n) if n == "member" => {
                            self.skip_space()?;
                            self.expect_start("name")?;
                            let name = self.text_of("name")?;
                            self.skip_space()?;
                            let member = self.value(depth + 1)?;
                            self.skip_space()?;
                            self.expect_end("member")?;
                            members.push((name, member));
                        }
                        other => return Err(unexpected("<member> or </struct>", &other)),
                    }
                }
                Value::Struct(members)
            }
            other => {
                return Err(ResponseError::Malformed(format!(
                    "unknown value type <{other}>"
                )));
            }
        };
        self.skip_space()?;
        self.expect_end("value")?;
        Ok(value)
    }
}

/// `ex:nil` → `nil`: the Apache extensions' prefix is not significant.
fn local_name(qualified: &str) -> String {
    qualified
        .rsplit_once(':')
        .map_or(qualified, |(_, local)| local)
        .to_owned()
}

/// One of the five predefined entities or a character reference.
fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<char, ResponseError> {
    let name: &str = reference;
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(ResponseError::Malformed(format!(
                "unknown entity or character reference &{name};"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A response as Python's `xmlrpc.client.dumps(..., methodresponse=True)`
    /// writes it, with `param` the value's own XML.
    fn python_response(param: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{param}\n</param>\n</params>\n</methodResponse>\n"
        )
    }

    #[test]
    fn encodes_a_call_with_every_type() {
        let call = encode_call(
            "execute_kw",
            &[
                Value::from("db & co"),
                Value::from(7),
                Value::from(5_000_000_000),
                Value::from(true),
                Value::from(15.99),
                Value::Nil,
                Value::array([Value::from("a"), Value::array([])]),
                Value::structure([("limit", Value::from(1)), ("x<y", Value::from("é\r\n"))]),
            ],
        );
        assert_eq!(
            call,
            "<?xml version=\"1.0\"?>\n<methodCall><methodName>execute_kw</methodName><params>\
             <param><value><string>db &amp; co</string></value></param>\
             <param><value><int>7</int></value></param>\
             <param><value><i8>5000000000</i8></value></param>\
             <param><value><boolean>1</boolean></value></param>\
             <param><value><double>15.99</double></value></param>\
             <param><value><nil/></value></param>\
             <param><value><array><data><value><string>a</string></value><value><array><data></data></array></value></data></array></value></param>\
             <param><value><struct><member><name>limit</name><value><int>1</int></value></member>\
             <member><name>x&lt;y</name><value><string>é&#13;\n</string></value></member></struct></value></param>\
             </params></methodCall>\n"
        );
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        let call = encode_call("m", &[Value::from("a\u{0}b\u{1b}c\td\u{FFFF}")]);
        assert!(call.contains("<string>a\u{FFFD}b\u{FFFD}c\td\u{FFFD}</string>"));
    }

    #[test]
    fn what_is_encoded_decodes_to_the_same_value() {
        let value = Value::structure([
            (
                "name",
                Value::from("Tea & <cups> \"quoted\" 'single'\r\nnext\u{e9}"),
            ),
            ("int", Value::from(-42)),
            ("big", Value::from(i64::MAX)),
            ("price", Value::from(0.1 + 0.2)),
            (
                "flags",
                Value::array([Value::from(true), Value::from(false)]),
            ),
            ("none", Value::Nil),
            ("empty", Value::from("")),
            ("spaces", Value::from("  padded  ")),
        ]);
        let call = encode_call("m", std::slice::from_ref(&value));
        // A call's params have the same shape as a response's.
        let response = call
            .replace("<methodCall><methodName>m</methodName>", "<methodResponse>")
            .replace("</methodCall>", "</methodResponse>");
        assert_eq!(decode_response(response.as_bytes()).unwrap(), value);
    }

    #[test]
    fn decodes_what_odoo_answers_to_authenticate() {
        let body = python_response("<value><int>2</int></value>");
        assert_eq!(decode_response(body.as_bytes()).unwrap(), Value::Int(2));
        let refused = python_response("<value><boolean>0</boolean></value>");
        assert_eq!(
            decode_response(refused.as_bytes()).unwrap(),
            Value::Bool(false)
        );
    }

    #[test]
    fn decodes_a_search_read_answer() {
        let body = python_response(
            "<value><array><data>\n<value><struct>\n\
             <member>\n<name>id</name>\n<value><int>42</int></value>\n</member>\n\
             <member>\n<name>default_code</name>\n<value><string>SKU-1</string></value>\n</member>\n\
             <member>\n<name>barcode</name>\n<value><boolean>0</boolean></value>\n</member>\n\
             <member>\n<name>list_price</name>\n<value><double>15.99</double></value>\n</member>\n\
             <member>\n<name>categ_id</name>\n<value><array><data>\n<value><int>5</int></value>\n\
             <value><string>All / Saleable &amp; Co</string></value>\n</data></array></value>\n</member>\n\
             <member>\n<name>write_date</name>\n<value><string>2026-01-12 09:30:00</string></value>\n</member>\n\
             </struct></value>\n</data></array></value>",
        );
        let records = decode_response(body.as_bytes()).unwrap();
        let record = &records.as_array().unwrap()[0];
        assert_eq!(record.get("id").and_then(Value::as_i64), Some(42));
        assert_eq!(
            record.get("default_code").and_then(Value::as_str),
            Some("SKU-1")
        );
        assert!(record.get("barcode").unwrap().is_empty());
        assert_eq!(
            record.get("list_price").and_then(Value::as_f64),
            Some(15.99)
        );
        assert_eq!(
            record.get("categ_id").and_then(Value::as_many2one),
            Some((5, "All / Saleable & Co"))
        );
        assert_eq!(record.get("missing"), None);
    }

    #[test]
    fn untyped_values_are_strings_and_keep_their_spaces() {
        let body = python_response("<value>  hello &lt;world&gt; </value>");
        assert_eq!(
            decode_response(body.as_bytes()).unwrap(),
            Value::from("  hello <world> ")
        );
        let empty = python_response("<value></value>");
        assert_eq!(decode_response(empty.as_bytes()).unwrap(), Value::from(""));
        let self_closed = python_response("<value/>");
        assert_eq!(
            decode_response(self_closed.as_bytes()).unwrap(),
            Value::from("")
        );
    }

    #[test]
    fn decodes_the_other_types_and_extensions() {
        let body = python_response(
            "<value><array><data>\
             <value><i4>-3</i4></value>\
             <value><ex:i8>9000000000</ex:i8></value>\
             <value><ex:nil/></value>\
             <value><nil></nil></value>\
             <value><string/></value>\
             <value><string><![CDATA[a < b]]></string></value>\
             <value><string>&#233;&#x263A;</string></value>\
             <value><dateTime.iso8601>20260112T09:30:00</dateTime.iso8601></value>\
             <value><base64>aGVs\nbG8=</base64></value>\
             <value><double>-1.5e3</double></value>\
             <value><boolean>1</boolean></value>\
             <value><string>line\r\nend</string></value>\
             </data></array></value>",
        );
        assert_eq!(
            decode_response(body.as_bytes()).unwrap(),
            Value::array([
                Value::Int(-3),
                Value::Int(9_000_000_000),
                Value::Nil,
                Value::Nil,
                Value::from(""),
                Value::from("a < b"),
                Value::from("é☺"),
                Value::DateTime("20260112T09:30:00".into()),
                Value::Base64("aGVsbG8=".into()),
                Value::Double(-1500.0),
                Value::Bool(true),
                Value::from("line\nend"),
            ])
        );
    }

    #[test]
    fn a_fault_gives_its_code_and_string() {
        let body = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n\
                    <member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n\
                    <member>\n<name>faultString</name>\n<value><string>Access Denied</string></value>\n</member>\n\
                    </struct></value>\n</fault>\n</methodResponse>\n";
        assert_eq!(
            decode_response(body.as_bytes()),
            Err(ResponseError::Fault {
                code: 3,
                message: "Access Denied".into()
            })
        );
        // The legacy endpoint's string fault codes.
        let legacy = "<methodResponse><fault><value><struct>\
                      <member><name>faultCode</name><value><string>warning -- Oops</string></value></member>\
                      </struct></value></fault></methodResponse>";
        assert_eq!(
            decode_response(legacy.as_bytes()),
            Err(ResponseError::Fault {
                code: 0,
                message: "warning -- Oops".into()
            })
        );
    }

    #[test]
    fn what_is_not_a_method_response_is_malformed() {
        let cases: &[&str] = &[
            "",
            "<html><body>502 Bad Gateway</body></html>",
            "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><boolean>2</boolean></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><int>1</int></value></param></params>",
            "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse><x/>",
            "<methodResponse><params><param><value><float>1</float></value></param></params></methodResponse>",
            "<methodResponse><params><param><value>text<int>1</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><string>a &nbsp; b</string></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><struct><member><value><int>1</int></value></member></struct></value></param></params></methodResponse>",
            "<methodResponse><params>junk<param><value><int>1</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><string>a</int></value></param></params></methodResponse>",
        ];
        for case in cases {
            assert!(
                matches!(
                    decode_response(case.as_bytes()),
                    Err(ResponseError::Malformed(_))
                ),
                "{case}: {:?}",
                decode_response(case.as_bytes())
            );
        }
        let invalid_utf8 = b"<methodResponse><params><param><value><string>\xff</string></value></param></params></methodResponse>";
        assert!(matches!(
            decode_response(invalid_utf8),
            Err(ResponseError::Malformed(_))
        ));
    }

    #[test]
    fn a_dtd_is_refused_and_entities_are_never_expanded() {
        let body = "<?xml version='1.0'?><!DOCTYPE lol [<!ENTITY a \"aaaa\">]>\
                    <methodResponse><params><param><value><string>&a;</string></value></param></params></methodResponse>";
        let error = decode_response(body.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("DTD"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let depth = MAX_DEPTH + 5;
        let value = format!(
            "{}<value><int>1</int></value>{}",
            "<value><array><data>".repeat(depth),
            "</data></array></value>".repeat(depth)
        );
        let error = decode_response(python_response(&value).as_bytes()).unwrap_err();
        assert!(error.to_string().contains("deeper"), "{error}");
        let shallow = format!(
            "{}<value><int>1</int></value>{}",
            "<value><array><data>".repeat(10),
            "</data></array></value>".repeat(10)
        );
        assert!(decode_response(python_response(&shallow).as_bytes()).is_ok());
    }
}

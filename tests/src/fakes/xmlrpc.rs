//! The server side of XML-RPC, as Python's `xmlrpc.client` (and so Odoo)
//! reads calls and writes answers: a method call parsed into JSON values,
//! responses and faults written the way Python writes them.
//!
//! Written apart from the `odoo` plugin's own codec on purpose: a fake that
//! shared the plugin's codec would agree with its mistakes. This one builds
//! a tree of the whole document, then reads it, strictly: an unknown type,
//! a stray text or an element out of place is an error, as it is for Python.
//!
//! Values are `serde_json::Value`s: `int`/`i4`/`i8` are integers, `double`
//! floats, `boolean` booleans, `nil` null, `array` arrays, `struct` objects.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::{Map, Number, Value};

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Node>,
}

impl Element {
    /// The child elements; text between them must be blank.
    fn elements(&self) -> Result<Vec<&Element>, String> {
        let mut out = Vec::new();
        for child in &self.children {
            match child {
                Node::Element(e) => out.push(e),
                Node::Text(t) if t.trim().is_empty() => {}
                Node::Text(t) => {
                    return Err(format!("unexpected text {t:?} in <{}>", self.name));
                }
            }
        }
        Ok(out)
    }

    fn only(&self, name: &str) -> Result<&Element, String> {
        match self.elements()?.as_slice() {
            [one] if one.name == name => Ok(one),
            _ => Err(format!("<{}> must hold exactly one <{name}>", self.name)),
        }
    }

    /// The text content; a child element is an error.
    fn text(&self) -> Result<String, String> {
        let mut text = String::new();
        for child in &self.children {
            match child {
                Node::Text(t) => text.push_str(t),
                Node::Element(e) => {
                    return Err(format!("<{}> inside <{}>", e.name, self.name));
                }
            }
        }
        Ok(text)
    }
}

fn parse_tree(body: &[u8]) -> Result<Element, String> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element {
        name: String::new(),
        children: Vec::new(),
    }];
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let top = stack.last_mut().ok_or("unbalanced document")?;
        match event {
            Event::Start(s) => stack.push(Element {
                name: s.name().into_inner().to_owned(),
                children: Vec::new(),
            }),
            Event::Empty(s) => top.children.push(Node::Element(Element {
                name: s.name().into_inner().to_owned(),
                children: Vec::new(),
            })),
            Event::End(_) => {
                let done = stack.pop().ok_or("unbalanced document")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced document")?
                    .children
                    .push(Node::Element(done));
            }
            Event::Text(t) => top
                .children
                .push(Node::Text(t.xml10_content().into_owned())),
            Event::CData(c) => top
                .children
                .push(Node::Text(c.xml10_content().into_owned())),
            Event::GeneralRef(r) => {
                let c = match &*r {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or_else(|| format!("unknown entity &{};", &*r))?,
                };
                top.children.push(Node::Text(c.to_string()));
            }
            Event::DocType(_) => return Err("DTD not allowed".to_owned()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    let mut root = stack.pop().ok_or("empty document")?;
    if !stack.is_empty() {
        return Err("unclosed element".to_owned());
    }
    let mut elements: Vec<Element> = Vec::new();
    for child in root.children.drain(..) {
        match child {
            Node::Element(e) => elements.push(e),
            Node::Text(t) if t.trim().is_empty() => {}
            Node::Text(t) => return Err(format!("text {t:?} outside the document element")),
        }
    }
    match elements.len() {
        1 => elements
            .pop()
            .ok_or_else(|| "no document element".to_owned()),
        n => Err(format!("{n} document elements")),
    }
}

fn value(element: &Element) -> Result<Value, String> {
    if element.name != "value" {
        return Err(format!("expected <value>, found <{}>", element.name));
    }
    let typed = element.elements()?;
    let Some(typed) = (match typed.as_slice() {
        [] => None,
        [one] => Some(*one),
        _ => return Err("a <value> with several types".to_owned()),
    }) else {
        return Ok(Value::String(element.text()?));
    };
    Ok(match typed.name.as_str() {
        "int" | "i4" | "i8" => {
            let text = typed.text()?;
            Value::from(
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("bad integer {text:?}"))?,
            )
        }
        "boolean" => match typed.text()?.trim() {
            "1" => Value::Bool(true),
            "0" => Value::Bool(false),
            other => return Err(format!("bad boolean {other:?}")),
        },
        "double" => {
            let text = typed.text()?;
            let d: f64 = text
                .trim()
                .parse()
                .map_err(|_| format!("bad double {text:?}"))?;
            Value::Number(Number::from_f64(d).ok_or("a double that is not finite")?)
        }
        "string" => Value::String(typed.text()?),
        "nil" => Value::Null,
        "array" => {
            let data = typed.only("data")?;
            Value::Array(
                data.elements()?
                    .into_iter()
                    .map(value)
                    .collect::<Result<_, _>>()?,
            )
        }
        "struct" => {
            let mut map = Map::new();
            for member in typed.elements()? {
                if member.name != "member" {
                    return Err(format!("<{}> in a struct", member.name));
                }
                match member.elements()?.as_slice() {
                    [name, v] if name.name == "name" => {
                        map.insert(name.text()?, value(v)?);
                    }
                    _ => return Err("a member is a <name> then a <value>".to_owned()),
                }
            }
            Value::Object(map)
        }
        other => return Err(format!("unsupported type <{other}>")),
    })
}

/// A `methodCall`: its method name and parameters.
pub fn parse_call(body: &[u8]) -> Result<(String, Vec<Value>), String> {
    let root = parse_tree(body)?;
    if root.name != "methodCall" {
        return Err(format!("expected <methodCall>, found <{}>", root.name));
    }
    let parts = root.elements()?;
    let (name, params) = match parts.as_slice() {
        [name] => (*name, None),
        [name, params] => (*name, Some(*params)),
        _ => return Err("a method call is a <methodName> and <params>".to_owned()),
    };
    if name.name != "methodName" {
        return Err("missing <methodName>".to_owned());
    }
    let mut values = Vec::new();
    if let Some(params) = params {
        for param in params.elements()? {
            if param.name != "param" {
                return Err(format!("<{}> in <params>", param.name));
            }
            values.push(value(param.only("value")?)?);
        }
    }
    Ok((name.text()?.trim().to_owned(), values))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<value><nil/></value>"),
        Value::Bool(b) => {
            out.push_str(&format!(
                "<value><boolean>{}</boolean></value>",
                u8::from(*b)
            ));
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&format!("<value><int>{i}</int></value>")),
            None => {
                let d = n.as_f64().unwrap_or_default();
                // Python's repr: 16.0, not 16.
                let text = if d.fract() == 0.0 && d.abs() < 1e16 {
                    format!("{d:.1}")
                } else {
                    d.to_string()
                };
                out.push_str(&format!("<value><double>{text}</double></value>"));
            }
        },
        Value::String(s) => {
            out.push_str(&format!("<value><string>{}</string></value>", escape(s)));
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                write(out, item);
                out.push('\n');
            }
            out.push_str("</data></array></value>");
        }
        Value::Object(map) => {
            out.push_str("<value><struct>\n");
            for (k, v) in map {
                out.push_str(&format!("<member>\n<name>{}</name>\n", escape(k)));
                write(out, v);
                out.push_str("\n</member>\n");
            }
            out.push_str("</struct></value>");
        }
    }
}

/// A `methodResponse` with one value, as Python writes it.
pub fn response(v: &Value) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    write(&mut out, v);
    out.push_str("\n</param>\n</params>\n</methodResponse>\n");
    out
}

/// A fault, as Python writes it.
pub fn fault(code: i64, message: &str) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    let mut map = Map::new();
    map.insert("faultCode".to_owned(), Value::from(code));
    map.insert("faultString".to_owned(), Value::from(message));
    write(&mut out, &Value::Object(map));
    out.push_str("\n</fault>\n</methodResponse>\n");
    out
}

//! The connector's settings and its Odoo client: `authenticate` on
//! `/xmlrpc/2/common`, then `execute_kw` on `/xmlrpc/2/object`, with
//! every failure sorted into what the host can act on.

use shopbridge_guest_sdk::http::{self, Request};
use shopbridge_guest_sdk::{FeedError, OrderError, TransientFailure, log, settings};

use crate::xmlrpc::{self, ResponseError, Value};

/// Most products one catalog page may ask for: 2,000 products are about
/// 3 MB of XML-RPC, well under the host's 8 MiB response cap.
pub const MAX_PAGE_SIZE: u32 = 2_000;

/// Products per catalog page by default: about 750 KB of XML-RPC, a
/// fraction of a second for Odoo to read, a few MB of guest memory.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// How order lines are priced in the sale order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinePrices {
    /// `price_unit` is what the customer paid for one unit.
    Order,
    /// No `price_unit`: Odoo prices each line from the order's pricelist.
    Pricelist,
}

/// The settings of one binding.
#[derive(Debug, Clone)]
pub struct Config {
    /// The server's root URL, without a trailing `/`.
    pub url: String,
    /// The database name.
    pub database: String,
    /// The integration user's login.
    pub username: String,
    /// The user's API key (or password). Never logged.
    pub api_key: String,
    /// When set, Odoo is a supplier's ERP and this partner (the shop's
    /// account there) is the customer of every sale order.
    pub partner_id: Option<i64>,
    /// The company orders are placed in (multi-company databases).
    pub company_id: Option<i64>,
    /// The pricelist of the sale orders.
    pub pricelist_id: Option<i64>,
    /// How order lines are priced.
    pub line_prices: LinePrices,
    /// Whether sale orders are confirmed (else they stay quotations).
    pub confirm_orders: bool,
    /// The currency of Odoo's prices when a record does not name one, and
    /// the one order lines must be in.
    pub currency: String,
    /// Products per catalog page.
    pub page_size: u32,
    /// The product field read as the stock quantity.
    pub stock_field: &'static str,
}

/// A setting that is absent or has a value the connector cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl From<settings::MissingSetting> for ConfigError {
    fn from(e: settings::MissingSetting) -> Self {
        ConfigError(e.to_string())
    }
}

impl From<ConfigError> for OrderError {
    fn from(e: ConfigError) -> Self {
        OrderError::Configuration(e.0)
    }
}

impl From<ConfigError> for FeedError {
    fn from(e: ConfigError) -> Self {
        FeedError::Configuration(e.0)
    }
}

fn optional(name: &str) -> Option<String> {
    settings::get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn record_id(name: &str) -> Result<Option<i64>, ConfigError> {
    optional(name)
        .map(|v| match v.parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(ConfigError(format!(
                "setting '{name}': '{v}' is not an Odoo record id (a positive integer)"
            ))),
        })
        .transpose()
}

impl Config {
    /// Reads and checks the settings.
    pub fn from_settings() -> Result<Config, ConfigError> {
        let url = settings::require("url")?
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError(format!(
                "setting 'url': '{url}' is not an http(s) URL"
            )));
        }
        let line_prices = match optional("line-prices").as_deref() {
            None | Some("order") => LinePrices::Order,
            Some("pricelist") => LinePrices::Pricelist,
            Some(other) => {
                return Err(ConfigError(format!(
                    "setting 'line-prices': '{other}' is neither 'order' nor 'pricelist'"
                )));
            }
        };
        let confirm_orders = match optional("confirm-orders").as_deref() {
            None | Some("true" | "yes" | "1") => true,
            Some("false" | "no" | "0") => false,
            Some(other) => {
                return Err(ConfigError(format!(
                    "setting 'confirm-orders': '{other}' is neither 'true' nor 'false'"
                )));
            }
        };
        let currency = optional("currency")
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_else(|| "EUR".to_owned());
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError(format!(
                "setting 'currency': '{currency}' is not an ISO 4217 code"
            )));
        }
        let page_size = match optional("page-size") {
            None => DEFAULT_PAGE_SIZE,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ConfigError(format!(
                        "setting 'page-size': '{v}' is not a number from 1 to {MAX_PAGE_SIZE}"
                    )));
                }
            },
        };
        let stock_field = match optional("stock-field").as_deref() {
            None | Some("qty_available") => "qty_available",
            Some("free_qty") => "free_qty",
            Some("virtual_available") => "virtual_available",
            Some(other) => {
                return Err(ConfigError(format!(
                    "setting 'stock-field': '{other}' is not qty_available, free_qty or virtual_available"
                )));
            }
        };
        Ok(Config {
            url,
            database: settings::require("database")?.trim().to_owned(),
            username: settings::require("username")?.trim().to_owned(),
            api_key: settings::require("api-key")?.trim().to_owned(),
            partner_id: record_id("partner-id")?,
            company_id: record_id("company-id")?,
            pricelist_id: record_id("pricelist-id")?,
            line_prices,
            confirm_orders,
            currency,
            page_size,
            stock_field,
        })
    }
}

/// What kind of failure a fault reports, from its code (Odoo's
/// `/xmlrpc/2/` endpoints) or, for code 1, from the exception it quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `AccessDenied` (code 3): the login or key is refused.
    AccessDenied,
    /// `AccessError` (code 4): the user lacks a right.
    AccessError,
    /// `UserError`, `ValidationError`, `MissingError` (code 2): the
    /// business refuses; the message is for a person.
    UserError,
    /// A database conflict (serialization failure, deadlock, lock not
    /// available): trying again succeeds.
    Concurrency,
    /// Anything else (code 1 with a traceback): a bug, a missing module,
    /// a field this Odoo version does not have.
    Application,
}

impl FaultKind {
    fn of(code: i64, message: &str) -> FaultKind {
        let quotes = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
        match code {
            3 => FaultKind::AccessDenied,
            4 => FaultKind::AccessError,
            2 => FaultKind::UserError,
            _ if quotes(&[
                "SerializationFailure",
                "could not serialize access",
                "TransactionRollbackError",
                "deadlock detected",
                "LockNotAvailable",
                "could not obtain lock",
                "concurrent update",
            ]) =>
            {
                FaultKind::Concurrency
            }
            _ if quotes(&["odoo.exceptions.AccessDenied", "Access Denied"]) => {
                FaultKind::AccessDenied
            }
            _ if quotes(&["odoo.exceptions.AccessError"]) => FaultKind::AccessError,
            _ if quotes(&[
                "odoo.exceptions.UserError",
                "odoo.exceptions.ValidationError",
                "odoo.exceptions.MissingError",
            ]) =>
            {
                FaultKind::UserError
            }
            _ => FaultKind::Application,
        }
    }
}

/// Why a call to Odoo gave no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OdooError {
    /// The request got no HTTP response.
    #[error("{}", http::describe(.0))]
    Http(http::Error),
    /// A non-2xx HTTP answer.
    #[error("Odoo answered HTTP {status} to {service}: {excerpt}")]
    Status {
        /// The XML-RPC service called (`common`, `object`).
        service: &'static str,
        /// The HTTP status.
        status: u16,
        /// The delay the server asked for.
        retry_after_seconds: Option<u32>,
        /// The start of the body.
        excerpt: String,
    },
    /// `authenticate` answered `false`.
    #[error(
        "Odoo refused the login '{username}' on database '{database}': check the 'username' and 'api-key' settings"
    )]
    BadCredentials {
        /// The login tried.
        username: String,
        /// The database tried.
        database: String,
    },
    /// The server answered a fault.
    #[error("Odoo refused {call}: {message}")]
    Fault {
        /// What was called: `authenticate`, `sale.order.create`…
        call: String,
        /// What kind of fault.
        kind: FaultKind,
        /// The fault's message (the exception's last line for a traceback).
        message: String,
    },
    /// The answer is not XML-RPC, or not the shape asked for.
    #[error("unexpected answer from Odoo to {call}: {message}")]
    Malformed {
        /// What was called.
        call: String,
        /// What is wrong with it.
        message: String,
    },
}

impl OdooError {
    /// Whether this is a fault of this kind.
    pub fn is_fault(&self, wanted: FaultKind) -> bool {
        matches!(self, OdooError::Fault { kind, .. } if *kind == wanted)
    }

    /// The usual order error for this failure. A business refusal
    /// (`UserError`) is `rejected` here; callers that can do better (a
    /// submission: `needs-attention`) match it first.
    pub fn into_order_error(self) -> OrderError {
        let message = self.to_string();
        match self {
            OdooError::Http(e) => OrderError::from(e),
            OdooError::Status {
                status,
                retry_after_seconds,
                ..
            } => match status {
                429 | 500..=599 => OrderError::Transient(TransientFailure {
                    message,
                    retry_after_seconds,
                }),
                401 | 403 | 404 => OrderError::Configuration(format!(
                    "{message} (is the 'url' setting the root of an Odoo server?)"
                )),
                _ => OrderError::Rejected(message),
            },
            OdooError::BadCredentials { .. } => OrderError::Configuration(message),
            OdooError::Fault { kind, ref call, .. } => match kind {
                FaultKind::AccessDenied | FaultKind::AccessError => {
                    OrderError::Configuration(message)
                }
                FaultKind::Concurrency => OrderError::Transient(TransientFailure {
                    message,
                    retry_after_seconds: None,
                }),
                // A fault while logging in is a wrong database or URL.
                _ if call == "authenticate" => OrderError::Configuration(message),
                FaultKind::UserError | FaultKind::Application => OrderError::Rejected(message),
            },
            // An HTML page where XML-RPC was expected: a wrong URL when
            // logging in, a proxy's error page later.
            OdooError::Malformed { ref call, .. } if call == "authenticate" => {
                OrderError::Configuration(message)
            }
            OdooError::Malformed { .. } => OrderError::Transient(TransientFailure {
                message,
                retry_after_seconds: None,
            }),
        }
    }

    /// The feed error for this failure: `configuration` when the settings
    /// are at fault, else `malformed` (the catalog could not be read; the
    /// contract has no transient feed error).
    pub fn into_feed_error(self) -> FeedError {
        match self.into_order_error() {
            OrderError::Configuration(m) => FeedError::Configuration(m),
            OrderError::Transient(t) => FeedError::Malformed(format!(
                "could not read the catalog from Odoo, try again later: {}",
                t.message
            )),
            OrderError::Rejected(m) => {
                FeedError::Malformed(format!("could not read the catalog from Odoo: {m}"))
            }
            OrderError::NeedsAttention(issues) => FeedError::Malformed(
                issues
                    .into_iter()
                    .map(|i| i.message)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            OrderError::Unsupported => FeedError::Unsupported,
        }
    }
}

/// The message a person needs from a fault string: Odoo's code-1 faults
/// carry a whole Python traceback, whose last line names the exception.
fn fault_message(message: &str) -> String {
    let last = message
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message");
    let mut text = if message.contains("Traceback (most recent call last)") {
        last.to_owned()
    } else {
        message.trim().to_owned()
    };
    truncate(&mut text, 500);
    text
}

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
}

/// A session with one Odoo database: logs in on first use.
#[derive(Debug, Clone)]
pub struct Odoo {
    config: Config,
    uid: Option<i64>,
    major: Option<u32>,
    /// `existing_fields` answers, per model and fields asked.
    known_fields: Vec<(String, Vec<&'static str>, Vec<&'static str>)>,
}

impl Odoo {
    /// A client for these settings; nothing is sent yet.
    pub fn new(config: Config) -> Odoo {
        Odoo {
            config,
            uid: None,
            major: None,
            known_fields: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `common.authenticate(db, login, key, {})`: the user id, once per session.
    pub fn login(&mut self) -> Result<i64, OdooError> {
        if let Some(uid) = self.uid {
            return Ok(uid);
        }
        let answer = self.call(
            "common",
            "authenticate",
            "authenticate",
            &[
                Value::from(self.config.database.as_str()),
                Value::from(self.config.username.as_str()),
                Value::from(self.config.api_key.as_str()),
                Value::Struct(Vec::new()),
            ],
        )?;
        match answer {
            Value::Int(uid) if uid > 0 => {
                self.uid = Some(uid);
                Ok(uid)
            }
            Value::Bool(false) | Value::Nil => Err(OdooError::BadCredentials {
                username: self.config.username.clone(),
                database: self.config.database.clone(),
            }),
            other => Err(OdooError::Malformed {
                call: "authenticate".to_owned(),
                message: format!("expected a user id, got {other:?}"),
            }),
        }
    }

    /// `common.version()`: the server's major version (`17`, `18`…),
    /// asked once per session. It needs no login. A SaaS version such as
    /// `saas~17.4` counts as its major version.
    pub fn major_version(&mut self) -> Result<u32, OdooError> {
        if let Some(major) = self.major {
            return Ok(major);
        }
        let answer = self.call("common", "version", "version", &[])?;
        let from_info = answer
            .get("server_version_info")
            .and_then(Value::as_array)
            .and_then(<[Value]>::first)
            .and_then(Value::as_i64)
            .and_then(|m| u32::try_from(m).ok());
        let from_text = || {
            let text = answer.get("server_version")?.as_str()?;
            let digits: String = text
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let major = from_info
            .or_else(from_text)
            .ok_or_else(|| OdooError::Malformed {
                call: "version".to_owned(),
                message: "no server version in the answer".to_owned(),
            })?;
        self.major = Some(major);
        Ok(major)
    }

    /// Which of `fields` the model has: `fields_get(allfields)` answers
    /// only existing ones, so a field an app adds is absent when the app
    /// is not installed. Asked once per session.
    pub fn existing_fields(
        &mut self,
        model: &str,
        fields: &[&'static str],
    ) -> Result<Vec<&'static str>, OdooError> {
        if let Some((_, _, known)) = self
            .known_fields
            .iter()
            .find(|(m, asked, _)| m == model && asked == fields)
        {
            return Ok(known.clone());
        }
        let answer = self.execute_kw(
            model,
            "fields_get",
            vec![Value::array(fields.iter().map(|f| Value::from(*f)))],
            vec![("attributes", Value::array([Value::from("type")]))],
        )?;
        match answer {
            Value::Struct(members) => {
                let existing: Vec<&'static str> = fields
                    .iter()
                    .copied()
                    .filter(|f| members.iter().any(|(name, _)| name == f))
                    .collect();
                self.known_fields
                    .push((model.to_owned(), fields.to_vec(), existing.clone()));
                Ok(existing)
            }
            other => Err(OdooError::Malformed {
                call: format!("{model}.fields_get"),
                message: format!("expected the fields, got {}", kind(&other)),
            }),
        }
    }

    /// `object.execute_kw(db, uid, key, model, method, args, kwargs)`. The
    /// company setting goes into the context (`allowed_company_ids`), with
    /// any `context` member of `kwargs` merged in.
    pub fn execute_kw(
        &mut self,
        model: &str,
        method: &str,
        args: Vec<Value>,
        kwargs: Vec<(&str, Value)>,
    ) -> Result<Value, OdooError> {
        let uid = self.login()?;
        let mut kwargs: Vec<(String, Value)> =
            kwargs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Some(company) = self.config.company_id {
            let entry = ("allowed_company_ids".to_owned(), Value::from(vec![company]));
            match kwargs.iter_mut().find(|(k, _)| k == "context") {
                Some((_, Value::Struct(members))) => members.push(entry),
                _ => kwargs.push(("context".to_owned(), Value::Struct(vec![entry]))),
            }
        }
        let call = format!("{model}.{method}");
        self.call(
            "object",
            "execute_kw",
            &call,
            &[
                Value::from(self.config.database.as_str()),
                Value::Int(uid),
                Value::from(self.config.api_key.as_str()),
                Value::from(model),
                Value::from(method),
                Value::Array(args),
                Value::Struct(kwargs),
            ],
        )
    }

    /// `search_read(domain, fields, …)`: the records found.
    pub fn search_read(
        &mut self,
        model: &str,
        domain: Value,
        fields: &[&str],
        options: Vec<(&str, Value)>,
    ) -> Result<Vec<Value>, OdooError> {
        let mut kwargs = vec![(
            "fields",
            Value::Array(fields.iter().map(|f| Value::from(*f)).collect()),
        )];
        kwargs.extend(options);
        let answer = self.execute_kw(model, "search_read", vec![domain], kwargs)?;
        match answer {
            Value::Array(records) => Ok(records),
            other => Err(OdooError::Malformed {
                call: format!("{model}.search_read"),
                message: format!("expected a list of records, got {}", kind(&other)),
            }),
        }
    }

    /// `create(vals)`: the new record's id.
    pub fn create(&mut self, model: &str, vals: Value) -> Result<i64, OdooError> {
        let answer = self.execute_kw(model, "create", vec![vals], Vec::new())?;
        // Odoo 12+ answers an id; a batch create would answer a list.
        let id = match &answer {
            Value::Int(id) => Some(*id),
            Value::Array(ids) => ids.first().and_then(Value::as_i64),
            _ => None,
        };
        id.ok_or_else(|| OdooError::Malformed {
            call: format!("{model}.create"),
            message: format!("expected the new record's id, got {}", kind(&answer)),
        })
    }

    fn call(
        &self,
        service: &'static str,
        method: &str,
        call: &str,
        params: &[Value],
    ) -> Result<Value, OdooError> {
        let body = xmlrpc::encode_call(method, params);
        let response = Request::post(format!("{}/xmlrpc/2/{service}", self.config.url))
            .header("accept", "text/xml")
            .body("text/xml; charset=utf-8", body)
            .send()
            .map_err(OdooError::Http)?;
        if !response.is_success() {
            let mut excerpt = response.text().trim().to_owned();
            truncate(&mut excerpt, 300);
            return Err(OdooError::Status {
                service,
                status: response.status,
                retry_after_seconds: response.retry_after_seconds,
                excerpt,
            });
        }
        xmlrpc::decode_response(&response.body).map_err(|e| match e {
            ResponseError::Fault { code, message } => {
                let kind = FaultKind::of(code, &message);
                let message = fault_message(&message);
                log::warn(
                    "Odoo answered a fault",
                    &[
                        ("call", call),
                        ("code", &code.to_string()),
                        ("message", &message),
                    ],
                );
                OdooError::Fault {
                    call: call.to_owned(),
                    kind,
                    message,
                }
            }
            ResponseError::Malformed(message) => OdooError::Malformed {
                call: call.to_owned(),
                message,
            },
        })
    }
}

/// A value's type, for error messages (never its content: it may be large).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "an integer",
        Value::Bool(_) => "a boolean",
        Value::Double(_) => "a number",
        Value::String(_) => "a string",
        Value::DateTime(_) => "a date",
        Value::Base64(_) => "binary data",
        Value::Array(_) => "a list",
        Value::Struct(_) => "a struct",
        Value::Nil => "nothing",
    }
}

/// A domain leaf: `[field, operator, value]`.
pub fn leaf(field: &str, operator: &str, value: impl Into<Value>) -> Value {
    Value::array([Value::from(field), Value::from(operator), value.into()])
}

/// A domain: the leaves (and `|`, `&`, `!` operators), in Polish notation.
pub fn domain(terms: impl IntoIterator<Item = Value>) -> Value {
    Value::array(terms)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn faults_are_sorted_by_code_then_by_the_exception_quoted() {
        assert_eq!(FaultKind::of(3, "Access Denied"), FaultKind::AccessDenied);
        assert_eq!(FaultKind::of(4, "no right"), FaultKind::AccessError);
        assert_eq!(FaultKind::of(2, "Invalid zip"), FaultKind::UserError);
        let traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1\n\
                         psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n";
        assert_eq!(FaultKind::of(1, traceback), FaultKind::Concurrency);
        assert_eq!(
            fault_message(traceback),
            "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update"
        );
        assert_eq!(
            FaultKind::of(
                1,
                "Traceback…\nValueError: Invalid field 'x' on model 'sale.order'"
            ),
            FaultKind::Application
        );
        assert_eq!(
            FaultKind::of(1, "Traceback…\nodoo.exceptions.ValidationError: bad"),
            FaultKind::UserError
        );
        assert_eq!(fault_message("  Plain message \n"), "Plain message");
    }

    #[test]
    fn errors_map_onto_what_the_host_can_do() {
        let status = |status, retry| OdooError::Status {
            service: "object",
            status,
            retry_after_seconds: retry,
            excerpt: String::new(),
        };
        match status(503, Some(30)).into_order_error() {
            OrderError::Transient(t) => assert_eq!(t.retry_after_seconds, Some(30)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            status(429, None).into_order_error(),
            OrderError::Transient(_)
        ));
        assert!(matches!(
            status(404, None).into_order_error(),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            status(400, None).into_order_error(),
            OrderError::Rejected(_)
        ));
        let fault = |call: &str, kind| OdooError::Fault {
            call: call.to_owned(),
            kind,
            message: "m".to_owned(),
        };
        assert!(matches!(
            fault("sale.order.create", FaultKind::AccessDenied).into_order_error(),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            fault("sale.order.create", FaultKind::AccessError).into_order_error(),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            fault("sale.order.create", FaultKind::Concurrency).into_order_error(),
            OrderError::Transient(_)
        ));
        assert!(matches!(
            fault("sale.order.create", FaultKind::UserError).into_order_error(),
            OrderError::Rejected(_)
        ));
        assert!(matches!(
            fault("authenticate", FaultKind::Application).into_order_error(),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            OdooError::Http(http::Error::Timeout).into_order_error(),
            OrderError::Transient(_)
        ));
        let malformed = |call: &str| OdooError::Malformed {
            call: call.to_owned(),
            message: "html".to_owned(),
        };
        assert!(matches!(
            malformed("authenticate").into_order_error(),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            malformed("sale.order.create").into_order_error(),
            OrderError::Transient(_)
        ));
        assert!(matches!(
            status(502, None).into_feed_error(),
            FeedError::Malformed(_)
        ));
        assert!(matches!(
            fault("authenticate", FaultKind::AccessDenied).into_feed_error(),
            FeedError::Configuration(_)
        ));
    }

    fn base_settings() {
        use shopbridge_guest_sdk::testing;
        testing::reset();
        testing::set_setting("url", " https://odoo.example/ ");
        testing::set_setting("database", "prod");
        testing::set_setting("username", "bot@example.com");
        testing::set_setting("api-key", "secret");
    }

    #[test]
    fn settings_have_defaults_and_are_checked() {
        use shopbridge_guest_sdk::testing;
        base_settings();
        let config = Config::from_settings().unwrap();
        assert_eq!(config.url, "https://odoo.example");
        assert_eq!(config.line_prices, LinePrices::Order);
        assert!(config.confirm_orders);
        assert_eq!(config.currency, "EUR");
        assert_eq!(config.page_size, DEFAULT_PAGE_SIZE);
        assert_eq!(config.stock_field, "qty_available");
        assert_eq!(config.partner_id, None);

        testing::set_setting("partner-id", "12");
        testing::set_setting("line-prices", "pricelist");
        testing::set_setting("confirm-orders", "false");
        testing::set_setting("currency", "usd");
        testing::set_setting("page-size", "2000");
        testing::set_setting("stock-field", "free_qty");
        let config = Config::from_settings().unwrap();
        assert_eq!(config.partner_id, Some(12));
        assert_eq!(config.line_prices, LinePrices::Pricelist);
        assert!(!config.confirm_orders);
        assert_eq!(config.currency, "USD");
        assert_eq!(config.page_size, 2000);
        assert_eq!(config.stock_field, "free_qty");

        for (name, value) in [
            ("url", "odoo.example"),
            ("partner-id", "-3"),
            ("company-id", "acme"),
            ("line-prices", "cheapest"),
            ("confirm-orders", "maybe"),
            ("currency", "euro"),
            ("page-size", "2001"),
            ("stock-field", "name"),
        ] {
            base_settings();
            testing::set_setting(name, value);
            let error = Config::from_settings().unwrap_err();
            assert!(error.to_string().contains(name), "{name}: {error}");
        }
        base_settings();
        testing::set_setting("api-key", "  ");
        assert!(
            Config::from_settings()
                .unwrap_err()
                .to_string()
                .contains("api-key")
        );
    }

    #[test]
    fn a_session_logs_in_once_and_never_sends_the_key_elsewhere() {
        use shopbridge_guest_sdk::testing;
        base_settings();
        testing::set_setting("company-id", "3");
        testing::respond(|request| {
            let body = String::from_utf8_lossy(request.body.as_deref().unwrap_or_default());
            let answer = if request.url.ends_with("/xmlrpc/2/common") {
                "<value><int>7</int></value>"
            } else {
                "<value><array><data></data></array></value>"
            };
            assert!(body.contains("<string>secret</string>"));
            Ok(shopbridge_guest_sdk::http::Response {
                status: 200,
                headers: vec![("content-type".into(), "text/xml".into())],
                body: format!(
                    "<?xml version='1.0'?><methodResponse><params><param>{answer}</param></params></methodResponse>"
                )
                .into_bytes(),
                retry_after_seconds: None,
            })
        });
        let mut odoo = Odoo::new(Config::from_settings().unwrap());
        for _ in 0..2 {
            let found = odoo
                .search_read(
                    "sale.order",
                    domain([leaf("id", "=", 1)]),
                    &["name"],
                    Vec::new(),
                )
                .unwrap();
            assert!(found.is_empty());
        }
        let requests = testing::requests();
        let urls: Vec<&str> = requests.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://odoo.example/xmlrpc/2/common",
                "https://odoo.example/xmlrpc/2/object",
                "https://odoo.example/xmlrpc/2/object"
            ]
        );
        let call = String::from_utf8_lossy(requests[1].body.as_deref().unwrap_or_default());
        assert!(
            call.contains("<methodName>execute_kw</methodName>"),
            "{call}"
        );
        assert!(
            call.contains("<string>prod</string></value></param><param><value><int>7</int>"),
            "{call}"
        );
        assert!(
            call.contains("<member><name>context</name><value><struct><member><name>allowed_company_ids</name><value><array><data><value><int>3</int></value></data></array></value></member></struct></value></member>"),
            "{call}"
        );
        assert!(
            requests
                .iter()
                .all(|r| r.headers.iter().all(|(_, v)| !v.contains("secret")))
        );
        assert!(
            testing::logs()
                .iter()
                .all(|(_, line)| !line.contains("secret"))
        );
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        let mut text = "é".repeat(400);
        truncate(&mut text, 301);
        assert!(text.ends_with('…'));
        assert!(text.len() <= 304);
    }
}

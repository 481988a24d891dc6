//! The connector's settings and its Printful client: the Bearer token and
//! the store header on every request, the `data` envelope of v2 answers,
//! and every failure sorted into what the host can act on.

use serde_json::Value;
use shopbridge_guest_sdk::http::{self, Method, Request, Response};
use shopbridge_guest_sdk::{FieldIssue, OrderError, TransientFailure, settings};

use crate::values::{seconds_up, shorten};

/// Printful's API root, the `api-base-url` default.
pub const DEFAULT_BASE_URL: &str = "https://api.printful.com";

/// What an order line's SKU names at Printful (the `sku-mode` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkuMode {
    /// A sync variant of the store: a product with its design, made in
    /// Printful's dashboard (`"source": "sync"`, `sync_variant_id`).
    Sync,
    /// A catalog variant, a blank product, printed with the design of the
    /// `placements` setting (`"source": "catalog"`, `catalog_variant_id`).
    Catalog,
}

/// Whether `poll-status` fetches the invoices of fulfilled orders (the
/// `invoices` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invoices {
    /// As a `data:` URL of the document Printful returns.
    DataUrl,
    /// Never.
    None,
}

/// The settings of one binding.
#[derive(Debug, Clone)]
pub struct Config {
    /// The API root, without a trailing `/`.
    pub base: String,
    /// The private token (or OAuth access token). Never logged.
    pub api_key: String,
    /// `X-PF-Store-Id`, for an account-level token.
    pub store_id: Option<String>,
    /// What SKUs name.
    pub sku_mode: SkuMode,
    /// Stripped from a SKU before it is read as a variant id.
    pub sku_prefix: Option<String>,
    /// The design of every catalog item (a JSON array of placements).
    pub placements: Option<Value>,
    /// Printful's shipping method (`STANDARD`, `EXPRESS`…), else its default.
    pub shipping: Option<String>,
    /// Whether drafts are confirmed (else they wait in the dashboard).
    pub confirm_orders: bool,
    /// Whether invoices are fetched.
    pub invoices: Invoices,
}

impl Config {
    /// Reads and checks the settings.
    pub fn from_settings() -> Result<Config, OrderError> {
        let optional = |name: &str| {
            settings::get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base = optional("api-base-url").unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(configuration(format!(
                "setting 'api-base-url': '{base}' is not an http(s) URL"
            )));
        }
        let api_key = settings::require("api-key")?.trim().to_owned();
        let store_id = optional("store-id");
        if let Some(id) = &store_id
            && !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(configuration(format!(
                "setting 'store-id': '{id}' is not a Printful store id"
            )));
        }
        let sku_mode = match optional("sku-mode")
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("sync") => SkuMode::Sync,
            Some("catalog") => SkuMode::Catalog,
            Some(other) => {
                return Err(configuration(format!(
                    "setting 'sku-mode': '{other}' is neither 'sync' nor 'catalog'"
                )));
            }
        };
        let placements = match optional("placements") {
            None => None,
            Some(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(list)) if !list.is_empty() && list.iter().all(Value::is_object) => {
                    Some(Value::Array(list))
                }
                _ => {
                    return Err(configuration(
                        "setting 'placements': not a JSON array of placements \
                         ([{\"placement\": \"front\", \"technique\": \"dtg\", \"layers\": […]}])",
                    ));
                }
            },
        };
        if sku_mode == SkuMode::Catalog && placements.is_none() {
            return Err(configuration(
                "setting 'placements' is required with sku-mode 'catalog': a catalog variant \
                 is a blank product and Printful needs the design to print on it",
            ));
        }
        let confirm_orders = match optional("confirm-orders")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("true" | "yes" | "1") => true,
            Some("false" | "no" | "0") => false,
            Some(other) => {
                return Err(configuration(format!(
                    "setting 'confirm-orders': '{other}' is neither true nor false"
                )));
            }
        };
        let invoices = match optional("invoices")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("data-url") => Invoices::DataUrl,
            Some("none") => Invoices::None,
            Some(other) => {
                return Err(configuration(format!(
                    "setting 'invoices': '{other}' is neither 'data-url' nor 'none'"
                )));
            }
        };
        Ok(Config {
            base,
            api_key,
            store_id,
            sku_mode,
            sku_prefix: optional("sku-prefix"),
            placements,
            shipping: optional("shipping").map(|s| s.to_ascii_uppercase()),
            confirm_orders,
            invoices,
        })
    }

    /// Sends one request to `{base}{path}` with the token, the store
    /// header and, when given, a JSON body.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, http::Error> {
        let mut request = Request::new(method, format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.api_key))
            .header("accept", "application/json");
        if let Some(store) = &self.store_id {
            request = request.header("x-pf-store-id", store.clone());
        }
        if let Some(body) = body {
            request = request.body("application/json", body.to_string());
        }
        request.send()
    }

    /// [`Config::send`], with a failure to get an answer as an order error
    /// (a timeout or a lost connection is transient).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, OrderError> {
        Ok(self.send(method, path, body)?)
    }
}

fn configuration(message: impl Into<String>) -> OrderError {
    OrderError::Configuration(message.into())
}

/// The payload of a v2 answer: its `data` (v1 answers: `result`), else the
/// body itself.
pub fn payload(body: &Value) -> &Value {
    body.get("data")
        .or_else(|| body.get("result").filter(|r| r.is_object()))
        .unwrap_or(body)
}

/// The body of an answer as JSON (`null` when it is not JSON).
pub fn json(response: &Response) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

/// The delay a 429 or 503 asked for: what the host read (`Retry-After`),
/// else Printful's `X-Ratelimit-Reset`, which may be a fraction of a second
/// (`0.5`), rounded up.
pub fn retry_after(response: &Response) -> Option<u32> {
    response
        .retry_after_seconds
        .or_else(|| response.header("x-ratelimit-reset").and_then(seconds_up))
}

/// What a Printful error answer says.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The message for a person.
    pub message: Option<String>,
    /// Problems located in the request body: (JSON pointer, detail).
    pub pointers: Vec<(String, String)>,
}

impl ErrorBody {
    /// Reads the error shapes of Printful's API: `{"code", "result",
    /// "error": {"reason", "message"}}` (4xx), RFC 7807 problem details
    /// `{"type", "status", "title", "details"}` (5xx), and a list of
    /// `errors` in the document's `Error` schema (`detail`,
    /// `source.pointer`).
    pub fn parse(response: &Response) -> ErrorBody {
        let body = json(response);
        let text = |v: Option<&Value>| {
            v.and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let message = text(body.pointer("/error/message"))
            .or_else(|| text(body.get("result")))
            .or_else(|| text(body.get("detail")))
            .or_else(|| text(body.get("details")))
            .or_else(|| text(body.get("message")))
            .or_else(|| text(body.get("title")))
            .or_else(|| text(body.get("data")));
        let errors = body
            .get("errors")
            .or_else(|| body.pointer("/error/errors"))
            .and_then(Value::as_array);
        let pointers = errors
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let pointer = text(e.pointer("/source/pointer"))?;
                let detail = text(e.get("detail")).unwrap_or_else(|| "is not valid".to_owned());
                Some((pointer, detail))
            })
            .collect();
        ErrorBody { message, pointers }
    }

    /// The message, else the start of the body.
    pub fn text(&self, response: &Response) -> String {
        match &self.message {
            Some(m) => shorten(m, 500),
            None if response.body.is_empty() => "no details".to_owned(),
            None => shorten(&response.text(), 300),
        }
    }
}

/// A Printful answer that is not a success, as an order error. `lines` is
/// the number of order lines sent (for the field issues of a 400).
pub fn order_error(response: &Response, lines: Option<usize>) -> OrderError {
    let body = ErrorBody::parse(response);
    let text = body.text(response);
    match response.status {
        401 | 403 => configuration(format!(
            "Printful refused the token ({}: {text}); check the 'api-key' setting (and \
             'store-id' for an account-level token)",
            response.status
        )),
        429 => OrderError::Transient(TransientFailure {
            message: format!("Printful is rate-limiting: {text}"),
            retry_after_seconds: retry_after(response),
        }),
        s if s >= 500 => OrderError::Transient(TransientFailure {
            message: format!("Printful answered {s}: {text}"),
            retry_after_seconds: retry_after(response),
        }),
        409 if text.to_ascii_lowercase().contains("try again") => {
            OrderError::Transient(TransientFailure {
                message: format!("Printful is busy with this order: {text}"),
                retry_after_seconds: retry_after(response),
            })
        }
        400 | 404 | 422 if mentions_store(&text) => {
            configuration(format!("Printful: {text}; check the 'store-id' setting"))
        }
        400 | 422 => {
            let issues = field_issues(&body, lines.unwrap_or(0));
            if issues.is_empty() {
                OrderError::Rejected(format!("Printful refused the order: {text}"))
            } else {
                OrderError::NeedsAttention(issues)
            }
        }
        s => OrderError::Rejected(format!("Printful answered {s}: {text}")),
    }
}

/// Whether a refusal is about the store (`X-PF-Store-Id`) rather than the
/// order: a missing store id, or one Printful does not know.
pub fn is_store_refusal(response: &Response) -> bool {
    matches!(response.status, 400 | 404 | 422)
        && ErrorBody::parse(response)
            .message
            .is_some_and(|m| mentions_store(&m))
}

fn mentions_store(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("store_id")
        || m.contains("store id")
        || m.contains("x-pf-store-id")
        || m.contains("store not found")
}

/// The order's fields a 400 names: by JSON pointer when the answer has
/// them, else read from its message (see the crate docs).
pub fn field_issues(body: &ErrorBody, lines: usize) -> Vec<FieldIssue> {
    let mut issues: Vec<FieldIssue> = body
        .pointers
        .iter()
        .filter_map(|(pointer, detail)| issue_at_pointer(pointer, detail, lines))
        .collect();
    if issues.is_empty()
        && let Some(message) = &body.message
        && let Some(issue) = issue_in_message(message, lines)
    {
        issues.push(issue);
    }
    issues.dedup_by(|a, b| a.field == b.field && a.code == b.code);
    issues
}

/// `/recipient/zip` → `shipping-address.postal-code`;
/// `/order_items/1/sync_variant_id` → `lines[1].sku`.
fn issue_at_pointer(pointer: &str, detail: &str, lines: usize) -> Option<FieldIssue> {
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let code = code_of(detail);
    match parts.as_slice() {
        ["recipient", field, ..] => Some(FieldIssue::new(
            format!("shipping-address.{}", address_field(field)?),
            code,
            detail,
        )),
        ["order_items" | "items", index, rest @ ..] => {
            let index: usize = index.parse().ok().filter(|i| *i < lines)?;
            let field = match rest.first() {
                Some(&"quantity") => "quantity",
                _ => "sku",
            };
            let code = if field == "sku" {
                line_code(detail)
            } else {
                "invalid"
            };
            Some(FieldIssue::new(
                format!("lines[{index}].{field}"),
                code,
                detail,
            ))
        }
        _ => None,
    }
}

/// Printful's recipient field names as the contract's address fields.
fn address_field(name: &str) -> Option<&'static str> {
    Some(match name {
        "name" => "last-name",
        "company" => "company",
        "address1" => "line1",
        "address2" => "line2",
        "city" => "city",
        "state_code" | "state_name" => "region",
        "country_code" | "country_name" => "country-code",
        "zip" => "postal-code",
        "phone" => "phone",
        "email" => "email",
        _ => return None,
    })
}

/// "missing" for a value that is required and absent, else "invalid".
fn code_of(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if [
        "required",
        "missing",
        "empty",
        "not set",
        "must be provided",
    ]
    .iter()
    .any(|w| m.contains(w))
    {
        "missing"
    } else {
        "invalid"
    }
}

/// The code of a problem with a line's variant.
fn line_code(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("out of stock") || m.contains("discontinued") || m.contains("unavailable") {
        "out-of-stock"
    } else if [
        "not found",
        "unknown",
        "does not exist",
        "invalid",
        "no such",
    ]
    .iter()
    .any(|w| m.contains(w))
    {
        "unknown-sku"
    } else {
        "invalid"
    }
}

/// A field issue from a message such as `Recipient: ZIP/Postal code is
/// required` or `Item 1: Sync variant not found`.
fn issue_in_message(message: &str, lines: usize) -> Option<FieldIssue> {
    let m = message.to_ascii_lowercase();
    if let Some(index) = item_index(&m).filter(|i| *i < lines) {
        let (field, code) = if m.contains("quantity") {
            ("quantity", "invalid")
        } else {
            ("sku", line_code(&m))
        };
        return Some(FieldIssue::new(
            format!("lines[{index}].{field}"),
            code,
            message,
        ));
    }
    let about_address = [
        "recipient",
        "address",
        "zip",
        "postal",
        "state",
        "country",
        "city",
    ]
    .iter()
    .any(|w| m.contains(w));
    if !about_address {
        return None;
    }
    // Most specific first: "Invalid address: City is required" is the city,
    // "State code is required for country US" the region.
    let field = if m.contains("zip") || m.contains("postal") || m.contains("postcode") {
        "postal-code"
    } else if m.contains("state") || m.contains("province") {
        "region"
    } else if m.contains("country") {
        "country-code"
    } else if m.contains("city") {
        "city"
    } else if m.contains("phone") {
        "phone"
    } else if m.contains("email") {
        "email"
    } else if m.contains("address2") || m.contains("address line 2") {
        "line2"
    } else if m.contains("address") || m.contains("street") {
        "line1"
    } else if m.contains("name") {
        "last-name"
    } else {
        return None;
    };
    Some(FieldIssue::new(
        format!("shipping-address.{field}"),
        code_of(&m),
        message,
    ))
}

/// The order item a message names: `item 1:`, `item #1`, `order_items[1]`,
/// `order_items.1`, `/order_items/1` (0-based, as the array sent).
fn item_index(message: &str) -> Option<usize> {
    for marker in [
        "order_items[",
        "order_items.",
        "order_items/",
        "item #",
        "item ",
    ] {
        if let Some(at) = message.find(marker) {
            let digits: String = message[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(index) = digits.parse() {
                return Some(index);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
            retry_after_seconds: None,
        }
    }

    fn bad_request(message: &str) -> Response {
        let body = serde_json::json!({
            "code": 400, "result": message,
            "error": {"reason": "BadRequest", "message": message}
        });
        response(400, &[], &body.to_string())
    }

    fn fields(error: OrderError) -> Vec<(String, String)> {
        match error {
            OrderError::NeedsAttention(issues) => {
                issues.into_iter().map(|i| (i.field, i.code)).collect()
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
    }

    fn pair(field: &str, code: &str) -> Vec<(String, String)> {
        vec![(field.to_owned(), code.to_owned())]
    }

    #[test]
    fn address_messages_name_their_field() {
        for (message, field, code) in [
            (
                "Recipient: ZIP/Postal code is required",
                "postal-code",
                "missing",
            ),
            (
                "Recipient: Invalid ZIP/Postal code for FR",
                "postal-code",
                "invalid",
            ),
            (
                "Recipient: State code is required for country US",
                "region",
                "missing",
            ),
            (
                "Recipient: Invalid country code (XX)",
                "country-code",
                "invalid",
            ),
            (
                "Recipient: Invalid address: City is required",
                "city",
                "missing",
            ),
            ("Recipient: Address is required", "line1", "missing"),
            ("Recipient: Name is required", "last-name", "missing"),
        ] {
            assert_eq!(
                fields(order_error(&bad_request(message), Some(2))),
                pair(&format!("shipping-address.{field}"), code),
                "{message}"
            );
        }
    }

    #[test]
    fn item_messages_name_their_line() {
        assert_eq!(
            fields(order_error(
                &bad_request("Item 1: Sync variant not found"),
                Some(2)
            )),
            pair("lines[1].sku", "unknown-sku")
        );
        assert_eq!(
            fields(order_error(
                &bad_request("Item 0: Product is discontinued"),
                Some(2)
            )),
            pair("lines[0].sku", "out-of-stock")
        );
        assert_eq!(
            fields(order_error(
                &bad_request("order_items[0].quantity must be at least 1"),
                Some(1)
            )),
            pair("lines[0].quantity", "invalid")
        );
        // An item the order does not have is no line of it.
        assert!(matches!(
            order_error(&bad_request("Item 7: Sync variant not found"), Some(2)),
            OrderError::Rejected(_)
        ));
    }

    #[test]
    fn pointers_are_precise() {
        let body = serde_json::json!({
            "type": "https://developers.printful.com/docs/v2-beta/#errors",
            "status": 400,
            "title": "Bad Request",
            "errors": [
                {"detail": "This value should not be blank.", "source": {"pointer": "/recipient/city"}},
                {"detail": "Variant 4011 does not exist", "source": {"pointer": "/order_items/1/catalog_variant_id"}},
                {"detail": "Header is wrong", "source": {"header": "X-PF-Language"}}
            ]
        });
        let error = order_error(&response(400, &[], &body.to_string()), Some(2));
        assert_eq!(
            fields(error),
            vec![
                ("shipping-address.city".to_owned(), "invalid".to_owned()),
                ("lines[1].sku".to_owned(), "unknown-sku".to_owned()),
            ]
        );
    }

    #[test]
    fn statuses_sort_into_order_errors() {
        let unauthorized = response(
            401,
            &[],
            r#"{"code":401,"result":"Malformed Authorization header.","error":{"reason":"BadRequest","message":"Malformed Authorization header."}}"#,
        );
        match order_error(&unauthorized, None) {
            OrderError::Configuration(m) => {
                assert!(m.contains("Malformed Authorization header."), "{m}")
            }
            other => panic!("{other:?}"),
        }
        let limited = response(429, &[("x-ratelimit-reset", "0.5")], "{}");
        assert_eq!(
            order_error(&limited, None),
            OrderError::Transient(TransientFailure {
                message: "Printful is rate-limiting: {}".to_owned(),
                retry_after_seconds: Some(1),
            })
        );
        let problem = response(
            503,
            &[],
            r#"{"type":"https://developers.printful.com/docs/v2-beta/#errors/internal-server-error","status":503,"title":"Service Unavailable","details":"Maintenance"}"#,
        );
        match order_error(&problem, None) {
            OrderError::Transient(t) => assert!(t.message.contains("Maintenance"), "{t:?}"),
            other => panic!("{other:?}"),
        }
        let busy = response(
            409,
            &[],
            r#"{"code":409,"result":"Attempting to update a resource that is already being updated. Please try again after the previous update has completed","error":{"reason":409,"message":"Attempting to update a resource that is already being updated. Please try again after the previous update has completed"}}"#,
        );
        assert!(matches!(order_error(&busy, None), OrderError::Transient(_)));
        let conflict = response(
            409,
            &[],
            r#"{"code":409,"result":"Order cannot be deleted","error":{"reason":409,"message":"Order cannot be deleted"}}"#,
        );
        assert_eq!(
            order_error(&conflict, None),
            OrderError::Rejected("Printful answered 409: Order cannot be deleted".to_owned())
        );
        assert!(matches!(
            order_error(&bad_request("Missing required parameters"), Some(1)),
            OrderError::Rejected(_)
        ));
        assert!(matches!(
            order_error(
                &bad_request("This API endpoint requires store_id parameter"),
                Some(1)
            ),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            order_error(&response(502, &[], "<html>bad gateway</html>"), None),
            OrderError::Transient(_)
        ));
    }
}

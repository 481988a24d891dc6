//! Orders: checked locally, created as a draft under the order's
//! idempotency key (`external_id`), confirmed; cancelled by deleting a
//! draft or cancelling a pending order.

use serde_json::{Map, Value, json};
use shopbridge_guest_sdk::http::{Method, Response};
use shopbridge_guest_sdk::{
    FieldIssue, Money, Order, OrderError, Submission, TransientFailure, log, money,
};

use crate::client::ErrorBody;
use crate::client::{Config, SkuMode, is_store_refusal, json, order_error, payload};
use crate::values::{decimal_money, order_path_id, shorten};

/// Countries where Printful needs a state code ("Both country code and
/// state code are mandatory for orders to the USA, Canada and Australia").
const STATE_REQUIRED: [&str; 3] = ["US", "CA", "AU"];

/// An order as Printful returns it (the `Order` schema), reduced to what
/// the connector reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrintfulOrder {
    /// Printful's order id.
    pub(crate) id: String,
    /// `draft`, `pending`, `failed`, `canceled`, `onhold`, `inprocess`,
    /// `partial` or `fulfilled`.
    pub(crate) status: String,
    /// The whole `data` object.
    pub(crate) raw: Value,
}

impl PrintfulOrder {
    /// The order in a v2 answer, when it has an id.
    pub(crate) fn from_answer(body: &Value) -> Option<PrintfulOrder> {
        let data = payload(body);
        let id = match data.get("id")? {
            Value::Number(n) => n.to_string(),
            Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => return None,
        };
        let status = data
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(PrintfulOrder {
            id,
            status,
            raw: data.clone(),
        })
    }

    /// What Printful charges, once it has calculated it (`costs.total` with
    /// `calculation_status` `done`).
    fn wholesale_total(&self) -> Option<Money> {
        let costs = self.raw.get("costs")?;
        if costs.get("calculation_status").and_then(Value::as_str) != Some("done") {
            return None;
        }
        let currency = costs.get("currency")?.as_str()?.trim().to_ascii_uppercase();
        decimal_money(costs.get("total")?.as_str()?, &currency)
    }

    fn submission(&self, message: String) -> Submission {
        Submission {
            supplier_reference: self.id.clone(),
            wholesale_total: self.wholesale_total(),
            message: Some(message),
        }
    }
}

/// `GET /v2/orders/{order_id}`: the order, `None` when Printful has none.
pub(crate) fn get_order(
    config: &Config,
    reference: &str,
) -> Result<Option<PrintfulOrder>, OrderError> {
    let response = config.request(
        Method::Get,
        &format!("/v2/orders/{}", order_path_id(reference)),
        None,
    )?;
    if response.status == 404 && !is_store_refusal(&response) {
        return Ok(None);
    }
    if !response.is_success() {
        return Err(order_error(&response, None));
    }
    match PrintfulOrder::from_answer(&json(&response)) {
        Some(order) => Ok(Some(order)),
        None => Err(OrderError::Transient(TransientFailure {
            message: format!(
                "Printful's answer for order {reference} has no order id: {}",
                shorten(&response.text(), 200)
            ),
            retry_after_seconds: None,
        })),
    }
}

/// `check-order`: the checks made before any request, nothing sent.
pub(crate) fn check_order(order: &Order) -> Result<(), OrderError> {
    let config = Config::from_settings()?;
    order_items(order, &config).map(|_| ())
}

/// `submit-order`: draft then confirmation, idempotent on the order's key.
pub(crate) fn submit_order(order: &Order) -> Result<Submission, OrderError> {
    let config = Config::from_settings()?;
    let items = order_items(order, &config)?;
    let key = order.idempotency_key.trim();
    let draft = match get_order(&config, &format!("@{key}"))? {
        Some(existing) => match existing.status.as_str() {
            "draft" | "failed" => {
                log::info(
                    "Printful has this order as a draft: confirming it",
                    &[("order", &existing.id), ("status", &existing.status)],
                );
                existing
            }
            "canceled" | "cancelled" => {
                return Err(OrderError::Rejected(format!(
                    "Printful's order {} for this key ({key}) is cancelled",
                    existing.id
                )));
            }
            status => {
                let message = format!(
                    "Printful already had this order: {} ({status})",
                    existing.id
                );
                return Ok(existing.submission(message));
            }
        },
        None => create_draft(&config, order, items)?,
    };
    if !config.confirm_orders {
        let message = format!(
            "Printful draft order {} (confirm it in Printful's dashboard)",
            draft.id
        );
        return Ok(draft.submission(message));
    }
    confirm(&config, order, &draft)
}

/// `POST /v2/orders`: the new draft. A 400 saying the external id exists
/// (a submission of the same key at the same time) gives that order.
fn create_draft(
    config: &Config,
    order: &Order,
    items: Vec<Value>,
) -> Result<PrintfulOrder, OrderError> {
    let body = order_body(order, config, items);
    let response = config.request(Method::Post, "/v2/orders", Some(&body))?;
    let key = order.idempotency_key.trim();
    if response.is_success() {
        if let Some(created) = PrintfulOrder::from_answer(&json(&response)) {
            return Ok(created);
        }
        log::warn(
            "Printful created the order without giving its id; looking it up",
            &[("status", &response.status.to_string())],
        );
        return get_order(config, &format!("@{key}"))?.ok_or_else(|| {
            OrderError::Transient(TransientFailure {
                message: "Printful accepted the order but gave no id, and has none under its \
                          external id yet"
                    .to_owned(),
                retry_after_seconds: None,
            })
        });
    }
    if response.status == 400
        && says_external_id_exists(&response)
        && let Some(existing) = get_order(config, &format!("@{key}"))?
    {
        return Ok(existing);
    }
    if response.status == 404 && !is_store_refusal(&response) {
        // Creating an order is no lookup: the URL itself is wrong.
        return Err(OrderError::Configuration(format!(
            "Printful answered 404 to creating an order at {}/v2/orders; check the \
             'api-base-url' setting",
            config.base
        )));
    }
    Err(order_error(&response, Some(order.lines.len())))
}

fn says_external_id_exists(response: &Response) -> bool {
    let message = ErrorBody::parse(response)
        .message
        .unwrap_or_default()
        .to_ascii_lowercase();
    message.contains("external")
        && ["exist", "already", "duplicate", "unique", "taken"]
            .iter()
            .any(|w| message.contains(w))
}

/// `POST /v2/orders/{id}/confirmation`.
fn confirm(
    config: &Config,
    order: &Order,
    draft: &PrintfulOrder,
) -> Result<Submission, OrderError> {
    let path = format!("/v2/orders/{}/confirmation", order_path_id(&draft.id));
    let response = config.request(Method::Post, &path, None)?;
    if !response.is_success() {
        let error = order_error(&response, Some(order.lines.len()));
        if matches!(response.status, 400 | 409)
            && !matches!(error, OrderError::Transient(_))
            && let Some(now) = get_order(config, &draft.id)?
            && !matches!(
                now.status.as_str(),
                "draft" | "failed" | "canceled" | "cancelled"
            )
        {
            // Confirmed meanwhile (a submission of the same key at the
            // same moment): that is the answer.
            let message = format!(
                "Printful already had this order: {} ({})",
                now.id, now.status
            );
            return Ok(now.submission(message));
        }
        return Err(error);
    }
    let confirmed = PrintfulOrder::from_answer(&json(&response)).unwrap_or_else(|| PrintfulOrder {
        status: "pending".to_owned(),
        ..draft.clone()
    });
    let message = format!("Printful order {} ({})", confirmed.id, confirmed.status);
    Ok(confirmed.submission(message))
}

/// `cancel-order`: a draft (or a failed order) is deleted (`DELETE
/// /v2/orders/{id}`); a pending one is cancelled (`DELETE /orders/{id}`, the
/// v1 call the v2 document points to); one in production cannot be.
pub(crate) fn cancel_order(reference: &str, reason: Option<&str>) -> Result<(), OrderError> {
    let config = Config::from_settings()?;
    let Some(order) = get_order(&config, reference)? else {
        return Err(OrderError::Rejected(format!(
            "Printful has no order {reference}"
        )));
    };
    if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        // Printful's API takes no reason: it stays in the host's history.
        log::info(
            "cancelling a Printful order",
            &[("order", &order.id), ("reason", reason)],
        );
    }
    let id = order_path_id(&order.id);
    let path = match order.status.as_str() {
        "canceled" | "cancelled" => return Ok(()),
        "draft" | "failed" => format!("/v2/orders/{id}"),
        "pending" => format!("/orders/{id}"),
        "inprocess" | "onhold" | "partial" | "fulfilled" => {
            return Err(OrderError::Rejected(format!(
                "Printful order {} is {}: it is in production and can no longer be cancelled \
                 (Printful's support may still help)",
                order.id,
                describe_status(&order.status)
            )));
        }
        // A status this connector does not know: let Printful decide.
        _ => format!("/orders/{id}"),
    };
    let response = config.request(Method::Delete, &path, None)?;
    match response.status {
        s if (200..300).contains(&s) => Ok(()),
        // Deleted (or cancelled) in the meantime.
        404 if order.status == "draft" || order.status == "failed" => Ok(()),
        400 | 404 | 409 => Err(OrderError::Rejected(format!(
            "Printful cannot cancel order {}: {}",
            order.id,
            ErrorBody::parse(&response).text(&response)
        ))),
        _ => Err(order_error(&response, None)),
    }
}

/// Printful's status words for a person.
pub(crate) fn describe_status(status: &str) -> &str {
    match status {
        "inprocess" => "being fulfilled",
        "onhold" => "on hold",
        "partial" => "partly shipped",
        "fulfilled" => "shipped",
        other => other,
    }
}

/// Checks the order (see the crate docs) and returns its `order_items`.
pub(crate) fn order_items(order: &Order, config: &Config) -> Result<Vec<Value>, OrderError> {
    let mut issues = address_issues(order);
    if order.lines.is_empty() {
        issues.push(FieldIssue::new("lines", "missing", "the order has no line"));
    }
    let currency = order
        .lines
        .first()
        .map(|l| l.unit_price.currency.trim().to_ascii_uppercase());
    let one_currency = order
        .lines
        .iter()
        .all(|l| Some(l.unit_price.currency.trim().to_ascii_uppercase()) == currency);
    let mut items = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let sku = line.sku.trim();
        if line.quantity == 0 {
            issues.push(FieldIssue::new(
                format!("lines[{i}].quantity"),
                "invalid",
                "the quantity must be at least 1",
            ));
        }
        if sku.is_empty() {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "missing",
                "the line has no SKU",
            ));
            continue;
        }
        let Some(variant) = variant_id(sku, config) else {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "unknown-sku",
                unreadable_sku(sku, config),
            ));
            continue;
        };
        let mut item = Map::new();
        match config.sku_mode {
            SkuMode::Sync => {
                item.insert("source".to_owned(), json!("sync"));
                item.insert("sync_variant_id".to_owned(), json!(variant));
            }
            SkuMode::Catalog => {
                item.insert("source".to_owned(), json!("catalog"));
                item.insert("catalog_variant_id".to_owned(), json!(variant));
            }
        }
        item.insert("quantity".to_owned(), json!(line.quantity));
        item.insert("external_id".to_owned(), json!(sku));
        if one_currency {
            item.insert(
                "retail_price".to_owned(),
                json!(money::format_decimal(&line.unit_price)),
            );
        }
        if let Some(name) = line
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            item.insert("name".to_owned(), json!(name));
        }
        if let (SkuMode::Catalog, Some(placements)) = (config.sku_mode, &config.placements) {
            item.insert("placements".to_owned(), placements.clone());
        }
        items.push(Value::Object(item));
    }
    if order.idempotency_key.trim().is_empty() {
        issues.push(FieldIssue::new(
            "idempotency-key",
            "missing",
            "the order has no idempotency key",
        ));
    }
    if issues.is_empty() {
        Ok(items)
    } else {
        Err(OrderError::NeedsAttention(issues))
    }
}

/// The variant id a SKU names: its digits once the `sku-prefix` is removed.
fn variant_id(sku: &str, config: &Config) -> Option<u64> {
    let rest = match &config.sku_prefix {
        Some(prefix) => sku.strip_prefix(prefix.as_str())?,
        None => sku,
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|id| *id > 0)
}

fn unreadable_sku(sku: &str, config: &Config) -> String {
    let what = match config.sku_mode {
        SkuMode::Sync => "sync variant",
        SkuMode::Catalog => "catalog variant",
    };
    match &config.sku_prefix {
        Some(prefix) => format!("SKU '{sku}' is not '{prefix}' followed by a Printful {what} id"),
        None => format!("SKU '{sku}' is not a Printful {what} id"),
    }
}

/// What Printful would refuse in the shipping address anyway.
fn address_issues(order: &Order) -> Vec<FieldIssue> {
    let a = &order.shipping_address;
    let mut issues = Vec::new();
    let mut missing = |field: &str, what: &str| {
        issues.push(FieldIssue::new(
            format!("shipping-address.{field}"),
            "missing",
            format!("the shipping address has no {what}"),
        ));
    };
    if a.first_name.trim().is_empty() && a.last_name.trim().is_empty() {
        missing("last-name", "recipient name");
    }
    if a.line1.trim().is_empty() {
        missing("line1", "street address");
    }
    if a.city.trim().is_empty() {
        missing("city", "city");
    }
    let country = a.country_code.trim().to_ascii_uppercase();
    if country.is_empty() {
        missing("country-code", "country");
    } else if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        issues.push(FieldIssue::new(
            "shipping-address.country-code",
            "invalid",
            format!("country code '{country}' is not two letters (ISO 3166-1, such as FR)"),
        ));
    }
    let region = a.region.as_deref().map(str::trim).unwrap_or_default();
    if STATE_REQUIRED.contains(&country.as_str()) && region.is_empty() {
        issues.push(FieldIssue::new(
            "shipping-address.region",
            "missing",
            format!("Printful needs the state (its code, such as CA) for an address in {country}"),
        ));
    }
    issues
}

/// The body of `POST /v2/orders` (see the crate docs).
pub(crate) fn order_body(order: &Order, config: &Config, items: Vec<Value>) -> Value {
    let a = &order.shipping_address;
    let mut recipient = Map::new();
    let mut put = |key: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            recipient.insert(key.to_owned(), json!(value));
        }
    };
    put(
        "name",
        &format!("{} {}", a.first_name.trim(), a.last_name.trim()),
    );
    put("company", a.company.as_deref().unwrap_or_default());
    put("address1", &a.line1);
    put("address2", a.line2.as_deref().unwrap_or_default());
    put("city", &a.city);
    let region = a.region.as_deref().map(str::trim).unwrap_or_default();
    if is_state_code(region) {
        put("state_code", &region.to_ascii_uppercase());
    } else {
        put("state_name", region);
    }
    put("country_code", &a.country_code.trim().to_ascii_uppercase());
    put("zip", &a.postal_code);
    put("phone", a.phone.as_deref().unwrap_or_default());
    put(
        "email",
        a.email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .or(order.customer_email.as_deref())
            .unwrap_or_default(),
    );

    let mut body = Map::new();
    body.insert(
        "external_id".to_owned(),
        json!(order.idempotency_key.trim()),
    );
    if let Some(shipping) = &config.shipping {
        body.insert("shipping".to_owned(), json!(shipping));
    }
    body.insert("recipient".to_owned(), Value::Object(recipient));
    let retail_currency = items
        .iter()
        .any(|i| i.get("retail_price").is_some())
        .then(|| {
            order
                .lines
                .first()
                .map(|l| l.unit_price.currency.trim().to_ascii_uppercase())
        })
        .flatten();
    body.insert("order_items".to_owned(), Value::Array(items));
    let reference = order.reference.trim();
    if !reference.is_empty() {
        body.insert(
            "customization".to_owned(),
            json!({ "packing_slip": { "custom_order_id": reference } }),
        );
    }
    if let Some(currency) = retail_currency {
        body.insert("retail_costs".to_owned(), json!({ "currency": currency }));
    }
    Value::Object(body)
}

/// A region written as a code (`CA`, `NSW`, `13`) rather than a name.
fn is_state_code(region: &str) -> bool {
    (1..=3).contains(&region.len()) && region.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use shopbridge_guest_sdk::http::{Request, Response};
    use shopbridge_guest_sdk::testing::{self, json_response};
    use shopbridge_guest_sdk::{Address, Money, OrderLine, TransientFailure};

    use super::*;

    const BASE: &str = "https://api.printful.test";

    fn setup() {
        testing::reset();
        testing::set_setting("api-base-url", &format!("{BASE}/"));
        testing::set_setting("api-key", "pf-token");
    }

    fn order() -> Order {
        Order {
            reference: "XKBKNABJK".to_owned(),
            idempotency_key: "SB0123456789ABCDEF0123".to_owned(),
            placed_at: "2026-01-05T10:00:00Z".to_owned(),
            customer_email: Some("jeanne@example.com".to_owned()),
            shipping_address: Address {
                first_name: "Jeanne".to_owned(),
                last_name: "Martin".to_owned(),
                company: None,
                line1: "12 rue des Lilas".to_owned(),
                line2: Some("Bâtiment B".to_owned()),
                postal_code: "75011".to_owned(),
                city: "Paris".to_owned(),
                region: None,
                country_code: "fr".to_owned(),
                phone: Some("+33612345678".to_owned()),
                email: None,
            },
            billing_address: None,
            lines: vec![line("4011", 2), line("4012", 1)],
            shipping_method: None,
            note: Some("leave at the door".to_owned()),
        }
    }

    fn line(sku: &str, quantity: u32) -> OrderLine {
        OrderLine {
            sku: sku.to_owned(),
            quantity,
            unit_price: Money {
                amount_minor: 2990,
                currency: "EUR".to_owned(),
            },
            name: None,
        }
    }

    fn order_json(id: u64, status: &str) -> String {
        json!({"data": {
            "id": id, "external_id": "SB0123456789ABCDEF0123", "status": status,
            "costs": {"calculation_status": "done", "currency": "EUR", "total": "26.50"}
        }})
        .to_string()
    }

    fn not_found() -> Response {
        json_response(
            404,
            r#"{"code":404,"result":"Not found","error":{"reason":"NotFound","message":"Not found"}}"#,
        )
    }

    fn sent() -> Vec<String> {
        testing::requests()
            .iter()
            .map(|r| {
                let method = match r.method {
                    Method::Get => "Get",
                    Method::Post => "Post",
                    Method::Delete => "Delete",
                    _ => "Other",
                };
                format!("{method} {}", r.url)
            })
            .collect()
    }

    fn body_of(request: &Request) -> Value {
        serde_json::from_slice(request.body.as_deref().unwrap_or_default()).expect("JSON body")
    }

    fn config() -> Config {
        Config::from_settings().expect("settings")
    }

    #[test]
    fn a_new_order_is_created_as_a_draft_then_confirmed() {
        setup();
        testing::set_setting("store-id", "12345");
        testing::respond(|r| {
            Ok(match (r.method, r.url.as_str()) {
                (Method::Get, _) => not_found(),
                (Method::Post, u) if u.ends_with("/v2/orders") => {
                    json_response(200, &order_json(77, "draft"))
                }
                (Method::Post, u) if u.ends_with("/v2/orders/77/confirmation") => {
                    json_response(200, &order_json(77, "pending"))
                }
                _ => json_response(500, "{}"),
            })
        });
        let submission = submit_order(&order()).expect("submits");
        assert_eq!(submission.supplier_reference, "77");
        assert_eq!(
            submission.wholesale_total,
            Some(Money {
                amount_minor: 2650,
                currency: "EUR".to_owned()
            })
        );
        assert_eq!(
            sent(),
            vec![
                format!("Get {BASE}/v2/orders/@SB0123456789ABCDEF0123"),
                format!("Post {BASE}/v2/orders"),
                format!("Post {BASE}/v2/orders/77/confirmation"),
            ]
        );
        let requests = testing::requests();
        for r in &requests {
            assert!(
                r.headers
                    .contains(&("authorization".into(), "Bearer pf-token".into()))
            );
            assert!(
                r.headers
                    .contains(&("x-pf-store-id".into(), "12345".into()))
            );
        }
        assert_eq!(
            body_of(&requests[1]),
            json!({
                "external_id": "SB0123456789ABCDEF0123",
                "recipient": {
                    "name": "Jeanne Martin",
                    "address1": "12 rue des Lilas",
                    "address2": "Bâtiment B",
                    "city": "Paris",
                    "country_code": "FR",
                    "zip": "75011",
                    "phone": "+33612345678",
                    "email": "jeanne@example.com"
                },
                "order_items": [
                    {"source": "sync", "sync_variant_id": 4011, "quantity": 2,
                     "external_id": "4011", "retail_price": "29.90"},
                    {"source": "sync", "sync_variant_id": 4012, "quantity": 1,
                     "external_id": "4012", "retail_price": "29.90"}
                ],
                "customization": {"packing_slip": {"custom_order_id": "XKBKNABJK"}},
                "retail_costs": {"currency": "EUR"}
            })
        );
        assert_eq!(requests[2].body, None);
    }

    #[test]
    fn a_draft_left_by_an_earlier_try_is_confirmed_not_created_again() {
        setup();
        testing::respond(|r| {
            Ok(match r.method {
                Method::Get => json_response(200, &order_json(77, "draft")),
                Method::Post if r.url.ends_with("/confirmation") => {
                    json_response(200, &order_json(77, "pending"))
                }
                _ => json_response(500, "{}"),
            })
        });
        let submission = submit_order(&order()).expect("submits");
        assert_eq!(submission.supplier_reference, "77");
        assert_eq!(
            sent(),
            vec![
                format!("Get {BASE}/v2/orders/@SB0123456789ABCDEF0123"),
                format!("Post {BASE}/v2/orders/77/confirmation"),
            ]
        );
    }

    #[test]
    fn a_confirmed_order_is_the_answer_and_a_cancelled_one_a_refusal() {
        setup();
        testing::respond(|_| Ok(json_response(200, &order_json(77, "inprocess"))));
        let submission = submit_order(&order()).expect("submits");
        assert_eq!(submission.supplier_reference, "77");
        assert!(
            submission
                .message
                .as_deref()
                .is_some_and(|m| m.contains("already")),
            "{submission:?}"
        );
        assert_eq!(sent().len(), 1);

        setup();
        testing::respond(|_| Ok(json_response(200, &order_json(77, "canceled"))));
        assert!(matches!(
            submit_order(&order()),
            Err(OrderError::Rejected(_))
        ));
    }

    #[test]
    fn a_duplicate_external_id_at_creation_gives_the_order_that_has_it() {
        setup();
        let mut lookups = 0;
        testing::respond(move |r| {
            Ok(match r.method {
                Method::Get => {
                    lookups += 1;
                    if lookups == 1 {
                        not_found()
                    } else {
                        json_response(200, &order_json(78, "draft"))
                    }
                }
                Method::Post if r.url.ends_with("/v2/orders") => json_response(
                    400,
                    r#"{"code":400,"result":"Order with this external_id already exists","error":{"reason":"BadRequest","message":"Order with this external_id already exists"}}"#,
                ),
                _ => json_response(200, &order_json(78, "pending")),
            })
        });
        assert_eq!(
            submit_order(&order()).expect("submits").supplier_reference,
            "78"
        );
        assert_eq!(sent().len(), 4);
    }

    #[test]
    fn a_confirmation_refused_because_another_came_first_is_a_success() {
        setup();
        let mut reads = 0;
        testing::respond(move |r| {
            Ok(match r.method {
                Method::Get => {
                    reads += 1;
                    json_response(
                        200,
                        &order_json(77, if reads == 1 { "draft" } else { "pending" }),
                    )
                }
                _ => json_response(
                    409,
                    r#"{"code":409,"result":"Order with status pending cannot be confirmed","error":{"reason":"Conflict","message":"Order with status pending cannot be confirmed"}}"#,
                ),
            })
        });
        assert_eq!(
            submit_order(&order()).expect("submits").supplier_reference,
            "77"
        );
        assert_eq!(sent().len(), 3);

        // Still a draft: the refusal stands.
        setup();
        testing::respond(|r| {
            Ok(match r.method {
                Method::Get => json_response(200, &order_json(77, "draft")),
                _ => json_response(
                    400,
                    r#"{"code":400,"result":"Recipient: Invalid address: City is required","error":{"reason":"BadRequest","message":"Recipient: Invalid address: City is required"}}"#,
                ),
            })
        });
        assert!(matches!(
            submit_order(&order()),
            Err(OrderError::NeedsAttention(issues)) if issues[0].field == "shipping-address.city"
        ));
    }

    #[test]
    fn drafts_can_be_left_for_a_person_to_confirm() {
        setup();
        testing::set_setting("confirm-orders", "false");
        testing::respond(|r| {
            Ok(match r.method {
                Method::Get => not_found(),
                _ => json_response(200, &order_json(77, "draft")),
            })
        });
        let submission = submit_order(&order()).expect("submits");
        assert!(submission.message.unwrap_or_default().contains("draft"));
        assert_eq!(sent().len(), 2, "no confirmation");
    }

    #[test]
    fn failures_keep_their_meaning() {
        setup();
        testing::respond(|r| {
            Ok(match r.method {
                Method::Get => not_found(),
                _ => {
                    let mut limited = json_response(429, "{}");
                    limited.retry_after_seconds = Some(60);
                    limited
                }
            })
        });
        assert_eq!(
            submit_order(&order()),
            Err(OrderError::Transient(TransientFailure {
                message: "Printful is rate-limiting: {}".to_owned(),
                retry_after_seconds: Some(60)
            }))
        );
        setup();
        testing::respond(|_| Err(shopbridge_guest_sdk::http::Error::Timeout));
        assert!(matches!(
            submit_order(&order()),
            Err(OrderError::Transient(_))
        ));
        testing::reset();
        testing::set_setting("api-base-url", BASE);
        assert!(matches!(
            submit_order(&order()),
            Err(OrderError::Configuration(m)) if m.contains("api-key")
        ));
    }

    #[test]
    fn the_order_is_checked_before_any_request() {
        setup();
        let mut o = order();
        o.shipping_address.city = " ".to_owned();
        o.shipping_address.country_code = "USA".to_owned();
        o.lines.push(line("TS-XL", 1));
        o.lines.push(line("", 0));
        let Err(OrderError::NeedsAttention(issues)) = check_order(&o) else {
            panic!("expected needs-attention");
        };
        let found: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.field.as_str(), i.code.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("shipping-address.city", "missing"),
                ("shipping-address.country-code", "invalid"),
                ("lines[2].sku", "unknown-sku"),
                ("lines[3].quantity", "invalid"),
                ("lines[3].sku", "missing"),
            ]
        );
        assert!(matches!(
            submit_order(&o),
            Err(OrderError::NeedsAttention(_))
        ));
        assert!(testing::requests().is_empty());

        let mut us = order();
        us.shipping_address.country_code = "US".to_owned();
        let Err(OrderError::NeedsAttention(issues)) = check_order(&us) else {
            panic!("expected needs-attention");
        };
        assert_eq!(issues[0].field, "shipping-address.region");
        us.shipping_address.region = Some("ca".to_owned());
        assert_eq!(check_order(&us), Ok(()));
        let items = order_items(&us, &config()).expect("items");
        assert_eq!(
            order_body(&us, &config(), items)["recipient"]["state_code"],
            "CA"
        );
    }

    #[test]
    fn skus_map_by_prefix_and_mode() {
        setup();
        testing::set_setting("sku-prefix", "pf-");
        let mut o = order();
        o.lines = vec![line("pf-4011", 1), line("4012", 1)];
        let Err(OrderError::NeedsAttention(issues)) = order_items(&o, &config()) else {
            panic!("expected needs-attention");
        };
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, "lines[1].sku");
        assert!(issues[0].message.contains("'pf-'"), "{issues:?}");

        testing::set_setting("sku-mode", "catalog");
        assert!(matches!(
            Config::from_settings(),
            Err(OrderError::Configuration(m)) if m.contains("placements")
        ));
        testing::set_setting(
            "placements",
            r#"[{"placement": "front", "technique": "dtg", "layers": [{"type": "file", "url": "https://example.com/logo.png"}]}]"#,
        );
        o.lines = vec![line("pf-4011", 3)];
        let items = order_items(&o, &config()).expect("items");
        assert_eq!(items[0]["source"], "catalog");
        assert_eq!(items[0]["catalog_variant_id"], 4011);
        assert_eq!(items[0]["quantity"], 3);
        assert_eq!(items[0]["placements"][0]["technique"], "dtg");
        testing::set_setting("placements", "front");
        assert!(matches!(
            Config::from_settings(),
            Err(OrderError::Configuration(_))
        ));
        testing::set_setting("sku-mode", "warehouse");
        assert!(matches!(
            Config::from_settings(),
            Err(OrderError::Configuration(_))
        ));
    }

    #[test]
    fn mixed_currencies_send_no_retail_prices() {
        setup();
        let mut o = order();
        o.lines[1].unit_price.currency = "USD".to_owned();
        o.shipping_address.region = Some("Île-de-France".to_owned());
        let items = order_items(&o, &config()).expect("items");
        assert!(items.iter().all(|i| i.get("retail_price").is_none()));
        let body = order_body(&o, &config(), items);
        assert!(body.get("retail_costs").is_none());
        assert_eq!(body["recipient"]["state_name"], "Île-de-France");
    }

    #[test]
    fn cancellation_depends_on_where_the_order_is() {
        for (status, expected_delete) in [
            ("draft", Some(format!("Delete {BASE}/v2/orders/77"))),
            ("failed", Some(format!("Delete {BASE}/v2/orders/77"))),
            ("pending", Some(format!("Delete {BASE}/orders/77"))),
            ("canceled", None),
        ] {
            setup();
            let status_owned = status.to_owned();
            testing::respond(move |r| {
                Ok(match r.method {
                    Method::Get => json_response(200, &order_json(77, &status_owned)),
                    _ => json_response(
                        200,
                        r#"{"code":200,"result":{"id":77,"status":"canceled"}}"#,
                    ),
                })
            });
            assert_eq!(
                cancel_order("77", Some("changed their mind")),
                Ok(()),
                "{status}"
            );
            let sent = sent();
            assert_eq!(sent[0], format!("Get {BASE}/v2/orders/77"));
            assert_eq!(sent.get(1).cloned(), expected_delete, "{status}");
        }
        for status in ["inprocess", "onhold", "partial", "fulfilled"] {
            setup();
            let status_owned = status.to_owned();
            testing::respond(move |_| Ok(json_response(200, &order_json(77, &status_owned))));
            assert!(
                matches!(cancel_order("77", None), Err(OrderError::Rejected(m)) if m.contains("production")),
                "{status}"
            );
            assert_eq!(sent().len(), 1);
        }
        setup();
        testing::respond(|_| Ok(not_found()));
        assert!(matches!(
            cancel_order("77", None),
            Err(OrderError::Rejected(_))
        ));
        // Printful moved it into production between the two requests.
        setup();
        testing::respond(|r| {
            Ok(match r.method {
                Method::Get => json_response(200, &order_json(77, "pending")),
                _ => json_response(
                    409,
                    r#"{"code":409,"result":"Order is already in fulfillment","error":{"reason":"Conflict","message":"Order is already in fulfillment"}}"#,
                ),
            })
        });
        assert!(matches!(
            cancel_order("77", None),
            Err(OrderError::Rejected(m)) if m.contains("already in fulfillment")
        ));
    }
}

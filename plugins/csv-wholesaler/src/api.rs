//! Orders and status through the wholesaler's REST/JSON API, in BigBuy's
//! dialect (`/rest/…​.json` paths, `internalReference`, Symfony-style
//! validation errors, `ERxxx` codes, tracking by batch).
//!
//! This is the contract a fake supplier must honour; it is exact.
//!
//! # Requests
//!
//! `{base}` is the `api-base-url` setting without its trailing `/` (for
//! BigBuy, `https://api.bigbuy.eu`). Every request carries
//! `authorization: Bearer {api-key}` and `accept: application/json`; those
//! with a body also `content-type: application/json`. Order ids travel as
//! JSON strings; an answer may give them as strings or numbers.
//!
//! | call            | request                                                          |
//! |-----------------|------------------------------------------------------------------|
//! | `check-order`   | `POST {base}/rest/order/check.json` with an [order body]          |
//! | `submit-order`  | `POST {base}/rest/order/create.json` with an [order body]         |
//! | (after a 409)   | `GET {base}/rest/order/reference/{internalReference}.json`        |
//! | `cancel-order`  | `POST {base}/rest/order/{id}/cancel.json` with `{"reason": "…"}` (`{}` without a reason) |
//! | `poll-status`   | `POST {base}/rest/order/states.json` with `{"orders": [{"id": "…"}, …]}`, then, when some orders are `shipped` or `partially_shipped`, `POST {base}/rest/tracking/orders.json` with `{"track": {"orders": [{"id": "…"}, …]}}` for those |
//!
//! Path segments (`{internalReference}`, `{id}`) are percent-encoded. Status
//! polling sends at most 100 ids per request and never repeats an id.
//!
//! [order body]: #order-body
//!
//! ## Order body
//!
//! ```json
//! {"order": {
//!   "internalReference": "<order.idempotency-key>",
//!   "language": "fr",
//!   "paymentMethod": "moneybox",
//!   "carriers": [{"name": "colissimo"}],
//!   "shippingAddress": {
//!     "firstName": "Jeanne", "lastName": "Martin",
//!     "companyName": "Atelier M",
//!     "address": "12 rue des Lilas, Bâtiment B",
//!     "postcode": "75011", "town": "Paris", "country": "FR",
//!     "phone": "+33612345678", "email": "jeanne@example.com",
//!     "comment": "<order.note>"
//!   },
//!   "products": [{"reference": "<line.sku>", "quantity": 2}]
//! }}
//! ```
//!
//! - `language` and `paymentMethod` are the `language` (default `fr`) and
//!   `payment-method` (default `moneybox`) settings.
//! - `carriers` is present only when the `carrier` setting, or else the
//!   order's shipping method, names one.
//! - `address` is line 1, then `, ` and line 2 when there is one; `country`
//!   is upper-cased; `email` is the address's, else the order's customer
//!   email. `companyName`, `phone`, `email` and `comment` are left out when
//!   empty. Unit prices and the billing address are not sent.
//! - `products` keeps the order's lines in order: `products[i]` is `lines[i]`.
//!
//! Before any request, the connector checks the order itself and answers
//! `needs-attention` without calling the supplier when the shipping
//! address lacks `first-name`, `last-name`, `line1`, `postal-code`, `city`
//! or `country-code` (code `missing`), when the country code is not two
//! letters (`invalid`), when there is no line (`lines`, `missing`), or when
//! a line has no SKU (`lines[i].sku`, `missing`) or a quantity of 0
//! (`lines[i].quantity`, `invalid`). Indexes are 0-based.
//!
//! # Answers
//!
//! - **check**: any 2xx is `ok` (BigBuy answers the totals; they are not read).
//! - **create**: 201 (or 200) with the new order's id, in the body
//!   `{"id": "5012345"}` and/or in a `location: /rest/order/5012345` header
//!   (BigBuy's way: empty body; the last path segment is taken, a `.json`
//!   suffix dropped). The body may add `"total"` (VAT excluded, number or
//!   decimal string) and `"currency"` (else the `currency` setting, EUR):
//!   they become the submission's wholesale total. A 2xx with neither id
//!   nor location makes the connector look the order up by its internal
//!   reference, as after a 409.
//! - **create, 409 Conflict**: the order exists already (BigBuy's `ER008`),
//!   unless the body says otherwise: a code or products error of the
//!   [errors](#errors) table that gives `needs-attention`, `transient` or
//!   `configuration` is reported as such, without a lookup. The connector then gets
//!   `GET /rest/order/reference/{internalReference}.json`: a 200 with an
//!   [order object] gives the submission (its id, its `total`); a 404, or a
//!   200 with an empty body, `null` or `[]`, means it has no such order and
//!   the 409 is reported as `rejected`. This is what makes a retried
//!   submission idempotent.
//! - **cancel**: any 2xx is `ok` (cancelling a cancelled order should
//!   answer 200). 404 → `rejected` ("no such order"); 409 → `rejected`
//!   with the supplier's message (already shipped).
//! - **states**: 200 with a JSON array of [order object]s, one per id it
//!   knows; ids it does not know are left out (and so left out of the
//!   status updates).
//! - **tracking**: 200 with a JSON array
//!   `[{"id": "5012345", "parcels": [Parcel, …]}]`; an order without
//!   parcels may be left out. A 404 means "no tracking yet". A parcel:
//!
//!   ```json
//!   {"carrier": {"name": "Colissimo"}, "trackingNumber": "6A12345678901",
//!    "trackingUrl": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
//!    "statusDescription": "En cours d'acheminement", "statusDate": "2026-01-12T09:30:00+01:00",
//!    "products": [{"reference": "SKU-1", "quantity": 1}]}
//!   ```
//!
//!   `carrier` may also be a plain string; `trackingNumbers` (a list) may
//!   stand for `trackingNumber`; `trackingUrl` and `products` are optional
//!   (`products` lists the SKUs in a partial shipment). A parcel with
//!   neither carrier nor tracking number is ignored.
//!
//! [order object]: #order-object
//!
//! ## Order object
//!
//! ```json
//! {"id": "5012345", "internalReference": "k-7f3a", "status": "backordered",
//!  "dateUpd": "2026-01-10T08:00:00+01:00", "total": "48.20", "currency": "EUR",
//!  "expectedDate": "2026-02-01", "cancelReason": null,
//!  "invoiceUrl": "https://supplier.example/invoices/5012345.pdf", "message": null}
//! ```
//!
//! Only `id` and `status` are required. `status` (case, spaces, `-` and `_`
//! ignored) maps onto the order state:
//!
//! | `status`                                                   | state |
//! |------------------------------------------------------------|-------|
//! | `pending`, `accepted`, `received`, `new`, `confirmed`      | accepted |
//! | `processing`, `in_preparation`, `preparing`, `packed`      | processing |
//! | `backordered`, `backorder`, `waiting_stock`                | backordered, with `expectedDate` (ISO 8601 date) |
//! | `partially_shipped`, `partly_shipped`                      | partly shipped, with the tracking's parcels |
//! | `shipped`, `sent`, `in_transit`                            | shipped, with the tracking's parcels |
//! | `delivered`                                                | delivered |
//! | `cancelled`, `canceled`, `rejected`, `refunded`            | cancelled, with `cancelReason` |
//!
//! Any other status is reported as processing, with a message quoting it.
//! `dateUpd` becomes `changed-at` when it is RFC 3339 (a space instead of
//! the `T` is accepted; a date-time without a zone is dropped), `invoiceUrl`
//! the invoice, `message` the message.
//!
//! # Errors
//!
//! A body of `{"code": …, "message": "…"}` explains a non-2xx answer;
//! BigBuy nests JSON in the message, which is read too:
//! `{"code": "ER003", "message": "{\"info\":\"Stock error.\",\"data\":{\"skus\":[\"SKU-1\"]}}"}`.
//! A 2xx whose body is such an object, without an `id`, with a numeric
//! `code` from 400 to 599 or an `ERxxx` code (BigBuy sometimes answers 200
//! that way) is taken as that status (409 for `ERxxx`).
//!
//! | answer | order error |
//! |--------|-------------|
//! | 401, 403 | `configuration` (the API key is refused) |
//! | 429, 5xx | `transient`, `retry-after-seconds` from `Retry-After` / `X-Ratelimit-Reset` (the host reads them) |
//! | `ER009` (temporary order error), any status | `transient` |
//! | `ER001`/`ER002` with `data.skus` | `needs-attention`: `lines[i].sku` `unknown-sku` for each line with such a SKU |
//! | `ER003` with `data.skus` | `needs-attention`: `lines[i].quantity` `out-of-stock` |
//! | `ER004` (postcode format; `data.zipExample`) | `needs-attention`: `shipping-address.postal-code` `invalid` |
//! | `ER007` (order under the minimum; `data.minimunPurchase`) | `needs-attention`: `lines` `below-minimum` |
//! | `ER010` (no carrier) | `needs-attention`: `shipping-method` `invalid` |
//! | `ER011` (payment method refused) | `configuration` |
//! | a products error, `data: [{"sku": "…", "message": "…"}]` (BigBuy's 409 "Products error.") | `needs-attention`: `lines[i].sku`, `out-of-stock` when the message speaks of stock, else `unknown-sku` |
//! | 400 `{"code": 400, "message": "Validation Failed", "errors": {"children": {…}}}` | `needs-attention`, one issue per field with errors (below) |
//! | any other 4xx | `rejected`, quoting the body |
//!
//! The validation tree is Symfony's, as BigBuy sends it: each node is
//! `{"errors": ["…"]}` or `{"children": {…}}`, arrays of children for
//! lists; empty nodes are `[]`. E.g.
//! `{"children": {"shippingAddress": {"children": {"postcode": {"errors": ["Invalid postcode format."]}}}, "products": {"children": [{"children": {"reference": {"errors": ["Unknown product."]}}}]}}}`.
//! Paths map onto the order's fields: `shippingAddress.firstName` →
//! `shipping-address.first-name` (likewise `lastName`, `companyName` →
//! `company`, `address` → `line1`, `postcode` → `postal-code`, `town` →
//! `city`, `country` → `country-code`, `phone`, `email`),
//! `shippingAddress.comment` → `note`, `products[i].reference` →
//! `lines[i].sku`, `products[i].quantity` → `lines[i].quantity`, `carriers`
//! → `shipping-method`; other paths are kept as they are. The code is
//! `missing` when the message says the value is blank or required, else
//! `invalid`.

use serde_json::{Map, Value, json};
use shopbridge_guest_sdk::http::{Method, Request, Response};
use shopbridge_guest_sdk::money;
use shopbridge_guest_sdk::{
    FieldIssue, Money, Order, OrderError, OrderState, Shipment, StatusUpdate, Submission, log,
    settings,
};

use crate::values::{encode_path_segment, parse_scaled};

/// Ids per status or tracking request: a poll of 1,000 orders takes 20
/// requests, within the host's 32 per call, and each body stays small.
const STATUS_BATCH: usize = 100;

/// The API settings.
#[derive(Debug, Clone)]
struct Api {
    base: String,
    key: String,
    carrier: Option<String>,
    language: String,
    payment_method: String,
    currency: String,
}

impl Api {
    fn from_settings() -> Result<Api, OrderError> {
        let base = settings::require("api-base-url")?;
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(OrderError::Configuration(format!(
                "setting 'api-base-url': '{base}' is not an http(s) URL"
            )));
        }
        let optional = |name: &str| {
            settings::get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Ok(Api {
            base,
            key: settings::require("api-key")?.trim().to_owned(),
            carrier: optional("carrier"),
            language: optional("language").unwrap_or_else(|| "fr".to_owned()),
            payment_method: optional("payment-method").unwrap_or_else(|| "moneybox".to_owned()),
            currency: optional("currency")
                .map(|c| c.to_ascii_uppercase())
                .unwrap_or_else(|| "EUR".to_owned()),
        })
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, OrderError> {
        let mut request = Request::new(method, format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.key))
            .header("accept", "application/json");
        if let Some(body) = body {
            request = request.body("application/json", body.to_string());
        }
        let response = request.send()?;
        Ok(with_soft_error_status(response))
    }
}

/// BigBuy sometimes answers 200 with `{"code": 409, "message": …}` or
/// `{"code": "ER003", …}`: such an answer is taken with the status its body
/// states (409 for an `ERxxx` code, as BigBuy sends them).
fn with_soft_error_status(mut response: Response) -> Response {
    if response.is_success()
        && let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(&response.body)
        && body.contains_key("message")
        && !body.contains_key("id")
    {
        let status = match body.get("code") {
            Some(Value::Number(n)) => n.as_u64().and_then(|c| u16::try_from(c).ok()),
            Some(Value::String(s)) if s.starts_with("ER") => Some(409),
            _ => None,
        };
        if let Some(status) = status.filter(|s| (400..600).contains(s)) {
            response.status = status;
        }
    }
    response
}

/// `check-order`.
pub(crate) fn check_order(order: &Order) -> Result<(), OrderError> {
    validate(order)?;
    let api = Api::from_settings()?;
    let response = api.request(
        Method::Post,
        "/rest/order/check.json",
        Some(&order_body(order, &api)),
    )?;
    if response.is_success() {
        Ok(())
    } else {
        Err(order_error(&response, Some(order)))
    }
}

/// `submit-order`.
pub(crate) fn submit_order(order: &Order) -> Result<Submission, OrderError> {
    validate(order)?;
    let api = Api::from_settings()?;
    let response = api.request(
        Method::Post,
        "/rest/order/create.json",
        Some(&order_body(order, &api)),
    )?;
    if response.is_success() {
        let body = serde_json::from_slice::<Value>(&response.body).unwrap_or(Value::Null);
        let id = body
            .get("id")
            .and_then(id_text)
            .or_else(|| location_id(&response));
        if let Some(id) = id {
            return Ok(Submission {
                supplier_reference: id,
                wholesale_total: total(&body, &api.currency),
                message: None,
            });
        }
        log::warn(
            "the supplier accepted the order without an id; looking it up",
            &[("status", &response.status.to_string())],
        );
        return match lookup(&api, &order.idempotency_key)? {
            Some(found) => Ok(found),
            None => Err(OrderError::Transient(shopbridge_guest_sdk::TransientFailure {
                message: "the supplier accepted the order but gave no id, and has none under its internal reference yet".to_owned(),
                retry_after_seconds: None,
            })),
        };
    }
    if response.status == 409 {
        // Products errors, temporary errors (ER009) and refused payment
        // come as 409 too: only a plain conflict means "it exists already".
        let error = order_error(&response, Some(order));
        if !matches!(error, OrderError::Rejected(_)) {
            return Err(error);
        }
        return match lookup(&api, &order.idempotency_key)? {
            Some(mut found) => {
                found.message = Some(format!(
                    "the supplier already had this order (internal reference {})",
                    order.idempotency_key
                ));
                Ok(found)
            }
            None => Err(OrderError::Rejected(format!(
                "supplier answered 409 and has no order with internal reference {}: {}",
                order.idempotency_key,
                excerpt(&response)
            ))),
        };
    }
    Err(order_error(&response, Some(order)))
}

/// The order placed under `internal_reference`, if the supplier has one.
fn lookup(api: &Api, internal_reference: &str) -> Result<Option<Submission>, OrderError> {
    let path = format!(
        "/rest/order/reference/{}.json",
        encode_path_segment(internal_reference)
    );
    let response = api.request(Method::Get, &path, None)?;
    if response.status == 404 {
        return Ok(None);
    }
    if !response.is_success() {
        return Err(order_error(&response, None));
    }
    let body = serde_json::from_slice::<Value>(&response.body).unwrap_or(Value::Null);
    // Some APIs wrap the one match in a list.
    let order = match &body {
        Value::Array(items) => items.first().unwrap_or(&Value::Null),
        other => other,
    };
    Ok(order.get("id").and_then(id_text).map(|id| Submission {
        supplier_reference: id,
        wholesale_total: total(order, &api.currency),
        message: None,
    }))
}

/// `cancel-order`.
pub(crate) fn cancel_order(
    supplier_reference: &str,
    reason: Option<&str>,
) -> Result<(), OrderError> {
    let api = Api::from_settings()?;
    let body = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(reason) => json!({ "reason": reason }),
        None => json!({}),
    };
    let path = format!(
        "/rest/order/{}/cancel.json",
        encode_path_segment(supplier_reference)
    );
    let response = api.request(Method::Post, &path, Some(&body))?;
    match response.status {
        s if (200..300).contains(&s) => Ok(()),
        404 => Err(OrderError::Rejected(format!(
            "the supplier has no order {supplier_reference}"
        ))),
        409 => Err(OrderError::Rejected(format!(
            "the supplier cannot cancel order {supplier_reference}: {}",
            error_message(&response).unwrap_or_else(|| excerpt(&response))
        ))),
        _ => Err(order_error(&response, None)),
    }
}

/// `poll-status`.
pub(crate) fn poll_status(references: &[String]) -> Result<Vec<StatusUpdate>, OrderError> {
    let api = Api::from_settings()?;
    let mut unique: Vec<&str> = Vec::with_capacity(references.len());
    for r in references
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    let mut updates = Vec::with_capacity(unique.len());
    for batch in unique.chunks(STATUS_BATCH) {
        poll_batch(&api, batch, &mut updates)?;
    }
    Ok(updates)
}

fn poll_batch(api: &Api, ids: &[&str], updates: &mut Vec<StatusUpdate>) -> Result<(), OrderError> {
    let orders: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let response = api.request(
        Method::Post,
        "/rest/order/states.json",
        Some(&json!({ "orders": orders })),
    )?;
    if !response.is_success() {
        return Err(order_error(&response, None));
    }
    let states: Vec<Value> = match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Null) => Vec::new(),
        _ => {
            return Err(OrderError::Rejected(format!(
                "order states: the supplier's answer is not a JSON array: {}",
                excerpt(&response)
            )));
        }
    };
    let known: Vec<(String, &Value)> = states
        .iter()
        .filter_map(|s| Some((s.get("id").and_then(id_text)?, s)))
        .filter(|(id, _)| ids.contains(&id.as_str()))
        .collect();
    let shipped: Vec<&str> = known
        .iter()
        .filter(|(_, s)| {
            matches!(
                status_kind(s),
                StatusKind::PartlyShipped | StatusKind::Shipped
            )
        })
        .map(|(id, _)| id.as_str())
        .collect();
    let parcels = if shipped.is_empty() {
        Vec::new()
    } else {
        tracking(api, &shipped)?
    };
    for (id, state) in known {
        let shipments = || {
            parcels
                .iter()
                .filter(|(pid, _)| *pid == id)
                .map(|(_, s)| s.clone())
                .collect::<Vec<Shipment>>()
        };
        updates.push(status_update(&id, state, shipments));
    }
    Ok(())
}

/// The parcels of these orders, as `(order id, shipment)`.
fn tracking(api: &Api, ids: &[&str]) -> Result<Vec<(String, Shipment)>, OrderError> {
    let orders: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let body = json!({ "track": { "orders": orders } });
    let response = api.request(Method::Post, "/rest/tracking/orders.json", Some(&body))?;
    if response.status == 404 {
        return Ok(Vec::new());
    }
    if !response.is_success() {
        return Err(order_error(&response, None));
    }
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&response.body) else {
        return Ok(Vec::new());
    };
    let mut parcels = Vec::new();
    for item in &items {
        let Some(id) = item.get("id").and_then(id_text) else {
            continue;
        };
        for parcel in item
            .get("parcels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(shipment) = shipment(parcel) {
                parcels.push((id.clone(), shipment));
            }
        }
    }
    Ok(parcels)
}

fn shipment(parcel: &Value) -> Option<Shipment> {
    let carrier = match parcel.get("carrier") {
        Some(Value::String(name)) => Some(name.clone()),
        Some(object) => object
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        None => None,
    }
    .filter(|c| !c.trim().is_empty());
    let mut tracking_numbers: Vec<String> = Vec::new();
    if let Some(number) = parcel.get("trackingNumber").and_then(id_text) {
        tracking_numbers.push(number);
    }
    for number in parcel
        .get("trackingNumbers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(number) = id_text(number)
            && !tracking_numbers.contains(&number)
        {
            tracking_numbers.push(number);
        }
    }
    if carrier.is_none() && tracking_numbers.is_empty() {
        return None;
    }
    let skus = parcel
        .get("products")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.get("reference")
                .or_else(|| p.get("sku"))
                .and_then(id_text)
        })
        .collect();
    Some(Shipment {
        carrier,
        tracking_numbers,
        tracking_url: string(parcel, "trackingUrl"),
        skus,
    })
}

/// What an order object's `status` says, before the state is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusKind {
    Accepted,
    Processing,
    Backordered,
    PartlyShipped,
    Shipped,
    Delivered,
    Cancelled,
    Unknown,
}

fn status_kind(order: &Value) -> StatusKind {
    let status: String = order
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match status.as_str() {
        "pending" | "accepted" | "received" | "new" | "confirmed" => StatusKind::Accepted,
        "processing" | "inpreparation" | "preparing" | "packed" => StatusKind::Processing,
        "backordered" | "backorder" | "waitingstock" => StatusKind::Backordered,
        "partiallyshipped" | "partlyshipped" => StatusKind::PartlyShipped,
        "shipped" | "sent" | "intransit" => StatusKind::Shipped,
        "delivered" => StatusKind::Delivered,
        "cancelled" | "canceled" | "rejected" | "refunded" => StatusKind::Cancelled,
        _ => StatusKind::Unknown,
    }
}

fn status_update(
    id: &str,
    order: &Value,
    shipments: impl FnOnce() -> Vec<Shipment>,
) -> StatusUpdate {
    let mut message = string(order, "message");
    let state = match status_kind(order) {
        StatusKind::Accepted => OrderState::Accepted,
        StatusKind::Processing => OrderState::Processing,
        StatusKind::Backordered => OrderState::Backordered(
            string(order, "expectedDate").and_then(|d| crate::values::find_date(&d)),
        ),
        StatusKind::PartlyShipped => OrderState::PartlyShipped(shipments()),
        StatusKind::Shipped => OrderState::Shipped(shipments()),
        StatusKind::Delivered => OrderState::Delivered,
        StatusKind::Cancelled => OrderState::Cancelled(string(order, "cancelReason")),
        StatusKind::Unknown => {
            let status = order
                .get("status")
                .map(Value::to_string)
                .unwrap_or_default();
            log::warn(
                "unknown supplier order status",
                &[("order", id), ("status", &status)],
            );
            let note = format!("supplier status {status}");
            message = Some(match message {
                Some(m) => format!("{note}: {m}"),
                None => note,
            });
            OrderState::Processing
        }
    };
    StatusUpdate {
        supplier_reference: id.to_owned(),
        state,
        changed_at: string(order, "dateUpd").and_then(|d| rfc3339(&d)),
        invoice_url: string(order, "invoiceUrl"),
        message,
    }
}

/// `2026-01-10T08:00:00+01:00` or `2026-01-10 08:00:00Z` as RFC 3339; a
/// date-time without a zone gives `None`.
fn rfc3339(text: &str) -> Option<String> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let zoned = text.ends_with(['Z', 'z'])
        || (b.len() >= 25 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    (shape && zoned).then(|| format!("{}T{}", &text[..10], &text[11..]))
}

/// The supplier's answer as an order error (see the module's table).
fn order_error(response: &Response, order: Option<&Order>) -> OrderError {
    match response.status {
        401 | 403 => {
            return OrderError::Configuration(format!(
                "the supplier refused the API key ({}); check the 'api-key' setting",
                response.status
            ));
        }
        429 => return response.to_order_error(),
        s if s >= 500 => return response.to_order_error(),
        _ => {}
    }
    let body = ErrorBody::parse(&response.body);
    match body.code.as_deref() {
        Some("ER009") => {
            return OrderError::Transient(shopbridge_guest_sdk::TransientFailure {
                message: format!("supplier: {}", body.text()),
                retry_after_seconds: response.retry_after_seconds,
            });
        }
        Some("ER011") => {
            return OrderError::Configuration(format!(
                "the supplier refused the payment method (setting 'payment-method'): {}",
                body.text()
            ));
        }
        _ => {}
    }
    let issues = body.issues(order);
    if issues.is_empty() {
        response.to_order_error()
    } else {
        OrderError::NeedsAttention(issues)
    }
}

/// A supplier's error body, with BigBuy's JSON-in-the-message unwrapped.
#[derive(Debug, Default)]
struct ErrorBody {
    code: Option<String>,
    info: Option<String>,
    data: Value,
    errors: Value,
}

impl ErrorBody {
    fn parse(bytes: &[u8]) -> ErrorBody {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes) else {
            return ErrorBody::default();
        };
        let code = object.get("code").and_then(id_text);
        let message = object.get("message").and_then(Value::as_str);
        let nested = message.and_then(|m| match serde_json::from_str::<Value>(m) {
            Ok(Value::Object(inner)) => Some(inner),
            _ => None,
        });
        let (info, data) = match nested {
            Some(inner) => (
                inner.get("info").and_then(Value::as_str).map(str::to_owned),
                inner.get("data").cloned().unwrap_or(Value::Null),
            ),
            None => (
                message.map(str::to_owned),
                object.get("data").cloned().unwrap_or(Value::Null),
            ),
        };
        ErrorBody {
            code,
            info,
            data,
            errors: object.get("errors").cloned().unwrap_or(Value::Null),
        }
    }

    fn text(&self) -> String {
        self.info.clone().unwrap_or_else(|| "no message".to_owned())
    }

    /// The field issues the body names, for this order.
    fn issues(&self, order: Option<&Order>) -> Vec<FieldIssue> {
        let info = self.text();
        let mut issues = Vec::new();
        match self.code.as_deref() {
            Some("ER001" | "ER002") => {
                for sku in self.skus() {
                    sku_issues(
                        &mut issues,
                        order,
                        &sku,
                        "sku",
                        "unknown-sku",
                        &format!("{info} ({sku})"),
                    );
                }
            }
            Some("ER003") => {
                for sku in self.skus() {
                    sku_issues(
                        &mut issues,
                        order,
                        &sku,
                        "quantity",
                        "out-of-stock",
                        &format!("{info} ({sku})"),
                    );
                }
            }
            Some("ER004") => {
                let example = self.data.get("zipExample").and_then(Value::as_str);
                let message = match example {
                    Some(e) => format!("{info} (expected like {e})"),
                    None => info.clone(),
                };
                issues.push(FieldIssue::new(
                    "shipping-address.postal-code",
                    "invalid",
                    message,
                ));
            }
            Some("ER007") => issues.push(FieldIssue::new("lines", "below-minimum", info.clone())),
            Some("ER010") => {
                issues.push(FieldIssue::new("shipping-method", "invalid", info.clone()))
            }
            _ => {}
        }
        // BigBuy's "Products error.": data is [{"sku": "…", "message": "…"}].
        if let Value::Array(products) = &self.data {
            for product in products {
                let Some(sku) = product.get("sku").and_then(id_text) else {
                    continue;
                };
                let message = product
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or(&info);
                let (field, code) = if message.to_lowercase().contains("stock") {
                    ("quantity", "out-of-stock")
                } else {
                    ("sku", "unknown-sku")
                };
                sku_issues(
                    &mut issues,
                    order,
                    &sku,
                    field,
                    code,
                    &format!("{message} ({sku})"),
                );
            }
        }
        if let Some(children) = self.errors.get("children") {
            let mut found = Vec::new();
            flatten_validation(children, "", &mut found);
            for (path, message) in found {
                let lower = message.to_lowercase();
                let code = if lower.contains("blank")
                    || lower.contains("required")
                    || lower.contains("missing")
                {
                    "missing"
                } else {
                    "invalid"
                };
                issues.push(FieldIssue::new(order_field(&path), code, message));
            }
        }
        issues
    }

    /// `data.skus` (or `data` itself as a list of SKUs).
    fn skus(&self) -> Vec<String> {
        let list = match &self.data {
            Value::Object(map) => map.get("skus").and_then(Value::as_array),
            Value::Array(items) => Some(items),
            _ => None,
        };
        list.into_iter().flatten().filter_map(id_text).collect()
    }
}

/// One issue per order line with this SKU (or on `lines` when none has it).
fn sku_issues(
    issues: &mut Vec<FieldIssue>,
    order: Option<&Order>,
    sku: &str,
    field: &str,
    code: &str,
    message: &str,
) {
    let before = issues.len();
    if let Some(order) = order {
        for (i, line) in order.lines.iter().enumerate() {
            if line.sku.trim() == sku {
                issues.push(FieldIssue::new(
                    format!("lines[{i}].{field}"),
                    code,
                    message,
                ));
            }
        }
    }
    if issues.len() == before {
        issues.push(FieldIssue::new("lines", code, message));
    }
}

/// Flattens a Symfony validation tree into `(path, message)`:
/// `shippingAddress.postcode`, `products[0].reference`.
fn flatten_validation(node: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(errors) = map.get("errors").and_then(Value::as_array) {
                for e in errors.iter().filter_map(Value::as_str) {
                    out.push((path.to_owned(), e.to_owned()));
                }
            }
            if let Some(children) = map.get("children") {
                flatten_validation(children, path, out);
            }
            for (key, child) in map
                .iter()
                .filter(|(k, _)| *k != "errors" && *k != "children")
            {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten_validation(child, &child_path, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_validation(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// A supplier path (`shippingAddress.postcode`) as the order's field
/// (`shipping-address.postal-code`).
fn order_field(path: &str) -> String {
    let address = |field: &str| match field {
        "firstName" => Some("first-name"),
        "lastName" => Some("last-name"),
        "companyName" => Some("company"),
        "address" => Some("line1"),
        "postcode" => Some("postal-code"),
        "town" => Some("city"),
        "country" => Some("country-code"),
        "phone" => Some("phone"),
        "email" => Some("email"),
        _ => None,
    };
    if let Some(field) = path.strip_prefix("shippingAddress.") {
        if field == "comment" {
            return "note".to_owned();
        }
        if let Some(name) = address(field) {
            return format!("shipping-address.{name}");
        }
    }
    if let Some(rest) = path.strip_prefix("products") {
        let rest = rest.replace(".reference", ".sku");
        return format!("lines{rest}");
    }
    if path == "carriers" || path.starts_with("carriers[") || path.starts_with("carriers.") {
        return "shipping-method".to_owned();
    }
    if path.is_empty() {
        return "order".to_owned();
    }
    path.to_owned()
}

/// The problems the connector sees in an order before calling the supplier.
fn validate(order: &Order) -> Result<(), OrderError> {
    let mut issues = Vec::new();
    let address = &order.shipping_address;
    for (field, value) in [
        ("first-name", &address.first_name),
        ("last-name", &address.last_name),
        ("line1", &address.line1),
        ("postal-code", &address.postal_code),
        ("city", &address.city),
        ("country-code", &address.country_code),
    ] {
        if value.trim().is_empty() {
            issues.push(FieldIssue::new(
                format!("shipping-address.{field}"),
                "missing",
                format!("the shipping address has no {}", field.replace('-', " ")),
            ));
        }
    }
    let country = address.country_code.trim();
    let two_letters = country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic());
    if !country.is_empty() && !two_letters {
        issues.push(FieldIssue::new(
            "shipping-address.country-code",
            "invalid",
            format!("country code '{country}' is not two letters (ISO 3166-1, such as FR)"),
        ));
    }
    if order.lines.is_empty() {
        issues.push(FieldIssue::new("lines", "missing", "the order has no line"));
    }
    for (i, line) in order.lines.iter().enumerate() {
        if line.sku.trim().is_empty() {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "missing",
                "the line has no SKU",
            ));
        }
        if line.quantity == 0 {
            issues.push(FieldIssue::new(
                format!("lines[{i}].quantity"),
                "invalid",
                "the quantity must be at least 1",
            ));
        }
    }
    if order.idempotency_key.trim().is_empty() {
        issues.push(FieldIssue::new(
            "idempotency-key",
            "missing",
            "the order has no idempotency key",
        ));
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(OrderError::NeedsAttention(issues))
    }
}

/// The body of `check.json` and `create.json` (see the module's docs).
fn order_body(order: &Order, api: &Api) -> Value {
    let a = &order.shipping_address;
    let mut address = Map::new();
    let mut put = |key: &str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            address.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    };
    put("firstName", &a.first_name);
    put("lastName", &a.last_name);
    put("companyName", a.company.as_deref().unwrap_or_default());
    let line2 = a.line2.as_deref().map(str::trim).filter(|l| !l.is_empty());
    let street = match line2 {
        Some(line2) => format!("{}, {line2}", a.line1.trim()),
        None => a.line1.trim().to_owned(),
    };
    put("address", &street);
    put("postcode", &a.postal_code);
    put("town", &a.city);
    put("country", &a.country_code.trim().to_ascii_uppercase());
    put("phone", a.phone.as_deref().unwrap_or_default());
    put(
        "email",
        a.email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .or(order.customer_email.as_deref())
            .unwrap_or_default(),
    );
    put("comment", order.note.as_deref().unwrap_or_default());

    let products: Vec<Value> = order
        .lines
        .iter()
        .map(|l| json!({ "reference": l.sku.trim(), "quantity": l.quantity }))
        .collect();
    let mut body = Map::new();
    body.insert("internalReference".to_owned(), json!(order.idempotency_key));
    body.insert("language".to_owned(), json!(api.language));
    body.insert("paymentMethod".to_owned(), json!(api.payment_method));
    let carrier = api.carrier.as_deref().or_else(|| {
        order
            .shipping_method
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
    });
    if let Some(carrier) = carrier {
        body.insert("carriers".to_owned(), json!([{ "name": carrier }]));
    }
    body.insert("shippingAddress".to_owned(), Value::Object(address));
    body.insert("products".to_owned(), Value::Array(products));
    json!({ "order": body })
}

/// An id given as a string or a number.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn string(object: &Value, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The id at the end of a `location: /rest/order/5012345` header.
fn location_id(response: &Response) -> Option<String> {
    let location = response.header("location")?;
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    let id = last.strip_suffix(".json").unwrap_or(last);
    (!id.is_empty()).then(|| id.to_owned())
}

/// An order's `total` (and `currency`) as money.
fn total(order: &Value, default_currency: &str) -> Option<Money> {
    let currency = string(order, "currency")
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_else(|| default_currency.to_owned());
    let text = match order.get("total")? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    // JSON numbers always use a dot: read them as decimals, never as
    // thousands groups the way money::parse reads "1.299".
    let minor = parse_scaled(&text, money::minor_digits(&currency))?;
    Some(Money {
        amount_minor: i64::try_from(minor).ok()?,
        currency,
    })
}

/// The `message` (or nested `info`) of an error answer.
fn error_message(response: &Response) -> Option<String> {
    ErrorBody::parse(&response.body).info
}

/// The first 300 bytes of a body, for a person.
fn excerpt(response: &Response) -> String {
    let mut text = response.text();
    if text.len() > 300 {
        let mut cut = 300;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use shopbridge_guest_sdk::http::Error as HttpError;
    use shopbridge_guest_sdk::testing::{self, json_response};
    use shopbridge_guest_sdk::{Address, Connector, OrderLine, TransientFailure};

    use super::*;
    use crate::CsvWholesaler;

    const BASE: &str = "https://api.wholesaler.test";

    fn setup() {
        testing::reset();
        testing::set_setting("api-base-url", &format!("{BASE}/"));
        testing::set_setting("api-key", "k-secret");
    }

    fn order() -> Order {
        Order {
            reference: "XKBKNABJK".to_owned(),
            idempotency_key: "sb-42-7".to_owned(),
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
            lines: vec![line("TS-01-XL", 2), line("LIV-7", 1)],
            shipping_method: Some("Colissimo".to_owned()),
            note: None,
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

    /// The requests sent, as "METHOD url".
    fn sent() -> Vec<String> {
        testing::requests()
            .iter()
            .map(|r| {
                let method = match r.method {
                    Method::Get => "Get",
                    Method::Post => "Post",
                    _ => "Other",
                };
                format!("{method} {}", r.url)
            })
            .collect()
    }

    fn body_of(request: &Request) -> Value {
        serde_json::from_slice(request.body.as_deref().unwrap_or_default()).expect("JSON body")
    }

    fn issues(error: OrderError) -> Vec<(String, String)> {
        match error {
            OrderError::NeedsAttention(issues) => {
                issues.into_iter().map(|i| (i.field, i.code)).collect()
            }
            other => panic!("expected needs-attention, got {other:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn submit_sends_the_order_with_its_idempotency_key() {
        setup();
        testing::respond(|_| Ok(response(201, &[("location", "/rest/order/5012345")], "")));
        let submission = CsvWholesaler::submit_order(order()).expect("submitted");
        assert_eq!(submission.supplier_reference, "5012345");
        assert_eq!(submission.wholesale_total, None);

        let requests = testing::requests();
        assert_eq!(sent(), [format!("Post {BASE}/rest/order/create.json")]);
        let request = &requests[0];
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("authorization"), Some("Bearer k-secret"));
        assert_eq!(header("accept"), Some("application/json"));
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(
            body_of(request),
            json!({"order": {
                "internalReference": "sb-42-7",
                "language": "fr",
                "paymentMethod": "moneybox",
                "carriers": [{"name": "Colissimo"}],
                "shippingAddress": {
                    "firstName": "Jeanne",
                    "lastName": "Martin",
                    "address": "12 rue des Lilas, Bâtiment B",
                    "postcode": "75011",
                    "town": "Paris",
                    "country": "FR",
                    "phone": "+33612345678",
                    "email": "jeanne@example.com"
                },
                "products": [
                    {"reference": "TS-01-XL", "quantity": 2},
                    {"reference": "LIV-7", "quantity": 1}
                ]
            }})
        );
    }

    #[test]
    fn settings_shape_the_body_and_the_id_may_come_in_the_body() {
        setup();
        testing::set_setting("carrier", "chrono");
        testing::set_setting("language", "es");
        testing::set_setting("payment-method", "paypal");
        testing::respond(|_| Ok(json_response(201, r#"{"id": 777, "total": "1234.567"}"#)));
        let mut o = order();
        o.note = Some("Sonner deux fois".to_owned());
        o.shipping_address.company = Some("Atelier M".to_owned());
        let submission = CsvWholesaler::submit_order(o).expect("submitted");
        assert_eq!(submission.supplier_reference, "777");
        assert_eq!(
            submission.wholesale_total,
            Some(Money {
                amount_minor: 123_457,
                currency: "EUR".to_owned()
            })
        );
        let body = body_of(&testing::requests()[0]);
        assert_eq!(body["order"]["carriers"], json!([{"name": "chrono"}]));
        assert_eq!(body["order"]["language"], "es");
        assert_eq!(body["order"]["paymentMethod"], "paypal");
        assert_eq!(
            body["order"]["shippingAddress"]["comment"],
            "Sonner deux fois"
        );
        assert_eq!(body["order"]["shippingAddress"]["companyName"], "Atelier M");
    }

    #[test]
    fn a_409_fetches_the_existing_order_by_internal_reference() {
        setup();
        testing::respond(|req| {
            Ok(match req.url.as_str() {
                u if u.ends_with("/rest/order/create.json") => json_response(
                    409,
                    r#"{"code":"ER008","message":"{\"info\":\"Order already exists.\",\"data\":{\"orderId\":5012345}}"}"#,
                ),
                u if u.ends_with("/rest/order/reference/sb-42-7.json") => json_response(
                    200,
                    r#"{"id": 5012345, "internalReference": "sb-42-7", "status": "processing", "total": 48.2}"#,
                ),
                _ => json_response(404, "{}"),
            })
        });
        let submission = CsvWholesaler::submit_order(order()).expect("idempotent");
        assert_eq!(submission.supplier_reference, "5012345");
        assert_eq!(
            submission.wholesale_total.map(|m| m.amount_minor),
            Some(4820)
        );
        assert!(
            submission
                .message
                .is_some_and(|m| m.contains("already had"))
        );
        assert_eq!(
            sent(),
            [
                format!("Post {BASE}/rest/order/create.json"),
                format!("Get {BASE}/rest/order/reference/sb-42-7.json"),
            ]
        );
    }

    #[test]
    fn a_409_with_no_order_behind_it_is_rejected_and_the_reference_is_encoded() {
        setup();
        testing::respond(|req| {
            Ok(if req.url.ends_with("create.json") {
                json_response(409, r#"{"code":409,"message":"Conflict"}"#)
            } else {
                json_response(404, r#"{"code":404,"message":"Not found"}"#)
            })
        });
        let mut o = order();
        o.idempotency_key = "sb/42 7".to_owned();
        let err = CsvWholesaler::submit_order(o).expect_err("rejected");
        assert!(
            matches!(&err, OrderError::Rejected(m) if m.contains("409")),
            "{err:?}"
        );
        assert_eq!(
            sent()[1],
            format!("Get {BASE}/rest/order/reference/sb%2F42%207.json")
        );
    }

    #[test]
    fn a_soft_409_in_a_200_also_looks_the_order_up() {
        setup();
        testing::respond(|req| {
            Ok(if req.url.ends_with("create.json") {
                json_response(200, r#"{"code":409,"message":"Something went wrong"}"#)
            } else {
                json_response(200, r#"[{"id": "5012999"}]"#)
            })
        });
        let submission = CsvWholesaler::submit_order(order()).expect("found");
        assert_eq!(submission.supplier_reference, "5012999");
    }

    #[test]
    fn a_temporary_error_in_a_409_is_transient_without_a_lookup() {
        setup();
        testing::respond(|_| {
            Ok(json_response(
                409,
                r#"{"code":"ER009","message":"{\"info\":\"Temporary order error.\",\"data\":{}}"}"#,
            ))
        });
        assert!(matches!(
            CsvWholesaler::submit_order(order()),
            Err(OrderError::Transient(TransientFailure { message, .. })) if message.contains("Temporary order error")
        ));
        assert_eq!(testing::requests().len(), 1);
    }

    #[test]
    fn a_soft_error_code_in_a_200_is_an_error() {
        setup();
        testing::respond(|_| {
            Ok(json_response(
                200,
                r#"{"code":"ER003","message":"{\"info\":\"Stock error.\",\"data\":{\"skus\":[\"LIV-7\"]}}"}"#,
            ))
        });
        let err = CsvWholesaler::check_order(order()).expect_err("stock error");
        assert_eq!(issues(err), pairs(&[("lines[1].quantity", "out-of-stock")]));
    }

    #[test]
    fn unknown_skus_need_attention_without_a_lookup() {
        setup();
        testing::respond(|_| {
            Ok(json_response(
                409,
                r#"{"code":409,"message":"{\"info\":\"Products error.\",\"data\":[{\"sku\":\"LIV-7\",\"message\":\"Inactive product.\"},{\"sku\":\"TS-01-XL\",\"message\":\"Not enough stock.\"}]}"}"#,
            ))
        });
        let err = CsvWholesaler::submit_order(order()).expect_err("needs attention");
        assert_eq!(
            issues(err),
            pairs(&[
                ("lines[1].sku", "unknown-sku"),
                ("lines[0].quantity", "out-of-stock")
            ])
        );
        assert_eq!(testing::requests().len(), 1);

        testing::respond(|_| {
            Ok(json_response(
                409,
                r#"{"code":"ER001","message":"{\"info\":\"Product not found.\",\"data\":{\"skus\":[\"LIV-7\",\"GONE-1\"]}}"}"#,
            ))
        });
        let err = CsvWholesaler::submit_order(order()).expect_err("needs attention");
        assert_eq!(
            issues(err),
            pairs(&[("lines[1].sku", "unknown-sku"), ("lines", "unknown-sku")])
        );
    }

    #[test]
    fn the_order_is_checked_before_any_request() {
        setup();
        let mut o = order();
        o.shipping_address.postal_code = " ".to_owned();
        o.shipping_address.country_code = "FRA".to_owned();
        o.lines[1].quantity = 0;
        o.lines.push(line("", 1));
        let err = CsvWholesaler::submit_order(o.clone()).expect_err("needs attention");
        let expected = pairs(&[
            ("shipping-address.postal-code", "missing"),
            ("shipping-address.country-code", "invalid"),
            ("lines[1].quantity", "invalid"),
            ("lines[2].sku", "missing"),
        ]);
        assert_eq!(issues(err), expected);
        assert_eq!(
            issues(CsvWholesaler::check_order(o).expect_err("same")),
            expected
        );
        o = order();
        o.lines.clear();
        assert_eq!(
            issues(CsvWholesaler::submit_order(o).expect_err("no lines")),
            pairs(&[("lines", "missing")])
        );
        assert_eq!(testing::requests().len(), 0);
    }

    #[test]
    fn validation_errors_map_onto_order_fields() {
        setup();
        testing::respond(|_| {
            Ok(json_response(
                400,
                r#"{"code":400,"message":"Validation Failed","errors":{"errors":[],"children":{
                    "internalReference":[],
                    "shippingAddress":{"children":{"firstName":[],"postcode":{"errors":["Invalid postcode format. Valid format for the selected country is 'NNNNN'."]},
                        "phone":{"errors":["This value should not be blank."]}}},
                    "carriers":[],
                    "products":{"children":[{"children":{"reference":[],"quantity":[]}},{"children":{"reference":{"errors":["Unknown product."]}}}]}
                }}}"#,
            ))
        });
        let err = CsvWholesaler::check_order(order()).expect_err("invalid");
        assert_eq!(
            issues(err),
            pairs(&[
                ("lines[1].sku", "invalid"),
                ("shipping-address.phone", "missing"),
                ("shipping-address.postal-code", "invalid"),
            ])
        );
        assert_eq!(sent(), [format!("Post {BASE}/rest/order/check.json")]);
    }

    #[test]
    fn supplier_error_codes() {
        setup();
        let answer = |status: u16, body: &'static str| {
            testing::respond(move |_| Ok(json_response(status, body)));
            CsvWholesaler::check_order(order()).expect_err("an error")
        };
        assert_eq!(
            issues(answer(
                409,
                r#"{"code":"ER004","message":"{\"info\":\"Zipcode format error.\",\"data\":{\"zipExample\":\"NNNNN\"}}"}"#
            )),
            pairs(&[("shipping-address.postal-code", "invalid")])
        );
        assert_eq!(
            issues(answer(
                409,
                r#"{"code":"ER003","message":"{\"info\":\"Stock error.\",\"data\":{\"skus\":[\"TS-01-XL\"]}}"}"#
            )),
            pairs(&[("lines[0].quantity", "out-of-stock")])
        );
        assert_eq!(
            issues(answer(
                409,
                r#"{"code":"ER007","message":"{\"info\":\"Order too low.\",\"data\":{\"minimunPurchase\":50}}"}"#
            )),
            pairs(&[("lines", "below-minimum")])
        );
        assert_eq!(
            issues(answer(409, r#"{"code":"ER010","message":"No carrier."}"#)),
            pairs(&[("shipping-method", "invalid")])
        );
        assert!(matches!(
            answer(
                409,
                r#"{"code":"ER009","message":"Temporary order error."}"#
            ),
            OrderError::Transient(_)
        ));
        assert!(matches!(
            answer(409, r#"{"code":"ER011","message":"Invalid payment."}"#),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            answer(401, "Unauthorized"),
            OrderError::Configuration(_)
        ));
        assert!(matches!(
            answer(422, r#"{"code":422,"message":"Order refused"}"#),
            OrderError::Rejected(m) if m.contains("Order refused")
        ));
    }

    #[test]
    fn rate_limits_and_outages_are_transient() {
        setup();
        testing::respond(|_| {
            let mut r = response(
                429,
                &[("x-ratelimit-reset", "1767600030")],
                "You exceeded the rate limit",
            );
            r.retry_after_seconds = Some(30);
            Ok(r)
        });
        assert_eq!(
            CsvWholesaler::submit_order(order()),
            Err(OrderError::Transient(TransientFailure {
                message: "supplier answered 429".to_owned(),
                retry_after_seconds: Some(30),
            }))
        );
        testing::respond(|_| Ok(response(503, &[], "<html>Bad Gateway</html>")));
        assert!(matches!(
            CsvWholesaler::submit_order(order()),
            Err(OrderError::Transient(TransientFailure {
                retry_after_seconds: None,
                ..
            }))
        ));
        testing::respond(|_| Err(HttpError::Timeout));
        assert!(matches!(
            CsvWholesaler::poll_status(vec!["1".to_owned()]),
            Err(OrderError::Transient(_))
        ));
    }

    #[test]
    fn missing_settings_are_configuration_errors() {
        testing::reset();
        assert!(matches!(
            CsvWholesaler::submit_order(order()),
            Err(OrderError::Configuration(_))
        ));
        testing::set_setting("api-base-url", "ftp://nope");
        testing::set_setting("api-key", "k");
        assert!(matches!(
            CsvWholesaler::submit_order(order()),
            Err(OrderError::Configuration(_))
        ));
        testing::set_setting("api-base-url", BASE);
        testing::set_setting("api-key", " ");
        assert!(matches!(
            CsvWholesaler::cancel_order("1".to_owned(), None),
            Err(OrderError::Configuration(_))
        ));
    }

    #[test]
    fn cancel() {
        setup();
        testing::respond(|_| Ok(json_response(200, r#"{"status":"cancelled"}"#)));
        CsvWholesaler::cancel_order(
            "5012345".to_owned(),
            Some("client changed their mind".to_owned()),
        )
        .expect("cancelled");
        CsvWholesaler::cancel_order("5012346".to_owned(), None).expect("cancelled");
        let requests = testing::requests();
        assert_eq!(
            sent(),
            [
                format!("Post {BASE}/rest/order/5012345/cancel.json"),
                format!("Post {BASE}/rest/order/5012346/cancel.json"),
            ]
        );
        assert_eq!(
            body_of(&requests[0]),
            json!({"reason": "client changed their mind"})
        );
        assert_eq!(body_of(&requests[1]), json!({}));

        testing::respond(|_| {
            Ok(json_response(
                409,
                r#"{"code":409,"message":"Order already shipped"}"#,
            ))
        });
        assert!(matches!(
            CsvWholesaler::cancel_order("5012345".to_owned(), None),
            Err(OrderError::Rejected(m)) if m.contains("Order already shipped")
        ));
        testing::respond(|_| Ok(json_response(404, "")));
        assert!(matches!(
            CsvWholesaler::cancel_order("9".to_owned(), None),
            Err(OrderError::Rejected(_))
        ));
    }

    #[test]
    fn status_polling_maps_states_and_tracking() {
        setup();
        testing::respond(|req| {
            Ok(if req.url.ends_with("/rest/order/states.json") {
                json_response(
                    200,
                    r#"[
                    {"id": 1, "status": "pending", "dateUpd": "2026-01-10 08:00:00+01:00"},
                    {"id": "2", "status": "Processing", "dateUpd": "2026-01-10 08:00:00"},
                    {"id": "3", "status": "backordered", "expectedDate": "2026-02-01"},
                    {"id": "4", "status": "partially_shipped"},
                    {"id": "5", "status": "SHIPPED", "invoiceUrl": "https://s.test/inv/5.pdf"},
                    {"id": "6", "status": "delivered", "dateUpd": "2026-01-12T18:00:00Z"},
                    {"id": "7", "status": "cancelled", "cancelReason": "Out of stock for good"},
                    {"id": "8", "status": "lost_in_space", "message": "ask us"},
                    {"id": "99", "status": "shipped"}
                ]"#,
                )
            } else {
                json_response(
                    200,
                    r#"[
                    {"id": 4, "parcels": [{"carrier": {"id": 3, "name": "Colissimo"}, "trackingNumber": "6A1",
                        "trackingUrl": "https://t.test/6A1", "products": [{"reference": "TS-01-XL", "quantity": 1}]}]},
                    {"id": "5", "parcels": [{"carrier": "DHL", "trackingNumbers": ["J1", "J2"]}, {"statusDescription": "nothing"}]}
                ]"#,
                )
            })
        });
        let refs: Vec<String> = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "1"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let updates = CsvWholesaler::poll_status(refs).expect("polled");
        let requests = testing::requests();
        assert_eq!(
            sent(),
            [
                format!("Post {BASE}/rest/order/states.json"),
                format!("Post {BASE}/rest/tracking/orders.json"),
            ]
        );
        let ids: Vec<Value> = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]
            .iter()
            .map(|id| json!({ "id": id }))
            .collect();
        assert_eq!(body_of(&requests[0]), json!({ "orders": ids }));
        assert_eq!(
            body_of(&requests[1]),
            json!({"track": {"orders": [{"id": "4"}, {"id": "5"}]}})
        );

        let by_id = |id: &str| {
            updates
                .iter()
                .find(|u| u.supplier_reference == id)
                .expect("update")
        };
        assert_eq!(updates.len(), 8, "unknown 9 and unasked 99 left out");
        assert_eq!(by_id("1").state, OrderState::Accepted);
        assert_eq!(
            by_id("1").changed_at.as_deref(),
            Some("2026-01-10T08:00:00+01:00")
        );
        assert_eq!(by_id("2").state, OrderState::Processing);
        assert_eq!(by_id("2").changed_at, None, "no time zone");
        assert_eq!(
            by_id("3").state,
            OrderState::Backordered(Some("2026-02-01".to_owned()))
        );
        assert_eq!(
            by_id("4").state,
            OrderState::PartlyShipped(vec![Shipment {
                carrier: Some("Colissimo".to_owned()),
                tracking_numbers: vec!["6A1".to_owned()],
                tracking_url: Some("https://t.test/6A1".to_owned()),
                skus: vec!["TS-01-XL".to_owned()],
            }])
        );
        assert_eq!(
            by_id("5").state,
            OrderState::Shipped(vec![Shipment {
                carrier: Some("DHL".to_owned()),
                tracking_numbers: vec!["J1".to_owned(), "J2".to_owned()],
                tracking_url: None,
                skus: vec![],
            }])
        );
        assert_eq!(
            by_id("5").invoice_url.as_deref(),
            Some("https://s.test/inv/5.pdf")
        );
        assert_eq!(by_id("6").state, OrderState::Delivered);
        assert_eq!(
            by_id("6").changed_at.as_deref(),
            Some("2026-01-12T18:00:00Z")
        );
        assert_eq!(
            by_id("7").state,
            OrderState::Cancelled(Some("Out of stock for good".to_owned()))
        );
        assert_eq!(by_id("8").state, OrderState::Processing);
        assert_eq!(
            by_id("8").message.as_deref(),
            Some("supplier status \"lost_in_space\": ask us")
        );
    }

    #[test]
    fn status_polling_skips_tracking_when_nothing_shipped_and_batches() {
        setup();
        testing::respond(|req| {
            let body: Value =
                serde_json::from_slice(req.body.as_deref().unwrap_or_default()).unwrap_or_default();
            let states: Vec<Value> = body["orders"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| json!({"id": o["id"], "status": "processing"}))
                .collect();
            Ok(json_response(200, &Value::Array(states).to_string()))
        });
        let refs: Vec<String> = (0..250).map(|i| i.to_string()).collect();
        let updates = CsvWholesaler::poll_status(refs).expect("polled");
        assert_eq!(updates.len(), 250);
        assert_eq!(
            testing::requests().len(),
            3,
            "3 batches of at most 100, no tracking"
        );
        assert!(
            CsvWholesaler::poll_status(Vec::new())
                .expect("nothing")
                .is_empty()
        );
    }

    #[test]
    fn metadata() {
        let m = CsvWholesaler::metadata();
        assert_eq!(m.name, "csv-wholesaler");
        assert_eq!(m.version, "0.1.0");
        assert_eq!(m.hosts, ["*"]);
        assert_eq!(m.capabilities.len(), 3);
        let key = m
            .settings
            .iter()
            .find(|s| s.name == "api-key")
            .expect("api-key");
        assert!(key.secret);
        assert!(
            m.settings
                .iter()
                .filter(|s| s.name != "api-key")
                .all(|s| !s.secret)
        );
    }
}

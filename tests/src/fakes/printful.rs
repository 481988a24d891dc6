//! A Printful-like server speaking the v2 order API of Printful's OpenAPI
//! document (`../shared/fixtures/supplier-apis/printful-v2-openapi.json`),
//! as far as the `printful` plugin uses it, with its shapes: answers in a
//! `{"data": …}` envelope, 4xx errors as `{"code", "result", "error":
//! {"reason", "message"}}`, 5xx errors as problem details, rate-limit
//! headers on every answer.
//!
//! - `POST /v2/orders` creates a `draft` (items optional, as the document
//!   allows), after validating the recipient and the items the way
//!   Printful words it (`Recipient: ZIP/Postal code is required`, `Item 1:
//!   Sync variant 3001999 not found`); an external id already taken is a
//!   400.
//! - `GET /v2/orders/{order_id}`, where `{order_id}` is the id or `@` and
//!   the external id; costs are `calculating` until the confirmation.
//! - `POST /v2/orders/{order_id}/confirmation`: a draft (or failed order)
//!   with items becomes `pending`, with its costs.
//! - `DELETE /v2/orders/{order_id}` deletes a draft, failed or cancelled
//!   order (204), refuses others (409); `DELETE /orders/{order_id}` (API
//!   v1, which the document's beta notes point to for cancelling) cancels
//!   a draft or pending order and refuses one in production (409).
//! - `GET /v2/orders/{order_id}/shipments` (paged by `limit`/`offset`) and
//!   `GET /v2/orders/{order_id}/invoices` (a base64 document, once
//!   confirmed).
//!
//! Every request needs `authorization: Bearer <token>`; with
//! [`FakePrintful::require_store`], `x-pf-store-id` too (an account-level
//! token). Tests script failures for the next request to an endpoint
//! ([`FakePrintful::fail_next`]: 429 with `Retry-After`, 503, or a request
//! carried out whose answer is a 500), move orders along (`set_status`,
//! `ship`, `deliver`, `hold_out_of_stock`) and ask what happened: orders
//! per external id, creations, confirmations, every request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};

use crate::LoopbackServer;

/// The sync variants of the fake's store: (sync variant id, its catalog
/// variant, name, what Printful charges in EUR cents).
pub const SYNC_VARIANTS: [(u64, u64, &str, i64); 3] = [
    (3_001_001, 4011, "Logo T-shirt (Black / M)", 1295),
    (3_001_002, 4012, "Logo T-shirt (Black / L)", 1295),
    (3_001_003, 1320, "Logo poster 18×24", 1450),
];

/// The catalog variants the fake knows: (id, name, price in EUR cents).
pub const CATALOG_VARIANTS: [(u64, &str, i64); 2] = [
    (4011, "Bella + Canvas 3001 (Black / M)", 995),
    (4012, "Bella + Canvas 3001 (Black / L)", 995),
];

/// Printful's flat shipping rate in the fake, EUR cents.
pub const SHIPPING_CENTS: i64 = 479;

/// An endpoint, for scripted failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v2/orders`.
    CreateOrder,
    /// `GET /v2/orders/{order_id}`.
    GetOrder,
    /// `POST /v2/orders/{order_id}/confirmation`.
    Confirm,
    /// `DELETE /v2/orders/{order_id}`.
    DeleteOrder,
    /// `DELETE /orders/{order_id}` (v1).
    CancelOrder,
    /// `GET /v2/orders/{order_id}/shipments`.
    Shipments,
    /// `GET /v2/orders/{order_id}/invoices`.
    Invoice,
    /// Any request.
    Any,
}

/// A scripted failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 with `Retry-After: <seconds>`.
    RateLimited {
        /// Seconds to wait.
        retry_after: u32,
    },
    /// 503, as problem details.
    Unavailable,
    /// The request is carried out, but the answer is a 500: the client
    /// cannot know it worked (a crash between two steps, from its side).
    CarriedOutThenFails,
}

/// An order as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOrder {
    /// Printful's id.
    pub id: u64,
    /// The external id (the plugin's idempotency key).
    pub external_id: Option<String>,
    /// `draft`, `pending`, `failed`, `canceled`, `onhold`, `inprocess`,
    /// `partial`, `fulfilled`.
    pub status: String,
    /// The shipping method.
    pub shipping: String,
    /// The recipient as received.
    pub recipient: Value,
    /// The items, in the order received.
    pub items: Vec<FakeItem>,
    /// `customization` as received.
    pub customization: Value,
    /// `retail_costs` as received.
    pub retail_costs: Value,
    /// Shipments, as the API returns them.
    pub shipments: Vec<Value>,
    /// Whether costs have been calculated (after the confirmation).
    pub costs_done: bool,
    /// `created_at`.
    pub created_at: String,
    /// `updated_at`.
    pub updated_at: String,
}

/// An order item as the fake holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeItem {
    /// Printful's item id.
    pub id: u64,
    /// The item as received.
    pub received: Value,
    /// Its catalog variant (a sync variant's own).
    pub catalog_variant_id: u64,
    /// Its name: the one received, else the variant's.
    pub name: String,
    /// What Printful charges for one, in EUR cents.
    pub price_cents: i64,
}

#[derive(Default)]
struct Inner {
    token: String,
    store_id: Option<String>,
    next_order: u64,
    next_item: u64,
    next_shipment: u64,
    clock: u64,
    orders: BTreeMap<u64, FakeOrder>,
    failures: Vec<(Endpoint, Failure)>,
    requests: Vec<String>,
    creations: u32,
    confirmations: u32,
}

impl Inner {
    fn now(&mut self) -> String {
        self.clock += 1;
        let t = self.clock;
        format!(
            "2026-11-25T{:02}:{:02}:{:02}Z",
            10 + t / 3600,
            (t / 60) % 60,
            t % 60
        )
    }

    fn find(&self, order_id: &str) -> Option<u64> {
        match order_id.strip_prefix('@') {
            Some(external) => self
                .orders
                .values()
                .find(|o| o.external_id.as_deref() == Some(external))
                .map(|o| o.id),
            None => order_id
                .parse()
                .ok()
                .filter(|id| self.orders.contains_key(id)),
        }
    }

    fn take_failure(&mut self, endpoint: Endpoint) -> Option<Failure> {
        let at = self
            .failures
            .iter()
            .position(|(e, _)| *e == endpoint || *e == Endpoint::Any)?;
        Some(self.failures.remove(at).1)
    }
}

/// The running fake.
pub struct FakePrintful {
    server: LoopbackServer,
    state: Arc<Mutex<Inner>>,
}

fn lock(state: &Arc<Mutex<Inner>>) -> MutexGuard<'_, Inner> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakePrintful {
    /// Starts the fake on a loopback port; requests must carry `token`.
    pub fn start(token: &str) -> FakePrintful {
        let state = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            next_order: 120_000_001,
            next_item: 90_001,
            next_shipment: 7_001,
            ..Inner::default()
        }));
        let router = Router::new()
            .route("/v2/orders", post(create))
            .route("/v2/orders/{order_id}", get(read).delete(delete_order))
            .route("/v2/orders/{order_id}/confirmation", post(confirm))
            .route("/v2/orders/{order_id}/shipments", get(shipments))
            .route("/v2/orders/{order_id}/invoices", get(invoice))
            .route("/orders/{order_id}", delete(cancel_v1))
            .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
            .with_state(state.clone());
        FakePrintful {
            server: LoopbackServer::start(router),
            state,
        }
    }

    /// The `api-base-url` setting for this fake.
    pub fn base_url(&self) -> String {
        self.server.url("")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.state)
    }

    /// From now on, requests must name this store in `x-pf-store-id`, as
    /// with an account-level token.
    pub fn require_store(&self, store_id: &str) {
        self.lock().store_id = Some(store_id.to_owned());
    }

    /// Makes the next request to `endpoint` fail (failures for one endpoint
    /// are used in the order given).
    pub fn fail_next(&self, endpoint: Endpoint, failure: Failure) {
        self.lock().failures.push((endpoint, failure));
    }

    /// Every order, by id.
    pub fn orders(&self) -> Vec<FakeOrder> {
        self.lock().orders.values().cloned().collect()
    }

    /// One order.
    pub fn order(&self, id: &str) -> Option<FakeOrder> {
        let inner = self.lock();
        inner.find(id).and_then(|id| inner.orders.get(&id).cloned())
    }

    /// How many orders carry this external id.
    pub fn orders_with_external_id(&self, external_id: &str) -> usize {
        self.lock()
            .orders
            .values()
            .filter(|o| o.external_id.as_deref() == Some(external_id))
            .count()
    }

    /// Orders created (`POST /v2/orders` answered 200).
    pub fn creations(&self) -> u32 {
        self.lock().creations
    }

    /// Confirmations carried out.
    pub fn confirmations(&self) -> u32 {
        self.lock().confirmations
    }

    /// Every request received, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// Sets an order's status.
    pub fn set_status(&self, id: &str, status: &str) {
        let mut inner = self.lock();
        let now = inner.now();
        if let Some(order) = inner.find(id).and_then(|id| inner.orders.get_mut(&id)) {
            order.status = status.to_owned();
            order.updated_at = now;
        }
    }

    /// Ships items of an order in one parcel: those at `items` (indexes in
    /// the order), or every item not shipped yet. The order becomes
    /// `partial` or, once every item has left, `fulfilled`.
    pub fn ship(&self, id: &str, carrier: &str, tracking_number: &str, items: Option<&[usize]>) {
        let mut inner = self.lock();
        let now = inner.now();
        let shipment_id = inner.next_shipment;
        inner.next_shipment += 1;
        let Some(order) = inner.find(id).and_then(|id| inner.orders.get_mut(&id)) else {
            return;
        };
        let shipped: Vec<u64> = order
            .shipments
            .iter()
            .flat_map(|s| s["shipment_items"].as_array().cloned().unwrap_or_default())
            .filter_map(|i| i["order_item_id"].as_u64())
            .collect();
        let chosen: Vec<&FakeItem> = order
            .items
            .iter()
            .enumerate()
            .filter(|(i, item)| match items {
                Some(wanted) => wanted.contains(i),
                None => !shipped.contains(&item.id),
            })
            .map(|(_, item)| item)
            .collect();
        let shipment_items: Vec<Value> = chosen
            .iter()
            .map(|item| {
                json!({
                    "id": item.id + 500_000,
                    "order_item_id": item.id,
                    "order_item_external_id": item.received["external_id"],
                    "order_item_name": item.name,
                    "quantity": item.received["quantity"],
                })
            })
            .collect();
        order.shipments.push(json!({
            "id": shipment_id,
            "order_id": order.id,
            "order_external_id": order.external_id,
            "carrier": carrier,
            "service": format!("{carrier} Standard"),
            "shipment_status": "shipped",
            "shipped_at": now,
            "delivery_status": "in_transit",
            "delivered_at": null,
            "departure_address": {"country_name": "Latvia", "country_code": "LV"},
            "is_reshipment": false,
            "tracking_url": format!("https://www.printful.com/tracking/{tracking_number}"),
            "tracking_number": tracking_number,
            "tracking_events": [{"triggered_at": now, "description": "Shipment picked up by carrier"}],
            "estimated_delivery": {"from_date": "2026-12-01", "to_date": "2026-12-04", "calculated_at": now},
            "shipment_items": shipment_items,
            "_links": {
                "self": {"href": format!("https://api.printful.com/v2/shipments/{shipment_id}")},
                "order": {"href": format!("https://api.printful.com/v2/orders/{}", order.id)}
            }
        }));
        let all_shipped = order.items.iter().all(|item| {
            order.shipments.iter().any(|s| {
                s["shipment_items"].as_array().is_some_and(|list| {
                    list.iter()
                        .any(|i| i["order_item_id"].as_u64() == Some(item.id))
                })
            })
        });
        order.status = if all_shipped { "fulfilled" } else { "partial" }.to_owned();
        order.updated_at = now;
    }

    /// Marks every shipment of an order delivered.
    pub fn deliver(&self, id: &str) {
        let mut inner = self.lock();
        let now = inner.now();
        if let Some(order) = inner.find(id).and_then(|id| inner.orders.get_mut(&id)) {
            for shipment in &mut order.shipments {
                shipment["delivery_status"] = json!("delivered");
                shipment["delivered_at"] = json!(now);
            }
            order.updated_at = now;
        }
    }

    /// Puts an order on hold with a shipment waiting for stock, expected
    /// from `from_date`.
    pub fn hold_out_of_stock(&self, id: &str, from_date: &str) {
        let mut inner = self.lock();
        let now = inner.now();
        let shipment_id = inner.next_shipment;
        inner.next_shipment += 1;
        if let Some(order) = inner.find(id).and_then(|id| inner.orders.get_mut(&id)) {
            order.status = "onhold".to_owned();
            order.updated_at = now.clone();
            order.shipments.push(json!({
                "id": shipment_id, "order_id": order.id, "carrier": null, "service": null,
                "shipment_status": "outstock", "shipped_at": null, "delivery_status": "unknown",
                "tracking_url": null, "tracking_events": [], "shipment_items": [],
                "estimated_delivery": {"from_date": from_date, "to_date": from_date, "calculated_at": now}
            }));
        }
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

/// A 4xx answer in the document's error shape.
fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "code": status.as_u16(),
            "result": message,
            "error": {"reason": reason, "message": message}
        })),
    )
        .into_response()
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "NotFound", "Not found")
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn conflict(message: &str) -> Response {
    error(StatusCode::CONFLICT, "Conflict", message)
}

/// A 5xx answer: problem details, as the document's `ServerError`.
fn problem(status: StatusCode, title: &str, details: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "type": "https://developers.printful.com/docs/v2-beta/#errors/internal-server-error",
            "status": status.as_u16(),
            "title": title,
            "details": details,
            "instance": "tag:api.printful.com,2026-11-25:errors/86657"
        })),
    )
        .into_response()
}

fn endpoint_of(method: &Method, path: &str) -> Endpoint {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["v2", "orders"]) => Endpoint::CreateOrder,
        ("GET", ["v2", "orders", _]) => Endpoint::GetOrder,
        ("DELETE", ["v2", "orders", _]) => Endpoint::DeleteOrder,
        ("POST", ["v2", "orders", _, "confirmation"]) => Endpoint::Confirm,
        ("GET", ["v2", "orders", _, "shipments"]) => Endpoint::Shipments,
        ("GET", ["v2", "orders", _, "invoices"]) => Endpoint::Invoice,
        ("DELETE", ["orders", _]) => Endpoint::CancelOrder,
        _ => Endpoint::Any,
    }
}

/// Records the request, checks the token and the store, plays scripted
/// failures, and adds the rate-limit headers to every answer.
async fn gate(State(state): Shared, request: Request, next: Next) -> Response {
    let endpoint = endpoint_of(request.method(), request.uri().path());
    let failure = {
        let mut inner = lock(&state);
        let line = format!(
            "{} {}",
            request.method(),
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/")
        );
        inner.requests.push(line);
        let authorization = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match authorization.and_then(|a| a.strip_prefix("Bearer ")) {
            None => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "BadRequest",
                    "Malformed Authorization header.",
                );
            }
            Some(token) if token != inner.token => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "The access token provided is invalid.",
                );
            }
            Some(_) => {}
        }
        if let Some(store) = &inner.store_id {
            let given = request
                .headers()
                .get("x-pf-store-id")
                .and_then(|v| v.to_str().ok());
            match given {
                None => {
                    return bad_request(
                        "This API endpoint requires store_id parameter (X-PF-Store-Id header) \
                         for an account-level token",
                    );
                }
                Some(given) if given != store => {
                    return error(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        "Store not found: check the X-PF-Store-Id header",
                    );
                }
                Some(_) => {}
            }
        }
        inner.take_failure(endpoint)
    };
    let mut response = match failure {
        Some(Failure::RateLimited { retry_after }) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too Many Requests",
            );
            let headers = response.headers_mut();
            headers.insert("retry-after", HeaderValue::from(retry_after));
            headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            if let Ok(reset) = HeaderValue::from_str(&format!("{retry_after}.0")) {
                headers.insert("x-ratelimit-reset", reset);
            }
            response
        }
        Some(Failure::Unavailable) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "The service is temporarily unavailable. Please try again later.",
        ),
        Some(Failure::CarriedOutThenFails) => {
            let _ = next.run(request).await;
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                "An error occurred and we have been notified. You can contact us for more information.",
            )
        }
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-policy", HeaderValue::from_static("120;w=60;"));
    headers.insert("x-ratelimit-limit", HeaderValue::from_static("120"));
    if !headers.contains_key("x-ratelimit-remaining") {
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("119"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("0.5"));
    }
    response
}

/// Countries the fake delivers to, and whether they need a state code.
const COUNTRIES: [(&str, bool); 12] = [
    ("FR", false),
    ("DE", false),
    ("ES", false),
    ("IT", false),
    ("BE", false),
    ("NL", false),
    ("GB", false),
    ("IE", false),
    ("JP", false),
    ("US", true),
    ("CA", true),
    ("AU", true),
];

/// What Printful says about a recipient, if it refuses it.
fn check_recipient(recipient: &Value) -> Option<String> {
    let field = |name: &str| {
        recipient[name]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if !recipient.is_object() {
        return Some("Recipient is required".to_owned());
    }
    if field("address1").is_none() {
        return Some("Recipient: Address is required".to_owned());
    }
    if field("city").is_none() {
        return Some("Recipient: City is required".to_owned());
    }
    let Some(country) = field("country_code") else {
        return Some("Recipient: Country code is required".to_owned());
    };
    let Some((_, needs_state)) = COUNTRIES.iter().find(|(c, _)| *c == country) else {
        return Some(format!("Recipient: Invalid country code ({country})"));
    };
    if *needs_state && field("state_code").is_none() {
        return Some(format!(
            "Recipient: State code is required for country {country}"
        ));
    }
    let zip = field("zip");
    match (country, zip) {
        ("IE", _) => {}
        (_, None) => return Some("Recipient: ZIP/Postal code is required".to_owned()),
        ("FR" | "DE" | "ES" | "IT", Some(zip))
            if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) =>
        {
            return Some(format!("Recipient: Invalid ZIP/Postal code for {country}"));
        }
        _ => {}
    }
    None
}

/// What Printful says about an item, if it refuses it; else its variant's
/// (catalog variant, name, price in cents).
fn check_item(index: usize, item: &Value) -> Result<(u64, String, i64), String> {
    let quantity = item["quantity"].as_u64().unwrap_or(0);
    let found = match item["source"].as_str() {
        Some("sync") => {
            let id = item["sync_variant_id"].as_u64();
            SYNC_VARIANTS
                .iter()
                .find(|(sync, ..)| Some(*sync) == id)
                .map(|(_, catalog, name, price)| (*catalog, (*name).to_owned(), *price))
                .ok_or_else(|| {
                    format!(
                        "Item {index}: Sync variant {} not found",
                        item["sync_variant_id"]
                    )
                })?
        }
        Some("catalog") => {
            let id = item["catalog_variant_id"].as_u64();
            let variant = CATALOG_VARIANTS
                .iter()
                .find(|(catalog, ..)| Some(*catalog) == id)
                .map(|(catalog, name, price)| (*catalog, (*name).to_owned(), *price))
                .ok_or_else(|| {
                    format!(
                        "Item {index}: Catalog variant {} not found",
                        item["catalog_variant_id"]
                    )
                })?;
            if item["placements"].as_array().is_none_or(Vec::is_empty) {
                return Err(format!(
                    "Item {index}: Placements are required for catalog items"
                ));
            }
            variant
        }
        _ => return Err(format!("Item {index}: Invalid item source")),
    };
    if quantity == 0 {
        return Err(format!("Item {index}: Quantity must be at least 1"));
    }
    Ok(found)
}

fn cents(amount: i64) -> String {
    format!("{}.{:02}", amount / 100, amount % 100)
}

/// An order in the document's `Order` schema.
fn order_json(order: &FakeOrder) -> Value {
    let href = |path: &str| json!({ "href": format!("https://api.printful.com/v2/orders/{}{path}", order.id) });
    let subtotal: i64 = order
        .items
        .iter()
        .map(|i| {
            i.price_cents * i64::try_from(i.received["quantity"].as_u64().unwrap_or(0)).unwrap_or(0)
        })
        .sum();
    let costs = if order.costs_done {
        json!({
            "calculation_status": "done", "currency": "EUR",
            "subtotal": cents(subtotal), "discount": "0.00", "shipping": cents(SHIPPING_CENTS),
            "digitization": "0.00", "additional_fee": "0.00", "fulfillment_fee": "0.00",
            "retail_delivery_fee": "0.00", "vat": "0.00", "tax": "0.00",
            "total": cents(subtotal + SHIPPING_CENTS)
        })
    } else {
        json!({
            "calculation_status": "calculating", "currency": null, "subtotal": null,
            "discount": null, "shipping": null, "digitization": null, "additional_fee": null,
            "fulfillment_fee": null, "retail_delivery_fee": null, "vat": null, "tax": null,
            "total": null
        })
    };
    let retail_currency = order.retail_costs["currency"].clone();
    let items: Vec<Value> = order
        .items
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "type": "order_item",
                // Sync items are reported with their catalog variant.
                "source": "catalog",
                "catalog_variant_id": i.catalog_variant_id,
                "external_id": i.received["external_id"],
                "quantity": i.received["quantity"],
                "name": i.name,
                "price": cents(i.price_cents),
                "retail_price": i.received["retail_price"],
                "currency": "EUR",
                "retail_currency": retail_currency,
                "_links": {"self": {"href": format!("https://api.printful.com/v2/orders/{}/order-items/{}", order.id, i.id)}}
            })
        })
        .collect();
    json!({
        "id": order.id,
        "external_id": order.external_id,
        "store_id": 10,
        "shipping": order.shipping,
        "status": order.status,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "recipient": order.recipient,
        "costs": costs,
        "retail_costs": {
            "calculation_status": if order.costs_done { "done" } else { "calculating" },
            "currency": retail_currency, "subtotal": null, "discount": "0.00",
            "shipping": "0.00", "vat": "0.00", "tax": "0.00", "total": null
        },
        "order_items": items,
        "customization": order.customization,
        "_links": {
            "self": href(""),
            "order_confirmation": href("/confirmation"),
            "order_invoices": href("/invoices"),
            "order_items": href("/order-items"),
            "shipments": href("/shipments")
        }
    })
}

fn data(order: &FakeOrder) -> Response {
    axum::Json(json!({ "data": order_json(order) })).into_response()
}

async fn create(State(state): Shared, body: axum::body::Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("Invalid JSON in request body");
    };
    if let Some(refusal) = check_recipient(&body["recipient"]) {
        return bad_request(&refusal);
    }
    let received = body["order_items"].as_array().cloned().unwrap_or_default();
    let mut items = Vec::with_capacity(received.len());
    let mut inner = lock(&state);
    for (index, item) in received.into_iter().enumerate() {
        match check_item(index, &item) {
            Ok((catalog_variant_id, name, price_cents)) => {
                let id = inner.next_item;
                inner.next_item += 1;
                items.push(FakeItem {
                    id,
                    name: item["name"].as_str().map_or(name, str::to_owned),
                    received: item,
                    catalog_variant_id,
                    price_cents,
                });
            }
            Err(refusal) => return bad_request(&refusal),
        }
    }
    let external_id = body["external_id"].as_str().map(str::to_owned);
    if let Some(external) = &external_id
        && inner
            .orders
            .values()
            .any(|o| o.external_id.as_deref() == Some(external))
    {
        return bad_request(&format!(
            "Order with external_id '{external}' already exists"
        ));
    }
    let id = inner.next_order;
    inner.next_order += 1;
    inner.creations += 1;
    let now = inner.now();
    let order = FakeOrder {
        id,
        external_id,
        status: "draft".to_owned(),
        shipping: body["shipping"].as_str().unwrap_or("STANDARD").to_owned(),
        recipient: body["recipient"].clone(),
        items,
        customization: body["customization"].clone(),
        retail_costs: body["retail_costs"].clone(),
        shipments: Vec::new(),
        costs_done: false,
        created_at: now.clone(),
        updated_at: now,
    };
    let response = data(&order);
    inner.orders.insert(id, order);
    response
}

async fn read(State(state): Shared, Path(order_id): Path<String>) -> Response {
    let inner = lock(&state);
    match inner.find(&order_id).and_then(|id| inner.orders.get(&id)) {
        Some(order) => data(order),
        None => not_found(),
    }
}

async fn confirm(State(state): Shared, Path(order_id): Path<String>) -> Response {
    let mut inner = lock(&state);
    let now = inner.now();
    let Some(id) = inner.find(&order_id) else {
        return not_found();
    };
    let Some(order) = inner.orders.get_mut(&id) else {
        return not_found();
    };
    if !matches!(order.status.as_str(), "draft" | "failed") {
        return conflict(&format!(
            "Order with status {} cannot be confirmed",
            order.status
        ));
    }
    if order.items.is_empty() {
        return bad_request("Order must have at least one item to be confirmed");
    }
    order.status = "pending".to_owned();
    order.costs_done = true;
    order.updated_at = now;
    let mut body = json!({ "data": order_json(order) });
    body["_links"] = json!({
        "self": {"href": format!("https://api.printful.com/v2/orders/{id}/confirmation")},
        "order": {"href": format!("https://api.printful.com/v2/orders/{id}")},
        "order_items": {"href": format!("https://api.printful.com/v2/orders/{id}/order-items")},
        "shipments": {"href": format!("https://api.printful.com/v2/orders/{id}/shipments")}
    });
    inner.confirmations += 1;
    axum::Json(body).into_response()
}

async fn delete_order(State(state): Shared, Path(order_id): Path<String>) -> Response {
    let mut inner = lock(&state);
    let Some(id) = inner.find(&order_id) else {
        return not_found();
    };
    let status = inner
        .orders
        .get(&id)
        .map(|o| o.status.clone())
        .unwrap_or_default();
    if !matches!(status.as_str(), "draft" | "failed" | "canceled") {
        return conflict(&format!("Order with status {status} cannot be deleted"));
    }
    inner.orders.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}

/// API v1's `DELETE /orders/{id}`: cancels, answering in v1's envelope.
async fn cancel_v1(State(state): Shared, Path(order_id): Path<String>) -> Response {
    let mut inner = lock(&state);
    let now = inner.now();
    let Some(id) = inner.find(&order_id) else {
        return not_found();
    };
    let Some(order) = inner.orders.get_mut(&id) else {
        return not_found();
    };
    match order.status.as_str() {
        "draft" | "pending" | "failed" | "canceled" => {
            order.status = "canceled".to_owned();
            order.updated_at = now;
            axum::Json(json!({
                "code": 200,
                "result": {"id": order.id, "external_id": order.external_id, "status": "canceled"}
            }))
            .into_response()
        }
        status => conflict(&format!(
            "Order with status {status} is already in fulfillment and cannot be canceled"
        )),
    }
}

async fn shipments(State(state): Shared, Path(order_id): Path<String>, uri: Uri) -> Response {
    let inner = lock(&state);
    let Some(order) = inner.find(&order_id).and_then(|id| inner.orders.get(&id)) else {
        return not_found();
    };
    let number = |key: &str, default: usize| {
        uri.query()
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let limit = number("limit", 20).clamp(1, 100);
    let offset = number("offset", 0);
    let page: Vec<Value> = order
        .shipments
        .iter()
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    let base = format!("https://api.printful.com/v2/orders/{}/shipments", order.id);
    axum::Json(json!({
        "data": page,
        "_links": {"self": {"href": format!("{base}?limit={limit}&offset={offset}")}},
        "paging": {"total": order.shipments.len(), "offset": offset, "limit": limit}
    }))
    .into_response()
}

async fn invoice(State(state): Shared, Path(order_id): Path<String>) -> Response {
    let inner = lock(&state);
    let Some(order) = inner.find(&order_id).and_then(|id| inner.orders.get(&id)) else {
        return not_found();
    };
    if order.status == "draft" {
        return not_found();
    }
    let document = format!("%PDF-1.4\n% invoice for Printful order {}\n", order.id);
    axum::Json(json!({
        "data": {
            "media_type": "application/pdf",
            "content": base64(document.as_bytes()),
            "_links": {
                "self": {"href": format!("https://api.printful.com/v2/orders/{}/invoices", order.id)},
                "order": {"href": format!("https://api.printful.com/v2/orders/{}", order.id)}
            }
        }
    }))
    .into_response()
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"%PDF-1.4"), "JVBERi0xLjQ=");
    }

    #[test]
    fn recipients_are_refused_in_printful_words() {
        let ok = json!({"name": "J", "address1": "1 rue", "city": "Paris", "country_code": "FR", "zip": "75011"});
        assert_eq!(check_recipient(&ok), None);
        let mut us = ok.clone();
        us["country_code"] = json!("US");
        assert_eq!(
            check_recipient(&us).as_deref(),
            Some("Recipient: State code is required for country US")
        );
        let mut short = ok.clone();
        short["zip"] = json!("7501");
        assert_eq!(
            check_recipient(&short).as_deref(),
            Some("Recipient: Invalid ZIP/Postal code for FR")
        );
        let mut ireland = ok;
        ireland["country_code"] = json!("IE");
        ireland["zip"] = Value::Null;
        assert_eq!(check_recipient(&ireland), None);
    }
}

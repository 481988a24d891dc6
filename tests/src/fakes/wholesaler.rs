//! A BigBuy-style wholesaler API, as `plugins/csv-wholesaler/src/api.rs`
//! documents it: order check and create with `internalReference` (a second
//! create with the same reference answers 409, as BigBuy's ER008), lookup by
//! reference, cancellation, order states and tracking by batch. Every
//! request needs `authorization: Bearer <key>`.
//!
//! Tests script outages (`fail_next`) and move orders along
//! (`ship`, `set_status`); the fake counts orders by internal reference, so
//! "ordered exactly once" is a question it can answer.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::LoopbackServer;

/// SKUs the fake does not sell: an order naming one gets ER001.
pub const UNKNOWN_SKU_PREFIX: &str = "UNKNOWN-";

/// A scripted failure for the next order creation.
#[derive(Debug, Clone)]
pub enum Outage {
    /// 429 with `X-Ratelimit-Reset: <seconds>`.
    RateLimited {
        /// Seconds until the limit resets.
        reset_seconds: u32,
    },
    /// 503 Service Unavailable.
    Unavailable,
}

/// One order the fake holds.
#[derive(Debug, Clone)]
pub struct FakeOrder {
    /// The supplier's id.
    pub id: String,
    /// The shop side's idempotency key.
    pub internal_reference: String,
    /// The order body as received.
    pub body: Value,
    /// BigBuy-style status string.
    pub status: String,
    /// Parcels, once shipped.
    pub parcels: Vec<Value>,
    /// Cancellation reason, once cancelled.
    pub cancel_reason: Option<String>,
}

#[derive(Default)]
struct Inner {
    api_key: String,
    next_id: u64,
    orders: BTreeMap<String, FakeOrder>,
    create_attempts: u32,
    outages: VecDeque<Outage>,
}

/// The running fake.
pub struct FakeWholesaler {
    server: LoopbackServer,
    state: Arc<Mutex<Inner>>,
}

impl FakeWholesaler {
    /// Starts the fake on a loopback port; requests must carry `api_key`.
    pub fn start(api_key: &str) -> FakeWholesaler {
        FakeWholesaler::start_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), api_key)
            .expect("binding a loopback port")
    }

    /// The same on a given address (the demo's supplier).
    pub fn start_on(addr: std::net::SocketAddr, api_key: &str) -> std::io::Result<FakeWholesaler> {
        let state = Arc::new(Mutex::new(Inner {
            api_key: api_key.to_owned(),
            next_id: 5_012_345,
            ..Inner::default()
        }));
        let router = Router::new()
            .route("/rest/order/check.json", post(check))
            .route("/rest/order/create.json", post(create))
            .route("/rest/order/reference/{reference}", get(by_reference))
            .route("/rest/order/{id}/cancel.json", post(cancel))
            .route("/rest/order/states.json", post(states))
            .route("/rest/tracking/orders.json", post(tracking))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                authorize,
            ))
            .with_state(state.clone());
        Ok(FakeWholesaler {
            server: LoopbackServer::start_on(addr, router)?,
            state,
        })
    }

    /// The `api-base-url` setting for this fake.
    pub fn base_url(&self) -> String {
        self.server.url("")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next order creations fail, in this order.
    pub fn fail_next(&self, outages: impl IntoIterator<Item = Outage>) {
        self.lock().outages.extend(outages);
    }

    /// Orders created, by internal reference.
    pub fn orders(&self) -> Vec<FakeOrder> {
        self.lock().orders.values().cloned().collect()
    }

    /// How many create requests arrived (successful or not).
    pub fn create_attempts(&self) -> u32 {
        self.lock().create_attempts
    }

    /// Sets an order's status.
    pub fn set_status(&self, id: &str, status: &str) {
        if let Some(order) = self.lock().orders.get_mut(id) {
            order.status = status.to_owned();
        }
    }

    /// Ships an order in one parcel.
    pub fn ship(&self, id: &str, carrier: &str, tracking_number: &str) {
        if let Some(order) = self.lock().orders.get_mut(id) {
            order.status = "shipped".to_owned();
            order.parcels.push(json!({
                "carrier": {"name": carrier},
                "trackingNumber": tracking_number,
                "trackingUrl": format!("https://tracking.example/{tracking_number}"),
                "statusDescription": "En cours d'acheminement",
            }));
        }
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn lock(state: &Arc<Mutex<Inner>>) -> MutexGuard<'_, Inner> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every route needs `authorization: Bearer <key>`, as BigBuy's do.
async fn authorize(
    State(state): Shared,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let expected = format!("Bearer {}", lock(&state).api_key);
    let given = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "401", "Bad credentials");
    }
    next.run(request).await
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message})),
    )
        .into_response()
}

/// Checks what BigBuy checks: known SKUs. Returns the error answer, if any.
fn validate(body: &Value) -> Option<Response> {
    let products = body["order"]["products"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unknown: Vec<String> = products
        .iter()
        .filter_map(|p| p["reference"].as_str())
        .filter(|sku| sku.starts_with(UNKNOWN_SKU_PREFIX))
        .map(str::to_owned)
        .collect();
    if !unknown.is_empty() {
        let message = json!({"info": "Products not found.", "data": {"skus": unknown}}).to_string();
        return Some(error(StatusCode::BAD_REQUEST, "ER001", &message));
    }
    None
}

async fn check(body: axum::Json<Value>) -> Response {
    validate(&body)
        .unwrap_or_else(|| axum::Json(json!({"totalWithoutTaxes": 10.0})).into_response())
}

async fn create(State(state): Shared, axum::Json(body): axum::Json<Value>) -> Response {
    let mut inner = lock(&state);
    inner.create_attempts += 1;
    if let Some(outage) = inner.outages.pop_front() {
        return match outage {
            Outage::RateLimited { reset_seconds } => (
                StatusCode::TOO_MANY_REQUESTS,
                [("x-ratelimit-reset", reset_seconds.to_string())],
                axum::Json(json!({"code": 429, "message": "Too many requests"})),
            )
                .into_response(),
            Outage::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        };
    }
    if let Some(refusal) = validate(&body) {
        return refusal;
    }
    let reference = body["order"]["internalReference"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if reference.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "400",
            "internalReference is required",
        );
    }
    if inner
        .orders
        .values()
        .any(|o| o.internal_reference == reference)
    {
        return error(
            StatusCode::CONFLICT,
            "ER008",
            "Order with this internal reference already exists",
        );
    }
    let id = inner.next_id.to_string();
    inner.next_id += 1;
    inner.orders.insert(
        id.clone(),
        FakeOrder {
            id: id.clone(),
            internal_reference: reference,
            body,
            status: "pending".to_owned(),
            parcels: Vec::new(),
            cancel_reason: None,
        },
    );
    (
        StatusCode::CREATED,
        [("location", format!("/rest/order/{id}"))],
        "",
    )
        .into_response()
}

fn order_object(order: &FakeOrder) -> Value {
    json!({
        "id": order.id,
        "internalReference": order.internal_reference,
        "status": order.status,
        "total": "31.98",
        "currency": "EUR",
        "cancelReason": order.cancel_reason,
    })
}

async fn by_reference(State(state): Shared, Path(reference): Path<String>) -> Response {
    let inner = lock(&state);
    let reference = reference.trim_end_matches(".json");
    match inner
        .orders
        .values()
        .find(|o| o.internal_reference == reference)
    {
        Some(order) => axum::Json(order_object(order)).into_response(),
        None => error(StatusCode::NOT_FOUND, "404", "Order not found"),
    }
}

async fn cancel(
    State(state): Shared,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut inner = lock(&state);
    match inner.orders.get_mut(&id) {
        None => error(StatusCode::NOT_FOUND, "404", "Order not found"),
        Some(order) if order.status == "shipped" => {
            error(StatusCode::CONFLICT, "409", "Order already shipped")
        }
        Some(order) => {
            order.status = "cancelled".to_owned();
            order.cancel_reason = body["reason"].as_str().map(str::to_owned);
            axum::Json(json!({})).into_response()
        }
    }
}

fn ids(body: &Value, pointer: &str) -> Vec<String> {
    body.pointer(pointer)
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|o| match &o["id"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn states(State(state): Shared, axum::Json(body): axum::Json<Value>) -> Response {
    let inner = lock(&state);
    let list: Vec<Value> = ids(&body, "/orders")
        .iter()
        .filter_map(|id| inner.orders.get(id))
        .map(order_object)
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

async fn tracking(State(state): Shared, axum::Json(body): axum::Json<Value>) -> Response {
    let inner = lock(&state);
    let list: Vec<Value> = ids(&body, "/track/orders")
        .iter()
        .filter_map(|id| inner.orders.get(id))
        .filter(|o| !o.parcels.is_empty())
        .map(|o| json!({"id": o.id, "parcels": o.parcels}))
        .collect();
    axum::Json(Value::Array(list)).into_response()
}

//! `/v1/shops/{shop}/…`: what a shop's module calls. Every request is
//! signed (see [`crate::signature`]) with the shop's key.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{AppState, Problem, json};
use crate::orders::{self, FieldError, Owners, PostedAddress, PostedLine, PostedOrder};
use crate::signature::{self, KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::store::{IntakeOutcome, Refusal};
use tracing::Instrument;

/// A request's body, or why it was refused (too large, unreadable).
pub(super) fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Problem> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "the body is larger than the server accepts",
            )
        } else {
            Problem::new(e.status(), "unreadable-body", e.body_text())
        }
    })
}

/// Checks the request's signature against the shop's secret.
/// Before a shop route reads its body: the key must be this shop's and the
/// timestamp within the window, so that a stranger holds neither a
/// connection nor a body buffer. The signature, which covers the body, is
/// verified by [`authenticate`] once the body is read.
pub(super) async fn precheck(
    axum::extract::State(state): axum::extract::State<AppState>,
    axum::extract::Path(params): axum::extract::Path<std::collections::HashMap<String, String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(signature::SignatureError::Missing(name))
    };
    let shop = params.get("shop").map(String::as_str).unwrap_or_default();
    let check = || -> Result<(), signature::SignatureError> {
        state
            .registry
            .shop_by_key(header(KEY_HEADER)?)
            .filter(|id| *id == shop)
            .ok_or(signature::SignatureError::UnknownKey)?;
        signature::fresh_timestamp(
            header(TIMESTAMP_HEADER)?,
            crate::store::now_ms() / 1000,
            state.replay_window.as_secs() as i64,
        )?;
        header(SIGNATURE_HEADER)?;
        Ok(())
    };
    if let Err(e) = check() {
        // Counted as the order hook counts its refusals.
        if request.method() == Method::POST && request.uri().path().ends_with("/orders") {
            state.metrics.order_received("unauthorized");
        }
        return Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", e.to_string())
            .into_response();
    }
    next.run(request).await
}

pub(super) fn authenticate(
    state: &AppState,
    shop: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Problem> {
    let unauthorized =
        |detail: String| Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(signature::SignatureError::Missing(name))
    };
    let check = || -> Result<(), signature::SignatureError> {
        let key = header(KEY_HEADER)?;
        let config = state
            .registry
            .shop_by_key(key)
            .filter(|id| *id == shop)
            .and_then(|id| state.registry.shop(id))
            .ok_or(signature::SignatureError::UnknownKey)?;
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        signature::verify(
            &config.secret,
            header(TIMESTAMP_HEADER)?,
            header(SIGNATURE_HEADER)?,
            signature::Signed {
                method: method.as_str(),
                path,
                body,
            },
            crate::store::now_ms() / 1000,
            state.replay_window.as_secs() as i64,
        )
    };
    check().map_err(|e| unauthorized(e.to_string()))
}

fn invalid(errors: Vec<FieldError>) -> Problem {
    let detail = match errors.as_slice() {
        [one] if one.field.is_empty() => one.message.clone(),
        [one] => format!("{}: {}", one.field, one.message),
        _ => format!("{} fields are invalid", errors.len()),
    };
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-order", detail).with_errors(errors)
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    orders::parse(body).map_err(|e| {
        if e.code == "malformed" {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                format!("the body is not JSON: {}", e.message),
            )
            .with_errors(vec![e])
        } else {
            invalid(vec![e])
        }
    })
}

fn refusal(refusal: Refusal, reference: &str) -> Problem {
    match refusal {
        Refusal::NotFound => Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-order",
            format!("no order '{reference}'"),
        ),
        Refusal::Conflict(why) => Problem::new(StatusCode::CONFLICT, "order-state", why),
    }
}

/// `POST /v1/shops/{shop}/orders`: the checkout hook.
pub(super) async fn post_order(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)
        .inspect_err(|_| state.metrics.order_received("unauthorized"))?;
    let order: PostedOrder =
        parse(&raw).inspect_err(|_| state.metrics.order_received("invalid"))?;
    let owners = owners(&state, &shop, &order).await?;
    let errors = order.validate(&owners);
    if !errors.is_empty() {
        state.metrics.order_received("invalid");
        return Err(invalid(errors));
    }
    let policy = state
        .registry
        .shop(&shop)
        .map(|s| s.dispatch)
        .unwrap_or_default();
    let reference = order.reference.clone();
    let new = order
        .into_new_order(&raw, &owners, policy)
        .map_err(|e| invalid(vec![e]))?;
    let stored = state
        .store
        .store_order(new)
        .instrument(tracing::info_span!("order", %shop, %reference))
        .await?;
    match stored {
        IntakeOutcome::Created(answer) => {
            state.metrics.order_received("created");
            tracing::info!(%shop, %reference, "order accepted");
            Ok(raw_json(StatusCode::ACCEPTED, answer.0, false))
        }
        IntakeOutcome::Replayed(answer) => {
            state.metrics.order_received("replayed");
            Ok(raw_json(StatusCode::ACCEPTED, answer.0, true))
        }
        IntakeOutcome::Conflict => {
            state.metrics.order_received("conflict");
            Err(Problem::new(
                StatusCode::CONFLICT,
                "reference-reused",
                format!("order '{reference}' was already received with another body"),
            ))
        }
    }
}

/// Who sells the order's SKUs: the shop's catalog, then the bindings.
async fn owners<'a>(
    state: &'a AppState,
    shop: &'a str,
    order: &PostedOrder,
) -> Result<Owners<'a>, Problem> {
    let skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    let catalog = state.store.catalog_owners(shop, &skus).await?;
    Ok(Owners::new(shop, &state.registry, catalog))
}

fn raw_json(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// `GET /v1/shops/{shop}/orders/{reference}`.
pub(super) async fn get_order(
    State(state): State<AppState>,
    Path((shop, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&state, &shop, &method, &uri, &headers, b"")?;
    order_view(&state, &shop, &reference).await
}

async fn order_view(state: &AppState, shop: &str, reference: &str) -> Result<Response, Problem> {
    let Some(record) = state.store.order(shop, reference).await? else {
        return Err(refusal(Refusal::NotFound, reference));
    };
    // Margin: retail paid minus wholesale owed, when every live supplier
    // order's cost is known in the order's currency.
    let live = record
        .supplier_orders
        .iter()
        .filter(|so| so.state != crate::store::SupplierOrderState::Cancelled);
    let mut wholesale = Some(0i64);
    for so in live {
        wholesale = match (wholesale, so.wholesale_total) {
            (Some(sum), Some(cost)) if so.wholesale_currency == record.currency => {
                sum.checked_add(cost)
            }
            _ => None,
        };
    }
    // Exact or unknown (beyond 64 bits), never saturated.
    let margin = wholesale.and_then(|w| record.retail_total.checked_sub(w));
    let mut body = serde_json::to_value(&record).map_err(Problem::internal)?;
    body["margin"] = json!({
        "currency": record.currency,
        "retail_total": record.retail_total,
        "wholesale_total": wholesale,
        "margin": margin,
        "complete": margin.is_some(),
    });
    Ok(json(StatusCode::OK, &body))
}

/// What a shop may fix on an order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrderFix {
    #[serde(default)]
    shipping_address: Option<PostedAddress>,
    #[serde(default)]
    billing_address: Option<PostedAddress>,
    #[serde(default)]
    customer_email: Option<String>,
    #[serde(default)]
    shipping_method: Option<String>,
    #[serde(default)]
    note: Option<String>,
    /// Replaces every line.
    #[serde(default)]
    lines: Option<Vec<PostedLine>>,
}

/// `PATCH /v1/shops/{shop}/orders/{reference}`: fix the address or the
/// lines of supplier orders that were not handed over, and queue them again.
pub(super) async fn patch_order(
    State(state): State<AppState>,
    Path((shop, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    let fix: OrderFix = parse(&raw)?;
    let Some(record) = state.store.order(&shop, &reference).await? else {
        return Err(refusal(Refusal::NotFound, &reference));
    };
    let mut order: PostedOrder = serde_json::from_value(record.order).map_err(Problem::internal)?;
    if let Some(a) = fix.shipping_address {
        order.shipping_address = a;
    }
    if let Some(a) = fix.billing_address {
        order.billing_address = Some(a);
    }
    if let Some(v) = fix.customer_email {
        order.customer_email = Some(v);
    }
    if let Some(v) = fix.shipping_method {
        order.shipping_method = Some(v);
    }
    if let Some(v) = fix.note {
        order.note = Some(v);
    }
    if let Some(lines) = fix.lines {
        order.lines = lines;
    }
    let owners = owners(&state, &shop, &order).await?;
    let errors = order.validate(&owners);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    order.paid = record.paid;
    let policy = state
        .registry
        .shop(&shop)
        .map(|s| s.dispatch)
        .unwrap_or_default();
    let split = order.split(&owners, policy);
    let payload = serde_json::to_string(&order).map_err(Problem::internal)?;
    // Validated: the total fits.
    let retail_total = order
        .retail_total()
        .ok_or_else(|| invalid(order.validate(&owners)))?;
    state
        .store
        .fix_order(&shop, &reference, &payload, retail_total, split)
        .await?
        .map_err(|r| refusal(r, &reference))?;
    order_view(&state, &shop, &reference).await
}

/// `POST …/orders/{reference}/payment`: the order is paid; held supplier
/// orders go out.
pub(super) async fn post_payment(
    State(state): State<AppState>,
    Path((shop, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    let released = state
        .store
        .mark_paid(&shop, &reference)
        .await?
        .map_err(|r| refusal(r, &reference))?;
    Ok(json(
        StatusCode::OK,
        &json!({ "reference": reference, "paid": true, "released": released }),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CancelRequest {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST …/orders/{reference}/cancel`.
pub(super) async fn post_cancel(
    State(state): State<AppState>,
    Path((shop, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    let request: CancelRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        CancelRequest::default()
    } else {
        parse(&raw)?
    };
    let webhook = state
        .registry
        .shop(&shop)
        .is_some_and(|s| s.callback_url.is_some());
    let results = state
        .store
        .request_cancel(&shop, &reference, request.reason.as_deref(), webhook)
        .await?
        .map_err(|r| refusal(r, &reference))?;
    let supplier_orders: Vec<_> = results
        .into_iter()
        .map(|(id, state)| json!({ "id": id, "state": state }))
        .collect();
    Ok(json(
        StatusCode::ACCEPTED,
        &json!({ "reference": reference, "supplier_orders": supplier_orders }),
    ))
}

/// `POST …/orders/{reference}/resubmit`: try again what needs attention,
/// was rejected or failed.
pub(super) async fn post_resubmit(
    State(state): State<AppState>,
    Path((shop, reference)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    let queued = state
        .store
        .resubmit(&shop, &reference)
        .await?
        .map_err(|r| refusal(r, &reference))?;
    Ok(json(
        StatusCode::ACCEPTED,
        &json!({ "reference": reference, "queued": queued }),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    #[serde(default)]
    since: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// `GET /v1/shops/{shop}/events?since=<cursor>&limit=<n>`.
pub(super) async fn get_events(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&state, &shop, &method, &uri, &headers, b"")?;
    let Query(query) =
        query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let limit = query.limit.clamp(1, 1000);
    let page = state.store.events_since(&shop, query.since, limit).await?;
    Ok(json(StatusCode::OK, &page))
}

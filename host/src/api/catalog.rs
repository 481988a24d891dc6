//! The catalog side of a shop's API: start, follow and cancel a sync of one
//! of its bindings, and read the catalog's changes by cursor.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::shops::{authenticate, body, parse};
use super::{AppState, Problem, json};

fn binding_of(state: &AppState, shop: &str, binding: &str) -> Result<(), Problem> {
    match state.registry.binding(binding) {
        Some(b) if b.config.shop == shop => Ok(()),
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-binding",
            format!("shop '{shop}' has no binding '{binding}'"),
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncRequest {
    /// `full` (default) or `prices`.
    #[serde(default)]
    kind: Option<String>,
}

/// `POST /v1/shops/{shop}/bindings/{binding}/syncs`: sync now.
pub(super) async fn post_sync(
    State(state): State<AppState>,
    Path((shop, binding)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    binding_of(&state, &shop, &binding)?;
    let request: SyncRequest = if raw.iter().all(u8::is_ascii_whitespace) {
        SyncRequest::default()
    } else {
        parse(&raw)?
    };
    let kind = request.kind.unwrap_or_else(|| "full".into());
    if kind != "full" && kind != "prices" {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-sync",
            "kind is full or prices",
        ));
    }
    match state.store.request_sync(&binding, &kind).await? {
        Ok(id) => Ok(json(
            StatusCode::ACCEPTED,
            &json!({ "id": id, "binding": binding, "kind": kind, "state": "queued" }),
        )),
        Err(running) => Err(Problem::new(
            StatusCode::CONFLICT,
            "sync-running",
            format!("sync {running} of '{binding}' is queued or running; one at a time"),
        )),
    }
}

/// `GET …/syncs/{id}`: a run, with its progress while it runs.
pub(super) async fn get_sync(
    State(state): State<AppState>,
    Path((shop, binding, id)): Path<(String, String, i64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&state, &shop, &method, &uri, &headers, b"")?;
    binding_of(&state, &shop, &binding)?;
    match state.store.sync_run_of(&binding, id).await? {
        Some(run) => Ok(json(StatusCode::OK, &run)),
        None => Err(unknown_sync(&binding, id)),
    }
}

fn unknown_sync(binding: &str, id: i64) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "unknown-sync",
        format!("no sync {id} of '{binding}'"),
    )
}

/// `POST …/syncs/{id}/cancel`.
pub(super) async fn post_cancel_sync(
    State(state): State<AppState>,
    Path((shop, binding, id)): Path<(String, String, i64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    binding_of(&state, &shop, &binding)?;
    // The run is named with its binding, which `binding_of` found to be
    // this shop's: another shop's run is not found, whatever its id.
    if let Some(now) = state.store.cancel_sync(&binding, id).await? {
        return Ok(json(
            StatusCode::ACCEPTED,
            &json!({ "id": id, "state": now }),
        ));
    }
    match state.store.sync_run_of(&binding, id).await? {
        Some(_) => Err(Problem::new(
            StatusCode::CONFLICT,
            "sync-not-running",
            format!("sync {id} is not queued or running"),
        )),
        None => Err(unknown_sync(&binding, id)),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ChangesQuery {
    #[serde(default)]
    since: i64,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    500
}

/// `GET /v1/shops/{shop}/catalog/changes?since=<cursor>&limit=N`.
pub(super) async fn get_changes(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&state, &shop, &method, &uri, &headers, b"")?;
    let Query(query) =
        query.map_err(|e| Problem::new(StatusCode::BAD_REQUEST, "invalid-query", e.body_text()))?;
    let page = state
        .store
        .catalog_changes(&shop, query.since, query.limit.clamp(1, 5000))
        .await?;
    Ok(json(StatusCode::OK, &page))
}

/// `GET /v1/shops/{shop}/catalog/products/{sku}`.
pub(super) async fn get_product(
    State(state): State<AppState>,
    Path((shop, sku)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    authenticate(&state, &shop, &method, &uri, &headers, b"")?;
    match state.store.catalog_product(&shop, &sku).await? {
        Some(product) => Ok(json(StatusCode::OK, &product)),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-product",
            format!("no product '{sku}' in the catalog"),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PreviewRequest {
    /// Supplier SKUs from the binding's catalog.
    skus: Vec<String>,
    /// Proposed pricing (else the binding's).
    #[serde(default)]
    pricing: Option<crate::catalog::rules::Pricing>,
    /// Proposed availability policy.
    #[serde(default)]
    availability: Option<crate::catalog::rules::AvailabilityPolicy>,
    /// Proposed category mapping.
    #[serde(default)]
    categories: Option<std::collections::BTreeMap<String, String>>,
}

/// `POST /v1/shops/{shop}/bindings/{binding}/catalog/preview`: what
/// proposed rules would make of a few products, beside what the current
/// rules make of them; nothing is saved.
pub(super) async fn post_preview(
    State(state): State<AppState>,
    Path((shop, binding)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    use crate::catalog::rules::Rules;
    use crate::runtime::bindings::shopbridge::connector::types::Product;

    let raw = body(raw)?;
    authenticate(&state, &shop, &method, &uri, &headers, &raw)?;
    binding_of(&state, &shop, &binding)?;
    let request: PreviewRequest = parse(&raw)?;
    if request.skus.len() > 100 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-preview",
            "at most 100 SKUs",
        ));
    }
    let catalog = state
        .registry
        .binding(&binding)
        .and_then(|b| b.config.catalog.clone())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::CONFLICT,
                "no-catalog",
                format!("binding '{binding}' has no catalog"),
            )
        })?;
    if let Some(pricing) = &request.pricing {
        pricing
            .check()
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-pricing", e))?;
    }
    let current = Rules {
        pricing: catalog.pricing.clone(),
        availability: catalog.availability,
        categories: catalog.categories.clone(),
    };
    let proposed = Rules {
        pricing: request.pricing.unwrap_or(catalog.pricing),
        availability: request.availability.unwrap_or(catalog.availability),
        categories: request.categories.unwrap_or(catalog.categories),
    };
    let skus: Vec<&str> = request.skus.iter().map(String::as_str).collect();
    let data = state.store.catalog_data(&binding, &skus).await?;
    let mut products = Vec::new();
    for sku in &request.skus {
        let Some(product) = data
            .get(sku)
            .and_then(|d| serde_json::from_str::<Product>(d).ok())
        else {
            products.push(json!({ "sku": sku, "error": "not in this binding's catalog" }));
            continue;
        };
        products.push(json!({
            "sku": sku,
            "wholesale_price": product.wholesale_price,
            "current": current.apply(&product),
            "proposed": proposed.apply(&product),
        }));
    }
    Ok(json(
        StatusCode::OK,
        &json!({ "binding": binding, "products": products }),
    ))
}

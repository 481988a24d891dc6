//! The HTTP API (axum): the shops' order hook and order endpoints, the
//! events feed, and the operators' health, readiness, metrics and OpenAPI
//! document. Handlers validate and authenticate, then hand over to
//! [`crate::store`]; they never call a plugin (the checkout never waits on a
//! supplier).
//!
//! Errors are RFC 9457 problem documents (`application/problem+json`) with
//! field-level `errors` where a field is at fault.

mod catalog;
mod ops;
mod plugins;
mod shops;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::orders::FieldError;
use crate::registry::Registry;
use crate::store::Store;

/// The OpenAPI document of this API, kept in the repository.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Shops, plugins, bindings.
    pub registry: Arc<Registry>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// How old a signed timestamp may be.
    pub replay_window: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Largest plugin component accepted by `POST /v1/plugins`.
    pub max_plugin_bytes: usize,
    /// Turns for plugin jobs (uploads, fixture runs, shadow runs).
    pub plugin_jobs: Arc<tokio::sync::Semaphore>,
    /// How long a plugin job waits for a turn.
    pub plugin_job_wait: Duration,
    /// False once shutdown has begun.
    pub ready: Arc<AtomicBool>,
}

/// The API's routes.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body_bytes;
    Router::new()
        // The upload reads its body itself, after authentication, up to
        // `max_plugin_bytes`.
        .route("/v1/plugins", get(plugins::get_plugins).post(plugins::post_plugin))
        .route("/v1/plugins/{name}/versions", get(plugins::get_versions))
        .route(
            "/v1/plugins/{name}/versions/{version}/activate",
            post(plugins::post_activate),
        )
        .route("/v1/plugins/{name}/rollback", post(plugins::post_rollback))
        .route(
            "/v1/plugins/{name}/versions/{version}/tests",
            post(plugins::post_tests),
        )
        .route(
            "/v1/plugins/{name}/versions/{version}/shadow",
            post(plugins::post_shadow),
        )
        .merge(shop_routes(state.clone()))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.yaml", get(ops::openapi))
        .fallback(ops::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<_>| {
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
                },
            ),
        )
        .with_state(state)
}

/// The shop routes: each checks the shop's key and timestamp before its
/// body is read (see `shops::precheck`).
fn shop_routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/shops/{shop}/orders", post(shops::post_order))
        .route(
            "/v1/shops/{shop}/orders/{reference}",
            get(shops::get_order).patch(shops::patch_order),
        )
        .route(
            "/v1/shops/{shop}/orders/{reference}/payment",
            post(shops::post_payment),
        )
        .route(
            "/v1/shops/{shop}/orders/{reference}/cancel",
            post(shops::post_cancel),
        )
        .route(
            "/v1/shops/{shop}/orders/{reference}/resubmit",
            post(shops::post_resubmit),
        )
        .route("/v1/shops/{shop}/events", get(shops::get_events))
        .route(
            "/v1/shops/{shop}/bindings/{binding}/syncs",
            post(catalog::post_sync),
        )
        .route(
            "/v1/shops/{shop}/bindings/{binding}/syncs/{id}",
            get(catalog::get_sync),
        )
        .route(
            "/v1/shops/{shop}/bindings/{binding}/syncs/{id}/cancel",
            post(catalog::post_cancel_sync),
        )
        .route(
            "/v1/shops/{shop}/bindings/{binding}/catalog/preview",
            post(catalog::post_preview),
        )
        .route(
            "/v1/shops/{shop}/catalog/changes",
            get(catalog::get_changes),
        )
        .route(
            "/v1/shops/{shop}/catalog/products/{sku}",
            get(catalog::get_product),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, shops::precheck))
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened, for a person.
    pub detail: String,
    /// The fields at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds after which to try again (`Retry-After`), when it helps.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem with a status, a slug and a detail.
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("https://shopbridge.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// The same with a `Retry-After` header.
    pub fn with_retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }

    /// The same with field errors.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    fn internal(e: impl std::fmt::Display) -> Problem {
        tracing::error!(error = %e, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; it is safe to retry",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Problem {
        Problem::internal(e)
    }
}

/// A JSON response with a status.
fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(e) => Problem::internal(e).into_response(),
    }
}

//! Operators' endpoints: liveness, readiness, metrics, the OpenAPI document.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AppState, OPENAPI_YAML, Problem, json};

/// `GET /healthz`: the process is up.
pub(super) async fn healthz() -> Response {
    json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the server is not shutting down.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::Relaxed) {
        return Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting-down",
            "the server is shutting down",
        )
        .into_response();
    }
    match state.store.ping().await {
        Ok(()) => json(
            StatusCode::OK,
            &json!({
                "status": "ready",
                "database": format!("{:?}", state.store.backend()).to_lowercase(),
                "bindings": state.registry.bindings().len(),
            }),
        ),
        Err(e) => {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "database", e.to_string()).into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    match state.store.queue_depth().await {
        Ok(depth) => state.metrics.set_jobs(&depth),
        Err(e) => tracing::warn!(error = %e, "reading the queue depth for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.yaml`.
pub(super) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML).into_response()
}

/// Any other path.
pub(super) async fn not_found(uri: Uri) -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        format!("no route for {}", uri.path()),
    )
    .into_response()
}

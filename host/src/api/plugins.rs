//! `/v1/plugins/…`: what operators and integrators call, with a bearer
//! token (`Authorization: Bearer <token>`, see [`crate::auth`]). Upload,
//! list, versions, activation and rollback (the work is in
//! [`crate::lifecycle`]), fixture tests ([`crate::fixtures`]) and shadow
//! runs ([`crate::shadow`]).
//!
//! Integrators see and upload only the plugins whose name they own;
//! activation and rollback change what shops run, so they are the
//! operators'. Every refusal is logged with who and why.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use super::{AppState, Problem, json};
use crate::auth::Principal;
use crate::fixtures::{self, FixtureSet, Mode};
use crate::lifecycle::{self, ActivateError, LoadError, UploadError, Uploaded};
use crate::registry::Loaded;
use crate::shadow;
use crate::signature::KEY_HEADER;
use crate::store::TAPES_KEPT;

/// Logs a refusal and turns it into its problem document.
fn refuse(uri: &Uri, who: Option<&str>, status: StatusCode, slug: &str, detail: String) -> Problem {
    tracing::warn!(path = %uri.path(), who = who.unwrap_or("(anonymous)"), status = status.as_u16(), reason = %detail, "plugin API request refused");
    Problem::new(status, slug, detail)
}

/// Waits for a turn to run a plugin job (an upload, a fixture run, a
/// shadow run: see `server.plugin_jobs`); `busy` (503, `Retry-After`) when
/// none comes within `server.plugin_job_wait`. The turn ends when the
/// permit is dropped.
async fn plugin_job_turn(
    state: &AppState,
    uri: &Uri,
    who: &Principal,
) -> Result<OwnedSemaphorePermit, Problem> {
    let wait = state.plugin_job_wait;
    match tokio::time::timeout(wait, state.plugin_jobs.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(refuse(
            uri,
            Some(&who.name),
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "the server is running as many plugin jobs (uploads, fixture runs, shadow runs) as it allows at once (server.plugin_jobs), and none ended within {} ms; try again shortly",
                wait.as_millis()
            ),
        )
        .with_retry_after(PLUGIN_JOB_RETRY_AFTER_SECS)),
    }
}

/// A stored version, loaded (from memory, the compiled cache, or compiled
/// now), for a fixture run or a shadow run; a 404 `unknown-version` (a
/// refusal, logged) or a 422 `plugin-failed` when it cannot be.
async fn resolve_version(
    state: &AppState,
    uri: &Uri,
    who: &Principal,
    name: &str,
    version: &str,
) -> Result<Arc<Loaded>, Problem> {
    lifecycle::resolve(&state.store, &state.registry, name, version)
        .await
        .map_err(|e| match e {
            LoadError::Missing { .. } => refuse(
                uri,
                Some(&who.name),
                StatusCode::NOT_FOUND,
                "unknown-version",
                e.to_string(),
            ),
            LoadError::Store(_) | LoadError::Compile(_) => Problem::internal(e),
            LoadError::Plugin(_) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plugin-failed",
                e.to_string(),
            ),
        })
}

/// What a `busy` answer tells the client to wait, in seconds.
const PLUGIN_JOB_RETRY_AFTER_SECS: u64 = 5;

/// Who is calling, from the bearer token.
fn principal(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Principal, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        if headers.contains_key(KEY_HEADER) {
            return Err(refuse(
                uri,
                None,
                StatusCode::FORBIDDEN,
                "forbidden",
                "a shop's signed credentials reach only /v1/shops/{shop}/…; plugins need an operator's or integrator's token (Authorization: Bearer <token>)".into(),
            ));
        }
        return Err(refuse(
            uri,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "no credentials: send Authorization: Bearer <token> with an operator's or integrator's token".into(),
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(refuse(
            uri,
            None,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the Authorization header is not 'Bearer <token>'".into(),
        ));
    };
    state
        .registry
        .credentials()
        .authenticate(token)
        .ok_or_else(|| {
            refuse(
                uri,
                None,
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this token is not one of this server's operators or integrators".into(),
            )
        })
}

/// Refuses an integrator who does not own `name` (404 when nobody does).
async fn may_read(state: &AppState, uri: &Uri, who: &Principal, name: &str) -> Result<(), Problem> {
    let owner = state.store.plugin_owner(name).await?;
    let configured = state.registry.configured(name).is_some();
    if owner.is_none() && !configured {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-plugin",
            format!("no plugin '{name}'"),
        ));
    }
    if who.is_operator() || owner.as_deref() == Some(who.name.as_str()) {
        return Ok(());
    }
    Err(refuse(
        uri,
        Some(&who.name),
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("plugin '{name}' belongs to another integrator"),
    ))
}

fn operator_only(uri: &Uri, who: &Principal, what: &str) -> Result<(), Problem> {
    if who.is_operator() {
        return Ok(());
    }
    Err(refuse(
        uri,
        Some(&who.name),
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "{what} changes what shops run: it is for operators; an integrator uploads and tests"
        ),
    ))
}

/// `POST /v1/plugins`: the component's bytes. The caller is authenticated
/// before the body is read, and the body is read up to the cap only.
pub(super) async fn post_plugin(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    let limit = state.max_plugin_bytes;
    let too_large = || {
        refuse(
            &uri,
            Some(&who.name),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!(
                "the component is larger than the {limit} bytes this server accepts (server.max_plugin_bytes)"
            ),
        )
    };
    if let Some(kind) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !matches!(kind, "application/wasm" | "application/octet-stream")
    {
        return Err(refuse(
            &uri,
            Some(&who.name),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("send the component's bytes as application/wasm, not {kind}"),
        ));
    }
    // Past the cap, or cut off. (Read up to the cap even when the declared
    // length is over it: answering before the client has sent its body
    // makes most clients see a reset connection instead of the reason.)
    let raw = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    let turn = plugin_job_turn(&state, &uri, &who).await?;
    let uploaded = lifecycle::upload(&state.store, &state.registry, &who, &raw, limit).await;
    drop(turn);
    let refused = |status, slug: &str, e: UploadError| {
        refuse(&uri, Some(&who.name), status, slug, e.to_string())
    };
    match uploaded {
        Ok(Uploaded::Created(version)) => Ok(json(StatusCode::CREATED, &version)),
        Ok(Uploaded::Existing(version)) => Ok(json(StatusCode::OK, &version)),
        Err(e) => Err(match e {
            UploadError::TooLarge { .. } => refused(StatusCode::PAYLOAD_TOO_LARGE, "too-large", e),
            UploadError::NotComponent(_) => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "not-a-component", e)
            }
            UploadError::ForbiddenImport(_) => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "forbidden-import", e)
            }
            UploadError::Contract(_) => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "contract-mismatch", e)
            }
            UploadError::OverLimits(_) => {
                refused(StatusCode::UNPROCESSABLE_ENTITY, "over-limits", e)
            }
            UploadError::Failed(_) => refused(StatusCode::UNPROCESSABLE_ENTITY, "plugin-failed", e),
            UploadError::NotOwner(_) => refused(StatusCode::FORBIDDEN, "forbidden", e),
            UploadError::Conflict { .. } => refused(StatusCode::CONFLICT, "version-exists", e),
            UploadError::Store(e) => Problem::from(e),
            UploadError::Internal(m) => Problem::internal(m),
        }),
    }
}

/// What a binding runs, as `GET /v1/plugins` shows it.
fn binding_view(binding: &crate::registry::Binding) -> serde_json::Value {
    let loaded = binding.loaded();
    json!({
        "binding": binding.config.id,
        "plugin": binding.config.plugin,
        "version": loaded.plugin.metadata().version,
        "sha256": loaded.sha256,
        "loaded_from": loaded.source,
    })
}

/// `GET /v1/plugins`: stored versions and what each binding runs (an
/// integrator: their own plugins only).
pub(super) async fn get_plugins(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    let mut versions = state.store.plugin_versions(None).await?;
    let mut owned = std::collections::HashSet::new();
    if !who.is_operator() {
        let mut mine = Vec::new();
        for v in versions {
            if owned.contains(&v.name)
                || state.store.plugin_owner(&v.name).await?.as_deref() == Some(who.name.as_str())
            {
                owned.insert(v.name.clone());
                mine.push(v);
            }
        }
        versions = mine;
    }
    let bindings: Vec<_> = state
        .registry
        .bindings()
        .iter()
        .filter(|b| who.is_operator() || owned.contains(&b.config.plugin))
        .map(binding_view)
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "versions": versions, "bindings": bindings }),
    ))
}

/// `GET /v1/plugins/{name}/versions`.
pub(super) async fn get_versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    may_read(&state, &uri, &who, &name).await?;
    let versions = state.store.plugin_versions(Some(&name)).await?;
    let bindings: Vec<_> = state
        .registry
        .bindings()
        .iter()
        .filter(|b| b.config.plugin == name)
        .map(binding_view)
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "name": name, "versions": versions, "bindings": bindings }),
    ))
}

/// The optional body of activate and rollback.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    /// One binding; without it, every binding of the plugin.
    #[serde(default)]
    binding: Option<String>,
    /// Activate a version that failed the conformance suite (logged).
    #[serde(default, rename = "override")]
    override_rejection: bool,
}

fn target(raw: &[u8]) -> Result<Target, Problem> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Target::default());
    }
    super::shops::parse(raw)
}

fn activation_problem(uri: &Uri, who: &Principal, e: ActivateError) -> Problem {
    let (status, slug) = match &e {
        ActivateError::UnknownVersion { .. } => (StatusCode::NOT_FOUND, "unknown-version"),
        ActivateError::UnknownBinding(_) => (StatusCode::NOT_FOUND, "unknown-binding"),
        ActivateError::OtherPlugin { .. } | ActivateError::Unused(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "wrong-binding")
        }
        ActivateError::NothingToRollBack(_) => (StatusCode::CONFLICT, "nothing-to-roll-back"),
        ActivateError::Rejected { .. } => (StatusCode::CONFLICT, "rejected-version"),
        ActivateError::Load(_) => (StatusCode::UNPROCESSABLE_ENTITY, "plugin-failed"),
        ActivateError::Store(_) => return Problem::internal(e),
    };
    refuse(uri, Some(&who.name), status, slug, e.to_string())
}

/// `POST /v1/plugins/{name}/versions/{version}/activate`.
pub(super) async fn post_activate(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    may_read(&state, &uri, &who, &name).await?;
    operator_only(&uri, &who, "activation")?;
    let target = target(&super::shops::body(raw)?)?;
    let changed = lifecycle::activate(
        &state.store,
        &state.registry,
        &name,
        &version,
        target.binding.as_deref(),
        target.override_rejection,
        &who,
    )
    .await
    .map_err(|e| activation_problem(&uri, &who, e))?;
    Ok(json(StatusCode::OK, &json!({ "bindings": changed })))
}

/// `POST /v1/plugins/{name}/rollback`.
pub(super) async fn post_rollback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    may_read(&state, &uri, &who, &name).await?;
    operator_only(&uri, &who, "rollback")?;
    let target = target(&super::shops::body(raw)?)?;
    let changed = lifecycle::rollback(
        &state.store,
        &state.registry,
        &name,
        target.binding.as_deref(),
        &who,
    )
    .await
    .map_err(|e| activation_problem(&uri, &who, e))?;
    Ok(json(StatusCode::OK, &json!({ "bindings": changed })))
}

/// `POST /v1/plugins/{name}/versions/{version}/tests`: runs the version
/// against a fixture set (`{"settings": {…}, "cases": […]}`, feeds inline,
/// see [`crate::fixtures`]) with HTTP replayed from its recordings, and
/// answers the report (200 whether the cases pass or not: the report says).
/// An integrator tests their own plugins; an operator any.
pub(super) async fn post_tests(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    may_read(&state, &uri, &who, &name).await?;
    let raw = super::shops::body(raw)?;
    let de = &mut serde_json::Deserializer::from_slice(&raw);
    let mut set: FixtureSet = serde_path_to_error::deserialize(de).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fixtures",
            format!(
                "the fixture set is not valid at {}: {}",
                e.path(),
                e.inner()
            ),
        )
    })?;
    set.check_inline().map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-fixtures",
            e.to_string(),
        )
    })?;
    let _turn = plugin_job_turn(&state, &uri, &who).await?;
    let loaded = resolve_version(&state, &uri, &who, &name, &version).await?;
    let runtime = state.registry.runtime_arc();
    let report = fixtures::run(
        &runtime,
        &loaded.plugin,
        &mut set,
        &Mode::Replay,
        &fixtures::default_limits(),
    )
    .await;
    tracing::info!(plugin = %name, %version, who = %who.name, passed = report.passed, cases = report.cases.len(), "plugin tested against fixtures");
    Ok(json(StatusCode::OK, &report))
}

/// The body of a shadow run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShadowRequest {
    /// The binding whose recent orders are replayed.
    binding: String,
    /// How many of its last orders (default [`shadow::DEFAULT_ORDERS`], at
    /// most [`TAPES_KEPT`], all a binding keeps; 0 for none).
    #[serde(default)]
    orders: Option<i64>,
    /// Whether to compare the binding's feed too (default: when the
    /// binding has a catalog).
    #[serde(default)]
    feed: Option<bool>,
}

/// `POST /v1/plugins/{name}/versions/{version}/shadow`: replays the
/// binding's last orders (`{"binding": "…", "orders": N}`) through its
/// active version and through this one, HTTP answered from each dispatch's
/// recorded exchanges, and answers where their outputs differ (see
/// [`crate::shadow`]). Operators only: the orders are shops' real orders.
pub(super) async fn post_shadow(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let who = principal(&state, &uri, &headers)?;
    may_read(&state, &uri, &who, &name).await?;
    if !who.is_operator() {
        return Err(refuse(
            &uri,
            Some(&who.name),
            StatusCode::FORBIDDEN,
            "forbidden",
            "a shadow run replays shops' real orders: it is for operators".into(),
        ));
    }
    let invalid = |detail: String| {
        refuse(
            &uri,
            Some(&who.name),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
            detail,
        )
    };
    let request: ShadowRequest = super::shops::parse(&super::shops::body(raw)?)?;
    let orders = request.orders.unwrap_or(shadow::DEFAULT_ORDERS);
    if !(0..=TAPES_KEPT).contains(&orders) {
        return Err(invalid(format!(
            "orders is {orders}: replay from 0 to {TAPES_KEPT} orders (a binding keeps its last {TAPES_KEPT})"
        )));
    }
    let Some(binding) = state.registry.binding(&request.binding) else {
        return Err(refuse(
            &uri,
            Some(&who.name),
            StatusCode::NOT_FOUND,
            "unknown-binding",
            format!("there is no binding '{}'", request.binding),
        ));
    };
    if binding.config.plugin != name {
        return Err(refuse(
            &uri,
            Some(&who.name),
            StatusCode::CONFLICT,
            "wrong-binding",
            format!(
                "binding '{}' runs plugin '{}', not '{name}'",
                binding.config.id, binding.config.plugin
            ),
        ));
    }
    let catalog = binding.config.catalog.as_ref();
    let feed = match (request.feed, catalog) {
        (Some(false), _) | (None, None) => None,
        (_, Some(catalog)) => Some(shadow::FeedInput {
            source: catalog.source(),
            max_bytes: catalog.max_feed_bytes,
        }),
        (Some(true), None) => {
            return Err(invalid(format!(
                "binding '{}' has no catalog feed to compare",
                binding.config.id
            )));
        }
    };
    if orders == 0 && feed.is_none() {
        return Err(invalid("nothing to replay: no orders and no feed".into()));
    }
    let _turn = plugin_job_turn(&state, &uri, &who).await?;
    let candidate = resolve_version(&state, &uri, &who, &name, &version).await?;
    let tapes = if orders == 0 {
        Vec::new()
    } else {
        state
            .store
            .dispatch_tapes(&binding.config.id, orders)
            .await?
    };
    let report = shadow::run(
        state.registry.runtime(),
        binding,
        &candidate.plugin,
        &tapes,
        feed.as_ref(),
    )
    .await;
    tracing::info!(plugin = %name, %version, binding = %binding.config.id, who = %who.name, orders = report.totals.orders, differs = report.totals.differs, errors = report.totals.errors, feed = ?report.feed.as_ref().map(|f| &f.outcome), "shadow run");
    Ok(json(StatusCode::OK, &report))
}

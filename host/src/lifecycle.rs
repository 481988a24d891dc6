//! The plugin lifecycle: what an upload must pass to be stored, the compiled
//! cache, and which version each binding runs (activation, rollback, and
//! the watcher that makes every `serve` process follow the store).
//!
//! - **Upload** ([`upload`]): the component is compiled and checked against
//!   the contract (`Plugin::load`'s checks), its metadata read in a sandbox
//!   with no network; it is stored by sha256 with that metadata and its
//!   uploader. A name belongs to its first uploader.
//! - **Compiled cache** ([`load_bytes`]): compiled code is kept in the
//!   store, keyed by the component's sha256 and the engine's compatibility
//!   hash, so a component is compiled once per wasmtime build and settings;
//!   a restart or another process deserializes it.
//! - **Activation** ([`activate`], [`rollback`]): the store records the
//!   binding's version and bumps a generation row; the process that
//!   activated swaps at once, the others within [`POLL`] ([`watch`]). A
//!   restart runs the activated versions over the file's, unless the file
//!   now binds another plugin: then the file wins.
//!
//! **Invariant:** only artefacts this host serialized are deserialized:
//! they are written by [`load_bytes`] alone, after a successful compile,
//! into the host's own database, and checked against their own sha256
//! before use.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wasmtime::component::Component;

use crate::auth::{self, Principal};
use crate::plugins::Plugin;
use crate::registry::{Loaded, Registry, Source};
use crate::runtime::{PluginError, Runtime};
use crate::store::{
    ActivePlugin, NewPluginVersion, PluginVersion, Store, StoreError, VersionInsert,
};

/// How often every process checks the activation generation. An activation
/// must reach every process within a second; four reads a second of one
/// row by primary key cost the database next to nothing, and unlike
/// LISTEN/NOTIFY it needs no dedicated connection outside the pool (nor a
/// way to catch up on notifications lost while reconnecting), and works the
/// same on SQLite.
pub const POLL: Duration = Duration::from_millis(250);

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// It does not compile, fit the contract, or describe itself.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The compiling thread died.
    #[error("compiling the component: {0}")]
    Compile(String),
    /// A version the store names is not there.
    #[error("plugin '{name}' {version} is neither stored nor the configuration's")]
    Missing {
        /// The plugin's name.
        name: String,
        /// The version.
        version: String,
    },
}

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the size cap.
    #[error(
        "the component is {size} bytes; this server accepts at most {limit} (server.max_plugin_bytes)"
    )]
    TooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// Not a component this host can compile.
    #[error("{0}")]
    NotComponent(String),
    /// It imports what the host does not lend.
    #[error("{0}")]
    ForbiddenImport(String),
    /// It does not export the contract's world at a compatible version, or
    /// its metadata is not well-formed.
    #[error("{0}")]
    Contract(String),
    /// It needs more than one instance may have on this server.
    #[error("{0}")]
    OverLimits(String),
    /// It failed while describing itself.
    #[error("{0}")]
    Failed(String),
    /// The name belongs to another integrator.
    #[error(
        "the plugin name '{0}' belongs to another integrator or to the operators; choose another name"
    )]
    NotOwner(String),
    /// The name and version exist with other bytes.
    #[error(
        "{name} {version} was already uploaded with other bytes (sha256 {existing}); give this build a new version"
    )]
    Conflict {
        /// The name.
        name: String,
        /// The version.
        version: String,
        /// sha256 of what is stored.
        existing: String,
    },
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The compiling thread died.
    #[error("{0}")]
    Internal(String),
}

/// What an accepted upload did.
#[derive(Debug)]
pub enum Uploaded {
    /// A new version.
    Created(PluginVersion),
    /// These very bytes were already stored as this version.
    Existing(PluginVersion),
}

/// Why an activation or rollback was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActivateError {
    /// No such version.
    #[error("plugin '{name}' has no version {version}")]
    UnknownVersion {
        /// The name.
        name: String,
        /// The version.
        version: String,
    },
    /// No such binding.
    #[error("there is no binding '{0}'")]
    UnknownBinding(String),
    /// The binding runs another plugin.
    #[error("binding '{binding}' runs plugin '{runs}', not '{name}'")]
    OtherPlugin {
        /// The binding.
        binding: String,
        /// What it runs.
        runs: String,
        /// What was asked.
        name: String,
    },
    /// No binding runs this plugin.
    #[error("no binding runs plugin '{0}'")]
    Unused(String),
    /// The version failed the conformance suite (an operator may override).
    #[error(
        "plugin '{name}' {version} failed the conformance suite ({failures}); fix it and upload a new version, or activate with \"override\": true"
    )]
    Rejected {
        /// The name.
        name: String,
        /// The version.
        version: String,
        /// What failed.
        failures: String,
    },
    /// Nothing was activated before.
    #[error("no binding of plugin '{0}' has a previous version to roll back to")]
    NothingToRollBack(String),
    /// The version would not load.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(auth::sha256(bytes))
}

/// The engine's compatibility hash as a cache key: another wasmtime, target
/// or setting gives another key. (`DefaultHasher` is fixed within a build of
/// the host; should another Rust release change it, the key changes and the
/// cache misses once: never a wrong hit, since wasmtime checks again.)
fn engine_key(engine: &wasmtime::Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Compiled code back into a component.
///
/// `unsafe` because wasmtime runs deserialized machine code as it is. The
/// invariant that makes it sound: `artefact` was produced by
/// `Component::serialize` in this host (only [`load_bytes`] writes the
/// cache, right after a compile) and read back from the host's own
/// database with its sha256 checked; wasmtime itself refuses an artefact
/// of another engine configuration.
#[allow(unsafe_code)]
fn deserialize_own_artefact(
    engine: &wasmtime::Engine,
    artefact: &[u8],
) -> wasmtime::Result<Component> {
    // SAFETY: see above; the bytes come from this host's own serializer.
    unsafe { Component::deserialize(engine, artefact) }
}

/// Loads a component: from the compiled cache when `store` has it for this
/// engine, else compiled (on a blocking thread) and, once it passed the
/// contract's checks, put in the cache.
pub async fn load_bytes(
    store: Option<&Store>,
    runtime: &Runtime,
    bytes: &[u8],
) -> Result<Loaded, LoadError> {
    let sha256 = sha256_hex(bytes);
    let engine = runtime.engine().clone();
    let key = engine_key(&engine);
    if let Some(store) = store
        && let Some((artefact, artefact_sha)) = store.compiled_artefact(&sha256, &key).await?
    {
        if sha256_hex(&artefact) == artefact_sha {
            match deserialize_own_artefact(&engine, &artefact) {
                Ok(component) => {
                    let plugin = Plugin::from_component(runtime, component).await?;
                    tracing::info!(plugin = %plugin.name(), version = %plugin.metadata().version, %sha256, "plugin loaded from the compiled cache");
                    return Ok(Loaded {
                        plugin: Arc::new(plugin),
                        sha256,
                        source: Source::Cache,
                    });
                }
                Err(e) => {
                    tracing::warn!(%sha256, error = %format!("{e:#}"), "compiled artefact refused; compiling again")
                }
            }
        } else {
            tracing::warn!(%sha256, "compiled artefact damaged (sha256 mismatch); compiling again");
        }
    }
    let owned = bytes.to_vec();
    let compile_engine = engine.clone();
    let component = tokio::task::spawn_blocking(move || Plugin::compile(&compile_engine, &owned))
        .await
        .map_err(|e| LoadError::Compile(e.to_string()))??;
    let plugin = Plugin::from_component(runtime, component).await?;
    tracing::info!(plugin = %plugin.name(), version = %plugin.metadata().version, %sha256, "plugin compiled");
    if let Some(store) = store {
        match plugin.component().serialize() {
            Ok(artefact) => {
                let artefact_sha = sha256_hex(&artefact);
                store
                    .store_compiled_artefact(&sha256, &key, &artefact, &artefact_sha)
                    .await?;
            }
            Err(e) => {
                tracing::warn!(%sha256, error = %format!("{e:#}"), "cannot serialize the compiled plugin; it will be compiled again next time")
            }
        }
    }
    Ok(Loaded {
        plugin: Arc::new(plugin),
        sha256,
        source: Source::Compiled,
    })
}

/// Checks and stores an uploaded component for `principal`.
pub async fn upload(
    store: &Store,
    registry: &Registry,
    principal: &Principal,
    bytes: &[u8],
    max_bytes: usize,
) -> Result<Uploaded, UploadError> {
    if bytes.len() > max_bytes {
        return Err(UploadError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let owner_check = (!principal.is_operator()).then_some(principal.name.as_str());
    let sha256 = sha256_hex(bytes);
    // The same bytes again: nothing to compile (the bytes decide the
    // metadata, so they are at most one version).
    if let Some(existing) = store
        .plugin_versions_with_sha(&sha256)
        .await?
        .into_iter()
        .next()
    {
        let owner = store.plugin_owner(&existing.name).await?;
        if owner_check.is_some() && owner.as_deref() != owner_check {
            return Err(UploadError::NotOwner(existing.name));
        }
        return Ok(Uploaded::Existing(existing));
    }
    let loaded = load_bytes(Some(store), &registry.runtime_arc(), bytes)
        .await
        .map(Arc::new)
        .map_err(|e| match e {
            LoadError::Plugin(PluginError::InvalidComponent(m)) => UploadError::NotComponent(m),
            LoadError::Plugin(PluginError::ForbiddenImport(m)) => UploadError::ForbiddenImport(m),
            LoadError::Plugin(PluginError::Contract(m)) => UploadError::Contract(m),
            LoadError::Plugin(e @ PluginError::OverLimits(_)) => {
                UploadError::OverLimits(e.to_string())
            }
            LoadError::Plugin(other) => UploadError::Failed(format!(
                "the plugin failed while describing itself: {other}"
            )),
            LoadError::Store(e) => UploadError::Store(e),
            LoadError::Compile(m) | LoadError::Missing { name: m, .. } => UploadError::Internal(m),
        })?;
    let metadata = loaded.plugin.metadata();
    // A name the configuration file runs is the operators' until uploaded
    // by one of them: an integrator cannot claim it.
    if owner_check.is_some()
        && registry.configured(&metadata.name).is_some()
        && store.plugin_owner(&metadata.name).await?.is_none()
    {
        return Err(UploadError::NotOwner(metadata.name.clone()));
    }
    // The file's component is that name and version too: one version, one
    // set of bytes.
    if let Some(configured) = registry.configured(&metadata.name)
        && configured.plugin.metadata().version == metadata.version
        && configured.sha256 != sha256
    {
        return Err(UploadError::Conflict {
            name: metadata.name.clone(),
            version: metadata.version.clone(),
            existing: configured.sha256.clone(),
        });
    }
    let report = crate::conformance::run(&registry.runtime_arc(), &loaded.plugin).await;
    let report_json =
        serde_json::to_value(&report).map_err(|e| UploadError::Internal(format!("report: {e}")))?;
    let state = if report.passed {
        "accepted"
    } else {
        "rejected"
    };
    let metadata_json = serde_json::to_value(metadata)
        .map_err(|e| UploadError::Internal(format!("metadata: {e}")))?;
    let outcome = store
        .insert_plugin_version(
            NewPluginVersion {
                name: &metadata.name,
                version: &metadata.version,
                sha256: &sha256,
                bytes,
                metadata: &metadata_json,
                uploader: &principal.name,
                state,
                report: &report_json,
            },
            owner_check,
        )
        .await?;
    match outcome {
        VersionInsert::Created(v) => {
            // Compiled once: an activation of this version reuses it.
            registry.remember_version(&v.name, &v.version, loaded.clone());
            if report.passed {
                tracing::info!(plugin = %v.name, version = %v.version, sha256 = %v.sha256, uploader = %principal.name, "plugin version uploaded");
            } else {
                tracing::warn!(plugin = %v.name, version = %v.version, sha256 = %v.sha256, uploader = %principal.name, failures = %report.failures(), "plugin version uploaded but rejected: it failed the conformance suite");
            }
            Ok(Uploaded::Created(v))
        }
        VersionInsert::Existing(v) => Ok(Uploaded::Existing(v)),
        VersionInsert::Conflict(existing) => Err(UploadError::Conflict {
            name: metadata.name.clone(),
            version: metadata.version.clone(),
            existing,
        }),
        VersionInsert::NotOwner(_) => Err(UploadError::NotOwner(metadata.name.clone())),
    }
}

/// The plugin `name` at `version`: the configuration file's, one this
/// process loaded already, or the stored one (from the compiled cache).
pub async fn resolve(
    store: &Store,
    registry: &Registry,
    name: &str,
    version: &str,
) -> Result<Arc<Loaded>, LoadError> {
    if let Some(loaded) = registry.loaded_version(name, version) {
        return Ok(loaded);
    }
    let stored = store.plugin_version(name, version).await?;
    let configured = registry
        .configured(name)
        .filter(|c| c.plugin.metadata().version == version);
    let loaded = match (stored, configured) {
        (Some(v), Some(c)) if v.sha256 == c.sha256 => c,
        (None, Some(c)) => c,
        (Some(v), _) => {
            let bytes = store
                .plugin_blob(&v.sha256)
                .await?
                .ok_or_else(|| LoadError::Missing {
                    name: name.to_owned(),
                    version: version.to_owned(),
                })?;
            Arc::new(load_bytes(Some(store), &registry.runtime_arc(), &bytes).await?)
        }
        (None, None) => {
            return Err(LoadError::Missing {
                name: name.to_owned(),
                version: version.to_owned(),
            });
        }
    };
    registry.remember_version(name, version, loaded.clone());
    Ok(loaded)
}

/// Makes every binding run the version the store says (those it says
/// nothing of keep the configuration's). Returns how many were swapped.
pub async fn apply_active(store: &Store, registry: &Registry) -> Result<usize, LoadError> {
    let _one_at_a_time = registry.apply_lock.lock().await;
    let mut swapped = 0;
    for active in store.active_plugins().await? {
        let Some(binding) = registry.binding(&active.binding) else {
            continue;
        };
        if binding.config.plugin != active.name {
            // The file now binds another plugin: the file wins over an
            // activation of the plugin it no longer names.
            tracing::warn!(binding = %active.binding, activated = %active.name, configured = %binding.config.plugin, "the configuration binds another plugin than the one activated; the activation is ignored");
            continue;
        }
        // Same plugin (checked above), same version: one set of bytes.
        if binding.plugin().metadata().version == active.version {
            continue;
        }
        let loaded = resolve(store, registry, &active.name, &active.version).await?;
        let before = binding.swap(loaded.clone());
        swapped += 1;
        tracing::info!(
            binding = %active.binding,
            plugin = %active.name,
            from = %before.plugin.metadata().version,
            to = %active.version,
            source = ?loaded.source,
            "binding switched plugin version"
        );
    }
    Ok(swapped)
}

/// Activates `version` of `name` on `binding`, or on every binding that
/// runs `name`, then switches this process at once.
pub async fn activate(
    store: &Store,
    registry: &Registry,
    name: &str,
    version: &str,
    binding: Option<&str>,
    override_rejection: bool,
    by: &Principal,
) -> Result<Vec<ActivePlugin>, ActivateError> {
    let targets = targets(registry, name, binding)?;
    let stored = store.plugin_version(name, version).await?;
    if let Some(v) = stored.as_ref().filter(|v| v.state == "rejected") {
        let failures = v
            .report
            .as_ref()
            .and_then(|r| r["cases"].as_array())
            .map(|cases| {
                cases
                    .iter()
                    .filter(|c| c["passed"] == false)
                    .map(|c| {
                        format!(
                            "{}: {}",
                            c["case"].as_str().unwrap_or("?"),
                            c["outcome"].as_str().unwrap_or("?")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        if !override_rejection {
            return Err(ActivateError::Rejected {
                name: name.to_owned(),
                version: version.to_owned(),
                failures,
            });
        }
        tracing::warn!(plugin = %name, %version, by = %by.name, %failures, "operator override: activating a version that failed the conformance suite");
    }
    let configured = registry
        .configured(name)
        .is_some_and(|c| c.plugin.metadata().version == version);
    if stored.is_none() && !configured {
        return Err(ActivateError::UnknownVersion {
            name: name.to_owned(),
            version: version.to_owned(),
        });
    }
    // Loads (compiles if need be) before anything is recorded: a version
    // that does not load is never made active.
    resolve(store, registry, name, version).await?;
    let running: Vec<(String, String)> = targets
        .iter()
        .map(|b| {
            (
                b.clone(),
                registry
                    .binding(b)
                    .map(|b| b.plugin().metadata().version.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let changed = store
        .activate_plugin(name, version, &running, &by.name)
        .await?;
    tracing::info!(plugin = %name, %version, bindings = ?targets, by = %by.name, "plugin version activated");
    apply_active(store, registry).await?;
    Ok(changed)
}

/// Returns `binding` (or every binding of `name`) to its previous version.
pub async fn rollback(
    store: &Store,
    registry: &Registry,
    name: &str,
    binding: Option<&str>,
    by: &Principal,
) -> Result<Vec<ActivePlugin>, ActivateError> {
    targets(registry, name, binding)?;
    let changed = store.rollback_plugin(name, binding, &by.name).await?;
    if changed.is_empty() {
        return Err(ActivateError::NothingToRollBack(name.to_owned()));
    }
    tracing::info!(plugin = %name, bindings = ?changed.iter().map(|c| &c.binding).collect::<Vec<_>>(), by = %by.name, "plugin version rolled back");
    apply_active(store, registry).await?;
    Ok(changed)
}

fn targets(
    registry: &Registry,
    name: &str,
    binding: Option<&str>,
) -> Result<Vec<String>, ActivateError> {
    match binding {
        Some(id) => {
            let b = registry
                .binding(id)
                .ok_or_else(|| ActivateError::UnknownBinding(id.to_owned()))?;
            if b.config.plugin != name {
                return Err(ActivateError::OtherPlugin {
                    binding: id.to_owned(),
                    runs: b.config.plugin.clone(),
                    name: name.to_owned(),
                });
            }
            Ok(vec![id.to_owned()])
        }
        None => {
            let all: Vec<String> = registry
                .bindings()
                .iter()
                .filter(|b| b.config.plugin == name)
                .map(|b| b.config.id.clone())
                .collect();
            if all.is_empty() {
                return Err(ActivateError::Unused(name.to_owned()));
            }
            Ok(all)
        }
    }
}

/// Follows activations made by any process until `stop` turns true: every
/// [`POLL`], reads the generation and, when it moved, applies the store's
/// versions.
pub async fn watch(store: Store, registry: Arc<Registry>, mut stop: watch::Receiver<bool>) {
    let mut seen = None;
    loop {
        match store.plugin_generation().await {
            Ok(generation) if seen != Some(generation) => {
                match apply_active(&store, &registry).await {
                    Ok(_) => seen = Some(generation),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot switch to the activated plugin versions; retrying")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the plugin activation generation"),
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => return,
        }
    }
}

//! What the configuration declares, made ready to use: the loaded plugins,
//! the shops by id and by key id, the operators' and integrators' tokens,
//! and the bindings with their call options and the SKUs they own.
//!
//! A binding holds its plugin behind an [`ArcSwap`]: each call takes the
//! `Arc<Plugin>` current at its start and keeps it to its end, and an
//! activation ([`crate::lifecycle`]) replaces it in one atomic store, so a
//! swap never waits for calls and no call sees half of one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use crate::auth::Credentials;
use crate::config::{BindingConfig, Config, ShopConfig};
use crate::lifecycle::{self, LoadError};
use crate::plugins::{CallOptions, Plugin};
use crate::runtime::{HostPattern, NetworkPolicy, Runtime, Settings};
use crate::store::Store;

/// Why the registry could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A plugin file could not be read.
    #[error("plugin '{name}': reading {path}: {source}")]
    Read {
        /// The plugin's name.
        name: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A plugin did not load.
    #[error("plugin '{name}' ({path}): {source}")]
    Load {
        /// The plugin's name.
        name: String,
        /// The file.
        path: String,
        /// Why.
        source: LoadError,
    },
}

/// Where a loaded plugin's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Compiled by this process.
    Compiled,
    /// Deserialized from the compiled cache (compiled earlier by this host).
    Cache,
}

/// A plugin as a binding runs it.
pub struct Loaded {
    /// The plugin.
    pub plugin: Arc<Plugin>,
    /// SHA-256 of its component, hex.
    pub sha256: String,
    /// Compiled now or taken from the cache.
    pub source: Source,
}

/// A binding, ready to call its plugin.
pub struct Binding {
    /// As configured.
    pub config: BindingConfig,
    /// Its plugin, swapped atomically by an activation.
    loaded: ArcSwap<Loaded>,
    /// Settings, network policy and limits of every call.
    pub options: CallOptions,
}

impl Binding {
    /// The plugin to run now; hold it for the whole call.
    pub fn plugin(&self) -> Arc<Plugin> {
        self.loaded.load().plugin.clone()
    }

    /// The plugin with where it came from.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// Makes `loaded` the plugin of the next calls; returns the one before.
    pub fn swap(&self, loaded: Arc<Loaded>) -> Arc<Loaded> {
        self.loaded.swap(loaded)
    }
}

/// Shops, plugins and bindings.
pub struct Registry {
    runtime: Arc<Runtime>,
    shops: HashMap<String, ShopConfig>,
    shops_by_key: HashMap<String, String>,
    bindings: Vec<Binding>,
    /// The plugins of the configuration file, by their configured name.
    configured: HashMap<String, Arc<Loaded>>,
    /// Stored versions loaded so far, by (name, version): bindings that run
    /// one version share one compiled plugin.
    versions: Mutex<HashMap<(String, String), Arc<Loaded>>>,
    credentials: Credentials,
    /// Serializes applying activations (the API's and the watcher's).
    pub(crate) apply_lock: tokio::sync::Mutex<()>,
}

impl Registry {
    /// Loads every plugin the configuration names (compiling each) and
    /// builds the bindings.
    pub async fn load(config: &Config, runtime: Arc<Runtime>) -> Result<Registry, RegistryError> {
        Registry::build(config, runtime, None).await
    }

    /// The same, with compiled plugins from (and into) the store's cache.
    pub async fn load_cached(
        config: &Config,
        runtime: Arc<Runtime>,
        store: &Store,
    ) -> Result<Registry, RegistryError> {
        Registry::build(config, runtime, Some(store)).await
    }

    async fn build(
        config: &Config,
        runtime: Arc<Runtime>,
        store: Option<&Store>,
    ) -> Result<Registry, RegistryError> {
        let mut plugins = HashMap::new();
        for p in &config.plugins {
            let path = p.path.display().to_string();
            let bytes = tokio::fs::read(&p.path)
                .await
                .map_err(|source| RegistryError::Read {
                    name: p.name.clone(),
                    path: path.clone(),
                    source,
                })?;
            let loaded = lifecycle::load_bytes(store, &runtime, &bytes)
                .await
                .map_err(|source| RegistryError::Load {
                    name: p.name.clone(),
                    path: path.clone(),
                    source,
                })?;
            tracing::info!(plugin = %p.name, version = %loaded.plugin.metadata().version, %path, from = ?loaded.source, "plugin loaded");
            plugins.insert(p.name.clone(), Arc::new(loaded));
        }
        let bindings = config
            .bindings
            .iter()
            .filter_map(|b| {
                let plugin = plugins.get(&b.plugin)?.clone();
                Some(Binding {
                    options: CallOptions {
                        settings: Settings::from_pairs(b.settings.clone()),
                        network: NetworkPolicy {
                            allowed_hosts: b
                                .allow_hosts
                                .iter()
                                .map(|h| HostPattern::new(h))
                                .collect(),
                            allow_private_network: b.allow_private_network,
                            ..NetworkPolicy::default()
                        },
                        limits: Default::default(),
                    },
                    config: b.clone(),
                    loaded: ArcSwap::new(plugin),
                })
            })
            .collect();
        Ok(Registry {
            runtime,
            shops: config
                .shops
                .iter()
                .map(|s| (s.id.clone(), s.clone()))
                .collect(),
            shops_by_key: config
                .shops
                .iter()
                .map(|s| (s.key_id.clone(), s.id.clone()))
                .collect(),
            bindings,
            configured: plugins,
            versions: Mutex::default(),
            credentials: Credentials::from_config(config),
            apply_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The operators' and integrators' tokens.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The configuration file's plugin of that name.
    pub fn configured(&self, name: &str) -> Option<Arc<Loaded>> {
        self.configured.get(name).cloned()
    }

    /// A stored version already loaded by this process.
    pub(crate) fn loaded_version(&self, name: &str, version: &str) -> Option<Arc<Loaded>> {
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(name.to_owned(), version.to_owned()))
            .cloned()
    }

    /// Keeps a stored version loaded, for the next binding that runs it.
    pub(crate) fn remember_version(&self, name: &str, version: &str, loaded: Arc<Loaded>) {
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.to_owned(), version.to_owned()), loaded);
    }

    /// The wasm runtime, shared.
    pub fn runtime_arc(&self) -> Arc<Runtime> {
        self.runtime.clone()
    }

    /// The wasm runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// A shop by id.
    pub fn shop(&self, id: &str) -> Option<&ShopConfig> {
        self.shops.get(id)
    }

    /// The id of the shop holding `key_id`.
    pub fn shop_by_key(&self, key_id: &str) -> Option<&str> {
        self.shops_by_key.get(key_id).map(String::as_str)
    }

    /// A binding by id.
    pub fn binding(&self, id: &str) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.config.id == id)
    }

    /// Every binding.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The binding of `shop` whose configuration claims `sku` by name or
    /// by a prefix that is not empty (the longest wins): what decides first
    /// who sells a SKU, before any feed (see [`crate::orders::Owners`]).
    pub fn configured_owner(&self, shop: &str, sku: &str) -> Option<&Binding> {
        self.owner(shop, sku).filter(|b| {
            b.config.skus.iter().any(|s| s == sku)
                || b.config
                    .sku_prefixes
                    .iter()
                    .any(|p| !p.is_empty() && sku.starts_with(p.as_str()))
        })
    }

    /// The binding of `shop` that sells `sku`: one that lists it, else the
    /// one with the longest matching prefix (an empty prefix takes any SKU).
    pub fn owner(&self, shop: &str, sku: &str) -> Option<&Binding> {
        let of_shop = || self.bindings.iter().filter(move |b| b.config.shop == shop);
        of_shop()
            .find(|b| b.config.skus.iter().any(|s| s == sku))
            .or_else(|| {
                of_shop()
                    .filter_map(|b| {
                        b.config
                            .sku_prefixes
                            .iter()
                            .filter(|p| sku.starts_with(p.as_str()))
                            .map(|p| p.len())
                            .max()
                            .map(|len| (len, b))
                    })
                    .max_by_key(|(len, _)| *len)
                    .map(|(_, b)| b)
            })
    }
}

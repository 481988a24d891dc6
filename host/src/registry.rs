//! What the configuration declares, made ready to use: the loaded plugins,
//! the shops by id and by key id, and the bindings with their call options
//! and the SKUs they own.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{BindingConfig, Config, ShopConfig};
use crate::plugins::{CallOptions, Plugin};
use crate::runtime::{HostPattern, NetworkPolicy, PluginError, Runtime, Settings};

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
        source: PluginError,
    },
}

/// A binding, ready to call its plugin.
pub struct Binding {
    /// As configured.
    pub config: BindingConfig,
    /// Its plugin.
    pub plugin: Arc<Plugin>,
    /// Settings, network policy and limits of every call.
    pub options: CallOptions,
}

/// Shops, plugins and bindings.
pub struct Registry {
    runtime: Arc<Runtime>,
    shops: HashMap<String, ShopConfig>,
    shops_by_key: HashMap<String, String>,
    bindings: Vec<Binding>,
}

impl Registry {
    /// Loads every plugin the configuration names and builds the bindings.
    pub async fn load(config: &Config, runtime: Arc<Runtime>) -> Result<Registry, RegistryError> {
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
            let plugin =
                Plugin::load(&runtime, &bytes)
                    .await
                    .map_err(|source| RegistryError::Load {
                        name: p.name.clone(),
                        path: path.clone(),
                        source,
                    })?;
            tracing::info!(plugin = %p.name, version = %plugin.metadata().version, %path, "plugin loaded");
            plugins.insert(p.name.clone(), Arc::new(plugin));
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
                        },
                        limits: Default::default(),
                    },
                    config: b.clone(),
                    plugin,
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
        })
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

    /// The binding of `shop` that sells `sku`: one that lists it, else the
    /// one with the longest matching prefix.
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

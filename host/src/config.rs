//! The server's configuration: one TOML file declaring the shops, the
//! plugins and the bindings between them, with secrets overridable from the
//! environment; and the embedded default used when there is no file.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! database = "sqlite://data/shopbridge.db"   # or postgres://user@host/db
//!
//! [[plugins]]
//! name = "csv-wholesaler"
//! path = "plugins/csv_wholesaler.wasm"       # relative to this file
//!
//! [[shops]]
//! id = "demo"
//! key_id = "demo"
//! secret = "change-me"                       # or SHOPBRIDGE_SHOP_DEMO_SECRET
//! callback_url = "https://shop.example/module/shopbridge/callback"
//! dispatch = "at-confirmation"               # or "once-paid"
//!
//! [[bindings]]
//! id = "demo-wholesaler"
//! shop = "demo"
//! plugin = "csv-wholesaler"
//! sku_prefixes = ["BB-"]
//! status_poll = "5m"
//! settings = { api-base-url = "https://api.example", api-key = "…" }
//! ```
//!
//! Environment overrides, so that secrets need not sit in the file:
//! `SHOPBRIDGE_DATABASE_URL`, `SHOPBRIDGE_LISTEN`,
//! `SHOPBRIDGE_SHOP_<SHOP>_SECRET`, `SHOPBRIDGE_BINDING_<BINDING>_<SETTING>`,
//! `SHOPBRIDGE_OPERATOR_<NAME>_TOKEN` and `SHOPBRIDGE_INTEGRATOR_<NAME>_TOKEN`
//! (ids upper-cased, every other character than a letter or digit as `_`).
//!
//! Who may manage plugins (`/v1/plugins`), by bearer token; the file holds
//! the token's SHA-256, never the token:
//!
//! ```toml
//! [[operators]]
//! name = "ops"
//! token_sha256 = "…64 hex digits…"            # or SHOPBRIDGE_OPERATOR_OPS_TOKEN
//!
//! [[integrators]]
//! name = "acme-connectors"
//! token_sha256 = "…"
//! ```

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Something wrong with the configuration, said so that it can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// TOML's own message, with line and column.
        message: String,
    },
    /// The file parses but does not make sense.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Process-wide settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// The plugin components to load.
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// The shops that post orders.
    #[serde(default)]
    pub shops: Vec<ShopConfig>,
    /// Which shop works with which plugin, and how.
    #[serde(default)]
    pub bindings: Vec<BindingConfig>,
    /// Who may do everything with plugins (upload, list, activate, roll back).
    #[serde(default)]
    pub operators: Vec<TokenHolder>,
    /// Who may upload, test and read their own plugins.
    #[serde(default)]
    pub integrators: Vec<TokenHolder>,
}

/// An operator or an integrator: a name and a bearer token, given in clear
/// (`token`, best from `SHOPBRIDGE_OPERATOR_<NAME>_TOKEN` or
/// `SHOPBRIDGE_INTEGRATOR_<NAME>_TOKEN`) or as its SHA-256 (`token_sha256`,
/// so that the file never holds the token itself).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenHolder {
    /// Who: recorded as the uploader of their plugins.
    pub name: String,
    /// The token in clear (prefer `token_sha256` or the environment).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// The hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_sha256: String,
}

/// Shortest clear token accepted: 16 characters of a random token are
/// beyond guessing over HTTP; a shorter one is likely a placeholder.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Process-wide settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// `sqlite://path` (created if missing) or `postgres://…`.
    pub database: String,
    /// Jobs (dispatches, polls, webhooks) run at once by this process.
    pub workers: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How old a signed request's timestamp may be (either way).
    #[serde(with = "humantime_serde")]
    pub replay_window: Duration,
    /// How long a worker holds a job before another may take it over (a
    /// crashed process's jobs are picked up after this).
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// Attempts at a transient failure before a dispatch is marked failed.
    pub dispatch_attempts: u32,
    /// Attempts at delivering a webhook before it is given up.
    pub webhook_attempts: u32,
    /// First retry delay; doubled at each attempt, with jitter.
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    /// Longest retry delay.
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// Longest wait a supplier's `Retry-After` is honoured for: a supplier
    /// asking for more is asked again after this.
    #[serde(with = "humantime_serde")]
    pub retry_after_max: Duration,
    /// Largest plugin component accepted by `POST /v1/plugins`, in bytes.
    pub max_plugin_bytes: usize,
    /// Plugin jobs run at once by the API: uploads (compile and
    /// conformance suite), fixture runs and shadow runs. They take whole
    /// cores, which the order hook and dispatch need too. Default: half the
    /// cores, at least one.
    pub plugin_jobs: usize,
    /// How long a plugin job waits for its turn before the request is
    /// answered 503 (`busy`, with `Retry-After`).
    #[serde(with = "humantime_serde")]
    pub plugin_job_wait: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: "sqlite://data/shopbridge.db".into(),
            workers: 8,
            max_body_bytes: 256 << 10,
            replay_window: Duration::from_secs(300),
            lease: Duration::from_secs(120),
            dispatch_attempts: 10,
            webhook_attempts: 12,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            retry_after_max: Duration::from_secs(3600),
            max_plugin_bytes: crate::plugins::MAX_COMPONENT_BYTES,
            plugin_jobs: std::thread::available_parallelism()
                .map_or(1, |n| n.get() / 2)
                .max(1),
            plugin_job_wait: Duration::from_secs(60),
        }
    }
}

/// A plugin component to load.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The name bindings refer to it by.
    pub name: String,
    /// The component file, relative to the configuration file.
    pub path: PathBuf,
}

/// When a shop's orders go to the suppliers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DispatchPolicy {
    /// As soon as the order is confirmed.
    #[default]
    AtConfirmation,
    /// Once the shop says the order is paid (`POST …/payment`).
    OncePaid,
}

/// A shop.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// The shop's id in URLs (`/v1/shops/{id}/…`).
    pub id: String,
    /// The key id the shop sends in `X-Shopbridge-Key`.
    pub key_id: String,
    /// The shared secret of its HMAC signatures.
    #[serde(default)]
    pub secret: String,
    /// Where status events are posted, signed with the same secret.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// When orders go out.
    #[serde(default)]
    pub dispatch: DispatchPolicy,
}

/// One shop working with one plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingConfig {
    /// The binding's id.
    pub id: String,
    /// The shop.
    pub shop: String,
    /// The plugin's name.
    pub plugin: String,
    /// The plugin's settings (secrets may come from the environment).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// SKUs this supplier sells (until the catalog says so).
    #[serde(default)]
    pub skus: Vec<String>,
    /// SKU prefixes this supplier sells; `""` takes every SKU no other
    /// binding of the shop claims.
    #[serde(default)]
    pub sku_prefixes: Vec<String>,
    /// Wholesale unit cost per SKU, in minor units of `currency`.
    #[serde(default)]
    pub wholesale: BTreeMap<String, i64>,
    /// Currency of `wholesale`.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Hosts the plugin may reach, besides what it declares.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Let the plugin reach private and loopback addresses (a supplier on
    /// the local network, tests).
    #[serde(default)]
    pub allow_private_network: bool,
    /// How often open supplier orders are polled for their status.
    #[serde(default = "default_status_poll", with = "humantime_serde")]
    pub status_poll: Duration,
    /// Supplier orders per status poll call.
    #[serde(default = "default_status_batch")]
    pub status_batch: u32,
    /// Where this supplier's catalogue comes from, when, and the rules
    /// that turn it into the shop's.
    #[serde(default)]
    pub catalog: Option<CatalogConfig>,
}

/// A binding's catalogue: the feed, its schedules and the shop's rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// The feed: `https://…`, `http://…` or `file:///…`. Absent, the
    /// plugin reads the catalog from the supplier's API itself (the `odoo`
    /// connector) and every scheduled sync runs (see [`FeedSource::Api`]).
    ///
    /// [`FeedSource::Api`]: crate::feed::FeedSource::Api
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_url: Option<String>,
    /// Cron expression (5 fields, UTC) of the full sync, e.g. `0 3 * * *`.
    #[serde(default)]
    pub full_sync: Option<String>,
    /// Cron expression of the price and stock sync, e.g. `0 * * * *`: the
    /// same feed, but products missing from it are not marked removed.
    #[serde(default)]
    pub prices_sync: Option<String>,
    /// Largest feed accepted, in bytes.
    #[serde(default = "default_max_feed_bytes")]
    pub max_feed_bytes: u64,
    /// How retail prices are made from wholesale prices.
    #[serde(default)]
    pub pricing: crate::catalog::rules::Pricing,
    /// What the shop shows when the supplier is out of stock.
    #[serde(default)]
    pub availability: crate::catalog::rules::AvailabilityPolicy,
    /// Supplier category paths mapped onto the shop's (`"Maison > Cuisine" =
    /// "Kitchen"`); unmapped paths are replicated as they are.
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
}

impl CatalogConfig {
    /// Where the feed comes from: `feed_url`, or the supplier's API through
    /// the plugin when there is none.
    pub fn source(&self) -> crate::feed::FeedSource {
        self.feed_url
            .as_deref()
            .map_or(crate::feed::FeedSource::Api, crate::feed::FeedSource::parse)
    }
}

fn default_max_feed_bytes() -> u64 {
    4 << 30
}

fn default_currency() -> String {
    "EUR".into()
}

fn default_status_poll() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_status_batch() -> u32 {
    50
}

/// humantime durations ("90s", "5m") in serde.
mod humantime_serde {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!("'{text}' is not a duration like 90s or 5m: {e}"))
        })
    }
}

impl Config {
    /// Reads a configuration file, applies the environment's overrides and
    /// checks it; plugin paths become relative to the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for plugin in &mut config.plugins {
            if plugin.path.is_relative() {
                plugin.path = base.join(&plugin.path);
            }
        }
        config.apply_env(|name| std::env::var(name).ok());
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text. The bindings' pricing percentages are read from
    /// the text of their literals, not through `f64` (see
    /// [`exact_percentages`]).
    pub fn parse(text: &str) -> Result<Config, String> {
        let text = exact_percentages(text)?;
        toml::from_str(&text).map_err(|e| e.to_string())
    }

    /// The configuration used when none is given: a demo shop bound to the
    /// example `csv-wholesaler` plugin, whose supplier API is expected at
    /// `supplier_url` (`cargo xtask demo` starts a fake one there).
    pub fn embedded_default(plugin_dir: &Path, supplier_url: &str) -> Config {
        let mut settings = BTreeMap::new();
        settings.insert("api-base-url".to_owned(), supplier_url.to_owned());
        settings.insert("api-key".to_owned(), "demo-supplier-key".to_owned());
        let mut config = Config {
            server: ServerConfig::default(),
            plugins: vec![
                PluginConfig {
                    name: "csv-wholesaler".into(),
                    path: plugin_dir.join("csv_wholesaler.wasm"),
                },
                PluginConfig {
                    name: "google-merchant".into(),
                    path: plugin_dir.join("google_merchant.wasm"),
                },
                PluginConfig {
                    name: "odoo".into(),
                    path: plugin_dir.join("odoo.wasm"),
                },
            ],
            shops: vec![ShopConfig {
                id: "demo".into(),
                key_id: "demo".into(),
                secret: "demo-secret".into(),
                callback_url: None,
                dispatch: DispatchPolicy::AtConfirmation,
            }],
            bindings: vec![BindingConfig {
                id: "demo-wholesaler".into(),
                shop: "demo".into(),
                plugin: "csv-wholesaler".into(),
                settings,
                skus: Vec::new(),
                sku_prefixes: vec![String::new()],
                wholesale: BTreeMap::new(),
                currency: default_currency(),
                // The demo supplier runs on this machine.
                allow_hosts: url::Url::parse(supplier_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .into_iter()
                    .collect(),
                allow_private_network: true,
                status_poll: Duration::from_secs(5),
                status_batch: default_status_batch(),
                catalog: None,
            }],
            operators: Vec::new(),
            integrators: Vec::new(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        config
    }

    /// The configuration as TOML, secrets masked: what `serve` prints.
    pub fn to_toml_masked(&self) -> String {
        let mut masked = self.clone();
        for shop in &mut masked.shops {
            shop.secret = mask(&shop.secret);
        }
        for binding in &mut masked.bindings {
            for (name, value) in binding.settings.iter_mut() {
                if looks_secret(name) {
                    *value = mask(value);
                }
            }
        }
        for holder in masked.operators.iter_mut().chain(&mut masked.integrators) {
            holder.token = mask(&holder.token);
        }
        toml::to_string_pretty(&masked).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// Applies the environment's overrides (see the module docs).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        if let Some(url) = env("SHOPBRIDGE_DATABASE_URL") {
            self.server.database = url;
        }
        if let Some(listen) = env("SHOPBRIDGE_LISTEN").and_then(|l| l.parse().ok()) {
            self.server.listen = listen;
        }
        for shop in &mut self.shops {
            if let Some(secret) = env(&format!("SHOPBRIDGE_SHOP_{}_SECRET", env_name(&shop.id))) {
                shop.secret = secret;
            }
        }
        for (role, holders) in [
            ("OPERATOR", &mut self.operators),
            ("INTEGRATOR", &mut self.integrators),
        ] {
            for holder in holders.iter_mut() {
                let name = format!("SHOPBRIDGE_{role}_{}_TOKEN", env_name(&holder.name));
                if let Some(token) = env(&name) {
                    holder.token = token;
                }
            }
        }
        for binding in &mut self.bindings {
            let prefix = format!("SHOPBRIDGE_BINDING_{}_", env_name(&binding.id));
            let names: Vec<String> = binding.settings.keys().cloned().collect();
            for name in names {
                if let Some(value) = env(&format!("{prefix}{}", env_name(&name))) {
                    binding.settings.insert(name, value);
                }
            }
        }
    }

    /// Checks that every reference resolves and nothing is ambiguous.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let mut plugins = HashSet::new();
        for plugin in &self.plugins {
            if !plugins.insert(plugin.name.as_str()) {
                return invalid(format!("plugin '{}' is declared twice", plugin.name));
            }
        }
        let mut shops = HashSet::new();
        let mut key_ids = HashSet::new();
        for shop in &self.shops {
            if !is_id(&shop.id) {
                return invalid(format!(
                    "shop id '{}' must be letters, digits, '-' or '_'",
                    shop.id
                ));
            }
            if !shops.insert(shop.id.as_str()) {
                return invalid(format!("shop '{}' is declared twice", shop.id));
            }
            if !key_ids.insert(shop.key_id.as_str()) {
                return invalid(format!("key id '{}' is used by two shops", shop.key_id));
            }
            if shop.secret.len() < 8 {
                return invalid(format!(
                    "shop '{}' has no secret of at least 8 characters (set it in the file or in SHOPBRIDGE_SHOP_{}_SECRET)",
                    shop.id,
                    env_name(&shop.id)
                ));
            }
            if let Some(url) = &shop.callback_url
                && url::Url::parse(url).is_err()
            {
                return invalid(format!(
                    "shop '{}': callback_url '{url}' is not a URL",
                    shop.id
                ));
            }
        }
        let mut bindings = HashSet::new();
        for binding in &self.bindings {
            if !is_id(&binding.id) {
                return invalid(format!(
                    "binding id '{}' must be letters, digits, '-' or '_'",
                    binding.id
                ));
            }
            if !bindings.insert(binding.id.as_str()) {
                return invalid(format!("binding '{}' is declared twice", binding.id));
            }
            if !shops.contains(binding.shop.as_str()) {
                return invalid(format!(
                    "binding '{}' names shop '{}', which is not declared",
                    binding.id, binding.shop
                ));
            }
            if !plugins.contains(binding.plugin.as_str()) {
                return invalid(format!(
                    "binding '{}' names plugin '{}', which is not declared",
                    binding.id, binding.plugin
                ));
            }
            if binding.status_poll < Duration::from_millis(100) {
                return invalid(format!(
                    "binding '{}': status_poll must be at least 100ms",
                    binding.id
                ));
            }
            if let Some(catalog) = &binding.catalog {
                for cron in [&catalog.full_sync, &catalog.prices_sync]
                    .into_iter()
                    .flatten()
                {
                    if let Err(e) = crate::catalog::schedule::parse(cron) {
                        return invalid(format!("binding '{}': {e}", binding.id));
                    }
                }
                if let Err(e) = catalog.pricing.check() {
                    return invalid(format!("binding '{}': pricing: {e}", binding.id));
                }
            }
            if binding.status_batch == 0 {
                return invalid(format!(
                    "binding '{}': status_batch must be at least 1",
                    binding.id
                ));
            }
        }
        let mut holders = HashSet::new();
        for (role, holder) in self
            .operators
            .iter()
            .map(|h| ("OPERATOR", h))
            .chain(self.integrators.iter().map(|h| ("INTEGRATOR", h)))
        {
            if !is_id(&holder.name) {
                return invalid(format!(
                    "{} name '{}' must be letters, digits, '-' or '_'",
                    role.to_ascii_lowercase(),
                    holder.name
                ));
            }
            if !holders.insert(holder.name.as_str()) {
                return invalid(format!(
                    "'{}' is declared twice among operators and integrators",
                    holder.name
                ));
            }
            let env = format!("SHOPBRIDGE_{role}_{}_TOKEN", env_name(&holder.name));
            if !holder.token.is_empty() {
                if holder.token.chars().count() < MIN_TOKEN_CHARS {
                    return invalid(format!(
                        "the token of '{}' is shorter than {MIN_TOKEN_CHARS} characters",
                        holder.name
                    ));
                }
            } else if holder.token_sha256.len() != 64
                || !holder.token_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return invalid(format!(
                    "'{}' needs token_sha256 (64 hex digits: printf %s \"$TOKEN\" | sha256sum) or a token in {env}",
                    holder.name
                ));
            }
        }
        // Two bindings of one shop must not claim the same SKU or prefix.
        for shop in &self.shops {
            let mut claimed: BTreeMap<String, &str> = BTreeMap::new();
            for binding in self.bindings.iter().filter(|b| b.shop == shop.id) {
                let claims = binding
                    .skus
                    .iter()
                    .map(|s| format!("sku {s}"))
                    .chain(binding.sku_prefixes.iter().map(|p| format!("prefix '{p}'")));
                for claim in claims {
                    if let Some(other) = claimed.insert(claim.clone(), &binding.id) {
                        return invalid(format!(
                            "shop '{}': {claim} is claimed by bindings '{other}' and '{}'",
                            shop.id, binding.id
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The configuration text with every float literal of a binding's
/// `[bindings.catalog] pricing` (`markup_percent`, `min_margin_percent`,
/// `overrides`) rewritten as a string of its exact decimal, so that
/// [`Percent`](crate::catalog::money::Percent) reads the digits written and
/// not the nearest `f64`; a literal (float or string) with more decimals
/// than the rules support, or out of range, is an error naming the binding,
/// the field and the line. Text that is not TOML is returned as it is, for
/// the TOML parser to say why.
fn exact_percentages(text: &str) -> Result<String, String> {
    use crate::catalog::money::Percent;
    use toml::de::{DeTable, DeValue};

    let Ok(document) = DeTable::parse(text) else {
        return Ok(text.to_owned());
    };
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let mut rewrites: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let bindings = document
        .get_ref()
        .get("bindings")
        .and_then(|b| match b.get_ref() {
            DeValue::Array(array) => Some(array),
            _ => None,
        });
    for (index, binding) in bindings.into_iter().flatten().enumerate() {
        let id = binding
            .get_ref()
            .get("id")
            .and_then(|id| id.get_ref().as_str())
            .map_or_else(|| format!("#{}", index + 1), |id| format!("'{id}'"));
        let Some(DeValue::Table(pricing)) = binding
            .get_ref()
            .get("catalog")
            .and_then(|c| c.get_ref().get("pricing"))
            .map(|p| p.get_ref())
        else {
            continue;
        };
        let mut fields: Vec<(String, &toml::Spanned<DeValue<'_>>)> = Vec::new();
        for (key, value) in pricing {
            match (key.get_ref().as_ref(), value.get_ref()) {
                ("markup_percent" | "min_margin_percent", _) => {
                    fields.push((key.get_ref().to_string(), value));
                }
                ("overrides", DeValue::Table(overrides)) => {
                    for (name, value) in overrides {
                        fields.push((format!("overrides.\"{}\"", name.get_ref()), value));
                    }
                }
                _ => {}
            }
        }
        for (field, value) in fields {
            let literal = match value.get_ref() {
                DeValue::Float(float) => float.as_str(),
                DeValue::String(string) => string.as_ref(),
                _ => continue,
            };
            let percent = Percent::parse(literal).map_err(|e| {
                format!(
                    "line {}: binding {id}: pricing.{field}: {e}",
                    line_of(value.span().start)
                )
            })?;
            if value.get_ref().is_float() {
                rewrites.push((value.span(), format!("\"{percent}\"")));
            }
        }
    }
    let mut exact = text.to_owned();
    rewrites.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, replacement) in rewrites {
        if exact.get(span.clone()).is_none() {
            return Err(format!(
                "line {}: cannot read a pricing percentage",
                line_of(span.start)
            ));
        }
        exact.replace_range(span, &replacement);
    }
    Ok(exact)
}

/// `demo-wholesaler` → `DEMO_WHOLESALER`.
pub fn env_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["key", "secret", "password", "token"]
        .iter()
        .any(|w| name.contains(w))
}

fn mask(secret: &str) -> String {
    if secret.is_empty() {
        String::new()
    } else {
        "********".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        [server]
        listen = "127.0.0.1:9999"
        database = "sqlite://x.db"

        [[plugins]]
        name = "w"
        path = "w.wasm"

        [[shops]]
        id = "s1"
        key_id = "k1"
        secret = "0123456789"

        [[bindings]]
        id = "b1"
        shop = "s1"
        plugin = "w"
        sku_prefixes = ["BB-"]
        status_poll = "2s"
        settings = { api-key = "file-key" }
    "#;

    #[test]
    fn parses_and_overrides_secrets_from_the_environment() {
        let mut config = Config::parse(SAMPLE).expect("parses");
        config.apply_env(|name| match name {
            "SHOPBRIDGE_SHOP_S1_SECRET" => Some("from-env-secret".into()),
            "SHOPBRIDGE_BINDING_B1_API_KEY" => Some("env-key".into()),
            _ => None,
        });
        config.validate().expect("valid");
        assert_eq!(config.shops[0].secret, "from-env-secret");
        assert_eq!(config.bindings[0].settings["api-key"], "env-key");
        assert_eq!(config.bindings[0].status_poll, Duration::from_secs(2));
        let printed = config.to_toml_masked();
        assert!(!printed.contains("from-env-secret") && !printed.contains("env-key"));
    }

    #[test]
    fn refuses_dangling_references_and_double_claims() {
        let mut config = Config::parse(SAMPLE).expect("parses");
        config.bindings[0].plugin = "missing".into();
        let e = config.validate().expect_err("dangling plugin");
        assert!(e.to_string().contains("'missing'"), "{e}");

        let mut config = Config::parse(SAMPLE).expect("parses");
        let mut other = config.bindings[0].clone();
        other.id = "b2".into();
        config.bindings.push(other);
        let e = config.validate().expect_err("double claim");
        assert!(e.to_string().contains("prefix 'BB-'"), "{e}");
    }

    #[test]
    fn tokens_come_hashed_from_the_file_or_in_clear_from_the_environment() {
        let text = format!(
            "{SAMPLE}\n[[operators]]\nname = \"ops\"\ntoken_sha256 = \"{}\"\n\n[[integrators]]\nname = \"acme-co\"\n",
            "ab".repeat(32)
        );
        let mut config = Config::parse(&text).expect("parses");
        config.apply_env(|_| None);
        let e = config.validate().expect_err("acme-co has no token");
        assert!(
            e.to_string()
                .contains("SHOPBRIDGE_INTEGRATOR_ACME_CO_TOKEN"),
            "{e}"
        );
        config.apply_env(|name| {
            (name == "SHOPBRIDGE_INTEGRATOR_ACME_CO_TOKEN").then(|| "short".to_owned())
        });
        let e = config.validate().expect_err("too short");
        assert!(e.to_string().contains("shorter than 16"), "{e}");
        config.apply_env(|name| {
            (name == "SHOPBRIDGE_INTEGRATOR_ACME_CO_TOKEN")
                .then(|| "a-long-enough-integrator-token".to_owned())
        });
        config.validate().expect("valid");
        assert!(!config.to_toml_masked().contains("a-long-enough"));
    }

    #[test]
    fn pricing_percentages_are_read_exactly_and_too_precise_ones_refused() {
        use crate::catalog::money::Percent;

        let with_pricing = |pricing: &str| {
            format!(
                "{SAMPLE}\n        [bindings.catalog]\n        feed_url = \"file:///f.csv\"\n        pricing = {pricing}\n"
            )
        };
        let config = Config::parse(&with_pricing(
            r#"{ markup_percent = 12.5, min_margin_percent = 1_0.0001, overrides = { "brand:Acme" = 25.0, "category:Maison" = "33.3333", "brand:Zed" = 7 } }"#,
        ))
        .expect("parses");
        let pricing = &config.bindings[0]
            .catalog
            .as_ref()
            .expect("catalog")
            .pricing;
        assert_eq!(pricing.markup_percent.units(), 125_000);
        assert_eq!(
            pricing.min_margin_percent.map(Percent::units),
            Some(100_001)
        );
        assert_eq!(pricing.overrides["brand:Acme"].units(), 250_000);
        assert_eq!(pricing.overrides["category:Maison"].units(), 333_333);
        assert_eq!(pricing.overrides["brand:Zed"].units(), 70_000);
        // Printed back and read again, the same.
        let printed = config.to_toml_masked();
        let again = Config::parse(&printed).expect("the printed configuration parses");
        assert_eq!(
            &again.bindings[0].catalog.as_ref().expect("catalog").pricing,
            pricing,
            "{printed}"
        );

        let e = Config::parse(&with_pricing("{ markup_percent = 12.34567 }"))
            .expect_err("five decimals");
        assert_eq!(
            e,
            "line 25: binding 'b1': pricing.markup_percent: 12.34567 has more decimals than the 4 the pricing rules support"
        );
        let e = Config::parse(&with_pricing(
            r#"{ overrides = { "brand:Acme" = "0.00001" } }"#,
        ))
        .expect_err("five decimals in a string");
        assert!(
            e.contains("pricing.overrides.\"brand:Acme\": 0.00001 has more decimals"),
            "{e}"
        );
        let e = Config::parse(&with_pricing("{ min_margin_percent = 1e7 }")).expect_err("range");
        assert!(
            e.contains("pricing.min_margin_percent: 1e7 is out of range"),
            "{e}"
        );
        let e = Config::parse(&with_pricing("{ markup_percent = nan }")).expect_err("nan");
        assert!(e.contains("is not a decimal number"), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors_with_a_position() {
        let e = Config::parse("[server]\nlisten_on = 1\n").expect_err("unknown key");
        assert!(e.contains("listen_on"), "{e}");
    }
}

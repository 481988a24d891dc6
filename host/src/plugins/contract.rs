//! Does a component fit the `shopbridge:connector@0.1` contract?
//!
//! A plugin must export the four interfaces of the `connector` world at a
//! 0.1.x version, and may import only the three host interfaces and the
//! minimal WASI a `wasm32-wasip2` Rust program links (cli, io, clocks,
//! random, and the filesystem types with no preopened directory). Anything
//! else (sockets, HTTP outside the host's import, another package) is
//! refused with the name of the offending import.

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::runtime::PluginError;
use crate::runtime::bindings::shopbridge::connector::types::Metadata;

/// The contract's package and the versions this host accepts.
const PACKAGE: &str = "shopbridge:connector";
const COMPATIBLE_VERSION: &str = "0.1.";

/// What the contract requires a plugin to export.
const REQUIRED_EXPORTS: [&str; 4] = ["plugin", "catalog", "orders", "status"];
/// The host interfaces a plugin may import (`types` holds only types: it is
/// imported by every component whose exports use them).
const HOST_IMPORTS: [&str; 4] = ["types", "http", "log", "settings"];
/// WASI interfaces a plugin may import: what Rust's standard library links
/// for wasm32-wasip2. All are served with no filesystem, no environment and
/// no network.
const ALLOWED_WASI: [&str; 16] = [
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
];
const ALLOWED_WASI_EXTRA: [&str; 4] = [
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
];

/// The imports and exports of a component, by name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComponentReport {
    /// Names of the component's imports ("wasi:io/streams@0.2.6", …).
    pub imports: Vec<String>,
    /// Names of the component's exports.
    pub exports: Vec<String>,
}

/// Whether `bytes` start like a component (not a core module).
pub(super) fn looks_like_component(bytes: &[u8]) -> bool {
    // "\0asm", then version 0x0d and layer 1 for components (core modules: 1, 0).
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [1, 0] && bytes[4] != 1
}

/// Lists a compiled component's imports and exports and checks them against
/// the contract.
pub fn inspect_component(
    engine: &Engine,
    component: &Component,
) -> Result<ComponentReport, PluginError> {
    let ty = component.component_type();
    let imports: Vec<String> = ty
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();

    for name in &imports {
        if !import_allowed(name) {
            return Err(PluginError::ForbiddenImport(format!(
                "it imports '{name}', which the host does not lend (allowed: {PACKAGE}/{{http,log,settings}}@0.1 and minimal WASI 0.2 without sockets)"
            )));
        }
    }
    for wanted in REQUIRED_EXPORTS {
        let found = exports
            .iter()
            .find(|e| split(e).0 == format!("{PACKAGE}/{wanted}"));
        match found {
            None => {
                return Err(PluginError::Contract(format!(
                    "it does not export '{PACKAGE}/{wanted}' (is it built with the Shopbridge guest SDK's export_connector!?)"
                )));
            }
            Some(name) => {
                let version = split(name).1;
                if !version.is_some_and(|v| v.starts_with(COMPATIBLE_VERSION)) {
                    return Err(PluginError::Contract(format!(
                        "it exports '{name}', but this host speaks {PACKAGE}@0.1.x"
                    )));
                }
            }
        }
    }
    Ok(ComponentReport { imports, exports })
}

/// Checks what a plugin says about itself.
pub(super) fn check_metadata(metadata: &Metadata) -> Result<(), PluginError> {
    let name_ok = !metadata.name.is_empty()
        && metadata.name.len() <= 64
        && metadata
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !name_ok {
        return Err(PluginError::Contract(format!(
            "its name '{}' is not lower-case kebab-case of at most 64 characters",
            metadata.name
        )));
    }
    let version_ok = metadata.version.split('.').count() == 3
        && metadata
            .version
            .split(['.', '-', '+'])
            .next()
            .is_some_and(|major| major.parse::<u64>().is_ok());
    if !version_ok {
        return Err(PluginError::Contract(format!(
            "its version '{}' is not a semver version",
            metadata.version
        )));
    }
    for host in &metadata.hosts {
        let valid = host == "*"
            || host
                .strip_prefix("*.")
                .unwrap_or(host)
                .split('.')
                .all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
        if !valid {
            return Err(PluginError::Contract(format!(
                "it declares the host '{host}', which is not a host name, '*.domain' or '*'"
            )));
        }
    }
    Ok(())
}

fn import_allowed(name: &str) -> bool {
    let (interface, version) = split(name);
    if let Some(rest) = interface
        .strip_prefix(PACKAGE)
        .and_then(|r| r.strip_prefix('/'))
    {
        return HOST_IMPORTS.contains(&rest)
            && version.is_some_and(|v| v.starts_with(COMPATIBLE_VERSION));
    }
    (ALLOWED_WASI.contains(&interface) || ALLOWED_WASI_EXTRA.contains(&interface))
        && version.is_some_and(|v| v.starts_with("0.2."))
}

/// `"wasi:io/streams@0.2.6"` → `("wasi:io/streams", Some("0.2.6"))`.
fn split(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((interface, version)) => (interface, Some(version)),
        None => (name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports() {
        assert!(import_allowed("wasi:io/streams@0.2.6"));
        assert!(import_allowed("shopbridge:connector/http@0.1.0"));
        assert!(import_allowed("shopbridge:connector/settings@0.1.3"));
        assert!(!import_allowed("shopbridge:connector/http@0.2.0"));
        assert!(!import_allowed("wasi:sockets/tcp@0.2.6"));
        assert!(!import_allowed("wasi:http/outgoing-handler@0.2.6"));
        assert!(!import_allowed("wasi:io/streams@0.3.0"));
    }

    #[test]
    fn component_magic() {
        assert!(looks_like_component(b"\0asm\x0d\x00\x01\x00rest"));
        assert!(!looks_like_component(b"\0asm\x01\x00\x00\x00rest"));
        assert!(!looks_like_component(b"<?xml"));
    }
}

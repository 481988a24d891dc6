//! The catalog: supplier feeds turned into the shop's products. A sync
//! (a job, see [`crate::jobs`]) fetches the binding's feed, streams it
//! through the plugin's parser, and keeps only what changed: each product
//! has a content hash of what the supplier said and what the rules made of
//! it, so an unchanged product costs no write. `rules` holds the host's
//! pricing, availability and category rules; `schedule` the cron
//! expressions of the syncs.

pub mod money;
#[cfg(test)]
mod pricing_proptests;
pub mod rules;
pub mod schedule;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// A SKU by its 128-bit digest: a sync keeps one of these per stored
/// product instead of the SKU itself, so a million products cost tens of
/// MiB whatever their SKUs' length. 128 bits: two SKUs of one binding
/// sharing a key is as likely as a SHA-256 collision, never in practice.
pub type SkuKey = u128;

/// The key of `sku`.
pub fn sku_key(sku: &str) -> SkuKey {
    let digest = Sha256::digest(sku.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

/// What a sync knows of one product of its binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// Its content hash as stored (see [`content_hash`]).
    pub hash: i64,
    /// Stored, marked removed.
    pub removed: bool,
    /// Given by the feed of this sync already.
    pub seen: bool,
}

/// A binding's products as a sync sees them: stored ones first, then each
/// SKU the feed gives, by [`SkuKey`].
pub type KnownProducts = HashMap<SkuKey, Known>;

/// The content hash of a product and its shop view (both as JSON).
pub fn content_hash(product_json: &str, view_json: &str) -> i64 {
    let mut hash = Sha256::new();
    hash.update(product_json.as_bytes());
    hash.update([0]);
    hash.update(view_json.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// The top-level fields that differ between two products (JSON objects).
pub fn changed_fields(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return vec!["*".into()];
    };
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

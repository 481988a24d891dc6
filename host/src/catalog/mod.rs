//! The catalog: supplier feeds turned into the shop's products. A sync
//! (a job, see [`crate::jobs`]) fetches the binding's feed, streams it
//! through the plugin's parser, and keeps only what changed: each product
//! has a content hash of what the supplier said and what the rules made of
//! it, so an unchanged product costs no write. `rules` holds the host's
//! pricing, availability and category rules; `schedule` the cron
//! expressions of the syncs.

pub mod rules;
pub mod schedule;

use sha2::{Digest, Sha256};

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

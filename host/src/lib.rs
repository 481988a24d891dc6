//! Shopbridge host library. See `ARCHITECTURE.md` at the repository root.

pub mod feed;
pub mod plugins;
pub mod runtime;

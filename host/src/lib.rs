//! Shopbridge host library. See `ARCHITECTURE.md` at the repository root.

pub mod api;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod conformance;
pub mod feed;
pub mod fixtures;
pub mod jobs;
pub mod lifecycle;
pub mod metrics;
pub mod orders;
pub mod plugins;
pub mod registry;
pub mod runtime;
pub mod server;
pub mod shadow;
pub mod signature;
pub mod store;

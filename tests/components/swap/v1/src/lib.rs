//! Version 1.0.0 of the `swap` test plugin.

/// The version this build declares; supplier references start with `v1-`.
const VERSION: &str = "1.0.0";

include!("../../connector.rs");

//! Version 2.0.0 of the `swap` test plugin.

/// The version this build declares; supplier references start with `v2-`.
const VERSION: &str = "2.0.0";

include!("../../connector.rs");

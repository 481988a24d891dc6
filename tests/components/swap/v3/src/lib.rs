//! Version 3.0.0 of the `swap` test plugin: it crashes on an order whose
//! address has no first line, a planted regression that the conformance
//! suite must catch.

/// The version this build declares; supplier references start with `v3-`.
const VERSION: &str = "3.0.0";

include!("../../connector.rs");

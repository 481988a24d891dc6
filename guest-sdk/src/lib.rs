//! The Shopbridge guest SDK: everything a connector author needs.
//!
//! A connector is a Rust crate built for `wasm32-wasip2`. It implements
//! [`Connector`] (and, for a catalog, [`FeedParse`]) and exports itself with
//! [`export_connector!`]:
//!
//! ```ignore
//! use shopbridge_guest_sdk::{prelude::*, export_connector};
//!
//! struct MySupplier;
//! impl Connector for MySupplier {
//!     fn metadata() -> Metadata { /* name, version, capabilities… */ }
//!     fn open_feed(_content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
//!         Ok(Box::new(MyParser::default()))
//!     }
//! }
//! export_connector!(MySupplier);
//! ```
//!
//! Every capability has a default that answers `unsupported`, so a
//! catalog-only connector implements only `metadata` and `open_feed`.
//!
//! The helpers every connector needs:
//! - [`money`]: "12,99 EUR", "1 299,00", "12.99" into integer minor units;
//! - [`encoding`]: feeds in windows-1252, ISO-8859-x or UTF-16 decoded to
//!   UTF-8 as they stream (the XML and CSV readers use it);
//! - [`xml`]: a streaming record splitter over quick-xml that keeps the
//!   unconsumed bytes between chunks and never expands custom entities;
//! - [`csv`]: a streaming CSV reader with a configurable delimiter and header
//!   mapping;
//! - [`http`]: requests through the host's HTTP import, with JSON helpers;
//! - [`settings`] and [`log`]: the other two host imports;
//! - [`testing`]: on the native target, the same imports answered by the test
//!   itself, so connector logic is unit-tested with a plain `cargo test`.

pub mod csv;
pub mod encoding;
pub mod http;
pub mod log;
pub mod money;
pub mod settings;
pub mod testing;
pub mod xml;

#[doc(hidden)]
pub mod export;

/// The code generated from `wit/connector.wit`.
#[allow(missing_docs, unreachable_pub, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "connector",
        pub_export_macro: true,
        export_macro_name: "export",
        default_bindings_module: "shopbridge_guest_sdk::bindings",
        generate_all,
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::shopbridge::connector::types::{
    Address, Attribute, Availability, Capability, FeedError, FeedRecord, FieldIssue, Metadata,
    Money, Order, OrderError, OrderLine, OrderState, Product, ProductVariant, Rejection,
    SettingSpec, Shipment, StatusUpdate, Submission, TransientFailure,
};

/// Everything a connector usually imports.
pub mod prelude {
    pub use crate::{
        Address, Attribute, Availability, Capability, Connector, FeedError, FeedParse, FeedRecord,
        FieldIssue, Metadata, Money, Order, OrderError, OrderLine, OrderState, Product,
        ProductVariant, Rejection, SettingSpec, Shipment, StatusUpdate, Submission,
        TransientFailure,
    };
}

/// A supplier connector. Implement `metadata` and the capabilities the
/// supplier offers; the others answer `unsupported`.
pub trait Connector: 'static {
    /// Who the connector is and what it needs. Must not use HTTP.
    fn metadata() -> Metadata;

    /// Starts parsing one feed (`catalog` capability).
    fn open_feed(content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        let _ = content_type;
        Err(FeedError::Unsupported)
    }

    /// Checks an order with the supplier without placing it (`orders`).
    fn check_order(order: Order) -> Result<(), OrderError> {
        let _ = order;
        Err(OrderError::Unsupported)
    }

    /// Places an order, idempotent on `order.idempotency_key` (`orders`).
    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        let _ = order;
        Err(OrderError::Unsupported)
    }

    /// Cancels a submitted order (`orders`).
    fn cancel_order(supplier_reference: String, reason: Option<String>) -> Result<(), OrderError> {
        let _ = (supplier_reference, reason);
        Err(OrderError::Unsupported)
    }

    /// The current state of these supplier orders (`status`).
    fn poll_status(supplier_references: Vec<String>) -> Result<Vec<StatusUpdate>, OrderError> {
        let _ = supplier_references;
        Err(OrderError::Unsupported)
    }
}

/// A streaming feed parser: the host pushes the feed's bytes in chunks cut
/// anywhere, then calls `finish` once.
pub trait FeedParse {
    /// Consumes the next bytes and returns the records they completed.
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError>;
    /// Ends the feed: returns the last records, or `malformed` when the feed
    /// stopped mid-record.
    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError>;
}

/// Exports a type implementing [`Connector`] as the component's `connector`
/// world. Only expands on `wasm32`, so a connector crate also builds (and is
/// unit-tested, and benchmarked) natively.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __ShopbridgeExport = $crate::export::Exported<$connector>;
    $crate::bindings::export!(__ShopbridgeExport with_types_in $crate::bindings);
        };
    };
}

impl Product {
    /// A product with only its SKU, name and availability set.
    pub fn new(sku: impl Into<String>, name: impl Into<String>) -> Self {
        Product {
            sku: sku.into(),
            gtin: None,
            mpn: None,
            brand: None,
            name: name.into(),
            description: None,
            category_path: Vec::new(),
            link: None,
            image_urls: Vec::new(),
            wholesale_price: None,
            retail_price: None,
            sale_price: None,
            vat_rate_basis_points: None,
            stock_quantity: None,
            availability: Availability::InStock,
            lead_time_days: None,
            weight_grams: None,
            minimum_order_quantity: None,
            group_id: None,
            attributes: Vec::new(),
            variants: Vec::new(),
        }
    }
}

impl Rejection {
    /// A rejection with a reason, and the SKU and position when known.
    pub fn new(sku: Option<String>, position: Option<String>, reason: impl Into<String>) -> Self {
        Rejection {
            sku,
            position,
            reason: reason.into(),
        }
    }
}

impl FieldIssue {
    /// A field-level problem: `FieldIssue::new("shipping-address.postal-code", "missing", "…")`.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldIssue {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

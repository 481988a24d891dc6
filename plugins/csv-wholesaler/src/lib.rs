//! Shopbridge connector for a wholesaler that publishes its catalogue as a
//! CSV file and takes orders through a BigBuy-style REST/JSON API.
//!
//! - **Catalog** ([`feed`]): a CSV feed, `;`, `,`, tab or `|` separated
//!   (guessed by default), whose columns are mapped onto products by the
//!   `columns` setting and built-in defaults that match common French and
//!   English exports. Prices in French notation (`12,99`), EAN with their
//!   leading zeros, stock and availability words (`En stock`, `Rupture`,
//!   `Sur commande`, `Précommande`, `Arrêté`), VAT rates, weights and
//!   variations by parent SKU. A bad row is rejected with its line; the feed
//!   goes on. [`CsvFeedParser`] is the same parser for native use.
//! - **Orders** and **status** ([`api`]): check, create (idempotent on the
//!   order's idempotency key, sent as `internalReference`), cancel, and
//!   status polling with tracking by batch. The exact REST dialect,
//!   for whoever fakes the supplier in tests, is in [`api`]'s documentation.
//!
//! # Settings
//!
//! | name | default | meaning |
//! |------|---------|---------|
//! | `delimiter` | `auto` | `;`, `,`, `tab`, `\|` or `auto` (guessed from the header line) |
//! | `encoding` | `utf-8` | the file's text encoding: any WHATWG label (`windows-1252` for an Excel export, `iso-8859-15`, `utf-16le`…) or `auto` (UTF-8 when the first 64 KiB are, else windows-1252); a byte order mark always wins |
//! | `columns` | built-in | `field=Column[\|Other];…`, e.g. `sku=Reference;wholesale_price=PrixHT;ean=` (an empty list turns a field off); fields: see [`feed::Field`] |
//! | `currency` | `EUR` | currency of prices that do not name theirs, and of order totals |
//! | `category-separator` | ` > ` | between the levels of a category path |
//! | `weight-unit` | `kg` | `kg`, `g`, `lb` or `oz` |
//! | `api-base-url` | — | the API's root, e.g. `https://api.bigbuy.eu` (orders and status) |
//! | `api-key` | — | secret; sent as a Bearer token |
//! | `carrier` | — | carrier name to request; else the order's shipping method |
//! | `language` | `fr` | language of the supplier's documents |
//! | `payment-method` | `moneybox` | how the supplier is paid |

pub mod api;
pub mod feed;
mod values;

pub use feed::{CsvFeedParser, FeedConfig, WeightUnit};
use shopbridge_guest_sdk::{
    Capability, Connector, FeedError, FeedParse, Metadata, Order, OrderError, SettingSpec,
    StatusUpdate, Submission, export_connector,
};

/// The connector.
pub struct CsvWholesaler;

fn setting(
    name: &str,
    description: &str,
    default_value: Option<&str>,
    secret: bool,
) -> SettingSpec {
    SettingSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        required: false,
        secret,
        default_value: default_value.map(str::to_owned),
    }
}

impl Connector for CsvWholesaler {
    fn metadata() -> Metadata {
        Metadata {
            name: "csv-wholesaler".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description:
                "A wholesaler with a CSV product feed (any delimiter, columns mapped by a \
                          setting, French number formats, variations by parent SKU) and a \
                          BigBuy-style REST/JSON API for orders, cancellations and tracking."
                    .to_owned(),
            capabilities: vec![Capability::Catalog, Capability::Orders, Capability::Status],
            settings: vec![
                setting(
                    "delimiter",
                    "The feed's field delimiter: ;  ,  tab  |  or auto to guess it from the header line.",
                    Some("auto"),
                    false,
                ),
                setting(
                    "encoding",
                    "The feed's text encoding: utf-8, windows-1252 (Excel's \"CSV\" on Windows), \
                     iso-8859-15, utf-16le… (any WHATWG label), or auto: UTF-8 when the first \
                     64 KiB are valid UTF-8, else windows-1252. A byte order mark always wins.",
                    Some("utf-8"),
                    false,
                ),
                setting(
                    "columns",
                    "Which column holds which field, as field=Column;… (e.g. sku=Reference;wholesale_price=PrixHT); \
                     fields not named keep their defaults.",
                    None,
                    false,
                ),
                setting(
                    "currency",
                    "The ISO 4217 currency of prices that do not name theirs.",
                    Some("EUR"),
                    false,
                ),
                setting(
                    "category-separator",
                    "What separates the levels of the category column.",
                    Some(" > "),
                    false,
                ),
                setting(
                    "weight-unit",
                    "The unit of the weight column: kg, g, lb or oz.",
                    Some("kg"),
                    false,
                ),
                setting(
                    "api-base-url",
                    "The root URL of the wholesaler's order API, e.g. https://api.bigbuy.eu (needed for orders and status).",
                    None,
                    false,
                ),
                setting(
                    "api-key",
                    "The API key, sent as a Bearer token (needed for orders and status).",
                    None,
                    true,
                ),
                setting(
                    "carrier",
                    "The carrier to ask for; when empty, the order's shipping method.",
                    None,
                    false,
                ),
                setting(
                    "language",
                    "The language of the wholesaler's documents.",
                    Some("fr"),
                    false,
                ),
                setting(
                    "payment-method",
                    "How the wholesaler is paid.",
                    Some("moneybox"),
                    false,
                ),
            ],
            hosts: vec!["*".to_owned()],
        }
    }

    fn open_feed(_content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        Ok(Box::new(CsvFeedParser::from_settings()?))
    }

    fn check_order(order: Order) -> Result<(), OrderError> {
        api::check_order(&order)
    }

    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        api::submit_order(&order)
    }

    fn cancel_order(supplier_reference: String, reason: Option<String>) -> Result<(), OrderError> {
        api::cancel_order(&supplier_reference, reason.as_deref())
    }

    fn poll_status(supplier_references: Vec<String>) -> Result<Vec<StatusUpdate>, OrderError> {
        api::poll_status(&supplier_references)
    }
}

export_connector!(CsvWholesaler);

//! Shopbridge connector for [Printful], a print-on-demand dropshipper,
//! through its v2 order API as its OpenAPI document describes it
//! (`../shared/fixtures/supplier-apis/printful-v2-openapi.json`, 2.0.0-beta):
//! orders are created as drafts and confirmed, cancelled while Printful
//! still allows it, and polled with their shipments, tracking and invoice.
//!
//! The catalog is **unsupported**: the document's catalog
//! (`/v2/catalog-products`) is Printful's blank products with their base
//! prices, not what a shop sells; a shop sells its store's products (sync
//! products, with their designs), which this document does not list (they
//! are API v1's `/store/products`).
//!
//! [Printful]: https://developers.printful.com/docs/v2-beta/
//!
//! # Settings
//!
//! | name | default | meaning |
//! |------|---------|---------|
//! | `api-key` | — | secret; a private token (or OAuth access token) with the `orders` scope, sent as `authorization: Bearer …` |
//! | `store-id` | — | the store orders go to, sent as `X-PF-Store-Id`; needed with an account-level token |
//! | `api-base-url` | `https://api.printful.com` | the API's root |
//! | `sku-mode` | `sync` | what a SKU names: `sync`, a sync variant of the store (a product with its design); `catalog`, a catalog variant (a blank product), printed with `placements` |
//! | `sku-prefix` | — | removed from a SKU before it is read as a variant id (`pf-` for SKUs `pf-4011`); a SKU without it is `unknown-sku` |
//! | `placements` | — | with `sku-mode` `catalog` (and then required): the design of every item, a JSON array of placements as the API takes them (`[{"placement": "front", "technique": "dtg", "layers": [{"type": "file", "url": "https://…"}]}]`) |
//! | `shipping` | — | Printful's shipping method (`STANDARD`, `EXPRESS`…); else Printful's default (`STANDARD`). The order's own shipping method is not sent: it is the shop's name, not one of Printful's |
//! | `confirm-orders` | `true` | `false` leaves each order as a draft for a person to confirm in Printful's dashboard (nothing is charged until then) |
//! | `invoices` | `data-url` | `data-url`: a fulfilled order's status carries its invoice as a `data:application/pdf;base64,…` URL (the API returns the document, not a link: this is the form its documentation suggests); `none`: no invoice |
//!
//! The metadata declares the hosts `*`, since `api-base-url` may point
//! elsewhere (a test double, a proxy); the binding's own allow-list should
//! say `api.printful.com`.
//!
//! # Calls
//!
//! `{base}` is `api-base-url` without its trailing `/`. Every request
//! carries `authorization: Bearer {api-key}`, `accept: application/json`
//! and, when `store-id` is set, `x-pf-store-id`; those with a body
//! `content-type: application/json`. v2 answers wrap their payload in
//! `{"data": …}`. `{order_id}` in a path is Printful's order id, or `@`
//! and an external id (the document's `OrderId` parameter), percent-encoded.
//!
//! ## `submit-order`
//!
//! Before any request, the order is checked: the shipping address needs a
//! name (`first-name` or `last-name`; reported on `last-name`), `line1`,
//! `city` and a two-letter `country-code` (`missing` / `invalid`), and a
//! `region` in the US, Canada and Australia, where Printful needs a state
//! code (`missing`). The postal code is left to Printful, which knows
//! where one is needed. There must be lines, each with a quantity above 0
//! (`lines[i].quantity`, `invalid`) and a SKU that is, once `sku-prefix` is
//! removed, a variant id: digits (`lines[i].sku`, `missing` /
//! `unknown-sku`). All issues come back at once as `needs-attention`.
//! Then:
//!
//! 1. `GET {base}/v2/orders/@{idempotency-key}`: an order Printful already
//!    has under this external id is the answer. A `draft` (a submission cut
//!    short between the draft and its confirmation) or a `failed` one is
//!    confirmed (step 3), never created again; a `canceled` one is
//!    `rejected`; any other status is a confirmed order, returned as it is.
//! 2. Else (404) `POST {base}/v2/orders` creates the draft (see [the
//!    body](#the-order-body)). A 400 saying the external id exists already (a
//!    submission of the same key at the same moment) reads that order
//!    instead.
//! 3. `POST {base}/v2/orders/{id}/confirmation`, without a body (unless
//!    `confirm-orders` is false). When Printful refuses it (400, 409) and
//!    the order, read again, is no longer a draft (a submission of the
//!    same key confirmed it meanwhile), that order is the answer.
//!
//! The submission's reference is Printful's order **id** (`"123"`), the key
//! for status and cancel; its wholesale total is the order's `costs.total`
//! in `costs.currency` once `calculation_status` is `done` (Printful
//! calculates costs asynchronously: right after a confirmation there is
//! often none yet). A draft whose confirmation Printful refuses stays a
//! draft in the dashboard; a retry with the same key confirms it again.
//!
//! ## The order body
//!
//! ```json
//! {"external_id": "<idempotency-key>",
//!  "shipping": "<shipping setting, when set>",
//!  "recipient": {"name": "Jeanne Martin", "company": "Atelier M",
//!    "address1": "12 rue des Lilas", "address2": "Bâtiment B", "city": "Paris",
//!    "state_code": "CA", "country_code": "FR", "zip": "75011",
//!    "phone": "+33612345678", "email": "jeanne@example.com"},
//!  "order_items": [{"source": "sync", "sync_variant_id": 4011, "quantity": 2,
//!    "external_id": "<line.sku>", "retail_price": "15.99", "name": "<line.name>"}],
//!  "customization": {"packing_slip": {"custom_order_id": "<order.reference>"}},
//!  "retail_costs": {"currency": "EUR"}}
//! ```
//!
//! - `name` is the first and last names; a region of one to three letters
//!   or digits is a `state_code` (upper-cased), a longer one a
//!   `state_name`; `email` is the address's, else the order's customer
//!   email. Empty fields are left out. The billing address is not sent:
//!   Printful invoices the store.
//! - `order_items[i]` is `lines[i]`. With `sku-mode` `catalog`, an item is
//!   `{"source": "catalog", "catalog_variant_id": …, "placements": <the
//!   placements setting>, …}`. The item's `external_id` is the line's SKU,
//!   so that a shipment's items name the SKUs they hold. The document's
//!   request schema lists only catalog items; its prose documents the
//!   `sync` source.
//! - `retail_price` (what the customer paid for one unit, VAT included) and
//!   `retail_costs.currency` are sent when every line is in one currency:
//!   Printful prints them on packing slips and customs declarations.
//! - The shop's order reference is printed on the packing slip
//!   (`custom_order_id`). Printful has no field for the order's note: it is
//!   not sent.
//!
//! ## `check-order`
//!
//! The checks made before any request; nothing is sent (the document's
//! only check, `POST /v2/shipping-rates`, takes catalog items, not the
//! store's products).
//!
//! ## `cancel-order`
//!
//! `GET {base}/v2/orders/{id}` (404: `rejected`, no such order), then by
//! its status:
//!
//! - `canceled`: `ok`, nothing to do;
//! - `draft` or `failed` (never charged): `DELETE {base}/v2/orders/{id}`,
//!   which deletes it (v2's DELETE deletes; the order then no longer
//!   exists, and status polling leaves it out);
//! - `pending`: `DELETE {base}/orders/{id}`: the document's notes for the
//!   beta say to cancel with this API v1 call (it answers
//!   `{"code": 200, "result": {order}}`);
//! - `inprocess`, `onhold`, `partial`, `fulfilled`: `rejected` without a
//!   request: the order is in production and Printful no longer cancels it.
//!
//! A 2xx is `ok`; a 400, 404 or 409 to the DELETE (Printful moved the
//! order on meanwhile) is `rejected` with Printful's message. Printful
//! takes no cancellation reason: it is only logged.
//!
//! ## `poll-status`
//!
//! The document has no batch read of orders by id (`GET /v2/orders` pages
//! through the whole store, without filters), so each reference is one
//! `GET {base}/v2/orders/{id}`; a `partial`, `fulfilled` or `onhold` order
//! adds `GET {base}/v2/orders/{id}/shipments?limit=100&offset=0` (more
//! pages while `paging.total` says so), and a `fulfilled` one `GET
//! {base}/v2/orders/{id}/invoices` (unless `invoices` is `none`). Unknown
//! references (404, or a reference Printful refuses to read) are left out.
//! The state mapping is a table in [`status`]. A shipment that left
//! (`shipment_status` `shipped` or `returned`) is a parcel: its `carrier`
//! (else `service`), `tracking_url`, `tracking_number` when the answer has
//! one (the document's `Shipment` has none; Printful's shipment webhooks
//! carry it), and the SKUs of its `shipment_items` (their
//! `order_item_external_id`, else the external id of the order item they
//! name). `changed-at` is the order's `updated_at`.
//!
//! A poll takes one to three requests per order, and the host allows 32 per
//! call: a batch of up to 10 orders always completes. When Printful
//! rate-limits or fails, or the call's request budget is spent, part way
//! through a batch, the updates gathered so far are returned and the rest
//! left out, to be asked again at the next poll; only a failure before
//! the first update is an error.
//!
//! # Errors
//!
//! Printful's 4xx answers are `{"code": 400, "result": "<message>",
//! "error": {"reason": "BadRequest", "message": "<message>"}}`; its 5xx
//! answers RFC 7807 problem details (`title`, `details`).
//!
//! | answer | order error |
//! |--------|-------------|
//! | 401, 403 | `configuration` (the token is refused, or lacks the scope) |
//! | 400 naming `store_id` | `configuration` (`store-id`) |
//! | 400 naming fields | `needs-attention`, see below |
//! | any other 400 | `rejected`, quoting Printful |
//! | 429 | `transient`, `retry-after-seconds` from `Retry-After` (else `X-Ratelimit-Reset`, rounded up) |
//! | 5xx | `transient` |
//! | 409 "… try again …" (a concurrent update) | `transient` |
//! | any other 409, other 4xx | `rejected` |
//! | timeout, connection failure | `transient` |
//!
//! A 400's fields come from a list of `errors` in the document's `Error`
//! schema when the answer has one (`source.pointer` `/recipient/zip` is
//! `shipping-address.postal-code`, `/order_items/1/sync_variant_id` is
//! `lines[1].sku`), else from its message, as Printful writes them:
//! `Recipient: ZIP/Postal code is required` (`shipping-address.postal-code`,
//! `missing`), `Recipient: Invalid state code` (`region`, `invalid`);
//! the postal code, state, country, city, phone, email, address line and
//! name are recognised, in that order. `Item 1: Sync variant not found`
//! is `lines[1].sku` `unknown-sku` (`out-of-stock` for a discontinued or
//! out-of-stock one; `lines[1].quantity` when the message is about the
//! quantity); items are counted from 0, as the array sent.

pub mod client;
pub mod orders;
pub mod status;
mod values;

use shopbridge_guest_sdk::{
    Capability, Connector, Metadata, Order, OrderError, SettingSpec, StatusUpdate, Submission,
    export_connector,
};

/// The connector.
pub struct PrintfulConnector;

fn setting(
    name: &str,
    description: &str,
    required: bool,
    default_value: Option<&str>,
    secret: bool,
) -> SettingSpec {
    SettingSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        required,
        secret,
        default_value: default_value.map(str::to_owned),
    }
}

impl Connector for PrintfulConnector {
    fn metadata() -> Metadata {
        Metadata {
            name: "printful".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Printful's v2 order API: orders are created as drafts under the \
                          order's key and confirmed (a retry confirms the same draft), \
                          cancelled while Printful allows it, and polled with their shipments, \
                          tracking and invoice."
                .to_owned(),
            capabilities: vec![Capability::Orders, Capability::Status],
            settings: vec![
                setting(
                    "api-key",
                    "A Printful private token with the orders scope.",
                    true,
                    None,
                    true,
                ),
                setting(
                    "store-id",
                    "The Printful store orders go to (needed with an account-level token).",
                    false,
                    None,
                    false,
                ),
                setting(
                    "api-base-url",
                    "The root URL of Printful's API.",
                    false,
                    Some(client::DEFAULT_BASE_URL),
                    false,
                ),
                setting(
                    "sku-mode",
                    "What SKUs name: sync (a sync variant of the store) or catalog (a catalog \
                     variant, printed with the placements setting).",
                    false,
                    Some("sync"),
                    false,
                ),
                setting(
                    "sku-prefix",
                    "Removed from SKUs before they are read as variant ids, e.g. pf-.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "placements",
                    "With sku-mode catalog: the design of every item, as a JSON array of \
                     placements.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "shipping",
                    "Printful's shipping method (STANDARD, EXPRESS…); empty: Printful's default.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "confirm-orders",
                    "Whether drafts are confirmed, or left for a person to confirm.",
                    false,
                    Some("true"),
                    false,
                ),
                setting(
                    "invoices",
                    "data-url: a fulfilled order's status carries its invoice as a data: URL; \
                     none: no invoice.",
                    false,
                    Some("data-url"),
                    false,
                ),
            ],
            hosts: vec!["*".to_owned()],
        }
    }

    fn check_order(order: Order) -> Result<(), OrderError> {
        orders::check_order(&order)
    }

    fn submit_order(order: Order) -> Result<Submission, OrderError> {
        orders::submit_order(&order)
    }

    fn cancel_order(supplier_reference: String, reason: Option<String>) -> Result<(), OrderError> {
        orders::cancel_order(&supplier_reference, reason.as_deref())
    }

    fn poll_status(supplier_references: Vec<String>) -> Result<Vec<StatusUpdate>, OrderError> {
        status::poll_status(&supplier_references)
    }
}

export_connector!(PrintfulConnector);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_declares_orders_and_status_only() {
        let metadata = PrintfulConnector::metadata();
        assert_eq!(metadata.name, "printful");
        assert_eq!(
            metadata.capabilities,
            vec![Capability::Orders, Capability::Status]
        );
        let key = metadata
            .settings
            .iter()
            .find(|s| s.name == "api-key")
            .expect("api-key");
        assert!(key.required && key.secret);
        assert!(matches!(
            PrintfulConnector::open_feed(None),
            Err(shopbridge_guest_sdk::FeedError::Unsupported)
        ));
    }
}

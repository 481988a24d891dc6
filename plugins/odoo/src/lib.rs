//! Shopbridge connector for [Odoo], through its documented external
//! XML-RPC API: orders become sale orders, their deliveries give the
//! status and tracking, and the saleable products with their stock are
//! the catalog.
//!
//! Odoo plays one of two roles, chosen by the `partner-id` setting:
//!
//! - **the merchant's own ERP** (no `partner-id`, the default): the shop's
//!   customer is the sale order's customer, found by email or created;
//!   the catalog's wholesale price is the product's cost
//!   (`standard_price`) and its retail price the sales price
//!   (`list_price`, with VAT);
//! - **a supplier's ERP** (`partner-id` set): every sale order is for that
//!   partner, the shop's account with the supplier; the catalog's
//!   wholesale price is the sales price without VAT, and a submission
//!   carries the order's untaxed total as its wholesale total.
//!
//! In both, the shipping address is a delivery contact (`type` =
//! `delivery`) under the customer, reused when the same address comes again.
//!
//! It needs Odoo 14 or later (API keys) with the Sales and Inventory apps,
//! and works with or without the Delivery app (`delivery`): without it,
//! the shop's shipping method goes into the sale order's chatter and
//! parcels come without carrier and tracking. It needs a user who may
//! read and write sale orders and contacts, and read products, deliveries,
//! stock moves, pricelists, the company and taxes (orders priced at what
//! was paid need the taxes; the catalog does without them, giving no VAT
//! rates), and customer invoices (optional: without, no invoice links).
//!
//! [Odoo]: https://www.odoo.com/documentation/17.0/developer/reference/external_api.html
//!
//! # Settings
//!
//! | name | default | meaning |
//! |------|---------|---------|
//! | `url` | — | the server's root, e.g. `https://mycompany.odoo.com` |
//! | `database` | — | the database name |
//! | `username` | — | the integration user's login |
//! | `api-key` | — | secret; the user's API key (Preferences → Account Security), or password |
//! | `partner-id` | — | the partner every order is for (Odoo is then a supplier's ERP, see above) |
//! | `company-id` | — | the company orders are placed in, on a multi-company database (`company_id`, and `allowed_company_ids` in every call's context) |
//! | `pricelist-id` | — | the sale orders' pricelist; with `line-prices` = `order` it must be in the orders' currency (else the first pricelist in that currency, else the company's currency must be it) |
//! | `line-prices` | `order` | `order`: a line's `price_unit` is what the customer paid for one unit, VAT included, with price-included taxes, so that the sale order totals exactly what was paid (see `submit-order`); `pricelist`: no `price_unit`, Odoo prices the line from the pricelist |
//! | `confirm-orders` | `true` | confirm each sale order (`action_confirm`); `false` leaves quotations for a person to confirm |
//! | `currency` | `EUR` | the currency of Odoo's prices when a product does not name one (the catalog) |
//! | `page-size` | `500` | products per catalog page, 1 to 2,000 (500 products are about 750 KB of XML-RPC) |
//! | `stock-field` | `qty_available` | the stock quantity: `qty_available` (on hand), `free_qty` (on hand, not reserved) or `virtual_available` (forecast) |
//!
//! The metadata declares the hosts `*`: the server is the `url` setting,
//! and the binding's own allow-list says which host that may be.
//!
//! # Calls
//!
//! Every call is an XML-RPC `POST` with `content-type: text/xml`. A
//! session first logs in with `POST {url}/xmlrpc/2/common`
//! `authenticate(database, username, api-key, {})`, which answers the user
//! id (`uid`), or `false` for a refused login. Everything else is
//! `POST {url}/xmlrpc/2/object`
//! `execute_kw(database, uid, api-key, model, method, args, kwargs)`.
//! Each call of the contract is a fresh session (one `authenticate`); a
//! feed is one session for all its pages.
//!
//! ## `submit-order`
//!
//! Before any request, the order itself is checked: each address (shipping,
//! and billing when given) needs a name (`first-name` or `last-name`),
//! `line1`, `postal-code`, `city` and a two-letter `country-code`
//! (`missing` / `invalid`); there must be lines, each with a SKU
//! (`lines[i].sku`, `missing`) and a quantity above 0 (`lines[i].quantity`,
//! `invalid`). Then:
//!
//! 1. `sale.order` `search_read [("client_order_ref", "=", key)]`: when a
//!    sale order already carries the order's idempotency key, it is the
//!    answer (a quotation is confirmed first). A retry never creates a
//!    second sale order.
//! 2. `product.product` `search_read [("default_code", "in", skus)]`
//!    (archived products are not found): a SKU no product has is
//!    `lines[i].sku` `unknown-sku`; a product that cannot be sold
//!    (`sale_ok` false) is `lines[i].sku` `invalid`. `res.country`
//!    `search_read [("code", "in", codes)]`: an unknown country is
//!    `…country-code` `invalid`. All issues come back at once as
//!    `needs-attention`, and nothing is written.
//!
//!    With `line-prices` = `order` (lines priced at what was paid, all in
//!    one currency), two more checks, both before anything is written.
//!    **Currency**: Odoo's sale order is in its pricelist's currency,
//!    else its company's. The `pricelist-id` setting (`product.pricelist`
//!    `search_read [("id", "=", id)]`) must be in the order's currency;
//!    without it, the first `product.pricelist` with
//!    `("currency_id.name", "=", currency)` is the order's pricelist, and
//!    with none the company (`res.company` `search_read`) must be in that
//!    currency. Else `configuration`, naming both currencies.
//!    **VAT**: `price_unit` is the unit price paid, VAT included. With
//!    price-included taxes Odoo keeps `price_unit × quantity` as the
//!    line's total; with price-excluded ones it would add VAT again (and
//!    a net price, stored with two decimals, would not come back to the
//!    cent). So the products' `taxes_id` are read (`account.tax`
//!    `search_read`); a line whose product has price-excluded percent
//!    taxes gets, as its `tax_id` (`(6, 0, ids)`; `tax_ids` where Odoo
//!    names it so, by `fields_get`), the price-included sales tax of the
//!    same rate for each, found by one more `account.tax` `search_read
//!    [("type_tax_use", "=", "sale"), ("amount_type", "=", "percent"),
//!    ("amount", "in", rates)]` (and `("company_id", "=", company-id)`
//!    when set). No such tax, a non-percentage excluded
//!    tax or a user who may not read taxes is `configuration`.
//! 3. When the order names a shipping method: `sale.order` `fields_get
//!    ["carrier_id"]` says whether the Delivery app is installed; if so,
//!    `delivery.carrier` `search_read [("name", "=ilike", method)]`.
//!    Both before anything is written.
//! 4. The customer (unless `partner-id`): `res.partner` `search_read`
//!    `[("email", "=ilike", email), ("parent_id", "=", false)]` with the
//!    order's customer email (else an address's), else `create` with the
//!    billing address (else the shipping address). The delivery contact:
//!    `res.partner` `search_read` for a child of the customer of type
//!    `delivery` with the same name, street, street2, zip, city and
//!    country, else `create` it. A region becomes `state_id` when
//!    `res.country.state` has it (by code or name) in that country.
//! 5. `sale.order` `create` with `partner_id`, `partner_invoice_id`
//!    (the customer), `partner_shipping_id` (the delivery contact),
//!    `client_order_ref` (the idempotency key), `origin` (the shop's order
//!    reference), `pricelist_id` (as above, else the setting) and
//!    `company_id` from the settings,
//!    `carrier_id` when `delivery.carrier` has a method named like the
//!    order's shipping method (case aside; else Odoo chooses), and
//!    `order_line` as `(0, 0, {product_id, product_uom_qty, price_unit})`
//!    commands in the order's line order. The order's note is posted in
//!    the sale order's chatter (`message_post`), and so is the shipping
//!    method when no delivery method was found for it.
//! 6. `sale.order` `action_confirm` (unless `confirm-orders` is false).
//! 7. `sale.order` `read [id]` (`name`, `state`, `amount_untaxed`,
//!    `currency_id`): the submission's reference is the sale order's **id**
//!    (`"42"`), the key for status and cancel; its message names the sale
//!    order (`Odoo sale order S00042 (confirmed)`).
//!
//! Two submissions of one key at the same instant could both create a sale
//! order (XML-RPC has no transaction across calls); the host never runs
//! them concurrently. A quotation Odoo refuses to confirm stays, and a
//! later submission with the same key confirms it again.
//!
//! ## `check-order`
//!
//! The checks of `submit-order` up to step 2: nothing is written.
//!
//! ## `cancel-order`
//!
//! `sale.order` `search_read [("id", "=", id)]` (none: `rejected`); an
//! order already cancelled is `ok`. An order with a done delivery
//! (`stock.picking` to a customer location) has shipped: `rejected`.
//! Else `action_cancel [id]` with `disable_cancel_warning` in the context
//! (without it Odoo 15+ opens its cancellation wizard instead), then the
//! state is read again: `cancel` is `ok`, anything else `rejected`. The
//! reason is posted in the chatter.
//!
//! ## `poll-status`
//!
//! For up to 200 references at a time (a batch), one `sale.order` `search_read
//! [("id", "in", ids)]` (`name`, `state`, `write_date`), then one
//! `stock.picking` `search_read [("sale_id", "in", confirmed ids),
//! ("location_dest_id.usage", "=", "customer"), ("state", "!=", "cancel")]`
//! (`state`, `date_done`, `scheduled_date`, and the Delivery app's
//! `carrier_id`, `carrier_tracking_ref`, `carrier_tracking_url` when
//! `stock.picking` `fields_get`, asked once per call, has them). When some
//! deliveries are done or all of an order's wait for stock, one
//! `stock.move` `search_read [("picking_id", "in", those deliveries),
//! ("state", "!=", "cancel")]`; one `product.product` `search_read` (with
//! `active_test` off) says which SKUs each parcel holds, partly or fully
//! shipped alike; and for the products waited for, one `stock.move`
//! `search_read [("product_id", "in", products),
//! ("location_id.usage", "=", "supplier"), ("state", "not in", ["draft",
//! "done", "cancel"])]` finds the receipts coming: a backordered order's
//! date is when the last product it waits for is first expected, and none
//! when one has no receipt coming (a waiting delivery's own scheduled date
//! is not when stock comes).
//!
//! The sale orders are read with their `invoice_ids`; when some have
//! invoices, one `account.move` `search_read [("id", "in", ids), ("state",
//! "=", "posted"), ("move_type", "=", "out_invoice")]` (`name`,
//! `access_url`, `access_token`) finds the posted customer invoices. An
//! order's latest one becomes the update's `invoice-url`, the customer
//! portal's link to its PDF with its access token
//! (`{url}/my/invoices/{id}?access_token=…&report_type=pdf&download=true`,
//! opened without an Odoo account), and its number goes into the message
//! (`…; invoice INV/2026/00001 available`). Odoo gives a posted invoice a
//! token only when one is asked for: then `account.move` `get_portal_url
//! [id]` (`report_type` `pdf`, `download` true) makes it, for at most four
//! invoices per batch (the others on the next poll). A user who may not
//! read invoices (`AccessError`) gets statuses without them. References Odoo does not know, or that
//! are not ids, are left out. The state mapping is a table in [`status`];
//! a done delivery is a parcel with its SKUs, carrier and tracking references
//! (Odoo writes several packages' references comma-separated), and dates
//! are Odoo's UTC `write_date` / `date_done` as RFC 3339. Odoo records no
//! delivery by the carrier, so no order is ever reported `delivered`.
//!
//! ## The catalog
//!
//! An Odoo catalog is not a file: the feed-parser resource reads it
//! through the API and **ignores the bytes pushed**. Each `push` reads the
//! next page, and `finish` reads every page left. A session first asks
//! `common.version()` once (no login): Odoo 18 tracks stock on
//! `is_storable`, earlier versions on `type` = `product`.
//!
//! - a host that pushes nothing (`shopbridge feed parse --plugin odoo.wasm
//!   /dev/null`) gets the whole catalog from `finish`, within one call's
//!   request budget (32 requests with the login and the version: about 15 pages with their attributes
//!   and taxes, 7,500 products at the default page size);
//! - a host that pushes one empty chunk per page until a push returns no
//!   record, then finishes, reads a catalog of any size, each page in its
//!   own call with its own deadline, budget and output cap.
//!
//! Either way each product comes exactly once, and the guest holds one
//! page at a time. Pages are `product.product` `search_read
//! [("sale_ok", "=", true), ("id", ">", last id)]` ordered by id with
//! `limit` = `page-size`: keyset pagination, so a product created or
//! archived during the sync shifts no page (an `offset` would skip or
//! repeat one). A short page is the last. Each page may add one
//! `product.template.attribute.value` and one `account.tax` `search_read`
//! for the ids it names (a user Odoo does not let read taxes gets products
//! without VAT rates, and prices as Odoo holds them).
//!
//! | product | from |
//! |---------|------|
//! | `sku` | `default_code` (a product without one is rejected) |
//! | `gtin` | `barcode`, when it is 8, 12, 13 or 14 digits |
//! | `name`, `description` | `name`, `description_sale` |
//! | `category-path` | `categ_id`'s full name split on ` / ` (`All / Saleable`) |
//! | prices | see the two roles above; currency from `currency_id` |
//! | `vat-rate-basis-points` | the sum of the product's `taxes_id` when all are percent taxes agreeing on price inclusion |
//! | `stock-quantity`, `availability` | for stock-tracked goods (Odoo 18: `type` `consu` with `is_storable`; Odoo ≤ 17: `type` `product`), the `stock-field` (floored, negative as 0): in stock above 0, else out of stock; anything else (an untracked consumable, a `service`, a `combo`) is sold without stock: in stock, no quantity |
//! | `lead-time-days` | `sale_delay`, rounded up |
//! | `weight-grams` | `weight` (kilograms) |
//! | `group-id`, `attributes` | a variant (with attribute values): `template-{product_tmpl_id}`, and each value as `attribute` (lower case) = `value` |
//!
//! # Errors
//!
//! | failure | order error | feed error |
//! |---------|-------------|------------|
//! | `authenticate` answers `false` | `configuration` | `configuration` |
//! | a fault from `authenticate` (unknown database…) or a non-XML-RPC answer to it | `configuration` | `configuration` |
//! | fault 3 `AccessDenied`, 4 `AccessError` | `configuration` | `configuration` |
//! | fault 2 `UserError` / `ValidationError` | creating a partner: `needs-attention` on that address; confirming or cancelling: `rejected` with Odoo's message | `malformed` |
//! | a database conflict (serialization failure, deadlock, lock) | `transient` | `malformed` |
//! | any other fault (code 1, a traceback: its last line is kept) | `rejected` | `malformed` |
//! | HTTP 429, 5xx | `transient`, with `Retry-After` | `malformed` |
//! | HTTP 401, 403, 404 | `configuration` (the URL is not an Odoo server) | `configuration` |
//! | timeout, connection failure, a non-XML-RPC answer after login | `transient` | `malformed` |
//!
//! The contract has no transient feed error: a catalog that could not be
//! read is `malformed` with a message saying to try again.

pub mod catalog;
pub mod client;
pub mod orders;
pub mod status;
mod values;
pub mod xmlrpc;

pub use catalog::OdooCatalog;
use shopbridge_guest_sdk::{
    Capability, Connector, FeedError, FeedParse, Metadata, Order, OrderError, SettingSpec,
    StatusUpdate, Submission, export_connector,
};

/// The connector.
pub struct OdooConnector;

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

impl Connector for OdooConnector {
    fn metadata() -> Metadata {
        Metadata {
            name: "odoo".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Odoo through its external XML-RPC API: orders become confirmed sale \
                          orders (idempotent on the order's key), deliveries give the status and \
                          tracking, and saleable products with their stock are the catalog."
                .to_owned(),
            capabilities: vec![Capability::Catalog, Capability::Orders, Capability::Status],
            settings: vec![
                setting(
                    "url",
                    "The Odoo server's root URL, e.g. https://mycompany.odoo.com.",
                    true,
                    None,
                    false,
                ),
                setting("database", "The Odoo database name.", true, None, false),
                setting(
                    "username",
                    "The login of the Odoo user the connector acts as.",
                    true,
                    None,
                    false,
                ),
                setting(
                    "api-key",
                    "That user's API key (Preferences → Account Security), or password.",
                    true,
                    None,
                    true,
                ),
                setting(
                    "partner-id",
                    "When Odoo is a supplier's ERP: the id of the partner every order is for \
                     (the shop's account). Empty: customers are found by email or created.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "company-id",
                    "On a multi-company database, the id of the company orders go to.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "pricelist-id",
                    "The id of the pricelist of the sale orders (in the orders' currency); \
                     empty: a pricelist in the order's currency, else the company's currency.",
                    false,
                    None,
                    false,
                ),
                setting(
                    "line-prices",
                    "order: lines carry the price the customer paid; pricelist: Odoo prices them.",
                    false,
                    Some("order"),
                    false,
                ),
                setting(
                    "confirm-orders",
                    "Whether sale orders are confirmed, or left as quotations.",
                    false,
                    Some("true"),
                    false,
                ),
                setting(
                    "currency",
                    "The ISO 4217 currency of Odoo's prices when a product does not name one.",
                    false,
                    Some("EUR"),
                    false,
                ),
                setting(
                    "page-size",
                    "Products per catalog page (1 to 2000).",
                    false,
                    Some("500"),
                    false,
                ),
                setting(
                    "stock-field",
                    "The stock quantity: qty_available, free_qty or virtual_available.",
                    false,
                    Some("qty_available"),
                    false,
                ),
            ],
            hosts: vec!["*".to_owned()],
        }
    }

    fn open_feed(_content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        Ok(Box::new(OdooCatalog::from_settings()?))
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

export_connector!(OdooConnector);

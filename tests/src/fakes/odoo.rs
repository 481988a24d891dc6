//! An Odoo-like server speaking Odoo's external XML-RPC API, as the `odoo`
//! plugin's documentation describes it: `POST /xmlrpc/2/common`
//! `authenticate` and `POST /xmlrpc/2/object` `execute_kw` on an
//! in-memory database.
//!
//! It behaves as Odoo does where the plugin depends on it:
//! - `authenticate` answers the user id, `false` for a wrong login or key,
//!   and a traceback fault (code 1) for an unknown database; `execute_kw`
//!   with a wrong key is fault 3, `Access Denied`;
//! - every model has its fields: asking for one it lacks (to read, to
//!   search or to write) is a code-1 fault quoting `ValueError: Invalid
//!   field`, so a typo in the plugin shows;
//! - `search_read` / `search` / `read` with domains in Polish notation
//!   (`&`, `|`, `!`; `=`, `!=`, `in`, `not in`, `=ilike`, `ilike`, `<`,
//!   `>`, `<=`, `>=`; `False` matching an empty field; dotted paths through
//!   a many2one such as `location_dest_id.usage`), `limit`, `offset`,
//!   `order` by id; many2one fields read as `[id, name]`, empty ones as
//!   `false`; `product.product` hides archived products;
//! - `sale.order` `create` with `(0, 0, {…})` line commands (a line without
//!   `price_unit` takes the product's sales price), `action_confirm`
//!   (a delivery for the goods only, `assigned` when stock could be
//!   reserved and `confirmed` when none could; none for services),
//!   `action_cancel` (answers the cancellation wizard instead of
//!   cancelling a confirmed order unless the context has
//!   `disable_cancel_warning`; a `locked` order is refused),
//!   `message_post` (the message's id), `action_lock` / `action_unlock`
//!   (done, then the "cannot marshal None" fault), `fields_get`;
//! - sale orders in their pricelist's currency, else the company's, with
//!   each line's taxes (the product's, or the line's `tax_id`) and
//!   Odoo's subtotals and totals, price-included taxes kept inside the
//!   price; `price_unit` with two decimals;
//! - vendor receipts (`add_receipt`) as incoming `stock.move`s, and
//!   customer invoices (`invoice`, `post_invoice`) with the portal's
//!   `access_url`, `access_token` and `get_portal_url`;
//! - an unknown model is fault 2 `Object … doesn't exist`;
//! - an [`Edition`]: Odoo 17 or 18 (`common.version()` and the product
//!   types), with or without the Delivery app (its model and fields).
//!
//! Each behaviour cites, next to its code, the Odoo source it copies
//! (repository odoo/odoo, branches 17.0 and 18.0).
//!
//! Tests script failures for the next matching call (`fail_next`: an HTTP
//! status with `Retry-After`, a fault, or an answer that comes too late
//! for the call that was carried out), move orders along (`ship`,
//! `ship_partially`, `set_delivery_state`), and ask what happened: sale
//! orders created per `client_order_ref`, every call made.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::xmlrpc;
use crate::LoopbackServer;

/// The database the fake serves.
pub const DATABASE: &str = "shop";
/// The login the fake accepts.
pub const LOGIN: &str = "connector@shop.example";
/// The id of that user.
pub const UID: i64 = 2;
/// The customer location: deliveries go there.
pub const CUSTOMERS_LOCATION: i64 = 5;
/// The vendor location: receipts come from there.
pub const VENDORS_LOCATION: i64 = 4;
/// The warehouse's stock.
pub const STOCK_LOCATION: i64 = 8;

/// Which Odoo the fake plays: its major version and whether the Delivery
/// app is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edition {
    /// 17 or 18: what `common.version()` answers, and the product types.
    /// Odoo 17 has `type` = `product | consu | service` (and the same
    /// `detailed_type`); Odoo 18 has `type` = `consu | service | combo`
    /// and tracks stock on the boolean `is_storable`
    /// (addons/product/models/product_template.py and
    /// addons/stock/models/product.py, branches 17.0 and 18.0).
    pub version: u32,
    /// Whether `delivery` (with `stock_delivery`) is installed: without
    /// it the database has no `delivery.carrier` model and no
    /// `carrier_id` on `sale.order` nor `carrier_id`,
    /// `carrier_tracking_ref`, `carrier_tracking_url` on `stock.picking`
    /// (addons/delivery/models/sale_order.py and
    /// addons/stock_delivery/models/stock_picking.py, 17.0 / 18.0).
    pub delivery: bool,
}

impl Default for Edition {
    fn default() -> Self {
        Edition {
            version: 18,
            delivery: true,
        }
    }
}

/// A scripted failure.
#[derive(Debug, Clone)]
pub enum Failure {
    /// An HTTP error status, with `Retry-After` when given.
    Http {
        /// The status.
        status: u16,
        /// Seconds, sent as `Retry-After`.
        retry_after: Option<u32>,
    },
    /// The call is carried out, but its answer comes only after this
    /// delay: a client with a shorter timeout never hears that it worked.
    Late(Duration),
    /// An XML-RPC fault.
    Fault {
        /// `faultCode`: 1 application error, 2 user error, 3 access denied, 4 access error.
        code: i64,
        /// `faultString`.
        message: String,
    },
}

/// A sale order as the fake holds it.
#[derive(Debug, Clone)]
pub struct SaleOrder {
    /// Its id: the plugin's supplier reference.
    pub id: i64,
    /// `S00001`…
    pub name: String,
    /// `draft`, `sale`, `cancel`…
    pub state: String,
    /// The idempotency key.
    pub client_order_ref: String,
    /// The shop's order reference.
    pub origin: String,
    /// `partner_id`.
    pub partner: Map<String, Value>,
    /// `partner_shipping_id`.
    pub shipping: Map<String, Value>,
    /// The pricelist, if one was given.
    pub pricelist_id: Option<i64>,
    /// The delivery method, if one was given.
    pub carrier_id: Option<i64>,
    /// The lines, in order.
    pub lines: Vec<SaleOrderLine>,
    /// The chatter's messages.
    pub messages: Vec<String>,
    /// `currency_id`'s code.
    pub currency: String,
    /// `amount_untaxed`, as Odoo computes it.
    pub amount_untaxed: f64,
    /// `amount_total`, as Odoo computes it.
    pub amount_total: f64,
}

/// A sale order line.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleOrderLine {
    /// The product's `default_code`.
    pub sku: String,
    /// `product_uom_qty`.
    pub quantity: f64,
    /// `price_unit`.
    pub price_unit: f64,
}

type Record = Map<String, Value>;

/// A record's field, null when absent (a `Map` index would panic).
fn at<'a>(record: &'a Record, field: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    record.get(field).unwrap_or(&NULL)
}

#[derive(Default)]
struct Inner {
    edition: Edition,
    next_message: i64,
    api_key: String,
    models: BTreeMap<&'static str, BTreeMap<i64, Record>>,
    failures: Vec<(String, Failure)>,
    calls: Vec<String>,
    created_by_ref: BTreeMap<String, usize>,
    messages: BTreeMap<i64, Vec<String>>,
}

/// The running fake.
pub struct FakeOdoo {
    server: LoopbackServer,
    state: Arc<Mutex<Inner>>,
}

/// Each model's fields: anything else is an invalid field, as in Odoo.
fn fields_of(model: &str) -> Option<&'static [&'static str]> {
    Some(match model {
        "res.partner" => &[
            "id",
            "name",
            "email",
            "phone",
            "street",
            "street2",
            "zip",
            "city",
            "country_id",
            "state_id",
            "parent_id",
            "type",
            "company_name",
        ],
        "res.country" => &["id", "name", "code"],
        "res.country.state" => &["id", "name", "code", "country_id"],
        "res.currency" => &["id", "name"],
        "product.product" => &[
            "id",
            "default_code",
            "barcode",
            "name",
            "description_sale",
            "list_price",
            "standard_price",
            "qty_available",
            "free_qty",
            "virtual_available",
            "weight",
            "categ_id",
            "currency_id",
            "type",
            "detailed_type",
            "is_storable",
            "sale_delay",
            "taxes_id",
            "product_tmpl_id",
            "product_template_attribute_value_ids",
            "sale_ok",
            "active",
        ],
        "product.template" => &["id", "name"],
        "product.category" => &["id", "name"],
        "product.attribute" => &["id", "name"],
        "product.template.attribute.value" => &["id", "name", "attribute_id"],
        "account.tax" => &[
            "id",
            "name",
            "amount",
            "amount_type",
            "price_include",
            "type_tax_use",
            "company_id",
        ],
        "res.company" => &["id", "name", "currency_id"],
        "product.pricelist" => &["id", "name", "currency_id", "company_id", "active"],
        "sale.order" => &[
            "id",
            "name",
            "state",
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "client_order_ref",
            "origin",
            "pricelist_id",
            "company_id",
            "order_line",
            "amount_untaxed",
            "amount_tax",
            "amount_total",
            "currency_id",
            "write_date",
            "carrier_id",
            "locked",
            "invoice_ids",
        ],
        "account.move" => &[
            "id",
            "name",
            "state",
            "move_type",
            "partner_id",
            "invoice_origin",
            "invoice_date",
            "amount_total",
            "access_token",
            "access_url",
        ],
        "sale.order.line" => &[
            "id",
            "order_id",
            "product_id",
            "product_uom_qty",
            "price_unit",
            "name",
            "tax_id",
            "price_subtotal",
            "price_tax",
            "price_total",
        ],
        "stock.picking" => &[
            "id",
            "name",
            "state",
            "sale_id",
            "carrier_id",
            "carrier_tracking_ref",
            "carrier_tracking_url",
            "date_done",
            "scheduled_date",
            "location_dest_id",
        ],
        "stock.move" => &[
            "id",
            "picking_id",
            "product_id",
            "product_uom_qty",
            "state",
            "location_id",
            "location_dest_id",
            "date",
        ],
        "stock.location" => &["id", "name", "usage"],
        "delivery.carrier" => &["id", "name"],
        _ => return None,
    })
}

/// Fields one edition lacks: Odoo 17's product types, Odoo 18's, and the
/// Delivery app's (see [`Edition`]).
fn lacks(edition: Edition, model: &str, field: &str) -> bool {
    match (model, field) {
        ("product.product", "detailed_type") => edition.version >= 18,
        ("product.product", "is_storable") => edition.version < 18,
        ("sale.order", "carrier_id")
        | ("stock.picking", "carrier_id" | "carrier_tracking_ref" | "carrier_tracking_url") => {
            !edition.delivery
        }
        _ => false,
    }
}

/// The model a many2one field points to.
fn comodel(model: &str, field: &str) -> Option<&'static str> {
    Some(match (model, field) {
        (_, "country_id") => "res.country",
        (_, "state_id") => "res.country.state",
        (_, "currency_id") => "res.currency",
        (_, "partner_id" | "partner_invoice_id" | "partner_shipping_id" | "parent_id") => {
            "res.partner"
        }
        (_, "categ_id") => "product.category",
        (_, "product_tmpl_id") => "product.template",
        (_, "attribute_id") => "product.attribute",
        (_, "product_id") => "product.product",
        (_, "order_id" | "sale_id") => "sale.order",
        (_, "picking_id") => "stock.picking",
        (_, "carrier_id") => "delivery.carrier",
        (_, "location_dest_id" | "location_id") => "stock.location",
        ("sale.order", "pricelist_id") => "product.pricelist",
        (_, "company_id") => "res.company",
        _ => return None,
    })
}

fn model_name(model: &str) -> Option<&'static str> {
    const MODELS: [&str; 19] = [
        "res.company",
        "account.move",
        "res.partner",
        "res.country",
        "res.country.state",
        "res.currency",
        "product.product",
        "product.template",
        "product.category",
        "product.attribute",
        "product.template.attribute.value",
        "account.tax",
        "sale.order",
        "sale.order.line",
        "stock.picking",
        "stock.move",
        "stock.location",
        "delivery.carrier",
        "product.pricelist",
    ];
    MODELS.into_iter().find(|m| *m == model)
}

/// An error answered as a fault.
struct Fault(i64, String);

impl Fault {
    fn invalid_field(model: &str, field: &str) -> Fault {
        Fault(
            1,
            format!(
                "Traceback (most recent call last):\n  File \"/odoo/odoo/models.py\", line 3000, in _read\n\
                 ValueError: Invalid field '{field}' on model '{model}'\n"
            ),
        )
    }

    fn user_error(message: &str) -> Fault {
        Fault(2, message.to_owned())
    }

    /// A method that returns `None`: odoo/addons/base/controllers/rpc.py
    /// marshals answers with `allow_none=False`, so the caller gets a
    /// code-1 traceback although the work was done.
    fn cannot_marshal_none() -> Fault {
        Fault(
            1,
            "Traceback (most recent call last):\n  File \"/usr/lib/python3/xmlrpc/client.py\", line 525, in __dump\n\
             TypeError: cannot marshal None unless allow_none is enabled\n"
                .to_owned(),
        )
    }
}

impl FakeOdoo {
    /// Starts the fake on a loopback port as Odoo 18 with the Delivery
    /// app, seeded with countries, a carrier, a tax and a small catalog;
    /// `api_key` is the user's key.
    pub fn start(api_key: &str) -> FakeOdoo {
        FakeOdoo::start_as(api_key, Edition::default())
    }

    /// Starts the fake as this edition of Odoo (without the Delivery app,
    /// the seed has no carrier).
    pub fn start_as(api_key: &str, edition: Edition) -> FakeOdoo {
        let state = Arc::new(Mutex::new(Inner {
            api_key: api_key.to_owned(),
            edition,
            ..Inner::default()
        }));
        {
            let mut inner = state.lock().unwrap_or_else(|e| e.into_inner());
            seed(&mut inner);
        }
        let router = Router::new()
            .route("/xmlrpc/2/common", post(common))
            .route("/xmlrpc/2/object", post(object))
            .with_state(state.clone());
        FakeOdoo {
            server: LoopbackServer::start(router),
            state,
        }
    }

    /// The `url` setting for this fake.
    pub fn url(&self) -> String {
        self.server.url("")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the next call matching `call` fail: `authenticate`,
    /// `model.method` (`sale.order.create`), or `*` for any call.
    pub fn fail_next(&self, call: &str, failure: Failure) {
        self.lock().failures.push((call.to_owned(), failure));
    }

    /// Every call received, in order: `authenticate`, `sale.order.create`…
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Sale orders created with this `client_order_ref`.
    pub fn sale_orders_created(&self, client_order_ref: &str) -> usize {
        self.lock()
            .created_by_ref
            .get(client_order_ref)
            .copied()
            .unwrap_or(0)
    }

    /// Every sale order.
    pub fn sale_orders(&self) -> Vec<SaleOrder> {
        let inner = self.lock();
        inner
            .table("sale.order")
            .keys()
            .filter_map(|id| inner.sale_order(*id))
            .collect()
    }

    /// One sale order.
    pub fn sale_order(&self, id: i64) -> Option<SaleOrder> {
        self.lock().sale_order(id)
    }

    /// Every partner.
    pub fn partners(&self) -> Vec<Record> {
        self.lock().table("res.partner").values().cloned().collect()
    }

    /// Adds a product (`default_code`, `name`, `list_price`…; the fake
    /// fills the rest: saleable, consumable, EUR, category "All /
    /// Saleable", a template of its own unless `product_tmpl_id` is
    /// given). Returns its id.
    pub fn add_product(&self, fields: Value) -> i64 {
        let mut inner = self.lock();
        inner.add_product(fields)
    }

    /// Sets a product's stock, as a receipt or a delivery validated in
    /// Odoo moves it: on hand, free and forecast quantities alike. Odoo
    /// computes the three together from quants and pending moves
    /// (`_compute_quantities_dict`, odoo/odoo addons/stock/models/product.py;
    /// `virtual_available` is on hand − outgoing + incoming), so with no move
    /// pending they are equal.
    pub fn set_stock(&self, sku: &str, quantity: f64) {
        let mut inner = self.lock();
        for product in inner.table_mut("product.product").values_mut() {
            if product.get("default_code").and_then(Value::as_str) == Some(sku) {
                for field in ["qty_available", "free_qty", "virtual_available"] {
                    product.insert(field.into(), json!(quantity));
                }
            }
        }
    }

    /// Adds a receipt of `quantity` of this product from a vendor, expected
    /// at `date` (`2026-03-02 10:00:00`): a purchase order's incoming move,
    /// `assigned` until validated. A `stock.move`'s `date` is its
    /// scheduled date until it is done (addons/stock/models/stock_move.py,
    /// 17.0 / 18.0, field `date`).
    pub fn add_receipt(&self, sku: &str, quantity: f64, date: &str) {
        let mut inner = self.lock();
        let Some(product) = inner
            .table("product.product")
            .iter()
            .find(|(_, p)| at(p, "default_code") == sku)
            .map(|(id, _)| *id)
        else {
            return;
        };
        let picking = inner.insert(
            "stock.picking",
            json!({"state": "assigned", "location_dest_id": STOCK_LOCATION, "scheduled_date": date}),
        );
        inner.insert(
            "stock.move",
            json!({
                "picking_id": picking, "product_id": product, "product_uom_qty": quantity,
                "state": "assigned", "location_id": VENDORS_LOCATION,
                "location_dest_id": STOCK_LOCATION, "date": date,
            }),
        );
    }

    /// Sets the company's currency (a fresh Odoo company is in USD), and
    /// the default pricelist's with it.
    pub fn set_company_currency(&self, code: &str) {
        let mut inner = self.lock();
        let currency = inner.currency(code);
        if let Some(company) = inner.table_mut("res.company").get_mut(&1) {
            company.insert("currency_id".into(), json!(currency));
        }
        if let Some(pricelist) = inner.table_mut("product.pricelist").get_mut(&1) {
            pricelist.insert("currency_id".into(), json!(currency));
        }
    }

    /// Adds a pricelist in this currency. Returns its id.
    pub fn add_pricelist(&self, name: &str, currency: &str) -> i64 {
        let mut inner = self.lock();
        let currency = inner.currency(currency);
        inner.insert(
            "product.pricelist",
            json!({"name": name, "currency_id": currency, "company_id": 1, "active": true}),
        )
    }

    /// Adds a sales tax of `percent`, included in prices or not. Returns
    /// its id.
    pub fn add_tax(&self, name: &str, percent: f64, price_include: bool) -> i64 {
        self.lock().insert(
            "account.tax",
            json!({
                "name": name, "amount": percent, "amount_type": "percent",
                "price_include": price_include, "type_tax_use": "sale", "company_id": 1,
            }),
        )
    }

    /// Invoices a confirmed sale order and posts the invoice, as a person
    /// does with *Create Invoice* then *Confirm*: a customer invoice
    /// (`out_invoice`) named `INV/2026/0000n`, linked from the order's
    /// `invoice_ids`. Posting gives it no portal `access_token`: that
    /// comes only when one is asked for (addons/portal/models/portal_mixin.py
    /// `_portal_ensure_token`, called by `get_portal_url`). With `posted`
    /// false it stays a draft. Returns its id.
    pub fn invoice(&self, sale_order: i64, posted: bool) -> i64 {
        let mut inner = self.lock();
        let (partner, origin, total) = inner
            .table("sale.order")
            .get(&sale_order)
            .map(|o| {
                (
                    at(o, "partner_id").clone(),
                    at(o, "name").clone(),
                    at(o, "amount_total").clone(),
                )
            })
            .unwrap_or_default();
        let count = inner.table("account.move").len() + 1;
        let id = inner.insert(
            "account.move",
            json!({
                "name": if posted { json!(format!("INV/2026/{count:05}")) } else { json!("/") },
                "state": if posted { "posted" } else { "draft" },
                "move_type": "out_invoice",
                "partner_id": partner,
                "invoice_origin": origin,
                "invoice_date": "2026-01-13",
                "amount_total": total,
                "access_token": false,
            }),
        );
        // addons/account/models/account_move.py `_compute_access_url`.
        if let Some(invoice) = inner.table_mut("account.move").get_mut(&id) {
            invoice.insert("access_url".into(), json!(format!("/my/invoices/{id}")));
        }
        if let Some(order) = inner.table_mut("sale.order").get_mut(&sale_order) {
            let mut ids = at(order, "invoice_ids")
                .as_array()
                .cloned()
                .unwrap_or_default();
            ids.push(json!(id));
            order.insert("invoice_ids".into(), Value::Array(ids));
        }
        id
    }

    /// Posts a draft invoice (`action_post`), which names it.
    pub fn post_invoice(&self, invoice: i64) {
        let mut inner = self.lock();
        let count = inner
            .table("account.move")
            .values()
            .filter(|m| at(m, "state") == "posted")
            .count()
            + 1;
        if let Some(m) = inner.table_mut("account.move").get_mut(&invoice) {
            m.insert("state".into(), json!("posted"));
            m.insert("name".into(), json!(format!("INV/2026/{count:05}")));
        }
    }

    /// Locks a sale order, as *Lock* does (or the "Lock Confirmed Sales"
    /// setting at confirmation): Odoo 17 and 18 have no `done` state, only
    /// the `locked` flag (addons/sale/models/sale_order.py `action_lock`).
    pub fn lock_order(&self, sale_order: i64) {
        if let Some(order) = self.lock().table_mut("sale.order").get_mut(&sale_order) {
            order.insert("locked".into(), json!(true));
        }
    }

    /// Adds a partner (`name`, `email`…). Returns its id.
    pub fn add_partner(&self, fields: Value) -> i64 {
        let mut inner = self.lock();
        inner.insert("res.partner", fields)
    }

    /// Ships a confirmed order's delivery with this carrier and tracking
    /// reference (several packages: comma-separated).
    pub fn ship(&self, sale_order: i64, carrier: &str, tracking: &str) {
        let mut inner = self.lock();
        let carrier_id = inner.carrier(carrier);
        inner.ship(sale_order, carrier_id, tracking, None);
    }

    /// Ships only these SKUs of a confirmed order's delivery, in one parcel;
    /// the rest goes to a backorder delivery, ready to ship, as Odoo does.
    pub fn ship_partially(&self, sale_order: i64, carrier: &str, tracking: &str, skus: &[&str]) {
        let mut inner = self.lock();
        let carrier_id = inner.carrier(carrier);
        inner.ship(sale_order, carrier_id, tracking, Some(skus));
    }

    /// Sets the state of a confirmed order's open deliveries (`confirmed`:
    /// waiting for stock, `assigned`: ready), and their moves' with them:
    /// a stock-tracked product's move is unreserved (`confirmed`) or
    /// reserved (`assigned`); an untracked one's stays `assigned`, as it
    /// bypasses reservation (addons/stock/models/stock_move.py
    /// `_should_bypass_reservation`).
    pub fn set_delivery_state(&self, sale_order: i64, state: &str) {
        let mut inner = self.lock();
        let mut pickings = Vec::new();
        for picking in inner.deliveries_mut(sale_order) {
            if at(picking, "state") != "done" {
                picking.insert("state".into(), json!(state));
                pickings.push(at(picking, "id").clone());
            }
        }
        let moves: Vec<(i64, bool)> = inner
            .table("stock.move")
            .iter()
            .filter(|(_, m)| pickings.contains(at(m, "picking_id")))
            .map(|(id, m)| {
                let storable = at(m, "product_id")
                    .as_i64()
                    .and_then(|p| inner.table("product.product").get(&p))
                    .is_some_and(|p| inner.storable(p));
                (*id, storable)
            })
            .collect();
        for (id, storable) in moves {
            let move_state = if storable { state } else { "assigned" };
            if let Some(m) = inner.table_mut("stock.move").get_mut(&id) {
                m.insert("state".into(), json!(move_state));
            }
        }
    }
}

impl Inner {
    /// The currency of this code, added if new.
    fn currency(&mut self, code: &str) -> i64 {
        match self
            .table("res.currency")
            .iter()
            .find(|(_, c)| at(c, "name") == code)
        {
            Some((id, _)) => *id,
            None => self.insert("res.currency", json!({"name": code})),
        }
    }

    /// The carrier of this name (created if new); `None` without the
    /// Delivery app, which has no carriers.
    fn carrier(&mut self, name: &str) -> Option<i64> {
        if !self.edition.delivery {
            return None;
        }
        Some(
            match self
                .table("delivery.carrier")
                .iter()
                .find(|(_, c)| at(c, "name") == name)
            {
                Some((id, _)) => *id,
                None => self.insert("delivery.carrier", json!({"name": name})),
            },
        )
    }

    /// Ships the open deliveries of an order; with `skus`, only those
    /// products' moves, the others going to a new backorder delivery.
    fn ship(
        &mut self,
        sale_order: i64,
        carrier_id: Option<i64>,
        tracking: &str,
        skus: Option<&[&str]>,
    ) {
        let open: Vec<i64> = self
            .table("stock.picking")
            .iter()
            .filter(|(_, p)| at(p, "sale_id") == sale_order && at(p, "state") != "done")
            .map(|(id, _)| *id)
            .collect();
        for picking in open {
            if let Some(skus) = skus {
                let staying: Vec<i64> = self
                    .table("stock.move")
                    .iter()
                    .filter(|(_, m)| at(m, "picking_id") == picking)
                    .filter(|(_, m)| {
                        let sku = at(m, "product_id")
                            .as_i64()
                            .and_then(|p| self.table("product.product").get(&p))
                            .and_then(|p| p.get("default_code"))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        !skus.contains(&sku)
                    })
                    .map(|(id, _)| *id)
                    .collect();
                if !staying.is_empty() {
                    let backorder = self.insert(
                        "stock.picking",
                        json!({
                            "state": "assigned",
                            "sale_id": sale_order,
                            "location_dest_id": CUSTOMERS_LOCATION,
                            "scheduled_date": "2026-01-20 08:00:00",
                        }),
                    );
                    if let Some(p) = self.table_mut("stock.picking").get_mut(&backorder) {
                        p.insert("name".into(), json!(format!("WH/OUT/{backorder:05}")));
                    }
                    for id in staying {
                        if let Some(m) = self.table_mut("stock.move").get_mut(&id) {
                            m.insert("picking_id".into(), json!(backorder));
                        }
                    }
                }
            }
            for m in self.table_mut("stock.move").values_mut() {
                if at(m, "picking_id") == picking {
                    m.insert("state".into(), json!("done"));
                }
            }
            let Some(picking) = self.table_mut("stock.picking").get_mut(&picking) else {
                continue;
            };
            picking.insert("state".into(), json!("done"));
            // Without the Delivery app a delivery has no carrier nor tracking.
            if let Some(carrier_id) = carrier_id {
                picking.insert("carrier_id".into(), json!(carrier_id));
                picking.insert("carrier_tracking_ref".into(), json!(tracking));
                picking.insert(
                    "carrier_tracking_url".into(),
                    json!(format!("https://tracking.example/{tracking}")),
                );
            }
            picking.insert("date_done".into(), json!("2026-01-12 09:30:00"));
        }
    }
}

fn seed(inner: &mut Inner) {
    for (id, name) in [(1, "EUR"), (2, "USD")] {
        inner.insert_at("res.currency", id, json!({"name": name}));
    }
    for (id, code, name) in [
        (75, "FR", "France"),
        (57, "DE", "Germany"),
        (21, "BE", "Belgium"),
        (233, "US", "United States"),
    ] {
        inner.insert_at("res.country", id, json!({"code": code, "name": name}));
    }
    inner.insert_at(
        "res.country.state",
        13,
        json!({"code": "CA", "name": "California", "country_id": 233}),
    );
    inner.insert_at(
        "stock.location",
        CUSTOMERS_LOCATION,
        json!({"name": "Partners/Customers", "usage": "customer"}),
    );
    inner.insert_at(
        "stock.location",
        STOCK_LOCATION,
        json!({"name": "WH/Stock", "usage": "internal"}),
    );
    inner.insert_at(
        "stock.location",
        VENDORS_LOCATION,
        json!({"name": "Partners/Vendors", "usage": "supplier"}),
    );
    if inner.edition.delivery {
        inner.insert_at("delivery.carrier", 1, json!({"name": "Colissimo"}));
    }
    inner.insert_at("product.category", 1, json!({"name": "All"}));
    inner.insert_at("product.category", 2, json!({"name": "All / Saleable"}));
    inner.insert_at("product.attribute", 1, json!({"name": "Size"}));
    inner.insert_at(
        "product.template.attribute.value",
        1,
        json!({"name": "M", "attribute_id": 1}),
    );
    inner.insert_at(
        "product.template.attribute.value",
        2,
        json!({"name": "L", "attribute_id": 1}),
    );
    inner.insert_at(
        "account.tax",
        1,
        json!({"name": "20%", "amount": 20.0, "amount_type": "percent", "price_include": false, "type_tax_use": "sale", "company_id": 1}),
    );
    inner.insert_at(
        "res.company",
        1,
        json!({"name": "My Company", "currency_id": 1}),
    );
    inner.insert_at(
        "product.pricelist",
        1,
        json!({"name": "Public Pricelist", "currency_id": 1, "company_id": 1, "active": true}),
    );
    // The customer location's many partners exist: ids do not start at 1.
    inner.insert_at(
        "res.partner",
        1,
        json!({"name": "My Company", "type": "contact"}),
    );
    for sku in ["SKU-1", "SKU-2", "SKU-3"] {
        inner.add_product(json!({
            "default_code": sku,
            "name": format!("Product {sku}"),
            "list_price": 10.0,
            "standard_price": 4.0,
            "qty_available": 25.0,
        }));
    }
}

impl Inner {
    /// The model's fields in this edition; `None` for a model the
    /// database does not have (the Delivery app's, when not installed).
    fn fields(&self, model: &str) -> Option<Vec<&'static str>> {
        if model == "delivery.carrier" && !self.edition.delivery {
            return None;
        }
        Some(
            fields_of(model)?
                .iter()
                .copied()
                .filter(|f| !lacks(self.edition, model, f))
                .collect(),
        )
    }

    fn has_field(&self, model: &str, field: &str) -> bool {
        self.fields(model).is_some_and(|f| f.contains(&field))
    }

    fn table(&self, model: &str) -> &BTreeMap<i64, Record> {
        static EMPTY: BTreeMap<i64, Record> = BTreeMap::new();
        self.models.get(model).unwrap_or(&EMPTY)
    }

    fn table_mut(&mut self, model: &str) -> &mut BTreeMap<i64, Record> {
        let name = model_name(model).unwrap_or("unknown");
        self.models.entry(name).or_default()
    }

    fn insert_at(&mut self, model: &str, id: i64, fields: Value) {
        let mut record = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        record.insert("id".into(), json!(id));
        self.table_mut(model).insert(id, record);
    }

    /// Inserts with the next id (ids start at 10 so that no test counts on
    /// a record being number 1).
    fn insert(&mut self, model: &str, fields: Value) -> i64 {
        let id = self
            .table(model)
            .keys()
            .next_back()
            .map_or(10, |last| last + 1);
        self.insert_at(model, id, fields);
        id
    }

    fn add_product(&mut self, fields: Value) -> i64 {
        let mut record = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let name = record
            .get("name")
            .cloned()
            .unwrap_or_else(|| json!("Product"));
        // Products are given as Odoo 18 has them (`type` consu, service or
        // combo; `is_storable`), stock-tracked goods unless said otherwise;
        // an Odoo 17 fake turns that into its `type` / `detailed_type`.
        let defaults = json!({
            "name": name,
            "sale_ok": true,
            "active": true,
            "type": "consu",
            "is_storable": true,
            "currency_id": 1,
            "categ_id": 2,
            "list_price": 1.0,
            "standard_price": 0.0,
            "qty_available": 0.0,
            "weight": 0.0,
            // An integer field (addons/stock/models/product.py, 17.0 /
            // 18.0: `sale_delay = fields.Integer('Customer Lead Time')`).
            "sale_delay": 0,
            "taxes_id": [],
            "product_template_attribute_value_ids": [],
        });
        if let Value::Object(defaults) = defaults {
            for (k, v) in defaults {
                record.entry(k).or_insert(v);
            }
        }
        if !record.contains_key("product_tmpl_id") {
            let template = self.insert("product.template", json!({"name": name}));
            record.insert("product_tmpl_id".into(), json!(template));
        }
        if record.get("type") != Some(&json!("consu")) {
            record.insert("is_storable".into(), json!(false));
        }
        if self.edition.version < 18 {
            let storable = record.remove("is_storable") == Some(json!(true));
            let kind = match at(&record, "type").as_str() {
                Some("consu") if storable => "product",
                Some(other) => other,
                None => "consu",
            }
            .to_owned();
            record.insert("type".into(), json!(kind));
            record.insert("detailed_type".into(), json!(kind));
        }
        let qty = record.get("qty_available").cloned().unwrap_or(json!(0.0));
        record.entry("free_qty").or_insert(qty.clone());
        record.entry("virtual_available").or_insert(qty);
        self.insert("product.product", Value::Object(record))
    }

    fn deliveries_mut(&mut self, sale_order: i64) -> Vec<&mut Record> {
        self.table_mut("stock.picking")
            .values_mut()
            .filter(|p| at(p, "sale_id") == sale_order)
            .collect()
    }

    fn sale_order(&self, id: i64) -> Option<SaleOrder> {
        let order = self.table("sale.order").get(&id)?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let partner = |field: &str| {
            at(order, field)
                .as_i64()
                .and_then(|p| self.table("res.partner").get(&p).cloned())
                .unwrap_or_default()
        };
        let lines = self
            .table("sale.order.line")
            .values()
            .filter(|l| at(l, "order_id") == id)
            .map(|l| SaleOrderLine {
                sku: at(l, "product_id")
                    .as_i64()
                    .and_then(|p| self.table("product.product").get(&p))
                    .map(|p| text(at(p, "default_code")))
                    .unwrap_or_default(),
                quantity: at(l, "product_uom_qty").as_f64().unwrap_or_default(),
                price_unit: at(l, "price_unit").as_f64().unwrap_or_default(),
            })
            .collect();
        Some(SaleOrder {
            id,
            name: text(at(order, "name")),
            state: text(at(order, "state")),
            client_order_ref: text(at(order, "client_order_ref")),
            origin: text(at(order, "origin")),
            partner: partner("partner_id"),
            shipping: partner("partner_shipping_id"),
            pricelist_id: at(order, "pricelist_id").as_i64(),
            carrier_id: at(order, "carrier_id").as_i64(),
            lines,
            messages: self.messages.get(&id).cloned().unwrap_or_default(),
            currency: at(order, "currency_id")
                .as_i64()
                .and_then(|c| self.table("res.currency").get(&c))
                .map(|c| text(at(c, "name")))
                .unwrap_or_default(),
            amount_untaxed: at(order, "amount_untaxed").as_f64().unwrap_or_default(),
            amount_total: at(order, "amount_total").as_f64().unwrap_or_default(),
        })
    }

    /// A field's value, following a dotted path through many2ones.
    fn field_value(&self, model: &str, record: &Record, path: &str) -> Result<Value, Fault> {
        let (field, rest) = match path.split_once('.') {
            Some((field, rest)) => (field, Some(rest)),
            None => (path, None),
        };
        if !self.has_field(model, field) {
            return Err(Fault::invalid_field(model, field));
        }
        let value = record.get(field).cloned().unwrap_or(Value::Null);
        match rest {
            None => Ok(value),
            Some(rest) => {
                let target =
                    comodel(model, field).ok_or_else(|| Fault::invalid_field(model, path))?;
                match value.as_i64().and_then(|id| self.table(target).get(&id)) {
                    Some(related) => self.field_value(target, related, rest),
                    None => Ok(Value::Null),
                }
            }
        }
    }

    fn matches(&self, model: &str, record: &Record, domain: &[Value]) -> Result<bool, Fault> {
        // Polish notation, evaluated from the end; the stack's leftovers
        // are and-ed, as Odoo does.
        let mut stack: Vec<bool> = Vec::new();
        for term in domain.iter().rev() {
            match term {
                Value::String(op) if op == "!" => {
                    let a = stack.pop().ok_or_else(|| bad_domain(domain))?;
                    stack.push(!a);
                }
                Value::String(op) if op == "&" || op == "|" => {
                    let a = stack.pop().ok_or_else(|| bad_domain(domain))?;
                    let b = stack.pop().ok_or_else(|| bad_domain(domain))?;
                    stack.push(if op == "&" { a && b } else { a || b });
                }
                Value::Array(leaf) if leaf.len() == 3 => {
                    let field = leaf[0].as_str().ok_or_else(|| bad_domain(domain))?;
                    let op = leaf[1].as_str().ok_or_else(|| bad_domain(domain))?;
                    let actual = self.field_value(model, record, field)?;
                    stack.push(compare(&actual, op, &leaf[2]).ok_or_else(|| bad_domain(domain))?);
                }
                _ => return Err(bad_domain(domain)),
            }
        }
        Ok(stack.into_iter().all(|b| b))
    }

    fn search(
        &self,
        model: &str,
        domain: &[Value],
        kwargs: &Map<String, Value>,
    ) -> Result<Vec<i64>, Fault> {
        let mut ids = Vec::new();
        for (id, record) in self.table(model) {
            let active_test =
                kwargs.get("context").and_then(|c| c.get("active_test")) != Some(&json!(false));
            if active_test
                && model == "product.product"
                && record.get("active") == Some(&json!(false))
            {
                continue;
            }
            if self.matches(model, record, domain)? {
                ids.push(*id);
            }
        }
        if kwargs
            .get("order")
            .and_then(Value::as_str)
            .is_some_and(|o| o.trim().ends_with("desc"))
        {
            ids.reverse();
        }
        let offset = kwargs.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let limit = kwargs
            .get("limit")
            .and_then(Value::as_u64)
            .map_or(usize::MAX, |l| l as usize);
        Ok(ids.into_iter().skip(offset).take(limit).collect())
    }

    fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: Option<&[Value]>,
    ) -> Result<Vec<Value>, Fault> {
        let all: Vec<Value> = self
            .fields(model)
            .unwrap_or_default()
            .iter()
            .map(|f| json!(f))
            .collect();
        let fields = fields.filter(|f| !f.is_empty()).unwrap_or(&all);
        let mut out = Vec::new();
        for id in ids {
            let Some(record) = self.table(model).get(id) else {
                continue;
            };
            let mut row = Map::new();
            row.insert("id".into(), json!(id));
            for field in fields {
                let field = field
                    .as_str()
                    .ok_or_else(|| Fault::invalid_field(model, "?"))?;
                let value = self.field_value(model, record, field)?;
                let value = match comodel(model, field) {
                    Some(target) => match value.as_i64() {
                        Some(target_id) => {
                            let name = self
                                .table(target)
                                .get(&target_id)
                                .and_then(|r| r.get("name"))
                                .cloned()
                                .unwrap_or(json!(""));
                            json!([target_id, name])
                        }
                        None => json!(false),
                    },
                    // An empty x2many reads as an empty list.
                    None if value.is_null() && (field.ends_with("_ids") || field == "tax_id") => {
                        json!([])
                    }
                    None if value.is_null() => json!(false),
                    None => value,
                };
                row.insert(field.to_owned(), value);
            }
            out.push(Value::Object(row));
        }
        Ok(out)
    }

    fn create(&mut self, model: &str, vals: &Value) -> Result<i64, Fault> {
        let Value::Object(vals) = vals else {
            return Err(Fault(1, "TypeError: create() expects a dict".into()));
        };
        if let Some(field) = vals.keys().find(|k| !self.has_field(model, k)) {
            return Err(Fault::invalid_field(model, field));
        }
        let mut record = vals.clone();
        if model == "sale.order" {
            return self.create_sale_order(record);
        }
        if model == "res.partner" {
            record.entry("type").or_insert(json!("contact"));
            if record
                .get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(Fault(
                    1,
                    "Traceback…\npsycopg2.errors.NotNullViolation: null value in column \"name\""
                        .into(),
                ));
            }
        }
        Ok(self.insert(model, Value::Object(record)))
    }

    fn create_sale_order(&mut self, mut record: Record) -> Result<i64, Fault> {
        let partner = record.get("partner_id").and_then(Value::as_i64);
        if !partner.is_some_and(|p| self.table("res.partner").contains_key(&p)) {
            return Err(Fault(
                1,
                "Traceback…\npsycopg2.errors.NotNullViolation: null value in column \"partner_id\""
                    .into(),
            ));
        }
        let commands = match record.remove("order_line") {
            Some(Value::Array(commands)) => commands,
            None => Vec::new(),
            Some(_) => return Err(Fault(1, "ValueError: order_line takes commands".into())),
        };
        let mut lines = Vec::new();
        for command in commands {
            match command.as_array().map(Vec::as_slice) {
                Some([Value::Number(c), _, Value::Object(vals)]) if c.as_i64() == Some(0) => {
                    if let Some(field) = vals.keys().find(|k| !self.has_field("sale.order.line", k))
                    {
                        return Err(Fault::invalid_field("sale.order.line", field));
                    }
                    let product = vals
                        .get("product_id")
                        .and_then(Value::as_i64)
                        .and_then(|p| self.table("product.product").get(&p))
                        .ok_or_else(|| Fault::user_error("a line needs an existing product"))?;
                    let mut line = vals.clone();
                    if !line.contains_key("price_unit") {
                        line.insert("price_unit".into(), at(product, "list_price").clone());
                    }
                    // `price_unit` has the 'Product Price' precision, 2
                    // digits (addons/product/data/product_data.xml;
                    // fields.Float rounds to its digits when stored).
                    let price = round_to(at(&line, "price_unit").as_f64().unwrap_or_default(), 2);
                    line.insert("price_unit".into(), json!(price));
                    // `tax_id` (addons/sale/models/sale_order_line.py,
                    // 17.0 / 18.0): the product's taxes unless the line
                    // names its own, as `(6, 0, ids)`.
                    let taxes = match line.get("tax_id") {
                        Some(Value::Array(commands)) => commands
                            .iter()
                            .filter_map(|c| match c.as_array().map(Vec::as_slice) {
                                Some([Value::Number(six), _, Value::Array(ids)])
                                    if six.as_i64() == Some(6) =>
                                {
                                    Some(ids.clone())
                                }
                                _ => None,
                            })
                            .flatten()
                            .collect(),
                        _ => at(product, "taxes_id")
                            .as_array()
                            .cloned()
                            .unwrap_or_default(),
                    };
                    line.insert("tax_id".into(), Value::Array(taxes));
                    self.compute_line_amounts(&mut line);
                    line.entry("name")
                        .or_insert_with(|| at(product, "name").clone());
                    lines.push(line);
                }
                _ => {
                    return Err(Fault(
                        1,
                        format!("ValueError: unsupported command {command}"),
                    ));
                }
            }
        }
        // addons/sale/models/sale_order.py `_compute_amounts`: the sums of
        // the lines' amounts (round per line, the default).
        let sum = |field: &str| {
            round_to(
                lines
                    .iter()
                    .map(|l| at(l, field).as_f64().unwrap_or_default())
                    .sum(),
                2,
            )
        };
        let (untaxed, tax, total) = (sum("price_subtotal"), sum("price_tax"), sum("price_total"));
        // addons/sale/models/sale_order.py `_compute_currency_id` (17.0,
        // 18.0): the pricelist's currency, else the company's.
        let company_currency = self
            .table("res.company")
            .get(&1)
            .map_or(json!(1), |c| at(c, "currency_id").clone());
        let currency = record
            .get("pricelist_id")
            .and_then(Value::as_i64)
            .and_then(|p| self.table("product.pricelist").get(&p))
            .map_or(company_currency, |p| at(p, "currency_id").clone());
        record.insert("state".into(), json!("draft"));
        record.insert("locked".into(), json!(false));
        record.insert("currency_id".into(), currency);
        record.insert("amount_untaxed".into(), json!(untaxed));
        record.insert("amount_tax".into(), json!(tax));
        record.insert("amount_total".into(), json!(total));
        record.insert("write_date".into(), json!("2026-01-10 08:00:00"));
        record.entry("partner_invoice_id").or_insert(json!(partner));
        record
            .entry("partner_shipping_id")
            .or_insert(json!(partner));
        let id = self.insert("sale.order", Value::Object(record));
        let name = format!("S{id:05}");
        if let Some(order) = self.table_mut("sale.order").get_mut(&id) {
            order.insert("name".into(), json!(name));
        }
        for mut line in lines {
            line.insert("order_id".into(), json!(id));
            self.insert("sale.order.line", Value::Object(line));
        }
        let key = self
            .table("sale.order")
            .get(&id)
            .and_then(|o| o.get("client_order_ref"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        *self.created_by_ref.entry(key).or_default() += 1;
        Ok(id)
    }

    /// A line's subtotal, taxes and total as Odoo computes them with
    /// percent taxes, rounding per line (the default
    /// `tax_calculation_rounding_method`): addons/account/models/account_tax.py
    /// (17.0 `compute_all`, 18.0 `_get_tax_details`). The base is
    /// `price_unit × quantity` rounded to the currency; a price-excluded
    /// tax adds `base × rate` rounded; price-included taxes are inside
    /// the base: the untaxed amount is `base / (1 + rates)` and the total
    /// stays the base.
    fn compute_line_amounts(&self, line: &mut Record) {
        let quantity = at(line, "product_uom_qty").as_f64().unwrap_or_default();
        let price = at(line, "price_unit").as_f64().unwrap_or_default();
        let base = round_to(price * quantity, 2);
        let taxes: Vec<(f64, bool)> = at(line, "tax_id")
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_i64)
            .filter_map(|t| self.table("account.tax").get(&t))
            .map(|t| {
                (
                    at(t, "amount").as_f64().unwrap_or_default() / 100.0,
                    at(t, "price_include") == true,
                )
            })
            .collect();
        let included: f64 = taxes.iter().filter(|(_, i)| *i).map(|(r, _)| r).sum();
        let untaxed = if included > 0.0 {
            round_to(base / (1.0 + included), 2)
        } else {
            base
        };
        let included_tax = base - untaxed;
        let excluded_tax: f64 = taxes
            .iter()
            .filter(|(_, i)| !*i)
            .map(|(rate, _)| round_to(untaxed * rate, 2))
            .sum();
        line.insert("price_subtotal".into(), json!(untaxed));
        line.insert(
            "price_tax".into(),
            json!(round_to(included_tax + excluded_tax, 2)),
        );
        line.insert(
            "price_total".into(),
            json!(round_to(untaxed + included_tax + excluded_tax, 2)),
        );
    }

    fn confirm(&mut self, ids: &[i64]) -> Result<Value, Fault> {
        for id in ids {
            let state = self
                .table("sale.order")
                .get(id)
                .map(|o| at(o, "state").clone());
            match state.as_ref().and_then(Value::as_str) {
                Some("draft" | "sent") => {}
                // addons/sale/models/sale_order.py (17.0, 18.0)
                // `_confirmation_error_message`.
                Some(_) => {
                    return Err(Fault::user_error(
                        "Some orders are not in a state requiring confirmation.",
                    ));
                }
                None => {
                    return Err(Fault::user_error(
                        "Record does not exist or has been deleted.",
                    ));
                }
            }
            if let Some(order) = self.table_mut("sale.order").get_mut(id) {
                order.insert("state".into(), json!("sale"));
            }
            self.launch_delivery(*id);
        }
        Ok(json!(true))
    }

    /// Whether Odoo tracks this product's stock: Odoo 18's `is_storable`,
    /// Odoo 17's `type` = `product`.
    fn storable(&self, product: &Record) -> bool {
        if self.edition.version >= 18 {
            at(product, "is_storable") == true
        } else {
            at(product, "type") == "product"
        }
    }

    /// What `action_confirm` does for the goods, as sale_stock's
    /// procurement and stock's reservation do it:
    /// - only goods get a move: addons/sale_stock/models/sale_order_line.py
    ///   `_action_launch_stock_rule` skips lines whose product is not
    ///   `consu` (18.0) / not `consu` or `product` (17.0), so a
    ///   services-only order gets no delivery at all;
    /// - the picking type reserves at confirmation
    ///   (addons/stock/models/stock_move.py `_action_assign`): a product
    ///   whose stock is not tracked bypasses reservation and is
    ///   `assigned` (`_should_bypass_reservation`), a tracked one takes
    ///   what is free: all `assigned`, some `partially_available`, none
    ///   `confirmed`;
    /// - the delivery's state (addons/stock/models/stock_picking.py
    ///   `_compute_state`, `move_type` `direct`): `assigned` when any move
    ///   has something reserved, else `confirmed` (waiting for stock).
    fn launch_delivery(&mut self, id: i64) {
        let lines: Vec<(i64, f64)> = self
            .table("sale.order.line")
            .values()
            .filter(|l| at(l, "order_id") == id)
            .filter_map(|l| {
                Some((
                    at(l, "product_id").as_i64()?,
                    at(l, "product_uom_qty").as_f64()?,
                ))
            })
            .collect();
        let mut moves = Vec::new();
        for (product_id, quantity) in lines {
            let Some(product) = self.table("product.product").get(&product_id).cloned() else {
                continue;
            };
            let goods = match at(&product, "type").as_str() {
                Some("consu") => true,
                Some("product") => self.edition.version < 18,
                _ => false,
            };
            if !goods {
                continue;
            }
            let state = if self.storable(&product) {
                let free = at(&product, "free_qty").as_f64().unwrap_or_default();
                let reserved = free.clamp(0.0, quantity);
                if let Some(p) = self.table_mut("product.product").get_mut(&product_id) {
                    p.insert("free_qty".into(), json!(free - reserved));
                }
                if reserved >= quantity {
                    "assigned"
                } else if reserved > 0.0 {
                    "partially_available"
                } else {
                    "confirmed"
                }
            } else {
                "assigned"
            };
            moves.push((product_id, quantity, state));
        }
        if moves.is_empty() {
            return;
        }
        let state = if moves.iter().any(|(_, _, s)| *s != "confirmed") {
            "assigned"
        } else {
            "confirmed"
        };
        let mut picking = json!({
            "state": state,
            "sale_id": id,
            "location_dest_id": CUSTOMERS_LOCATION,
            "scheduled_date": "2026-01-15 08:00:00",
        });
        if self.edition.delivery {
            picking["carrier_tracking_ref"] = json!(false);
            picking["carrier_id"] = self
                .table("sale.order")
                .get(&id)
                .map_or(Value::Null, |o| at(o, "carrier_id").clone());
        }
        let picking = self.insert("stock.picking", picking);
        if let Some(p) = self.table_mut("stock.picking").get_mut(&picking) {
            p.insert("name".into(), json!(format!("WH/OUT/{picking:05}")));
        }
        for (product, quantity, state) in moves {
            self.insert(
                "stock.move",
                json!({
                    "picking_id": picking, "product_id": product, "product_uom_qty": quantity,
                    "state": state, "location_id": STOCK_LOCATION,
                    "location_dest_id": CUSTOMERS_LOCATION, "date": "2026-01-15 08:00:00",
                }),
            );
        }
    }

    fn cancel(&mut self, ids: &[i64], context: &Map<String, Value>) -> Result<Value, Fault> {
        let skip_wizard = context.get("disable_cancel_warning") == Some(&json!(true));
        for id in ids {
            let state = self
                .table("sale.order")
                .get(id)
                .and_then(|o| at(o, "state").as_str())
                .map(str::to_owned)
                .ok_or_else(|| Fault::user_error("Record does not exist or has been deleted."))?;
            // addons/sale/models/sale_order.py (17.0, 18.0) `action_cancel`:
            // locking is the boolean `locked` (there is no `done` state).
            if self.table("sale.order").get(id).map(|o| at(o, "locked")) == Some(&json!(true)) {
                return Err(Fault::user_error(
                    "You cannot cancel a locked order. Please unlock it first.",
                ));
            }
            if state != "draft" && !skip_wizard {
                return Ok(json!({
                    "name": "Cancel Sales Order",
                    "type": "ir.actions.act_window",
                    "res_model": "sale.order.cancel",
                    "view_mode": "form",
                    "target": "new",
                }));
            }
        }
        for id in ids {
            if let Some(order) = self.table_mut("sale.order").get_mut(id) {
                order.insert("state".into(), json!("cancel"));
            }
            for picking in self.deliveries_mut(*id) {
                if at(picking, "state") != "done" {
                    picking.insert("state".into(), json!("cancel"));
                }
            }
        }
        Ok(json!(true))
    }

    fn execute(
        &mut self,
        model: &str,
        method: &str,
        args: &[Value],
        kwargs: &Map<String, Value>,
    ) -> Result<Value, Fault> {
        // odoo/service/model.py (17.0, 18.0) `execute_cr`: a model the
        // registry lacks is a `UserError`, which
        // odoo/addons/base/controllers/rpc.py answers as fault 2.
        if self.fields(model).is_none() {
            return Err(Fault::user_error(&format!("Object {model} doesn't exist")));
        }
        let ids_arg = |i: usize| -> Vec<i64> {
            match args.get(i) {
                Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_i64).collect(),
                Some(Value::Number(n)) => n.as_i64().into_iter().collect(),
                _ => Vec::new(),
            }
        };
        let domain = || -> Result<Vec<Value>, Fault> {
            match args.first() {
                Some(Value::Array(d)) => Ok(d.clone()),
                None => Ok(Vec::new()),
                Some(other) => Err(bad_domain(std::slice::from_ref(other))),
            }
        };
        let fields = kwargs
            .get("fields")
            .and_then(Value::as_array)
            .map(Vec::as_slice);
        let empty = Map::new();
        let context = kwargs
            .get("context")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        match method {
            "search" => Ok(json!(self.search(model, &domain()?, kwargs)?)),
            "search_count" => Ok(json!(self.search(model, &domain()?, &Map::new())?.len())),
            "search_read" => {
                let ids = self.search(model, &domain()?, kwargs)?;
                Ok(Value::Array(self.read(model, &ids, fields)?))
            }
            "read" => Ok(Value::Array(self.read(model, &ids_arg(0), fields)?)),
            "create" => {
                let vals = args
                    .first()
                    .ok_or_else(|| Fault(1, "TypeError: missing vals".into()))?;
                Ok(json!(self.create(model, vals)?))
            }
            "action_confirm" if model == "sale.order" => self.confirm(&ids_arg(0)),
            "action_cancel" if model == "sale.order" => self.cancel(&ids_arg(0), context),
            // addons/mail/models/mail_thread.py `message_post` is
            // `@api.returns('mail.message', lambda value: value.id)`: the
            // new message's id (one record: `ensure_one`).
            "message_post" if model == "sale.order" => {
                let body = kwargs
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let [id] = ids_arg(0)[..] else {
                    return Err(Fault(
                        1,
                        "Traceback…\nValueError: Expected singleton: sale.order".into(),
                    ));
                };
                self.messages.entry(id).or_default().push(body.to_owned());
                self.next_message += 1;
                Ok(json!(self.next_message))
            }
            // addons/sale/models/sale_order.py (17.0, 18.0) `action_lock` /
            // `action_unlock` (`self.locked = True`) return nothing: the work is
            // committed (odoo/service/model.py `retrying` commits before
            // the answer is marshalled), then the answer faults.
            "action_lock" | "action_unlock" if model == "sale.order" => {
                let locked = method == "action_lock";
                for id in ids_arg(0) {
                    if let Some(order) = self.table_mut("sale.order").get_mut(&id) {
                        order.insert("locked".into(), json!(locked));
                    }
                }
                Err(Fault::cannot_marshal_none())
            }
            // addons/portal/models/portal_mixin.py `get_portal_url`: one
            // record; the access URL with its token, made if it had none.
            "get_portal_url" if model == "account.move" => {
                let [id] = ids_arg(0)[..] else {
                    return Err(Fault(
                        1,
                        "Traceback…\nValueError: Expected singleton: account.move".into(),
                    ));
                };
                let Some(invoice) = self.table_mut("account.move").get_mut(&id) else {
                    return Err(Fault::user_error(
                        "Record does not exist or has been deleted.",
                    ));
                };
                let token = match at(invoice, "access_token").as_str() {
                    Some(token) => token.to_owned(),
                    None => {
                        let token = format!("{id:08x}-5c1e-4d2b-9a7f-{:012x}", id * 7919);
                        invoice.insert("access_token".into(), json!(token));
                        token
                    }
                };
                let text =
                    |name: &str| kwargs.get(name).and_then(Value::as_str).unwrap_or_default();
                let report = match text("report_type") {
                    "" => String::new(),
                    r => format!("&report_type={r}"),
                };
                let download = if kwargs.get("download").is_some_and(|d| d == &json!(true)) {
                    "&download=true"
                } else {
                    ""
                };
                Ok(json!(format!(
                    "{}{}?access_token={token}{report}{download}",
                    text_of(at(invoice, "access_url")),
                    text("suffix"),
                )))
            }
            // odoo/models.py `fields_get(allfields, attributes)`: only the
            // fields the model has, `allfields` restricting them.
            "fields_get" => {
                let wanted: Option<Vec<&str>> = args
                    .first()
                    .or_else(|| kwargs.get("allfields"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect());
                let mut answer = Map::new();
                for field in self.fields(model).unwrap_or_default() {
                    if wanted.as_ref().is_some_and(|w| !w.contains(&field)) {
                        continue;
                    }
                    let kind = if comodel(model, field).is_some() {
                        "many2one"
                    } else {
                        "char"
                    };
                    answer.insert(field.to_owned(), json!({"type": kind, "string": field}));
                }
                Ok(Value::Object(answer))
            }
            _ => Err(Fault(
                1,
                format!("Traceback…\nAttributeError: The method '{model}.{method}' does not exist"),
            )),
        }
    }
}

/// odoo/tools/float_utils.py `float_round` (HALF-UP): the value over the
/// rounding unit, nudged by one ulp-sized epsilon away from zero, rounded
/// half away from zero.
/// (Divided back by 10^digits rather than multiplied by 10^-digits, so
/// that 3100 cents is 31.0 exactly: the nearest double, as Odoo's
/// `float_repr` writes it.)
fn round_to(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    let normalized = value * scale;
    if normalized == 0.0 || !normalized.is_finite() {
        return value;
    }
    let epsilon = 2f64.powf(normalized.abs().log2() - 52.0);
    (normalized + epsilon.copysign(normalized)).round() / scale
}

fn text_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn bad_domain(domain: &[Value]) -> Fault {
    Fault(
        1,
        format!(
            "Traceback…\nValueError: Invalid domain {}",
            Value::Array(domain.to_vec())
        ),
    )
}

/// One leaf's comparison; `None` for an operator the fake does not know.
fn compare(actual: &Value, op: &str, wanted: &Value) -> Option<bool> {
    let empty = |v: &Value| matches!(v, Value::Null | Value::Bool(false));
    let equal = |a: &Value, b: &Value| {
        if empty(b) {
            return empty(a);
        }
        match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    };
    let text = |v: &Value| v.as_str().map(str::to_lowercase);
    let number = |v: &Value| v.as_f64();
    Some(match op {
        "=" => equal(actual, wanted),
        "!=" => !equal(actual, wanted),
        "in" => wanted.as_array()?.iter().any(|w| equal(actual, w)),
        "not in" => !wanted.as_array()?.iter().any(|w| equal(actual, w)),
        // PostgreSQL's ILIKE, as Odoo uses it: `%` and `_` are wildcards
        // unless escaped with `\`; `ilike` looks for the pattern anywhere.
        "=ilike" => match (text(actual), text(wanted)) {
            (Some(a), Some(w)) => like(&a, &w),
            _ => false,
        },
        "ilike" => match (text(actual), text(wanted)) {
            (Some(a), Some(w)) => like(&a, &format!("%{w}%")),
            _ => false,
        },
        ">" => number(actual)? > number(wanted)?,
        "<" => number(actual)? < number(wanted)?,
        ">=" => number(actual)? >= number(wanted)?,
        "<=" => number(actual)? <= number(wanted)?,
        _ => return None,
    })
}

/// SQL `LIKE`: `%` any run of characters, `_` any one, `\\` escapes.
fn like(text: &str, pattern: &str) -> bool {
    enum Token {
        Char(char),
        One,
        Many,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            '%' => Token::Many,
            '_' => Token::One,
            c => Token::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // matched[j]: the first i characters match the first j tokens.
    let mut matched = vec![false; tokens.len() + 1];
    matched[0] = true;
    for (j, token) in tokens.iter().enumerate() {
        if matches!(token, Token::Many) {
            matched[j + 1] = matched[j];
        }
    }
    for c in &text {
        let mut next = vec![false; tokens.len() + 1];
        for (j, token) in tokens.iter().enumerate() {
            next[j + 1] = match token {
                Token::Char(t) => matched[j] && t == c,
                Token::One => matched[j],
                Token::Many => matched[j + 1] || next[j],
            };
        }
        matched = next;
    }
    matched[tokens.len()]
}

type Shared = State<Arc<Mutex<Inner>>>;

fn lock(state: &Arc<Mutex<Inner>>) -> MutexGuard<'_, Inner> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// What a scripted failure makes of a call.
enum Scripted {
    /// Carry the call out, and answer after this delay, if any.
    Proceed(Option<Duration>),
    /// Answer this instead.
    Answer(Response),
}

/// Records the call and applies its scripted failure, if one is due.
fn scripted(inner: &mut Inner, call: &str) -> Scripted {
    inner.calls.push(call.to_owned());
    let Some(at) = inner
        .failures
        .iter()
        .position(|(pattern, _)| pattern == "*" || pattern == call)
    else {
        return Scripted::Proceed(None);
    };
    let (_, failure) = inner.failures.remove(at);
    Scripted::Answer(match failure {
        Failure::Late(delay) => return Scripted::Proceed(Some(delay)),
        Failure::Http {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response =
                (status, "<html><body>Service Unavailable</body></html>").into_response();
            if let Some(seconds) = retry_after
                && let Ok(value) = seconds.to_string().parse()
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Failure::Fault { code, message } => xml(StatusCode::OK, xmlrpc::fault(code, &message)),
    })
}

/// Answers after the scripted delay, the lock released meanwhile.
async fn answer(
    state: &Arc<Mutex<Inner>>,
    body: &[u8],
    call: fn(&mut Inner, &str, &[Value], &mut Option<Duration>) -> Response,
) -> Response {
    let (method, params) = match xmlrpc::parse_call(body) {
        Ok(call) => call,
        Err(e) => {
            return xml(
                StatusCode::OK,
                xmlrpc::fault(1, &format!("ExpatError: {e}")),
            );
        }
    };
    let mut late = None;
    let response = call(&mut lock(state), &method, &params, &mut late);
    if let Some(delay) = late {
        tokio::time::sleep(delay).await;
    }
    response
}

async fn common(State(state): Shared, body: Bytes) -> Response {
    answer(&state, &body, common_call).await
}

async fn object(State(state): Shared, body: Bytes) -> Response {
    answer(&state, &body, object_call).await
}

fn common_call(
    inner: &mut Inner,
    method: &str,
    params: &[Value],
    late: &mut Option<Duration>,
) -> Response {
    match scripted(inner, method) {
        Scripted::Proceed(delay) => *late = delay,
        Scripted::Answer(failure) => return failure,
    }
    match method {
        // odoo/service/common.py `exp_version`: `odoo.release`'s version.
        "version" => {
            let major = inner.edition.version;
            xml(
                StatusCode::OK,
                xmlrpc::response(
                    &json!({"server_version": format!("{major}.0"), "server_version_info": [major, 0, 0, "final", 0, ""], "protocol_version": 1}),
                ),
            )
        }
        "authenticate" => {
            let text = |i: usize| params.get(i).and_then(Value::as_str).unwrap_or_default();
            if params.len() != 4 {
                return xml(
                    StatusCode::OK,
                    xmlrpc::fault(1, "TypeError: authenticate() takes 4 arguments"),
                );
            }
            if text(0) != DATABASE {
                return xml(
                    StatusCode::OK,
                    xmlrpc::fault(
                        1,
                        &format!(
                            "Traceback (most recent call last):\n  File \"/odoo/odoo/sql_db.py\", line 700, in borrow\n\
                             psycopg2.OperationalError: connection to server failed: FATAL:  database \"{}\" does not exist\n",
                            text(0)
                        ),
                    ),
                );
            }
            let answer = if text(1) == LOGIN && text(2) == inner.api_key {
                json!(UID)
            } else {
                json!(false)
            };
            xml(StatusCode::OK, xmlrpc::response(&answer))
        }
        other => xml(
            StatusCode::OK,
            xmlrpc::fault(
                1,
                &format!("Traceback…\nNameError: method '{other}' is not supported"),
            ),
        ),
    }
}

fn object_call(
    inner: &mut Inner,
    method: &str,
    params: &[Value],
    late: &mut Option<Duration>,
) -> Response {
    if method != "execute_kw" {
        return xml(
            StatusCode::OK,
            xmlrpc::fault(1, &format!("NameError: method '{method}' is not supported")),
        );
    }
    let text = |i: usize| params.get(i).and_then(Value::as_str).unwrap_or_default();
    let (model, model_method) = (text(3).to_owned(), text(4).to_owned());
    match scripted(inner, &format!("{model}.{model_method}")) {
        Scripted::Proceed(delay) => *late = delay,
        Scripted::Answer(failure) => return failure,
    }
    if text(0) != DATABASE
        || params.get(1).and_then(Value::as_i64) != Some(UID)
        || text(2) != inner.api_key
    {
        return xml(StatusCode::OK, xmlrpc::fault(3, "Access Denied"));
    }
    let args = params
        .get(5)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let kwargs = params
        .get(6)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    match inner.execute(&model, &model_method, &args, &kwargs) {
        Ok(answer) => xml(StatusCode::OK, xmlrpc::response(&answer)),
        Err(Fault(code, message)) => xml(StatusCode::OK, xmlrpc::fault(code, &message)),
    }
}

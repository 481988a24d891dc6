//! What an order is on the way in: the document a shop posts, its
//! validation into field-level errors, its split into one supplier order per
//! supplier, and its mapping onto the plugin contract's `order`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::DispatchPolicy;
use crate::registry::Registry;
use crate::runtime::bindings::shopbridge::connector::types as wit;
use crate::store::{NewOrder, NewSupplierOrder, idempotency_key};

/// Who sells each SKU a shop orders. The configuration decides first: a
/// binding that lists the SKU or has the longest non-empty prefix of it;
/// then the catalog (the binding whose feed listed it first, with its
/// wholesale cost); then a binding taking any SKU (an empty prefix). A
/// feed cannot take a SKU over: the sync rejects what another binding owns.
pub struct Owners<'a> {
    shop: &'a str,
    registry: &'a Registry,
    catalog: HashMap<String, (String, Option<i64>)>,
}

impl<'a> Owners<'a> {
    /// `catalog`: SKU → (binding, wholesale unit cost) from the shop's catalog.
    pub fn new(
        shop: &'a str,
        registry: &'a Registry,
        catalog: HashMap<String, (String, Option<i64>)>,
    ) -> Owners<'a> {
        Owners {
            shop,
            registry,
            catalog,
        }
    }

    /// The binding that sells `sku`, and its wholesale cost when the catalog knows it.
    pub fn owner(&self, sku: &str) -> Option<(&'a crate::registry::Binding, Option<i64>)> {
        let listed = self.catalog.get(sku);
        if let Some(binding) = self.registry.configured_owner(self.shop, sku) {
            let cost = listed
                .filter(|(by, _)| *by == binding.config.id)
                .and_then(|(_, cost)| *cost);
            return Some((binding, cost));
        }
        if let Some((binding, cost)) = listed
            && let Some(binding) = self.registry.binding(binding)
        {
            return Some((binding, *cost));
        }
        self.registry.owner(self.shop, sku).map(|b| (b, None))
    }
}

/// An order as a shop posts it. Money is in minor units of `currency`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostedOrder {
    /// The shop's order reference, unique per shop.
    pub reference: String,
    /// When the customer placed it (RFC 3339); now if absent.
    #[serde(default)]
    pub placed_at: Option<String>,
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// Whether the payment is confirmed.
    #[serde(default)]
    pub paid: bool,
    /// The customer's email.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// Where the goods go.
    pub shipping_address: PostedAddress,
    /// Who pays, if not the same.
    #[serde(default)]
    pub billing_address: Option<PostedAddress>,
    /// What was bought.
    pub lines: Vec<PostedLine>,
    /// The shipping method the customer chose.
    #[serde(default)]
    pub shipping_method: Option<String>,
    /// The customer's note.
    #[serde(default)]
    pub note: Option<String>,
}

/// A postal address. Empty strings are accepted here: a supplier that needs
/// the field says so (needs attention), and the shop fixes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostedAddress {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Street line.
    pub line1: String,
    /// Second street line.
    #[serde(default)]
    pub line2: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Region or state.
    #[serde(default)]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
}

/// One line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostedLine {
    /// The SKU.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// What the customer paid for one, VAT included, minor units.
    pub unit_price: i64,
    /// Product name, for people reading the supplier order.
    #[serde(default)]
    pub name: Option<String>,
}

/// A line as stored on a supplier order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SupplierLine {
    /// The SKU.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// Retail unit price paid, minor units.
    pub unit_price: i64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Wholesale unit cost, when known.
    #[serde(default)]
    pub wholesale_unit: Option<i64>,
}

/// A problem with one field of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field (`lines[2].quantity`).
    pub field: String,
    /// A short code: `missing`, `invalid`, `unknown-sku`, …
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

fn error(field: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// The error of an order whose total does not fit in 64 bits.
fn total_too_large() -> FieldError {
    error(
        "lines",
        "invalid",
        "the order's total (unit prices × quantities) does not fit in 64 bits of minor units",
    )
}

/// Parses a body: a structural error names the field it is in.
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { String::new() } else { path };
        let code = if inner.is_syntax() || inner.is_eof() {
            "malformed"
        } else {
            "invalid"
        };
        error(field, code, inner.to_string())
    })
}

impl PostedOrder {
    /// Checks what serde cannot: formats, ranges, SKU ownership.
    pub fn validate(&self, owners: &Owners<'_>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let reference = self.reference.trim();
        if reference.is_empty() || reference.len() > 64 {
            errors.push(error(
                "reference",
                "invalid",
                "the reference must be 1 to 64 characters",
            ));
        } else if reference.chars().any(|c| c.is_control() || c == '/') {
            errors.push(error(
                "reference",
                "invalid",
                "the reference must not contain '/' or control characters",
            ));
        }
        if !(self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            errors.push(error(
                "currency",
                "invalid",
                "the currency must be an ISO 4217 code such as EUR",
            ));
        }
        if let Some(at) = &self.placed_at
            && time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            errors.push(error(
                "placed_at",
                "invalid",
                "placed_at must be an RFC 3339 date-time such as 2026-11-25T10:00:00Z",
            ));
        }
        if self.lines.is_empty() {
            errors.push(error("lines", "missing", "the order has no line"));
        }
        if self.lines.len() > 500 {
            errors.push(error("lines", "invalid", "an order has at most 500 lines"));
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.sku.trim().is_empty() {
                errors.push(error(
                    format!("lines[{i}].sku"),
                    "missing",
                    "the line has no SKU",
                ));
            } else if owners.owner(&line.sku).is_none() {
                errors.push(error(
                    format!("lines[{i}].sku"),
                    "unknown-sku",
                    format!("no supplier of this shop sells SKU '{}'", line.sku),
                ));
            }
            if line.quantity == 0 {
                errors.push(error(
                    format!("lines[{i}].quantity"),
                    "invalid",
                    "the quantity must be at least 1",
                ));
            }
            if line.unit_price < 0 {
                errors.push(error(
                    format!("lines[{i}].unit_price"),
                    "invalid",
                    "the unit price must not be negative",
                ));
            }
        }
        if self.retail_total().is_none() {
            errors.push(total_too_large());
        }
        errors
    }

    /// What the customer paid for the lines, exact; `None` when it does not
    /// fit in 64 bits of minor units (such an order is refused).
    pub fn retail_total(&self) -> Option<i64> {
        self.lines.iter().try_fold(0i64, |total, l| {
            total.checked_add(l.unit_price.checked_mul(i64::from(l.quantity))?)
        })
    }

    /// Splits the (validated) order by supplier: one supplier order per
    /// binding that owns some of its lines, at revision 0.
    pub fn split(&self, owners: &Owners<'_>, policy: DispatchPolicy) -> Vec<NewSupplierOrder> {
        let (shop, registry) = (owners.shop, owners.registry);
        let mut by_binding: BTreeMap<&str, Vec<SupplierLine>> = BTreeMap::new();
        for line in &self.lines {
            let Some((binding, catalog_cost)) = owners.owner(&line.sku) else {
                continue;
            };
            by_binding
                .entry(&binding.config.id)
                .or_default()
                .push(SupplierLine {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    name: line.name.clone(),
                    // The binding's declared cost wins over the feed's.
                    wholesale_unit: binding
                        .config
                        .wholesale
                        .get(&line.sku)
                        .copied()
                        .or(catalog_cost),
                });
        }
        let queued = policy == DispatchPolicy::AtConfirmation || self.paid;
        by_binding
            .into_iter()
            .filter_map(|(id, lines)| {
                let binding = registry.binding(id)?;
                let wholesale_total = lines
                    .iter()
                    // Unknown when a cost is, or when the sum does not fit
                    // in 64 bits: never a wrong number.
                    .try_fold(0i64, |total, l| {
                        total.checked_add(l.wholesale_unit?.checked_mul(i64::from(l.quantity))?)
                    });
                Some(NewSupplierOrder {
                    binding: id.to_owned(),
                    idempotency_key: idempotency_key(shop, &self.reference, id, 0),
                    queued,
                    lines: serde_json::to_string(&lines).unwrap_or_else(|_| "[]".into()),
                    wholesale_total,
                    wholesale_currency: binding.config.currency.clone(),
                })
            })
            .collect()
    }

    /// The order made ready to store, with the answer the shop gets; the
    /// error of [`PostedOrder::validate`] when its total does not fit.
    pub fn into_new_order(
        self,
        body: &[u8],
        owners: &Owners<'_>,
        policy: DispatchPolicy,
    ) -> Result<NewOrder, FieldError> {
        let shop = owners.shop;
        let retail_total = self.retail_total().ok_or_else(total_too_large)?;
        let split = self.split(owners, policy);
        let answer = serde_json::json!({
            "reference": self.reference,
            "status": "accepted",
            "supplier_orders": split.iter().map(|so| serde_json::json!({
                "id": so.idempotency_key,
                "binding": so.binding,
                "state": if so.queued { "queued" } else { "held" },
                "lines": serde_json::from_str::<serde_json::Value>(&so.lines).unwrap_or_default(),
                "wholesale_total": so.wholesale_total,
                "wholesale_currency": so.wholesale_currency,
            })).collect::<Vec<_>>(),
        });
        Ok(NewOrder {
            shop: shop.to_owned(),
            reference: self.reference.clone(),
            body_sha256: hex::encode(Sha256::digest(body)),
            payload: serde_json::to_string(&self).unwrap_or_default(),
            currency: self.currency.clone(),
            retail_total,
            paid: self.paid,
            supplier_orders: split,
            answer: answer.to_string(),
        })
    }
}

/// The contract's `order` for one supplier order.
pub fn contract_order(
    order: &PostedOrder,
    lines: &[SupplierLine],
    idempotency_key: &str,
    received_at: &str,
) -> wit::Order {
    let address = |a: &PostedAddress| wit::Address {
        first_name: a.first_name.clone(),
        last_name: a.last_name.clone(),
        company: a.company.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        postal_code: a.postal_code.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        country_code: a.country_code.clone(),
        phone: a.phone.clone(),
        email: a.email.clone(),
    };
    wit::Order {
        reference: order.reference.clone(),
        idempotency_key: idempotency_key.to_owned(),
        placed_at: order
            .placed_at
            .clone()
            .unwrap_or_else(|| received_at.to_owned()),
        customer_email: order.customer_email.clone(),
        shipping_address: address(&order.shipping_address),
        billing_address: order.billing_address.as_ref().map(address),
        lines: lines
            .iter()
            .map(|l| wit::OrderLine {
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: wit::Money {
                    amount_minor: l.unit_price,
                    currency: order.currency.clone(),
                },
                name: l.name.clone(),
            })
            .collect(),
        shipping_method: order.shipping_method.clone(),
        note: order.note.clone(),
    }
}

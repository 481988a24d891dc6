//! The catalog: Odoo's saleable products and their stock, read page by
//! page through `search_read` (the crate documentation says how the
//! feed-parser resource drives it).

use std::collections::BTreeMap;

use shopbridge_guest_sdk::{
    Attribute, Availability, FeedError, FeedParse, FeedRecord, Money, Product, Rejection,
};
use shopbridge_guest_sdk::{http, log};

use crate::client::{Config, FaultKind, Odoo, OdooError, domain, leaf};
use crate::values::{count, grams, gtin, money_from_f64};
use crate::xmlrpc::Value;

/// The product fields read, besides the stock field of the settings.
pub const PRODUCT_FIELDS: [&str; 14] = [
    "default_code",
    "barcode",
    "name",
    "description_sale",
    "list_price",
    "standard_price",
    "weight",
    "categ_id",
    "currency_id",
    "type",
    "sale_delay",
    "taxes_id",
    "product_tmpl_id",
    "product_template_attribute_value_ids",
];

/// A catalog read from Odoo: one page per `push`, the rest on `finish`.
#[derive(Debug)]
pub struct OdooCatalog {
    odoo: Odoo,
    /// Keyset pagination: the next page starts after this product id.
    after_id: i64,
    exhausted: bool,
    /// Odoo refused to let the user read taxes: not asked again.
    taxes_refused: bool,
}

impl OdooCatalog {
    /// A catalog for the binding's settings. Nothing is sent yet.
    pub fn from_settings() -> Result<OdooCatalog, FeedError> {
        Ok(OdooCatalog::new(Config::from_settings()?))
    }

    /// A catalog for these settings.
    pub fn new(config: Config) -> OdooCatalog {
        OdooCatalog {
            odoo: Odoo::new(config),
            after_id: 0,
            exhausted: false,
            taxes_refused: false,
        }
    }

    /// Whether every page has been read.
    pub fn is_exhausted(&self) -> bool {
        self.exhausted
    }

    /// Reads the next page: one record per product, in id order. Empty
    /// once the catalog is exhausted.
    pub fn next_page(&mut self) -> Result<Vec<FeedRecord>, OdooError> {
        if self.exhausted {
            return Ok(Vec::new());
        }
        let config = self.odoo.config().clone();
        let mut fields: Vec<&str> = PRODUCT_FIELDS.to_vec();
        fields.push(config.stock_field);
        // Odoo 18 tracks stock on `is_storable`; before, `type` says it.
        if self.odoo.major_version()? >= 18 {
            fields.push("is_storable");
        }
        let products = self.odoo.search_read(
            "product.product",
            domain([leaf("sale_ok", "=", true), leaf("id", ">", self.after_id)]),
            &fields,
            vec![
                ("limit", Value::Int(i64::from(config.page_size))),
                ("order", Value::from("id asc")),
            ],
        )?;
        // A short page is the last: no request for an empty one.
        if products.len() < config.page_size as usize {
            self.exhausted = true;
        }
        if let Some(last) = products
            .iter()
            .filter_map(|p| p.get("id").and_then(Value::as_i64))
            .max()
        {
            if last <= self.after_id {
                // A server that ignores the domain would loop forever.
                self.exhausted = true;
                return Ok(Vec::new());
            }
            self.after_id = last;
        } else {
            self.exhausted = true;
        }
        let attributes = self.attribute_values(&products)?;
        let taxes = self.taxes(&products)?;
        Ok(products
            .iter()
            .map(|p| record(p, &config, &attributes, &taxes))
            .collect())
    }

    /// `product.template.attribute.value` by id: (attribute, value).
    fn attribute_values(
        &mut self,
        products: &[Value],
    ) -> Result<BTreeMap<i64, (String, String)>, OdooError> {
        let ids = ids_in(products, "product_template_attribute_value_ids");
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let values = self.odoo.search_read(
            "product.template.attribute.value",
            domain([leaf("id", "in", ids)]),
            &["attribute_id", "name"],
            Vec::new(),
        )?;
        Ok(values
            .iter()
            .filter_map(|v| {
                let id = v.get("id")?.as_i64()?;
                let (_, attribute) = v.get("attribute_id")?.as_many2one()?;
                let name = v.get("name")?.as_text()?;
                Some((id, (attribute.trim().to_lowercase(), name.to_owned())))
            })
            .collect())
    }

    /// `account.tax` by id.
    fn taxes(&mut self, products: &[Value]) -> Result<BTreeMap<i64, Tax>, OdooError> {
        let ids = ids_in(products, "taxes_id");
        if ids.is_empty() || self.taxes_refused {
            return Ok(BTreeMap::new());
        }
        let taxes = match self.odoo.search_read(
            "account.tax",
            domain([leaf("id", "in", ids)]),
            &["amount", "amount_type", "price_include"],
            Vec::new(),
        ) {
            Ok(taxes) => taxes,
            // A user without accounting rights still reads the catalog,
            // without VAT rates (prices as Odoo holds them).
            Err(e) if e.is_fault(FaultKind::AccessError) => {
                if !self.taxes_refused {
                    log::warn(
                        "the Odoo user may not read taxes: products come without VAT rates",
                        &[("error", &e.to_string())],
                    );
                }
                self.taxes_refused = true;
                return Ok(BTreeMap::new());
            }
            Err(e) => return Err(e),
        };
        Ok(taxes
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("id")?.as_i64()?,
                    Tax {
                        percent: (t.get("amount_type")?.as_str()? == "percent")
                            .then(|| t.get("amount").and_then(Value::as_f64))
                            .flatten(),
                        included: t.get("price_include").and_then(Value::as_bool) == Some(true),
                    },
                ))
            })
            .collect())
    }
}

impl FeedParse for OdooCatalog {
    /// The pushed bytes are ignored: each push reads the next page.
    fn push(&mut self, _chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError> {
        self.next_page().map_err(feed_error)
    }

    /// Reads every page left.
    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError> {
        let mut records = Vec::new();
        while !self.exhausted {
            records.extend(self.next_page().map_err(feed_error)?);
        }
        Ok(records)
    }
}

fn feed_error(e: OdooError) -> FeedError {
    match e {
        OdooError::Http(http::Error::TooManyRequests(n)) => FeedError::Refused(format!(
            "the catalog has more pages than {n} requests can read in one call: \
             push one chunk per page (see the odoo connector's documentation) or raise 'page-size'"
        )),
        other => other.into_feed_error(),
    }
}

/// A customer tax as far as prices need it.
#[derive(Debug, Clone, Copy)]
struct Tax {
    /// The rate in percent, for a `percent` tax.
    percent: Option<f64>,
    /// Whether prices include it.
    included: bool,
}

/// Every id of a many2many field across these records, once.
fn ids_in(records: &[Value], field: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = records
        .iter()
        .filter_map(|r| r.get(field).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One product record as a product, or a rejection saying why not.
fn record(
    product: &Value,
    config: &Config,
    attributes: &BTreeMap<i64, (String, String)>,
    taxes: &BTreeMap<i64, Tax>,
) -> FeedRecord {
    let id = product
        .get("id")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let position = Some(format!("product.product {id}"));
    let Some(sku) = product.get("default_code").and_then(Value::as_text) else {
        return FeedRecord::Rejected(Rejection::new(
            None,
            position,
            "the product has no internal reference (default_code), which is its SKU",
        ));
    };
    let reject = |reason: String| {
        FeedRecord::Rejected(Rejection::new(
            Some(sku.to_owned()),
            position.clone(),
            reason,
        ))
    };
    let Some(name) = product.get("name").and_then(Value::as_text) else {
        return reject("the product has no name".to_owned());
    };
    let currency = product
        .get("currency_id")
        .and_then(Value::as_many2one)
        .map(|(_, code)| code.trim().to_ascii_uppercase())
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        .unwrap_or_else(|| config.currency.clone());
    let list_price = product.get("list_price").and_then(Value::as_f64);
    if list_price.is_some_and(|p| !p.is_finite() || p < 0.0) {
        return reject(format!("sales price {list_price:?} is not a price"));
    }

    // VAT: the sum of the product's percent taxes, when every tax is one
    // and all agree on whether prices include them.
    let product_taxes: Vec<Tax> = product
        .get("taxes_id")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_i64)
        .filter_map(|t| taxes.get(&t).copied())
        .collect();
    let vat = match product_taxes.first() {
        Some(first)
            if product_taxes
                .iter()
                .all(|t| t.percent.is_some() && t.included == first.included) =>
        {
            let percent: f64 = product_taxes.iter().filter_map(|t| t.percent).sum();
            Some((percent, first.included))
        }
        _ => None,
    };
    let price = |amount: f64| money_from_f64(amount, &currency);
    let with_vat = |amount: f64| match vat {
        Some((percent, false)) => price(amount * (1.0 + percent / 100.0)),
        _ => price(amount),
    };
    let without_vat = |amount: f64| match vat {
        Some((percent, true)) => price(amount / (1.0 + percent / 100.0)),
        _ => price(amount),
    };
    let (wholesale_price, retail_price): (Option<Money>, Option<Money>) = match config.partner_id {
        // A supplier's ERP: its sales price is what the shop pays.
        Some(_) => (list_price.and_then(without_vat), None),
        // The merchant's own ERP: cost and sales price.
        None => (
            product
                .get("standard_price")
                .and_then(Value::as_f64)
                .filter(|c| c.is_finite() && *c > 0.0)
                .and_then(price),
            list_price.and_then(with_vat),
        ),
    };

    // Only stock-tracked goods can be out of stock: Odoo 18's `consu`
    // with `is_storable`, Odoo 17's `product` (its `consu` is not
    // tracked). Untracked consumables, services and combos are sold
    // without stock: always available.
    let kind = product.get("type").and_then(Value::as_str).unwrap_or("");
    let stocked = match product.get("is_storable") {
        Some(storable) => kind == "consu" && storable.as_bool() == Some(true),
        None => kind == "product",
    };
    let stock_quantity = if stocked {
        product
            .get(config.stock_field)
            .and_then(Value::as_f64)
            .and_then(count)
    } else {
        None
    };
    let availability = match stock_quantity {
        _ if !stocked => Availability::InStock,
        Some(q) if q > 0 => Availability::InStock,
        _ => Availability::OutOfStock,
    };

    let variant_values: Vec<Attribute> = product
        .get("product_template_attribute_value_ids")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_i64)
        .filter_map(|v| attributes.get(&v))
        .map(|(name, value)| Attribute {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let group_id = if variant_values.is_empty() {
        None
    } else {
        product
            .get("product_tmpl_id")
            .and_then(Value::as_many2one)
            .map(|(template, _)| format!("template-{template}"))
    };

    let mut p = Product::new(sku, name);
    p.gtin = product
        .get("barcode")
        .and_then(Value::as_text)
        .and_then(gtin);
    p.description = product
        .get("description_sale")
        .and_then(Value::as_text)
        .map(str::to_owned);
    p.category_path = product
        .get("categ_id")
        .and_then(Value::as_many2one)
        .map(|(_, path)| {
            path.split(" / ")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    p.wholesale_price = wholesale_price;
    p.retail_price = retail_price;
    p.vat_rate_basis_points = vat.and_then(|(percent, _)| {
        let bp = (percent * 100.0).round();
        (bp.is_finite() && (0.0..=100_000.0).contains(&bp)).then_some(bp as u32)
    });
    p.stock_quantity = stock_quantity;
    p.availability = availability;
    p.lead_time_days = product
        .get("sale_delay")
        .and_then(Value::as_f64)
        .filter(|d| *d > 0.0)
        .and_then(|d| count(d.ceil()));
    p.weight_grams = product
        .get("weight")
        .and_then(Value::as_f64)
        .and_then(grams);
    p.group_id = group_id;
    p.attributes = variant_values;
    FeedRecord::Product(p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::client::LinePrices;

    fn config(partner_id: Option<i64>) -> Config {
        Config {
            url: "https://odoo.example".into(),
            database: "db".into(),
            username: "u".into(),
            api_key: "k".into(),
            partner_id,
            company_id: None,
            pricelist_id: None,
            line_prices: LinePrices::Order,
            confirm_orders: true,
            currency: "EUR".into(),
            page_size: 500,
            stock_field: "qty_available",
        }
    }

    fn product(members: Vec<(&str, Value)>) -> Value {
        let mut all = vec![
            ("id", Value::Int(7)),
            ("default_code", Value::from("SKU-1")),
            ("name", Value::from("Teapot")),
            ("barcode", Value::Bool(false)),
            ("list_price", Value::Double(20.0)),
            ("standard_price", Value::Double(8.5)),
            ("qty_available", Value::Double(12.0)),
            ("type", Value::from("product")),
            ("taxes_id", Value::array([Value::Int(1)])),
        ];
        for (k, v) in members {
            all.retain(|(name, _)| *name != k);
            all.push((k, v));
        }
        Value::structure(all)
    }

    fn taxes(included: bool) -> BTreeMap<i64, Tax> {
        BTreeMap::from([(
            1,
            Tax {
                percent: Some(20.0),
                included,
            },
        )])
    }

    fn eur(minor: i64) -> Option<Money> {
        Some(Money {
            amount_minor: minor,
            currency: "EUR".into(),
        })
    }

    fn product_of(record: FeedRecord) -> Product {
        match record {
            FeedRecord::Product(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_merchants_erp_gives_cost_and_retail_price_with_vat() {
        let p = product_of(record(
            &product(vec![]),
            &config(None),
            &BTreeMap::new(),
            &taxes(false),
        ));
        assert_eq!(p.wholesale_price, eur(850));
        assert_eq!(p.retail_price, eur(2400));
        assert_eq!(p.vat_rate_basis_points, Some(2000));
        assert_eq!(p.stock_quantity, Some(12));
        assert_eq!(p.availability, Availability::InStock);
        let included = product_of(record(
            &product(vec![]),
            &config(None),
            &BTreeMap::new(),
            &taxes(true),
        ));
        assert_eq!(included.retail_price, eur(2000));
    }

    #[test]
    fn a_suppliers_erp_gives_its_sales_price_without_vat_as_wholesale() {
        let p = product_of(record(
            &product(vec![]),
            &config(Some(9)),
            &BTreeMap::new(),
            &taxes(true),
        ));
        assert_eq!(p.wholesale_price, eur(1667));
        assert_eq!(p.retail_price, None);
    }

    #[test]
    fn taxes_that_are_not_all_percentages_alike_give_no_vat_rate() {
        let mut taxes = taxes(false);
        taxes.insert(
            2,
            Tax {
                percent: None,
                included: false,
            },
        );
        taxes.insert(
            3,
            Tax {
                percent: Some(5.5),
                included: true,
            },
        );
        for ids in [[1, 2], [1, 3]] {
            let p = product_of(record(
                &product(vec![("taxes_id", Value::array(ids.map(Value::Int)))]),
                &config(None),
                &BTreeMap::new(),
                &taxes,
            ));
            assert_eq!(p.vat_rate_basis_points, None, "{ids:?}");
            assert_eq!(p.retail_price, eur(2000), "{ids:?}");
        }
    }

    #[test]
    fn services_are_available_and_empty_stock_is_out_of_stock() {
        let service = product_of(record(
            &product(vec![
                ("type", Value::from("service")),
                ("qty_available", Value::Double(0.0)),
            ]),
            &config(None),
            &BTreeMap::new(),
            &BTreeMap::new(),
        ));
        assert_eq!(service.availability, Availability::InStock);
        assert_eq!(service.stock_quantity, None);
        // Odoo 17's consumable and Odoo 18's untracked one: in stock.
        for kind in [
            vec![("type", Value::from("consu"))],
            vec![
                ("type", Value::from("consu")),
                ("is_storable", Value::Bool(false)),
            ],
        ] {
            let mut members = kind;
            members.push(("qty_available", Value::Double(0.0)));
            let consumable = product_of(record(
                &product(members),
                &config(None),
                &BTreeMap::new(),
                &BTreeMap::new(),
            ));
            assert_eq!(consumable.availability, Availability::InStock);
            assert_eq!(consumable.stock_quantity, None);
        }
        // Odoo 18's tracked goods are out of stock without stock.
        let tracked = product_of(record(
            &product(vec![
                ("type", Value::from("consu")),
                ("is_storable", Value::Bool(true)),
                ("qty_available", Value::Double(0.0)),
            ]),
            &config(None),
            &BTreeMap::new(),
            &BTreeMap::new(),
        ));
        assert_eq!(tracked.availability, Availability::OutOfStock);
        let empty = product_of(record(
            &product(vec![("qty_available", Value::Double(-2.0))]),
            &config(None),
            &BTreeMap::new(),
            &BTreeMap::new(),
        ));
        assert_eq!(empty.availability, Availability::OutOfStock);
        assert_eq!(empty.stock_quantity, Some(0));
        assert_eq!(empty.vat_rate_basis_points, None);
        assert_eq!(empty.retail_price, eur(2000));
    }

    #[test]
    fn a_product_without_reference_or_with_a_negative_price_is_rejected() {
        let no_code = record(
            &product(vec![("default_code", Value::Bool(false))]),
            &config(None),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        match no_code {
            FeedRecord::Rejected(r) => {
                assert_eq!(r.sku, None);
                assert_eq!(r.position.as_deref(), Some("product.product 7"));
            }
            other => panic!("{other:?}"),
        }
        let negative = record(
            &product(vec![("list_price", Value::Double(-1.0))]),
            &config(None),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert!(matches!(negative, FeedRecord::Rejected(r) if r.sku.as_deref() == Some("SKU-1")));
    }

    #[test]
    fn variants_carry_their_template_and_attributes() {
        let attributes = BTreeMap::from([
            (3, ("size".to_owned(), "L".to_owned())),
            (4, ("color".to_owned(), "Red".to_owned())),
        ]);
        let p = product_of(record(
            &product(vec![
                (
                    "product_template_attribute_value_ids",
                    Value::array([Value::Int(3), Value::Int(4)]),
                ),
                (
                    "product_tmpl_id",
                    Value::array([Value::Int(11), Value::from("T-shirt")]),
                ),
                (
                    "categ_id",
                    Value::array([Value::Int(5), Value::from("All / Apparel / Shirts")]),
                ),
                ("barcode", Value::from("4006381333931")),
                ("weight", Value::Double(0.2)),
                ("sale_delay", Value::Double(2.5)),
            ]),
            &config(None),
            &attributes,
            &BTreeMap::new(),
        ));
        assert_eq!(p.group_id.as_deref(), Some("template-11"));
        assert_eq!(p.attributes.len(), 2);
        assert_eq!(p.attributes[0].name, "size");
        assert_eq!(p.category_path, ["All", "Apparel", "Shirts"]);
        assert_eq!(p.gtin.as_deref(), Some("4006381333931"));
        assert_eq!(p.weight_grams, Some(200));
        assert_eq!(p.lead_time_days, Some(3));
    }
}

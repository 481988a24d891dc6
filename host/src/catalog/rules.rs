//! The host's rules, the same for every plugin: the shop's retail price
//! from the supplier's wholesale price, what the shop shows when the
//! supplier is out of stock, and where the product goes in the shop's
//! category tree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runtime::bindings::shopbridge::connector::types::{Availability, Money, Product};

/// How a retail price is made from a wholesale price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pricing {
    /// Percent added to the wholesale price (30 = ×1.30).
    pub markup_percent: f64,
    /// Minor units added after the markup (a handling fee).
    pub fixed_minor: i64,
    /// Add the product's VAT to the price (wholesale prices are usually
    /// without VAT, shop prices with it).
    pub add_vat: bool,
    /// Round up to a price ending in these cents (99 → 12.99, 90 → 12.90).
    pub ending_cents: Option<u8>,
    /// The retail price never leaves less than this margin over wholesale,
    /// in percent of wholesale.
    pub min_margin_percent: Option<f64>,
    /// Markups for a brand (`brand:Acme`) or a category path prefix
    /// (`category:Maison > Cuisine`), instead of `markup_percent`.
    pub overrides: BTreeMap<String, f64>,
    /// The supplier's retail price, when its feed gives one, is its minimum
    /// advertised price: the shop's price is never below it (compared VAT
    /// included, or without VAT at the product's rate when `add_vat` is off).
    pub floor_at_supplier_retail: bool,
}

impl Pricing {
    /// Whether the rules make sense.
    pub fn check(&self) -> Result<(), String> {
        if !(self.markup_percent.is_finite() && self.markup_percent > -100.0) {
            return Err("markup_percent must be a number above -100".into());
        }
        if self.ending_cents.is_some_and(|c| c > 99) {
            return Err("ending_cents must be 0 to 99".into());
        }
        for (key, markup) in &self.overrides {
            if !(key.starts_with("brand:") || key.starts_with("category:")) {
                return Err(format!(
                    "override '{key}' must start with brand: or category:"
                ));
            }
            if !(markup.is_finite() && *markup > -100.0) {
                return Err(format!("override '{key}' must be a number above -100"));
            }
        }
        Ok(())
    }

    fn markup_for(&self, product: &Product) -> f64 {
        let brand = product
            .brand
            .as_deref()
            .and_then(|b| self.overrides.get(&format!("brand:{b}")));
        let path = product.category_path.join(" > ");
        // The longest matching category prefix wins.
        let category = self
            .overrides
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("category:").map(|p| (p, v)))
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, v)| v);
        *brand.or(category).unwrap_or(&self.markup_percent)
    }

    /// The retail price of `product`: from its wholesale price by the rules,
    /// or the supplier's own retail price when there is no wholesale one.
    pub fn retail(&self, product: &Product) -> Option<Money> {
        let Some(wholesale) = &product.wholesale_price else {
            return product.retail_price.clone();
        };
        let base = wholesale.amount_minor as f64;
        let mut price = base * (1.0 + self.markup_for(product) / 100.0) + self.fixed_minor as f64;
        if let Some(min) = self.min_margin_percent {
            price = price.max(base * (1.0 + min / 100.0));
        }
        if self.add_vat
            && let Some(vat) = product.vat_rate_basis_points
        {
            price *= 1.0 + f64::from(vat) / 10_000.0;
        }
        if self.floor_at_supplier_retail
            && let Some(floor) = &product.retail_price
        {
            // The supplier's retail price includes VAT; without VAT it is
            // rounded to the nearest minor unit (a float division would
            // land a hair above or below it).
            let floor = match (self.add_vat, product.vat_rate_basis_points) {
                (false, Some(vat)) => {
                    (floor.amount_minor as f64 * 10_000.0 / (10_000.0 + f64::from(vat))).round()
                }
                _ => floor.amount_minor as f64,
            };
            price = price.max(floor);
        }
        let mut amount = price.ceil() as i64;
        if let Some(ending) = self.ending_cents {
            amount = round_up_to_ending(amount, i64::from(ending));
        }
        Some(Money {
            amount_minor: amount,
            currency: wholesale.currency.clone(),
        })
    }
}

/// The smallest amount ≥ `amount` whose last two digits are `ending`.
fn round_up_to_ending(amount: i64, ending: i64) -> i64 {
    let candidate = amount - amount.rem_euclid(100) + ending;
    if candidate >= amount {
        candidate
    } else {
        candidate + 100
    }
}

/// What the shop does with a product its supplier cannot deliver now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AvailabilityPolicy {
    /// Hide it.
    Hide,
    /// Show it as out of stock.
    #[default]
    ShowOutOfStock,
    /// Let customers order it; it ships after the supplier's lead time.
    AllowBackorder,
}

/// What the rules make of a product, for the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShopView {
    /// The retail price, when one can be made.
    pub retail_price: Option<Money>,
    /// Whether the shop shows the product.
    pub visible: bool,
    /// `in_stock`, `out_of_stock`, `backorder` or `preorder`.
    pub availability: String,
    /// Days before it ships, when not in stock.
    pub lead_time_days: Option<u32>,
    /// Where it goes in the shop.
    pub category: Vec<String>,
}

/// The rules of one binding.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Prices.
    pub pricing: Pricing,
    /// Out of stock.
    pub availability: AvailabilityPolicy,
    /// Supplier path (joined with " > ") → shop path (same notation).
    pub categories: BTreeMap<String, String>,
}

impl Rules {
    /// Applies the rules to a product.
    pub fn apply(&self, product: &Product) -> ShopView {
        let sellable = match product.availability {
            Availability::InStock => true,
            Availability::Backorder | Availability::OutOfStock | Availability::Preorder(_) => {
                product.stock_quantity.is_some_and(|q| q > 0)
            }
            Availability::Discontinued => false,
        };
        let (visible, availability) = match (&product.availability, sellable) {
            (_, true) => (true, "in_stock"),
            (Availability::Preorder(_), false) => (true, "preorder"),
            (Availability::Discontinued, _) => (false, "out_of_stock"),
            (_, false) => match self.availability {
                AvailabilityPolicy::Hide => (false, "out_of_stock"),
                AvailabilityPolicy::ShowOutOfStock => (true, "out_of_stock"),
                AvailabilityPolicy::AllowBackorder => (true, "backorder"),
            },
        };
        let path = product.category_path.join(" > ");
        let category = match self.categories.get(&path) {
            Some(mapped) => mapped.split(" > ").map(str::to_owned).collect(),
            None => product.category_path.clone(),
        };
        ShopView {
            retail_price: self.pricing.retail(product),
            visible,
            availability: availability.to_owned(),
            lead_time_days: (availability != "in_stock")
                .then_some(product.lead_time_days)
                .flatten(),
            category,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(wholesale: i64) -> Product {
        Product {
            sku: "A".into(),
            gtin: None,
            mpn: None,
            brand: Some("Acme".into()),
            name: "A".into(),
            description: None,
            category_path: vec!["Maison".into(), "Cuisine".into()],
            link: None,
            image_urls: vec![],
            wholesale_price: Some(Money {
                amount_minor: wholesale,
                currency: "EUR".into(),
            }),
            retail_price: None,
            sale_price: None,
            vat_rate_basis_points: Some(2000),
            stock_quantity: Some(0),
            availability: Availability::OutOfStock,
            lead_time_days: Some(6),
            weight_grams: None,
            minimum_order_quantity: None,
            group_id: None,
            attributes: vec![],
            variants: vec![],
        }
    }

    #[test]
    fn markup_vat_and_rounding_to_99() {
        let pricing = Pricing {
            markup_percent: 30.0,
            add_vat: true,
            ending_cents: Some(99),
            ..Pricing::default()
        };
        // 10.00 × 1.30 × 1.20 = 15.60 → 15.99
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(1599)
        );
        // 12.50 × 1.30 × 1.20 = 19.50 → 19.99; exactly .99 stays.
        assert_eq!(round_up_to_ending(1999, 99), 1999);
        assert_eq!(round_up_to_ending(2000, 90), 2090);
        assert_eq!(round_up_to_ending(2085, 90), 2090);
    }

    #[test]
    fn overrides_and_minimum_margin() {
        let mut pricing = Pricing {
            markup_percent: 10.0,
            min_margin_percent: Some(25.0),
            ..Pricing::default()
        };
        // The minimum margin lifts a 10% markup to 25%.
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(1250)
        );
        pricing.overrides.insert("category:Maison".into(), 50.0);
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(1500)
        );
        pricing.overrides.insert("brand:Acme".into(), 100.0);
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(2000)
        );
    }

    #[test]
    fn never_below_the_suppliers_minimum_advertised_price() {
        let mut pricing = Pricing {
            markup_percent: 30.0,
            add_vat: true,
            ending_cents: Some(99),
            floor_at_supplier_retail: true,
            ..Pricing::default()
        };
        let mut with_map = product(1000);
        with_map.retail_price = Some(Money {
            amount_minor: 1850,
            currency: "EUR".into(),
        });
        // 15.60 by the markup, lifted to the 18.50 advertised, then 18.99.
        assert_eq!(
            pricing.retail(&with_map).map(|m| m.amount_minor),
            Some(1899)
        );
        // Above the floor, the markup's price stands.
        with_map.retail_price = Some(Money {
            amount_minor: 1200,
            currency: "EUR".into(),
        });
        assert_eq!(
            pricing.retail(&with_map).map(|m| m.amount_minor),
            Some(1599)
        );
        // Shop prices without VAT: 24.00 TTC is 20.00 HT at 20%.
        pricing.add_vat = false;
        pricing.ending_cents = None;
        with_map.retail_price = Some(Money {
            amount_minor: 2400,
            currency: "EUR".into(),
        });
        assert_eq!(
            pricing.retail(&with_map).map(|m| m.amount_minor),
            Some(2000)
        );
        // Off, the supplier's price is ignored.
        pricing.floor_at_supplier_retail = false;
        assert_eq!(
            pricing.retail(&with_map).map(|m| m.amount_minor),
            Some(1300)
        );
    }

    #[test]
    fn availability_policy_and_category_mapping() {
        let mut rules = Rules::default();
        let out = product(1000);
        assert_eq!(rules.apply(&out).availability, "out_of_stock");
        assert!(rules.apply(&out).visible);
        rules.availability = AvailabilityPolicy::Hide;
        assert!(!rules.apply(&out).visible);
        rules.availability = AvailabilityPolicy::AllowBackorder;
        let view = rules.apply(&out);
        assert_eq!(
            (view.availability.as_str(), view.lead_time_days),
            ("backorder", Some(6))
        );
        rules
            .categories
            .insert("Maison > Cuisine".into(), "Kitchen > Cookware".into());
        assert_eq!(rules.apply(&out).category, ["Kitchen", "Cookware"]);
    }
}

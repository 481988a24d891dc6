//! The host's rules, the same for every plugin: the shop's retail price
//! from the supplier's wholesale price, what the shop shows when the
//! supplier is out of stock, and where the product goes in the shop's
//! category tree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::money::{Percent, Rounding, div_round, minor_digits};
use crate::runtime::bindings::shopbridge::connector::types::{Availability, Money, Product};

/// How a retail price is made from a wholesale price, in exact integer
/// arithmetic (see [`super::money`]). The steps, in order, and how each
/// rounds to the currency's minor unit (an exact result is never moved):
///
/// 1. markup: wholesale × (1 + markup/100), rounded up: the margin is never
///    below the configured markup;
/// 2. fixed amount: added, exact;
/// 3. minimum margin: wholesale × (1 + min/100), rounded up; the price is
///    the larger of the two;
/// 4. VAT (`add_vat`): × (1 + rate), rounded to the nearest, a half away
///    from zero, as tax is rounded on invoices;
/// 5. the supplier's retail floor: the larger of the price and the floor,
///    the floor taken as it is (VAT included) or, with `add_vat` off,
///    without VAT at the product's rate, rounded up, so that the shop's
///    VAT-included price is never below it;
/// 6. the ending: up to the next price ending in `ending_cents` hundredths
///    of the major unit (12.99 EUR, 12.990 KWD); for a currency without
///    minor unit, the amount's last two digits (¥1,299).
///
/// A price that does not fit in 64 bits of minor units is no price: the
/// product is rejected by the sync, never priced with a wrong number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pricing {
    /// Percent added to the wholesale price (30 = ×1.30), at most four
    /// decimals.
    pub markup_percent: Percent,
    /// Minor units added after the markup (a handling fee).
    pub fixed_minor: i64,
    /// Add the product's VAT to the price (wholesale prices are usually
    /// without VAT, shop prices with it).
    pub add_vat: bool,
    /// Round up to a price ending in these hundredths of the major unit
    /// (99 → 12.99, 90 → 12.90; ¥1,299 in a currency without minor unit).
    pub ending_cents: Option<u8>,
    /// The retail price never leaves less than this margin over wholesale,
    /// in percent of wholesale.
    pub min_margin_percent: Option<Percent>,
    /// Markups for a brand (`brand:Acme`) or a category path prefix
    /// (`category:Maison > Cuisine`), instead of `markup_percent`.
    pub overrides: BTreeMap<String, Percent>,
    /// The supplier's retail price, when its feed gives one, is its minimum
    /// advertised price: the shop's price is never below it (compared VAT
    /// included, or without VAT at the product's rate when `add_vat` is off).
    pub floor_at_supplier_retail: bool,
}

/// What the pricing rules need of one product, amounts in minor units of
/// one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceInput {
    /// The wholesale price.
    pub wholesale: i64,
    /// The currency's minor digits (2 for EUR, 0 for JPY, 3 for KWD).
    pub minor_digits: u32,
    /// The markup that applies to this product.
    pub markup: Percent,
    /// The product's VAT rate, in basis points.
    pub vat_basis_points: Option<u32>,
    /// The supplier's retail price (VAT included), in the same currency.
    pub supplier_retail: Option<i64>,
}

/// A markup must leave a positive price: above -100 %.
fn above_minus_100(percent: Percent) -> bool {
    percent.units() > -100 * Percent::SCALE
}

impl Pricing {
    /// Whether the rules make sense.
    pub fn check(&self) -> Result<(), String> {
        if !above_minus_100(self.markup_percent) {
            return Err(format!(
                "markup_percent {} must be above -100",
                self.markup_percent
            ));
        }
        if let Some(min) = self.min_margin_percent
            && !above_minus_100(min)
        {
            return Err(format!("min_margin_percent {min} must be above -100"));
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
            if !above_minus_100(*markup) {
                return Err(format!("override '{key}' = {markup} must be above -100"));
            }
        }
        Ok(())
    }

    fn markup_for(&self, product: &Product) -> Percent {
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
    /// `None` when there is neither, or when the rules' price does not fit
    /// in 64 bits of minor units.
    pub fn retail(&self, product: &Product) -> Option<Money> {
        let Some(wholesale) = &product.wholesale_price else {
            return product.retail_price.clone();
        };
        let input = PriceInput {
            wholesale: wholesale.amount_minor,
            minor_digits: minor_digits(&wholesale.currency),
            markup: self.markup_for(product),
            vat_basis_points: product.vat_rate_basis_points,
            // A floor in another currency says nothing about this price.
            supplier_retail: product
                .retail_price
                .as_ref()
                .filter(|r| r.currency == wholesale.currency)
                .map(|r| r.amount_minor),
        };
        Some(Money {
            amount_minor: self.price(&input)?,
            currency: wholesale.currency.clone(),
        })
    }

    /// The retail price, in minor units, of a product (see the steps in
    /// [`Pricing`]); `None` when it does not fit in an `i64`.
    pub fn price(&self, input: &PriceInput) -> Option<i64> {
        let wholesale = i128::from(input.wholesale);
        // 1. Markup, rounded up; 2. the fixed amount.
        let mut price = input
            .markup
            .apply(wholesale, Rounding::Up)?
            .checked_add(i128::from(self.fixed_minor))?;
        // 3. Minimum margin, rounded up.
        if let Some(min) = self.min_margin_percent {
            price = price.max(min.apply(wholesale, Rounding::Up)?);
        }
        // 4. VAT, half away from zero.
        if self.add_vat
            && let Some(vat) = input.vat_basis_points
        {
            price = div_round(
                price.checked_mul(10_000 + i128::from(vat))?,
                10_000,
                Rounding::HalfAwayFromZero,
            )?;
        }
        // 5. The supplier's retail price as a floor: without VAT, rounded up.
        if self.floor_at_supplier_retail
            && let Some(floor) = input.supplier_retail
        {
            let floor = match (self.add_vat, input.vat_basis_points) {
                (false, Some(vat)) => div_round(
                    i128::from(floor) * 10_000,
                    10_000 + i128::from(vat),
                    Rounding::Up,
                )?,
                _ => i128::from(floor),
            };
            price = price.max(floor);
        }
        // 6. The ending.
        if let Some(ending) = self.ending_cents {
            price = round_up_to_ending(price, i128::from(ending), input.minor_digits)?;
        }
        i64::try_from(price).ok()
    }
}

/// The smallest amount ≥ `amount` ending in `ending` hundredths of the
/// major unit (`minor_digits` ≥ 2), or whose last two digits are `ending`
/// (no or one minor digit).
fn round_up_to_ending(amount: i128, ending: i128, minor_digits: u32) -> Option<i128> {
    let unit = 10i128.checked_pow(minor_digits.saturating_sub(2))?;
    let modulus = unit.checked_mul(100)?;
    let target = ending.checked_mul(unit)?;
    let candidate = amount
        .checked_sub(amount.rem_euclid(modulus))?
        .checked_add(target)?;
    if candidate >= amount {
        Some(candidate)
    } else {
        candidate.checked_add(modulus)
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

    fn pct(text: &str) -> Percent {
        Percent::parse(text).expect("a percentage")
    }

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
            markup_percent: pct("30"),
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
        assert_eq!(round_up_to_ending(1999, 99, 2), Some(1999));
        assert_eq!(round_up_to_ending(2000, 90, 2), Some(2090));
        assert_eq!(round_up_to_ending(2085, 90, 2), Some(2090));
        // 12.345 KWD → 12.990 KWD; ¥1,250 → ¥1,299; ¥1,300 → ¥1,399.
        assert_eq!(round_up_to_ending(12_345, 99, 3), Some(12_990));
        assert_eq!(round_up_to_ending(12_990, 99, 3), Some(12_990));
        assert_eq!(round_up_to_ending(12_991, 99, 3), Some(13_990));
        assert_eq!(round_up_to_ending(1250, 99, 0), Some(1299));
        assert_eq!(round_up_to_ending(1300, 99, 0), Some(1399));
        assert_eq!(round_up_to_ending(-150, 99, 2), Some(-101));
    }

    #[test]
    fn exact_results_are_never_moved() {
        let price = |markup: &str, wholesale: i64| {
            Pricing {
                markup_percent: pct(markup),
                ..Pricing::default()
            }
            .retail(&product(wholesale))
            .map(|m| m.amount_minor)
        };
        // The cases: 1,00 € and 509,20 € at 10 % are exact.
        assert_eq!(price("10", 100), Some(110));
        assert_eq!(price("10", 50_920), Some(56_012));
        // 0,01 € at 10 % is 0.011 €: up to 0,02 €.
        assert_eq!(price("10", 1), Some(2));
        // 999 999,99 € at 12.5 % = 1 124 999,98875 € → 1 124 999,99 €.
        assert_eq!(price("12.5", 99_999_999), Some(112_499_999));
        // 8,00 € at 12.5 % = 9,00 € exactly.
        assert_eq!(price("12.5", 800), Some(900));
        assert_eq!(price("0", 0), Some(0));
    }

    #[test]
    fn vat_rounds_half_away_from_zero_and_the_floor_without_vat_up() {
        let pricing = Pricing {
            add_vat: true,
            ..Pricing::default()
        };
        let input = |wholesale, vat, floor| PriceInput {
            wholesale,
            minor_digits: 2,
            markup: Percent::ZERO,
            vat_basis_points: Some(vat),
            supplier_retail: floor,
        };
        // 0,05 € × 1.10 = 0,055 € → 0,06 €; 0,04 € × 1.10 = 0,044 € → 0,04 €.
        assert_eq!(pricing.price(&input(5, 1000, None)), Some(6));
        assert_eq!(pricing.price(&input(4, 1000, None)), Some(4));
        // Without VAT added, a floor of 24,00 € TTC at 5.5 % is
        // 22,7488… € HT → 22,75 € (22,75 × 1.055 = 24,00125 ≥ 24,00).
        let floor = Pricing {
            floor_at_supplier_retail: true,
            ..Pricing::default()
        };
        assert_eq!(floor.price(&input(100, 550, Some(2400))), Some(2275));
    }

    #[test]
    fn prices_beyond_64_bits_are_no_price_and_other_currencies_no_floor() {
        let pricing = Pricing {
            markup_percent: pct("100"),
            ..Pricing::default()
        };
        assert_eq!(
            pricing
                .retail(&product(i64::MAX / 2))
                .map(|m| m.amount_minor),
            Some(i64::MAX - 1)
        );
        assert_eq!(pricing.retail(&product(i64::MAX / 2 + 1)), None);
        assert_eq!(pricing.retail(&product(i64::MAX)), None);
        let floored = Pricing {
            floor_at_supplier_retail: true,
            ..pricing
        };
        let mut in_dollars = product(1000);
        in_dollars.retail_price = Some(Money {
            amount_minor: 5000,
            currency: "USD".into(),
        });
        assert_eq!(
            floored.retail(&in_dollars).map(|m| m.amount_minor),
            Some(2000)
        );
    }

    #[test]
    fn currencies_with_other_minor_units() {
        let pricing = Pricing {
            markup_percent: pct("12.5"),
            add_vat: true,
            ending_cents: Some(99),
            ..Pricing::default()
        };
        let mut yen = product(1000);
        yen.wholesale_price = Some(Money {
            amount_minor: 1001,
            currency: "JPY".into(),
        });
        yen.vat_rate_basis_points = Some(1000);
        // ¥1,001 × 1.125 = ¥1,126.125 → ¥1,127; × 1.10 = ¥1,239.7 → ¥1,240 → ¥1,299.
        assert_eq!(pricing.retail(&yen).map(|m| m.amount_minor), Some(1299));
        let mut dinar = product(1000);
        dinar.wholesale_price = Some(Money {
            amount_minor: 10_001,
            currency: "KWD".into(),
        });
        dinar.vat_rate_basis_points = None;
        // 10.001 KWD × 1.125 = 11.251125 → 11.252 → 11.990 KWD.
        assert_eq!(pricing.retail(&dinar).map(|m| m.amount_minor), Some(11_990));
    }

    #[test]
    fn overrides_and_minimum_margin() {
        let mut pricing = Pricing {
            markup_percent: pct("10"),
            min_margin_percent: Some(pct("25")),
            ..Pricing::default()
        };
        // The minimum margin lifts a 10% markup to 25%.
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(1250)
        );
        pricing
            .overrides
            .insert("category:Maison".into(), pct("50"));
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(1500)
        );
        pricing.overrides.insert("brand:Acme".into(), pct("100"));
        assert_eq!(
            pricing.retail(&product(1000)).map(|m| m.amount_minor),
            Some(2000)
        );
    }

    #[test]
    fn never_below_the_suppliers_minimum_advertised_price() {
        let mut pricing = Pricing {
            markup_percent: pct("30"),
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

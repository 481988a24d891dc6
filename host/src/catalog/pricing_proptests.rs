//! The pricing rules against exact rational arithmetic, by property: for
//! random wholesale prices (0, 1, huge, a few negative), markups (up to four
//! decimals, down to -99.9999 %), fixed amounts, minimum margins, VAT rates,
//! supplier floors, endings and currencies of 0, 2, 3 and 4 minor digits,
//! [`Pricing::price`] (checked `i128` integer arithmetic) gives what the
//! same steps give in `BigRational` with its own `ceil` and `round` (half
//! away from zero), and no price when that does not fit in an `i64`.
//!
//! [`CASES`] cases for the rules and as many for reading percentages, in
//! the default `cargo test` run.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::ToPrimitive;
use proptest::prelude::*;
use proptest::test_runner::Config;

use super::money::Percent;
use super::rules::{PriceInput, Pricing};

/// Cases of each property below.
const CASES: u32 = 200_000;

fn config() -> Config {
    Config {
        cases: CASES,
        // A failure is printed with its minimal case; nothing is written
        // next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

fn int(n: impl Into<BigInt>) -> BigRational {
    BigRational::from_integer(n.into())
}

/// `1 + units / 10⁶`: a percentage's factor, as a fraction.
fn factor(percent: Percent) -> BigRational {
    int(1) + BigRational::new(percent.units().into(), 1_000_000.into())
}

/// The model: each step of [`Pricing`]'s documentation, in rationals.
fn model(pricing: &Pricing, input: &PriceInput) -> Option<i64> {
    let wholesale = int(input.wholesale);
    let mut price = (&wholesale * factor(input.markup)).ceil() + int(pricing.fixed_minor);
    if let Some(min) = pricing.min_margin_percent {
        price = price.max((&wholesale * factor(min)).ceil());
    }
    if pricing.add_vat
        && let Some(vat) = input.vat_basis_points
    {
        let rate = int(1) + BigRational::new(vat.into(), 10_000.into());
        // BigRational::round: to the nearest, half-way cases away from zero.
        price = (price * rate).round();
    }
    if pricing.floor_at_supplier_retail
        && let Some(floor) = input.supplier_retail
    {
        let floor = match (pricing.add_vat, input.vat_basis_points) {
            (false, Some(vat)) => {
                (int(floor) / (int(1) + BigRational::new(vat.into(), 10_000.into()))).ceil()
            }
            _ => int(floor),
        };
        price = price.max(floor);
    }
    let mut price = price.to_integer();
    if let Some(ending) = pricing.ending_cents {
        let unit = BigInt::from(10).pow(input.minor_digits.saturating_sub(2));
        let modulus = &unit * 100;
        let target = &unit * BigInt::from(ending);
        // The smallest x ≥ price with x ≡ target (mod modulus).
        price = &price + (target - &price).mod_floor(&modulus);
    }
    price.to_i64()
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..=1_000,
        4 => 0i64..=100_000_000,
        2 => 0i64..=i64::MAX,
        1 => Just(0i64),
        1 => Just(1i64),
        1 => i64::MAX - 1_000..=i64::MAX,
        1 => -100_000i64..0,
    ]
}

fn percent() -> impl Strategy<Value = Percent> {
    let units = prop_oneof![
        // Whole percents, the common case.
        4 => (-99i64..=300).prop_map(|p| p * Percent::SCALE),
        // Up to four decimals.
        4 => -999_999i64..=3_000_000,
        // Anywhere in range above -100 %.
        1 => -999_999i64..=Percent::MAX_PERCENT * Percent::SCALE,
    ];
    units.prop_filter_map("in range", Percent::from_units)
}

fn vat() -> impl Strategy<Value = Option<u32>> {
    prop::option::weighted(
        0.8,
        prop_oneof![
            prop::sample::select(vec![
                0u32, 210, 550, 700, 1000, 1900, 2000, 2100, 2500, 2700
            ]),
            0u32..=10_000,
            any::<u32>(),
        ],
    )
}

fn pricing_and_input() -> impl Strategy<Value = (Pricing, PriceInput)> {
    let pricing = (
        prop_oneof![3 => Just(0i64), 3 => -1_000i64..=10_000, 1 => any::<i64>()],
        any::<bool>(),
        prop::option::of(0u8..=99),
        prop::option::of(percent()),
        any::<bool>(),
    )
        .prop_map(
            |(fixed_minor, add_vat, ending_cents, min_margin_percent, floor)| Pricing {
                fixed_minor,
                add_vat,
                ending_cents,
                min_margin_percent,
                floor_at_supplier_retail: floor,
                ..Pricing::default()
            },
        );
    let input = (
        amount(),
        prop::sample::select(vec![0u32, 2, 2, 3, 4]),
        percent(),
        vat(),
        prop::option::of(amount()),
    )
        .prop_map(
            |(wholesale, minor_digits, markup, vat_basis_points, supplier_retail)| PriceInput {
                wholesale,
                minor_digits,
                markup,
                vat_basis_points,
                supplier_retail,
            },
        );
    (pricing, input)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_rules_are_exact_rational_arithmetic((pricing, input) in pricing_and_input()) {
        prop_assert_eq!(pricing.price(&input), model(&pricing, &input));
    }

    #[test]
    fn percentages_read_back_exactly_from_text_and_floats(
        units in -999_999i64..=Percent::MAX_PERCENT * Percent::SCALE,
    ) {
        let percent = Percent::from_units(units).expect("in range");
        let text = percent.to_string();
        // Printed, then read as text: the same.
        prop_assert_eq!(Percent::parse(&text), Ok(percent));
        // The nearest f64 (what a float literal becomes), read through its
        // shortest decimal: the same.
        let float = units as f64 / Percent::SCALE as f64;
        let read = <Percent as serde::Deserialize>::deserialize(
            serde::de::value::F64Deserializer::<serde::de::value::Error>::new(float),
        );
        prop_assert_eq!(read, Ok(percent));
        // And the text says the percentage's value: read as a fraction.
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
        let numerator: BigInt = format!("{whole}{decimals}").parse().expect("digits");
        let value = BigRational::new(
            if negative { -numerator } else { numerator },
            BigInt::from(10).pow(u32::try_from(decimals.len()).expect("short")),
        );
        prop_assert_eq!(value, BigRational::new(units.into(), Percent::SCALE.into()));
    }
}

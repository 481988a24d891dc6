//! Exact money arithmetic for the pricing rules: no binary floating point.
//!
//! Amounts are integers of the currency's minor unit (`i64`, as in the
//! contract's `money`); percentages are [`Percent`]s, an integer of
//! ten-thousandths of a percent read from decimal text, so `12.5` is
//! exactly 12.5 % and `1.1` is exactly 1.1 %. Products are computed in
//! `i128` (an `i64` amount times a factor of at most 10⁴·10⁶ fits with
//! room to spare, and every operation is checked anyway), and each step
//! that divides says how it rounds with a [`Rounding`]; a quotient that is
//! exact is never moved by any of them.
//!
//! Why integers and not a decimal crate: the rules only ever multiply an
//! integer amount by `1 + p/100` with `p` a decimal of at most four places,
//! or by `1 + vat/10 000`, so one integer numerator over a fixed power of ten
//! says every value exactly, and the rounding of each step is a single
//! explicit integer division that can be read and tested against rational
//! arithmetic (see the property tests of [`crate::catalog::rules`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of minor digits of an ISO 4217 currency: 2 unless listed.
///
/// From ISO 4217's list one (the SIX "Current currency & funds" table,
/// column `MinorUnit`): the currencies and funds with 0, 3 and 4 minor
/// digits. Codes whose minor unit is "N.A." (precious metals, SDR, test
/// and "no currency" codes) are given 2. The guest SDK has the same table
/// (`shopbridge_guest_sdk::money::minor_digits`); a test checks that they
/// agree.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// How a division that is not exact is rounded. An exact quotient is
/// returned as it is by every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Toward +∞ (the ceiling): a price is never below what the rule asks.
    Up,
    /// To the nearest, a half away from zero: how tax is rounded on
    /// invoices (PrestaShop's `PS_PRICE_ROUND_MODE` default, "round up away
    /// from zero when it is half way").
    HalfAwayFromZero,
}

/// `n / d` rounded as `rounding` says, for any sign of `n`; `None` when
/// `d` is not positive.
pub fn div_round(n: i128, d: i128, rounding: Rounding) -> Option<i128> {
    if d <= 0 {
        return None;
    }
    let (quotient, remainder) = (n.div_euclid(d), n.rem_euclid(d));
    // quotient = floor(n / d), 0 ≤ remainder < d.
    if remainder == 0 {
        return Some(quotient);
    }
    Some(match rounding {
        Rounding::Up => quotient + 1,
        Rounding::HalfAwayFromZero => {
            // remainder / d is the fraction above the floor; a half goes up
            // for positive n and down (away from zero) for negative n.
            let twice = 2 * remainder; // < 2d: no overflow for the d used here
            if twice > d || (twice == d && n > 0) {
                quotient + 1
            } else {
                quotient
            }
        }
    })
}

/// A percentage with at most four decimals, held exactly as an integer of
/// ten-thousandths of a percent (`12.5` % is `125_000`).
///
/// Read from an integer, a decimal string (`"12.5"`) or a float. A float
/// is read through its shortest round-trip decimal form (what Rust's
/// `Display` prints), which is the literal it was written as for every
/// literal of at most 15 significant digits: every value this type holds
/// has at most 11. The configuration file is read from its text before
/// that (see [`crate::config`]), so no digit of a TOML literal is lost.
/// Written back as a number whose shortest form is the exact decimal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(i64);

/// Why a text is not a [`Percent`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    /// Not a decimal number.
    #[error("'{0}' is not a decimal number")]
    NotANumber(String),
    /// More decimals than the rules support.
    #[error(
        "{0} has more decimals than the {max} the pricing rules support",
        max = Percent::DECIMALS
    )]
    TooPrecise(String),
    /// Beyond ±1 000 000 %.
    #[error(
        "{0} is out of range (at most {max} % either way)",
        max = Percent::MAX_PERCENT
    )]
    OutOfRange(String),
}

impl Percent {
    /// Decimals of a percent that are kept.
    pub const DECIMALS: u32 = 4;
    /// Units per percent.
    pub const SCALE: i64 = 10_000;
    /// The largest magnitude accepted, in percent.
    pub const MAX_PERCENT: i64 = 1_000_000;
    /// The factor `1 + p/100` is `(FACTOR_ONE + units) / FACTOR_ONE`.
    pub const FACTOR_ONE: i128 = 100 * Self::SCALE as i128;

    /// Zero percent.
    pub const ZERO: Percent = Percent(0);

    /// From ten-thousandths of a percent; `None` out of range.
    pub fn from_units(units: i64) -> Option<Percent> {
        (units.unsigned_abs() <= (Self::MAX_PERCENT * Self::SCALE).unsigned_abs())
            .then_some(Percent(units))
    }

    /// From a whole number of percent; `None` out of range.
    pub fn whole(percent: i64) -> Option<Percent> {
        Self::from_units(percent.checked_mul(Self::SCALE)?)
    }

    /// Ten-thousandths of a percent.
    pub fn units(self) -> i64 {
        self.0
    }

    /// The numerator of `1 + p/100` over [`Percent::FACTOR_ONE`].
    pub fn factor(self) -> i128 {
        Self::FACTOR_ONE + i128::from(self.0)
    }

    /// `amount × (1 + p/100)`, rounded; `None` on overflow.
    pub fn apply(self, amount: i128, rounding: Rounding) -> Option<i128> {
        div_round(
            amount.checked_mul(self.factor())?,
            Self::FACTOR_ONE,
            rounding,
        )
    }

    /// Reads a decimal (`12.5`, `-3`, `+0.0125`, `1_000.5`, `1.25e1`):
    /// underscores between digits and an exponent are accepted as TOML
    /// writes them.
    pub fn parse(text: &str) -> Result<Percent, PercentError> {
        let not_a_number = || PercentError::NotANumber(text.to_owned());
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.as_bytes().first() {
            Some(b'-') => (true, &trimmed[1..]),
            Some(b'+') => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exponent: i32 = rest[at + 1..]
                    .replace('_', "")
                    .parse()
                    .map_err(|_| not_a_number())?;
                (&rest[..at], exponent)
            }
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let digits_of = |part: &str| -> Option<String> {
            let ok = !part.starts_with('_')
                && !part.ends_with('_')
                && !part.contains("__")
                && part.bytes().all(|b| b.is_ascii_digit() || b == b'_');
            ok.then(|| part.replace('_', ""))
        };
        let (Some(int_digits), Some(frac_digits)) = (digits_of(int_part), digits_of(frac_part))
        else {
            return Err(not_a_number());
        };
        if int_digits.is_empty() && frac_digits.is_empty()
            || (mantissa.contains('.') && (int_digits.is_empty() || frac_digits.is_empty()))
        {
            return Err(not_a_number());
        }
        // value = digits × 10^(exponent - frac_len); units = value × 10^4.
        let all_digits = format!("{int_digits}{frac_digits}");
        let all_digits = all_digits.trim_start_matches('0');
        let frac_len = i64::try_from(frac_digits.len()).map_err(|_| not_a_number())?;
        let shift = i64::from(exponent) - frac_len + i64::from(Self::DECIMALS);
        let out_of_range = || PercentError::OutOfRange(text.to_owned());
        let units: i128 = if all_digits.is_empty() {
            0
        } else if shift >= 0 {
            // Too many digits is out of range whatever they are.
            let total = i64::try_from(all_digits.len()).map_err(|_| not_a_number())? + shift;
            if total > 12 {
                return Err(out_of_range());
            }
            let mantissa: i128 = all_digits.parse().map_err(|_| not_a_number())?;
            mantissa * 10i128.pow(u32::try_from(shift).map_err(|_| out_of_range())?)
        } else {
            let dropped = usize::try_from(-shift).map_err(|_| out_of_range())?;
            let (kept, rest) = all_digits.split_at(all_digits.len().saturating_sub(dropped));
            if rest.bytes().any(|b| b != b'0') {
                return Err(PercentError::TooPrecise(text.to_owned()));
            }
            if kept.len() > 12 {
                return Err(out_of_range());
            }
            if kept.is_empty() {
                0
            } else {
                kept.parse().map_err(|_| not_a_number())?
            }
        };
        let units = if negative { -units } else { units };
        i64::try_from(units)
            .ok()
            .and_then(Percent::from_units)
            .ok_or_else(out_of_range)
    }

    /// The value as an `f64` whose shortest decimal form is the exact
    /// value (at most 11 significant digits).
    fn as_f64(self) -> f64 {
        // Through the decimal text: exact for ≤ 15 significant digits.
        self.to_string().parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Percent {
    /// The shortest decimal: `12.5`, `-3`, `0.0125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let scale = Self::SCALE.unsigned_abs();
        let (whole, frac) = (abs / scale, abs % scale);
        if frac == 0 {
            return write!(f, "{sign}{whole}");
        }
        let frac = format!("{frac:04}");
        write!(f, "{sign}{whole}.{}", frac.trim_end_matches('0'))
    }
}

impl FromStr for Percent {
    type Err = PercentError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Percent::parse(text)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl serde::de::Visitor<'_> for Visitor {
            type Value = Percent;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage such as 12.5 (a number, or a decimal in a string)")
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Percent, E> {
                Percent::parse(&v.to_string()).map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Percent, E> {
                Percent::parse(&v.to_string()).map_err(E::custom)
            }

            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Percent, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("{v} is not a percentage")));
                }
                // Display is the shortest decimal that reads back as `v`,
                // never in exponent notation.
                Percent::parse(&v.to_string()).map_err(E::custom)
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Percent, E> {
                Percent::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<i64, PercentError> {
        Percent::parse(text).map(Percent::units)
    }

    #[test]
    fn percentages_are_read_exactly_from_decimal_text() {
        assert_eq!(p("12.5"), Ok(125_000));
        assert_eq!(p("10"), Ok(100_000));
        assert_eq!(p("10.0"), Ok(100_000));
        assert_eq!(p("1.1"), Ok(11_000));
        assert_eq!(p("-99.9999"), Ok(-999_999));
        assert_eq!(p("+0.0001"), Ok(1));
        assert_eq!(p("12.50000"), Ok(125_000));
        assert_eq!(p("1_000.5"), Ok(10_005_000));
        assert_eq!(p("1.25e1"), Ok(125_000));
        assert_eq!(p("125E-1"), Ok(125_000));
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("-0.0"), Ok(0));
        assert_eq!(p("1000000"), Ok(10_000_000_000));
        assert_eq!(p("000012.5"), Ok(125_000));
    }

    #[test]
    fn too_precise_out_of_range_and_not_numbers_are_refused() {
        let e = p("12.34567").expect_err("5 decimals");
        assert_eq!(
            e.to_string(),
            "12.34567 has more decimals than the 4 the pricing rules support"
        );
        assert!(matches!(p("1e-5"), Err(PercentError::TooPrecise(_))));
        assert!(matches!(
            p("0.30000000000000004"),
            Err(PercentError::TooPrecise(_))
        ));
        assert!(matches!(
            p("1000000.0001"),
            Err(PercentError::OutOfRange(_))
        ));
        assert!(matches!(p("1e300"), Err(PercentError::OutOfRange(_))));
        assert!(matches!(
            p("99999999999999999999999"),
            Err(PercentError::OutOfRange(_))
        ));
        for bad in [
            "", "abc", "1.", ".5", "1..2", "--1", "1_", "_1", "1__0", "nan", "inf", "1e", "1.2.3",
            "1 2",
        ] {
            assert!(matches!(p(bad), Err(PercentError::NotANumber(_))), "{bad}");
        }
    }

    #[test]
    fn printed_and_serialized_back_exactly() {
        for text in [
            "12.5", "-3", "0.0125", "1000000", "-99.9999", "0", "33.3333",
        ] {
            let percent = Percent::parse(text).expect("parses");
            assert_eq!(percent.to_string(), text);
            let json = serde_json::to_string(&percent).expect("serializes");
            let back: Percent = serde_json::from_str(&json).expect("reads back");
            assert_eq!(back, percent, "{json}");
        }
        let read = |json: &str| serde_json::from_str::<Percent>(json).map(Percent::units);
        assert_eq!(read("12.5").ok(), Some(125_000));
        assert_eq!(read("\"12.5\"").ok(), Some(125_000));
        assert_eq!(read("10").ok(), Some(100_000));
        assert_eq!(read("-5").ok(), Some(-50_000));
        let e = read("12.34567").expect_err("too precise");
        assert!(e.to_string().contains("more decimals than the 4"), "{e}");
    }

    #[test]
    fn divisions_round_as_they_say_for_both_signs() {
        use Rounding::*;
        let r = |n, d, m| div_round(n, d, m).expect("positive divisor");
        assert_eq!([r(10, 5, Up), r(11, 5, Up), r(-11, 5, Up)], [2, 3, -2]);
        assert_eq!(
            [
                r(5, 2, HalfAwayFromZero),
                r(-5, 2, HalfAwayFromZero),
                r(7, 3, HalfAwayFromZero),
                r(-8, 3, HalfAwayFromZero),
                r(-6, 3, HalfAwayFromZero),
            ],
            [3, -3, 2, -3, -2]
        );
        assert_eq!(div_round(1, 0, Up), None);
    }

    #[test]
    fn the_currency_table_is_the_sdks() {
        let codes = [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF", "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
            "CLF", "UYW", "EUR", "USD", "GBP", "CHF", "XAU", "XXX", "",
        ];
        for code in codes {
            assert_eq!(
                minor_digits(code),
                shopbridge_guest_sdk::money::minor_digits(code),
                "{code}"
            );
        }
    }
}

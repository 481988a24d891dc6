//! Money as suppliers write it, parsed into integer minor units.
//!
//! Accepted: `"12,99 EUR"`, `"EUR 12.99"`, `"€12,99"`, `"1 299,00"`,
//! `"1.299,00"`, `"1,299.00"`, `"12.99"`, `"2995"`, `"-3,50"`, `"12.5"`.
//!
//! The rules, in order:
//! - a currency may stand before or after the amount, as an ISO 4217 code or
//!   one of the symbols `€ $ £ ¥`; without one the caller's default is used;
//! - spaces (including no-break and narrow no-break spaces) and `'` group
//!   thousands;
//! - when both `.` and `,` appear, the last one is the decimal separator;
//! - when only one of them appears once and is followed by exactly three
//!   digits, it groups thousands (`1.299` and `1,299` are 1299), unless the
//!   currency has three or more minor digits (`1.299 KWD` is 1299 fils) or
//!   the integer part is `0`;
//! - more decimals than the currency has are rounded half away from zero
//!   (wholesale price lists often carry four).

use std::fmt;

use crate::Money;

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// Nothing to parse.
    Empty,
    /// No currency in the text and no default given.
    NoCurrency,
    /// The currency is not a three-letter code or a known symbol.
    UnknownCurrency(String),
    /// The amount is not a number.
    NotANumber(String),
    /// The amount does not fit in 64 bits of minor units.
    Overflow(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::Empty => f.write_str("empty amount"),
            MoneyError::NoCurrency => f.write_str("amount has no currency"),
            MoneyError::UnknownCurrency(c) => write!(f, "unknown currency '{c}'"),
            MoneyError::NotANumber(t) => write!(f, "'{t}' is not an amount"),
            MoneyError::Overflow(t) => write!(f, "amount '{t}' is too large"),
        }
    }
}

impl std::error::Error for MoneyError {}

/// Number of minor digits of an ISO 4217 currency (2 unless listed).
///
/// From ISO 4217's list one (the SIX "Current currency & funds" table,
/// column `MinorUnit`): every currency and fund with 0, 3 or 4 minor
/// digits. Codes whose minor unit is "N.A." (precious metals, SDR, the test
/// and "no currency" codes) are given 2. The host keeps the same table for
/// its pricing rules, checked against this one by a test.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Parses an amount, with `default_currency` used when the text names none.
pub fn parse(text: &str, default_currency: Option<&str>) -> Result<Money, MoneyError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (number, currency) = split_currency(trimmed)?;
    let currency = match currency.or_else(|| default_currency.map(str::to_ascii_uppercase)) {
        Some(c) => c,
        None => return Err(MoneyError::NoCurrency),
    };
    let amount_minor = parse_amount(number, minor_digits(&currency))
        .ok_or_else(|| classify_error(trimmed, number))?;
    Ok(Money {
        amount_minor,
        currency,
    })
}

/// Parses an amount known to be in `currency` (the text may still name it).
pub fn parse_in(text: &str, currency: &str) -> Result<Money, MoneyError> {
    parse(text, Some(currency))
}

/// Formats minor units back as a decimal string: `1299, "EUR"` → `"12.99"`.
pub fn format_decimal(money: &Money) -> String {
    let digits = minor_digits(&money.currency);
    if digits == 0 {
        return money.amount_minor.to_string();
    }
    let scale = 10i64.pow(digits);
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    let scale = scale.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = digits as usize
    )
}

fn classify_error(text: &str, number: &str) -> MoneyError {
    if number.bytes().any(|b| b.is_ascii_digit())
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || ".,-+ \u{a0}\u{202f}'".contains(c))
    {
        MoneyError::Overflow(text.to_owned())
    } else {
        MoneyError::NotANumber(text.to_owned())
    }
}

/// Splits `"12,99 EUR"` into `("12,99", Some("EUR"))`.
fn split_currency(text: &str) -> Result<(&str, Option<String>), MoneyError> {
    const SYMBOLS: [(&str, &str); 4] = [("€", "EUR"), ("$", "USD"), ("£", "GBP"), ("¥", "JPY")];
    for (symbol, code) in SYMBOLS {
        if let Some(rest) = text.strip_prefix(symbol) {
            return Ok((rest.trim(), Some(code.to_owned())));
        }
        if let Some(rest) = text.strip_suffix(symbol) {
            return Ok((rest.trim(), Some(code.to_owned())));
        }
    }
    let is_letter = |c: char| c.is_ascii_alphabetic();
    let leading: usize = text.chars().take_while(|c| is_letter(*c)).count();
    if leading > 0 {
        let (code, rest) = text.split_at(leading);
        return Ok((rest.trim(), Some(currency_code(code)?)));
    }
    let trailing = text.chars().rev().take_while(|c| is_letter(*c)).count();
    if trailing > 0 {
        let (rest, code) = text.split_at(text.len() - trailing);
        return Ok((rest.trim(), Some(currency_code(code)?)));
    }
    Ok((text, None))
}

fn currency_code(code: &str) -> Result<String, MoneyError> {
    if code.len() == 3 {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(MoneyError::UnknownCurrency(code.to_owned()))
    }
}

/// `"1 299,50"` with 2 minor digits → `129950`. `None` when not a number or
/// out of range.
fn parse_amount(text: &str, minor: u32) -> Option<i64> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text).trim_start()),
    };
    let body: String = body
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let is_sep = |b: &u8| *b == b'.' || *b == b',';
    if body
        .as_bytes()
        .windows(2)
        .any(|w| is_sep(&w[0]) && is_sep(&w[1]))
        || body.as_bytes().last().is_some_and(is_sep)
    {
        return None;
    }
    let decimal_at = decimal_separator(&body, minor);
    let (int_part, frac_part) = match decimal_at {
        Some(at) => (&body[..at], &body[at + 1..]),
        None => (body.as_str(), ""),
    };
    let int_digits: String = int_part.chars().filter(char::is_ascii_digit).collect();
    if frac_part.contains(['.', ',']) || (int_digits.is_empty() && frac_part.is_empty()) {
        return None;
    }
    // The magnitude in i128, so that i64::MIN (whose magnitude is not an
    // i64) reads back.
    let int_value: i128 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let scale = 10i128.checked_pow(minor)?;
    let mut value = int_value.checked_mul(scale)?;
    let frac_digits: Vec<i128> = frac_part.bytes().map(|b| i128::from(b - b'0')).collect();
    let mut place = scale / 10;
    for (i, digit) in frac_digits.iter().enumerate() {
        if (i as u32) < minor {
            value = value.checked_add(digit * place)?;
            place /= 10;
        } else {
            // First digit past the currency's precision: round half away from zero.
            if *digit >= 5 {
                value = value.checked_add(1)?;
            }
            break;
        }
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

/// Byte index of the decimal separator in a string of digits, `.` and `,`.
fn decimal_separator(body: &str, minor: u32) -> Option<usize> {
    let last_dot = body.rfind('.');
    let last_comma = body.rfind(',');
    let candidate = match (last_dot, last_comma) {
        (None, None) => return None,
        (Some(d), Some(c)) => return Some(d.max(c)),
        (Some(at), None) | (None, Some(at)) => at,
    };
    let sep = body.as_bytes()[candidate];
    let occurrences = body.bytes().filter(|b| *b == sep).count();
    let digits_after = body.len() - candidate - 1;
    let leading_zero = matches!(&body[..candidate], "" | "0");
    if occurrences > 1 || (digits_after == 3 && minor < 3 && !leading_zero) {
        None // groups thousands: "1.299.000", "1,299"
    } else {
        Some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(text: &str) -> i64 {
        parse(text, Some("EUR"))
            .map(|m| m.amount_minor)
            .unwrap_or(i64::MIN)
    }

    #[test]
    fn the_ways_suppliers_write_prices() {
        assert_eq!(eur("12,99 EUR"), 1299);
        assert_eq!(eur("EUR 12.99"), 1299);
        assert_eq!(eur("€12,99"), 1299);
        assert_eq!(eur("12,99 €"), 1299);
        assert_eq!(eur("1 299,00"), 129_900);
        assert_eq!(eur("1\u{a0}299,00"), 129_900);
        assert_eq!(eur("1.299,00"), 129_900);
        assert_eq!(eur("1,299.00"), 129_900);
        assert_eq!(eur("1.299"), 129_900);
        assert_eq!(eur("12.99"), 1299);
        assert_eq!(eur("12.5"), 1250);
        assert_eq!(eur(".5"), 50);
        assert_eq!(eur("2995"), 299_500);
        assert_eq!(eur("-3,50"), -350);
        assert_eq!(eur("0.1234"), 12);
        assert_eq!(eur("0.125"), 13);
        assert_eq!(eur("1'299.95"), 129_995);
    }

    #[test]
    fn currency_from_text_wins_and_is_upper_cased() {
        let m = parse("15.00 usd", Some("EUR")).expect("parses");
        assert_eq!(m.currency, "USD");
        assert_eq!(m.amount_minor, 1500);
        let yen = parse("1200 JPY", None).expect("parses");
        assert_eq!(yen.amount_minor, 1200);
        let dinar = parse("1,250 KWD", None).expect("parses");
        assert_eq!(dinar.amount_minor, 1250);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(parse("", Some("EUR")), Err(MoneyError::Empty));
        assert_eq!(parse("12.99", None), Err(MoneyError::NoCurrency));
        assert!(matches!(
            parse("abc", Some("EUR")),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            parse("12 EURO", None),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(parse("12..3", Some("EUR")).is_err());
        assert!(matches!(
            parse("1x2 EUR", None),
            Err(MoneyError::NotANumber(_))
        ));
        assert!(matches!(
            parse("99999999999999999999 EUR", None),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn formats_back() {
        let m = Money {
            amount_minor: -1299,
            currency: "EUR".into(),
        };
        assert_eq!(format_decimal(&m), "-12.99");
        let m = Money {
            amount_minor: 5,
            currency: "EUR".into(),
        };
        assert_eq!(format_decimal(&m), "0.05");
    }
}

/// The money functions against exact rational arithmetic, by property:
/// amounts formatted and read back in every minor-digit count, and amounts
/// written the ways suppliers write them (signs, thousands groups, either
/// decimal separator, a currency code or symbol before or after, more
/// decimals than the currency has) read as `BigRational` says, rounded
/// half away from zero.
#[cfg(test)]
mod properties {
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use num_traits::{Signed, ToPrimitive};
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;

    /// Cases of each property.
    const CASES: u32 = 100_000;

    fn config() -> Config {
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        }
    }

    /// A currency of each minor-digit count, and one the table does not list.
    fn currency() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "EUR", "USD", "GBP", "JPY", "KRW", "UYI", "KWD", "BHD", "TND", "CLF", "UYW", "ZZZ",
        ])
    }

    fn ten_to(digits: usize) -> BigInt {
        BigInt::from(10).pow(u32::try_from(digits).unwrap_or(u32::MAX))
    }

    /// How an amount is written: `(negative, integer digits, decimals,
    /// grouping, decimal separator, currency placement)`.
    #[derive(Debug, Clone)]
    struct Written {
        negative: bool,
        integer: u128,
        decimals: String,
        grouping: Option<char>,
        decimal_comma: bool,
        placement: u8,
    }

    fn written() -> impl Strategy<Value = Written> {
        (
            any::<bool>(),
            prop_oneof![
                4 => 0u128..=9_999,
                3 => 0u128..=99_999_999_999,
                1 => 0u128..=u128::from(u64::MAX) * 10,
            ],
            "[0-9]{0,7}",
            prop::option::of(prop::sample::select(vec![
                ' ', '\u{a0}', '\u{202f}', '\'', '.', ',',
            ])),
            any::<bool>(),
            0u8..5,
        )
            .prop_map(
                |(negative, integer, decimals, grouping, decimal_comma, placement)| Written {
                    negative,
                    integer,
                    decimals,
                    grouping,
                    decimal_comma,
                    placement,
                },
            )
    }

    impl Written {
        /// The text, and the value written (before any rounding), or `None`
        /// when the documented rules read the text otherwise than written
        /// (a lone `.` or `,` before three digits, which groups thousands).
        fn text(&self, currency: &str) -> Option<(String, BigRational)> {
            let digits = minor_digits(currency);
            let decimal = if self.decimal_comma { ',' } else { '.' };
            if self.grouping == Some(decimal) {
                return None;
            }
            let plain = self.integer.to_string();
            let mut integer = String::new();
            for (i, c) in plain.chars().enumerate() {
                if i > 0
                    && (plain.len() - i).is_multiple_of(3)
                    && let Some(g) = self.grouping
                {
                    integer.push(g);
                }
                integer.push(c);
            }
            let mut number = integer.clone();
            if !self.decimals.is_empty() {
                number.push(decimal);
                number.push_str(&self.decimals);
            }
            let separators = number.matches(['.', ',']).count();
            let lone = |n: &str| {
                let at = n.rfind(['.', ','])?;
                Some(n.len() - at - 1 == 3 && plain != "0")
            };
            // A lone separator before exactly three digits groups
            // thousands when the currency has fewer than three decimals;
            // with more, it is the decimal separator.
            if separators == 1 && lone(&number) == Some(true) {
                let grouped = self.decimals.is_empty();
                if grouped == (digits >= 3) {
                    return None;
                }
            }
            let sign = if self.negative { "-" } else { "" };
            let symbol = match currency {
                "EUR" => Some("€"),
                "USD" => Some("$"),
                "GBP" => Some("£"),
                "JPY" => Some("¥"),
                _ => None,
            };
            let text = match (self.placement, symbol) {
                (0, _) => format!("{sign}{number}"),
                (1, _) => format!("{currency} {sign}{number}"),
                (2, _) => format!("{sign}{number} {}", currency.to_ascii_lowercase()),
                (3, Some(symbol)) => format!("{symbol}{sign}{number}"),
                (_, Some(symbol)) => format!("{sign}{number} {symbol}"),
                (_, None) => format!("{sign}{number}{currency}"),
            };
            let numerator: BigInt = format!("{plain}{}", self.decimals).parse().ok()?;
            let value = BigRational::new(numerator, ten_to(self.decimals.len()));
            Some((text, if self.negative { -value } else { value }))
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn formatted_amounts_read_back_and_say_their_value(
            amount in prop_oneof![
                -1_000_000i64..=1_000_000,
                any::<i64>(),
                Just(i64::MIN),
                Just(i64::MAX),
            ],
            currency in currency(),
        ) {
            let money = Money { amount_minor: amount, currency: currency.to_owned() };
            let text = format_decimal(&money);
            let digits = minor_digits(currency) as usize;
            // The text is the amount over 10^digits, exactly.
            let (negative, body) = match text.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, text.as_str()),
            };
            let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
            prop_assert_eq!(fraction.len(), digits, "{}", text);
            let numerator: BigInt = format!("{whole}{fraction}").parse().expect("digits");
            let numerator = if negative { -numerator } else { numerator };
            prop_assert_eq!(numerator, BigInt::from(amount), "{}", text);
            // And it reads back, whatever the default currency.
            prop_assert_eq!(parse_in(&text, currency), Ok(money.clone()));
            prop_assert_eq!(parse(&format!("{text} {currency}"), Some("EUR")), Ok(money));
        }

        #[test]
        fn written_amounts_read_as_exact_arithmetic_rounds_them(
            written in written(),
            currency in currency(),
        ) {
            let Some((text, value)) = written.text(currency) else {
                return Ok(());
            };
            let digits = minor_digits(currency) as usize;
            // BigRational::round: to the nearest, half-way cases away from zero.
            let expected = (value * BigRational::from_integer(ten_to(digits))).round();
            let parsed = parse(&text, Some(currency));
            match expected.to_integer().to_i64() {
                Some(amount) => prop_assert_eq!(
                    parsed,
                    Ok(Money { amount_minor: amount, currency: currency.to_owned() }),
                    "{}", text
                ),
                None => prop_assert_eq!(
                    parsed,
                    Err(MoneyError::Overflow(text.trim().to_owned())),
                    "{} ({})", text, expected.to_integer().abs()
                ),
            }
        }
    }

    #[test]
    fn the_table_is_iso_4217s() {
        // ISO 4217 list one: every code whose minor unit is not 2.
        for code in [
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ] {
            assert_eq!(minor_digits(code), 0, "{code}");
        }
        for code in ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"] {
            assert_eq!(minor_digits(code), 3, "{code}");
        }
        for code in ["CLF", "UYW"] {
            assert_eq!(minor_digits(code), 4, "{code}");
        }
        for code in ["EUR", "USD", "CHF", "HUF", "TWD", "MGA", "MRU", "XAU"] {
            assert_eq!(minor_digits(code), 2, "{code}");
        }
    }
}

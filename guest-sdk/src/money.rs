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
//!   currency has three minor digits;
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
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
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
            .all(|c| c.is_ascii_digit() || ".,-+ ".contains(c))
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
    let int_value: i64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let scale = 10i64.checked_pow(minor)?;
    let mut value = int_value.checked_mul(scale)?;
    let frac_digits: Vec<i64> = frac_part.bytes().map(|b| i64::from(b - b'0')).collect();
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
    Some(if negative { -value } else { value })
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
    if occurrences > 1 || (digits_after == 3 && minor != 3 && !leading_zero) {
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

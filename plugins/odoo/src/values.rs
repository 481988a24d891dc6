//! Odoo's values as the contract wants them: floats to money in minor
//! units, UTC date-times to RFC 3339, barcodes to GTINs.

use shopbridge_guest_sdk::{Money, money};

/// Beyond 2^53 a float no longer holds every integer: such an amount is
/// not money anyone means.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// An amount Odoo gives as a float (`15.99`), in minor units of
/// `currency`, rounded half away from zero as Odoo rounds. `None` when it
/// is not a finite number of sensible size.
pub(crate) fn money_from_f64(amount: f64, currency: &str) -> Option<Money> {
    let currency = currency.trim().to_ascii_uppercase();
    let digits = i32::try_from(money::minor_digits(&currency)).ok()?;
    let minor = (amount * 10f64.powi(digits)).round();
    if !minor.is_finite() || minor.abs() >= MAX_EXACT_FLOAT {
        return None;
    }
    Some(Money {
        // In range and integral: the cast is exact.
        amount_minor: minor as i64,
        currency,
    })
}

/// An amount as the float Odoo expects: 1599 EUR cents → `15.99` (the
/// nearest float, which XML-RPC writes back as `15.99`).
pub(crate) fn price_to_f64(price: &Money) -> f64 {
    let currency = price.currency.trim().to_ascii_uppercase();
    let digits = i32::try_from(money::minor_digits(&currency)).unwrap_or(2);
    price.amount_minor as f64 / 10f64.powi(digits)
}

/// Odoo's UTC date-time (`2026-01-12 09:30:00`) as RFC 3339
/// (`2026-01-12T09:30:00Z`); `None` for anything else.
pub(crate) fn odoo_datetime(text: &str) -> Option<String> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let shape = b.len() == 19
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b' ' | b'T')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    shape.then(|| format!("{}T{}Z", &text[..10], &text[11..]))
}

/// The date part of an Odoo date or date-time (`2026-02-01`).
pub(crate) fn odoo_date(text: &str) -> Option<String> {
    let date = text.trim().get(..10)?;
    let b = date.as_bytes();
    let ok = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    ok.then(|| date.to_owned())
}

/// A barcode that is a GTIN (8, 12, 13 or 14 digits), leading zeros kept.
pub(crate) fn gtin(barcode: &str) -> Option<String> {
    let barcode = barcode.trim();
    let digits = barcode.bytes().all(|b| b.is_ascii_digit());
    (digits && matches!(barcode.len(), 8 | 12 | 13 | 14)).then(|| barcode.to_owned())
}

/// A float quantity as a count: floored, negative as 0, capped at `u32::MAX`.
pub(crate) fn count(quantity: f64) -> Option<u32> {
    if !quantity.is_finite() {
        return None;
    }
    let floored = quantity.floor().max(0.0);
    // Saturating: `as` clamps a float to the integer's range.
    Some(floored as u32)
}

/// Kilograms (Odoo's default weight unit) as whole grams; `None` for 0.
pub(crate) fn grams(kilograms: f64) -> Option<u32> {
    if !kilograms.is_finite() || kilograms <= 0.0 {
        return None;
    }
    Some((kilograms * 1000.0).round() as u32).filter(|g| *g > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_become_minor_units_without_drift() {
        let eur = |a| money_from_f64(a, "EUR").map(|m| m.amount_minor);
        assert_eq!(eur(15.99), Some(1599));
        assert_eq!(eur(0.1 + 0.2), Some(30));
        assert_eq!(eur(1234.565), Some(123457));
        assert_eq!(eur(-2.5), Some(-250));
        assert_eq!(eur(f64::NAN), None);
        assert_eq!(eur(1e300), None);
        assert_eq!(
            money_from_f64(1200.0, "jpy").map(|m| (m.amount_minor, m.currency)),
            Some((1200, "JPY".to_owned()))
        );
        assert_eq!(
            money_from_f64(1.2345, "KWD").map(|m| m.amount_minor),
            Some(1235)
        );
        let back = price_to_f64(&Money {
            amount_minor: 1599,
            currency: "EUR".into(),
        });
        assert_eq!(back.to_string(), "15.99");
        let yen = price_to_f64(&Money {
            amount_minor: 1200,
            currency: "JPY".into(),
        });
        assert_eq!(yen.to_string(), "1200");
    }

    #[test]
    fn odoo_dates_become_rfc3339() {
        assert_eq!(
            odoo_datetime("2026-01-12 09:30:00").as_deref(),
            Some("2026-01-12T09:30:00Z")
        );
        assert_eq!(odoo_datetime("2026-01-12"), None);
        assert_eq!(odoo_datetime("12/01/2026 09:30:00"), None);
        assert_eq!(
            odoo_date("2026-02-01 08:00:00").as_deref(),
            Some("2026-02-01")
        );
        assert_eq!(odoo_date("2026-02"), None);
        assert_eq!(odoo_date("soon, maybe"), None);
    }

    #[test]
    fn barcodes_counts_and_weights() {
        assert_eq!(gtin(" 0012345678905 ").as_deref(), Some("0012345678905"));
        assert_eq!(gtin("ABC-123"), None);
        assert_eq!(gtin("123"), None);
        assert_eq!(count(12.7), Some(12));
        assert_eq!(count(-3.0), Some(0));
        assert_eq!(count(1e12), Some(u32::MAX));
        assert_eq!(count(f64::INFINITY), None);
        assert_eq!(grams(0.25), Some(250));
        assert_eq!(grams(0.0), None);
        assert_eq!(grams(0.0001), None);
    }
}

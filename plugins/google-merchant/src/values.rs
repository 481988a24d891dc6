//! Parsers for the values of single Merchant Center fields.

use shopbridge_guest_sdk::Availability;

/// Three ASCII letters ("EUR", "usd").
pub(crate) fn is_currency_code(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `g:availability` in Google's spellings (`in_stock`, `in stock`), the
/// schema.org ones (`InStock`, `https://schema.org/InStock`) and a few
/// legacy ones. `date` is `g:availability_date`, kept for a preorder.
pub(crate) fn availability(text: &str, date: Option<&str>) -> Option<Availability> {
    let word = text.trim().rsplit('/').next().unwrap_or_default();
    // Lower case without separators, in a small stack buffer.
    let mut key = [0u8; 24];
    let mut len = 0;
    for byte in word.bytes().filter(|b| !matches!(b, b' ' | b'_' | b'-')) {
        *key.get_mut(len)? = byte.to_ascii_lowercase();
        len += 1;
    }
    Some(match &key[..len] {
        b"instock"
        | b"availablefororder"
        | b"limitedavailability"
        | b"onlineonly"
        | b"instoreonly" => Availability::InStock,
        b"outofstock" | b"soldout" => Availability::OutOfStock,
        b"preorder" | b"presale" => Availability::Preorder(date.and_then(iso_date)),
        b"backorder" => Availability::Backorder,
        b"discontinued" => Availability::Discontinued,
        _ => return None,
    })
}

/// The date part of an ISO 8601 date or date-time ("2026-03-15T09:00-0800"
/// → "2026-03-15").
pub(crate) fn iso_date(text: &str) -> Option<String> {
    let date = text.trim().get(..10)?;
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    (digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        .then(|| date.to_owned())
}

/// `g:shipping_weight` ("1.5 kg", "300 g", "2 lb", "3 oz", "0,25 kg") in
/// grams, rounded. `None` without a known unit.
pub(crate) fn weight_grams(text: &str) -> Option<u32> {
    let text = text.trim();
    let unit_at = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(unit_at);
    let number = number.trim();
    let value: f64 = if number.contains(',') {
        number.replacen(',', ".", 1).parse().ok()?
    } else {
        number.parse().ok()?
    };
    const UNITS: [(&[&str], f64); 4] = [
        (&["g", "gr", "gram", "grams"], 1.0),
        (
            &["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"],
            1000.0,
        ),
        (&["lb", "lbs", "pound", "pounds"], 453.592_37),
        (&["oz", "ounce", "ounces"], 28.349_523_125),
    ];
    let unit = unit.trim();
    let factor = UNITS
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(unit)))?
        .1;
    let grams = (value * factor).round();
    if grams.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&grams) {
        Some(grams as u32)
    } else {
        None
    }
}

/// A GTIN/EAN/UPC/ISBN-13 as digits only, leading zeros kept: spaces and
/// dashes dropped, 8 to 14 digits, else `None`.
pub(crate) fn gtin(text: &str) -> Option<String> {
    let digits: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    ((8..=14).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

/// A category path "Apparel & Accessories > Clothing > Shirts" split on `>`.
pub(crate) fn category_path(text: &str) -> Vec<String> {
    text.split('>')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_spellings() {
        let a = |t: &str| availability(t, Some("2026-12-01T10:00+0100"));
        assert_eq!(a("in_stock"), Some(Availability::InStock));
        assert_eq!(a("in stock"), Some(Availability::InStock));
        assert_eq!(a(" In Stock "), Some(Availability::InStock));
        assert_eq!(a("https://schema.org/InStock"), Some(Availability::InStock));
        assert_eq!(a("available for order"), Some(Availability::InStock));
        assert_eq!(a("out of stock"), Some(Availability::OutOfStock));
        assert_eq!(a("out_of_stock"), Some(Availability::OutOfStock));
        assert_eq!(a("OutOfStock"), Some(Availability::OutOfStock));
        assert_eq!(
            a("preorder"),
            Some(Availability::Preorder(Some("2026-12-01".into())))
        );
        assert_eq!(a("pre-order"), a("preorder"));
        assert_eq!(
            availability("preorder", None),
            Some(Availability::Preorder(None))
        );
        assert_eq!(
            availability("preorder", Some("soon")),
            Some(Availability::Preorder(None))
        );
        assert_eq!(a("backorder"), Some(Availability::Backorder));
        assert_eq!(a("discontinued"), Some(Availability::Discontinued));
        assert_eq!(a("maybe"), None);
        assert_eq!(a(""), None);
        assert_eq!(a("a very long value that does not fit"), None);
    }

    #[test]
    fn shipping_weights() {
        assert_eq!(weight_grams("1.5 kg"), Some(1500));
        assert_eq!(weight_grams("0,25 kg"), Some(250));
        assert_eq!(weight_grams("300 g"), Some(300));
        assert_eq!(weight_grams("300g"), Some(300));
        assert_eq!(weight_grams("2 lb"), Some(907));
        assert_eq!(weight_grams("2 LBS"), Some(907));
        assert_eq!(weight_grams("3 oz"), Some(85));
        assert_eq!(weight_grams("2"), None);
        assert_eq!(weight_grams("heavy"), None);
        assert_eq!(weight_grams("2 stone"), None);
        assert_eq!(weight_grams("-1 kg"), None);
        assert_eq!(weight_grams("1e30 kg"), None);
    }

    #[test]
    fn gtins_keep_their_leading_zeros() {
        assert_eq!(gtin("03234567890126").as_deref(), Some("03234567890126"));
        assert_eq!(gtin("978-0-306-40615-7").as_deref(), Some("9780306406157"));
        assert_eq!(gtin(" 12348573 ").as_deref(), Some("12348573"));
        assert_eq!(gtin("0-306-40615-X"), None);
        assert_eq!(gtin("1234"), None);
    }

    #[test]
    fn categories_and_dates() {
        assert_eq!(
            category_path("Apparel & Accessories > Clothing >Shirts"),
            ["Apparel & Accessories", "Clothing", "Shirts"]
        );
        assert_eq!(category_path("212"), ["212"]);
        assert!(category_path(" > ").is_empty());
        assert_eq!(
            iso_date("2027-03-15T09:00-0800").as_deref(),
            Some("2027-03-15")
        );
        assert_eq!(iso_date("15/03/2027"), None);
        assert_eq!(iso_date("2027-3-15"), None);
    }
}

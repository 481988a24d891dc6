//! Reading and writing the values Printful's API exchanges: prices as
//! decimal strings, ISO 8601 UTC times, ids in URL paths.

use shopbridge_guest_sdk::{Money, money};

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters
/// are kept).
pub(crate) fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `{order_id}` of a path: a Printful order id as it is, an external
/// id as `@` and the id percent-encoded (the API reads `@` as "by external
/// id").
pub(crate) fn order_path_id(reference: &str) -> String {
    let reference = reference.trim();
    match reference.strip_prefix('@') {
        Some(external) => format!("@{}", encode_path_segment(external)),
        None => encode_path_segment(reference),
    }
}

/// A decimal price as Printful writes it (`"133.54"`, `"8"`, `"-1.00"`) in
/// `currency`'s minor units, rounded half up past them. `None` when it is not
/// such a number or does not fit. A dot is always the decimal point.
pub(crate) fn decimal_money(text: &str, currency: &str) -> Option<Money> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = money::minor_digits(currency);
    let mut minor: i64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    minor = minor.checked_mul(10i64.checked_pow(scale)?)?;
    let mut place = 10i64.pow(scale) / 10;
    for (i, b) in frac_part.bytes().enumerate() {
        let digit = i64::from(b - b'0');
        if (i as u32) < scale {
            minor = minor.checked_add(digit * place)?;
            place /= 10;
        } else {
            if digit >= 5 {
                minor = minor.checked_add(1)?;
            }
            break;
        }
    }
    Some(Money {
        amount_minor: if negative { -minor } else { minor },
        currency: currency.to_owned(),
    })
}

/// A timestamp as RFC 3339 when it is one: Printful writes ISO 8601 in UTC
/// (`2023-04-05T06:07:08Z`). A space for the `T` is accepted; a time
/// without a zone gives `None`.
pub(crate) fn rfc3339(text: &str) -> Option<String> {
    let text = text.trim();
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let zoned = text.ends_with(['Z', 'z'])
        || (b.len() >= 25 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    (shape && zoned).then(|| format!("{}T{}", &text[..10], &text[11..]))
}

/// Seconds written as a decimal (`"0.5"`, `"60"`), rounded up: Printful's
/// `X-Ratelimit-Reset`.
pub(crate) fn seconds_up(text: &str) -> Option<u32> {
    let text = text.trim();
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u32 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let fraction = frac_part.bytes().any(|b| b != b'0');
    Some(if fraction {
        whole.saturating_add(1)
    } else {
        whole
    })
}

/// At most `max` bytes of `text`, cut on a character boundary, with `…`
/// when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount_minor: i64) -> Option<Money> {
        Some(Money {
            amount_minor,
            currency: "EUR".to_owned(),
        })
    }

    #[test]
    fn prices() {
        assert_eq!(decimal_money("133.54", "EUR"), eur(13354));
        assert_eq!(decimal_money("8", "EUR"), eur(800));
        assert_eq!(decimal_money("1299.5", "EUR"), eur(129_950));
        assert_eq!(decimal_money("0.125", "EUR"), eur(13));
        assert_eq!(decimal_money("-1.00", "EUR"), eur(-100));
        assert_eq!(decimal_money(".5", "EUR"), eur(50));
        assert_eq!(
            decimal_money("1200.4", "JPY"),
            Some(Money {
                amount_minor: 1200,
                currency: "JPY".to_owned()
            })
        );
        for bad in [
            "",
            ".",
            "1,5",
            "12 EUR",
            "1e3",
            "--1",
            "99999999999999999999",
        ] {
            assert_eq!(decimal_money(bad, "EUR"), None, "{bad}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(
            rfc3339("2023-04-05T06:07:08Z").as_deref(),
            Some("2023-04-05T06:07:08Z")
        );
        assert_eq!(
            rfc3339("2023-04-05 06:07:08+02:00").as_deref(),
            Some("2023-04-05T06:07:08+02:00")
        );
        assert_eq!(rfc3339("2023-04-05T06:07:08"), None);
        assert_eq!(rfc3339("2023-04-05"), None);
        assert_eq!(rfc3339("yesterday"), None);
    }

    #[test]
    fn rate_limit_resets() {
        assert_eq!(seconds_up("0.5"), Some(1));
        assert_eq!(seconds_up("60"), Some(60));
        assert_eq!(seconds_up("2.0"), Some(2));
        assert_eq!(seconds_up("soon"), None);
        assert_eq!(seconds_up(""), None);
    }

    #[test]
    fn path_ids() {
        assert_eq!(order_path_id("123"), "123");
        assert_eq!(order_path_id("@SB12AB"), "@SB12AB");
        assert_eq!(order_path_id("@a b/c"), "@a%20b%2Fc");
        assert_eq!(order_path_id("1/../2"), "1%2F..%2F2");
    }

    #[test]
    fn shortening() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("éé", 3), "é…");
    }
}

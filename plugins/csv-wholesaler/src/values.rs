//! Reading the values wholesalers write: decimals with a comma or a dot,
//! dates in French or ISO order, status words with or without accents.

/// Parses a non-negative decimal written `12`, `12,5`, `12.50`, `1 250,5` or
/// `1.250,5`, scaled by `10^scale` and rounded half up: `("5,55", 2)` is
/// `555`. `None` when it is not such a number or does not fit.
pub(crate) fn parse_scaled(text: &str, scale: u32) -> Option<u64> {
    let body: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    // With both separators, the last one is the decimal point and the
    // other groups thousands.
    let decimal = match (body.rfind('.'), body.rfind(',')) {
        (Some(d), Some(c)) => Some(d.max(c)),
        (Some(at), None) | (None, Some(at)) => Some(at),
        (None, None) => None,
    };
    let (int_part, frac_part) = match decimal {
        Some(at) => (&body[..at], &body[at + 1..]),
        None => (body.as_str(), ""),
    };
    let int_digits: String = int_part
        .chars()
        .filter(|c| *c != '.' && *c != ',')
        .collect();
    if (int_digits.is_empty() && frac_part.is_empty())
        || !int_digits.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale_factor = 10u64.checked_pow(scale)?;
    let int_value: u64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().ok()?
    };
    let mut value = int_value.checked_mul(scale_factor)?;
    let mut place = scale_factor / 10;
    for (i, b) in frac_part.bytes().enumerate() {
        let digit = u64::from(b - b'0');
        if (i as u32) < scale {
            value = value.checked_add(digit * place)?;
            place /= 10;
        } else {
            if digit >= 5 {
                value = value.checked_add(1)?;
            }
            break;
        }
    }
    Some(value)
}

/// Folds a word for comparison: lower case, accents dropped, anything but
/// letters and digits turned into single spaces. `"Précommande (2026)"` is
/// `"precommande 2026"`.
pub(crate) fn fold_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = shopbridge_guest_sdk::csv::fold_accent(c);
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// The first date in `text`, as ISO 8601: `2026-12-01`, `01/12/2026`,
/// `01-12-2026` and `01.12.2026` (day first, as in France) are all
/// `"2026-12-01"`.
pub(crate) fn find_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let digits_at = |at: usize, n: usize| -> Option<u32> {
        let part = bytes.get(at..at + n)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    let is_sep = |at: usize| matches!(bytes.get(at), Some(b'-' | b'/' | b'.'));
    let boundary = |at: usize| at == 0 || !bytes[at - 1].is_ascii_digit();
    for start in (0..bytes.len()).filter(|s| boundary(*s)) {
        let year_first = || {
            let (y, m, d) = (
                digits_at(start, 4)?,
                digits_at(start + 5, 2)?,
                digits_at(start + 8, 2)?,
            );
            (is_sep(start + 4) && is_sep(start + 7)).then_some(())?;
            iso_date(y, m, d)
        };
        let day_first = || {
            let (d, m, y) = (
                digits_at(start, 2)?,
                digits_at(start + 3, 2)?,
                digits_at(start + 6, 4)?,
            );
            (is_sep(start + 2) && is_sep(start + 5)).then_some(())?;
            iso_date(y, m, d)
        };
        if let Some(date) = year_first().or_else(day_first) {
            return Some(date);
        }
    }
    None
}

fn iso_date(year: u32, month: u32, day: u32) -> Option<String> {
    ((1900..=2999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// Percent-encodes a path segment (everything but RFC 3986's unreserved
/// characters).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_scaled("5,5", 2), Some(550));
        assert_eq!(parse_scaled("20", 2), Some(2000));
        assert_eq!(parse_scaled(" 0.125 ", 2), Some(13));
        assert_eq!(parse_scaled("1 250,5", 1), Some(12505));
        assert_eq!(parse_scaled("1.250,5", 0), Some(1251));
        assert_eq!(parse_scaled(",5", 1), Some(5));
        assert_eq!(parse_scaled("12.", 0), Some(12));
        assert_eq!(parse_scaled("", 2), None);
        assert_eq!(parse_scaled("-3", 0), None);
        assert_eq!(parse_scaled("1,2,3", 0), Some(12), "groups then decimal");
        assert_eq!(parse_scaled("abc", 0), None);
        assert_eq!(parse_scaled("1e5", 0), None);
        assert_eq!(parse_scaled("99999999999999999999", 0), None);
    }

    #[test]
    fn words_and_dates() {
        assert_eq!(
            fold_words("  Précommande (01/12/2026) "),
            "precommande 01 12 2026"
        );
        assert_eq!(fold_words("EN-STOCK"), "en stock");
        assert_eq!(
            find_date("Précommande 01/12/2026"),
            Some("2026-12-01".into())
        );
        assert_eq!(find_date("dispo le 2026-03-05"), Some("2026-03-05".into()));
        assert_eq!(find_date("31.12.2026"), Some("2026-12-31".into()));
        assert_eq!(find_date("132026-03-05"), None);
        assert_eq!(find_date("45/13/2026"), None);
        assert_eq!(find_date("bientôt"), None);
    }

    #[test]
    fn path_segments() {
        assert_eq!(encode_path_segment("ab-12_x.y~"), "ab-12_x.y~");
        assert_eq!(encode_path_segment("a/b c?é"), "a%2Fb%20c%3F%C3%A9");
    }
}

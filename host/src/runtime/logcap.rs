//! How much a plugin may write to the host's log, wherever it writes from
//! (the `log` import, stdout, stderr): each record is cut to a size, a
//! call may write so many records and bytes, and a plugin so many bytes a
//! second across all its calls. What is dropped is counted, and said once a
//! second per plugin: the log tells that it was cut, never floods.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest log message kept; the rest is cut.
pub(crate) const MAX_MESSAGE_BYTES: usize = 4 << 10;
/// Fields kept per record; the rest are dropped.
pub(crate) const MAX_FIELDS: usize = 32;
/// Longest field name kept.
pub(crate) const MAX_FIELD_NAME_BYTES: usize = 64;
/// Longest field value kept.
pub(crate) const MAX_FIELD_VALUE_BYTES: usize = 1 << 10;
/// Longest text of all of a record's fields.
pub(crate) const MAX_FIELDS_BYTES: usize = 4 << 10;
/// Records a plugin may write in one call.
pub(crate) const MAX_RECORDS_PER_CALL: u32 = 1_000;
/// Bytes a plugin may write in one call.
pub(crate) const MAX_BYTES_PER_CALL: usize = 64 << 10;
/// Bytes a plugin may write in one second, all its calls together.
pub(crate) const MAX_BYTES_PER_SECOND: u64 = 256 << 10;

/// `text` cut to at most `max` bytes, on a character boundary, with `…`
/// when something was cut.
pub(crate) fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// A record's fields as one bounded text: `name=value …`.
pub(crate) fn fields_text(fields: &[(String, String)]) -> String {
    let mut text = String::new();
    for (name, value) in fields.iter().take(MAX_FIELDS) {
        let field = format!(
            "{}={}",
            cut(name, MAX_FIELD_NAME_BYTES),
            cut(value, MAX_FIELD_VALUE_BYTES)
        );
        if text.len() + field.len() + 1 > MAX_FIELDS_BYTES {
            text.push_str(" …");
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&field);
    }
    if fields.len() > MAX_FIELDS && !text.ends_with('…') {
        text.push_str(" …");
    }
    text
}

/// One call's budget.
#[derive(Debug, Default)]
pub(crate) struct CallBudget {
    records: u32,
    bytes: usize,
    dropped: u64,
}

impl CallBudget {
    /// Whether a record of `bytes` may be written now by `plugin`: within
    /// this call's budget and the plugin's budget for this second.
    pub(crate) fn admit(&mut self, plugin: &str, bytes: usize) -> bool {
        self.records += 1;
        let fits = self.records <= MAX_RECORDS_PER_CALL
            && self.bytes + bytes <= MAX_BYTES_PER_CALL
            && per_second(plugin, bytes);
        if fits {
            self.bytes += bytes;
        } else {
            self.dropped += 1;
            if self.dropped == 1 {
                tracing::warn!(
                    plugin,
                    "plugin log limit reached: its records are dropped for the rest of the call \
                     or the second"
                );
            }
        }
        fits
    }

    /// Records dropped in this call.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A plugin's bytes in the current second.
#[derive(Debug, Default)]
struct Second {
    at: u64,
    bytes: u64,
    dropped_records: u64,
}

fn seconds() -> &'static Mutex<HashMap<String, Second>> {
    static SECONDS: OnceLock<Mutex<HashMap<String, Second>>> = OnceLock::new();
    SECONDS.get_or_init(Mutex::default)
}

/// Counts `bytes` against `plugin`'s second; false when over the budget.
/// At a new second, says how many records the last one dropped.
fn per_second(plugin: &str, bytes: usize) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut seconds = seconds().lock().unwrap_or_else(|e| e.into_inner());
    let second = seconds.entry(plugin.to_owned()).or_default();
    if second.at != now {
        if second.dropped_records > 0 {
            tracing::warn!(
                plugin,
                dropped = second.dropped_records,
                "plugin log records dropped in the last second (over {MAX_BYTES_PER_SECOND} bytes a second)"
            );
        }
        *second = Second {
            at: now,
            ..Second::default()
        };
    }
    let bytes = bytes as u64;
    if second.bytes + bytes > MAX_BYTES_PER_SECOND {
        second.dropped_records += 1;
        return false;
    }
    second.bytes += bytes;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_cut_and_fields_bounded() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("ééé", 3), "é…");
        assert_eq!(cut("abc", 3), "abc");
        let many: Vec<(String, String)> = (0..100)
            .map(|i| (format!("k{i}"), "v".repeat(10_000)))
            .collect();
        let text = fields_text(&many);
        assert!(text.len() <= MAX_FIELDS_BYTES + 4, "{}", text.len());
        assert!(text.ends_with('…'));
    }

    #[test]
    fn a_call_and_a_second_have_budgets() {
        let mut call = CallBudget::default();
        let plugin = "budget-test";
        let admitted = (0..2_000).filter(|_| call.admit(plugin, 10)).count();
        assert_eq!(admitted, MAX_RECORDS_PER_CALL as usize);
        assert_eq!(call.dropped(), 1_000);
        let mut call = CallBudget::default();
        let admitted = (0..100)
            .filter(|_| call.admit("bytes-test", 8 << 10))
            .count();
        assert_eq!(admitted, MAX_BYTES_PER_CALL / (8 << 10));
    }
}

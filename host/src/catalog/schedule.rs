//! Sync schedules: cron expressions (five fields, UTC), as supplier and ERP
//! integrations run them (the full catalogue nightly, prices and stock
//! hourly).

use std::str::FromStr;

use croner::Cron;

/// Parses a cron expression, saying what is wrong with it.
pub fn parse(expression: &str) -> Result<Cron, String> {
    Cron::from_str(expression).map_err(|e| format!("'{expression}' is not a cron expression: {e}"))
}

/// The next time `expression` fires after `after_ms` (Unix milliseconds).
pub fn next_after(expression: &str, after_ms: i64) -> Result<i64, String> {
    let cron = parse(expression)?;
    let after = chrono::DateTime::from_timestamp_millis(after_ms)
        .ok_or_else(|| format!("{after_ms} is not a time"))?;
    cron.find_next_occurrence(&after, false)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("'{expression}' never fires: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nightly_and_hourly() {
        // 2026-11-25T10:15:00Z
        let now = 1_795_601_700_000;
        let hourly = next_after("0 * * * *", now).expect("valid");
        assert_eq!(hourly - now, 45 * 60 * 1000);
        let nightly = next_after("0 3 * * *", now).expect("valid");
        assert_eq!(
            chrono::DateTime::from_timestamp_millis(nightly)
                .map(|t| t.to_rfc3339())
                .as_deref(),
            Some("2026-11-26T03:00:00+00:00")
        );
        assert!(parse("every hour").is_err());
    }
}

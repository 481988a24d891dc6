//! The HMAC-SHA256 signature shops put on their requests, and Shopbridge on
//! its webhooks: one scheme both ways, easy to write in PHP.
//!
//! ```text
//! X-Shopbridge-Key:       <key id>
//! X-Shopbridge-Timestamp: <Unix seconds>
//! X-Shopbridge-Signature: hex(HMAC-SHA256(secret, "<timestamp>\n<METHOD>\n<path?query>\n<body>"))
//! ```
//!
//! The method and path are signed so that a signed request cannot be
//! replayed against another endpoint; the timestamp must be within the
//! replay window of the receiver's clock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Header naming the key.
pub const KEY_HEADER: &str = "x-shopbridge-key";
/// Header holding the timestamp (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-shopbridge-timestamp";
/// Header holding the hex signature.
pub const SIGNATURE_HEADER: &str = "x-shopbridge-signature";

fn mac(secret: &str, timestamp: i64, method: &str, path: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{timestamp}\n{method}\n{path}\n").as_bytes());
    mac.update(body);
    mac
}

/// The hex signature of a request.
pub fn sign(secret: &str, timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    hex::encode(
        mac(secret, timestamp, method, path, body)
            .finalize()
            .into_bytes(),
    )
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is missing.
    #[error("the {0} header is missing")]
    Missing(&'static str),
    /// The key id is unknown.
    #[error("unknown key id")]
    UnknownKey,
    /// The timestamp is not a number or outside the window.
    #[error("the timestamp is {0}")]
    Stale(String),
    /// The signature does not match.
    #[error(
        "the signature does not match the request (sign \"<timestamp>\\n<METHOD>\\n<path?query>\\n<body>\" with HMAC-SHA256)"
    )]
    Mismatch,
}

/// What is signed of a request, besides its timestamp.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `POST`, `GET`, …
    pub method: &'a str,
    /// Path and query, as sent.
    pub path: &'a str,
    /// The body's bytes.
    pub body: &'a [u8],
}

/// Checks a request's timestamp against `now` (both Unix seconds) and its
/// signature, in constant time.
/// The request's timestamp, when it is Unix seconds within `window_seconds`
/// of `now` (checked before the body is read, and again with the signature).
pub fn fresh_timestamp(
    timestamp: &str,
    now: i64,
    window_seconds: i64,
) -> Result<i64, SignatureError> {
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Stale(format!("'{timestamp}', not Unix seconds")))?;
    // Saturating: a timestamp near i64::MIN or MAX is far off, not an overflow.
    let skew = now.saturating_sub(ts);
    if skew.unsigned_abs() > window_seconds.unsigned_abs() {
        return Err(SignatureError::Stale(format!(
            "{skew}s away from the server's clock (window: {window_seconds}s)"
        )));
    }
    Ok(ts)
}

pub fn verify(
    secret: &str,
    timestamp: &str,
    signature: &str,
    request: Signed<'_>,
    now: i64,
    window_seconds: i64,
) -> Result<(), SignatureError> {
    let ts = fresh_timestamp(timestamp, now, window_seconds)?;
    let given = hex::decode(signature.trim()).map_err(|_| SignatureError::Mismatch)?;
    mac(secret, ts, request.method, request.path, request.body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let body = br#"{"reference":"A1"}"#;
        let sig = sign(
            "s3cret-s3cret",
            1_700_000_000,
            "POST",
            "/v1/shops/x/orders",
            body,
        );
        let ok = |secret, sig: &str, method, path, body: &[u8], now| {
            verify(
                secret,
                "1700000000",
                sig,
                Signed { method, path, body },
                now,
                300,
            )
        };
        assert_eq!(
            ok(
                "s3cret-s3cret",
                &sig,
                "POST",
                "/v1/shops/x/orders",
                body,
                1_700_000_100
            ),
            Ok(())
        );
        assert_eq!(
            ok(
                "other-secret",
                &sig,
                "POST",
                "/v1/shops/x/orders",
                body,
                1_700_000_100
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            ok(
                "s3cret-s3cret",
                &sig,
                "POST",
                "/v1/shops/y/orders",
                body,
                1_700_000_100
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            ok(
                "s3cret-s3cret",
                &sig,
                "POST",
                "/v1/shops/x/orders",
                b"{}",
                1_700_000_100
            ),
            Err(SignatureError::Mismatch)
        );
        assert!(matches!(
            ok(
                "s3cret-s3cret",
                &sig,
                "POST",
                "/v1/shops/x/orders",
                body,
                1_700_000_400
            ),
            Err(SignatureError::Stale(_))
        ));
        // Timestamps at the ends of i64 are stale, not an overflow.
        for extreme in ["-9223372036854775808", "9223372036854775807"] {
            assert!(matches!(
                verify(
                    "s3cret-s3cret",
                    extreme,
                    &sig,
                    Signed {
                        method: "POST",
                        path: "/v1/shops/x/orders",
                        body
                    },
                    1_700_000_100,
                    300
                ),
                Err(SignatureError::Stale(_))
            ));
        }
    }

    /// The vector the PHP shop modules' tests check too
    /// (`shop-modules/tests/vectors/signature.json`): both sides compute
    /// the same signature, and the host's verifier accepts it.
    #[test]
    fn the_shared_test_vector_is_what_the_host_computes() {
        let vector: serde_json::Value = serde_json::from_str(include_str!(
            "../../shop-modules/tests/vectors/signature.json"
        ))
        .expect("the vector is JSON");
        let field = |name: &str| {
            vector[name]
                .as_str()
                .unwrap_or_else(|| panic!("the vector has no string '{name}'"))
        };
        let timestamp = vector["timestamp"].as_i64().expect("a timestamp");
        let (secret, method, path, body) = (
            field("secret"),
            field("method"),
            field("path"),
            field("body"),
        );
        assert_eq!(
            sign(secret, timestamp, method, path, body.as_bytes()),
            field("expected")
        );
        assert_eq!(
            verify(
                secret,
                &timestamp.to_string(),
                field("expected"),
                Signed {
                    method,
                    path,
                    body: body.as_bytes()
                },
                timestamp + 299,
                300
            ),
            Ok(())
        );
    }
}

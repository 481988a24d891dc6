//! Who may manage plugins: operators (everything) and integrators (their
//! own plugins), each known by a bearer token whose SHA-256 is all the host
//! keeps. Shops are not here: they sign their requests (see
//! [`crate::signature`]) and reach only `/v1/shops/{shop}/…`.
//!
//! A presented token is hashed, and its hash compared with every stored one
//! in constant time, without stopping at a match: neither the time taken
//! nor an early exit tells a caller how close a guess came.

use sha2::{Digest, Sha256};

use crate::config::{Config, TokenHolder};

/// What a token holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything: every plugin, activation and rollback.
    Operator,
    /// Upload, test and read their own plugins.
    Integrator,
}

/// Someone who presented a known token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Their name in the configuration.
    pub name: String,
    /// What they may do.
    pub role: Role,
}

impl Principal {
    /// Whether this is an operator.
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }
}

/// The known tokens, as hashes.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    holders: Vec<([u8; 32], Principal)>,
}

impl Credentials {
    /// The operators and integrators of a validated configuration.
    pub fn from_config(config: &Config) -> Credentials {
        let of = |holders: &[TokenHolder], role: Role| {
            holders
                .iter()
                .filter_map(move |h| {
                    let hash = if h.token.is_empty() {
                        let bytes = hex::decode(&h.token_sha256).ok()?;
                        <[u8; 32]>::try_from(bytes.as_slice()).ok()?
                    } else {
                        sha256(h.token.as_bytes())
                    };
                    Some((
                        hash,
                        Principal {
                            name: h.name.clone(),
                            role,
                        },
                    ))
                })
                .collect::<Vec<_>>()
        };
        let mut holders = of(&config.operators, Role::Operator);
        holders.extend(of(&config.integrators, Role::Integrator));
        Credentials { holders }
    }

    /// Who holds `token`, if anyone.
    pub fn authenticate(&self, token: &str) -> Option<Principal> {
        let presented = sha256(token.as_bytes());
        let mut found = None;
        for (hash, principal) in &self.holders {
            if constant_time_eq(hash, &presented) && found.is_none() {
                found = Some(principal.clone());
            }
        }
        found
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equality that looks at every byte whatever the first difference.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut difference = 0u8;
    for (x, y) in a.iter().zip(b) {
        difference |= x ^ y;
    }
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_clear_or_hashed_are_known_others_are_not() {
        let mut config = Config::parse(&format!(
            r#"
            [[operators]]
            name = "ops"
            token_sha256 = "{}"
            [[integrators]]
            name = "acme"
            token = "acme-token-0123456789"
            "#,
            hex::encode(sha256(b"operator-token-0123456789"))
        ))
        .expect("parses");
        config.apply_env(|_| None);
        let credentials = Credentials::from_config(&config);
        assert_eq!(
            credentials.authenticate("operator-token-0123456789"),
            Some(Principal {
                name: "ops".into(),
                role: Role::Operator
            })
        );
        assert_eq!(
            credentials
                .authenticate("acme-token-0123456789")
                .map(|p| p.role),
            Some(Role::Integrator)
        );
        assert_eq!(credentials.authenticate("acme-token-012345678"), None);
        assert_eq!(credentials.authenticate(""), None);
    }

    #[test]
    fn equality_is_exact() {
        let a = sha256(b"a");
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] ^= 1;
        assert!(!constant_time_eq(&a, &b));
    }
}

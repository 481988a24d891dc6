//! Dispatch tapes: each submit call of a dispatch with the contract order
//! the plugin was given and its supplier HTTP exchanges, kept so that a
//! shadow run ([`crate::shadow`]) can replay a binding's recent real orders
//! through another version. Only the last [`TAPES_KEPT`] of each binding.

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, now_ms, rfc3339};

/// Tapes kept per binding: a shadow run replays at most this many orders
/// (its `orders` is capped to it), and 50 orders of a few KB each is a
/// small, bounded table per binding, however many orders flow through it.
pub const TAPES_KEPT: i64 = 50;

/// A tape to store.
pub struct NewTape<'a> {
    /// The binding.
    pub binding: &'a str,
    /// The shop.
    pub shop: &'a str,
    /// The shop's order reference.
    pub reference: &'a str,
    /// The supplier order's idempotency key.
    pub supplier_order: &'a str,
    /// The contract order the plugin was given (JSON).
    pub contract_order: &'a str,
    /// The supplier HTTP exchanges (JSON).
    pub exchanges: &'a str,
}

/// A stored tape.
#[derive(Debug, Clone, Serialize)]
pub struct DispatchTape {
    /// The binding.
    pub binding: String,
    /// The shop.
    pub shop: String,
    /// The shop's order reference.
    pub reference: String,
    /// The supplier order's idempotency key.
    pub supplier_order: String,
    /// The contract order (JSON text).
    pub contract_order: String,
    /// The exchanges (JSON text).
    pub exchanges: String,
    /// When it was recorded, RFC 3339.
    pub created_at: String,
}

impl Store {
    /// Stores a tape and forgets the binding's tapes beyond the last
    /// [`TAPES_KEPT`].
    pub async fn insert_dispatch_tape(&self, tape: NewTape<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dispatch_tapes (binding, shop, reference, supplier_order, contract_order, exchanges, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tape.binding)
        .bind(tape.shop)
        .bind(tape.reference)
        .bind(tape.supplier_order)
        .bind(tape.contract_order)
        .bind(tape.exchanges)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM dispatch_tapes WHERE binding = $1 AND id NOT IN \
             (SELECT id FROM dispatch_tapes WHERE binding = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(tape.binding)
        .bind(TAPES_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The binding's last `limit` tapes, newest first.
    pub async fn dispatch_tapes(
        &self,
        binding: &str,
        limit: i64,
    ) -> Result<Vec<DispatchTape>, StoreError> {
        let rows = sqlx::query(
            "SELECT binding, shop, reference, supplier_order, contract_order, exchanges, created_at \
             FROM dispatch_tapes WHERE binding = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(binding)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DispatchTape {
                    binding: r.try_get(0)?,
                    shop: r.try_get(1)?,
                    reference: r.try_get(2)?,
                    supplier_order: r.try_get(3)?,
                    contract_order: r.try_get(4)?,
                    exchanges: r.try_get(5)?,
                    created_at: rfc3339(r.try_get(6)?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_keeps_its_last_tapes_only() -> Result<(), Box<dyn std::error::Error>> {
        let path = std::env::temp_dir().join(format!("shopbridge-tapes-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let result = runtime.block_on(async {
            let store = Store::connect(&format!("sqlite://{}", path.display())).await?;
            for (binding, n) in [("a", TAPES_KEPT + 3), ("b", 2)] {
                for i in 0..n {
                    let reference = format!("R-{i}");
                    store
                        .insert_dispatch_tape(NewTape {
                            binding,
                            shop: "demo",
                            reference: &reference,
                            supplier_order: &reference,
                            contract_order: "{}",
                            exchanges: "[]",
                        })
                        .await?;
                }
            }
            let a = store.dispatch_tapes("a", 1000).await?;
            assert_eq!(a.len() as i64, TAPES_KEPT);
            assert_eq!(a[0].reference, format!("R-{}", TAPES_KEPT + 2));
            assert_eq!(a[a.len() - 1].reference, "R-3");
            let b = store.dispatch_tapes("b", 1).await?;
            assert_eq!(b.len(), 1);
            assert_eq!(b[0].reference, "R-1");
            Ok::<_, StoreError>(())
        });
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        Ok(result?)
    }
}

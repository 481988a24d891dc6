//! The catalog's rows: products by (binding, SKU) with a content hash, what
//! the rules made of them, their place in the shop's change feed, and the
//! sync runs with their counts and progress.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use futures_util::TryStreamExt;

use super::events::rfc3339;
use super::{JobKind, Store, StoreError, corrupt, jobs, now_ms};
use crate::catalog::{Known, KnownProducts, sku_key};

/// A product to write: new or changed.
#[derive(Debug, Clone)]
pub struct CatalogWrite {
    /// Supplier SKU.
    pub sku: String,
    /// Content hash of (product, shop view).
    pub hash: i64,
    /// The product as the plugin gave it (JSON).
    pub data: String,
    /// What the rules made of it (JSON).
    pub shop_data: String,
    /// Fields that changed (JSON array), `["*"]` for a new product.
    pub changed: String,
}

/// A sync run as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncRun {
    /// Its id.
    pub id: i64,
    /// The binding.
    pub binding: String,
    /// `full` or `prices`.
    pub kind: String,
    /// `queued`, `running`, `cancelling`, `succeeded`, `unchanged` (the
    /// server said 304), `failed`, `cancelled`.
    pub state: String,
    /// New products.
    pub created: i64,
    /// Changed products.
    pub updated: i64,
    /// Products the feed gave as they were (no write).
    pub unchanged: i64,
    /// Products missing from a full feed (marked, not deleted).
    pub removed: i64,
    /// Records the plugin rejected.
    pub rejected: i64,
    /// Bytes read.
    pub bytes: i64,
    /// The feed's size, when its server said it.
    pub total_bytes: Option<i64>,
    /// How many updates touched each field.
    pub updated_fields: Option<Value>,
    /// The first rejections, with their reasons.
    pub rejections: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The plugin's peak linear memory while parsing the feed.
    pub guest_memory_peak_bytes: Option<i64>,
    /// When it was asked for.
    pub requested_at: String,
    /// When it started.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
}

/// Counts of a run, written as progress and at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// New.
    pub created: i64,
    /// Changed.
    pub updated: i64,
    /// As they were.
    pub unchanged: i64,
    /// Missing from a full feed.
    pub removed: i64,
    /// Rejected by the plugin.
    pub rejected: i64,
    /// Bytes read.
    pub bytes: i64,
    /// The feed's size.
    pub total_bytes: Option<i64>,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct SyncEnd {
    /// The final state.
    pub state: &'static str,
    /// The counts.
    pub counts: SyncCounts,
    /// Updates per field (JSON).
    pub updated_fields: Option<Value>,
    /// First rejections (JSON).
    pub rejections: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// The plugin's peak linear memory while parsing, when it parsed.
    pub guest_memory_peak_bytes: Option<i64>,
    /// Validators of what was fetched.
    pub etag: Option<String>,
    /// Validators of what was fetched.
    pub last_modified: Option<String>,
}

/// One entry of the shop's catalog change feed.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogChange {
    /// Cursor position.
    pub seq: i64,
    /// The binding (supplier).
    pub binding: String,
    /// Supplier SKU.
    pub sku: String,
    /// Gone from the supplier's feed.
    pub removed: bool,
    /// What changed last: field names, `*` when new.
    pub changed: Value,
    /// What the shop applies: price, availability, category.
    pub shop: Value,
    /// The supplier's product.
    pub product: Value,
    /// When it last changed.
    pub updated_at: String,
}

/// A page of changes.
#[derive(Debug, Clone, Serialize)]
pub struct ChangePage {
    /// Oldest first.
    pub changes: Vec<CatalogChange>,
    /// Pass as `since` for what follows.
    pub next: i64,
}

const RUN_COLUMNS: &str = "id, binding, kind, state, created, updated, unchanged, removed, rejected, bytes, \
     total_bytes, updated_fields, rejections, error, requested_at, started_at, finished_at, guest_memory_peak";

fn run_from_row(row: &sqlx::any::AnyRow) -> Result<SyncRun, StoreError> {
    let json = |text: Option<String>| -> Result<Option<Value>, StoreError> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt("sync run", e)))
            .transpose()
    };
    Ok(SyncRun {
        id: row.try_get(0)?,
        binding: row.try_get(1)?,
        kind: row.try_get(2)?,
        state: row.try_get(3)?,
        created: row.try_get(4)?,
        updated: row.try_get(5)?,
        unchanged: row.try_get(6)?,
        removed: row.try_get(7)?,
        rejected: row.try_get(8)?,
        bytes: row.try_get(9)?,
        total_bytes: row.try_get(10)?,
        updated_fields: json(row.try_get(11)?)?,
        rejections: json(row.try_get(12)?)?,
        error: row.try_get(13)?,
        requested_at: rfc3339(row.try_get(14)?),
        started_at: row.try_get::<Option<i64>, _>(15)?.map(rfc3339),
        finished_at: row.try_get::<Option<i64>, _>(16)?.map(rfc3339),
        guest_memory_peak_bytes: row.try_get(17)?,
    })
}

/// Takes `count` numbers of `shop`'s catalog feed; returns the first.
async fn take_seqs(conn: &mut AnyConnection, shop: &str, count: i64) -> Result<i64, sqlx::Error> {
    let last: i64 = sqlx::query(
        "INSERT INTO catalog_counters (shop, last) VALUES ($1, $2) \
         ON CONFLICT (shop) DO UPDATE SET last = catalog_counters.last + $2 RETURNING last",
    )
    .bind(shop)
    .bind(count)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    Ok(last - count + 1)
}

impl Store {
    /// Queues a sync of `binding` and its job, unless one is already queued
    /// or running: then `Err(existing run id)`.
    pub async fn request_sync(
        &self,
        binding: &str,
        kind: &str,
    ) -> Result<Result<i64, i64>, StoreError> {
        self.new_sync(binding, kind, true).await
    }

    /// Records a sync that this process runs itself, without a job (the
    /// CLI); the same one-at-a-time rule.
    pub async fn request_inline_sync(
        &self,
        binding: &str,
        kind: &str,
    ) -> Result<Result<i64, i64>, StoreError> {
        self.new_sync(binding, kind, false).await
    }

    async fn new_sync(
        &self,
        binding: &str,
        kind: &str,
        as_job: bool,
    ) -> Result<Result<i64, i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(
            "SELECT id FROM sync_runs WHERE binding = $1 AND state IN ('queued', 'running', 'cancelling')",
        )
        .bind(binding)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            return Ok(Err(row.try_get(0)?));
        }
        let now = now_ms();
        let id: i64 = sqlx::query(
            "INSERT INTO sync_runs (binding, kind, state, requested_at) VALUES ($1, $2, 'queued', $3) RETURNING id",
        )
        .bind(binding)
        .bind(kind)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if as_job {
            jobs::enqueue(&mut tx, JobKind::Sync, &id.to_string(), now).await?;
        }
        tx.commit().await?;
        self.intake.jobs_ready.notify_waiters();
        Ok(Ok(id))
    }

    /// A sync run.
    pub async fn sync_run(&self, id: i64) -> Result<Option<SyncRun>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// A run of `binding`: looked up with its owner, so that another
    /// binding's run (another shop's) is not found.
    pub async fn sync_run_of(&self, binding: &str, id: i64) -> Result<Option<SyncRun>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1 AND binding = $2"
        ))
        .bind(id)
        .bind(binding)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Cancels a run of `binding`: a queued one is cancelled, a running one
    /// asked to stop (`cancelling`). The run is named with its owner in the
    /// same statement. Returns the new state, or `None` when `binding` has
    /// no such run queued or running.
    pub async fn cancel_sync(
        &self,
        binding: &str,
        id: i64,
    ) -> Result<Option<&'static str>, StoreError> {
        for (from, to) in [("queued", "cancelled"), ("running", "cancelling")] {
            let done = sqlx::query(
                "UPDATE sync_runs SET state = $1 WHERE id = $2 AND binding = $3 AND state = $4",
            )
            .bind(to)
            .bind(id)
            .bind(binding)
            .bind(from)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                return Ok(Some(to));
            }
        }
        Ok(None)
    }

    /// The validators of the binding's last successful full download.
    pub async fn last_validators(
        &self,
        binding: &str,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let row = sqlx::query(
            "SELECT etag, last_modified FROM sync_runs WHERE binding = $1 AND state IN ('succeeded', 'unchanged') \
             AND (etag IS NOT NULL OR last_modified IS NOT NULL) ORDER BY id DESC LIMIT 1",
        )
        .bind(binding)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => (row.try_get(0)?, row.try_get(1)?),
            None => (None, None),
        })
    }

    /// Moves a run from `from` to `to`; false if it was not in `from`.
    pub async fn set_sync_state(
        &self,
        id: i64,
        from: &[&str],
        to: &str,
    ) -> Result<bool, StoreError> {
        let states = from
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let now = now_ms();
        let done = sqlx::query(&format!(
            "UPDATE sync_runs SET state = $1, started_at = CASE WHEN $1 = 'running' THEN $2 ELSE started_at END \
             WHERE id = $3 AND state IN ({states})"
        ))
        .bind(to)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a run's counts while it runs; returns whether a cancel was asked.
    pub async fn sync_progress(&self, id: i64, counts: &SyncCounts) -> Result<bool, StoreError> {
        sqlx::query(
            "UPDATE sync_runs SET created = $1, updated = $2, unchanged = $3, removed = $4, rejected = $5, \
             bytes = $6, total_bytes = $7 WHERE id = $8",
        )
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.removed)
        .bind(counts.rejected)
        .bind(counts.bytes)
        .bind(counts.total_bytes)
        .bind(id)
        .execute(&self.pool)
        .await?;
        let state: Option<String> = sqlx::query("SELECT state FROM sync_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        Ok(state.as_deref() == Some("cancelling"))
    }

    /// Ends a run.
    pub async fn end_sync(&self, id: i64, end: &SyncEnd) -> Result<(), StoreError> {
        let c = &end.counts;
        sqlx::query(
            "UPDATE sync_runs SET state = $1, created = $2, updated = $3, unchanged = $4, removed = $5, rejected = $6, \
             bytes = $7, total_bytes = $8, updated_fields = $9, rejections = $10, error = $11, etag = $12, \
             last_modified = $13, finished_at = $14, guest_memory_peak = $15 WHERE id = $16",
        )
        .bind(end.state)
        .bind(c.created)
        .bind(c.updated)
        .bind(c.unchanged)
        .bind(c.removed)
        .bind(c.rejected)
        .bind(c.bytes)
        .bind(c.total_bytes)
        .bind(end.updated_fields.as_ref().map(Value::to_string))
        .bind(end.rejections.as_ref().map(Value::to_string))
        .bind(end.error.clone())
        .bind(end.etag.clone())
        .bind(end.last_modified.clone())
        .bind(now_ms())
        .bind(end.guest_memory_peak_bytes)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Runs left queued, running or cancelling by a process that died
    /// (SQLite at start): marked failed, their jobs dropped.
    pub async fn fail_interrupted_syncs(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sync_runs SET state = 'failed', error = 'interrupted: the server stopped during the sync', \
             finished_at = $1 WHERE state IN ('running', 'cancelling')",
        )
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM jobs WHERE kind = 'sync' AND target NOT IN (SELECT CAST(id AS TEXT) FROM sync_runs WHERE state = 'queued')",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// What a sync needs to know of a binding's stored products: their
    /// content hashes, by [`SkuKey`]. Rows are streamed, never all held.
    pub async fn known_products(&self, binding: &str) -> Result<KnownProducts, StoreError> {
        let mut rows =
            sqlx::query("SELECT sku, hash, removed FROM catalog_products WHERE binding = $1")
                .bind(binding)
                .fetch(&self.pool);
        let mut known = KnownProducts::new();
        while let Some(row) = rows.try_next().await? {
            let sku: &str = row.try_get(0)?;
            let removed: i64 = row.try_get(2)?;
            known.insert(
                sku_key(sku),
                Known {
                    hash: row.try_get(1)?,
                    removed: removed != 0,
                    seen: false,
                },
            );
        }
        Ok(known)
    }

    /// The SKUs of a binding's live (not removed) products for which
    /// `gone` is true, read by streaming.
    pub async fn live_skus_where(
        &self,
        binding: &str,
        gone: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let mut rows =
            sqlx::query("SELECT sku FROM catalog_products WHERE binding = $1 AND removed = 0")
                .bind(binding)
                .fetch(&self.pool);
        let mut skus = Vec::new();
        while let Some(row) = rows.try_next().await? {
            let sku: &str = row.try_get(0)?;
            if gone(sku) {
                skus.push(sku.to_owned());
            }
        }
        Ok(skus)
    }

    /// The stored products of these SKUs (to tell which fields changed).
    pub async fn catalog_data(
        &self,
        binding: &str,
        skus: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in skus.chunks(200) {
            let placeholders = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT sku, data FROM catalog_products WHERE binding = $1 AND sku IN ({placeholders})"
            );
            let mut query = sqlx::query(&sql).bind(binding);
            for sku in chunk {
                query = query.bind(*sku);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        Ok(found)
    }

    /// Writes new and changed products in one transaction, each at a new
    /// position of the shop's change feed.
    pub async fn write_catalog(
        &self,
        shop: &str,
        binding: &str,
        writes: &[CatalogWrite],
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let first = take_seqs(&mut tx, shop, writes.len() as i64).await?;
        let now = now_ms();
        // Many rows per statement: the per-statement cost, not the data,
        // dominated one-row inserts.
        const ROWS: usize = 64;
        for (n, chunk) in writes.chunks(ROWS).enumerate() {
            let values = (0..chunk.len())
                .map(|i| {
                    let p = i * 8;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, ${}, $1, $1)",
                        p + 2,
                        p + 3,
                        p + 4,
                        p + 5,
                        p + 6,
                        p + 7,
                        p + 8,
                        p + 9
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO catalog_products (binding, sku, shop, hash, data, shop_data, changed, removed, seq, created_at, updated_at) \
                 VALUES {values} ON CONFLICT (binding, sku) DO UPDATE SET hash = excluded.hash, data = excluded.data, \
                 shop_data = excluded.shop_data, changed = excluded.changed, removed = 0, seq = excluded.seq, \
                 updated_at = excluded.updated_at"
            );
            let mut query = sqlx::query(&sql).bind(now);
            for (i, w) in chunk.iter().enumerate() {
                query = query
                    .bind(binding)
                    .bind(&w.sku)
                    .bind(shop)
                    .bind(w.hash)
                    .bind(&w.data)
                    .bind(&w.shop_data)
                    .bind(&w.changed)
                    .bind(first + (n * ROWS + i) as i64);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks products gone from a full feed.
    pub async fn mark_removed(
        &self,
        shop: &str,
        binding: &str,
        skus: &[String],
    ) -> Result<(), StoreError> {
        for chunk in skus.chunks(500) {
            let mut tx = self.begin_write().await?;
            let first = take_seqs(&mut tx, shop, chunk.len() as i64).await?;
            let now = now_ms();
            for (i, sku) in chunk.iter().enumerate() {
                sqlx::query(
                    "UPDATE catalog_products SET removed = 1, changed = '[\"removed\"]', seq = $1, updated_at = $2 \
                     WHERE binding = $3 AND sku = $4",
                )
                .bind(first + i as i64)
                .bind(now)
                .bind(binding)
                .bind(sku)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// The shop's catalog changes after `since`.
    pub async fn catalog_changes(
        &self,
        shop: &str,
        since: i64,
        limit: i64,
    ) -> Result<ChangePage, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, binding, sku, removed, changed, shop_data, data, updated_at FROM catalog_products \
             WHERE shop = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(shop)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let changes = rows
            .iter()
            .map(change_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next = changes.last().map_or(since, |c| c.seq);
        Ok(ChangePage { changes, next })
    }

    /// Which binding's catalog lists each of these SKUs (live products),
    /// with the wholesale unit cost its feed gives: the binding that listed
    /// it first, should two feeds list it (the sync refuses a second one,
    /// see [`Store::listed_by_others`]).
    pub async fn catalog_owners(
        &self,
        shop: &str,
        skus: &[&str],
    ) -> Result<HashMap<String, (String, Option<i64>)>, StoreError> {
        let mut owners = HashMap::new();
        for chunk in skus.chunks(200) {
            let placeholders = (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT sku, binding, data FROM catalog_products WHERE shop = $1 AND removed = 0 \
                 AND sku IN ({placeholders}) ORDER BY created_at, seq"
            );
            let mut query = sqlx::query(&sql).bind(shop);
            for sku in chunk {
                query = query.bind(*sku);
            }
            for row in query.fetch_all(&self.pool).await? {
                let data: String = row.try_get(2)?;
                let cost = serde_json::from_str::<Value>(&data)
                    .ok()
                    .and_then(|p| p["wholesale_price"]["amount_minor"].as_i64());
                owners
                    .entry(row.try_get(0)?)
                    .or_insert((row.try_get(1)?, cost));
            }
        }
        Ok(owners)
    }

    /// Which of these SKUs another binding of `shop` lists (live), and
    /// which binding: a feed does not take them over.
    pub async fn listed_by_others(
        &self,
        shop: &str,
        binding: &str,
        skus: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut listed = HashMap::new();
        for chunk in skus.chunks(200) {
            let placeholders = (0..chunk.len())
                .map(|i| format!("${}", i + 3))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT sku, binding FROM catalog_products WHERE shop = $1 AND binding <> $2 \
                 AND removed = 0 AND sku IN ({placeholders}) ORDER BY created_at, seq"
            );
            let mut query = sqlx::query(&sql).bind(shop).bind(binding);
            for sku in chunk {
                query = query.bind(*sku);
            }
            for row in query.fetch_all(&self.pool).await? {
                listed.entry(row.try_get(0)?).or_insert(row.try_get(1)?);
            }
        }
        Ok(listed)
    }

    /// One product of the shop's catalog, by supplier SKU.
    pub async fn catalog_product(
        &self,
        shop: &str,
        sku: &str,
    ) -> Result<Option<CatalogChange>, StoreError> {
        let row = sqlx::query(
            "SELECT seq, binding, sku, removed, changed, shop_data, data, updated_at FROM catalog_products \
             WHERE shop = $1 AND sku = $2 ORDER BY removed, seq DESC LIMIT 1",
        )
        .bind(shop)
        .bind(sku)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(change_from_row).transpose()
    }
}

fn change_from_row(row: &sqlx::any::AnyRow) -> Result<CatalogChange, StoreError> {
    let parse = |text: String, what: &str| {
        serde_json::from_str::<Value>(&text).map_err(|e| corrupt(what, e))
    };
    let removed: i64 = row.try_get(3)?;
    Ok(CatalogChange {
        seq: row.try_get(0)?,
        binding: row.try_get(1)?,
        sku: row.try_get(2)?,
        removed: removed != 0,
        changed: parse(row.try_get(4)?, "changed")?,
        shop: parse(row.try_get(5)?, "shop data")?,
        product: parse(row.try_get(6)?, "product")?,
        updated_at: rfc3339(row.try_get(7)?),
    })
}

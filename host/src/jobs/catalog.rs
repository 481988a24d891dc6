//! Catalog jobs: a sync run (fetch the binding's feed, parse it in the
//! plugin, diff against what is stored, write only what changed, mark what
//! disappeared from a full feed), and the schedules that start them.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Workers;
use crate::catalog::rules::Rules;
use crate::catalog::{Known, changed_fields, content_hash, schedule, sku_key};
use crate::feed::{FeedStream, Fetched, Validators};
use crate::registry::Binding;
use crate::runtime::bindings::shopbridge::connector::types::{FeedRecord, Rejection};
use crate::store::{CatalogWrite, Job, Store, StoreError, SyncCounts, SyncEnd, now_ms};

/// Products written per transaction.
const WRITE_BATCH: usize = 4000;
/// Products the host refuses (a SKU given twice by one feed, a price beyond
/// 64 bits) that a run keeps with its rejections: as
/// many as the plugin's own rejections kept, enough to fix a feed by.
const MAX_DUPLICATES_KEPT: usize = 100;
/// How often a running sync reports progress, looks for a cancel request
/// and extends its job's lease.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Bytes pushed into the plugin at once: larger than the CLI's default,
/// fewer boundary crossings for a long feed.
const SYNC_CHUNK_BYTES: usize = 256 << 10;

impl Workers {
    /// Makes sure each of the binding's sync schedules has its job.
    pub(super) async fn ensure_schedules(&self, binding: &Binding) -> Result<(), StoreError> {
        let Some(catalog) = &binding.config.catalog else {
            return Ok(());
        };
        for (kind, cron) in [
            ("full", &catalog.full_sync),
            ("prices", &catalog.prices_sync),
        ] {
            let Some(cron) = cron else { continue };
            match schedule::next_after(cron, now_ms()) {
                Ok(next) => {
                    self.store
                        .ensure_recurring_job(
                            crate::store::JobKind::Schedule,
                            &format!("{}/{kind}", binding.config.id),
                            next,
                        )
                        .await?
                }
                Err(e) => {
                    tracing::warn!(binding = %binding.config.id, error = %e, "sync schedule ignored")
                }
            }
        }
        Ok(())
    }

    /// A schedule is due: start its sync (unless one is running) and wait
    /// for the next time.
    pub(super) async fn schedule(&self, job: &Job) -> Result<(), StoreError> {
        let Some((binding_id, kind)) = job.target.split_once('/') else {
            return self.store.finish_job(job).await;
        };
        let cron = self
            .registry
            .binding(binding_id)
            .and_then(|b| b.config.catalog.as_ref())
            .and_then(|c| {
                if kind == "full" {
                    c.full_sync.clone()
                } else {
                    c.prices_sync.clone()
                }
            });
        let Some(cron) = cron else {
            // The schedule was removed from the configuration.
            return self.store.finish_job(job).await;
        };
        match self.store.request_sync(binding_id, kind).await? {
            Ok(run) => tracing::info!(binding = binding_id, kind, run, "scheduled sync started"),
            Err(running) => tracing::info!(
                binding = binding_id,
                kind,
                running,
                "scheduled sync skipped: one is running"
            ),
        }
        match schedule::next_after(&cron, now_ms()) {
            Ok(next) => self.store.reschedule_job(job, next).await,
            Err(_) => self.store.finish_job(job).await,
        }
    }

    pub(super) async fn sync(&self, job: &Job) -> Result<(), StoreError> {
        let id: i64 = job
            .target
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("sync job target '{}'", job.target)))?;
        self.sync_run(id, Some(job)).await?;
        self.store.finish_job(job).await
    }

    /// Runs sync run `id` here and now (the CLI's `catalog sync`), not as a job.
    pub async fn sync_inline(&self, id: i64) -> Result<(), StoreError> {
        self.sync_run(id, None).await
    }

    async fn sync_run(&self, id: i64, job: Option<&Job>) -> Result<(), StoreError> {
        let Some(run) = self.store.sync_run(id).await? else {
            return Ok(());
        };
        if !self
            .store
            .set_sync_state(id, &["queued"], "running")
            .await?
        {
            if matches!(run.state.as_str(), "running" | "cancelling") {
                // Its worker died mid-sync (the lease ran out): a sync is
                // not resumed but failed, and the next one runs normally.
                self.store
                    .end_sync(
                        id,
                        &failed(
                            SyncCounts::default(),
                            "interrupted: the worker running it stopped".into(),
                        ),
                    )
                    .await?;
            }
            return Ok(());
        }
        tracing::info!(run = id, binding = %run.binding, kind = %run.kind, "sync started");
        let end = match self.registry.binding(&run.binding) {
            Some(binding) if binding.config.catalog.is_some() => {
                self.run_sync(job, id, binding, run.kind == "full").await?
            }
            _ => failed(
                SyncCounts::default(),
                format!("binding '{}' has no catalog configured", run.binding),
            ),
        };
        tracing::info!(run = id, state = end.state, counts = ?end.counts, error = ?end.error, "sync ended");
        self.store.end_sync(id, &end).await
    }

    async fn run_sync(
        &self,
        job: Option<&Job>,
        id: i64,
        binding: &Binding,
        full: bool,
    ) -> Result<SyncEnd, StoreError> {
        let config = &binding.config;
        let Some(catalog) = &config.catalog else {
            return Ok(failed(
                SyncCounts::default(),
                "no catalog configured".into(),
            ));
        };
        let rules = Rules {
            pricing: catalog.pricing.clone(),
            availability: catalog.availability,
            categories: catalog.categories.clone(),
        };
        let (etag, last_modified) = self.store.last_validators(&config.id).await?;
        let conditional = Validators {
            etag,
            last_modified,
        };
        let source = catalog.source();
        let opened = FeedStream::open(
            self.registry.runtime(),
            &binding.plugin(),
            &binding.options,
            &source,
            SYNC_CHUNK_BYTES,
            &conditional,
            Some(catalog.max_feed_bytes),
        )
        .await;
        let mut stream = match opened {
            Ok(Fetched::NotModified) => {
                return Ok(SyncEnd {
                    state: "unchanged",
                    counts: SyncCounts::default(),
                    updated_fields: None,
                    rejections: None,
                    error: None,
                    guest_memory_peak_bytes: None,
                    etag: conditional.etag,
                    last_modified: conditional.last_modified,
                });
            }
            Ok(Fetched::Feed(stream)) => stream,
            Err(e) => return Ok(failed(SyncCounts::default(), e.to_string())),
        };

        let mut known = self.store.known_products(&config.id).await?;
        let mut duplicates: Vec<Rejection> = Vec::new();
        let mut counts = SyncCounts::default();
        let mut creates: Vec<CatalogWrite> = Vec::new();
        let mut updates: Vec<CatalogWrite> = Vec::new();
        let (to_writer, batches) = mpsc::channel::<Batch>(2);
        let writing = tokio::spawn(writer(
            self.store.clone(),
            config.shop.clone(),
            config.id.clone(),
            batches,
        ));
        // Hands a batch over; false if the writer has stopped (on an error).
        let send = async |creates: &mut Vec<CatalogWrite>, updates: &mut Vec<CatalogWrite>| {
            if creates.is_empty() && updates.is_empty() {
                return true;
            }
            to_writer
                .send((std::mem::take(creates), std::mem::take(updates)))
                .await
                .is_ok()
        };
        let mut last_progress = Instant::now();
        loop {
            let batch = match stream.next_batch().await {
                Ok(Some(batch)) => batch,
                Ok(None) => break,
                Err(e) => {
                    send(&mut creates, &mut updates).await;
                    drop(to_writer);
                    join(writing).await?;
                    return Ok(failed(counts, e.to_string()));
                }
            };
            // SKUs new to this binding that another binding of the shop
            // lists already: the first to list a SKU keeps it.
            let new: Vec<&str> = batch
                .iter()
                .filter_map(|r| match r {
                    FeedRecord::Product(p) if !known.contains_key(&sku_key(&p.sku)) => {
                        Some(p.sku.as_str())
                    }
                    _ => None,
                })
                .collect();
            let taken = if new.is_empty() {
                HashMap::new()
            } else {
                self.store
                    .listed_by_others(&config.shop, &config.id, &new)
                    .await?
            };
            for record in batch {
                let product = match record {
                    FeedRecord::Product(product) => product,
                    FeedRecord::Rejected(_) => {
                        counts.rejected += 1;
                        continue;
                    }
                };
                // Who sells a SKU: the configuration first, then the feed
                // that listed it first. A feed takes no SKU over.
                let owner = match self.registry.configured_owner(&config.shop, &product.sku) {
                    Some(owner) if owner.config.id == config.id => None,
                    Some(owner) => Some((owner.config.id.as_str(), "its configuration claims it")),
                    None => taken
                        .get(&product.sku)
                        .map(|owner| (owner.as_str(), "its feed listed it first")),
                };
                if let Some((owner, why)) = owner {
                    counts.rejected += 1;
                    if duplicates.len() < MAX_DUPLICATES_KEPT {
                        duplicates.push(Rejection {
                            sku: Some(product.sku.clone()),
                            position: None,
                            reason: format!(
                                "binding '{owner}' of this shop sells this SKU ({why}); this feed's listing is ignored"
                            ),
                        });
                    }
                    continue;
                }
                let view = rules.apply(&product);
                // A price beyond 64 bits of minor units is refused, never
                // stored as a wrong number.
                if product.wholesale_price.is_some() && view.retail_price.is_none() {
                    counts.rejected += 1;
                    if duplicates.len() < MAX_DUPLICATES_KEPT {
                        duplicates.push(Rejection {
                            sku: Some(product.sku.clone()),
                            position: None,
                            reason: "the pricing rules' retail price does not fit in 64 bits of minor units".into(),
                        });
                    }
                    continue;
                }
                let data = serde_json::to_string(&product).unwrap_or_default();
                let view = serde_json::to_string(&view).unwrap_or_default();
                let hash = content_hash(&data, &view);
                let write = CatalogWrite {
                    sku: product.sku.clone(),
                    hash,
                    data,
                    shop_data: view,
                    changed: String::new(),
                };
                match known.entry(sku_key(&write.sku)) {
                    // A SKU the feed gave already: the first one stands
                    // (one statement cannot write a row twice).
                    Entry::Occupied(entry) if entry.get().seen => {
                        counts.rejected += 1;
                        if duplicates.len() < MAX_DUPLICATES_KEPT {
                            duplicates.push(Rejection {
                                sku: Some(write.sku),
                                position: None,
                                reason: "the feed gives this SKU again; the first one is kept"
                                    .into(),
                            });
                        }
                    }
                    Entry::Occupied(mut entry) => {
                        let stored = entry.get_mut();
                        stored.seen = true;
                        if stored.hash == hash && !stored.removed {
                            counts.unchanged += 1;
                        } else {
                            counts.updated += 1;
                            updates.push(write);
                        }
                    }
                    Entry::Vacant(entry) => {
                        entry.insert(Known {
                            hash,
                            removed: false,
                            seen: true,
                        });
                        counts.created += 1;
                        creates.push(write);
                    }
                }
            }
            if creates.len() + updates.len() >= WRITE_BATCH
                && !send(&mut creates, &mut updates).await
            {
                break;
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                let (bytes, total) = stream.progress();
                counts.bytes = bytes as i64;
                counts.total_bytes = total.map(|t| t as i64);
                if let Some(job) = job {
                    self.store.extend_lease(job, self.config.lease).await?;
                }
                if self.store.sync_progress(id, &counts).await? {
                    send(&mut creates, &mut updates).await;
                    drop(to_writer);
                    join(writing).await?;
                    let mut end = failed(counts, "cancelled on request".into());
                    end.state = "cancelled";
                    return Ok(end);
                }
            }
        }
        send(&mut creates, &mut updates).await;
        drop(to_writer);
        let fields = join(writing).await?;
        if full {
            let gone = self
                .store
                .live_skus_where(&config.id, |sku| {
                    known.get(&sku_key(sku)).is_some_and(|k| !k.seen)
                })
                .await?;
            counts.removed = gone.len() as i64;
            self.store
                .mark_removed(&config.shop, &config.id, &gone)
                .await?;
        }
        let summary = stream.summary();
        counts.bytes = summary.bytes as i64;
        counts.total_bytes = stream.progress().1.map(|t| t as i64);
        let validators = stream.validators().clone();
        Ok(SyncEnd {
            state: "succeeded",
            counts,
            updated_fields: Some(json!(fields)),
            rejections: Some({
                let mut rejections = summary.rejections.clone();
                rejections.extend(duplicates);
                serde_json::to_value(&rejections).unwrap_or(Value::Null)
            }),
            error: None,
            guest_memory_peak_bytes: Some(summary.guest_memory_peak_bytes as i64),
            etag: validators.etag,
            last_modified: validators.last_modified,
        })
    }
}

/// A batch for the writer: new products, changed products.
type Batch = (Vec<CatalogWrite>, Vec<CatalogWrite>);

/// Writes batches as they come, while the feed goes on being parsed (the
/// guest on one core, SQLite on the other); returns the updates per field.
async fn writer(
    store: Store,
    shop: String,
    binding: String,
    mut batches: mpsc::Receiver<Batch>,
) -> Result<HashMap<String, i64>, StoreError> {
    let mut fields: HashMap<String, i64> = HashMap::new();
    while let Some((mut creates, mut updates)) = batches.recv().await {
        for write in creates.iter_mut() {
            write.changed = "[\"*\"]".into();
        }
        if !updates.is_empty() {
            let skus: Vec<&str> = updates.iter().map(|w| w.sku.as_str()).collect();
            let old = store.catalog_data(&binding, &skus).await?;
            for write in updates.iter_mut() {
                let new: Value = serde_json::from_str(&write.data).unwrap_or(Value::Null);
                let before = old
                    .get(&write.sku)
                    .and_then(|d| serde_json::from_str::<Value>(d).ok())
                    .unwrap_or(Value::Null);
                let mut changed = changed_fields(&before, &new);
                if changed.is_empty() {
                    // Same product, new rules (or back from removed).
                    changed.push("shop".into());
                }
                for field in &changed {
                    *fields.entry(field.clone()).or_default() += 1;
                }
                write.changed = serde_json::to_string(&changed).unwrap_or_default();
            }
        }
        creates.append(&mut updates);
        store.write_catalog(&shop, &binding, &creates).await?;
    }
    Ok(fields)
}

/// Waits for the writer; its error is the sync's.
async fn join(
    writing: tokio::task::JoinHandle<Result<HashMap<String, i64>, StoreError>>,
) -> Result<HashMap<String, i64>, StoreError> {
    writing
        .await
        .map_err(|e| StoreError::Corrupt(format!("the catalog writer panicked: {e}")))?
}

fn failed(counts: SyncCounts, error: String) -> SyncEnd {
    SyncEnd {
        state: "failed",
        counts,
        updated_fields: None,
        rejections: None,
        error: Some(error),
        guest_memory_peak_bytes: None,
        etag: None,
        last_modified: None,
    }
}

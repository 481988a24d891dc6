//! Orders and supplier orders after intake: what workers read to do their
//! job, the transitions they record (each with its event, in the job's
//! transaction), and what the shop asks for (the order view, payment,
//! cancellation, fixes).

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::events::{self, rfc3339};
use super::jobs::{self, Job};
use super::{JobKind, NewSupplierOrder, Store, StoreError, corrupt, now_ms};

/// Where a supplier order stands, from intake to delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierOrderState {
    /// Waiting for the shop to say the order is paid.
    Held,
    /// A dispatch job is queued or running.
    Queued,
    /// The plugin or supplier found something to fix (see `issues`).
    NeedsAttention,
    /// The supplier has it (it gave a reference).
    Submitted,
    /// The supplier accepted it.
    Accepted,
    /// Being prepared.
    Processing,
    /// Waiting for stock.
    Backordered,
    /// Some parcels left.
    PartlyShipped,
    /// Everything left.
    Shipped,
    /// Delivered.
    Delivered,
    /// The supplier refused it for good.
    Rejected,
    /// Transient failures went on past the retry limit, or a configuration error.
    Failed,
    /// A cancellation is on its way to the supplier.
    Cancelling,
    /// Cancelled.
    Cancelled,
}

impl SupplierOrderState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        use SupplierOrderState::*;
        match self {
            Held => "held",
            Queued => "queued",
            NeedsAttention => "needs_attention",
            Submitted => "submitted",
            Accepted => "accepted",
            Processing => "processing",
            Backordered => "backordered",
            PartlyShipped => "partly_shipped",
            Shipped => "shipped",
            Delivered => "delivered",
            Rejected => "rejected",
            Failed => "failed",
            Cancelling => "cancelling",
            Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        use SupplierOrderState::*;
        Some(match text {
            "held" => Held,
            "queued" => Queued,
            "needs_attention" => NeedsAttention,
            "submitted" => Submitted,
            "accepted" => Accepted,
            "processing" => Processing,
            "backordered" => Backordered,
            "partly_shipped" => PartlyShipped,
            "shipped" => Shipped,
            "delivered" => Delivered,
            "rejected" => Rejected,
            "failed" => Failed,
            "cancelling" => Cancelling,
            "cancelled" => Cancelled,
            _ => return None,
        })
    }

    /// States whose status the supplier may still change (polled).
    pub const OPEN: [SupplierOrderState; 6] = [
        SupplierOrderState::Submitted,
        SupplierOrderState::Accepted,
        SupplierOrderState::Processing,
        SupplierOrderState::Backordered,
        SupplierOrderState::PartlyShipped,
        SupplierOrderState::Shipped,
    ];

    /// Not yet handed to the supplier, and not moving: may be fixed.
    pub fn fixable(self) -> bool {
        use SupplierOrderState::*;
        matches!(self, Held | NeedsAttention | Rejected | Failed | Cancelled)
    }
}

/// What a dispatch or cancel worker needs.
#[derive(Debug, Clone)]
pub struct WorkOrder {
    /// Supplier order row id.
    pub id: i64,
    /// The shop.
    pub shop: String,
    /// The shop's order reference.
    pub reference: String,
    /// The binding.
    pub binding: String,
    /// The key the supplier deduplicates on.
    pub idempotency_key: String,
    /// Where it stands.
    pub state: SupplierOrderState,
    /// Its lines (JSON).
    pub lines: String,
    /// The order as validated at intake, with any fix applied (JSON).
    pub payload: String,
    /// The supplier's reference, once submitted.
    pub supplier_reference: Option<String>,
    /// Whether a dispatch job for it is queued or running.
    pub dispatch_pending: bool,
    /// Why the shop cancels it, when it does.
    pub cancel_reason: Option<String>,
}

/// A change to record on a supplier order.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    /// The new state.
    pub state: Option<SupplierOrderState>,
    /// Only if it is in one of these states now (else nothing changes).
    pub only_from: Vec<SupplierOrderState>,
    /// The supplier's reference.
    pub supplier_reference: Option<String>,
    /// The wholesale cost the supplier gave.
    pub wholesale_total: Option<i64>,
    /// Field issues (JSON), replacing the previous ones (None clears them).
    pub issues: Option<Value>,
    /// The last error (None clears it).
    pub error: Option<String>,
    /// Latest shipments (JSON), replacing the previous ones.
    pub tracking: Option<Value>,
    /// A status history entry: (state name, detail).
    pub history: Option<(String, Value)>,
    /// The event to publish: (kind, data).
    pub event: Option<(String, Value)>,
    /// Queue a job for this supplier order.
    pub then: Option<JobKind>,
}

/// An order as the shop sees it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderRecord {
    /// The shop's reference.
    pub reference: String,
    /// The order as validated (and fixed).
    pub order: Value,
    /// Whether it is paid.
    pub paid: bool,
    /// Currency of the retail total.
    pub currency: String,
    /// What the customer paid for the lines, minor units.
    pub retail_total: i64,
    /// When it was received.
    pub received_at: String,
    /// One per supplier.
    pub supplier_orders: Vec<SupplierOrderRecord>,
}

/// One supplier's share of an order, as the shop sees it.
#[derive(Debug, Clone, Serialize)]
pub struct SupplierOrderRecord {
    /// Stable id (the idempotency key sent to the supplier).
    pub id: String,
    /// Row id.
    #[serde(skip)]
    pub row_id: i64,
    /// The binding (which supplier).
    pub binding: String,
    /// Where it stands.
    pub state: SupplierOrderState,
    /// The lines.
    pub lines: Value,
    /// What is owed to the supplier, minor units, when known.
    pub wholesale_total: Option<i64>,
    /// Currency of `wholesale_total`.
    pub wholesale_currency: String,
    /// The supplier's reference.
    pub supplier_reference: Option<String>,
    /// What to fix, when it needs attention.
    pub issues: Option<Value>,
    /// The last error.
    pub last_error: Option<String>,
    /// Shipments (carrier, tracking numbers and URL).
    pub tracking: Option<Value>,
    /// What the supplier said, oldest first.
    pub history: Vec<StatusEntry>,
}

/// One entry of a supplier order's status history.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEntry {
    /// The state reported.
    pub state: String,
    /// Its details (shipments, dates, reasons, invoice).
    pub detail: Value,
    /// When it was recorded.
    pub at: String,
}

/// A supplier order whose status is polled.
#[derive(Debug, Clone)]
pub struct OpenSupplierOrder {
    /// Row id.
    pub id: i64,
    /// The supplier's reference.
    pub supplier_reference: String,
    /// Where it stands.
    pub state: SupplierOrderState,
    /// The details of its latest status.
    pub last_detail: Option<Value>,
}

/// Why a shop's request about an existing order cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such order.
    NotFound,
    /// The order's state does not allow it (says why).
    Conflict(String),
}

/// The key the supplier deduplicates on: stable across retries and
/// crashes, new when the shop fixes the supplier order.
pub fn idempotency_key(shop: &str, reference: &str, binding: &str, revision: i64) -> String {
    let mut hash = Sha256::new();
    for part in [shop, reference, binding] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(revision.to_le_bytes());
    let digest = hash.finalize();
    format!("SB{}", hex::encode(&digest[..10]).to_uppercase())
}

const WORK_COLUMNS: &str = "so.id, o.shop, o.reference, so.binding, so.idempotency_key, so.state, so.lines, \
     o.payload, so.supplier_reference, so.cancel_reason, \
     (SELECT COUNT(*) FROM jobs j WHERE j.kind = 'dispatch' AND j.target = CAST(so.id AS TEXT) AND j.dead = 0)";

fn state_of(text: &str) -> Result<SupplierOrderState, StoreError> {
    SupplierOrderState::parse(text).ok_or_else(|| corrupt("supplier order state", text))
}

impl Store {
    /// A supplier order with what a worker needs to act on it.
    pub async fn work_order(&self, id: i64) -> Result<Option<WorkOrder>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {WORK_COLUMNS} FROM supplier_orders so JOIN orders o ON o.id = so.order_id WHERE so.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get(5)?;
        let pending: i64 = row.try_get(10)?;
        Ok(Some(WorkOrder {
            id: row.try_get(0)?,
            shop: row.try_get(1)?,
            reference: row.try_get(2)?,
            binding: row.try_get(3)?,
            idempotency_key: row.try_get(4)?,
            state: state_of(&state)?,
            lines: row.try_get(6)?,
            payload: row.try_get(7)?,
            supplier_reference: row.try_get(8)?,
            cancel_reason: row.try_get(9)?,
            dispatch_pending: pending > 0,
        }))
    }

    /// Records a change on a supplier order and, when `job` is given,
    /// deletes that job, in one transaction. False when nothing changed
    /// (the order moved on meanwhile, or the job's lease was lost).
    pub async fn transition(
        &self,
        job: Option<&Job>,
        work: &WorkOrder,
        change: Transition,
        webhook: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        if let Some(job) = job
            && !jobs::finish(&mut tx, job).await?
        {
            tracing::warn!(job = job.id, "lease lost before the outcome was recorded");
            return Ok(false);
        }
        let applied = apply(&mut tx, work, &change, webhook).await?;
        if applied || job.is_some() {
            tx.commit().await?;
        }
        Ok(applied)
    }

    /// The open supplier orders of `binding` polled longest ago.
    pub async fn open_supplier_orders(
        &self,
        binding: &str,
        limit: u32,
    ) -> Result<Vec<OpenSupplierOrder>, StoreError> {
        let states = SupplierOrderState::OPEN
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT so.id, so.supplier_reference, so.state, \
             (SELECT h.detail FROM status_history h WHERE h.supplier_order_id = so.id ORDER BY h.id DESC LIMIT 1) \
             FROM supplier_orders so WHERE binding = $1 AND state IN ({states}) AND supplier_reference IS NOT NULL \
             ORDER BY polled_at, id LIMIT $2"
        ))
        .bind(binding)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let state: String = row.try_get(2)?;
                let detail: Option<String> = row.try_get(3)?;
                Ok(OpenSupplierOrder {
                    id: row.try_get(0)?,
                    supplier_reference: row.try_get(1)?,
                    state: state_of(&state)?,
                    last_detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
                })
            })
            .collect()
    }

    /// Notes that these supplier orders were just polled.
    pub async fn mark_polled(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "UPDATE supplier_orders SET polled_at = $1 WHERE id IN ({list})"
        ))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An order with its supplier orders and their histories.
    pub async fn order(
        &self,
        shop: &str,
        reference: &str,
    ) -> Result<Option<OrderRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, payload, paid, currency, retail_total, created_at FROM orders WHERE shop = $1 AND reference = $2",
        )
        .bind(shop)
        .bind(reference)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let order_id: i64 = row.try_get(0)?;
        let payload: String = row.try_get(1)?;
        let paid: i64 = row.try_get(2)?;
        let mut record = OrderRecord {
            reference: reference.to_owned(),
            order: serde_json::from_str(&payload).map_err(|e| corrupt("order payload", e))?,
            paid: paid != 0,
            currency: row.try_get(3)?,
            retail_total: row.try_get(4)?,
            received_at: rfc3339(row.try_get(5)?),
            supplier_orders: Vec::new(),
        };
        let rows = sqlx::query(
            "SELECT id, idempotency_key, binding, state, lines, wholesale_total, wholesale_currency, \
             supplier_reference, issues, last_error, tracking FROM supplier_orders WHERE order_id = $1 ORDER BY id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let state: String = row.try_get(3)?;
            let lines: String = row.try_get(4)?;
            let issues: Option<String> = row.try_get(8)?;
            let tracking: Option<String> = row.try_get(10)?;
            let json = |text: Option<String>, what: &str| -> Result<Option<Value>, StoreError> {
                text.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(what, e)))
                    .transpose()
            };
            record.supplier_orders.push(SupplierOrderRecord {
                row_id: row.try_get(0)?,
                id: row.try_get(1)?,
                binding: row.try_get(2)?,
                state: state_of(&state)?,
                lines: serde_json::from_str(&lines).map_err(|e| corrupt("lines", e))?,
                wholesale_total: row.try_get(5)?,
                wholesale_currency: row.try_get(6)?,
                supplier_reference: row.try_get(7)?,
                issues: json(issues, "issues")?,
                last_error: row.try_get(9)?,
                tracking: json(tracking, "tracking")?,
                history: Vec::new(),
            });
        }
        for so in &mut record.supplier_orders {
            let rows = sqlx::query(
                "SELECT state, detail, at FROM status_history WHERE supplier_order_id = $1 ORDER BY id",
            )
            .bind(so.row_id)
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let detail: String = row.try_get(1)?;
                so.history.push(StatusEntry {
                    state: row.try_get(0)?,
                    detail: serde_json::from_str(&detail).map_err(|e| corrupt("history", e))?,
                    at: rfc3339(row.try_get(2)?),
                });
            }
        }
        Ok(Some(record))
    }

    /// The shop says the order is paid: held supplier orders are queued.
    /// Returns how many were released.
    pub async fn mark_paid(
        &self,
        shop: &str,
        reference: &str,
    ) -> Result<Result<usize, Refusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(order_id) = order_id(&mut tx, shop, reference).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let now = now_ms();
        sqlx::query("UPDATE orders SET paid = 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
        let held =
            sqlx::query("SELECT id FROM supplier_orders WHERE order_id = $1 AND state = 'held'")
                .bind(order_id)
                .fetch_all(&mut *tx)
                .await?;
        for row in &held {
            let id: i64 = row.try_get(0)?;
            sqlx::query(
                "UPDATE supplier_orders SET state = 'queued', updated_at = $1 WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            jobs::enqueue(&mut tx, JobKind::Dispatch, &id.to_string(), now).await?;
        }
        tx.commit().await?;
        if !held.is_empty() {
            self.intake.jobs_ready.notify_waiters();
        }
        Ok(Ok(held.len()))
    }

    /// The shop cancels the order: what was not handed over is cancelled
    /// here, what was is cancelled through the supplier (a cancel job).
    /// Returns, per supplier order id, its state after the request.
    pub async fn request_cancel(
        &self,
        shop: &str,
        reference: &str,
        reason: Option<&str>,
        webhook: bool,
    ) -> Result<Result<Vec<(String, SupplierOrderState)>, Refusal>, StoreError> {
        use SupplierOrderState::*;
        let mut tx = self.begin_write().await?;
        let Some(order_id) = order_id(&mut tx, shop, reference).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let rows = sqlx::query("SELECT id, idempotency_key, state, binding FROM supplier_orders WHERE order_id = $1 ORDER BY id")
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut results = Vec::new();
        let mut queued_jobs = false;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let key: String = row.try_get(1)?;
            let state = state_of(&row.try_get::<String, _>(2)?)?;
            let binding: String = row.try_get(3)?;
            let next = match state {
                Held | NeedsAttention | Rejected | Failed => Cancelled,
                // Queued: a dispatch may be running; the cancel job waits for it.
                Queued | Submitted | Accepted | Processing | Backordered => Cancelling,
                PartlyShipped | Shipped | Delivered | Cancelling | Cancelled => state,
            };
            if next != state {
                let work = WorkOrder {
                    id,
                    shop: shop.to_owned(),
                    reference: reference.to_owned(),
                    binding: binding.clone(),
                    idempotency_key: key.clone(),
                    state,
                    lines: String::new(),
                    payload: String::new(),
                    supplier_reference: None,
                    dispatch_pending: false,
                    cancel_reason: None,
                };
                let detail = serde_json::json!({ "reason": reason });
                let change = Transition {
                    state: Some(next),
                    only_from: vec![state],
                    history: (next == Cancelled).then(|| ("cancelled".to_owned(), detail.clone())),
                    event: Some((
                        format!("supplier_order.{}", next.as_str()),
                        serde_json::json!({ "supplier_order": key, "binding": binding, "state": next, "reason": reason }),
                    )),
                    then: (next == Cancelling).then_some(JobKind::Cancel),
                    ..Transition::default()
                };
                apply(&mut tx, &work, &change, webhook).await?;
                sqlx::query("UPDATE supplier_orders SET cancel_reason = $1 WHERE id = $2")
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                queued_jobs |= next == Cancelling;
            }
            results.push((key, next));
        }
        tx.commit().await?;
        if queued_jobs {
            self.intake.jobs_ready.notify_waiters();
        }
        Ok(Ok(results))
    }

    /// Applies a fix from the shop: the order's new payload, and per binding
    /// the new lines. Every supplier order the fix touches must be
    /// [`SupplierOrderState::fixable`]; each is then queued again (or held,
    /// if the order waits for payment) under a new idempotency key.
    pub async fn fix_order(
        &self,
        shop: &str,
        reference: &str,
        payload: &str,
        retail_total: i64,
        split: Vec<NewSupplierOrder>,
    ) -> Result<Result<usize, Refusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(order_id) = order_id(&mut tx, shop, reference).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let rows = sqlx::query(
            "SELECT id, binding, state, revision, lines FROM supplier_orders WHERE order_id = $1",
        )
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut existing = Vec::new();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let binding: String = row.try_get(1)?;
            let state = state_of(&row.try_get::<String, _>(2)?)?;
            let revision: i64 = row.try_get(3)?;
            existing.push((id, binding, state, revision));
        }
        // Everything the fix touches must be fixable.
        for (_, binding, state, _) in &existing {
            if !state.fixable() {
                return Ok(Err(Refusal::Conflict(format!(
                    "the supplier order for '{binding}' is {}: only held, needs-attention, rejected or failed supplier orders can be fixed",
                    state.as_str()
                ))));
            }
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE orders SET payload = $1, retail_total = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(payload)
        .bind(retail_total)
        .bind(now)
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        let mut queued = 0;
        for so in &split {
            let state = if so.queued { "queued" } else { "held" };
            let id = match existing.iter().find(|(_, b, ..)| *b == so.binding) {
                Some((id, _, _, revision)) => {
                    let key = idempotency_key(shop, reference, &so.binding, revision + 1);
                    sqlx::query(
                        "UPDATE supplier_orders SET state = $1, lines = $2, wholesale_total = $3, idempotency_key = $4, \
                         revision = revision + 1, issues = NULL, last_error = NULL, updated_at = $5 WHERE id = $6",
                    )
                    .bind(state)
                    .bind(&so.lines)
                    .bind(so.wholesale_total)
                    .bind(key)
                    .bind(now)
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                    *id
                }
                None => {
                    sqlx::query(
                        "INSERT INTO supplier_orders (order_id, binding, idempotency_key, state, lines, wholesale_total, \
                         wholesale_currency, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                    )
                    .bind(order_id)
                    .bind(&so.binding)
                    .bind(&so.idempotency_key)
                    .bind(state)
                    .bind(&so.lines)
                    .bind(so.wholesale_total)
                    .bind(&so.wholesale_currency)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?
                }
            };
            if so.queued {
                jobs::enqueue(&mut tx, JobKind::Dispatch, &id.to_string(), now).await?;
                queued += 1;
            }
        }
        // A supplier that no longer has lines in the order is dropped.
        for (id, binding, state, _) in &existing {
            if *state != SupplierOrderState::Cancelled
                && !split.iter().any(|s| s.binding == *binding)
            {
                sqlx::query(
                    "UPDATE supplier_orders SET state = 'cancelled', updated_at = $1 WHERE id = $2",
                )
                .bind(now)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        if queued > 0 {
            self.intake.jobs_ready.notify_waiters();
        }
        Ok(Ok(queued))
    }

    /// Queues again, as they are, the supplier orders that need attention,
    /// were rejected or failed. Returns how many.
    pub async fn resubmit(
        &self,
        shop: &str,
        reference: &str,
    ) -> Result<Result<usize, Refusal>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(order_id) = order_id(&mut tx, shop, reference).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let rows = sqlx::query(
            "SELECT id FROM supplier_orders WHERE order_id = $1 AND state IN ('needs_attention', 'rejected', 'failed')",
        )
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let now = now_ms();
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            sqlx::query("UPDATE supplier_orders SET state = 'queued', issues = NULL, last_error = NULL, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            jobs::enqueue(&mut tx, JobKind::Dispatch, &id.to_string(), now).await?;
        }
        tx.commit().await?;
        if !rows.is_empty() {
            self.intake.jobs_ready.notify_waiters();
        }
        Ok(Ok(rows.len()))
    }

    /// Whether the order exists and is paid.
    pub async fn order_is_paid(
        &self,
        shop: &str,
        reference: &str,
    ) -> Result<Option<bool>, StoreError> {
        let row = sqlx::query("SELECT paid FROM orders WHERE shop = $1 AND reference = $2")
            .bind(shop)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(row.try_get::<i64, _>(0)? != 0),
            None => None,
        })
    }
}

async fn order_id(
    conn: &mut AnyConnection,
    shop: &str,
    reference: &str,
) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query("SELECT id FROM orders WHERE shop = $1 AND reference = $2")
        .bind(shop)
        .bind(reference)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Applies a transition inside a transaction. False if the supplier order
/// is no longer in one of `only_from`.
async fn apply(
    conn: &mut AnyConnection,
    work: &WorkOrder,
    change: &Transition,
    webhook: bool,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let mut sql = String::from(
        "UPDATE supplier_orders SET updated_at = $1, \
         state = COALESCE($2, state), \
         supplier_reference = COALESCE($3, supplier_reference), \
         wholesale_total = COALESCE($4, wholesale_total), \
         issues = $5, last_error = $6, tracking = COALESCE($7, tracking) WHERE id = $8",
    );
    if !change.only_from.is_empty() {
        let states = change
            .only_from
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push_str(&format!(" AND state IN ({states})"));
    }
    let done = sqlx::query(&sql)
        .bind(now)
        .bind(change.state.map(SupplierOrderState::as_str))
        .bind(change.supplier_reference.clone())
        .bind(change.wholesale_total)
        .bind(change.issues.as_ref().map(Value::to_string))
        .bind(change.error.clone())
        .bind(change.tracking.as_ref().map(Value::to_string))
        .bind(work.id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if let Some((state, detail)) = &change.history {
        sqlx::query("INSERT INTO status_history (supplier_order_id, state, detail, at) VALUES ($1, $2, $3, $4)")
            .bind(work.id)
            .bind(state)
            .bind(detail.to_string())
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    if let Some((kind, data)) = &change.event {
        events::append(conn, &work.shop, kind, &work.reference, data, webhook).await?;
    }
    if let Some(kind) = change.then {
        jobs::enqueue(conn, kind, &work.id.to_string(), now).await?;
    }
    Ok(true)
}

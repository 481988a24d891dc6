//! Group commit of incoming orders.
//!
//! Every order the hook accepts is stored with its supplier orders and their
//! dispatch jobs in a transaction that is committed (and, on SQLite,
//! fsynced) before the shop gets its answer. One fsync per order would cap
//! the hook at the disk's fsync rate, so a single writer task takes every
//! order waiting at that moment and commits them together: each order in
//! its own savepoint (one bad order never sinks its neighbours), one commit
//! for the batch, then every waiting request is answered.

use sqlx::{Acquire, AnyPool, Row};
use tokio::sync::{Notify, mpsc, oneshot};

use super::{Backend, StoreError, begin_write, now_ms};
use std::sync::Arc;

/// Orders committed together at most.
const MAX_BATCH: usize = 256;

/// An order ready to store: validated, split, answer prepared.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// The shop's id.
    pub shop: String,
    /// The shop's order reference.
    pub reference: String,
    /// SHA-256 of the body as posted: a retry must send the same body.
    pub body_sha256: String,
    /// The validated order, as JSON.
    pub payload: String,
    /// The order's currency.
    pub currency: String,
    /// What the customer paid for the lines, in minor units.
    pub retail_total: i64,
    /// Whether the shop says it is paid.
    pub paid: bool,
    /// One per supplier.
    pub supplier_orders: Vec<NewSupplierOrder>,
    /// The 202 answer, stored to be replayed to a retry.
    pub answer: String,
}

/// One supplier's share of a new order.
#[derive(Debug, Clone)]
pub struct NewSupplierOrder {
    /// The binding that sells these lines.
    pub binding: String,
    /// The key the supplier deduplicates on.
    pub idempotency_key: String,
    /// Whether a dispatch job is queued now (else the order is held until paid).
    pub queued: bool,
    /// The lines, as JSON.
    pub lines: String,
    /// Wholesale cost, when known.
    pub wholesale_total: Option<i64>,
    /// Currency of the wholesale cost.
    pub wholesale_currency: String,
}

/// What happened to a posted order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Stored now.
    Created(IntakeAnswer),
    /// Stored earlier with the same body: the same answer again.
    Replayed(IntakeAnswer),
    /// Stored earlier with another body.
    Conflict,
}

/// The stored answer (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeAnswer(pub String);

struct Request {
    order: NewOrder,
    reply: oneshot::Sender<Result<IntakeOutcome, String>>,
}

/// Handle to the writer task.
#[derive(Clone)]
pub(super) struct Intake {
    sender: mpsc::Sender<Request>,
    pub(super) jobs_ready: Arc<Notify>,
}

impl Intake {
    pub(super) fn start(pool: AnyPool, backend: Backend) -> Intake {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        let jobs_ready = Arc::new(Notify::new());
        tokio::spawn(writer(pool, backend, receiver, jobs_ready.clone()));
        Intake { sender, jobs_ready }
    }
}

impl super::Store {
    /// Stores a new order durably (or finds it stored), then answers.
    pub async fn store_order(&self, order: NewOrder) -> Result<IntakeOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.intake
            .sender
            .send(Request { order, reply })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        match answer.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(message)) => Err(StoreError::Corrupt(message)),
            Err(_) => Err(StoreError::WriterStopped),
        }
    }

    /// Resolves when jobs may have been queued by this process.
    pub fn jobs_ready(&self) -> Arc<Notify> {
        self.intake.jobs_ready.clone()
    }
}

async fn writer(
    pool: AnyPool,
    backend: Backend,
    mut receiver: mpsc::Receiver<Request>,
    jobs_ready: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let started = std::time::Instant::now();
        let results = commit_batch(&pool, backend, &batch).await;
        let size = batch.len();
        match results {
            Ok(outcomes) => {
                let queued = outcomes
                    .iter()
                    .any(|o| matches!(o, Ok(IntakeOutcome::Created(_))));
                for (request, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = request.reply.send(outcome);
                }
                if queued {
                    jobs_ready.notify_waiters();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, orders = size, "committing a batch of orders failed");
                for request in batch.drain(..) {
                    let _ = request
                        .reply
                        .send(Err(format!("committing the order: {e}")));
                }
            }
        }
        tracing::trace!(orders = size, elapsed = ?started.elapsed(), "order batch committed");
    }
}

/// One transaction for the batch, one savepoint per order.
async fn commit_batch(
    pool: &AnyPool,
    backend: Backend,
    batch: &[Request],
) -> Result<Vec<Result<IntakeOutcome, String>>, sqlx::Error> {
    let mut tx = begin_write(pool, backend).await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let now = now_ms();
    for request in batch {
        let mut savepoint = tx.begin().await?;
        match store_one(&mut savepoint, &request.order, now).await {
            Ok(outcome) => {
                savepoint.commit().await?;
                outcomes.push(Ok(outcome));
            }
            Err(e) => {
                savepoint.rollback().await?;
                tracing::warn!(shop = %request.order.shop, reference = %request.order.reference, error = %e, "order not stored");
                outcomes.push(Err(e.to_string()));
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn store_one(
    conn: &mut sqlx::AnyConnection,
    order: &NewOrder,
    now: i64,
) -> Result<IntakeOutcome, sqlx::Error> {
    let existing =
        sqlx::query("SELECT body_sha256, answer FROM orders WHERE shop = $1 AND reference = $2")
            .bind(&order.shop)
            .bind(&order.reference)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(row) = existing {
        let sha: String = row.try_get(0)?;
        let answer: String = row.try_get(1)?;
        return Ok(if sha == order.body_sha256 {
            IntakeOutcome::Replayed(IntakeAnswer(answer))
        } else {
            IntakeOutcome::Conflict
        });
    }
    let order_id: i64 = sqlx::query(
        "INSERT INTO orders (shop, reference, body_sha256, payload, currency, retail_total, paid, answer, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(&order.shop)
    .bind(&order.reference)
    .bind(&order.body_sha256)
    .bind(&order.payload)
    .bind(&order.currency)
    .bind(order.retail_total)
    .bind(i64::from(order.paid))
    .bind(&order.answer)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for so in &order.supplier_orders {
        let state = if so.queued { "queued" } else { "held" };
        let so_id: i64 = sqlx::query(
            "INSERT INTO supplier_orders (order_id, binding, idempotency_key, state, lines, wholesale_total, wholesale_currency, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(order_id)
        .bind(&so.binding)
        .bind(&so.idempotency_key)
        .bind(state)
        .bind(&so.lines)
        .bind(so.wholesale_total)
        .bind(&so.wholesale_currency)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        if so.queued {
            super::jobs::enqueue(
                &mut *conn,
                super::JobKind::Dispatch,
                &so_id.to_string(),
                now,
            )
            .await?;
        }
    }
    Ok(IntakeOutcome::Created(IntakeAnswer(order.answer.clone())))
}

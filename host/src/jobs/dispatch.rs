//! Dispatch and cancel jobs: a supplier order handed to its binding's plugin,
//! and the outcome recorded with its event. Each submit call's supplier
//! HTTP is recorded and kept as a dispatch tape (the last
//! [`crate::store::TAPES_KEPT`] per binding) for shadow runs
//! ([`crate::shadow`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Workers, at};
use crate::orders::{PostedOrder, SupplierLine, contract_order};
use crate::runtime::bindings::shopbridge::connector::types::{Order, OrderError};
use crate::runtime::{HttpBackend, Tape};
use crate::store::{Job, NewTape, StoreError, SupplierOrderState as S, Transition, WorkOrder};

/// How long a cancel waits for a dispatch of the same supplier order that
/// is still running.
const WAIT_FOR_DISPATCH: Duration = Duration::from_secs(2);

/// The largest tape kept (order and exchanges, as JSON). A submit's
/// exchanges are a few KB; a tape past 256 KiB (a supplier answering with a
/// whole catalogue, say) is not worth 50 times its size per binding, and a
/// truncated one would replay wrongly: it is dropped (and logged).
const MAX_TAPE_BYTES: usize = 256 << 10;

impl Workers {
    pub(super) async fn dispatch(&self, job: &Job) -> Result<(), StoreError> {
        let Some(work) = self.store.work_order(target_id(job)?).await? else {
            return self.store.finish_job(job).await;
        };
        record_order(&work);
        if work.state != S::Queued {
            // Cancelled or fixed meanwhile: nothing to send.
            return self.store.finish_job(job).await;
        }
        let webhook = self.webhook_enabled(&work.shop);
        let Some(binding) = self.registry.binding(&work.binding) else {
            let change = failed(
                &work,
                format!("binding '{}' is no longer configured", work.binding),
            );
            self.metrics.dispatch_outcome(&work.binding, "failed");
            self.store
                .transition(Some(job), &work, change, webhook)
                .await?;
            return Ok(());
        };
        let order: PostedOrder = serde_json::from_str(&work.payload)
            .map_err(|e| StoreError::Corrupt(format!("order payload: {e}")))?;
        let lines: Vec<SupplierLine> = serde_json::from_str(&work.lines)
            .map_err(|e| StoreError::Corrupt(format!("supplier order lines: {e}")))?;
        let contract = contract_order(
            &order,
            &lines,
            &work.idempotency_key,
            &crate::store::rfc3339(crate::store::now_ms()),
        );

        let started = Instant::now();
        let plugin = binding.plugin();
        // The call's HTTP is recorded (live all the same) for shadow runs.
        let tape =
            Arc::new(Tape::default().masking(plugin.secret_values(&binding.options.settings)));
        let mut options = binding.options.clone();
        options.network.backend = HttpBackend::Record(tape.clone());
        let outcome = plugin
            .submit_order(self.registry.runtime(), &options, &contract)
            .await;
        self.metrics
            .plugin_call(plugin.name(), "submit-order", started.elapsed());
        self.keep_tape(&work, &contract, &tape).await;

        let data = |state: S, extra: serde_json::Value| {
            let mut data = json!({
                "supplier_order": work.idempotency_key,
                "binding": work.binding,
                "state": state,
            });
            if let (Some(map), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
                map.extend(extra);
            }
            data
        };
        let (outcome_name, change) = match outcome {
            Ok(Ok(submission)) => {
                let wholesale = submission
                    .wholesale_total
                    .as_ref()
                    .filter(|m| m.currency == binding.config.currency)
                    .map(|m| m.amount_minor);
                let detail = json!({
                    "supplier_reference": submission.supplier_reference,
                    "message": submission.message,
                });
                let change = Transition {
                    state: Some(S::Submitted),
                    only_from: vec![S::Queued],
                    supplier_reference: Some(submission.supplier_reference.clone()),
                    wholesale_total: wholesale,
                    history: Some(("submitted".into(), detail.clone())),
                    event: Some((
                        "supplier_order.submitted".into(),
                        data(S::Submitted, detail),
                    )),
                    ..Transition::default()
                };
                tracing::info!(supplier_reference = %submission.supplier_reference, "supplier order submitted");
                if !self
                    .store
                    .transition(Some(job), &work, change, webhook)
                    .await?
                {
                    // Cancelled while it was being submitted: keep the
                    // reference so that the cancel job can reach the supplier.
                    let keep = Transition {
                        only_from: vec![S::Cancelling],
                        supplier_reference: Some(submission.supplier_reference),
                        ..Transition::default()
                    };
                    self.store.transition(None, &work, keep, webhook).await?;
                }
                self.metrics.dispatch_outcome(&work.binding, "submitted");
                return Ok(());
            }
            Ok(Err(OrderError::NeedsAttention(issues))) => {
                let issues = serde_json::to_value(&issues).unwrap_or_default();
                tracing::info!(%issues, "supplier order needs attention");
                (
                    "needs_attention",
                    Transition {
                        state: Some(S::NeedsAttention),
                        only_from: vec![S::Queued],
                        issues: Some(issues.clone()),
                        event: Some((
                            "supplier_order.needs_attention".into(),
                            data(S::NeedsAttention, json!({ "issues": issues })),
                        )),
                        ..Transition::default()
                    },
                )
            }
            Ok(Err(OrderError::Rejected(reason))) => (
                "rejected",
                Transition {
                    state: Some(S::Rejected),
                    only_from: vec![S::Queued],
                    error: Some(reason.clone()),
                    event: Some((
                        "supplier_order.rejected".into(),
                        data(S::Rejected, json!({ "reason": reason })),
                    )),
                    ..Transition::default()
                },
            ),
            Ok(Err(OrderError::Unsupported)) => (
                "failed",
                failed(
                    &work,
                    format!("plugin '{}' does not take orders", plugin.name()),
                ),
            ),
            Ok(Err(OrderError::Configuration(message))) => (
                "failed",
                failed(&work, format!("binding configuration: {message}")),
            ),
            Ok(Err(OrderError::Transient(t))) => {
                let retry_after = t
                    .retry_after_seconds
                    .map(|s| Duration::from_secs(u64::from(s)));
                return self
                    .retry(
                        job,
                        &work,
                        &binding.config.id,
                        t.message,
                        retry_after,
                        webhook,
                    )
                    .await;
            }
            Err(e) => {
                // A trap, a deadline, an out-of-memory: the plugin failed,
                // maybe for this input only. Retried like a transient
                // failure, then failed for good.
                return self
                    .retry(
                        job,
                        &work,
                        &binding.config.id,
                        format!("plugin: {e}"),
                        None,
                        webhook,
                    )
                    .await;
            }
        };
        self.metrics.dispatch_outcome(&work.binding, outcome_name);
        self.store
            .transition(Some(job), &work, change, webhook)
            .await?;
        Ok(())
    }

    /// Stores the call's tape for shadow runs. Never fails the dispatch: a
    /// tape that cannot be stored is logged and dropped.
    async fn keep_tape(&self, work: &WorkOrder, contract: &Order, tape: &Tape) {
        let exchanges = tape.recorded();
        let (order, exchanges) = match (
            serde_json::to_string(contract),
            serde_json::to_string(&exchanges),
        ) {
            (Ok(o), Ok(e)) => (o, e),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "dispatch tape not kept: not serializable");
                return;
            }
        };
        if order.len() + exchanges.len() > MAX_TAPE_BYTES {
            tracing::info!(
                bytes = order.len() + exchanges.len(),
                "dispatch tape not kept: larger than {MAX_TAPE_BYTES} bytes"
            );
            return;
        }
        let stored = self
            .store
            .insert_dispatch_tape(NewTape {
                binding: &work.binding,
                shop: &work.shop,
                reference: &work.reference,
                supplier_order: &work.idempotency_key,
                contract_order: &order,
                exchanges: &exchanges,
            })
            .await;
        if let Err(e) = stored {
            tracing::warn!(error = %e, "dispatch tape not kept");
        }
    }

    async fn retry(
        &self,
        job: &Job,
        work: &WorkOrder,
        binding: &str,
        message: String,
        retry_after: Option<Duration>,
        webhook: bool,
    ) -> Result<(), StoreError> {
        if job.attempts >= i64::from(self.config.dispatch_attempts) {
            tracing::warn!(%message, attempts = job.attempts, "giving up on the supplier order");
            self.metrics.dispatch_outcome(binding, "failed");
            let change = failed(
                work,
                format!("gave up after {} attempts: {message}", job.attempts),
            );
            self.store
                .transition(Some(job), work, change, webhook)
                .await?;
            return Ok(());
        }
        let delay = self.backoff(job.attempts, retry_after);
        tracing::info!(%message, ?delay, "transient failure; retrying");
        self.metrics.dispatch_outcome(binding, "transient");
        self.store.retry_job(job, at(delay), &message).await
    }

    pub(super) async fn cancel(&self, job: &Job) -> Result<(), StoreError> {
        let Some(work) = self.store.work_order(target_id(job)?).await? else {
            return self.store.finish_job(job).await;
        };
        record_order(&work);
        if work.state != S::Cancelling {
            return self.store.finish_job(job).await;
        }
        if work.dispatch_pending {
            return self
                .store
                .retry_job(
                    job,
                    at(WAIT_FOR_DISPATCH),
                    "waiting for the dispatch to finish",
                )
                .await;
        }
        let webhook = self.webhook_enabled(&work.shop);
        let cancelled = |detail: serde_json::Value| Transition {
            state: Some(S::Cancelled),
            only_from: vec![S::Cancelling],
            history: Some(("cancelled".into(), detail.clone())),
            event: Some((
                "supplier_order.cancelled".into(),
                json!({ "supplier_order": work.idempotency_key, "binding": work.binding, "state": S::Cancelled, "detail": detail }),
            )),
            ..Transition::default()
        };
        let Some(reference) = work.supplier_reference.clone() else {
            // Never reached the supplier.
            self.store
                .transition(Some(job), &work, cancelled(json!({})), webhook)
                .await?;
            return Ok(());
        };
        let Some(binding) = self.registry.binding(&work.binding) else {
            return self
                .store
                .retry_job(job, at(Duration::from_secs(60)), "binding not configured")
                .await;
        };
        let started = Instant::now();
        let plugin = binding.plugin();
        let outcome = plugin
            .cancel_order(
                self.registry.runtime(),
                &binding.options,
                &reference,
                work.cancel_reason.as_deref(),
            )
            .await;
        self.metrics
            .plugin_call(plugin.name(), "cancel-order", started.elapsed());
        let refused = |why: String| Transition {
            state: Some(S::Submitted),
            only_from: vec![S::Cancelling],
            error: Some(why.clone()),
            event: Some((
                "supplier_order.cancel_refused".into(),
                json!({ "supplier_order": work.idempotency_key, "binding": work.binding, "reason": why }),
            )),
            ..Transition::default()
        };
        let gave_up_after = i64::from(self.config.dispatch_attempts);
        let change = match outcome {
            Ok(Ok(())) => cancelled(json!({ "supplier_reference": reference })),
            Ok(Err(OrderError::Rejected(why))) => {
                refused(format!("the supplier refused the cancellation: {why}"))
            }
            Ok(Err(OrderError::Unsupported)) => {
                refused("the supplier's plugin cannot cancel orders".into())
            }
            Ok(Err(OrderError::NeedsAttention(issues))) => refused(format!(
                "the supplier refused the cancellation: {}",
                serde_json::to_string(&issues).unwrap_or_default()
            )),
            Ok(Err(OrderError::Configuration(message))) => {
                refused(format!("binding configuration: {message}"))
            }
            // A cancellation is retried as a dispatch is, and given up
            // after as many attempts.
            Ok(Err(OrderError::Transient(t))) if job.attempts >= gave_up_after => refused(format!(
                "gave up after {} attempts: {}",
                job.attempts, t.message
            )),
            Err(e) if job.attempts >= gave_up_after => refused(format!(
                "gave up after {} attempts: plugin: {e}",
                job.attempts
            )),
            Ok(Err(OrderError::Transient(t))) => {
                let delay = self.backoff(
                    job.attempts,
                    t.retry_after_seconds
                        .map(|s| Duration::from_secs(u64::from(s))),
                );
                return self.store.retry_job(job, at(delay), &t.message).await;
            }
            Err(e) => {
                let delay = self.backoff(job.attempts, None);
                return self
                    .store
                    .retry_job(job, at(delay), &format!("plugin: {e}"))
                    .await;
            }
        };
        self.store
            .transition(Some(job), &work, change, webhook)
            .await?;
        Ok(())
    }
}

/// Names the order in the job's span, so that its logs can be found by order.
fn record_order(work: &WorkOrder) {
    let span = tracing::Span::current();
    span.record("shop", work.shop.as_str());
    span.record("order", work.reference.as_str());
}

fn failed(work: &WorkOrder, message: String) -> Transition {
    Transition {
        state: Some(S::Failed),
        only_from: vec![S::Queued],
        error: Some(message.clone()),
        event: Some((
            "supplier_order.failed".into(),
            json!({ "supplier_order": work.idempotency_key, "binding": work.binding, "state": S::Failed, "error": message }),
        )),
        ..Transition::default()
    }
}

fn target_id(job: &Job) -> Result<i64, StoreError> {
    job.target
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("job target '{}'", job.target)))
}

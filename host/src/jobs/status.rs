//! Status poll jobs: one recurring job per binding asks its plugin for the
//! state of the open supplier orders, in batches, and records what changed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Workers, at};
use crate::runtime::bindings::shopbridge::connector::types::{OrderState, StatusUpdate};
use crate::store::{Job, StoreError, SupplierOrderState as S, Transition};

impl Workers {
    pub(super) async fn poll(&self, job: &Job) -> Result<(), StoreError> {
        let Some(binding) = self.registry.binding(&job.target) else {
            // The binding was removed from the configuration.
            return self.store.finish_job(job).await;
        };
        let config = &binding.config;
        let open = self
            .store
            .open_supplier_orders(&config.id, config.status_batch)
            .await?;
        if open.is_empty() {
            return self.store.reschedule_job(job, at(config.status_poll)).await;
        }
        let references: Vec<String> = open.iter().map(|o| o.supplier_reference.clone()).collect();
        let started = Instant::now();
        let plugin = binding.plugin();
        let outcome = plugin
            .poll_status(self.registry.runtime(), &binding.options, &references)
            .await;
        self.metrics
            .plugin_call(plugin.name(), "poll-status", started.elapsed());
        let ids: Vec<i64> = open.iter().map(|o| o.id).collect();
        let updates = match outcome {
            Ok(Ok(updates)) => updates,
            Ok(Err(e)) => {
                tracing::warn!(binding = %config.id, error = ?e, "status poll failed");
                self.store.mark_polled(&ids).await?;
                return self.store.reschedule_job(job, at(config.status_poll)).await;
            }
            Err(e) => {
                tracing::warn!(binding = %config.id, error = %e, "status poll failed in the plugin");
                self.store.mark_polled(&ids).await?;
                return self.store.reschedule_job(job, at(config.status_poll)).await;
            }
        };
        for update in updates {
            let Some(known) = open
                .iter()
                .find(|o| o.supplier_reference == update.supplier_reference)
            else {
                tracing::warn!(reference = %update.supplier_reference, "the plugin reported an order it was not asked about");
                continue;
            };
            let (state, name, detail, shipments) = describe(&update);
            let unchanged = known.state == state && known.last_detail.as_ref() == Some(&detail);
            if unchanged {
                continue;
            }
            let Some(work) = self.store.work_order(known.id).await? else {
                continue;
            };
            let change = Transition {
                state: Some(state),
                only_from: S::OPEN.to_vec(),
                tracking: shipments,
                history: Some((name.to_owned(), detail.clone())),
                event: Some((
                    "supplier_order.status".into(),
                    json!({
                        "supplier_order": work.idempotency_key,
                        "binding": work.binding,
                        "supplier_reference": update.supplier_reference,
                        "state": state,
                        "detail": detail,
                        "message": update.message,
                        "changed_at": update.changed_at,
                    }),
                )),
                ..Transition::default()
            };
            tracing::info!(reference = %update.supplier_reference, state = name, "supplier order status changed");
            self.store
                .transition(None, &work, change, self.webhook_enabled(&work.shop))
                .await?;
        }
        self.store.mark_polled(&ids).await?;
        // A full batch: more may be waiting; go on at once.
        let next = if open.len() as u32 >= config.status_batch {
            Duration::ZERO
        } else {
            config.status_poll
        };
        self.store.reschedule_job(job, at(next)).await
    }
}

/// The stored state, the history name, the details and the shipments of a
/// status update. The details leave out what changes at every poll without
/// news (the supplier's timestamp and message), so that an unchanged status
/// is recognised.
fn describe(update: &StatusUpdate) -> (S, &'static str, Value, Option<Value>) {
    let shipments = |list: &Vec<
        crate::runtime::bindings::shopbridge::connector::types::Shipment,
    >| { serde_json::to_value(list).unwrap_or_default() };
    let (state, name, mut detail, tracking) = match &update.state {
        OrderState::Accepted => (S::Accepted, "accepted", json!({}), None),
        OrderState::Processing => (S::Processing, "processing", json!({}), None),
        OrderState::Backordered(until) => (
            S::Backordered,
            "backordered",
            json!({ "until": until }),
            None,
        ),
        OrderState::PartlyShipped(list) => {
            let s = shipments(list);
            (
                S::PartlyShipped,
                "partly_shipped",
                json!({ "shipments": s }),
                Some(s),
            )
        }
        OrderState::Shipped(list) => {
            let s = shipments(list);
            (S::Shipped, "shipped", json!({ "shipments": s }), Some(s))
        }
        OrderState::Delivered => (S::Delivered, "delivered", json!({}), None),
        OrderState::Cancelled(reason) => {
            (S::Cancelled, "cancelled", json!({ "reason": reason }), None)
        }
    };
    if let (Some(map), Some(url)) = (detail.as_object_mut(), &update.invoice_url) {
        map.insert("invoice_url".into(), json!(url));
    }
    (state, name, detail, tracking)
}

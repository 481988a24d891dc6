//! Webhook jobs: an event posted to its shop's callback URL, signed like the
//! shop's own requests, retried with backoff until the shop answers 2xx.

use axum::http::Method;
use serde_json::json;

use super::{Workers, at};
use crate::signature::{self, KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::store::{Job, StoreError, now_ms};

impl Workers {
    pub(super) async fn deliver(&self, job: &Job) -> Result<(), StoreError> {
        let id: i64 = job
            .target
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("webhook target '{}'", job.target)))?;
        let Some(event) = self.store.event(id).await? else {
            return self.store.finish_job(job).await;
        };
        let Some(shop) = self.registry.shop(&event.shop) else {
            return self.store.finish_job(job).await;
        };
        let Some(callback) = shop
            .callback_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        else {
            return self.store.finish_job(job).await;
        };
        let body = json!({
            "shop": event.shop,
            "seq": event.seq,
            "kind": event.kind,
            "order_reference": event.order_reference,
            "data": event.data,
            "created_at": event.created_at,
        })
        .to_string();
        let timestamp = now_ms() / 1000;
        let path = match callback.query() {
            Some(q) => format!("{}?{q}", callback.path()),
            None => callback.path().to_owned(),
        };
        let signed = signature::sign(
            &shop.secret,
            timestamp,
            Method::POST.as_str(),
            &path,
            body.as_bytes(),
        );
        let sent = self
            .http
            .post(callback.clone())
            .header("content-type", "application/json")
            .header(KEY_HEADER, &shop.key_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signed)
            .body(body)
            .send()
            .await;
        let error = match sent {
            Ok(response) if response.status().is_success() => {
                tracing::debug!(seq = event.seq, kind = %event.kind, "webhook delivered");
                return self.store.finish_job(job).await;
            }
            Ok(response) => format!("the shop answered {}", response.status()),
            Err(e) => format!("posting to the shop: {e}"),
        };
        if job.attempts >= i64::from(self.config.webhook_attempts) {
            tracing::warn!(%error, seq = event.seq, "giving up on a webhook (the shop can still read it from /events)");
            return self.store.bury_job(job, &error).await;
        }
        let delay = self.backoff(job.attempts, None);
        tracing::info!(%error, ?delay, "webhook not delivered; retrying");
        self.store.retry_job(job, at(delay), &error).await
    }
}

//! Background work: the workers that lease jobs from the queue and run them
//! (dispatch a supplier order, cancel one, poll a binding's statuses,
//! deliver a webhook), retries with backoff, and graceful shutdown.
//!
//! Every job is safe to run twice: a dispatch passes a stable idempotency
//! key to the supplier, a poll only records changes, a webhook carries its
//! event's sequence number for the shop to deduplicate on. That is what
//! makes a crash at any moment harmless: the job's lease runs out and it
//! runs again.

mod catalog;
mod dispatch;
mod status;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::store::{Job, JobKind, Store, StoreError, now_ms};

/// How long an idle worker waits before looking at the queue again (jobs
/// queued by this process wake it at once; other processes' after this).
const IDLE_POLL: Duration = Duration::from_millis(200);

/// How long shutdown waits for running jobs before handing them back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The job runner of one process.
pub struct Workers {
    store: Store,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    config: ServerConfig,
    owner: String,
    http: reqwest::Client,
}

impl Workers {
    /// A runner; `owner` names this process in leases.
    pub fn new(
        store: Store,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        config: ServerConfig,
    ) -> Result<Workers, reqwest::Error> {
        let owner = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            rand::rng().random::<u32>()
        );
        let http = reqwest::Client::builder()
            .user_agent(concat!("shopbridge/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Workers {
            store,
            registry,
            metrics,
            config,
            owner,
            http,
        })
    }

    /// Runs until `shutdown` turns true, then finishes or hands back the
    /// jobs it holds.
    pub async fn run(
        self: Arc<Self>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        for binding in self.registry.bindings() {
            self.store
                .ensure_recurring_job(JobKind::Poll, &binding.config.id, now_ms())
                .await?;
            self.ensure_schedules(binding).await?;
        }
        let slots = Arc::new(Semaphore::new(self.config.workers.max(1)));
        let jobs_ready = self.store.jobs_ready();
        let mut running = JoinSet::new();
        tracing::info!(owner = %self.owner, workers = self.config.workers, "workers started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            while running.try_join_next().is_some() {}
            let free = slots.available_permits();
            let leased = if free == 0 {
                Vec::new()
            } else {
                match self
                    .store
                    .lease_jobs(&self.owner, free, self.config.lease)
                    .await
                {
                    Ok(jobs) => jobs,
                    Err(e) => {
                        tracing::warn!(error = %e, "leasing jobs");
                        Vec::new()
                    }
                }
            };
            let idle = leased.is_empty();
            for job in leased {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let me = self.clone();
                let span = tracing::info_span!(
                    "job",
                    id = job.id,
                    kind = ?job.kind,
                    target = %job.target,
                    attempt = job.attempts,
                    shop = tracing::field::Empty,
                    order = tracing::field::Empty,
                );
                running.spawn(
                    async move {
                        me.run_job(job).await;
                        drop(permit);
                    }
                    .instrument(span),
                );
            }
            if idle || slots.available_permits() == 0 {
                let notified = jobs_ready.notified();
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = shutdown.changed() => {}
                    Some(_) = running.join_next(), if !running.is_empty() => {}
                }
            }
        }
        tracing::info!(
            running = running.len(),
            "workers stopping: finishing running jobs"
        );
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while running.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            running.abort_all();
        }
        let released = self.store.release_leases(Some(&self.owner)).await?;
        tracing::info!(released, "workers stopped");
        Ok(())
    }

    async fn run_job(&self, job: Job) {
        let result = match job.kind {
            JobKind::Dispatch => self.dispatch(&job).await,
            JobKind::Cancel => self.cancel(&job).await,
            JobKind::Poll => self.poll(&job).await,
            JobKind::Webhook => self.deliver(&job).await,
            JobKind::Sync => self.sync(&job).await,
            JobKind::Schedule => self.schedule(&job).await,
        };
        if let Err(e) = result {
            // The database failed us (a lost connection, a deadlock): try
            // again soon; if even that fails, the lease runs out and the job
            // runs again then.
            tracing::error!(error = %e, "job failed on the database; it will run again");
            let delay = self.backoff(job.attempts, None);
            if let Err(e) = self.store.retry_job(&job, at(delay), &e.to_string()).await {
                tracing::error!(error = %e, "could not reschedule the job; it runs again when its lease ends");
            }
        }
    }

    /// When to try again after `attempts` failures: exponential from
    /// `retry_base`, capped at `retry_max`, with full jitter on the upper
    /// half, and never before what the supplier asked for, up to
    /// `retry_after_max` (a `Retry-After` of 2³² seconds is 136 years).
    fn backoff(&self, attempts: i64, retry_after: Option<Duration>) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(20);
        let ceiling = self
            .config
            .retry_base
            .saturating_mul(1u32 << exponent)
            .min(self.config.retry_max);
        let jittered = ceiling.mul_f64(rand::rng().random_range(0.5..=1.0));
        jittered.max(
            retry_after
                .unwrap_or_default()
                .min(self.config.retry_after_max),
        )
    }

    fn webhook_enabled(&self, shop: &str) -> bool {
        self.registry
            .shop(shop)
            .is_some_and(|s| s.callback_url.is_some())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into())
}

fn at(delay: Duration) -> i64 {
    now_ms() + delay.as_millis() as i64
}

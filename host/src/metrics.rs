//! Prometheus metrics: orders received, dispatch outcomes, plugin call
//! durations and the job queue's depth, served at `/metrics`.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

fn call_histogram() -> Histogram {
    // 1 ms to ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    orders: Family<Labels, Counter>,
    dispatch: Family<Labels, Counter>,
    calls: Family<Labels, Histogram, fn() -> Histogram>,
    jobs: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("shopbridge");
        let orders = Family::<Labels, Counter>::default();
        registry.register(
            "orders_received",
            "Orders posted by shops, by outcome (created, replayed, conflict, invalid, unauthorized)",
            orders.clone(),
        );
        let dispatch = Family::<Labels, Counter>::default();
        registry.register(
            "dispatch_outcomes",
            "Supplier order dispatch attempts, by binding and outcome",
            dispatch.clone(),
        );
        let calls =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(call_histogram);
        registry.register(
            "plugin_call_duration_seconds",
            "Duration of plugin calls, by plugin and call",
            calls.clone(),
        );
        let jobs = Family::<Labels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the queue, by kind and state (waiting, dead), as of the last scrape",
            jobs.clone(),
        );
        Metrics {
            registry,
            orders,
            dispatch,
            calls,
            jobs,
        }
    }

    /// An order was posted.
    pub fn order_received(&self, outcome: &str) {
        self.orders
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    /// A dispatch ended.
    pub fn dispatch_outcome(&self, binding: &str, outcome: &str) {
        self.dispatch
            .get_or_create(&vec![
                ("binding", binding.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    /// A plugin call took `elapsed`.
    pub fn plugin_call(&self, plugin: &str, call: &str, elapsed: Duration) {
        self.calls
            .get_or_create(&vec![
                ("plugin", plugin.to_owned()),
                ("call", call.to_owned()),
            ])
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the queue depth gauges.
    pub fn set_jobs(&self, depth: &[(String, i64, i64)]) {
        for (kind, waiting, dead) in depth {
            self.jobs
                .get_or_create(&vec![("kind", kind.clone()), ("state", "waiting".into())])
                .set(*waiting);
            self.jobs
                .get_or_create(&vec![("kind", kind.clone()), ("state", "dead".into())])
                .set(*dead);
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        text
    }
}

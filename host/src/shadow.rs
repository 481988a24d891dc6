//! Shadow runs: a binding's recent real orders replayed through a candidate
//! version beside the active one, so that an operator sees what a swap
//! would change before making it.
//!
//! Dispatch keeps, for each submit call, the contract order and the
//! supplier's HTTP exchanges (a dispatch tape, [`crate::store::DispatchTape`]).
//! A shadow run gives each of the binding's last tapes to both versions'
//! `submit_order` (what dispatch calls; it calls no `check_order`) with
//! HTTP answered from the tape, and compares their outputs with the
//! fixtures' JSON diff ([`crate::fixtures::diff`]).
//!
//! **Invariant:** a shadow run reaches no network and changes nothing.
//! Every call runs with the replay backend (a request the tape does not
//! answer is a `connection` error given to the plugin, and listed), and the
//! run only reads the store; a plugin has no other way out of its sandbox.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fixtures::{Difference, diff};
use crate::plugins::{CallOptions, Plugin};
use crate::registry::Binding;
use crate::runtime::bindings::shopbridge::connector::types::Order;
use crate::runtime::{Exchange, HttpBackend, NetworkPolicy, Runtime, Tape};
use crate::store::DispatchTape;

/// Orders replayed when the request does not say.
pub const DEFAULT_ORDERS: i64 = 20;

/// The deadline of one replayed call (or the binding's, if shorter): a
/// replay waits on no network, and a submit answers in milliseconds, so a
/// call still running after 10 s hangs.
const CALL_DEADLINE: Duration = Duration::from_secs(10);

/// The time a whole run may take, so that a candidate that hangs on every
/// order (50 orders × 2 calls × 10 s) does not hold the request for many
/// minutes; the orders left are reported as errors, not run.
const RUN_BUDGET: Duration = Duration::from_secs(120);

/// One side's run of one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SideRun {
    /// The output: `{"submission": …}` or `{"error": …}` (a typed error);
    /// absent when the plugin failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// How the plugin failed (a trap, a deadline, a cap), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Requests the tape did not answer (the plugin got a connection error).
    #[serde(default)]
    pub unmatched_requests: Vec<String>,
    /// Time taken, milliseconds.
    pub millis: u64,
}

/// Where the candidate's output differs from the active one's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowDifference {
    /// Where, as `$.submission.supplier_reference`.
    pub path: String,
    /// The active version's value there (absent: null).
    pub active: Option<Value>,
    /// The candidate's (absent: null).
    pub candidate: Option<Value>,
}

/// One order, through both versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderShadow {
    /// The shop.
    pub shop: String,
    /// The shop's order reference.
    pub reference: String,
    /// The supplier order.
    pub supplier_order: String,
    /// When its dispatch was recorded.
    pub recorded_at: String,
    /// `same`, `differs`, or `error` (a version failed, or the tape is
    /// unreadable).
    pub outcome: String,
    /// Where the outputs differ.
    #[serde(default)]
    pub differences: Vec<ShadowDifference>,
    /// Why the order could not be compared, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The active version's run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<SideRun>,
    /// The candidate's run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<SideRun>,
}

impl OrderShadow {
    /// The order of `tape`, not compared yet (an error until it is).
    fn new(tape: &DispatchTape) -> Self {
        OrderShadow {
            shop: tape.shop.clone(),
            reference: tape.reference.clone(),
            supplier_order: tape.supplier_order.clone(),
            recorded_at: tape.created_at.clone(),
            outcome: "error".into(),
            differences: Vec::new(),
            error: None,
            active: None,
            candidate: None,
        }
    }
}

/// Counts by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Orders replayed.
    pub orders: usize,
    /// With the same output.
    pub same: usize,
    /// With different outputs.
    pub differs: usize,
    /// That could not be compared.
    pub errors: usize,
}

/// The report of a shadow run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShadowReport {
    /// The plugin.
    pub plugin: String,
    /// The binding whose orders were replayed.
    pub binding: String,
    /// The version the binding runs.
    pub active_version: String,
    /// The version tried.
    pub candidate_version: String,
    /// Each order, newest first.
    pub orders: Vec<OrderShadow>,
    /// Counts by outcome.
    pub totals: Totals,
}

impl ShadowReport {
    /// The report for a person.
    pub fn to_text(&self) -> String {
        let show = |v: &Option<Value>| v.as_ref().map_or("(missing)".to_owned(), Value::to_string);
        let mut out = format!(
            "shadow of {} {} beside {} on binding {}\n",
            self.plugin, self.candidate_version, self.active_version, self.binding
        );
        for o in &self.orders {
            out.push_str(&format!(
                "{} {}/{} ({})\n",
                o.outcome.to_uppercase(),
                o.shop,
                o.reference,
                o.recorded_at
            ));
            if let Some(e) = &o.error {
                out.push_str(&format!("  {e}\n"));
            }
            for d in &o.differences {
                out.push_str(&format!(
                    "  {}: active {}, candidate {}\n",
                    d.path,
                    show(&d.active),
                    show(&d.candidate)
                ));
            }
            for (side, run) in [("active", &o.active), ("candidate", &o.candidate)] {
                if let Some(run) = run {
                    for u in &run.unmatched_requests {
                        out.push_str(&format!("  {side}: no recording for {u}\n"));
                    }
                }
            }
        }
        let t = &self.totals;
        out.push_str(&format!(
            "{} orders: {} same, {} differ, {} errors\n",
            t.orders, t.same, t.differs, t.errors
        ));
        out
    }
}

/// Replays `tapes` through the binding's active version and `candidate`.
pub async fn run(
    runtime: &Runtime,
    binding: &Binding,
    candidate: &Plugin,
    tapes: &[DispatchTape],
) -> ShadowReport {
    let active = binding.plugin();
    let mut options = binding.options.clone();
    options.limits.deadline = options.limits.deadline.min(CALL_DEADLINE);
    let started = Instant::now();
    let mut orders = Vec::with_capacity(tapes.len());
    let mut totals = Totals::default();
    for tape in tapes {
        let order = if started.elapsed() < RUN_BUDGET {
            shadow_order(runtime, &options, &active, candidate, tape).await
        } else {
            let mut skipped = OrderShadow::new(tape);
            skipped.error = Some(format!(
                "not run: the shadow run took more than its {} s",
                RUN_BUDGET.as_secs()
            ));
            skipped
        };
        totals.orders += 1;
        match order.outcome.as_str() {
            "same" => totals.same += 1,
            "differs" => totals.differs += 1,
            _ => totals.errors += 1,
        }
        orders.push(order);
    }
    ShadowReport {
        plugin: binding.config.plugin.clone(),
        binding: binding.config.id.clone(),
        active_version: active.metadata().version.clone(),
        candidate_version: candidate.metadata().version.clone(),
        orders,
        totals,
    }
}

async fn shadow_order(
    runtime: &Runtime,
    options: &CallOptions,
    active: &Plugin,
    candidate: &Plugin,
    tape: &DispatchTape,
) -> OrderShadow {
    let mut report = OrderShadow::new(tape);
    let parsed = serde_json::from_str::<Order>(&tape.contract_order).and_then(|order| {
        serde_json::from_str::<Vec<Exchange>>(&tape.exchanges).map(|ex| (order, ex))
    });
    let (order, exchanges) = match parsed {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(format!("the tape is unreadable: {e}"));
            return report;
        }
    };
    let a = side(runtime, options, active, &order, &exchanges).await;
    let c = side(runtime, options, candidate, &order, &exchanges).await;
    if let (Some(ao), Some(co)) = (&a.output, &c.output) {
        let mut found: Vec<Difference> = Vec::new();
        diff("$", ao, co, &mut found);
        report.differences = found
            .into_iter()
            .map(|d| ShadowDifference {
                path: d.path,
                active: d.expected,
                candidate: d.actual,
            })
            .collect();
        report.outcome = if report.differences.is_empty() {
            "same".into()
        } else {
            "differs".into()
        };
    } else {
        let failed: Vec<String> = [("active", &a), ("candidate", &c)]
            .iter()
            .filter_map(|(name, run)| run.failure.as_ref().map(|f| format!("{name}: {f}")))
            .collect();
        report.error = Some(format!("the plugin failed: {}", failed.join("; ")));
    }
    report.active = Some(a);
    report.candidate = Some(c);
    report
}

/// One version's submit of the taped order, HTTP replayed from the tape.
async fn side(
    runtime: &Runtime,
    options: &CallOptions,
    plugin: &Plugin,
    order: &Order,
    exchanges: &[Exchange],
) -> SideRun {
    let tape = Arc::new(
        Tape::replaying(exchanges.to_vec()).masking(plugin.secret_values(&options.settings)),
    );
    let options = CallOptions {
        settings: options.settings.clone(),
        network: NetworkPolicy {
            backend: HttpBackend::Replay(tape.clone()),
            ..NetworkPolicy::default()
        },
        limits: options.limits.clone(),
    };
    let json =
        |v: Result<Value, serde_json::Error>| v.unwrap_or_else(|e| Value::String(e.to_string()));
    let started = Instant::now();
    let answer = plugin.submit_order(runtime, &options, order).await;
    let millis = started.elapsed().as_millis() as u64;
    let (output, failure) = match answer {
        Ok(Ok(s)) => (
            Some(serde_json::json!({ "submission": json(serde_json::to_value(s)) })),
            None,
        ),
        Ok(Err(e)) => (
            Some(serde_json::json!({ "error": json(serde_json::to_value(e)) })),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    };
    SideRun {
        output,
        failure,
        unmatched_requests: tape
            .unmatched()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect(),
        millis,
    }
}

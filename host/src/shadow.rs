//! Shadow runs: a binding's recent real inputs (its last orders and its
//! feed) replayed through a candidate version beside the active one, so
//! that an operator sees what a swap would change before making it.
//!
//! Dispatch keeps, for each submit call, the contract order and the
//! supplier's HTTP exchanges (a dispatch tape, [`crate::store::DispatchTape`]).
//! A shadow run gives each of the binding's last tapes to both versions'
//! `submit_order` (what dispatch calls; it calls no `check_order`) with
//! HTTP answered from the tape, and compares their outputs with the
//! fixtures' JSON diff ([`crate::fixtures::diff`]).
//!
//! The feed is the binding's feed as its supplier serves it now (the host
//! keeps no copy of a feed: they reach gigabytes), read once and pushed
//! chunk by chunk into both versions' parsers. Records are paired by SKU
//! (a rejection without one by its position) as they come, so memory holds
//! only the records one version gave and the other has not yet; a run
//! whose versions drift too far apart to pair stops comparing and says so.
//!
//! **Invariant:** a shadow run reaches no network and changes nothing.
//! Every call runs with the replay backend (a request the tape does not
//! answer is a `connection` error given to the plugin, and listed), and the
//! run only reads the store; a plugin has no other way out of its sandbox.
//! The feed is fetched by the host, as a sync would, but nothing parsed is
//! written anywhere.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::feed::{FeedBytes, FeedSource, Validators, describe_feed_error};
use crate::fixtures::{Difference, diff};
use crate::plugins::{CallOptions, FeedSession, Plugin};
use crate::registry::Binding;
use crate::runtime::bindings::shopbridge::connector::types::{FeedRecord, Order};
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

/// The time the feed's comparison may take: a sync of a million products
/// parses in about 30 s, twice that for two versions.
const FEED_BUDGET: Duration = Duration::from_secs(300);

/// Bytes pushed into each parser at once (as a sync does).
const FEED_CHUNK_BYTES: usize = 256 << 10;

/// Records of the feed listed with their differences; the rest are counted.
const RECORDS_LISTED: usize = 100;

/// Records one version gave that the other has not (yet) given, beyond
/// which the versions are too far apart to pair and the comparison stops.
const UNPAIRED_KEPT: usize = 100_000;

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
    /// The feed through both versions' parsers, when it was compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed: Option<FeedShadow>,
}

/// One version's parse of the feed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FeedSideRun {
    /// Products given.
    pub products: u64,
    /// Records rejected.
    pub rejected: u64,
    /// The feed error the plugin answered (its output), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_error: Option<String>,
    /// How the plugin failed (a trap, a deadline, a cap), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Time spent in the parser, milliseconds.
    pub millis: u64,
    /// The guest's largest linear memory, bytes.
    pub guest_memory_peak_bytes: usize,
}

/// One record of the feed that is not the same through both versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordShadow {
    /// Its SKU (a rejection without one: its position).
    pub key: String,
    /// `differs`, `only-active` or `only-candidate`.
    pub outcome: String,
    /// Where, as `$.product.name` (`$` for a record only one version gave).
    pub differences: Vec<ShadowDifference>,
}

/// Counts of the feed's records by outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FeedTotals {
    /// Records paired (given by both versions).
    pub paired: u64,
    /// Paired and equal.
    pub same: u64,
    /// Paired and different.
    pub differs: u64,
    /// Given by the active version only.
    pub only_active: u64,
    /// Given by the candidate only.
    pub only_candidate: u64,
}

/// The binding's feed through both versions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedShadow {
    /// Where the feed was read.
    pub source: String,
    /// Bytes read.
    pub bytes: u64,
    /// `same`, `differs` or `error` (the feed could not be read, a
    /// version failed, or the comparison stopped).
    pub outcome: String,
    /// Why the comparison is incomplete, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The active version's parse.
    pub active: FeedSideRun,
    /// The candidate's parse.
    pub candidate: FeedSideRun,
    /// Counts by outcome.
    pub totals: FeedTotals,
    /// The first records that are not the same: those that differ in feed
    /// order, then those only one version gave, by key.
    pub records: Vec<RecordShadow>,
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
        if let Some(feed) = &self.feed {
            out.push_str(&feed.to_text());
        }
        out
    }
}

impl FeedShadow {
    fn to_text(&self) -> String {
        let show = |v: &Option<Value>| v.as_ref().map_or("(missing)".to_owned(), Value::to_string);
        let mut out = format!(
            "feed {} ({} bytes): {}\n",
            self.source,
            self.bytes,
            self.outcome.to_uppercase()
        );
        if let Some(e) = &self.error {
            out.push_str(&format!("  {e}\n"));
        }
        for (side, run) in [("active", &self.active), ("candidate", &self.candidate)] {
            out.push_str(&format!(
                "  {side}: {} products, {} rejected, {} ms",
                run.products, run.rejected, run.millis
            ));
            for problem in [&run.feed_error, &run.failure].into_iter().flatten() {
                out.push_str(&format!(", {problem}"));
            }
            out.push('\n');
        }
        for r in &self.records {
            match r.outcome.as_str() {
                "only-active" => {
                    out.push_str(&format!("  {}: only the active version gives it\n", r.key))
                }
                "only-candidate" => {
                    out.push_str(&format!("  {}: only the candidate gives it\n", r.key))
                }
                _ => {
                    for d in &r.differences {
                        out.push_str(&format!(
                            "  {} {}: active {}, candidate {}\n",
                            r.key,
                            d.path,
                            show(&d.active),
                            show(&d.candidate)
                        ));
                    }
                }
            }
        }
        let t = &self.totals;
        out.push_str(&format!(
            "{} records paired: {} same, {} differ; {} only in active, {} only in candidate\n",
            t.paired, t.same, t.differs, t.only_active, t.only_candidate
        ));
        out
    }
}

/// Where a shadow run reads the binding's feed.
#[derive(Debug, Clone)]
pub struct FeedInput {
    /// The feed.
    pub source: FeedSource,
    /// Its size cap (the binding's).
    pub max_bytes: u64,
}

/// Replays `tapes` (and the feed, when given) through the binding's active
/// version and `candidate`.
pub async fn run(
    runtime: &Runtime,
    binding: &Binding,
    candidate: &Plugin,
    tapes: &[DispatchTape],
    feed: Option<&FeedInput>,
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
    let feed = match feed {
        Some(input) => Some(shadow_feed(runtime, &options, &active, candidate, input).await),
        None => None,
    };
    ShadowReport {
        plugin: binding.config.plugin.clone(),
        binding: binding.config.id.clone(),
        active_version: active.metadata().version.clone(),
        candidate_version: candidate.metadata().version.clone(),
        orders,
        totals,
        feed,
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
        report.differences = differences(ao, co);
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

/// Where `candidate` differs from `active`, as JSON paths with both values.
fn differences(active: &Value, candidate: &Value) -> Vec<ShadowDifference> {
    let mut found: Vec<Difference> = Vec::new();
    diff("$", active, candidate, &mut found);
    found
        .into_iter()
        .map(|d| ShadowDifference {
            path: d.path,
            active: d.expected,
            candidate: d.actual,
        })
        .collect()
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

/// One version's parser on the feed, and what it gave that the other
/// version has not (yet).
struct FeedSide {
    session: Option<FeedSession>,
    run: FeedSideRun,
    records: u64,
    unpaired: HashMap<String, FeedRecord>,
}

impl FeedSide {
    /// `plugin`'s parser opened on the feed (or why it could not be).
    async fn open(
        runtime: &Runtime,
        options: &CallOptions,
        plugin: &Plugin,
        content_type: Option<String>,
    ) -> FeedSide {
        let mut side = FeedSide {
            session: None,
            run: FeedSideRun::default(),
            records: 0,
            unpaired: HashMap::new(),
        };
        match plugin.open_feed(runtime, options, content_type).await {
            Ok(Ok(session)) => side.session = Some(session),
            Ok(Err(e)) => side.run.feed_error = Some(describe_feed_error(&e)),
            Err(e) => side.run.failure = Some(e.to_string()),
        }
        side
    }

    /// Pushes `chunk` (the end of the feed when empty) into the parser;
    /// the records it completed, none once the parser stopped.
    async fn feed(&mut self, chunk: &[u8]) -> Vec<FeedRecord> {
        let Some(session) = self.session.as_mut() else {
            return Vec::new();
        };
        let started = Instant::now();
        let answer = if chunk.is_empty() {
            session.finish().await
        } else {
            session.push(chunk).await
        };
        self.run.millis += started.elapsed().as_millis() as u64;
        self.run.guest_memory_peak_bytes = session.memory_peak();
        let records = match answer {
            Ok(Ok(records)) => records,
            Ok(Err(e)) => {
                self.run.feed_error = Some(describe_feed_error(&e));
                Vec::new()
            }
            Err(e) => {
                self.run.failure = Some(e.to_string());
                Vec::new()
            }
        };
        if chunk.is_empty() || self.run.feed_error.is_some() || self.run.failure.is_some() {
            self.session = None;
        }
        for record in &records {
            match record {
                FeedRecord::Product(_) => self.run.products += 1,
                FeedRecord::Rejected(_) => self.run.rejected += 1,
            }
        }
        records
    }

    /// The record's key: its SKU, else its position, else its number; a
    /// key this side already holds unpaired gets a `#n` suffix.
    fn key(&mut self, record: &FeedRecord) -> String {
        self.records += 1;
        let base = match record {
            FeedRecord::Product(p) => p.sku.clone(),
            FeedRecord::Rejected(r) => r
                .sku
                .clone()
                .or_else(|| r.position.clone())
                .unwrap_or_else(|| format!("record {}", self.records)),
        };
        let mut key = base.clone();
        let mut n = 1;
        while self.unpaired.contains_key(&key) {
            n += 1;
            key = format!("{base} #{n}");
        }
        key
    }
}

/// A record as JSON: `{"product": …}` or `{"rejected": …}`.
fn record_json(record: &FeedRecord) -> Value {
    let value =
        |v: Result<Value, serde_json::Error>| v.unwrap_or_else(|e| Value::String(e.to_string()));
    match record {
        FeedRecord::Product(p) => serde_json::json!({ "product": value(serde_json::to_value(p)) }),
        FeedRecord::Rejected(r) => {
            serde_json::json!({ "rejected": value(serde_json::to_value(r)) })
        }
    }
}

/// The comparison of the feed so far.
struct FeedComparison {
    totals: FeedTotals,
    records: Vec<RecordShadow>,
}

impl FeedComparison {
    /// Lists a record that is not the same, while fewer than
    /// [`RECORDS_LISTED`] are (its differences are worked out only then).
    fn list(
        &mut self,
        key: String,
        outcome: &str,
        differences: impl FnOnce() -> Vec<ShadowDifference>,
    ) {
        if self.records.len() < RECORDS_LISTED {
            self.records.push(RecordShadow {
                key,
                outcome: outcome.into(),
                differences: differences(),
            });
        }
    }

    /// Pairs each of `records`, given by `this` side, with the same key
    /// waiting on `other`, or leaves it waiting on `this`.
    fn pair(
        &mut self,
        records: Vec<FeedRecord>,
        this: &mut FeedSide,
        other: &mut FeedSide,
        this_is_active: bool,
    ) {
        for record in records {
            let key = this.key(&record);
            let Some(waiting) = other.unpaired.remove(&key) else {
                this.unpaired.insert(key, record);
                continue;
            };
            self.totals.paired += 1;
            if waiting == record {
                self.totals.same += 1;
                continue;
            }
            self.totals.differs += 1;
            let (active, candidate) = if this_is_active {
                (record, waiting)
            } else {
                (waiting, record)
            };
            self.list(key, "differs", || {
                differences(&record_json(&active), &record_json(&candidate))
            });
        }
    }

    /// What is still unpaired at the end is what only one version gave.
    fn finish(&mut self, active: &mut FeedSide, candidate: &mut FeedSide) {
        self.totals.only_active = active.unpaired.len() as u64;
        self.totals.only_candidate = candidate.unpaired.len() as u64;
        for (is_active, unpaired) in [
            (true, &mut active.unpaired),
            (false, &mut candidate.unpaired),
        ] {
            let mut left: Vec<(String, FeedRecord)> = unpaired.drain().collect();
            left.sort_by(|a, b| a.0.cmp(&b.0));
            let outcome = if is_active {
                "only-active"
            } else {
                "only-candidate"
            };
            for (key, record) in left {
                self.list(key, outcome, || {
                    let value = Some(record_json(&record));
                    let (active, candidate) = if is_active {
                        (value, None)
                    } else {
                        (None, value)
                    };
                    vec![ShadowDifference {
                        path: "$".into(),
                        active,
                        candidate,
                    }]
                });
            }
        }
    }
}

/// The binding's feed, read once, through both versions' parsers.
async fn shadow_feed(
    runtime: &Runtime,
    options: &CallOptions,
    active: &Plugin,
    candidate: &Plugin,
    input: &FeedInput,
) -> FeedShadow {
    let mut report = FeedShadow {
        source: match &input.source {
            FeedSource::File(path) => path.display().to_string(),
            FeedSource::Url(url) => url.to_string(),
            FeedSource::Api => "the supplier's API".to_owned(),
        },
        bytes: 0,
        outcome: "error".into(),
        error: None,
        active: FeedSideRun::default(),
        candidate: FeedSideRun::default(),
        totals: FeedTotals::default(),
        records: Vec::new(),
    };
    let opened = FeedBytes::open(
        &input.source,
        FEED_CHUNK_BYTES,
        &Validators::default(),
        Some(input.max_bytes),
    )
    .await;
    let mut bytes = match opened {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            report.error =
                Some("the feed's server answered 304 to an unconditional request".into());
            return report;
        }
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let content_type = bytes.content_type();
    let mut a = FeedSide::open(runtime, options, active, content_type.clone()).await;
    let mut c = FeedSide::open(runtime, options, candidate, content_type).await;
    let mut comparison = FeedComparison {
        totals: FeedTotals::default(),
        records: Vec::new(),
    };
    let started = Instant::now();
    let mut stopped: Option<String> = None;
    loop {
        let chunk = match bytes.next_chunk().await {
            Ok(chunk) => chunk,
            // "could not read the feed: …" (or over its size cap).
            Err(e) => {
                stopped = Some(e.to_string());
                break;
            }
        };
        let end = chunk.is_empty();
        let from_active = a.feed(chunk).await;
        let from_candidate = c.feed(chunk).await;
        comparison.pair(from_active, &mut a, &mut c, true);
        comparison.pair(from_candidate, &mut c, &mut a, false);
        if end || (a.session.is_none() && c.session.is_none()) {
            break;
        }
        if a.unpaired.len().max(c.unpaired.len()) > UNPAIRED_KEPT {
            stopped = Some(format!(
                "comparison stopped after {} bytes: over {UNPAIRED_KEPT} records of one version have no counterpart in the other",
                bytes.progress().0
            ));
            break;
        }
        if started.elapsed() > FEED_BUDGET {
            stopped = Some(format!(
                "comparison stopped after {} bytes: it took more than its {} s",
                bytes.progress().0,
                FEED_BUDGET.as_secs()
            ));
            break;
        }
    }
    report.bytes = bytes.progress().0;
    let failed: Vec<String> = [("active", &a.run), ("candidate", &c.run)]
        .iter()
        .filter_map(|(name, run)| run.failure.as_ref().map(|f| format!("{name}: {f}")))
        .collect();
    if !failed.is_empty() {
        stopped = Some(format!("the plugin failed: {}", failed.join("; ")));
    }
    match stopped {
        Some(why) => report.error = Some(why),
        None => {
            comparison.finish(&mut a, &mut c);
            let t = &comparison.totals;
            let same = t.differs == 0
                && t.only_active == 0
                && t.only_candidate == 0
                && a.run.feed_error == c.run.feed_error;
            report.outcome = if same { "same" } else { "differs" }.into();
        }
    }
    report.totals = comparison.totals;
    report.records = comparison.records;
    report.active = a.run;
    report.candidate = c.run;
    report
}

//! Sandboxed tests of a plugin against a fixture set: feed files with the
//! records expected, orders with the supplier's recorded HTTP exchanges and
//! the submission expected, status requests with their exchanges and the
//! updates expected. HTTP is answered from the recordings (the replay
//! backend of [`crate::runtime::http`]): the plugin reaches no network. A
//! record mode runs the cases live against a supplier's sandbox once and
//! keeps the exchanges and the answers as the expectations.
//!
//! This module owns the fixture format (a directory, or the same content as
//! one JSON document for `POST /v1/plugins/{name}/versions/{v}/tests`), the
//! runs and the report. A fixture directory:
//!
//! ```text
//! settings.json          optional: {"setting": "value", …} for every case
//! cases/<name>.json      one case each, run in name order
//! cases/<file>           feed files a feed case names in "feed_file"
//! ```
//!
//! A case: `{"kind": "feed", "content_type": "text/csv", "feed_file": "x.csv"}`
//! (or `"feed": "…"` inline, or `"feed_base64": "…"` for bytes that are not
//! UTF-8: a feed in windows-1252, say), `{"kind": "order", "order": {…}}` or
//! `{"kind": "status", "references": ["…"]}`, with optional `settings`,
//! `exchanges` (`[{"request": {"method", "url", "body"}, "response":
//! {"status", "headers", "body"}}]`) and `expected` (the output, as the
//! report shows it: `{"products": […], "rejected": […]}`, `{"submission":
//! …}`, `{"updates": […]}`, or `{"error": …}`).
//!
//! A feed reaches the plugin byte for byte as its file holds it: a file that
//! is not UTF-8 is carried as `feed_base64`, never converted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plugins::{CallOptions, Plugin};
use crate::runtime::bindings::shopbridge::connector::types::{FeedRecord, Order};
use crate::runtime::{
    Exchange, HttpBackend, Limits, NetworkPolicy, PluginError, Runtime, Settings, Tape,
};

/// Bytes pushed per call, as a sync does (`feed::DEFAULT_CHUNK_BYTES`).
const CHUNK: usize = 64 << 10;

/// Differences listed per case: a wrong expectation in every product of a
/// large feed would otherwise make a report nobody reads.
const MAX_DIFFERENCES: usize = 50;

/// Why a fixture set could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid fixture JSON.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// Why, with the place in the file.
        message: String,
    },
    /// The set has no case.
    #[error("no case: put one JSON file per case under cases/")]
    Empty,
}

/// A fixture set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FixtureSet {
    /// Settings for every case (a case's own override them).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// The cases, in the order they run.
    pub cases: Vec<Case>,
}

/// One case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// Its name (the file's, without `.json`).
    #[serde(default)]
    pub name: String,
    /// Settings of this case.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// What the plugin is given.
    #[serde(flatten)]
    pub input: Input,
    /// The supplier's recorded answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
    /// The output expected; a case without one fails (record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
}

/// What a case gives the plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Input {
    /// A feed to parse.
    Feed {
        /// The feed's content type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_type: Option<String>,
        /// The feed, inline, when it is UTF-8 text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feed: Option<String>,
        /// The feed, inline, as standard base64: any bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feed_base64: Option<String>,
        /// The feed's file, next to the case (directories only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feed_file: Option<String>,
    },
    /// An order to submit.
    Order {
        /// The order.
        order: Box<Order>,
    },
    /// Supplier orders whose status to poll.
    Status {
        /// The supplier's references.
        references: Vec<String>,
    },
}

impl Input {
    /// A feed case's bytes, as given inline; `None` for other cases and for
    /// a feed only named by its file.
    fn feed_bytes(&self) -> Result<Option<std::borrow::Cow<'_, [u8]>>, String> {
        use base64::Engine as _;
        match self {
            Input::Feed {
                feed: Some(_),
                feed_base64: Some(_),
                ..
            } => Err("a feed case has \"feed\" or \"feed_base64\", not both".into()),
            Input::Feed {
                feed: Some(text), ..
            } => Ok(Some(text.as_bytes().into())),
            Input::Feed {
                feed_base64: Some(encoded),
                ..
            } => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map(|bytes| Some(bytes.into()))
                .map_err(|e| format!("\"feed_base64\" is not base64: {e}")),
            _ => Ok(None),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Input::Feed { .. } => "feed",
            Input::Order { .. } => "order",
            Input::Status { .. } => "status",
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError + '_ {
    move |source| FixtureError::Io {
        path: path.to_owned(),
        source,
    }
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, FixtureError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| FixtureError::Format {
        path: path.display().to_string(),
        message: format!("at {}: {}", e.path(), e.inner()),
    })
}

impl FixtureSet {
    /// Reads a fixture directory; feed files are read inline.
    pub fn load_dir(dir: &Path) -> Result<FixtureSet, FixtureError> {
        let settings_path = dir.join("settings.json");
        let settings = match std::fs::read_to_string(&settings_path) {
            Ok(text) => parse(&settings_path, &text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io(&settings_path)(e)),
        };
        let cases_dir = dir.join("cases");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
            .map_err(io(&cases_dir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut cases = Vec::with_capacity(files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let mut case: Case = parse(&path, &text)?;
            case.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Input::Feed {
                feed: feed @ None,
                feed_base64: feed_base64 @ None,
                feed_file: Some(file),
                ..
            } = &mut case.input
            {
                use base64::Engine as _;
                let feed_path = cases_dir.join(&*file);
                let bytes = std::fs::read(&feed_path).map_err(io(&feed_path))?;
                match String::from_utf8(bytes) {
                    Ok(text) => *feed = Some(text),
                    Err(e) => {
                        *feed_base64 =
                            Some(base64::engine::general_purpose::STANDARD.encode(e.as_bytes()));
                    }
                }
            }
            case.input
                .feed_bytes()
                .map_err(|message| FixtureError::Format {
                    path: path.display().to_string(),
                    message,
                })?;
            cases.push(case);
        }
        if cases.is_empty() {
            return Err(FixtureError::Empty);
        }
        Ok(FixtureSet { settings, cases })
    }

    /// Writes each case back into `dir/cases/<name>.json` (after a
    /// recording), and the settings into `dir/settings.json`. A feed read
    /// from a file stays in its file.
    pub fn write_dir(&self, dir: &Path) -> Result<(), FixtureError> {
        let settings_path = dir.join("settings.json");
        let text = serde_json::to_string_pretty(&self.settings).unwrap_or_default();
        std::fs::write(&settings_path, text + "\n").map_err(io(&settings_path))?;
        for case in &self.cases {
            let mut case = case.clone();
            if let Input::Feed {
                feed,
                feed_base64,
                feed_file,
                ..
            } = &mut case.input
                && feed_file.is_some()
            {
                *feed = None;
                *feed_base64 = None;
            }
            let path = dir.join("cases").join(format!("{}.json", case.name));
            case.name = String::new();
            let mut value = serde_json::to_value(&case).unwrap_or_default();
            if let Some(map) = value.as_object_mut() {
                map.remove("name");
            }
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            std::fs::write(&path, text + "\n").map_err(io(&path))?;
        }
        Ok(())
    }

    /// Checks what the HTTP API accepts: cases with their feeds inline.
    pub fn check_inline(&self) -> Result<(), FixtureError> {
        if self.cases.is_empty() {
            return Err(FixtureError::Empty);
        }
        for (i, case) in self.cases.iter().enumerate() {
            let path = || format!("cases[{i}]");
            match case.input.feed_bytes() {
                Err(message) => {
                    return Err(FixtureError::Format {
                        path: path(),
                        message,
                    });
                }
                Ok(None) if matches!(case.input, Input::Feed { .. }) => {
                    return Err(FixtureError::Format {
                        path: path(),
                        message: "a feed case sent to the server has its feed inline \
                                  (\"feed\", or \"feed_base64\" for bytes that are not UTF-8)"
                            .into(),
                    });
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }
}

/// How a run treats HTTP.
#[derive(Debug, Clone)]
pub enum Mode {
    /// From the recordings; no network.
    Replay,
    /// Live, under this policy (the supplier's sandbox), keeping the
    /// exchanges and the answers.
    Record(NetworkPolicy),
}

/// One difference between the expected and the actual output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// Where, as `$.products[0].price`.
    pub path: String,
    /// What was expected there (absent: null and `missing` in the text).
    pub expected: Option<Value>,
    /// What the plugin gave (absent: null).
    pub actual: Option<Value>,
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseReport {
    /// The case.
    pub name: String,
    /// `feed`, `order` or `status`.
    pub kind: String,
    /// Whether the output is the expected one, with no unanswered request.
    pub passed: bool,
    /// Why it failed, in a sentence (empty when it passed).
    #[serde(default)]
    pub reason: String,
    /// Where the output differs from the expected one.
    #[serde(default)]
    pub differences: Vec<Difference>,
    /// Requests that no recording answered.
    #[serde(default)]
    pub unmatched_requests: Vec<String>,
    /// HTTP requests the plugin made.
    pub http_calls: usize,
    /// The guest's largest linear memory, bytes.
    pub memory_peak_bytes: usize,
    /// Time taken, milliseconds.
    pub millis: u64,
}

/// The report of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The plugin and version tested.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// Whether every case passed.
    pub passed: bool,
    /// Each case, in order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    /// The report for a person.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.cases {
            out.push_str(&format!(
                "{} {} ({}): {} ms, guest memory peak {:.2} MiB, {} HTTP call{}\n",
                if c.passed { "PASS" } else { "FAIL" },
                c.name,
                c.kind,
                c.millis,
                c.memory_peak_bytes as f64 / f64::from(1 << 20),
                c.http_calls,
                if c.http_calls == 1 { "" } else { "s" },
            ));
            if !c.reason.is_empty() {
                out.push_str(&format!("  {}\n", c.reason));
            }
            for d in &c.differences {
                let show =
                    |v: &Option<Value>| v.as_ref().map_or("(missing)".to_owned(), Value::to_string);
                out.push_str(&format!(
                    "  {}: expected {}, got {}\n",
                    d.path,
                    show(&d.expected),
                    show(&d.actual)
                ));
            }
            for u in &c.unmatched_requests {
                out.push_str(&format!("  no recording for {u}\n"));
            }
        }
        let failed = self.cases.iter().filter(|c| !c.passed).count();
        out.push_str(&format!(
            "{} {}: {} cases, {} passed, {failed} failed\n",
            self.plugin,
            self.version,
            self.cases.len(),
            self.cases.len() - failed
        ));
        out
    }
}

/// Runs every case of `set`. In record mode the set's exchanges and
/// expectations are replaced by what the supplier and the plugin answered.
pub async fn run(
    runtime: &Runtime,
    plugin: &Plugin,
    set: &mut FixtureSet,
    mode: &Mode,
    limits: &Limits,
) -> Report {
    let mut cases = Vec::with_capacity(set.cases.len());
    for case in &mut set.cases {
        cases.push(run_case(runtime, plugin, &set.settings, case, mode, limits).await);
    }
    Report {
        plugin: plugin.name().to_owned(),
        version: plugin.metadata().version.clone(),
        passed: cases.iter().all(|c| c.passed),
        cases,
    }
}

async fn run_case(
    runtime: &Runtime,
    plugin: &Plugin,
    shared: &BTreeMap<String, String>,
    case: &mut Case,
    mode: &Mode,
    limits: &Limits,
) -> CaseReport {
    let mut settings = shared.clone();
    settings.extend(case.settings.clone());
    let (tape, network) = match mode {
        Mode::Replay => {
            let tape = Arc::new(Tape::replaying(case.exchanges.clone()));
            let network = NetworkPolicy {
                backend: HttpBackend::Replay(tape.clone()),
                ..NetworkPolicy::default()
            };
            (tape, network)
        }
        Mode::Record(policy) => {
            let tape = Arc::new(Tape::default());
            let network = NetworkPolicy {
                backend: HttpBackend::Record(tape.clone()),
                ..policy.clone()
            };
            (tape, network)
        }
    };
    let options = CallOptions {
        settings: Settings::from_pairs(settings),
        network,
        limits: limits.clone(),
    };
    let started = Instant::now();
    let actual = output(runtime, plugin, &options, &case.input).await;
    let millis = started.elapsed().as_millis() as u64;
    let mut report = CaseReport {
        name: case.name.clone(),
        kind: case.input.kind().to_owned(),
        passed: false,
        reason: String::new(),
        differences: Vec::new(),
        unmatched_requests: tape
            .unmatched()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url))
            .collect(),
        http_calls: tape.calls(),
        memory_peak_bytes: tape.memory_peak(),
        millis,
    };
    let actual = match actual {
        Ok(v) => v,
        Err(e) => {
            report.reason = format!("the plugin failed: {e}");
            return report;
        }
    };
    if matches!(mode, Mode::Record(_)) {
        case.exchanges = tape.recorded();
        case.expected = Some(actual);
        report.passed = true;
        report.reason = format!("recorded {} exchanges", case.exchanges.len());
        return report;
    }
    let Some(expected) = &case.expected else {
        report.reason = "no expected output: record the case first (--record)".into();
        return report;
    };
    diff("$", expected, &actual, &mut report.differences);
    report.differences.truncate(MAX_DIFFERENCES);
    report.passed = report.differences.is_empty() && report.unmatched_requests.is_empty();
    if !report.differences.is_empty() {
        report.reason = format!(
            "the output differs from the expected one at {} place{}",
            report.differences.len(),
            if report.differences.len() == 1 {
                ""
            } else {
                "s"
            }
        );
    } else if !report.unmatched_requests.is_empty() {
        report.reason = "the plugin made requests that no recording answers".into();
    }
    report
}

/// The plugin's output for one input, as JSON.
async fn output(
    runtime: &Runtime,
    plugin: &Plugin,
    options: &CallOptions,
    input: &Input,
) -> Result<Value, PluginError> {
    let json =
        |v: Result<Value, serde_json::Error>| v.unwrap_or_else(|e| Value::String(e.to_string()));
    let error = |e: Value| serde_json::json!({ "error": e });
    match input {
        Input::Feed { content_type, .. } => {
            let mut session = match plugin
                .open_feed(runtime, options, content_type.clone())
                .await?
            {
                Ok(s) => s,
                Err(e) => return Ok(error(json(serde_json::to_value(e)))),
            };
            let mut records = Vec::new();
            // Checked when the set was read (`load_dir`, `check_inline`).
            let bytes = input.feed_bytes().ok().flatten().unwrap_or_default();
            for chunk in bytes.chunks(CHUNK) {
                match session.push(chunk).await? {
                    Ok(r) => records.extend(r),
                    Err(e) => return Ok(error(json(serde_json::to_value(e)))),
                }
            }
            match session.finish().await? {
                Ok(r) => records.extend(r),
                Err(e) => return Ok(error(json(serde_json::to_value(e)))),
            }
            let (mut products, mut rejected) = (Vec::new(), Vec::new());
            for record in records {
                match record {
                    FeedRecord::Product(p) => products.push(json(serde_json::to_value(p))),
                    FeedRecord::Rejected(r) => rejected.push(json(serde_json::to_value(r))),
                }
            }
            Ok(serde_json::json!({ "products": products, "rejected": rejected }))
        }
        Input::Order { order } => Ok(match plugin.submit_order(runtime, options, order).await? {
            Ok(s) => serde_json::json!({ "submission": json(serde_json::to_value(s)) }),
            Err(e) => error(json(serde_json::to_value(e))),
        }),
        Input::Status { references } => Ok(
            match plugin.poll_status(runtime, options, references).await? {
                Ok(u) => serde_json::json!({ "updates": json(serde_json::to_value(u)) }),
                Err(e) => error(json(serde_json::to_value(e))),
            },
        ),
    }
}

/// The paths where `actual` differs from `expected`, deepest first.
pub fn diff(path: &str, expected: &Value, actual: &Value, out: &mut Vec<Difference>) {
    if out.len() >= MAX_DIFFERENCES {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let p = format!("{path}.{key}");
                match a.get(key) {
                    Some(av) => diff(&p, ev, av, out),
                    None => out.push(Difference {
                        path: p,
                        expected: Some(ev.clone()),
                        actual: None,
                    }),
                }
            }
            for (key, av) in a {
                if !e.contains_key(key) {
                    out.push(Difference {
                        path: format!("{path}.{key}"),
                        expected: None,
                        actual: Some(av.clone()),
                    });
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for i in 0..e.len().max(a.len()) {
                let p = format!("{path}[{i}]");
                match (e.get(i), a.get(i)) {
                    (Some(ev), Some(av)) => diff(&p, ev, av, out),
                    (ev, av) => out.push(Difference {
                        path: p,
                        expected: ev.cloned(),
                        actual: av.cloned(),
                    }),
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(Difference {
            path: path.to_owned(),
            expected: Some(e.clone()),
            actual: Some(a.clone()),
        }),
    }
}

/// The limits of a fixture case: the defaults, with a deadline that calls
/// a hang a hang without the 30 s of a real call (cases answer in ms).
pub fn default_limits() -> Limits {
    Limits {
        // 10 s: a replayed case makes no network wait at all.
        deadline: Duration::from_secs(10),
        ..Limits::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_only_the_differing_paths() {
        let expected =
            serde_json::json!({"products": [{"sku": "A", "price": 100}, {"sku": "B"}], "x": 1});
        let actual = serde_json::json!({"products": [{"sku": "A", "price": 120}], "y": 2});
        let mut out = Vec::new();
        diff("$", &expected, &actual, &mut out);
        let paths: Vec<&str> = out.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            ["$.products[0].price", "$.products[1]", "$.x", "$.y"]
        );
        assert_eq!(out[0].actual, Some(serde_json::json!(120)));
        let mut none = Vec::new();
        diff("$", &expected, &expected, &mut none);
        assert!(none.is_empty());
    }
}

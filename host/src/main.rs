//! The `shopbridge` command line.
//!
//! ```text
//! shopbridge serve [--config shopbridge.toml]                  # the order hook, dispatch, status
//! shopbridge feed parse --plugin google_merchant.wasm feed.xml   # products as JSON lines
//! shopbridge plugin inspect csv_wholesaler.wasm                 # metadata, capabilities, imports
//! shopbridge plugin upload --server URL --token T plugin.wasm   # to a running server
//! shopbridge plugin versions|activate|rollback --server URL --token T …
//! shopbridge plugin shadow --server URL --token T NAME VERSION --binding B
//! shopbridge plugin test plugin.wasm --fixtures DIR [--record --settings K=V …]
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use shopbridge::config::Config;
use shopbridge::feed::{self, FeedSource};
use shopbridge::plugins::{CallOptions, Plugin};
use shopbridge::runtime::bindings::shopbridge::connector::types::{Capability, FeedRecord};
use shopbridge::runtime::{HostPattern, Limits, NetworkPolicy, Runtime, RuntimeConfig, Settings};
use shopbridge::shadow::ShadowReport;

#[derive(Parser)]
#[command(
    name = "shopbridge",
    version,
    about = "Connects shops to their suppliers through sandboxed WebAssembly plugins"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (order hook, order and event endpoints) and run
    /// the workers (dispatch to suppliers, status polls, webhooks).
    Serve(ServeArgs),
    /// Supplier feeds.
    #[command(subcommand)]
    Feed(FeedCommand),
    /// The catalog of the configured bindings.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum FeedCommand {
    /// Parse a feed through a plugin: products go to stdout as JSON lines,
    /// the summary (rejections, time, guest memory) to stderr.
    Parse(ParseArgs),
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Sync a binding's catalogue now, in this process, with a progress
    /// bar; prints the run (counts, bytes, errors) as JSON.
    Sync {
        /// The configuration file (the server's).
        #[arg(long, short, env = "SHOPBRIDGE_CONFIG")]
        config: PathBuf,
        /// The binding whose feed to sync.
        #[arg(long)]
        binding: String,
        /// `full`, or `prices` (products missing from the feed are kept).
        #[arg(long, default_value = "full")]
        kind: String,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Show a plugin's metadata, capabilities and imports, or why it does
    /// not fit the contract.
    Inspect {
        /// The component (.wasm) to inspect.
        component: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a component against a fixture set, here, with no server: HTTP is
    /// answered from the recorded exchanges (no network). Prints each case
    /// (pass or fail with the differing fields, time, guest memory peak,
    /// HTTP calls); fails when a case fails. With --record, runs the cases
    /// live against a supplier's sandbox instead and writes the exchanges
    /// and the answers into the fixture files as the expectations.
    Test {
        /// The component (.wasm).
        component: PathBuf,
        /// The fixture directory (settings.json, cases/*.json).
        #[arg(long)]
        fixtures: PathBuf,
        /// Record: run live and write the exchanges and expectations. The
        /// settings and network options below are for recording only
        /// (secret settings are written to the fixtures masked).
        #[arg(long)]
        record: bool,
        #[command(flatten)]
        sandbox: SandboxArgs,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Upload a component to a running server (`POST /v1/plugins`); prints
    /// the stored version as JSON, or the server's reason for refusing it.
    Upload {
        #[command(flatten)]
        api: ApiArgs,
        /// The component (.wasm).
        component: PathBuf,
    },
    /// List a running server's plugin versions and what each binding runs;
    /// with a name, that plugin's versions (with their conformance reports).
    Versions {
        #[command(flatten)]
        api: ApiArgs,
        /// A plugin's name.
        name: Option<String>,
    },
    /// Run a version on one binding, or on every binding of the plugin
    /// (operators).
    Activate {
        #[command(flatten)]
        api: ApiArgs,
        /// The plugin's name.
        name: String,
        /// The version.
        version: String,
        /// Only this binding.
        #[arg(long)]
        binding: Option<String>,
        /// Activate a version the conformance suite rejected (logged).
        #[arg(long = "override")]
        override_rejection: bool,
    },
    /// Replay a binding's last orders through its active version and this
    /// one, HTTP from each dispatch's recording, and print where their
    /// answers differ (operators).
    Shadow {
        #[command(flatten)]
        api: ApiArgs,
        /// The plugin's name.
        name: String,
        /// The candidate version.
        version: String,
        /// The binding whose orders are replayed.
        #[arg(long)]
        binding: String,
        /// How many of its last orders (the server's default: 20; at most
        /// 50; 0 for none).
        #[arg(long)]
        orders: Option<u32>,
        /// Leave the binding's feed out (by default a binding with a
        /// catalog has its feed parsed by both versions and compared).
        #[arg(long)]
        no_feed: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Return one binding, or every binding of the plugin, to its previous
    /// version (operators).
    Rollback {
        #[command(flatten)]
        api: ApiArgs,
        /// The plugin's name.
        name: String,
        /// Only this binding.
        #[arg(long)]
        binding: Option<String>,
    },
}

/// Where the server is and who calls it.
#[derive(Args)]
struct ApiArgs {
    /// The server, e.g. https://shopbridge.example.
    #[arg(long, env = "SHOPBRIDGE_SERVER")]
    server: String,
    /// An operator's or integrator's token.
    #[arg(long, env = "SHOPBRIDGE_TOKEN", hide_env_values = true)]
    token: String,
}

#[derive(Args)]
struct ServeArgs {
    /// The configuration file (TOML). Without it: the embedded demo
    /// configuration (SQLite under ./data, the example plugins).
    #[arg(long, short, env = "SHOPBRIDGE_CONFIG")]
    config: Option<PathBuf>,
    /// Without --config: where the example plugin components are.
    #[arg(
        long,
        env = "SHOPBRIDGE_PLUGIN_DIR",
        default_value = "target/guests/wasm32-wasip2/guest"
    )]
    plugin_dir: PathBuf,
    /// Without --config: the demo wholesaler's API (`cargo xtask demo` starts a fake one).
    #[arg(
        long,
        env = "SHOPBRIDGE_DEMO_SUPPLIER",
        default_value = "http://127.0.0.1:8090"
    )]
    demo_supplier: String,
}

#[derive(Args)]
struct ParseArgs {
    /// The plugin component (.wasm).
    #[arg(long)]
    plugin: PathBuf,
    #[command(flatten)]
    sandbox: SandboxArgs,
    /// Bytes pushed into the plugin per call.
    #[arg(long, default_value_t = feed::DEFAULT_CHUNK_BYTES)]
    chunk_size: usize,
    /// Guest memory cap, MiB.
    #[arg(long, default_value_t = 64)]
    memory_mib: usize,
    /// Deadline of each call into the plugin, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    deadline_ms: u64,
    /// Print only the summary, not the products.
    #[arg(long, short)]
    quiet: bool,
    /// The feed: a file path or an http(s) URL.
    source: String,
}

/// What a plugin run here is lent: its settings and its network.
#[derive(Args)]
struct SandboxArgs {
    /// A plugin setting, as key=value; repeat for several
    /// (`--settings currency=EUR --settings delimiter=';'`).
    #[arg(long = "settings", alias = "setting", value_name = "KEY=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
    /// Hosts the plugin may reach over HTTP (besides its declaration).
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// Let the plugin reach private, loopback and link-local addresses.
    #[arg(long)]
    allow_private_network: bool,
}

impl SandboxArgs {
    /// The network policy these options give.
    fn network(&self) -> NetworkPolicy {
        NetworkPolicy {
            allowed_hosts: self
                .allow_hosts
                .iter()
                .map(|h| HostPattern::new(h))
                .collect(),
            allow_private_network: self.allow_private_network,
            ..NetworkPolicy::default()
        }
    }
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes, no backtrace: this is for a person.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    init_tracing(cli.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Catalog(CatalogCommand::Sync {
                config,
                binding,
                kind,
            }) => catalog_sync(config, binding, kind).await,
            Command::Feed(FeedCommand::Parse(args)) => parse(args).await,
            Command::Plugin(PluginCommand::Inspect { component, json }) => {
                inspect(component, json).await
            }
            Command::Plugin(PluginCommand::Test {
                component,
                fixtures,
                record,
                sandbox,
                json,
            }) => {
                let network = record.then(|| sandbox.network());
                plugin_test(component, fixtures, network, sandbox.settings, json).await
            }
            Command::Plugin(PluginCommand::Upload { api, component }) => {
                upload(api, component).await
            }
            Command::Plugin(PluginCommand::Versions { api, name }) => {
                let path = match name {
                    Some(name) => format!("/v1/plugins/{name}/versions"),
                    None => "/v1/plugins".to_owned(),
                };
                print_json(&plugin_api(&api, reqwest::Method::GET, &path, None).await?)
            }
            Command::Plugin(PluginCommand::Activate {
                api,
                name,
                version,
                binding,
                override_rejection,
            }) => {
                let body =
                    serde_json::json!({ "binding": binding, "override": override_rejection });
                let path = format!("/v1/plugins/{name}/versions/{version}/activate");
                print_json(&plugin_api(&api, reqwest::Method::POST, &path, Some(body)).await?)
            }
            Command::Plugin(PluginCommand::Shadow {
                api,
                name,
                version,
                binding,
                orders,
                no_feed,
                json,
            }) => {
                let mut body = serde_json::json!({ "binding": binding });
                if let Some(n) = orders {
                    body["orders"] = n.into();
                }
                if no_feed {
                    body["feed"] = false.into();
                }
                let path = format!("/v1/plugins/{name}/versions/{version}/shadow");
                let answer = plugin_api(&api, reqwest::Method::POST, &path, Some(body)).await?;
                if json {
                    return print_json(&answer);
                }
                let report: ShadowReport = serde_json::from_value(answer)
                    .context("the server's answer is not a shadow report")?;
                print!("{}", report.to_text());
                Ok(())
            }
            Command::Plugin(PluginCommand::Rollback { api, name, binding }) => {
                let body = serde_json::json!({ "binding": binding });
                let path = format!("/v1/plugins/{name}/rollback");
                print_json(&plugin_api(&api, reqwest::Method::POST, &path, Some(body)).await?)
            }
        }
    })
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHOPBRIDGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only on a terminal: logs piped to a file stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => {
            let config = Config::embedded_default(&args.plugin_dir, &args.demo_supplier);
            eprintln!(
                "No --config given: running the embedded demo configuration (copy it into a file to start your own):\n\n{}",
                config.to_toml_masked()
            );
            config
        }
    };
    shopbridge::server::serve(config, shopbridge::server::shutdown_signal(), |address| {
        // On stdout, for scripts and tests that start the server on port 0.
        println!("shopbridge: listening on http://{address}");
    })
    .await?;
    Ok(())
}

async fn catalog_sync(config: PathBuf, binding: String, kind: String) -> anyhow::Result<()> {
    use shopbridge::store::Store;
    use std::sync::Arc;

    if kind != "full" && kind != "prices" {
        bail!("--kind is full or prices, not '{kind}'");
    }
    let config = Config::load(&config)?;
    let Some(declared) = config.bindings.iter().find(|b| b.id == binding) else {
        bail!("the configuration has no binding '{binding}'");
    };
    if declared.catalog.is_none() {
        bail!("binding '{binding}' has no [bindings.catalog] section (feed_url, schedules, rules)");
    }
    let store = Store::connect(&config.server.database).await?;
    let runtime = Arc::new(Runtime::new(&RuntimeConfig::default())?);
    let registry = Arc::new(shopbridge::registry::Registry::load(&config, runtime).await?);
    let id = match store.request_inline_sync(&binding, &kind).await? {
        Ok(id) => id,
        Err(running) => bail!("sync {running} of '{binding}' is already queued or running"),
    };
    let workers = shopbridge::jobs::Workers::new(
        store.clone(),
        registry,
        Arc::new(shopbridge::metrics::Metrics::new()),
        config.server.clone(),
    )?;
    let progress =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let watcher = {
        let store = store.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if let Ok(Some(run)) = store.sync_run(id).await {
                    if let Some(total) = run.total_bytes {
                        progress.set_length(total as u64);
                    }
                    progress.set_position(run.bytes as u64);
                    progress.set_message(format!(
                        "{} new, {} changed, {} unchanged",
                        run.created, run.updated, run.unchanged
                    ));
                }
            }
        })
    };
    let result = workers.sync_inline(id).await;
    watcher.abort();
    progress.finish_and_clear();
    result?;
    let run = store
        .sync_run(id)
        .await?
        .context("the sync run disappeared")?;
    println!("{}", serde_json::to_string_pretty(&run)?);
    match run.state.as_str() {
        "succeeded" | "unchanged" => Ok(()),
        state => bail!(
            "the sync {state}: {}",
            run.error.as_deref().unwrap_or("no reason given")
        ),
    }
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A JSON call to `/v1/plugins…`; a refusal becomes an error with the
/// server's reason.
async fn plugin_api(
    api: &ApiArgs,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}{path}", api.server.trim_end_matches('/'));
    let mut request = reqwest::Client::new()
        .request(method.clone(), &url)
        .bearer_auth(&api.token);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let text = response.text().await.context("reading the answer")?;
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    if !status.is_success() {
        let reason = body["detail"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        bail!("{method} {path} was refused ({status}): {reason}");
    }
    Ok(body)
}

async fn upload(api: ApiArgs, component: PathBuf) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(&component)
        .await
        .with_context(|| format!("reading {}", component.display()))?;
    let url = format!("{}/v1/plugins", api.server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&api.token)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .with_context(|| format!("sending {} to {url}", component.display()))?;
    let status = response.status();
    let text = response.text().await.context("reading the answer")?;
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    if !status.is_success() {
        let reason = body["detail"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        bail!("{} was refused ({status}): {reason}", component.display());
    }
    println!("{}", serde_json::to_string_pretty(&body)?);
    if status == reqwest::StatusCode::OK {
        eprintln!("already uploaded: nothing changed");
    }
    Ok(())
}

async fn plugin_test(
    component: PathBuf,
    dir: PathBuf,
    record: Option<NetworkPolicy>,
    settings: Vec<(String, String)>,
    json: bool,
) -> anyhow::Result<()> {
    use shopbridge::fixtures::{self, FixtureSet, Mode};
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let plugin = load(&runtime, &component).await?;
    let mut set = FixtureSet::load_dir(&dir)?;
    let mode = match record {
        Some(policy) => {
            set.settings.extend(settings.iter().cloned());
            Mode::Record(policy)
        }
        None => {
            if !settings.is_empty() {
                bail!("--settings is for --record; a replay uses the fixtures' settings.json");
            }
            Mode::Replay
        }
    };
    let report = fixtures::run(
        &runtime,
        &plugin,
        &mut set,
        &mode,
        &fixtures::default_limits(),
    )
    .await;
    if matches!(mode, Mode::Record(_)) && report.passed {
        // A secret (an API key) is not kept in files that get committed:
        // requests are matched without their headers, so a replay needs none.
        for spec in plugin.metadata().settings.iter().filter(|s| s.secret) {
            if let Some(value) = set.settings.get_mut(&spec.name) {
                *value = "(recorded; secret not kept)".to_owned();
            }
        }
        set.write_dir(&dir)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    if !report.passed {
        let failed = report.cases.iter().filter(|c| !c.passed).count();
        bail!("{failed} of {} fixture cases failed", report.cases.len());
    }
    Ok(())
}

async fn load(runtime: &Runtime, path: &PathBuf) -> anyhow::Result<Plugin> {
    let bytes = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    Plugin::load(runtime, &bytes)
        .await
        .with_context(|| format!("{} was refused", path.display()))
}

async fn parse(args: ParseArgs) -> anyhow::Result<()> {
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let plugin = load(&runtime, &args.plugin).await?;
    if !plugin
        .metadata()
        .capabilities
        .contains(&Capability::Catalog)
    {
        bail!(
            "plugin '{}' does not parse feeds (no catalog capability)",
            plugin.name()
        );
    }
    let options = CallOptions {
        network: args.sandbox.network(),
        settings: Settings::from_pairs(args.sandbox.settings),
        limits: Limits {
            memory_bytes: args.memory_mib << 20,
            deadline: Duration::from_millis(args.deadline_ms),
            ..Limits::default()
        },
    };
    let source = FeedSource::parse(&args.source);

    let progress =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut write_error: Option<std::io::Error> = None;
    let quiet = args.quiet;
    let result = feed::parse_feed(
        &runtime,
        &plugin,
        &options,
        &source,
        args.chunk_size,
        |record| {
            if let (FeedRecord::Product(product), false, None) = (record, quiet, &write_error) {
                let line = serde_json::to_string(product).map_err(std::io::Error::other);
                if let Err(e) = line.and_then(|l| writeln!(out, "{l}")) {
                    write_error = Some(e);
                }
            }
        },
        |done, total| {
            if progress.length().is_none()
                && let Some(total) = total
            {
                progress.set_length(total);
            }
            progress.set_position(done);
        },
    )
    .await;
    progress.finish_and_clear();
    out.flush().ok();
    drop(out);
    if let Some(e) = write_error {
        return Err(e).context("writing products to stdout");
    }
    let summary =
        result.with_context(|| format!("parsing {} with '{}'", args.source, plugin.name()))?;

    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} products, {} rejected, {:.1} MB in {:.3} s ({:.1} MB/s), guest memory peak {:.2} MiB",
        summary.products,
        summary.rejected,
        summary.bytes as f64 / 1e6,
        summary.elapsed.as_secs_f64(),
        summary.megabytes_per_second(),
        summary.guest_memory_peak_bytes as f64 / (1 << 20) as f64,
    )?;
    for r in &summary.rejections {
        writeln!(
            err,
            "  rejected {}{}: {}",
            r.position.as_deref().unwrap_or("?"),
            r.sku
                .as_deref()
                .map(|s| format!(" (sku {s})"))
                .unwrap_or_default(),
            r.reason
        )?;
    }
    if summary.rejected > summary.rejections.len() as u64 {
        writeln!(
            err,
            "  … and {} more",
            summary.rejected - summary.rejections.len() as u64
        )?;
    }
    Ok(())
}

async fn inspect(component: PathBuf, json: bool) -> anyhow::Result<()> {
    let runtime = Runtime::new(&RuntimeConfig::default())?;
    let plugin = load(&runtime, &component).await?;
    let meta = plugin.metadata();
    if json {
        let report = serde_json::json!({
            "metadata": meta,
            "imports": plugin.report().imports,
            "exports": plugin.report().exports,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {}", meta.name, meta.version)?;
    writeln!(out, "{}", meta.description)?;
    let caps: Vec<&str> = meta
        .capabilities
        .iter()
        .map(|c| match c {
            Capability::Catalog => "catalog",
            Capability::Orders => "orders",
            Capability::Status => "status",
        })
        .collect();
    writeln!(out, "capabilities: {}", caps.join(", "))?;
    writeln!(
        out,
        "hosts: {}",
        if meta.hosts.is_empty() {
            "(none)".to_owned()
        } else {
            meta.hosts.join(", ")
        }
    )?;
    writeln!(out, "settings:")?;
    for s in &meta.settings {
        writeln!(
            out,
            "  {}{}{}{} — {}",
            s.name,
            if s.required { " (required)" } else { "" },
            if s.secret { " (secret)" } else { "" },
            s.default_value
                .as_deref()
                .map(|d| format!(" [default: {d}]"))
                .unwrap_or_default(),
            s.description
        )?;
    }
    writeln!(out, "imports:")?;
    for i in &plugin.report().imports {
        writeln!(out, "  {i}")?;
    }
    writeln!(out, "exports:")?;
    for e in &plugin.report().exports {
        writeln!(out, "  {e}")?;
    }
    Ok(())
}

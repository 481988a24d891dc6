//! The `shopbridge` command line, run as a user would: a real process, real
//! components built from source, real files.

use std::path::PathBuf;
use std::process::{Command, Output};

use shopbridge_tests::{components, project_fixture};

fn shopbridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("running shopbridge")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shopbridge-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("writing temp file");
    path
}

#[test]
fn inspect_shows_metadata_capabilities_and_imports() {
    let out = shopbridge(&["plugin", "inspect", components::CSV_WHOLESALER]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("csv-wholesaler 0.1.0"), "{stdout}");
    assert!(
        stdout.contains("capabilities: catalog, orders, status"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(secret)"),
        "the API key is declared secret: {stdout}"
    );
    assert!(
        stdout.contains("shopbridge:connector/http@0.1.0"),
        "{stdout}"
    );

    let out = shopbridge(&["plugin", "inspect", "--json", components::GOOGLE_MERCHANT]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["metadata"]["name"], "google-merchant");
    assert_eq!(
        report["metadata"]["capabilities"],
        serde_json::json!(["Catalog"])
    );
    assert!(
        report["exports"].as_array().is_some_and(|e| e.len() == 4),
        "{report}"
    );
}

#[test]
fn inspect_refuses_what_does_not_fit_the_contract_with_a_reason() {
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "notes.txt",
            b"hello".to_vec(),
            "not a WebAssembly component",
        ),
        (
            "core.wasm",
            wat::parse_str("(module (func (export \"f\")))").expect("wat"),
            "not a WebAssembly component",
        ),
        (
            "sockets.wasm",
            wat::parse_str(r#"(component (import "wasi:sockets/tcp@0.2.6" (instance)))"#)
                .expect("wat"),
            "imports 'wasi:sockets/tcp@0.2.6'",
        ),
        (
            "empty.wasm",
            wat::parse_str("(component)").expect("wat"),
            "does not export 'shopbridge:connector/plugin'",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = temp_file(name, &bytes);
        let out = shopbridge(&["plugin", "inspect", path.to_str().expect("utf-8 path")]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{name} was accepted");
        assert!(
            stderr.contains(reason),
            "{name}: expected '{reason}' in: {stderr}"
        );
        assert!(
            !stderr.contains("Stack backtrace"),
            "errors are for people: {stderr}"
        );
    }
    let out = shopbridge(&["plugin", "inspect", "/no/such/plugin.wasm"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/no/such/plugin.wasm"));
}

#[test]
fn feed_parse_prints_products_as_json_lines_and_a_summary() {
    let feed = project_fixture("plugins/google-merchant/fixtures/merchant-rss.xml");
    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::GOOGLE_MERCHANT,
        "--settings",
        "currency=EUR",
        feed.to_str().expect("utf-8 path"),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let products: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON product"))
        .collect();
    assert!(!products.is_empty());
    assert!(
        products
            .iter()
            .all(|p| p["sku"].as_str().is_some_and(|s| !s.is_empty()))
    );
    let summary = stderr
        .lines()
        .find(|l| l.contains("products,"))
        .expect("a summary line");
    assert!(
        summary.starts_with(&format!("{} products", products.len())),
        "{summary}"
    );
    assert!(summary.contains("guest memory peak"), "{summary}");
}

#[test]
fn feed_parse_reports_a_plugin_failure_and_exits_non_zero() {
    let feed = temp_file("any.xml", b"<x/>");
    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::HOSTILE,
        "--settings",
        "mode=loop",
        "--deadline-ms",
        "200",
        feed.to_str().expect("utf-8 path"),
    ]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("exceeded its 200ms deadline"), "{stderr}");

    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::GOOGLE_MERCHANT,
        "/no/such/feed.xml",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("/no/such/feed.xml"));

    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::GOOGLE_MERCHANT,
        "--settings",
        "novalue",
        "x",
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("'novalue' is not KEY=VALUE"));
}

#[test]
fn a_plugins_stdout_and_stderr_go_to_the_log_with_its_name() {
    let feed = temp_file("print.xml", b"<x/>");
    let out = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args([
            "feed",
            "parse",
            "--plugin",
            components::HOSTILE,
            "--settings",
            "mode=print",
        ])
        .arg(&feed)
        .env("SHOPBRIDGE_LOG", "info")
        .output()
        .expect("running shopbridge");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for stream in ["stdout", "stderr"] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("hello on {stream} from the plugin")))
            .unwrap_or_else(|| panic!("no log line for the plugin's {stream}: {stderr}"));
        assert!(
            line.contains("plugin=hostile") || line.contains("plugin: hostile"),
            "{line}"
        );
    }
    // The product output on stdout is untouched by the plugin's prints.
    assert!(
        text(&out.stdout).lines().all(|l| l.starts_with('{')),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn feed_parse_fetches_a_url_itself() {
    let feed = std::fs::read(project_fixture(
        "plugins/google-merchant/fixtures/merchant-atom.xml",
    ))
    .expect("fixture");
    let server = shopbridge_tests::LoopbackServer::start(axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || {
            let feed = feed.clone();
            async move { ([("content-type", "application/atom+xml")], feed) }
        }),
    ));
    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::GOOGLE_MERCHANT,
        &server.url("/feed.xml"),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let products = text(&out.stdout).lines().count();
    assert!(products > 0, "{stderr}");
    assert!(stderr.contains(&format!("{products} products")), "{stderr}");

    let out = shopbridge(&[
        "feed",
        "parse",
        "--plugin",
        components::GOOGLE_MERCHANT,
        &server.url("/gone.xml"),
    ]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("404"), "{}", text(&out.stderr));
}

/// A configuration with one binding whose catalogue is `feed` (a file).
fn catalog_config(name: &str, feed: &std::path::Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shopbridge-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = format!(
        r#"
[server]
database = "sqlite://{}/shopbridge.db"

[[plugins]]
name = "google-merchant"
path = "{}"

[[shops]]
id = "boutique"
key_id = "boutique"
secret = "a-long-shop-secret"

[[bindings]]
id = "merchant"
shop = "boutique"
plugin = "google-merchant"

[bindings.catalog]
feed_url = "file://{}"
pricing = {{ markup_percent = 0.0 }}
"#,
        dir.display(),
        components::GOOGLE_MERCHANT,
        feed.display()
    );
    let path = dir.join("shopbridge.toml");
    std::fs::write(&path, config).expect("writing the config");
    path
}

#[test]
fn catalog_sync_from_the_cli_counts_and_then_finds_the_file_unchanged() {
    let feed = project_fixture("plugins/google-merchant/fixtures/merchant-rss.xml");
    let config = catalog_config("sync", &feed);
    let config = config.to_str().expect("utf-8 path");
    let out = shopbridge(&[
        "catalog",
        "sync",
        "--config",
        config,
        "--binding",
        "merchant",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the run as JSON");
    assert_eq!(run["state"], "succeeded", "{run}");
    assert!(run["created"].as_i64().unwrap_or(0) >= 5, "{run}");
    assert!(
        run["rejected"].as_i64().unwrap_or(0) >= 1,
        "the fixture has bad records: {run}"
    );
    assert_eq!(run["updated"], 0);

    // The same file again: its size and modification time say unchanged.
    let out = shopbridge(&[
        "catalog",
        "sync",
        "--config",
        config,
        "--binding",
        "merchant",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(again["state"], "unchanged", "{again}");
}

#[test]
fn a_hostile_or_broken_feed_fails_the_sync_with_a_reason() {
    let bomb = temp_file(
        "bomb.xml",
        br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A</g:id><g:title>&lol2;</g:title></item></channel></rss>"#,
    );
    let config = catalog_config("bomb", &bomb);
    let out = shopbridge(&[
        "catalog",
        "sync",
        "--config",
        config.to_str().expect("utf-8"),
        "--binding",
        "merchant",
    ]);
    assert!(!out.status.success(), "an entity bomb was synced");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the sync failed"), "{stderr}");
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the run is printed");
    assert_eq!(run["created"], 0, "{run}");

    let missing = catalog_config("missing", std::path::Path::new("/nonexistent/feed.xml"));
    let out = shopbridge(&[
        "catalog",
        "sync",
        "--config",
        missing.to_str().expect("utf-8"),
        "--binding",
        "merchant",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("/nonexistent/feed.xml"),
        "{}",
        text(&out.stderr)
    );

    let out = shopbridge(&[
        "catalog",
        "sync",
        "--config",
        missing.to_str().expect("utf-8"),
        "--binding",
        "nope",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no binding 'nope'"),
        "{}",
        text(&out.stderr)
    );
}

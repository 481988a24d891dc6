//! The `shopbridge` command line, run as a user would: a real process, real
//! components built from source, real files.

use std::path::PathBuf;
use std::process::{Command, Output};

use shopbridge_tests::feedgen::{merchant_feed_in, utf16le_with_mark};
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
    let cases: [(&str, Vec<u8>, &str); 5] = [
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
        (
            "instances.wasm",
            wat::parse_str(format!(
                "(component (core module $m) {})",
                "(core instance (instantiate $m))".repeat(9)
            ))
            .expect("wat"),
            "needs more than a plugin instance may have on this host",
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

/// A copy of the csv-wholesaler's example fixture set, to change freely.
fn fixture_copy(name: &str) -> PathBuf {
    let from = project_fixture("plugins/csv-wholesaler/fixtures");
    let dir = std::env::temp_dir().join(format!(
        "shopbridge-cli-{}-fixtures-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cases")).expect("fixture dir");
    std::fs::copy(from.join("settings.json"), dir.join("settings.json")).expect("settings");
    for entry in std::fs::read_dir(from.join("cases")).expect("cases") {
        let path = entry.expect("entry").path();
        let file = path.file_name().expect("file name");
        std::fs::copy(&path, dir.join("cases").join(file)).expect("copying a case");
    }
    dir
}

fn read_case(dir: &std::path::Path, case: &str) -> serde_json::Value {
    let path = dir.join("cases").join(format!("{case}.json"));
    serde_json::from_slice(&std::fs::read(path).expect("case file")).expect("case JSON")
}

fn write_case(dir: &std::path::Path, case: &str, value: &serde_json::Value) {
    let path = dir.join("cases").join(format!("{case}.json"));
    std::fs::write(path, value.to_string()).expect("writing the case");
}

#[test]
fn plugin_test_passes_the_example_fixtures_and_reports_each_case() {
    let dir = fixture_copy("pass");
    let out = shopbridge(&[
        "plugin",
        "test",
        components::CSV_WHOLESALER,
        "--fixtures",
        dir.to_str().expect("UTF-8 path"),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["passed"], true, "{report}");
    let cases = report["cases"].as_array().expect("cases");
    let names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        ["01-feed", "02-order", "03-unknown-sku", "04-status"]
    );
    // The feed makes no request; each order and the status poll make one,
    // answered from the recording.
    let calls: Vec<u64> = cases
        .iter()
        .filter_map(|c| c["http_calls"].as_u64())
        .collect();
    assert_eq!(calls, [0, 1, 1, 1], "{report}");
    assert!(
        cases
            .iter()
            .all(|c| c["memory_peak_bytes"].as_u64() > Some(0)),
        "{report}"
    );
}

#[test]
fn plugin_test_fails_a_wrong_expectation_with_the_field_and_an_unrecorded_request() {
    let dir = fixture_copy("wrong");
    let mut feed = read_case(&dir, "01-feed");
    feed["expected"]["products"][0]["stock_quantity"] = serde_json::json!(13);
    write_case(&dir, "01-feed", &feed);
    let mut order = read_case(&dir, "02-order");
    order["order"]["lines"][0]["quantity"] = serde_json::json!(3);
    write_case(&dir, "02-order", &order);

    let out = shopbridge(&[
        "plugin",
        "test",
        components::CSV_WHOLESALER,
        "--fixtures",
        dir.to_str().expect("UTF-8 path"),
    ]);
    let stdout = text(&out.stdout);
    assert!(
        !out.status.success(),
        "a failing case fails the command: {stdout}"
    );
    assert!(
        stdout.contains("FAIL 01-feed")
            && stdout.contains("$.products[0].stock_quantity: expected 13, got 12"),
        "{stdout}"
    );
    // Only the differing field is listed.
    assert!(!stdout.contains("$.products[0].sku"), "{stdout}");
    assert!(
        stdout.contains("FAIL 02-order")
            && stdout
                .contains("no recording for POST http://127.0.0.1:8090/rest/order/create.json"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS 04-status"), "{stdout}");
    assert!(
        text(&out.stderr).contains("2 of 4 fixture cases failed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plugin_test_records_against_a_sandbox_then_replays_with_it_gone() {
    use shopbridge_tests::fakes::wholesaler::FakeWholesaler;
    let dir = fixture_copy("record");
    let committed: Vec<serde_json::Value> = ["01-feed", "02-order", "03-unknown-sku", "04-status"]
        .iter()
        .map(|c| read_case(&dir, c)["expected"].clone())
        .collect();
    for case in ["01-feed", "02-order", "03-unknown-sku", "04-status"] {
        let mut value = read_case(&dir, case);
        let map = value.as_object_mut().expect("a case is an object");
        map.remove("exchanges");
        map.remove("expected");
        write_case(&dir, case, &value);
    }
    let fixtures = dir.to_str().expect("UTF-8 path").to_owned();
    let supplier = FakeWholesaler::start("sandbox-key");
    let url = supplier.base_url();
    let authority = url.trim_start_matches("http://").to_owned();
    let out = shopbridge(&[
        "plugin",
        "test",
        components::CSV_WHOLESALER,
        "--fixtures",
        &fixtures,
        "--record",
        "--settings",
        &format!("api-base-url={url}"),
        "--settings",
        "api-key=sandbox-key",
        "--allow-host",
        &authority,
        "--allow-private-network",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Both orders (the second refused for its unknown SKU) reached the sandbox once each.
    assert_eq!(supplier.create_attempts(), 2);
    drop(supplier);
    let settings = std::fs::read_to_string(dir.join("settings.json")).expect("settings");
    assert!(
        !settings.contains("sandbox-key"),
        "a secret is not written: {settings}"
    );

    // Move the recordings to a port where nothing listens (bound, then
    // closed): the replay still passes, so it reached no network.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    for entry in std::fs::read_dir(dir.join("cases")).expect("cases") {
        let path = entry.expect("entry").path();
        let content = std::fs::read_to_string(&path).expect("case");
        std::fs::write(&path, content.replace(&authority, &closed)).expect("rewriting");
    }
    std::fs::write(
        dir.join("settings.json"),
        settings.replace(&authority, &closed),
    )
    .expect("rewriting the settings");
    assert!(
        std::net::TcpStream::connect(&closed).is_err(),
        "{closed} answers"
    );
    let out = shopbridge(&[
        "plugin",
        "test",
        components::CSV_WHOLESALER,
        "--fixtures",
        &fixtures,
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("4 cases, 4 passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
    // The same answers as the committed example (recorded against the demo supplier).
    for (case, expected) in ["01-feed", "02-order", "03-unknown-sku", "04-status"]
        .iter()
        .zip(&committed)
    {
        assert_eq!(&read_case(&dir, case)["expected"], expected, "{case}");
    }
}

/// The products' names `feed parse` prints for `feed` through `plugin`,
/// or its error output when it fails.
fn parsed_names(
    plugin: &str,
    feed: &[u8],
    name: &str,
    settings: &[&str],
) -> Result<Vec<String>, String> {
    let path = temp_file(name, feed);
    let mut args = vec!["feed", "parse", "--plugin", plugin];
    for setting in settings {
        args.extend(["--settings", setting]);
    }
    args.push(path.to_str().expect("UTF-8 path"));
    let out = shopbridge(&args);
    if !out.status.success() {
        return Err(text(&out.stderr));
    }
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(" products, 0 rejected,"),
        "nothing rejected: {stderr}"
    );
    Ok(text(&out.stdout)
        .lines()
        .map(|l| {
            let product: serde_json::Value = serde_json::from_str(l).expect("a JSON product");
            product["name"].as_str().unwrap_or_default().to_owned()
        })
        .collect())
}

// The bytes below come from the code pages' published tables (Microsoft's
// cp1250.txt and cp1252.txt, ISO/IEC 8859-15): in windows-1252 0xE8 è,
// 0xFB û, 0xE9 é, 0x9C œ, 0xE7 ç, 0x80 €; in windows-1250 0x8A Š, 0xE8 č,
// 0xE1 á, 0xF8 ř, 0xED í; in ISO-8859-15 0xBD œ, 0xA4 €.
const FRENCH_NAMES: [&str; 3] = ["Crème brûlée", "Cœur façonné", "Prix 10 €"];
const FRENCH_1252: [&[u8]; 3] = [
    b"Cr\xE8me br\xFBl\xE9e",
    b"C\x9Cur fa\xE7onn\xE9",
    b"Prix 10 \x80",
];

#[test]
fn feed_parse_reads_xml_feeds_in_the_encoding_they_declare() {
    let plugin = components::GOOGLE_MERCHANT;
    let names = |feed: &[u8], file: &str| parsed_names(plugin, feed, file, &[]);
    assert_eq!(
        names(
            &merchant_feed_in("windows-1252", "P", &FRENCH_1252),
            "fr-1252.xml"
        ),
        Ok(FRENCH_NAMES.map(str::to_owned).to_vec())
    );
    assert_eq!(
        names(
            &merchant_feed_in(
                "windows-1250",
                "P",
                &[b"\x8Akoda \xE8erven\xE1", b"\xF8\xEDzen\xED"]
            ),
            "cz-1250.xml"
        ),
        Ok(vec!["Škoda červená".to_owned(), "řízení".to_owned()])
    );
    assert_eq!(
        names(
            &merchant_feed_in("ISO-8859-15", "P", &[b"C\xBDur", b"10 \xA4"]),
            "fr-8859-15.xml"
        ),
        Ok(vec!["Cœur".to_owned(), "10 €".to_owned()])
    );
    let utf8 = merchant_feed_in("UTF-16", "P", &FRENCH_NAMES.map(str::as_bytes));
    let utf16 = utf16le_with_mark(&String::from_utf8(utf8).expect("UTF-8"));
    assert_eq!(
        names(&utf16, "fr-utf16.xml"),
        Ok(FRENCH_NAMES.map(str::to_owned).to_vec())
    );
    // An encoding nobody knows, and one that is not what the file is.
    let unknown = names(&merchant_feed_in("x-klingon", "P", &[b"a"]), "unknown.xml");
    assert!(
        unknown
            .as_ref()
            .is_err_and(|e| e.contains("unknown encoding 'x-klingon'")),
        "{unknown:?}"
    );
    let lying = names(
        &merchant_feed_in("windows-1252", "P", &FRENCH_NAMES.map(str::as_bytes)),
        "lying.xml",
    );
    assert!(
        lying
            .as_ref()
            .is_err_and(|e| e.contains("windows-1252") && e.contains("UTF-8")),
        "{lying:?}"
    );
}

#[test]
fn feed_parse_reads_csv_exports_in_the_encoding_set() {
    let plugin = components::CSV_WHOLESALER;
    // Excel's "CSV (séparateur: point-virgule)" on a French Windows.
    let mut ansi = b"R\xE9f\xE9rence;D\xE9signation;Prix HT\r\n".to_vec();
    for (i, name) in FRENCH_1252.iter().enumerate() {
        ansi.extend_from_slice(format!("R{i};").as_bytes());
        ansi.extend_from_slice(name);
        ansi.extend_from_slice(b";4,50\r\n");
    }
    let expected = Ok(FRENCH_NAMES.map(str::to_owned).to_vec());
    for setting in ["encoding=windows-1252", "encoding=auto"] {
        assert_eq!(
            parsed_names(plugin, &ansi, "excel.csv", &[setting]),
            expected,
            "{setting}"
        );
    }
    // Left as UTF-8, the header cannot be read and the error says why.
    let as_utf8 = parsed_names(plugin, &ansi, "excel-utf8.csv", &[]);
    assert!(
        as_utf8
            .as_ref()
            .is_err_and(|e| e.contains("is not valid UTF-8")),
        "{as_utf8:?}"
    );
    // Excel's "Unicode text": UTF-16LE with a mark, tab-separated; the
    // default setting reads it by its mark.
    let mut unicode = String::from("Référence\tDésignation\tPrix HT\r\n");
    for (i, name) in FRENCH_NAMES.iter().enumerate() {
        unicode.push_str(&format!("R{i}\t{name}\t4,50\r\n"));
    }
    assert_eq!(
        parsed_names(plugin, &utf16le_with_mark(&unicode), "unicode.txt", &[]),
        expected
    );
    let unknown = parsed_names(plugin, &ansi, "excel-x.csv", &["encoding=ebcdic"]);
    assert!(
        unknown
            .as_ref()
            .is_err_and(|e| e.contains("setting 'encoding'") && e.contains("'ebcdic'")),
        "{unknown:?}"
    );
}

#[test]
fn plugin_test_hands_a_fixture_feed_its_bytes_as_they_are() {
    let dir = std::env::temp_dir().join(format!(
        "shopbridge-cli-{}-fixtures-legacy",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("cases")).expect("fixture dir");
    let mut ansi = b"sku;name;prix ht\r\n".to_vec();
    for (i, name) in FRENCH_1252.iter().enumerate() {
        ansi.extend_from_slice(format!("R{i};").as_bytes());
        ansi.extend_from_slice(name);
        ansi.extend_from_slice(b";4,50\r\n");
    }
    std::fs::write(dir.join("cases").join("catalog-1252.csv"), &ansi).expect("feed file");
    std::fs::write(dir.join("settings.json"), r#"{"encoding": "windows-1252"}"#).expect("settings");
    write_case(
        &dir,
        "01-feed",
        &serde_json::json!({"kind": "feed", "content_type": "text/csv", "feed_file": "catalog-1252.csv"}),
    );
    let fixtures = dir.to_str().expect("UTF-8 path");
    let plugin = components::CSV_WHOLESALER;
    // Recorded: the expected products are the plugin's own answer.
    let out = shopbridge(&["plugin", "test", plugin, "--fixtures", fixtures, "--record"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let case = read_case(&dir, "01-feed");
    let names: Vec<&str> = case["expected"]["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, FRENCH_NAMES, "{case}");
    assert!(
        case.get("feed").is_none() && case.get("feed_base64").is_none(),
        "{case}"
    );
    // Replayed: the same bytes give the same products.
    let out = shopbridge(&["plugin", "test", plugin, "--fixtures", fixtures]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Read as UTF-8, the same file gives other answers: the case fails.
    std::fs::write(dir.join("settings.json"), "{}").expect("settings");
    let out = shopbridge(&["plugin", "test", plugin, "--fixtures", fixtures]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
}

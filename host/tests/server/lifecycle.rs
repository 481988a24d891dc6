//! The plugin lifecycle through `/v1/plugins` and `shopbridge plugin
//! upload`: who may do what (operators, integrators, shops), what an
//! upload refuses and why, idempotent and conflicting uploads, activation
//! and rollback, a restart that loads the active version from the compiled
//! cache, two processes on one PostgreSQL switching within a second, and a
//! hot swap under load that loses no order, and a shadow run of a
//! binding's recent orders through a candidate version.
//!
//! The `swap` test plugin comes in two builds, 1.0.0 and 2.0.0, whose
//! supplier references start with `v1-` or `v2-`: every order says which
//! version placed it.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shopbridge_tests::{LoopbackServer, block_on, components};

use crate::support::*;

const OPERATOR_TOKEN: &str = "operator-token-0123456789abcdef";
const ACME_TOKEN: &str = "acme-integrator-token-0123456789";
const GLOBEX_TOKEN: &str = "globex-integrator-token-0123456789";
/// The size cap of these tests: above csv-wholesaler (~0.5 MB) and the
/// swap builds (~90 KB), so that a larger body shows the refusal.
const MAX_PLUGIN_BYTES: usize = 1 << 20;

on_both_databases!(
    upload_activate_rollback_and_restart_from_the_cache,
    hot_swap_under_load_loses_no_order,
    a_shadow_run_shows_what_a_swap_would_change,
);

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `swapped` binding's feed (`sku;name;price in cents`), on which
/// swap 2.0.0 parses differently from 1.0.0: an upper-case name for SW-1
/// (SW-2's already is), a product without a price for SW-3 (1.0.0 rejects
/// the line), and SW-5's free sample left out.
const SWAP_FEED: &str = "SW-1;Blue mug;1299\nSW-2;RED MUG;1499\nSW-3;Teapot\nSW-5;Sample;0\n";

/// A configuration: one shop, one binding `swapped` to the `swap` plugin
/// (1.0.0 in the file) with a catalog feed (a file, never synced: no
/// schedule), an operator and two integrators (tokens hashed in the file,
/// but globex's in clear, which the file also accepts).
fn config_file(database: &Database, listen: &str) -> std::path::PathBuf {
    config_file_with(database, listen, "", None, "")
}

/// The same, with more `[server]` settings, the feed at `feed_url` instead
/// of a file, and more tables (`[[bindings]]`…) at the end.
fn config_file_with(
    database: &Database,
    listen: &str,
    server: &str,
    feed_url: Option<&str>,
    tables: &str,
) -> std::path::PathBuf {
    let stem = format!(
        "shopbridge-lifecycle-{}-{}",
        std::process::id(),
        sha256_hex(database.url.as_bytes())
    );
    let feed = match feed_url {
        Some(url) => url.to_owned(),
        None => {
            let file = std::env::temp_dir().join(format!("{stem}-feed.csv"));
            std::fs::write(&file, SWAP_FEED).expect("writing the feed");
            file.display().to_string()
        }
    };
    let text = format!(
        r#"
[server]
listen = "{listen}"
database = "{}"
retry_base = "100ms"
retry_max = "2s"
max_plugin_bytes = {MAX_PLUGIN_BYTES}
{server}

[[plugins]]
name = "swap"
path = "{}"

[[shops]]
id = "{SHOP}"
key_id = "{KEY_ID}"
secret = "{SECRET}"

[[bindings]]
id = "swapped"
shop = "{SHOP}"
plugin = "swap"
sku_prefixes = [""]
status_poll = "1h"

[bindings.catalog]
feed_url = "{}"

[[operators]]
name = "ops"
token_sha256 = "{}"

[[integrators]]
name = "acme"
token_sha256 = "{}"

[[integrators]]
name = "globex"
token = "{GLOBEX_TOKEN}"
{tables}
"#,
        database.url,
        components::SWAP_V1,
        feed,
        sha256_hex(OPERATOR_TOKEN.as_bytes()),
        sha256_hex(ACME_TOKEN.as_bytes()),
    );
    let path = std::env::temp_dir().join(format!("{stem}.toml"));
    std::fs::write(&path, text).expect("writing the config");
    path
}

fn start(database: &Database) -> Server {
    Server::start_with_file(config_file(database, "127.0.0.1:0"))
}

/// A POST of a JSON body to the plugin API with a bearer token (or none).
fn post_json(base: &str, path: &str, token: Option<&str>, body: &Value) -> Answer {
    call(base, "POST", path, token, body.to_string().into_bytes())
}

/// A call to the plugin API with a bearer token (or none).
fn call(base: &str, method: &str, path: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
    let mut request = reqwest::Client::new()
        .request(method.parse().expect("method"), format!("{base}{path}"))
        .timeout(Duration::from_secs(60))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if path == "/v1/plugins" && method == "POST" {
        request = request.header("content-type", "application/wasm");
    } else {
        request = request.header("content-type", "application/json");
    }
    block_on(async move {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        Answer {
            status,
            body,
            headers,
        }
    })
}

fn upload(base: &str, token: &str, path: &str) -> Answer {
    call(
        base,
        "POST",
        "/v1/plugins",
        Some(token),
        std::fs::read(path).expect("reading the component"),
    )
}

fn activate(base: &str, version: &str, binding: Option<&str>) -> Answer {
    let body = binding.map_or(Vec::new(), |b| {
        json!({ "binding": b }).to_string().into_bytes()
    });
    call(
        base,
        "POST",
        &format!("/v1/plugins/swap/versions/{version}/activate"),
        Some(OPERATOR_TOKEN),
        body,
    )
}

fn rollback(base: &str) -> Answer {
    call(
        base,
        "POST",
        "/v1/plugins/swap/rollback",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    )
}

/// What the binding `swapped` runs, as `GET /v1/plugins` says.
fn running(base: &str) -> Value {
    let answer = call(base, "GET", "/v1/plugins", Some(OPERATOR_TOKEN), Vec::new());
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["bindings"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["binding"] == "swapped"))
        .cloned()
        .unwrap_or_else(|| panic!("no binding 'swapped' in {:?}", answer.body))
}

fn detail(answer: &Answer) -> String {
    answer.body["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts a refusal: its status, its problem type and words of its reason.
fn assert_refused(answer: &Answer, status: u16, slug: &str, words: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(
        answer.body["type"],
        format!("https://shopbridge.dev/problems/{slug}"),
        "{:?}",
        answer.body
    );
    assert!(
        detail(answer).contains(words),
        "expected '{words}' in {:?}",
        answer.body
    );
    assert_eq!(answer.headers["content-type"], "application/problem+json");
}

/// Posts an order of SKU-1 and waits until its supplier order is
/// submitted; returns the supplier reference.
fn submitted_reference(shop: &ShopClient, reference: &str) -> String {
    submitted(shop, &order_json(reference, &["SKU-1"]))
}

/// The same for an order as given.
fn submitted(shop: &ShopClient, order: &Value) -> String {
    let reference = order["reference"].as_str().expect("the order's reference");
    let answer = shop.post_order(order);
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    wait_for(
        &format!("{reference} to be submitted"),
        Duration::from_secs(30),
        || {
            let view = shop.order(reference);
            view.body["supplier_orders"][0]["supplier_reference"]
                .as_str()
                .map(str::to_owned)
        },
    )
}

#[test]
fn who_may_do_what_and_every_refusal_with_its_reason() {
    let database = Database::new(Db::Sqlite);
    let server = start(&database);
    let base = server.base.clone();

    // No credentials, a malformed header, an unknown token: 401.
    let none = call(&base, "GET", "/v1/plugins", None, Vec::new());
    assert_refused(&none, 401, "unauthorized", "Authorization: Bearer");
    let basic = block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{base}/v1/plugins"))
            .header("authorization", "Basic b3BzOnNlY3JldA==")
            .send()
            .await
            .expect("answers");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    });
    assert_eq!(basic.0, 401);
    assert!(basic.1.contains("not 'Bearer <token>'"), "{}", basic.1);
    let unknown = call(
        &base,
        "GET",
        "/v1/plugins",
        Some("not-a-known-token-at-all"),
        Vec::new(),
    );
    assert_refused(&unknown, 401, "unauthorized", "not one of this server's");

    // A shop's signed credentials do not reach /v1/plugins, not even to upload.
    let shop = server.shop();
    let wasm = std::fs::read(components::SWAP_V2).expect("swap v2");
    let signed = shop.send("POST", "/v1/plugins", &wasm);
    assert_eq!(signed.status, 403, "{:?}", signed.body);
    assert!(
        detail(&signed).contains("shop's signed credentials"),
        "{:?}",
        signed.body
    );

    // What an upload refuses, each with its reason.
    let cases: [(&str, Vec<u8>, u16, &str, &str); 8] = [
        (
            "text",
            b"hello, I am not wasm".to_vec(),
            422,
            "not-a-component",
            "not a WebAssembly component",
        ),
        (
            "core module",
            wat::parse_str("(module (func (export \"f\")))").expect("wat"),
            422,
            "not-a-component",
            "build the plugin for wasm32-wasip2",
        ),
        (
            "sockets",
            wat::parse_str(r#"(component (import "wasi:sockets/tcp@0.2.6" (instance)))"#)
                .expect("wat"),
            422,
            "forbidden-import",
            "imports 'wasi:sockets/tcp@0.2.6'",
        ),
        (
            "no contract",
            wat::parse_str("(component)").expect("wat"),
            422,
            "contract-mismatch",
            "does not export 'shopbridge:connector/plugin'",
        ),
        // Valid components that need more than one instance may have
        // (the pooling allocator's per-instance limits, and the memory a
        // call may use), refused before anything runs.
        (
            "nine core instances",
            wat::parse_str(format!(
                "(component (core module $m) {})",
                "(core instance (instantiate $m))".repeat(9)
            ))
            .expect("wat"),
            422,
            "over-limits",
            "9 core module instances, which exceeds the configured maximum of 8",
        ),
        (
            "a 2 GiB memory",
            wat::parse_str(
                "(component (core module $m (memory 32768)) (core instance (instantiate $m)))",
            )
            .expect("wat"),
            422,
            "over-limits",
            "module memory does not fit in pooling allocator requirements",
        ),
        (
            "a table of a million entries",
            wat::parse_str(
                "(component (core module $m (table 1000000 funcref)) (core instance (instantiate $m)))",
            )
            .expect("wat"),
            422,
            "over-limits",
            "module table does not fit in pooling allocator requirements",
        ),
        (
            "too large",
            vec![0u8; MAX_PLUGIN_BYTES + 10],
            413,
            "too-large",
            "server.max_plugin_bytes",
        ),
    ];
    for (what, bytes, status, slug, words) in cases {
        let answer = call(&base, "POST", "/v1/plugins", Some(ACME_TOKEN), bytes);
        assert_refused(&answer, status, slug, words);
        eprintln!("{what}: refused as expected");
    }
    // The contract at another version: the plugin interface exported at 0.2.
    let future = wat::parse_str(
        r#"(component
            (instance $empty)
            (export "shopbridge:connector/plugin@0.2.0" (instance $empty))
        )"#,
    )
    .expect("wat");
    let answer = call(&base, "POST", "/v1/plugins", Some(ACME_TOKEN), future);
    assert_refused(
        &answer,
        422,
        "contract-mismatch",
        "this host speaks shopbridge:connector@0.1.x",
    );
    let answer = call(
        &base,
        "POST",
        "/v1/plugins",
        Some(ACME_TOKEN),
        b"{}".to_vec(),
    );
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    let json_body = block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/v1/plugins"))
            .bearer_auth(ACME_TOKEN)
            .header("content-type", "application/json")
            .body(wasm.clone())
            .send()
            .await
            .expect("answers")
            .status()
            .as_u16()
    });
    assert_eq!(json_body, 415);

    // acme uploads the hostile plugin: created, then the same bytes again: 200.
    let created = upload(&base, ACME_TOKEN, components::HOSTILE);
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["name"], "hostile");
    assert_eq!(created.body["version"], "0.1.0");
    assert_eq!(created.body["uploader"], "acme");
    let hostile_bytes = std::fs::read(components::HOSTILE).expect("hostile");
    assert_eq!(created.body["sha256"], sha256_hex(&hostile_bytes));
    assert_eq!(created.body["size"], hostile_bytes.len());
    assert_eq!(created.body["metadata"]["name"], "hostile");
    let again = upload(&base, ACME_TOKEN, components::HOSTILE);
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["sha256"], created.body["sha256"]);

    // globex (token from the environment) uploads csv-wholesaler.
    let globex = upload(&base, GLOBEX_TOKEN, components::CSV_WHOLESALER);
    assert_eq!(globex.status, 201, "{:?}", globex.body);
    assert_eq!(globex.body["uploader"], "globex");

    // Each integrator sees only their own.
    let list = call(&base, "GET", "/v1/plugins", Some(ACME_TOKEN), Vec::new());
    assert_eq!(list.status, 200, "{:?}", list.body);
    let names: Vec<&str> = list.body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(names, ["hostile"]);
    let all = call(
        &base,
        "GET",
        "/v1/plugins",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    );
    assert_eq!(
        all.body["versions"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        all.body
    );

    // …and cannot read, upload over, or activate another's.
    let theirs = call(
        &base,
        "GET",
        "/v1/plugins/csv-wholesaler/versions",
        Some(ACME_TOKEN),
        Vec::new(),
    );
    assert_refused(&theirs, 403, "forbidden", "belongs to another integrator");
    let mine = call(
        &base,
        "GET",
        "/v1/plugins/hostile/versions",
        Some(ACME_TOKEN),
        Vec::new(),
    );
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(mine.body["versions"][0]["version"], "0.1.0");
    let over = upload(&base, GLOBEX_TOKEN, components::HOSTILE);
    assert_refused(&over, 403, "forbidden", "belongs to another integrator");
    // A name the configuration runs is the operators': no integrator claims it.
    let claim = upload(&base, GLOBEX_TOKEN, components::SWAP_V2);
    assert_refused(&claim, 403, "forbidden", "or to the operators");
    let activate_theirs = call(
        &base,
        "POST",
        "/v1/plugins/csv-wholesaler/versions/0.1.0/activate",
        Some(ACME_TOKEN),
        Vec::new(),
    );
    assert_refused(
        &activate_theirs,
        403,
        "forbidden",
        "belongs to another integrator",
    );
    // Not even their own: activation is the operators'.
    let activate_own = call(
        &base,
        "POST",
        "/v1/plugins/hostile/versions/0.1.0/activate",
        Some(ACME_TOKEN),
        Vec::new(),
    );
    assert_refused(&activate_own, 403, "forbidden", "for operators");
    let unknown = call(
        &base,
        "GET",
        "/v1/plugins/nothing-here/versions",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    );
    assert_refused(&unknown, 404, "unknown-plugin", "no plugin 'nothing-here'");

    // The operator: a version no binding runs cannot be activated.
    let unused = call(
        &base,
        "POST",
        "/v1/plugins/hostile/versions/0.1.0/activate",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    );
    assert_refused(
        &unused,
        422,
        "wrong-binding",
        "no binding runs plugin 'hostile'",
    );
    let missing = activate(&base, "9.9.9", None);
    assert_refused(&missing, 404, "unknown-version", "no version 9.9.9");
    let nothing = rollback(&base);
    assert_refused(
        &nothing,
        409,
        "nothing-to-roll-back",
        "no binding of plugin 'swap'",
    );
    // The file runs swap 1.0.0: other bytes calling themselves swap 1.0.0
    // are a conflict, as for a stored version.
    let mut rebuilt = std::fs::read(components::SWAP_V1).expect("swap v1");
    rebuilt.extend_from_slice(&[0, 6, 5, b'o', b't', b'h', b'e', b'r']);
    let answer = call(&base, "POST", "/v1/plugins", Some(OPERATOR_TOKEN), rebuilt);
    assert_refused(
        &answer,
        409,
        "version-exists",
        "swap 1.0.0 was already uploaded",
    );
}

#[test]
fn a_rebuilt_version_with_other_bytes_is_a_conflict_and_the_cli_uploads() {
    let database = Database::new(Db::Sqlite);
    let server = start(&database);
    let cli = |token: &str, path: &str| {
        Command::new(env!("CARGO_BIN_EXE_shopbridge"))
            .args([
                "plugin",
                "upload",
                "--server",
                &server.base,
                "--token",
                token,
                path,
            ])
            .env_remove("SHOPBRIDGE_TOKEN")
            .output()
            .expect("running shopbridge plugin upload")
    };
    let out = cli(OPERATOR_TOKEN, components::SWAP_V2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uploaded: Value = serde_json::from_str(&stdout).expect("the version as JSON");
    assert_eq!(uploaded["name"], "swap");
    assert_eq!(uploaded["version"], "2.0.0");
    assert_eq!(uploaded["uploader"], "ops");

    // The same bytes again: fine, and said so.
    let out = cli(OPERATOR_TOKEN, components::SWAP_V2);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already uploaded"));

    // Other bytes declaring swap 2.0.0: a trailing custom section changes
    // the bytes, not what the component is.
    let mut rebuilt = std::fs::read(components::SWAP_V2).expect("swap v2");
    rebuilt.extend_from_slice(&[0, 6, 5, b'n', b'o', b't', b'e', b'x']);
    let path = std::env::temp_dir().join(format!("swap-rebuilt-{}.wasm", std::process::id()));
    std::fs::write(&path, &rebuilt).expect("writing");
    let out = cli(OPERATOR_TOKEN, path.to_str().expect("utf-8"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a conflicting upload was accepted");
    assert!(stderr.contains("409"), "{stderr}");
    assert!(
        stderr.contains("swap 2.0.0 was already uploaded with other bytes"),
        "{stderr}"
    );
    let direct = call(
        &server.base,
        "POST",
        "/v1/plugins",
        Some(OPERATOR_TOKEN),
        rebuilt,
    );
    assert_refused(
        &direct,
        409,
        "version-exists",
        "give this build a new version",
    );
    let _ = std::fs::remove_file(&path);

    // A refusal through the CLI carries the server's reason; a bad token too.
    let out = cli(ACME_TOKEN, components::SWAP_V1);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another integrator"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli("wrong-token-wrong-token", components::SWAP_V1);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));

    // Versions, activation and rollback from the command line.
    let plugin = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
            .arg("plugin")
            .args(args)
            .args(["--server", &server.base, "--token", OPERATOR_TOKEN])
            .output()
            .expect("running shopbridge plugin");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            serde_json::from_str::<Value>(&stdout).ok(),
            stderr,
        )
    };
    let (ok, listed, stderr) = plugin(&["versions", "swap"]);
    assert!(ok, "{stderr}");
    let listed = listed.expect("JSON");
    assert_eq!(listed["versions"][0]["version"], "2.0.0", "{listed}");
    assert_eq!(listed["bindings"][0]["version"], "1.0.0", "{listed}");
    let (ok, activated, stderr) = plugin(&["activate", "swap", "2.0.0", "--binding", "swapped"]);
    assert!(ok, "{stderr}");
    assert_eq!(activated.expect("JSON")["bindings"][0]["version"], "2.0.0");
    assert_eq!(running(&server.base)["version"], "2.0.0");
    let (ok, back, stderr) = plugin(&["rollback", "swap"]);
    assert!(ok, "{stderr}");
    assert_eq!(back.expect("JSON")["bindings"][0]["version"], "1.0.0");
    assert_eq!(running(&server.base)["version"], "1.0.0");
    let (ok, _, stderr) = plugin(&["activate", "swap", "9.9.9"]);
    assert!(!ok);
    assert!(
        stderr.contains("404") && stderr.contains("no version 9.9.9"),
        "{stderr}"
    );
}

fn upload_activate_rollback_and_restart_from_the_cache(db: Db) {
    let database = Database::new(db);
    let mut server = start(&database);
    let shop = server.shop();

    // The file's 1.0.0 serves first.
    assert_eq!(running(&server.base)["version"], "1.0.0");
    assert!(submitted_reference(&shop, "LC-1").starts_with("v1-"));

    // Upload 2.0.0 and 1.0.0, activate 2.0.0 on the binding.
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V2).status,
        201
    );
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V1).status,
        201
    );
    let versions = call(
        &server.base,
        "GET",
        "/v1/plugins/swap/versions",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    );
    let mut listed: Vec<&str> = versions.body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, ["1.0.0", "2.0.0"], "{:?}", versions.body);
    let activated = activate(&server.base, "2.0.0", Some("swapped"));
    assert_eq!(activated.status, 200, "{:?}", activated.body);
    assert_eq!(activated.body["bindings"][0]["version"], "2.0.0");
    assert_eq!(activated.body["bindings"][0]["previous"], "1.0.0");
    assert_eq!(running(&server.base)["version"], "2.0.0");
    assert!(submitted_reference(&shop, "LC-2").starts_with("v2-"));

    // Roll back: 1.0.0 again; activate everywhere: 2.0.0 again.
    let back = rollback(&server.base);
    assert_eq!(back.status, 200, "{:?}", back.body);
    assert_eq!(back.body["bindings"][0]["version"], "1.0.0");
    assert!(submitted_reference(&shop, "LC-3").starts_with("v1-"));
    assert_eq!(activate(&server.base, "2.0.0", None).status, 200);
    assert!(submitted_reference(&shop, "LC-4").starts_with("v2-"));

    // A restart runs 2.0.0 (the store's, over the file's 1.0.0), with the
    // code compiled before: nothing is compiled again.
    server.restart();
    let after = running(&server.base);
    assert_eq!(after["version"], "2.0.0", "{after}");
    assert_eq!(after["loaded_from"], "cache", "{after}");
    assert_eq!(
        after["sha256"],
        sha256_hex(&std::fs::read(components::SWAP_V2).expect("v2"))
    );
    assert!(server.shop().order("LC-4").status == 200);
    assert!(submitted_reference(&server.shop(), "LC-5").starts_with("v2-"));
    // And a rollback after the restart still knows the previous version.
    assert_eq!(rollback(&server.base).status, 200);
    assert_eq!(running(&server.base)["version"], "1.0.0");
    assert_eq!(running(&server.base)["loaded_from"], "cache");

    // The file now binds another plugin: the file wins over the activation
    // of the plugin it no longer names.
    assert_eq!(activate(&server.base, "2.0.0", None).status, 200);
    let text = std::fs::read_to_string(&server.config_path).expect("config");
    let text = format!(
        "{}\n[[plugins]]\nname = \"other\"\npath = \"{}\"\n",
        text.replace("plugin = \"swap\"", "plugin = \"other\""),
        components::HOSTILE
    );
    std::fs::write(&server.config_path, text).expect("config");
    server.restart();
    let now = running(&server.base);
    assert_eq!(now["plugin"], "other", "{now}");
    assert_eq!(now["version"], "0.1.0", "{now}");
    assert!(submitted_reference(&server.shop(), "LC-6").starts_with("H-"));
}

#[test]
fn two_processes_on_one_postgres_switch_within_a_second() {
    let database = Database::new(Db::Postgres);
    let first = start(&database);
    let second = start(&database);
    assert_eq!(running(&second.base)["version"], "1.0.0");
    assert_eq!(
        upload(&first.base, OPERATOR_TOKEN, components::SWAP_V2).status,
        201
    );

    for (version, act) in [("2.0.0", true), ("1.0.0", false), ("2.0.0", false)] {
        let answer = if act {
            activate(&first.base, version, None)
        } else {
            rollback(&first.base)
        };
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let switched = Instant::now();
        // The first process switched before answering.
        assert_eq!(running(&first.base)["version"], version);
        wait_for(
            &format!("the second process to run {version}"),
            Duration::from_secs(5),
            || (running(&second.base)["version"] == version).then_some(()),
        );
        let took = switched.elapsed();
        assert!(
            took < Duration::from_secs(1),
            "the second process switched to {version} after {took:?}"
        );
        // The second process never compiled it: the first one's artefact.
        if version == "2.0.0" {
            assert_eq!(running(&second.base)["loaded_from"], "cache");
        }
    }
    let reference = submitted_reference(&second.shop(), "PG-1");
    assert!(reference.starts_with("v2-"), "{reference}");
}

/// While a load generator posts orders, the binding goes from 1.0.0 to
/// 2.0.0 and back, again and again: no request fails, no order is lost,
/// every order was placed by exactly one version, and both versions served.
fn hot_swap_under_load_loses_no_order(db: Db) {
    /// Orders sent: enough to span many swaps.
    const ORDERS: usize = 300;
    let database = Database::new(db);
    let server = start(&database);
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V2).status,
        201
    );
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V1).status,
        201
    );

    let done = Arc::new(AtomicBool::new(false));
    let generator = {
        let shop = server.shop();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut refused = Vec::new();
            for i in 0..ORDERS {
                let reference = format!("HS-{i}");
                match shop.try_post_order(&order_json(&reference, &["SKU-1"])) {
                    Some(a) if a.status == 202 => {}
                    other => refused.push((reference, other.map(|a| a.status))),
                }
            }
            done.store(true, Ordering::Relaxed);
            refused
        })
    };
    let mut swaps = 0;
    while !done.load(Ordering::Relaxed) {
        let answer = if swaps % 2 == 0 {
            activate(&server.base, "2.0.0", Some("swapped"))
        } else {
            rollback(&server.base)
        };
        assert_eq!(answer.status, 200, "swap {swaps}: {:?}", answer.body);
        swaps += 1;
        // A swap every few orders (an order takes a few milliseconds to
        // post), so that dispatches run on both sides of many swaps.
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = generator.join().expect("the load generator");
    assert!(refused.is_empty(), "orders refused: {refused:?}");
    // At least three round trips v1 → v2 → v1 during the load (dozens in
    // practice): otherwise the test proves nothing about swaps.
    assert!(swaps >= 6, "only {swaps} swaps happened during the load");

    let shop = server.shop();
    let mut by_version = [0usize; 2];
    for i in 0..ORDERS {
        let reference = format!("HS-{i}");
        let supplier_reference = wait_for(
            &format!("{reference} to be submitted"),
            Duration::from_secs(60),
            || {
                let view = shop.order(&reference);
                let so = &view.body["supplier_orders"][0];
                assert!(so["last_error"].is_null(), "{reference}: {so}");
                (so["state"] == "submitted").then(|| {
                    so["supplier_reference"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
            },
        );
        let view = shop.order(&reference);
        let submissions = view.body["supplier_orders"][0]["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|h| h["state"] == "submitted")
            .count();
        assert_eq!(submissions, 1, "{reference}: {:?}", view.body);
        match supplier_reference.split_once('-') {
            Some(("v1", _)) => by_version[0] += 1,
            Some(("v2", _)) => by_version[1] += 1,
            _ => panic!("{reference}: supplier reference {supplier_reference}"),
        }
    }
    assert_eq!(by_version[0] + by_version[1], ORDERS);
    assert!(
        by_version[0] > 0 && by_version[1] > 0,
        "both versions should have served during the swaps: {by_version:?}"
    );
    eprintln!("{swaps} swaps; orders by version 1 and 2: {by_version:?}");
}

/// The case of a conformance report, by name.
fn case<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c["case"] == name))
        .unwrap_or_else(|| panic!("no case '{name}' in {report}"))
}

#[test]
fn every_upload_runs_the_conformance_suite_and_a_failing_version_needs_an_override() {
    let database = Database::new(Db::Sqlite);
    let server = start(&database);
    let base = server.base.clone();

    // Real connectors survive every case, each with an answer or a typed
    // error, in their own time.
    for (component, name) in [
        (components::CSV_WHOLESALER, "csv-wholesaler"),
        (components::GOOGLE_MERCHANT, "google-merchant"),
    ] {
        let uploaded = upload(&base, OPERATOR_TOKEN, component);
        assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
        assert_eq!(uploaded.body["name"], name);
        let report = &uploaded.body["report"];
        assert_eq!(uploaded.body["state"], "accepted", "{report}");
        assert_eq!(report["passed"], true, "{report}");
        for feed_case in [
            "empty feed",
            "truncated feed",
            "wrong format",
            "entity bomb",
            "1 MB description",
            "odd Unicode",
            "1 MB description (CSV)",
            "odd Unicode (CSV)",
            "legacy encoding (windows-1252)",
            "unknown encoding",
            "UTF-16 text (CSV)",
        ] {
            let c = case(report, feed_case);
            assert!(
                c["outcome"] == "answer" || c["outcome"] == "typed-error",
                "{name}: {c}"
            );
            assert!(
                c["millis"].as_u64().is_some_and(|ms| ms < 5000),
                "{name}: {c}"
            );
        }
        // Each reads the legacy-encoded feed in its format whole, and
        // refuses an unknown encoding by name.
        let (read, unknown) = match name {
            "google-merchant" => ("legacy encoding (windows-1252)", "unknown encoding"),
            _ => ("UTF-16 text (CSV)", "unknown encoding"),
        };
        assert_eq!(
            case(report, read)["detail"],
            "1 records",
            "{name}: {report}"
        );
        if name == "google-merchant" {
            let c = case(report, unknown);
            assert_eq!(c["outcome"], "typed-error", "{c}");
            assert!(
                c["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("x-unheard-of")),
                "{c}"
            );
        }
        let order_outcome = &case(report, "order with an unknown SKU")["outcome"];
        if name == "google-merchant" {
            assert_eq!(*order_outcome, "skipped", "{report}");
            assert_eq!(case(report, "supplier answers 500")["outcome"], "skipped");
        } else {
            assert_eq!(*order_outcome, "typed-error", "{report}");
            // Its API base URL pointed at a loopback supplier that is unwell:
            // it asked, and said so with a typed error.
            for unwell in ["supplier answers 500", "supplier answers 429"] {
                let c = case(report, unwell);
                assert_eq!(c["outcome"], "typed-error", "{c}");
                let detail = c["detail"].as_str().unwrap_or_default();
                assert!(!detail.ends_with("after 0 requests"), "{c}");
            }
        }
    }

    // swap 3.0.0 crashes on an incomplete address: stored, but rejected,
    // with the report saying which case and how.
    let rejected = upload(&base, OPERATOR_TOKEN, components::SWAP_V3);
    assert_eq!(rejected.status, 201, "{:?}", rejected.body);
    assert_eq!(rejected.body["state"], "rejected");
    let report = &rejected.body["report"];
    assert_eq!(report["passed"], false);
    let crashed = case(report, "order with an incomplete address");
    assert_eq!(crashed["outcome"], "trap", "{crashed}");
    assert_eq!(crashed["passed"], false);
    assert!(
        crashed["detail"]
            .as_str()
            .is_some_and(|d| d.contains("plugin 'swap' crashed")),
        "{crashed}"
    );
    assert_eq!(case(report, "order with an unknown SKU")["passed"], true);
    // Its feed parser survives the feed cases: only the order case fails.
    for feed_case in ["empty feed", "truncated feed", "entity bomb"] {
        assert_eq!(case(report, feed_case)["passed"], true, "{report}");
    }
    let listed = call(
        &base,
        "GET",
        "/v1/plugins/swap/versions",
        Some(OPERATOR_TOKEN),
        Vec::new(),
    );
    assert_eq!(
        listed.body["versions"][0]["state"], "rejected",
        "{:?}",
        listed.body
    );

    // It cannot be activated…
    let refused = activate(&base, "3.0.0", Some("swapped"));
    assert_refused(
        &refused,
        409,
        "rejected-version",
        "failed the conformance suite (order with an incomplete address: trap)",
    );
    assert_eq!(running(&base)["version"], "1.0.0");
    // …unless an operator overrides, and then it runs.
    let overridden = post_json(
        &base,
        "/v1/plugins/swap/versions/3.0.0/activate",
        Some(OPERATOR_TOKEN),
        &json!({ "binding": "swapped", "override": true }),
    );
    assert_eq!(overridden.status, 200, "{:?}", overridden.body);
    assert_eq!(running(&base)["version"], "3.0.0");
    assert!(submitted_reference(&server.shop(), "CF-1").starts_with("v3-"));
}

/// The csv-wholesaler's example fixture set, as `POST …/tests` takes it.
fn example_fixtures() -> Value {
    let dir = shopbridge_tests::project_fixture("plugins/csv-wholesaler/fixtures");
    let set = shopbridge::fixtures::FixtureSet::load_dir(&dir).expect("the example fixtures");
    serde_json::to_value(&set).expect("fixtures as JSON")
}

/// What two runs of one fixture set must share (time and memory aside).
fn verdicts(report: &Value) -> Vec<Value> {
    report["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .map(|c| {
                    json!([
                        c["name"],
                        c["passed"],
                        c["http_calls"],
                        c["differences"],
                        c["unmatched_requests"]
                    ])
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_integrator_tests_their_plugin_against_fixtures_through_the_api() {
    let database = Database::new(Db::Sqlite);
    let server = start(&database);
    let base = server.base.clone();
    let uploaded = upload(&base, ACME_TOKEN, components::CSV_WHOLESALER);
    assert_eq!(uploaded.status, 201, "{:?}", uploaded.body);
    let version = uploaded.body["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    let path = format!("/v1/plugins/csv-wholesaler/versions/{version}/tests");
    let fixtures = example_fixtures();

    let answer = post_json(&base, &path, Some(ACME_TOKEN), &fixtures);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["passed"], true, "{:?}", answer.body);
    assert_eq!(answer.body["cases"].as_array().map(Vec::len), Some(4));

    // The CLI gives the same report on the same fixtures.
    let dir = shopbridge_tests::project_fixture("plugins/csv-wholesaler/fixtures");
    let out = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args([
            "plugin",
            "test",
            components::CSV_WHOLESALER,
            "--json",
            "--fixtures",
        ])
        .arg(&dir)
        .output()
        .expect("running shopbridge plugin test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).expect("the CLI's JSON report");
    assert_eq!(verdicts(&cli), verdicts(&answer.body));

    // A planted wrong expectation: the report names the field.
    let mut wrong = fixtures.clone();
    wrong["cases"][0]["expected"]["products"][1]["name"] = json!("Black tea");
    let answer = post_json(&base, &path, Some(ACME_TOKEN), &wrong);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["passed"], false, "{:?}", answer.body);
    assert_eq!(
        answer.body["cases"][0]["differences"],
        json!([{ "path": "$.products[1].name", "expected": "Black tea", "actual": "Green tea" }])
    );

    // Another integrator may not test it; an operator may.
    let answer = post_json(&base, &path, Some(GLOBEX_TOKEN), &fixtures);
    assert_refused(&answer, 403, "forbidden", "belongs to another integrator");
    let answer = post_json(&base, &path, Some(OPERATOR_TOKEN), &fixtures);
    assert_eq!(answer.body["passed"], true, "{:?}", answer.body);

    // A feed must come inline; an unknown version is a 404.
    let mut by_file = fixtures.clone();
    by_file["cases"][0]["feed"] = Value::Null;
    by_file["cases"][0]["feed_file"] = json!("catalog.csv");
    let answer = post_json(&base, &path, Some(ACME_TOKEN), &by_file);
    assert_refused(&answer, 422, "invalid-fixtures", "inline");

    // A feed that is not UTF-8 travels as base64 and reaches the plugin byte
    // for byte: windows-1252 (Microsoft's cp1252.txt: 0xE8 è, 0xFB û, 0xE9 é,
    // 0x9C œ, 0xE7 ç, 0x80 €). The names planted as "x" show what it read.
    use base64::Engine as _;
    let ansi = b"sku;name;prix ht\r\nR0;Cr\xE8me br\xFBl\xE9e;4,50\r\n\
                 R1;C\x9Cur fa\xE7onn\xE9;4,50\r\nR2;Prix 10 \x80;4,50\r\n";
    let legacy = json!({
        "settings": { "encoding": "windows-1252" },
        "cases": [{
            "name": "legacy",
            "kind": "feed",
            "content_type": "text/csv",
            "feed_base64": base64::engine::general_purpose::STANDARD.encode(ansi),
            "expected": { "products": [{ "name": "x" }, { "name": "x" }, { "name": "x" }], "rejected": [] },
        }],
    });
    let answer = post_json(&base, &path, Some(ACME_TOKEN), &legacy);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let read: Vec<&Value> = answer.body["cases"][0]["differences"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter(|d| d["path"].as_str().is_some_and(|p| p.ends_with(".name")))
                .map(|d| &d["actual"])
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        read,
        [
            &json!("Crème brûlée"),
            &json!("Cœur façonné"),
            &json!("Prix 10 €")
        ],
        "{:?}",
        answer.body
    );
    let mut both = legacy.clone();
    both["cases"][0]["feed"] = json!("sku;name\n");
    let answer = post_json(&base, &path, Some(ACME_TOKEN), &both);
    assert_refused(&answer, 422, "invalid-fixtures", "not both");
    let mut garbled = legacy;
    garbled["cases"][0]["feed_base64"] = json!("not base64!");
    let answer = post_json(&base, &path, Some(ACME_TOKEN), &garbled);
    assert_refused(&answer, 422, "invalid-fixtures", "not base64");
    let answer = post_json(
        &base,
        "/v1/plugins/csv-wholesaler/versions/9.9.9/tests",
        Some(ACME_TOKEN),
        &fixtures,
    );
    assert_refused(&answer, 404, "unknown-version", "9.9.9");
}

fn shadow(base: &str, token: &str, version: &str, body: Value) -> Answer {
    post_json(
        base,
        &format!("/v1/plugins/swap/versions/{version}/shadow"),
        Some(token),
        &body,
    )
}

/// A shadow run by the operator that must answer 200.
fn shadow_ok(base: &str, version: &str, body: Value) -> Answer {
    let answer = shadow(base, OPERATOR_TOKEN, version, body);
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer
}

/// Orders placed on 1.0.0 are taped at dispatch; a shadow run of 2.0.0
/// names, for each, the fields its answer changes (the `v2-` reference and
/// the message), of 1.0.0 itself none; integrators, unknown versions and
/// bindings, and too many orders are refused; the CLI prints the report;
/// 3.0.0, which crashes on one order and hangs on another, gives each of
/// them an error.
fn a_shadow_run_shows_what_a_swap_would_change(db: Db) {
    let database = Database::new(db);
    let server = start(&database);
    let shop = server.shop();
    let references = ["SH-1", "SH-2", "SH-3"];
    let mut keys = Vec::new();
    for r in references {
        let supplier = submitted_reference(&shop, r);
        assert!(supplier.starts_with("v1-"), "{supplier}");
        keys.push(supplier.trim_start_matches("v1-").to_owned());
    }
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V2).status,
        201
    );

    let answer = shadow_ok(
        &server.base,
        "2.0.0",
        json!({ "binding": "swapped", "orders": 50 }),
    );
    let report = &answer.body;
    assert_eq!(report["active_version"], "1.0.0", "{report}");
    assert_eq!(report["candidate_version"], "2.0.0", "{report}");
    assert_eq!(report["totals"]["orders"], 3, "{report}");
    assert_eq!(report["totals"]["differs"], 3, "{report}");
    assert_eq!(report["totals"]["same"], 0, "{report}");
    assert_eq!(report["totals"]["errors"], 0, "{report}");
    let orders = report["orders"].as_array().expect("orders");
    // Newest first.
    let listed: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["reference"].as_str())
        .collect();
    assert_eq!(listed, ["SH-3", "SH-2", "SH-1"], "{report}");
    for (order, key) in orders.iter().zip(keys.iter().rev()) {
        assert_eq!(order["outcome"], "differs", "{order}");
        let differences = order["differences"].as_array().expect("differences");
        let reference = differences
            .iter()
            .find(|d| d["path"] == "$.submission.supplier_reference")
            .unwrap_or_else(|| panic!("no supplier reference difference in {order}"));
        assert_eq!(reference["active"], format!("v1-{key}"), "{order}");
        assert_eq!(reference["candidate"], format!("v2-{key}"), "{order}");
        assert!(
            differences
                .iter()
                .any(|d| d["path"] == "$.submission.message"),
            "{order}"
        );
        // Nothing but the answer's two version-bearing fields differs.
        assert_eq!(differences.len(), 2, "{order}");
    }
    // The binding's feed through both parsers, records paired by SKU.
    let feed = &report["feed"];
    assert_eq!(feed["outcome"], "differs", "{feed}");
    assert_eq!(feed["bytes"], SWAP_FEED.len(), "{feed}");
    assert_eq!(
        feed["totals"],
        json!({ "paired": 3, "same": 1, "differs": 2, "only_active": 1, "only_candidate": 0 }),
        "{feed}"
    );
    assert_eq!(
        (&feed["active"]["products"], &feed["active"]["rejected"]),
        (&json!(3), &json!(1)),
        "{feed}"
    );
    assert_eq!(
        (
            &feed["candidate"]["products"],
            &feed["candidate"]["rejected"]
        ),
        (&json!(3), &json!(0)),
        "{feed}"
    );
    let records = feed["records"].as_array().expect("records");
    let keyed = |key: &str| {
        records
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {feed}"))
    };
    assert_eq!(
        keyed("SW-1")["differences"],
        json!([{ "path": "$.product.name", "active": "Blue mug", "candidate": "BLUE MUG" }]),
        "{feed}"
    );
    let teapot = keyed("SW-3");
    assert_eq!(teapot["outcome"], "differs", "{feed}");
    let paths: Vec<&str> = teapot["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter_map(|d| d["path"].as_str())
        .collect();
    assert_eq!(paths, ["$.rejected", "$.product"], "{feed}");
    assert_eq!(
        teapot["differences"][0]["active"]["reason"], "no price in cents",
        "{feed}"
    );
    assert_eq!(
        teapot["differences"][1]["candidate"]["wholesale_price"],
        Value::Null,
        "{feed}"
    );
    assert_eq!(keyed("SW-5")["outcome"], "only-active", "{feed}");
    assert_eq!(records.len(), 3, "SW-2 is the same through both: {feed}");
    // The shadow run changed nothing: the binding still runs 1.0.0.
    assert_eq!(running(&server.base)["version"], "1.0.0");

    // 1.0.0 beside itself: the same answers; two orders only when asked.
    let same = shadow_ok(
        &server.base,
        "1.0.0",
        json!({ "binding": "swapped", "orders": 2 }),
    );
    assert_eq!(same.body["totals"]["orders"], 2, "{:?}", same.body);
    assert_eq!(same.body["totals"]["same"], 2, "{:?}", same.body);
    assert_eq!(same.body["totals"]["differs"], 0, "{:?}", same.body);
    assert_eq!(same.body["feed"]["outcome"], "same", "{:?}", same.body);
    assert_eq!(same.body["feed"]["totals"]["same"], 4, "{:?}", same.body);

    // The feed alone, or the orders alone.
    let feed_only = shadow_ok(
        &server.base,
        "2.0.0",
        json!({ "binding": "swapped", "orders": 0 }),
    );
    assert_eq!(
        feed_only.body["totals"]["orders"], 0,
        "{:?}",
        feed_only.body
    );
    assert_eq!(
        feed_only.body["feed"]["outcome"], "differs",
        "{:?}",
        feed_only.body
    );
    let orders_only = shadow_ok(
        &server.base,
        "2.0.0",
        json!({ "binding": "swapped", "feed": false }),
    );
    assert!(
        orders_only.body.get("feed").is_none(),
        "{:?}",
        orders_only.body
    );

    // Refusals.
    let body = json!({ "binding": "swapped" });
    let integrator = shadow(&server.base, ACME_TOKEN, "2.0.0", body.clone());
    assert_eq!(integrator.status, 403, "{:?}", integrator.body);
    let anonymous = post_json(
        &server.base,
        "/v1/plugins/swap/versions/2.0.0/shadow",
        None,
        &body,
    );
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    assert_refused(
        &shadow(&server.base, OPERATOR_TOKEN, "9.9.9", body.clone()),
        404,
        "unknown-version",
        "9.9.9",
    );
    assert_refused(
        &shadow(
            &server.base,
            OPERATOR_TOKEN,
            "2.0.0",
            json!({ "binding": "nowhere" }),
        ),
        404,
        "unknown-binding",
        "nowhere",
    );
    assert_refused(
        &shadow(
            &server.base,
            OPERATOR_TOKEN,
            "2.0.0",
            json!({ "binding": "swapped", "orders": 51 }),
        ),
        422,
        "invalid-request",
        "from 0 to 50",
    );
    assert_refused(
        &shadow(
            &server.base,
            OPERATOR_TOKEN,
            "2.0.0",
            json!({ "binding": "swapped", "orders": 0, "feed": false }),
        ),
        422,
        "invalid-request",
        "nothing to replay",
    );

    // A binding of another plugin.
    let minimal = upload(&server.base, OPERATOR_TOKEN, components::MINIMAL);
    assert_eq!(minimal.status, 201, "{:?}", minimal.body);
    assert_refused(
        &post_json(
            &server.base,
            "/v1/plugins/minimal/versions/0.1.0/shadow",
            Some(OPERATOR_TOKEN),
            &body,
        ),
        409,
        "wrong-binding",
        "binding 'swapped' runs plugin 'swap', not 'minimal'",
    );

    // The CLI prints the report.
    let out = Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(["plugin", "shadow", "swap", "2.0.0", "--binding", "swapped"])
        .args(["--server", &server.base, "--token", OPERATOR_TOKEN])
        .output()
        .expect("running shopbridge plugin shadow");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "$.submission.supplier_reference: active \"v1-{}\", candidate \"v2-{}\"",
            keys[0], keys[0]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 orders: 0 same, 3 differ, 0 errors"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"SW-1 $.product.name: active "Blue mug", candidate "BLUE MUG""#),
        "{stdout}"
    );
    assert!(
        stdout.contains("SW-5: only the active version gives it"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("3 records paired: 1 same, 2 differ; 1 only in active, 0 only in candidate"),
        "{stdout}"
    );

    // 3.0.0 crashes on an address without a first line (1.0.0 takes it): a
    // version that fails on an order is that order's error, not the run's.
    let mut incomplete = order_json("SH-4", &["SKU-1"]);
    incomplete["shipping_address"]["line1"] = json!("");
    submitted(&shop, &incomplete);
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V3).status,
        201
    );
    let crash = shadow_ok(
        &server.base,
        "3.0.0",
        json!({ "binding": "swapped", "orders": 2 }),
    );
    let totals = &crash.body["totals"];
    assert_eq!(
        (totals["errors"].clone(), totals["differs"].clone()),
        (json!(1), json!(1)),
        "{:?}",
        crash.body
    );
    let failed = &crash.body["orders"][0];
    assert_eq!(failed["reference"], "SH-4", "{failed}");
    assert_eq!(failed["outcome"], "error", "{failed}");
    assert!(
        failed["active"]["output"]["submission"].is_object(),
        "{failed}"
    );
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("candidate") && e.contains("crashed")),
        "{failed}"
    );
    assert_eq!(
        crash.body["orders"][1]["outcome"], "differs",
        "{:?}",
        crash.body
    );

    // 3.0.0 hangs on an order noted "hang": a replayed call is stopped at
    // the shadow run's 10 s deadline, and that order is an error too.
    let mut hanging = order_json("SH-5", &["SKU-1"]);
    hanging["note"] = json!("hang");
    submitted(&shop, &hanging);
    let started = Instant::now();
    let hung = shadow_ok(
        &server.base,
        "3.0.0",
        json!({ "binding": "swapped", "orders": 1, "feed": false }),
    );
    let order = &hung.body["orders"][0];
    assert_eq!(order["reference"], "SH-5", "{order}");
    assert_eq!(order["outcome"], "error", "{order}");
    assert!(
        order["error"]
            .as_str()
            .is_some_and(|e| e.contains("candidate") && e.contains("10s deadline")),
        "{order}"
    );
    let millis = order["candidate"]["millis"].as_u64().unwrap_or_default();
    assert!((10_000..15_000).contains(&millis), "{order}");
    assert!(started.elapsed() < Duration::from_secs(30), "{order}");
}

/// Feeds over HTTP: `/feed.csv` is `SWAP_FEED` one line a second (a
/// supplier whose feed takes a while to read), `/crash.csv` a line on
/// which swap 3.0.0 crashes; any other path is a 404.
fn feed_server() -> LoopbackServer {
    async fn trickle() -> axum::body::Body {
        let lines =
            futures_util::stream::iter(SWAP_FEED.split_inclusive('\n')).then(|line| async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, std::io::Error>(axum::body::Bytes::from(line))
            });
        axum::body::Body::from_stream(lines)
    }
    LoopbackServer::start(
        Router::new()
            .route("/feed.csv", get(trickle))
            .route("/crash.csv", get(|| async { "SW-9;crash;100\n" })),
    )
}

/// With one plugin job at a time (`server.plugin_jobs = 1`), a fixture run
/// or an upload sent while a shadow run reads a slow feed waits its turn,
/// and past `server.plugin_job_wait` is answered 503 `busy` with
/// `Retry-After`; once the shadow run is over, the same request runs.
/// Then the shadow run's feed errors: a binding without a catalog, a feed
/// that is gone, and a candidate that crashes on the feed.
#[test]
fn plugin_jobs_take_turns_and_a_request_that_waits_too_long_is_told_to_retry() {
    let database = Database::new(Db::Sqlite);
    let feeds = feed_server();
    let more_bindings = format!(
        r#"
[[bindings]]
id = "plain"
shop = "{SHOP}"
plugin = "swap"
sku_prefixes = ["PLAIN-"]

[[bindings]]
id = "gone"
shop = "{SHOP}"
plugin = "swap"
sku_prefixes = ["GONE-"]

[bindings.catalog]
feed_url = "{}"

[[bindings]]
id = "crashing"
shop = "{SHOP}"
plugin = "swap"
sku_prefixes = ["CRASH-"]

[bindings.catalog]
feed_url = "{}"
"#,
        feeds.url("/gone.csv"),
        feeds.url("/crash.csv"),
    );
    let server = Server::start_with_file(config_file_with(
        &database,
        "127.0.0.1:0",
        "plugin_jobs = 1\nplugin_job_wait = \"300ms\"",
        Some(&feeds.url("/feed.csv")),
        &more_bindings,
    ));
    let base = server.base.clone();
    let started = Instant::now();
    let shadow_run = std::thread::spawn(move || {
        shadow_ok(&base, "1.0.0", json!({ "binding": "swapped", "orders": 0 }))
    });
    std::thread::sleep(Duration::from_millis(800));

    let tests_path = "/v1/plugins/swap/versions/1.0.0/tests";
    let fixtures =
        json!({ "cases": [{ "name": "one line", "kind": "feed", "feed": "SW-1;Mug;1299\n" }] });
    let busy = post_json(&server.base, tests_path, Some(OPERATOR_TOKEN), &fixtures);
    assert_refused(&busy, 503, "busy", "server.plugin_jobs");
    assert_eq!(
        busy.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5"),
        "{:?}",
        busy.headers
    );
    let upload_busy = upload(&server.base, OPERATOR_TOKEN, components::SWAP_V2);
    assert_refused(&upload_busy, 503, "busy", "plugin jobs");

    let report = shadow_run.join().expect("the shadow run's thread").body;
    assert!(
        started.elapsed() >= Duration::from_millis(4 * 1000),
        "the feed took {:?}",
        started.elapsed()
    );
    assert_eq!(report["feed"]["outcome"], "same", "{report}");
    assert_eq!(report["feed"]["bytes"], SWAP_FEED.len(), "{report}");
    let ran = post_json(&server.base, tests_path, Some(OPERATOR_TOKEN), &fixtures);
    assert_eq!(ran.status, 200, "{:?}", ran.body);
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V2).status,
        201
    );

    // The feed asked of a binding that has none.
    assert_refused(
        &shadow(
            &server.base,
            OPERATOR_TOKEN,
            "1.0.0",
            json!({ "binding": "plain", "feed": true }),
        ),
        422,
        "invalid-request",
        "binding 'plain' has no catalog feed to compare",
    );
    // A feed that is gone: the comparison is an error that says why.
    let gone = shadow_ok(
        &server.base,
        "1.0.0",
        json!({ "binding": "gone", "orders": 0 }),
    );
    assert_eq!(gone.body["feed"]["outcome"], "error", "{:?}", gone.body);
    assert!(
        gone.body["feed"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("could not read the feed") && e.contains("404")),
        "{:?}",
        gone.body
    );
    // A candidate that crashes on the feed: an error naming it.
    assert_eq!(
        upload(&server.base, OPERATOR_TOKEN, components::SWAP_V3).status,
        201
    );
    let crashed = shadow_ok(
        &server.base,
        "3.0.0",
        json!({ "binding": "crashing", "orders": 0 }),
    );
    let feed = &crashed.body["feed"];
    assert_eq!(feed["outcome"], "error", "{feed}");
    assert_eq!(feed["active"]["products"], 1, "{feed}");
    assert!(
        feed["candidate"]["failure"]
            .as_str()
            .is_some_and(|f| f.contains("crashed")),
        "{feed}"
    );
    assert!(
        feed["error"]
            .as_str()
            .is_some_and(|e| e.contains("the plugin failed: candidate")),
        "{feed}"
    );
}

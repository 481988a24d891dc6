//! Pricing configuration through the `shopbridge` binary: a percentage with
//! more decimals than the pricing rules keep stops the server at start-up,
//! naming the line, the binding and the field, instead of being rounded
//! silently.

use std::path::PathBuf;
use std::process::{Command, Output};

fn shopbridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopbridge"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("running shopbridge")
}

/// A configuration whose binding `acme` has `pricing` (written as is).
fn config_with_pricing(name: &str, pricing: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("shopbridge-pricing-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = format!(
        r#"[server]
listen = "127.0.0.1:0"
database = "sqlite://{}/shopbridge.db"

[[plugins]]
name = "csv-wholesaler"
path = "csv_wholesaler.wasm"

[[shops]]
id = "boutique"
key_id = "boutique"
secret = "a-long-shop-secret"

[[bindings]]
id = "acme"
shop = "boutique"
plugin = "csv-wholesaler"

[bindings.catalog]
feed_url = "file:///nonexistent.csv"
pricing = {pricing}
"#,
        dir.display()
    );
    let path = dir.join("shopbridge.toml");
    std::fs::write(&path, config).expect("writing the config");
    path
}

#[test]
fn too_precise_percentages_stop_the_server_at_start_up() {
    for (name, pricing, message) in [
        (
            "markup",
            "{ markup_percent = 12.34567 }",
            "line 21: binding 'acme': pricing.markup_percent: 12.34567 has more decimals than the 4 the pricing rules support",
        ),
        (
            "override",
            r#"{ markup_percent = 10.0, overrides = { "brand:Acme" = 0.00001 } }"#,
            "line 21: binding 'acme': pricing.overrides.\"brand:Acme\": 0.00001 has more decimals than the 4 the pricing rules support",
        ),
        (
            "margin",
            r#"{ min_margin_percent = "5.55555" }"#,
            "line 21: binding 'acme': pricing.min_margin_percent: 5.55555 has more decimals than the 4 the pricing rules support",
        ),
        (
            "range",
            "{ markup_percent = -100.0 }",
            "markup_percent -100 must be above -100",
        ),
    ] {
        let config = config_with_pricing(name, pricing);
        let config = config.to_str().expect("utf-8 path");
        for args in [
            &["serve", "--config", config][..],
            &["catalog", "sync", "--config", config, "--binding", "acme"][..],
        ] {
            let out = shopbridge(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} started with {pricing}");
            assert!(stderr.contains(message), "{args:?}: {stderr}");
        }
    }
}

//! Project chores, run as `cargo xtask <task>` (see `.cargo/config.toml`).
//!
//! - `demo`: builds the example plugins for wasm32-wasip2 and runs
//!   `shopbridge serve` on the embedded demo configuration, with a demo
//!   wholesaler to dispatch to (the README's first command); `demo feed
//!   [FEED]` parses a supplier feed through a plugin instead;
//! - `test`: runs every test of the workspace (the README's second command);
//! - `bench [NAME]`: runs the benchmarks (release build, on demand);
//! - `ci`: what `.ci/run` checks: formatting, clippy with warnings denied, tests.
//!
//! Each task first installs what it needs that cargo does not: the
//! `wasm32-wasip2` target of the pinned toolchain.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const GUEST_TARGET: &str = "wasm32-wasip2";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("ci") => ci(),
        _ => {
            eprintln!("usage: cargo xtask <demo [feed [FEED]] | test [ARGS] | bench [NAME] | ci>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn run(command: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", describe(command));
    let status = command
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start {}: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)))
    }
}

fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// `rustup target add wasm32-wasip2` for the pinned toolchain, unless present.
fn ensure_guest_target() -> Result<(), String> {
    let sysroot = Command::new("rustc")
        .current_dir(root())
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("rustc not found: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(GUEST_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", GUEST_TARGET]))
}

/// Builds the example plugins; returns the folder of their components.
fn build_plugins() -> Result<PathBuf, String> {
    ensure_guest_target()?;
    let target_dir = root().join("target").join("guests");
    let mut command = cargo();
    command
        .args(["build", "--target", GUEST_TARGET, "--profile", "guest"])
        .env("CARGO_TARGET_DIR", &target_dir);
    for plugin in ["google-merchant", "csv-wholesaler", "odoo", "printful"] {
        command.args(["-p", plugin]);
    }
    run(&mut command)?;
    Ok(target_dir.join(GUEST_TARGET).join("guest"))
}

fn demo(args: &[String]) -> Result<(), String> {
    let components = build_plugins()?;
    match args.first().map(String::as_str) {
        Some("feed") => feed_demo(&components, &args[1..]),
        _ => serve_demo(&components),
    }
}

/// The product's main job: `shopbridge serve` on the embedded demo
/// configuration (SQLite under ./data, the example plugins), with a demo
/// wholesaler on 127.0.0.1:8090 that ships what it receives.
fn serve_demo(components: &Path) -> Result<(), String> {
    run(cargo().args([
        "build",
        "-p",
        "shopbridge",
        "-p",
        "shopbridge-tests",
        "--bin",
        "shopbridge",
        "--bin",
        "demo-supplier",
    ]))?;
    let bin = root().join("target").join("debug");
    let mut supplier = Command::new(bin.join("demo-supplier"))
        .current_dir(root())
        .spawn()
        .map_err(|e| format!("could not start the demo supplier: {e}"))?;
    let mut serve = Command::new(bin.join("shopbridge"));
    serve.args(["serve", "--plugin-dir"]).arg(components);
    if std::env::var_os("SHOPBRIDGE_LOG").is_none() {
        serve.env("SHOPBRIDGE_LOG", "shopbridge=info,warn");
    }
    let result = run(&mut serve);
    let _ = supplier.kill();
    let _ = supplier.wait();
    result
}

/// `cargo xtask demo feed [FEED]`: a feed parsed through a plugin.
fn feed_demo(components: &Path, args: &[String]) -> Result<(), String> {
    let feed = args
        .first()
        .cloned()
        .unwrap_or_else(|| "plugins/google-merchant/fixtures/merchant-rss.xml".to_owned());
    let plugin = components.join("google_merchant.wasm");
    let shopbridge = |args: &[&str]| {
        let mut command = cargo();
        command
            .args(["run", "--quiet", "-p", "shopbridge", "--"])
            .args(args);
        command
    };
    run(shopbridge(&["plugin", "inspect"]).arg(&plugin))?;
    run(shopbridge(&["feed", "parse", "--plugin"])
        .arg(&plugin)
        .arg(feed))
}

/// The server tests also run on PostgreSQL (127.0.0.1:5432, or
/// `SHOPBRIDGE_TEST_POSTGRES`): start the local cluster if it is installed
/// but stopped. If none answers, those tests fail and say why.
fn ensure_postgres() {
    if std::env::var_os("SHOPBRIDGE_TEST_POSTGRES").is_some() {
        return;
    }
    let ready = || {
        Command::new("pg_isready")
            .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready() {
        return;
    }
    eprintln!("PostgreSQL is not answering on 127.0.0.1:5432: starting the local cluster");
    let versions = std::fs::read_dir("/etc/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for version in versions {
        let _ = Command::new("pg_ctlcluster")
            .args([version.as_str(), "main", "start"])
            .status();
    }
    for _ in 0..40 {
        if ready() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    eprintln!(
        "warning: no PostgreSQL on 127.0.0.1:5432; the PostgreSQL tests will fail (install postgresql, or set SHOPBRIDGE_TEST_POSTGRES)"
    );
}

/// `cargo test --workspace`, its output passed through, then PHPUnit on
/// the shop modules, then one closing line with the totals of every test
/// binary and of PHPUnit (`tests: N passed, N failed`), so that a run that
/// executed no test cannot pass for a green one.
fn test(args: &[String]) -> Result<(), String> {
    use std::io::{BufRead, BufReader, Write};

    ensure_guest_target()?;
    ensure_postgres();
    ensure_php();
    let mut command = cargo();
    command
        .args(["test", "--workspace"])
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::piped());
    eprintln!("$ {}", describe(&command));
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start cargo test: {e}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count_before(rest, " passed");
                failed += count_before(rest, " failed");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo test: {e}"))?;
    let php = phpunit();
    let (php_passed, php_failed) = php.as_ref().map_or((0, 0), |r| (r.passed, r.failed));
    println!(
        "tests: {} passed, {} failed",
        passed + php_passed,
        failed + php_failed
    );
    if !status.success() {
        return Err(format!("cargo test failed ({status})"));
    }
    if passed == 0 {
        return Err("cargo test ran no test".to_owned());
    }
    let php = php?;
    if !php.success || php.failed > 0 || php.passed == 0 {
        return Err(format!(
            "PHPUnit (shop-modules) failed: {} passed, {} failed",
            php.passed, php.failed
        ));
    }
    Ok(())
}

/// Whether `program --version` runs.
fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The shop modules' tests need PHP with cURL and zip, and PHPUnit: as
/// root with apt-get, install the Debian packages when something is
/// missing. Otherwise those tests fail and say what is missing.
fn ensure_php() {
    let extensions = || {
        Command::new("php")
            .args([
                "-r",
                "exit(extension_loaded('curl') && extension_loaded('zip') ? 0 : 1);",
            ])
            .status()
            .is_ok_and(|s| s.success())
    };
    if on_path("php") && on_path("phpunit") && extensions() {
        return;
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root_user || !on_path("apt-get") {
        eprintln!(
            "warning: php (with curl and zip) or phpunit is missing and apt-get cannot run here; \
             install php-cli php-curl php-zip phpunit, or the shop modules' tests will fail"
        );
        return;
    }
    eprintln!("installing PHP and PHPUnit for the shop modules' tests");
    let installed = run(Command::new("apt-get").args(["update", "-q"])).and_then(|()| {
        run(Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(PHP_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    });
    if let Err(e) = installed {
        eprintln!("warning: {e}; the shop modules' tests will fail");
    }
}

/// The Debian packages the shop modules' tests need (also in `.ci/run`).
const PHP_PACKAGES: [&str; 4] = ["php-cli", "php-curl", "php-zip", "phpunit"];

/// What a PHPUnit run reported.
#[derive(Debug, Default, PartialEq, Eq)]
struct PhpUnit {
    passed: u64,
    failed: u64,
    success: bool,
}

/// PHPUnit on `shop-modules/`, its output passed through.
fn phpunit() -> Result<PhpUnit, String> {
    use std::io::{BufRead, BufReader, Write};

    let mut command = Command::new("phpunit");
    command
        .args(["--configuration", "shop-modules/phpunit.xml"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped());
    eprintln!("$ {}", describe(&command));
    let mut child = command.spawn().map_err(|e| {
        format!("could not start phpunit ({e}): install php-cli php-curl php-zip phpunit")
    })?;
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading phpunit output: {e}"))?;
            let _ = writeln!(out, "{line}");
            lines.push(line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for phpunit: {e}"))?;
    let mut result = phpunit_counts(&lines);
    result.success = status.success();
    Ok(result)
}

/// Passed and failed tests from PHPUnit's summary: `OK (N tests, …)`, or
/// `Tests: N, Assertions: A, Failures: F, Errors: E, Skipped: S.` (a
/// skipped, incomplete or risky test is not a passed one).
fn phpunit_counts(lines: &[String]) -> PhpUnit {
    let mut result = PhpUnit::default();
    for line in lines {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("OK (") {
            result.passed = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            result.failed = 0;
        } else if let Some(rest) = line.strip_prefix("Tests: ") {
            let count = |label: &str| -> u64 {
                rest.trim_end_matches('.')
                    .split(", ")
                    .find_map(|part| part.strip_prefix(label))
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0)
            };
            let total = rest
                .split(',')
                .next()
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
            result.failed = count("Failures: ") + count("Errors: ");
            let not_run = count("Skipped: ") + count("Incomplete: ") + count("Risky: ");
            result.passed = total.saturating_sub(result.failed + not_run);
            result.failed += not_run;
        }
    }
    result
}

/// The number just before `label` in a `test result:` line.
fn count_before(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label)
                .map(str::trim)
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn bench(args: &[String]) -> Result<(), String> {
    ensure_guest_target()?;
    let mut command = cargo();
    // The host's load test lives beside the binary it starts; the plugin
    // benchmarks live with the test components.
    match args.first().map(String::as_str) {
        Some(name @ ("order_hook" | "catalog_sync" | "plugin_lifecycle")) => {
            command.args(["bench", "-p", "shopbridge", "--bench", name])
        }
        Some(name) => command.args(["bench", "-p", "shopbridge-tests", "--bench", name]),
        None => command.args(["bench", "-p", "shopbridge-tests", "-p", "shopbridge"]),
    };
    run(&mut command)
}

fn ci() -> Result<(), String> {
    ensure_guest_target()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    test(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn phpunit_summaries_are_counted() {
        assert_eq!(
            phpunit_counts(&lines("....\n\nOK (33 tests, 596 assertions)")),
            PhpUnit {
                passed: 33,
                failed: 0,
                success: false
            }
        );
        assert_eq!(
            phpunit_counts(&lines(
                "FAILURES!\nTests: 33, Assertions: 590, Failures: 2, Errors: 1."
            )),
            PhpUnit {
                passed: 30,
                failed: 3,
                success: false
            }
        );
        assert_eq!(
            phpunit_counts(&lines(
                "OK, but incomplete, skipped, or risky tests!\nTests: 10, Assertions: 9, Skipped: 1."
            )),
            PhpUnit {
                passed: 9,
                failed: 1,
                success: false
            }
        );
        assert_eq!(
            phpunit_counts(&lines("No tests executed!")),
            PhpUnit::default()
        );
    }
}

//! A hostile plugin fails alone: loops are stopped at the deadline, memory
//! bombs hit the cap, traps are contained, bloated output is refused, and
//! HTTP reaches only declared, allowed, public hosts. After each, a healthy
//! plugin runs normally on the same engine.

use std::time::{Duration, Instant};

use shopbridge::plugins::{CallOptions, FeedSession};
use shopbridge::runtime::bindings::shopbridge::connector::types::{FeedRecord, Order};
use shopbridge::runtime::{HostPattern, Limits, NetworkPolicy, PluginError, Settings};
use shopbridge_tests::{LoopbackServer, block_on, components, plugin, runtime};

fn options(pairs: &[(&str, &str)]) -> CallOptions {
    CallOptions {
        settings: Settings::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        ),
        network: NetworkPolicy {
            allowed_hosts: vec![HostPattern::new("*")],
            allow_private_network: false,
            ..NetworkPolicy::default()
        },
        limits: Limits {
            deadline: Duration::from_millis(200),
            memory_bytes: 32 << 20,
            output_bytes: 4 << 20,
            ..Limits::default()
        },
    }
}

async fn open(options: &CallOptions) -> FeedSession {
    let hostile = plugin(components::HOSTILE).await;
    hostile
        .open_feed(runtime(), options, None)
        .await
        .expect("instantiates")
        .expect("opens")
}

/// The healthy control: after any failure, a plugin still runs normally.
async fn healthy_plugin_still_runs() {
    let mut session = open(&options(&[("mode", "ok")])).await;
    let records = session.push(b"12345").await.expect("runs").expect("parses");
    assert!(matches!(&records[..], [FeedRecord::Product(p)] if p.sku == "chunk-5"));
    let merchant = plugin(components::GOOGLE_MERCHANT).await;
    let mut feed = merchant
        .open_feed(runtime(), &CallOptions::default(), None)
        .await
        .expect("instantiates")
        .expect("opens");
    let doc = br#"<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>A1</g:id><title>Mug</title><g:price>9.90 EUR</g:price></item></channel></rss>"#;
    let mut records = feed.push(doc).await.expect("runs").expect("parses");
    records.extend(feed.finish().await.expect("runs").expect("finishes"));
    assert!(
        matches!(&records[..], [FeedRecord::Product(p)] if p.sku == "A1"),
        "{records:?}"
    );
}

#[test]
fn an_infinite_loop_is_stopped_at_the_deadline() {
    block_on(async {
        let opts = options(&[("mode", "loop")]);
        let mut session = open(&opts).await;
        let started = Instant::now();
        let err = session.push(b"x").await.expect_err("must be stopped");
        let took = started.elapsed();
        assert!(matches!(err, PluginError::Deadline { .. }), "{err}");
        // Deadline 200 ms; the epoch ticks every 10 ms. Allow scheduling noise.
        assert!(
            took >= Duration::from_millis(200),
            "stopped too early: {took:?}"
        );
        assert!(
            took < Duration::from_millis(400),
            "stopped too late: {took:?}"
        );
        // The session is unusable afterwards, and says so.
        let again = session.push(b"x").await.expect_err("poisoned");
        assert!(matches!(again, PluginError::Poisoned { .. }), "{again}");
        healthy_plugin_still_runs().await;
    });
}

#[test]
fn an_order_call_that_loops_is_stopped_too() {
    block_on(async {
        let hostile = plugin(components::HOSTILE).await;
        let started = Instant::now();
        let err = hostile
            .submit_order(runtime(), &options(&[("mode", "loop")]), &sample_order())
            .await
            .expect_err("must be stopped");
        assert!(matches!(err, PluginError::Deadline { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_millis(400));
        let ok = hostile
            .submit_order(runtime(), &options(&[("mode", "ok")]), &sample_order())
            .await
            .expect("runs")
            .expect("submits");
        assert_eq!(ok.supplier_reference, "H-order-1-supplier-1");
    });
}

#[test]
fn a_memory_bomb_hits_the_limit() {
    block_on(async {
        let mut session = open(&options(&[("mode", "oom")])).await;
        let err = session.push(b"x").await.expect_err("must hit the cap");
        match err {
            PluginError::MemoryLimit { limit_bytes, .. } => assert_eq!(limit_bytes, 32 << 20),
            other => panic!("expected a memory limit, got {other}"),
        }
        healthy_plugin_still_runs().await;
    });
}

#[test]
fn a_trap_is_contained() {
    block_on(async {
        let mut session = open(&options(&[("mode", "trap")])).await;
        let err = session.push(b"x").await.expect_err("must trap");
        assert!(matches!(err, PluginError::Trap { .. }), "{err}");
        healthy_plugin_still_runs().await;
    });
}

#[test]
fn bloated_output_is_refused() {
    block_on(async {
        let mut session = open(&options(&[("mode", "bloat")])).await;
        let err = session.push(b"x").await.expect_err("must be refused");
        match err {
            // F13 (issue 14): the 24 MiB answer is stopped while being
            // copied, at the cap, not measured once the host holds it all.
            PluginError::OutputTooLarge {
                bytes, limit_bytes, ..
            } => {
                assert_eq!(limit_bytes, 4 << 20);
                assert_eq!(bytes, limit_bytes + 1, "stopped at the cap");
            }
            other => panic!("expected output too large, got {other}"),
        }
        healthy_plugin_still_runs().await;
    });
}

async fn http_outcome(url: &str, network: NetworkPolicy) -> FeedRecord {
    let mut opts = options(&[("mode", "http"), ("url", url)]);
    opts.network = network;
    opts.limits.deadline = Duration::from_secs(5);
    let mut session = open(&opts).await;
    let mut records = session.push(b"x").await.expect("runs").expect("answers");
    assert_eq!(records.len(), 1);
    records.remove(0)
}

fn refusal(record: &FeedRecord) -> &str {
    match record {
        FeedRecord::Rejected(r) => &r.reason,
        FeedRecord::Product(p) => panic!("the request went through: {}", p.name),
    }
}

#[test]
fn http_reaches_only_declared_allowed_public_hosts() {
    let server = LoopbackServer::start(
        axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" })),
    );
    block_on(async {
        let open_policy = |private| NetworkPolicy {
            allowed_hosts: vec![HostPattern::new("*")],
            allow_private_network: private,
            ..NetworkPolicy::default()
        };
        // A host the plugin does not declare.
        let r = http_outcome("http://evil.example/steal", open_policy(true)).await;
        assert!(refusal(&r).contains("not declared by the plugin"), "{r:?}");
        // A declared host that the binding does not allow.
        let only_other = NetworkPolicy {
            allowed_hosts: vec![HostPattern::new("api.other.test")],
            allow_private_network: true,
            ..NetworkPolicy::default()
        };
        let r = http_outcome("http://supplier.test/", only_other).await;
        assert!(refusal(&r).contains("not allowed by the binding"), "{r:?}");
        // Loopback, declared and allowed, but private networks are off.
        let r = http_outcome(&server.url("/ping"), open_policy(false)).await;
        assert!(refusal(&r).contains("private"), "{r:?}");
        // A name that resolves to loopback is refused at resolution.
        let by_name = server.url("/ping").replace("127.0.0.1", "localhost");
        let r = http_outcome(&by_name, open_policy(false)).await;
        assert!(refusal(&r).contains("private"), "{r:?}");
        // Not http(s).
        let r = http_outcome("file:///etc/passwd", open_policy(true)).await;
        assert!(refusal(&r).contains("scheme"), "{r:?}");
        // The control: with private networks allowed, the same request goes through.
        let r = http_outcome(&server.url("/ping"), open_policy(true)).await;
        assert!(
            matches!(&r, FeedRecord::Product(p) if p.name == "status 200"),
            "{r:?}"
        );
        healthy_plugin_still_runs().await;
    });
}

#[test]
fn a_slow_supplier_times_out_and_the_call_deadline_holds() {
    let server = LoopbackServer::start(axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "late"
        }),
    ));
    block_on(async {
        // The request's own timeout is shorter than the call: the plugin
        // gets `timeout` back and decides (a connector answers transient).
        let mut opts = options(&[("mode", "http"), ("url", &server.url("/slow"))]);
        opts.network.allow_private_network = true;
        opts.limits.deadline = Duration::from_secs(5);
        opts.limits.http.request_timeout = Duration::from_millis(300);
        let mut session = open(&opts).await;
        let started = Instant::now();
        let records = session.push(b"x").await.expect("runs").expect("answers");
        assert!(
            matches!(&records[..], [FeedRecord::Rejected(r)] if r.reason.contains("timed out")),
            "{records:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));

        // The request would outlive the whole call: the call's deadline wins.
        opts.limits.deadline = Duration::from_millis(500);
        opts.limits.http.request_timeout = Duration::from_secs(20);
        let mut session = open(&opts).await;
        let started = Instant::now();
        let err = session.push(b"x").await.expect_err("deadline");
        assert!(matches!(err, PluginError::Deadline { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1));
        healthy_plugin_still_runs().await;
    });
}

#[test]
fn http_budgets_and_caps_hold_and_retry_after_reaches_the_plugin() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    let hits = Arc::new(AtomicU32::new(0));
    let counter = hits.clone();
    let server = LoopbackServer::start(
        axum::Router::new()
            .route(
                "/count",
                axum::routing::get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    async { "ok" }
                }),
            )
            .route("/big", axum::routing::get(|| async { "x".repeat(4096) }))
            .route(
                "/busy",
                axum::routing::get(|| async {
                    (
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", "12")],
                        "slow down",
                    )
                }),
            ),
    );
    block_on(async {
        let run = |path: &str, repeat: &str, max_response: u64| {
            let mut opts = options(&[
                ("mode", "http"),
                ("url", &server.url(path)),
                ("repeat", repeat),
            ]);
            opts.network.allow_private_network = true;
            opts.limits.deadline = Duration::from_secs(5);
            opts.limits.http.max_requests_per_call = 8;
            opts.limits.http.max_response_bytes = max_response;
            async move {
                let mut session = open(&opts).await;
                let mut records = session.push(b"x").await.expect("runs").expect("answers");
                records.remove(0)
            }
        };
        // The request budget: the 9th request of one call is refused, and
        // the server saw exactly 8.
        let r = run("/count", "9", 1 << 20).await;
        assert!(refusal(&r).contains("more than 8 requests"), "{r:?}");
        assert_eq!(hits.load(Ordering::SeqCst), 8);
        // The budget is per call: the next call may send again.
        let r = run("/count", "8", 1 << 20).await;
        assert!(
            matches!(&r, FeedRecord::Product(p) if p.name == "status 200"),
            "{r:?}"
        );
        // The response cap.
        let r = run("/big", "1", 1024).await;
        assert!(refusal(&r).contains("larger than 1024 bytes"), "{r:?}");
        // 429 with Retry-After: the delay reaches the plugin in seconds.
        let r = run("/busy", "1", 1 << 20).await;
        assert!(
            matches!(&r, FeedRecord::Product(p) if p.name == "status 429 retry-after 12"),
            "{r:?}"
        );
    });
}

fn sample_order() -> Order {
    shopbridge_tests::sample_order("order-1-supplier-1", &["SKU-1"])
}

/// F18 (issue 14): a plugin set the `Host` header of its requests, and so
/// asked an allowed server's address for another virtual host. Headers the
/// host derives from the URL or owns for the connection are refused.
#[test]
fn a_plugin_cannot_set_the_host_header() {
    let server = LoopbackServer::start(axum::Router::new().route(
        "/who",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        }),
    ));
    block_on(async {
        for header in [
            "Host:admin.internal",
            "host:admin.internal",
            "Transfer-Encoding:chunked",
        ] {
            let mut opts = options(&[
                ("mode", "http"),
                ("url", &server.url("/who")),
                ("header", header),
            ]);
            opts.network.allow_private_network = true;
            opts.limits.deadline = Duration::from_secs(5);
            let mut session = open(&opts).await;
            let records = session.push(b"x").await.expect("runs").expect("answers");
            let name = header.split(':').next().unwrap_or_default();
            assert!(
                matches!(&records[..], [FeedRecord::Rejected(r)] if r.reason.contains(name)),
                "{header}: {records:?}"
            );
        }
        // Any other header goes through.
        let mut opts = options(&[
            ("mode", "http"),
            ("url", &server.url("/who")),
            ("header", "X-Api-Key:k"),
        ]);
        opts.network.allow_private_network = true;
        opts.limits.deadline = Duration::from_secs(5);
        let mut session = open(&opts).await;
        let records = session.push(b"x").await.expect("runs").expect("answers");
        assert!(
            matches!(&records[..], [FeedRecord::Product(p)] if p.name == "status 200"),
            "{records:?}"
        );
    });
}

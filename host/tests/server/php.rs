//! The PHP shop modules against the real server: PHP processes post orders
//! signed by the modules' library (with each platform's payload builder),
//! the orders reach a fake supplier, the status webhooks come back to the
//! modules' webhook handler served by `php -S` (the shop's callback URL)
//! and are applied to fake platform objects the test reads back; the
//! catalog pull pages through every change exactly once.
//!
//! The scripts are in `shop-modules/tests/integration/`. PHP (php-cli,
//! php-curl) must be installed: `cargo xtask test` installs it; without it
//! these tests fail and say so.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::Value;
use shopbridge_tests::LoopbackServer;
use shopbridge_tests::fakes::wholesaler::FakeWholesaler;

use crate::support::*;

const WAIT: Duration = Duration::from_secs(60);

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shop-modules/tests/integration")
}

/// `php`, or a failure that says how to get it.
fn php() -> Command {
    let found = Command::new("php")
        .args([
            "-r",
            "echo function_exists('curl_init') ? 'curl' : 'no-curl';",
        ])
        .output();
    match found {
        Ok(out) if out.status.success() && out.stdout == b"curl" => Command::new("php"),
        Ok(out) if out.status.success() => panic!(
            "php has no cURL extension: the shop modules' tests need it (apt-get install php-curl; `cargo xtask test` installs it)"
        ),
        _ => panic!(
            "php is not installed: the shop modules' integration tests need it \
             (apt-get install php-cli php-curl; `cargo xtask test` installs it)"
        ),
    }
}

/// One shop's settings and state folder, as the scripts read them.
struct Shop {
    dir: PathBuf,
    url: String,
}

impl Shop {
    fn new(url: &str) -> Shop {
        let dir = std::env::temp_dir().join(format!(
            "shopbridge-php-{}-{}",
            std::process::id(),
            now_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("the shop's state folder");
        Shop {
            dir,
            url: url.to_owned(),
        }
    }

    fn env(&self, command: &mut Command, url: &str) {
        command
            .env("SHOPBRIDGE_URL", url)
            .env("SHOPBRIDGE_SHOP", SHOP)
            .env("SHOPBRIDGE_KEY_ID", KEY_ID)
            .env("SHOPBRIDGE_SECRET", SECRET)
            .env("SHOPBRIDGE_STATE_DIR", &self.dir);
    }

    /// Runs a script against `url`; its JSON answer.
    fn run_against(&self, url: &str, script: &str, args: &[&str]) -> Value {
        let mut command = php();
        command.arg(scripts().join(script)).args(args);
        self.env(&mut command, url);
        let out = command.output().expect("running php");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "php {script} {args:?} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("php {script} answered no JSON ({e}):\n{stdout}\n{stderr}"))
    }

    fn run(&self, script: &str, args: &[&str]) -> Value {
        self.run_against(&self.url, script, args)
    }

    /// The fake platforms' database (`shops.json`).
    fn shops(&self) -> Value {
        std::fs::read_to_string(self.dir.join("shops.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null)
    }

    /// `php -S 127.0.0.1:<port> router.php`: the shop's web server.
    fn serve(&self, port: u16) -> PhpServer {
        let mut command = php();
        command
            .arg("-S")
            .arg(format!("127.0.0.1:{port}"))
            .arg(scripts().join("router.php"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.env(&mut command, &self.url);
        let child = command.spawn().expect("starting php -S");
        let server = PhpServer { child };
        wait_for("php -S to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        });
        server
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct PhpServer {
    child: Child,
}

impl Drop for PhpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// The supplier's id of a shop order, once submitted.
fn supplier_reference(shop: &ShopClient, reference: &str) -> Option<String> {
    let view = shop.order(reference);
    view.body["supplier_orders"][0]["supplier_reference"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn each_module_posts_an_order_and_applies_the_status_webhook() {
    let database = Database::new(Db::Sqlite);
    let supplier = FakeWholesaler::start(SUPPLIER_KEY);
    let port = free_port();
    let mut config = ConfigSpec::new(&database, &supplier);
    // A query in the callback URL: signed as sent.
    config.callback_url = Some(format!(
        "http://127.0.0.1:{port}/shopbridge/webhook?shop={SHOP}"
    ));
    let server = Server::start(&config);
    let host = server.shop();
    let shop = Shop::new(&server.base);
    let _web = shop.serve(port);

    // PrestaShop and OpenCart: straight to the host, inside the "checkout".
    for platform in ["prestashop", "opencart"] {
        let posted = shop.run("post_order.php", &[platform]);
        assert_eq!(posted["outcome"], "sent", "{platform}: {posted}");
        assert_eq!(posted["queued"], 0, "{platform}: {posted}");
    }
    // VirtueMart while the host is unreachable: queued, then sent by cron.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let started = std::time::Instant::now();
    let posted = shop.run_against(&closed, "post_order.php", &["virtuemart"]);
    assert_eq!(posted["outcome"], "queued", "{posted}");
    assert_eq!(posted["queued"], 1, "{posted}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the checkout waited {:?}",
        started.elapsed()
    );
    assert_eq!(host.order("d5e8051").status, 404, "sent while queued");
    let retried = shop.run("retry.php", &["virtuemart"]);
    assert_eq!(retried["sent"], 1, "{retried}");
    assert_eq!(retried["pending"], 0, "{retried}");
    // A second cron run has nothing to send.
    assert_eq!(shop.run("retry.php", &["virtuemart"])["sent"], 0);

    // The host has the three orders as the platforms' builders made them.
    let ps = host.order("XKBKNABJK");
    assert_eq!(ps.status, 200, "{:?}", ps.body);
    assert_eq!(ps.body["order"]["shipping_address"]["postal_code"], "75011");
    assert_eq!(ps.body["order"]["lines"][0]["sku"], "BB-1");
    assert_eq!(ps.body["order"]["lines"][0]["unit_price"], 1599);
    assert_eq!(ps.body["paid"], true);
    let oc = host.order("OC-12");
    assert_eq!(oc.status, 200, "{:?}", oc.body);
    assert_eq!(oc.body["currency"], "USD");
    assert_eq!(oc.body["order"]["lines"][0]["unit_price"], 1320);
    let vm = host.order("d5e8051");
    assert_eq!(vm.status, 200, "{:?}", vm.body);
    assert_eq!(vm.body["order"]["shipping_address"]["city"], "Hamburg");

    // They reach the supplier; it ships each with its own tracking number.
    let references = ["XKBKNABJK", "OC-12", "d5e8051"];
    for reference in references {
        let id = wait_for("the order at the supplier", WAIT, || {
            supplier_reference(&host, reference)
        });
        supplier.ship(&id, "Colissimo", &format!("TRACK-{reference}"));
    }
    assert_eq!(supplier.orders().len(), 3);

    // The webhooks come back to the PHP handler, which applies them.
    let shops = wait_for("the three shipped webhooks applied", WAIT, || {
        let shops = shop.shops();
        let ps = &shops["prestashop"]["orders"]["7"];
        let oc = &shops["opencart"]["orders"]["12"];
        let vm = &shops["virtuemart"]["orders"]["d5e8051"];
        (ps["order_carrier"]["tracking_number"] == "TRACK-XKBKNABJK"
            && oc["order_status_id"] == 3
            && vm["order_status"] == "S")
            .then_some(shops)
    });
    // PrestaShop: the states from Configuration (payment accepted →
    // preparation → shipping), the tracking on the OrderCarrier, the
    // in-transit mail, and no echo of the change back to the host.
    let ps = &shops["prestashop"]["orders"]["7"];
    let configuration = &shops["prestashop"]["configuration"];
    assert_eq!(ps["current_state"], configuration["PS_OS_SHIPPING"], "{ps}");
    assert_eq!(
        ps["history"].as_array().and_then(|h| h.last()),
        Some(&configuration["PS_OS_SHIPPING"]),
        "{ps}"
    );
    assert_eq!(ps["echoed"], false, "{ps}");
    assert_eq!(
        shops["prestashop"]["emails"][0]["tracking"],
        "TRACK-XKBKNABJK"
    );
    // OpenCart: a history entry at Shipped, the tracking in the comment, notified.
    let history = shops["opencart"]["orders"]["12"]["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let shipped = history
        .iter()
        .find(|h| h["order_status_id"] == 3)
        .unwrap_or_else(|| panic!("no Shipped history: {history:?}"));
    assert!(
        shipped["comment"]
            .as_str()
            .is_some_and(|c| c.contains("TRACK-OC-12") && c.contains("Colissimo")),
        "{shipped}"
    );
    assert_eq!(shipped["notify"], true);
    // VirtueMart: status S with the tracking in the comment.
    let vm_history = shops["virtuemart"]["orders"]["d5e8051"]["history"].to_string();
    assert!(vm_history.contains("TRACK-d5e8051"), "{vm_history}");

    // Every event the host has was posted, verified and answered 2xx.
    let events = host.events(0);
    let seqs: Vec<i64> = events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert!(seqs.len() >= 6, "{:?}", events.body);
    let delivered = wait_for("every webhook delivered", WAIT, || {
        let webhooks = shop.shops()["webhooks"].as_array().cloned()?;
        seqs.iter()
            .all(|seq| {
                webhooks
                    .iter()
                    .any(|w| w["seq"] == *seq && w["status"] == 200)
            })
            .then_some(webhooks)
    });
    assert!(
        delivered.iter().all(|w| w["status"] == 200),
        "a webhook was refused: {delivered:?}"
    );
    assert!(
        delivered
            .iter()
            .all(|w| w["uri"] == format!("/shopbridge/webhook?shop={SHOP}")),
        "{delivered:?}"
    );

    // The pull fallback reads the same events by cursor: all were applied
    // by the webhooks already, none twice.
    let pulled = shop.run("pull_events.php", &[]);
    assert_eq!(pulled["applied"], 0, "{pulled}");
    assert_eq!(pulled["skipped"], seqs.len(), "{pulled}");
    assert_eq!(
        pulled["cursor"],
        seqs.last().copied().unwrap_or(0),
        "{pulled}"
    );
    assert_eq!(pulled["error"], "", "{pulled}");
    let applied = shop.shops()["applied"].as_array().map(Vec::len);
    assert_eq!(applied, Some(seqs.len()), "each event applied once");
}

const FIRST: &str = "Référence;Désignation;Marque;Catégorie;Prix HT;TVA;Stock;Délai\n\
BB-1;Théière fonte;Acme;Maison > Cuisine;10,00;20;5;\n\
BB-2;Tasse;Acme;Maison > Cuisine;2,50;20;0;6\n\
BB-3;Plateau;Bois&Co;Maison > Salon;8,00;20;12;\n";

const SECOND: &str = "Référence;Désignation;Marque;Catégorie;Prix HT;TVA;Stock;Délai\n\
BB-1;Théière fonte;Acme;Maison > Cuisine;11,00;20;5;\n\
BB-2;Tasse;Acme;Maison > Cuisine;2,50;20;0;6\n\
BB-5;Sous-verre;Bois&Co;Maison > Salon;1,20;20;40;\n";

async fn feed(State(body): State<Arc<Mutex<String>>>) -> String {
    body.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn sync(host: &ShopClient) {
    let started = host.send("POST", "/v1/shops/demo/bindings/bigbuy/syncs", b"");
    assert_eq!(started.status, 202, "{:?}", started.body);
    let id = started.body["id"].as_i64().expect("a run id");
    let run = wait_for("the sync to end", WAIT, || {
        let run = host.send(
            "GET",
            &format!("/v1/shops/demo/bindings/bigbuy/syncs/{id}"),
            b"",
        );
        let state = run.body["state"].as_str().unwrap_or_default().to_owned();
        (!["queued", "running"].contains(&state.as_str())).then_some(run.body)
    });
    assert_eq!(run["state"], "succeeded", "{run}");
}

/// The SKUs of a pull's pages, in order, and how many pages.
fn pulled_skus(pull: &Value) -> (Vec<(String, bool)>, usize) {
    let pages = pull["pages"].as_array().cloned().unwrap_or_default();
    let skus = pages
        .iter()
        .flat_map(|page| page.as_array().cloned().unwrap_or_default())
        .map(|c| {
            (
                c["sku"].as_str().unwrap_or_default().to_owned(),
                c["removed"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    (skus, pages.len())
}

#[test]
fn the_catalog_pull_pages_through_every_change_once() {
    let database = Database::new(Db::Sqlite);
    let body = Arc::new(Mutex::new(FIRST.to_owned()));
    let feed_server = LoopbackServer::start(
        Router::new()
            .route("/feed.csv", get(feed))
            .with_state(body.clone()),
    );
    let path = std::env::temp_dir().join(format!(
        "shopbridge-php-catalog-{}-{}.toml",
        std::process::id(),
        now_nanos()
    ));
    std::fs::write(
        &path,
        crate::catalog::config(&database, &feed_server.url("/feed.csv")),
    )
    .expect("config");
    let server = Server::start_with_file(path);
    let host = server.shop();
    let shop = Shop::new(&server.base);

    sync(&host);
    let pull = shop.run("pull_catalog.php", &["2"]);
    assert_eq!(pull["result"]["error"], "", "{pull}");
    let (mut skus, pages) = pulled_skus(&pull);
    skus.sort();
    assert_eq!(
        skus,
        [
            ("BB-1".to_owned(), false),
            ("BB-2".to_owned(), false),
            ("BB-3".to_owned(), false)
        ],
        "{pull}"
    );
    assert_eq!(pages, 2, "pages of two: {pull}");
    assert_eq!(pull["result"]["changes"], 3);
    let shops = shop.shops();
    // 10.00 HT × 1.30 × 1.20 = 15.60 → 15.99 VAT included; stored without VAT.
    assert_eq!(shops["prestashop"]["products"]["BB-1"]["quantity"], 5);
    assert_eq!(shops["prestashop"]["products"]["BB-1"]["price"], 13.325);
    assert_eq!(shops["opencart"]["products"]["BB-1"]["quantity"], 5);
    assert_eq!(shops["opencart"]["products"]["BB-1"]["price"], 13.325);
    assert_eq!(
        shops["virtuemart"]["products"]["BB-3"]["product_in_stock"],
        12
    );
    // Out of stock and hidden by the binding's policy.
    assert_eq!(shops["prestashop"]["products"]["BB-2"]["quantity"], 0);
    // Each product updated once per platform.
    for (platform, sku) in [
        ("prestashop", "BB-1"),
        ("opencart", "BB-2"),
        ("virtuemart", "BB-3"),
    ] {
        assert_eq!(shops[platform]["products"][sku]["updates"], 1, "{platform}");
    }

    // Nothing new: nothing applied, the cursor stays.
    let again = shop.run("pull_catalog.php", &["2"]);
    assert_eq!(again["result"]["changes"], 0, "{again}");
    assert_eq!(again["result"]["cursor"], pull["result"]["cursor"]);

    // A new feed: a price changed, a product gone, a new one; only those come.
    *body.lock().unwrap_or_else(|e| e.into_inner()) = SECOND.to_owned();
    sync(&host);
    let next = shop.run("pull_catalog.php", &["2"]);
    let (mut skus, _) = pulled_skus(&next);
    skus.sort();
    assert_eq!(
        skus,
        [
            ("BB-1".to_owned(), false),
            ("BB-3".to_owned(), true),
            ("BB-5".to_owned(), false)
        ],
        "{next}"
    );
    let shops = shop.shops();
    assert_eq!(shops["prestashop"]["products"]["BB-3"]["active"], false);
    assert_eq!(shops["prestashop"]["products"]["BB-3"]["quantity"], 0);
    assert_eq!(shops["virtuemart"]["products"]["BB-3"]["published"], 0);
    assert_eq!(shops["opencart"]["products"]["BB-5"]["quantity"], 40);
    // 11.00 × 1.30 × 1.20 = 17.16 → 17.99, without VAT 14.991667.
    assert_eq!(shops["opencart"]["products"]["BB-1"]["price"], 14.991667);
    assert_eq!(shops["prestashop"]["products"]["BB-2"]["updates"], 1);
}

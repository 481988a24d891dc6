//! Status: one `GET /v2/orders/{id}` per order (the API has no batch
//! read), its shipments when some have left or it is on hold, its invoice
//! once fulfilled.
//!
//! | Printful `status` | state |
//! |-------------------|-------|
//! | `draft` | accepted, with a message: it waits for its confirmation |
//! | `pending` | accepted |
//! | `failed` | processing, with a message: Printful could not take it (address, print files or payment) |
//! | `inprocess` | processing |
//! | `onhold` | backordered (with the shipment's estimated delivery, when given) when a shipment is `outstock`, else processing with a message |
//! | `partial` | partly shipped, with the shipments that left |
//! | `fulfilled` | shipped, with its shipments; delivered once every shipment that left is `delivered` |
//! | `canceled` | cancelled |
//! | anything else | processing, with a message quoting it |

use serde_json::Value;
use shopbridge_guest_sdk::http::Method;
use shopbridge_guest_sdk::{OrderError, OrderState, Shipment, StatusUpdate, log};

use crate::client::{Config, Invoices, json, order_error, payload};
use crate::orders::{PrintfulOrder, get_order};
use crate::values::{order_path_id, rfc3339};

/// Shipments asked for per page (the API's maximum `limit`).
const SHIPMENTS_PAGE: usize = 100;

/// Pages of shipments read for one order: 500 parcels is far beyond any
/// order, and bounds the requests one order may take.
const MAX_SHIPMENT_PAGES: usize = 5;

/// A `data:` URL longer than this (4 MiB, about a 3 MB document) is not
/// passed on: it would weigh on every status update that carries it.
const MAX_INVOICE_URL: usize = 4 << 20;

/// `poll-status`. References are Printful order ids (or `@external-id`).
/// When Printful rate-limits, fails, or the call's request budget is spent
/// part way, the updates gathered so far are returned and the other
/// references left out (the host asks again at its next poll); only a
/// failure before any update is an error.
pub(crate) fn poll_status(references: &[String]) -> Result<Vec<StatusUpdate>, OrderError> {
    let config = Config::from_settings()?;
    let mut unique: Vec<&str> = Vec::with_capacity(references.len());
    for r in references
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        if !unique.contains(&r) {
            unique.push(r);
        }
    }
    let mut updates = Vec::with_capacity(unique.len());
    for (done, reference) in unique.iter().enumerate() {
        match poll_one(&config, reference) {
            Ok(Some(update)) => updates.push(update),
            Ok(None) => {}
            Err(OrderError::Transient(failure)) if !updates.is_empty() => {
                log::warn(
                    "Printful status poll stopped part way; the rest waits for the next poll",
                    &[
                        ("polled", &done.to_string()),
                        ("left", &(unique.len() - done).to_string()),
                        ("reason", &failure.message),
                    ],
                );
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(updates)
}

/// The update of one order, `None` when Printful does not know it.
fn poll_one(config: &Config, reference: &str) -> Result<Option<StatusUpdate>, OrderError> {
    let order = match get_order(config, reference) {
        Ok(Some(order)) => order,
        Ok(None) => return Ok(None),
        // A reference Printful cannot read as an order id (400) is one it
        // does not know.
        Err(OrderError::Rejected(why)) => {
            log::debug(
                "Printful does not know this order",
                &[("order", reference), ("answer", &why)],
            );
            return Ok(None);
        }
        Err(OrderError::NeedsAttention(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let shipments = match order.status.as_str() {
        "partial" | "fulfilled" | "onhold" => shipments(config, &order)?,
        _ => Vec::new(),
    };
    let invoice_url = match (order.status.as_str(), config.invoices) {
        ("fulfilled", Invoices::DataUrl) => invoice(config, &order)?,
        _ => None,
    };
    let mut update = status_update(reference, &order, &shipments);
    update.invoice_url = invoice_url;
    Ok(Some(update))
}

/// Every shipment of an order (`GET /v2/orders/{id}/shipments`, by pages).
fn shipments(config: &Config, order: &PrintfulOrder) -> Result<Vec<Value>, OrderError> {
    let mut all = Vec::new();
    for page in 0..MAX_SHIPMENT_PAGES {
        let offset = page * SHIPMENTS_PAGE;
        let path = format!(
            "/v2/orders/{}/shipments?limit={SHIPMENTS_PAGE}&offset={offset}",
            order_path_id(&order.id)
        );
        let response = config.request(Method::Get, &path, None)?;
        if response.status == 404 {
            break;
        }
        if !response.is_success() {
            return Err(order_error(&response, None));
        }
        let body = json(&response);
        let list = payload(&body).as_array().cloned().unwrap_or_default();
        let count = list.len();
        all.extend(list);
        let total = body
            .pointer("/paging/total")
            .and_then(Value::as_u64)
            .and_then(|t| usize::try_from(t).ok());
        let more = match total {
            Some(total) => offset + count < total,
            None => count == SHIPMENTS_PAGE,
        };
        if !more || count == 0 {
            break;
        }
    }
    Ok(all)
}

/// The order's invoice as a `data:` URL (`GET /v2/orders/{id}/invoices`,
/// a base64 document). Any failure but a spent budget or a rate limit
/// leaves the invoice out.
fn invoice(config: &Config, order: &PrintfulOrder) -> Result<Option<String>, OrderError> {
    let path = format!("/v2/orders/{}/invoices", order_path_id(&order.id));
    let response = config.request(Method::Get, &path, None)?;
    if response.status == 429 {
        return Err(order_error(&response, None));
    }
    if !response.is_success() {
        log::debug(
            "no invoice from Printful",
            &[
                ("order", &order.id),
                ("status", &response.status.to_string()),
            ],
        );
        return Ok(None);
    }
    let body = json(&response);
    let data = payload(&body);
    let content = data
        .get("content")
        .and_then(Value::as_str)
        .map(|c| c.trim())
        .filter(|c| !c.is_empty() && c.bytes().all(is_base64));
    let Some(content) = content else {
        return Ok(None);
    };
    let media_type = data
        .get("media_type")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|m| is_media_type(m))
        .unwrap_or("application/pdf");
    let url = format!("data:{media_type};base64,{content}");
    if url.len() > MAX_INVOICE_URL {
        log::warn(
            "Printful's invoice is too large to pass on",
            &[("order", &order.id), ("bytes", &url.len().to_string())],
        );
        return Ok(None);
    }
    Ok(Some(url))
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn is_media_type(text: &str) -> bool {
    let mut parts = text.split('/');
    let token = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+'))
        })
    };
    token(parts.next()) && token(parts.next()) && parts.next().is_none()
}

/// The update for an order and its shipments (see the module's table).
pub(crate) fn status_update(
    reference: &str,
    order: &PrintfulOrder,
    shipments: &[Value],
) -> StatusUpdate {
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let left: Vec<&Value> = shipments
        .iter()
        .filter(|s| {
            matches!(
                text(s, "shipment_status").as_deref(),
                Some("shipped" | "returned")
            ) || (text(s, "shipment_status").is_none() && text(s, "shipped_at").is_some())
        })
        .collect();
    let parcels = || -> Vec<Shipment> { left.iter().map(|s| parcel(s, &order.raw)).collect() };
    let mut message = None;
    let state = match order.status.as_str() {
        "draft" => {
            message = Some("a draft at Printful: it waits for its confirmation".to_owned());
            OrderState::Accepted
        }
        "pending" => OrderState::Accepted,
        "failed" => {
            message = Some(
                "Printful could not take the order (address, print files or payment); it \
                 waits in Printful's dashboard to be fixed and confirmed again"
                    .to_owned(),
            );
            OrderState::Processing
        }
        "inprocess" => OrderState::Processing,
        "onhold" => {
            let out_of_stock = shipments
                .iter()
                .find(|s| text(s, "shipment_status").as_deref() == Some("outstock"));
            match out_of_stock {
                Some(s) => OrderState::Backordered(
                    s.pointer("/estimated_delivery/from_date")
                        .and_then(Value::as_str)
                        .and_then(iso_date),
                ),
                None => {
                    message = Some(
                        "on hold at Printful: a problem is being resolved with Printful's \
                         customer service"
                            .to_owned(),
                    );
                    OrderState::Processing
                }
            }
        }
        "partial" => OrderState::PartlyShipped(parcels()),
        "fulfilled" => {
            let delivered = !left.is_empty()
                && left
                    .iter()
                    .all(|s| text(s, "delivery_status").as_deref() == Some("delivered"));
            if delivered {
                OrderState::Delivered
            } else {
                OrderState::Shipped(parcels())
            }
        }
        "canceled" | "cancelled" => OrderState::Cancelled(None),
        other => {
            log::warn(
                "unknown Printful order status",
                &[("order", &order.id), ("status", other)],
            );
            message = Some(format!("Printful status '{other}'"));
            OrderState::Processing
        }
    };
    StatusUpdate {
        supplier_reference: reference.to_owned(),
        state,
        changed_at: text(&order.raw, "updated_at").and_then(|t| rfc3339(&t)),
        invoice_url: None,
        message,
    }
}

/// One shipment that left: its carrier, tracking and the SKUs it holds.
///
/// The document's `Shipment` has `carrier`, `tracking_url` and
/// `shipment_items`, but no tracking number; Printful's shipment webhooks
/// carry `tracking_number`, and it is read here when the answer has it.
fn parcel(shipment: &Value, order: &Value) -> Shipment {
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut tracking_numbers = Vec::new();
    if let Some(number) = text(shipment, "tracking_number") {
        tracking_numbers.push(number);
    }
    // The order's items by id, for shipment items without an external id.
    let items = order
        .get("order_items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut skus: Vec<String> = Vec::new();
    for item in shipment
        .get("shipment_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sku = text(item, "order_item_external_id").or_else(|| {
            let id = item.get("order_item_id")?;
            items
                .iter()
                .find(|i| i.get("id") == Some(id))
                .and_then(|i| text(i, "external_id"))
        });
        if let Some(sku) = sku
            && !skus.contains(&sku)
        {
            skus.push(sku);
        }
    }
    Shipment {
        carrier: text(shipment, "carrier").or_else(|| text(shipment, "service")),
        tracking_numbers,
        tracking_url: text(shipment, "tracking_url")
            // The document's examples start with a zero-width space.
            .map(|u| u.trim_start_matches('\u{200b}').to_owned())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        skus,
    }
}

/// `2026-12-01` when the text is an ISO 8601 date.
fn iso_date(text: &str) -> Option<String> {
    let b = text.trim().as_bytes();
    let ok = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    ok.then(|| String::from_utf8_lossy(&b[..10]).into_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use shopbridge_guest_sdk::http::{Error as HttpError, Response};
    use shopbridge_guest_sdk::testing::{self, json_response};

    use super::*;

    const BASE: &str = "https://api.printful.test";

    fn setup() {
        testing::reset();
        testing::set_setting("api-base-url", BASE);
        testing::set_setting("api-key", "pf-token");
    }

    fn order(id: u64, status: &str) -> Value {
        json!({
            "id": id, "external_id": format!("SB{id}"), "status": status,
            "updated_at": "2026-01-12T09:30:00Z",
            "order_items": [
                {"id": 501, "source": "sync", "external_id": "4011", "quantity": 2},
                {"id": 502, "source": "sync", "external_id": "4012", "quantity": 1}
            ]
        })
    }

    fn printful(order: &Value) -> PrintfulOrder {
        PrintfulOrder::from_answer(&json!({ "data": order })).expect("an order")
    }

    fn shipment(status: &str, delivery: &str, items: &[u64]) -> Value {
        json!({
            "id": 9, "carrier": "USPS", "service": "USPS Priority Mail",
            "shipment_status": status, "delivery_status": delivery,
            "shipped_at": "2026-01-12T09:30:00Z",
            "tracking_url": "\u{200b}https://myorders.com/tracking/39925631",
            "tracking_number": "9400111899223344556677",
            "estimated_delivery": {"from_date": "2026-02-01", "to_date": "2026-02-03"},
            "shipment_items": items.iter().map(|id| json!({"order_item_id": id, "quantity": 1})).collect::<Vec<_>>()
        })
    }

    #[test]
    fn statuses_map_onto_states() {
        let cases = [
            ("draft", OrderState::Accepted),
            ("pending", OrderState::Accepted),
            ("failed", OrderState::Processing),
            ("inprocess", OrderState::Processing),
            ("onhold", OrderState::Processing),
            ("canceled", OrderState::Cancelled(None)),
            ("mystery", OrderState::Processing),
        ];
        for (status, state) in cases {
            let update = status_update("7", &printful(&order(7, status)), &[]);
            assert_eq!(update.state, state, "{status}");
            assert_eq!(update.changed_at.as_deref(), Some("2026-01-12T09:30:00Z"));
        }
        let held = status_update(
            "7",
            &printful(&order(7, "onhold")),
            &[shipment("outstock", "unknown", &[501])],
        );
        assert_eq!(
            held.state,
            OrderState::Backordered(Some("2026-02-01".to_owned()))
        );
    }

    #[test]
    fn shipments_that_left_become_parcels() {
        let partial = status_update(
            "7",
            &printful(&order(7, "partial")),
            &[
                shipment("shipped", "in_transit", &[501]),
                shipment("pending", "unknown", &[502]),
            ],
        );
        let OrderState::PartlyShipped(parcels) = partial.state else {
            panic!("expected partly shipped, got {:?}", partial.state);
        };
        assert_eq!(
            parcels,
            vec![Shipment {
                carrier: Some("USPS".to_owned()),
                tracking_numbers: vec!["9400111899223344556677".to_owned()],
                tracking_url: Some("https://myorders.com/tracking/39925631".to_owned()),
                skus: vec!["4011".to_owned()],
            }]
        );
        let mut without_number = shipment("shipped", "in_transit", &[501, 502]);
        without_number["tracking_number"] = Value::Null;
        without_number["shipment_items"][0]["order_item_external_id"] = json!("pf-4011");
        let shipped = status_update("7", &printful(&order(7, "fulfilled")), &[without_number]);
        let OrderState::Shipped(parcels) = shipped.state else {
            panic!("expected shipped");
        };
        assert!(parcels[0].tracking_numbers.is_empty());
        assert_eq!(parcels[0].skus, vec!["pf-4011", "4012"]);
        let delivered = status_update(
            "7",
            &printful(&order(7, "fulfilled")),
            &[shipment("shipped", "delivered", &[501, 502])],
        );
        assert_eq!(delivered.state, OrderState::Delivered);
    }

    fn respond_with_store(orders: Vec<Value>, shipments: Vec<Value>) {
        testing::respond(move |r| {
            let path = r.url.trim_start_matches(BASE);
            let id = path
                .trim_start_matches("/v2/orders/")
                .split(['/', '?'])
                .next()
                .unwrap_or_default()
                .to_owned();
            let found = orders
                .iter()
                .find(|o| o["id"].as_u64().map(|n| n.to_string()) == Some(id.clone()));
            Ok(match found {
                None => json_response(404, r#"{"code":404,"result":"Not found"}"#),
                Some(_) if path.contains("/shipments") => json_response(
                    200,
                    &json!({"data": shipments, "paging": {"total": shipments.len(), "offset": 0, "limit": 100}}).to_string(),
                ),
                Some(_) if path.ends_with("/invoices") => json_response(
                    200,
                    r#"{"data": {"media_type": "application/pdf", "content": "JVBERi0xLjQK"}}"#,
                ),
                Some(o) => json_response(200, &json!({ "data": o }).to_string()),
            })
        });
    }

    #[test]
    fn one_request_per_order_and_more_only_when_needed() {
        setup();
        respond_with_store(
            vec![
                order(1, "pending"),
                order(2, "fulfilled"),
                order(3, "inprocess"),
            ],
            vec![shipment("shipped", "in_transit", &[501, 502])],
        );
        let refs: Vec<String> = ["1", "2", "3", "404", "2", " "]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let updates = poll_status(&refs).expect("polls");
        let got: Vec<&str> = updates
            .iter()
            .map(|u| u.supplier_reference.as_str())
            .collect();
        assert_eq!(got, vec!["1", "2", "3"]);
        assert_eq!(
            updates[1].invoice_url.as_deref(),
            Some("data:application/pdf;base64,JVBERi0xLjQK")
        );
        let paths: Vec<String> = testing::requests()
            .iter()
            .map(|r| r.url.trim_start_matches(BASE).to_owned())
            .collect();
        assert_eq!(
            paths,
            vec![
                "/v2/orders/1",
                "/v2/orders/2",
                "/v2/orders/2/shipments?limit=100&offset=0",
                "/v2/orders/2/invoices",
                "/v2/orders/3",
                "/v2/orders/404",
            ]
        );

        setup();
        testing::set_setting("invoices", "none");
        respond_with_store(vec![order(2, "fulfilled")], Vec::new());
        let updates = poll_status(&["2".to_owned()]).expect("polls");
        assert_eq!(updates[0].invoice_url, None);
        assert_eq!(testing::requests().len(), 2);
    }

    #[test]
    fn a_poll_cut_short_returns_what_it_has() {
        setup();
        let mut calls = 0;
        testing::respond(move |_| {
            calls += 1;
            match calls {
                1 => Ok(json_response(
                    200,
                    &json!({ "data": order(1, "pending") }).to_string(),
                )),
                2 => {
                    let mut limited: Response = json_response(429, "{}");
                    limited.retry_after_seconds = Some(30);
                    Ok(limited)
                }
                _ => Err(HttpError::TooManyRequests(32)),
            }
        });
        let refs = vec!["1".to_owned(), "2".to_owned(), "3".to_owned()];
        let updates = poll_status(&refs).expect("partial");
        assert_eq!(updates.len(), 1);

        // Nothing gathered: the failure is the answer.
        setup();
        testing::respond(|_| {
            let mut limited: Response = json_response(429, "{}");
            limited.retry_after_seconds = Some(30);
            Ok(limited)
        });
        match poll_status(&refs) {
            Err(OrderError::Transient(t)) => assert_eq!(t.retry_after_seconds, Some(30)),
            other => panic!("{other:?}"),
        }
        // A refused token is never partial.
        setup();
        testing::respond(|_| {
            Ok(json_response(
                401,
                r#"{"code":401,"result":"Unauthorized"}"#,
            ))
        });
        assert!(matches!(
            poll_status(&refs),
            Err(OrderError::Configuration(_))
        ));
    }

    #[test]
    fn shipments_are_read_by_pages() {
        setup();
        testing::respond(|r| {
            Ok(if r.url.contains("offset=0") {
                let page: Vec<Value> = (0..100)
                    .map(|_| shipment("shipped", "in_transit", &[501]))
                    .collect();
                json_response(
                    200,
                    &json!({"data": page, "paging": {"total": 101, "offset": 0, "limit": 100}})
                        .to_string(),
                )
            } else {
                json_response(200, &json!({"data": [shipment("shipped", "in_transit", &[502])], "paging": {"total": 101, "offset": 100, "limit": 100}}).to_string())
            })
        });
        let config = Config::from_settings().expect("settings");
        let all = shipments(&config, &printful(&order(7, "partial"))).expect("shipments");
        assert_eq!(all.len(), 101);
        assert_eq!(testing::requests().len(), 2);
    }

    #[test]
    fn invoices_must_look_like_documents() {
        assert!(is_media_type("application/pdf"));
        assert!(!is_media_type("text/html;base64,PHNjcmlwdD4"));
        assert!(!is_media_type("pdf"));
        assert!(is_base64(b'+') && !is_base64(b','));
    }
}

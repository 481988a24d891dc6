//! Order status: sale orders and their deliveries, read by batch.

use std::collections::BTreeMap;

use shopbridge_guest_sdk::{OrderError, OrderState, Shipment, StatusUpdate, log};

use crate::client::{Config, FaultKind, Odoo, OdooError, domain, kind, leaf};
use crate::orders::sale_order_id;
use crate::values::{odoo_date, odoo_datetime};
use crate::xmlrpc::Value;

/// Sale orders per batch: two `search_read` calls for 200 orders (six
/// when some have shipped, wait for stock or are invoiced), so a poll of
/// 800 orders stays within the host's 32 requests per call (with the
/// login, one `fields_get` and a few `get_portal_url`).
pub const STATUS_BATCH: usize = 200;

const ORDER_FIELDS: [&str; 4] = ["name", "state", "write_date", "invoice_ids"];

/// At most this many invoices per batch get their portal link made
/// (`get_portal_url`, one call each); the others on the next poll.
const PORTAL_LINKS_PER_CALL: usize = 4;

const PICKING_FIELDS: [&str; 5] = ["sale_id", "name", "state", "date_done", "scheduled_date"];

/// The Delivery app's fields of a delivery (`stock_delivery` in Odoo 17+,
/// `delivery` before): read only when the database has them.
const CARRIER_FIELDS: [&str; 3] = ["carrier_id", "carrier_tracking_ref", "carrier_tracking_url"];

/// `poll-status`.
pub(crate) fn poll_status(references: &[String]) -> Result<Vec<StatusUpdate>, OrderError> {
    let mut odoo = Odoo::new(Config::from_settings()?);
    // Each id once, with the reference as the host gave it.
    let mut wanted: Vec<(i64, &str)> = Vec::with_capacity(references.len());
    for reference in references {
        match sale_order_id(reference) {
            Some(id) if !wanted.iter().any(|(known, _)| *known == id) => {
                wanted.push((id, reference.as_str()));
            }
            Some(_) => {}
            None => log::warn(
                "not an Odoo sale order id; left out",
                &[("reference", reference)],
            ),
        }
    }
    let mut updates = Vec::with_capacity(wanted.len());
    for batch in wanted.chunks(STATUS_BATCH) {
        poll_batch(&mut odoo, batch, &mut updates).map_err(OdooError::into_order_error)?;
    }
    Ok(updates)
}

fn poll_batch(
    odoo: &mut Odoo,
    batch: &[(i64, &str)],
    updates: &mut Vec<StatusUpdate>,
) -> Result<(), OdooError> {
    let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
    let orders = odoo.search_read(
        "sale.order",
        domain([leaf("id", "in", ids)]),
        &ORDER_FIELDS,
        Vec::new(),
    )?;
    let confirmed: Vec<i64> = orders
        .iter()
        .filter(|o| {
            matches!(
                o.get("state").and_then(Value::as_str),
                Some("sale" | "done")
            )
        })
        .filter_map(|o| o.get("id").and_then(Value::as_i64))
        .collect();
    // The deliveries to the customer (returns and internal moves go
    // elsewhere), in the order they were made.
    let pickings = if confirmed.is_empty() {
        Vec::new()
    } else {
        // Without the Delivery app, deliveries have no carrier nor
        // tracking: parcels come without them.
        let mut fields = PICKING_FIELDS.to_vec();
        fields.extend(odoo.existing_fields("stock.picking", &CARRIER_FIELDS)?);
        odoo.search_read(
            "stock.picking",
            domain([
                leaf("sale_id", "in", confirmed.clone()),
                leaf("location_dest_id.usage", "=", "customer"),
                leaf("state", "!=", "cancel"),
            ]),
            &fields,
            vec![("order", Value::from("id asc"))],
        )?
    };
    let deliveries_of = |id: i64| -> Vec<&Value> {
        pickings
            .iter()
            .filter(|p| {
                p.get("sale_id")
                    .and_then(Value::as_many2one)
                    .map(|(sale, _)| sale)
                    == Some(id)
            })
            .collect()
    };
    // Which products left in each parcel, partly or fully shipped alike,
    // and which ones backordered orders wait for.
    let done: Vec<i64> = pickings
        .iter()
        .filter(|p| is_done(p))
        .filter_map(|p| p.get("id").and_then(Value::as_i64))
        .collect();
    let waiting: Vec<i64> = confirmed
        .iter()
        .map(|id| deliveries_of(*id))
        .filter(|d| !d.is_empty() && d.iter().all(|p| picking_state(p) == "confirmed"))
        .flatten()
        .filter_map(|p| p.get("id").and_then(Value::as_i64))
        .collect();
    let moves = moves_of(odoo, &done, &waiting)?;
    let skus = skus_by_picking(odoo, &moves)?;
    let expected = restock_dates(odoo, &moves)?;
    let invoices = invoices(odoo, &orders)?;
    for (id, reference) in batch {
        let Some(order) = orders
            .iter()
            .find(|o| o.get("id").and_then(Value::as_i64) == Some(*id))
        else {
            continue;
        };
        let mut update = status_update(reference, order, &deliveries_of(*id), &skus, &expected);
        if let Some(invoice) = invoices.get(id) {
            update.invoice_url = Some(invoice.url.clone());
            update.message = Some(format!(
                "{}; invoice {} available",
                update.message.unwrap_or_default(),
                invoice.name
            ));
        }
        updates.push(update);
    }
    Ok(())
}

/// A posted customer invoice, as the customer can open it.
struct Invoice {
    /// `INV/2026/00001`.
    name: String,
    /// The customer portal's link to its PDF, with its access token.
    url: String,
}

/// Each sale order's latest posted customer invoice, with a link the
/// customer opens without an Odoo account: one `account.move`
/// `search_read` for the orders' `invoice_ids` (posted `out_invoice`s:
/// `name`, `access_url`, `access_token`); the link is the portal URL with
/// the access token and `report_type=pdf`. A posted invoice has no token
/// until one is asked for: then `account.move` `get_portal_url`
/// (`report_type` `pdf`, `download` true) makes it, for a few invoices per
/// call. A user who may not read invoices gets statuses without them.
fn invoices(odoo: &mut Odoo, orders: &[Value]) -> Result<BTreeMap<i64, Invoice>, OdooError> {
    let invoice_ids = |order: &Value| -> Vec<i64> {
        order
            .get("invoice_ids")
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_i64)
            .collect()
    };
    let mut ids: Vec<i64> = orders.iter().flat_map(invoice_ids).collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    ids.sort_unstable();
    ids.dedup();
    let posted = match odoo.search_read(
        "account.move",
        domain([
            leaf("id", "in", ids),
            leaf("state", "=", "posted"),
            leaf("move_type", "=", "out_invoice"),
        ]),
        &["name", "access_url", "access_token"],
        vec![("order", Value::from("id asc"))],
    ) {
        Ok(posted) => posted,
        Err(e) if e.is_fault(FaultKind::AccessError) => {
            log::warn(
                "the Odoo user may not read invoices: statuses come without them",
                &[("error", &e.to_string())],
            );
            return Ok(BTreeMap::new());
        }
        Err(e) => return Err(e),
    };
    let base = odoo.config().url.clone();
    let mut links_made = 0;
    let mut found = BTreeMap::new();
    for order in orders {
        let Some(id) = order.get("id").and_then(Value::as_i64) else {
            continue;
        };
        let mine = invoice_ids(order);
        let Some(invoice) = posted
            .iter()
            .filter(|m| {
                m.get("id")
                    .and_then(Value::as_i64)
                    .is_some_and(|i| mine.contains(&i))
            })
            .max_by_key(|m| m.get("id").and_then(Value::as_i64))
        else {
            continue;
        };
        let (Some(invoice_id), Some(name)) = (
            invoice.get("id").and_then(Value::as_i64),
            invoice.get("name").and_then(Value::as_text),
        ) else {
            continue;
        };
        let token = invoice.get("access_token").and_then(Value::as_text);
        let access_url = invoice.get("access_url").and_then(Value::as_text);
        let path = match (access_url, token) {
            (Some(access_url), Some(token)) => {
                format!("{access_url}?access_token={token}&report_type=pdf&download=true")
            }
            _ if links_made < PORTAL_LINKS_PER_CALL => {
                links_made += 1;
                match odoo.execute_kw(
                    "account.move",
                    "get_portal_url",
                    vec![Value::from(vec![invoice_id])],
                    vec![
                        ("report_type", Value::from("pdf")),
                        ("download", Value::Bool(true)),
                    ],
                )? {
                    Value::String(path) => path,
                    other => {
                        return Err(OdooError::Malformed {
                            call: "account.move.get_portal_url".to_owned(),
                            message: format!("expected a URL, got {}", kind(&other)),
                        });
                    }
                }
            }
            _ => continue,
        };
        let url = if path.starts_with("https://") || path.starts_with("http://") {
            path
        } else {
            format!("{base}/{}", path.trim_start_matches('/'))
        };
        found.insert(
            id,
            Invoice {
                name: name.to_owned(),
                url,
            },
        );
    }
    Ok(found)
}

/// A delivery's move: (delivery, product, done).
type Move = (i64, i64, bool);

/// The moves of these done deliveries (what they moved) and of these
/// waiting ones (what they wait for), in id order: one `stock.move`
/// `search_read`, none when there are no such deliveries.
fn moves_of(odoo: &mut Odoo, done: &[i64], waiting: &[i64]) -> Result<Vec<Move>, OdooError> {
    if done.is_empty() && waiting.is_empty() {
        return Ok(Vec::new());
    }
    let pickings: Vec<i64> = done.iter().chain(waiting).copied().collect();
    let moves = odoo.search_read(
        "stock.move",
        domain([
            leaf("picking_id", "in", pickings),
            leaf("state", "!=", "cancel"),
        ]),
        &["picking_id", "product_id", "state"],
        vec![("order", Value::from("id asc"))],
    )?;
    Ok(moves
        .iter()
        .filter_map(|m| {
            let (picking, _) = m.get("picking_id")?.as_many2one()?;
            let (product, _) = m.get("product_id")?.as_many2one()?;
            let state = m.get("state").and_then(Value::as_str).unwrap_or_default();
            let moved = state == "done";
            // A done delivery's parcel holds its done moves; a waiting
            // one waits for its moves that have no stock reserved yet
            // (an `assigned` move has all it needs).
            let wanted = if done.contains(&picking) {
                moved
            } else {
                matches!(state, "confirmed" | "waiting" | "partially_available")
            };
            wanted.then_some((picking, product, moved))
        })
        .collect())
}

/// The SKUs of the products each done delivery moved, in the order of its
/// moves: one `product.product` `search_read` (archived products
/// included: they still have a code).
fn skus_by_picking(
    odoo: &mut Odoo,
    moves: &[Move],
) -> Result<BTreeMap<i64, Vec<String>>, OdooError> {
    let mut products: Vec<i64> = moves
        .iter()
        .filter(|(_, _, moved)| *moved)
        .map(|(_, product, _)| *product)
        .collect();
    if products.is_empty() {
        return Ok(BTreeMap::new());
    }
    products.sort_unstable();
    products.dedup();
    let codes: BTreeMap<i64, String> = odoo
        .search_read(
            "product.product",
            domain([leaf("id", "in", products)]),
            &["default_code"],
            vec![(
                "context",
                Value::structure([("active_test", Value::Bool(false))]),
            )],
        )?
        .iter()
        .filter_map(|p| {
            Some((
                p.get("id")?.as_i64()?,
                p.get("default_code")?.as_text()?.to_owned(),
            ))
        })
        .collect();
    let mut skus: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (picking, product, moved) in moves {
        if !moved {
            continue;
        }
        if let Some(code) = codes.get(product) {
            let list = skus.entry(*picking).or_default();
            if !list.contains(code) {
                list.push(code.clone());
            }
        }
    }
    Ok(skus)
}

/// When each waiting delivery can expect its goods: the date of the
/// earliest open receipt from a vendor (`stock.move` from a `supplier`
/// location; its `date` is the scheduled date until it is done) of each
/// product it waits for, the latest of those. A delivery with a product
/// no receipt brings has no date: Odoo does not know when it comes. One
/// `stock.move` `search_read`, none when nothing waits.
fn restock_dates(odoo: &mut Odoo, moves: &[Move]) -> Result<BTreeMap<i64, String>, OdooError> {
    let mut products: Vec<i64> = moves
        .iter()
        .filter(|(_, _, moved)| !moved)
        .map(|(_, product, _)| *product)
        .collect();
    if products.is_empty() {
        return Ok(BTreeMap::new());
    }
    products.sort_unstable();
    products.dedup();
    let receipts = odoo.search_read(
        "stock.move",
        domain([
            leaf("product_id", "in", products),
            leaf("location_id.usage", "=", "supplier"),
            leaf(
                "state",
                "not in",
                Value::array(["draft", "done", "cancel"].map(Value::from)),
            ),
        ]),
        &["product_id", "date"],
        vec![("order", Value::from("id asc"))],
    )?;
    let mut first_receipt: BTreeMap<i64, String> = BTreeMap::new();
    for receipt in &receipts {
        let Some((product, _)) = receipt.get("product_id").and_then(Value::as_many2one) else {
            continue;
        };
        let Some(date) = receipt
            .get("date")
            .and_then(Value::as_str)
            .and_then(odoo_date)
        else {
            continue;
        };
        let earliest = first_receipt.entry(product).or_insert_with(|| date.clone());
        if date < *earliest {
            *earliest = date;
        }
    }
    let mut expected: BTreeMap<i64, Option<String>> = BTreeMap::new();
    for (picking, product, moved) in moves {
        if *moved {
            continue;
        }
        let date = first_receipt.get(product).cloned();
        let entry = expected.entry(*picking).or_insert_with(|| date.clone());
        *entry = match (entry.take(), date) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    Ok(expected
        .into_iter()
        .filter_map(|(picking, date)| Some((picking, date?)))
        .collect())
}

fn is_done(picking: &Value) -> bool {
    picking_state(picking) == "done"
}

/// Where a sale order stands, from its state and its deliveries' states:
///
/// | sale order | deliveries (not cancelled) | state |
/// |---|---|---|
/// | `cancel` | | cancelled |
/// | `draft`, `sent` | | accepted (a quotation) |
/// | `sale`, `done` | none | accepted |
/// | | all `done` | shipped |
/// | | some `done` | partly shipped (the done ones, with the SKUs they moved) |
/// | | none `done`, all `confirmed` (waiting for stock) | backordered, with the date the last awaited receipt is expected (none when some product has no receipt coming) |
/// | | none `done`, others | processing |
/// | anything else | | processing, with a message naming the state |
fn status_update(
    reference: &str,
    order: &Value,
    deliveries: &[&Value],
    skus: &BTreeMap<i64, Vec<String>>,
    expected: &BTreeMap<i64, String>,
) -> StatusUpdate {
    let name = order
        .get("name")
        .and_then(Value::as_text)
        .unwrap_or(reference);
    let state_name = order.get("state").and_then(Value::as_str).unwrap_or("");
    let mut message = Some(format!("Odoo sale order {name}"));
    let mut changed_at = order
        .get("write_date")
        .and_then(Value::as_str)
        .and_then(odoo_datetime);
    let state = match state_name {
        "cancel" => OrderState::Cancelled(None),
        "draft" | "sent" => OrderState::Accepted,
        "sale" | "done" => {
            let done: Vec<&Value> = deliveries
                .iter()
                .copied()
                .filter(|p| picking_state(p) == "done")
                .collect();
            if deliveries.is_empty() {
                OrderState::Accepted
            } else if !done.is_empty() {
                let shipments = done.iter().map(|p| shipment(p, skus)).collect();
                if let Some(last) = done
                    .iter()
                    .filter_map(|p| p.get("date_done").and_then(Value::as_str))
                    .filter_map(odoo_datetime)
                    .max()
                {
                    changed_at = Some(last);
                }
                if done.len() == deliveries.len() {
                    OrderState::Shipped(shipments)
                } else {
                    OrderState::PartlyShipped(shipments)
                }
            } else if deliveries.iter().all(|p| picking_state(p) == "confirmed") {
                // A waiting delivery's scheduled date is not when stock
                // comes (Odoo plans it for today): the receipts say.
                let dates: Option<Vec<&String>> = deliveries
                    .iter()
                    .map(|p| {
                        p.get("id")
                            .and_then(Value::as_i64)
                            .and_then(|id| expected.get(&id))
                    })
                    .collect();
                OrderState::Backordered(dates.and_then(|d| d.into_iter().max().cloned()))
            } else {
                OrderState::Processing
            }
        }
        other => {
            log::warn(
                "unknown Odoo sale order state",
                &[("sale_order", name), ("state", other)],
            );
            message = Some(format!("Odoo sale order {name} is in state '{other}'"));
            OrderState::Processing
        }
    };
    StatusUpdate {
        supplier_reference: reference.to_owned(),
        state,
        changed_at,
        invoice_url: None,
        message,
    }
}

fn picking_state(picking: &Value) -> &str {
    picking.get("state").and_then(Value::as_str).unwrap_or("")
}

/// A done delivery as a parcel: its SKUs, carrier and tracking references
/// (Odoo joins several packages' references with commas; without the
/// Delivery app there are none).
fn shipment(picking: &Value, skus: &BTreeMap<i64, Vec<String>>) -> Shipment {
    let carrier = picking
        .get("carrier_id")
        .and_then(Value::as_many2one)
        .map(|(_, name)| name.trim().to_owned())
        .filter(|n| !n.is_empty());
    let tracking_numbers: Vec<String> = picking
        .get("carrier_tracking_ref")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split([',', ';'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    // Odoo answers a JSON list instead of a URL for several packages.
    let tracking_url = picking
        .get("carrier_tracking_url")
        .and_then(Value::as_text)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned);
    let skus = picking
        .get("id")
        .and_then(Value::as_i64)
        .and_then(|id| skus.get(&id))
        .cloned()
        .unwrap_or_default();
    Shipment {
        carrier,
        tracking_numbers,
        tracking_url,
        skus,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn order(state: &str) -> Value {
        Value::structure([
            ("id", Value::Int(42)),
            ("name", Value::from("S00042")),
            ("state", Value::from(state)),
            ("write_date", Value::from("2026-01-10 08:00:00")),
        ])
    }

    fn picking(state: &str, tracking: Option<&str>) -> Value {
        Value::structure([
            ("id", Value::Int(7)),
            (
                "sale_id",
                Value::array([Value::Int(42), Value::from("S00042")]),
            ),
            ("name", Value::from("WH/OUT/00007")),
            ("state", Value::from(state)),
            (
                "carrier_id",
                Value::array([Value::Int(3), Value::from("Colissimo")]),
            ),
            (
                "carrier_tracking_ref",
                tracking.map_or(Value::Bool(false), Value::from),
            ),
            ("carrier_tracking_url", Value::Bool(false)),
            ("date_done", Value::from("2026-01-12 09:30:00")),
            ("scheduled_date", Value::from("2026-02-01 08:00:00")),
        ])
    }

    #[test]
    fn states_follow_the_table() {
        let state = |o: &Value, ps: &[Value]| {
            let refs: Vec<&Value> = ps.iter().collect();
            status_update("42", o, &refs, &BTreeMap::new(), &BTreeMap::new()).state
        };
        assert_eq!(state(&order("draft"), &[]), OrderState::Accepted);
        assert_eq!(state(&order("sale"), &[]), OrderState::Accepted);
        assert_eq!(state(&order("cancel"), &[]), OrderState::Cancelled(None));
        assert_eq!(
            state(&order("sale"), &[picking("assigned", None)]),
            OrderState::Processing
        );
        // Waiting for stock: the scheduled date is not when it comes.
        assert_eq!(
            state(&order("sale"), &[picking("confirmed", None)]),
            OrderState::Backordered(None)
        );
        let waiting = picking("confirmed", None);
        let expected = BTreeMap::from([(7, "2026-03-02".to_owned())]);
        assert_eq!(
            status_update(
                "42",
                &order("sale"),
                &[&waiting],
                &BTreeMap::new(),
                &expected
            )
            .state,
            OrderState::Backordered(Some("2026-03-02".into()))
        );
        let shipped = state(&order("sale"), &[picking("done", Some("6A123, 6A124"))]);
        match shipped {
            OrderState::Shipped(parcels) => {
                assert_eq!(parcels[0].carrier.as_deref(), Some("Colissimo"));
                assert_eq!(parcels[0].tracking_numbers, ["6A123", "6A124"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            state(
                &order("sale"),
                &[picking("done", Some("X")), picking("assigned", None)]
            ),
            OrderState::PartlyShipped(p) if p.len() == 1
        ));
        let done = picking("done", Some("JD1"));
        let waiting = picking("assigned", None);
        let skus = BTreeMap::from([(7, vec!["SKU-2".to_owned()])]);
        match status_update(
            "42",
            &order("sale"),
            &[&done, &waiting],
            &skus,
            &BTreeMap::new(),
        )
        .state
        {
            OrderState::PartlyShipped(parcels) => assert_eq!(parcels[0].skus, ["SKU-2"]),
            other => panic!("{other:?}"),
        }
        let odd = status_update(
            "42",
            &order("weird"),
            &[],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(odd.state, OrderState::Processing);
        assert!(odd.message.unwrap().contains("weird"));
    }

    #[test]
    fn a_shipment_is_dated_when_its_delivery_was_done() {
        let p = picking("done", Some("6A1"));
        let update = status_update(
            "42",
            &order("sale"),
            &[&p],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(update.changed_at.as_deref(), Some("2026-01-12T09:30:00Z"));
        let update = status_update(
            "42",
            &order("sale"),
            &[],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(update.changed_at.as_deref(), Some("2026-01-10T08:00:00Z"));
    }
}

//! Orders as Odoo sale orders: check, submit (idempotent on the order's
//! key, kept in `client_order_ref`), cancel. The exact calls are in the
//! crate documentation.

use std::collections::BTreeMap;

use shopbridge_guest_sdk::{Address, FieldIssue, Order, OrderError, Submission, log};

use crate::client::{Config, FaultKind, LinePrices, Odoo, OdooError, domain, leaf};
use crate::values::{money_from_f64, price_to_f64};
use crate::xmlrpc::Value;

/// The fields read back from a sale order for the submission.
const ORDER_FIELDS: [&str; 4] = ["name", "state", "amount_untaxed", "currency_id"];

/// `check-order`: the order's own fields, then its SKUs and countries in
/// Odoo. Nothing is written.
pub(crate) fn check_order(order: &Order) -> Result<(), OrderError> {
    let config = Config::from_settings()?;
    check_fields(order, &config)?;
    let mut odoo = Odoo::new(config);
    prepare(&mut odoo, order).map(|_| ())
}

/// `submit-order`.
pub(crate) fn submit_order(order: &Order) -> Result<Submission, OrderError> {
    let config = Config::from_settings()?;
    check_fields(order, &config)?;
    let mut odoo = Odoo::new(config);
    let key = order.idempotency_key.trim();

    // A retry finds the sale order of the first attempt by its key.
    let existing = odoo
        .search_read(
            "sale.order",
            domain([leaf("client_order_ref", "=", key)]),
            &ORDER_FIELDS,
            vec![("limit", Value::Int(1)), ("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    if let Some(found) = existing.first() {
        let id = found
            .get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| missing_id("sale.order.search_read"))?;
        log::info(
            "Odoo already has a sale order for this key",
            &[("key", key), ("sale_order", &id.to_string())],
        );
        let state = found.get("state").and_then(Value::as_str).unwrap_or("");
        if odoo.config().confirm_orders && matches!(state, "draft" | "sent") {
            confirm(&mut odoo, id)?;
        }
        let mut submission = read_submission(&mut odoo, id)?;
        submission.message = Some(format!(
            "{} (Odoo already had it under this idempotency key)",
            submission.message.unwrap_or_default()
        ));
        return Ok(submission);
    }

    let prepared = prepare(&mut odoo, order)?;
    // Everything Odoo must have is asked before anything is written.
    let shipping_method = text(order.shipping_method.as_deref());
    let carrier = match shipping_method {
        Some(method) => carrier(&mut odoo, method)?,
        None => None,
    };
    let customer = customer(&mut odoo, order, &prepared)?;
    let shipping = &order.shipping_address;
    let delivery = delivery_address(&mut odoo, customer, shipping, &prepared)?;

    let config = odoo.config().clone();
    let lines: Vec<Value> = order
        .lines
        .iter()
        .zip(&prepared.products)
        .map(|(line, product)| {
            let mut vals = vec![
                ("product_id", Value::Int(*product)),
                ("product_uom_qty", Value::Double(f64::from(line.quantity))),
            ];
            if config.line_prices == LinePrices::Order {
                vals.push(("price_unit", Value::Double(price_to_f64(&line.unit_price))));
            }
            Value::array([Value::Int(0), Value::Int(0), Value::structure(vals)])
        })
        .collect();
    let mut vals = vec![
        ("partner_id", Value::Int(customer)),
        ("partner_invoice_id", Value::Int(customer)),
        ("partner_shipping_id", Value::Int(delivery)),
        ("client_order_ref", Value::from(key)),
        ("origin", Value::from(order.reference.trim())),
        ("order_line", Value::Array(lines)),
    ];
    if let Some(pricelist) = config.pricelist_id {
        vals.push(("pricelist_id", Value::Int(pricelist)));
    }
    if let Some(company) = config.company_id {
        vals.push(("company_id", Value::Int(company)));
    }
    if let Some(carrier) = carrier {
        vals.push(("carrier_id", Value::Int(carrier)));
    }
    let id = odoo
        .create("sale.order", Value::structure(vals))
        .map_err(OdooError::into_order_error)?;
    log::info(
        "created an Odoo sale order",
        &[("key", key), ("sale_order", &id.to_string())],
    );
    if let Some(note) = order
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        post_message(&mut odoo, id, &format!("Note from the shop: {note}"));
    }
    if let (Some(method), None) = (shipping_method, carrier) {
        post_message(
            &mut odoo,
            id,
            &format!("Shipping method chosen in the shop: {method}"),
        );
    }
    if config.confirm_orders {
        confirm(&mut odoo, id)?;
    }
    read_submission(&mut odoo, id)
}

/// `cancel-order`.
pub(crate) fn cancel_order(reference: &str, reason: Option<&str>) -> Result<(), OrderError> {
    let id = sale_order_id(reference).ok_or_else(|| {
        OrderError::Rejected(format!(
            "'{reference}' is not an Odoo sale order reference (a sale order id)"
        ))
    })?;
    let mut odoo = Odoo::new(Config::from_settings()?);
    let name_and_state = |odoo: &mut Odoo| -> Result<Option<(String, String)>, OrderError> {
        let found = odoo
            .search_read(
                "sale.order",
                domain([leaf("id", "=", id)]),
                &["name", "state"],
                Vec::new(),
            )
            .map_err(OdooError::into_order_error)?;
        Ok(found.first().map(|o| {
            (
                o.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(reference)
                    .to_owned(),
                o.get("state")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        }))
    };
    let Some((name, state)) = name_and_state(&mut odoo)? else {
        return Err(OrderError::Rejected(format!(
            "Odoo has no sale order {reference}"
        )));
    };
    if state == "cancel" {
        return Ok(());
    }
    // Odoo may cancel an order whose goods have left: the shop may not.
    let shipped = odoo
        .search_read(
            "stock.picking",
            domain([
                leaf("sale_id", "=", id),
                leaf("state", "=", "done"),
                leaf("location_dest_id.usage", "=", "customer"),
            ]),
            &["name"],
            vec![("limit", Value::Int(1))],
        )
        .map_err(OdooError::into_order_error)?;
    if let Some(picking) = shipped.first() {
        let picking = picking
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("a delivery");
        return Err(OrderError::Rejected(format!(
            "sale order {name} has already shipped ({picking}): it can no longer be cancelled"
        )));
    }
    // Without `disable_cancel_warning`, Odoo 15+ answers a confirmed order
    // with its cancellation wizard instead of cancelling it.
    let context = Value::structure([("disable_cancel_warning", Value::Bool(true))]);
    match odoo.execute_kw(
        "sale.order",
        "action_cancel",
        vec![Value::from(vec![id])],
        vec![("context", context)],
    ) {
        Ok(_) => {}
        Err(e) if e.is_fault(FaultKind::UserError) => {
            return Err(OrderError::Rejected(format!(
                "Odoo cannot cancel sale order {name}: {}",
                fault_text(&e)
            )));
        }
        Err(e) => return Err(e.into_order_error()),
    }
    match name_and_state(&mut odoo)? {
        Some((_, state)) if state == "cancel" => {
            if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
                post_message(&mut odoo, id, &format!("Cancelled by the shop: {reason}"));
            }
            Ok(())
        }
        Some((_, state)) => Err(OrderError::Rejected(format!(
            "Odoo did not cancel sale order {name}: it is still '{state}'"
        ))),
        None => Err(OrderError::Rejected(format!(
            "sale order {name} disappeared while being cancelled"
        ))),
    }
}

/// A supplier reference as a sale order id.
pub(crate) fn sale_order_id(reference: &str) -> Option<i64> {
    reference.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// The order's own problems, found without asking Odoo.
fn check_fields(order: &Order, config: &Config) -> Result<(), OrderError> {
    let mut issues = Vec::new();
    address_issues(&order.shipping_address, "shipping-address", &mut issues);
    if let Some(billing) = &order.billing_address {
        address_issues(billing, "billing-address", &mut issues);
    }
    if order.lines.is_empty() {
        issues.push(FieldIssue::new("lines", "missing", "the order has no line"));
    }
    for (i, line) in order.lines.iter().enumerate() {
        if line.sku.trim().is_empty() {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "missing",
                "the line has no SKU",
            ));
        }
        if line.quantity == 0 {
            issues.push(FieldIssue::new(
                format!("lines[{i}].quantity"),
                "invalid",
                "the quantity is 0",
            ));
        }
    }
    if order.idempotency_key.trim().is_empty() {
        issues.push(FieldIssue::new(
            "idempotency-key",
            "missing",
            "the order has no idempotency key",
        ));
    }
    if !issues.is_empty() {
        return Err(OrderError::NeedsAttention(issues));
    }
    if config.line_prices == LinePrices::Order
        && let Some(line) = order
            .lines
            .iter()
            .find(|l| !l.unit_price.currency.eq_ignore_ascii_case(&config.currency))
    {
        return Err(OrderError::Configuration(format!(
            "the order is priced in {} but this binding's Odoo prices are in {} \
             (settings 'currency' and 'pricelist-id', or 'line-prices' = pricelist)",
            line.unit_price.currency, config.currency
        )));
    }
    Ok(())
}

fn address_issues(address: &Address, prefix: &str, issues: &mut Vec<FieldIssue>) {
    let mut missing = |field: &str, what: &str| {
        issues.push(FieldIssue::new(
            format!("{prefix}.{field}"),
            "missing",
            format!("the {what} is missing"),
        ));
    };
    if address.first_name.trim().is_empty() && address.last_name.trim().is_empty() {
        missing("last-name", "recipient's name");
    }
    if address.line1.trim().is_empty() {
        missing("line1", "street");
    }
    if address.postal_code.trim().is_empty() {
        missing("postal-code", "postal code");
    }
    if address.city.trim().is_empty() {
        missing("city", "city");
    }
    let country = address.country_code.trim();
    if country.is_empty() {
        missing("country-code", "country");
    } else if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
        issues.push(FieldIssue::new(
            format!("{prefix}.country-code"),
            "invalid",
            format!("'{country}' is not an ISO 3166 two-letter country code"),
        ));
    }
}

/// What Odoo knows of the order: a product per line, a country (and
/// state) per address.
struct Prepared {
    products: Vec<i64>,
    countries: BTreeMap<String, i64>,
}

impl Prepared {
    fn country(&self, address: &Address) -> Option<i64> {
        self.countries
            .get(&address.country_code.trim().to_ascii_uppercase())
            .copied()
    }
}

/// Looks up the lines' SKUs and the addresses' countries: every unknown
/// one is a field issue, all reported at once.
fn prepare(odoo: &mut Odoo, order: &Order) -> Result<Prepared, OrderError> {
    let mut issues = Vec::new();

    let mut skus: Vec<&str> = order.lines.iter().map(|l| l.sku.trim()).collect();
    skus.sort_unstable();
    skus.dedup();
    let found = odoo
        .search_read(
            "product.product",
            domain([leaf("default_code", "in", skus.clone())]),
            &["default_code", "sale_ok"],
            vec![("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    let mut products = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let sku = line.sku.trim();
        let matches: Vec<&Value> = found
            .iter()
            .filter(|p| p.get("default_code").and_then(Value::as_str).map(str::trim) == Some(sku))
            .collect();
        let Some(product) = matches.first() else {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "unknown-sku",
                format!("Odoo has no product with internal reference '{sku}'"),
            ));
            continue;
        };
        if matches.len() > 1 {
            log::warn(
                "several Odoo products share this internal reference; using the oldest",
                &[("sku", sku)],
            );
        }
        if product.get("sale_ok").and_then(Value::as_bool) == Some(false) {
            issues.push(FieldIssue::new(
                format!("lines[{i}].sku"),
                "invalid",
                format!("the Odoo product '{sku}' cannot be sold"),
            ));
            continue;
        }
        match product.get("id").and_then(Value::as_i64) {
            Some(id) => products.push(id),
            None => return Err(missing_id("product.product.search_read")),
        }
    }

    let mut addresses = vec![("shipping-address", &order.shipping_address)];
    if let Some(billing) = &order.billing_address {
        addresses.push(("billing-address", billing));
    }
    let mut codes: Vec<String> = addresses
        .iter()
        .map(|(_, a)| a.country_code.trim().to_ascii_uppercase())
        .collect();
    codes.dedup();
    let found = odoo
        .search_read(
            "res.country",
            domain([leaf("code", "in", codes)]),
            &["code"],
            Vec::new(),
        )
        .map_err(OdooError::into_order_error)?;
    let countries: BTreeMap<String, i64> = found
        .iter()
        .filter_map(|c| {
            Some((
                c.get("code")?.as_str()?.to_ascii_uppercase(),
                c.get("id")?.as_i64()?,
            ))
        })
        .collect();
    for (prefix, address) in &addresses {
        let code = address.country_code.trim().to_ascii_uppercase();
        if !countries.contains_key(&code) {
            issues.push(FieldIssue::new(
                format!("{prefix}.country-code"),
                "invalid",
                format!("Odoo knows no country '{code}'"),
            ));
        }
    }

    if issues.is_empty() {
        Ok(Prepared {
            products,
            countries,
        })
    } else {
        Err(OrderError::NeedsAttention(issues))
    }
}

/// The partner the sale order is for: the `partner-id` setting, else the
/// customer found by email, else a new one.
fn customer(odoo: &mut Odoo, order: &Order, prepared: &Prepared) -> Result<i64, OrderError> {
    if let Some(partner) = odoo.config().partner_id {
        return Ok(partner);
    }
    let email = [
        order.customer_email.as_deref(),
        order.shipping_address.email.as_deref(),
        order
            .billing_address
            .as_ref()
            .and_then(|a| a.email.as_deref()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|e| !e.is_empty());
    if let Some(email) = email {
        let found = odoo
            .search_read(
                "res.partner",
                domain([
                    leaf("email", "=ilike", like_literal(email)),
                    leaf("parent_id", "=", false),
                ]),
                &["name"],
                vec![("limit", Value::Int(1)), ("order", Value::from("id asc"))],
            )
            .map_err(OdooError::into_order_error)?;
        if let Some(id) = found
            .first()
            .and_then(|p| p.get("id"))
            .and_then(Value::as_i64)
        {
            return Ok(id);
        }
    }
    let (prefix, address) = match &order.billing_address {
        Some(billing) => ("billing-address", billing),
        None => ("shipping-address", &order.shipping_address),
    };
    let mut vals = address_vals(odoo, address, prepared)?;
    if let Some(email) = email {
        vals.push(("email", Value::from(email)));
    }
    match odoo.create("res.partner", Value::structure(vals)) {
        Ok(id) => Ok(id),
        Err(e) => Err(address_refused(e, prefix)),
    }
}

/// The delivery contact under `parent` for this address: the same one
/// again when the address was used before, else a new one.
fn delivery_address(
    odoo: &mut Odoo,
    parent: i64,
    address: &Address,
    prepared: &Prepared,
) -> Result<i64, OrderError> {
    let country = prepared.country(address).unwrap_or_default();
    let line2 = text(address.line2.as_deref());
    let found = odoo
        .search_read(
            "res.partner",
            domain([
                leaf("parent_id", "=", parent),
                leaf("type", "=", "delivery"),
                leaf("name", "=", full_name(address)),
                leaf("street", "=", address.line1.trim()),
                match line2 {
                    Some(line2) => leaf("street2", "=", line2),
                    None => leaf("street2", "=", false),
                },
                leaf("zip", "=", address.postal_code.trim()),
                leaf("city", "=", address.city.trim()),
                leaf("country_id", "=", country),
            ]),
            &["name"],
            vec![("limit", Value::Int(1)), ("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    if let Some(id) = found
        .first()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_i64)
    {
        return Ok(id);
    }
    let mut vals = address_vals(odoo, address, prepared)?;
    vals.push(("parent_id", Value::Int(parent)));
    vals.push(("type", Value::from("delivery")));
    if let Some(email) = text(address.email.as_deref()) {
        vals.push(("email", Value::from(email)));
    }
    match odoo.create("res.partner", Value::structure(vals)) {
        Ok(id) => Ok(id),
        Err(e) => Err(address_refused(e, "shipping-address")),
    }
}

/// A partner's address fields. The region becomes Odoo's state when Odoo
/// knows it (by code or name) in that country; else it is left out.
fn address_vals(
    odoo: &mut Odoo,
    address: &Address,
    prepared: &Prepared,
) -> Result<Vec<(&'static str, Value)>, OrderError> {
    let mut vals = vec![
        ("name", Value::from(full_name(address))),
        ("street", Value::from(address.line1.trim())),
        ("zip", Value::from(address.postal_code.trim())),
        ("city", Value::from(address.city.trim())),
    ];
    if let Some(line2) = text(address.line2.as_deref()) {
        vals.push(("street2", Value::from(line2)));
    }
    if let Some(company) = text(address.company.as_deref()) {
        vals.push(("company_name", Value::from(company)));
    }
    if let Some(phone) = text(address.phone.as_deref()) {
        vals.push(("phone", Value::from(phone)));
    }
    if let Some(country) = prepared.country(address) {
        vals.push(("country_id", Value::Int(country)));
        if let Some(region) = text(address.region.as_deref()) {
            let found = odoo
                .search_read(
                    "res.country.state",
                    domain([
                        leaf("country_id", "=", country),
                        Value::from("|"),
                        leaf("code", "=ilike", like_literal(region)),
                        leaf("name", "=ilike", like_literal(region)),
                    ]),
                    &["name"],
                    vec![("limit", Value::Int(1))],
                )
                .map_err(OdooError::into_order_error)?;
            match found
                .first()
                .and_then(|s| s.get("id"))
                .and_then(Value::as_i64)
            {
                Some(state) => vals.push(("state_id", Value::Int(state))),
                None => log::warn("Odoo knows no such state; left out", &[("region", region)]),
            }
        }
    }
    Ok(vals)
}

/// The delivery method named like the order's shipping method, if Odoo
/// has one; else Odoo chooses (a shop's method names need not be Odoo's).
/// A database without the Delivery app has no delivery methods (no
/// `delivery.carrier`, no `carrier_id` on sale orders): `None`, and the
/// method goes into the chatter.
fn carrier(odoo: &mut Odoo, method: &str) -> Result<Option<i64>, OrderError> {
    let has_carriers = !odoo
        .existing_fields("sale.order", &["carrier_id"])
        .map_err(OdooError::into_order_error)?
        .is_empty();
    if !has_carriers {
        log::info(
            "Odoo has no Delivery app: the shipping method goes into the chatter",
            &[("shipping_method", method)],
        );
        return Ok(None);
    }
    let found = odoo
        .search_read(
            "delivery.carrier",
            domain([leaf("name", "=ilike", like_literal(method))]),
            &["name"],
            vec![("limit", Value::Int(1))],
        )
        .map_err(OdooError::into_order_error)?;
    let carrier = found
        .first()
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64);
    if carrier.is_none() {
        log::info(
            "Odoo has no delivery method of this name; Odoo chooses",
            &[("shipping_method", method)],
        );
    }
    Ok(carrier)
}

/// A partner Odoo refuses to create: its validation speaks of the address.
fn address_refused(e: OdooError, prefix: &str) -> OrderError {
    if e.is_fault(FaultKind::UserError) {
        OrderError::NeedsAttention(vec![FieldIssue::new(
            prefix,
            "invalid",
            format!("Odoo refused the address: {}", fault_text(&e)),
        )])
    } else {
        e.into_order_error()
    }
}

fn confirm(odoo: &mut Odoo, id: i64) -> Result<(), OrderError> {
    match odoo.execute_kw(
        "sale.order",
        "action_confirm",
        vec![Value::from(vec![id])],
        Vec::new(),
    ) {
        Ok(_) => Ok(()),
        // The quotation stays: a later submission with the same key finds
        // it and tries to confirm it again.
        Err(e) if e.is_fault(FaultKind::UserError) => Err(OrderError::Rejected(format!(
            "Odoo refused to confirm sale order {id}: {}",
            fault_text(&e)
        ))),
        Err(e) => Err(e.into_order_error()),
    }
}

/// Posts a message in the sale order's chatter. Best effort: the order
/// stands without it.
fn post_message(odoo: &mut Odoo, id: i64, body: &str) {
    if let Err(e) = odoo.execute_kw(
        "sale.order",
        "message_post",
        vec![Value::from(vec![id])],
        vec![("body", Value::from(body))],
    ) {
        log::warn(
            "could not post a message on the Odoo sale order",
            &[("sale_order", &id.to_string()), ("error", &e.to_string())],
        );
    }
}

/// The submission for sale order `id`, read back from Odoo.
fn read_submission(odoo: &mut Odoo, id: i64) -> Result<Submission, OrderError> {
    let answer = odoo
        .execute_kw(
            "sale.order",
            "read",
            vec![Value::from(vec![id])],
            vec![(
                "fields",
                Value::array(ORDER_FIELDS.iter().map(|f| Value::from(*f))),
            )],
        )
        .map_err(OdooError::into_order_error)?;
    let record = answer
        .as_array()
        .and_then(<[Value]>::first)
        .ok_or_else(|| {
            OrderError::Rejected(format!("Odoo has no sale order {id} after creating it"))
        })?;
    let name = record.get("name").and_then(Value::as_text).unwrap_or("?");
    let state = record.get("state").and_then(Value::as_str).unwrap_or("?");
    // What the supplier invoices the shop: only when Odoo is a supplier's ERP.
    let wholesale_total = match odoo.config().partner_id {
        Some(_) => {
            let currency = record
                .get("currency_id")
                .and_then(Value::as_many2one)
                .map(|(_, code)| code.to_owned())
                .filter(|c| c.len() == 3)
                .unwrap_or_else(|| odoo.config().currency.clone());
            record
                .get("amount_untaxed")
                .and_then(Value::as_f64)
                .and_then(|amount| money_from_f64(amount, &currency))
        }
        None => None,
    };
    Ok(Submission {
        supplier_reference: id.to_string(),
        wholesale_total,
        message: Some(format!("Odoo sale order {name} ({})", state_label(state))),
    })
}

fn state_label(state: &str) -> &str {
    match state {
        "draft" | "sent" => "quotation",
        "sale" => "confirmed",
        "done" => "locked",
        "cancel" => "cancelled",
        other => other,
    }
}

/// `text` as an `=ilike` pattern matching itself only: Odoo hands the
/// pattern to PostgreSQL's `ILIKE`, where `_` and `%` are wildcards (an
/// email `jean_ne@…` would also match `jeanXne@…`'s partner).
fn like_literal(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

fn full_name(address: &Address) -> String {
    format!("{} {}", address.first_name.trim(), address.last_name.trim())
        .trim()
        .to_owned()
}

fn text(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn fault_text(e: &OdooError) -> String {
    match e {
        OdooError::Fault { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn missing_id(call: &str) -> OrderError {
    OdooError::Malformed {
        call: call.to_owned(),
        message: "a record without an id".to_owned(),
    }
    .into_order_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_only_themselves() {
        assert_eq!(like_literal("jean_ne@example.fr"), r"jean\_ne@example.fr");
        assert_eq!(like_literal(r"100%\x"), r"100\%\\x");
        assert_eq!(like_literal("Île-de-France"), "Île-de-France");
    }
}

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
        .enumerate()
        .map(|(i, (line, product))| {
            let mut vals = vec![
                ("product_id", Value::Int(*product)),
                ("product_uom_qty", Value::Double(f64::from(line.quantity))),
            ];
            if let Some(pricing) = &prepared.pricing {
                // What the customer paid for one unit, VAT included.
                vals.push(("price_unit", Value::Double(price_to_f64(&line.unit_price))));
                if let Some(Some(taxes)) = pricing.line_taxes.get(i) {
                    vals.push((
                        pricing.tax_field,
                        Value::array([Value::array([
                            Value::Int(6),
                            Value::Int(0),
                            Value::from(taxes.clone()),
                        ])]),
                    ));
                }
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
    let pricelist = match &prepared.pricing {
        Some(pricing) => pricing.pricelist,
        None => config.pricelist_id,
    };
    if let Some(pricelist) = pricelist {
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
    if config.line_prices == LinePrices::Order
        && let Some(first) = order.lines.first()
    {
        for (i, line) in order.lines.iter().enumerate() {
            if !line
                .unit_price
                .currency
                .trim()
                .eq_ignore_ascii_case(first.unit_price.currency.trim())
            {
                issues.push(FieldIssue::new(
                    format!("lines[{i}].unit-price"),
                    "invalid",
                    "the order's lines are priced in several currencies",
                ));
            }
        }
    }
    if !issues.is_empty() {
        return Err(OrderError::NeedsAttention(issues));
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
    /// With `line-prices` = `order`: how the sale order comes to total
    /// what the customer paid.
    pricing: Option<Pricing>,
}

/// A sale order priced at what the customer paid: in the order's
/// currency, each line at its VAT-inclusive price with price-included
/// taxes.
struct Pricing {
    /// The pricelist in the order's currency; `None`: the company's
    /// currency is the order's, and no pricelist is needed.
    pricelist: Option<i64>,
    /// The taxes each line takes instead of its product's, when some of
    /// those exclude VAT: their price-included twins.
    line_taxes: Vec<Option<Vec<i64>>>,
    /// The lines' taxes field: `tax_id` (Odoo ≤ 18) or `tax_ids`.
    tax_field: &'static str,
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
            &["default_code", "sale_ok", "taxes_id"],
            vec![("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    let mut products = Vec::with_capacity(order.lines.len());
    let mut product_taxes: Vec<Vec<i64>> = Vec::with_capacity(order.lines.len());
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
        product_taxes.push(
            product
                .get("taxes_id")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_i64)
                .collect(),
        );
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

    if !issues.is_empty() {
        return Err(OrderError::NeedsAttention(issues));
    }
    let pricing = match (odoo.config().line_prices, order.lines.first()) {
        (LinePrices::Order, Some(first)) => {
            let currency = first.unit_price.currency.trim().to_ascii_uppercase();
            let pricelist = pricelist_in(odoo, &currency)?;
            let (line_taxes, tax_field) = price_included_taxes(odoo, &product_taxes)?;
            Some(Pricing {
                pricelist,
                line_taxes,
                tax_field,
            })
        }
        _ => None,
    };
    Ok(Prepared {
        products,
        countries,
        pricing,
    })
}

/// The pricelist that puts the sale order in the order's currency (Odoo's
/// sale order is in its pricelist's currency, else its company's): the
/// `pricelist-id` setting when it is in that currency, else the first
/// pricelist in it, else none when the company's currency is the order's.
/// Anything else would mix currencies: `configuration`, naming both.
fn pricelist_in(odoo: &mut Odoo, currency: &str) -> Result<Option<i64>, OrderError> {
    let config = odoo.config().clone();
    let name_of = |record: &Value| {
        record
            .get("currency_id")
            .and_then(Value::as_many2one)
            .map(|(_, name)| name.trim().to_ascii_uppercase())
            .unwrap_or_default()
    };
    if let Some(pricelist) = config.pricelist_id {
        let found = odoo
            .search_read(
                "product.pricelist",
                domain([leaf("id", "=", pricelist)]),
                &["currency_id"],
                Vec::new(),
            )
            .map_err(OdooError::into_order_error)?;
        let Some(record) = found.first() else {
            return Err(OrderError::Configuration(format!(
                "setting 'pricelist-id': Odoo has no pricelist {pricelist}"
            )));
        };
        let theirs = name_of(record);
        if theirs != currency {
            return Err(OrderError::Configuration(format!(
                "the order is in {currency} but the Odoo pricelist {pricelist} \
                 ('pricelist-id') is in {theirs}"
            )));
        }
        return Ok(Some(pricelist));
    }
    let mut terms = vec![leaf("currency_id.name", "=", currency)];
    if let Some(company) = config.company_id {
        terms.push(leaf(
            "company_id",
            "in",
            Value::array([Value::Int(company), Value::Bool(false)]),
        ));
    }
    let found = odoo
        .search_read(
            "product.pricelist",
            domain(terms),
            &["currency_id"],
            vec![("limit", Value::Int(1)), ("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    if let Some(id) = found
        .first()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_i64)
    {
        return Ok(Some(id));
    }
    let companies = odoo
        .search_read(
            "res.company",
            domain(config.company_id.map(|c| leaf("id", "=", c))),
            &["currency_id"],
            vec![("limit", Value::Int(1)), ("order", Value::from("id asc"))],
        )
        .map_err(OdooError::into_order_error)?;
    let theirs = companies.first().map(name_of).unwrap_or_default();
    if theirs == currency {
        return Ok(None);
    }
    Err(OrderError::Configuration(format!(
        "the order is in {currency} but the Odoo company's currency is {theirs} and no \
         pricelist is in {currency}: add a pricelist in {currency} (or set 'pricelist-id')"
    )))
}

/// Each line's replacement taxes (`None`: its product's), and the lines'
/// taxes field.
type LineTaxes = (Vec<Option<Vec<i64>>>, &'static str);

/// A tax as pricing needs it.
struct SaleTax {
    id: i64,
    name: String,
    percent: Option<f64>,
    included: bool,
}

impl SaleTax {
    fn from_record(record: &Value) -> Option<SaleTax> {
        Some(SaleTax {
            id: record.get("id")?.as_i64()?,
            name: record
                .get("name")
                .and_then(Value::as_text)
                .unwrap_or("?")
                .to_owned(),
            percent: (record.get("amount_type").and_then(Value::as_str) == Some("percent"))
                .then(|| record.get("amount").and_then(Value::as_f64))
                .flatten(),
            included: record.get("price_include").and_then(Value::as_bool) == Some(true),
        })
    }
}

/// Each line's taxes so that Odoo's total is what the customer paid. A
/// line's `price_unit` is the VAT-inclusive unit price paid: with
/// price-included taxes Odoo keeps `price_unit × quantity` as the line's
/// total and takes the tax out of it (addons/account/models/account_tax.py);
/// with price-excluded ones it would add the tax again, and a net
/// `price_unit` (two decimals) would not come back to the cent. So a
/// product whose taxes exclude VAT gets, on its line, the price-included
/// sales tax of the same rate for each (its "twin"); none existing is a
/// `configuration` error naming the tax. Products whose taxes are all
/// price-included, or that have none, keep theirs.
fn price_included_taxes(
    odoo: &mut Odoo,
    product_taxes: &[Vec<i64>],
) -> Result<LineTaxes, OrderError> {
    let mut ids: Vec<i64> = product_taxes.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let none = vec![None; product_taxes.len()];
    if ids.is_empty() {
        return Ok((none, "tax_id"));
    }
    let fields = ["name", "amount", "amount_type", "price_include"];
    let read = |odoo: &mut Odoo, terms: Vec<Value>| -> Result<Vec<SaleTax>, OrderError> {
        match odoo.search_read(
            "account.tax",
            domain(terms),
            &fields,
            vec![("order", Value::from("id asc"))],
        ) {
            Ok(found) => Ok(found.iter().filter_map(SaleTax::from_record).collect()),
            Err(e) if e.is_fault(FaultKind::AccessError) => Err(OrderError::Configuration(
                "the Odoo user may not read taxes, so the sale order cannot be made to total \
                 what the customer paid: grant it read access to taxes"
                    .to_owned(),
            )),
            Err(e) => Err(e.into_order_error()),
        }
    };
    let taxes = read(odoo, vec![leaf("id", "in", ids)])?;
    let excluded: Vec<&SaleTax> = taxes.iter().filter(|t| !t.included).collect();
    if excluded.is_empty() {
        return Ok((none, "tax_id"));
    }
    if let Some(odd) = excluded.iter().find(|t| t.percent.is_none()) {
        return Err(OrderError::Configuration(format!(
            "the Odoo tax '{}' is not a percentage and excludes VAT: the sale order could not \
             total what the customer paid",
            odd.name
        )));
    }
    let rates: Vec<Value> = excluded
        .iter()
        .filter_map(|t| t.percent)
        .map(Value::Double)
        .collect();
    let mut terms = vec![
        leaf("type_tax_use", "=", "sale"),
        leaf("amount_type", "=", "percent"),
        leaf("amount", "in", Value::Array(rates)),
    ];
    // A line may only take its order's company's taxes.
    if let Some(company) = odoo.config().company_id {
        terms.push(leaf("company_id", "=", company));
    }
    let candidates = read(odoo, terms)?;
    let twin = |tax: &SaleTax| {
        candidates
            .iter()
            .find(|c| c.included && c.percent == tax.percent)
            .map(|c| c.id)
    };
    let mut lines = Vec::with_capacity(product_taxes.len());
    for line_taxes in product_taxes {
        let mine: Vec<&SaleTax> = line_taxes
            .iter()
            .filter_map(|id| taxes.iter().find(|t| t.id == *id))
            .collect();
        if mine.iter().all(|t| t.included) {
            lines.push(None);
            continue;
        }
        let mut replaced = Vec::with_capacity(mine.len());
        for tax in mine {
            if tax.included {
                replaced.push(tax.id);
                continue;
            }
            let Some(id) = twin(tax) else {
                return Err(OrderError::Configuration(format!(
                    "the Odoo tax '{}' ({}%) excludes VAT and Odoo has no sales tax of that rate \
                     included in prices: create one, so that sale orders total what the \
                     customer paid",
                    tax.name,
                    tax.percent.unwrap_or_default()
                )));
            };
            replaced.push(id);
        }
        lines.push(Some(replaced));
    }
    let field = odoo
        .existing_fields("sale.order.line", &["tax_id", "tax_ids"])
        .map_err(OdooError::into_order_error)?
        .first()
        .copied()
        .unwrap_or("tax_id");
    Ok((lines, field))
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

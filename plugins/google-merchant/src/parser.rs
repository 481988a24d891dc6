//! [`MerchantParser`]: the feed's records, as the XML splitter cuts them, into
//! products or rejections (mapping in the crate docs).

use shopbridge_guest_sdk::money::{self, MoneyError};
use shopbridge_guest_sdk::prelude::*;
use shopbridge_guest_sdk::xml::{Field, Record, RecordSplitter};

use crate::values;

/// The Google namespace, whatever prefix a feed gives it.
const GOOGLE_NS: &str = "http://base.google.com/ns/1.0";

/// A streaming parser for one Merchant Center feed (RSS 2.0 or Atom).
///
/// ```
/// use google_merchant::MerchantParser;
/// use shopbridge_guest_sdk::{FeedParse, FeedRecord};
///
/// let mut parser = MerchantParser::new("EUR");
/// let mut records = parser.push(b"<rss><channel><item><g:id>1</g:id><title>Mug</title>")?;
/// records.extend(parser.push(b"<g:price>12.50</g:price></item></channel></rss>")?);
/// records.extend(parser.finish()?);
/// let FeedRecord::Product(mug) = &records[0] else { panic!() };
/// assert_eq!(mug.retail_price.as_ref().map(|p| p.amount_minor), Some(1250));
/// # Ok::<(), shopbridge_guest_sdk::FeedError>(())
/// ```
#[derive(Debug)]
pub struct MerchantParser {
    splitter: RecordSplitter,
    currency: String,
    root_checked: bool,
}

impl MerchantParser {
    /// A parser whose prices without a currency are in `default_currency`
    /// (an ISO 4217 code, upper-cased here).
    pub fn new(default_currency: &str) -> Self {
        MerchantParser {
            splitter: RecordSplitter::new(&["item", "entry"]),
            currency: default_currency.trim().to_ascii_uppercase(),
            root_checked: false,
        }
    }

    /// Sets the cap on the size of one record (default 8 MiB); a larger one
    /// fails the feed with `FeedError::Refused`.
    pub fn with_max_record_bytes(mut self, bytes: usize) -> Self {
        self.splitter = self.splitter.with_max_record_bytes(bytes);
        self
    }

    /// Fails as soon as the root element shows the document is no feed.
    fn check_root(&mut self) -> Result<(), FeedError> {
        if self.root_checked {
            return Ok(());
        }
        let Some(root) = self.splitter.root_name() else {
            return Ok(());
        };
        let local = root.rsplit(':').next().unwrap_or(root);
        if !matches!(local, "rss" | "feed" | "RDF") {
            return Err(FeedError::Malformed(format!(
                "<{root}> is not a product feed: expected an RSS <rss> or an Atom <feed> document"
            )));
        }
        self.root_checked = true;
        Ok(())
    }
}

impl FeedParse for MerchantParser {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError> {
        let mut records = Vec::new();
        let currency = self.currency.as_str();
        self.splitter
            .push(chunk, |record| records.push(convert(&record, currency)))?;
        self.check_root()?;
        Ok(records)
    }

    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError> {
        let mut records = Vec::new();
        let currency = self.currency.as_str();
        self.splitter
            .finish(|record| records.push(convert(&record, currency)))?;
        self.check_root()?;
        Ok(records)
    }
}

/// The fields of one record that matter, borrowed from it.
#[derive(Default)]
struct Item<'a> {
    id: Option<&'a str>,
    guid: Option<&'a str>,
    g_title: Option<&'a str>,
    title: Option<&'a str>,
    g_description: Option<&'a str>,
    description: Option<&'a str>,
    g_link: Option<&'a str>,
    link: Option<&'a str>,
    image: Option<&'a str>,
    more_images: Vec<&'a str>,
    price: Option<&'a str>,
    sale_price: Option<&'a str>,
    currency: Option<&'a str>,
    availability: Option<&'a str>,
    availability_date: Option<&'a str>,
    quantity: Option<&'a str>,
    gtin: Option<&'a str>,
    legacy_gtin: Option<&'a str>,
    mpn: Option<&'a str>,
    manufacturer_id: Option<&'a str>,
    brand: Option<&'a str>,
    manufacturer: Option<&'a str>,
    product_type: Option<&'a str>,
    google_category: Option<&'a str>,
    group_id: Option<&'a str>,
    shipping_weight: Option<&'a str>,
    attributes: Vec<(&'static str, &'a str)>,
}

/// Keeps the first non-blank value.
fn set<'a>(slot: &mut Option<&'a str>, text: &'a str) {
    if slot.is_none() {
        let text = text.trim();
        if !text.is_empty() {
            *slot = Some(text);
        }
    }
}

impl<'a> Item<'a> {
    fn read(record: &Record<'a>) -> Self {
        let google = record.prefix_of(GOOGLE_NS).unwrap_or("g");
        let mut item = Item::default();
        for field in record.children() {
            let name = field.name();
            match name.split_once(':') {
                Some((prefix, local)) if prefix == google => item.google_field(local, &field),
                Some(_) => {} // another vocabulary (dc:, atom:…)
                None if google.is_empty() => item.google_field(name, &field),
                None => item.plain_field(name, &field),
            }
        }
        item
    }

    fn google_field(&mut self, local: &str, field: &Field<'a>) {
        let text = field.text();
        match local {
            "id" => set(&mut self.id, text),
            "title" => set(&mut self.g_title, text),
            "description" => set(&mut self.g_description, text),
            "link" => set(&mut self.g_link, text),
            "image_link" if self.image.is_none() => set(&mut self.image, text),
            "image_link" | "additional_image_link" => {
                let url = text.trim();
                if !url.is_empty() {
                    self.more_images.push(url);
                }
            }
            "price" => set(&mut self.price, text),
            "sale_price" => set(&mut self.sale_price, text),
            "currency" => set(&mut self.currency, text),
            "availability" => set(&mut self.availability, text),
            "availability_date" => set(&mut self.availability_date, text),
            "quantity" => set(&mut self.quantity, text),
            "gtin" => set(&mut self.gtin, text),
            "upc" | "ean" | "jan" | "isbn" => set(&mut self.legacy_gtin, text),
            "mpn" => set(&mut self.mpn, text),
            "manufacturer_id" => set(&mut self.manufacturer_id, text),
            "brand" => set(&mut self.brand, text),
            "manufacturer" => set(&mut self.manufacturer, text),
            "product_type" => set(&mut self.product_type, text),
            "google_product_category" => set(&mut self.google_category, text),
            "item_group_id" => set(&mut self.group_id, text),
            "shipping_weight" => set(&mut self.shipping_weight, text),
            "color" => self.attribute("color", text),
            "size" => self.attribute("size", text),
            "material" => self.attribute("material", text),
            "pattern" => self.attribute("pattern", text),
            "gender" => self.attribute("gender", text),
            "age_group" => self.attribute("age_group", text),
            _ => {}
        }
    }

    fn plain_field(&mut self, name: &str, field: &Field<'a>) {
        let text = field.text();
        match name {
            // RSS <guid>, Atom <id>: the id of legacy Google Base feeds.
            "guid" | "id" => set(&mut self.guid, text),
            "title" => set(&mut self.title, text),
            "description" | "summary" | "content" => set(&mut self.description, text),
            "link" => {
                if !text.trim().is_empty() {
                    set(&mut self.link, text); // RSS
                } else if matches!(field.attribute("rel"), None | Some("alternate"))
                    && let Some(href) = field.attribute("href")
                {
                    set(&mut self.link, href); // Atom
                }
            }
            _ => {}
        }
    }

    fn attribute(&mut self, name: &'static str, text: &'a str) {
        let value = text.trim();
        if !value.is_empty() {
            self.attributes.push((name, value));
        }
    }
}

/// One record into a product, or a rejection saying why not.
fn convert(record: &Record<'_>, default_currency: &str) -> FeedRecord {
    let item = Item::read(record);
    let sku = item.id.or(item.guid);
    match product(&item, sku, record, default_currency) {
        Ok(product) => FeedRecord::Product(product),
        Err(reason) => FeedRecord::Rejected(Rejection::new(
            sku.map(str::to_owned),
            Some(format!("{} {}", record.name(), record.index())),
            reason,
        )),
    }
}

fn product(
    item: &Item<'_>,
    sku: Option<&str>,
    record: &Record<'_>,
    default_currency: &str,
) -> Result<Product, String> {
    if let Some(problem) = record.problem() {
        return Err(problem.to_owned());
    }
    let sku = sku.ok_or("missing id (g:id)")?;
    let name = item.g_title.or(item.title).ok_or("missing title")?;
    let currency = match item.currency {
        Some(code) if values::is_currency_code(code) => code,
        Some(code) => return Err(format!("currency '{code}' is not an ISO 4217 code")),
        None => default_currency,
    };
    let retail_price = item
        .price
        .map(|text| price("price", text, currency))
        .transpose()?;
    let sale_price = item
        .sale_price
        .map(|text| price("sale_price", text, currency))
        .transpose()?;
    let stock_quantity = item.quantity.and_then(|q| q.parse::<u32>().ok());
    let availability = match item.availability {
        Some(text) => values::availability(text, item.availability_date).ok_or_else(|| {
            format!(
                "availability '{text}' is not one of in_stock, out_of_stock, preorder, \
                 backorder, discontinued"
            )
        })?,
        None if stock_quantity == Some(0) => Availability::OutOfStock,
        None => Availability::InStock,
    };
    let category_path = item
        .product_type
        .or(item.google_category)
        .map(values::category_path)
        .unwrap_or_default();
    let image_urls = item
        .image
        .iter()
        .chain(&item.more_images)
        .map(|url| (*url).to_owned())
        .collect();

    let mut product = Product::new(sku, name);
    product.gtin = item.gtin.or(item.legacy_gtin).and_then(values::gtin);
    product.mpn = item.mpn.or(item.manufacturer_id).map(str::to_owned);
    product.brand = item.brand.or(item.manufacturer).map(str::to_owned);
    product.description = item.g_description.or(item.description).map(str::to_owned);
    product.category_path = category_path;
    product.link = item.g_link.or(item.link).map(str::to_owned);
    product.image_urls = image_urls;
    product.retail_price = retail_price;
    product.sale_price = sale_price;
    product.stock_quantity = stock_quantity;
    product.availability = availability;
    product.weight_grams = item.shipping_weight.and_then(values::weight_grams);
    product.group_id = item.group_id.map(str::to_owned);
    product.attributes = item
        .attributes
        .iter()
        .map(|(name, value)| Attribute {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        })
        .collect();
    Ok(product)
}

/// A price field: "15.00 USD", or "2995" in `currency`.
fn price(label: &str, text: &str, currency: &str) -> Result<Money, String> {
    match money::parse(text, Some(currency)) {
        Ok(money) if money.amount_minor < 0 => Err(format!("{label} '{text}' is negative")),
        Ok(money) => Ok(money),
        Err(MoneyError::UnknownCurrency(code)) if text.bytes().any(|b| b.is_ascii_digit()) => {
            Err(format!("{label} '{text}' has an unknown currency '{code}'"))
        }
        Err(MoneyError::Overflow(_)) => Err(format!("{label} '{text}' is too large")),
        Err(_) => Err(format!("{label} '{text}' is not an amount")),
    }
}

//! Shopbridge connector for Google Merchant Center product feeds, and the
//! older Google Base feeds they grew from: RSS 2.0 (`<item>`) or Atom
//! (`<entry>`) with the `g:` namespace (`http://base.google.com/ns/1.0`).
//! Catalog only: the host fetches the feed and pushes it to [`MerchantParser`].
//!
//! Field mapping (`g:` stands for whatever prefix the feed binds to the
//! Google namespace; the first non-blank occurrence of a field wins):
//!
//! | Product field    | Feed field |
//! |------------------|------------|
//! | `sku`            | `g:id`; legacy Google Base feeds have none: RSS `<guid>`, Atom `<id>` |
//! | `name`           | `g:title`, else `<title>` |
//! | `description`    | `g:description`, else `<description>`, Atom `<summary>`, `<content>` (HTML kept as written) |
//! | `link`           | `g:link`, else RSS `<link>` text or Atom `<link href>` with `rel="alternate"` or no `rel` |
//! | `image_urls`     | `g:image_link` first, then every further `g:image_link` and `g:additional_image_link` |
//! | `retail_price`   | `g:price`: "15.00 USD"; "2995" takes its currency from the legacy `g:currency`, else the `currency` setting |
//! | `sale_price`     | `g:sale_price`, same rules (`g:sale_price_effective_date` is not checked) |
//! | `availability`   | `g:availability`: `in_stock`/`in stock`, `out_of_stock`, `preorder` (date from `g:availability_date`), `backorder`, `discontinued`; schema.org spellings too. Without it: out of stock when `g:quantity` is 0, else in stock |
//! | `stock_quantity` | `g:quantity` |
//! | `gtin`           | `g:gtin`, else legacy `g:upc`, `g:ean`, `g:jan`, `g:isbn`; spaces and dashes dropped, kept only if 8 to 14 digits |
//! | `mpn`            | `g:mpn`, else legacy `g:manufacturer_id` |
//! | `brand`          | `g:brand`, else legacy `g:manufacturer` |
//! | `category_path`  | first `g:product_type` split on `>`, else `g:google_product_category` (a path, or a bare numeric id kept as one element) |
//! | `group_id`       | `g:item_group_id` (variants of one product in a flat feed) |
//! | `attributes`     | `g:color`, `g:size`, `g:material`, `g:pattern`, `g:gender`, `g:age_group`, named without the prefix |
//! | `weight_grams`   | `g:shipping_weight`: "1.5 kg", "300 g", "2 lb", "3 oz" (a weight without unit is ignored) |
//!
//! A record becomes a rejection, and the feed goes on, when it has no id or
//! no title, a price, sale price or legacy currency that cannot be read, an
//! availability that is none of the above, or an XML problem of its own (an
//! undefined entity such as `&nbsp;`). Its position is given as "item 17" /
//! "entry 3". The whole feed fails when it is not XML, its root is neither
//! `<rss>` nor `<feed>` (nor RDF), or it declares DTD entities (refused).

mod parser;
mod values;

pub use parser::MerchantParser;

use shopbridge_guest_sdk::prelude::*;
use shopbridge_guest_sdk::{export_connector, settings};

/// The connector.
pub struct GoogleMerchant;

/// Currency used when neither a price nor the feed names one.
pub const DEFAULT_CURRENCY: &str = "EUR";

impl Connector for GoogleMerchant {
    fn metadata() -> Metadata {
        Metadata {
            name: "google-merchant".into(),
            version: "0.1.0".into(),
            description: "Reads Google Merchant Center product feeds (RSS 2.0 or Atom with the \
                          g: namespace), including legacy Google Base feeds. Catalog only: the \
                          host downloads the feed."
                .into(),
            capabilities: vec![Capability::Catalog],
            settings: vec![SettingSpec {
                name: "currency".into(),
                description: "ISO 4217 code of the prices that name no currency (\"EUR\").".into(),
                required: false,
                secret: false,
                default_value: Some(DEFAULT_CURRENCY.into()),
            }],
            hosts: Vec::new(),
        }
    }

    fn open_feed(content_type: Option<String>) -> Result<Box<dyn FeedParse>, FeedError> {
        // Servers label feeds every which way (text/plain, octet-stream):
        // the content decides, not the label.
        let _ = content_type;
        let currency = settings::get("currency");
        let currency = currency.as_deref().map_or(DEFAULT_CURRENCY, str::trim);
        if !values::is_currency_code(currency) {
            return Err(FeedError::Configuration(format!(
                "setting 'currency' must be a three-letter ISO 4217 code, not '{currency}'"
            )));
        }
        Ok(Box::new(MerchantParser::new(currency)))
    }
}

export_connector!(GoogleMerchant);

#[cfg(test)]
mod tests {
    use super::*;
    use shopbridge_guest_sdk::testing;

    #[test]
    fn metadata_declares_a_catalog_with_a_currency_setting() {
        let metadata = GoogleMerchant::metadata();
        assert_eq!(metadata.name, "google-merchant");
        assert_eq!(metadata.version, "0.1.0");
        assert_eq!(metadata.capabilities, [Capability::Catalog]);
        assert!(metadata.hosts.is_empty());
        let setting = &metadata.settings[0];
        assert_eq!(setting.name, "currency");
        assert_eq!(setting.default_value.as_deref(), Some("EUR"));
        assert!(!setting.required && !setting.secret);
    }

    #[test]
    fn open_feed_reads_the_currency_setting() {
        testing::reset();
        let feed = b"<rss><channel><item><g:id>1</g:id><title>t</title><g:price>5</g:price></item></channel></rss>";
        let price = |parser: &mut Box<dyn FeedParse>| {
            let mut records = parser.push(feed).expect("parses");
            records.extend(parser.finish().expect("complete"));
            match records.as_slice() {
                [FeedRecord::Product(p)] => p.retail_price.clone(),
                other => panic!("{other:?}"),
            }
        };
        let mut parser = GoogleMerchant::open_feed(None).expect("opens");
        assert_eq!(price(&mut parser).map(|m| m.currency), Some("EUR".into()));

        testing::set_setting("currency", " usd ");
        let mut parser = GoogleMerchant::open_feed(Some("application/xml".into())).expect("opens");
        assert_eq!(
            price(&mut parser),
            Some(Money {
                amount_minor: 500,
                currency: "USD".into()
            })
        );

        testing::set_setting("currency", "dollars");
        assert!(matches!(
            GoogleMerchant::open_feed(None),
            Err(FeedError::Configuration(_))
        ));
        testing::reset();
    }
}

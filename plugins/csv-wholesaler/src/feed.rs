//! The CSV product feed: one row per product or per variation, columns
//! named as the wholesaler likes, mapped onto Shopbridge's product through
//! the `columns` setting and built-in defaults.
//!
//! A row that cannot be read (no SKU, a price that is not an amount, a
//! wrong number of fields, invalid UTF-8…) becomes a
//! [`FeedRecord::Rejected`] naming its line, and the feed goes on.
//!
//! Variations: a row whose parent column names another SKU is a variation
//! of that product. It is emitted as a product of its own with
//! `group-id` = the parent's SKU and its attributes (`Taille:XL|Couleur:Rouge`);
//! what it leaves empty (name, description, brand, category, images, prices,
//! VAT, weight…) it takes from the parent row when that row came just before
//! its variations, as exports write them.

use shopbridge_guest_sdk::csv::{
    BadRow, BadRowKind, Column, ColumnMap, CsvOptions, CsvStream, Row,
};
use shopbridge_guest_sdk::encoding::CsvEncoding;
use shopbridge_guest_sdk::money::{self, MoneyError};
use shopbridge_guest_sdk::{
    Attribute, Availability, FeedError, FeedParse, FeedRecord, Money, Product, Rejection, settings,
};

use crate::values::{find_date, fold_words, parse_scaled};

/// A field of the feed, as named in the `columns` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The supplier's SKU (required).
    Sku,
    /// The product's name (required column; a variation may leave it empty).
    Name,
    /// The description, HTML kept.
    Description,
    /// The brand.
    Brand,
    /// EAN-13 / GTIN.
    Ean,
    /// The manufacturer's part number.
    Mpn,
    /// The category path, split on the `category-separator` setting.
    Category,
    /// Image URLs: every matching column, each possibly holding several
    /// URLs separated by `|`, `;` or white space.
    Image,
    /// The product page.
    Link,
    /// What the shop pays, VAT excluded.
    WholesalePrice,
    /// The recommended retail price, VAT included.
    RetailPrice,
    /// A reduced retail price.
    SalePrice,
    /// VAT rate: `20`, `5,5`, `20 %` or `0.2`.
    Vat,
    /// Units in stock.
    Stock,
    /// A status word: `En stock`, `Rupture`, `Sur commande`, `Précommande`, `Arrêté`…
    Availability,
    /// The date a product on preorder or backorder comes.
    AvailabilityDate,
    /// Days before the supplier ships (`3`, `3 jours`, `48h`, `2 à 3 jours`).
    LeadTime,
    /// Weight, in the `weight-unit` setting unless the value names its unit.
    Weight,
    /// The minimum quantity per order line.
    MinQty,
    /// The parent product's SKU, on a variation's row.
    ParentSku,
    /// A variation's attributes: `Taille:XL|Couleur:Rouge`.
    Attributes,
}

impl Field {
    /// Every field, in the order of their defaults' documentation.
    pub const ALL: [Field; 21] = [
        Field::Sku,
        Field::Name,
        Field::Description,
        Field::Brand,
        Field::Ean,
        Field::Mpn,
        Field::Category,
        Field::Image,
        Field::Link,
        Field::WholesalePrice,
        Field::RetailPrice,
        Field::SalePrice,
        Field::Vat,
        Field::Stock,
        Field::Availability,
        Field::AvailabilityDate,
        Field::LeadTime,
        Field::Weight,
        Field::MinQty,
        Field::ParentSku,
        Field::Attributes,
    ];

    /// The field's name in the `columns` setting.
    pub fn key(self) -> &'static str {
        match self {
            Field::Sku => "sku",
            Field::Name => "name",
            Field::Description => "description",
            Field::Brand => "brand",
            Field::Ean => "ean",
            Field::Mpn => "mpn",
            Field::Category => "category",
            Field::Image => "image",
            Field::Link => "link",
            Field::WholesalePrice => "wholesale_price",
            Field::RetailPrice => "retail_price",
            Field::SalePrice => "sale_price",
            Field::Vat => "vat",
            Field::Stock => "stock",
            Field::Availability => "availability",
            Field::AvailabilityDate => "availability_date",
            Field::LeadTime => "lead_time",
            Field::Weight => "weight",
            Field::MinQty => "min_qty",
            Field::ParentSku => "parent_sku",
            Field::Attributes => "attributes",
        }
    }

    /// The column names looked for when the `columns` setting does not name
    /// this field: those of common French and English wholesaler exports.
    /// Matched ignoring case, accents and anything but letters and digits.
    pub fn default_columns(self) -> &'static [&'static str] {
        match self {
            Field::Sku => &[
                "SKU",
                "Référence",
                "Ref",
                "Référence produit",
                "Ref produit",
                "Code article",
                "Code produit",
                "Product code",
                "Item number",
            ],
            Field::Name => &[
                "Name",
                "Nom",
                "Désignation",
                "Libellé",
                "Titre",
                "Title",
                "Product name",
                "Nom produit",
                "Nom du produit",
            ],
            Field::Description => &[
                "Description",
                "Description longue",
                "Long description",
                "Descriptif",
                "Description courte",
                "Short description",
            ],
            Field::Brand => &["Brand", "Marque", "Manufacturer", "Fabricant"],
            Field::Ean => &[
                "EAN13",
                "EAN",
                "GTIN",
                "Code EAN",
                "Barcode",
                "Code barre",
                "Code-barres",
                "UPC",
            ],
            Field::Mpn => &[
                "MPN",
                "Référence fabricant",
                "Ref fabricant",
                "Manufacturer reference",
            ],
            Field::Category => &[
                "Category",
                "Catégorie",
                "Categories",
                "Catégories",
                "Category path",
                "Rayon",
                "Famille",
            ],
            Field::Image => &[
                "Image",
                "Images",
                "Image URL",
                "URL image",
                "Image 1",
                "Image 2",
                "Image 3",
                "Image 4",
                "Image 5",
                "Photo",
                "Photos",
                "Picture",
            ],
            Field::Link => &["Link", "URL", "Lien", "Product URL", "URL produit"],
            Field::WholesalePrice => &[
                "Prix HT",
                "Prix achat HT",
                "Prix d'achat",
                "Prix d'achat HT",
                "Prix de gros",
                "Prix revendeur",
                "Tarif HT",
                "Wholesale price",
                "Cost price",
                "Cost",
                "Price",
                "Prix",
            ],
            Field::RetailPrice => &[
                "PVC",
                "PVP",
                "PPC",
                "Prix public",
                "Prix public TTC",
                "Prix de vente conseillé",
                "Prix conseillé",
                "Prix TTC",
                "Retail price",
                "RRP",
                "MSRP",
            ],
            Field::SalePrice => &["Prix promo", "Prix soldé", "Sale price"],
            Field::Vat => &[
                "TVA",
                "Taux TVA",
                "Taux de TVA",
                "VAT",
                "VAT rate",
                "Tax rate",
            ],
            Field::Stock => &[
                "Stock",
                "Quantité",
                "Quantity",
                "Qty",
                "Qté",
                "Stock disponible",
                "Inventory",
            ],
            Field::Availability => &[
                "Disponibilité",
                "Availability",
                "Statut stock",
                "Stock status",
                "Etat stock",
                "Dispo",
            ],
            Field::AvailabilityDate => &[
                "Date de disponibilité",
                "Date disponibilité",
                "Date dispo",
                "Date de réappro",
                "Availability date",
                "Restock date",
            ],
            Field::LeadTime => &[
                "Délai",
                "Délai de livraison",
                "Délai d'expédition",
                "Délai expédition",
                "Lead time",
                "Delivery time",
            ],
            Field::Weight => &["Poids", "Poids (kg)", "Weight", "Weight (kg)"],
            Field::MinQty => &[
                "Minimum",
                "Quantité minimum",
                "Qté min",
                "Min qty",
                "Minimum order quantity",
                "MOQ",
            ],
            Field::ParentSku => &[
                "Parent",
                "Parent SKU",
                "Référence parent",
                "Ref parent",
                "Parent reference",
            ],
            Field::Attributes => &[
                "Déclinaison",
                "Déclinaisons",
                "Attributs",
                "Attributes",
                "Variation",
                "Options",
            ],
        }
    }

    /// The field named `key` in the `columns` setting.
    pub fn from_key(key: &str) -> Option<Field> {
        let key = key.trim().to_ascii_lowercase().replace('-', "_");
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// The unit of the weight column when a value does not name its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    /// Kilograms (the default).
    Kilograms,
    /// Grams.
    Grams,
    /// Pounds.
    Pounds,
    /// Ounces.
    Ounces,
}

impl WeightUnit {
    /// `kg`, `g`, `lb` or `oz` (and their long names).
    pub fn parse(text: &str) -> Option<WeightUnit> {
        match fold_words(text).as_str() {
            "kg" | "kgs" | "kilo" | "kilos" | "kilogram" | "kilograms" | "kilogramme"
            | "kilogrammes" => Some(WeightUnit::Kilograms),
            "g" | "gr" | "gram" | "grams" | "gramme" | "grammes" => Some(WeightUnit::Grams),
            "lb" | "lbs" | "pound" | "pounds" => Some(WeightUnit::Pounds),
            "oz" | "ounce" | "ounces" => Some(WeightUnit::Ounces),
            _ => None,
        }
    }

    /// Milligrams in one unit (pounds and ounces rounded to the milligram).
    fn milligrams(self) -> u128 {
        match self {
            WeightUnit::Kilograms => 1_000_000,
            WeightUnit::Grams => 1_000,
            WeightUnit::Pounds => 453_592,
            WeightUnit::Ounces => 28_350,
        }
    }
}

/// How to read one wholesaler's feed. [`FeedConfig::from_settings`] reads
/// it from the binding's settings; natively, build it by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedConfig {
    /// The delimiter, or `None` to guess it from the header line.
    pub delimiter: Option<u8>,
    /// The file's text encoding.
    pub encoding: CsvEncoding,
    /// The currency of prices that do not name theirs.
    pub currency: String,
    /// What separates the levels of a category path (spaces around it do
    /// not matter).
    pub category_separator: String,
    /// The weight column's unit.
    pub weight_unit: WeightUnit,
    /// The largest row accepted, in bytes.
    pub max_record_bytes: usize,
    /// For each [`Field`] (in [`Field::ALL`] order), its column names.
    columns: Vec<Vec<String>>,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            delimiter: None,
            encoding: CsvEncoding::default(),
            currency: "EUR".to_owned(),
            category_separator: " > ".to_owned(),
            weight_unit: WeightUnit::Kilograms,
            max_record_bytes: shopbridge_guest_sdk::csv::DEFAULT_MAX_RECORD_BYTES,
            columns: Field::ALL
                .iter()
                .map(|f| {
                    f.default_columns()
                        .iter()
                        .map(|c| (*c).to_owned())
                        .collect()
                })
                .collect(),
        }
    }
}

impl FeedConfig {
    /// The configuration from the binding's settings (`delimiter`,
    /// `encoding`, `columns`, `currency`, `category-separator`,
    /// `weight-unit`).
    pub fn from_settings() -> Result<FeedConfig, FeedError> {
        Self::from_lookup(settings::get)
    }

    /// The configuration from any source of settings, by name.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<FeedConfig, FeedError> {
        let mut config = FeedConfig::default();
        let value = |name: &str| get(name).filter(|v| !v.is_empty());
        if let Some(d) = value("delimiter") {
            config.delimiter = parse_delimiter(&d).map_err(FeedError::Configuration)?;
        }
        if let Some(e) = value("encoding") {
            config.encoding = CsvEncoding::parse(&e)
                .map_err(|e| FeedError::Configuration(format!("setting 'encoding': {e}")))?;
        }
        if let Some(c) = value("currency") {
            let c = c.trim().to_ascii_uppercase();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(FeedError::Configuration(format!(
                    "setting 'currency': '{c}' is not an ISO 4217 code such as EUR"
                )));
            }
            config.currency = c;
        }
        if let Some(s) = value("category-separator") {
            config.category_separator = s;
        }
        if let Some(u) = value("weight-unit") {
            config.weight_unit = WeightUnit::parse(&u).ok_or_else(|| {
                FeedError::Configuration(format!(
                    "setting 'weight-unit': '{u}' is not kg, g, lb or oz"
                ))
            })?;
        }
        if let Some(columns) = value("columns") {
            config.set_columns(&columns)?;
        }
        Ok(config)
    }

    /// Maps fields onto columns: `sku=Reference;name=Nom|Désignation;ean=`.
    /// Each entry replaces the field's defaults with one or more column
    /// names separated by `|`; an empty list turns the field off. Fields
    /// not named keep their defaults.
    pub fn set_columns(&mut self, spec: &str) -> Result<(), FeedError> {
        for entry in spec
            .split([';', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let Some((key, columns)) = entry.split_once('=') else {
                return Err(FeedError::Configuration(format!(
                    "setting 'columns': '{entry}' is not field=Column"
                )));
            };
            let field = Field::from_key(key).ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
                FeedError::Configuration(format!(
                    "setting 'columns': unknown field '{}' (known: {})",
                    key.trim(),
                    known.join(", ")
                ))
            })?;
            let names: Vec<String> = columns
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
            if names.is_empty() && matches!(field, Field::Sku | Field::Name) {
                return Err(FeedError::Configuration(format!(
                    "setting 'columns': field '{}' cannot be turned off",
                    field.key()
                )));
            }
            if let Some(slot) = self.columns.get_mut(field as usize) {
                *slot = names;
            }
        }
        Ok(())
    }

    /// The column names looked for a field.
    pub fn columns(&self, field: Field) -> &[String] {
        self.columns.get(field as usize).map_or(&[], Vec::as_slice)
    }
}

/// `;`, `,`, `tab`, `|` or `auto` (and a few spellings of them).
fn parse_delimiter(text: &str) -> Result<Option<u8>, String> {
    match text
        .trim_matches(|c| c == ' ')
        .to_ascii_lowercase()
        .as_str()
    {
        "auto" | "" => Ok(None),
        ";" | "semicolon" => Ok(Some(b';')),
        "," | "comma" => Ok(Some(b',')),
        "tab" | "\t" | "\\t" | "tabulation" => Ok(Some(b'\t')),
        "|" | "pipe" => Ok(Some(b'|')),
        other => Err(format!(
            "setting 'delimiter': '{other}' is not ;, ',', tab, | or auto"
        )),
    }
}

/// The resolved column handles, one per [`Field`].
#[derive(Debug, Clone)]
struct Columns {
    handles: Vec<Column>,
}

impl Columns {
    fn get(&self, field: Field) -> Option<Column> {
        self.handles.get(field as usize).copied()
    }
}

/// What a variation takes from its parent row when it leaves it empty.
#[derive(Debug, Clone)]
struct ParentFields {
    sku: String,
    name: String,
    description: Option<String>,
    brand: Option<String>,
    category_path: Vec<String>,
    image_urls: Vec<String>,
    link: Option<String>,
    wholesale_price: Option<Money>,
    retail_price: Option<Money>,
    sale_price: Option<Money>,
    vat_rate_basis_points: Option<u32>,
    weight_grams: Option<u32>,
    minimum_order_quantity: Option<u32>,
    lead_time_days: Option<u32>,
}

/// Turns rows into feed records.
#[derive(Debug)]
struct RowMapper {
    config: FeedConfig,
    columns: Columns,
    /// The last row without a parent, when the file has a parent column.
    last_parent: Option<ParentFields>,
}

/// The streaming parser of a wholesaler's CSV feed: the `feed-parser` the
/// component exports, and a plain type for native use (benchmarks, tools).
#[derive(Debug)]
pub struct CsvFeedParser {
    csv: CsvStream,
    mapper: RowMapper,
}

impl CsvFeedParser {
    /// A parser for one feed.
    pub fn new(config: FeedConfig) -> Self {
        let mut map = ColumnMap::new();
        let handles = Field::ALL
            .iter()
            .map(|field| {
                let names = config.columns(*field);
                match field {
                    Field::Sku | Field::Name => map.required(field.key(), names),
                    _ => map.optional(field.key(), names),
                }
            })
            .collect();
        let csv = CsvStream::new(CsvOptions {
            delimiter: config.delimiter,
            quote: b'"',
            has_headers: true,
            max_record_bytes: config.max_record_bytes,
            encoding: config.encoding,
        })
        .with_columns(map);
        CsvFeedParser {
            csv,
            mapper: RowMapper {
                config,
                columns: Columns { handles },
                last_parent: None,
            },
        }
    }

    /// A parser configured by the binding's settings.
    pub fn from_settings() -> Result<Self, FeedError> {
        Ok(Self::new(FeedConfig::from_settings()?))
    }
}

impl FeedParse for CsvFeedParser {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<FeedRecord>, FeedError> {
        let mut records = Vec::new();
        let mapper = &mut self.mapper;
        self.csv
            .push(chunk, |row| records.extend(mapper.record(row)))?;
        Ok(records)
    }

    fn finish(&mut self) -> Result<Vec<FeedRecord>, FeedError> {
        let mut records = Vec::new();
        let mapper = &mut self.mapper;
        self.csv.finish(|row| records.extend(mapper.record(row)))?;
        Ok(records)
    }
}

/// Why a row is rejected: the reason, for a person.
type Reject = String;

impl RowMapper {
    /// The record for one row; `None` for a blank row (`;;;;`).
    fn record(&mut self, row: Result<Row<'_>, BadRow<'_>>) -> Option<FeedRecord> {
        match row {
            Ok(row) if row.is_blank() => None,
            Ok(row) => match self.product(&row) {
                Ok(product) => Some(FeedRecord::Product(product)),
                Err(reason) => {
                    let sku = self.text(&row, Field::Sku).map(str::to_owned);
                    let position = Some(format!("line {}", row.line()));
                    Some(FeedRecord::Rejected(Rejection::new(sku, position, reason)))
                }
            },
            Err(bad) => {
                let sku = bad
                    .row
                    .and_then(|r| self.text(&r, Field::Sku))
                    .map(str::to_owned);
                let reason = match bad.kind {
                    BadRowKind::InvalidUtf8 { field } if bad.encoding == "UTF-8" => format!(
                        "field {} is not valid UTF-8 (a file saved by Excel is often \
                         windows-1252: set the binding's `encoding` setting to windows-1252 or auto)",
                        field + 1
                    ),
                    BadRowKind::InvalidUtf8 { field } => {
                        format!("field {} is not valid {}", field + 1, bad.encoding)
                    }
                    BadRowKind::FieldCount { expected, found } => {
                        format!("{found} fields where the header has {expected}")
                    }
                };
                Some(FeedRecord::Rejected(Rejection::new(
                    sku,
                    Some(format!("line {}", bad.line)),
                    reason,
                )))
            }
        }
    }

    /// A field's value, trimmed, `None` when empty or absent.
    fn text<'a>(&self, row: &Row<'a>, field: Field) -> Option<&'a str> {
        row.mapped(self.columns.get(field)?)
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    fn product(&mut self, row: &Row<'_>) -> Result<Product, Reject> {
        let sku = self.text(row, Field::Sku).ok_or("no SKU")?;
        let parent_sku = self.text(row, Field::ParentSku).filter(|p| *p != sku);
        // Only the parent just before its variations is remembered: memory
        // stays flat whatever the feed's size.
        let parent = match (parent_sku, &self.last_parent) {
            (Some(p), Some(last)) if last.sku == p => Some(last),
            _ => None,
        };
        let name = match (self.text(row, Field::Name), parent) {
            (Some(name), _) => name.to_owned(),
            (None, Some(parent)) => parent.name.clone(),
            (None, None) => return Err("no name".to_owned()),
        };
        let mut product = Product::new(sku, name);
        product.description = self.text(row, Field::Description).map(str::to_owned);
        product.brand = self.text(row, Field::Brand).map(str::to_owned);
        product.gtin = self
            .text(row, Field::Ean)
            .map(parse_ean)
            .transpose()?
            .flatten();
        product.mpn = self.text(row, Field::Mpn).map(str::to_owned);
        product.category_path = self
            .text(row, Field::Category)
            .map(|c| split_category(c, &self.config.category_separator))
            .unwrap_or_default();
        product.image_urls = self.images(row);
        product.link = self.text(row, Field::Link).map(str::to_owned);
        product.wholesale_price = self.price(row, Field::WholesalePrice, "wholesale price")?;
        product.retail_price = self.price(row, Field::RetailPrice, "retail price")?;
        product.sale_price = self.price(row, Field::SalePrice, "sale price")?;
        product.vat_rate_basis_points = self.text(row, Field::Vat).map(parse_vat).transpose()?;
        product.weight_grams = self
            .text(row, Field::Weight)
            .map(|w| parse_weight(w, self.config.weight_unit))
            .transpose()?
            .flatten();
        product.minimum_order_quantity = self
            .text(row, Field::MinQty)
            .map(parse_min_qty)
            .transpose()?
            .flatten();
        product.lead_time_days = self.text(row, Field::LeadTime).and_then(parse_lead_time);
        let (stock, stock_word) = match self.text(row, Field::Stock) {
            Some(s) => parse_stock(s)?,
            None => (None, None),
        };
        product.stock_quantity = stock;
        let date = self.text(row, Field::AvailabilityDate).and_then(find_date);
        let stated = self
            .text(row, Field::Availability)
            .and_then(|text| parse_availability(text, date))
            .or(stock_word);
        product.availability = match (stated, stock) {
            (Some(availability), _) => availability,
            (None, Some(0)) => Availability::OutOfStock,
            (None, _) => Availability::InStock,
        };
        product.attributes = self
            .text(row, Field::Attributes)
            .map(parse_attributes)
            .transpose()?
            .unwrap_or_default();
        product.group_id = parent_sku.map(str::to_owned);
        if let Some(parent) = parent {
            inherit(&mut product, parent);
        }
        let file_has_parents = self
            .columns
            .get(Field::ParentSku)
            .is_some_and(|c| row.mapped(c).is_some());
        if file_has_parents && parent_sku.is_none() {
            self.last_parent = Some(ParentFields::of(&product));
        }
        Ok(product)
    }

    fn price(&self, row: &Row<'_>, field: Field, what: &str) -> Result<Option<Money>, Reject> {
        let Some(text) = self.text(row, field) else {
            return Ok(None);
        };
        match money::parse(text, Some(&self.config.currency)) {
            Ok(m) if m.amount_minor < 0 => Err(format!("{what} '{text}' is negative")),
            // "0,00" in a price column means "no price" in every export seen.
            Ok(m) if m.amount_minor == 0 => Ok(None),
            Ok(m) => Ok(Some(m)),
            Err(MoneyError::UnknownCurrency(c)) => {
                Err(format!("{what} '{text}': unknown currency '{c}'"))
            }
            Err(_) => Err(format!("{what} '{text}' is not an amount")),
        }
    }

    /// URLs from every image column, each split on `|`, `;`, white space, or
    /// a comma before another URL; duplicates dropped.
    fn images(&self, row: &Row<'_>) -> Vec<String> {
        let mut urls: Vec<String> = Vec::new();
        let Some(column) = self.columns.get(Field::Image) else {
            return urls;
        };
        for cell in row.mapped_all(column) {
            for url in split_urls(cell) {
                if !urls.iter().any(|u| u == url) {
                    urls.push(url.to_owned());
                }
            }
        }
        urls
    }
}

impl ParentFields {
    fn of(p: &Product) -> Self {
        ParentFields {
            sku: p.sku.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            brand: p.brand.clone(),
            category_path: p.category_path.clone(),
            image_urls: p.image_urls.clone(),
            link: p.link.clone(),
            wholesale_price: p.wholesale_price.clone(),
            retail_price: p.retail_price.clone(),
            sale_price: p.sale_price.clone(),
            vat_rate_basis_points: p.vat_rate_basis_points,
            weight_grams: p.weight_grams,
            minimum_order_quantity: p.minimum_order_quantity,
            lead_time_days: p.lead_time_days,
        }
    }
}

/// Fills what a variation left empty from its parent.
fn inherit(product: &mut Product, parent: &ParentFields) {
    fn fill<T: Clone>(slot: &mut Option<T>, from: &Option<T>) {
        if slot.is_none() {
            slot.clone_from(from);
        }
    }
    fill(&mut product.description, &parent.description);
    fill(&mut product.brand, &parent.brand);
    fill(&mut product.link, &parent.link);
    fill(&mut product.wholesale_price, &parent.wholesale_price);
    fill(&mut product.retail_price, &parent.retail_price);
    fill(&mut product.sale_price, &parent.sale_price);
    fill(
        &mut product.vat_rate_basis_points,
        &parent.vat_rate_basis_points,
    );
    fill(&mut product.weight_grams, &parent.weight_grams);
    fill(
        &mut product.minimum_order_quantity,
        &parent.minimum_order_quantity,
    );
    fill(&mut product.lead_time_days, &parent.lead_time_days);
    if product.category_path.is_empty() {
        product.category_path.clone_from(&parent.category_path);
    }
    if product.image_urls.is_empty() {
        product.image_urls.clone_from(&parent.image_urls);
    }
}

/// EAN/GTIN: digits only, spaces and dashes dropped, leading zeros kept;
/// `0` (or only zeros) means none.
fn parse_ean(text: &str) -> Result<Option<String>, Reject> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect();
    if digits.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) && (8..=14).contains(&digits.len()) {
        return Ok(Some(digits));
    }
    if digits.contains(['E', 'e']) && digits.contains('+') {
        return Err(format!(
            "EAN '{text}' is in scientific notation (was the file saved by a spreadsheet?)"
        ));
    }
    Err(format!("EAN '{text}' is not 8 to 14 digits"))
}

/// `Maison > Cuisine > Ustensiles` → `["Maison", "Cuisine", "Ustensiles"]`.
fn split_category(text: &str, separator: &str) -> Vec<String> {
    let trimmed = separator.trim();
    let separator = if trimmed.is_empty() {
        separator
    } else {
        trimmed
    };
    if separator.is_empty() {
        return vec![text.to_owned()];
    }
    text.split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn split_urls(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(['|', ';', ' ', '\t', '\n', '\r'])
        .flat_map(|part| split_before_urls(part))
        .map(|u| u.trim_matches(','))
        .filter(|u| !u.is_empty())
}

/// Splits `a.jpg,https://b.jpg` at the comma before `http`, leaving commas
/// inside a URL (`w_500,h_500`) alone.
fn split_before_urls(part: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (at, _) in part.match_indices(',') {
        let rest = &part[at + 1..];
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("//") {
            pieces.push(&part[start..at]);
            start = at + 1;
        }
    }
    pieces.push(&part[start..]);
    pieces
}

/// `20`, `5,5`, `20 %` → basis points; a fraction without `%` (`0.2`,
/// `0,055`) is read as such.
fn parse_vat(text: &str) -> Result<u32, Reject> {
    let percent = text.contains('%');
    let number = text.trim_end_matches(|c: char| c == '%' || c.is_whitespace());
    let invalid = || format!("VAT rate '{text}' is not a percentage");
    let ten_thousandths = parse_scaled(number, 4).ok_or_else(invalid)?;
    let basis_points = if !percent && ten_thousandths < 10_000 {
        ten_thousandths
    } else {
        (ten_thousandths + 50) / 100
    };
    u32::try_from(basis_points)
        .ok()
        .filter(|bp| *bp <= 10_000)
        .ok_or_else(invalid)
}

/// Units in stock, and the availability when the stock column holds a word
/// (`En stock`) rather than a number. `-3` is 0; `>10`, `+10`, `10+` are 10.
fn parse_stock(text: &str) -> Result<(Option<u32>, Option<Availability>), Reject> {
    let number = text
        .trim_start_matches(['>', '+', '≥'])
        .trim_end_matches('+')
        .trim();
    if let Some(rest) = number.strip_prefix('-')
        && parse_scaled(rest, 0).is_some()
    {
        return Ok((Some(0), None));
    }
    if let Some(thousandths) = parse_scaled(number, 3) {
        let units = u32::try_from(thousandths / 1000).unwrap_or(u32::MAX);
        return Ok((Some(units), None));
    }
    match parse_availability(text, None) {
        Some(availability) => Ok((None, Some(availability))),
        None => Err(format!("stock '{text}' is not a quantity")),
    }
}

/// A supplier's availability word; `None` when not recognized (the stock
/// quantity decides then). Phrases are matched as whole words, the first
/// group that matches wins: discontinued, preorder, backorder, out of stock,
/// in stock.
fn parse_availability(text: &str, date: Option<String>) -> Option<Availability> {
    const DISCONTINUED: &[&str] = &[
        " arrete ",
        " discontinued ",
        " supprime ",
        " retire ",
        " obsolete ",
        " fin de vie ",
        " plus fabrique ",
        " dereference ",
        " abandonne ",
        " end of life ",
    ];
    const PREORDER: &[&str] = &[
        " precommande ",
        " pre commande ",
        " preorder ",
        " pre order ",
        " a venir ",
        " bientot disponible ",
        " coming soon ",
    ];
    const BACKORDER: &[&str] = &[
        " sur commande ",
        " sur demande ",
        " backorder ",
        " backordered ",
        " reapprovisionnement ",
        " reappro ",
        " on order ",
    ];
    const OUT_OF_STOCK: &[&str] = &[
        " rupture ",
        " epuise ",
        " out of stock ",
        " outofstock ",
        " indisponible ",
        " non disponible ",
        " unavailable ",
        " sold out ",
    ];
    const IN_STOCK: &[&str] = &[
        " en stock ",
        " disponible ",
        " in stock ",
        " instock ",
        " available ",
        " stock ",
        " dispo ",
    ];
    // " en stock ": folded, with a space at each end for whole-word matching.
    let padded = format!(" {} ", fold_words(text));
    match padded.trim() {
        "0" | "non" | "no" | "n" | "false" => return Some(Availability::OutOfStock),
        "1" | "oui" | "yes" | "o" | "y" | "true" => return Some(Availability::InStock),
        _ => {}
    }
    let has = |phrases: &[&str]| phrases.iter().any(|p| padded.contains(p));
    if has(DISCONTINUED) {
        Some(Availability::Discontinued)
    } else if has(PREORDER) {
        Some(Availability::Preorder(date.or_else(|| find_date(text))))
    } else if has(BACKORDER) {
        Some(Availability::Backorder)
    } else if has(OUT_OF_STOCK) {
        Some(Availability::OutOfStock)
    } else if has(IN_STOCK) {
        Some(Availability::InStock)
    } else {
        None
    }
}

/// Grams from `0,5`, `0,5 kg`, `500 g`, `1.2 lb`; 0 means unknown.
fn parse_weight(text: &str, default_unit: WeightUnit) -> Result<Option<u32>, Reject> {
    let unit_at = text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let unit = match unit.trim() {
        "" => default_unit,
        u => WeightUnit::parse(u).ok_or_else(|| format!("weight '{text}': unknown unit '{u}'"))?,
    };
    let thousandths =
        parse_scaled(number, 3).ok_or_else(|| format!("weight '{text}' is not a number"))?;
    let grams = (u128::from(thousandths) * unit.milligrams() + 500_000) / 1_000_000;
    match u32::try_from(grams) {
        Ok(0) => Ok(None),
        Ok(g) => Ok(Some(g)),
        Err(_) => Err(format!("weight '{text}' is too large")),
    }
}

fn parse_min_qty(text: &str) -> Result<Option<u32>, Reject> {
    let value = parse_scaled(text, 0)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("minimum quantity '{text}' is not a whole number"))?;
    Ok((value > 0).then_some(value))
}

/// Days from `3`, `3 jours`, `48h`, `2 à 3 jours` (the longest), `1 semaine`.
fn parse_lead_time(text: &str) -> Option<u32> {
    let words = fold_words(text);
    let mut max: Option<u32> = None;
    let mut tokens = words.split(' ').peekable();
    while let Some(token) = tokens.next() {
        let digits: String = token.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<u32>() else {
            continue;
        };
        let suffix = &token[digits.len()..];
        let unit = if suffix.is_empty() {
            tokens.peek().copied().unwrap_or("")
        } else {
            suffix
        };
        let days = if unit.starts_with('h') {
            n.div_ceil(24)
        } else if unit.starts_with("sem") || unit.starts_with("week") || unit.starts_with('w') {
            n.saturating_mul(7)
        } else {
            n
        };
        max = Some(max.map_or(days, |m| m.max(days)));
    }
    max
}

/// `Taille:XL|Couleur:Rouge` (or `=`, or `;` / `,` between pairs).
fn parse_attributes(text: &str) -> Result<Vec<Attribute>, Reject> {
    let separator: &[char] = if text.contains(['|', ';']) {
        &['|', ';']
    } else {
        &[',']
    };
    text.split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair
                .split_once([':', '='])
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("attribute '{pair}' is not Name:Value"))?;
            Ok(Attribute {
                name: name.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use shopbridge_guest_sdk::{Connector, testing};

    use super::*;
    use crate::CsvWholesaler;

    /// A French wholesaler's export, with the default column names.
    const FRENCH: &str = "\u{feff}Référence;Désignation;Prix HT;PVC;Stock;Disponibilité;EAN13;Marque;\
Catégorie;Image;Image 2;Description;Poids;TVA;Minimum;Parent;Déclinaison\r\n\
TS-01;T-shirt coton;12,99;29,90 €;0;;0012345678905;Maison Lune;Mode > Homme > T-shirts;\
https://cdn.example/ts-01.jpg|https://cdn.example/ts-01-b.jpg;https://cdn.example/ts-01.jpg;\
\"<p>Coton bio; coupe \"\"droite\"\"</p>\";0,250;20;2;;\r\n\
TS-01-XL;;;;7;;3760000000017;;;;;;;;;TS-01;Taille:XL|Couleur:Rouge\r\n\
TS-01-S;T-shirt coton S;13,49;;0;Sur commande;;;;;;;;;;TS-01;Taille:S|Couleur:Rouge\r\n\
LIV-7;Livre de recettes;1 299,00;;12;Rupture;;;Livres;;;;1,2;5,5;;;\r\n";

    fn parse_with(
        config: FeedConfig,
        input: &[u8],
        chunk: usize,
    ) -> Result<Vec<FeedRecord>, FeedError> {
        let mut parser = CsvFeedParser::new(config);
        let mut records = Vec::new();
        for part in input.chunks(chunk.max(1)) {
            records.extend(parser.push(part)?);
        }
        records.extend(parser.finish()?);
        Ok(records)
    }

    fn parse(input: &str) -> Vec<FeedRecord> {
        parse_with(FeedConfig::default(), input.as_bytes(), input.len()).expect("parses")
    }

    fn products(records: &[FeedRecord]) -> Vec<&Product> {
        records
            .iter()
            .filter_map(|r| match r {
                FeedRecord::Product(p) => Some(p),
                FeedRecord::Rejected(_) => None,
            })
            .collect()
    }

    fn rejections(records: &[FeedRecord]) -> Vec<(Option<&str>, Option<&str>, &str)> {
        records
            .iter()
            .filter_map(|r| match r {
                FeedRecord::Rejected(r) => {
                    Some((r.sku.as_deref(), r.position.as_deref(), r.reason.as_str()))
                }
                FeedRecord::Product(_) => None,
            })
            .collect()
    }

    fn eur(amount_minor: i64) -> Option<Money> {
        Some(Money {
            amount_minor,
            currency: "EUR".to_owned(),
        })
    }

    fn attribute(name: &str, value: &str) -> Attribute {
        Attribute {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn french_export_with_default_columns() {
        let records = parse(FRENCH);
        assert_eq!(rejections(&records), vec![]);
        let p = products(&records);
        assert_eq!(p.len(), 4);

        let shirt = p[0];
        assert_eq!(shirt.sku, "TS-01");
        assert_eq!(shirt.name, "T-shirt coton");
        assert_eq!(shirt.wholesale_price, eur(1299));
        assert_eq!(shirt.retail_price, eur(2990));
        assert_eq!(shirt.stock_quantity, Some(0));
        assert_eq!(shirt.availability, Availability::OutOfStock);
        assert_eq!(shirt.gtin.as_deref(), Some("0012345678905"));
        assert_eq!(shirt.brand.as_deref(), Some("Maison Lune"));
        assert_eq!(shirt.category_path, ["Mode", "Homme", "T-shirts"]);
        assert_eq!(
            shirt.image_urls,
            [
                "https://cdn.example/ts-01.jpg",
                "https://cdn.example/ts-01-b.jpg"
            ]
        );
        assert_eq!(
            shirt.description.as_deref(),
            Some("<p>Coton bio; coupe \"droite\"</p>")
        );
        assert_eq!(shirt.weight_grams, Some(250));
        assert_eq!(shirt.vat_rate_basis_points, Some(2000));
        assert_eq!(shirt.minimum_order_quantity, Some(2));
        assert_eq!(shirt.group_id, None);

        // A variation: its own SKU, stock, EAN and attributes; the rest from its parent.
        let xl = p[1];
        assert_eq!(xl.sku, "TS-01-XL");
        assert_eq!(xl.group_id.as_deref(), Some("TS-01"));
        assert_eq!(xl.name, "T-shirt coton");
        assert_eq!(
            xl.attributes,
            [attribute("Taille", "XL"), attribute("Couleur", "Rouge")]
        );
        assert_eq!(xl.stock_quantity, Some(7));
        assert_eq!(xl.availability, Availability::InStock);
        assert_eq!(xl.gtin.as_deref(), Some("3760000000017"));
        assert_eq!(xl.wholesale_price, eur(1299));
        assert_eq!(xl.retail_price, eur(2990));
        assert_eq!(xl.category_path, shirt.category_path);
        assert_eq!(xl.image_urls, shirt.image_urls);
        assert_eq!(xl.vat_rate_basis_points, Some(2000));
        assert_eq!(xl.weight_grams, Some(250));

        let s = p[2];
        assert_eq!(s.name, "T-shirt coton S");
        assert_eq!(s.wholesale_price, eur(1349));
        assert_eq!(
            s.availability,
            Availability::Backorder,
            "the availability column wins over stock 0"
        );

        let book = p[3];
        assert_eq!(book.wholesale_price, eur(129_900));
        assert_eq!(
            book.availability,
            Availability::OutOfStock,
            "'Rupture' wins over stock 12"
        );
        assert_eq!(book.stock_quantity, Some(12));
        assert_eq!(book.vat_rate_basis_points, Some(550));
        assert_eq!(book.weight_grams, Some(1200));
        assert_eq!(book.category_path, ["Livres"]);
        assert_eq!(book.group_id, None);
    }

    #[test]
    fn an_excel_export_in_windows_1252_keeps_every_accented_product() {
        // Bytes from Microsoft's cp1252.txt: 0xE8 è, 0xFB û, 0xE9 é, 0x9C œ,
        // 0xE7 ç, 0x80 €; what Excel writes for "CSV (séparateur: point-virgule)".
        let ansi: &[u8] = b"R\xE9f\xE9rence;D\xE9signation;Prix HT;Stock\r\n\
                            CB-1;Cr\xE8me br\xFBl\xE9e;4,50;3\r\n\
                            CF-2;C\x9Cur fa\xE7onn\xE9;12,00;1\r\n\
                            PX-3;Prix 10 \x80;10,00;5\r\n";
        let names = |records: &[FeedRecord]| -> Vec<String> {
            products(records).iter().map(|p| p.name.clone()).collect()
        };
        for setting in ["windows-1252", "auto"] {
            let config = FeedConfig {
                encoding: CsvEncoding::parse(setting).expect("known"),
                ..FeedConfig::default()
            };
            for size in 1..=ansi.len() {
                let records = parse_with(config.clone(), ansi, size).expect("parses");
                assert_eq!(rejections(&records), vec![], "{setting}, chunks of {size}");
                assert_eq!(
                    names(&records),
                    ["Crème brûlée", "Cœur façonné", "Prix 10 €"],
                    "{setting}, chunks of {size}"
                );
                assert_eq!(products(&records)[0].wholesale_price, eur(450));
            }
        }
        // Read as UTF-8 (the default), the header cannot be: the feed fails,
        // saying why.
        let error = parse_with(FeedConfig::default(), ansi, 64).expect_err("not UTF-8");
        assert!(
            matches!(&error, FeedError::Malformed(m) if m.contains("header (line 1) is not valid UTF-8")),
            "{error:?}"
        );
        // With a plain header, each row with an accent is rejected by its
        // line, saying what to set.
        let rows = [
            &b"sku;name;prix ht;stock\r\n"[..],
            &ansi[ansi.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1)..],
        ]
        .concat();
        let records = parse_with(FeedConfig::default(), &rows, 64).expect("parses");
        let lines: Vec<_> = rejections(&records).iter().map(|r| r.1).collect();
        assert_eq!(lines, [Some("line 2"), Some("line 3"), Some("line 4")]);
        assert!(rejections(&records)[0].2.contains("`encoding` setting"));
    }

    #[test]
    fn the_same_records_at_every_chunk_size() {
        let whole = parse(FRENCH);
        for size in 1..FRENCH.len() {
            let chunked =
                parse_with(FeedConfig::default(), FRENCH.as_bytes(), size).expect("parses");
            assert_eq!(chunked, whole, "chunks of {size}");
        }
    }

    #[test]
    fn columns_and_delimiter_from_settings() {
        testing::reset();
        testing::set_setting("delimiter", ",");
        testing::set_setting(
            "columns",
            "sku=Code;name=Titre;wholesale_price=PrixRevendeur;retail_price=PrixPublic;stock=Qte;\
             ean=CodeBarre;vat=Taxe;weight=Masse;category=Rayon;image=",
        );
        testing::set_setting("currency", "chf");
        testing::set_setting("category-separator", "/");
        testing::set_setting("weight-unit", "g");
        let input = "Code,Titre,PrixRevendeur,PrixPublic,Qte,CodeBarre,Taxe,Masse,Rayon,Image,Marque\n\
                     A-1,\"Lampe, laiton\",\"1.234,50\",1999.95,>10,4 006381 333931,7.7%,850,Maison/Lumière,x.jpg,Acme\n\
                     A-2,Abat-jour,\"12,5\",,-2,,0.077,1.5 kg,,,\n";
        let mut parser = CsvWholesaler::open_feed(Some("text/csv".to_owned())).expect("opens");
        let mut records = parser.push(input.as_bytes()).expect("reads");
        records.extend(parser.finish().expect("finishes"));
        assert_eq!(rejections(&records), vec![]);
        let p = products(&records);
        let chf = |amount_minor| {
            Some(Money {
                amount_minor,
                currency: "CHF".to_owned(),
            })
        };
        assert_eq!(p[0].name, "Lampe, laiton");
        assert_eq!(p[0].wholesale_price, chf(123_450));
        assert_eq!(p[0].retail_price, chf(199_995));
        assert_eq!(p[0].stock_quantity, Some(10));
        assert_eq!(p[0].gtin.as_deref(), Some("4006381333931"));
        assert_eq!(p[0].vat_rate_basis_points, Some(770));
        assert_eq!(p[0].weight_grams, Some(850));
        assert_eq!(p[0].category_path, ["Maison", "Lumière"]);
        assert_eq!(p[0].image_urls, Vec::<String>::new(), "image turned off");
        assert_eq!(
            p[0].brand.as_deref(),
            Some("Acme"),
            "brand keeps its default columns"
        );
        assert_eq!(p[1].wholesale_price, chf(1250));
        assert_eq!(p[1].stock_quantity, Some(0));
        assert_eq!(p[1].availability, Availability::OutOfStock);
        assert_eq!(p[1].vat_rate_basis_points, Some(770), "0.077 is a fraction");
        assert_eq!(p[1].weight_grams, Some(1500), "the value's unit wins");
    }

    #[test]
    fn both_delimiters_guessed_give_the_same_products() {
        let semicolon = "SKU;Name;Price;Stock\nB-1;Bol;3,50;4\n";
        let comma = "SKU,Name,Price,Stock\nB-1,Bol,\"3,50\",4\n";
        let tab = "SKU\tName\tPrice\tStock\nB-1\tBol\t3,50\t4\n";
        let a = parse(semicolon);
        assert_eq!(products(&a)[0].wholesale_price, eur(350));
        assert_eq!(parse(comma), a);
        assert_eq!(parse(tab), a);
    }

    #[test]
    fn availability_words_and_dates() {
        let input = "sku;name;stock;disponibilite;date dispo\n\
                     A;a;0;Précommande;01/12/2026\n\
                     B;b;0;Pré-commande (2026-11-15);\n\
                     C;c;3;Arrêté;\n\
                     D;d;0;En stock;\n\
                     E;e;0;;\n\
                     F;f;;;\n\
                     G;g;En stock;;\n\
                     H;h;5;Fin de série;\n\
                     I;i;2;Indisponible;\n\
                     J;j;1;Disponible sur commande;\n";
        let records = parse(input);
        assert_eq!(rejections(&records), vec![]);
        let got: Vec<(Option<u32>, Availability)> = products(&records)
            .iter()
            .map(|p| (p.stock_quantity, p.availability.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(0),
                    Availability::Preorder(Some("2026-12-01".to_owned()))
                ),
                (
                    Some(0),
                    Availability::Preorder(Some("2026-11-15".to_owned()))
                ),
                (Some(3), Availability::Discontinued),
                (Some(0), Availability::InStock),
                (Some(0), Availability::OutOfStock),
                (None, Availability::InStock),
                (None, Availability::InStock),
                (Some(5), Availability::InStock),
                (Some(2), Availability::OutOfStock),
                (Some(1), Availability::Backorder),
            ]
        );
    }

    #[test]
    fn bad_rows_are_rejected_with_their_line_and_the_feed_goes_on() {
        let input: &[u8] = b"sku;name;prix ht;ean13;tva;poids;declinaison\n\
                             R1;Bon;1,00;;;;\n\
                             R2;Prix faux;abc;;;;\n\
                             ;Sans SKU;1;;;;\n\
                             R4;EAN faux;1;3,76012E+12;;;\n\
                             R5;Trop court;1\n\
                             R6;Caf\xe9;1;;;;\n\
                             ;;;;;;\n\
                             R8;TVA;1;;120;;\n\
                             R9;Poids;1;;;lourd;\n\
                             R10;\"Attr\";1;;;;XL\n\
                             R11;Negatif;-4;;;;\n\
                             R12;\"multi\nligne\";1;;;;\n\
                             R13;Sans prix;;;;;\n";
        let records = parse_with(FeedConfig::default(), input, input.len()).expect("parses");
        assert_eq!(
            rejections(&records),
            vec![
                (
                    Some("R2"),
                    Some("line 3"),
                    "wholesale price 'abc' is not an amount"
                ),
                (None, Some("line 4"), "no SKU"),
                (
                    Some("R4"),
                    Some("line 5"),
                    "EAN '3,76012E+12' is in scientific notation (was the file saved by a spreadsheet?)"
                ),
                (
                    Some("R5"),
                    Some("line 6"),
                    "3 fields where the header has 7"
                ),
                (
                    None,
                    Some("line 7"),
                    "field 2 is not valid UTF-8 (a file saved by Excel is often windows-1252: \
                     set the binding's `encoding` setting to windows-1252 or auto)"
                ),
                (
                    Some("R8"),
                    Some("line 9"),
                    "VAT rate '120' is not a percentage"
                ),
                (
                    Some("R9"),
                    Some("line 10"),
                    "weight 'lourd': unknown unit 'lourd'"
                ),
                (
                    Some("R10"),
                    Some("line 11"),
                    "attribute 'XL' is not Name:Value"
                ),
                (
                    Some("R11"),
                    Some("line 12"),
                    "wholesale price '-4' is negative"
                ),
            ]
        );
        let skus: Vec<&str> = products(&records).iter().map(|p| p.sku.as_str()).collect();
        assert_eq!(skus, ["R1", "R12", "R13"]);
        assert_eq!(products(&records)[1].name, "multi\nligne");
    }

    #[test]
    fn a_variation_without_name_and_no_parent_before_it_is_rejected() {
        let records = parse("sku;name;parent\nV-1;;P-9\n");
        assert_eq!(
            rejections(&records),
            vec![(Some("V-1"), Some("line 2"), "no name")]
        );
    }

    #[test]
    fn configuration_errors() {
        let config = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            FeedConfig::from_lookup(|name| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
        };
        assert!(matches!(
            config(&[("delimiter", "#")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("columns", "colour=Couleur")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("columns", "sku")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("columns", "sku=")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("currency", "euro")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("weight-unit", "stone")]),
            Err(FeedError::Configuration(_))
        ));
        assert!(matches!(
            config(&[("encoding", "klingon")]),
            Err(FeedError::Configuration(m)) if m.contains("unknown encoding 'klingon'")
        ));
        assert_eq!(
            config(&[("encoding", "Windows-1252")]).map(|c| c.encoding),
            Ok(CsvEncoding::Label(
                shopbridge_guest_sdk::encoding::for_label("cp1252").expect("known")
            ))
        );
        let ok = config(&[
            ("delimiter", "tab"),
            ("columns", "sku=Ref|Code;\nname = Nom ;"),
            ("weight-unit", "lb"),
        ])
        .expect("valid");
        assert_eq!(ok.delimiter, Some(b'\t'));
        assert_eq!(ok.columns(Field::Sku), ["Ref", "Code"]);
        assert_eq!(ok.columns(Field::Name), ["Nom"]);
        assert_eq!(ok.weight_unit, WeightUnit::Pounds);
        assert_eq!(parse_weight("1", ok.weight_unit), Ok(Some(454)));

        // A file without a SKU column.
        let err =
            parse_with(FeedConfig::default(), b"code;nom\nA;b\n", 64).expect_err("no sku column");
        match err {
            FeedError::Configuration(m) => assert!(m.starts_with("no column for sku"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_feed_and_oversized_rows() {
        let err =
            parse_with(FeedConfig::default(), b"sku;name\nA;\"open", 5).expect_err("truncated");
        assert!(matches!(err, FeedError::Malformed(_)), "{err:?}");
        let config = FeedConfig {
            max_record_bytes: 100,
            ..FeedConfig::default()
        };
        let big = format!("sku;name\nA;{}\n", "x".repeat(200));
        let err = parse_with(config, big.as_bytes(), 64).expect_err("too large");
        assert!(matches!(err, FeedError::Refused(_)), "{err:?}");
    }

    #[test]
    fn fields_are_listed_in_declaration_order() {
        for (i, field) in Field::ALL.iter().enumerate() {
            assert_eq!(*field as usize, i);
            assert_eq!(Field::from_key(field.key()), Some(*field));
        }
        assert_eq!(
            Field::from_key("Wholesale-Price"),
            Some(Field::WholesalePrice)
        );
    }

    #[test]
    fn empty_feeds() {
        assert_eq!(parse(""), vec![]);
        assert_eq!(parse("sku;name\n"), vec![]);
        assert_eq!(parse("sku;name\n;;\n\n"), vec![]);
    }

    #[test]
    fn values() {
        assert_eq!(parse_ean("0"), Ok(None));
        assert_eq!(parse_ean("00000000"), Ok(None));
        assert_eq!(
            parse_ean("0012345678905"),
            Ok(Some("0012345678905".to_owned()))
        );
        assert_eq!(
            parse_ean("4-006381-333931"),
            Ok(Some("4006381333931".to_owned()))
        );
        assert!(parse_ean("12345").is_err());
        assert!(parse_ean("ABC1234567890").is_err());
        assert_eq!(parse_vat("20"), Ok(2000));
        assert_eq!(parse_vat("5,5"), Ok(550));
        assert_eq!(parse_vat("5.5 %"), Ok(550));
        assert_eq!(parse_vat("0,2"), Ok(2000));
        assert_eq!(parse_vat("0"), Ok(0));
        assert_eq!(parse_vat("0,5%"), Ok(50));
        assert_eq!(parse_stock("12"), Ok((Some(12), None)));
        assert_eq!(parse_stock("12,0"), Ok((Some(12), None)));
        assert_eq!(parse_stock("1 200"), Ok((Some(1200), None)));
        assert_eq!(parse_stock("10+"), Ok((Some(10), None)));
        assert_eq!(parse_stock("-3"), Ok((Some(0), None)));
        assert_eq!(
            parse_stock("Rupture"),
            Ok((None, Some(Availability::OutOfStock)))
        );
        assert!(parse_stock("beaucoup").is_err());
        assert_eq!(parse_lead_time("3"), Some(3));
        assert_eq!(parse_lead_time("2 à 3 jours"), Some(3));
        assert_eq!(parse_lead_time("48h"), Some(2));
        assert_eq!(parse_lead_time("sous 72 heures"), Some(3));
        assert_eq!(parse_lead_time("1 semaine"), Some(7));
        assert_eq!(parse_lead_time("immédiat"), None);
        assert_eq!(parse_weight("0,5", WeightUnit::Kilograms), Ok(Some(500)));
        assert_eq!(parse_weight("500 g", WeightUnit::Kilograms), Ok(Some(500)));
        assert_eq!(parse_weight("0", WeightUnit::Kilograms), Ok(None));
        assert_eq!(parse_weight("16 oz", WeightUnit::Kilograms), Ok(Some(454)));
        assert_eq!(
            split_urls("a.jpg, https://x/b.jpg|https://x/w_500,h_500/c.jpg d.jpg")
                .collect::<Vec<_>>(),
            [
                "a.jpg",
                "https://x/b.jpg",
                "https://x/w_500,h_500/c.jpg",
                "d.jpg"
            ]
        );
        assert_eq!(split_category("A>B > C >", " > "), ["A", "B", "C"]);
        assert_eq!(
            parse_attributes("Taille=M, Couleur : Bleu"),
            Ok(vec![attribute("Taille", "M"), attribute("Couleur", "Bleu")])
        );
    }
}

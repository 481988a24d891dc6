//! Generated Google Merchant feeds, as large as a benchmark needs, always the
//! same for the same size.

use std::fmt::Write;

/// An RSS 2.0 Merchant feed of about `target_bytes`, with realistic items:
/// variants by `item_group_id`, HTML entities and CDATA in descriptions,
/// multibyte text, several images, sale prices and shipping weights.
/// Returns the feed and its number of items.
pub fn merchant_feed(target_bytes: usize) -> (Vec<u8>, u64) {
    let mut out = String::with_capacity(target_bytes + 4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>Grossiste Exemple</title>\n<link>https://grossiste.example</link>\n<description>Flux produits</description>\n");
    let mut items = 0u64;
    let availability = ["in_stock", "out_of_stock", "preorder", "backorder"];
    let colours = ["Rouge", "Bleu", "Vert", "Noir", "Blanc"];
    while out.len() < target_bytes {
        let i = items;
        let group = i / 5;
        let colour = colours[(i % 5) as usize];
        let _ = write!(
            out,
            "<item>\n<g:id>SKU-{i:08}</g:id>\n<title>T-shirt coton bio n°{group} – {colour}</title>\n<description><![CDATA[<p>T-shirt en coton biologique, coupe droite. Lavable à 30&nbsp;°C.</p><ul><li>Taille : M</li><li>Couleur : {colour}</li></ul>]]> Fabriqué au Portugal &amp; certifié GOTS.</description>\n<link>https://grossiste.example/produits/{i}?ref=flux&amp;utm=merchant</link>\n<g:image_link>https://cdn.grossiste.example/img/{i}/main.jpg</g:image_link>\n<g:additional_image_link>https://cdn.grossiste.example/img/{i}/2.jpg</g:additional_image_link>\n<g:additional_image_link>https://cdn.grossiste.example/img/{i}/3.jpg</g:additional_image_link>\n<g:price>{}.{:02} EUR</g:price>\n<g:sale_price>{}.{:02} EUR</g:sale_price>\n<g:availability>{}</g:availability>\n<g:brand>Maison Exemple</g:brand>\n<g:gtin>{:013}</g:gtin>\n<g:mpn>MPN-{i}</g:mpn>\n<g:product_type>Vêtements &gt; Hauts &gt; T-shirts</g:product_type>\n<g:google_product_category>Apparel &amp; Accessories &gt; Clothing &gt; Shirts &amp; Tops</g:google_product_category>\n<g:item_group_id>GRP-{group}</g:item_group_id>\n<g:color>{colour}</g:color>\n<g:size>M</g:size>\n<g:shipping_weight>0.{:03} kg</g:shipping_weight>\n</item>\n",
            10 + i % 90,
            i % 100,
            8 + i % 80,
            (i * 7) % 100,
            availability[(i % 4) as usize],
            3_000_000_000_000u64 + i,
            150 + i % 800,
        );
        items += 1;
    }
    out.push_str("</channel>\n</rss>\n");
    (out.into_bytes(), items)
}

/// A small Merchant feed whose XML declaration names `encoding`: product
/// `{prefix}{i}` is titled `titles[i]`, given as bytes of that encoding,
/// priced 12.50 EUR.
pub fn merchant_feed_in(encoding: &str, prefix: &str, titles: &[&[u8]]) -> Vec<u8> {
    let mut feed = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n\
         <rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\"><channel>"
    )
    .into_bytes();
    for (i, title) in titles.iter().enumerate() {
        feed.extend_from_slice(format!("<item><g:id>{prefix}{i}</g:id><title>").as_bytes());
        feed.extend_from_slice(title);
        feed.extend_from_slice(b"</title><g:price>12.50 EUR</g:price></item>");
    }
    feed.extend_from_slice(b"</channel></rss>");
    feed
}

/// `text` in UTF-16LE behind a byte order mark: what Excel saves as
/// "Unicode text", and what an XML writer saves as UTF-16.
pub fn utf16le_with_mark(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

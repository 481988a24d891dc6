<?php

namespace Shopbridge\Platform;

/**
 * What the library needs of VirtueMart 3 / 4; the plugin implements it
 * with VmModel orders and products, the tests with fakes.
 */
interface VirtueMartGateway
{
    /**
     * By order_number: virtuemart_order_id and order_status, or null.
     *
     * @return array|null
     */
    public function order(string $orderNumber);

    /**
     * VirtueMartModelOrders::updateStatusForOneOrder with the comment.
     */
    public function updateStatus(int $orderId, string $status, string $comment, bool $notify): void;

    /**
     * Products with this SKU: rows of virtuemart_product_id, tax_rate (percent).
     *
     * @return array[]
     */
    public function productsBySku(string $sku): array;

    /**
     * Sets what is not null: product_in_stock, product_price (VAT excluded), published.
     */
    public function updateProduct(int $productId, ?int $stock, ?float $price, ?bool $published): void;
}

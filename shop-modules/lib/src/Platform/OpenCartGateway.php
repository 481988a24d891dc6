<?php

namespace Shopbridge\Platform;

/**
 * What the library needs of OpenCart 3.0 / 4.x; the extension implements
 * it with its models, the tests with fakes.
 */
interface OpenCartGateway
{
    /**
     * model checkout/order getOrder(): order_info with order_status_id, or null.
     *
     * @return array|null
     */
    public function order(int $orderId);

    /**
     * model checkout/order addOrderHistory (3.0) / addHistory (4.x).
     */
    public function addHistory(int $orderId, int $orderStatusId, string $comment, bool $notify): void;

    /**
     * Products with this model: rows of product_id, tax_rate (percent).
     *
     * @return array[]
     */
    public function productsByModel(string $model): array;

    /**
     * Sets what is not null: quantity, price (VAT excluded), status.
     */
    public function updateProduct(int $productId, ?int $quantity, ?float $price, ?bool $status): void;
}

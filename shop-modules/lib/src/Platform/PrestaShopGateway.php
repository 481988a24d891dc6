<?php

namespace Shopbridge\Platform;

/**
 * What the library needs of PrestaShop; the module implements it with
 * Order, OrderHistory, OrderCarrier, Configuration, StockAvailable and
 * Product, the tests with fakes.
 */
interface PrestaShopGateway
{
    /**
     * The Order (id, reference, current_state), by PrestaShop reference and id when known.
     *
     * @return object|null
     */
    public function order(string $reference, ?int $id);

    /**
     * Configuration::get($key).
     *
     * @return mixed
     */
    public function configuration(string $key);

    /**
     * The order's OrderCarrier (tracking_number), or null.
     *
     * @param object $order
     * @return object|null
     */
    public function orderCarrier($order);

    /**
     * Saves the OrderCarrier's tracking number (PrestaShop emails the customer).
     *
     * @param object $order
     * @param object $orderCarrier
     */
    public function saveTracking($order, $orderCarrier): void;

    /**
     * A new OrderHistory: changeIdOrderState + addWithemail.
     *
     * @param object $order
     */
    public function changeState($order, int $stateId): void;

    /**
     * A private message on the order, for the merchant.
     *
     * @param object $order
     */
    public function addPrivateMessage($order, string $message): void;

    /**
     * The products (or combinations) with this reference: rows of
     * id_product, id_product_attribute, tax_rate (percent).
     *
     * @return array[]
     */
    public function productsByReference(string $reference): array;

    /**
     * StockAvailable::setQuantity.
     */
    public function setQuantity(int $idProduct, int $idProductAttribute, int $quantity): void;

    /**
     * The product's price, VAT excluded, and whether it is active.
     */
    public function updateProduct(int $idProduct, ?float $priceTaxExcluded, ?bool $active): void;
}

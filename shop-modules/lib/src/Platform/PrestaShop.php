<?php

namespace Shopbridge\Platform;

use Shopbridge\CatalogChange;
use Shopbridge\OrderFlow;
use Shopbridge\Payload\PrestaShop as Payload;
use Shopbridge\StatusUpdate;

/**
 * What a PrestaShop shop does with the host's events and catalog changes.
 * Order states are resolved through Configuration (PS_OS_SHIPPING…), never
 * by hard-coded ids.
 */
final class PrestaShop
{
    /** Target state of each action, by Configuration key. */
    const STATES = [
        StatusUpdate::SHIPPED => 'PS_OS_SHIPPING',
        StatusUpdate::DELIVERED => 'PS_OS_DELIVERED',
        StatusUpdate::CANCELLED => 'PS_OS_CANCELED',
    ];

    /**
     * @return bool false when the shop has no such order
     */
    public static function applyStatus(StatusUpdate $update, PrestaShopGateway $shop): bool
    {
        list($reference, $id) = Payload::parseReference($update->reference);
        $order = $shop->order($reference, $id);
        if ($order === null) {
            return false;
        }
        OrderFlow::$applyingFromHost = true;
        try {
            $tracking = $update->trackingNumbers ? $update->trackingNumbers[0] : '';
            if ($tracking !== '') {
                $carrier = $shop->orderCarrier($order);
                if ($carrier !== null && (string) $carrier->tracking_number !== $tracking) {
                    $carrier->tracking_number = $tracking;
                    $shop->saveTracking($order, $carrier);
                }
            }
            $target = self::target($update, $order, $shop);
            if ($target > 0) {
                $shop->changeState($order, $target);
            }
            if ($update->action === StatusUpdate::ATTENTION || $update->action === StatusUpdate::PARTLY_SHIPPED) {
                $shop->addPrivateMessage($order, 'Shopbridge: ' . $update->comment());
            }
        } finally {
            OrderFlow::$applyingFromHost = false;
        }
        return true;
    }

    /**
     * The state to move the order to, or 0: never backwards (a delivered
     * order is not shipped again), nothing after a cancellation, and
     * "processing" only from "payment accepted".
     *
     * @param object $order
     */
    private static function target(StatusUpdate $update, $order, PrestaShopGateway $shop): int
    {
        $current = (int) $order->current_state;
        $id = static function ($key) use ($shop) {
            return (int) $shop->configuration($key);
        };
        if ($update->action === StatusUpdate::PROCESSING) {
            $preparation = $id('PS_OS_PREPARATION');
            return $current === $id('PS_OS_PAYMENT') && $preparation > 0 ? $preparation : 0;
        }
        if (!isset(self::STATES[$update->action])) {
            return 0;
        }
        $target = $id(self::STATES[$update->action]);
        $rank = [$id('PS_OS_SHIPPING') => 1, $id('PS_OS_DELIVERED') => 2, $id('PS_OS_CANCELED') => 3];
        if ($target <= 0 || $current === $target || $current === $id('PS_OS_CANCELED')) {
            return 0;
        }
        if ($update->action !== StatusUpdate::CANCELLED && isset($rank[$current]) && $rank[$current] >= $rank[$target]) {
            return 0;
        }
        return $target;
    }

    /**
     * actionOrderStatusPostUpdate: a move to PS_OS_CANCELED cancels the
     * order at the host (when it was handed over).
     */
    public static function stateChanged(OrderFlow $flow, string $reference, int $newStateId, PrestaShopGateway $shop): string
    {
        $cancelled = (int) $shop->configuration('PS_OS_CANCELED');
        if ($cancelled > 0 && $newStateId === $cancelled) {
            return $flow->cancelled($reference, 'cancelled in the shop');
        }
        return 'skipped';
    }

    /**
     * A page of catalog changes: StockAvailable quantity, price VAT
     * excluded at the product's tax rate (base products only: a
     * combination's price is an impact), active flag.
     *
     * @param CatalogChange[] $changes
     * @return int products updated
     */
    public static function applyCatalog(array $changes, PrestaShopGateway $shop, string $currency): int
    {
        $updated = 0;
        foreach ($changes as $change) {
            foreach ($shop->productsByReference($change->sku) as $row) {
                $product = (int) $row['id_product'];
                $attribute = isset($row['id_product_attribute']) ? (int) $row['id_product_attribute'] : 0;
                $quantity = $change->quantity();
                if ($quantity !== null) {
                    $shop->setQuantity($product, $attribute, $quantity);
                }
                if ($attribute === 0) {
                    $rate = isset($row['tax_rate']) ? (float) $row['tax_rate'] : 0.0;
                    $shop->updateProduct($product, $change->priceWithoutTax($currency, $rate), $change->removed ? false : null);
                }
                $updated++;
            }
        }
        return $updated;
    }
}

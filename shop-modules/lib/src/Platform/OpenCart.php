<?php

namespace Shopbridge\Platform;

use Shopbridge\CatalogChange;
use Shopbridge\OrderFlow;
use Shopbridge\Payload\OpenCart as Payload;
use Shopbridge\StatusUpdate;

/**
 * What an OpenCart shop does with the host's events and catalog changes:
 * an order history entry (the tracking in the comment, the customer
 * notified) at the order status the merchant chose for each action.
 */
final class OpenCart
{
    /** A fresh install's statuses: Processing, Shipped, Complete, Canceled. */
    const DEFAULT_STATUSES = [
        StatusUpdate::PROCESSING => 2,
        StatusUpdate::SHIPPED => 3,
        StatusUpdate::DELIVERED => 5,
        StatusUpdate::CANCELLED => 7,
    ];

    /**
     * The order-history event's trigger for an OpenCart version (VERSION):
     * addOrderHistory on 3.0.x, addHistory on 4.0, and on 4.1 and later
     * with the method after a dot.
     */
    public static function historyTrigger(string $version): string
    {
        if (version_compare($version, '4.0.0.0', '<')) {
            return 'catalog/model/checkout/order/addOrderHistory/after';
        }
        if (version_compare($version, '4.1.0.0', '<')) {
            return 'catalog/model/checkout/order/addHistory/after';
        }
        return 'catalog/model/checkout/order.addHistory/after';
    }

    /**
     * @param array $statuses action => order_status_id (0: keep the current status)
     * @return bool false when the shop has no such order
     */
    public static function applyStatus(StatusUpdate $update, OpenCartGateway $shop, array $statuses = self::DEFAULT_STATUSES, string $prefix = 'OC-'): bool
    {
        $orderId = Payload::orderId($update->reference, $prefix);
        $order = $orderId > 0 ? $shop->order($orderId) : null;
        if ($order === null) {
            return false;
        }
        if ($update->action === null) {
            return true;
        }
        $current = (int) $order['order_status_id'];
        $target = isset($statuses[$update->action]) ? (int) $statuses[$update->action] : 0;
        $changes = $target > 0 && $target !== $current;
        $tell = in_array($update->action, [StatusUpdate::PARTLY_SHIPPED, StatusUpdate::ATTENTION], true) || $update->trackingNumbers;
        if (!$changes && !$tell) {
            return true;
        }
        $notify = $update->action !== StatusUpdate::ATTENTION && $update->action !== StatusUpdate::PROCESSING;
        OrderFlow::$applyingFromHost = true;
        try {
            $shop->addHistory($orderId, $changes ? $target : $current, $update->comment(), $notify);
        } finally {
            OrderFlow::$applyingFromHost = false;
        }
        return true;
    }

    /**
     * The order-history event (addOrderHistory / addHistory, after): the
     * order goes out on its first move to a confirmed status (processing or
     * complete), a paid status releases it, a cancel status cancels it.
     *
     * @param int[] $confirmed config_processing_status + config_complete_status
     * @param int[] $paid statuses that mean paid
     * @param int[] $cancelled statuses that mean cancelled by the shop
     * @param callable $build fn(bool $paid): array, the payload
     */
    public static function historyAdded(OrderFlow $flow, int $orderId, int $statusId, array $confirmed, array $paid, array $cancelled, callable $build, string $prefix = 'OC-'): string
    {
        $reference = $prefix . $orderId;
        $in = static function (array $list) use ($statusId) {
            return in_array($statusId, array_map('intval', $list), true);
        };
        if ($in($cancelled)) {
            return $flow->cancelled($reference, 'cancelled in the shop');
        }
        if ($in($paid)) {
            return $flow->paid($reference, $build);
        }
        if ($in($confirmed)) {
            return $flow->confirmed($reference, false, $build);
        }
        return 'skipped';
    }

    /**
     * @param CatalogChange[] $changes
     */
    public static function applyCatalog(array $changes, OpenCartGateway $shop, string $currency): int
    {
        $updated = 0;
        foreach ($changes as $change) {
            foreach ($shop->productsByModel($change->sku) as $row) {
                $rate = isset($row['tax_rate']) ? (float) $row['tax_rate'] : 0.0;
                $shop->updateProduct((int) $row['product_id'], $change->quantity(), $change->priceWithoutTax($currency, $rate), $change->removed ? false : null);
                $updated++;
            }
        }
        return $updated;
    }
}

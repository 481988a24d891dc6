<?php

namespace Shopbridge\Platform;

use Shopbridge\CatalogChange;
use Shopbridge\OrderFlow;
use Shopbridge\StatusUpdate;

/**
 * What a VirtueMart shop does with the host's events and catalog changes.
 * Status codes: P pending, U confirmed by shopper, C confirmed, X
 * cancelled, R refunded, S shipped.
 */
final class VirtueMart
{
    const DEFAULT_STATUSES = [
        StatusUpdate::SHIPPED => 'S',
        StatusUpdate::CANCELLED => 'X',
    ];
    /** Statuses that mean the order is paid. */
    const PAID = ['C', 'S'];
    /** Statuses that mean the shop cancelled it. */
    const CANCELLED = ['X', 'R'];

    /**
     * @param array $statuses action => status code ('' or absent: keep the current one)
     * @return bool false when the shop has no such order
     */
    public static function applyStatus(StatusUpdate $update, VirtueMartGateway $shop, array $statuses = self::DEFAULT_STATUSES): bool
    {
        $order = $shop->order($update->reference);
        if ($order === null) {
            return false;
        }
        if ($update->action === null) {
            return true;
        }
        $current = (string) $order['order_status'];
        $target = isset($statuses[$update->action]) ? (string) $statuses[$update->action] : '';
        if (in_array($current, ['X', 'R'], true) && $update->action !== StatusUpdate::CANCELLED) {
            $target = '';
        }
        $changes = $target !== '' && $target !== $current;
        $tell = in_array($update->action, [StatusUpdate::PARTLY_SHIPPED, StatusUpdate::ATTENTION, StatusUpdate::DELIVERED], true) || $update->trackingNumbers;
        if (!$changes && !$tell) {
            return true;
        }
        OrderFlow::$applyingFromHost = true;
        try {
            $shop->updateStatus(
                (int) $order['virtuemart_order_id'],
                $changes ? $target : $current,
                $update->comment(),
                $update->action !== StatusUpdate::ATTENTION
            );
        } finally {
            OrderFlow::$applyingFromHost = false;
        }
        return true;
    }

    /**
     * plgVmConfirmedOrder / plgVmOnUpdateOrderPayment: the order goes out
     * when confirmed (U, C; or only once paid, as the flow's mode says), a
     * paid status (C, S) releases it, X or R cancels it.
     *
     * @param callable $build fn(bool $paid): array, the payload
     */
    public static function statusChanged(OrderFlow $flow, string $orderNumber, string $status, callable $build): string
    {
        if (in_array($status, self::CANCELLED, true)) {
            return $flow->cancelled($orderNumber, 'cancelled in the shop (' . $status . ')');
        }
        if (in_array($status, self::PAID, true)) {
            return $flow->paid($orderNumber, $build);
        }
        if ($status === 'U' || $status === 'P') {
            return $flow->confirmed($orderNumber, false, $build);
        }
        return 'skipped';
    }

    /**
     * @param CatalogChange[] $changes
     */
    public static function applyCatalog(array $changes, VirtueMartGateway $shop, string $currency): int
    {
        $updated = 0;
        foreach ($changes as $change) {
            foreach ($shop->productsBySku($change->sku) as $row) {
                $rate = isset($row['tax_rate']) ? (float) $row['tax_rate'] : 0.0;
                $shop->updateProduct((int) $row['virtuemart_product_id'], $change->quantity(), $change->priceWithoutTax($currency, $rate), $change->removed ? false : null);
                $updated++;
            }
        }
        return $updated;
    }
}

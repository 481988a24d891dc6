<?php

namespace Shopbridge\Tests;

use Shopbridge\OrderFlow;
use Shopbridge\Platform\OpenCartGateway;
use Shopbridge\Platform\PrestaShopGateway;
use Shopbridge\Platform\VirtueMartGateway;

/**
 * PrestaShop as the module sees it, on a FakeState: orders (Order fields:
 * id, reference, current_state), their OrderCarrier, Configuration, products.
 */
final class FakePrestaShop implements PrestaShopGateway
{
    /** @var FakeState */
    private $state;

    public function __construct(FakeState $state)
    {
        $this->state = $state;
    }

    private function &shop(): array
    {
        return $this->state->data['prestashop'];
    }

    public function order(string $reference, ?int $id)
    {
        foreach ($this->shop()['orders'] as $row) {
            if ($row['reference'] === $reference && ($id === null || (int) $row['id'] === $id)) {
                return (object) ['id' => (int) $row['id'], 'reference' => $row['reference'], 'current_state' => (int) $row['current_state']];
            }
        }
        return null;
    }

    public function configuration(string $key)
    {
        $config = $this->shop()['configuration'];
        return isset($config[$key]) ? (string) $config[$key] : false;
    }

    public function orderCarrier($order)
    {
        $carrier = $this->shop()['orders'][(string) $order->id]['order_carrier'];
        return (object) $carrier;
    }

    public function saveTracking($order, $orderCarrier): void
    {
        $shop = &$this->shop();
        $shop['orders'][(string) $order->id]['order_carrier']['tracking_number'] = $orderCarrier->tracking_number;
        $shop['emails'][] = ['template' => 'in_transit', 'id_order' => $order->id, 'tracking' => $orderCarrier->tracking_number];
    }

    public function changeState($order, int $stateId): void
    {
        $shop = &$this->shop();
        $shop['orders'][(string) $order->id]['current_state'] = $stateId;
        $shop['orders'][(string) $order->id]['history'][] = $stateId;
        // PrestaShop fires actionOrderStatusPostUpdate here: the module must not echo it.
        $shop['orders'][(string) $order->id]['echoed'] = !OrderFlow::$applyingFromHost;
    }

    public function addPrivateMessage($order, string $message): void
    {
        $shop = &$this->shop();
        $shop['orders'][(string) $order->id]['messages'][] = $message;
    }

    public function productsByReference(string $reference): array
    {
        $products = $this->shop()['products'];
        return isset($products[$reference]) ? [$products[$reference]] : [];
    }

    public function setQuantity(int $idProduct, int $idProductAttribute, int $quantity): void
    {
        $this->product($idProduct, function (array &$p) use ($quantity) {
            $p['quantity'] = $quantity;
        }, true);
    }

    public function updateProduct(int $idProduct, ?float $priceTaxExcluded, ?bool $active): void
    {
        $this->product($idProduct, function (array &$p) use ($priceTaxExcluded, $active) {
            if ($priceTaxExcluded !== null) {
                $p['price'] = $priceTaxExcluded;
            }
            if ($active !== null) {
                $p['active'] = $active;
            }
        });
    }

    /** Changes a product; "updates" counts the StockAvailable updates (one per change applied). */
    private function product(int $id, callable $change, bool $count = false): void
    {
        $shop = &$this->shop();
        foreach ($shop['products'] as &$p) {
            if ((int) $p['id_product'] === $id) {
                $change($p);
                if ($count) {
                    $p['updates'] = (isset($p['updates']) ? $p['updates'] : 0) + 1;
                }
            }
        }
    }
}

/**
 * OpenCart: orders with order_status_id and their history; products.
 */
final class FakeOpenCart implements OpenCartGateway
{
    /** @var FakeState */
    private $state;

    public function __construct(FakeState $state)
    {
        $this->state = $state;
    }

    public function order(int $orderId)
    {
        $orders = $this->state->data['opencart']['orders'];
        return isset($orders[(string) $orderId]) ? $orders[(string) $orderId] : null;
    }

    public function addHistory(int $orderId, int $orderStatusId, string $comment, bool $notify): void
    {
        $order = &$this->state->data['opencart']['orders'][(string) $orderId];
        $order['order_status_id'] = $orderStatusId;
        $order['history'][] = ['order_status_id' => $orderStatusId, 'comment' => $comment, 'notify' => $notify, 'echoed' => !OrderFlow::$applyingFromHost];
    }

    public function productsByModel(string $model): array
    {
        $products = $this->state->data['opencart']['products'];
        return isset($products[$model]) ? [$products[$model]] : [];
    }

    public function updateProduct(int $productId, ?int $quantity, ?float $price, ?bool $status): void
    {
        foreach ($this->state->data['opencart']['products'] as &$p) {
            if ((int) $p['product_id'] === $productId) {
                if ($quantity !== null) {
                    $p['quantity'] = $quantity;
                }
                if ($price !== null) {
                    $p['price'] = $price;
                }
                if ($status !== null) {
                    $p['status'] = $status;
                }
                $p['updates'] = (isset($p['updates']) ? $p['updates'] : 0) + 1;
            }
        }
    }
}

/**
 * VirtueMart: orders by order_number with order_status and history; products.
 */
final class FakeVirtueMart implements VirtueMartGateway
{
    /** @var FakeState */
    private $state;

    public function __construct(FakeState $state)
    {
        $this->state = $state;
    }

    public function order(string $orderNumber)
    {
        $orders = $this->state->data['virtuemart']['orders'];
        return isset($orders[$orderNumber]) ? $orders[$orderNumber] : null;
    }

    public function updateStatus(int $orderId, string $status, string $comment, bool $notify): void
    {
        foreach ($this->state->data['virtuemart']['orders'] as &$order) {
            if ((int) $order['virtuemart_order_id'] === $orderId) {
                $order['order_status'] = $status;
                $order['history'][] = ['order_status_code' => $status, 'comments' => $comment, 'customer_notified' => $notify ? 1 : 0];
            }
        }
    }

    public function productsBySku(string $sku): array
    {
        $products = $this->state->data['virtuemart']['products'];
        return isset($products[$sku]) ? [$products[$sku]] : [];
    }

    public function updateProduct(int $productId, ?int $stock, ?float $price, ?bool $published): void
    {
        foreach ($this->state->data['virtuemart']['products'] as &$p) {
            if ((int) $p['virtuemart_product_id'] === $productId) {
                if ($stock !== null) {
                    $p['product_in_stock'] = $stock;
                }
                if ($price !== null) {
                    $p['product_price'] = $price;
                }
                if ($published !== null) {
                    $p['published'] = $published ? 1 : 0;
                }
                $p['updates'] = (isset($p['updates']) ? $p['updates'] : 0) + 1;
            }
        }
    }
}

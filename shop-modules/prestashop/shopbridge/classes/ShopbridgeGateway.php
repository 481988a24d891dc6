<?php
/**
 * The library's view of PrestaShop (Shopbridge\Platform\PrestaShopGateway),
 * with the platform's classes.
 */

use Shopbridge\Platform\PrestaShopGateway;

if (!defined('_PS_VERSION_')) {
    exit;
}

class ShopbridgeGateway implements PrestaShopGateway
{
    public function order(string $reference, ?int $id)
    {
        if ($id !== null) {
            $order = new Order($id);
            return Validate::isLoadedObject($order) && ($reference === '' || $order->reference === $reference) ? $order : null;
        }
        $order = Order::getByReference($reference)->getFirst();
        return $order instanceof Order ? $order : null;
    }

    public function configuration(string $key)
    {
        return Configuration::get($key);
    }

    public function orderCarrier($order)
    {
        $carrier = new OrderCarrier((int) $order->getIdOrderCarrier());
        return Validate::isLoadedObject($carrier) ? $carrier : null;
    }

    public function saveTracking($order, $orderCarrier): void
    {
        $orderCarrier->update();
        // What the back office does when a tracking number is entered: the in-transit email.
        if (method_exists($orderCarrier, 'sendInTransitEmail')) {
            $orderCarrier->sendInTransitEmail($order);
        }
        Hook::exec('actionAdminOrdersTrackingNumberUpdate', [
            'order' => $order,
            'customer' => new Customer((int) $order->id_customer),
            'carrier' => new Carrier((int) $orderCarrier->id_carrier),
        ]);
    }

    public function changeState($order, int $stateId): void
    {
        $history = new OrderHistory();
        $history->id_order = (int) $order->id;
        $history->id_employee = 0;
        $history->changeIdOrderState($stateId, $order, true);
        $history->addWithemail(true);
    }

    public function addPrivateMessage($order, string $message): void
    {
        $note = new Message();
        $note->id_order = (int) $order->id;
        $note->id_cart = (int) $order->id_cart;
        $note->id_customer = (int) $order->id_customer;
        $note->message = substr(strip_tags($message), 0, 1600);
        $note->private = 1;
        $note->add();
    }

    public function productsByReference(string $reference): array
    {
        $ref = pSQL($reference);
        $rows = Db::getInstance()->executeS(
            'SELECT id_product, 0 AS id_product_attribute FROM `' . _DB_PREFIX_ . 'product` WHERE reference = \'' . $ref . '\''
            . ' UNION SELECT id_product, id_product_attribute FROM `' . _DB_PREFIX_ . 'product_attribute` WHERE reference = \'' . $ref . '\''
        );
        $products = [];
        foreach (is_array($rows) ? $rows : [] as $row) {
            $row['tax_rate'] = (float) Tax::getProductTaxRate((int) $row['id_product']);
            $products[] = $row;
        }
        return $products;
    }

    public function setQuantity(int $idProduct, int $idProductAttribute, int $quantity): void
    {
        StockAvailable::setQuantity($idProduct, $idProductAttribute, $quantity);
    }

    public function updateProduct(int $idProduct, ?float $priceTaxExcluded, ?bool $active): void
    {
        if ($priceTaxExcluded === null && $active === null) {
            return;
        }
        $product = new Product($idProduct);
        if ($priceTaxExcluded !== null) {
            $product->price = $priceTaxExcluded;
        }
        if ($active !== null) {
            $product->active = $active;
        }
        $product->update();
    }
}

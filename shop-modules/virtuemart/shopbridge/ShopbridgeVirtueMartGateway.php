<?php
/**
 * The library's view of VirtueMart (Shopbridge\Platform\VirtueMartGateway),
 * with VmModel and the database.
 */
defined('_JEXEC') or die;

use Shopbridge\Platform\VirtueMartGateway;

class ShopbridgeVirtueMartGateway implements VirtueMartGateway
{
    private function db()
    {
        return \Joomla\CMS\Factory::getDbo();
    }

    public function order(string $orderNumber)
    {
        $model = VmModel::getModel('orders');
        $id = (int) $model->getOrderIdByOrderNumber($orderNumber);
        if ($id <= 0) {
            return null;
        }
        $order = $model->getOrder($id);
        return ['virtuemart_order_id' => $id, 'order_status' => (string) $order['details']['BT']->order_status];
    }

    public function updateStatus(int $orderId, string $status, string $comment, bool $notify): void
    {
        VmModel::getModel('orders')->updateStatusForOneOrder($orderId, [
            'order_status' => $status,
            'customer_notified' => $notify ? 1 : 0,
            'comments' => $comment,
        ], true);
    }

    public function productsBySku(string $sku): array
    {
        $db = $this->db();
        $db->setQuery('SELECT p.virtuemart_product_id, COALESCE(c.calc_value, 0) AS tax_rate FROM #__virtuemart_products p'
            . ' LEFT JOIN #__virtuemart_product_prices pp ON pp.virtuemart_product_id = p.virtuemart_product_id'
            . ' LEFT JOIN #__virtuemart_calcs c ON c.virtuemart_calc_id = pp.product_tax_id'
            . ' WHERE p.product_sku = ' . $db->quote($sku));
        $rows = (array) $db->loadAssocList();
        foreach ($rows as &$row) {
            $row['tax_rate'] = (float) $row['tax_rate'];
        }
        return $rows;
    }

    public function updateProduct(int $productId, ?int $stock, ?float $price, ?bool $published): void
    {
        $db = $this->db();
        $set = [];
        if ($stock !== null) {
            $set[] = 'product_in_stock = ' . (int) $stock;
        }
        if ($published !== null) {
            $set[] = 'published = ' . ($published ? 1 : 0);
        }
        if ($set) {
            $db->setQuery('UPDATE #__virtuemart_products SET ' . implode(', ', $set) . ' WHERE virtuemart_product_id = ' . $productId)->execute();
        }
        if ($price !== null) {
            $db->setQuery('UPDATE #__virtuemart_product_prices SET product_price = ' . (float) $price . ' WHERE virtuemart_product_id = ' . $productId)->execute();
        }
    }

    public function shopCurrency(): string
    {
        $db = $this->db();
        $db->setQuery('SELECT c.currency_code_3 FROM #__virtuemart_vendors v JOIN #__virtuemart_currencies c ON c.virtuemart_currency_id = v.vendor_currency WHERE v.virtuemart_vendor_id = 1');
        return (string) $db->loadResult();
    }
}

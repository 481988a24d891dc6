<?php

namespace Shopbridge\Tests;

/**
 * Objects shaped like each platform's (field names and types as the
 * platforms have them), and the fake shops' initial database.
 */
final class Fixtures
{
    /** PrestaShop's order states, resolved through Configuration: not the stock ids on purpose. */
    const PS_STATES = ['PS_OS_PAYMENT' => 12, 'PS_OS_PREPARATION' => 13, 'PS_OS_SHIPPING' => 14, 'PS_OS_DELIVERED' => 15, 'PS_OS_CANCELED' => 16, 'PS_OS_BANKWIRE' => 20];

    /**
     * PrestaShop 1.7 / 8: Order, Cart, Customer, delivery and invoice
     * Address, Currency, and the rows of Order::getProducts().
     */
    public static function prestashop(string $reference = 'XKBKNABJK', int $id = 7): array
    {
        $order = (object) [
            'id' => $id, 'reference' => $reference, 'id_currency' => 1, 'id_customer' => 3, 'id_cart' => 11,
            'id_carrier' => 2, 'id_address_delivery' => 5, 'id_address_invoice' => 6, 'current_state' => 12,
            'total_paid_tax_incl' => 47.97, 'total_products_wt' => 47.97, 'date_add' => '2026-11-25 11:00:00',
            'payment' => 'Carte bancaire', 'module' => 'ps_checkout', 'valid' => true,
        ];
        $cart = (object) ['id' => 11, 'id_currency' => 1, 'gift' => true, 'gift_message' => 'Joyeux anniversaire !'];
        $customer = (object) ['id' => 3, 'email' => 'jeanne@example.fr', 'firstname' => 'Jeanne', 'lastname' => 'Martin'];
        $delivery = (object) [
            'id' => 5, 'id_country' => 8, 'id_state' => 0, 'firstname' => 'Jeanne', 'lastname' => 'Martin', 'company' => '',
            'address1' => '12 rue des Lilas', 'address2' => 'Bâtiment B', 'postcode' => '75011', 'city' => 'Paris',
            'phone' => '0140000000', 'phone_mobile' => '0612345678',
        ];
        $invoice = (object) [
            'id' => 6, 'id_country' => 3, 'id_state' => 0, 'firstname' => 'Jeanne', 'lastname' => 'Martin', 'company' => 'Martin SARL',
            'address1' => '1 avenue Louise', 'address2' => '', 'postcode' => '1050', 'city' => 'Bruxelles',
            'phone' => '', 'phone_mobile' => '',
        ];
        $currency = (object) ['id' => 1, 'iso_code' => 'EUR', 'precision' => 2, 'conversion_rate' => 1.0];
        $products = [
            ['product_id' => '101', 'product_attribute_id' => '0', 'product_name' => 'Théière fonte', 'product_reference' => 'BB-1',
             'product_quantity' => '2', 'unit_price_tax_incl' => '15.990000', 'unit_price_tax_excl' => '13.325000', 'total_price_tax_incl' => '31.980000'],
            ['product_id' => '102', 'product_attribute_id' => '0', 'product_name' => 'Tasse', 'product_reference' => 'BB-2',
             'product_quantity' => '1', 'unit_price_tax_incl' => '15.990000', 'unit_price_tax_excl' => '13.325000', 'total_price_tax_incl' => '15.990000'],
        ];
        return [$order, $cart, $customer, $delivery, $invoice, $currency, $products];
    }

    /** Country::getIsoById on the fake countries. */
    public static function psCountryIso(int $id): string
    {
        $countries = [8 => 'FR', 3 => 'BE', 1 => 'DE'];
        return isset($countries[$id]) ? $countries[$id] : '';
    }

    /**
     * OpenCart 3.0: model checkout/order getOrder() and getOrderProducts()
     * (values as strings, as they come from MySQL).
     */
    public static function opencart(int $orderId = 12): array
    {
        $order = [
            'order_id' => (string) $orderId, 'invoice_prefix' => 'INV-2026-00', 'store_id' => '0', 'customer_id' => '4',
            'firstname' => 'Luc', 'lastname' => 'Bernard', 'email' => 'luc@example.fr', 'telephone' => '+33 6 11 22 33 44',
            'payment_firstname' => 'Luc', 'payment_lastname' => 'Bernard', 'payment_company' => '', 'payment_address_1' => '3 place Bellecour',
            'payment_address_2' => '', 'payment_postcode' => '69002', 'payment_city' => 'Lyon', 'payment_zone' => 'Rhône', 'payment_zone_code' => '69',
            'payment_country' => 'France', 'payment_iso_code_2' => 'FR', 'payment_iso_code_3' => 'FRA', 'payment_method' => 'Cash On Delivery',
            'shipping_firstname' => 'Luc', 'shipping_lastname' => 'Bernard', 'shipping_company' => 'Atelier Bernard', 'shipping_address_1' => '8 quai Saint-Vincent',
            'shipping_address_2' => '2e étage', 'shipping_postcode' => '69001', 'shipping_city' => 'Lyon', 'shipping_zone' => 'Rhône', 'shipping_zone_code' => '69',
            'shipping_country' => 'France', 'shipping_iso_code_2' => 'FR', 'shipping_iso_code_3' => 'FRA', 'shipping_method' => 'Flat Shipping Rate',
            'shipping_code' => 'flat.flat', 'comment' => 'Sonner deux fois', 'total' => '47.0000', 'order_status_id' => '0',
            'currency_id' => '3', 'currency_code' => 'USD', 'currency_value' => '1.10000000', 'date_added' => '2026-11-25 12:30:00',
        ];
        $products = [
            ['order_product_id' => '31', 'order_id' => (string) $orderId, 'product_id' => '203', 'name' => 'Plateau', 'model' => 'BB-3',
             'quantity' => '2', 'price' => '10.0000', 'total' => '20.0000', 'tax' => '2.0000', 'reward' => '0'],
        ];
        return [$order, $products];
    }

    /**
     * VirtueMart 3 / 4: VirtueMartModelOrders::getOrder().
     */
    public static function virtuemart(string $orderNumber = 'd5e8051', bool $withShipTo = true): array
    {
        $bt = (object) [
            'virtuemart_order_id' => 5, 'virtuemart_user_id' => 42, 'order_number' => $orderNumber, 'order_pass' => 'p_1a2b3c',
            'order_total' => '23.98000', 'order_currency' => 47, 'order_status' => 'U', 'user_currency_id' => 47, 'user_currency_rate' => '1.000000',
            'created_on' => '2026-11-25 09:15:00', 'customer_note' => '', 'address_type' => 'BT',
            'email' => 'anna@example.de', 'company' => '', 'first_name' => 'Anna', 'last_name' => 'Schmidt', 'address_1' => 'Hauptstraße 5',
            'address_2' => '', 'zip' => '10115', 'city' => 'Berlin', 'virtuemart_country_id' => 81, 'virtuemart_state_id' => 0,
            'phone_1' => '+49 30 123456', 'phone_2' => '',
        ];
        $st = (object) [
            'virtuemart_order_id' => 5, 'address_type' => 'ST', 'email' => '', 'company' => 'Schmidt GmbH', 'first_name' => 'Anna', 'last_name' => 'Schmidt',
            'address_1' => 'Lagerweg 9', 'address_2' => 'Tor 2', 'zip' => '20095', 'city' => 'Hamburg', 'virtuemart_country_id' => 81,
            'virtuemart_state_id' => 0, 'phone_1' => '', 'phone_2' => '+49 170 000000',
        ];
        $items = [
            (object) ['virtuemart_order_item_id' => 9, 'virtuemart_product_id' => 305, 'order_item_sku' => 'BB-5', 'order_item_name' => 'Sous-verre',
                'product_quantity' => 2, 'product_item_price' => '9.99000', 'product_final_price' => '11.99000', 'product_subtotal_with_tax' => '23.98000',
                'order_status' => 'U'],
        ];
        $details = ['BT' => $bt];
        if ($withShipTo) {
            $details['ST'] = $st;
        }
        return ['details' => $details, 'history' => [], 'items' => $items, 'calc_rules' => []];
    }

    public static function vmCurrencyCode(int $id): string
    {
        return $id === 47 ? 'EUR' : ($id === 144 ? 'USD' : '');
    }

    public static function vmCountryIso(int $id): string
    {
        return $id === 81 ? 'DE' : ($id === 73 ? 'FR' : '');
    }

    /**
     * The fake shops' database: orders the fixtures place, products of the catalog.
     */
    public static function shops(): array
    {
        $products = static function ($idBase, array $extra) {
            $rows = [];
            foreach (['BB-1', 'BB-2', 'BB-3', 'BB-5'] as $i => $sku) {
                $rows[$sku] = $extra + ['sku' => $sku, 'id' => $idBase + $i, 'tax_rate' => 20.0];
            }
            return $rows;
        };
        $ps = [];
        foreach ($products(101, []) as $sku => $row) {
            $ps[$sku] = ['id_product' => $row['id'], 'id_product_attribute' => 0, 'reference' => $sku, 'tax_rate' => 20.0, 'price' => 0.0, 'quantity' => 0, 'active' => true];
        }
        $oc = [];
        foreach ($products(201, []) as $sku => $row) {
            $oc[$sku] = ['product_id' => $row['id'], 'model' => $sku, 'tax_rate' => 20.0, 'price' => 0.0, 'quantity' => 0, 'status' => true];
        }
        $vm = [];
        foreach ($products(301, []) as $sku => $row) {
            $vm[$sku] = ['virtuemart_product_id' => $row['id'], 'product_sku' => $sku, 'tax_rate' => 20.0, 'product_price' => 0.0, 'product_in_stock' => 0, 'published' => 1];
        }
        return [
            'prestashop' => [
                'configuration' => self::PS_STATES,
                'orders' => ['7' => ['id' => 7, 'reference' => 'XKBKNABJK', 'current_state' => 12, 'history' => [12], 'messages' => [],
                    'order_carrier' => ['id_order_carrier' => 3, 'id_order' => 7, 'id_carrier' => 2, 'tracking_number' => '']]],
                'products' => $ps,
                'emails' => [],
            ],
            'opencart' => [
                'orders' => ['12' => ['order_id' => 12, 'order_status_id' => 2, 'history' => []]],
                'products' => $oc,
            ],
            'virtuemart' => [
                'orders' => ['d5e8051' => ['virtuemart_order_id' => 5, 'order_number' => 'd5e8051', 'order_status' => 'C', 'history' => []]],
                'products' => $vm,
            ],
        ];
    }
}

<?php

namespace Shopbridge\Payload;

use Shopbridge\Money;
use Shopbridge\Payload;

/**
 * The order document from OpenCart 3.0 / 4.x: the order_info array of
 * model checkout/order getOrder() and its order_product rows (price and
 * tax per unit, in the default currency; currency_value converts).
 */
final class OpenCart
{
    public static function reference(array $order, string $prefix = 'OC-'): string
    {
        return $prefix . (int) $order['order_id'];
    }

    /**
     * The order_id of a reference made by reference(), or 0.
     */
    public static function orderId(string $reference, string $prefix = 'OC-'): int
    {
        if ($prefix !== '' && strpos($reference, $prefix) !== 0) {
            return 0;
        }
        $id = substr($reference, strlen($prefix));
        return ctype_digit($id) ? (int) $id : 0;
    }

    /**
     * @param array $order    order_info: order_id, date_added, email, telephone, currency_code, currency_value,
     *                        shipping_firstname … shipping_iso_code_2, payment_*, shipping_method, comment
     * @param array $products rows: name, model, quantity, price, tax
     */
    public static function build(array $order, array $products, bool $paid, string $prefix = 'OC-', string $timezone = ''): array
    {
        $code = Payload::text($order['currency_code']);
        $rate = isset($order['currency_value']) && (float) $order['currency_value'] > 0 ? (float) $order['currency_value'] : 1.0;
        $lines = [];
        foreach ($products as $row) {
            $unit = ((float) $row['price'] + (isset($row['tax']) ? (float) $row['tax'] : 0.0)) * $rate;
            $lines[] = Payload::line($row['model'], $row['quantity'], Money::toMinor($unit, $code), $row['name']);
        }
        $email = Payload::text($order['email']);
        $billing = self::address($order, 'payment', $email);
        // No shipping address (only downloads): the payment address stands for it.
        $hasShipping = isset($order['shipping_firstname']) && Payload::text($order['shipping_firstname']) !== ''
            || isset($order['shipping_address_1']) && Payload::text($order['shipping_address_1']) !== '';
        $shipping = $hasShipping ? self::address($order, 'shipping', $email) : $billing;
        $method = isset($order['shipping_method']) ? $order['shipping_method'] : '';
        if (is_array($method)) { // 4.0.2+: ['name' => …, 'code' => …]
            $method = isset($method['name']) ? $method['name'] : '';
        }
        return Payload::order(self::reference($order, $prefix), $code, $paid, $shipping, $lines, [
            'placed_at' => Payload::date(isset($order['date_added']) ? $order['date_added'] : '', $timezone),
            'customer_email' => $email,
            'billing_address' => $billing,
            'shipping_method' => $method,
            'note' => isset($order['comment']) ? $order['comment'] : '',
        ]);
    }

    private static function address(array $order, string $prefix, string $email): array
    {
        $get = static function ($key) use ($order, $prefix) {
            $key = $prefix . '_' . $key;
            return isset($order[$key]) ? $order[$key] : '';
        };
        return Payload::address([
            'first_name' => $get('firstname'),
            'last_name' => $get('lastname'),
            'company' => $get('company'),
            'line1' => $get('address_1'),
            'line2' => $get('address_2'),
            'postal_code' => $get('postcode'),
            'city' => $get('city'),
            'region' => $get('zone'),
            'country_code' => $get('iso_code_2'),
            'phone' => isset($order['telephone']) ? $order['telephone'] : '',
            'email' => $email,
        ]);
    }
}

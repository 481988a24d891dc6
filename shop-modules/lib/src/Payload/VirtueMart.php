<?php

namespace Shopbridge\Payload;

use Shopbridge\Money;
use Shopbridge\Payload;

/**
 * The order document from VirtueMart 3 / 4: the array of
 * VirtueMartModelOrders::getOrder(), with details['BT'] and details['ST']
 * (address objects; ST missing when shipping to the billing address) and
 * items (order_item_sku, order_item_name, product_quantity, product_final_price).
 */
final class VirtueMart
{
    /**
     * @param array $order
     * @param callable $currencyCode id => ISO 4217 (shopFunctions::getCurrencyByID($id, 'currency_code_3'))
     * @param callable $countryIso   id => ISO 3166 alpha-2 (shopFunctions::getCountryByID($id, 'country_2_code'))
     * @param callable|null $stateName id => name
     */
    public static function build(array $order, callable $currencyCode, callable $countryIso, bool $paid, ?callable $stateName = null): array
    {
        $bt = $order['details']['BT'];
        $st = isset($order['details']['ST']) && is_object($order['details']['ST']) ? $order['details']['ST'] : $bt;
        $code = (string) call_user_func($currencyCode, (int) $bt->order_currency);
        $lines = [];
        foreach ($order['items'] as $item) {
            $lines[] = Payload::line(
                $item->order_item_sku,
                $item->product_quantity,
                Money::toMinor($item->product_final_price, $code),
                $item->order_item_name
            );
        }
        $email = Payload::text($bt->email);
        $billing = self::address($bt, $countryIso, $stateName, $email);
        $shipping = $st === $bt ? $billing : self::address($st, $countryIso, $stateName, $email);
        return Payload::order(Payload::text($bt->order_number), $code, $paid, $shipping, $lines, [
            // Joomla stores dates in UTC.
            'placed_at' => Payload::date(isset($bt->created_on) ? $bt->created_on : '', 'UTC'),
            'customer_email' => $email,
            'billing_address' => $billing,
            'note' => isset($bt->customer_note) ? $bt->customer_note : '',
        ]);
    }

    /**
     * @param object $a
     */
    private static function address($a, callable $countryIso, ?callable $stateName, string $email): array
    {
        $get = static function ($key) use ($a) {
            return isset($a->$key) ? $a->$key : '';
        };
        $region = '';
        if ($stateName !== null && (int) $get('virtuemart_state_id') > 0) {
            $region = (string) call_user_func($stateName, (int) $get('virtuemart_state_id'));
        }
        return Payload::address([
            'first_name' => $get('first_name'),
            'last_name' => $get('last_name'),
            'company' => $get('company'),
            'line1' => $get('address_1'),
            'line2' => $get('address_2'),
            'postal_code' => $get('zip'),
            'city' => $get('city'),
            'region' => $region,
            'country_code' => (string) call_user_func($countryIso, (int) $get('virtuemart_country_id')),
            'phone' => Payload::text($get('phone_2')) !== '' ? $get('phone_2') : $get('phone_1'),
            'email' => $email,
        ]);
    }
}

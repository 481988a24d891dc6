<?php

namespace Shopbridge\Payload;

use Shopbridge\Money;
use Shopbridge\Payload;

/**
 * The order document from PrestaShop 1.7 / 8 objects: Order, Cart,
 * Customer, the delivery and invoice Address, Currency and the rows of
 * Order::getProducts().
 */
final class PrestaShop
{
    /**
     * The reference sent for an order: PrestaShop's own (Order->reference),
     * suffixed with the order id when one cart made several orders (one per
     * carrier) that share it.
     *
     * @param object $order
     */
    public static function reference($order, int $ordersSharingReference = 1): string
    {
        $reference = Payload::text($order->reference);
        if ($reference === '' || $ordersSharingReference > 1) {
            return ($reference !== '' ? $reference . '-' : 'PS-') . (int) $order->id;
        }
        return $reference;
    }

    /**
     * Reverse of reference(): [PrestaShop reference, order id or null].
     *
     * @return array{0: string, 1: int|null}
     */
    public static function parseReference(string $reference): array
    {
        if (preg_match('/^(.*)-([0-9]+)$/', $reference, $m)) {
            return [$m[1] === 'PS' ? '' : $m[1], (int) $m[2]];
        }
        return [$reference, null];
    }

    /**
     * @param object $order     Order: reference, id, date_add, id_carrier
     * @param object|null $cart Cart: gift, gift_message
     * @param object $customer  Customer: email
     * @param object $delivery  Address: firstname, lastname, company, address1, address2, postcode, city, id_country, id_state, phone, phone_mobile
     * @param object $invoice   Address
     * @param object $currency  Currency: iso_code
     * @param array  $products  rows: product_reference, product_quantity, unit_price_tax_incl, product_name
     * @param callable $countryIso Country::getIsoById
     * @param callable|null $stateName State::getNameById
     * @param string $carrierName the Carrier's name
     */
    public static function build(
        $order,
        $cart,
        $customer,
        $delivery,
        $invoice,
        $currency,
        array $products,
        callable $countryIso,
        ?callable $stateName = null,
        string $carrierName = '',
        bool $paid = false,
        int $ordersSharingReference = 1
    ): array {
        $code = Payload::text($currency->iso_code);
        $lines = [];
        foreach ($products as $row) {
            $lines[] = Payload::line(
                $row['product_reference'],
                $row['product_quantity'],
                Money::toMinor($row['unit_price_tax_incl'], $code),
                isset($row['product_name']) ? $row['product_name'] : ''
            );
        }
        $email = Payload::text($customer->email);
        $shipping = self::address($delivery, $countryIso, $stateName, $email);
        $billing = self::address($invoice, $countryIso, $stateName, $email);
        $note = '';
        if ($cart !== null && !empty($cart->gift) && Payload::text($cart->gift_message) !== '') {
            $note = 'Gift message: ' . Payload::text($cart->gift_message);
        }
        return Payload::order(self::reference($order, $ordersSharingReference), $code, $paid, $shipping, $lines, [
            'placed_at' => Payload::date($order->date_add),
            'customer_email' => $email,
            'billing_address' => $billing,
            'shipping_method' => $carrierName,
            'note' => $note,
        ]);
    }

    /**
     * @param object $address
     */
    private static function address($address, callable $countryIso, ?callable $stateName, string $email): array
    {
        $region = '';
        if ($stateName !== null && !empty($address->id_state)) {
            $region = (string) call_user_func($stateName, (int) $address->id_state);
        }
        $phone = Payload::text($address->phone_mobile) !== '' ? $address->phone_mobile : $address->phone;
        return Payload::address([
            'first_name' => $address->firstname,
            'last_name' => $address->lastname,
            'company' => $address->company,
            'line1' => $address->address1,
            'line2' => $address->address2,
            'postal_code' => $address->postcode,
            'city' => $address->city,
            'region' => $region,
            'country_code' => (string) call_user_func($countryIso, (int) $address->id_country),
            'phone' => $phone,
            'email' => $email,
        ]);
    }
}

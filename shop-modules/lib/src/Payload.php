<?php

namespace Shopbridge;

/**
 * The order document the host takes (host/src/orders.rs, PostedOrder):
 * what the platform builders share.
 */
final class Payload
{
    /**
     * An address as the host takes it. Required fields are strings (empty
     * is accepted: the supplier says when it needs one); empty optional
     * fields are left out.
     */
    public static function address(array $fields): array
    {
        $address = [];
        foreach (['first_name', 'last_name', 'line1', 'postal_code', 'city', 'country_code'] as $key) {
            $address[$key] = self::text(isset($fields[$key]) ? $fields[$key] : '');
        }
        $address['country_code'] = strtoupper($address['country_code']);
        foreach (['company', 'line2', 'region', 'phone', 'email'] as $key) {
            $value = self::text(isset($fields[$key]) ? $fields[$key] : '');
            if ($value !== '') {
                $address[$key] = $value;
            }
        }
        return $address;
    }

    /**
     * One line; null when it has no SKU or no quantity (nothing to ship).
     *
     * @param mixed $sku
     * @param mixed $quantity
     * @return array|null
     */
    public static function line($sku, $quantity, int $unitPriceMinor, $name = '')
    {
        $sku = self::text($sku);
        $quantity = (int) $quantity;
        if ($sku === '' || $quantity < 1) {
            return null;
        }
        $line = ['sku' => $sku, 'quantity' => $quantity, 'unit_price' => max(0, $unitPriceMinor)];
        $name = self::text($name);
        if ($name !== '') {
            $line['name'] = $name;
        }
        return $line;
    }

    /**
     * The order, without empty optional fields.
     */
    public static function order(string $reference, string $currency, bool $paid, array $shipping, array $lines, array $optional = []): array
    {
        $order = [
            'reference' => self::text($reference),
            'currency' => strtoupper(self::text($currency)),
            'paid' => $paid,
            'shipping_address' => $shipping,
            'lines' => array_values(array_filter($lines)),
        ];
        foreach (['placed_at', 'customer_email', 'shipping_method', 'note'] as $key) {
            $value = isset($optional[$key]) ? self::text($optional[$key]) : '';
            if ($value !== '') {
                $order[$key] = $value;
            }
        }
        if (isset($optional['billing_address']) && is_array($optional['billing_address']) && $optional['billing_address'] !== $shipping) {
            $order['billing_address'] = $optional['billing_address'];
        }
        return $order;
    }

    /**
     * A platform date ("Y-m-d H:i:s" in $timezone) as RFC 3339; '' when unreadable.
     *
     * @param mixed $date
     */
    public static function date($date, string $timezone = ''): string
    {
        if (!is_string($date) || trim($date) === '' || strpos($date, '0000-00-00') === 0) {
            return '';
        }
        try {
            $zone = new \DateTimeZone($timezone !== '' ? $timezone : date_default_timezone_get());
            return (new \DateTime($date, $zone))->format(DATE_RFC3339);
        } catch (\Throwable $e) {
            return '';
        }
    }

    /**
     * Keeps the lines whose SKU starts with one of $prefixes (all when
     * none): a shop's own stock is not sent. Null when no line is left.
     *
     * @return array|null
     */
    public static function onlySkus(array $order, array $prefixes)
    {
        $prefixes = array_values(array_filter(array_map('trim', $prefixes), 'strlen'));
        $lines = [];
        foreach (isset($order['lines']) && is_array($order['lines']) ? $order['lines'] : [] as $line) {
            if (!$prefixes) {
                $lines[] = $line;
                continue;
            }
            foreach ($prefixes as $prefix) {
                if (strpos((string) $line['sku'], $prefix) === 0) {
                    $lines[] = $line;
                    break;
                }
            }
        }
        if (!$lines) {
            return null;
        }
        $order['lines'] = $lines;
        return $order;
    }

    public static function encode(array $order): string
    {
        $json = json_encode($order, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
        if ($json === false) {
            throw new \InvalidArgumentException('the order cannot be encoded: ' . json_last_error_msg());
        }
        return $json;
    }

    /**
     * @param mixed $value
     */
    public static function text($value): string
    {
        if (!is_scalar($value)) {
            return '';
        }
        return trim(preg_replace('/[\x00-\x1F\x7F]+/u', ' ', (string) $value) ?? (string) $value);
    }
}

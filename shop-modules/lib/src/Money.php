<?php

namespace Shopbridge;

/**
 * Amounts in integer minor units of their currency, as the host wants them.
 */
final class Money
{
    /** ISO 4217 currencies whose minor unit is not the hundredth. */
    const EXPONENTS = [
        'BIF' => 0, 'CLP' => 0, 'DJF' => 0, 'GNF' => 0, 'ISK' => 0, 'JPY' => 0, 'KMF' => 0, 'KRW' => 0,
        'PYG' => 0, 'RWF' => 0, 'UGX' => 0, 'UYI' => 0, 'VND' => 0, 'VUV' => 0, 'XAF' => 0, 'XOF' => 0, 'XPF' => 0,
        'BHD' => 3, 'IQD' => 3, 'JOD' => 3, 'KWD' => 3, 'LYD' => 3, 'OMR' => 3, 'TND' => 3,
    ];

    public static function exponent(string $currency): int
    {
        $currency = strtoupper($currency);
        return isset(self::EXPONENTS[$currency]) ? self::EXPONENTS[$currency] : 2;
    }

    /**
     * A decimal amount (platforms store "15.990000", 15.99…) in minor units.
     *
     * @param mixed $amount
     */
    public static function toMinor($amount, string $currency): int
    {
        $value = is_numeric($amount) ? (float) $amount : 0.0;
        return (int) round($value * (10 ** self::exponent($currency)));
    }

    /**
     * Minor units back to a decimal amount.
     */
    public static function fromMinor(int $minor, string $currency): float
    {
        $exponent = self::exponent($currency);
        return round($minor / (10 ** $exponent), $exponent);
    }

    /**
     * A price VAT included, minor units, as a decimal amount VAT excluded
     * (PrestaShop, OpenCart and VirtueMart store prices without tax).
     */
    public static function withoutTax(int $minor, string $currency, float $ratePercent): float
    {
        $gross = $minor / (10 ** self::exponent($currency));
        return round($gross / (1 + max(0.0, $ratePercent) / 100), 6);
    }
}

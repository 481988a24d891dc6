<?php

namespace Shopbridge;

/**
 * The HMAC-SHA256 scheme of the host (host/src/signature.rs), both ways:
 * hex(HMAC-SHA256(secret, "<timestamp>\n<METHOD>\n<path?query>\n<body>")).
 */
final class Signature
{
    const KEY_HEADER = 'X-Shopbridge-Key';
    const TIMESTAMP_HEADER = 'X-Shopbridge-Timestamp';
    const SIGNATURE_HEADER = 'X-Shopbridge-Signature';
    /** The host's replay window, in seconds. */
    const WINDOW = 300;

    /**
     * The hex signature of a request.
     */
    public static function sign(string $secret, int $timestamp, string $method, string $pathAndQuery, string $body): string
    {
        return hash_hmac('sha256', $timestamp . "\n" . $method . "\n" . $pathAndQuery . "\n" . $body, $secret);
    }

    /**
     * The three headers of a signed request, as "Name: value" lines.
     *
     * @return string[]
     */
    public static function headers(string $keyId, string $secret, int $timestamp, string $method, string $pathAndQuery, string $body): array
    {
        return [
            self::KEY_HEADER . ': ' . $keyId,
            self::TIMESTAMP_HEADER . ': ' . $timestamp,
            self::SIGNATURE_HEADER . ': ' . self::sign($secret, $timestamp, $method, $pathAndQuery, $body),
        ];
    }

    /**
     * Checks a timestamp (within $window seconds of $now) and a signature,
     * in constant time, as the host does.
     *
     * @param mixed $timestamp the header's value
     * @param mixed $signature the header's value
     * @return string|null null when the request is authentic, else why not
     */
    public static function check(string $secret, $timestamp, $signature, string $method, string $pathAndQuery, string $body, int $now, int $window = self::WINDOW)
    {
        if (!is_string($timestamp) || $timestamp === '') {
            return 'the ' . self::TIMESTAMP_HEADER . ' header is missing';
        }
        if (!is_string($signature) || $signature === '') {
            return 'the ' . self::SIGNATURE_HEADER . ' header is missing';
        }
        if (!preg_match('/^\s*-?[0-9]{1,18}\s*$/', $timestamp)) {
            return "the timestamp is '" . $timestamp . "', not Unix seconds";
        }
        $ts = (int) trim($timestamp);
        if (abs($now - $ts) > $window) {
            return 'the timestamp is ' . ($now - $ts) . 's away from this clock (window: ' . $window . 's)';
        }
        $expected = self::sign($secret, $ts, $method, $pathAndQuery, $body);
        if (!hash_equals($expected, strtolower(trim($signature)))) {
            return 'the signature does not match the request';
        }
        return null;
    }
}

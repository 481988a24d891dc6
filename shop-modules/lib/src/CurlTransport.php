<?php

namespace Shopbridge;

/**
 * The cURL transport, with a hard overall timeout.
 */
final class CurlTransport implements Transport
{
    public function send(string $method, string $url, array $headers, string $body, float $timeoutSeconds): Response
    {
        if (!function_exists('curl_init')) {
            return new Response(0, '', 'the PHP cURL extension is not installed');
        }
        try {
            $ch = curl_init($url);
            if ($ch === false) {
                return new Response(0, '', 'curl_init failed');
            }
            $ms = max(1, (int) round($timeoutSeconds * 1000));
            $headers[] = 'Content-Type: application/json';
            $headers[] = 'Accept: application/json';
            $headers[] = 'Expect:';
            $options = [
                CURLOPT_CUSTOMREQUEST => $method,
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_HTTPHEADER => $headers,
                CURLOPT_TIMEOUT_MS => $ms,
                CURLOPT_CONNECTTIMEOUT_MS => min($ms, 2000),
                CURLOPT_NOSIGNAL => true,
                CURLOPT_FOLLOWLOCATION => false,
                CURLOPT_USERAGENT => 'shopbridge-php/1.0',
            ];
            if ($method !== 'GET') {
                $options[CURLOPT_POSTFIELDS] = $body;
            }
            curl_setopt_array($ch, $options);
            $answer = curl_exec($ch);
            if ($answer === false) {
                $error = curl_error($ch);
                curl_close($ch);
                return new Response(0, '', $error !== '' ? $error : 'request failed');
            }
            $status = (int) curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
            curl_close($ch);
            return new Response($status, (string) $answer);
        } catch (\Throwable $e) {
            return new Response(0, '', get_class($e) . ': ' . $e->getMessage());
        }
    }
}

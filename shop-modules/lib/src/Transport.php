<?php

namespace Shopbridge;

/**
 * Sends one HTTP request. Never throws: a failure is a Response with status 0.
 */
interface Transport
{
    /**
     * @param string[] $headers "Name: value" lines
     */
    public function send(string $method, string $url, array $headers, string $body, float $timeoutSeconds): Response;
}

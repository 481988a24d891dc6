<?php

namespace Shopbridge\Tests;

use Shopbridge\Response;
use Shopbridge\Transport;

/**
 * Answers from a script and records what was sent.
 */
final class FakeTransport implements Transport
{
    /** @var array[] */
    public $sent = [];
    /** @var callable fn(string $method, string $url, string $body): Response */
    private $answer;

    public function __construct(callable $answer)
    {
        $this->answer = $answer;
    }

    public function send(string $method, string $url, array $headers, string $body, float $timeoutSeconds): Response
    {
        $this->sent[] = ['method' => $method, 'url' => $url, 'headers' => $headers, 'body' => $body, 'timeout' => $timeoutSeconds];
        return call_user_func($this->answer, $method, $url, $body);
    }
}

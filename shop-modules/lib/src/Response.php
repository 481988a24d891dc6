<?php

namespace Shopbridge;

/**
 * What the host answered, or why it could not be reached (status 0).
 */
final class Response
{
    /** @var int HTTP status; 0 when the host was not reached */
    public $status;
    /** @var string */
    public $body;
    /** @var string transport error, '' when the host answered */
    public $error;

    public function __construct(int $status, string $body = '', string $error = '')
    {
        $this->status = $status;
        $this->body = $body;
        $this->error = $error;
    }

    public function ok(): bool
    {
        return $this->status >= 200 && $this->status < 300;
    }

    /**
     * Worth trying again later: unreachable, timed out, rate limited, 5xx.
     */
    public function retryable(): bool
    {
        return $this->status === 0 || $this->status === 408 || $this->status === 429 || $this->status >= 500;
    }

    /**
     * The body as a JSON array, or null.
     *
     * @return array|null
     */
    public function json()
    {
        if ($this->body === '') {
            return null;
        }
        $decoded = json_decode($this->body, true);
        return is_array($decoded) ? $decoded : null;
    }

    /**
     * A short description for logs: the problem document's detail when there is one.
     */
    public function describe(): string
    {
        if ($this->status === 0) {
            return 'host unreachable: ' . $this->error;
        }
        $json = $this->json();
        $detail = is_array($json) && isset($json['detail']) && is_string($json['detail']) ? $json['detail'] : substr($this->body, 0, 200);
        return 'HTTP ' . $this->status . ($detail !== '' ? ': ' . $detail : '');
    }
}

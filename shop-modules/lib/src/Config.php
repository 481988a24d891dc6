<?php

namespace Shopbridge;

/**
 * Where the host is and how to sign for it.
 */
final class Config
{
    /** @var string e.g. https://bridge.example (no trailing slash) */
    public $baseUrl;
    /** @var string the shop's id on the host */
    public $shop;
    /** @var string */
    public $keyId;
    /** @var string */
    public $secret;
    /** @var float seconds a call made inside the buyer's checkout may take (at most 2) */
    public $checkoutTimeout = 2.0;
    /** @var float seconds a call made from cron may take */
    public $cronTimeout = 15.0;
    /** @var callable|null fn(): int, Unix seconds (tests) */
    public $clock;
    /** @var callable|null fn(string $level, string $message) */
    public $logger;

    public function __construct(string $baseUrl, string $shop, string $keyId, string $secret)
    {
        $this->baseUrl = rtrim(trim($baseUrl), '/');
        $this->shop = trim($shop);
        $this->keyId = trim($keyId);
        $this->secret = $secret;
    }

    /**
     * From a settings array (keys: url, shop, key_id, secret).
     */
    public static function fromArray(array $settings): self
    {
        $get = static function ($key) use ($settings) {
            return isset($settings[$key]) && is_scalar($settings[$key]) ? (string) $settings[$key] : '';
        };
        return new self($get('url'), $get('shop'), $get('key_id'), $get('secret'));
    }

    public function complete(): bool
    {
        return $this->baseUrl !== '' && $this->shop !== '' && $this->keyId !== '' && $this->secret !== '';
    }

    public function now(): int
    {
        return $this->clock !== null ? (int) call_user_func($this->clock) : time();
    }

    public function log(string $level, string $message): void
    {
        try {
            if ($this->logger !== null) {
                call_user_func($this->logger, $level, $message);
            } else {
                error_log('shopbridge ' . $level . ': ' . $message);
            }
        } catch (\Throwable $e) {
            // A logger must not break the caller.
        }
    }
}

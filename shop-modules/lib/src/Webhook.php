<?php

namespace Shopbridge;

/**
 * The module's endpoint for the host's signed webhooks: verifies the key,
 * the timestamp window and the signature over the request as received,
 * then applies the event once.
 */
final class Webhook
{
    /** @var Config */
    private $config;
    /** @var AppliedEvents|null */
    private $applied;

    public function __construct(Config $config, ?KeyValue $state = null)
    {
        $this->config = $config;
        $this->applied = $state !== null ? new AppliedEvents($state) : null;
    }

    /**
     * Lower-case request headers from $_SERVER.
     *
     * @return array<string, string>
     */
    public static function headersFromServer(array $server): array
    {
        $headers = [];
        foreach ($server as $name => $value) {
            if (is_string($name) && strpos($name, 'HTTP_') === 0 && is_scalar($value)) {
                $headers[strtolower(str_replace('_', '-', substr($name, 5)))] = (string) $value;
            }
        }
        return $headers;
    }

    /**
     * @param array<string, string> $headers any case
     * @return string|null null when authentic, else why not
     */
    public function verify(string $method, string $pathAndQuery, array $headers, string $body, ?int $now = null)
    {
        $headers = array_change_key_case($headers, CASE_LOWER);
        $get = static function ($name) use ($headers) {
            $name = strtolower($name);
            return isset($headers[$name]) ? (string) $headers[$name] : '';
        };
        if (!$this->config->complete()) {
            return 'the module is not configured';
        }
        if (!hash_equals($this->config->keyId, $get(Signature::KEY_HEADER))) {
            return 'unknown key id';
        }
        return Signature::check(
            $this->config->secret,
            $get(Signature::TIMESTAMP_HEADER),
            $get(Signature::SIGNATURE_HEADER),
            strtoupper($method),
            $pathAndQuery,
            $body,
            $now !== null ? $now : $this->config->now()
        );
    }

    /**
     * Verifies and applies one webhook. $apply gets a StatusUpdate; it
     * returns false when the shop does not know the order (answered 200:
     * retrying would not help) and throws on a transient failure (answered
     * 500: the host retries).
     *
     * @return array{0: int, 1: string} HTTP status and body to answer
     */
    public function handle(string $method, string $pathAndQuery, array $headers, string $body, callable $apply, ?int $now = null): array
    {
        try {
            if (strtoupper($method) !== 'POST') {
                return [405, '{"error":"POST only"}'];
            }
            $refused = $this->verify($method, $pathAndQuery, $headers, $body, $now);
            if ($refused !== null) {
                $this->config->log('warning', 'webhook refused: ' . $refused);
                return [401, (string) json_encode(['error' => $refused])];
            }
            $event = json_decode($body, true);
            if (!is_array($event) || !isset($event['seq'], $event['kind'])) {
                return [400, '{"error":"not an event"}'];
            }
            $update = StatusUpdate::fromEvent($event);
            if ($this->applied !== null && $this->applied->has($update->seq)) {
                return [200, '{"status":"duplicate"}'];
            }
            $known = call_user_func($apply, $update);
            if ($this->applied !== null) {
                $this->applied->add($update->seq);
            }
            return [200, (string) json_encode(['status' => $known === false ? 'unknown-order' : 'applied'])];
        } catch (\Throwable $e) {
            $this->config->log('error', 'webhook not applied: ' . $e->getMessage());
            return [500, '{"error":"not applied; retry later"}'];
        }
    }
}

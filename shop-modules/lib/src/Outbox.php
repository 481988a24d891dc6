<?php

namespace Shopbridge;

/**
 * Hands requests to the host without ever failing the caller: one short
 * try inside the checkout; if the host is unreachable or answers 5xx, the
 * request is queued as is (same body, so the host's idempotency on the
 * order reference makes a retry safe) and retry() sends it from cron.
 */
final class Outbox
{
    const SENT = 'sent';
    const QUEUED = 'queued';
    const REFUSED = 'refused';
    const FAILED = 'failed';

    /** @var Client */
    private $client;
    /** @var Queue */
    private $queue;

    public function __construct(Client $client, Queue $queue)
    {
        $this->client = $client;
        $this->queue = $queue;
    }

    public function client(): Client
    {
        return $this->client;
    }

    /**
     * Posts an order (the payload of a Payload builder).
     *
     * @return string one of SENT, QUEUED, REFUSED, FAILED
     */
    public function postOrder(array $payload): string
    {
        try {
            $body = Payload::encode($payload);
            $reference = (string) $payload['reference'];
            return $this->deliver('order', $reference, 'POST', $this->client->shopPath('/orders'), $body);
        } catch (\Throwable $e) {
            $this->client->config()->log('error', 'order not sent: ' . $e->getMessage());
            return self::FAILED;
        }
    }

    /**
     * The order is paid: the host releases what it held for payment.
     */
    public function markPaid(string $reference): string
    {
        return $this->deliver('payment', $reference, 'POST', $this->client->orderPath($reference, '/payment'), '{}');
    }

    public function cancel(string $reference, string $reason = ''): string
    {
        $body = $reason !== '' ? (string) json_encode(['reason' => $reason], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) : '{}';
        return $this->deliver('cancel', $reference, 'POST', $this->client->orderPath($reference, '/cancel'), $body);
    }

    private function deliver(string $kind, string $reference, string $method, string $path, string $body): string
    {
        $config = $this->client->config();
        $item = [
            'kind' => $kind,
            'reference' => $reference,
            'method' => $method,
            'path' => $path,
            'body' => $body,
            'attempts' => 0,
            'last_error' => '',
            'queued_at' => $config->now(),
        ];
        try {
            // Something for this order is still waiting: keep the order of requests.
            if ($this->pendingFor($reference)) {
                $this->queue->push($item);
                return self::QUEUED;
            }
            $answer = $this->client->request($method, $path, $body, min(2.0, $config->checkoutTimeout));
            $outcome = $this->outcome($kind, $answer);
            if ($outcome === self::QUEUED) {
                $item['attempts'] = 1;
                $item['last_error'] = $answer->describe();
                $this->queue->push($item);
                $config->log('warning', $kind . ' ' . $reference . ' queued for a retry: ' . $answer->describe());
            } elseif ($outcome === self::REFUSED) {
                $config->log('error', $kind . ' ' . $reference . ' refused by the host: ' . $answer->describe());
            }
            return $outcome;
        } catch (\Throwable $e) {
            $config->log('error', $kind . ' ' . $reference . ' not sent nor queued: ' . $e->getMessage());
            return self::FAILED;
        }
    }

    private function outcome(string $kind, Response $answer): string
    {
        if ($answer->ok()) {
            return self::SENT;
        }
        if ($answer->retryable()) {
            return self::QUEUED;
        }
        // The same reference with another body: the host has this order already.
        if ($kind === 'order' && $answer->status === 409) {
            return self::SENT;
        }
        return self::REFUSED;
    }

    private function pendingFor(string $reference): bool
    {
        foreach ($this->queue->all() as $item) {
            if (isset($item['reference']) && $item['reference'] === $reference) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sends what is queued, oldest first (the cron entry point). A request
     * that fails again stays, and so do the later ones of the same order.
     *
     * @return array{sent: int, refused: int, pending: int}
     */
    public function retry(int $max = 100): array
    {
        $counts = ['sent' => 0, 'refused' => 0, 'pending' => 0];
        $config = $this->client->config();
        try {
            $blocked = [];
            $done = 0;
            foreach ($this->queue->all() as $id => $item) {
                $reference = isset($item['reference']) ? (string) $item['reference'] : '';
                if ($done >= $max || isset($blocked[$reference])) {
                    $counts['pending']++;
                    continue;
                }
                $done++;
                $answer = $this->client->request((string) $item['method'], (string) $item['path'], (string) $item['body'], $config->cronTimeout);
                $outcome = $this->outcome((string) $item['kind'], $answer);
                if ($outcome === self::QUEUED) {
                    $item['attempts'] = (isset($item['attempts']) ? (int) $item['attempts'] : 0) + 1;
                    $item['last_error'] = $answer->describe();
                    $this->queue->update($id, $item);
                    $blocked[$reference] = true;
                    $counts['pending']++;
                    continue;
                }
                $this->queue->remove($id);
                if ($outcome === self::SENT) {
                    $counts['sent']++;
                } else {
                    $counts['refused']++;
                    $config->log('error', $item['kind'] . ' ' . $reference . ' refused by the host: ' . $answer->describe());
                }
            }
        } catch (\Throwable $e) {
            $config->log('error', 'retrying the queue: ' . $e->getMessage());
        }
        return $counts;
    }

    /**
     * @return array<string, array>
     */
    public function pending(): array
    {
        try {
            return $this->queue->all();
        } catch (\Throwable $e) {
            return [];
        }
    }
}

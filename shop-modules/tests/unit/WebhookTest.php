<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\Config;
use Shopbridge\FileStore;
use Shopbridge\Signature;
use Shopbridge\StatusUpdate;
use Shopbridge\Webhook;

final class WebhookTest extends TestCase
{
    const PATH = '/module/shopbridge/webhook?token=abc';

    /** @var string */
    private $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/shopbridge-webhook-' . bin2hex(random_bytes(4));
    }

    protected function tearDown(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    private function webhook(): Webhook
    {
        $config = new Config('http://h', 'boutique', 'key-1', 'webhook-secret');
        $config->logger = function () {
        };
        return new Webhook($config, new FileStore($this->dir));
    }

    /** A webhook as host/src/jobs/webhook.rs sends it. */
    private function request(int $seq, int $timestamp, string $secret = 'webhook-secret'): array
    {
        $body = json_encode(['shop' => 'boutique', 'seq' => $seq, 'kind' => 'supplier_order.status', 'order_reference' => 'XKBKNABJK',
            'data' => ['supplier_order' => 'k', 'state' => 'shipped', 'detail' => ['shipments' => [['carrier' => 'Colissimo', 'tracking_numbers' => ['6A123'], 'tracking_url' => 'https://t.example/6A123']]]],
            'created_at' => '2026-11-25T10:00:00Z']);
        $headers = [
            'X-Shopbridge-Key' => 'key-1',
            'X-Shopbridge-Timestamp' => (string) $timestamp,
            'X-Shopbridge-Signature' => Signature::sign($secret, $timestamp, 'POST', self::PATH, $body),
        ];
        return [$headers, $body];
    }

    public function testAGoodWebhookIsAppliedOnce(): void
    {
        $now = 1764460800;
        list($headers, $body) = $this->request(7, $now - 30);
        $applied = [];
        $apply = function (StatusUpdate $u) use (&$applied) {
            $applied[] = $u;
            return true;
        };
        $this->assertSame(200, $this->webhook()->handle('POST', self::PATH, $headers, $body, $apply, $now)[0]);
        $this->assertCount(1, $applied);
        $this->assertSame('XKBKNABJK', $applied[0]->reference);
        $this->assertSame(StatusUpdate::SHIPPED, $applied[0]->action);
        $this->assertSame(['6A123'], $applied[0]->trackingNumbers);
        $this->assertSame('The order has shipped. Tracking (Colissimo): 6A123 https://t.example/6A123', $applied[0]->comment());
        // Delivered again (the host retries until a 2xx): applied once.
        $again = $this->webhook()->handle('POST', self::PATH, $headers, $body, $apply, $now);
        $this->assertSame([200, '{"status":"duplicate"}'], $again);
        $this->assertCount(1, $applied);
    }

    public function testTamperedOrStaleWebhooksAreRefused(): void
    {
        $now = 1764460800;
        $never = function () {
            $this->fail('a refused webhook was applied');
        };
        list($headers, $body) = $this->request(8, $now);
        $tampered = str_replace('6A123', '6A999', $body);
        $this->assertSame(401, $this->webhook()->handle('POST', self::PATH, $headers, $tampered, $never, $now)[0]);
        $this->assertSame(401, $this->webhook()->handle('POST', '/module/shopbridge/webhook?token=abd', $headers, $body, $never, $now)[0]);
        $this->assertSame(401, $this->webhook()->handle('POST', self::PATH, ['X-Shopbridge-Key' => 'other'] + $headers, $body, $never, $now)[0]);
        $this->assertSame(401, $this->webhook()->handle('POST', self::PATH, ['X-Shopbridge-Key' => 'key-1'], $body, $never, $now)[0]);
        list($stale, $staleBody) = $this->request(9, $now - 301);
        $answer = $this->webhook()->handle('POST', self::PATH, $stale, $staleBody, $never, $now);
        $this->assertSame(401, $answer[0]);
        $this->assertStringContainsString('away', $answer[1]);
        list($wrong, $wrongBody) = $this->request(10, $now, 'another-secret');
        $this->assertSame(401, $this->webhook()->handle('POST', self::PATH, $wrong, $wrongBody, $never, $now)[0]);
        $this->assertSame(405, $this->webhook()->handle('GET', self::PATH, $headers, $body, $never, $now)[0]);
    }

    public function testAFailureToApplyAsksTheHostToRetry(): void
    {
        $now = 1764460800;
        list($headers, $body) = $this->request(11, $now);
        $answer = $this->webhook()->handle('POST', self::PATH, $headers, $body, function () {
            throw new \RuntimeException('database gone');
        }, $now);
        $this->assertSame(500, $answer[0]);
        // Not marked applied: the retry applies it.
        $calls = 0;
        $this->webhook()->handle('POST', self::PATH, $headers, $body, function () use (&$calls) {
            $calls++;
        }, $now);
        $this->assertSame(1, $calls);
        // An order the shop does not know: 200 (retrying would not help), said so.
        list($headers, $body) = $this->request(12, $now);
        $this->assertSame([200, '{"status":"unknown-order"}'], $this->webhook()->handle('POST', self::PATH, $headers, $body, function () {
            return false;
        }, $now));
    }

    public function testHeadersFromServer(): void
    {
        $this->assertSame(
            ['x-shopbridge-key' => 'k', 'x-shopbridge-timestamp' => '1', 'content-type' => 'application/json'],
            Webhook::headersFromServer(['HTTP_X_SHOPBRIDGE_KEY' => 'k', 'HTTP_X_SHOPBRIDGE_TIMESTAMP' => '1', 'HTTP_CONTENT_TYPE' => 'application/json', 'REQUEST_URI' => '/x'])
        );
    }

    public function testEventsBecomeActions(): void
    {
        $event = function ($kind, $state = '') {
            return StatusUpdate::fromEvent(['seq' => 1, 'kind' => $kind, 'order_reference' => 'R', 'data' => ['state' => $state]])->action;
        };
        $this->assertSame(StatusUpdate::PROCESSING, $event('supplier_order.submitted'));
        $this->assertSame(StatusUpdate::PROCESSING, $event('supplier_order.status', 'accepted'));
        $this->assertSame(StatusUpdate::PARTLY_SHIPPED, $event('supplier_order.status', 'partly_shipped'));
        $this->assertSame(StatusUpdate::DELIVERED, $event('supplier_order.status', 'delivered'));
        $this->assertSame(StatusUpdate::CANCELLED, $event('supplier_order.cancelled'));
        $this->assertSame(StatusUpdate::ATTENTION, $event('supplier_order.needs_attention'));
        $this->assertSame(StatusUpdate::ATTENTION, $event('supplier_order.rejected'));
        $this->assertNull($event('supplier_order.cancelling'));
        $this->assertNull($event('supplier_order.status', 'backordered'));
    }
}

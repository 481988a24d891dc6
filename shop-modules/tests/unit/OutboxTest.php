<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Response;
use Shopbridge\Tests\FakeTransport;
use Shopbridge\Tests\PhpServer;

final class OutboxTest extends TestCase
{
    /** @var string */
    private $dir;
    /** @var string[] */
    private $logs = [];

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/shopbridge-outbox-' . bin2hex(random_bytes(4));
        mkdir($this->dir);
    }

    protected function tearDown(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    private function config(string $url): Config
    {
        $config = new Config($url, 'boutique', 'unit-key', 'unit-secret');
        $config->logger = function ($level, $message) {
            $this->logs[] = $level . ': ' . $message;
        };
        $config->cronTimeout = 5.0;
        return $config;
    }

    private function order(string $reference): array
    {
        return ['reference' => $reference, 'currency' => 'EUR', 'paid' => false, 'shipping_address' => ['first_name' => 'J', 'last_name' => 'M', 'line1' => 'l', 'postal_code' => '75011', 'city' => 'Paris', 'country_code' => 'FR'],
            'lines' => [['sku' => 'BB-1', 'quantity' => 1, 'unit_price' => 100]]];
    }

    public function testAnUnreachableHostQueuesAndCronSendsItOnceTheHostIsBack(): void
    {
        $port = PhpServer::freePort(); // nothing listens there yet
        $queue = new FileQueue($this->dir . '/queue');
        $outbox = new Outbox(new Client($this->config('http://127.0.0.1:' . $port)), $queue);

        $started = microtime(true);
        $this->assertSame(Outbox::QUEUED, $outbox->postOrder($this->order('PS-1')));
        // Paid and cancelled later: queued behind the order, in order.
        $this->assertSame(Outbox::QUEUED, $outbox->markPaid('PS-1'));
        $this->assertLessThan(2.5, microtime(true) - $started, 'the checkout waited too long');
        $this->assertCount(2, $queue->all());
        $this->assertSame(['order', 'payment'], array_column(array_values($queue->all()), 'kind'));
        $this->assertStringContainsString('queued for a retry', implode("\n", $this->logs));

        // Cron while the host is still down: nothing lost, attempts counted.
        $this->assertSame(['sent' => 0, 'refused' => 0, 'pending' => 2], $outbox->retry());
        $this->assertSame(2, array_values($queue->all())[0]['attempts']);

        // The host comes back on that port.
        $log = $this->dir . '/host.json';
        $host = new PhpServer(__DIR__ . '/support/fake_host.php', ['SHOPBRIDGE_FAKE_HOST_LOG' => $log], $port);
        $this->assertSame(['sent' => 2, 'refused' => 0, 'pending' => 0], $outbox->retry());
        $this->assertSame([], $queue->all());
        $received = json_decode((string) file_get_contents($log), true);
        $this->assertSame(['/v1/shops/boutique/orders', '/v1/shops/boutique/orders/PS-1/payment'], array_column($received, 'path'));
        $this->assertSame([null, null], array_column($received, 'refused'), 'the host refused a signature');
        $this->assertSame('unit-key', $received[0]['key']);
        $this->assertSame('PS-1', json_decode($received[0]['body'], true)['reference']);

        // With the host up, the next order goes at once.
        $this->assertSame(Outbox::SENT, $outbox->postOrder($this->order('PS-2')));
        $this->assertSame([], $queue->all());
        $host->stop();
    }

    public function testA5xxIsQueuedAndA4xxIsRefusedNotQueued(): void
    {
        $status = 503;
        $transport = new FakeTransport(function () use (&$status) {
            return new Response($status, '{"detail":"because"}');
        });
        $queue = new FileQueue($this->dir . '/queue');
        $outbox = new Outbox(new Client($this->config('http://host.invalid'), $transport), $queue);
        $this->assertSame(Outbox::QUEUED, $outbox->postOrder($this->order('A')));
        $this->assertLessThanOrEqual(2.0, $transport->sent[0]['timeout']);
        $status = 422;
        $this->assertSame(Outbox::REFUSED, $outbox->postOrder($this->order('B')));
        $this->assertCount(1, $queue->all());
        $this->assertStringContainsString('HTTP 422: because', implode("\n", $this->logs));
        // A 409 on the order: the host has it already.
        $status = 409;
        $this->assertSame(Outbox::SENT, $outbox->postOrder($this->order('C')));
        // The queued one is refused at retry: dropped, logged.
        $status = 422;
        $this->assertSame(['sent' => 0, 'refused' => 1, 'pending' => 0], $outbox->retry());
        $this->assertSame([], $queue->all());
    }

    public function testNothingTheHostAnswersThrows(): void
    {
        $transport = new FakeTransport(function () {
            throw new \RuntimeException('boom');
        });
        $outbox = new Outbox(new Client($this->config('http://host.invalid'), $transport), new FileQueue($this->dir . '/queue'));
        $this->assertSame(Outbox::QUEUED, $outbox->postOrder($this->order('A')));
        $empty = new Config('', '', '', '');
        $empty->logger = $this->config('')->logger;
        $unconfigured = new Outbox(new Client($empty), new FileQueue($this->dir . '/q2'));
        $this->assertSame(Outbox::QUEUED, $unconfigured->postOrder($this->order('A')));
        // A queue that cannot be written: the checkout still gets an answer.
        touch($this->dir . '/file');
        $broken = new Outbox(new Client($this->config('http://127.0.0.1:1')), new FileQueue($this->dir . '/file/queue'));
        $this->assertSame(Outbox::FAILED, $broken->postOrder($this->order('A')));
    }

    public function testTheFlowSendsOnceAndFollowsTheMode(): void
    {
        $paths = [];
        $transport = new FakeTransport(function ($method, $url) use (&$paths) {
            $paths[] = $method . ' ' . parse_url($url, PHP_URL_PATH);
            return new Response(202, '{}');
        });
        $state = new FileStore($this->dir . '/state');
        $outbox = new Outbox(new Client($this->config('http://h'), $transport), new FileQueue($this->dir . '/queue'));
        $build = function ($paid) {
            return $this->order('R-1');
        };
        $flow = new OrderFlow($outbox, $state, OrderFlow::AT_CONFIRMATION);
        $this->assertSame(Outbox::SENT, $flow->confirmed('R-1', false, $build));
        $this->assertSame('skipped', $flow->confirmed('R-1', false, $build));
        $this->assertSame(Outbox::SENT, $flow->paid('R-1', $build));
        $this->assertSame('skipped', $flow->paid('R-1', $build));
        $this->assertSame(Outbox::SENT, $flow->cancelled('R-1', 'changed mind'));
        $this->assertSame('skipped', $flow->cancelled('R-1'));
        $this->assertSame(['POST /v1/shops/boutique/orders', 'POST /v1/shops/boutique/orders/R-1/payment', 'POST /v1/shops/boutique/orders/R-1/cancel'], $paths);
        $this->assertFalse(json_decode($transport->sent[0]['body'], true)['paid']);

        // Once paid: nothing at confirmation, the order (paid) at payment.
        $paths = [];
        $flow = new OrderFlow($outbox, new FileStore($this->dir . '/state2'), OrderFlow::ONCE_PAID, ['BB-']);
        $this->assertSame('skipped', $flow->confirmed('R-1', false, $build));
        $this->assertSame(Outbox::SENT, $flow->paid('R-1', $build));
        $this->assertSame(['POST /v1/shops/boutique/orders'], $paths);
        $this->assertTrue(json_decode(end($transport->sent)['body'], true)['paid']);

        // A status change the host itself caused is not echoed back.
        OrderFlow::$applyingFromHost = true;
        try {
            $this->assertSame('skipped', $flow->cancelled('R-1'));
        } finally {
            OrderFlow::$applyingFromHost = false;
        }
        // An order of the shop's own stock only: nothing to send.
        $own = new OrderFlow($outbox, new FileStore($this->dir . '/state3'), OrderFlow::AT_CONFIRMATION, ['ZZ-']);
        $this->assertSame('skipped', $own->confirmed('R-1', true, $build));
        // A payload builder that throws does not reach the checkout.
        $this->assertSame(Outbox::FAILED, $flow->confirmed('R-9', true, function () {
            throw new \RuntimeException('no address');
        }));
    }
}

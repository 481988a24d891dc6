<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\CatalogChange;
use Shopbridge\CatalogPuller;
use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\EventPuller;
use Shopbridge\FileStore;
use Shopbridge\Response;
use Shopbridge\StatusUpdate;
use Shopbridge\Tests\FakeTransport;

final class PullersTest extends TestCase
{
    /** @var string */
    private $dir;

    protected function setUp(): void
    {
        $this->dir = sys_get_temp_dir() . '/shopbridge-pull-' . bin2hex(random_bytes(4));
    }

    protected function tearDown(): void
    {
        exec('rm -rf ' . escapeshellarg($this->dir));
    }

    private function client(FakeTransport $transport): Client
    {
        $config = new Config('http://h', 'boutique', 'k', 's');
        $config->logger = function () {
        };
        return new Client($config, $transport);
    }

    /** A host whose catalog has changes 1..$n, served like GET …/catalog/changes?since=&limit=. */
    private function catalogHost(int $n): FakeTransport
    {
        return new FakeTransport(function ($method, $url) use ($n) {
            parse_str((string) parse_url($url, PHP_URL_QUERY), $q);
            $changes = [];
            for ($seq = (int) $q['since'] + 1; $seq <= $n && count($changes) < (int) $q['limit']; $seq++) {
                $changes[] = ['seq' => $seq, 'binding' => 'b', 'sku' => 'SKU-' . $seq, 'removed' => false, 'changed' => ['*'],
                    'shop' => ['retail_price' => ['amount_minor' => 1000 + $seq, 'currency' => 'EUR'], 'visible' => true, 'availability' => 'in_stock'],
                    'product' => ['stock_quantity' => $seq]];
            }
            return new Response(200, (string) json_encode(['changes' => $changes, 'next' => $changes ? end($changes)['seq'] : (int) $q['since']]));
        });
    }

    public function testTheCatalogIsPagedAndTheCursorStoredOnlyAfterAPageIsApplied(): void
    {
        $state = new FileStore($this->dir);
        $transport = $this->catalogHost(5);
        $puller = new CatalogPuller($this->client($transport), $state);
        $seen = [];
        $fail = true;
        // The second page fails: the first is kept, the second comes again.
        $result = $puller->pull(function (array $page) use (&$seen, &$fail) {
            if (count($seen) === 2 && $fail) {
                $fail = false;
                throw new \RuntimeException('database busy');
            }
            foreach ($page as $change) {
                $seen[] = $change->sku;
            }
        }, 2);
        $this->assertSame(['SKU-1', 'SKU-2'], $seen);
        $this->assertSame(2, $state->get(CatalogPuller::CURSOR));
        $this->assertSame(['pages' => 1, 'changes' => 2, 'cursor' => 2, 'error' => 'database busy'], $result);

        // A page the platform reports as not applied (false) is not passed either.
        $result = $puller->pull(function () {
            return false;
        }, 2);
        $this->assertSame(2, $state->get(CatalogPuller::CURSOR));
        $this->assertSame(0, $result['pages']);

        $result = $puller->pull(function (array $page) use (&$seen) {
            foreach ($page as $change) {
                $seen[] = $change->sku;
            }
        }, 2);
        $this->assertSame(['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5'], $seen, 'every change exactly once');
        $this->assertSame(['pages' => 2, 'changes' => 3, 'cursor' => 5, 'error' => ''], $result);
        $urls = array_column($transport->sent, 'url');
        $this->assertSame('http://h/v1/shops/boutique/catalog/changes?since=5&limit=2', end($urls));
    }

    public function testAnUnreachableHostLeavesTheCursor(): void
    {
        $state = new FileStore($this->dir);
        $state->set(CatalogPuller::CURSOR, 9);
        $puller = new CatalogPuller($this->client(new FakeTransport(function () {
            return new Response(0, '', 'Connection refused');
        })), $state);
        $result = $puller->pull(function () {
            $this->fail('nothing to apply');
        });
        $this->assertSame(9, $state->get(CatalogPuller::CURSOR));
        $this->assertStringContainsString('Connection refused', $result['error']);
    }

    public function testCatalogChangesBecomeQuantitiesAndPrices(): void
    {
        $change = CatalogChange::fromArray(['seq' => 3, 'sku' => 'BB-1', 'removed' => false,
            'shop' => ['retail_price' => ['amount_minor' => 1599, 'currency' => 'EUR'], 'visible' => true, 'availability' => 'in_stock'],
            'product' => ['stock_quantity' => 5, 'vat_rate_basis_points' => 2000, 'name' => 'Théière']]);
        $this->assertSame(5, $change->quantity());
        $this->assertSame(15.99, $change->price('EUR'));
        $this->assertNull($change->price('USD'));
        $this->assertSame(13.325, $change->priceWithoutTax('EUR', 20.0));
        $hidden = CatalogChange::fromArray(['sku' => 'BB-2', 'shop' => ['visible' => false, 'availability' => 'out_of_stock'], 'product' => []]);
        $this->assertSame(0, $hidden->quantity());
        $this->assertFalse($hidden->active());
        $removed = CatalogChange::fromArray(['sku' => 'BB-3', 'removed' => true, 'shop' => ['visible' => true], 'product' => ['stock_quantity' => 12]]);
        $this->assertSame(0, $removed->quantity());
        $unknown = CatalogChange::fromArray(['sku' => 'BB-4', 'shop' => ['visible' => true, 'availability' => 'backorder'], 'product' => []]);
        $this->assertNull($unknown->quantity(), 'no count from the supplier: the quantity is left alone');
    }

    public function testEventsArePulledByCursorAndAppliedOnce(): void
    {
        $events = [];
        for ($seq = 1; $seq <= 3; $seq++) {
            $events[] = ['seq' => $seq, 'kind' => 'supplier_order.status', 'order_reference' => 'R' . $seq, 'data' => ['state' => 'shipped'], 'created_at' => ''];
        }
        $transport = new FakeTransport(function ($method, $url) use ($events) {
            parse_str((string) parse_url($url, PHP_URL_QUERY), $q);
            $page = array_values(array_slice(array_filter($events, function ($e) use ($q) {
                return $e['seq'] > (int) $q['since'];
            }), 0, (int) $q['limit']));
            return new Response(200, (string) json_encode(['events' => $page, 'next' => $page ? end($page)['seq'] : (int) $q['since']]));
        });
        $state = new FileStore($this->dir);
        // Event 2 came by webhook already.
        (new \Shopbridge\AppliedEvents($state))->add(2);
        $applied = [];
        $puller = new EventPuller($this->client($transport), $state);
        $result = $puller->pull(function (StatusUpdate $u) use (&$applied) {
            $applied[] = $u->reference;
        }, 2);
        $this->assertSame(['R1', 'R3'], $applied);
        $this->assertSame(['applied' => 2, 'skipped' => 1, 'cursor' => 3, 'error' => ''], $result);
        $this->assertSame(3, $state->get(EventPuller::CURSOR));
        // Nothing new: nothing applied.
        $this->assertSame(0, $puller->pull(function () {
            $this->fail('applied twice');
        })['applied']);
    }
}

<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\CatalogChange;
use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Platform\OpenCart;
use Shopbridge\Platform\PrestaShop;
use Shopbridge\Platform\VirtueMart;
use Shopbridge\Response;
use Shopbridge\StatusUpdate;
use Shopbridge\Tests\FakeOpenCart;
use Shopbridge\Tests\FakePrestaShop;
use Shopbridge\Tests\FakeState;
use Shopbridge\Tests\FakeTransport;
use Shopbridge\Tests\FakeVirtueMart;
use Shopbridge\Tests\Fixtures;

final class PlatformTest extends TestCase
{
    private function update(string $reference, string $kind, string $state = '', array $tracking = []): StatusUpdate
    {
        $shipments = $tracking ? [['carrier' => 'Colissimo', 'tracking_numbers' => $tracking, 'tracking_url' => null]] : [];
        return StatusUpdate::fromEvent(['seq' => 1, 'kind' => $kind, 'order_reference' => $reference, 'data' => ['state' => $state, 'detail' => ['shipments' => $shipments]]]);
    }

    public function testPrestaShopStatesComeFromConfigurationAndTrackingGoesOnTheOrderCarrier(): void
    {
        $state = new FakeState(Fixtures::shops());
        $shop = new FakePrestaShop($state);
        $this->assertFalse(PrestaShop::applyStatus($this->update('NOPE', 'supplier_order.submitted'), $shop));

        // Submitted while "payment accepted": processing in progress.
        $this->assertTrue(PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.submitted'), $shop));
        $this->assertSame(Fixtures::PS_STATES['PS_OS_PREPARATION'], $state->data['prestashop']['orders']['7']['current_state']);

        $this->assertTrue(PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.status', 'shipped', ['6A123']), $shop));
        $order = $state->data['prestashop']['orders']['7'];
        $this->assertSame(Fixtures::PS_STATES['PS_OS_SHIPPING'], $order['current_state']);
        $this->assertSame('6A123', $order['order_carrier']['tracking_number']);
        $this->assertFalse($order['echoed'], 'the state change was echoed back to the host');
        $this->assertSame('in_transit', $state->data['prestashop']['emails'][0]['template']);

        // Never backwards: "accepted" after "shipped" changes nothing.
        PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.status', 'accepted'), $shop);
        $this->assertSame(Fixtures::PS_STATES['PS_OS_SHIPPING'], $state->data['prestashop']['orders']['7']['current_state']);
        PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.status', 'delivered'), $shop);
        $this->assertSame(Fixtures::PS_STATES['PS_OS_DELIVERED'], $state->data['prestashop']['orders']['7']['current_state']);
        PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.status', 'shipped', ['6A123']), $shop);
        $this->assertSame(Fixtures::PS_STATES['PS_OS_DELIVERED'], $state->data['prestashop']['orders']['7']['current_state']);
        $this->assertCount(1, $state->data['prestashop']['emails'], 'the tracking mail went twice');

        // Needs attention: a private message, no state change.
        PrestaShop::applyStatus($this->update('XKBKNABJK', 'supplier_order.needs_attention'), $shop);
        $this->assertStringContainsString('needs attention', $state->data['prestashop']['orders']['7']['messages'][0]);
        $this->assertSame([12, 13, 14, 15], $state->data['prestashop']['orders']['7']['history']);

        // By reference and id when a cart made several orders.
        $this->assertFalse(PrestaShop::applyStatus($this->update('XKBKNABJK-8', 'supplier_order.cancelled'), $shop));
        $this->assertTrue(PrestaShop::applyStatus($this->update('XKBKNABJK-7', 'supplier_order.cancelled'), $shop));
        $this->assertSame(Fixtures::PS_STATES['PS_OS_CANCELED'], $state->data['prestashop']['orders']['7']['current_state']);
    }

    public function testOpenCartAddsHistoryWithTheTrackingAndNotifies(): void
    {
        $state = new FakeState(Fixtures::shops());
        $shop = new FakeOpenCart($state);
        $this->assertFalse(OpenCart::applyStatus($this->update('OC-99', 'supplier_order.submitted'), $shop));
        // Processing already: nothing to add.
        $this->assertTrue(OpenCart::applyStatus($this->update('OC-12', 'supplier_order.submitted'), $shop));
        $this->assertSame([], $state->data['opencart']['orders']['12']['history']);
        $this->assertTrue(OpenCart::applyStatus($this->update('OC-12', 'supplier_order.status', 'shipped', ['6A123']), $shop));
        $history = $state->data['opencart']['orders']['12']['history'];
        $this->assertSame(3, $history[0]['order_status_id']);
        $this->assertTrue($history[0]['notify']);
        $this->assertStringContainsString('6A123', $history[0]['comment']);
        $this->assertFalse($history[0]['echoed']);
        // Merchant's own status ids.
        OpenCart::applyStatus($this->update('OC-12', 'supplier_order.cancelled'), $shop, [StatusUpdate::CANCELLED => 16]);
        $this->assertSame(16, $state->data['opencart']['orders']['12']['order_status_id']);
    }

    public function testOpenCartHistoryEventPerVersion(): void
    {
        $this->assertSame('catalog/model/checkout/order/addOrderHistory/after', OpenCart::historyTrigger('3.0.3.8'));
        $this->assertSame('catalog/model/checkout/order/addHistory/after', OpenCart::historyTrigger('4.0.2.3'));
        $this->assertSame('catalog/model/checkout/order.addHistory/after', OpenCart::historyTrigger('4.1.0.0'));
    }

    public function testVirtueMartUpdatesTheStatusWithTheTrackingInTheComment(): void
    {
        $state = new FakeState(Fixtures::shops());
        $shop = new FakeVirtueMart($state);
        $this->assertFalse(VirtueMart::applyStatus($this->update('nope', 'supplier_order.submitted'), $shop));
        $this->assertTrue(VirtueMart::applyStatus($this->update('d5e8051', 'supplier_order.status', 'shipped', ['6A123']), $shop));
        $order = $state->data['virtuemart']['orders']['d5e8051'];
        $this->assertSame('S', $order['order_status']);
        $this->assertStringContainsString('Tracking (Colissimo): 6A123', $order['history'][0]['comments']);
        $this->assertSame(1, $order['history'][0]['customer_notified']);
        VirtueMart::applyStatus($this->update('d5e8051', 'supplier_order.cancelled'), $shop);
        $this->assertSame('X', $state->data['virtuemart']['orders']['d5e8051']['order_status']);
        // Nothing reopens a cancelled order.
        VirtueMart::applyStatus($this->update('d5e8051', 'supplier_order.status', 'shipped', ['6A124']), $shop);
        $this->assertSame('X', $state->data['virtuemart']['orders']['d5e8051']['order_status']);
    }

    public function testCatalogPagesSetStockAndPriceWithoutTax(): void
    {
        $state = new FakeState(Fixtures::shops());
        $changes = [
            CatalogChange::fromArray(['seq' => 1, 'sku' => 'BB-1', 'shop' => ['retail_price' => ['amount_minor' => 1599, 'currency' => 'EUR'], 'visible' => true], 'product' => ['stock_quantity' => 5]]),
            CatalogChange::fromArray(['seq' => 2, 'sku' => 'BB-3', 'removed' => true, 'shop' => ['visible' => true], 'product' => ['stock_quantity' => 12]]),
            CatalogChange::fromArray(['seq' => 3, 'sku' => 'NOT-SOLD', 'shop' => ['visible' => true], 'product' => ['stock_quantity' => 1]]),
        ];
        $this->assertSame(2, PrestaShop::applyCatalog($changes, new FakePrestaShop($state), 'EUR'));
        $this->assertSame(2, OpenCart::applyCatalog($changes, new FakeOpenCart($state), 'EUR'));
        $this->assertSame(2, VirtueMart::applyCatalog($changes, new FakeVirtueMart($state), 'EUR'));
        $ps = $state->data['prestashop']['products'];
        $this->assertSame(5, $ps['BB-1']['quantity']);
        $this->assertSame(13.325, $ps['BB-1']['price']);
        $this->assertSame(0, $ps['BB-3']['quantity']);
        $this->assertFalse($ps['BB-3']['active']);
        $this->assertSame(5, $state->data['opencart']['products']['BB-1']['quantity']);
        $this->assertSame(13.325, $state->data['opencart']['products']['BB-1']['price']);
        $this->assertFalse($state->data['opencart']['products']['BB-3']['status']);
        $this->assertSame(5, $state->data['virtuemart']['products']['BB-1']['product_in_stock']);
        $this->assertSame(0, $state->data['virtuemart']['products']['BB-3']['published']);
    }

    public function testPlatformStatusChangesDriveTheFlow(): void
    {
        $dir = sys_get_temp_dir() . '/shopbridge-flow-' . bin2hex(random_bytes(4));
        $paths = [];
        $transport = new FakeTransport(function ($method, $url) use (&$paths) {
            $paths[] = parse_url($url, PHP_URL_PATH);
            return new Response(202, '{}');
        });
        $config = new Config('http://h', 'boutique', 'k', 's');
        $flow = new OrderFlow(new Outbox(new Client($config, $transport), new FileQueue($dir . '/q')), new FileStore($dir . '/s'));
        list($order, $products) = Fixtures::opencart(12);
        $build = function ($paid) use ($order, $products) {
            return \Shopbridge\Payload\OpenCart::build($order, $products, $paid);
        };
        // OpenCart: pending (1) is a confirmed status → sent once; processing (2) paid → payment; canceled (7) → cancel.
        $confirmed = [1, 2, 3, 5];
        $paid = [2, 3, 5];
        $cancelled = [7];
        $this->assertSame('skipped', OpenCart::historyAdded($flow, 12, 0, $confirmed, $paid, $cancelled, $build));
        $this->assertSame('sent', OpenCart::historyAdded($flow, 12, 1, $confirmed, $paid, $cancelled, $build));
        $this->assertSame('skipped', OpenCart::historyAdded($flow, 12, 1, $confirmed, $paid, $cancelled, $build));
        $this->assertSame('sent', OpenCart::historyAdded($flow, 12, 2, $confirmed, $paid, $cancelled, $build));
        $this->assertSame('sent', OpenCart::historyAdded($flow, 12, 7, $confirmed, $paid, $cancelled, $build));
        $this->assertSame(['/v1/shops/boutique/orders', '/v1/shops/boutique/orders/OC-12/payment', '/v1/shops/boutique/orders/OC-12/cancel'], $paths);

        // VirtueMart: confirmed with C (paid) → sent paid; X → cancel.
        $paths = [];
        $vmBuild = function ($paid) {
            return \Shopbridge\Payload\VirtueMart::build(Fixtures::virtuemart('d5e8051'), [Fixtures::class, 'vmCurrencyCode'], [Fixtures::class, 'vmCountryIso'], $paid);
        };
        $this->assertSame('sent', VirtueMart::statusChanged($flow, 'd5e8051', 'C', $vmBuild));
        $this->assertTrue(json_decode(end($transport->sent)['body'], true)['paid']);
        $this->assertSame('skipped', VirtueMart::statusChanged($flow, 'd5e8051', 'S', $vmBuild));
        $this->assertSame('sent', VirtueMart::statusChanged($flow, 'd5e8051', 'X', $vmBuild));
        $this->assertSame(['/v1/shops/boutique/orders', '/v1/shops/boutique/orders/d5e8051/cancel'], $paths);

        // PrestaShop: a move to PS_OS_CANCELED (by Configuration) cancels.
        $paths = [];
        $ps = new FakePrestaShop(new FakeState(Fixtures::shops()));
        $flow->confirmed('XKBKNABJK', true, function ($paid) {
            list($o, $c, $cu, $d, $i, $cur, $p) = Fixtures::prestashop();
            return \Shopbridge\Payload\PrestaShop::build($o, $c, $cu, $d, $i, $cur, $p, [Fixtures::class, 'psCountryIso'], null, '', $paid);
        });
        $this->assertSame('skipped', PrestaShop::stateChanged($flow, 'XKBKNABJK', Fixtures::PS_STATES['PS_OS_SHIPPING'], $ps));
        $this->assertSame('sent', PrestaShop::stateChanged($flow, 'XKBKNABJK', Fixtures::PS_STATES['PS_OS_CANCELED'], $ps));
        $this->assertSame(['/v1/shops/boutique/orders', '/v1/shops/boutique/orders/XKBKNABJK/cancel'], $paths);
        exec('rm -rf ' . escapeshellarg($dir));
    }
}

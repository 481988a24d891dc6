<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\Money;
use Shopbridge\Payload;
use Shopbridge\Payload\OpenCart;
use Shopbridge\Payload\PrestaShop;
use Shopbridge\Payload\VirtueMart;
use Shopbridge\Tests\Fixtures;

final class PayloadTest extends TestCase
{
    /** Only the fields the host's PostedOrder knows (it denies unknown ones). */
    private function assertHostShape(array $order): void
    {
        $this->assertSame([], array_diff(array_keys($order), ['reference', 'placed_at', 'currency', 'paid', 'customer_email', 'shipping_address', 'billing_address', 'lines', 'shipping_method', 'note']));
        foreach (['shipping_address', 'billing_address'] as $key) {
            if (isset($order[$key])) {
                $this->assertSame([], array_diff(array_keys($order[$key]), ['first_name', 'last_name', 'company', 'line1', 'line2', 'postal_code', 'city', 'region', 'country_code', 'phone', 'email']));
                foreach (['first_name', 'last_name', 'line1', 'postal_code', 'city', 'country_code'] as $required) {
                    $this->assertIsString($order[$key][$required]);
                }
            }
        }
        foreach ($order['lines'] as $line) {
            $this->assertSame([], array_diff(array_keys($line), ['sku', 'quantity', 'unit_price', 'name']));
            $this->assertIsInt($line['quantity']);
            $this->assertIsInt($line['unit_price']);
        }
        $this->assertNotFalse(json_encode($order));
    }

    public function testPrestaShop(): void
    {
        date_default_timezone_set('Europe/Paris');
        list($order, $cart, $customer, $delivery, $invoice, $currency, $products) = Fixtures::prestashop();
        $payload = PrestaShop::build($order, $cart, $customer, $delivery, $invoice, $currency, $products, [Fixtures::class, 'psCountryIso'], null, 'Colissimo', true);
        $this->assertHostShape($payload);
        $this->assertSame('XKBKNABJK', $payload['reference']);
        $this->assertSame('EUR', $payload['currency']);
        $this->assertTrue($payload['paid']);
        $this->assertSame('2026-11-25T11:00:00+01:00', $payload['placed_at']);
        $this->assertSame('jeanne@example.fr', $payload['customer_email']);
        $this->assertSame([
            'first_name' => 'Jeanne', 'last_name' => 'Martin', 'line1' => '12 rue des Lilas', 'postal_code' => '75011', 'city' => 'Paris',
            'country_code' => 'FR', 'line2' => 'Bâtiment B', 'phone' => '0612345678', 'email' => 'jeanne@example.fr',
        ], $payload['shipping_address']);
        $this->assertSame('BE', $payload['billing_address']['country_code']);
        $this->assertSame('Martin SARL', $payload['billing_address']['company']);
        $this->assertSame([
            ['sku' => 'BB-1', 'quantity' => 2, 'unit_price' => 1599, 'name' => 'Théière fonte'],
            ['sku' => 'BB-2', 'quantity' => 1, 'unit_price' => 1599, 'name' => 'Tasse'],
        ], $payload['lines']);
        $this->assertSame('Colissimo', $payload['shipping_method']);
        $this->assertSame('Gift message: Joyeux anniversaire !', $payload['note']);
    }

    public function testPrestaShopReferenceSharedByACartsOrders(): void
    {
        list($order) = Fixtures::prestashop('XKBKNABJK', 7);
        $this->assertSame('XKBKNABJK', PrestaShop::reference($order, 1));
        $this->assertSame('XKBKNABJK-7', PrestaShop::reference($order, 2));
        $this->assertSame(['XKBKNABJK', 7], PrestaShop::parseReference('XKBKNABJK-7'));
        $this->assertSame(['XKBKNABJK', null], PrestaShop::parseReference('XKBKNABJK'));
    }

    public function testOpenCart(): void
    {
        list($order, $products) = Fixtures::opencart(12);
        $payload = OpenCart::build($order, $products, false, 'OC-', 'Europe/Paris');
        $this->assertHostShape($payload);
        $this->assertSame('OC-12', $payload['reference']);
        $this->assertSame(12, OpenCart::orderId('OC-12'));
        $this->assertSame(0, OpenCart::orderId('XKBKNABJK'));
        $this->assertSame('USD', $payload['currency']);
        $this->assertFalse($payload['paid']);
        // (10.00 + 2.00 tax) × 1.10 in the order's currency.
        $this->assertSame([['sku' => 'BB-3', 'quantity' => 2, 'unit_price' => 1320, 'name' => 'Plateau']], $payload['lines']);
        $this->assertSame('8 quai Saint-Vincent', $payload['shipping_address']['line1']);
        $this->assertSame('2e étage', $payload['shipping_address']['line2']);
        $this->assertSame('Atelier Bernard', $payload['shipping_address']['company']);
        $this->assertSame('69001', $payload['shipping_address']['postal_code']);
        $this->assertSame('FR', $payload['shipping_address']['country_code']);
        $this->assertSame('Rhône', $payload['shipping_address']['region']);
        $this->assertSame('3 place Bellecour', $payload['billing_address']['line1']);
        $this->assertSame('Flat Shipping Rate', $payload['shipping_method']);
        $this->assertSame('Sonner deux fois', $payload['note']);
        $this->assertSame('2026-11-25T12:30:00+01:00', $payload['placed_at']);

        // 4.0.2+: shipping_method is an array; a download-only order has no shipping address.
        $order['shipping_method'] = ['name' => 'Flat Shipping Rate', 'code' => 'flat.flat'];
        foreach (array_keys($order) as $key) {
            if (strpos($key, 'shipping_') === 0 && $key !== 'shipping_method') {
                $order[$key] = '';
            }
        }
        $payload = OpenCart::build($order, $products, true);
        $this->assertSame('Flat Shipping Rate', $payload['shipping_method']);
        $this->assertSame('3 place Bellecour', $payload['shipping_address']['line1']);
        $this->assertArrayNotHasKey('billing_address', $payload);
    }

    public function testVirtueMart(): void
    {
        $order = Fixtures::virtuemart('d5e8051');
        $payload = VirtueMart::build($order, [Fixtures::class, 'vmCurrencyCode'], [Fixtures::class, 'vmCountryIso'], false);
        $this->assertHostShape($payload);
        $this->assertSame('d5e8051', $payload['reference']);
        $this->assertSame('EUR', $payload['currency']);
        $this->assertSame('2026-11-25T09:15:00+00:00', $payload['placed_at']);
        $this->assertSame('anna@example.de', $payload['customer_email']);
        $this->assertSame('Lagerweg 9', $payload['shipping_address']['line1']);
        $this->assertSame('Hamburg', $payload['shipping_address']['city']);
        $this->assertSame('DE', $payload['shipping_address']['country_code']);
        $this->assertSame('+49 170 000000', $payload['shipping_address']['phone']);
        $this->assertSame('Hauptstraße 5', $payload['billing_address']['line1']);
        $this->assertSame([['sku' => 'BB-5', 'quantity' => 2, 'unit_price' => 1199, 'name' => 'Sous-verre']], $payload['lines']);

        // No ST: shipped to the billing address.
        $payload = VirtueMart::build(Fixtures::virtuemart('d5e8052', false), [Fixtures::class, 'vmCurrencyCode'], [Fixtures::class, 'vmCountryIso'], true);
        $this->assertSame('Hauptstraße 5', $payload['shipping_address']['line1']);
        $this->assertArrayNotHasKey('billing_address', $payload);
    }

    public function testMoneyAndLines(): void
    {
        $this->assertSame(1599, Money::toMinor('15.990000', 'EUR'));
        $this->assertSame(1599, Money::toMinor(15.99, 'EUR'));
        $this->assertSame(1500, Money::toMinor('1500.000000', 'JPY'));
        $this->assertSame(1234, Money::toMinor('1.234', 'KWD'));
        $this->assertSame(0, Money::toMinor('n/a', 'EUR'));
        $this->assertSame(13.325, Money::withoutTax(1599, 'EUR', 20.0));
        $this->assertNull(Payload::line('', 2, 100));
        $this->assertNull(Payload::line('BB-1', 0, 100));
        $this->assertSame(['sku' => 'BB-1', 'quantity' => 1, 'unit_price' => 0], Payload::line(" BB-1\n", '1', -5));
    }

    public function testLinesOfTheShopsOwnStockAreNotSent(): void
    {
        $order = ['reference' => 'R', 'lines' => [['sku' => 'BB-1'], ['sku' => 'OWN-7'], ['sku' => 'XX-2']]];
        $this->assertSame([['sku' => 'BB-1'], ['sku' => 'XX-2']], Payload::onlySkus($order, ['BB-', 'XX-'])['lines']);
        $this->assertCount(3, Payload::onlySkus($order, [])['lines']);
        $this->assertNull(Payload::onlySkus($order, ['ZZ-']));
    }
}

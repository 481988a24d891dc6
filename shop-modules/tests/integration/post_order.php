<?php
/**
 * php post_order.php prestashop|opencart|virtuemart
 *
 * Places the platform's fixture order the way its module's hook does, and
 * prints {"outcome": …, "reference": …, "queued": n}.
 */
require __DIR__ . '/common.php';

use Shopbridge\Payload\OpenCart as OpenCartPayload;
use Shopbridge\Payload\PrestaShop as PrestaShopPayload;
use Shopbridge\Payload\VirtueMart as VirtueMartPayload;
use Shopbridge\Platform\OpenCart;
use Shopbridge\Platform\VirtueMart;
use Shopbridge\Tests\Fixtures;

$platform = isset($argv[1]) ? $argv[1] : '';
$flow = flow($platform);
switch ($platform) {
    case 'prestashop':
        // hookActionValidateOrder, the order state being "payment accepted" (paid).
        list($order, $cart, $customer, $delivery, $invoice, $currency, $products) = Fixtures::prestashop();
        $reference = PrestaShopPayload::reference($order);
        $outcome = $flow->confirmed($reference, true, function ($paid) use ($order, $cart, $customer, $delivery, $invoice, $currency, $products) {
            return PrestaShopPayload::build($order, $cart, $customer, $delivery, $invoice, $currency, $products, [Fixtures::class, 'psCountryIso'], null, 'Colissimo', $paid);
        });
        break;
    case 'opencart':
        // The order-history event: the order's first move, to Processing (2).
        list($order, $products) = Fixtures::opencart(12);
        $reference = 'OC-12';
        $outcome = OpenCart::historyAdded($flow, 12, 2, [1, 2, 3, 5], [2, 3, 5, 15], [7], function ($paid) use ($order, $products) {
            return OpenCartPayload::build($order, $products, $paid);
        });
        break;
    case 'virtuemart':
        // plgVmConfirmedOrder with the order confirmed (C).
        $reference = 'd5e8051';
        $outcome = VirtueMart::statusChanged($flow, $reference, 'C', function ($paid) {
            return VirtueMartPayload::build(Fixtures::virtuemart('d5e8051'), [Fixtures::class, 'vmCurrencyCode'], [Fixtures::class, 'vmCountryIso'], $paid);
        });
        break;
    default:
        fwrite(STDERR, "usage: php post_order.php prestashop|opencart|virtuemart\n");
        exit(2);
}
answer(['outcome' => $outcome, 'reference' => $reference, 'queued' => count(outbox($platform)->pending())]);

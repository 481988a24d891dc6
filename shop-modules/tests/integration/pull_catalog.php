<?php
/**
 * php pull_catalog.php LIMIT: the catalog cron, applying each page to the
 * three fake platforms; prints the result and the SKUs of each page.
 */
require __DIR__ . '/common.php';

use Shopbridge\CatalogPuller;
use Shopbridge\FileStore;
use Shopbridge\Platform\OpenCart;
use Shopbridge\Platform\PrestaShop;
use Shopbridge\Platform\VirtueMart;
use Shopbridge\Tests\FakeOpenCart;
use Shopbridge\Tests\FakePrestaShop;
use Shopbridge\Tests\FakeState;
use Shopbridge\Tests\FakeVirtueMart;

$pages = [];
$result = (new CatalogPuller(new Shopbridge\Client(config()), new FileStore(state_dir() . '/catalog')))->pull(function (array $changes) use (&$pages) {
    FakeState::transaction(shops_file(), function (FakeState $state) use ($changes) {
        PrestaShop::applyCatalog($changes, new FakePrestaShop($state), 'EUR');
        OpenCart::applyCatalog($changes, new FakeOpenCart($state), 'EUR');
        VirtueMart::applyCatalog($changes, new FakeVirtueMart($state), 'EUR');
    });
    $pages[] = array_map(function ($c) {
        return ['sku' => $c->sku, 'removed' => $c->removed];
    }, $changes);
}, isset($argv[1]) ? (int) $argv[1] : 200);
answer(['result' => $result, 'pages' => $pages]);

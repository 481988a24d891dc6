<?php
/**
 * What the integration scripts share: the library, the fake platforms
 * (persisted in $SHOPBRIDGE_STATE_DIR/shops.json, which the Rust test
 * reads), and the module's settings from the environment:
 * SHOPBRIDGE_URL, SHOPBRIDGE_SHOP, SHOPBRIDGE_KEY_ID, SHOPBRIDGE_SECRET.
 */
require_once __DIR__ . '/../fakes/bootstrap.php';

use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Platform\OpenCart;
use Shopbridge\Platform\PrestaShop;
use Shopbridge\Platform\VirtueMart;
use Shopbridge\StatusUpdate;
use Shopbridge\Tests\FakeOpenCart;
use Shopbridge\Tests\FakePrestaShop;
use Shopbridge\Tests\FakeState;
use Shopbridge\Tests\FakeVirtueMart;

function env(string $name): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        fwrite(STDERR, "$name is not set\n");
        exit(2);
    }
    return $value;
}

function state_dir(): string
{
    return env('SHOPBRIDGE_STATE_DIR');
}

function shops_file(): string
{
    return state_dir() . '/shops.json';
}

function config(): Config
{
    $config = new Config(env('SHOPBRIDGE_URL'), env('SHOPBRIDGE_SHOP'), env('SHOPBRIDGE_KEY_ID'), env('SHOPBRIDGE_SECRET'));
    $config->logger = function ($level, $message) {
        fwrite(STDERR, "shopbridge $level: $message\n");
    };
    return $config;
}

/** A module installation of $platform: its own queue and state, as on a real shop. */
function flow(string $platform): OrderFlow
{
    $dir = state_dir() . '/' . $platform;
    return new OrderFlow(new Outbox(new Client(config()), new FileQueue($dir . '/queue')), new FileStore($dir . '/state'));
}

function outbox(string $platform): Outbox
{
    return new Outbox(new Client(config()), new FileQueue(state_dir() . '/' . $platform . '/queue'));
}

/**
 * Applies an event to whichever fake shop has the order (one host shop
 * stands for the three platforms here); false when none has it.
 */
function apply_everywhere(StatusUpdate $update): bool
{
    return FakeState::transaction(shops_file(), function (FakeState $state) use ($update) {
        $state->data['applied'][] = ['seq' => $update->seq, 'reference' => $update->reference, 'action' => $update->action];
        return PrestaShop::applyStatus($update, new FakePrestaShop($state))
            || OpenCart::applyStatus($update, new FakeOpenCart($state))
            || VirtueMart::applyStatus($update, new FakeVirtueMart($state));
    });
}

function answer(array $result): void
{
    echo json_encode($result), "\n";
}

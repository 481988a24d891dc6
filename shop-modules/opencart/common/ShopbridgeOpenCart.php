<?php
/**
 * What the OpenCart 3.0 and 4.x controllers share: settings, the order flow,
 * the webhook, the cron entry points, and the library's view of OpenCart
 * (Shopbridge\Platform\OpenCartGateway). The controllers pass in the
 * platform objects and model calls that differ between versions.
 */

use Shopbridge\CatalogPuller;
use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\EventPuller;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Payload\OpenCart as OpenCartPayload;
use Shopbridge\Platform\OpenCart as OpenCartPlatform;
use Shopbridge\Platform\OpenCartGateway;
use Shopbridge\StatusUpdate;
use Shopbridge\Webhook;

require_once __DIR__ . '/shopbridge/autoload.php';

final class ShopbridgeOpenCart implements OpenCartGateway
{
    /** @var object OpenCart's Config */
    private $settings;
    /** @var object OpenCart's DB */
    private $db;
    /** @var object|null OpenCart's Tax */
    private $tax;
    /** @var object|null OpenCart's Log */
    private $log;
    /** @var callable fn(int): array|false, model checkout/order getOrder */
    private $getOrder;
    /** @var callable fn(int): array, the order's products */
    private $getProducts;
    /** @var callable fn(int, int, string, bool), addOrderHistory / addHistory */
    private $addHistory;

    public function __construct($settings, $db, $tax, $log, callable $getOrder, callable $getProducts, callable $addHistory)
    {
        $this->settings = $settings;
        $this->db = $db;
        $this->tax = $tax;
        $this->log = $log;
        $this->getOrder = $getOrder;
        $this->getProducts = $getProducts;
        $this->addHistory = $addHistory;
    }

    private function setting(string $key, $default = '')
    {
        $value = $this->settings->get('module_shopbridge_' . $key);
        return $value === null || $value === '' ? $default : $value;
    }

    private function ids(string $key, array $default): array
    {
        $value = $this->setting($key, $default);
        return array_map('intval', is_array($value) ? $value : explode(',', (string) $value));
    }

    public function config(): Config
    {
        $config = new Config((string) $this->setting('url'), (string) $this->setting('shop'), (string) $this->setting('key_id'), (string) $this->setting('secret'));
        $log = $this->log;
        $config->logger = function ($level, $message) use ($log) {
            if ($log !== null) {
                $log->write('Shopbridge ' . $level . ': ' . $message);
            }
        };
        return $config;
    }

    public function client(): Client
    {
        return new Client($this->config());
    }

    public function state(): FileStore
    {
        return new FileStore(DIR_STORAGE . 'shopbridge/state');
    }

    public function outbox(): Outbox
    {
        return new Outbox($this->client(), new FileQueue(DIR_STORAGE . 'shopbridge/queue'));
    }

    public function prefix(): string
    {
        return (string) $this->setting('reference_prefix', 'OC-');
    }

    public function flow(): OrderFlow
    {
        $prefixes = array_filter(array_map('trim', explode(',', (string) $this->setting('sku_prefixes'))));
        return new OrderFlow($this->outbox(), $this->state(), (string) $this->setting('trigger', OrderFlow::AT_CONFIRMATION), $prefixes);
    }

    /**
     * The order-history event (after): never throws into the checkout.
     */
    public function historyAdded(int $orderId, int $statusId): string
    {
        try {
            if (!$this->setting('status', 0)) {
                return 'skipped';
            }
            $confirmed = array_merge((array) $this->settings->get('config_processing_status'), (array) $this->settings->get('config_complete_status'));
            $getOrder = $this->getOrder;
            $getProducts = $this->getProducts;
            $prefix = $this->prefix();
            return OpenCartPlatform::historyAdded(
                $this->flow(),
                $orderId,
                $statusId,
                $confirmed,
                $this->ids('paid_statuses', [2, 3, 5, 15]),
                $this->ids('cancel_statuses', [7, 8, 16]),
                function ($paid) use ($orderId, $getOrder, $getProducts, $prefix) {
                    return OpenCartPayload::build((array) $getOrder($orderId), (array) $getProducts($orderId), $paid, $prefix);
                },
                $prefix
            );
        } catch (\Throwable $e) {
            $this->config()->log('error', 'order ' . $orderId . ': ' . $e->getMessage());
            return 'failed';
        }
    }

    public function statuses(): array
    {
        return [
            StatusUpdate::PROCESSING => (int) $this->setting('processing_status_id', 0),
            StatusUpdate::SHIPPED => (int) $this->setting('shipped_status_id', 3),
            StatusUpdate::DELIVERED => (int) $this->setting('delivered_status_id', 5),
            StatusUpdate::CANCELLED => (int) $this->setting('cancelled_status_id', 7),
        ];
    }

    public function apply(StatusUpdate $update): bool
    {
        return OpenCartPlatform::applyStatus($update, $this, $this->statuses(), $this->prefix());
    }

    /**
     * The webhook endpoint: answers and returns [status, body].
     */
    public function webhook(): array
    {
        return (new Webhook($this->config(), $this->state()))->handle(
            $_SERVER['REQUEST_METHOD'],
            $_SERVER['REQUEST_URI'],
            Webhook::headersFromServer($_SERVER),
            (string) file_get_contents('php://input'),
            [$this, 'apply']
        );
    }

    public function cronAllowed(string $token): bool
    {
        $expected = (string) $this->setting('cron_token');
        return $expected !== '' && hash_equals($expected, $token);
    }

    public function retry(): array
    {
        return $this->outbox()->retry();
    }

    public function pullEvents(): array
    {
        return (new EventPuller($this->client(), $this->state()))->pull([$this, 'apply']);
    }

    public function pullCatalog(): array
    {
        $currency = (string) $this->settings->get('config_currency');
        return (new CatalogPuller($this->client(), $this->state()))->pull(function (array $changes) use ($currency) {
            OpenCartPlatform::applyCatalog($changes, $this, $currency);
        });
    }

    // ---- OpenCartGateway ----

    public function order(int $orderId)
    {
        $order = call_user_func($this->getOrder, $orderId);
        return is_array($order) && $order ? $order : null;
    }

    public function addHistory(int $orderId, int $orderStatusId, string $comment, bool $notify): void
    {
        call_user_func($this->addHistory, $orderId, $orderStatusId, $comment, $notify);
    }

    public function productsByModel(string $model): array
    {
        $query = $this->db->query("SELECT product_id, tax_class_id FROM `" . DB_PREFIX . "product` WHERE model = '" . $this->db->escape($model) . "'");
        $rows = [];
        foreach ($query->rows as $row) {
            $rate = 0.0;
            if ($this->tax !== null) {
                foreach ((array) $this->tax->getRates(100.0, (int) $row['tax_class_id']) as $tax) {
                    if (isset($tax['type']) && $tax['type'] === 'P') {
                        $rate += (float) $tax['rate'];
                    }
                }
            }
            $rows[] = ['product_id' => (int) $row['product_id'], 'tax_rate' => $rate];
        }
        return $rows;
    }

    public function updateProduct(int $productId, ?int $quantity, ?float $price, ?bool $status): void
    {
        $set = [];
        if ($quantity !== null) {
            $set[] = "quantity = '" . (int) $quantity . "'";
        }
        if ($price !== null) {
            $set[] = "price = '" . (float) $price . "'";
        }
        if ($status !== null) {
            $set[] = "status = '" . ($status ? 1 : 0) . "'";
        }
        if ($set) {
            $this->db->query("UPDATE `" . DB_PREFIX . "product` SET " . implode(', ', $set) . ", date_modified = NOW() WHERE product_id = '" . (int) $productId . "'");
        }
    }
}

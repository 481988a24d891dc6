<?php
/**
 * Shopbridge for VirtueMart 3 / 4 (Joomla 3 / 4 / 5): plgVmConfirmedOrder
 * and plgVmOnUpdateOrderPayment hand orders to the host; onAjaxShopbridge
 * (com_ajax) receives its webhooks and runs the cron tasks. The hooks stay
 * a few lines; the logic is in lib/. Nothing here may fail a checkout.
 */
defined('_JEXEC') or die;

use Shopbridge\CatalogPuller;
use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\EventPuller;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Payload\VirtueMart as VirtueMartPayload;
use Shopbridge\Platform\VirtueMart as VirtueMartPlatform;
use Shopbridge\StatusUpdate;
use Shopbridge\Webhook;

require_once __DIR__ . '/lib/autoload.php';
require_once __DIR__ . '/ShopbridgeVirtueMartGateway.php';

if (!class_exists('ShopbridgePluginBase')) {
    if (class_exists('\\Joomla\\CMS\\Plugin\\CMSPlugin')) {
        class_alias('\\Joomla\\CMS\\Plugin\\CMSPlugin', 'ShopbridgePluginBase');
    } else {
        class_alias('JPlugin', 'ShopbridgePluginBase');
    }
}

class plgVmcustomShopbridge extends ShopbridgePluginBase
{
    /** The order is confirmed: sent now (or once paid, as configured). */
    public function plgVmConfirmedOrder($cart, $order)
    {
        $this->safely(function () use ($order) {
            $bt = $order['details']['BT'];
            VirtueMartPlatform::statusChanged($this->flow(), (string) $bt->order_number, (string) $bt->order_status, $this->builder((int) $bt->virtuemart_order_id));
        });
        return null;
    }

    /** Status changes: paid (C, S) releases, X or R cancels. */
    public function plgVmOnUpdateOrderPayment(&$data, $old_order_status)
    {
        $this->safely(function () use ($data, $old_order_status) {
            if ((string) $data->order_status !== (string) $old_order_status) {
                VirtueMartPlatform::statusChanged($this->flow(), (string) $data->order_number, (string) $data->order_status, $this->builder((int) $data->virtuemart_order_id));
            }
        });
        return null;
    }

    /** com_ajax: task=webhook, or retry / events / catalog with the cron token. */
    public function onAjaxShopbridge()
    {
        $input = \Joomla\CMS\Factory::getApplication()->input;
        $task = (string) $input->get('task', 'webhook', 'cmd');
        if ($task === 'webhook') {
            list($status, $body) = (new Webhook($this->config(), $this->state()))->handle(
                $_SERVER['REQUEST_METHOD'],
                $_SERVER['REQUEST_URI'],
                Webhook::headersFromServer($_SERVER),
                (string) file_get_contents('php://input'),
                [$this, 'apply']
            );
            $this->answer($status, $body);
        }
        $token = (string) $this->params->get('cron_token', '');
        if ($token === '' || !hash_equals($token, (string) $input->get('token', '', 'raw'))) {
            $this->answer(403, '{"error":"token"}');
        }
        $gateway = new ShopbridgeVirtueMartGateway();
        switch ($task) {
            case 'retry':
                $result = $this->outbox()->retry();
                break;
            case 'events':
                $result = (new EventPuller($this->client(), $this->state()))->pull([$this, 'apply']);
                break;
            case 'catalog':
                $currency = $gateway->shopCurrency();
                $result = (new CatalogPuller($this->client(), $this->state()))->pull(function (array $changes) use ($gateway, $currency) {
                    VirtueMartPlatform::applyCatalog($changes, $gateway, $currency);
                });
                break;
            default:
                $this->answer(404, '{"error":"unknown task"}');
                return;
        }
        $this->answer(200, (string) json_encode($result));
    }

    public function apply(StatusUpdate $update): bool
    {
        return VirtueMartPlatform::applyStatus($update, new ShopbridgeVirtueMartGateway(), [
            StatusUpdate::SHIPPED => (string) $this->params->get('shipped_status', 'S'),
            StatusUpdate::CANCELLED => (string) $this->params->get('cancelled_status', 'X'),
        ]);
    }

    private function builder(int $orderId): callable
    {
        return function ($paid) use ($orderId) {
            $order = VmModel::getModel('orders')->getOrder($orderId);
            return VirtueMartPayload::build(
                $order,
                function ($id) {
                    return shopFunctions::getCurrencyByID($id, 'currency_code_3');
                },
                function ($id) {
                    return shopFunctions::getCountryByID($id, 'country_2_code');
                },
                $paid,
                function ($id) {
                    return shopFunctions::getStateByID($id);
                }
            );
        };
    }

    private function config(): Config
    {
        $config = new Config((string) $this->params->get('url', ''), (string) $this->params->get('shop', ''), (string) $this->params->get('key_id', ''), (string) $this->params->get('secret', ''));
        $config->logger = function ($level, $message) {
            \Joomla\CMS\Log\Log::add('Shopbridge: ' . $message, $level === 'error' ? \Joomla\CMS\Log\Log::ERROR : \Joomla\CMS\Log\Log::WARNING, 'shopbridge');
        };
        return $config;
    }

    private function client(): Client
    {
        return new Client($this->config());
    }

    private function state(): FileStore
    {
        return new FileStore(__DIR__ . '/var/state');
    }

    private function outbox(): Outbox
    {
        return new Outbox($this->client(), new FileQueue(__DIR__ . '/var/queue'));
    }

    private function flow(): OrderFlow
    {
        $prefixes = array_filter(array_map('trim', explode(',', (string) $this->params->get('sku_prefixes', ''))));
        return new OrderFlow($this->outbox(), $this->state(), (string) $this->params->get('trigger', OrderFlow::AT_CONFIRMATION), $prefixes);
    }

    private function safely(callable $hook): void
    {
        try {
            $hook();
        } catch (\Throwable $e) {
            try {
                \Joomla\CMS\Log\Log::add('Shopbridge: ' . $e->getMessage(), \Joomla\CMS\Log\Log::ERROR, 'shopbridge');
            } catch (\Throwable $ignored) {
            }
        }
    }

    private function answer(int $status, string $body): void
    {
        http_response_code($status);
        header('Content-Type: application/json');
        echo $body;
        \Joomla\CMS\Factory::getApplication()->close();
    }
}

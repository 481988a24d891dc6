<?php
/**
 * Shopbridge for PrestaShop 1.7 / 8: sends orders to the Shopbridge host at
 * checkout, applies the status it posts back (order state, tracking
 * number), and the catalog's stock and prices from cron.
 *
 * The hooks stay a few lines: the logic lives in lib/ (the Shopbridge PHP
 * client library). Nothing here may make the buyer's checkout fail.
 */

use Shopbridge\Client;
use Shopbridge\Config;
use Shopbridge\FileQueue;
use Shopbridge\FileStore;
use Shopbridge\OrderFlow;
use Shopbridge\Outbox;
use Shopbridge\Payload\PrestaShop as PrestaShopPayload;
use Shopbridge\Platform\PrestaShop as PrestaShopPlatform;
use Shopbridge\Webhook;

if (!defined('_PS_VERSION_')) {
    exit;
}

require_once __DIR__ . '/lib/autoload.php';
require_once __DIR__ . '/classes/ShopbridgeGateway.php';

class Shopbridge extends Module
{
    const SETTINGS = ['SHOPBRIDGE_URL', 'SHOPBRIDGE_SHOP', 'SHOPBRIDGE_KEY_ID', 'SHOPBRIDGE_SECRET', 'SHOPBRIDGE_TRIGGER', 'SHOPBRIDGE_SKU_PREFIXES', 'SHOPBRIDGE_CRON_TOKEN'];

    public function __construct()
    {
        $this->name = 'shopbridge';
        $this->tab = 'shipping_logistics';
        $this->version = '1.0.0';
        $this->author = 'Shopbridge';
        $this->need_instance = 0;
        $this->ps_versions_compliancy = ['min' => '1.7.0.0', 'max' => '8.99.99'];
        $this->bootstrap = true;
        parent::__construct();
        $this->displayName = $this->l('Shopbridge');
        $this->description = $this->l('Sends orders to your suppliers through Shopbridge, brings back their status, tracking, stock and prices.');
    }

    public function install()
    {
        return parent::install()
            && $this->registerHook('actionValidateOrder')
            && $this->registerHook('actionPaymentConfirmation')
            && $this->registerHook('actionOrderStatusPostUpdate')
            && Configuration::updateValue('SHOPBRIDGE_TRIGGER', OrderFlow::AT_CONFIRMATION)
            && Configuration::updateValue('SHOPBRIDGE_CRON_TOKEN', Tools::passwdGen(32));
    }

    public function uninstall()
    {
        foreach (self::SETTINGS as $key) {
            Configuration::deleteByName($key);
        }
        return parent::uninstall();
    }

    // ---- hooks: a few lines each, never throwing into the checkout ----

    public function hookActionValidateOrder($params)
    {
        $this->safely(function () use ($params) {
            $order = $params['order'];
            $paid = isset($params['orderStatus']) && !empty($params['orderStatus']->paid);
            $this->flow()->confirmed($this->reference($order), $paid, function ($paid) use ($order) {
                return $this->payload($order, $paid);
            });
        });
    }

    public function hookActionPaymentConfirmation($params)
    {
        $this->safely(function () use ($params) {
            $order = new Order((int) $params['id_order']);
            $this->flow()->paid($this->reference($order), function ($paid) use ($order) {
                return $this->payload($order, $paid);
            });
        });
    }

    public function hookActionOrderStatusPostUpdate($params)
    {
        $this->safely(function () use ($params) {
            $order = new Order((int) $params['id_order']);
            PrestaShopPlatform::stateChanged($this->flow(), $this->reference($order), (int) $params['newOrderStatus']->id, $this->gateway());
        });
    }

    // ---- what the hooks and the front controllers share ----

    public function payload(Order $order, bool $paid): array
    {
        $carrier = new Carrier((int) $order->id_carrier);
        return PrestaShopPayload::build(
            $order,
            new Cart((int) $order->id_cart),
            new Customer((int) $order->id_customer),
            new Address((int) $order->id_address_delivery),
            new Address((int) $order->id_address_invoice),
            new Currency((int) $order->id_currency),
            $order->getProducts(),
            function ($id) {
                return Country::getIsoById($id);
            },
            function ($id) {
                return State::getNameById($id);
            },
            (string) $carrier->name,
            $paid,
            $this->ordersOfCart($order)
        );
    }

    public function reference(Order $order): string
    {
        return PrestaShopPayload::reference($order, $this->ordersOfCart($order));
    }

    /** How many orders the cart makes (one per carrier): they share one reference. */
    private function ordersOfCart(Order $order): int
    {
        $cart = new Cart((int) $order->id_cart);
        $option = json_decode((string) $cart->delivery_option, true);
        $carriers = 0;
        foreach (is_array($option) ? $option : [] as $list) {
            $carriers += count(array_filter(explode(',', (string) $list)));
        }
        return max(1, $carriers);
    }

    public function config(): Config
    {
        $config = new Config(
            (string) Configuration::get('SHOPBRIDGE_URL'),
            (string) Configuration::get('SHOPBRIDGE_SHOP'),
            (string) Configuration::get('SHOPBRIDGE_KEY_ID'),
            (string) Configuration::get('SHOPBRIDGE_SECRET')
        );
        $config->logger = function ($level, $message) {
            PrestaShopLogger::addLog('Shopbridge: ' . $message, $level === 'error' ? 3 : 2, null, 'Shopbridge');
        };
        return $config;
    }

    public function client(): Client
    {
        return new Client($this->config());
    }

    public function state(): FileStore
    {
        return new FileStore(__DIR__ . '/var/state');
    }

    public function outbox(): Outbox
    {
        return new Outbox($this->client(), new FileQueue(__DIR__ . '/var/queue'));
    }

    public function flow(): OrderFlow
    {
        $prefixes = array_filter(array_map('trim', explode(',', (string) Configuration::get('SHOPBRIDGE_SKU_PREFIXES'))));
        return new OrderFlow($this->outbox(), $this->state(), (string) Configuration::get('SHOPBRIDGE_TRIGGER'), $prefixes);
    }

    public function webhook(): Webhook
    {
        return new Webhook($this->config(), $this->state());
    }

    public function gateway(): ShopbridgeGateway
    {
        return new ShopbridgeGateway();
    }

    public function cronAllowed(): bool
    {
        $token = (string) Configuration::get('SHOPBRIDGE_CRON_TOKEN');
        return $token !== '' && hash_equals($token, (string) Tools::getValue('token'));
    }

    private function safely(callable $hook)
    {
        try {
            $hook();
        } catch (\Throwable $e) {
            PrestaShopLogger::addLog('Shopbridge: ' . $e->getMessage(), 3, null, 'Shopbridge');
        }
    }

    // ---- configuration page ----

    public function getContent()
    {
        $output = '';
        if (Tools::isSubmit('submitShopbridge') || Tools::isSubmit('testShopbridge')) {
            foreach (['SHOPBRIDGE_URL', 'SHOPBRIDGE_SHOP', 'SHOPBRIDGE_KEY_ID', 'SHOPBRIDGE_TRIGGER', 'SHOPBRIDGE_SKU_PREFIXES'] as $key) {
                Configuration::updateValue($key, trim((string) Tools::getValue($key)));
            }
            if ((string) Tools::getValue('SHOPBRIDGE_SECRET') !== '') {
                Configuration::updateValue('SHOPBRIDGE_SECRET', (string) Tools::getValue('SHOPBRIDGE_SECRET'));
            }
            $output .= $this->displayConfirmation($this->l('Settings saved.'));
        }
        if (Tools::isSubmit('testShopbridge')) {
            list($ok, $message) = $this->client()->testConnection();
            $output .= $ok ? $this->displayConfirmation($message) : $this->displayError($message);
        }
        $link = $this->context->link;
        $token = (string) Configuration::get('SHOPBRIDGE_CRON_TOKEN');
        $output .= $this->displayInformation(
            $this->l('Webhook URL (the shop\'s callback_url on the host):') . ' ' . $link->getModuleLink($this->name, 'webhook') . '<br>'
            . $this->l('Cron, every few minutes:') . ' ' . $link->getModuleLink($this->name, 'retry', ['token' => $token]) . ' · '
            . $link->getModuleLink($this->name, 'events', ['token' => $token]) . ' · '
            . $link->getModuleLink($this->name, 'catalog', ['token' => $token])
        );
        return $output . $this->renderForm();
    }

    private function renderForm()
    {
        $form = ['form' => [
            'legend' => ['title' => $this->l('Shopbridge host'), 'icon' => 'icon-cogs'],
            'input' => [
                ['type' => 'text', 'label' => $this->l('Host URL'), 'name' => 'SHOPBRIDGE_URL', 'required' => true, 'desc' => 'https://bridge.example'],
                ['type' => 'text', 'label' => $this->l('Shop id'), 'name' => 'SHOPBRIDGE_SHOP', 'required' => true],
                ['type' => 'text', 'label' => $this->l('Key id'), 'name' => 'SHOPBRIDGE_KEY_ID', 'required' => true],
                ['type' => 'password', 'label' => $this->l('Secret'), 'name' => 'SHOPBRIDGE_SECRET', 'desc' => $this->l('Left empty: unchanged.')],
                ['type' => 'select', 'label' => $this->l('Send orders'), 'name' => 'SHOPBRIDGE_TRIGGER', 'options' => ['query' => [
                    ['id' => OrderFlow::AT_CONFIRMATION, 'name' => $this->l('when the order is placed (payment follows)')],
                    ['id' => OrderFlow::ONCE_PAID, 'name' => $this->l('once the order is paid')],
                ], 'id' => 'id', 'name' => 'name']],
                ['type' => 'text', 'label' => $this->l('SKU prefixes sent'), 'name' => 'SHOPBRIDGE_SKU_PREFIXES', 'desc' => $this->l('Comma-separated; empty: every line. Lines of your own stock are not sent.')],
            ],
            'buttons' => [['type' => 'submit', 'name' => 'testShopbridge', 'title' => $this->l('Save and test the connection'), 'icon' => 'process-icon-refresh']],
            'submit' => ['title' => $this->l('Save'), 'name' => 'submitShopbridge'],
        ]];
        $helper = new HelperForm();
        $helper->module = $this;
        $helper->name_controller = $this->name;
        $helper->token = Tools::getAdminTokenLite('AdminModules');
        $helper->currentIndex = AdminController::$currentIndex . '&configure=' . $this->name;
        $helper->default_form_language = (int) Configuration::get('PS_LANG_DEFAULT');
        $helper->submit_action = 'submitShopbridge';
        foreach (self::SETTINGS as $key) {
            $helper->fields_value[$key] = $key === 'SHOPBRIDGE_SECRET' ? '' : (string) Configuration::get($key);
        }
        return $helper->generateForm([$form]);
    }
}

<?php
/**
 * Shopbridge for OpenCart 3.0.x, admin side: settings, test connection,
 * and the order-history event registered at install.
 */
require_once DIR_SYSTEM . 'library/shopbridge/autoload.php';

class ControllerExtensionModuleShopbridge extends Controller
{
    const FIELDS = ['status', 'url', 'shop', 'key_id', 'secret', 'trigger', 'sku_prefixes', 'reference_prefix',
        'paid_statuses', 'cancel_statuses', 'processing_status_id', 'shipped_status_id', 'delivered_status_id', 'cancelled_status_id', 'cron_token'];

    public function install()
    {
        $this->load->model('setting/event');
        $this->model_setting_event->deleteEventByCode('shopbridge');
        $this->model_setting_event->addEvent('shopbridge', \Shopbridge\Platform\OpenCart::historyTrigger(VERSION), 'extension/module/shopbridge/history');
        $this->load->model('setting/setting');
        $this->model_setting_setting->editSetting('module_shopbridge', [
            'module_shopbridge_status' => 0,
            'module_shopbridge_trigger' => 'confirmation',
            'module_shopbridge_reference_prefix' => 'OC-',
            'module_shopbridge_paid_statuses' => '2,3,5,15',
            'module_shopbridge_cancel_statuses' => '7,8,16',
            'module_shopbridge_shipped_status_id' => 3,
            'module_shopbridge_delivered_status_id' => 5,
            'module_shopbridge_cancelled_status_id' => 7,
            'module_shopbridge_cron_token' => bin2hex(random_bytes(16)),
        ]);
    }

    public function uninstall()
    {
        $this->load->model('setting/event');
        $this->model_setting_event->deleteEventByCode('shopbridge');
    }

    public function index()
    {
        $this->load->language('extension/module/shopbridge');
        $this->document->setTitle($this->language->get('heading_title'));
        $this->load->model('setting/setting');
        $token = 'user_token=' . $this->session->data['user_token'];
        if ($this->request->server['REQUEST_METHOD'] === 'POST' && $this->user->hasPermission('modify', 'extension/module/shopbridge')) {
            $settings = $this->model_setting_setting->getSetting('module_shopbridge');
            foreach (self::FIELDS as $field) {
                $key = 'module_shopbridge_' . $field;
                if (isset($this->request->post[$key]) && !($field === 'secret' && $this->request->post[$key] === '')) {
                    $settings[$key] = trim($this->request->post[$key]);
                }
            }
            $this->model_setting_setting->editSetting('module_shopbridge', $settings);
            $this->session->data['success'] = $this->language->get('text_success');
            $this->response->redirect($this->url->link('extension/module/shopbridge', $token, true));
        }
        $data = [];
        foreach (self::FIELDS as $field) {
            $data['module_shopbridge_' . $field] = $field === 'secret' ? '' : $this->config->get('module_shopbridge_' . $field);
        }
        $data['success'] = isset($this->session->data['success']) ? $this->session->data['success'] : '';
        unset($this->session->data['success']);
        $data['action'] = $this->url->link('extension/module/shopbridge', $token, true);
        $data['test'] = $this->url->link('extension/module/shopbridge/test', $token, true);
        $data['cancel'] = $this->url->link('marketplace/extension', $token . '&type=module', true);
        $catalog = HTTPS_CATALOG . 'index.php?route=extension/module/shopbridge/';
        $data['webhook_url'] = $catalog . 'webhook';
        $data['cron_urls'] = [];
        foreach (['retry', 'events', 'catalog'] as $task) {
            $data['cron_urls'][] = $catalog . $task . '&token=' . $this->config->get('module_shopbridge_cron_token');
        }
        $data['header'] = $this->load->controller('common/header');
        $data['column_left'] = $this->load->controller('common/column_left');
        $data['footer'] = $this->load->controller('common/footer');
        $this->response->setOutput($this->load->view('extension/module/shopbridge', $data));
    }

    /** The "test connection" button: a signed read of the events feed. */
    public function test()
    {
        $config = \Shopbridge\Config::fromArray([
            'url' => $this->config->get('module_shopbridge_url'),
            'shop' => $this->config->get('module_shopbridge_shop'),
            'key_id' => $this->config->get('module_shopbridge_key_id'),
            'secret' => $this->config->get('module_shopbridge_secret'),
        ]);
        list($ok, $message) = (new \Shopbridge\Client($config))->testConnection();
        $this->response->addHeader('Content-Type: application/json');
        $this->response->setOutput(json_encode(['ok' => $ok, 'message' => $message]));
    }
}

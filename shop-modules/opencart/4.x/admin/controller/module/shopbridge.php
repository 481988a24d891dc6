<?php
/**
 * Shopbridge for OpenCart 4.x, admin side: settings, test connection, and
 * the order-history event registered at install for this version.
 */
namespace Opencart\Admin\Controller\Extension\Shopbridge\Module;

require_once DIR_EXTENSION . 'shopbridge/system/library/shopbridge/autoload.php';

class Shopbridge extends \Opencart\System\Engine\Controller
{
    const FIELDS = ['status', 'url', 'shop', 'key_id', 'secret', 'trigger', 'sku_prefixes', 'reference_prefix',
        'paid_statuses', 'cancel_statuses', 'processing_status_id', 'shipped_status_id', 'delivered_status_id', 'cancelled_status_id', 'cron_token'];

    /** The route separator: '|' before 4.0.2.0, '.' since. */
    private function separator(): string
    {
        return version_compare(VERSION, '4.0.2.0', '>=') ? '.' : '|';
    }

    public function install(): void
    {
        $this->load->model('setting/event');
        $this->model_setting_event->deleteEventByCode('shopbridge');
        $event = [
            'code' => 'shopbridge',
            'description' => 'Shopbridge: send the order to the host on its first move to a confirmed status',
            'trigger' => \Shopbridge\Platform\OpenCart::historyTrigger(VERSION),
            'action' => 'extension/shopbridge/module/shopbridge' . $this->separator() . 'history',
            'status' => 1,
            'sort_order' => 0,
        ];
        if (version_compare(VERSION, '4.0.2.0', '>=')) {
            $this->model_setting_event->addEvent($event);
        } else {
            $this->model_setting_event->addEvent($event['code'], $event['description'], $event['trigger'], $event['action'], $event['status'], $event['sort_order']);
        }
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

    public function uninstall(): void
    {
        $this->load->model('setting/event');
        $this->model_setting_event->deleteEventByCode('shopbridge');
    }

    public function index(): void
    {
        $this->load->language('extension/shopbridge/module/shopbridge');
        $this->document->setTitle($this->language->get('heading_title'));
        $token = 'user_token=' . $this->session->data['user_token'];
        $data = [];
        foreach (self::FIELDS as $field) {
            $data['module_shopbridge_' . $field] = $field === 'secret' ? '' : $this->config->get('module_shopbridge_' . $field);
        }
        $route = 'extension/shopbridge/module/shopbridge' . $this->separator();
        $data['save'] = $this->url->link($route . 'save', $token);
        $data['test'] = $this->url->link($route . 'test', $token);
        $data['back'] = $this->url->link('marketplace/extension', $token . '&type=module');
        $catalog = HTTP_CATALOG . 'index.php?route=' . $route;
        $data['webhook_url'] = $catalog . 'webhook';
        $data['cron_urls'] = [];
        foreach (['retry', 'events', 'catalog'] as $task) {
            $data['cron_urls'][] = $catalog . $task . '&token=' . $this->config->get('module_shopbridge_cron_token');
        }
        $data['header'] = $this->load->controller('common/header');
        $data['column_left'] = $this->load->controller('common/column_left');
        $data['footer'] = $this->load->controller('common/footer');
        $this->response->setOutput($this->load->view('extension/shopbridge/module/shopbridge', $data));
    }

    public function save(): void
    {
        $this->load->language('extension/shopbridge/module/shopbridge');
        $json = [];
        if (!$this->user->hasPermission('modify', 'extension/shopbridge/module/shopbridge')) {
            $json['error'] = $this->language->get('error_permission');
        } else {
            $this->load->model('setting/setting');
            $settings = $this->model_setting_setting->getSetting('module_shopbridge');
            foreach (self::FIELDS as $field) {
                $key = 'module_shopbridge_' . $field;
                if (isset($this->request->post[$key]) && !($field === 'secret' && $this->request->post[$key] === '')) {
                    $settings[$key] = trim((string) $this->request->post[$key]);
                }
            }
            $this->model_setting_setting->editSetting('module_shopbridge', $settings);
            $json['success'] = $this->language->get('text_success');
        }
        $this->response->addHeader('Content-Type: application/json');
        $this->response->setOutput(json_encode($json));
    }

    /** The "test connection" button: a signed read of the events feed. */
    public function test(): void
    {
        $config = \Shopbridge\Config::fromArray([
            'url' => $this->config->get('module_shopbridge_url'),
            'shop' => $this->config->get('module_shopbridge_shop'),
            'key_id' => $this->config->get('module_shopbridge_key_id'),
            'secret' => $this->config->get('module_shopbridge_secret'),
        ]);
        list($ok, $message) = (new \Shopbridge\Client($config))->testConnection();
        $this->response->addHeader('Content-Type: application/json');
        $this->response->setOutput(json_encode($ok ? ['success' => $message] : ['error' => $message]));
    }
}

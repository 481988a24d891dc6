<?php
/**
 * Shopbridge for OpenCart 3.0.x, shop side:
 * - event catalog/model/checkout/order/addOrderHistory/after → history()
 * - index.php?route=extension/module/shopbridge/webhook: the host's webhooks
 * - index.php?route=extension/module/shopbridge/retry|events|catalog&token=…: cron
 */
require_once DIR_SYSTEM . 'library/shopbridge_opencart.php';

class ControllerExtensionModuleShopbridge extends Controller
{
    private function bridge()
    {
        $this->load->model('checkout/order');
        $orders = $this->model_checkout_order;
        return new ShopbridgeOpenCart(
            $this->config,
            $this->db,
            $this->tax,
            $this->log,
            function ($orderId) use ($orders) {
                return $orders->getOrder($orderId);
            },
            function ($orderId) use ($orders) {
                return $orders->getOrderProducts($orderId);
            },
            function ($orderId, $statusId, $comment, $notify) use ($orders) {
                $orders->addOrderHistory($orderId, $statusId, $comment, $notify);
            }
        );
    }

    /** Event: after addOrderHistory($order_id, $order_status_id, …). */
    public function history(&$route, &$args, &$output)
    {
        try {
            $this->bridge()->historyAdded((int) $args[0], (int) $args[1]);
        } catch (\Throwable $e) {
            $this->log->write('Shopbridge: ' . $e->getMessage());
        }
    }

    public function webhook()
    {
        list($status, $body) = $this->bridge()->webhook();
        $this->json($status, $body);
    }

    public function retry()
    {
        $this->cron('retry');
    }

    public function events()
    {
        $this->cron('pullEvents');
    }

    public function catalog()
    {
        $this->cron('pullCatalog');
    }

    private function cron($task)
    {
        $bridge = $this->bridge();
        if (!$bridge->cronAllowed(isset($this->request->get['token']) ? (string) $this->request->get['token'] : '')) {
            $this->json(403, '{"error":"token"}');
            return;
        }
        $this->json(200, json_encode($bridge->$task()));
    }

    private function json($status, $body)
    {
        http_response_code($status);
        $this->response->addHeader('Content-Type: application/json');
        $this->response->setOutput($body);
    }
}

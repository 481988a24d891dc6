<?php
/**
 * Shopbridge for OpenCart 4.x, shop side:
 * - event catalog/model/checkout/order/addHistory/after (4.0) or
 *   catalog/model/checkout/order.addHistory/after (4.1+) → history()
 * - index.php?route=extension/shopbridge/module/shopbridge.webhook (| before 4.0.2): the host's webhooks
 * - …shopbridge.retry|events|catalog&token=…: cron
 */
namespace Opencart\Catalog\Controller\Extension\Shopbridge\Module;

require_once DIR_EXTENSION . 'shopbridge/system/library/shopbridge_opencart.php';

class Shopbridge extends \Opencart\System\Engine\Controller
{
    private function bridge(): \ShopbridgeOpenCart
    {
        $this->load->model('checkout/order');
        $orders = $this->model_checkout_order;
        return new \ShopbridgeOpenCart(
            $this->config,
            $this->db,
            $this->tax,
            $this->log,
            function ($orderId) use ($orders) {
                return $orders->getOrder($orderId);
            },
            function ($orderId) use ($orders) {
                return $orders->getProducts($orderId);
            },
            function ($orderId, $statusId, $comment, $notify) use ($orders) {
                $orders->addHistory($orderId, $statusId, $comment, $notify);
            }
        );
    }

    /** Event: after addHistory($order_id, $order_status_id, …). */
    public function history(string &$route, array &$args, &$output): void
    {
        try {
            $this->bridge()->historyAdded((int) $args[0], (int) $args[1]);
        } catch (\Throwable $e) {
            $this->log->write('Shopbridge: ' . $e->getMessage());
        }
    }

    public function webhook(): void
    {
        list($status, $body) = $this->bridge()->webhook();
        $this->json($status, $body);
    }

    public function retry(): void
    {
        $this->cron('retry');
    }

    public function events(): void
    {
        $this->cron('pullEvents');
    }

    public function catalog(): void
    {
        $this->cron('pullCatalog');
    }

    private function cron(string $task): void
    {
        $bridge = $this->bridge();
        if (!$bridge->cronAllowed(isset($this->request->get['token']) ? (string) $this->request->get['token'] : '')) {
            $this->json(403, '{"error":"token"}');
            return;
        }
        $this->json(200, (string) json_encode($bridge->$task()));
    }

    private function json(int $status, string $body): void
    {
        http_response_code($status);
        $this->response->addHeader('Content-Type: application/json');
        $this->response->setOutput($body);
    }
}

<?php
/**
 * The host's signed webhooks: /module/shopbridge/webhook (the shop's callback_url).
 */

use Shopbridge\Platform\PrestaShop as PrestaShopPlatform;
use Shopbridge\StatusUpdate;
use Shopbridge\Webhook;

class ShopbridgeWebhookModuleFrontController extends ModuleFrontController
{
    public $ajax = true;

    public function postProcess()
    {
        $module = $this->module;
        list($status, $body) = $module->webhook()->handle(
            $_SERVER['REQUEST_METHOD'],
            $_SERVER['REQUEST_URI'],
            Webhook::headersFromServer($_SERVER),
            (string) file_get_contents('php://input'),
            function (StatusUpdate $update) use ($module) {
                return PrestaShopPlatform::applyStatus($update, $module->gateway());
            }
        );
        http_response_code($status);
        header('Content-Type: application/json');
        echo $body;
        exit;
    }
}

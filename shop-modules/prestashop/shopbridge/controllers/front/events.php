<?php
/**
 * Cron: the pull fallback of the webhooks. /module/shopbridge/events?token=…
 */

use Shopbridge\EventPuller;
use Shopbridge\Platform\PrestaShop as PrestaShopPlatform;
use Shopbridge\StatusUpdate;

class ShopbridgeEventsModuleFrontController extends ModuleFrontController
{
    public $ajax = true;

    public function postProcess()
    {
        if (!$this->module->cronAllowed()) {
            http_response_code(403);
            exit;
        }
        $module = $this->module;
        $result = (new EventPuller($module->client(), $module->state()))->pull(function (StatusUpdate $update) use ($module) {
            return PrestaShopPlatform::applyStatus($update, $module->gateway());
        });
        header('Content-Type: application/json');
        echo json_encode($result);
        exit;
    }
}

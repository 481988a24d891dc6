<?php
/**
 * Cron: sends what the host did not take at checkout. /module/shopbridge/retry?token=…
 */
class ShopbridgeRetryModuleFrontController extends ModuleFrontController
{
    public $ajax = true;

    public function postProcess()
    {
        if (!$this->module->cronAllowed()) {
            http_response_code(403);
            exit;
        }
        header('Content-Type: application/json');
        echo json_encode($this->module->outbox()->retry());
        exit;
    }
}

<?php
/**
 * Cron: stock (StockAvailable) and prices from the host's catalog changes. /module/shopbridge/catalog?token=…
 */

use Shopbridge\CatalogPuller;
use Shopbridge\Platform\PrestaShop as PrestaShopPlatform;

class ShopbridgeCatalogModuleFrontController extends ModuleFrontController
{
    public $ajax = true;

    public function postProcess()
    {
        if (!$this->module->cronAllowed()) {
            http_response_code(403);
            exit;
        }
        $gateway = $this->module->gateway();
        $currency = (string) Currency::getDefaultCurrency()->iso_code;
        $result = (new CatalogPuller($this->module->client(), $this->module->state()))->pull(function (array $changes) use ($gateway, $currency) {
            PrestaShopPlatform::applyCatalog($changes, $gateway, $currency);
        });
        header('Content-Type: application/json');
        echo json_encode($result);
        exit;
    }
}

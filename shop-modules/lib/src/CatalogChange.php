<?php

namespace Shopbridge;

/**
 * One product of the host's catalog changes, reduced to what a shop sets:
 * quantity, price and whether it is on sale.
 */
final class CatalogChange
{
    /** @var int */
    public $seq = 0;
    /** @var string the supplier's SKU (the shop's product reference / model / SKU) */
    public $sku = '';
    /** @var bool */
    public $removed = false;
    /** @var bool */
    public $visible = true;
    /** @var string in_stock, out_of_stock, backorder, preorder */
    public $availability = '';
    /** @var int|null units at the supplier */
    public $stock;
    /** @var int|null retail price VAT included, minor units */
    public $priceMinor;
    /** @var string */
    public $currency = '';
    /** @var int|null VAT in basis points (2000 = 20 %) */
    public $vatBasisPoints;
    /** @var string */
    public $name = '';
    /** @var array the change as the host sent it */
    public $raw = [];

    public static function fromArray(array $change): self
    {
        $c = new self();
        $c->raw = $change;
        $c->seq = isset($change['seq']) ? (int) $change['seq'] : 0;
        $c->sku = isset($change['sku']) ? (string) $change['sku'] : '';
        $c->removed = !empty($change['removed']);
        $shop = isset($change['shop']) && is_array($change['shop']) ? $change['shop'] : [];
        $product = isset($change['product']) && is_array($change['product']) ? $change['product'] : [];
        $c->visible = !isset($shop['visible']) || (bool) $shop['visible'];
        $c->availability = isset($shop['availability']) && is_string($shop['availability']) ? $shop['availability'] : '';
        if (isset($shop['retail_price']['amount_minor']) && is_int($shop['retail_price']['amount_minor'])) {
            $c->priceMinor = $shop['retail_price']['amount_minor'];
            $c->currency = isset($shop['retail_price']['currency']) ? (string) $shop['retail_price']['currency'] : '';
        }
        if (isset($product['stock_quantity']) && is_int($product['stock_quantity'])) {
            $c->stock = $product['stock_quantity'];
        }
        if (isset($product['vat_rate_basis_points']) && is_int($product['vat_rate_basis_points'])) {
            $c->vatBasisPoints = $product['vat_rate_basis_points'];
        }
        $c->name = isset($product['name']) && is_string($product['name']) ? $product['name'] : '';
        return $c;
    }

    /**
     * On sale in the shop.
     */
    public function active(): bool
    {
        return !$this->removed && $this->visible;
    }

    /**
     * The quantity to set, or null to leave it as it is (the supplier gives
     * no count and the product is available).
     *
     * @return int|null
     */
    public function quantity()
    {
        if (!$this->active()) {
            return 0;
        }
        if ($this->stock !== null) {
            return $this->stock;
        }
        return $this->availability === 'out_of_stock' ? 0 : null;
    }

    /**
     * The retail price VAT included as a decimal amount, or null when the
     * host has none or it is in another currency than the shop's.
     *
     * @return float|null
     */
    public function price(string $shopCurrency)
    {
        if ($this->priceMinor === null || strtoupper($this->currency) !== strtoupper($shopCurrency)) {
            return null;
        }
        return Money::fromMinor($this->priceMinor, $this->currency);
    }

    /**
     * The price VAT excluded (what the platforms store), given the shop's
     * tax rate for the product, or null.
     *
     * @return float|null
     */
    public function priceWithoutTax(string $shopCurrency, float $ratePercent)
    {
        if ($this->price($shopCurrency) === null) {
            return null;
        }
        return Money::withoutTax((int) $this->priceMinor, $this->currency, $ratePercent);
    }
}

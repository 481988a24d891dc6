<?php

namespace Shopbridge;

/**
 * An event of the host (webhook or events feed) reduced to what a shop
 * does with it: an action and a comment with the tracking.
 */
final class StatusUpdate
{
    /** The supplier has the order / is preparing it. */
    const PROCESSING = 'processing';
    /** Part of it shipped: tracking to tell, state unchanged. */
    const PARTLY_SHIPPED = 'partly_shipped';
    const SHIPPED = 'shipped';
    const DELIVERED = 'delivered';
    const CANCELLED = 'cancelled';
    /** Someone must look at it (refused, failed, needs attention): a note, no state change. */
    const ATTENTION = 'attention';

    /** @var int */
    public $seq = 0;
    /** @var string */
    public $kind = '';
    /** @var string */
    public $reference = '';
    /** @var string|null one of the constants, null when nothing is to be done */
    public $action;
    /** @var string the host's state of the supplier order */
    public $state = '';
    /** @var string */
    public $carrier = '';
    /** @var string[] */
    public $trackingNumbers = [];
    /** @var string */
    public $trackingUrl = '';
    /** @var string */
    public $message = '';

    public static function fromEvent(array $event): self
    {
        $u = new self();
        $u->seq = isset($event['seq']) ? (int) $event['seq'] : 0;
        $u->kind = isset($event['kind']) ? (string) $event['kind'] : '';
        $u->reference = isset($event['order_reference']) ? (string) $event['order_reference'] : '';
        $data = isset($event['data']) && is_array($event['data']) ? $event['data'] : [];
        $u->state = isset($data['state']) && is_string($data['state']) ? $data['state'] : '';
        $u->message = isset($data['message']) && is_string($data['message']) ? $data['message'] : '';
        foreach (isset($data['detail']['shipments']) && is_array($data['detail']['shipments']) ? $data['detail']['shipments'] : [] as $shipment) {
            if (!is_array($shipment)) {
                continue;
            }
            if ($u->carrier === '' && !empty($shipment['carrier']) && is_string($shipment['carrier'])) {
                $u->carrier = $shipment['carrier'];
            }
            if ($u->trackingUrl === '' && !empty($shipment['tracking_url']) && is_string($shipment['tracking_url'])) {
                $u->trackingUrl = $shipment['tracking_url'];
            }
            foreach (isset($shipment['tracking_numbers']) && is_array($shipment['tracking_numbers']) ? $shipment['tracking_numbers'] : [] as $number) {
                if (is_string($number) && $number !== '' && !in_array($number, $u->trackingNumbers, true)) {
                    $u->trackingNumbers[] = $number;
                }
            }
        }
        switch ($u->kind) {
            case 'supplier_order.submitted':
                $u->action = self::PROCESSING;
                break;
            case 'supplier_order.cancelled':
                $u->action = self::CANCELLED;
                break;
            case 'supplier_order.rejected':
            case 'supplier_order.failed':
            case 'supplier_order.needs_attention':
            case 'supplier_order.cancel_refused':
                $u->action = self::ATTENTION;
                break;
            case 'supplier_order.status':
                $map = [
                    'accepted' => self::PROCESSING,
                    'processing' => self::PROCESSING,
                    'partly_shipped' => self::PARTLY_SHIPPED,
                    'shipped' => self::SHIPPED,
                    'delivered' => self::DELIVERED,
                    'cancelled' => self::CANCELLED,
                    'rejected' => self::ATTENTION,
                ];
                $u->action = isset($map[$u->state]) ? $map[$u->state] : null;
                break;
            default:
                $u->action = null;
        }
        return $u;
    }

    public function tracking(): string
    {
        return implode(', ', $this->trackingNumbers);
    }

    /**
     * For the order's history: what happened, the carrier and the tracking.
     */
    public function comment(): string
    {
        $words = [
            self::PROCESSING => 'The supplier is preparing the order.',
            self::PARTLY_SHIPPED => 'Part of the order has shipped.',
            self::SHIPPED => 'The order has shipped.',
            self::DELIVERED => 'The order was delivered.',
            self::CANCELLED => 'The supplier cancelled the order.',
            self::ATTENTION => 'The supplier order needs attention (' . str_replace('supplier_order.', '', $this->kind) . ').',
        ];
        $text = isset($words[$this->action]) ? $words[$this->action] : 'Supplier order: ' . $this->kind . ' ' . $this->state;
        if ($this->trackingNumbers) {
            $text .= ' Tracking' . ($this->carrier !== '' ? ' (' . $this->carrier . ')' : '') . ': ' . $this->tracking();
            if ($this->trackingUrl !== '') {
                $text .= ' ' . $this->trackingUrl;
            }
        }
        if ($this->message !== '') {
            $text .= ' ' . $this->message;
        }
        return $text;
    }
}

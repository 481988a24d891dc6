<?php

namespace Shopbridge;

/**
 * When to hand an order over, the same on every platform: at confirmation
 * (with its paid flag; a later payment releases it), or only once paid.
 * Remembers which orders were handed over, so that the platform hooks can
 * fire as often as they like.
 */
final class OrderFlow
{
    const AT_CONFIRMATION = 'confirmation';
    const ONCE_PAID = 'payment';

    /** @var Outbox */
    private $outbox;
    /** @var KeyValue */
    private $state;
    /** @var string */
    private $mode;
    /** @var string[] only lines whose SKU starts with one of these (all when empty) */
    private $skuPrefixes;

    /**
     * When true, a status change comes from the host (a webhook being
     * applied): the platform hooks it fires must not echo it back.
     *
     * @var bool
     */
    public static $applyingFromHost = false;

    public function __construct(Outbox $outbox, KeyValue $state, string $mode = self::AT_CONFIRMATION, array $skuPrefixes = [])
    {
        $this->outbox = $outbox;
        $this->state = $state;
        $this->mode = $mode === self::ONCE_PAID ? self::ONCE_PAID : self::AT_CONFIRMATION;
        $this->skuPrefixes = $skuPrefixes;
    }

    public function outbox(): Outbox
    {
        return $this->outbox;
    }

    /**
     * @return string|null 'unpaid' or 'paid' once handed over, else null
     */
    public function handedOver(string $reference)
    {
        try {
            $value = $this->state->get('order.' . $reference);
            return is_string($value) ? $value : null;
        } catch (\Throwable $e) {
            return null;
        }
    }

    /**
     * The order is confirmed (placed). $build returns the payload; it is
     * called only when the order goes out now.
     *
     * @return string an Outbox outcome, or 'skipped'
     */
    public function confirmed(string $reference, bool $paid, callable $build): string
    {
        if (self::$applyingFromHost) {
            return 'skipped';
        }
        if ($this->handedOver($reference) !== null) {
            return $paid ? $this->paid($reference, $build) : 'skipped';
        }
        if ($this->mode === self::ONCE_PAID && !$paid) {
            return 'skipped';
        }
        return $this->send($reference, $paid, $build);
    }

    /**
     * The order is paid.
     */
    public function paid(string $reference, callable $build): string
    {
        if (self::$applyingFromHost) {
            return 'skipped';
        }
        $handed = $this->handedOver($reference);
        if ($handed === 'paid') {
            return 'skipped';
        }
        if ($handed === null) {
            return $this->send($reference, true, $build);
        }
        $outcome = $this->outbox->markPaid($reference);
        $this->remember($reference, $outcome, 'paid');
        return $outcome;
    }

    /**
     * The shop cancelled the order.
     */
    public function cancelled(string $reference, string $reason = ''): string
    {
        if (self::$applyingFromHost || $this->handedOver($reference) === null || $this->handedOver($reference) === 'cancelled') {
            return 'skipped';
        }
        $outcome = $this->outbox->cancel($reference, $reason);
        $this->remember($reference, $outcome, 'cancelled');
        return $outcome;
    }

    private function send(string $reference, bool $paid, callable $build): string
    {
        try {
            $payload = call_user_func($build, $paid);
            $payload = is_array($payload) ? Payload::onlySkus($payload, $this->skuPrefixes) : null;
        } catch (\Throwable $e) {
            $this->outbox->client()->config()->log('error', 'building the payload of ' . $reference . ': ' . $e->getMessage());
            return Outbox::FAILED;
        }
        if ($payload === null) {
            return 'skipped';
        }
        $payload['paid'] = $paid;
        $outcome = $this->outbox->postOrder($payload);
        $this->remember($reference, $outcome, $paid ? 'paid' : 'unpaid');
        return $outcome;
    }

    private function remember(string $reference, string $outcome, string $value): void
    {
        if ($outcome !== Outbox::SENT && $outcome !== Outbox::QUEUED) {
            return;
        }
        try {
            $this->state->set('order.' . $reference, $value);
        } catch (\Throwable $e) {
            $this->outbox->client()->config()->log('error', 'remembering ' . $reference . ': ' . $e->getMessage());
        }
    }
}

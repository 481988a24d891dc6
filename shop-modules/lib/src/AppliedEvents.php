<?php

namespace Shopbridge;

/**
 * Which events were applied already, so that a webhook delivered twice, or
 * an event both posted and pulled, is applied once.
 */
final class AppliedEvents
{
    const KEY = 'events.applied';
    const KEEP = 5000;

    /** @var KeyValue */
    private $state;

    public function __construct(KeyValue $state)
    {
        $this->state = $state;
    }

    public function has(int $seq): bool
    {
        $seen = $this->state->get(self::KEY, []);
        return is_array($seen) && in_array($seq, $seen, true);
    }

    public function add(int $seq): void
    {
        $seen = $this->state->get(self::KEY, []);
        $seen = is_array($seen) ? $seen : [];
        if (!in_array($seq, $seen, true)) {
            $seen[] = $seq;
        }
        sort($seen);
        $this->state->set(self::KEY, array_slice($seen, -self::KEEP));
    }
}

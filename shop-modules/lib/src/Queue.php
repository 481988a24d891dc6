<?php

namespace Shopbridge;

/**
 * Requests the host did not take yet, oldest first.
 */
interface Queue
{
    /**
     * @param array $item kind, reference, method, path, body, attempts, last_error, queued_at
     * @return string the item's id
     */
    public function push(array $item): string;

    /**
     * @return array<string, array> id => item, oldest first
     */
    public function all(): array;

    public function update(string $id, array $item): void;

    public function remove(string $id): void;
}

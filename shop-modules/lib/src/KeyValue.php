<?php

namespace Shopbridge;

/**
 * Small durable state: cursors, which orders were handed over, which events were applied.
 */
interface KeyValue
{
    /**
     * @param mixed $default
     * @return mixed
     */
    public function get(string $key, $default = null);

    /**
     * @param mixed $value JSON-encodable
     */
    public function set(string $key, $value): void;

    public function delete(string $key): void;
}

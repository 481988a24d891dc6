<?php

namespace Shopbridge;

/**
 * KeyValue in a directory: one JSON file per key, replaced atomically.
 */
final class FileStore implements KeyValue
{
    /** @var string */
    private $dir;

    public function __construct(string $dir)
    {
        $this->dir = rtrim($dir, '/');
    }

    private function path(string $key): string
    {
        $safe = preg_replace('/[^A-Za-z0-9._-]/', '_', $key);
        return $this->dir . '/' . $safe . '-' . substr(sha1($key), 0, 8) . '.json';
    }

    public function get(string $key, $default = null)
    {
        $path = $this->path($key);
        if (!is_file($path)) {
            return $default;
        }
        $text = @file_get_contents($path);
        if ($text === false) {
            return $default;
        }
        $value = json_decode($text, true);
        return $value === null && $text !== 'null' ? $default : $value;
    }

    public function set(string $key, $value): void
    {
        Files::writeAtomically($this->path($key), (string) json_encode($value));
    }

    public function delete(string $key): void
    {
        $path = $this->path($key);
        if (is_file($path)) {
            @unlink($path);
        }
    }
}

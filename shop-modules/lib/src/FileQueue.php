<?php

namespace Shopbridge;

/**
 * A Queue in a directory: one JSON file per request, named so that the
 * names sort in arrival order.
 */
final class FileQueue implements Queue
{
    /** @var string */
    private $dir;

    public function __construct(string $dir)
    {
        $this->dir = rtrim($dir, '/');
    }

    public function push(array $item): string
    {
        $id = sprintf('%.6f', microtime(true)) . '-' . bin2hex(random_bytes(4));
        $id = str_pad($id, 30, '0', STR_PAD_LEFT);
        Files::writeAtomically($this->dir . '/' . $id . '.json', (string) json_encode($item));
        return $id;
    }

    public function all(): array
    {
        $files = glob($this->dir . '/*.json');
        if ($files === false) {
            return [];
        }
        sort($files, SORT_STRING);
        $items = [];
        foreach ($files as $file) {
            $text = @file_get_contents($file);
            $item = $text === false ? null : json_decode($text, true);
            if (is_array($item)) {
                $items[basename($file, '.json')] = $item;
            }
        }
        return $items;
    }

    public function update(string $id, array $item): void
    {
        if (is_file($this->dir . '/' . $id . '.json')) {
            Files::writeAtomically($this->dir . '/' . $id . '.json', (string) json_encode($item));
        }
    }

    public function remove(string $id): void
    {
        @unlink($this->dir . '/' . basename($id) . '.json');
    }
}

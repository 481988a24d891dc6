<?php

namespace Shopbridge\Tests;

/**
 * The fake shops' database: an array, optionally persisted in a JSON file
 * (the integration test reads it), locked while a request changes it.
 */
final class FakeState
{
    /** @var array */
    public $data;
    /** @var string|null */
    private $file;

    public function __construct(array $data = [], ?string $file = null)
    {
        $this->data = $data;
        $this->file = $file;
    }

    public static function load(string $file): self
    {
        $text = is_file($file) ? file_get_contents($file) : false;
        $data = $text !== false ? json_decode($text, true) : null;
        return new self(is_array($data) ? $data : Fixtures::shops(), $file);
    }

    /**
     * Runs $change on the state loaded from $file under an exclusive lock, and saves it.
     *
     * @return mixed what $change returns
     */
    public static function transaction(string $file, callable $change)
    {
        $lock = fopen($file . '.lock', 'c');
        flock($lock, LOCK_EX);
        try {
            $state = self::load($file);
            $result = $change($state);
            $state->save();
            return $result;
        } finally {
            flock($lock, LOCK_UN);
            fclose($lock);
        }
    }

    public function save(): void
    {
        if ($this->file !== null) {
            $tmp = $this->file . '.tmp';
            file_put_contents($tmp, json_encode($this->data, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
            rename($tmp, $this->file);
        }
    }
}

<?php

namespace Shopbridge;

/**
 * @internal
 */
final class Files
{
    public static function ensureDir(string $dir): void
    {
        if (!is_dir($dir) && !@mkdir($dir, 0770, true) && !is_dir($dir)) {
            throw new \RuntimeException('cannot create ' . $dir);
        }
        $deny = $dir . '/.htaccess';
        if (!is_file($deny)) {
            @file_put_contents($deny, "Require all denied\nDeny from all\n");
        }
    }

    /**
     * Write to a temporary file beside, then rename: a reader sees the old or the new content.
     */
    public static function writeAtomically(string $path, string $content): void
    {
        self::ensureDir(dirname($path));
        $tmp = $path . '.' . bin2hex(random_bytes(4)) . '.tmp';
        if (@file_put_contents($tmp, $content, LOCK_EX) === false) {
            throw new \RuntimeException('cannot write ' . $tmp);
        }
        if (!@rename($tmp, $path)) {
            @unlink($tmp);
            throw new \RuntimeException('cannot rename ' . $tmp . ' to ' . $path);
        }
    }
}

<?php
/**
 * Shopbridge shop-side client library: no Composer, PHP 7.4 to 8.3.
 * require this file, then use the Shopbridge\ classes.
 */
spl_autoload_register(static function ($class) {
    $prefix = 'Shopbridge\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require_once $file;
    }
});

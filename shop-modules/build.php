<?php
/**
 * Builds the installable archives into a folder:
 *
 *   php shop-modules/build.php OUT_DIR     (or shop-modules/build.sh OUT_DIR)
 *
 * - shopbridge.zip: the PrestaShop module, its folder at the root;
 * - shopbridge-opencart3.ocmod.zip: OpenCart 3.0.x, the upload/ layout;
 * - shopbridge.ocmod.zip: OpenCart 4.x, install.json at the root (4.x names
 *   the extension after the archive: keep this name);
 * - plg_vmcustom_shopbridge.zip: the Joomla / VirtueMart plugin, its XML manifest at the root.
 *
 * The library (lib/) is copied into each. Needs the zip extension (php-zip).
 */

if ($argc < 2) {
    fwrite(STDERR, "usage: php build.php OUT_DIR\n");
    exit(2);
}
if (!class_exists('ZipArchive')) {
    fwrite(STDERR, "build.php: the PHP zip extension is missing (apt-get install php-zip)\n");
    exit(1);
}
$root = __DIR__;
$out = rtrim($argv[1], '/');
if (!is_dir($out) && !mkdir($out, 0777, true)) {
    fwrite(STDERR, "build.php: cannot create $out\n");
    exit(1);
}

/** Files under $dir, relative, sorted. */
function files_under(string $dir): array
{
    $files = [];
    $it = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS));
    foreach ($it as $file) {
        if ($file->isFile()) {
            $files[] = substr($file->getPathname(), strlen($dir) + 1);
        }
    }
    sort($files);
    return $files;
}

/**
 * @param array $entries archive path => source file
 */
function write_zip(string $path, array $entries): void
{
    if (is_file($path)) {
        unlink($path);
    }
    $zip = new ZipArchive();
    if ($zip->open($path, ZipArchive::CREATE) !== true) {
        throw new RuntimeException("cannot create $path");
    }
    foreach ($entries as $name => $source) {
        $zip->addFile($source, $name);
    }
    if (!$zip->close()) {
        throw new RuntimeException("cannot write $path");
    }
    echo 'built ', $path, ' (', count($entries), " files)\n";
}

/** $dir's files under $prefix in the archive. */
function tree(string $dir, string $prefix): array
{
    $entries = [];
    foreach (files_under($dir) as $file) {
        $entries[$prefix . $file] = $dir . '/' . $file;
    }
    return $entries;
}

$lib = function (string $prefix) use ($root) {
    $entries = tree($root . '/lib', $prefix);
    $entries[$prefix . 'index.php'] = $root . '/prestashop/shopbridge/index.php';
    return $entries;
};

try {
    write_zip($out . '/shopbridge.zip', tree($root . '/prestashop/shopbridge', 'shopbridge/') + $lib('shopbridge/lib/'));

    write_zip(
        $out . '/shopbridge-opencart3.ocmod.zip',
        tree($root . '/opencart/3.x/upload', 'upload/')
        + ['upload/system/library/shopbridge_opencart.php' => $root . '/opencart/common/ShopbridgeOpenCart.php']
        + tree($root . '/lib', 'upload/system/library/shopbridge/')
    );

    write_zip(
        $out . '/shopbridge.ocmod.zip',
        tree($root . '/opencart/4.x', '')
        + ['system/library/shopbridge_opencart.php' => $root . '/opencart/common/ShopbridgeOpenCart.php']
        + tree($root . '/lib', 'system/library/shopbridge/')
    );

    write_zip($out . '/plg_vmcustom_shopbridge.zip', tree($root . '/virtuemart/shopbridge', '') + tree($root . '/lib', 'lib/'));
} catch (Throwable $e) {
    fwrite(STDERR, 'build.php: ' . $e->getMessage() . "\n");
    exit(1);
}

<?php

use PHPUnit\Framework\TestCase;

/**
 * The archives build.sh makes: each platform's layout, the library inside,
 * every PHP file valid.
 */
final class BuildTest extends TestCase
{
    /** @var string */
    private static $out;

    public static function setUpBeforeClass(): void
    {
        self::$out = sys_get_temp_dir() . '/shopbridge-build-' . bin2hex(random_bytes(4));
        exec('sh ' . escapeshellarg(__DIR__ . '/../../build.sh') . ' ' . escapeshellarg(self::$out) . ' 2>&1', $output, $status);
        if ($status !== 0) {
            throw new RuntimeException("build.sh failed:\n" . implode("\n", $output));
        }
    }

    public static function tearDownAfterClass(): void
    {
        exec('rm -rf ' . escapeshellarg(self::$out));
    }

    private function names(string $archive): array
    {
        $path = self::$out . '/' . $archive;
        $this->assertFileExists($path);
        $zip = new ZipArchive();
        $this->assertTrue($zip->open($path) === true, "cannot open $archive");
        $names = [];
        for ($i = 0; $i < $zip->numFiles; $i++) {
            $names[] = $zip->getNameIndex($i);
        }
        $zip->close();
        return $names;
    }

    private function assertLibraryUnder(array $names, string $prefix): void
    {
        foreach (['autoload.php', 'src/Signature.php', 'src/Outbox.php', 'src/Webhook.php', 'src/CatalogPuller.php', 'src/Payload/PrestaShop.php', 'src/Platform/VirtueMart.php'] as $file) {
            $this->assertContains($prefix . $file, $names);
        }
        $this->assertEmpty(preg_grep('#(^|/)tests/#', $names), 'tests were packaged');
    }

    public function testPrestaShopHasTheModuleFolderAtItsRoot(): void
    {
        $names = $this->names('shopbridge.zip');
        foreach ($names as $name) {
            $this->assertStringStartsWith('shopbridge/', $name);
        }
        foreach (['shopbridge/shopbridge.php', 'shopbridge/classes/ShopbridgeGateway.php', 'shopbridge/controllers/front/webhook.php',
            'shopbridge/controllers/front/retry.php', 'shopbridge/controllers/front/events.php', 'shopbridge/controllers/front/catalog.php', 'shopbridge/index.php'] as $file) {
            $this->assertContains($file, $names);
        }
        $this->assertLibraryUnder($names, 'shopbridge/lib/');
    }

    public function testOpenCart3UsesTheUploadLayout(): void
    {
        $names = $this->names('shopbridge-opencart3.ocmod.zip');
        foreach ($names as $name) {
            $this->assertMatchesRegularExpression('#^(upload/|install\.xml$)#', $name);
        }
        foreach (['upload/catalog/controller/extension/module/shopbridge.php', 'upload/admin/controller/extension/module/shopbridge.php',
            'upload/admin/view/template/extension/module/shopbridge.twig', 'upload/admin/language/en-gb/extension/module/shopbridge.php',
            'upload/system/library/shopbridge_opencart.php'] as $file) {
            $this->assertContains($file, $names);
        }
        $this->assertLibraryUnder($names, 'upload/system/library/shopbridge/');
    }

    public function testOpenCart4HasInstallJsonAtItsRoot(): void
    {
        $names = $this->names('shopbridge.ocmod.zip');
        $this->assertContains('install.json', $names);
        $this->assertEmpty(preg_grep('#^upload/#', $names));
        foreach (['catalog/controller/module/shopbridge.php', 'admin/controller/module/shopbridge.php', 'admin/view/template/module/shopbridge.twig',
            'admin/language/en-gb/module/shopbridge.php', 'system/library/shopbridge_opencart.php'] as $file) {
            $this->assertContains($file, $names);
        }
        $this->assertLibraryUnder($names, 'system/library/shopbridge/');
        $zip = new ZipArchive();
        $zip->open(self::$out . '/shopbridge.ocmod.zip');
        $install = json_decode((string) $zip->getFromName('install.json'), true);
        $zip->close();
        $this->assertSame('Shopbridge', $install['name']);
        $this->assertArrayHasKey('version', $install);
    }

    public function testTheJoomlaPluginHasItsManifestAtItsRoot(): void
    {
        $names = $this->names('plg_vmcustom_shopbridge.zip');
        $this->assertContains('shopbridge.xml', $names);
        $this->assertContains('shopbridge.php', $names);
        $this->assertLibraryUnder($names, 'lib/');
        $zip = new ZipArchive();
        $zip->open(self::$out . '/plg_vmcustom_shopbridge.zip');
        $manifest = simplexml_load_string((string) $zip->getFromName('shopbridge.xml'));
        $zip->close();
        $this->assertSame('plugin', (string) $manifest['type']);
        $this->assertSame('vmcustom', (string) $manifest['group']);
        $this->assertSame('shopbridge', (string) $manifest->files->filename[0]['plugin']);
        // Everything the manifest lists is in the archive.
        foreach ($manifest->files->filename as $file) {
            $this->assertContains((string) $file, $names);
        }
        foreach ($manifest->files->folder as $folder) {
            $this->assertNotEmpty(preg_grep('#^' . preg_quote((string) $folder, '#') . '/#', $names));
        }
    }

    public function testEveryPhpFileOfEveryArchiveIsValidAndEachLibraryLoads(): void
    {
        $archives = ['shopbridge.zip' => 'shopbridge/lib/', 'shopbridge-opencart3.ocmod.zip' => 'upload/system/library/shopbridge/',
            'shopbridge.ocmod.zip' => 'system/library/shopbridge/', 'plg_vmcustom_shopbridge.zip' => 'lib/'];
        foreach ($archives as $archive => $lib) {
            $dir = self::$out . '/x-' . basename($archive, '.zip');
            $zip = new ZipArchive();
            $zip->open(self::$out . '/' . $archive);
            $this->assertTrue($zip->extractTo($dir));
            $zip->close();
            $php = 0;
            foreach (new RecursiveIteratorIterator(new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS)) as $file) {
                if (substr($file->getFilename(), -4) === '.php') {
                    exec(escapeshellarg(PHP_BINARY) . ' -l ' . escapeshellarg($file->getPathname()) . ' 2>&1', $output, $status);
                    $this->assertSame(0, $status, implode("\n", $output));
                    $php++;
                }
            }
            $this->assertGreaterThan(25, $php, $archive);
            // The packaged library on its own: a signature and a payload.
            $script = 'require ' . var_export($dir . '/' . $lib . 'autoload.php', true) . ';'
                . 'echo Shopbridge\Signature::sign("s", 1, "GET", "/", ""), " ", Shopbridge\Money::toMinor("1.50", "EUR");';
            $this->assertSame(hash_hmac('sha256', "1\nGET\n/\n", 's') . ' 150', shell_exec(escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script)), $archive);
        }
    }
}

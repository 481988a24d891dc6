<?php
// Loads the library and the fakes: PHPUnit's bootstrap and the integration scripts'.
require_once __DIR__ . '/../../lib/autoload.php';
require_once __DIR__ . '/FakeState.php';
require_once __DIR__ . '/FakeShops.php';
require_once __DIR__ . '/Fixtures.php';
require_once __DIR__ . '/FakeTransport.php';
require_once __DIR__ . '/../unit/support/PhpServer.php';

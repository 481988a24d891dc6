<?php
/**
 * php retry.php PLATFORM: the module's cron retry of its queue; prints the counts.
 */
require __DIR__ . '/common.php';

answer(outbox(isset($argv[1]) ? $argv[1] : '')->retry());

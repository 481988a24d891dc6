<?php
/**
 * php pull_events.php: the pull fallback of the webhooks, applied to the fake shops.
 */
require __DIR__ . '/common.php';

use Shopbridge\EventPuller;
use Shopbridge\FileStore;

answer((new EventPuller(new Shopbridge\Client(config()), new FileStore(state_dir() . '/webhook')))->pull('apply_everywhere', 2));

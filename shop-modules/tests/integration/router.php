<?php
/**
 * The shop's web server for the integration test (php -S … router.php):
 * POST /shopbridge/webhook?… is the modules' webhook endpoint, applying
 * the host's events to the fake shops. Every request is logged in
 * shops.json ("webhooks") with the status answered.
 */
require __DIR__ . '/common.php';

use Shopbridge\FileStore;
use Shopbridge\Tests\FakeState;
use Shopbridge\Webhook;

if (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) !== '/shopbridge/webhook') {
    http_response_code(404);
    return;
}
$body = (string) file_get_contents('php://input');
list($status, $answer) = (new Webhook(config(), new FileStore(state_dir() . '/webhook')))->handle(
    $_SERVER['REQUEST_METHOD'],
    $_SERVER['REQUEST_URI'],
    Webhook::headersFromServer($_SERVER),
    $body,
    'apply_everywhere'
);
$event = json_decode($body, true);
FakeState::transaction(shops_file(), function (FakeState $state) use ($status, $answer, $event) {
    $state->data['webhooks'][] = ['status' => $status, 'answer' => $answer, 'seq' => isset($event['seq']) ? $event['seq'] : null,
        'kind' => isset($event['kind']) ? $event['kind'] : null, 'uri' => $_SERVER['REQUEST_URI']];
});
http_response_code($status);
header('Content-Type: application/json');
echo $answer;

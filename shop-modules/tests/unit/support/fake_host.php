<?php
// A tiny host for `php -S`: checks the signature as the real host does,
// records each request in $SHOPBRIDGE_FAKE_HOST_LOG, answers 202 (or the
// status in $SHOPBRIDGE_FAKE_HOST_STATUS).
require __DIR__ . '/../../../lib/autoload.php';

$body = (string) file_get_contents('php://input');
$headers = Shopbridge\Webhook::headersFromServer($_SERVER);
$refused = Shopbridge\Signature::check(
    'unit-secret',
    isset($headers['x-shopbridge-timestamp']) ? $headers['x-shopbridge-timestamp'] : '',
    isset($headers['x-shopbridge-signature']) ? $headers['x-shopbridge-signature'] : '',
    $_SERVER['REQUEST_METHOD'],
    $_SERVER['REQUEST_URI'],
    $body,
    time()
);
$log = getenv('SHOPBRIDGE_FAKE_HOST_LOG');
$entries = is_file($log) ? json_decode((string) file_get_contents($log), true) : [];
$entries[] = ['method' => $_SERVER['REQUEST_METHOD'], 'path' => $_SERVER['REQUEST_URI'], 'body' => $body,
    'key' => isset($headers['x-shopbridge-key']) ? $headers['x-shopbridge-key'] : '', 'refused' => $refused];
file_put_contents($log, json_encode($entries));
header('Content-Type: application/json');
if ($refused !== null) {
    http_response_code(401);
    echo json_encode(['detail' => $refused]);
    return;
}
$status = (int) (getenv('SHOPBRIDGE_FAKE_HOST_STATUS') ?: 202);
http_response_code($status);
echo json_encode(['status' => 'accepted']);

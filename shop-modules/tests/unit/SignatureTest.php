<?php

use PHPUnit\Framework\TestCase;
use Shopbridge\Signature;

final class SignatureTest extends TestCase
{
    private function vector(): array
    {
        $vector = json_decode((string) file_get_contents(__DIR__ . '/../vectors/signature.json'), true);
        $this->assertIsArray($vector);
        return $vector;
    }

    public function testTheSharedVectorIsWhatTheHostComputes(): void
    {
        $v = $this->vector();
        $this->assertSame($v['expected'], Signature::sign($v['secret'], $v['timestamp'], $v['method'], $v['path'], $v['body']));
    }

    public function testTheVectorVerifiesAndAnyChangeBreaksIt(): void
    {
        $v = $this->vector();
        $now = $v['timestamp'] + 100;
        $check = function (array $change) use ($v, $now) {
            $w = $change + $v;
            return Signature::check($w['secret'], (string) $w['timestamp'], $w['expected'], $w['method'], $w['path'], $w['body'], $now);
        };
        $this->assertNull($check([]));
        $this->assertNotNull($check(['secret' => 'other']));
        $this->assertNotNull($check(['method' => 'PUT']));
        $this->assertNotNull($check(['path' => '/v1/shops/boutique/orders']));
        $this->assertNotNull($check(['body' => $v['body'] . ' ']));
        $this->assertNotNull($check(['expected' => str_repeat('0', 64)]));
        $this->assertNotNull($check(['expected' => 'not hex']));
        $this->assertStringContainsString('away', (string) Signature::check($v['secret'], (string) $v['timestamp'], $v['expected'], $v['method'], $v['path'], $v['body'], $v['timestamp'] + 301));
        $this->assertStringContainsString('away', (string) Signature::check($v['secret'], (string) $v['timestamp'], $v['expected'], $v['method'], $v['path'], $v['body'], $v['timestamp'] - 301));
        $this->assertStringContainsString('Unix seconds', (string) Signature::check($v['secret'], 'yesterday', $v['expected'], $v['method'], $v['path'], $v['body'], $now));
        // The host accepts the hex in any case and surrounding blanks.
        $this->assertNull(Signature::check($v['secret'], ' ' . $v['timestamp'] . ' ', strtoupper($v['expected']), $v['method'], $v['path'], $v['body'], $now));
    }

    public function testHeadersAreTheHostsThree(): void
    {
        $headers = Signature::headers('key-1', 's', 1700000000, 'GET', '/v1/shops/x/events?since=0', '');
        $this->assertSame('X-Shopbridge-Key: key-1', $headers[0]);
        $this->assertSame('X-Shopbridge-Timestamp: 1700000000', $headers[1]);
        $this->assertSame('X-Shopbridge-Signature: ' . hash_hmac('sha256', "1700000000\nGET\n/v1/shops/x/events?since=0\n", 's'), $headers[2]);
    }
}

<?php

namespace Shopbridge;

/**
 * Signed requests to the host's shop API. Never throws.
 */
final class Client
{
    /** @var Config */
    private $config;
    /** @var Transport */
    private $transport;

    public function __construct(Config $config, ?Transport $transport = null)
    {
        $this->config = $config;
        $this->transport = $transport !== null ? $transport : new CurlTransport();
    }

    public function config(): Config
    {
        return $this->config;
    }

    /**
     * A signed request. $pathAndQuery is signed exactly as sent.
     */
    public function request(string $method, string $pathAndQuery, string $body = '', ?float $timeout = null): Response
    {
        try {
            if (!$this->config->complete()) {
                return new Response(0, '', 'the module is not configured (host URL, shop, key id, secret)');
            }
            $method = strtoupper($method);
            $timestamp = $this->config->now();
            $headers = Signature::headers($this->config->keyId, $this->config->secret, $timestamp, $method, $pathAndQuery, $body);
            $timeout = $timeout !== null ? $timeout : $this->config->cronTimeout;
            return $this->transport->send($method, $this->config->baseUrl . $pathAndQuery, $headers, $body, $timeout);
        } catch (\Throwable $e) {
            return new Response(0, '', get_class($e) . ': ' . $e->getMessage());
        }
    }

    public function shopPath(string $rest): string
    {
        return '/v1/shops/' . rawurlencode($this->config->shop) . $rest;
    }

    public function orderPath(string $reference, string $suffix = ''): string
    {
        return $this->shopPath('/orders/' . rawurlencode($reference) . $suffix);
    }

    public function events(int $since, int $limit = 100): Response
    {
        return $this->request('GET', $this->shopPath('/events?since=' . $since . '&limit=' . $limit));
    }

    public function catalogChanges(int $since, int $limit = 500): Response
    {
        return $this->request('GET', $this->shopPath('/catalog/changes?since=' . $since . '&limit=' . $limit));
    }

    public function order(string $reference): Response
    {
        return $this->request('GET', $this->orderPath($reference));
    }

    /**
     * For the configuration page's "test connection" button: a signed read
     * of the events feed.
     *
     * @return array{0: bool, 1: string}
     */
    public function testConnection(): array
    {
        $answer = $this->request('GET', $this->shopPath('/events?since=0&limit=1'), '', 5.0);
        if ($answer->ok()) {
            return [true, 'Connected: the host accepted the signed request.'];
        }
        if ($answer->status === 401) {
            return [false, 'The host refused the signature: check the key id and the secret (' . $answer->describe() . ').'];
        }
        return [false, 'The host could not be used: ' . $answer->describe()];
    }
}

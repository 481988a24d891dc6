<?php

namespace Shopbridge;

/**
 * The catalog cron: reads the host's catalog changes by cursor, in pages,
 * hands each page to the platform, and stores the cursor only once the
 * page is applied (a page that fails comes again next time).
 */
final class CatalogPuller
{
    const CURSOR = 'catalog.cursor';

    /** @var Client */
    private $client;
    /** @var KeyValue */
    private $state;

    public function __construct(Client $client, KeyValue $state)
    {
        $this->client = $client;
        $this->state = $state;
    }

    /**
     * @param callable $applyPage fn(CatalogChange[]): bool|void; false or an exception stops the pull
     * @return array{pages: int, changes: int, cursor: int, error: string}
     */
    public function pull(callable $applyPage, int $limit = 200, int $maxPages = 50): array
    {
        $result = ['pages' => 0, 'changes' => 0, 'cursor' => 0, 'error' => ''];
        try {
            $cursor = (int) $this->state->get(self::CURSOR, 0);
            $result['cursor'] = $cursor;
            for ($page = 0; $page < $maxPages; $page++) {
                $answer = $this->client->catalogChanges($cursor, $limit);
                $json = $answer->json();
                if (!$answer->ok() || !is_array($json) || !isset($json['changes']) || !is_array($json['changes'])) {
                    $result['error'] = $answer->describe();
                    break;
                }
                if (!$json['changes']) {
                    break;
                }
                $changes = [];
                foreach ($json['changes'] as $change) {
                    if (is_array($change)) {
                        $changes[] = CatalogChange::fromArray($change);
                    }
                }
                $next = isset($json['next']) ? (int) $json['next'] : $cursor;
                if ($next <= $cursor) {
                    $result['error'] = 'the host\'s cursor did not move';
                    break;
                }
                if (call_user_func($applyPage, $changes) === false) {
                    $result['error'] = 'a page was not applied; it comes again next time';
                    break;
                }
                $this->state->set(self::CURSOR, $next);
                $cursor = $next;
                $result['cursor'] = $cursor;
                $result['pages']++;
                $result['changes'] += count($changes);
            }
        } catch (\Throwable $e) {
            $result['error'] = $e->getMessage();
            $this->client->config()->log('error', 'pulling the catalog: ' . $e->getMessage());
        }
        return $result;
    }
}

<?php

namespace Shopbridge;

/**
 * The pull fallback of the webhooks (cron): reads the events feed by
 * cursor and applies what the webhooks did not.
 */
final class EventPuller
{
    const CURSOR = 'events.cursor';

    /** @var Client */
    private $client;
    /** @var KeyValue */
    private $state;
    /** @var AppliedEvents */
    private $applied;

    public function __construct(Client $client, KeyValue $state)
    {
        $this->client = $client;
        $this->state = $state;
        $this->applied = new AppliedEvents($state);
    }

    /**
     * @param callable $apply fn(StatusUpdate): bool|void, as for Webhook::handle
     * @return array{applied: int, skipped: int, cursor: int, error: string}
     */
    public function pull(callable $apply, int $limit = 100, int $maxPages = 20): array
    {
        $result = ['applied' => 0, 'skipped' => 0, 'cursor' => 0, 'error' => ''];
        try {
            $cursor = (int) $this->state->get(self::CURSOR, 0);
            $result['cursor'] = $cursor;
            for ($page = 0; $page < $maxPages; $page++) {
                $answer = $this->client->events($cursor, $limit);
                $json = $answer->json();
                if (!$answer->ok() || !is_array($json) || !isset($json['events']) || !is_array($json['events'])) {
                    $result['error'] = $answer->describe();
                    break;
                }
                if (!$json['events']) {
                    break;
                }
                foreach ($json['events'] as $event) {
                    $update = StatusUpdate::fromEvent(is_array($event) ? $event : []);
                    if (!$this->applied->has($update->seq)) {
                        call_user_func($apply, $update);
                        $this->applied->add($update->seq);
                        $result['applied']++;
                    } else {
                        $result['skipped']++;
                    }
                    $cursor = max($cursor, $update->seq);
                    $this->state->set(self::CURSOR, $cursor);
                    $result['cursor'] = $cursor;
                }
            }
        } catch (\Throwable $e) {
            // The cursor stays before the event that failed: it comes again.
            $result['error'] = $e->getMessage();
            $this->client->config()->log('error', 'pulling events: ' . $e->getMessage());
        }
        return $result;
    }
}

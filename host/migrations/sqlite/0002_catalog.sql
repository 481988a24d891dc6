-- The catalog: each binding's products as its supplier's feed last gave
-- them, what the host's rules made of them for the shop, and the sync runs.
-- Same schema as ../postgres.

CREATE TABLE catalog_products (
    binding TEXT NOT NULL,
    sku TEXT NOT NULL,
    shop TEXT NOT NULL,
    hash BIGINT NOT NULL,
    data TEXT NOT NULL,
    shop_data TEXT NOT NULL,
    changed TEXT NOT NULL,
    removed BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (binding, sku)
);
CREATE INDEX catalog_changes ON catalog_products (shop, seq);
CREATE INDEX catalog_by_shop_sku ON catalog_products (shop, sku);

-- Numbers of the shop's catalog change feed, taken in the writing
-- transaction (commit order), as for events.
CREATE TABLE catalog_counters (
    shop TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    binding TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    removed BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT,
    updated_fields TEXT,
    rejections TEXT,
    error TEXT,
    etag TEXT,
    last_modified TEXT,
    requested_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE UNIQUE INDEX one_sync_at_a_time ON sync_runs (binding) WHERE state IN ('queued', 'running', 'cancelling');
CREATE INDEX sync_runs_by_binding ON sync_runs (binding, id);

-- Recurring jobs (status polls, sync schedules): one per target.
DROP INDEX jobs_one_poll_per_binding;
CREATE UNIQUE INDEX jobs_one_recurring_per_target ON jobs (kind, target) WHERE kind IN ('poll', 'schedule');

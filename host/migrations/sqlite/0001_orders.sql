-- Orders as shops posted them, split into one supplier order per supplier,
-- the jobs that move them along, their status history and the events the
-- shops read. Times are Unix milliseconds. Same schema as ../postgres.

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    reference TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    payload TEXT NOT NULL,
    currency TEXT NOT NULL,
    retail_total BIGINT NOT NULL,
    paid INTEGER NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (shop, reference)
);

CREATE TABLE supplier_orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id BIGINT NOT NULL REFERENCES orders (id),
    binding TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    revision BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    lines TEXT NOT NULL,
    wholesale_total BIGINT,
    wholesale_currency TEXT NOT NULL,
    supplier_reference TEXT,
    issues TEXT,
    last_error TEXT,
    cancel_reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    tracking TEXT,
    polled_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX supplier_orders_by_order ON supplier_orders (order_id);
CREATE INDEX supplier_orders_open ON supplier_orders (binding, state, polled_at);

CREATE TABLE status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    supplier_order_id BIGINT NOT NULL REFERENCES supplier_orders (id),
    state TEXT NOT NULL,
    detail TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX status_history_by_supplier_order ON status_history (supplier_order_id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT,
    dead INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX jobs_due ON jobs (dead, run_at);
CREATE UNIQUE INDEX jobs_one_poll_per_binding ON jobs (kind, target) WHERE kind = 'poll';

-- Events are numbered per shop from a counter row taken in the writing
-- transaction, so numbers are handed out in commit order and a reader
-- following `seq > cursor` never skips one (an identity column would not
-- promise that under concurrent writers).
CREATE TABLE event_counters (
    shop TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE events (
    seq BIGINT NOT NULL,
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shop TEXT NOT NULL,
    kind TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX events_by_shop ON events (shop, seq);

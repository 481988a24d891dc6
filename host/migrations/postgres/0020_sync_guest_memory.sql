-- The guest's peak linear memory during a sync run (its parser's
-- footprint, whatever the feed's size). Same on ../postgres and ../sqlite.
ALTER TABLE sync_runs ADD COLUMN guest_memory_peak BIGINT;

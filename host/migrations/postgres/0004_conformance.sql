-- The conformance suite's report of each uploaded version (JSON); a
-- version that failed it has state 'rejected'.
ALTER TABLE plugin_versions ADD COLUMN report TEXT;

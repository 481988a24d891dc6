-- The plugin lifecycle: uploaded components stored by content (sha256),
-- the versions they declare and who uploaded them, the compiled artefacts
-- this host produced, and which version each binding runs. Same schema as
-- ../postgres (blobs are BLOB here).

CREATE TABLE plugin_blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The first uploader of a name owns it: an integrator reads and uploads
-- only the names they own (operators, every name).
CREATE TABLE plugin_names (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE plugin_versions (
    name TEXT NOT NULL REFERENCES plugin_names (name),
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES plugin_blobs (sha256),
    metadata TEXT NOT NULL,
    uploader TEXT NOT NULL,
    state TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE INDEX plugin_versions_by_sha ON plugin_versions (sha256);

-- Compiled code, keyed by the component and the engine's compatibility
-- hash (another wasmtime or other settings: another key, so a miss). Only
-- this host writes here; artefact_sha256 catches a damaged row.
CREATE TABLE compiled_artefacts (
    sha256 TEXT NOT NULL,
    engine TEXT NOT NULL,
    artefact BLOB NOT NULL,
    artefact_sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, engine)
);

-- The version each binding runs when it is not the configuration file's,
-- and the one before it (for rollback).
CREATE TABLE binding_plugins (
    binding TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    previous TEXT,
    activated_by TEXT NOT NULL,
    activated_at BIGINT NOT NULL
);

-- Bumped by every activation in the same transaction: every serve process
-- polls this one row and reloads binding_plugins when it moves.
CREATE TABLE plugin_generation (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO plugin_generation (id, value) VALUES (1, 0);

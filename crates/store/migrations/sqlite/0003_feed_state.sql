-- Live feed sources: what each configured source last told us (ETag,
-- Last-Modified, a checkpoint such as the NVD lastModEndDate reached), who is
-- polling it now (a lease, so that of several instances on one database only
-- one polls a source at a time) and how the last runs went.
-- Timestamps are RFC 3339 UTC text written by the application (never the
-- database clock), so they compare correctly as strings.

CREATE TABLE feed_state (
    name                 TEXT    PRIMARY KEY,
    etag                 TEXT,
    last_modified        TEXT,
    checkpoint           TEXT,
    lease_holder         TEXT,
    lease_until          TEXT,
    last_attempt_at      TEXT,
    last_success_at      TEXT,
    last_outcome         TEXT    CHECK (last_outcome IN ('updated', 'not_modified', 'failed')),
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    records_new          INTEGER NOT NULL DEFAULT 0,
    records_changed      INTEGER NOT NULL DEFAULT 0,
    records_unchanged    INTEGER NOT NULL DEFAULT 0,
    records_stale        INTEGER NOT NULL DEFAULT 0,
    records_rejected     INTEGER NOT NULL DEFAULT 0,
    epss_scores          INTEGER NOT NULL DEFAULT 0
);

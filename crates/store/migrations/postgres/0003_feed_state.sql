-- Live feed sources: what each configured source last told us (ETag,
-- Last-Modified, a checkpoint such as the NVD lastModEndDate reached), who is
-- polling it now (a lease, so that of several instances on one database only
-- one polls a source at a time) and how the last runs went.
-- Timestamps are TIMESTAMPTZ written by the application (never the
-- database clock), so both backends agree on "now".

CREATE TABLE feed_state (
    name                 TEXT        PRIMARY KEY,
    etag                 TEXT,
    last_modified        TEXT,
    checkpoint           TEXT,
    lease_holder         TEXT,
    lease_until          TIMESTAMPTZ,
    last_attempt_at      TIMESTAMPTZ,
    last_success_at      TIMESTAMPTZ,
    last_outcome         TEXT        CHECK (last_outcome IN ('updated', 'not_modified', 'failed')),
    last_error           TEXT,
    consecutive_failures BIGINT      NOT NULL DEFAULT 0,
    records_new          BIGINT      NOT NULL DEFAULT 0,
    records_changed      BIGINT      NOT NULL DEFAULT 0,
    records_unchanged    BIGINT      NOT NULL DEFAULT 0,
    records_stale        BIGINT      NOT NULL DEFAULT 0,
    records_rejected     BIGINT      NOT NULL DEFAULT 0,
    epss_scores          BIGINT      NOT NULL DEFAULT 0
);

-- Member inventories, suppliers, the match index and exposures.
--
-- `advisory_keys` and `inventory_keys` file advisories and items under the
-- same keys (see openwarp_matching::keys), so a changed advisory reaches only
-- the items that share a key with it, and a changed item only the advisories.
-- `advisory_statements` holds, per vulnerability, just what the matcher reads
-- (deflate-compressed JSON). `exposures` is the stored, deduplicated result:
-- one row per (item, vulnerability), kept (inactive) when it stops applying so
-- its status history survives.

CREATE TABLE inventory_items (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id            BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    vendor            TEXT,
    product           TEXT,
    version           TEXT,
    cpe               TEXT,
    purl              TEXT,
    internet_facing   BOOLEAN NOT NULL DEFAULT FALSE,
    business_critical BOOLEAN NOT NULL DEFAULT FALSE,
    owner             TEXT,
    notes             TEXT,
    origin            TEXT    NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    updated_by        BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX inventory_items_org ON inventory_items (org_id, name);

CREATE TABLE inventory_keys (
    key     TEXT    NOT NULL,
    item_id BIGINT  NOT NULL REFERENCES inventory_items (id) ON DELETE CASCADE,
    org_id  BIGINT  NOT NULL,
    PRIMARY KEY (key, item_id)
);
CREATE INDEX inventory_keys_item ON inventory_keys (item_id);

CREATE TABLE advisory_keys (
    key     TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    PRIMARY KEY (key, vuln_id)
);
CREATE INDEX advisory_keys_vuln ON advisory_keys (vuln_id);

CREATE TABLE advisory_statements (
    vuln_id TEXT PRIMARY KEY,
    body    BYTEA NOT NULL
);

CREATE TABLE suppliers (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('it_provider', 'shared_service', 'software_vendor', 'hosting', 'other')),
    services   TEXT,
    contact    TEXT,
    notes      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, name_key)
);
CREATE INDEX suppliers_name ON suppliers (name_key);

CREATE TABLE exposures (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     BIGINT  NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    item_id    BIGINT  NOT NULL REFERENCES inventory_items (id) ON DELETE CASCADE,
    vuln_id    TEXT    NOT NULL,
    active     BOOLEAN NOT NULL,
    verdict    TEXT    NOT NULL CHECK (verdict IN ('affected', 'version_unknown', 'not_affected', 'no_longer_matches')),
    priority   BIGINT  NOT NULL CHECK (priority BETWEEN 1 AND 4),
    reasons    TEXT    NOT NULL,
    line       TEXT    NOT NULL,
    finding    TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('new', 'assessing', 'action_in_progress', 'mitigated', 'not_affected', 'risk_accepted')),
    status_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status_at  TIMESTAMPTZ,
    first_seen TIMESTAMPTZ NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    UNIQUE (item_id, vuln_id)
);
CREATE INDEX exposures_org ON exposures (org_id, active, priority);
CREATE INDEX exposures_vuln ON exposures (vuln_id);

CREATE TABLE exposure_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exposure_id BIGINT  NOT NULL REFERENCES exposures (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('found', 'changed', 'cleared', 'status', 'note')),
    status      TEXT,
    detail      TEXT    NOT NULL
);
CREATE INDEX exposure_events_exposure ON exposure_events (exposure_id, at);

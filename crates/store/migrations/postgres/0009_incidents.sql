-- Confidential incident reports (see openwarp_core::incident for who may see
-- what). `public_id` is random and unguessable: it is the only id that
-- leaves the server (URLs, API, exports). The sanitised version lives on the
-- incident row (shared_*) with its recipients; the timeline and escalation
-- log in incident_events; every read and change in incident_access; the
-- shared-supplier warnings sent in incident_warnings.

CREATE TABLE incidents (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    org_id            BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    reporter_id       BIGINT REFERENCES users (id) ON DELETE SET NULL,
    title             TEXT    NOT NULL,
    summary           TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    started_at        TIMESTAMPTZ,
    detected_at       TIMESTAMPTZ    NOT NULL,
    affected_services TEXT    NOT NULL DEFAULT '',
    supplier          TEXT,
    supplier_key      TEXT,
    personal_data     BOOLEAN NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'contained', 'resolved', 'closed')),
    indicators        TEXT    NOT NULL DEFAULT '[]',
    tlp               TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    ico_notified_at   TIMESTAMPTZ,
    ico_method        TEXT,
    ico_reference     TEXT,
    sharing           TEXT    NOT NULL DEFAULT 'private' CHECK (sharing IN ('private', 'proposed', 'shared')),
    shared_title      TEXT,
    shared_summary    TEXT,
    shared_tlp        TEXT    CHECK (shared_tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    attribution       TEXT    CHECK (attribution IN ('anonymous', 'named')),
    share_indicators  BOOLEAN NOT NULL DEFAULT FALSE,
    shared_by         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    shared_at         TIMESTAMPTZ,
    lessons           TEXT,
    lessons_shared    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMPTZ    NOT NULL,
    updated_at        TIMESTAMPTZ    NOT NULL,
    closed_at         TIMESTAMPTZ
);
CREATE INDEX incidents_org ON incidents (org_id, created_at);
CREATE INDEX incidents_shared ON incidents (sharing, created_at);
CREATE INDEX incidents_supplier ON incidents (supplier_key);

CREATE TABLE incident_recipients (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    org_id      BIGINT REFERENCES organisations (id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users (id) ON DELETE CASCADE,
    CHECK ((org_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX incident_recipients_incident ON incident_recipients (incident_id);

CREATE TABLE incident_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ    NOT NULL,
    recorded_at TIMESTAMPTZ    NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('reported', 'updated', 'status', 'escalation', 'ico', 'sharing', 'lessons', 'warning', 'note')),
    target      TEXT,
    reference   TEXT,
    detail      TEXT    NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

CREATE TABLE incident_access (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ    NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    view        TEXT    NOT NULL,
    ip          TEXT
);
CREATE INDEX incident_access_incident ON incident_access (incident_id, at);

CREATE TABLE incident_warnings (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    org_id      BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    supplier    TEXT    NOT NULL,
    alert_id    BIGINT REFERENCES alerts (id) ON DELETE SET NULL,
    at          TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (incident_id, org_id, supplier)
);

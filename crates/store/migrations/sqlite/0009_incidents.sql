-- Confidential incident reports (see openwarp_core::incident for who may see
-- what). `public_id` is random and unguessable: it is the only id that
-- leaves the server (URLs, API, exports). The sanitised version lives on the
-- incident row (shared_*) with its recipients; the timeline and escalation
-- log in incident_events; every read and change in incident_access; the
-- shared-supplier warnings sent in incident_warnings.

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    public_id         TEXT    NOT NULL UNIQUE,
    org_id            INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    reporter_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    title             TEXT    NOT NULL,
    summary           TEXT    NOT NULL,
    category          TEXT    NOT NULL,
    started_at        TEXT,
    detected_at       TEXT    NOT NULL,
    affected_services TEXT    NOT NULL DEFAULT '',
    supplier          TEXT,
    supplier_key      TEXT,
    personal_data     BOOLEAN NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'contained', 'resolved', 'closed')),
    indicators        TEXT    NOT NULL DEFAULT '[]',
    tlp               TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    ico_notified_at   TEXT,
    ico_method        TEXT,
    ico_reference     TEXT,
    sharing           TEXT    NOT NULL DEFAULT 'private' CHECK (sharing IN ('private', 'proposed', 'shared')),
    shared_title      TEXT,
    shared_summary    TEXT,
    shared_tlp        TEXT    CHECK (shared_tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    attribution       TEXT    CHECK (attribution IN ('anonymous', 'named')),
    share_indicators  BOOLEAN NOT NULL DEFAULT 0,
    shared_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    shared_at         TEXT,
    lessons           TEXT,
    lessons_shared    BOOLEAN NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    closed_at         TEXT
);
CREATE INDEX incidents_org ON incidents (org_id, created_at);
CREATE INDEX incidents_shared ON incidents (sharing, created_at);
CREATE INDEX incidents_supplier ON incidents (supplier_key);

CREATE TABLE incident_recipients (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    org_id      INTEGER REFERENCES organisations (id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    CHECK ((org_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX incident_recipients_incident ON incident_recipients (incident_id);

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('reported', 'updated', 'status', 'escalation', 'ico', 'sharing', 'lessons', 'warning', 'note')),
    target      TEXT,
    reference   TEXT,
    detail      TEXT    NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

CREATE TABLE incident_access (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    view        TEXT    NOT NULL,
    ip          TEXT
);
CREATE INDEX incident_access_incident ON incident_access (incident_id, at);

CREATE TABLE incident_warnings (
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    org_id      INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    supplier    TEXT    NOT NULL,
    alert_id    INTEGER REFERENCES alerts (id) ON DELETE SET NULL,
    at          TEXT    NOT NULL,
    PRIMARY KEY (incident_id, org_id, supplier)
);

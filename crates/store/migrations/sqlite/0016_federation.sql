-- Federation (issue 9): STIX 2.1 over TAXII 2.1 with peer WARPs (see
-- openwarp_core::federation for the rules).
--
-- federation_peers: one row per peer WARP, both directions. How they read
-- us (a login and a token kept only as its SHA-256 hash, the audience and
-- whether they are trusted with TLP:AMBER) and how we read them (their API
-- root, the collection, the credential they gave us, which is never shown
-- back), the poller's resume point (`added_after`), its lease (so one of
-- several instances polls a peer at a time) and how the last poll went.
--
-- federation_consents: the reporter's "may leave the WARP" for an incident
-- (subject `incident:{public id}`); without it nothing of the incident is
-- published. federation_need_to_know: the peers a TLP:AMBER object is
-- released to (subject `incident:{public id}` or `advisory:{id}`).
--
-- taxii_objects: what we publish, one row per object version, with the TLP
-- it carries and the subject it came from; `date_added` orders the
-- collections for paging. taxii_served: every object version served to a
-- peer. partner_objects / partner_cves: what we received, with provenance.
-- Timestamps are RFC 3339 UTC text written by the application.

CREATE TABLE federation_peers (
    id                  INTEGER PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    enabled             BOOLEAN NOT NULL DEFAULT 1,
    incoming_login      TEXT    UNIQUE,
    incoming_token_hash TEXT    UNIQUE,
    audience            TEXT    NOT NULL CHECK (audience IN ('public', 'partner')),
    need_to_know        BOOLEAN NOT NULL DEFAULT 0,
    api_root_url        TEXT,
    collection_id       TEXT,
    outgoing_login      TEXT,
    outgoing_secret     TEXT,
    poll_minutes        INTEGER NOT NULL DEFAULT 15 CHECK (poll_minutes BETWEEN 1 AND 1440),
    added_after         TEXT,
    next_poll_at        TEXT,
    last_poll_at        TEXT,
    last_success_at     TEXT,
    last_error          TEXT,
    last_received       INTEGER NOT NULL DEFAULT 0,
    lease_holder        TEXT,
    lease_until         TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL
);

CREATE TABLE federation_consents (
    subject    TEXT    PRIMARY KEY,
    by_user    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at         TEXT    NOT NULL
);

CREATE TABLE federation_need_to_know (
    subject    TEXT    NOT NULL,
    peer_id    INTEGER NOT NULL REFERENCES federation_peers (id) ON DELETE CASCADE,
    by_user    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (subject, peer_id)
);

CREATE TABLE taxii_objects (
    id         INTEGER PRIMARY KEY,
    stix_id    TEXT    NOT NULL,
    stix_type  TEXT    NOT NULL,
    modified   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    tlp        TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber')),
    body       TEXT    NOT NULL,
    date_added TEXT    NOT NULL,
    UNIQUE (stix_id, modified)
);
CREATE INDEX taxii_objects_added ON taxii_objects (date_added, id);
CREATE INDEX taxii_objects_subject ON taxii_objects (subject);

CREATE TABLE taxii_served (
    id         INTEGER PRIMARY KEY,
    peer_id    INTEGER NOT NULL REFERENCES federation_peers (id) ON DELETE CASCADE,
    collection TEXT    NOT NULL,
    stix_id    TEXT    NOT NULL,
    modified   TEXT    NOT NULL,
    tlp        TEXT    NOT NULL,
    at         TEXT    NOT NULL
);
CREATE INDEX taxii_served_peer ON taxii_served (peer_id, at);

CREATE TABLE partner_objects (
    id          INTEGER PRIMARY KEY,
    peer_id     INTEGER NOT NULL REFERENCES federation_peers (id) ON DELETE CASCADE,
    collection  TEXT    NOT NULL,
    stix_id     TEXT    NOT NULL,
    stix_type   TEXT    NOT NULL,
    modified    TEXT    NOT NULL,
    tlp         TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber')),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    UNIQUE (peer_id, stix_id, modified)
);
CREATE INDEX partner_objects_received ON partner_objects (received_at);

CREATE TABLE partner_cves (
    partner_object_id INTEGER NOT NULL REFERENCES partner_objects (id) ON DELETE CASCADE,
    cve               TEXT    NOT NULL,
    PRIMARY KEY (partner_object_id, cve)
);
CREATE INDEX partner_cves_cve ON partner_cves (cve);

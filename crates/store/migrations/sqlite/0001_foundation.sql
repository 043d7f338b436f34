-- Foundation: member organisations, named users, invitations, sessions,
-- password resets, API tokens, login throttling and the audit log.
-- Timestamps are RFC 3339 UTC text written by the application (never the
-- database clock), so they compare correctly as strings.

CREATE TABLE organisations (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    name_key             TEXT    NOT NULL UNIQUE,
    council_type         TEXT    NOT NULL CHECK (council_type IN ('district_borough', 'unitary', 'county', 'other_public_sector')),
    employers_member     BOOLEAN NOT NULL CHECK (employers_member IN (0, 1)),
    status               TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'lapsed', 'suspended', 'left')),
    renewal_date         TEXT    NOT NULL,
    senior_officer_name  TEXT    NOT NULL DEFAULT '',
    senior_officer_email TEXT    NOT NULL DEFAULT '',
    senior_officer_phone TEXT    NOT NULL DEFAULT '',
    lead_member_name     TEXT    NOT NULL DEFAULT '',
    lead_member_email    TEXT    NOT NULL DEFAULT '',
    lead_member_phone    TEXT    NOT NULL DEFAULT '',
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('operator', 'member_lead', 'member_user')),
    org_id        INTEGER REFERENCES organisations (id),
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT    NOT NULL,
    last_login_at TEXT,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invitations (
    id               INTEGER PRIMARY KEY,
    token_hash       TEXT    NOT NULL UNIQUE,
    email            TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('operator', 'member_lead', 'member_user')),
    org_id           INTEGER REFERENCES organisations (id),
    invited_by       INTEGER REFERENCES users (id),
    created_at       TEXT    NOT NULL,
    expires_at       TEXT    NOT NULL,
    accepted_at      TEXT,
    accepted_user_id INTEGER REFERENCES users (id),
    revoked_at       TEXT,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_seen_at TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_at    TEXT
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    email_key TEXT NOT NULL,
    ip        TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email_key, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor_user_id INTEGER REFERENCES users (id),
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    org_id        INTEGER REFERENCES organisations (id),
    target        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    ip            TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

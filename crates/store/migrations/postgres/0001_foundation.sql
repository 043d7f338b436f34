-- Foundation: member organisations, named users, invitations, sessions,
-- password resets, API tokens, login throttling and the audit log.
-- Timestamps are TIMESTAMPTZ written by the application (never the
-- database clock), so both backends agree on "now".

CREATE TABLE organisations (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 TEXT    NOT NULL,
    name_key             TEXT    NOT NULL UNIQUE,
    council_type         TEXT    NOT NULL CHECK (council_type IN ('district_borough', 'unitary', 'county', 'other_public_sector')),
    employers_member     BOOLEAN NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'lapsed', 'suspended', 'left')),
    renewal_date         DATE    NOT NULL,
    senior_officer_name  TEXT    NOT NULL DEFAULT '',
    senior_officer_email TEXT    NOT NULL DEFAULT '',
    senior_officer_phone TEXT    NOT NULL DEFAULT '',
    lead_member_name     TEXT    NOT NULL DEFAULT '',
    lead_member_email    TEXT    NOT NULL DEFAULT '',
    lead_member_phone    TEXT    NOT NULL DEFAULT '',
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('operator', 'member_lead', 'member_user')),
    org_id        BIGINT REFERENCES organisations (id),
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    last_login_at TIMESTAMPTZ,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE invitations (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash       TEXT    NOT NULL UNIQUE,
    email            TEXT    NOT NULL,
    role             TEXT    NOT NULL CHECK (role IN ('operator', 'member_lead', 'member_user')),
    org_id           BIGINT REFERENCES organisations (id),
    invited_by       BIGINT REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    accepted_user_id BIGINT REFERENCES users (id),
    revoked_at       TIMESTAMPTZ,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE sessions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE password_resets (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_key TEXT NOT NULL,
    ip        TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email_key, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    org_id        BIGINT REFERENCES organisations (id),
    target        TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    ip            TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Issue 10: multi-factor sign-in and stricter sessions.
-- A session's stage: 'full' (signed in), 'mfa' (password right, one-time code
-- still owed) or 'enrol' (password right, must set up a second factor before
-- anything else). Only 'full' sessions reach the application.
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';

-- A member lead can require a second factor of everyone in the organisation
-- (operators always need one).
ALTER TABLE organisations ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

-- One authenticator per user. confirmed_at is NULL while enrolment waits for
-- the first code. last_step is the newest RFC 6238 step accepted: a code is
-- only taken for a later step, so none works twice.
CREATE TABLE user_mfa (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB    NOT NULL,
    created_at   TEXT    NOT NULL,
    confirmed_at TEXT,
    last_step    INTEGER NOT NULL DEFAULT 0
);

-- Single-use recovery codes, stored only as SHA-256 hashes.
CREATE TABLE mfa_recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   TEXT,
    UNIQUE (user_id, code_hash)
);

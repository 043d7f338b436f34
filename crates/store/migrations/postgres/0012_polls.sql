-- Group questions and polls (see openwarp_core::poll for the rules and
-- crates/store/src/polls.rs for why the tables look like this).
--
-- Anonymous means not stored against the person: an anonymous poll's
-- ballots go to poll_anonymous_ballots, which has no user column, no
-- timestamp and a random key (on SQLite, no rowid either, so its storage
-- order is the random key's, not the order of voting). Who has answered is a separate
-- marker in poll_voters (no timestamp either), written in the same
-- transaction; its primary key is what refuses a second ballot. Named
-- ballots, which may be changed while the poll is open, live in
-- poll_ballots against their user. (PostgreSQL's heap keeps rows roughly in
-- the order written; see polls.rs for what that does and does not reveal.)

CREATE TABLE polls (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('question', 'single', 'multiple')),
    question   TEXT    NOT NULL,
    details    TEXT    NOT NULL DEFAULT '',
    options    TEXT    NOT NULL DEFAULT '[]',
    anonymous  BOOLEAN NOT NULL,
    asked_by   BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ    NOT NULL,
    closes_at  TIMESTAMPTZ,
    closed_at  TIMESTAMPTZ,
    closed_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX polls_created ON polls (created_at);

CREATE TABLE poll_voters (
    poll_id BIGINT  NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (poll_id, user_id)
);

CREATE TABLE poll_ballots (
    poll_id BIGINT  NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    choices TEXT    NOT NULL DEFAULT '[]',
    answer  TEXT,
    cast_at TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);

CREATE TABLE poll_anonymous_ballots (
    ballot_id TEXT    NOT NULL PRIMARY KEY,
    poll_id   BIGINT  NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    choices   TEXT    NOT NULL DEFAULT '[]',
    answer    TEXT
);
CREATE INDEX poll_anonymous_ballots_poll ON poll_anonymous_ballots (poll_id, ballot_id);

-- "Tell me about new questions and polls": one row per user who opted in.
CREATE TABLE poll_notify (
    user_id  BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    since    TIMESTAMPTZ    NOT NULL
);

-- Discussion: topics, threads and posts (see openwarp_core::discussion for
-- the rules and crates/store/src/discussion.rs for the store).
--
-- A post keeps its Markdown source only; it is rendered and sanitised when
-- read. A hidden post is kept with who hid it, when and why; its text is
-- never shown. Notification settings default to on: a user without a row in
-- discussion_notify gets both kinds of e-mail.

CREATE TABLE discussion_topics (
    id          INTEGER PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL
);

CREATE TABLE discussion_threads (
    id           INTEGER PRIMARY KEY,
    topic_id     INTEGER NOT NULL REFERENCES discussion_topics (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    created_by   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    last_post_at TEXT    NOT NULL,
    locked_at    TEXT,
    locked_by    INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX discussion_threads_topic ON discussion_threads (topic_id, last_post_at);

CREATE TABLE discussion_posts (
    id            INTEGER PRIMARY KEY,
    thread_id     INTEGER NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    author_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body          TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    edited_at     TEXT,
    hidden_at     TEXT,
    hidden_by     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    hidden_reason TEXT
);
CREATE INDEX discussion_posts_thread ON discussion_posts (thread_id, id);

CREATE TABLE discussion_notify (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    replies  BOOLEAN NOT NULL CHECK (replies IN (0, 1)),
    mentions BOOLEAN NOT NULL CHECK (mentions IN (0, 1))
);

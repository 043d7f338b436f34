-- Discussion: topics, threads and posts (see openwarp_core::discussion for
-- the rules and crates/store/src/discussion.rs for the store).
--
-- A post keeps its Markdown source only; it is rendered and sanitised when
-- read. A hidden post is kept with who hid it, when and why; its text is
-- never shown. Notification settings default to on: a user without a row in
-- discussion_notify gets both kinds of e-mail.

CREATE TABLE discussion_topics (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_by  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ    NOT NULL
);

CREATE TABLE discussion_threads (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic_id     BIGINT  NOT NULL REFERENCES discussion_topics (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL,
    created_by   BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ    NOT NULL,
    last_post_at TIMESTAMPTZ    NOT NULL,
    locked_at    TIMESTAMPTZ,
    locked_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX discussion_threads_topic ON discussion_threads (topic_id, last_post_at);

CREATE TABLE discussion_posts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id     BIGINT  NOT NULL REFERENCES discussion_threads (id) ON DELETE CASCADE,
    author_id     BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    body          TEXT    NOT NULL,
    created_at    TIMESTAMPTZ    NOT NULL,
    edited_at     TIMESTAMPTZ,
    hidden_at     TIMESTAMPTZ,
    hidden_by     BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    hidden_reason TEXT
);
CREATE INDEX discussion_posts_thread ON discussion_posts (thread_id, id);

CREATE TABLE discussion_notify (
    user_id  BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    replies  BOOLEAN NOT NULL,
    mentions BOOLEAN NOT NULL
);

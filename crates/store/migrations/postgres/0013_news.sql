-- News items and the library of useful links (see openwarp_core::news for
-- the rules). Operators write them; every signed-in user reads published
-- news and the links. A news item is a draft while published_at is NULL.
-- A link's tags live one per row in link_tags, so the library can filter by
-- tag and count each tag without parsing text.

CREATE TABLE news_items (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    source_url   TEXT,
    published_at TIMESTAMPTZ,
    posted_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX news_items_published ON news_items (published_at);

CREATE TABLE links (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL CHECK (kind IN ('link', 'guidance')),
    added_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE link_tags (
    link_id BIGINT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    tag     TEXT   NOT NULL,
    PRIMARY KEY (link_id, tag)
);
CREATE INDEX link_tags_tag ON link_tags (tag);

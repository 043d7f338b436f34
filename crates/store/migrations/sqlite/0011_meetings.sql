-- Members' meetings (see openwarp_core::meeting for the rules). Meetings and
-- their agenda, RSVPs and minutes are for signed-in members and operators;
-- the outline of discussions (meeting_topics) is public. An RSVP is one row
-- per meeting and user; the store counts "yes" answers against the capacity
-- in the transaction that writes one, with the meeting row locked first.

CREATE TABLE meetings (
    id                 INTEGER PRIMARY KEY,
    title              TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    starts_at          TEXT    NOT NULL,
    ends_at            TEXT    NOT NULL,
    venue              TEXT,
    online_url         TEXT,
    capacity           INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    minutes            TEXT,
    minutes_tlp        TEXT    CHECK (minutes_tlp IN ('clear', 'green', 'amber', 'amber_strict')),
    minutes_updated_at TEXT,
    rsvp_version       INTEGER NOT NULL DEFAULT 0,
    created_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (venue IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX meetings_starts ON meetings (starts_at);

CREATE TABLE meeting_agenda_items (
    id           INTEGER PRIMARY KEY,
    meeting_id   INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    speaker      TEXT,
    organisation TEXT,
    presenter    TEXT    NOT NULL CHECK (presenter IN ('member', 'government', 'industry'))
);
CREATE INDEX meeting_agenda_items_meeting ON meeting_agenda_items (meeting_id, position);

CREATE TABLE meeting_rsvps (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    answer      TEXT    NOT NULL CHECK (answer IN ('yes', 'no', 'maybe')),
    answered_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    answered_at TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_rsvps_user ON meeting_rsvps (user_id);

CREATE TABLE meeting_attendance (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE meeting_topics (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, position)
);

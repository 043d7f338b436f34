-- Members' meetings (see openwarp_core::meeting for the rules). Meetings and
-- their agenda, RSVPs and minutes are for signed-in members and operators;
-- the outline of discussions (meeting_topics) is public. An RSVP is one row
-- per meeting and user; the store counts "yes" answers against the capacity
-- in the transaction that writes one, with the meeting row locked first.

CREATE TABLE meetings (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title              TEXT    NOT NULL,
    description        TEXT    NOT NULL DEFAULT '',
    starts_at          TIMESTAMPTZ    NOT NULL,
    ends_at            TIMESTAMPTZ    NOT NULL,
    venue              TEXT,
    online_url         TEXT,
    capacity           BIGINT CHECK (capacity IS NULL OR capacity >= 1),
    minutes            TEXT,
    minutes_tlp        TEXT    CHECK (minutes_tlp IN ('clear', 'green', 'amber', 'amber_strict')),
    minutes_updated_at TIMESTAMPTZ,
    rsvp_version       BIGINT NOT NULL DEFAULT 0,
    created_by         BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ    NOT NULL,
    updated_at         TIMESTAMPTZ    NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (venue IS NOT NULL OR online_url IS NOT NULL)
);
CREATE INDEX meetings_starts ON meetings (starts_at);

CREATE TABLE meeting_agenda_items (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting_id   BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    title        TEXT    NOT NULL,
    speaker      TEXT,
    organisation TEXT,
    presenter    TEXT    NOT NULL CHECK (presenter IN ('member', 'government', 'industry'))
);
CREATE INDEX meeting_agenda_items_meeting ON meeting_agenda_items (meeting_id, position);

CREATE TABLE meeting_rsvps (
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    answer      TEXT    NOT NULL CHECK (answer IN ('yes', 'no', 'maybe')),
    answered_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    answered_at TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX meeting_rsvps_user ON meeting_rsvps (user_id);

CREATE TABLE meeting_attendance (
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    recorded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TIMESTAMPTZ    NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE meeting_topics (
    meeting_id BIGINT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    topic      TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, position)
);

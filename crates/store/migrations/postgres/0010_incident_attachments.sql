-- Evidence files of an incident (a phishing e-mail, screenshots, logs,
-- PDFs): part of the full report, read only by those who read it (see
-- openwarp_core::incident). Kept in the database, so a backup of the
-- database is a backup of the evidence. `public_id` is random and
-- unguessable (`att-…`) and is looked up only together with its incident's;
-- `content_type` is as declared (downloads of anything a browser could run
-- are served as application/octet-stream); `sha256` is the hex digest of
-- `data`, for chain of custody.

CREATE TABLE incident_attachments (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,
    incident_id  BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         BIGINT NOT NULL CHECK (size > 0),
    sha256       TEXT    NOT NULL,
    data         BYTEA   NOT NULL,
    uploaded_by  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    uploaded_at  TIMESTAMPTZ    NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments (incident_id, uploaded_at);

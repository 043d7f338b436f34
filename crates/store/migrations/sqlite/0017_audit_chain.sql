-- Issue 10: a tamper-evident audit log. Each entry carries its place in the
-- chain (seq), the previous entry's hash and its own: SHA-256 over the
-- previous hash and the entry's fields. audit_head holds the newest seq and
-- hash, so appending is one locked row and cutting entries off the end is
-- seen. Entries written before this migration are chained, in id order, by
-- the first `migrate` that runs it (see Store::migrate).
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

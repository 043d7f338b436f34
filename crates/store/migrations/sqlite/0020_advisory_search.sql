-- Issue 10: advisory search by index. `advisories.search_text` stays the
-- one truth; these tables follow it by triggers, so every write path keeps
-- them in step.
--
-- `advisory_search` is a narrow copy (vuln_id + search_text) with an
-- INTEGER PRIMARY KEY, which VACUUM and VACUUM INTO (our backups) keep; the
-- wide `advisories` rows have only an implicit rowid, which they may not.
-- `advisory_search_fts` is an FTS5 index over it with the trigram tokenizer:
-- a quoted phrase of 3+ characters finds the rows containing it as a
-- substring. The store rechecks each word with LIKE on the narrow table, so
-- the answers are exactly those of `search_text LIKE '%word%'`, and words
-- shorter than 3 characters scan the narrow table instead of the wide one.
CREATE TABLE advisory_search (
    id          INTEGER PRIMARY KEY,
    vuln_id     TEXT NOT NULL UNIQUE,
    search_text TEXT NOT NULL
);

CREATE VIRTUAL TABLE advisory_search_fts USING fts5(
    search_text,
    content = 'advisory_search',
    content_rowid = 'id',
    tokenize = 'trigram'
);

CREATE TRIGGER advisory_search_fts_insert AFTER INSERT ON advisory_search BEGIN
    INSERT INTO advisory_search_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER advisory_search_fts_delete AFTER DELETE ON advisory_search BEGIN
    INSERT INTO advisory_search_fts (advisory_search_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER advisory_search_fts_update AFTER UPDATE ON advisory_search BEGIN
    INSERT INTO advisory_search_fts (advisory_search_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    INSERT INTO advisory_search_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE TRIGGER advisories_search_insert AFTER INSERT ON advisories BEGIN
    INSERT INTO advisory_search (vuln_id, search_text) VALUES (new.vuln_id, new.search_text);
END;
CREATE TRIGGER advisories_search_update AFTER UPDATE OF vuln_id, search_text ON advisories
WHEN old.vuln_id IS NOT new.vuln_id OR old.search_text IS NOT new.search_text BEGIN
    UPDATE advisory_search SET vuln_id = new.vuln_id, search_text = new.search_text
        WHERE vuln_id = old.vuln_id;
END;
CREATE TRIGGER advisories_search_delete AFTER DELETE ON advisories BEGIN
    DELETE FROM advisory_search WHERE vuln_id = old.vuln_id;
END;

-- Backfill: the insert trigger above fills the FTS index row by row.
INSERT INTO advisory_search (vuln_id, search_text) SELECT vuln_id, search_text FROM advisories;

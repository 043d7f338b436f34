-- Issue 10: advisory search by index. The search is
-- `search_text LIKE '%word%'` per word; a pg_trgm GIN index answers such
-- patterns (3+ characters; shorter words are still answered, by the
-- recheck, without the index's help) and follows every write by itself.
--
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since
-- PostgreSQL 13, so a database owner may create it. Where it cannot be
-- created (not installed, or no privilege), the upgrade goes on with a
-- warning and search keeps working, unindexed; docs/operations.md says how
-- to add the index afterwards.
DO $$
DECLARE
    trgm_schema name;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE WARNING 'openwarp: the pg_trgm extension could not be created (%); advisory search will work without an index. See docs/operations.md, "Advisory search on PostgreSQL".', SQLERRM;
    END;
    SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS advisories_search_trgm ON advisories USING gin (search_text %I.gin_trgm_ops)',
            trgm_schema);
    END IF;
END $$;

-- Vulnerabilities whose records changed but which have not yet been matched
-- against the inventories. Written in the ingest's own transaction and
-- removed once matching (and the alerts it raises) has committed, so a crash
-- in between is finished on the next start instead of losing those alerts.
CREATE TABLE match_pending (
    vuln_id   TEXT PRIMARY KEY,
    alerting  BOOLEAN NOT NULL,
    queued_at TEXT NOT NULL
);

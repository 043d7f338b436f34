-- Advisories: every source's record about a vulnerability (keyed by source and
-- record id, with a content hash for idempotent re-ingest; the body is the
-- record as deflate-compressed JSON), one summarised
-- advisory per vulnerability, aliases linking ids across sources, a change log
-- people can read, and EPSS scores.

CREATE TABLE source_records (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    vuln_id       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    body          BYTEA NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    changed_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (source, record_id)
);
CREATE INDEX source_records_vuln ON source_records (vuln_id);

CREATE TABLE advisories (
    vuln_id        TEXT    PRIMARY KEY,
    title          TEXT    NOT NULL,
    published      TIMESTAMPTZ,
    modified       TIMESTAMPTZ,
    cvss_score     DOUBLE PRECISION,
    cvss_version   TEXT,
    cvss_vector    TEXT,
    severity       TEXT,
    kev_date_added DATE,
    kev_due_date   DATE,
    kev_ransomware BOOLEAN NOT NULL DEFAULT FALSE,
    rejected       BOOLEAN NOT NULL DEFAULT FALSE,
    sources        TEXT    NOT NULL,
    search_text    TEXT    NOT NULL,
    summary        BYTEA    NOT NULL,
    updated_at     TIMESTAMPTZ    NOT NULL
);
CREATE INDEX advisories_modified ON advisories (modified);
CREATE INDEX advisories_published ON advisories (published);
CREATE INDEX advisories_score ON advisories (cvss_score);
CREATE INDEX advisories_kev ON advisories (kev_date_added);

CREATE TABLE advisory_aliases (
    alias   TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    PRIMARY KEY (alias, vuln_id)
);
CREATE INDEX advisory_aliases_vuln ON advisory_aliases (vuln_id);

CREATE TABLE advisory_products (
    vendor  TEXT NOT NULL,
    product TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    PRIMARY KEY (vendor, product, vuln_id)
);
CREATE INDEX advisory_products_vuln ON advisory_products (vuln_id);

CREATE TABLE advisory_changes (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vuln_id   TEXT NOT NULL,
    source    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    summary   TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX advisory_changes_vuln ON advisory_changes (vuln_id, id);
CREATE INDEX advisory_changes_at ON advisory_changes (at);

CREATE TABLE epss_scores (
    cve_id        TEXT PRIMARY KEY,
    score         DOUBLE PRECISION NOT NULL,
    percentile    DOUBLE PRECISION NOT NULL,
    model_version TEXT,
    score_date    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL
);

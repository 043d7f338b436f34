-- Alerts: what each named user wants, per-organisation defaults and webhooks,
-- WARP advisories, alerts (one per organisation and event) and the delivery
-- outbox.
--
-- Delivery is at-least-once through `deliveries`: every row has a unique
-- idempotency key (alert × user × channel, or digest × user × period), so a
-- user is never queued the same alert twice; workers claim due rows with a
-- lease (and, on PostgreSQL, FOR UPDATE SKIP LOCKED), so two instances never
-- send the same row at once; the key travels with the message (Message-ID,
-- Idempotency-Key header) so a receiver can drop the rare resend after a crash.

ALTER TABLE exposures ADD COLUMN alert_state TEXT;

CREATE TABLE alert_defaults (
    org_id        BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    immediate_min BIGINT NOT NULL CHECK (immediate_min BETWEEN 0 AND 4),
    digest        TEXT    NOT NULL CHECK (digest IN ('daily', 'weekly', 'off')),
    updated_at    TIMESTAMPTZ    NOT NULL,
    updated_by    BIGINT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE subscriptions (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    immediate_min BIGINT CHECK (immediate_min BETWEEN 0 AND 4),
    digest        TEXT    CHECK (digest IN ('daily', 'weekly', 'off')),
    filters       TEXT    NOT NULL DEFAULT '[]',
    paused        BOOLEAN NOT NULL DEFAULT FALSE,
    unsubscribed  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at    TIMESTAMPTZ    NOT NULL
);

CREATE TABLE webhooks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    format       TEXT    NOT NULL CHECK (format IN ('json', 'teams', 'slack')),
    secret       TEXT    NOT NULL,
    min_priority BIGINT NOT NULL CHECK (min_priority BETWEEN 1 AND 4),
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ    NOT NULL,
    created_by   BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX webhooks_org ON webhooks (org_id);

CREATE TABLE warp_advisories (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title        TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    tlp          TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber_strict', 'red')),
    priority     BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 4),
    audience     TEXT    NOT NULL CHECK (audience IN ('all', 'products')),
    products     TEXT    NOT NULL DEFAULT '[]',
    cves         TEXT    NOT NULL DEFAULT '[]',
    links        TEXT    NOT NULL DEFAULT '[]',
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'in_review', 'published', 'withdrawn')),
    author_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reviewer_id  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    review_note  TEXT,
    created_at   TIMESTAMPTZ    NOT NULL,
    updated_at   TIMESTAMPTZ    NOT NULL,
    submitted_at TIMESTAMPTZ,
    published_at TIMESTAMPTZ
);
CREATE INDEX warp_advisories_status ON warp_advisories (status, published_at);

CREATE TABLE alerts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id           BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL CHECK (kind IN ('new', 'update', 'warp')),
    vuln_id          TEXT,
    warp_advisory_id BIGINT REFERENCES warp_advisories (id) ON DELETE CASCADE,
    priority         BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 4),
    tlp              TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    content          TEXT    NOT NULL,
    dedup_key        TEXT    NOT NULL UNIQUE,
    created_at       TIMESTAMPTZ    NOT NULL
);
CREATE INDEX alerts_org ON alerts (org_id, created_at);

CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('alert', 'digest')),
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    org_id          BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    alert_id        BIGINT REFERENCES alerts (id) ON DELETE CASCADE,
    user_id         BIGINT REFERENCES users (id) ON DELETE CASCADE,
    webhook_id      BIGINT REFERENCES webhooks (id) ON DELETE CASCADE,
    payload         TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ    NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ    NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_alert ON deliveries (alert_id);
CREATE INDEX deliveries_user ON deliveries (user_id, created_at);

CREATE TABLE instance_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Digest windows already turned into deliveries (see openwarp_matching::alert::digest_period).
CREATE TABLE digest_runs (
    period_key TEXT PRIMARY KEY,
    done_at    TIMESTAMPTZ NOT NULL
);

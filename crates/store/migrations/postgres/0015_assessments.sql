-- Cyber-security self-assessment (see openwarp_core::assessment for the
-- rules and crates/store/src/assessments.rs for why the tables look so).
--
-- assessment_frameworks keeps every framework version an answer or a
-- submission was made against, as its TOML source, so a submission is
-- always read with the questions it answered.
-- assessment_answers is each member's working copy, saved a page at a time
-- over several sittings; it stays after a submission, ready for next year.
-- assessment_submissions are snapshots (grades and evidence notes as JSON)
-- and are never changed: a trigger refuses UPDATE.

CREATE TABLE assessment_frameworks (
    framework_id TEXT NOT NULL,
    version      TEXT NOT NULL,
    title        TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    source       TEXT NOT NULL,
    installed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (framework_id, version)
);

CREATE TABLE assessment_answers (
    org_id       BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    framework_id TEXT   NOT NULL,
    question_id  TEXT   NOT NULL,
    grade        TEXT   CHECK (grade IN ('not_achieved', 'partially_achieved', 'achieved')),
    evidence     TEXT   NOT NULL DEFAULT '',
    updated_by   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, framework_id, question_id)
);

CREATE TABLE assessment_submissions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    framework_id TEXT   NOT NULL,
    version      TEXT   NOT NULL,
    submitted_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    answers      TEXT   NOT NULL,
    FOREIGN KEY (framework_id, version) REFERENCES assessment_frameworks (framework_id, version)
);
CREATE INDEX assessment_submissions_org ON assessment_submissions (framework_id, org_id, submitted_at);

CREATE FUNCTION assessment_submissions_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'assessment submissions are never changed';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER assessment_submissions_immutable BEFORE UPDATE ON assessment_submissions
    FOR EACH ROW EXECUTE FUNCTION assessment_submissions_immutable();

//! Cyber-security self-assessments (the rules are
//! [`openwarp_core::assessment`]'s).
//!
//! # Three tables
//! - `assessment_frameworks`: every framework version anything was saved
//!   against, with its TOML source, so an old submission is always read
//!   with the questions it answered ([`Store::install_framework`]; the same
//!   id and version with different content is refused: a changed file
//!   needs a new version).
//! - `assessment_answers`: a member's working copy, one row per question,
//!   saved a page at a time over several sittings. It stays after a
//!   submission, so next year starts from last year's answers.
//! - `assessment_submissions`: snapshots of the working copy (grades and
//!   evidence notes as JSON), written in one transaction that checks every
//!   question is graded. They are never changed: there is no method that
//!   updates one, and a trigger on both backends refuses `UPDATE`.
//!
//! # What leaves the organisation
//! [`Store::region_submissions`], which feeds the benchmark, the operators'
//! view and the export, returns grades only: evidence notes are emptied
//! before they leave this module.

use crate::{Result, Store, StoreError, conflict_on_unique, corrupt, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::assessment::{Answer, Answers, Framework, check_complete};
use openwarp_core::{CouncilType, OrgId, UserId, ValidationErrors};
use serde::Serialize;

/// A framework version as installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFramework {
    pub framework_id: String,
    pub version: String,
    pub title: String,
    pub file_name: String,
    /// The TOML it was read from.
    pub source: String,
    pub installed_at: DateTime<Utc>,
}

/// A member's working copy of one framework's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkingCopy {
    pub answers: Answers,
    /// When and by whom it was last saved (none if never).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
}

/// A submission, as a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: i64,
    pub org_id: OrgId,
    pub framework_id: String,
    pub version: String,
    pub submitted_at: DateTime<Utc>,
    /// `None` once the account is gone.
    pub submitted_by: Option<String>,
    pub answers: Answers,
}

/// One organisation's latest (and previous) submission for the region's
/// figures: grades only, evidence notes emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionSubmission {
    pub org_id: OrgId,
    pub org_name: String,
    pub council_type: CouncilType,
    pub submission_id: i64,
    pub version: String,
    pub submitted_at: DateTime<Utc>,
    pub answers: Answers,
    /// The submission before, if any (grades only).
    pub previous: Option<(String, Answers)>,
}

/// A member organisation for coverage: every member not suspended or left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessedMember {
    pub org_id: OrgId,
    pub name: String,
    pub council_type: CouncilType,
}

/// Why a submission was not stored.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Some questions have no grade; nothing was written.
    #[error("{0}")]
    Incomplete(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SubmitError {
    fn from(e: sqlx::Error) -> SubmitError {
        SubmitError::Store(e.into())
    }
}

type AnswerRow = (String, Option<String>, String);

fn answers_from_rows(rows: Vec<AnswerRow>) -> Result<Answers> {
    rows.into_iter()
        .map(|(q, grade, evidence)| {
            let grade = match grade {
                None => None,
                Some(g) => Some(
                    openwarp_core::assessment::Grade::parse(&g)
                        .ok_or_else(|| corrupt(format!("assessment grade {g}")))?,
                ),
            };
            Ok((q, Answer { grade, evidence }))
        })
        .collect()
}

fn answers_from_json(raw: &str) -> Result<Answers> {
    serde_json::from_str(raw).map_err(corrupt)
}

/// Grades only: every evidence note emptied.
fn grades_only(mut a: Answers) -> Answers {
    for v in a.values_mut() {
        v.evidence.clear();
    }
    a
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    id: i64,
    org_id: i64,
    framework_id: String,
    version: String,
    submitted_at: DateTime<Utc>,
    submitted_by: Option<String>,
    answers: String,
}

impl TryFrom<SubmissionRow> for Submission {
    type Error = StoreError;
    fn try_from(r: SubmissionRow) -> Result<Submission> {
        Ok(Submission {
            id: r.id,
            org_id: OrgId(r.org_id),
            framework_id: r.framework_id,
            version: r.version,
            submitted_at: r.submitted_at,
            submitted_by: r.submitted_by,
            answers: answers_from_json(&r.answers)?,
        })
    }
}

macro_rules! submission_select {
    () => {
        "SELECT s.id, s.org_id, s.framework_id, s.version, s.submitted_at, \
         u.display_name AS submitted_by, s.answers FROM assessment_submissions s \
         LEFT JOIN users u ON u.id = s.submitted_by"
    };
}

#[derive(sqlx::FromRow)]
struct RegionRow {
    org_id: i64,
    org_name: String,
    council_type: String,
    id: i64,
    version: String,
    submitted_at: DateTime<Utc>,
    answers: String,
    rn: i64,
}

impl Store {
    /// Record a framework version (`source` is the TOML it was read from).
    /// Installing the same version again is a no-op; the same id and
    /// version with different content is a conflict. Returns whether it
    /// was new.
    pub async fn install_framework(
        &self,
        framework: &Framework,
        file_name: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let existing: Option<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT source FROM assessment_frameworks WHERE framework_id = $1 AND version = $2",
            )
            .bind(&framework.id)
            .bind(&framework.version)
            .fetch_optional(p)
            .await
        })?;
        if let Some((stored,)) = existing {
            return if stored == source {
                Ok(false)
            } else {
                Err(StoreError::Conflict(format!(
                    "framework '{}' version '{}' is already installed with different content; \
                     give the changed file a new version",
                    framework.id, framework.version
                )))
            };
        }
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO assessment_frameworks (framework_id, version, title, file_name, source, installed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&framework.id)
            .bind(&framework.version)
            .bind(&framework.title)
            .bind(file_name)
            .bind(source)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(conflict_on_unique(format!(
            "framework '{}' version '{}' was installed at the same moment; try again",
            framework.id, framework.version
        )))?;
        Ok(true)
    }

    /// Every installed framework version, by id then newest installed first.
    pub async fn installed_frameworks(&self) -> Result<Vec<StoredFramework>> {
        let rows: Vec<(String, String, String, String, String, DateTime<Utc>)> = on_pool!(
            self,
            |p| {
                sqlx::query_as(
                    "SELECT framework_id, version, title, file_name, source, installed_at \
                     FROM assessment_frameworks ORDER BY framework_id, installed_at DESC, version DESC",
                )
                .fetch_all(p)
                .await
            }
        )?;
        Ok(rows
            .into_iter()
            .map(
                |(framework_id, version, title, file_name, source, installed_at)| StoredFramework {
                    framework_id,
                    version,
                    title,
                    file_name,
                    source,
                    installed_at,
                },
            )
            .collect())
    }

    /// `org`'s working copy for `framework_id`.
    pub async fn assessment_answers(&self, org: OrgId, framework_id: &str) -> Result<WorkingCopy> {
        let rows: Vec<AnswerRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT question_id, grade, evidence FROM assessment_answers \
                 WHERE org_id = $1 AND framework_id = $2",
            )
            .bind(org.0)
            .bind(framework_id)
            .fetch_all(p)
            .await
        })?;
        let last: Option<(DateTime<Utc>, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT a.updated_at, u.display_name FROM assessment_answers a \
                 LEFT JOIN users u ON u.id = a.updated_by \
                 WHERE a.org_id = $1 AND a.framework_id = $2 ORDER BY a.updated_at DESC LIMIT 1",
            )
            .bind(org.0)
            .bind(framework_id)
            .fetch_optional(p)
            .await
        })?;
        Ok(WorkingCopy {
            answers: answers_from_rows(rows)?,
            updated_at: last.as_ref().map(|(t, _)| *t),
            updated_by: last.and_then(|(_, n)| n),
        })
    }

    /// Save some of `org`'s answers (already checked against the framework
    /// with [`openwarp_core::assessment::validate_answers`]) in one
    /// transaction; questions not given are left as they were. Returns how
    /// many rows changed.
    pub async fn save_assessment_answers(
        &self,
        org: OrgId,
        framework_id: &str,
        answers: &Answers,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let changed = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut changed = 0u64;
            for (q, a) in answers {
                changed += sqlx::query(
                    "INSERT INTO assessment_answers (org_id, framework_id, question_id, grade, evidence, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (org_id, framework_id, question_id) DO UPDATE \
                     SET grade = excluded.grade, evidence = excluded.evidence, \
                         updated_by = excluded.updated_by, updated_at = excluded.updated_at \
                     WHERE assessment_answers.grade IS DISTINCT FROM excluded.grade \
                        OR assessment_answers.evidence <> excluded.evidence",
                )
                .bind(org.0)
                .bind(framework_id)
                .bind(q)
                .bind(a.grade.map(|g| g.as_str()))
                .bind(&a.evidence)
                .bind(by.0)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(changed)
        })?;
        Ok(changed)
    }

    /// Snapshot `org`'s working copy as a submission against `framework`
    /// (installing that version from `source` if needed), in one
    /// transaction that refuses it unless every question is graded.
    pub async fn submit_assessment(
        &self,
        org: OrgId,
        framework: &Framework,
        file_name: &str,
        source: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> std::result::Result<Submission, SubmitError> {
        self.install_framework(framework, file_name, source, now)
            .await?;
        let id = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let rows: Vec<AnswerRow> = sqlx::query_as(
                "SELECT question_id, grade, evidence FROM assessment_answers \
                 WHERE org_id = $1 AND framework_id = $2",
            )
            .bind(org.0)
            .bind(&framework.id)
            .fetch_all(&mut *tx)
            .await?;
            // Only this version's questions go into the snapshot.
            let answers: Answers = answers_from_rows(rows)?
                .into_iter()
                .filter(|(q, _)| framework.question(q).is_some())
                .collect();
            check_complete(framework, &answers).map_err(SubmitError::Incomplete)?;
            let json = serde_json::to_string(&answers).map_err(corrupt)?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO assessment_submissions (org_id, framework_id, version, submitted_by, submitted_at, answers) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(org.0)
            .bind(&framework.id)
            .bind(&framework.version)
            .bind(by.0)
            .bind(now)
            .bind(&json)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, SubmitError>(id)
        })?;
        self.assessment_submission(id)
            .await?
            .ok_or(SubmitError::Store(StoreError::NotFound("submission")))
    }

    /// One submission (whoever's: the caller checks the organisation).
    pub async fn assessment_submission(&self, id: i64) -> Result<Option<Submission>> {
        let row: Option<SubmissionRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, SubmissionRow>(concat!(submission_select!(), " WHERE s.id = $1"))
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.map(Submission::try_from).transpose()
    }

    /// `org`'s submissions of `framework_id`, newest first.
    pub async fn assessment_submissions(
        &self,
        org: OrgId,
        framework_id: &str,
    ) -> Result<Vec<Submission>> {
        let rows: Vec<SubmissionRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, SubmissionRow>(concat!(
                submission_select!(),
                " WHERE s.org_id = $1 AND s.framework_id = $2 \
                 ORDER BY s.submitted_at DESC, s.id DESC"
            ))
            .bind(org.0)
            .bind(framework_id)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter().map(Submission::try_from).collect()
    }

    /// Each current member's latest submission of `framework_id`, with the
    /// one before, grades only (evidence notes never leave the member).
    /// Members suspended or left are not part of the region.
    pub async fn region_submissions(&self, framework_id: &str) -> Result<Vec<RegionSubmission>> {
        let rows: Vec<RegionRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, RegionRow>(
                "SELECT * FROM (SELECT s.org_id, o.name AS org_name, o.council_type, s.id, s.version, \
                 s.submitted_at, s.answers, \
                 ROW_NUMBER() OVER (PARTITION BY s.org_id ORDER BY s.submitted_at DESC, s.id DESC) AS rn \
                 FROM assessment_submissions s JOIN organisations o ON o.id = s.org_id \
                 WHERE s.framework_id = $1 AND o.status IN ('pending', 'active', 'lapsed')) ranked \
                 WHERE rn <= 2 ORDER BY org_name, org_id, rn",
            )
            .bind(framework_id)
            .fetch_all(p)
            .await
        })?;
        let mut out: Vec<RegionSubmission> = Vec::new();
        for r in rows {
            let answers = grades_only(answers_from_json(&r.answers)?);
            if r.rn == 1 {
                out.push(RegionSubmission {
                    org_id: OrgId(r.org_id),
                    org_name: r.org_name,
                    council_type: r.council_type.parse::<CouncilType>().map_err(corrupt)?,
                    submission_id: r.id,
                    version: r.version,
                    submitted_at: r.submitted_at,
                    answers,
                    previous: None,
                });
            } else if let Some(last) = out.last_mut().filter(|l| l.org_id.0 == r.org_id) {
                last.previous = Some((r.version, answers));
            }
        }
        Ok(out)
    }

    /// Every current member (not suspended or left), by name: the
    /// organisations coverage is counted over.
    pub async fn assessed_members(&self) -> Result<Vec<AssessedMember>> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, name, council_type FROM organisations \
                 WHERE status IN ('pending', 'active', 'lapsed') ORDER BY name, id",
            )
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(id, name, t)| {
                Ok(AssessedMember {
                    org_id: OrgId(id),
                    name,
                    council_type: t.parse::<CouncilType>().map_err(corrupt)?,
                })
            })
            .collect()
    }
}

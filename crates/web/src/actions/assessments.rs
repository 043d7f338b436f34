//! Cyber-security self-assessments: frameworks, the working copy, submission,
//! results with the regional benchmark, the operators' regional view and the
//! export. Pages and API both come through here, so the access rules
//! ([`openwarp_core::assessment`]) and the audit log cannot be skipped.
//!
//! - Another member's assessment is a 404 everywhere (its existence is not
//!   revealed); a submission id of another organisation likewise.
//! - Members answer and read their own; the lead alone submits
//!   (`assessment.submit`, audited). Operators read results and the region
//!   but never answers in progress nor evidence notes.
//! - The benchmark shows the region only from [`MIN_ORGS`] organisations.
//! - The export is for operators, audited as `assessment.export`.

use crate::AppState;
use crate::actions::require_visible;
use crate::audit::record;
use crate::error::AppError;
use chrono::NaiveDate;
use openwarp_core::OrgId;
use openwarp_core::assessment::{
    self, AnswerInput, Answers, Band, Change, Coverage, ExportRefusal, ExportRow, Finding,
    Framework, FrameworkError, MIN_ORGS, PrincipleBenchmark, Quartiles, Scores, Standing,
    SupportNeed, framework::SHIPPED_FILE, framework::SHIPPED_SOURCE,
};
use openwarp_store::{Organisation, Submission, SubmitError, User, WorkingCopy, now};
use std::collections::HashMap;

impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Incomplete(v) => AppError::Invalid(v),
            SubmitError::Store(s) => s.into(),
        }
    }
}

impl From<ExportRefusal> for AppError {
    fn from(e: ExportRefusal) -> Self {
        AppError::Conflict(e.to_string())
    }
}

/// A framework with the file it came from (kept with every submission).
#[derive(Debug, Clone)]
pub struct LoadedFramework {
    pub framework: Framework,
    pub file_name: String,
    pub source: String,
}

fn internal(e: FrameworkError) -> AppError {
    AppError::Internal(format!("framework: {e}"))
}

/// The shipped framework, read once per process (its file is compiled in
/// and checked by core's tests, so the first read decides for good).
fn shipped() -> Result<LoadedFramework, AppError> {
    static SHIPPED: std::sync::OnceLock<Result<Framework, FrameworkError>> =
        std::sync::OnceLock::new();
    let framework = SHIPPED
        .get_or_init(Framework::shipped)
        .clone()
        .map_err(internal)?;
    Ok(LoadedFramework {
        framework,
        file_name: SHIPPED_FILE.into(),
        source: SHIPPED_SOURCE.into(),
    })
}

/// Every framework one can take now: the shipped one, and the newest
/// installed version of each other framework (`openwarp assessment-framework`).
pub async fn frameworks(state: &AppState) -> Result<Vec<LoadedFramework>, AppError> {
    let mut out = vec![shipped()?];
    for f in state.store.installed_frameworks().await? {
        if out.iter().any(|l| l.framework.id == f.framework_id) {
            continue;
        }
        out.push(LoadedFramework {
            framework: Framework::from_toml(&f.file_name, &f.source).map_err(internal)?,
            file_name: f.file_name,
            source: f.source,
        });
    }
    Ok(out)
}

/// The current version of framework `id` (404 if there is none).
pub async fn framework(state: &AppState, id: &str) -> Result<LoadedFramework, AppError> {
    frameworks(state)
        .await?
        .into_iter()
        .find(|f| f.framework.id == id)
        .ok_or(AppError::NotFound("assessment framework"))
}

/// Framework versions by (id, version), read once per request.
struct Versions {
    current: LoadedFramework,
    others: HashMap<String, Framework>,
    installed: Vec<openwarp_store::StoredFramework>,
}

impl Versions {
    async fn new(state: &AppState, current: LoadedFramework) -> Result<Versions, AppError> {
        Ok(Versions {
            current,
            others: HashMap::new(),
            installed: state.store.installed_frameworks().await?,
        })
    }

    /// The framework a submission was made against.
    fn get(&mut self, version: &str) -> Result<Framework, AppError> {
        if version == self.current.framework.version {
            return Ok(self.current.framework.clone());
        }
        if let Some(f) = self.others.get(version) {
            return Ok(f.clone());
        }
        let id = &self.current.framework.id;
        let stored = self
            .installed
            .iter()
            .find(|f| &f.framework_id == id && f.version == version)
            .ok_or_else(|| {
                AppError::Internal(format!("framework {id} version {version} not installed"))
            })?;
        let f = Framework::from_toml(&stored.file_name, &stored.source).map_err(internal)?;
        self.others.insert(version.to_string(), f.clone());
        Ok(f)
    }
}

/// Members' own working copy: other members 404, operators 403.
fn require_member(user: &User, org: OrgId) -> Result<(), AppError> {
    require_visible(&user.actor(), org)?;
    Ok(assessment::may_answer(&user.actor(), org)?)
}

/// `org`'s working copy of framework `fw`, for its own users.
pub async fn working_copy(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
) -> Result<(LoadedFramework, WorkingCopy), AppError> {
    require_member(user, org)?;
    let f = framework(state, fw).await?;
    let copy = state.store.assessment_answers(org, &f.framework.id).await?;
    Ok((f, copy))
}

/// Save some answers (a page of the form, or an API call). Bad input: 422
/// naming the field and question; nothing is saved.
pub async fn save(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
    input: &[AnswerInput],
) -> Result<u64, AppError> {
    require_member(user, org)?;
    let f = framework(state, fw).await?;
    let answers = assessment::validate_answers(&f.framework, input)?;
    Ok(state
        .store
        .save_assessment_answers(org, &f.framework.id, &answers, user.id, now())
        .await?)
}

/// Submit the working copy (the member lead only; every question graded).
pub async fn submit(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
    ip: &str,
) -> Result<Submission, AppError> {
    require_visible(&user.actor(), org)?;
    assessment::may_submit(&user.actor(), org)?;
    let f = framework(state, fw).await?;
    let s = state
        .store
        .submit_assessment(org, &f.framework, &f.file_name, &f.source, user.id, now())
        .await?;
    let overall = assessment::score(&f.framework, &s.answers).overall;
    record(
        state,
        Some(user),
        "assessment.submit",
        Some(org),
        &format!("{} {}", f.framework.id, f.framework.version),
        serde_json::json!({
            "submission": s.id,
            "framework": f.framework.id,
            "version": f.framework.version,
            "overall": overall.rounded(),
        }),
        Some(ip),
    )
    .await;
    Ok(s)
}

/// A submission in the list, with its overall score.
pub struct SubmissionSummary {
    pub submission: Submission,
    pub overall: f64,
}

/// `org`'s submissions of `fw`, newest first (its users and operators).
/// Evidence notes are emptied for anyone outside the organisation.
pub async fn submissions(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
) -> Result<(LoadedFramework, Vec<SubmissionSummary>), AppError> {
    require_visible(&user.actor(), org)?;
    assessment::may_read(&user.actor(), org)?;
    let f = framework(state, fw).await?;
    let list = state
        .store
        .assessment_submissions(org, &f.framework.id)
        .await?;
    let mut versions = Versions::new(state, f.clone()).await?;
    let mut out = Vec::new();
    for mut s in list {
        let fwv = versions.get(&s.version)?;
        if assessment::may_read_evidence(&user.actor(), org).is_err() {
            strip_evidence(&mut s.answers);
        }
        out.push(SubmissionSummary {
            overall: assessment::score(&fwv, &s.answers).overall.percent(),
            submission: s,
        });
    }
    Ok((f, out))
}

fn strip_evidence(a: &mut Answers) {
    for v in a.values_mut() {
        v.evidence.clear();
    }
}

/// Everything the results page and the API show for one submission.
pub struct Results {
    pub org: Organisation,
    /// The framework version the submission answered.
    pub framework: Framework,
    pub submission: Submission,
    pub scores: Scores,
    pub strengths: Vec<Finding>,
    pub risks: Vec<Finding>,
    /// Against the submission before this one (none for the first).
    pub change: Option<(Submission, Change)>,
    /// Every principle; the region's part only from [`MIN_ORGS`] organisations.
    pub benchmark: Vec<PrincipleBenchmark>,
    /// How many organisations the region's figures come from (0 when
    /// fewer than [`MIN_ORGS`]: the count itself is not shown either).
    pub region_orgs: usize,
    /// Overall score of every submission, oldest first (progress over time).
    pub history: Vec<(Submission, f64)>,
    /// Whether evidence notes are included (the member's own users only).
    pub with_evidence: bool,
}

/// One submission's results, with the regional benchmark. Another
/// organisation's submission, or one under another organisation's
/// address, is a 404.
pub async fn results(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
    submission_id: i64,
) -> Result<Results, AppError> {
    let actor = user.actor();
    require_visible(&actor, org)?;
    assessment::may_read(&actor, org)?;
    let current = framework(state, fw).await?;
    let o = state
        .store
        .get_org(org)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let all = state
        .store
        .assessment_submissions(org, &current.framework.id)
        .await?;
    let at = all
        .iter()
        .position(|s| s.id == submission_id)
        .ok_or(AppError::NotFound("submission"))?;
    let with_evidence = assessment::may_read_evidence(&actor, org).is_ok();
    let mut versions = Versions::new(state, current.clone()).await?;
    let mut submission = all[at].clone();
    if !with_evidence {
        strip_evidence(&mut submission.answers);
    }
    let f = versions.get(&submission.version)?;
    let scores = assessment::score(&f, &submission.answers);
    let change = match all.get(at + 1) {
        Some(prev) => {
            let mut prev = prev.clone();
            strip_evidence(&mut prev.answers);
            let c = assessment::change(&f, &prev.answers, &submission.answers);
            Some((prev, c))
        }
        None => None,
    };
    let mut history = Vec::new();
    for s in all.iter().rev() {
        let fv = versions.get(&s.version)?;
        let mut s = s.clone();
        strip_evidence(&mut s.answers);
        let overall = assessment::score(&fv, &s.answers).overall.percent();
        history.push((s, overall));
    }
    let region = state.store.region_submissions(&f.id).await?;
    let mut region_scores = Vec::new();
    for r in &region {
        let fv = versions.get(&r.version)?;
        region_scores.push(assessment::score(&fv, &r.answers));
    }
    let benchmark = assessment::benchmark(&scores, &region_scores);
    let region_orgs = if region_scores.len() >= MIN_ORGS {
        region_scores.len()
    } else {
        0
    };
    Ok(Results {
        org: o,
        strengths: assessment::strengths(&f, &submission.answers),
        risks: assessment::risks(&f, &submission.answers),
        framework: f,
        submission,
        scores,
        change,
        benchmark,
        region_orgs,
        history,
        with_evidence,
    })
}

/// The latest submission's id, if any.
pub async fn latest_submission(
    state: &AppState,
    user: &User,
    org: OrgId,
    fw: &str,
) -> Result<Option<i64>, AppError> {
    require_visible(&user.actor(), org)?;
    assessment::may_read(&user.actor(), org)?;
    let f = framework(state, fw).await?;
    Ok(state
        .store
        .assessment_submissions(org, &f.framework.id)
        .await?
        .first()
        .map(|s| s.id))
}

/// One member in the operators' coverage table.
pub struct CoverageRow {
    pub org_id: OrgId,
    pub name: String,
    pub council_type: openwarp_core::CouncilType,
    pub last_submitted: Option<NaiveDate>,
    pub coverage: Coverage,
    pub overall: Option<f64>,
    /// Outcome scores of the latest submission, in framework order.
    pub outcomes: Vec<Option<(u32, Band)>>,
}

/// The operators' view of the region.
pub struct RegionView {
    pub framework: Framework,
    pub members: Vec<CoverageRow>,
    pub ranking: Vec<SupportNeed>,
    /// Per principle: the region's quartiles (none below [`MIN_ORGS`]).
    pub quartiles: Vec<(String, String, Option<Quartiles>)>,
    pub submitted: usize,
    pub current: usize,
    pub overdue: usize,
    pub never: usize,
}

/// Coverage, the heat map of outcomes and the support ranking (operators).
pub async fn region(state: &AppState, user: &User, fw: &str) -> Result<RegionView, AppError> {
    assessment::may_see_region(&user.actor())?;
    let current = framework(state, fw).await?;
    let today = now().date_naive();
    let members = state.store.assessed_members().await?;
    let region = state
        .store
        .region_submissions(&current.framework.id)
        .await?;
    let mut versions = Versions::new(state, current.clone()).await?;
    let f = current.framework.clone();
    let mut rows = Vec::new();
    let mut standings = Vec::new();
    let mut scores_all = Vec::new();
    for m in &members {
        let latest = region.iter().find(|r| r.org_id == m.org_id);
        let (last, overall, outcomes, standing_latest, previous) = match latest {
            Some(r) => {
                let fv = versions.get(&r.version)?;
                let s = assessment::score(&fv, &r.answers);
                let outcomes = f
                    .outcomes()
                    .map(|o| s.outcome(&o.id).map(|sc| (sc.rounded(), Band::of(sc))))
                    .collect();
                let date = r.submitted_at.date_naive();
                let overall = s.overall.percent();
                scores_all.push(s);
                // The ranking scores everything against the current version.
                (
                    Some(date),
                    Some(overall),
                    outcomes,
                    Some((date, r.answers.clone())),
                    r.previous.as_ref().map(|(_, a)| a.clone()),
                )
            }
            None => (None, None, vec![None; f.outcomes().count()], None, None),
        };
        rows.push(CoverageRow {
            org_id: m.org_id,
            name: m.name.clone(),
            council_type: m.council_type,
            last_submitted: last,
            coverage: Coverage::of(last, today),
            overall,
            outcomes,
        });
        standings.push(Standing {
            org_id: m.org_id,
            name: m.name.clone(),
            latest: standing_latest,
            previous,
        });
    }
    let ranking = assessment::support_ranking(&f, &standings, today);
    let quartiles = assessment::region_quartiles(&f, &scores_all)
        .into_iter()
        .map(|(id, q)| {
            let title = f
                .principle(&id)
                .map(|p| p.title.clone())
                .unwrap_or_default();
            (id, title, q)
        })
        .collect();
    let count = |c: Coverage| rows.iter().filter(|r| r.coverage == c).count();
    Ok(RegionView {
        submitted: scores_all.len(),
        current: count(Coverage::Current),
        overdue: count(Coverage::Overdue),
        never: count(Coverage::Never),
        framework: f,
        members: rows,
        ranking,
        quartiles,
    })
}

/// The CSV for the national body (operators; audited). Anonymised: no
/// names, ids or dates; refused below [`MIN_ORGS`] organisations.
pub async fn export(
    state: &AppState,
    user: &User,
    fw: &str,
    anonymised: bool,
    ip: &str,
) -> Result<String, AppError> {
    assessment::may_see_region(&user.actor())?;
    let current = framework(state, fw).await?;
    let region = state
        .store
        .region_submissions(&current.framework.id)
        .await?;
    let mut versions = Versions::new(state, current.clone()).await?;
    let mut rows = Vec::new();
    for r in &region {
        let fv = versions.get(&r.version)?;
        rows.push(ExportRow {
            org_id: r.org_id,
            name: r.org_name.clone(),
            council_type: r.council_type,
            submitted_on: r.submitted_at.date_naive(),
            scores: assessment::score(&fv, &r.answers),
        });
    }
    let csv = assessment::export_csv(&current.framework, &rows, anonymised)?;
    record(
        state,
        Some(user),
        "assessment.export",
        None,
        &current.framework.id,
        serde_json::json!({
            "framework": current.framework.id,
            "anonymised": anonymised,
            "organisations": rows.len(),
        }),
        Some(ip),
    )
    .await;
    Ok(csv)
}

//! API handlers for the cyber-security self-assessment: frameworks, a
//! member's working copy and submissions with results and the regional
//! benchmark, and the operators' regional view and export. The same
//! actions as the pages, so the same rules: another member's assessment is
//! a 404, operators never read answers in progress or evidence notes.

use super::ApiJson;
use crate::AppState;
use crate::actions::assessments::{self as actions, Results};
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use crate::pages::assessments::{csv_response, flag};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::OrgId;
use openwarp_core::assessment::{AnswerInput, Band, Framework, Grade, MIN_ORGS};
use openwarp_store::WorkingCopy;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A framework, in brief.
#[derive(Serialize, ToSchema)]
pub struct FrameworkSummaryDto {
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    pub questions: usize,
}

/// One question of a framework.
#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    pub id: String,
    pub text: String,
    /// `low`, `medium` or `high`.
    pub weight: String,
    /// What to do when it is not achieved.
    pub next_step: String,
    /// One of the council governance points.
    pub governance: bool,
}

#[derive(Serialize, ToSchema)]
pub struct OutcomeDto {
    pub id: String,
    pub title: String,
    pub questions: Vec<QuestionDto>,
}

#[derive(Serialize, ToSchema)]
pub struct PrincipleDto {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub outcomes: Vec<OutcomeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ObjectiveDto {
    pub id: String,
    pub title: String,
    pub principles: Vec<PrincipleDto>,
}

/// A whole framework: objectives, principles, outcomes and questions.
#[derive(Serialize, ToSchema)]
pub struct FrameworkDto {
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: String,
    /// Each answer's grade is one of these.
    pub grades: Vec<String>,
    pub objectives: Vec<ObjectiveDto>,
}

fn summary(f: &Framework) -> FrameworkSummaryDto {
    FrameworkSummaryDto {
        id: f.id.clone(),
        version: f.version.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        questions: f.question_count(),
    }
}

fn framework_dto(f: &Framework) -> FrameworkDto {
    FrameworkDto {
        id: f.id.clone(),
        version: f.version.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        grades: Grade::ALL.iter().map(|g| g.as_str().to_string()).collect(),
        objectives: f
            .objectives
            .iter()
            .map(|o| ObjectiveDto {
                id: o.id.clone(),
                title: o.title.clone(),
                principles: o
                    .principles
                    .iter()
                    .map(|p| PrincipleDto {
                        id: p.id.clone(),
                        title: p.title.clone(),
                        summary: p.summary.clone(),
                        outcomes: p
                            .outcomes
                            .iter()
                            .map(|u| OutcomeDto {
                                id: u.id.clone(),
                                title: u.title.clone(),
                                questions: u
                                    .questions
                                    .iter()
                                    .map(|q| QuestionDto {
                                        id: q.id.clone(),
                                        text: q.text.clone(),
                                        weight: q.weight.as_str().into(),
                                        next_step: q.next_step.clone(),
                                        governance: q.governance,
                                    })
                                    .collect(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The frameworks one can take.
#[utoipa::path(get, path = "/api/v1/assessment-frameworks", tag = "assessments",
    responses((status = 200, body = [FrameworkSummaryDto]), (status = 401, body = ApiErrorBody)))]
pub async fn list_frameworks(
    State(state): State<AppState>,
    ApiCaller(_user): ApiCaller,
) -> Result<Json<Vec<FrameworkSummaryDto>>, ApiError> {
    Ok(Json(
        actions::frameworks(&state)
            .await?
            .iter()
            .map(|f| summary(&f.framework))
            .collect(),
    ))
}

/// One framework with every question.
#[utoipa::path(get, path = "/api/v1/assessment-frameworks/{fw}", tag = "assessments",
    params(("fw" = String, Path, description = "Framework id, e.g. council-caf")),
    responses((status = 200, body = FrameworkDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_framework(
    State(state): State<AppState>,
    ApiCaller(_user): ApiCaller,
    Path(fw): Path<String>,
) -> Result<Json<FrameworkDto>, ApiError> {
    Ok(Json(framework_dto(
        &actions::framework(&state, &fw).await?.framework,
    )))
}

/// One answer.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerDto {
    /// The question's id, e.g. `A1.a.1`.
    pub question: String,
    /// `not_achieved`, `partially_achieved`, `achieved`; absent or empty for none yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
    /// Evidence notes (at most 4000 characters; seen only by the organisation).
    #[serde(default)]
    pub evidence: String,
}

/// A submission in a list.
#[derive(Serialize, ToSchema)]
pub struct SubmissionSummaryDto {
    pub id: i64,
    pub version: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: Option<String>,
    /// Overall score, 0–100.
    pub overall: f64,
}

/// A member's working copy: the answers saved so far, and its submissions.
#[derive(Serialize, ToSchema)]
pub struct WorkingCopyDto {
    pub framework: String,
    pub version: String,
    pub answered: usize,
    pub questions: usize,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    pub answers: Vec<AnswerDto>,
    /// Newest first.
    pub submissions: Vec<SubmissionSummaryDto>,
}

async fn working_copy_dto(
    state: &AppState,
    user: &openwarp_store::User,
    org: OrgId,
    fw: &str,
) -> Result<WorkingCopyDto, AppError> {
    let (f, copy): (_, WorkingCopy) = actions::working_copy(state, user, org, fw).await?;
    let (_, subs) = actions::submissions(state, user, org, fw).await?;
    let framework = &f.framework;
    let answers: Vec<AnswerDto> = framework
        .questions()
        .filter_map(|p| {
            copy.answers.get(&p.question.id).map(|a| AnswerDto {
                question: p.question.id.clone(),
                grade: a.grade.map(|g| g.as_str().to_string()),
                evidence: a.evidence.clone(),
            })
        })
        .collect();
    Ok(WorkingCopyDto {
        framework: framework.id.clone(),
        version: framework.version.clone(),
        answered: answers.iter().filter(|a| a.grade.is_some()).count(),
        questions: framework.question_count(),
        updated_at: copy.updated_at,
        updated_by: copy.updated_by,
        answers,
        submissions: subs
            .into_iter()
            .map(|s| SubmissionSummaryDto {
                id: s.submission.id,
                version: s.submission.version,
                submitted_at: s.submission.submitted_at,
                submitted_by: s.submission.submitted_by,
                overall: s.overall,
            })
            .collect(),
    })
}

/// The organisation's working copy (its own users; others 404, operators 403).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/assessments/{fw}", tag = "assessments",
    params(("org" = i64, Path, description = "Organisation id"), ("fw" = String, Path, description = "Framework id")),
    responses((status = 200, body = WorkingCopyDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_working_copy(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((org, fw)): Path<(i64, String)>,
) -> Result<Json<WorkingCopyDto>, ApiError> {
    Ok(Json(
        working_copy_dto(&state, &user, OrgId(org), &fw).await?,
    ))
}

/// Answers to save.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveAnswersDto {
    /// Only the questions given are changed.
    pub answers: Vec<AnswerDto>,
}

/// Save some answers (any of the organisation's users). A question not in
/// the framework, an unknown grade or a note too long: 422 naming the field
/// and question; nothing is saved.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/assessments/{fw}/answers", tag = "assessments",
    request_body = SaveAnswersDto,
    params(("org" = i64, Path, description = "Organisation id"), ("fw" = String, Path, description = "Framework id")),
    responses((status = 200, body = WorkingCopyDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn put_answers(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((org, fw)): Path<(i64, String)>,
    ApiJson(body): ApiJson<SaveAnswersDto>,
) -> Result<Json<WorkingCopyDto>, ApiError> {
    let inputs: Vec<AnswerInput> = body
        .answers
        .into_iter()
        .map(|a| AnswerInput {
            question: a.question,
            grade: a.grade.unwrap_or_default(),
            evidence: a.evidence,
        })
        .collect();
    actions::save(&state, &user, OrgId(org), &fw, &inputs).await?;
    Ok(Json(
        working_copy_dto(&state, &user, OrgId(org), &fw).await?,
    ))
}

/// A score.
#[derive(Serialize, ToSchema)]
pub struct PartScoreDto {
    pub id: String,
    pub title: String,
    /// 0–100.
    pub score: f64,
    /// `weak` (below 50), `developing` (50–79) or `strong` (80+).
    pub band: String,
}

/// A strength or a risk.
#[derive(Serialize, ToSchema)]
pub struct FindingDto {
    pub question: String,
    pub principle: String,
    pub text: String,
    pub weight: String,
    /// None when not answered.
    pub grade: Option<String>,
    pub next_step: String,
    pub governance: bool,
}

/// The region's quartiles for one principle.
#[derive(Serialize, ToSchema)]
pub struct QuartilesDto {
    pub lower: f64,
    pub median: f64,
    pub upper: f64,
    pub organisations: usize,
}

/// One principle against the region.
#[derive(Serialize, ToSchema)]
pub struct BenchmarkDto {
    pub principle: String,
    pub title: String,
    pub yours: f64,
    /// Absent while fewer than 5 organisations have submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<QuartilesDto>,
    /// `top_quarter`, `above_median`, `below_median` or `bottom_quarter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// What changed since the previous submission.
#[derive(Serialize, ToSchema)]
pub struct ChangeDto {
    pub previous_submission: i64,
    /// Percentage points.
    pub overall: f64,
    pub principles: Vec<PrincipleChangeDto>,
    pub improved: Vec<String>,
    pub worsened: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PrincipleChangeDto {
    pub principle: String,
    pub before: f64,
    pub after: f64,
}

/// A submission's results.
#[derive(Serialize, ToSchema)]
pub struct ResultsDto {
    pub submission: i64,
    pub org_id: i64,
    pub framework: String,
    pub version: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: Option<String>,
    pub overall: f64,
    pub objectives: Vec<PartScoreDto>,
    pub principles: Vec<PartScoreDto>,
    pub outcomes: Vec<PartScoreDto>,
    /// Good practice, most important first.
    pub strengths: Vec<FindingDto>,
    /// Gaps, most important first, each with its next step.
    pub risks: Vec<FindingDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeDto>,
    /// Whether the region's figures are included (at least 5 organisations).
    pub benchmark_shown: bool,
    pub benchmark: Vec<BenchmarkDto>,
    /// The organisation's own answers with evidence notes; absent for operators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<AnswerDto>>,
}

fn part(p: &openwarp_core::assessment::PartScore) -> PartScoreDto {
    PartScoreDto {
        id: p.id.clone(),
        title: p.title.clone(),
        score: p.score.percent(),
        band: Band::of(p.score).as_str().into(),
    }
}

fn finding(f: &openwarp_core::assessment::Finding) -> FindingDto {
    FindingDto {
        question: f.question_id.clone(),
        principle: f.principle_id.clone(),
        text: f.text.clone(),
        weight: f.weight.as_str().into(),
        grade: f.grade.map(|g| g.as_str().into()),
        next_step: f.next_step.clone(),
        governance: f.governance,
    }
}

fn results_dto(r: Results) -> ResultsDto {
    let shown = r.region_orgs >= MIN_ORGS;
    ResultsDto {
        submission: r.submission.id,
        org_id: r.org.id.0,
        framework: r.framework.id.clone(),
        version: r.submission.version.clone(),
        submitted_at: r.submission.submitted_at,
        submitted_by: r.submission.submitted_by.clone(),
        overall: r.scores.overall.percent(),
        objectives: r.scores.objectives.iter().map(part).collect(),
        principles: r.scores.principles.iter().map(part).collect(),
        outcomes: r.scores.outcomes.iter().map(part).collect(),
        strengths: r.strengths.iter().map(finding).collect(),
        risks: r.risks.iter().map(finding).collect(),
        change: r.change.as_ref().map(|(prev, c)| ChangeDto {
            previous_submission: prev.id,
            overall: c.overall.delta(),
            principles: c
                .principles
                .iter()
                .map(|p| PrincipleChangeDto {
                    principle: p.id.clone(),
                    before: p.before.percent(),
                    after: p.after.percent(),
                })
                .collect(),
            improved: c.improved.iter().map(|g| g.question_id.clone()).collect(),
            worsened: c.worsened.iter().map(|g| g.question_id.clone()).collect(),
        }),
        benchmark_shown: shown,
        benchmark: r
            .benchmark
            .iter()
            .map(|b| BenchmarkDto {
                principle: b.id.clone(),
                title: b.title.clone(),
                yours: b.yours,
                region: b.region.map(|q| QuartilesDto {
                    lower: q.lower,
                    median: q.median,
                    upper: q.upper,
                    organisations: q.orgs,
                }),
                position: b.position.map(|p| {
                    serde_json::to_value(p)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                }),
            })
            .collect(),
        answers: r.with_evidence.then(|| {
            r.framework
                .questions()
                .filter_map(|p| {
                    r.submission.answers.get(&p.question.id).map(|a| AnswerDto {
                        question: p.question.id.clone(),
                        grade: a.grade.map(|g| g.as_str().to_string()),
                        evidence: a.evidence.clone(),
                    })
                })
                .collect()
        }),
    }
}

/// Submit the working copy (the member lead only): 422 naming the
/// unanswered questions if any is not graded. Audited.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/assessments/{fw}/submissions", tag = "assessments",
    params(("org" = i64, Path, description = "Organisation id"), ("fw" = String, Path, description = "Framework id")),
    responses((status = 201, body = ResultsDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((org, fw)): Path<(i64, String)>,
) -> Result<(StatusCode, Json<ResultsDto>), ApiError> {
    let s = actions::submit(&state, &user, OrgId(org), &fw, &ip).await?;
    let r = actions::results(&state, &user, OrgId(org), &fw, s.id).await?;
    Ok((StatusCode::CREATED, Json(results_dto(r))))
}

/// The organisation's submissions, newest first (its users and operators).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/assessments/{fw}/submissions", tag = "assessments",
    params(("org" = i64, Path, description = "Organisation id"), ("fw" = String, Path, description = "Framework id")),
    responses((status = 200, body = [SubmissionSummaryDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_submissions(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((org, fw)): Path<(i64, String)>,
) -> Result<Json<Vec<SubmissionSummaryDto>>, ApiError> {
    let (_, subs) = actions::submissions(&state, &user, OrgId(org), &fw).await?;
    Ok(Json(
        subs.into_iter()
            .map(|s| SubmissionSummaryDto {
                id: s.submission.id,
                version: s.submission.version,
                submitted_at: s.submission.submitted_at,
                submitted_by: s.submission.submitted_by,
                overall: s.overall,
            })
            .collect(),
    ))
}

/// One submission's results: scores, strengths, risks, change and the
/// regional benchmark (region figures only from 5 organisations).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/assessments/{fw}/submissions/{id}", tag = "assessments",
    params(("org" = i64, Path, description = "Organisation id"), ("fw" = String, Path, description = "Framework id"),
           ("id" = i64, Path, description = "Submission id")),
    responses((status = 200, body = ResultsDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_results(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((org, fw, id)): Path<(i64, String, i64)>,
) -> Result<Json<ResultsDto>, ApiError> {
    Ok(Json(results_dto(
        actions::results(&state, &user, OrgId(org), &fw, id).await?,
    )))
}

/// One member in the operators' view.
#[derive(Serialize, ToSchema)]
pub struct RegionMemberDto {
    pub org_id: i64,
    pub name: String,
    pub council_type: String,
    /// `current`, `overdue` (no submission in 12 months) or `never`.
    pub coverage: String,
    pub last_submitted: Option<NaiveDate>,
    pub overall: Option<f64>,
    /// Latest outcome scores by outcome id (absent when never submitted).
    pub outcomes: Vec<HeatCellDto>,
}

#[derive(Serialize, ToSchema)]
pub struct HeatCellDto {
    pub outcome: String,
    pub score: u32,
    pub band: String,
}

#[derive(Serialize, ToSchema)]
pub struct SupportNeedDto {
    pub org_id: i64,
    pub name: String,
    pub need: u32,
    pub coverage: String,
    pub reasons: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegionQuartilesDto {
    pub principle: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<QuartilesDto>,
}

/// The operators' view of the region.
#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    pub framework: String,
    pub submitted: usize,
    pub current: usize,
    pub overdue: usize,
    pub never: usize,
    pub members: Vec<RegionMemberDto>,
    /// Most in need of support first.
    pub support_ranking: Vec<SupportNeedDto>,
    pub quartiles: Vec<RegionQuartilesDto>,
}

/// Coverage, the heat map of outcomes, the support ranking and the
/// region's quartiles (operators only).
#[utoipa::path(get, path = "/api/v1/assessments/{fw}/region", tag = "assessments",
    params(("fw" = String, Path, description = "Framework id")),
    responses((status = 200, body = RegionDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn get_region(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(fw): Path<String>,
) -> Result<Json<RegionDto>, ApiError> {
    let r = actions::region(&state, &user, &fw).await?;
    let outcome_ids: Vec<String> = r.framework.outcomes().map(|o| o.id.clone()).collect();
    Ok(Json(RegionDto {
        framework: r.framework.id.clone(),
        submitted: r.submitted,
        current: r.current,
        overdue: r.overdue,
        never: r.never,
        members: r
            .members
            .iter()
            .map(|m| RegionMemberDto {
                org_id: m.org_id.0,
                name: m.name.clone(),
                council_type: m.council_type.as_str().into(),
                coverage: m.coverage.as_str().into(),
                last_submitted: m.last_submitted,
                overall: m.overall,
                outcomes: outcome_ids
                    .iter()
                    .zip(&m.outcomes)
                    .filter_map(|(id, c)| {
                        c.map(|(score, band)| HeatCellDto {
                            outcome: id.clone(),
                            score,
                            band: band.as_str().into(),
                        })
                    })
                    .collect(),
            })
            .collect(),
        support_ranking: r
            .ranking
            .iter()
            .map(|n| SupportNeedDto {
                org_id: n.org_id.0,
                name: n.name.clone(),
                need: n.need,
                coverage: n.coverage.as_str().into(),
                reasons: n.reasons.clone(),
            })
            .collect(),
        quartiles: r
            .quartiles
            .iter()
            .map(|(id, _, q)| RegionQuartilesDto {
                principle: id.clone(),
                region: q.map(|q| QuartilesDto {
                    lower: q.lower,
                    median: q.median,
                    upper: q.upper,
                    organisations: q.orgs,
                }),
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct ExportParams {
    /// `true` for no names, ids or dates (refused below 5 organisations).
    pub anonymised: Option<String>,
}

/// CSV for the national body (operators only; audited).
#[utoipa::path(get, path = "/api/v1/assessments/{fw}/export.csv", tag = "assessments",
    params(("fw" = String, Path, description = "Framework id"), ExportParams),
    responses((status = 200, description = "CSV, one line per member's latest submission", content_type = "text/csv"),
              (status = 403, body = ApiErrorBody), (status = 409, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(fw): Path<String>,
    Query(q): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let anonymised = flag(q.anonymised.as_deref())?;
    let csv = actions::export(&state, &user, &fw, anonymised, &ip).await?;
    Ok(csv_response(&fw, anonymised, csv))
}

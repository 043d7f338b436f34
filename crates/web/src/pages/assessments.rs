//! `/assessments` and `/orgs/{org}/assessments/…`: the cyber-security
//! self-assessment. A member's users fill it in one principle at a time
//! (each page saves with a plain form post and comes back, so it works over
//! several sittings without JavaScript), the lead submits, and everyone in
//! the organisation reads the results: scores, charts drawn here as SVG
//! (with a title, a description and a table saying the same), strengths,
//! risks with next steps, change since last time and the regional
//! benchmark. Operators see coverage, a heat map of outcomes and the
//! members most in need of support, and export CSV.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, date, render, render_with, timestamp};
use crate::AppState;
use crate::actions::assessments::{self as actions, Results};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::assessment::{
    self, AnswerInput, Band, Coverage, Framework, Grade, MIN_ORGS, Position,
};
use openwarp_core::{OrgId, Role};
use openwarp_store::{Session, now};
use serde::Deserialize;
use std::collections::BTreeMap;

const CURRENT: &str = "assessments";

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "Your answers have been saved.",
        "submitted" => "The assessment has been submitted. Here are your results.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: impl Into<String>,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, CURRENT);
    l.notice = notice(code);
    l
}

fn pct(v: f64) -> String {
    format!("{}%", v.round())
}

/// A framework in the list.
pub struct FrameworkRow {
    pub id: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub questions: usize,
    /// The member's latest submission, if any (members only).
    pub latest: Option<i64>,
}

#[derive(Template)]
#[template(path = "assessments.html")]
struct IndexPage {
    layout: Layout,
    frameworks: Vec<FrameworkRow>,
    /// The member's organisation; `None` for operators.
    org: Option<i64>,
    is_operator: bool,
}

/// `GET /assessments`: the frameworks, with the way in for each role.
pub async fn index(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    let frameworks = actions::frameworks(&state).await?;
    let mut rows = Vec::new();
    for f in &frameworks {
        let latest = match session.user.org_id {
            Some(org) => {
                actions::latest_submission(&state, &session.user, org, &f.framework.id).await?
            }
            None => None,
        };
        rows.push(FrameworkRow {
            id: f.framework.id.clone(),
            title: f.framework.title.clone(),
            version: f.framework.version.clone(),
            description: f.framework.description.clone(),
            questions: f.framework.question_count(),
            latest,
        });
    }
    render(&IndexPage {
        layout: layout(&state, &session, "Cyber security self-assessment", None),
        frameworks: rows,
        org: session.user.org_id.map(|o| o.0),
        is_operator: session.user.role == Role::Operator,
    })
}

/// A principle in the overview, with how much of it is answered.
pub struct SectionRow {
    pub id: String,
    pub title: String,
    pub objective: String,
    pub answered: usize,
    pub total: usize,
}

pub struct SubmissionRow {
    pub id: i64,
    pub when: String,
    pub by: String,
    pub version: String,
    pub overall: String,
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct OverviewPage {
    layout: Layout,
    org: i64,
    org_name: String,
    fw: String,
    title: String,
    version: String,
    description: String,
    /// The member's own users see the working copy; operators only the submissions.
    member: bool,
    may_submit: bool,
    sections: Vec<SectionRow>,
    answered: usize,
    total: usize,
    last_saved: String,
    submissions: Vec<SubmissionRow>,
    errors: FormErrors,
}

async fn overview_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    fw: &str,
    code: Option<&str>,
) -> Result<OverviewPage, AppError> {
    let user = &session.user;
    let (f, subs) = actions::submissions(state, user, org, fw).await?;
    let o = crate::actions::visible_org(state, &user.actor(), org).await?;
    let member = assessment::may_answer(&user.actor(), org).is_ok();
    let mut sections = Vec::new();
    let (mut answered, mut total, mut last_saved) = (0, 0, String::new());
    if member {
        let (_, copy) = actions::working_copy(state, user, org, fw).await?;
        for obj in &f.framework.objectives {
            for p in &obj.principles {
                let qs: Vec<&str> = p
                    .outcomes
                    .iter()
                    .flat_map(|o| o.questions.iter().map(|q| q.id.as_str()))
                    .collect();
                let done = qs
                    .iter()
                    .filter(|q| copy.answers.get(**q).and_then(|a| a.grade).is_some())
                    .count();
                answered += done;
                total += qs.len();
                sections.push(SectionRow {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    objective: format!("{} {}", obj.id, obj.title),
                    answered: done,
                    total: qs.len(),
                });
            }
        }
        if let Some(t) = copy.updated_at {
            last_saved = format!(
                "{} by {}",
                timestamp(t),
                copy.updated_by.as_deref().unwrap_or("a former user")
            );
        }
    }
    Ok(OverviewPage {
        layout: layout(state, session, f.framework.title.clone(), code),
        org: org.0,
        org_name: o.name,
        fw: f.framework.id.clone(),
        title: f.framework.title.clone(),
        version: f.framework.version.clone(),
        description: f.framework.description.clone(),
        member,
        may_submit: assessment::may_submit(&user.actor(), org).is_ok(),
        sections,
        answered,
        total,
        last_saved,
        submissions: subs
            .iter()
            .map(|s| SubmissionRow {
                id: s.submission.id,
                when: timestamp(s.submission.submitted_at),
                by: s
                    .submission
                    .submitted_by
                    .clone()
                    .unwrap_or_else(|| "a former user".into()),
                version: s.submission.version.clone(),
                overall: pct(s.overall),
            })
            .collect(),
        errors: FormErrors::default(),
    })
}

/// `GET /orgs/{org}/assessments/{fw}`: progress, sections, submit, history.
pub async fn overview(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, fw)): Path<(i64, String)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&overview_page(&state, &session, OrgId(org), &fw, q.notice.as_deref()).await?)
}

/// One question on a section page.
pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub weight: &'static str,
    pub governance: bool,
    pub next_step: String,
    pub grade: String,
    pub evidence: String,
}

pub struct OutcomeView {
    pub id: String,
    pub title: String,
    pub questions: Vec<QuestionView>,
}

pub struct GradeOption {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "assessment_section.html")]
struct SectionPage {
    layout: Layout,
    org: i64,
    fw: String,
    fw_title: String,
    principle_id: String,
    principle_title: String,
    summary: String,
    objective: String,
    outcomes: Vec<OutcomeView>,
    grades: Vec<GradeOption>,
    next: Option<String>,
    errors: FormErrors,
    max_evidence: usize,
}

async fn section_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    fw: &str,
    principle: &str,
    code: Option<&str>,
    typed: Option<&BTreeMap<String, String>>,
) -> Result<SectionPage, AppError> {
    let (f, copy) = actions::working_copy(state, &session.user, org, fw).await?;
    let fwk = &f.framework;
    let (objective, p) = fwk
        .objectives
        .iter()
        .find_map(|o| {
            o.principles
                .iter()
                .find(|p| p.id == principle)
                .map(|p| (o, p))
        })
        .ok_or(AppError::NotFound("section"))?;
    let ids: Vec<&str> = fwk.principles().map(|p| p.id.as_str()).collect();
    let next = ids
        .iter()
        .position(|i| *i == principle)
        .and_then(|i| ids.get(i + 1))
        .map(|s| s.to_string());
    Ok(SectionPage {
        layout: layout(state, session, format!("{} {}", p.id, p.title), code),
        org: org.0,
        fw: fwk.id.clone(),
        fw_title: fwk.title.clone(),
        principle_id: p.id.clone(),
        principle_title: p.title.clone(),
        summary: p.summary.clone(),
        objective: format!("Objective {}: {}", objective.id, objective.title),
        outcomes: p
            .outcomes
            .iter()
            .map(|o| OutcomeView {
                id: o.id.clone(),
                title: o.title.clone(),
                questions: o
                    .questions
                    .iter()
                    .map(|q| {
                        let saved = copy.answers.get(&q.id);
                        let (grade, evidence) = match typed {
                            Some(form) => (
                                form.get(&format!("grade_{}", q.id))
                                    .cloned()
                                    .unwrap_or_default(),
                                form.get(&format!("evidence_{}", q.id))
                                    .cloned()
                                    .unwrap_or_default(),
                            ),
                            None => (
                                saved
                                    .and_then(|a| a.grade)
                                    .map(|g| g.as_str().to_string())
                                    .unwrap_or_default(),
                                saved.map(|a| a.evidence.clone()).unwrap_or_default(),
                            ),
                        };
                        QuestionView {
                            id: q.id.clone(),
                            text: q.text.clone(),
                            weight: q.weight.label(),
                            governance: q.governance,
                            next_step: q.next_step.clone(),
                            grade,
                            evidence,
                        }
                    })
                    .collect(),
            })
            .collect(),
        grades: Grade::ALL
            .iter()
            .map(|g| GradeOption {
                value: g.as_str(),
                label: g.label(),
            })
            .collect(),
        next,
        errors: FormErrors::default(),
        max_evidence: assessment::MAX_EVIDENCE,
    })
}

/// `GET /orgs/{org}/assessments/{fw}/sections/{principle}`: one principle's questions.
pub async fn section(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, fw, principle)): Path<(i64, String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(
        &section_page(
            &state,
            &session,
            OrgId(org),
            &fw,
            &principle,
            q.notice.as_deref(),
            None,
        )
        .await?,
    )
}

/// `POST /orgs/{org}/assessments/{fw}/sections/{principle}`: save this
/// page's answers (`grade_{question}`, `evidence_{question}`), then stay
/// (`then=stay`) or go on to the next section.
pub async fn save_section(
    State(state): State<AppState>,
    Path((org, fw, principle)): Path<(i64, String, String)>,
    SessionForm { session, form }: SessionForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let org_id = OrgId(org);
    let (f, copy) = actions::working_copy(&state, &session.user, org_id, &fw).await?;
    let p = f
        .framework
        .principle(&principle)
        .ok_or(AppError::NotFound("section"))?;
    // A question the form does not mention is left as it was; one it
    // mentions keeps whichever half (grade or notes) the form leaves out.
    let inputs: Vec<AnswerInput> = p
        .outcomes
        .iter()
        .flat_map(|o| o.questions.iter())
        .filter_map(|q| {
            let grade = form.get(&format!("grade_{}", q.id));
            let evidence = form.get(&format!("evidence_{}", q.id));
            if grade.is_none() && evidence.is_none() {
                return None;
            }
            let saved = copy.answers.get(&q.id);
            Some(AnswerInput {
                question: q.id.clone(),
                grade: grade.cloned().unwrap_or_else(|| {
                    saved
                        .and_then(|a| a.grade)
                        .map(|g| g.as_str().to_string())
                        .unwrap_or_default()
                }),
                evidence: evidence
                    .cloned()
                    .unwrap_or_else(|| saved.map(|a| a.evidence.clone()).unwrap_or_default()),
            })
        })
        .collect();
    match actions::save(&state, &session.user, org_id, &fw, &inputs).await {
        Ok(_) => {
            let ids: Vec<&str> = f.framework.principles().map(|p| p.id.as_str()).collect();
            let next = ids
                .iter()
                .position(|i| *i == principle)
                .and_then(|i| ids.get(i + 1));
            let base = format!("/orgs/{org}/assessments/{}", f.framework.id);
            let to = match (form.get("then").map(String::as_str), next) {
                (Some("next"), Some(n)) => format!("{base}/sections/{n}?notice=saved"),
                (Some("next"), None) => format!("{base}?notice=saved"),
                _ => format!("{base}/sections/{principle}?notice=saved"),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(AppError::Invalid(v)) => {
            let mut page =
                section_page(&state, &session, org_id, &fw, &principle, None, Some(&form)).await?;
            page.errors = FormErrors::labelled(v, |f| {
                Some(match f {
                    "grade" => "Grade",
                    "evidence" => "Evidence notes",
                    "question" => "Question",
                    _ => return None,
                })
            });
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// `POST /orgs/{org}/assessments/{fw}/submit`: the lead submits.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, fw)): Path<(i64, String)>,
    SessionForm { session, .. }: SessionForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    match actions::submit(&state, &session.user, OrgId(org), &fw, &ip).await {
        Ok(s) => Ok(Redirect::to(&format!(
            "/orgs/{org}/assessments/{fw}/submissions/{}?notice=submitted",
            s.id
        ))
        .into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = overview_page(&state, &session, OrgId(org), &fw, None).await?;
            page.errors = FormErrors::labelled(v, |f| (f == "answers").then_some("Answers"));
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// `GET /orgs/{org}/assessments/{fw}/results`: the latest submission's results.
pub async fn latest(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, fw)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    match actions::latest_submission(&state, &session.user, OrgId(org), &fw).await? {
        Some(id) => Ok(
            Redirect::to(&format!("/orgs/{org}/assessments/{fw}/submissions/{id}")).into_response(),
        ),
        None => Err(AppError::NotFound("submitted assessment")),
    }
}

/// One bar of the principles chart, in SVG user units.
pub struct BarView {
    pub id: String,
    pub title: String,
    pub y: u32,
    pub text_y: u32,
    pub width: String,
    pub value: String,
    pub value_x: String,
    /// The region's quartile box and median, when shown.
    pub region: Option<RegionMark>,
    pub band: &'static str,
}

pub struct RegionMark {
    pub q1_x: String,
    pub box_width: String,
    pub median_x: String,
    pub lower: String,
    pub median: String,
    pub upper: String,
    pub position: &'static str,
}

/// One column of the progress chart.
pub struct HistoryBar {
    pub x: u32,
    pub label_x: u32,
    pub y: String,
    pub height: String,
    pub value: String,
    pub when: String,
    pub current: bool,
}

pub struct ScoreRow {
    pub id: String,
    pub title: String,
    pub value: String,
    pub band: &'static str,
    pub band_label: &'static str,
}

pub struct FindingView {
    pub question_id: String,
    pub principle: String,
    pub text: String,
    pub weight: &'static str,
    pub grade: &'static str,
    pub next_step: String,
    pub governance: bool,
    pub evidence: String,
}

pub struct ChangeRow {
    pub id: String,
    pub title: String,
    pub before: String,
    pub after: String,
    pub delta: String,
}

pub struct GradeChangeRow {
    pub question_id: String,
    pub text: String,
    pub before: &'static str,
    pub after: &'static str,
}

/// The results, ready for the page and the printable report.
pub struct ResultsView {
    pub org: i64,
    pub org_name: String,
    pub fw: String,
    pub fw_title: String,
    pub version: String,
    pub submission_id: i64,
    pub submitted: String,
    pub submitted_by: String,
    pub overall: String,
    pub overall_band: &'static str,
    pub objectives: Vec<ScoreRow>,
    pub outcomes: Vec<ScoreRow>,
    pub bars: Vec<BarView>,
    pub chart_height: u32,
    pub chart_desc: String,
    pub history: Vec<HistoryBar>,
    pub history_desc: String,
    pub strengths: Vec<FindingView>,
    pub risks: Vec<FindingView>,
    pub previous: Option<String>,
    pub overall_change: String,
    pub principle_changes: Vec<ChangeRow>,
    pub improved: Vec<GradeChangeRow>,
    pub worsened: Vec<GradeChangeRow>,
    /// Whether the regional benchmark is shown (≥ MIN_ORGS organisations).
    pub benchmark_shown: bool,
    pub region_orgs: usize,
    pub min_orgs: usize,
}

const LABEL_W: u32 = 230;
const BAR_W: f64 = 360.0;
const ROW_H: u32 = 30;

fn x_of(v: f64) -> String {
    format!(
        "{:.1}",
        f64::from(LABEL_W) + v.clamp(0.0, 100.0) * BAR_W / 100.0
    )
}

fn grade_label(g: Option<Grade>) -> &'static str {
    g.map_or("Not answered", Grade::label)
}

fn signed(v: f64) -> String {
    let r = v.round();
    if r > 0.0 {
        format!("+{r}")
    } else if r == 0.0 {
        "no change".into()
    } else {
        format!("{r}")
    }
}

fn band_row(id: &str, title: &str, s: assessment::Score) -> ScoreRow {
    let b = Band::of(s);
    ScoreRow {
        id: id.to_string(),
        title: title.to_string(),
        value: format!("{}%", s.rounded()),
        band: b.as_str(),
        band_label: b.label(),
    }
}

pub fn results_view(r: &Results) -> ResultsView {
    let f: &Framework = &r.framework;
    let evidence = |qid: &str| {
        if r.with_evidence {
            r.submission
                .answers
                .get(qid)
                .map(|a| a.evidence.clone())
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let finding = |x: &assessment::Finding| FindingView {
        question_id: x.question_id.clone(),
        principle: format!("{} {}", x.principle_id, x.principle_title),
        text: x.text.clone(),
        weight: x.weight.label(),
        grade: grade_label(x.grade),
        next_step: x.next_step.clone(),
        governance: x.governance,
        evidence: evidence(&x.question_id),
    };
    let bars: Vec<BarView> = r
        .benchmark
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = 10 + i as u32 * ROW_H;
            let band = r
                .scores
                .principle(&b.id)
                .map(Band::of)
                .unwrap_or(Band::Weak);
            BarView {
                id: b.id.clone(),
                title: b.title.clone(),
                y,
                text_y: y + 15,
                width: format!("{:.1}", b.yours.clamp(0.0, 100.0) * BAR_W / 100.0),
                value: pct(b.yours),
                value_x: format!("{:.1}", f64::from(LABEL_W) + BAR_W + 8.0),
                region: b.region.as_ref().map(|q| RegionMark {
                    q1_x: x_of(q.lower),
                    box_width: format!(
                        "{:.1}",
                        (q.upper - q.lower).clamp(0.0, 100.0) * BAR_W / 100.0
                    ),
                    median_x: x_of(q.median),
                    lower: pct(q.lower),
                    median: pct(q.median),
                    upper: pct(q.upper),
                    position: b.position.map_or("", Position::label),
                }),
                band: band.as_str(),
            }
        })
        .collect();
    let benchmark_shown = r.region_orgs >= MIN_ORGS;
    let chart_desc = {
        let parts: Vec<String> = r
            .benchmark
            .iter()
            .map(|b| match &b.region {
                Some(q) => format!(
                    "{} {}: {} (region median {}, middle half {} to {})",
                    b.id,
                    b.title,
                    pct(b.yours),
                    pct(q.median),
                    pct(q.lower),
                    pct(q.upper)
                ),
                None => format!("{} {}: {}", b.id, b.title, pct(b.yours)),
            })
            .collect();
        format!("Score per principle. {}.", parts.join("; "))
    };
    let n = r.history.len().max(1) as u32;
    let step = (560 / n).clamp(40, 120);
    let history: Vec<HistoryBar> = r
        .history
        .iter()
        .enumerate()
        .map(|(i, (s, v))| {
            let h = v.clamp(0.0, 100.0) * 1.6;
            HistoryBar {
                x: 50 + i as u32 * step,
                label_x: 50 + i as u32 * step + 15,
                y: format!("{:.1}", 180.0 - h),
                height: format!("{h:.1}"),
                value: pct(*v),
                when: date(s.submitted_at.date_naive()),
                current: s.id == r.submission.id,
            }
        })
        .collect();
    let history_desc = format!(
        "Overall score at each submission, oldest first: {}.",
        history
            .iter()
            .map(|h| format!("{} on {}", h.value, h.when))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let (previous, overall_change, principle_changes, improved, worsened) = match &r.change {
        Some((prev, c)) => (
            Some(timestamp(prev.submitted_at)),
            signed(c.overall.delta()),
            c.principles
                .iter()
                .map(|p| ChangeRow {
                    id: p.id.clone(),
                    title: p.title.clone(),
                    before: format!("{}%", p.before.rounded()),
                    after: format!("{}%", p.after.rounded()),
                    delta: signed(p.delta()),
                })
                .collect(),
            c.improved
                .iter()
                .map(|g| GradeChangeRow {
                    question_id: g.question_id.clone(),
                    text: g.text.clone(),
                    before: grade_label(g.before),
                    after: grade_label(g.after),
                })
                .collect(),
            c.worsened
                .iter()
                .map(|g| GradeChangeRow {
                    question_id: g.question_id.clone(),
                    text: g.text.clone(),
                    before: grade_label(g.before),
                    after: grade_label(g.after),
                })
                .collect(),
        ),
        None => (None, String::new(), Vec::new(), Vec::new(), Vec::new()),
    };
    ResultsView {
        org: r.org.id.0,
        org_name: r.org.name.clone(),
        fw: f.id.clone(),
        fw_title: f.title.clone(),
        version: r.submission.version.clone(),
        submission_id: r.submission.id,
        submitted: timestamp(r.submission.submitted_at),
        submitted_by: r
            .submission
            .submitted_by
            .clone()
            .unwrap_or_else(|| "a former user".into()),
        overall: format!("{}%", r.scores.overall.rounded()),
        overall_band: Band::of(r.scores.overall).label(),
        objectives: r
            .scores
            .objectives
            .iter()
            .map(|p| band_row(&p.id, &p.title, p.score))
            .collect(),
        outcomes: r
            .scores
            .outcomes
            .iter()
            .map(|p| band_row(&p.id, &p.title, p.score))
            .collect(),
        chart_height: 20 + bars.len() as u32 * ROW_H,
        bars,
        chart_desc,
        history,
        history_desc,
        strengths: r.strengths.iter().map(finding).collect(),
        risks: r.risks.iter().map(finding).collect(),
        previous,
        overall_change,
        principle_changes,
        improved,
        worsened,
        benchmark_shown,
        region_orgs: r.region_orgs,
        min_orgs: MIN_ORGS,
    }
}

#[derive(Template)]
#[template(path = "assessment_results.html")]
struct ResultsPage {
    layout: Layout,
    v: ResultsView,
}

#[derive(Template)]
#[template(path = "assessment_print.html")]
struct PrintPage {
    title: String,
    warp_name: String,
    printed: String,
    printed_by: String,
    v: ResultsView,
}

/// `GET /orgs/{org}/assessments/{fw}/submissions/{id}`: one submission's results.
pub async fn results(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, fw, id)): Path<(i64, String, i64)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let r = actions::results(&state, &session.user, OrgId(org), &fw, id).await?;
    let v = results_view(&r);
    render(&ResultsPage {
        layout: layout(
            &state,
            &session,
            format!("Results: {}", v.fw_title),
            q.notice.as_deref(),
        ),
        v,
    })
}

/// `GET /orgs/{org}/assessments/{fw}/submissions/{id}/print`: the printable report.
pub async fn print(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, fw, id)): Path<(i64, String, i64)>,
) -> Result<Response, AppError> {
    let r = actions::results(&state, &session.user, OrgId(org), &fw, id).await?;
    let v = results_view(&r);
    render(&PrintPage {
        title: format!("{} – {}", v.fw_title, v.org_name),
        warp_name: state.config.warp_name.clone(),
        printed: timestamp(now()),
        printed_by: session.user.display_name.clone(),
        v,
    })
}

pub struct HeatCell {
    pub value: String,
    pub band: &'static str,
}

pub struct MemberRow {
    pub org: i64,
    pub name: String,
    pub council_type: &'static str,
    pub last: String,
    pub coverage: &'static str,
    pub coverage_class: &'static str,
    pub overall: String,
    pub cells: Vec<HeatCell>,
    pub latest_link: bool,
}

pub struct RankRow {
    pub org: i64,
    pub name: String,
    pub need: u32,
    pub coverage: &'static str,
    pub reasons: Vec<String>,
}

pub struct QuartileRow {
    pub id: String,
    pub title: String,
    pub figures: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "assessment_region.html")]
struct RegionPage {
    layout: Layout,
    fw: String,
    fw_title: String,
    outcome_ids: Vec<String>,
    outcome_titles: Vec<String>,
    members: Vec<MemberRow>,
    ranking: Vec<RankRow>,
    quartiles: Vec<QuartileRow>,
    submitted: usize,
    current: usize,
    overdue: usize,
    never: usize,
    min_orgs: usize,
}

/// `GET /assessments/{fw}/region`: coverage, heat map, support ranking (operators).
pub async fn region(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(fw): Path<String>,
) -> Result<Response, AppError> {
    let r = actions::region(&state, &session.user, &fw).await?;
    let f = &r.framework;
    render(&RegionPage {
        layout: layout(&state, &session, format!("Region: {}", f.title), None),
        fw: f.id.clone(),
        fw_title: f.title.clone(),
        outcome_ids: f.outcomes().map(|o| o.id.clone()).collect(),
        outcome_titles: f.outcomes().map(|o| o.title.clone()).collect(),
        members: r
            .members
            .iter()
            .map(|m| MemberRow {
                org: m.org_id.0,
                name: m.name.clone(),
                council_type: m.council_type.label(),
                last: m.last_submitted.map(date).unwrap_or_else(|| "never".into()),
                coverage: m.coverage.label(),
                coverage_class: m.coverage.as_str(),
                overall: m.overall.map(pct).unwrap_or_default(),
                cells: m
                    .outcomes
                    .iter()
                    .map(|c| match c {
                        Some((v, b)) => HeatCell {
                            value: format!("{v}%"),
                            band: b.as_str(),
                        },
                        None => HeatCell {
                            value: "–".into(),
                            band: "none",
                        },
                    })
                    .collect(),
                latest_link: m.coverage != Coverage::Never,
            })
            .collect(),
        ranking: r
            .ranking
            .iter()
            .map(|n| RankRow {
                org: n.org_id.0,
                name: n.name.clone(),
                need: n.need,
                coverage: n.coverage.label(),
                reasons: n.reasons.clone(),
            })
            .collect(),
        quartiles: r
            .quartiles
            .iter()
            .map(|(id, title, q)| QuartileRow {
                id: id.clone(),
                title: title.clone(),
                figures: q
                    .as_ref()
                    .map(|q| (pct(q.lower), pct(q.median), pct(q.upper))),
            })
            .collect(),
        submitted: r.submitted,
        current: r.current,
        overdue: r.overdue,
        never: r.never,
        min_orgs: MIN_ORGS,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    /// `true` (or `1`, `on`) for the anonymised export.
    anonymised: Option<String>,
}

/// Whether a query flag is on.
pub fn flag(v: Option<&str>) -> Result<bool, AppError> {
    match v.map(str::trim) {
        None | Some("") | Some("false") | Some("0") | Some("off") => Ok(false),
        Some("true") | Some("1") | Some("on") => Ok(true),
        Some(other) => Err(AppError::field(
            "anonymised",
            format!("'{other}' is not true or false"),
        )),
    }
}

/// A CSV download response.
pub fn csv_response(fw: &str, anonymised: bool, body: String) -> Response {
    let name = format!(
        "assessments-{fw}{}-{}.csv",
        if anonymised { "-anonymised" } else { "" },
        now().date_naive()
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// `GET /assessments/{fw}/export.csv?anonymised=true`: the export (operators).
pub async fn export(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    ClientIp(ip): ClientIp,
    Path(fw): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let anonymised = flag(q.anonymised.as_deref())?;
    let csv = actions::export(&state, &session.user, &fw, anonymised, &ip).await?;
    Ok(csv_response(&fw, anonymised, csv))
}

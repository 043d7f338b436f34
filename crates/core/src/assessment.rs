//! Cyber-security self-assessment: scoring, results, the anonymous regional
//! benchmark and the operators' view, as plain functions.
//!
//! The rules, in one place:
//!
//! - **Frameworks are data** ([`framework`]): objectives → principles →
//!   outcomes → questions, each question weighted low/medium/high.
//! - **Grades.** Each answer is not achieved (0 points), partially achieved
//!   (1) or achieved (2); an unanswered question counts as not achieved. A
//!   score is the weighted share of the points possible, 0–100
//!   ([`score`]): `Σ weight × points / Σ weight × 2`.
//! - **Who.** A member's own users (lead and users) fill in and read their
//!   organisation's assessment; only its member lead submits
//!   ([`may_submit`]). Operators see results and the regional picture but
//!   never change a member's answers, and evidence notes never leave the
//!   organisation. Another member's assessment is, to a member, not there.
//! - **Submissions are snapshots**: kept, never changed, so progress shows
//!   over time ([`change`]).
//! - **k-anonymity.** A regional figure is shown only when it is computed
//!   from at least [`MIN_ORGS`] organisations, each counted once with its
//!   latest submission ([`quartiles`], [`benchmark`]). The anonymised export
//!   follows the same rule, also for the council-type column.
//! - **Support.** Members most in need come first, with the reasons in words
//!   ([`support_ranking`]).
//!
//! Nothing here does I/O or reads the clock: callers pass `today`.

pub mod framework;

use crate::access::{Actor, Denied};
use crate::ids::OrgId;
use crate::membership::CouncilType;
use crate::validation::ValidationErrors;
use chrono::NaiveDate;
pub use framework::{
    Framework, FrameworkError, Objective, Outcome, Placed, Principle, Question, Weight,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A figure about the region is shown only if at least this many
/// organisations contributed to it.
pub const MIN_ORGS: usize = 5;
/// A member with no submission for this many days is overdue.
pub const OVERDUE_AFTER_DAYS: i64 = 365;
/// The longest evidence note, in characters.
pub const MAX_EVIDENCE: usize = 4000;

/// How far a question's outcome is achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    NotAchieved,
    PartiallyAchieved,
    Achieved,
}

impl Grade {
    pub const ALL: [Grade; 3] = [
        Grade::NotAchieved,
        Grade::PartiallyAchieved,
        Grade::Achieved,
    ];

    /// 0, 1 or 2.
    pub fn points(self) -> u32 {
        match self {
            Grade::NotAchieved => 0,
            Grade::PartiallyAchieved => 1,
            Grade::Achieved => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::NotAchieved => "not_achieved",
            Grade::PartiallyAchieved => "partially_achieved",
            Grade::Achieved => "achieved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grade::NotAchieved => "Not achieved",
            Grade::PartiallyAchieved => "Partially achieved",
            Grade::Achieved => "Achieved",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == s.trim())
    }
}

/// One question's answer: its grade (none yet) and evidence notes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub grade: Option<Grade>,
    #[serde(default)]
    pub evidence: String,
}

/// Answers by question id.
pub type Answers = BTreeMap<String, Answer>;

/// One answer as sent by a form or the API, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AnswerInput {
    pub question: String,
    /// `not_achieved`, `partially_achieved`, `achieved`, or empty for none yet.
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub evidence: String,
}

/// Check answers against `framework`: every question must be in it, every
/// grade one of the three, every note at most [`MAX_EVIDENCE`] characters.
/// Errors name the field (`grade`, `evidence`, `question`) and the question.
pub fn validate_answers(
    framework: &Framework,
    input: &[AnswerInput],
) -> Result<Answers, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let mut out = Answers::new();
    for a in input {
        let qid = a.question.trim();
        if framework.question(qid).is_none() {
            errors.add(
                "question",
                format!("'{qid}' is not a question of {}", framework.title),
            );
            continue;
        }
        let grade = if a.grade.trim().is_empty() {
            None
        } else {
            match Grade::parse(&a.grade) {
                Some(g) => Some(g),
                None => {
                    errors.add(
                        "grade",
                        format!(
                            "question {qid}: '{}' is not a grade; use not_achieved, partially_achieved or achieved",
                            a.grade.trim()
                        ),
                    );
                    continue;
                }
            }
        };
        let evidence = a.evidence.trim().replace("\r\n", "\n");
        if evidence.chars().count() > MAX_EVIDENCE {
            errors.add(
                "evidence",
                format!("question {qid}: evidence notes must be at most {MAX_EVIDENCE} characters"),
            );
            continue;
        }
        if evidence
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            errors.add(
                "evidence",
                format!("question {qid}: evidence notes must not contain control characters"),
            );
            continue;
        }
        out.insert(qid.to_string(), Answer { grade, evidence });
    }
    errors.into_result(out)
}

/// The questions of `framework` not yet graded in `answers`, in order.
pub fn unanswered<'a>(framework: &'a Framework, answers: &Answers) -> Vec<&'a Question> {
    framework
        .questions()
        .filter(|p| answers.get(&p.question.id).and_then(|a| a.grade).is_none())
        .map(|p| p.question)
        .collect()
}

/// A submission may be made only when every question is graded.
pub fn check_complete(framework: &Framework, answers: &Answers) -> Result<(), ValidationErrors> {
    let missing = unanswered(framework, answers);
    if missing.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = missing.iter().take(10).map(|q| q.id.as_str()).collect();
    let mut e = ValidationErrors::new();
    e.add(
        "answers",
        format!(
            "{} question(s) have no grade yet ({}{}); grade every question before submitting",
            missing.len(),
            ids.join(", "),
            if missing.len() > ids.len() {
                ", …"
            } else {
                ""
            }
        ),
    );
    Err(e)
}

/// Points earned out of points possible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Score {
    pub earned: u32,
    pub possible: u32,
}

impl Score {
    fn add(&mut self, weight: Weight, grade: Option<Grade>) {
        self.earned += weight.factor() * grade.map_or(0, Grade::points);
        self.possible += weight.factor() * 2;
    }

    /// 0–100; 0 when nothing is possible.
    pub fn percent(self) -> f64 {
        if self.possible == 0 {
            0.0
        } else {
            f64::from(self.earned) * 100.0 / f64::from(self.possible)
        }
    }

    /// Whole per cent, for pages and charts.
    pub fn rounded(self) -> u32 {
        // In 0..=100, so the cast cannot truncate.
        self.percent().round() as u32
    }
}

/// A score for one part of the framework.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartScore {
    pub id: String,
    pub title: String,
    pub score: Score,
}

/// Scores at every level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub overall: Score,
    pub objectives: Vec<PartScore>,
    pub principles: Vec<PartScore>,
    pub outcomes: Vec<PartScore>,
}

impl Scores {
    pub fn principle(&self, id: &str) -> Option<Score> {
        self.principles.iter().find(|p| p.id == id).map(|p| p.score)
    }

    pub fn outcome(&self, id: &str) -> Option<Score> {
        self.outcomes.iter().find(|p| p.id == id).map(|p| p.score)
    }
}

/// Score `answers` against `framework` (unanswered counts as not achieved;
/// answers to questions not in the framework are ignored).
pub fn score(framework: &Framework, answers: &Answers) -> Scores {
    let grade = |q: &Question| answers.get(&q.id).and_then(|a| a.grade);
    let mut overall = Score::default();
    let mut objectives = Vec::new();
    let mut principles = Vec::new();
    let mut outcomes = Vec::new();
    for o in &framework.objectives {
        let mut os = Score::default();
        for p in &o.principles {
            let mut ps = Score::default();
            for u in &p.outcomes {
                let mut us = Score::default();
                for q in &u.questions {
                    us.add(q.weight, grade(q));
                    ps.add(q.weight, grade(q));
                    os.add(q.weight, grade(q));
                    overall.add(q.weight, grade(q));
                }
                outcomes.push(PartScore {
                    id: u.id.clone(),
                    title: u.title.clone(),
                    score: us,
                });
            }
            principles.push(PartScore {
                id: p.id.clone(),
                title: p.title.clone(),
                score: ps,
            });
        }
        objectives.push(PartScore {
            id: o.id.clone(),
            title: o.title.clone(),
            score: os,
        });
    }
    Scores {
        overall,
        objectives,
        principles,
        outcomes,
    }
}

/// How strong a score is, for heat maps: a colour and a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Below 50%.
    Weak,
    /// 50% to below 80%.
    Developing,
    /// 80% and above.
    Strong,
}

impl Band {
    pub fn of(score: Score) -> Band {
        let p = score.percent();
        if p >= 80.0 {
            Band::Strong
        } else if p >= 50.0 {
            Band::Developing
        } else {
            Band::Weak
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Weak => "weak",
            Band::Developing => "developing",
            Band::Strong => "strong",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::Weak => "Weak (below 50%)",
            Band::Developing => "Developing (50–79%)",
            Band::Strong => "Strong (80% or more)",
        }
    }
}

/// A strength or a risk: one question, where it sits, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub question_id: String,
    pub principle_id: String,
    pub principle_title: String,
    pub outcome_id: String,
    pub text: String,
    pub weight: Weight,
    /// `None`: not answered (counted as not achieved).
    pub grade: Option<Grade>,
    pub next_step: String,
    pub governance: bool,
}

fn finding(p: Placed<'_>, grade: Option<Grade>) -> Finding {
    Finding {
        question_id: p.question.id.clone(),
        principle_id: p.principle.id.clone(),
        principle_title: p.principle.title.clone(),
        outcome_id: p.outcome.id.clone(),
        text: p.question.text.clone(),
        weight: p.question.weight,
        grade,
        next_step: p.question.next_step.clone(),
        governance: p.question.governance,
    }
}

/// Good practice (achieved questions), most important first, then in
/// framework order.
pub fn strengths(framework: &Framework, answers: &Answers) -> Vec<Finding> {
    let mut out: Vec<(usize, Finding)> = framework
        .questions()
        .enumerate()
        .filter_map(|(i, p)| {
            let g = answers.get(&p.question.id).and_then(|a| a.grade);
            (g == Some(Grade::Achieved)).then(|| (i, finding(p, g)))
        })
        .collect();
    out.sort_by(|(i, a), (j, b)| b.weight.cmp(&a.weight).then(i.cmp(j)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// Gaps (everything not achieved), most important first; at equal
/// importance not achieved (or unanswered) before partially achieved, then
/// framework order. Each carries its next step.
pub fn risks(framework: &Framework, answers: &Answers) -> Vec<Finding> {
    let mut out: Vec<(usize, Finding)> = framework
        .questions()
        .enumerate()
        .filter_map(|(i, p)| {
            let g = answers.get(&p.question.id).and_then(|a| a.grade);
            (g != Some(Grade::Achieved)).then(|| (i, finding(p, g)))
        })
        .collect();
    out.sort_by(|(i, a), (j, b)| {
        b.weight
            .cmp(&a.weight)
            .then(
                a.grade
                    .map_or(0, Grade::points)
                    .cmp(&b.grade.map_or(0, Grade::points)),
            )
            .then(i.cmp(j))
    });
    out.into_iter().map(|(_, f)| f).collect()
}

/// A question whose grade moved between two submissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeChange {
    pub question_id: String,
    pub text: String,
    pub before: Option<Grade>,
    pub after: Option<Grade>,
}

/// One part's score then and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartChange {
    pub id: String,
    pub title: String,
    pub before: Score,
    pub after: Score,
}

impl PartChange {
    /// Percentage points, after minus before.
    pub fn delta(&self) -> f64 {
        self.after.percent() - self.before.percent()
    }
}

/// What changed since the previous submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub overall: PartChange,
    pub principles: Vec<PartChange>,
    pub improved: Vec<GradeChange>,
    pub worsened: Vec<GradeChange>,
}

/// Compare two submissions' answers under one framework.
pub fn change(framework: &Framework, before: &Answers, after: &Answers) -> Change {
    let sb = score(framework, before);
    let sa = score(framework, after);
    let principles = sb
        .principles
        .iter()
        .zip(&sa.principles)
        .map(|(b, a)| PartChange {
            id: a.id.clone(),
            title: a.title.clone(),
            before: b.score,
            after: a.score,
        })
        .collect();
    let mut improved = Vec::new();
    let mut worsened = Vec::new();
    for p in framework.questions() {
        let b = before.get(&p.question.id).and_then(|a| a.grade);
        let a = after.get(&p.question.id).and_then(|a| a.grade);
        let (pb, pa) = (b.map_or(0, Grade::points), a.map_or(0, Grade::points));
        let c = GradeChange {
            question_id: p.question.id.clone(),
            text: p.question.text.clone(),
            before: b,
            after: a,
        };
        if pa > pb {
            improved.push(c);
        } else if pa < pb {
            worsened.push(c);
        }
    }
    Change {
        overall: PartChange {
            id: "overall".into(),
            title: "Overall".into(),
            before: sb.overall,
            after: sa.overall,
        },
        principles,
        improved,
        worsened,
    }
}

/// The region's spread of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quartiles {
    pub lower: f64,
    pub median: f64,
    pub upper: f64,
    /// How many organisations it was computed from (≥ [`MIN_ORGS`]).
    pub orgs: usize,
}

/// Lower quartile, median and upper quartile of `values` (linear
/// interpolation between closest ranks), or `None` when fewer than
/// [`MIN_ORGS`] values are given: a figure from fewer organisations is
/// never computed, so it cannot be shown.
pub fn quartiles(values: &[f64]) -> Option<Quartiles> {
    if values.len() < MIN_ORGS {
        return None;
    }
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let h = (v.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + (h - lo as f64) * (v[hi] - v[lo])
    };
    Some(Quartiles {
        lower: at(0.25),
        median: at(0.5),
        upper: at(0.75),
        orgs: v.len(),
    })
}

/// Where a member sits against the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    TopQuarter,
    AboveMedian,
    BelowMedian,
    BottomQuarter,
}

impl Position {
    pub fn of(value: f64, q: &Quartiles) -> Position {
        if value >= q.upper {
            Position::TopQuarter
        } else if value >= q.median {
            Position::AboveMedian
        } else if value >= q.lower {
            Position::BelowMedian
        } else {
            Position::BottomQuarter
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Position::TopQuarter => "In the region's top quarter",
            Position::AboveMedian => "At or above the region's median",
            Position::BelowMedian => "Below the region's median",
            Position::BottomQuarter => "In the region's bottom quarter",
        }
    }
}

/// One principle: the member's score and, when enough organisations have
/// submitted, the region's quartiles and where the member sits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipleBenchmark {
    pub id: String,
    pub title: String,
    pub yours: f64,
    /// `None` when fewer than [`MIN_ORGS`] organisations have submitted.
    pub region: Option<Quartiles>,
    pub position: Option<Position>,
}

/// The member's principles against the region's. `region` holds each
/// organisation's latest submission's scores, one per organisation
/// (including the member's own); nothing about the region is returned when
/// they are fewer than [`MIN_ORGS`].
pub fn benchmark(own: &Scores, region: &[Scores]) -> Vec<PrincipleBenchmark> {
    own.principles
        .iter()
        .map(|p| {
            let values: Vec<f64> = region
                .iter()
                .filter_map(|s| s.principle(&p.id))
                .map(Score::percent)
                .collect();
            let q = quartiles(&values);
            let yours = p.score.percent();
            PrincipleBenchmark {
                id: p.id.clone(),
                title: p.title.clone(),
                yours,
                position: q.as_ref().map(|q| Position::of(yours, q)),
                region: q,
            }
        })
        .collect()
}

/// The region's quartiles per principle, for operators and the API, each
/// `None` below [`MIN_ORGS`] organisations.
pub fn region_quartiles(
    framework: &Framework,
    region: &[Scores],
) -> Vec<(String, Option<Quartiles>)> {
    framework
        .principles()
        .map(|p| {
            let values: Vec<f64> = region
                .iter()
                .filter_map(|s| s.principle(&p.id))
                .map(Score::percent)
                .collect();
            (p.id.clone(), quartiles(&values))
        })
        .collect()
}

/// Whether a member's assessment is up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Submitted in the last [`OVERDUE_AFTER_DAYS`] days.
    Current,
    /// Submitted, but longer ago.
    Overdue,
    /// Never submitted.
    Never,
}

impl Coverage {
    pub fn of(last: Option<NaiveDate>, today: NaiveDate) -> Coverage {
        match last {
            None => Coverage::Never,
            Some(d) if (today - d).num_days() > OVERDUE_AFTER_DAYS => Coverage::Overdue,
            Some(_) => Coverage::Current,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Coverage::Current => "current",
            Coverage::Overdue => "overdue",
            Coverage::Never => "never",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Coverage::Current => "Submitted in the last 12 months",
            Coverage::Overdue => "Overdue: no submission in the last 12 months",
            Coverage::Never => "Never submitted",
        }
    }
}

/// What the support ranking knows about one member.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub org_id: OrgId,
    pub name: String,
    /// The latest submission's date and answers.
    pub latest: Option<(NaiveDate, Answers)>,
    /// The submission before that.
    pub previous: Option<Answers>,
}

/// One member in the support ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportNeed {
    pub org_id: OrgId,
    pub name: String,
    pub coverage: Coverage,
    /// The latest overall score, 0–100.
    pub overall: Option<f64>,
    /// Higher needs more support; the sum of the reasons' points.
    pub need: u32,
    /// Why, in words, most telling first.
    pub reasons: Vec<String>,
}

/// Members most in need of support first (ties by name), each with reasons:
/// never submitted (100 points), overdue (40), the gap to a full score (one
/// point per percentage point), each high-importance question not achieved
/// (10), and a fall in the overall score since the previous submission (one
/// point per percentage point, when it fell by 5 or more).
pub fn support_ranking(
    framework: &Framework,
    members: &[Standing],
    today: NaiveDate,
) -> Vec<SupportNeed> {
    let mut out: Vec<SupportNeed> = members
        .iter()
        .map(|m| {
            let coverage = Coverage::of(m.latest.as_ref().map(|(d, _)| *d), today);
            let mut need = 0u32;
            let mut reasons = Vec::new();
            let mut overall = None;
            match &m.latest {
                None => {
                    need += 100;
                    reasons.push("Has never submitted a self-assessment".to_string());
                }
                Some((date, answers)) => {
                    if coverage == Coverage::Overdue {
                        need += 40;
                        reasons.push(format!(
                            "Last submitted on {}, more than 12 months ago",
                            date.format("%-d %B %Y")
                        ));
                    }
                    let s = score(framework, answers);
                    let pct = s.overall.percent();
                    overall = Some(pct);
                    need += 100 - s.overall.rounded().min(100);
                    if pct < 80.0 {
                        reasons.push(format!("Overall score {}%", s.overall.rounded()));
                    }
                    let high_gaps: Vec<Finding> = risks(framework, answers)
                        .into_iter()
                        .filter(|f| {
                            f.weight == Weight::High && f.grade != Some(Grade::PartiallyAchieved)
                        })
                        .collect();
                    if !high_gaps.is_empty() {
                        need += 10 * high_gaps.len() as u32;
                        let ids: Vec<&str> =
                            high_gaps.iter().map(|f| f.question_id.as_str()).collect();
                        reasons.push(format!(
                            "{} high-importance question{} not achieved: {}",
                            high_gaps.len(),
                            if high_gaps.len() == 1 { "" } else { "s" },
                            ids.join(", ")
                        ));
                    }
                    let weak: Vec<&PartScore> = s
                        .principles
                        .iter()
                        .filter(|p| Band::of(p.score) == Band::Weak)
                        .collect();
                    if !weak.is_empty() {
                        let names: Vec<String> = weak
                            .iter()
                            .map(|p| format!("{} {}", p.id, p.title))
                            .collect();
                        reasons.push(format!("Weak (below 50%) in {}", names.join(", ")));
                    }
                    if let Some(prev) = &m.previous {
                        let before = score(framework, prev).overall.percent();
                        let fall = before - pct;
                        if fall >= 5.0 {
                            need += fall.round() as u32;
                            reasons.push(format!(
                                "Overall score fell {} points since the previous submission",
                                fall.round()
                            ));
                        }
                    }
                }
            }
            SupportNeed {
                org_id: m.org_id,
                name: m.name.clone(),
                coverage,
                overall,
                need,
                reasons,
            }
        })
        .collect();
    out.sort_by(|a, b| b.need.cmp(&a.need).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Who may fill in (save answers to) `org`'s assessment: its own lead and
/// users. Operators look but do not answer for a member.
pub fn may_answer(actor: &Actor, org: OrgId) -> Result<(), Denied> {
    actor.can_edit_member_records(org)
}

/// Who may read `org`'s assessment and results: its own users and operators.
/// Evidence notes are for the member alone ([`may_read_evidence`]).
pub fn may_read(actor: &Actor, org: OrgId) -> Result<(), Denied> {
    actor.can_view_org(org)
}

/// Evidence notes never leave the organisation: not even operators read them.
pub fn may_read_evidence(actor: &Actor, org: OrgId) -> Result<(), Denied> {
    actor.can_edit_member_records(org)
}

/// Only the member lead submits (another organisation's: refused as such).
pub fn may_submit(actor: &Actor, org: OrgId) -> Result<(), Denied> {
    actor.can_edit_member_records(org)?;
    if actor.role == crate::account::Role::MemberLead {
        Ok(())
    } else {
        Err(Denied::LeadsOnly)
    }
}

/// The region's picture, for operators: coverage, heat map, ranking, export.
pub fn may_see_region(actor: &Actor) -> Result<(), Denied> {
    actor.require_operator()
}

/// One member's latest submission, for the export.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRow {
    pub org_id: OrgId,
    pub name: String,
    pub council_type: CouncilType,
    pub submitted_on: NaiveDate,
    pub scores: Scores,
}

/// Why an anonymised export was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportRefusal {
    #[error(
        "only {0} organisation(s) have submitted; an anonymised export needs at least {MIN_ORGS} so no organisation can be picked out"
    )]
    TooFew(usize),
}

/// A CSV field, quoted, with a leading `=`, `+`, `-`, `@`, tab or carriage
/// return defused so a spreadsheet does not run it as a formula.
fn csv_field(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// The national body's export: one line per member's latest submission,
/// overall, objective and principle scores in whole per cent.
///
/// Named: organisation id, name, council type, date submitted.
/// Anonymised: no id, name or date (a date could single a council out);
/// the council type only where at least [`MIN_ORGS`] rows share it, else
/// `withheld`; rows in score order (not by name or id); refused outright
/// below [`MIN_ORGS`] rows.
pub fn export_csv(
    framework: &Framework,
    rows: &[ExportRow],
    anonymised: bool,
) -> Result<String, ExportRefusal> {
    if anonymised && rows.len() < MIN_ORGS {
        return Err(ExportRefusal::TooFew(rows.len()));
    }
    let mut out = String::new();
    let mut header: Vec<String> = Vec::new();
    if !anonymised {
        header.extend(["org_id", "organisation", "council_type", "submitted_on"].map(String::from));
    } else {
        header.push("council_type".into());
    }
    header.push("framework".into());
    header.push("overall".into());
    header.extend(
        framework
            .objectives
            .iter()
            .map(|o| format!("objective_{}", o.id)),
    );
    header.extend(
        framework
            .principles()
            .map(|p| format!("principle_{}", p.id)),
    );
    let _ = writeln!(out, "{}", header.join(","));
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *by_type.entry(r.council_type.as_str()).or_default() += 1;
    }
    let mut ordered: Vec<&ExportRow> = rows.iter().collect();
    if anonymised {
        ordered.sort_by(|a, b| {
            b.scores
                .overall
                .percent()
                .total_cmp(&a.scores.overall.percent())
                .then_with(|| {
                    let pa: Vec<u32> = a.scores.principles.iter().map(|p| p.score.earned).collect();
                    let pb: Vec<u32> = b.scores.principles.iter().map(|p| p.score.earned).collect();
                    pb.cmp(&pa)
                })
        });
    } else {
        ordered.sort_by(|a, b| a.name.cmp(&b.name).then(a.org_id.0.cmp(&b.org_id.0)));
    }
    for r in ordered {
        let mut cells: Vec<String> = Vec::new();
        if !anonymised {
            cells.push(r.org_id.0.to_string());
            cells.push(csv_field(&r.name));
            cells.push(r.council_type.as_str().to_string());
            cells.push(r.submitted_on.to_string());
        } else if by_type.get(r.council_type.as_str()).copied().unwrap_or(0) >= MIN_ORGS {
            cells.push(r.council_type.as_str().to_string());
        } else {
            cells.push("withheld".into());
        }
        cells.push(format!("{}@{}", framework.id, framework.version));
        cells.push(r.scores.overall.rounded().to_string());
        for o in framework.objectives.iter() {
            let s = r
                .scores
                .objectives
                .iter()
                .find(|x| x.id == o.id)
                .map(|x| x.score.rounded().to_string())
                .unwrap_or_default();
            cells.push(s);
        }
        for p in framework.principles() {
            cells.push(
                r.scores
                    .principle(&p.id)
                    .map(|s| s.rounded().to_string())
                    .unwrap_or_default(),
            );
        }
        let _ = writeln!(out, "{}", cells.join(","));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

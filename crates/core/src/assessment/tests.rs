//! Hand-worked examples over the small test framework
//! (`testdata/mini-framework.toml`):
//!
//! | question | weight (factor) | points possible |
//! |----------|-----------------|-----------------|
//! | X1.a.1   | high (3)        | 6               |
//! | X1.a.2   | low (1)         | 2               |
//! | Y1.a.1   | medium (2)      | 4               |
//! | Y1.a.2   | medium (2)      | 4               |

use super::*;
use crate::account::Role;
use crate::ids::UserId;

fn mini() -> Framework {
    Framework::from_toml("mini.toml", include_str!("testdata/mini-framework.toml"))
        .unwrap_or_else(|e| unreachable!("{e}"))
}

fn answers(grades: &[(&str, Grade)]) -> Answers {
    grades
        .iter()
        .map(|(q, g)| {
            (
                q.to_string(),
                Answer {
                    grade: Some(*g),
                    evidence: String::new(),
                },
            )
        })
        .collect()
}

/// X1.a.1 achieved, X1.a.2 not achieved, Y1.a.1 partially, Y1.a.2 unanswered.
fn mixed() -> Answers {
    answers(&[
        ("X1.a.1", Grade::Achieved),
        ("X1.a.2", Grade::NotAchieved),
        ("Y1.a.1", Grade::PartiallyAchieved),
    ])
}

fn all(g: Grade) -> Answers {
    answers(&[("X1.a.1", g), ("X1.a.2", g), ("Y1.a.1", g), ("Y1.a.2", g)])
}

#[test]
fn scores_by_hand() {
    let s = score(&mini(), &mixed());
    // X1: 3×2 + 1×0 = 6 of 8 → 75%. Y1: 2×1 + 2×0 = 2 of 8 → 25%.
    // Overall 8 of 16 → 50%.
    assert_eq!(
        s.overall,
        Score {
            earned: 8,
            possible: 16
        }
    );
    assert_eq!(s.overall.percent(), 50.0);
    assert_eq!(
        s.principle("X1"),
        Some(Score {
            earned: 6,
            possible: 8
        })
    );
    assert_eq!(s.principle("Y1").map(Score::percent), Some(25.0));
    assert_eq!(s.objectives[0].score.percent(), 75.0);
    assert_eq!(s.objectives[1].score.percent(), 25.0);
    assert_eq!(s.outcome("X1.a").map(Score::rounded), Some(75));
    assert_eq!(
        score(&mini(), &all(Grade::Achieved)).overall.percent(),
        100.0
    );
    assert_eq!(score(&mini(), &Answers::new()).overall.percent(), 0.0);
    // All partially achieved: half of everything.
    assert_eq!(
        score(&mini(), &all(Grade::PartiallyAchieved))
            .overall
            .percent(),
        50.0
    );
    // Weighting matters: only the high question achieved = 6/16 = 37.5%,
    // only the low one = 2/16 = 12.5%.
    let high = answers(&[("X1.a.1", Grade::Achieved)]);
    let low = answers(&[("X1.a.2", Grade::Achieved)]);
    assert_eq!(score(&mini(), &high).overall.percent(), 37.5);
    assert_eq!(score(&mini(), &low).overall.percent(), 12.5);
    assert_eq!(Band::of(s.overall), Band::Developing);
    assert_eq!(Band::of(score(&mini(), &high).overall), Band::Weak);
    assert_eq!(
        Band::of(s.principle("X1").unwrap_or_default()),
        Band::Developing
    );
}

#[test]
fn strengths_and_risks_are_ordered_by_importance() {
    let f = mini();
    let strengths: Vec<String> = strengths(&f, &mixed())
        .into_iter()
        .map(|f| f.question_id)
        .collect();
    assert_eq!(strengths, ["X1.a.1"]);
    let risks = risks(&f, &mixed());
    let ids: Vec<&str> = risks.iter().map(|f| f.question_id.as_str()).collect();
    // Medium before low; at medium, unanswered (0 points) before partially.
    assert_eq!(ids, ["Y1.a.2", "Y1.a.1", "X1.a.2"]);
    assert_eq!(risks[0].next_step, "Do the fourth thing.");
    assert!(risks[0].governance);
    assert_eq!(risks[1].grade, Some(Grade::PartiallyAchieved));
}

#[test]
fn change_since_the_last_submission() {
    let f = mini();
    let c = change(&f, &all(Grade::NotAchieved), &mixed());
    assert_eq!(c.overall.before.percent(), 0.0);
    assert_eq!(c.overall.delta(), 50.0);
    assert_eq!(c.principles[0].delta(), 75.0);
    let improved: Vec<&str> = c.improved.iter().map(|g| g.question_id.as_str()).collect();
    assert_eq!(improved, ["X1.a.1", "Y1.a.1"]);
    assert!(c.worsened.is_empty());
    let back = change(&f, &mixed(), &all(Grade::NotAchieved));
    assert_eq!(back.overall.delta(), -50.0);
    assert_eq!(back.worsened.len(), 2);
}

#[test]
fn quartiles_by_hand() {
    assert_eq!(
        quartiles(&[50.0, 10.0, 30.0, 20.0, 40.0]),
        Some(Quartiles {
            lower: 20.0,
            median: 30.0,
            upper: 40.0,
            orgs: 5
        })
    );
    // Six values: h = 5p; Q1 at 1.25 → 25 + 0.25×25, median at 2.5, Q3 at 3.75.
    assert_eq!(
        quartiles(&[0.0, 25.0, 50.0, 75.0, 100.0, 100.0]),
        Some(Quartiles {
            lower: 31.25,
            median: 62.5,
            upper: 93.75,
            orgs: 6
        })
    );
    assert_eq!(quartiles(&[]), None);
}

#[test]
fn k_anonymity_four_organisations_show_nothing_five_show_the_region() {
    let f = mini();
    let own = score(&f, &mixed());
    let others = [
        all(Grade::Achieved),
        all(Grade::NotAchieved),
        all(Grade::PartiallyAchieved),
        answers(&[("X1.a.1", Grade::Achieved)]),
        answers(&[("Y1.a.1", Grade::Achieved)]),
    ];
    let scores: Vec<Scores> = others.iter().map(|a| score(&f, a)).collect();
    // The member and three others: four organisations.
    let mut region = vec![own.clone()];
    region.extend(scores[..3].iter().cloned());
    let b = benchmark(&own, &region);
    assert_eq!(b.len(), 2);
    assert!(b.iter().all(|p| p.region.is_none() && p.position.is_none()));
    assert!(quartiles(&[1.0, 2.0, 3.0, 4.0]).is_none());
    assert!(
        region_quartiles(&f, &region)
            .iter()
            .all(|(_, q)| q.is_none())
    );
    // A fifth organisation: the region shows.
    region.push(scores[3].clone());
    let b = benchmark(&own, &region);
    let x1 = &b[0];
    // X1 across the five: 75, 100, 0, 50, 75 → sorted 0, 50, 75, 75, 100.
    assert_eq!(
        x1.region,
        Some(Quartiles {
            lower: 50.0,
            median: 75.0,
            upper: 75.0,
            orgs: 5
        })
    );
    assert_eq!(x1.yours, 75.0);
    assert_eq!(x1.position, Some(Position::TopQuarter));
    // Y1: 25, 100, 0, 50, 0 → 0, 0, 25, 50, 100: the member is at the median.
    assert_eq!(b[1].position, Some(Position::AboveMedian));
    assert!(
        region_quartiles(&f, &region)
            .iter()
            .all(|(_, q)| q.is_some())
    );
}

#[test]
fn coverage_and_support_ranking() {
    let f = mini();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
    let recent = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
    let old = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap_or_default();
    assert_eq!(Coverage::of(None, today), Coverage::Never);
    assert_eq!(Coverage::of(Some(recent), today), Coverage::Current);
    assert_eq!(Coverage::of(Some(old), today), Coverage::Overdue);
    // Exactly 365 days ago is still current; 366 is overdue.
    assert_eq!(
        Coverage::of(today.checked_sub_days(chrono::Days::new(365)), today),
        Coverage::Current
    );
    assert_eq!(
        Coverage::of(today.checked_sub_days(chrono::Days::new(366)), today),
        Coverage::Overdue
    );
    let members = [
        Standing {
            org_id: OrgId(1),
            name: "Strong".into(),
            latest: Some((recent, all(Grade::Achieved))),
            previous: None,
        },
        Standing {
            org_id: OrgId(2),
            name: "Never".into(),
            latest: None,
            previous: None,
        },
        Standing {
            org_id: OrgId(3),
            name: "Slipping".into(),
            latest: Some((old, mixed())),
            previous: Some(all(Grade::Achieved)),
        },
    ];
    let ranked = support_ranking(&f, &members, today);
    let order: Vec<&str> = ranked.iter().map(|r| r.name.as_str()).collect();
    // Slipping: overdue 40 + gap 50 + fall 50 = 140 (no high question
    // missed: X1.a.1 is achieved). Never: 100. Strong: 0.
    assert_eq!(order, ["Slipping", "Never", "Strong"]);
    assert_eq!(ranked[0].need, 140);
    assert_eq!(ranked[0].coverage, Coverage::Overdue);
    assert!(ranked[0].reasons[0].contains("1 September 2025"));
    assert!(ranked[0].reasons.iter().any(|r| r == "Overall score 50%"));
    assert!(
        ranked[0]
            .reasons
            .iter()
            .any(|r| r.contains("Weak (below 50%) in Y1"))
    );
    assert!(
        ranked[0]
            .reasons
            .iter()
            .any(|r| r.contains("fell 50 points"))
    );
    assert_eq!(ranked[1].reasons, ["Has never submitted a self-assessment"]);
    assert_eq!(ranked[2].need, 0);
    assert!(ranked[2].reasons.is_empty());
    // A high-importance gap is named.
    let gap = [Standing {
        org_id: OrgId(4),
        name: "Gap".into(),
        latest: Some((recent, answers(&[("X1.a.2", Grade::Achieved)]))),
        previous: None,
    }];
    let r = support_ranking(&f, &gap, today);
    assert!(
        r[0].reasons
            .iter()
            .any(|r| r == "1 high-importance question not achieved: X1.a.1")
    );
}

#[test]
fn answers_are_checked_naming_the_field_and_question() {
    let f = mini();
    let ok = validate_answers(
        &f,
        &[AnswerInput {
            question: "X1.a.1".into(),
            grade: "achieved".into(),
            evidence: "  Policy approved 2026  ".into(),
        }],
    )
    .unwrap_or_default();
    assert_eq!(ok["X1.a.1"].grade, Some(Grade::Achieved));
    assert_eq!(ok["X1.a.1"].evidence, "Policy approved 2026");
    let e = validate_answers(
        &f,
        &[
            AnswerInput {
                question: "Z9".into(),
                grade: "achieved".into(),
                evidence: String::new(),
            },
            AnswerInput {
                question: "X1.a.2".into(),
                grade: "mostly".into(),
                evidence: String::new(),
            },
            AnswerInput {
                question: "Y1.a.1".into(),
                grade: String::new(),
                evidence: "x".repeat(MAX_EVIDENCE + 1),
            },
        ],
    )
    .err()
    .unwrap_or_default();
    assert!(e.for_field("question").unwrap_or("").contains("'Z9'"));
    assert!(e.for_field("grade").unwrap_or("").contains("X1.a.2"));
    assert!(e.for_field("evidence").unwrap_or("").contains("Y1.a.1"));
    // Submitting needs every question graded.
    let e = check_complete(&f, &mixed()).err().unwrap_or_default();
    assert!(
        e.for_field("answers").unwrap_or("").contains("Y1.a.2"),
        "{e}"
    );
    assert!(check_complete(&f, &all(Grade::NotAchieved)).is_ok());
}

#[test]
fn who_may_do_what() {
    let a = OrgId(1);
    let b = OrgId(2);
    let actor = |role, org| Actor {
        user_id: UserId(9),
        role,
        org_id: org,
    };
    let op = actor(Role::Operator, None);
    let lead = actor(Role::MemberLead, Some(a));
    let user = actor(Role::MemberUser, Some(a));
    assert!(may_answer(&lead, a).is_ok() && may_answer(&user, a).is_ok());
    assert_eq!(may_answer(&op, a), Err(Denied::MembersOnly));
    assert_eq!(may_answer(&lead, b), Err(Denied::OtherOrganisation));
    assert!(may_submit(&lead, a).is_ok());
    assert_eq!(may_submit(&user, a), Err(Denied::LeadsOnly));
    assert_eq!(may_submit(&lead, b), Err(Denied::OtherOrganisation));
    assert_eq!(may_submit(&op, a), Err(Denied::MembersOnly));
    assert!(may_read(&op, a).is_ok() && may_read(&user, a).is_ok());
    assert_eq!(may_read(&user, b), Err(Denied::OtherOrganisation));
    assert!(may_read_evidence(&op, a).is_err());
    assert!(may_see_region(&op).is_ok() && may_see_region(&lead).is_err());
}

fn row(id: i64, name: &str, t: CouncilType, a: &Answers) -> ExportRow {
    ExportRow {
        org_id: OrgId(id),
        name: name.into(),
        council_type: t,
        submitted_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
        scores: score(&mini(), a),
    }
}

#[test]
fn export_named_and_anonymised() {
    let f = mini();
    let rows: Vec<ExportRow> = (1..=6)
        .map(|i| {
            let t = if i <= 5 {
                CouncilType::DistrictBorough
            } else {
                CouncilType::County
            };
            let a = if i % 2 == 0 {
                all(Grade::Achieved)
            } else {
                mixed()
            };
            row(i, &format!("=Council {i}"), t, &a)
        })
        .collect();
    let named = export_csv(&f, &rows, false).unwrap_or_default();
    let mut lines = named.lines();
    assert_eq!(
        lines.next(),
        Some(
            "org_id,organisation,council_type,submitted_on,framework,overall,objective_X,objective_Y,principle_X1,principle_Y1"
        )
    );
    // Formula defused; ordered by name.
    assert_eq!(
        lines.next(),
        Some("1,\"'=Council 1\",district_borough,2026-03-01,mini@1,50,75,25,75,25")
    );
    let anon = export_csv(&f, &rows, true).unwrap_or_default();
    assert!(!anon.contains("Council"), "{anon}");
    assert!(!anon.contains("2026-03-01"), "{anon}");
    let lines: Vec<&str> = anon.lines().collect();
    assert_eq!(
        lines[0],
        "council_type,framework,overall,objective_X,objective_Y,principle_X1,principle_Y1"
    );
    // Highest scores first; the single county is withheld (fewer than 5).
    assert!(
        lines[1].ends_with(",mini@1,100,100,100,100,100"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("withheld,")).count(),
        1
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("district_borough,"))
            .count(),
        5
    );
    // Four rows: refused.
    assert_eq!(
        export_csv(&f, &rows[..4], true),
        Err(ExportRefusal::TooFew(4))
    );
    assert!(export_csv(&f, &rows[..4], false).is_ok());
}

//! Self-assessments on every backend: the working copy saved over several
//! sittings, submission only when complete, snapshots kept unchanged (the
//! database refuses an update), framework versions kept with their source,
//! and the region's view holding each member's latest and previous
//! submission with grades only — never evidence notes.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::Role;
use openwarp_core::assessment::{
    Answer, AnswerInput, Answers, Framework, Grade, framework::SHIPPED_FILE,
    framework::SHIPPED_SOURCE, validate_answers,
};
use openwarp_store::testing::all_backends;
use openwarp_store::{Backend, StoreError, SubmitError};

const MINI: &str = r#"
id = "mini"
version = "1"
title = "Mini"

[[objective]]
id = "X"
title = "X"

[[objective.principle]]
id = "X1"
title = "X one"

[[objective.principle.outcome]]
id = "X1.a"
title = "X one a"

[[objective.principle.outcome.question]]
id = "X1.a.1"
text = "First?"
weight = "high"
next_step = "Do the first."

[[objective.principle.outcome.question]]
id = "X1.a.2"
text = "Second?"
weight = "low"
next_step = "Do the second."
"#;

fn mini() -> Framework {
    Framework::from_toml("mini.toml", MINI).expect("mini framework")
}

fn input(q: &str, grade: &str, evidence: &str) -> AnswerInput {
    AnswerInput {
        question: q.into(),
        grade: grade.into(),
        evidence: evidence.into(),
    }
}

#[tokio::test]
async fn answers_are_saved_over_sittings_and_submitted_as_snapshots() {
    for db in all_backends().await {
        let s = &db.store;
        let f = mini();
        let kent = s
            .create_org(&draft("Kent County Council", "county"), t0())
            .await
            .expect("org")
            .id;
        let lead = user(s, "lead@kent.gov.uk", Role::MemberLead, Some(kent)).await;
        let u = user(s, "user@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        // First sitting: one question, with a note.
        let a =
            validate_answers(&f, &[input("X1.a.1", "achieved", "Policy approved")]).expect("valid");
        assert_eq!(
            s.save_assessment_answers(kent, "mini", &a, u.id, t0())
                .await
                .expect("save"),
            1
        );
        // Saving the same again changes nothing.
        assert_eq!(
            s.save_assessment_answers(kent, "mini", &a, u.id, t0())
                .await
                .expect("save"),
            0
        );
        // Not complete: refused, nothing written.
        match s
            .submit_assessment(kent, &f, "mini.toml", MINI, lead.id, t0())
            .await
        {
            Err(SubmitError::Incomplete(e)) => {
                assert!(e.to_string().contains("X1.a.2"), "{e}")
            }
            other => panic!("expected incomplete, got {other:?}"),
        }
        assert!(
            s.assessment_submissions(kent, "mini")
                .await
                .expect("list")
                .is_empty()
        );
        // Second sitting, an hour later, by the lead.
        let later = t0() + Duration::hours(1);
        let b = validate_answers(&f, &[input("X1.a.2", "partially_achieved", "")]).expect("ok");
        s.save_assessment_answers(kent, "mini", &b, lead.id, later)
            .await
            .expect("save");
        let copy = s.assessment_answers(kent, "mini").await.expect("copy");
        assert_eq!(copy.answers.len(), 2);
        assert_eq!(copy.answers["X1.a.1"].evidence, "Policy approved");
        assert_eq!(copy.updated_at, Some(later));
        assert_eq!(copy.updated_by.as_deref(), Some("lead"));
        let first = s
            .submit_assessment(kent, &f, "mini.toml", MINI, lead.id, later)
            .await
            .expect("submit");
        assert_eq!(first.version, "1");
        assert_eq!(
            first.answers["X1.a.2"].grade,
            Some(Grade::PartiallyAchieved)
        );
        assert_eq!(first.submitted_by.as_deref(), Some("lead"));
        // The working copy stays; changing it does not change the snapshot.
        let c = validate_answers(&f, &[input("X1.a.2", "achieved", "Done now")]).expect("ok");
        s.save_assessment_answers(kent, "mini", &c, u.id, later + Duration::days(30))
            .await
            .expect("save");
        let second = s
            .submit_assessment(
                kent,
                &f,
                "mini.toml",
                MINI,
                lead.id,
                later + Duration::days(31),
            )
            .await
            .expect("submit");
        let again = s
            .assessment_submission(first.id)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(again, first);
        let list = s.assessment_submissions(kent, "mini").await.expect("list");
        assert_eq!(
            list.iter().map(|x| x.id).collect::<Vec<_>>(),
            [second.id, first.id]
        );
        // The database itself refuses to change a snapshot.
        let sql = "UPDATE assessment_submissions SET answers = '{}'";
        let refused = match db.backend() {
            Backend::Sqlite => {
                let p = sqlx::SqlitePool::connect(&db.url).await.expect("connect");
                sqlx::query(sql).execute(&p).await.is_err()
            }
            Backend::Postgres => {
                let p = sqlx::PgPool::connect(&db.url).await.expect("connect");
                sqlx::query(sql).execute(&p).await.is_err()
            }
        };
        assert!(refused, "an update to a submission was allowed");
        assert_eq!(
            s.assessment_submission(first.id).await.expect("read"),
            Some(first)
        );
    }
}

#[tokio::test]
async fn framework_versions_are_kept_and_a_changed_file_needs_a_new_version() {
    for db in all_backends().await {
        let s = &db.store;
        let shipped = Framework::shipped().expect("shipped");
        assert!(
            s.install_framework(&shipped, SHIPPED_FILE, SHIPPED_SOURCE, t0())
                .await
                .expect("install")
        );
        assert!(
            !s.install_framework(&shipped, SHIPPED_FILE, SHIPPED_SOURCE, t0())
                .await
                .expect("again")
        );
        let changed = format!("{SHIPPED_SOURCE}\n# a comment\n");
        assert!(matches!(
            s.install_framework(&shipped, "edited.toml", &changed, t0())
                .await,
            Err(StoreError::Conflict(m)) if m.contains("new version")
        ));
        assert!(
            s.install_framework(&mini(), "mini.toml", MINI, t0())
                .await
                .expect("mini")
        );
        let installed = s.installed_frameworks().await.expect("list");
        let ids: Vec<&str> = installed.iter().map(|f| f.framework_id.as_str()).collect();
        assert_eq!(ids, ["council-caf", "mini"]);
        assert_eq!(installed[1].source, MINI);
    }
}

#[tokio::test]
async fn the_region_sees_latest_and_previous_grades_only() {
    for db in all_backends().await {
        let s = &db.store;
        let f = mini();
        let mut orgs = Vec::new();
        for (i, name) in ["Ashford", "Dover", "Kent", "Left Council"]
            .iter()
            .enumerate()
        {
            let kind = if i == 2 { "county" } else { "district_borough" };
            let org = s
                .create_org(&draft(&format!("{name} Council"), kind), t0())
                .await
                .expect("org")
                .id;
            let lead = user(
                s,
                &format!("lead{i}@{}.gov.uk", name.to_lowercase().replace(' ', "")),
                Role::MemberLead,
                Some(org),
            )
            .await;
            orgs.push((org, lead.id));
        }
        let grade = |g: Grade, note: &str| -> Answers {
            ["X1.a.1", "X1.a.2"]
                .iter()
                .map(|q| {
                    (
                        q.to_string(),
                        Answer {
                            grade: Some(g),
                            evidence: note.into(),
                        },
                    )
                })
                .collect()
        };
        // Ashford twice, Dover once, Kent never, the fourth once but then left.
        let (ashford, a_lead) = orgs[0];
        s.save_assessment_answers(
            ashford,
            "mini",
            &grade(Grade::NotAchieved, "secret a"),
            a_lead,
            t0(),
        )
        .await
        .expect("save");
        s.submit_assessment(ashford, &f, "mini.toml", MINI, a_lead, t0())
            .await
            .expect("submit");
        s.save_assessment_answers(
            ashford,
            "mini",
            &grade(Grade::Achieved, "secret b"),
            a_lead,
            t0(),
        )
        .await
        .expect("save");
        let latest = s
            .submit_assessment(
                ashford,
                &f,
                "mini.toml",
                MINI,
                a_lead,
                t0() + Duration::days(200),
            )
            .await
            .expect("submit");
        let (dover, d_lead) = orgs[1];
        s.save_assessment_answers(
            dover,
            "mini",
            &grade(Grade::PartiallyAchieved, "secret c"),
            d_lead,
            t0(),
        )
        .await
        .expect("save");
        s.submit_assessment(dover, &f, "mini.toml", MINI, d_lead, t0())
            .await
            .expect("submit");
        let (gone, g_lead) = orgs[3];
        s.save_assessment_answers(gone, "mini", &grade(Grade::Achieved, ""), g_lead, t0())
            .await
            .expect("save");
        s.submit_assessment(gone, &f, "mini.toml", MINI, g_lead, t0())
            .await
            .expect("submit");
        let mut left = s.get_org(gone).await.expect("get").expect("org").draft();
        left.status = openwarp_core::MembershipStatus::Left;
        s.update_org(gone, &left, t0()).await.expect("leave");

        let region = s.region_submissions("mini").await.expect("region");
        let names: Vec<&str> = region.iter().map(|r| r.org_name.as_str()).collect();
        assert_eq!(names, ["Ashford Council", "Dover Council"]);
        assert_eq!(region[0].submission_id, latest.id);
        assert_eq!(region[0].answers["X1.a.1"].grade, Some(Grade::Achieved));
        let (_, prev) = region[0].previous.as_ref().expect("previous");
        assert_eq!(prev["X1.a.1"].grade, Some(Grade::NotAchieved));
        assert!(region[1].previous.is_none());
        // No evidence note leaves through the region's view.
        let all = format!("{region:?}");
        assert!(!all.contains("secret"), "{all}");
        let members = s.assessed_members().await.expect("members");
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["Ashford Council", "Dover Council", "Kent Council"]);
        // Another framework's submissions are apart.
        assert!(
            s.region_submissions("council-caf")
                .await
                .expect("none")
                .is_empty()
        );
    }
}

//! Group questions and polls on every backend: results, one ballot per
//! person (also under concurrent requests), no answers after closing, named
//! votes changed but anonymous ones never, anonymous ballots stored with
//! nothing that links them to the person, and the opt-in e-mail.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::poll::{Ballot, BallotInput, BallotMode, PollDraft, PollInput, PollRefusal};
use openwarp_core::{Role, UserId};
use openwarp_store::testing::{TestDb, all_backends};
use openwarp_store::{Backend, DeliveryFilter, PollError, Store};

fn poll(kind: &str, options: &[&str], anonymous: bool) -> PollDraft {
    PollInput {
        kind: kind.into(),
        question: "Which e-mail filtering service do you use?".into(),
        details: "For a procurement next year.".into(),
        options: options.iter().map(|s| s.to_string()).collect(),
        closes_at: "2026-12-01".into(),
        anonymous,
    }
    .validate(t0())
    .expect("valid poll")
}

fn refused(r: Result<BallotMode, PollError>) -> PollRefusal {
    match r {
        Err(PollError::Refused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

struct Group {
    alice: UserId,
    bob: UserId,
    carol: UserId,
    operator: UserId,
}

async fn group(s: &Store) -> Group {
    let kent = s
        .create_org(&draft("Kent County Council", "county"), t0())
        .await
        .expect("org")
        .id;
    let medway = s
        .create_org(&draft("Medway Council", "unitary"), t0())
        .await
        .expect("org")
        .id;
    Group {
        alice: user(s, "alice@kent.gov.uk", Role::MemberUser, Some(kent))
            .await
            .id,
        bob: user(s, "bob@medway.gov.uk", Role::MemberLead, Some(medway))
            .await
            .id,
        carol: user(s, "carol@medway.gov.uk", Role::MemberUser, Some(medway))
            .await
            .id,
        operator: user(s, "op@warp.example", Role::Operator, None).await.id,
    }
}

/// Every column name and every value of `poll_anonymous_ballots`, as text,
/// read straight from the database.
async fn anonymous_table(db: &TestDb) -> (Vec<String>, Vec<String>) {
    let values = "SELECT ballot_id, CAST(poll_id AS TEXT), choices, COALESCE(answer, '') \
                  FROM poll_anonymous_ballots";
    match db.backend() {
        Backend::Sqlite => {
            let p = sqlx::SqlitePool::connect(&db.url).await.expect("connect");
            let cols: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_table_info('poll_anonymous_ballots')")
                    .fetch_all(&p)
                    .await
                    .expect("columns");
            let rows: Vec<(String, String, String, String)> =
                sqlx::query_as(values).fetch_all(&p).await.expect("rows");
            (flat1(cols), flat4(rows))
        }
        Backend::Postgres => {
            let p = sqlx::PgPool::connect(&db.url).await.expect("connect");
            let cols: Vec<(String,)> = sqlx::query_as(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_name = 'poll_anonymous_ballots'",
            )
            .fetch_all(&p)
            .await
            .expect("columns");
            let rows: Vec<(String, String, String, String)> =
                sqlx::query_as(values).fetch_all(&p).await.expect("rows");
            (flat1(cols), flat4(rows))
        }
    }
}

/// The tables `poll_anonymous_ballots` has foreign keys to.
async fn anonymous_table_references(db: &TestDb) -> Vec<String> {
    match db.backend() {
        Backend::Sqlite => {
            let p = sqlx::SqlitePool::connect(&db.url).await.expect("connect");
            let t: Vec<(String,)> = sqlx::query_as(
                "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('poll_anonymous_ballots')",
            )
            .fetch_all(&p)
            .await
            .expect("foreign keys");
            flat1(t)
        }
        Backend::Postgres => {
            let p = sqlx::PgPool::connect(&db.url).await.expect("connect");
            let t: Vec<(String,)> = sqlx::query_as(
                "SELECT DISTINCT CAST(confrelid::regclass AS TEXT) FROM pg_constraint \
                 WHERE conrelid = 'poll_anonymous_ballots'::regclass AND contype = 'f'",
            )
            .fetch_all(&p)
            .await
            .expect("foreign keys");
            flat1(t)
        }
    }
}

fn flat1(v: Vec<(String,)>) -> Vec<String> {
    v.into_iter().map(|(a,)| a).collect()
}

fn flat4(v: Vec<(String, String, String, String)>) -> Vec<String> {
    v.into_iter()
        .flat_map(|(a, b, c, d)| [a, b, c, d])
        .collect()
}

#[tokio::test]
async fn named_poll_counts_and_changes_votes_while_open() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        let (p, _) = s
            .create_poll(
                &poll("multiple", &["Mimecast", "Defender", "Proofpoint"], false),
                g.alice,
                t0(),
            )
            .await
            .expect("create");
        assert!(p.is_open(t0()) && !p.you_answered && p.responses == 0);
        assert_eq!(p.asker_name.as_deref(), Some("alice"));
        assert_eq!(p.asker_org.as_deref(), Some("Kent County Council"));

        let mode = s
            .cast_ballot(p.id, g.bob, BallotInput::Choices(vec![2, 0]), t0())
            .await
            .expect("vote");
        assert_eq!(mode, BallotMode::First);
        s.cast_ballot(p.id, g.carol, BallotInput::Choices(vec![0]), t0())
            .await
            .expect("vote");
        let r = s.poll_results(p.id, g.bob).await.expect("results");
        assert_eq!(
            r.counts,
            [2, 0, 1],
            "a multiple-choice ballot counts for each option"
        );
        assert_eq!(r.poll.responses, 2);
        assert!(r.poll.you_answered);
        assert_eq!(r.your_ballot, Some(Ballot::Choices(vec![0, 2])));

        // A named vote may be changed while open: still one ballot.
        let mode = s
            .cast_ballot(
                p.id,
                g.bob,
                BallotInput::Choices(vec![1]),
                t0() + Duration::hours(1),
            )
            .await
            .expect("change");
        assert_eq!(mode, BallotMode::Replace);
        let r = s.poll_results(p.id, g.operator).await.expect("results");
        assert_eq!(r.counts, [1, 1, 0]);
        assert_eq!(r.poll.responses, 2);
        assert_eq!(r.your_ballot, None);

        // Options beyond the list, or closed: refused, nothing stored.
        assert_eq!(
            refused(
                s.cast_ballot(p.id, g.operator, BallotInput::Choices(vec![3]), t0())
                    .await
            ),
            PollRefusal::UnknownOption(4)
        );
        let after = t0() + Duration::days(30);
        assert_eq!(
            refused(
                s.cast_ballot(p.id, g.operator, BallotInput::Choices(vec![0]), after)
                    .await
            ),
            PollRefusal::Closed
        );
        let r = s.poll_results(p.id, g.operator).await.expect("results");
        assert_eq!((r.counts.as_slice(), r.poll.responses), (&[1, 1, 0][..], 2));
        assert!(!r.poll.is_open(after));
    }
}

#[tokio::test]
async fn anonymous_ballots_are_not_stored_against_the_person() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        let (p, _) = s
            .create_poll(
                &poll("single", &["Mimecast", "Defender"], true),
                g.operator,
                t0(),
            )
            .await
            .expect("create");
        s.cast_ballot(p.id, g.alice, BallotInput::Choices(vec![1]), t0())
            .await
            .expect("vote");
        s.cast_ballot(p.id, g.bob, BallotInput::Choices(vec![1]), t0())
            .await
            .expect("vote");
        // Never a second one, not even a change.
        assert_eq!(
            refused(
                s.cast_ballot(p.id, g.alice, BallotInput::Choices(vec![0]), t0())
                    .await
            ),
            PollRefusal::AlreadyAnsweredAnonymously
        );
        let r = s.poll_results(p.id, g.alice).await.expect("results");
        assert_eq!(r.counts, [0, 2]);
        assert!(r.poll.you_answered, "the marker says that she answered");
        assert_eq!(r.your_ballot, None, "but not what");

        let (mut columns, values) = anonymous_table(&db).await;
        columns.sort();
        assert_eq!(
            columns,
            ["answer", "ballot_id", "choices", "poll_id"],
            "no user, no time: nothing stored against the person"
        );
        assert_eq!(values.len(), 8, "two ballots");
        for row in values.chunks(4) {
            let (ballot_id, poll_id, choices, answer) = (&row[0], &row[1], &row[2], &row[3]);
            assert_eq!(
                ballot_id.len(),
                43,
                "a random key, not a sequence: {ballot_id}"
            );
            for id in [g.alice.0, g.bob.0] {
                assert_ne!(ballot_id, &id.to_string());
            }
            assert_eq!(poll_id, &p.id.to_string());
            assert_eq!((choices.as_str(), answer.as_str()), ("[1]", ""));
        }
        assert_eq!(anonymous_table_references(&db).await, ["polls"]);
    }
}

#[tokio::test]
async fn questions_take_answers_named_or_anonymous() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        let (named, _) = s
            .create_poll(&poll("question", &[], false), g.alice, t0())
            .await
            .expect("create");
        s.cast_ballot(
            named.id,
            g.bob,
            BallotInput::Answer("Mimecast, since 2021".into()),
            t0(),
        )
        .await
        .expect("answer");
        let r = s.poll_results(named.id, g.bob).await.expect("results");
        assert!(r.counts.is_empty());
        assert_eq!(r.answers.len(), 1);
        assert_eq!(r.answers[0].name.as_deref(), Some("bob"));
        assert_eq!(r.answers[0].org_name.as_deref(), Some("Medway Council"));
        assert_eq!(
            r.your_ballot,
            Some(Ballot::Answer("Mimecast, since 2021".into()))
        );
        assert_eq!(
            refused(
                s.cast_ballot(named.id, g.bob, BallotInput::Choices(vec![0]), t0())
                    .await
            ),
            PollRefusal::NotAPoll
        );

        let (anon, _) = s
            .create_poll(&poll("question", &[], true), g.alice, t0())
            .await
            .expect("create");
        s.cast_ballot(
            anon.id,
            g.carol,
            BallotInput::Answer("Proofpoint".into()),
            t0(),
        )
        .await
        .expect("answer");
        let r = s.poll_results(anon.id, g.carol).await.expect("results");
        assert_eq!(r.answers.len(), 1);
        assert_eq!(
            (r.answers[0].name.as_ref(), r.answers[0].org_name.as_ref()),
            (None, None)
        );
        assert_eq!(r.answers[0].answer, "Proofpoint");
        let (_, values) = anonymous_table(&db).await;
        assert!(
            values
                .iter()
                .all(|v| v != &g.carol.0.to_string() && !v.contains("carol"))
        );
    }
}

#[tokio::test]
async fn closing_early_stops_answers() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        let (p, _) = s
            .create_poll(&poll("single", &["Yes", "No"], false), g.alice, t0())
            .await
            .expect("create");
        let closed = s.close_poll(p.id, g.alice, t0()).await.expect("close");
        assert!(!closed.is_open(t0()));
        assert!(matches!(
            s.close_poll(p.id, g.operator, t0()).await,
            Err(PollError::Refused(PollRefusal::Closed))
        ));
        assert_eq!(
            refused(
                s.cast_ballot(p.id, g.bob, BallotInput::Choices(vec![0]), t0())
                    .await
            ),
            PollRefusal::Closed
        );
        assert_eq!(
            s.poll_results(p.id, g.bob)
                .await
                .expect("results")
                .poll
                .responses,
            0
        );
        let listed = s.polls(g.bob, 50).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(matches!(
            s.poll(9999, g.bob).await,
            Err(openwarp_store::StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn concurrent_double_votes_store_one_ballot() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        for anonymous in [true, false] {
            let (p, _) = s
                .create_poll(&poll("single", &["Yes", "No"], anonymous), g.alice, t0())
                .await
                .expect("create");
            let votes = (0..6).map(|i| {
                let s = s.clone();
                let bob = g.bob;
                tokio::spawn(async move {
                    s.cast_ballot(p.id, bob, BallotInput::Choices(vec![i % 2]), t0())
                        .await
                })
            });
            let mut ok = 0;
            for v in votes {
                match v.await.expect("join") {
                    Ok(_) => ok += 1,
                    Err(PollError::Refused(PollRefusal::AlreadyAnsweredAnonymously)) => {}
                    // SQLite may report a lock timeout under contention; nothing stored then.
                    Err(PollError::Store(e)) if db.backend() == Backend::Sqlite => {
                        eprintln!("sqlite contention: {e}")
                    }
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            let r = s.poll_results(p.id, g.bob).await.expect("results");
            assert_eq!(r.poll.responses, 1);
            assert_eq!(
                r.counts.iter().sum::<i64>(),
                1,
                "one ballot (anonymous: {anonymous})"
            );
            if anonymous {
                assert_eq!(ok, 1, "only the first anonymous ballot is taken");
            } else {
                assert!(ok >= 1);
            }
        }
    }
}

#[tokio::test]
async fn opted_in_users_are_emailed_about_new_polls() {
    for db in all_backends().await {
        let s = &db.store;
        let g = group(s).await;
        assert!(!s.poll_notify(g.bob).await.expect("read"));
        s.set_poll_notify(g.bob, true, t0()).await.expect("opt in");
        s.set_poll_notify(g.bob, true, t0())
            .await
            .expect("twice is fine");
        s.set_poll_notify(g.alice, true, t0())
            .await
            .expect("opt in");
        s.set_poll_notify(g.carol, true, t0())
            .await
            .expect("opt in");
        s.set_poll_notify(g.carol, false, t0())
            .await
            .expect("opt out");
        assert!(s.poll_notify(g.bob).await.expect("read"));
        assert!(!s.poll_notify(g.carol).await.expect("read"));

        let (p, queued) = s
            .create_poll(&poll("single", &["Yes", "No"], true), g.alice, t0())
            .await
            .expect("create");
        assert_eq!(
            queued, 1,
            "bob only: not the asker, not carol who opted out"
        );
        let deliveries = s
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("deliveries");
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].recipient, "bob@medway.gov.uk");
        let alert = s
            .alert(deliveries[0].alert_id.expect("an alert"))
            .await
            .expect("alert");
        assert!(
            alert.title.contains("Which e-mail filtering"),
            "{}",
            alert.title
        );
        assert_eq!(alert.content.path, format!("/polls/{}", p.id));
        // News for those who opted in only: nobody gets it in a digest.
        for u in [g.carol, g.bob] {
            let (_, digest) = s
                .next_digest(u, t0() + Duration::minutes(1))
                .await
                .expect("digest");
            assert!(digest.iter().all(|a| a.id != alert.id), "in a digest");
        }

        // The store-level helper for explicit recipients.
        let (raised, queued) = s
            .raise_alert_for_users(&alert_like(&alert), &[g.carol, g.operator, g.bob], t0())
            .await
            .expect("raise");
        assert_eq!(
            (raised, queued),
            (1, 2),
            "one Medway alert, two e-mails; operators have no organisation"
        );
    }
}

fn alert_like(a: &openwarp_store::Alert) -> openwarp_store::NewAlert {
    openwarp_store::NewAlert {
        org_id: 0,
        kind: a.kind,
        vuln_id: None,
        warp_advisory_id: None,
        priority: a.priority,
        tlp: a.tlp,
        title: a.title.clone(),
        content: a.content.clone(),
        dedup_key: "test:explicit".into(),
    }
}

//! Discussion on every backend: topics with thread counts, threads newest
//! activity first, posts kept as source and read back sanitised, locked
//! threads refusing replies, hidden posts' text never handed out, the edit
//! window, and reply and mention e-mails to the right users only.

use super::{draft, t0, user};
use chrono::Duration;
use openwarp_core::discussion::{DiscussionRefusal, validate_thread, validate_topic};
use openwarp_core::{Actor, Role};
use openwarp_store::testing::all_backends;
use openwarp_store::{DeliveryFilter, DiscussionError, DiscussionSettings};

#[tokio::test]
async fn threads_posts_moderation_and_notifications() {
    for db in all_backends().await {
        let s = &db.store;
        let kent = s
            .create_org(&draft("Kent County Council", "county"), t0())
            .await
            .expect("org")
            .id;
        let alice = user(s, "alice.smith@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        let bob = user(s, "bob@kent.gov.uk", Role::MemberLead, Some(kent)).await;
        let carol = user(s, "carol@kent.gov.uk", Role::MemberUser, Some(kent)).await;
        let op = user(s, "op@warp.example", Role::Operator, None).await;

        let psn = s
            .create_topic(&validate_topic("PSN", "").expect("valid"), op.id, t0())
            .await
            .expect("topic");
        let cloud = s
            .create_topic(
                &validate_topic("Cloud", "SaaS").expect("valid"),
                op.id,
                t0(),
            )
            .await
            .expect("topic");
        assert!(
            s.create_topic(&validate_topic("psn", "").expect("valid"), op.id, t0())
                .await
                .is_err(),
            "same slug"
        );

        let (first, queued) = s
            .create_thread(
                psn.id,
                &validate_thread(
                    "PSN renewal",
                    "Has anyone <script>alert(1)</script> renewed?",
                )
                .expect("valid"),
                alice.id,
                t0(),
            )
            .await
            .expect("thread");
        assert_eq!(queued, 0, "nobody mentioned");
        let (second, _) = s
            .create_thread(
                psn.id,
                &validate_thread("CoCo questions", "**Which** ones?").expect("valid"),
                bob.id,
                t0() + Duration::minutes(5),
            )
            .await
            .expect("thread");
        let topics = s.topics().await.expect("topics");
        assert_eq!(
            topics
                .iter()
                .map(|t| (t.name.as_str(), t.threads))
                .collect::<Vec<_>>(),
            vec![("Cloud", 0), ("PSN", 2)]
        );
        assert_eq!(cloud.threads, 0);
        let listed = s.threads(psn.id, 50).await.expect("threads");
        assert_eq!(
            listed.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![second, first]
        );

        // Bob replies to alice's thread: alice (who posted) is told.
        let (reply, queued) = s
            .reply(
                first,
                "Yes, **last month**.",
                bob.id,
                t0() + Duration::minutes(10),
            )
            .await
            .expect("reply");
        assert_eq!(queued, 1);
        let listed = s.threads(psn.id, 50).await.expect("threads");
        assert_eq!(listed[0].id, first, "newest activity first");
        assert_eq!(listed[0].posts, 2);

        let t = s.thread(first).await.expect("thread");
        assert_eq!(t.posts.len(), 2);
        assert_eq!(
            t.posts[0].body.as_deref(),
            Some("Has anyone <script>alert(1)</script> renewed?"),
            "source kept"
        );
        let html = t.posts[0].html.clone().unwrap_or_default();
        assert!(!html.contains("<script"), "{html}");
        assert!(
            t.posts[1]
                .html
                .clone()
                .unwrap_or_default()
                .contains("<strong>last month</strong>")
        );

        // Carol mentions alice and bob; bob turned mention e-mails off; alice
        // gets the mention only (not also the reply).
        s.set_discussion_settings(
            bob.id,
            DiscussionSettings {
                replies: true,
                mentions: false,
            },
        )
        .await
        .expect("settings");
        assert!(
            !s.discussion_settings(bob.id)
                .await
                .expect("settings")
                .mentions
        );
        assert!(
            s.discussion_settings(carol.id)
                .await
                .expect("settings")
                .replies,
            "on by default"
        );
        let before = s
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("deliveries")
            .len();
        let (_, queued) = s
            .reply(
                first,
                "Thanks @alice.smith and @bob, and @nobody",
                carol.id,
                t0() + Duration::minutes(20),
            )
            .await
            .expect("reply");
        assert_eq!(queued, 2, "alice (mention) and bob (reply)");
        let deliveries = s
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("deliveries");
        assert_eq!(deliveries.len(), before + 2);
        let mut to: Vec<String> = deliveries.iter().map(|d| d.recipient.clone()).collect();
        to.sort();
        assert_eq!(
            to,
            vec![
                "alice.smith@kent.gov.uk",
                "alice.smith@kent.gov.uk",
                "bob@kent.gov.uk"
            ],
            "alice for bob's reply, then alice (mention) and bob (reply); never carol"
        );

        // Hide bob's reply: kept, but its text is not handed out.
        let hidden = s
            .set_post_hidden(reply, Some("Off topic"), op.id, t0())
            .await
            .expect("hide");
        assert!(hidden.hidden && hidden.body.is_none() && hidden.html.is_none());
        assert_eq!(hidden.hidden_reason.as_deref(), Some("Off topic"));
        assert_eq!(
            s.post_moderation(reply).await.expect("moderation"),
            Some((Some(op.id.0), "Off topic".to_string()))
        );
        let shown = s
            .set_post_hidden(reply, None, op.id, t0())
            .await
            .expect("unhide");
        assert_eq!(shown.body.as_deref(), Some("Yes, **last month**."));

        // Editing: author only, within 24 hours.
        let bob_actor = Actor {
            user_id: bob.id,
            role: Role::MemberLead,
            org_id: Some(kent),
        };
        let carol_actor = Actor {
            user_id: carol.id,
            role: Role::MemberUser,
            org_id: Some(kent),
        };
        let edited = s
            .edit_post(
                reply,
                "Yes, in *May*.",
                &bob_actor,
                t0() + Duration::hours(1),
            )
            .await
            .expect("edit");
        assert!(edited.edited_at.is_some());
        assert!(matches!(
            s.edit_post(reply, "x", &carol_actor, t0() + Duration::hours(1))
                .await,
            Err(DiscussionError::Refused(DiscussionRefusal::NotAuthor))
        ));
        assert!(matches!(
            s.edit_post(reply, "x", &bob_actor, t0() + Duration::hours(30))
                .await,
            Err(DiscussionError::Refused(DiscussionRefusal::TooLate))
        ));

        // Locked: no more replies, nothing stored.
        let locked = s
            .set_thread_locked(first, true, op.id, t0())
            .await
            .expect("lock");
        assert!(locked.locked);
        assert!(matches!(
            s.reply(first, "late", alice.id, t0() + Duration::hours(2))
                .await,
            Err(DiscussionError::Refused(DiscussionRefusal::Locked))
        ));
        assert_eq!(s.thread(first).await.expect("thread").posts.len(), 3);
        s.set_thread_locked(first, false, op.id, t0())
            .await
            .expect("unlock");
        s.reply(first, "now fine", alice.id, t0() + Duration::hours(2))
            .await
            .expect("reply after unlock");
    }
}

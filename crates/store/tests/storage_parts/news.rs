//! News items and the links library on every backend: drafts apart from
//! published items, newest first, publishing dates an item once, links with
//! tags replaced on update, search over title, description and tags with
//! LIKE wildcards taken literally, the tag filter and tag counts.

use super::{t0, user};
use chrono::Duration;
use openwarp_core::Role;
use openwarp_core::news::{LinkDraft, LinkInput, LinkKind, NewsDraft, NewsInput};
use openwarp_store::testing::all_backends;
use openwarp_store::{LinkFilter, StoreError};

fn news(title: &str, published: bool) -> NewsDraft {
    NewsInput {
        title: title.into(),
        body: "First paragraph.\n\nSecond <b>paragraph</b>.".into(),
        source_url: "https://www.ncsc.gov.uk/".into(),
        published,
    }
    .validate()
    .expect("valid news")
}

fn link(title: &str, description: &str, tags: &str) -> LinkDraft {
    LinkInput {
        title: title.into(),
        url: "https://www.ncsc.gov.uk/collection/10-steps".into(),
        description: description.into(),
        tags: tags.into(),
        kind: "guidance".into(),
    }
    .validate()
    .expect("valid link")
}

fn filter(q: &str, tag: &str) -> LinkFilter {
    LinkFilter {
        q: q.into(),
        tag: tag.into(),
    }
}

#[tokio::test]
async fn news_items_are_listed_newest_first_with_drafts_for_operators_only() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await.id;
        let old = s.create_news(&news("Old", true), op, t0()).await.unwrap();
        let draft = s
            .create_news(&news("Draft", false), op, t0() + Duration::hours(1))
            .await
            .unwrap();
        let new = s
            .create_news(&news("New", true), op, t0() + Duration::hours(2))
            .await
            .unwrap();
        assert_eq!(old.published_at, Some(t0()));
        assert_eq!(draft.published_at, None);
        assert_eq!(new.poster_name.as_deref(), Some("op"));
        assert_eq!(new.source_url.as_deref(), Some("https://www.ncsc.gov.uk/"));

        let titles = |v: Vec<openwarp_store::NewsItem>| -> Vec<String> {
            v.into_iter().map(|n| n.title).collect()
        };
        assert_eq!(titles(s.news(false, 50).await.unwrap()), ["New", "Old"]);
        assert_eq!(
            titles(s.news(true, 50).await.unwrap()),
            ["New", "Draft", "Old"]
        );
        assert_eq!(titles(s.news(false, 1).await.unwrap()), ["New"]);

        // Publishing a draft dates it then; editing a published item keeps its date.
        let later = t0() + Duration::hours(3);
        let published = s
            .update_news(draft.id, &news("Draft, now out", true), later)
            .await
            .unwrap();
        assert_eq!(published.published_at, Some(later));
        let edited = s
            .update_news(
                published.id,
                &news("Draft, now out", true),
                later + Duration::hours(1),
            )
            .await
            .unwrap();
        assert_eq!(edited.published_at, Some(later));
        assert_eq!(edited.updated_at, later + Duration::hours(1));
        assert_eq!(edited.body, "First paragraph.\n\nSecond <b>paragraph</b>.");
        let withdrawn = s
            .update_news(old.id, &news("Old", false), later)
            .await
            .unwrap();
        assert!(!withdrawn.is_published());

        s.delete_news(new.id).await.unwrap();
        assert!(matches!(
            s.news_item(new.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.delete_news(new.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.update_news(new.id, &news("x", true), later).await,
            Err(StoreError::NotFound(_))
        ));
    }
}

#[tokio::test]
async fn the_library_searches_filters_by_tag_and_counts_tags() {
    for db in all_backends().await {
        let s = &db.store;
        let op = user(s, "op@warp.example", Role::Operator, None).await.id;
        let ten = s
            .create_link(
                &link(
                    "10 Steps to Cyber Security",
                    "Board-level guidance",
                    "ncsc governance",
                ),
                op,
                t0(),
            )
            .await
            .unwrap();
        let caf = s
            .create_link(
                &link(
                    "Cyber Assessment Framework",
                    "The CAF, 100% outcome-based",
                    "ncsc caf",
                ),
                op,
                t0(),
            )
            .await
            .unwrap();
        let ico = s
            .create_link(
                &link("Report a breach", "To the ICO within 72 hours", "ico gdpr"),
                op,
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(ten.tags, ["governance", "ncsc"]);
        assert_eq!(ten.kind, LinkKind::Guidance);

        let titles = |v: Vec<openwarp_store::Link>| -> Vec<String> {
            v.into_iter().map(|l| l.title).collect()
        };
        // By title, all of them.
        assert_eq!(
            titles(s.links(&filter("", "")).await.unwrap()),
            [
                "10 Steps to Cyber Security",
                "Cyber Assessment Framework",
                "Report a breach"
            ]
        );
        // Tags come back with each link in a list.
        let all = s.links(&filter("", "")).await.unwrap();
        assert_eq!(all[2].tags, ["gdpr", "ico"]);
        // Search: title, description, tag; any case.
        assert_eq!(
            titles(s.links(&filter("cyber", "")).await.unwrap()),
            ["10 Steps to Cyber Security", "Cyber Assessment Framework"]
        );
        assert_eq!(
            titles(s.links(&filter("72 HOURS", "")).await.unwrap()),
            ["Report a breach"]
        );
        assert_eq!(
            titles(s.links(&filter("gdpr", "")).await.unwrap()),
            ["Report a breach"]
        );
        // % and _ are literal characters, not wildcards.
        assert_eq!(
            titles(s.links(&filter("100%", "")).await.unwrap()),
            ["Cyber Assessment Framework"]
        );
        assert!(s.links(&filter("%", "")).await.unwrap().len() == 1);
        assert!(s.links(&filter("_", "")).await.unwrap().is_empty());
        // Tag filter, alone and with a search.
        assert_eq!(
            titles(s.links(&filter("", "ncsc")).await.unwrap()),
            ["10 Steps to Cyber Security", "Cyber Assessment Framework"]
        );
        assert_eq!(
            titles(s.links(&filter("board", "NCSC")).await.unwrap()),
            ["10 Steps to Cyber Security"]
        );
        assert!(s.links(&filter("", "nope")).await.unwrap().is_empty());
        assert_eq!(
            s.link_tag_counts().await.unwrap(),
            [
                ("caf".to_string(), 1),
                ("gdpr".to_string(), 1),
                ("governance".to_string(), 1),
                ("ico".to_string(), 1),
                ("ncsc".to_string(), 2)
            ]
        );

        // Update replaces the tags; delete takes them away.
        let changed = s
            .update_link(
                caf.id,
                &link("Cyber Assessment Framework", "CAF", "caf local-gov"),
                t0() + Duration::hours(1),
            )
            .await
            .unwrap();
        assert_eq!(changed.tags, ["caf", "local-gov"]);
        assert_eq!(changed.updated_at, t0() + Duration::hours(1));
        assert_eq!(
            titles(s.links(&filter("", "ncsc")).await.unwrap()),
            ["10 Steps to Cyber Security"]
        );
        s.delete_link(ico.id).await.unwrap();
        assert!(matches!(s.link(ico.id).await, Err(StoreError::NotFound(_))));
        assert!(matches!(
            s.delete_link(ico.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.update_link(ico.id, &link("x", "", ""), t0()).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            s.link_tag_counts()
                .await
                .unwrap()
                .into_iter()
                .map(|(t, _)| t)
                .collect::<Vec<_>>(),
            ["caf", "governance", "local-gov", "ncsc"]
        );
    }
}

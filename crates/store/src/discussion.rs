//! Discussion: topics, threads and posts (the rules are
//! [`openwarp_core::discussion`]'s).
//!
//! A post keeps its Markdown source; [`Post::html`] is rendered and sanitised
//! when read, so a better sanitiser applies to old posts too. A hidden post
//! is kept with who hid it, when and why, but its source and HTML are never
//! handed out ([`Post::body`] and [`Post::html`] are `None`).
//!
//! # Notification
//! A reply queues an e-mail (kind `warp`, through the alerts outbox) to the
//! users mentioned in it (`@` + their e-mail local part) who want mention
//! e-mails, and to everyone else who posted in the thread and wants reply
//! e-mails; never to the author. A new thread e-mails only the mentioned.
//! Both settings default to on (no row in `discussion_notify`).

use crate::alerts::{AlertContent, AlertKind, NewAlert};
use crate::{Result, Store, StoreError, conflict_on_unique, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::discussion::{
    DiscussionRefusal, PostFacts, ThreadDraft, TopicDraft, handle, may_edit, mentions,
    render_markdown,
};
use openwarp_core::{Actor, TlpLabel, UserId};
use openwarp_matching::priority::Priority;
use serde::Serialize;

/// A topic with how many threads it has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub threads: i64,
}

/// A thread as listed and as shown above its posts.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Thread {
    pub id: i64,
    pub topic_id: i64,
    pub topic_slug: String,
    pub topic_name: String,
    pub title: String,
    pub created_by: Option<i64>,
    pub author_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_post_at: DateTime<Utc>,
    pub locked: bool,
    pub posts: i64,
}

/// A post, as anyone may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Post {
    pub id: i64,
    pub thread_id: i64,
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    pub author_org: Option<String>,
    /// The Markdown source; `None` when hidden.
    pub body: Option<String>,
    /// The rendered, sanitised HTML; `None` when hidden.
    pub html: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub hidden: bool,
    /// Why a moderator removed it (shown with "removed by a moderator").
    pub hidden_reason: Option<String>,
}

/// A thread with its posts, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadWithPosts {
    pub thread: Thread,
    pub posts: Vec<Post>,
}

/// A user's discussion e-mail settings (both on unless turned off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiscussionSettings {
    /// E-mail me replies to threads I posted in.
    pub replies: bool,
    /// E-mail me when I am mentioned.
    pub mentions: bool,
}

/// Why a discussion write failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscussionError {
    /// The rules refused it; nothing was written.
    #[error("{0}")]
    Refused(DiscussionRefusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DiscussionError {
    fn from(e: sqlx::Error) -> DiscussionError {
        DiscussionError::Store(e.into())
    }
}

#[derive(sqlx::FromRow)]
struct PostRow {
    id: i64,
    thread_id: i64,
    author_id: Option<i64>,
    author_name: Option<String>,
    author_org: Option<String>,
    body: String,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    hidden: bool,
    hidden_reason: Option<String>,
}

impl From<PostRow> for Post {
    fn from(r: PostRow) -> Post {
        let (body, html) = if r.hidden {
            (None, None)
        } else {
            let html = render_markdown(&r.body);
            (Some(r.body), Some(html))
        };
        Post {
            id: r.id,
            thread_id: r.thread_id,
            author_id: r.author_id.map(UserId),
            author_name: r.author_name,
            author_org: r.author_org,
            body,
            html,
            created_at: r.created_at,
            edited_at: r.edited_at,
            hidden: r.hidden,
            hidden_reason: r.hidden_reason,
        }
    }
}

macro_rules! thread_select {
    () => {
        "SELECT t.id, t.topic_id, tp.slug AS topic_slug, tp.name AS topic_name, t.title, \
     t.created_by, u.display_name AS author_name, t.created_at, t.last_post_at, \
     (t.locked_at IS NOT NULL) AS locked, \
     (SELECT COUNT(*) FROM discussion_posts p WHERE p.thread_id = t.id) AS posts \
     FROM discussion_threads t JOIN discussion_topics tp ON tp.id = t.topic_id \
     LEFT JOIN users u ON u.id = t.created_by"
    };
}

macro_rules! post_select {
    () => {
        "SELECT p.id, p.thread_id, p.author_id, u.display_name AS author_name, \
     o.name AS author_org, p.body, p.created_at, p.edited_at, (p.hidden_at IS NOT NULL) AS hidden, \
     p.hidden_reason FROM discussion_posts p LEFT JOIN users u ON u.id = p.author_id \
     LEFT JOIN organisations o ON o.id = u.org_id"
    };
}

impl Store {
    /// Create a topic (the caller has checked
    /// [`openwarp_core::discussion::may_moderate`]). A second topic with the
    /// same slug is a conflict.
    pub async fn create_topic(
        &self,
        draft: &TopicDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Topic> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO discussion_topics (slug, name, description, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&draft.slug)
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(by.0)
            .bind(now)
            .execute(p)
            .await
            .map_err(conflict_on_unique(format!(
                "a topic called '{}' already exists",
                draft.name
            )))
            .map(|_| ())
        })?;
        self.topic(&draft.slug).await
    }

    /// Every topic, by name, with its thread count.
    pub async fn topics(&self) -> Result<Vec<Topic>> {
        let rows: Vec<(i64, String, String, String, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT tp.id, tp.slug, tp.name, tp.description, \
                 (SELECT COUNT(*) FROM discussion_threads t WHERE t.topic_id = tp.id) \
                 FROM discussion_topics tp ORDER BY tp.name, tp.id",
            )
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, slug, name, description, threads)| Topic {
                id,
                slug,
                name,
                description,
                threads,
            })
            .collect())
    }

    /// One topic by its slug.
    pub async fn topic(&self, slug: &str) -> Result<Topic> {
        self.topics()
            .await?
            .into_iter()
            .find(|t| t.slug == slug)
            .ok_or(StoreError::NotFound("topic"))
    }

    /// The threads of a topic, newest activity first (at most `limit`).
    pub async fn threads(&self, topic_id: i64, limit: i64) -> Result<Vec<Thread>> {
        let sql = concat!(
            thread_select!(),
            " WHERE t.topic_id = $1 ORDER BY t.last_post_at DESC, t.id DESC LIMIT $2"
        );
        Ok(on_pool!(self, |p| {
            sqlx::query_as::<_, Thread>(sql)
                .bind(topic_id)
                .bind(limit)
                .fetch_all(p)
                .await
        })?)
    }

    /// One thread with its posts, oldest first.
    pub async fn thread(&self, id: i64) -> Result<ThreadWithPosts> {
        let sql = concat!(thread_select!(), " WHERE t.id = $1");
        let thread: Option<Thread> = on_pool!(self, |p| {
            sqlx::query_as::<_, Thread>(sql)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        let thread = thread.ok_or(StoreError::NotFound("thread"))?;
        let sql = concat!(post_select!(), " WHERE p.thread_id = $1 ORDER BY p.id");
        let rows: Vec<PostRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, PostRow>(sql)
                .bind(id)
                .fetch_all(p)
                .await
        })?;
        Ok(ThreadWithPosts {
            thread,
            posts: rows.into_iter().map(Post::from).collect(),
        })
    }

    /// One post.
    pub async fn post(&self, id: i64) -> Result<Post> {
        let sql = concat!(post_select!(), " WHERE p.id = $1");
        let row: Option<PostRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, PostRow>(sql)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.ok_or(StoreError::NotFound("post"))?.into())
    }

    /// Start a thread in a topic with its first post. E-mails those
    /// mentioned. Returns the thread's id and the e-mails queued.
    pub async fn create_thread(
        &self,
        topic_id: i64,
        draft: &ThreadDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<(i64, u64)> {
        let (thread_id, post_id) = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let (thread_id,): (i64,) = sqlx::query_as(
                "INSERT INTO discussion_threads (topic_id, title, created_by, created_at, last_post_at) \
                 SELECT id, $2, $3, $4, $4 FROM discussion_topics WHERE id = $1 RETURNING id",
            )
            .bind(topic_id)
            .bind(&draft.title)
            .bind(by.0)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("topic"))?;
            let (post_id,): (i64,) = sqlx::query_as(
                "INSERT INTO discussion_posts (thread_id, author_id, body, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(thread_id)
            .bind(by.0)
            .bind(&draft.body)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>((thread_id, post_id))
        })?;
        let queued = self
            .notify_post(
                thread_id,
                &draft.title,
                post_id,
                &draft.body,
                by,
                false,
                now,
            )
            .await?;
        Ok((thread_id, queued))
    }

    /// Reply to a thread; refused (nothing written) if it is locked.
    /// Returns the post's id and the e-mails queued.
    pub async fn reply(
        &self,
        thread_id: i64,
        body: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> std::result::Result<(i64, u64), DiscussionError> {
        let title = self.thread(thread_id).await?.thread.title;
        let post_id: Option<i64> = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let locked = sqlx::query(
                "UPDATE discussion_threads SET last_post_at = $2 WHERE id = $1 AND locked_at IS NULL",
            )
            .bind(thread_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 0;
            if locked {
                Ok::<_, StoreError>(None)
            } else {
                let (post_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO discussion_posts (thread_id, author_id, body, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(thread_id)
                .bind(by.0)
                .bind(body)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Some(post_id))
            }
        })?;
        let post_id = post_id.ok_or(DiscussionError::Refused(DiscussionRefusal::Locked))?;
        let queued = self
            .notify_post(thread_id, &title, post_id, body, by, true, now)
            .await?;
        Ok((post_id, queued))
    }

    /// Whether `actor` may edit post `post_id` now (its author, while the
    /// post is visible, the thread open and the edit window not passed):
    /// asked before the new text is looked at, so that a refusal never
    /// depends on what was sent.
    pub async fn check_may_edit_post(
        &self,
        post_id: i64,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> std::result::Result<(), DiscussionError> {
        let post = self.post(post_id).await?;
        let locked = self.thread(post.thread_id).await?.thread.locked;
        let facts = PostFacts {
            author: post.author_id,
            created_at: post.created_at,
            hidden: post.hidden,
            thread_locked: locked,
        };
        may_edit(actor, &facts, now).map_err(DiscussionError::Refused)
    }

    /// Edit a post's text, if [`openwarp_core::discussion::may_edit`] allows.
    pub async fn edit_post(
        &self,
        post_id: i64,
        body: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> std::result::Result<Post, DiscussionError> {
        self.check_may_edit_post(post_id, actor, now).await?;
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE discussion_posts SET body = $2, edited_at = $3 WHERE id = $1 AND hidden_at IS NULL",
            )
            .bind(post_id)
            .bind(body)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(self.post(post_id).await?)
    }

    /// Hide a post (with the moderator and reason) or show it again. The
    /// caller has checked `may_moderate`.
    pub async fn set_post_hidden(
        &self,
        post_id: i64,
        hidden: Option<&str>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Post> {
        let done = on_pool!(self, |p| {
            match hidden {
                Some(reason) => sqlx::query(
                    "UPDATE discussion_posts SET hidden_at = $2, hidden_by = $3, hidden_reason = $4 \
                     WHERE id = $1",
                )
                .bind(post_id)
                .bind(now)
                .bind(by.0)
                .bind(reason)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
                None => sqlx::query(
                    "UPDATE discussion_posts SET hidden_at = NULL, hidden_by = NULL, hidden_reason = NULL \
                     WHERE id = $1",
                )
                .bind(post_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected()),
            }
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("post"));
        }
        self.post(post_id).await
    }

    /// Who hid a post, and why (for operators and the audit).
    pub async fn post_moderation(&self, post_id: i64) -> Result<Option<(Option<i64>, String)>> {
        let row: Option<(Option<i64>, Option<String>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT hidden_by, hidden_reason FROM discussion_posts WHERE id = $1 AND hidden_at IS NOT NULL",
            )
            .bind(post_id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.map(|(by, why)| (by, why.unwrap_or_default())))
    }

    /// Lock a thread (no more replies) or unlock it. The caller has checked
    /// `may_moderate`.
    pub async fn set_thread_locked(
        &self,
        thread_id: i64,
        locked: bool,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Thread> {
        let done = on_pool!(self, |p| {
            if locked {
                sqlx::query(
                    "UPDATE discussion_threads SET locked_at = $2, locked_by = $3 WHERE id = $1",
                )
                .bind(thread_id)
                .bind(now)
                .bind(by.0)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
            } else {
                sqlx::query(
                    "UPDATE discussion_threads SET locked_at = NULL, locked_by = NULL WHERE id = $1",
                )
                .bind(thread_id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
            }
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("thread"));
        }
        Ok(self.thread(thread_id).await?.thread)
    }

    /// A user's discussion e-mail settings.
    pub async fn discussion_settings(&self, user: UserId) -> Result<DiscussionSettings> {
        let row: Option<(bool, bool)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT replies, mentions FROM discussion_notify WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(p)
                .await
        })?;
        let (replies, mentions) = row.unwrap_or((true, true));
        Ok(DiscussionSettings { replies, mentions })
    }

    /// Change a user's discussion e-mail settings.
    pub async fn set_discussion_settings(
        &self,
        user: UserId,
        settings: DiscussionSettings,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO discussion_notify (user_id, replies, mentions) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO UPDATE SET replies = excluded.replies, mentions = excluded.mentions",
            )
            .bind(user.0)
            .bind(settings.replies)
            .bind(settings.mentions)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Queue the e-mails about a new post: the mentioned (if they want
    /// mention e-mails) and, for a reply, the thread's other posters (if
    /// they want reply e-mails). Never the author.
    #[allow(clippy::too_many_arguments)]
    async fn notify_post(
        &self,
        thread_id: i64,
        title: &str,
        post_id: i64,
        body: &str,
        by: UserId,
        is_reply: bool,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let named = mentions(body);
        let users: Vec<NotifyRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT u.id, u.email, n.replies, n.mentions, \
                 EXISTS (SELECT 1 FROM discussion_posts dp WHERE dp.thread_id = $1 AND dp.author_id = u.id) \
                 FROM users u LEFT JOIN discussion_notify n ON n.user_id = u.id WHERE u.disabled = FALSE",
            )
            .bind(thread_id)
            .fetch_all(p)
            .await
        })?;
        let mut mentioned = Vec::new();
        let mut repliers = Vec::new();
        for (id, email, replies, wants_mentions, posted) in users {
            if id == by.0 {
                continue;
            }
            if wants_mentions.unwrap_or(true) && named.contains(&handle(&email)) {
                mentioned.push(UserId(id));
            } else if is_reply && posted && replies.unwrap_or(true) {
                repliers.push(UserId(id));
            }
        }
        let mut queued = 0;
        if !mentioned.is_empty() {
            let alert = post_alert(thread_id, title, post_id, true);
            queued += self.raise_alert_for_users(&alert, &mentioned, now).await?.1;
        }
        if !repliers.is_empty() {
            let alert = post_alert(thread_id, title, post_id, false);
            queued += self.raise_alert_for_users(&alert, &repliers, now).await?.1;
        }
        Ok(queued)
    }
}

/// A user's id, e-mail, reply and mention settings (`NULL`: on) and whether
/// they posted in the thread.
type NotifyRow = (i64, String, Option<bool>, Option<bool>, bool);

/// The alert about a new post (the text itself stays in openwarp).
fn post_alert(thread_id: i64, title: &str, post_id: i64, mention: bool) -> NewAlert {
    let (what, reason, key) = if mention {
        (
            "You were mentioned",
            "You were mentioned in a discussion; turn these e-mails off on the Discussion page",
            "discussion-mention",
        )
    } else {
        (
            "New reply",
            "You posted in this thread; turn reply e-mails off on the Discussion page",
            "discussion-reply",
        )
    };
    NewAlert {
        org_id: 0,
        kind: AlertKind::Warp,
        vuln_id: None,
        warp_advisory_id: None,
        priority: Priority::P4,
        tlp: TlpLabel::Amber,
        title: format!("{what}: {title}"),
        content: AlertContent {
            summary: format!("A new post in the discussion \"{title}\". Read it in openwarp."),
            reason: reason.into(),
            changes: Vec::new(),
            items: Vec::new(),
            action: None,
            due: None,
            sources: Vec::new(),
            path: format!("/discussion/threads/{thread_id}#post-{post_id}"),
        },
        dedup_key: format!("{key}:{post_id}"),
    }
}

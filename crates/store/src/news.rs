//! News items and the library of useful links (the rules are
//! [`openwarp_core::news`]'s; the web layer checks who may write).
//!
//! A news item is a draft while `published_at` is `NULL`; publishing sets it
//! once (editing a published item keeps its date), unpublishing clears it.
//! A link's tags are rows of `link_tags`, so filtering by tag and counting
//! tags are plain SQL. Search is a case-insensitive substring match over the
//! title, description and tags (`LIKE` with `%`, `_` and `\` escaped), which
//! both databases run the same way; the library is small enough not to need
//! a full-text index.

use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::UserId;
use openwarp_core::news::{LinkDraft, LinkKind, NewsDraft};
use serde::Serialize;
use std::collections::BTreeMap;

/// A news item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsItem {
    pub id: i64,
    pub title: String,
    /// Plain text; paragraphs separated by blank lines.
    pub body: String,
    pub source_url: Option<String>,
    /// `None` while a draft.
    pub published_at: Option<DateTime<Utc>>,
    /// `None` once the poster's account is gone.
    pub posted_by: Option<UserId>,
    pub poster_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NewsItem {
    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }
}

/// A library entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub description: String,
    pub kind: LinkKind,
    /// Sorted.
    pub tags: Vec<String>,
    pub added_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which links to list: all when both are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFilter {
    /// Words to find in the title, description or tags (case-insensitive).
    pub q: String,
    /// Only links with this tag.
    pub tag: String,
}

#[derive(sqlx::FromRow)]
struct NewsRow {
    id: i64,
    title: String,
    body: String,
    source_url: Option<String>,
    published_at: Option<DateTime<Utc>>,
    posted_by: Option<i64>,
    poster_name: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<NewsRow> for NewsItem {
    fn from(r: NewsRow) -> NewsItem {
        NewsItem {
            id: r.id,
            title: r.title,
            body: r.body,
            source_url: r.source_url,
            published_at: r.published_at,
            posted_by: r.posted_by.map(UserId),
            poster_name: r.poster_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: i64,
    title: String,
    url: String,
    description: String,
    kind: String,
    added_by: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl LinkRow {
    fn into_link(self, tags: Vec<String>) -> Result<Link> {
        Ok(Link {
            id: self.id,
            kind: LinkKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("link kind {}", self.kind)))?,
            title: self.title,
            url: self.url,
            description: self.description,
            tags,
            added_by: self.added_by.map(UserId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

macro_rules! news_select {
    () => {
        "SELECT n.id, n.title, n.body, n.source_url, n.published_at, n.posted_by, \
     u.display_name AS poster_name, n.created_at, n.updated_at \
     FROM news_items n LEFT JOIN users u ON u.id = n.posted_by"
    };
}

macro_rules! link_select {
    () => {
        "SELECT l.id, l.title, l.url, l.description, l.kind, l.added_by, \
     l.created_at, l.updated_at FROM links l"
    };
}

/// `$1`: a tag or `''`; `$2`: a `LIKE` pattern (`%` alone matches all).
macro_rules! link_filter {
    () => {
        " WHERE ($1 = '' OR EXISTS (SELECT 1 FROM link_tags f WHERE f.link_id = l.id AND f.tag = $1)) \
     AND (LOWER(l.title) LIKE $2 ESCAPE '\\' OR LOWER(l.description) LIKE $2 ESCAPE '\\' \
     OR EXISTS (SELECT 1 FROM link_tags s WHERE s.link_id = l.id AND s.tag LIKE $2 ESCAPE '\\'))"
    };
}

/// A case-insensitive substring pattern for `LIKE … ESCAPE '\'`.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl Store {
    /// Store a valid news item posted by `by` (published now if the draft says so).
    pub async fn create_news(
        &self,
        draft: &NewsDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<NewsItem> {
        let published_at = draft.published.then_some(now);
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO news_items (title, body, source_url, published_at, posted_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&draft.title)
            .bind(&draft.body)
            .bind(&draft.source_url)
            .bind(published_at)
            .bind(by.0)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        self.news_item(id).await
    }

    /// Replace a news item's text. Publishing a draft dates it `now`; a
    /// published item keeps its date; `published: false` makes it a draft.
    pub async fn update_news(
        &self,
        id: i64,
        draft: &NewsDraft,
        now: DateTime<Utc>,
    ) -> Result<NewsItem> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE news_items SET title = $1, body = $2, source_url = $3, \
                 published_at = CASE WHEN $4 THEN COALESCE(published_at, $5) ELSE NULL END, \
                 updated_at = $5 WHERE id = $6",
            )
            .bind(&draft.title)
            .bind(&draft.body)
            .bind(&draft.source_url)
            .bind(draft.published)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|d| d.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("news item"));
        }
        self.news_item(id).await
    }

    /// Delete a news item.
    pub async fn delete_news(&self, id: i64) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("DELETE FROM news_items WHERE id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(|d| d.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("news item"));
        }
        Ok(())
    }

    /// One news item, draft or not (the caller decides who may see drafts).
    pub async fn news_item(&self, id: i64) -> Result<NewsItem> {
        let sql = concat!(news_select!(), " WHERE n.id = $1");
        let row: Option<NewsRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, NewsRow>(sql)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.map(NewsItem::from)
            .ok_or(StoreError::NotFound("news item"))
    }

    /// News items, newest first (drafts, by creation time, only if
    /// `with_drafts`), at most `limit`.
    pub async fn news(&self, with_drafts: bool, limit: i64) -> Result<Vec<NewsItem>> {
        let sql = concat!(
            news_select!(),
            " WHERE ($1 OR n.published_at IS NOT NULL) \
             ORDER BY COALESCE(n.published_at, n.created_at) DESC, n.id DESC LIMIT $2"
        );
        let rows: Vec<NewsRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, NewsRow>(sql)
                .bind(with_drafts)
                .bind(limit)
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(NewsItem::from).collect())
    }

    /// Store a valid library entry added by `by`, with its tags.
    pub async fn create_link(
        &self,
        draft: &LinkDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Link> {
        let id = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO links (title, url, description, kind, added_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(&draft.title)
            .bind(&draft.url)
            .bind(&draft.description)
            .bind(draft.kind.as_str())
            .bind(by.0)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for tag in &draft.tags {
                sqlx::query("INSERT INTO link_tags (link_id, tag) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(id)
        })?;
        self.link(id).await
    }

    /// Replace a library entry and its tags, in one transaction.
    pub async fn update_link(
        &self,
        id: i64,
        draft: &LinkDraft,
        now: DateTime<Utc>,
    ) -> Result<Link> {
        let found = on_pool!(self, |p| {
            async {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE links SET title = $1, url = $2, description = $3, kind = $4, updated_at = $5 \
                 WHERE id = $6",
            )
            .bind(&draft.title)
            .bind(&draft.url)
            .bind(&draft.description)
            .bind(draft.kind.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok::<_, sqlx::Error>(false);
            }
            sqlx::query("DELETE FROM link_tags WHERE link_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for tag in &draft.tags {
                sqlx::query("INSERT INTO link_tags (link_id, tag) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(true)
        }
        .await
        })?;
        if !found {
            return Err(StoreError::NotFound("link"));
        }
        self.link(id).await
    }

    /// Delete a library entry (its tags go with it).
    pub async fn delete_link(&self, id: i64) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("DELETE FROM links WHERE id = $1")
                .bind(id)
                .execute(p)
                .await
                .map(|d| d.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("link"));
        }
        Ok(())
    }

    /// One library entry with its tags.
    pub async fn link(&self, id: i64) -> Result<Link> {
        let sql = concat!(link_select!(), " WHERE l.id = $1");
        let row: Option<LinkRow> = on_pool!(self, |p| {
            sqlx::query_as::<_, LinkRow>(sql)
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        let row = row.ok_or(StoreError::NotFound("link"))?;
        let tags: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT tag FROM link_tags WHERE link_id = $1 ORDER BY tag")
                .bind(id)
                .fetch_all(p)
                .await
        })?;
        row.into_link(tags.into_iter().map(|(t,)| t).collect())
    }

    /// The library, by title: links with `filter.tag` (if any) whose title,
    /// description or a tag contains `filter.q` (if any), ignoring case.
    pub async fn links(&self, filter: &LinkFilter) -> Result<Vec<Link>> {
        let tag = filter.tag.trim().to_lowercase();
        let pattern = like_pattern(&filter.q);
        let sql = concat!(
            link_select!(),
            link_filter!(),
            " ORDER BY LOWER(l.title), l.id"
        );
        let tag_sql = concat!(
            "SELECT t.link_id, t.tag FROM link_tags t WHERE t.link_id IN (SELECT l.id FROM links l",
            link_filter!(),
            ") ORDER BY t.tag"
        );
        let (rows, tags): (Vec<LinkRow>, Vec<(i64, String)>) = on_pool!(self, |p| {
            let rows = sqlx::query_as::<_, LinkRow>(sql)
                .bind(&tag)
                .bind(&pattern)
                .fetch_all(p)
                .await?;
            let tags = sqlx::query_as(tag_sql)
                .bind(&tag)
                .bind(&pattern)
                .fetch_all(p)
                .await?;
            Ok::<_, sqlx::Error>((rows, tags))
        })?;
        let mut by_link: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, t) in tags {
            by_link.entry(id).or_default().push(t);
        }
        rows.into_iter()
            .map(|r| {
                let tags = by_link.remove(&r.id).unwrap_or_default();
                r.into_link(tags)
            })
            .collect()
    }

    /// Every tag in the library with how many links carry it, by tag.
    pub async fn link_tag_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as("SELECT tag, COUNT(*) FROM link_tags GROUP BY tag ORDER BY tag")
                .fetch_all(p)
                .await
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_patterns_escape_like_wildcards() {
        assert_eq!(like_pattern(""), "%%");
        assert_eq!(like_pattern("  NCSC "), "%ncsc%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}

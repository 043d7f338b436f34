//! API handlers for news and the links library: every signed-in caller
//! reads and searches; operators post, change and delete (members 403).

use super::ApiJson;
use crate::AppState;
use crate::actions::news as actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openwarp_core::news::{LinkInput, NewsInput};
use openwarp_store::{Link, LinkFilter, NewsItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A news item.
#[derive(Serialize, ToSchema)]
pub struct NewsDto {
    pub id: i64,
    pub title: String,
    /// Plain text (never HTML); paragraphs separated by blank lines.
    pub body: String,
    pub source_url: Option<String>,
    /// Whether members can read it (drafts are the operators' alone).
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    /// Who posted it.
    pub posted_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn news_dto(n: NewsItem) -> NewsDto {
    NewsDto {
        published: n.is_published(),
        id: n.id,
        title: n.title,
        body: n.body,
        source_url: n.source_url,
        published_at: n.published_at,
        posted_by: n.poster_name,
        created_at: n.created_at,
        updated_at: n.updated_at,
    }
}

/// A news item to post or a replacement for one. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewsInputDto {
    /// At most 200 characters.
    pub title: String,
    /// Plain text, at most 20,000 characters; a blank line between paragraphs.
    pub body: String,
    /// An `http(s)://` link to the original announcement.
    #[serde(default)]
    pub source_url: Option<String>,
    /// `false` keeps it as a draft only operators see.
    #[serde(default = "yes")]
    pub published: bool,
}

fn yes() -> bool {
    true
}

impl NewsInputDto {
    fn input(self) -> NewsInput {
        NewsInput {
            title: self.title,
            body: self.body,
            source_url: self.source_url.unwrap_or_default(),
            published: self.published,
        }
    }
}

/// News, newest first (operators also get drafts).
#[utoipa::path(get, path = "/api/v1/news", tag = "news",
    responses((status = 200, body = [NewsDto]), (status = 401, body = ApiErrorBody)))]
pub async fn list_news(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<NewsDto>>, ApiError> {
    let items = actions::list_news(&state, &user).await?;
    Ok(Json(items.into_iter().map(news_dto).collect()))
}

/// One news item (a draft is 404 to members).
#[utoipa::path(get, path = "/api/v1/news/{id}", tag = "news",
    params(("id" = i64, Path, description = "News item id")),
    responses((status = 200, body = NewsDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_news(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<NewsDto>, ApiError> {
    Ok(Json(news_dto(actions::news_item(&state, &user, id).await?)))
}

/// Post a news item (operators; members 403). Bad fields: 422 naming each.
#[utoipa::path(post, path = "/api/v1/news", tag = "news", request_body = NewsInputDto,
    responses((status = 201, body = NewsDto), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn create_news(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<NewsInputDto>,
) -> Result<(StatusCode, Json<NewsDto>), ApiError> {
    let n = actions::post_news(&state, &user, &body.input(), &ip).await?;
    Ok((StatusCode::CREATED, Json(news_dto(n))))
}

/// Replace a news item (operators; members 403).
#[utoipa::path(put, path = "/api/v1/news/{id}", tag = "news", request_body = NewsInputDto,
    params(("id" = i64, Path, description = "News item id")),
    responses((status = 200, body = NewsDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_news(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewsInputDto>,
) -> Result<Json<NewsDto>, ApiError> {
    let n = actions::update_news(&state, &user, id, &body.input(), &ip).await?;
    Ok(Json(news_dto(n)))
}

/// Delete a news item (operators; members 403).
#[utoipa::path(delete, path = "/api/v1/news/{id}", tag = "news",
    params(("id" = i64, Path, description = "News item id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_news(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    actions::delete_news(&state, &user, id, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An entry of the links library.
#[derive(Serialize, ToSchema)]
pub struct LinkDto {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub description: String,
    /// `link` or `guidance` (a guidance document).
    pub kind: String,
    /// Lower-case words, sorted.
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn link_dto(l: Link) -> LinkDto {
    LinkDto {
        id: l.id,
        title: l.title,
        url: l.url,
        description: l.description,
        kind: l.kind.as_str().into(),
        tags: l.tags,
        created_at: l.created_at,
        updated_at: l.updated_at,
    }
}

/// A library entry to add or a replacement for one. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInputDto {
    /// At most 200 characters.
    pub title: String,
    /// An `http://` or `https://` link.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// At most 10 lower-case words of letters, digits and hyphens, each at most 30 characters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// `link` (the default) or `guidance`.
    #[serde(default)]
    pub kind: Option<String>,
}

impl LinkInputDto {
    /// The form's input; each tag must be one word (a list item holding
    /// spaces or commas would otherwise become several tags unnoticed).
    fn input(self) -> Result<LinkInput, AppError> {
        if let Some(t) = self
            .tags
            .iter()
            .find(|t| t.trim().is_empty() || t.contains(|c: char| c == ',' || c.is_whitespace()))
        {
            return Err(AppError::field(
                "tags",
                format!("\"{t}\" is not one word: send each tag as its own list item"),
            ));
        }
        Ok(LinkInput {
            title: self.title,
            url: self.url,
            description: self.description,
            tags: self.tags.join(","),
            kind: self.kind.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(default)]
pub struct LinkListQuery {
    /// Words to find in the title, description or tags (any case).
    pub q: String,
    /// Only links with this tag.
    pub tag: String,
}

/// The library by title, searched and filtered by tag.
#[utoipa::path(get, path = "/api/v1/links", tag = "news", params(LinkListQuery),
    responses((status = 200, body = [LinkDto]), (status = 401, body = ApiErrorBody)))]
pub async fn list_links(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<LinkListQuery>,
) -> Result<Json<Vec<LinkDto>>, ApiError> {
    let filter = LinkFilter { q: q.q, tag: q.tag };
    let links = actions::list_links(&state, &user, &filter).await?;
    Ok(Json(links.into_iter().map(link_dto).collect()))
}

/// One library entry.
#[utoipa::path(get, path = "/api/v1/links/{id}", tag = "news",
    params(("id" = i64, Path, description = "Link id")),
    responses((status = 200, body = LinkDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_link(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<LinkDto>, ApiError> {
    Ok(Json(link_dto(actions::link(&state, &user, id).await?)))
}

/// Add to the library (operators; members 403). Bad fields: 422 naming each.
#[utoipa::path(post, path = "/api/v1/links", tag = "news", request_body = LinkInputDto,
    responses((status = 201, body = LinkDto), (status = 403, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn create_link(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LinkInputDto>,
) -> Result<(StatusCode, Json<LinkDto>), ApiError> {
    actions::curator(&user)?;
    let l = actions::add_link(&state, &user, &body.input()?, &ip).await?;
    Ok((StatusCode::CREATED, Json(link_dto(l))))
}

/// Replace a library entry and its tags (operators; members 403).
#[utoipa::path(put, path = "/api/v1/links/{id}", tag = "news", request_body = LinkInputDto,
    params(("id" = i64, Path, description = "Link id")),
    responses((status = 200, body = LinkDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_link(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LinkInputDto>,
) -> Result<Json<LinkDto>, ApiError> {
    actions::curator(&user)?;
    let l = actions::update_link(&state, &user, id, &body.input()?, &ip).await?;
    Ok(Json(link_dto(l)))
}

/// Remove from the library (operators; members 403).
#[utoipa::path(delete, path = "/api/v1/links/{id}", tag = "news",
    params(("id" = i64, Path, description = "Link id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_link(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    actions::delete_link(&state, &user, id, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! API handlers for discussion: every signed-in user reads, starts threads
//! and replies; operators create topics, hide posts and lock threads.
//! Posts come with their Markdown source and the sanitised HTML; a hidden
//! post with neither.

use super::ApiJson;
use crate::AppState;
use crate::actions::discussion as actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openwarp_store::{DiscussionSettings, Post, Thread, Topic};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A topic, e.g. PSN, Cloud, GDPR.
#[derive(Serialize, ToSchema)]
pub struct TopicDto {
    pub id: i64,
    /// The topic's address form, used in paths.
    pub slug: String,
    pub name: String,
    pub description: String,
    /// How many threads it has.
    pub threads: i64,
}

impl From<Topic> for TopicDto {
    fn from(t: Topic) -> Self {
        TopicDto {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            threads: t.threads,
        }
    }
}

/// A thread.
#[derive(Serialize, ToSchema)]
pub struct ThreadDto {
    pub id: i64,
    pub topic: String,
    pub title: String,
    pub started_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_post_at: DateTime<Utc>,
    /// A locked thread takes no replies.
    pub locked: bool,
    /// Posts, the first included.
    pub posts: i64,
}

impl From<Thread> for ThreadDto {
    fn from(t: Thread) -> Self {
        ThreadDto {
            id: t.id,
            topic: t.topic_slug,
            title: t.title,
            started_by: t.author_name,
            created_at: t.created_at,
            last_post_at: t.last_post_at,
            locked: t.locked,
            posts: t.posts,
        }
    }
}

/// A post.
#[derive(Serialize, ToSchema)]
pub struct PostDto {
    pub id: i64,
    pub thread_id: i64,
    pub author: Option<String>,
    pub author_org: Option<String>,
    /// The Markdown source; absent when removed by a moderator.
    pub body: Option<String>,
    /// The rendered HTML, sanitised; absent when removed by a moderator.
    pub html: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Removed by a moderator.
    pub hidden: bool,
    pub hidden_reason: Option<String>,
}

impl From<Post> for PostDto {
    fn from(p: Post) -> Self {
        PostDto {
            id: p.id,
            thread_id: p.thread_id,
            author: p.author_name,
            author_org: p.author_org,
            body: p.body,
            html: p.html,
            created_at: p.created_at,
            edited_at: p.edited_at,
            hidden: p.hidden,
            hidden_reason: p.hidden_reason,
        }
    }
}

/// A topic with its threads, newest activity first.
#[derive(Serialize, ToSchema)]
pub struct TopicThreadsDto {
    pub topic: TopicDto,
    pub threads: Vec<ThreadDto>,
}

/// A thread with its posts, oldest first.
#[derive(Serialize, ToSchema)]
pub struct ThreadPostsDto {
    pub thread: ThreadDto,
    pub posts: Vec<PostDto>,
}

/// A new topic (operators).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicInputDto {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A new thread: a title (≤ 200 characters) and the first post (Markdown, ≤ 20,000).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadInputDto {
    pub title: String,
    pub body: String,
}

/// A reply or an edited post (Markdown, ≤ 20,000 characters).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostInputDto {
    pub body: String,
}

/// Hide a post (with a reason) or show it again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HideDto {
    pub hidden: bool,
    #[serde(default)]
    pub reason: String,
}

/// Lock a thread or unlock it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockDto {
    pub locked: bool,
}

/// The caller's discussion e-mails (both on unless turned off).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscussionSettingsDto {
    /// E-mail me replies to threads I posted in.
    pub replies: bool,
    /// E-mail me when I am mentioned (`@` + my e-mail's local part).
    pub mentions: bool,
}

/// Every topic with its thread count.
#[utoipa::path(get, path = "/api/v1/discussion/topics", tag = "discussion",
    responses((status = 200, body = [TopicDto]), (status = 401, body = ApiErrorBody)))]
pub async fn list_topics(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<TopicDto>>, ApiError> {
    Ok(Json(
        actions::topics(&state, &user)
            .await?
            .into_iter()
            .map(TopicDto::from)
            .collect(),
    ))
}

/// Create a topic: operators only (others 403).
#[utoipa::path(post, path = "/api/v1/discussion/topics", tag = "discussion", request_body = TopicInputDto,
    responses((status = 201, body = TopicDto), (status = 403, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_topic(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<TopicInputDto>,
) -> Result<(StatusCode, Json<TopicDto>), ApiError> {
    let t = actions::create_topic(&state, &user, &body.name, &body.description, &ip).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A topic's threads, newest activity first.
#[utoipa::path(get, path = "/api/v1/discussion/topics/{slug}", tag = "discussion",
    params(("slug" = String, Path, description = "Topic slug, e.g. psn")),
    responses((status = 200, body = TopicThreadsDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_topic(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(slug): Path<String>,
) -> Result<Json<TopicThreadsDto>, ApiError> {
    let (topic, threads) = actions::topic(&state, &user, &slug).await?;
    Ok(Json(TopicThreadsDto {
        topic: topic.into(),
        threads: threads.into_iter().map(ThreadDto::from).collect(),
    }))
}

/// Start a thread in a topic. Too long or empty: 422 naming the field, nothing stored.
#[utoipa::path(post, path = "/api/v1/discussion/topics/{slug}", tag = "discussion",
    request_body = ThreadInputDto,
    params(("slug" = String, Path, description = "Topic slug")),
    responses((status = 201, body = ThreadPostsDto), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn create_thread(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<ThreadInputDto>,
) -> Result<(StatusCode, Json<ThreadPostsDto>), ApiError> {
    let id = actions::create_thread(&state, &user, &slug, &body.title, &body.body).await?;
    Ok((
        StatusCode::CREATED,
        Json(thread_dto(&state, &user, id).await?),
    ))
}

async fn thread_dto(
    state: &AppState,
    user: &openwarp_store::User,
    id: i64,
) -> Result<ThreadPostsDto, AppError> {
    let t = actions::thread(state, user, id).await?;
    Ok(ThreadPostsDto {
        thread: t.thread.into(),
        posts: t.posts.into_iter().map(PostDto::from).collect(),
    })
}

/// A thread with its posts (hidden posts without their text).
#[utoipa::path(get, path = "/api/v1/discussion/threads/{id}", tag = "discussion",
    params(("id" = i64, Path, description = "Thread id")),
    responses((status = 200, body = ThreadPostsDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_thread(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<ThreadPostsDto>, ApiError> {
    Ok(Json(thread_dto(&state, &user, id).await?))
}

/// Reply to a thread. Locked: 409; too long or empty: 422. Nothing stored then.
/// E-mails those mentioned and the thread's other posters who want it.
#[utoipa::path(post, path = "/api/v1/discussion/threads/{id}/replies", tag = "discussion",
    request_body = PostInputDto,
    params(("id" = i64, Path, description = "Thread id")),
    responses((status = 201, body = PostDto), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PostInputDto>,
) -> Result<(StatusCode, Json<PostDto>), ApiError> {
    let post = actions::reply(&state, &user, id, &body.body).await?;
    let p = state.store.post(post).await.map_err(AppError::from)?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// Edit one's own post within 24 hours of posting (others 403; later 409).
#[utoipa::path(put, path = "/api/v1/discussion/posts/{id}", tag = "discussion",
    request_body = PostInputDto,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = PostDto), (status = 403, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn edit_post(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<PostInputDto>,
) -> Result<Json<PostDto>, ApiError> {
    Ok(Json(
        actions::edit(&state, &user, id, &body.body).await?.into(),
    ))
}

/// Hide a post (a reason is required) or show it again: operators only. Audited.
#[utoipa::path(post, path = "/api/v1/discussion/posts/{id}/hide", tag = "discussion",
    request_body = HideDto,
    params(("id" = i64, Path, description = "Post id")),
    responses((status = 200, body = PostDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn hide_post(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HideDto>,
) -> Result<Json<PostDto>, ApiError> {
    Ok(Json(
        actions::hide(&state, &user, id, body.hidden, &body.reason, &ip)
            .await?
            .into(),
    ))
}

/// Lock a thread (no more replies) or unlock it: operators only. Audited.
#[utoipa::path(post, path = "/api/v1/discussion/threads/{id}/lock", tag = "discussion",
    request_body = LockDto,
    params(("id" = i64, Path, description = "Thread id")),
    responses((status = 200, body = ThreadDto), (status = 403, body = ApiErrorBody),
              (status = 404, body = ApiErrorBody)))]
pub async fn lock_thread(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LockDto>,
) -> Result<Json<ThreadDto>, ApiError> {
    Ok(Json(
        actions::lock(&state, &user, id, body.locked, &ip)
            .await?
            .into(),
    ))
}

/// The caller's discussion e-mail settings.
#[utoipa::path(get, path = "/api/v1/discussion/settings", tag = "discussion",
    responses((status = 200, body = DiscussionSettingsDto)))]
pub async fn get_settings(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<DiscussionSettingsDto>, ApiError> {
    let s = state
        .store
        .discussion_settings(user.id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(DiscussionSettingsDto {
        replies: s.replies,
        mentions: s.mentions,
    }))
}

/// Change the caller's discussion e-mail settings.
#[utoipa::path(put, path = "/api/v1/discussion/settings", tag = "discussion",
    request_body = DiscussionSettingsDto,
    responses((status = 200, body = DiscussionSettingsDto)))]
pub async fn put_settings(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ApiJson(body): ApiJson<DiscussionSettingsDto>,
) -> Result<Json<DiscussionSettingsDto>, ApiError> {
    actions::set_settings(
        &state,
        &user,
        DiscussionSettings {
            replies: body.replies,
            mentions: body.mentions,
        },
    )
    .await?;
    Ok(Json(body))
}

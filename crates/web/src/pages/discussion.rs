//! `/discussion`: topics, threads in a topic, and a thread with its posts.
//! Members-only (every route needs a session). Posts are rendered from
//! Markdown and sanitised in `openwarp_core::discussion::render_markdown`;
//! that HTML is the only thing these pages output unescaped. Operators see
//! the moderation buttons; authors an edit form for 24 hours.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::actions::discussion as actions;
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::discussion::{PostFacts, may_edit};
use openwarp_store::{DiscussionSettings, Session, Thread, Topic, now};
use serde::Deserialize;

const CURRENT: &str = "discussion";

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "replied" => "Your reply has been posted.",
        "created" => "Your thread has been started.",
        "edited" => "Your post has been changed.",
        "hidden" => "The post has been removed by a moderator.",
        "shown" => "The post is shown again.",
        "locked" => "The thread is locked: it takes no more replies.",
        "unlocked" => "The thread is open for replies again.",
        "topic" => "The topic has been created.",
        "settings" => "Your discussion e-mail settings have been saved.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: impl Into<String>,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, CURRENT);
    l.notice = notice(code);
    l
}

fn labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "Name",
        "description" => "Description",
        "title" => "Title",
        "body" => "Post",
        "reason" => "Reason",
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TopicForm {
    name: String,
    description: String,
}

#[derive(Template)]
#[template(path = "discussion.html")]
struct TopicsPage {
    layout: Layout,
    topics: Vec<Topic>,
    is_operator: bool,
    settings: DiscussionSettings,
    errors: FormErrors,
    form: TopicForm,
}

async fn topics_page(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
) -> Result<TopicsPage, AppError> {
    Ok(TopicsPage {
        layout: layout(state, session, "Discussion", code),
        topics: actions::topics(state, &session.user).await?,
        is_operator: session.user.actor().is_operator(),
        settings: state.store.discussion_settings(session.user.id).await?,
        errors: FormErrors::default(),
        form: TopicForm::default(),
    })
}

/// `GET /discussion`: the topics with their thread counts, and the e-mail settings.
pub async fn topics(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&topics_page(&state, &session, q.notice.as_deref()).await?)
}

/// `POST /discussion`: create a topic (operators).
pub async fn create_topic(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<TopicForm>,
) -> Result<Response, AppError> {
    match actions::create_topic(&state, &session.user, &form.name, &form.description, &ip).await {
        Ok(t) => Ok(Redirect::to(&format!("/discussion/{}?notice=topic", t.slug)).into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = topics_page(&state, &session, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    replies: Option<String>,
    mentions: Option<String>,
}

/// `POST /discussion/settings`: e-mail me replies / mentions.
pub async fn set_settings(
    State(state): State<AppState>,
    SessionForm { session, form }: SessionForm<SettingsForm>,
) -> Result<Response, AppError> {
    let settings = DiscussionSettings {
        replies: form.replies.is_some(),
        mentions: form.mentions.is_some(),
    };
    actions::set_settings(&state, &session.user, settings).await?;
    Ok(Redirect::to("/discussion?notice=settings").into_response())
}

pub struct ThreadRow {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub last: String,
    pub replies: i64,
    pub locked: bool,
}

impl From<&Thread> for ThreadRow {
    fn from(t: &Thread) -> Self {
        ThreadRow {
            id: t.id,
            title: t.title.clone(),
            author: t
                .author_name
                .clone()
                .unwrap_or_else(|| "(account removed)".into()),
            last: timestamp(t.last_post_at),
            replies: (t.posts - 1).max(0),
            locked: t.locked,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ThreadForm {
    title: String,
    body: String,
}

#[derive(Template)]
#[template(path = "discussion_topic.html")]
struct TopicPage {
    layout: Layout,
    topic: Topic,
    threads: Vec<ThreadRow>,
    errors: FormErrors,
    form: ThreadForm,
}

async fn topic_page(
    state: &AppState,
    session: &Session,
    slug: &str,
    code: Option<&str>,
) -> Result<TopicPage, AppError> {
    let (topic, threads) = actions::topic(state, &session.user, slug).await?;
    Ok(TopicPage {
        layout: layout(state, session, topic.name.clone(), code),
        threads: threads.iter().map(ThreadRow::from).collect(),
        topic,
        errors: FormErrors::default(),
        form: ThreadForm::default(),
    })
}

/// `GET /discussion/{topic}`: its threads, newest activity first, and the new-thread form.
pub async fn topic(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&topic_page(&state, &session, &slug, q.notice.as_deref()).await?)
}

/// `POST /discussion/{topic}`: start a thread.
pub async fn create_thread(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    SessionForm { session, form }: SessionForm<ThreadForm>,
) -> Result<Response, AppError> {
    match actions::create_thread(&state, &session.user, &slug, &form.title, &form.body).await {
        Ok(id) => {
            Ok(Redirect::to(&format!("/discussion/threads/{id}?notice=created")).into_response())
        }
        Err(AppError::Invalid(v)) => {
            let mut page = topic_page(&state, &session, &slug, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

pub struct PostView {
    pub id: i64,
    pub author: String,
    pub posted: String,
    pub edited: bool,
    pub hidden: bool,
    pub hidden_reason: String,
    /// Sanitised HTML (empty when hidden).
    pub html: String,
    /// The source, for the edit form (empty when hidden).
    pub body: String,
    pub may_edit: bool,
}

#[derive(Template)]
#[template(path = "discussion_thread.html")]
struct ThreadPage {
    layout: Layout,
    thread: Thread,
    posts: Vec<PostView>,
    is_operator: bool,
    errors: FormErrors,
    error: Option<String>,
    reply: String,
}

async fn thread_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<ThreadPage, AppError> {
    let t = actions::thread(state, &session.user, id).await?;
    let actor = session.user.actor();
    let at = now();
    let locked = t.thread.locked;
    Ok(ThreadPage {
        layout: layout(state, session, t.thread.title.clone(), code),
        posts: t
            .posts
            .into_iter()
            .map(|p| {
                let facts = PostFacts {
                    author: p.author_id,
                    created_at: p.created_at,
                    hidden: p.hidden,
                    thread_locked: locked,
                };
                PostView {
                    id: p.id,
                    author: match (p.author_name, p.author_org) {
                        (Some(n), Some(o)) => format!("{n} ({o})"),
                        (Some(n), None) => format!("{n} (WARP operator)"),
                        _ => "(account removed)".into(),
                    },
                    posted: timestamp(p.created_at),
                    edited: p.edited_at.is_some(),
                    hidden: p.hidden,
                    hidden_reason: p.hidden_reason.unwrap_or_default(),
                    html: p.html.unwrap_or_default(),
                    body: p.body.unwrap_or_default(),
                    may_edit: may_edit(&actor, &facts, at).is_ok(),
                }
            })
            .collect(),
        thread: t.thread,
        is_operator: actor.is_operator(),
        errors: FormErrors::default(),
        error: None,
        reply: String::new(),
    })
}

/// `GET /discussion/threads/{id}`: the posts, the reply form, moderation.
pub async fn thread(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&thread_page(&state, &session, id, q.notice.as_deref()).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BodyForm {
    body: String,
}

/// `POST /discussion/threads/{id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<BodyForm>,
) -> Result<Response, AppError> {
    match actions::reply(&state, &session.user, id, &form.body).await {
        Ok(post) => Ok(Redirect::to(&format!(
            "/discussion/threads/{id}?notice=replied#post-{post}"
        ))
        .into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let mut page = thread_page(&state, &session, id, None).await?;
            match e {
                AppError::Invalid(v) => page.errors = FormErrors::labelled(v, labels),
                other => page.error = Some(other.to_string()),
            }
            page.reply = form.body;
            render_with(status, &page)
        }
        Err(e) => Err(e),
    }
}

/// `POST /discussion/posts/{id}/edit`: the author, within 24 hours.
pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<BodyForm>,
) -> Result<Response, AppError> {
    let p = actions::edit(&state, &session.user, id, &form.body).await?;
    Ok(Redirect::to(&format!(
        "/discussion/threads/{}?notice=edited#post-{id}",
        p.thread_id
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HideForm {
    hidden: Option<String>,
    reason: String,
}

/// `POST /discussion/posts/{id}/hide`: hide (with a reason) or show again; operators.
pub async fn hide(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<HideForm>,
) -> Result<Response, AppError> {
    let hidden = form.hidden.as_deref() != Some("false");
    let p = actions::hide(&state, &session.user, id, hidden, &form.reason, &ip).await?;
    let code = if hidden { "hidden" } else { "shown" };
    Ok(Redirect::to(&format!(
        "/discussion/threads/{}?notice={code}#post-{id}",
        p.thread_id
    ))
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LockForm {
    locked: Option<String>,
}

/// `POST /discussion/threads/{id}/lock`: lock or unlock; operators.
pub async fn lock(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<LockForm>,
) -> Result<Response, AppError> {
    let locked = form.locked.as_deref() != Some("false");
    actions::lock(&state, &session.user, id, locked, &ip).await?;
    let code = if locked { "locked" } else { "unlocked" };
    Ok(Redirect::to(&format!("/discussion/threads/{id}?notice={code}")).into_response())
}

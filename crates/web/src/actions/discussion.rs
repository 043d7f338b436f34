//! Discussion: topics, threads, replies, edits, moderation and the e-mail
//! settings. Pages and API both come through here, so the rules
//! ([`openwarp_core::discussion`]) and the audit log cannot be skipped.
//! Moderation is audited as `discussion.hide`, `discussion.unhide`,
//! `discussion.lock` and `discussion.unlock`.

use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::discussion::{
    DiscussionRefusal, may_moderate, may_reply, may_take_part, validate_post, validate_reason,
    validate_thread, validate_topic,
};
use openwarp_store::{
    DiscussionError, DiscussionSettings, Post, Thread, ThreadWithPosts, Topic, User, now,
};

impl From<DiscussionRefusal> for AppError {
    fn from(r: DiscussionRefusal) -> Self {
        match r {
            DiscussionRefusal::OperatorsOnly | DiscussionRefusal::NotAuthor => {
                AppError::Forbidden(r.to_string())
            }
            DiscussionRefusal::Locked | DiscussionRefusal::TooLate | DiscussionRefusal::Hidden => {
                AppError::Conflict(r.to_string())
            }
        }
    }
}

impl From<DiscussionError> for AppError {
    fn from(e: DiscussionError) -> Self {
        match e {
            DiscussionError::Refused(r) => r.into(),
            DiscussionError::Store(s) => s.into(),
        }
    }
}

/// Every topic with its thread count.
pub async fn topics(state: &AppState, user: &User) -> Result<Vec<Topic>, AppError> {
    may_take_part(&user.actor())?;
    Ok(state.store.topics().await?)
}

/// A topic and its threads, newest activity first.
pub async fn topic(
    state: &AppState,
    user: &User,
    slug: &str,
) -> Result<(Topic, Vec<Thread>), AppError> {
    may_take_part(&user.actor())?;
    let topic = state.store.topic(slug).await?;
    let threads = state.store.threads(topic.id, 500).await?;
    Ok((topic, threads))
}

/// A thread with its posts.
pub async fn thread(state: &AppState, user: &User, id: i64) -> Result<ThreadWithPosts, AppError> {
    may_take_part(&user.actor())?;
    Ok(state.store.thread(id).await?)
}

/// Create a topic: operators only.
pub async fn create_topic(
    state: &AppState,
    user: &User,
    name: &str,
    description: &str,
    ip: &str,
) -> Result<Topic, AppError> {
    may_moderate(&user.actor())?;
    let draft = validate_topic(name, description)?;
    let topic = state.store.create_topic(&draft, user.id, now()).await?;
    record(
        state,
        Some(user),
        "discussion.topic_create",
        None,
        &topic.name,
        serde_json::json!({ "topic": topic.id }),
        Some(ip),
    )
    .await;
    Ok(topic)
}

/// Start a thread in a topic: title and first post validated (422 naming
/// the fields; nothing stored).
pub async fn create_thread(
    state: &AppState,
    user: &User,
    slug: &str,
    title: &str,
    body: &str,
) -> Result<i64, AppError> {
    may_take_part(&user.actor())?;
    let topic = state.store.topic(slug).await?;
    let draft = validate_thread(title, body)?;
    let (id, _) = state
        .store
        .create_thread(topic.id, &draft, user.id, now())
        .await?;
    Ok(id)
}

/// Reply: 422 if the body is empty or too long, 409 if the thread is locked.
pub async fn reply(
    state: &AppState,
    user: &User,
    thread: i64,
    body: &str,
) -> Result<i64, AppError> {
    let t = state.store.thread(thread).await?.thread;
    may_reply(&user.actor(), t.locked)?;
    let body = validate_post(body)?;
    let (id, _) = state.store.reply(thread, &body, user.id, now()).await?;
    Ok(id)
}

/// Edit one's own post within 24 hours.
pub async fn edit(state: &AppState, user: &User, post: i64, body: &str) -> Result<Post, AppError> {
    // Who may edit is settled before what was sent is judged.
    state
        .store
        .check_may_edit_post(post, &user.actor(), now())
        .await?;
    let body = validate_post(body)?;
    Ok(state
        .store
        .edit_post(post, &body, &user.actor(), now())
        .await?)
}

/// Hide a post (`reason` required) or show it again: operators only.
pub async fn hide(
    state: &AppState,
    user: &User,
    post: i64,
    hidden: bool,
    reason: &str,
    ip: &str,
) -> Result<Post, AppError> {
    may_moderate(&user.actor())?;
    let reason = if hidden {
        Some(validate_reason(reason)?)
    } else {
        None
    };
    let p = state
        .store
        .set_post_hidden(post, reason.as_deref(), user.id, now())
        .await?;
    record(
        state,
        Some(user),
        if hidden {
            "discussion.hide"
        } else {
            "discussion.unhide"
        },
        None,
        &format!("post {post}"),
        serde_json::json!({ "post": post, "thread": p.thread_id, "reason": reason }),
        Some(ip),
    )
    .await;
    Ok(p)
}

/// Lock a thread or unlock it: operators only.
pub async fn lock(
    state: &AppState,
    user: &User,
    thread: i64,
    locked: bool,
    ip: &str,
) -> Result<Thread, AppError> {
    may_moderate(&user.actor())?;
    let t = state
        .store
        .set_thread_locked(thread, locked, user.id, now())
        .await?;
    record(
        state,
        Some(user),
        if locked {
            "discussion.lock"
        } else {
            "discussion.unlock"
        },
        None,
        &t.title,
        serde_json::json!({ "thread": thread }),
        Some(ip),
    )
    .await;
    Ok(t)
}

/// Change one's discussion e-mail settings.
pub async fn set_settings(
    state: &AppState,
    user: &User,
    settings: DiscussionSettings,
) -> Result<(), AppError> {
    Ok(state
        .store
        .set_discussion_settings(user.id, settings)
        .await?)
}

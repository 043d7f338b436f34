//! News items and the links library: operators post and curate, every
//! signed-in user reads ([`openwarp_core::news`]). Pages and API both come
//! through here, so the checks and the audit log (`news.*`, `link.*`)
//! cannot be skipped. A draft is a 404 to members, as if it did not exist.

use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::news::{LinkInput, NewsInput, may_curate, may_read, may_see_item};
use openwarp_store::{Link, LinkFilter, NewsItem, User, now};

/// 403 unless `user` may post news and curate links.
pub fn curator(user: &User) -> Result<(), AppError> {
    if may_curate(&user.actor()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the WARP's operators post news and curate links".into(),
        ))
    }
}

fn reader(user: &User) -> Result<(), AppError> {
    if may_read(&user.actor()) {
        Ok(())
    } else {
        Err(AppError::Forbidden("you may not read news".into()))
    }
}

/// News for `user`, newest first: drafts too for operators.
pub async fn list_news(state: &AppState, user: &User) -> Result<Vec<NewsItem>, AppError> {
    reader(user)?;
    Ok(state.store.news(may_curate(&user.actor()), 200).await?)
}

/// One news item; a draft is 404 to anyone but operators.
pub async fn news_item(state: &AppState, user: &User, id: i64) -> Result<NewsItem, AppError> {
    reader(user)?;
    let item = state.store.news_item(id).await?;
    if !may_see_item(&user.actor(), item.is_published()) {
        return Err(AppError::NotFound("news item"));
    }
    Ok(item)
}

/// Validate and post a news item (operators).
pub async fn post_news(
    state: &AppState,
    user: &User,
    input: &NewsInput,
    ip: &str,
) -> Result<NewsItem, AppError> {
    curator(user)?;
    let draft = input.validate()?;
    let item = state.store.create_news(&draft, user.id, now()).await?;
    record(
        state,
        Some(user),
        "news.post",
        None,
        &item.title,
        serde_json::json!({ "news": item.id, "published": item.is_published() }),
        Some(ip),
    )
    .await;
    Ok(item)
}

/// Validate and replace a news item (operators).
pub async fn update_news(
    state: &AppState,
    user: &User,
    id: i64,
    input: &NewsInput,
    ip: &str,
) -> Result<NewsItem, AppError> {
    curator(user)?;
    let draft = input.validate()?;
    let item = state.store.update_news(id, &draft, now()).await?;
    record(
        state,
        Some(user),
        "news.update",
        None,
        &item.title,
        serde_json::json!({ "news": item.id, "published": item.is_published() }),
        Some(ip),
    )
    .await;
    Ok(item)
}

/// Delete a news item (operators).
pub async fn delete_news(state: &AppState, user: &User, id: i64, ip: &str) -> Result<(), AppError> {
    curator(user)?;
    let item = state.store.news_item(id).await?;
    state.store.delete_news(id).await?;
    record(
        state,
        Some(user),
        "news.delete",
        None,
        &item.title,
        serde_json::json!({ "news": id }),
        Some(ip),
    )
    .await;
    Ok(())
}

/// The library for `user`, filtered and searched.
pub async fn list_links(
    state: &AppState,
    user: &User,
    filter: &LinkFilter,
) -> Result<Vec<Link>, AppError> {
    reader(user)?;
    Ok(state.store.links(filter).await?)
}

/// Every tag with how many links carry it.
pub async fn tag_counts(state: &AppState, user: &User) -> Result<Vec<(String, i64)>, AppError> {
    reader(user)?;
    Ok(state.store.link_tag_counts().await?)
}

/// One library entry.
pub async fn link(state: &AppState, user: &User, id: i64) -> Result<Link, AppError> {
    reader(user)?;
    Ok(state.store.link(id).await?)
}

/// Validate and add a library entry (operators).
pub async fn add_link(
    state: &AppState,
    user: &User,
    input: &LinkInput,
    ip: &str,
) -> Result<Link, AppError> {
    curator(user)?;
    let draft = input.validate()?;
    let link = state.store.create_link(&draft, user.id, now()).await?;
    record(
        state,
        Some(user),
        "link.add",
        None,
        &link.title,
        serde_json::json!({ "link": link.id, "url": link.url, "tags": link.tags }),
        Some(ip),
    )
    .await;
    Ok(link)
}

/// Validate and replace a library entry (operators).
pub async fn update_link(
    state: &AppState,
    user: &User,
    id: i64,
    input: &LinkInput,
    ip: &str,
) -> Result<Link, AppError> {
    curator(user)?;
    let draft = input.validate()?;
    let link = state.store.update_link(id, &draft, now()).await?;
    record(
        state,
        Some(user),
        "link.update",
        None,
        &link.title,
        serde_json::json!({ "link": link.id, "url": link.url, "tags": link.tags }),
        Some(ip),
    )
    .await;
    Ok(link)
}

/// Delete a library entry (operators).
pub async fn delete_link(state: &AppState, user: &User, id: i64, ip: &str) -> Result<(), AppError> {
    curator(user)?;
    let link = state.store.link(id).await?;
    state.store.delete_link(id).await?;
    record(
        state,
        Some(user),
        "link.delete",
        None,
        &link.title,
        serde_json::json!({ "link": id, "url": link.url }),
        Some(ip),
    )
    .await;
    Ok(())
}

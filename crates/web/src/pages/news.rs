//! `/news` and `/links`: national updates the operators post, and the
//! library of useful links and guidance documents they curate with tags.
//! Every signed-in user reads and searches them; operators see the forms.
//! Bodies are plain text shown escaped, one `<p>` per paragraph.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with, ticked, timestamp};
use crate::AppState;
use crate::actions::news as actions;
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::news::{LinkInput, LinkKind, MAX_TAGS, NewsInput, paragraphs};
use openwarp_store::{Link, LinkFilter, NewsItem, Session};
use serde::Deserialize;

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "posted" => "The news item has been posted.",
        "saved" => "Your changes have been saved.",
        "news_deleted" => "The news item has been deleted.",
        "link_added" => "The link has been added to the library.",
        "link_deleted" => "The link has been removed from the library.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: impl Into<String>,
    current: &'static str,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, current);
    l.notice = notice(code);
    l
}

fn labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => "Title",
        "body" => "Text",
        "source_url" => "Source link",
        "url" => "Link",
        "description" => "Description",
        "tags" => "Tags",
        "kind" => "Kind",
        _ => return None,
    })
}

/// A news item ready for a page.
pub struct NewsView {
    pub id: i64,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub source_url: Option<String>,
    pub published: bool,
    pub when: String,
    pub poster: String,
}

impl From<&NewsItem> for NewsView {
    fn from(n: &NewsItem) -> Self {
        NewsView {
            id: n.id,
            title: n.title.clone(),
            paragraphs: paragraphs(&n.body),
            source_url: n.source_url.clone(),
            published: n.is_published(),
            when: timestamp(n.published_at.unwrap_or(n.created_at)),
            poster: n
                .poster_name
                .clone()
                .unwrap_or_else(|| "(account removed)".into()),
        }
    }
}

/// What a news form sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewsForm {
    title: String,
    body: String,
    source_url: String,
    published: Option<String>,
}

impl NewsForm {
    fn input(&self) -> NewsInput {
        NewsInput {
            title: self.title.clone(),
            body: self.body.clone(),
            source_url: self.source_url.clone(),
            published: ticked(&self.published),
        }
    }

    fn from_item(n: &NewsItem) -> NewsForm {
        NewsForm {
            title: n.title.clone(),
            body: n.body.clone(),
            source_url: n.source_url.clone().unwrap_or_default(),
            published: n.is_published().then(|| "on".into()),
        }
    }
}

#[derive(Template)]
#[template(path = "news.html")]
struct NewsListPage {
    layout: Layout,
    items: Vec<NewsView>,
    is_operator: bool,
    errors: FormErrors,
    form: NewsForm,
}

async fn news_list_page(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
) -> Result<NewsListPage, AppError> {
    let items = actions::list_news(state, &session.user).await?;
    Ok(NewsListPage {
        layout: layout(state, session, "News", "news", code),
        items: items.iter().map(NewsView::from).collect(),
        is_operator: session.user.actor().is_operator(),
        errors: FormErrors::default(),
        form: NewsForm {
            published: Some("on".into()),
            ..NewsForm::default()
        },
    })
}

/// `GET /news`: newest first; operators also see drafts and the form to post.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&news_list_page(&state, &session, q.notice.as_deref()).await?)
}

/// `POST /news`: post a news item (operators).
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<NewsForm>,
) -> Result<Response, AppError> {
    match actions::post_news(&state, &session.user, &form.input(), &ip).await {
        Ok(n) => Ok(Redirect::to(&format!("/news/{}?notice=posted", n.id)).into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = news_list_page(&state, &session, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "news_item.html")]
struct NewsItemPage {
    layout: Layout,
    item: NewsView,
    is_operator: bool,
    errors: FormErrors,
    form: NewsForm,
}

async fn news_item_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<NewsItemPage, AppError> {
    let item = actions::news_item(state, &session.user, id).await?;
    Ok(NewsItemPage {
        layout: layout(state, session, item.title.clone(), "news", code),
        item: NewsView::from(&item),
        is_operator: session.user.actor().is_operator(),
        errors: FormErrors::default(),
        form: NewsForm::from_item(&item),
    })
}

/// `GET /news/{id}`: one item; operators also see the form to edit it.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&news_item_page(&state, &session, id, q.notice.as_deref()).await?)
}

/// `POST /news/{id}`: change a news item (operators).
pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<NewsForm>,
) -> Result<Response, AppError> {
    match actions::update_news(&state, &session.user, id, &form.input(), &ip).await {
        Ok(n) => Ok(Redirect::to(&format!("/news/{}?notice=saved", n.id)).into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = news_item_page(&state, &session, id, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// `POST /news/{id}/delete` (operators).
pub async fn delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    actions::delete_news(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to("/news?notice=news_deleted").into_response())
}

/// What a link form sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    title: String,
    url: String,
    description: String,
    tags: String,
    kind: String,
}

impl LinkForm {
    fn input(&self) -> LinkInput {
        LinkInput {
            title: self.title.clone(),
            url: self.url.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            kind: self.kind.clone(),
        }
    }

    fn from_link(l: &Link) -> LinkForm {
        LinkForm {
            title: l.title.clone(),
            url: l.url.clone(),
            description: l.description.clone(),
            tags: l.tags.join(" "),
            kind: l.kind.as_str().into(),
        }
    }
}

/// A library entry ready for a page.
pub struct LinkView {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub description: String,
    pub tags: Vec<String>,
}

impl From<&Link> for LinkView {
    fn from(l: &Link) -> Self {
        LinkView {
            id: l.id,
            title: l.title.clone(),
            url: l.url.clone(),
            description: l.description.clone(),
            tags: l.tags.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LibraryQuery {
    q: String,
    tag: String,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "links.html")]
struct LibraryPage {
    layout: Layout,
    q: String,
    tag: String,
    tags: Vec<(String, i64)>,
    guidance: Vec<LinkView>,
    links: Vec<LinkView>,
    is_operator: bool,
    errors: FormErrors,
    form: LinkForm,
    kinds: [LinkKind; 2],
    max_tags: usize,
}

async fn library_page(
    state: &AppState,
    session: &Session,
    query: &LibraryQuery,
) -> Result<LibraryPage, AppError> {
    let filter = LinkFilter {
        q: query.q.trim().to_owned(),
        tag: query.tag.trim().to_lowercase(),
    };
    let found = actions::list_links(state, &session.user, &filter).await?;
    let (guidance, links): (Vec<&Link>, Vec<&Link>) =
        found.iter().partition(|l| l.kind == LinkKind::Guidance);
    Ok(LibraryPage {
        layout: layout(
            state,
            session,
            "Useful links",
            "links",
            query.notice.as_deref(),
        ),
        q: filter.q,
        tag: filter.tag,
        tags: actions::tag_counts(state, &session.user).await?,
        guidance: guidance.into_iter().map(LinkView::from).collect(),
        links: links.into_iter().map(LinkView::from).collect(),
        is_operator: session.user.actor().is_operator(),
        errors: FormErrors::default(),
        form: LinkForm::default(),
        kinds: LinkKind::ALL,
        max_tags: MAX_TAGS,
    })
}

/// `GET /links?q=&tag=`: the library, searched and filtered by tag.
pub async fn library(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<LibraryQuery>,
) -> Result<Response, AppError> {
    render(&library_page(&state, &session, &q).await?)
}

/// `POST /links`: add a link (operators).
pub async fn add_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<LinkForm>,
) -> Result<Response, AppError> {
    match actions::add_link(&state, &session.user, &form.input(), &ip).await {
        Ok(_) => Ok(Redirect::to("/links?notice=link_added").into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = library_page(&state, &session, &LibraryQuery::default()).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "link_edit.html")]
struct LinkEditPage {
    layout: Layout,
    id: i64,
    errors: FormErrors,
    form: LinkForm,
    kinds: [LinkKind; 2],
    max_tags: usize,
}

fn link_edit_page(
    state: &AppState,
    session: &Session,
    link: &Link,
    code: Option<&str>,
) -> LinkEditPage {
    LinkEditPage {
        layout: layout(
            state,
            session,
            format!("Edit {}", link.title),
            "links",
            code,
        ),
        id: link.id,
        errors: FormErrors::default(),
        form: LinkForm::from_link(link),
        kinds: LinkKind::ALL,
        max_tags: MAX_TAGS,
    }
}

/// `GET /links/{id}/edit` (operators; members 403).
pub async fn edit_link(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    if !session.user.actor().is_operator() {
        return Err(AppError::Forbidden(
            "only the WARP's operators curate links".into(),
        ));
    }
    let link = actions::link(&state, &session.user, id).await?;
    render(&link_edit_page(
        &state,
        &session,
        &link,
        q.notice.as_deref(),
    ))
}

/// `POST /links/{id}`: change a link (operators).
pub async fn update_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<LinkForm>,
) -> Result<Response, AppError> {
    match actions::update_link(&state, &session.user, id, &form.input(), &ip).await {
        Ok(l) => Ok(Redirect::to(&format!("/links/{}/edit?notice=saved", l.id)).into_response()),
        Err(AppError::Invalid(v)) => {
            let link = actions::link(&state, &session.user, id).await?;
            let mut page = link_edit_page(&state, &session, &link, None);
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

/// `POST /links/{id}/delete` (operators).
pub async fn delete_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    actions::delete_link(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to("/links?notice=link_deleted").into_response())
}

//! `/polls`: ask the group a question or run a poll, answer, and see the
//! results. Results are shown to every signed-in user at any time (the
//! issue: "results visible to members"); the asker and operators may close
//! one early. The opt-in to e-mails about new ones is on the list page.

use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::actions::polls as actions;
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::poll::{Ballot, BallotInput, BallotMode, MAX_OPTIONS, PollInput, PollKind};
use openwarp_store::{Poll, Session, now};
use serde::Deserialize;
use std::collections::BTreeMap;

const CURRENT: &str = "polls";

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "Your question has been put to the group.",
        "answered" => "Thank you: your answer has been recorded.",
        "changed" => "Your answer has been changed.",
        "closed" => "It is closed: no more answers are taken.",
        "notify_on" => "You will be e-mailed about new questions and polls.",
        "notify_off" => "You will no longer be e-mailed about new questions and polls.",
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
        "kind" => "Kind",
        "question" => "Question",
        "details" => "Background",
        "options" => "Options",
        "closes_at" => "Closes on",
        _ => return None,
    })
}

/// A row of the list.
pub struct PollRow {
    pub id: i64,
    pub question: String,
    pub kind: &'static str,
    pub anonymous: bool,
    pub asker: String,
    pub asked: String,
    pub closes: String,
    pub responses: i64,
    pub you_answered: bool,
}

fn asker(p: &Poll) -> String {
    match (&p.asker_name, &p.asker_org) {
        (Some(n), Some(o)) => format!("{n} ({o})"),
        (Some(n), None) => format!("{n} (WARP operator)"),
        _ => "(account removed)".into(),
    }
}

fn closes(p: &Poll) -> String {
    match (p.closed_at, p.closes_at) {
        (Some(t), _) => format!("Closed early {}", timestamp(t)),
        (None, Some(t)) if t <= now() => format!("Closed {}", timestamp(t)),
        (None, Some(t)) => format!("Closes {}", timestamp(t)),
        (None, None) => "No closing date".into(),
    }
}

impl From<&Poll> for PollRow {
    fn from(p: &Poll) -> Self {
        PollRow {
            id: p.id,
            question: p.question.clone(),
            kind: p.kind.label(),
            anonymous: p.anonymous,
            asker: asker(p),
            asked: timestamp(p.created_at),
            closes: closes(p),
            responses: p.responses,
            you_answered: p.you_answered,
        }
    }
}

/// What a create form sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PollForm {
    kind: String,
    question: String,
    details: String,
    /// One option a line.
    options: String,
    closes_at: String,
    anonymous: Option<String>,
}

impl PollForm {
    fn input(&self) -> PollInput {
        PollInput {
            kind: self.kind.clone(),
            question: self.question.clone(),
            details: self.details.clone(),
            options: vec![self.options.clone()],
            closes_at: self.closes_at.clone(),
            anonymous: self.anonymous.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "polls.html")]
struct ListPage {
    layout: Layout,
    open: Vec<PollRow>,
    closed: Vec<PollRow>,
    /// Members only: operators have no organisation to be e-mailed through.
    can_notify: bool,
    notify: bool,
    /// Which form the errors and values below belong to: `question` or `poll`.
    failed: &'static str,
    errors: FormErrors,
    form: PollForm,
    max_options: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    notice: Option<String>,
}

async fn list_page(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
) -> Result<ListPage, AppError> {
    let polls = actions::list(state, &session.user).await?;
    let at = now();
    let (open, closed): (Vec<&Poll>, Vec<&Poll>) = polls.iter().partition(|p| p.is_open(at));
    Ok(ListPage {
        layout: layout(state, session, "Questions and polls", code),
        open: open.into_iter().map(PollRow::from).collect(),
        closed: closed.into_iter().map(PollRow::from).collect(),
        can_notify: session.user.org_id.is_some(),
        notify: state.store.poll_notify(session.user.id).await?,
        failed: "",
        errors: FormErrors::default(),
        form: PollForm::default(),
        max_options: MAX_OPTIONS,
    })
}

/// `GET /polls`: open and closed ones, and the forms to ask.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&list_page(&state, &session, q.notice.as_deref()).await?)
}

/// `POST /polls`: ask the group or run a poll.
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<PollForm>,
) -> Result<Response, AppError> {
    match actions::create(&state, &session.user, &form.input(), &ip).await {
        Ok(p) => Ok(Redirect::to(&format!("/polls/{}?notice=created", p.id)).into_response()),
        Err(AppError::Invalid(v)) => {
            let mut page = list_page(&state, &session, None).await?;
            page.failed = if form.kind == PollKind::Question.as_str() {
                "question"
            } else {
                "poll"
            };
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NotifyForm {
    notify: Option<String>,
}

/// `POST /polls/notify`: the opt-in to e-mails about new ones.
pub async fn set_notify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<NotifyForm>,
) -> Result<Response, AppError> {
    let on = form.notify.is_some();
    actions::set_notify(&state, &session.user, on, &ip).await?;
    let code = if on { "notify_on" } else { "notify_off" };
    Ok(Redirect::to(&format!("/polls?notice={code}")).into_response())
}

/// An option with its result.
pub struct OptionView {
    pub index: usize,
    pub label: String,
    pub count: i64,
    /// Share of the people who answered, in whole per cent.
    pub percent: i64,
    pub chosen: bool,
}

pub struct AnswerView {
    pub who: String,
    pub answer: String,
}

#[derive(Template)]
#[template(path = "poll.html")]
struct DetailPage {
    layout: Layout,
    id: i64,
    question: String,
    details: String,
    kind: &'static str,
    is_question: bool,
    multiple: bool,
    anonymous: bool,
    asker: String,
    asked: String,
    closes: String,
    open: bool,
    responses: i64,
    you_answered: bool,
    /// May answer now: open, and not already answered anonymously.
    may_answer: bool,
    may_close: bool,
    your_answer: String,
    options: Vec<OptionView>,
    answers: Vec<AnswerView>,
    error: Option<String>,
}

async fn detail_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<DetailPage, AppError> {
    let r = actions::results(state, &session.user, id).await?;
    let p = &r.poll;
    let at = now();
    let open = p.is_open(at);
    let chosen: Vec<usize> = match &r.your_ballot {
        Some(Ballot::Choices(c)) => c.clone(),
        _ => Vec::new(),
    };
    let your_answer = match &r.your_ballot {
        Some(Ballot::Answer(a)) => a.clone(),
        _ => String::new(),
    };
    let actor = session.user.actor();
    Ok(DetailPage {
        layout: layout(state, session, p.question.clone(), code),
        id: p.id,
        question: p.question.clone(),
        details: p.details.clone(),
        kind: p.kind.label(),
        is_question: p.kind == PollKind::Question,
        multiple: p.kind == PollKind::Multiple,
        anonymous: p.anonymous,
        asker: asker(p),
        asked: timestamp(p.created_at),
        closes: closes(p),
        open,
        responses: p.responses,
        you_answered: p.you_answered,
        may_answer: open && !(p.anonymous && p.you_answered),
        may_close: open && openwarp_core::poll::may_close(&actor, &p.facts()).is_ok(),
        your_answer,
        options: p
            .options
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let count = r.counts.get(i).copied().unwrap_or(0);
                OptionView {
                    index: i,
                    label: label.clone(),
                    count,
                    percent: if p.responses > 0 {
                        count * 100 / p.responses
                    } else {
                        0
                    },
                    chosen: chosen.contains(&i),
                }
            })
            .collect(),
        answers: r
            .answers
            .iter()
            .map(|a| AnswerView {
                who: match (&a.name, &a.org_name) {
                    (Some(n), Some(o)) => format!("{n} ({o})"),
                    (Some(n), None) => format!("{n} (WARP operator)"),
                    _ => "Anonymous".into(),
                },
                answer: a.answer.clone(),
            })
            .collect(),
        error: None,
    })
}

/// `GET /polls/{id}`: the question, the answer form while open, the results.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&detail_page(&state, &session, id, q.notice.as_deref()).await?)
}

/// Read a ballot from the form: `answer` for a question; `choice` (a radio
/// button's option number) and/or `choice_N` checkboxes for a poll.
fn ballot_from_form(form: &BTreeMap<String, String>) -> Result<BallotInput, AppError> {
    if let Some(a) = form.get("answer") {
        return Ok(BallotInput::Answer(a.clone()));
    }
    let mut choices = Vec::new();
    for (k, v) in form {
        let raw = if k == "choice" {
            v.as_str()
        } else if let Some(n) = k.strip_prefix("choice_") {
            n
        } else {
            continue;
        };
        let n: usize = raw
            .trim()
            .parse()
            .map_err(|_| AppError::Unprocessable(format!("'{raw}' is not an option number")))?;
        choices.push(n);
    }
    Ok(BallotInput::Choices(choices))
}

/// `POST /polls/{id}/ballot`: answer or vote.
pub async fn vote(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let result = match ballot_from_form(&form) {
        Ok(ballot) => actions::vote(&state, &session.user, id, ballot, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(BallotMode::First) => {
            Ok(Redirect::to(&format!("/polls/{id}?notice=answered")).into_response())
        }
        Ok(BallotMode::Replace) => {
            Ok(Redirect::to(&format!("/polls/{id}?notice=changed")).into_response())
        }
        Err(e @ (AppError::Conflict(_) | AppError::Unprocessable(_) | AppError::Invalid(_))) => {
            let status = e.status();
            let mut page = detail_page(&state, &session, id, None).await?;
            page.error = Some(e.to_string());
            render_with(status, &page)
        }
        Err(e) => Err(e),
    }
}

/// `POST /polls/{id}/close`: close early (the asker or an operator).
pub async fn close(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    actions::close(&state, &session.user, id, &ip).await?;
    Ok(Redirect::to(&format!("/polls/{id}?notice=closed")).into_response())
}

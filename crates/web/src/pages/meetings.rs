//! Members' meetings: the list (upcoming and the archive with outlines),
//! a meeting's page (agenda, RSVP, minutes behind a TLP banner, outline, and
//! the operators' forms), the calendar export, and the public outline pages
//! that need no sign-in.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with, timestamp};
use crate::AppState;
use crate::actions::meetings as actions;
use crate::auth::{ClientIp, MaybeSignedIn, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::meeting::{
    self, AgendaItemInput, MeetingDraft, MeetingInput, MinutesInput, PresenterKind, RsvpAnswer,
};
use openwarp_core::{Role, TlpLabel, UserId};
use openwarp_store::{AgendaItem, Attendee, Meeting, Rsvp, Session, now};
use serde::Deserialize;
use std::collections::HashMap;

const CURRENT: &str = "meetings";

fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "created" => "The meeting has been scheduled. Add its agenda below.",
        "updated" => "The changes have been saved.",
        "rsvp" => "Your answer has been saved.",
        "agenda" => "The agenda has been updated.",
        "minutes" => "The minutes have been saved.",
        "outline" => "The outline of discussions has been saved.",
        "attendance" => "Attendance has been recorded.",
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
        "title" => "Title",
        "starts_at" => "Starts",
        "ends_at" => "Ends",
        "venue" => "Venue",
        "online_url" => "Online link",
        "capacity" => "Places",
        "description" => "Description",
        "speaker" => "Speaker",
        "organisation" => "Organisation",
        "presenter" => "Presenter",
        "position" => "Position",
        "text" => "Minutes",
        "tlp" => "TLP label",
        "topics" => "Topics",
        "answer" => "Answer",
        _ => return None,
    })
}

fn tlp_class(t: TlpLabel) -> String {
    format!("tlp tlp-{}", t.as_str().replace('_', "-"))
}

/// A meeting ready for a template.
pub struct MeetingView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub when: String,
    pub ends: String,
    pub venue: String,
    pub online_url: String,
    pub going: i64,
    pub capacity: String,
    pub places_left: String,
    pub full: bool,
    pub started: bool,
    pub topics: Vec<String>,
}

impl From<&Meeting> for MeetingView {
    fn from(m: &Meeting) -> Self {
        MeetingView {
            id: m.id,
            title: m.title.clone(),
            description: m.description.clone(),
            when: m.starts_at.format("%A %-d %B %Y, %H:%M UTC").to_string(),
            ends: m.ends_at.format("%-d %B %Y %H:%M UTC").to_string(),
            venue: m.venue.clone().unwrap_or_default(),
            online_url: m.online_url.clone().unwrap_or_default(),
            going: m.going,
            capacity: m.capacity.map(|c| c.to_string()).unwrap_or_default(),
            places_left: m.places_left().map(|c| c.to_string()).unwrap_or_default(),
            full: m.places_left() == Some(0),
            started: now() >= m.starts_at,
            topics: m.topics.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "meetings.html")]
struct ListPage {
    layout: Layout,
    is_operator: bool,
    upcoming: Vec<MeetingView>,
    archive: Vec<MeetingView>,
    feed: String,
}

/// `/meetings`: upcoming meetings and the archive with outlines.
pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    meeting::can_view(&session.user.actor())?;
    let t = now();
    let upcoming = state.store.list_meetings(false, t, 100).await?;
    let archive = state.store.list_meetings(true, t, 100).await?;
    let feed = format!(
        "{}{}",
        state.config.public_url,
        actions::feed_path(&state, session.user.id).await?
    );
    render(&ListPage {
        layout: layout(&state, &session, "Meetings", q.notice.as_deref()),
        is_operator: session.user.role == Role::Operator,
        upcoming: upcoming.iter().map(MeetingView::from).collect(),
        archive: archive.iter().map(MeetingView::from).collect(),
        feed,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MeetingForm {
    title: String,
    starts_at: String,
    ends_at: String,
    venue: String,
    online_url: String,
    capacity: String,
    description: String,
}

impl MeetingForm {
    fn input(&self) -> MeetingInput {
        MeetingInput {
            title: self.title.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            venue: self.venue.clone(),
            online_url: self.online_url.clone(),
            capacity: self.capacity.clone(),
            description: self.description.clone(),
        }
    }
}

fn form_of(m: &Meeting) -> MeetingForm {
    MeetingForm {
        title: m.title.clone(),
        starts_at: m.starts_at.format("%Y-%m-%dT%H:%M").to_string(),
        ends_at: m.ends_at.format("%Y-%m-%dT%H:%M").to_string(),
        venue: m.venue.clone().unwrap_or_default(),
        online_url: m.online_url.clone().unwrap_or_default(),
        capacity: m.capacity.map(|c| c.to_string()).unwrap_or_default(),
        description: m.description.clone(),
    }
}

#[derive(Template)]
#[template(path = "meeting_form.html")]
struct FormPage {
    layout: Layout,
    target: String,
    cancel: String,
    errors: FormErrors,
    form: MeetingForm,
}

fn form_page(
    state: &AppState,
    session: &Session,
    title: &str,
    target: String,
    cancel: String,
    form: MeetingForm,
) -> FormPage {
    FormPage {
        layout: layout(state, session, title, None),
        target,
        cancel,
        errors: FormErrors::default(),
        form,
    }
}

fn with_problems(
    mut page: FormPage,
    err: AppError,
    form: MeetingForm,
) -> Result<Response, AppError> {
    match err {
        AppError::Invalid(v) => {
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        other => Err(other),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    render(&form_page(
        &state,
        &session,
        "Schedule a meeting",
        "/meetings".into(),
        "/meetings".into(),
        MeetingForm::default(),
    ))
}

fn validate(form: &MeetingForm) -> Result<MeetingDraft, AppError> {
    form.input().validate().map_err(AppError::Invalid)
}

pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<MeetingForm>,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    let result = match validate(&form) {
        Ok(d) => actions::create(&state, &session.user, &d, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(Redirect::to(&format!("/meetings/{}?notice=created", m.id)).into_response()),
        Err(e) => with_problems(
            form_page(
                &state,
                &session,
                "Schedule a meeting",
                "/meetings".into(),
                "/meetings".into(),
                MeetingForm::default(),
            ),
            e,
            form,
        ),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    let m = state.store.meeting(id).await?;
    render(&form_page(
        &state,
        &session,
        &format!("Edit: {}", m.title),
        format!("/meetings/{id}/edit"),
        format!("/meetings/{id}"),
        form_of(&m),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<MeetingForm>,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    let m = state.store.meeting(id).await?;
    let result = match validate(&form) {
        Ok(d) => actions::update(&state, &session.user, id, &d, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}?notice=updated")).into_response()),
        Err(e) => with_problems(
            form_page(
                &state,
                &session,
                &format!("Edit: {}", m.title),
                format!("/meetings/{id}/edit"),
                format!("/meetings/{id}"),
                form_of(&m),
            ),
            e,
            form,
        ),
    }
}

/// An agenda item ready for the page.
pub struct AgendaView {
    pub id: i64,
    pub title: String,
    pub speaker: String,
    pub organisation: String,
    pub guest: &'static str,
}

impl From<&AgendaItem> for AgendaView {
    fn from(i: &AgendaItem) -> Self {
        AgendaView {
            id: i.id,
            title: i.title.clone(),
            speaker: i.speaker.clone().unwrap_or_default(),
            organisation: i.organisation.clone().unwrap_or_default(),
            guest: match i.presenter {
                PresenterKind::Member => "",
                k => k.label(),
            },
        }
    }
}

pub struct MinutesView {
    pub text: String,
    pub tlp: &'static str,
    pub tlp_class: String,
    pub tlp_meaning: &'static str,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct ShowPage {
    layout: Layout,
    is_operator: bool,
    m: MeetingView,
    agenda: Vec<AgendaView>,
    my_answer: String,
    answers: Vec<(&'static str, &'static str)>,
    /// A member lead may answer for their organisation's users: (id, name, answer).
    my_org_users: Vec<(i64, String, String)>,
    minutes: Option<MinutesView>,
    rsvps: Vec<Rsvp>,
    attendance: Vec<Attendee>,
    /// Operators' attendance form: (user id, "name, organisation", ticked).
    people: Vec<(i64, String, bool)>,
    presenters: Vec<(&'static str, &'static str)>,
    tlps: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    topics_text: String,
}

async fn show_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<ShowPage, AppError> {
    let actor = session.user.actor();
    meeting::can_view(&actor)?;
    let m = state.store.meeting(id).await?;
    let agenda = state.store.agenda(id).await?;
    let minutes = state.store.meeting_minutes(id).await?.map(|x| MinutesView {
        text: x.text,
        tlp: x.tlp.label(),
        tlp_class: tlp_class(x.tlp),
        tlp_meaning: x.tlp.meaning(),
        updated: timestamp(x.updated_at),
    });
    let rsvps = state.store.meeting_rsvps(id).await?;
    let my_answer = rsvps
        .iter()
        .find(|r| r.user_id == session.user.id)
        .map(|r| r.answer.as_str().to_string())
        .unwrap_or_default();
    let is_operator = actor.is_operator();
    let lead = session.user.role == Role::MemberLead;
    let mut my_org_users = Vec::new();
    if let (true, Some(org)) = (lead, session.user.org_id) {
        for u in state.store.list_users(Some(org)).await? {
            if u.id == session.user.id || u.disabled {
                continue;
            }
            let answer = rsvps
                .iter()
                .find(|r| r.user_id == u.id)
                .map(|r| r.answer.as_str().to_string())
                .unwrap_or_default();
            my_org_users.push((u.id.0, u.display_name, answer));
        }
    }
    let attendance = state.store.meeting_attendance(id).await?;
    let people = if is_operator {
        state
            .store
            .member_users_for_attendance()
            .await?
            .into_iter()
            .map(|p| {
                let ticked = attendance.iter().any(|a| a.user_id == p.user_id)
                    || (attendance.is_empty()
                        && rsvps
                            .iter()
                            .any(|r| r.user_id.0 == p.user_id && r.answer == RsvpAnswer::Yes));
                let name = match p.org_name {
                    Some(o) => format!("{}, {o}", p.display_name),
                    None => p.display_name,
                };
                (p.user_id, name, ticked)
            })
            .collect()
    } else {
        Vec::new()
    };
    // Members see who is coming from their own organisation; operators everyone.
    let rsvps = if is_operator {
        rsvps
    } else {
        rsvps
            .into_iter()
            .filter(|r| r.org_id.is_some() && r.org_id == session.user.org_id)
            .collect()
    };
    let topics_text = m.topics.join("\n");
    Ok(ShowPage {
        layout: layout(state, session, m.title.clone(), code),
        is_operator,
        m: MeetingView::from(&m),
        agenda: agenda.iter().map(AgendaView::from).collect(),
        my_answer,
        answers: RsvpAnswer::ALL
            .iter()
            .map(|a| (a.as_str(), a.label()))
            .collect(),
        my_org_users,
        minutes,
        rsvps,
        attendance: if is_operator { attendance } else { Vec::new() },
        people,
        presenters: PresenterKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        tlps: TlpLabel::ALL
            .iter()
            .filter(|t| **t != TlpLabel::Red)
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        errors: FormErrors::default(),
        topics_text,
    })
}

fn ics_response(body: String, file: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `/meetings/{id}` (and `/meetings/{id}.ics`, the meeting as iCalendar).
pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    if let Some(n) = id.strip_suffix(".ics") {
        let id: i64 = n.parse().map_err(|_| AppError::NotFound("meeting"))?;
        meeting::can_view(&session.user.actor())?;
        let body = actions::meeting_ics(&state, id).await?;
        return Ok(ics_response(body, &format!("meeting-{id}.ics")));
    }
    let id: i64 = id.parse().map_err(|_| AppError::NotFound("meeting"))?;
    render(&show_page(&state, &session, id, q.notice.as_deref()).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeedQuery {
    u: String,
    s: String,
}

/// `/meetings.ics`: upcoming meetings, for a signed-in member or a calendar
/// app holding the member's signed feed link.
pub async fn feed(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let user = match session {
        Some(s) if q.u.is_empty() => s.user,
        _ => actions::feed_user(&state, &q.u, &q.s).await?,
    };
    meeting::can_view(&user.actor())?;
    Ok(ics_response(
        actions::feed_ics(&state).await?,
        "meetings.ics",
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RsvpForm {
    answer: String,
    /// Another user of the lead's organisation; empty for oneself.
    user: String,
}

pub async fn rsvp(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<RsvpForm>,
) -> Result<Response, AppError> {
    let user = match form.user.trim() {
        "" => None,
        u => Some(UserId(u.parse().map_err(|_| AppError::NotFound("user"))?)),
    };
    match actions::rsvp(&state, &session.user, id, user, &form.answer, &ip).await {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}?notice=rsvp")).into_response()),
        Err(AppError::Conflict(msg)) => {
            let mut page = show_page(&state, &session, id, None).await?;
            page.errors = FormErrors::one("answer", msg);
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(AppError::Invalid(v)) => {
            let mut page = show_page(&state, &session, id, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

async fn problems(
    state: &AppState,
    session: &Session,
    id: i64,
    e: AppError,
) -> Result<Response, AppError> {
    match e {
        AppError::Invalid(v) => {
            let mut page = show_page(state, session, id, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        other => Err(other),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AgendaForm {
    title: String,
    speaker: String,
    organisation: String,
    presenter: String,
    position: String,
}

pub async fn add_agenda_item(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<AgendaForm>,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    let input = AgendaItemInput {
        title: form.title,
        speaker: form.speaker,
        organisation: form.organisation,
        presenter: form.presenter,
        position: form.position,
    };
    let result = match input.validate() {
        Ok(d) => actions::add_agenda_item(&state, &session.user, id, &d, &ip).await,
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/meetings/{id}?notice=agenda#agenda")).into_response()),
        Err(e) => problems(&state, &session, id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

pub async fn delete_agenda_item(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((id, item)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<Empty>,
) -> Result<Response, AppError> {
    actions::delete_agenda_item(&state, &session.user, id, item, &ip).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?notice=agenda#agenda")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MinutesForm {
    text: String,
    tlp: String,
}

pub async fn minutes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<MinutesForm>,
) -> Result<Response, AppError> {
    meeting::can_manage(&session.user.actor())?;
    let input = MinutesInput {
        text: form.text,
        tlp: form.tlp,
    };
    let result = match input.validate() {
        Ok(d) => actions::set_minutes(&state, &session.user, id, &d, &ip)
            .await
            .map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/meetings/{id}?notice=minutes#minutes")).into_response())
        }
        Err(e) => problems(&state, &session, id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OutlineForm {
    topics: String,
}

pub async fn outline(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<OutlineForm>,
) -> Result<Response, AppError> {
    match actions::set_outline(&state, &session.user, id, &form.topics, &ip).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/meetings/{id}?notice=outline#outline")).into_response())
        }
        Err(e) => problems(&state, &session, id, e).await,
    }
}

/// Attendance: one checkbox `attended_{user id}` per person.
pub async fn attendance(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let users: Vec<UserId> = form
        .keys()
        .filter_map(|k| k.strip_prefix("attended_"))
        .filter_map(|n| n.parse().ok())
        .map(UserId)
        .collect();
    actions::record_attendance(&state, &session.user, id, &users, &ip).await?;
    Ok(Redirect::to(&format!("/meetings/{id}?notice=attendance#attendance")).into_response())
}

#[derive(Template)]
#[template(path = "meeting_outlines.html")]
struct OutlinesPage {
    layout: Layout,
    heading: String,
    meetings: Vec<MeetingView>,
    single: bool,
}

fn public_layout(state: &AppState, session: &Option<Session>, title: &str) -> Layout {
    match session {
        Some(s) => Layout::signed_in(state, s, title, CURRENT),
        None => Layout::anonymous(state, title, String::new()),
    }
}

/// `/meetings/outlines`: the public archive of outlines of discussions.
pub async fn public_outlines(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
) -> Result<Response, AppError> {
    let meetings = state.store.list_meetings(true, now(), 200).await?;
    render(&OutlinesPage {
        layout: public_layout(&state, &session, "Outlines of discussions"),
        heading: "Outlines of discussions".into(),
        meetings: meetings
            .iter()
            .filter(|m| !m.topics.is_empty())
            .map(MeetingView::from)
            .collect(),
        single: false,
    })
}

/// `/meetings/{id}/outline`: one meeting's outline, public once written.
pub async fn public_outline(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    // Only published outlines are public: an upcoming meeting's details
    // (where, when) stay with the members until there is an outline.
    let m = state.store.meeting(id).await?;
    if m.topics.is_empty() {
        return Err(AppError::NotFound("outline"));
    }
    render(&OutlinesPage {
        layout: public_layout(&state, &session, &m.title),
        heading: m.title.clone(),
        meetings: vec![MeetingView::from(&m)],
        single: true,
    })
}

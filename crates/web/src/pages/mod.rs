//! Server-rendered pages. Each submodule owns one area of the UI; every page
//! struct carries a [`Layout`] used by `templates/base.html`.

pub mod account;
pub mod advisories;
pub mod alerts;
// Assessments (issue 8)
pub mod assessments;
// End of assessments (issue 8)
pub mod dashboard;
pub mod discussion;
pub mod exposure;
// Federation (issue 9)
pub mod federation;
// End of federation (issue 9)
pub mod incidents;
pub mod inventory;
pub mod meetings;
pub mod mfa;
pub mod news;
pub mod operator;
pub mod orgs;
pub mod polls;
pub mod session;
pub mod suppliers;
pub mod warp_advisories;

use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::{Role, ValidationErrors};
use openwarp_store::{Organisation, Session, User};

/// What `base.html` needs: site name, who is signed in, the CSRF token.
pub struct Layout {
    pub warp_name: String,
    pub warp_region: String,
    pub title: String,
    pub nav: Option<Nav>,
    pub csrf: String,
    pub notice: Option<&'static str>,
}

pub struct Nav {
    pub display_name: String,
    pub role_label: &'static str,
    pub is_operator: bool,
    /// Which menu entry is the current page.
    pub current: &'static str,
}

impl Layout {
    /// Layout for a signed-in page.
    pub fn signed_in(
        state: &AppState,
        session: &Session,
        title: impl Into<String>,
        current: &'static str,
    ) -> Layout {
        Layout {
            warp_name: state.config.warp_name.clone(),
            warp_region: state.config.warp_region.clone(),
            title: title.into(),
            nav: Some(Nav {
                display_name: session.user.display_name.clone(),
                role_label: session.user.role.label(),
                is_operator: session.user.role == Role::Operator,
                current,
            }),
            csrf: session.csrf_token.clone(),
            notice: None,
        }
    }

    /// Layout for a page shown before sign-in; `csrf` is the pre-session token.
    pub fn anonymous(state: &AppState, title: impl Into<String>, csrf: String) -> Layout {
        Layout {
            warp_name: state.config.warp_name.clone(),
            warp_region: state.config.warp_region.clone(),
            title: title.into(),
            nav: None,
            csrf,
            notice: None,
        }
    }

    pub fn with_notice(mut self, code: Option<&str>) -> Layout {
        self.notice = code.and_then(notice_text);
        self
    }
}

/// Messages shown after a redirect (`?notice=code`). Only fixed texts, so a
/// crafted link cannot put words on our pages.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "org_created" => "The organisation has been added.",
        "org_updated" => "The changes have been saved.",
        "user_disabled" => "The user has been disabled and signed out everywhere.",
        "user_enabled" => "The user has been enabled.",
        "invitation_revoked" => "The invitation has been withdrawn.",
        "password_changed" => {
            "Your password has been changed. Other sessions have been signed out."
        }
        "password_set" => "Your password has been set. You can now sign in.",
        "welcome" => "Your account has been created. Welcome!",
        "token_revoked" => "The token has been revoked.",
        "signed_out" => "You have signed out.",
        "signed_out_everywhere" => "You have been signed out everywhere, on every device.",
        "mfa_enabled" => {
            "Your second factor is set up. Keep the recovery codes below somewhere safe."
        }
        "role_changed" => "The role has been changed; that person signs in again to use it.",
        "mfa_disabled" => "Your second factor has been turned off.",
        "mfa_reset" => {
            "The second factor has been removed and the user signed out; they set up a new one at their next sign-in if one is required."
        }
        "recovery_codes_low" => {
            "You signed in with a recovery code and have few left: make new ones below."
        }
        "item_added" => {
            "The item has been added to the inventory and checked against every advisory."
        }
        "item_updated" => "The item has been saved and checked again against every advisory.",
        "item_deleted" => "The item and its exposures have been removed.",
        "supplier_added" => "The supplier has been added.",
        "supplier_updated" => "The supplier has been saved.",
        "supplier_deleted" => "The supplier has been removed.",
        "status_saved" => "The status has been saved.",
        _ => return None,
    })
}

/// Form errors ready for templates: each with a human label for the summary.
#[derive(Default)]
pub struct FormErrors {
    pub items: Vec<FormErrorItem>,
}

pub struct FormErrorItem {
    pub field: &'static str,
    pub label: &'static str,
    pub message: String,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.items.iter().any(|e| e.field == field)
    }

    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn one(field: &'static str, message: impl Into<String>) -> FormErrors {
        let mut v = ValidationErrors::new();
        v.add(field, message);
        v.into()
    }

    /// Errors of a form whose fields need their own labels (an item's
    /// "name" is not an organisation's); other fields keep the usual ones.
    pub fn labelled(v: ValidationErrors, labels: fn(&str) -> Option<&'static str>) -> FormErrors {
        FormErrors {
            items: v
                .0
                .into_iter()
                .map(|e| FormErrorItem {
                    field: e.field,
                    label: labels(e.field).unwrap_or_else(|| field_label(e.field)),
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// "1 item", "2 items".
pub fn count(n: impl std::borrow::Borrow<usize>, one: &str, many: &str) -> String {
    let n = *n.borrow();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A ticked HTML checkbox (absent when not ticked).
pub fn ticked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty())
}

impl From<ValidationErrors> for FormErrors {
    fn from(v: ValidationErrors) -> Self {
        FormErrors {
            items: v
                .0
                .into_iter()
                .map(|e| FormErrorItem {
                    field: e.field,
                    label: field_label(e.field),
                    message: e.message,
                })
                .collect(),
        }
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "name" => "Organisation name",
        "council_type" => "Type of organisation",
        "status" => "Membership status",
        "renewal_date" => "Renewal date",
        "senior_officer_name" => "Senior officer's name",
        "senior_officer_email" => "Senior officer's e-mail",
        "senior_officer_phone" => "Senior officer's telephone",
        "lead_member_name" => "Lead member's name",
        "lead_member_email" => "Lead member's e-mail",
        "lead_member_phone" => "Lead member's telephone",
        "email" => "E-mail address",
        "password" => "Password",
        "password_confirm" => "Password again",
        "current_password" => "Current password",
        "display_name" => "Your name",
        "role" => "Role",
        "token_name" => "Token name",
        "code" | "disable_code" | "codes_code" => "Code",
        _ => "Field",
    }
}

/// Render a template into an HTML response with `status`.
pub fn render_with(status: StatusCode, t: &impl Template) -> Result<Response, AppError> {
    Ok((status, Html(t.render()?)).into_response())
}

pub fn render(t: &impl Template) -> Result<Response, AppError> {
    render_with(StatusCode::OK, t)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

/// The HTML page for an error. Used by `impl IntoResponse for AppError`.
pub fn render_error(e: &AppError) -> Response {
    let status = e.status();
    let heading = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "You cannot do that",
        StatusCode::UNAUTHORIZED => "Please sign in",
        StatusCode::CONFLICT => "That clashes with something that already exists",
        StatusCode::GONE => "That link can no longer be used",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::PAYLOAD_TOO_LARGE => "That was too large",
        s if s.is_client_error() => "There is a problem with the request",
        _ => "Sorry, there is a problem with the service",
    };
    let page = ErrorPage {
        layout: Layout {
            warp_name: "openwarp".into(),
            warp_region: String::new(),
            title: heading.into(),
            nav: None,
            csrf: String::new(),
            notice: None,
        },
        heading,
        message: match e {
            AppError::NotFound(what) => {
                format!("The {what} you asked for does not exist, or you cannot see it.")
            }
            other => other.to_string(),
        },
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, e.to_string()).into_response(),
    }
}

/// The stylesheet, compiled into the binary (no CDN, works offline).
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

/// A row of the organisation tables, with everything formatted for display.
pub struct OrgSummary {
    pub id: i64,
    pub name: String,
    pub type_label: &'static str,
    pub employers_member: bool,
    pub status: &'static str,
    pub fee: String,
    pub renewal_date: String,
    pub renewal_note: String,
    pub attention: bool,
    pub users: i64,
}

impl OrgSummary {
    pub fn new(state: &AppState, o: &Organisation, today: NaiveDate, users: i64) -> OrgSummary {
        let renewal = openwarp_core::RenewalState::of(o.renewal_date, today);
        OrgSummary {
            id: o.id.0,
            name: o.name.clone(),
            type_label: o.council_type.label(),
            employers_member: o.employers_member,
            status: o.status.label(),
            fee: o.annual_fee(&state.config.fees).to_string(),
            renewal_date: date(o.renewal_date),
            renewal_note: renewal.describe(),
            attention: renewal.needs_attention() && o.status.is_billable(),
            users,
        }
    }
}

/// A user row for the user tables.
pub struct UserRowView {
    pub id: i64,
    pub display_name: String,
    pub email: String,
    pub role: &'static str,
    pub disabled: bool,
    pub last_login: String,
    pub is_self: bool,
}

impl UserRowView {
    pub fn new(u: &User, me: &User) -> UserRowView {
        UserRowView {
            id: u.id.0,
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role.label(),
            disabled: u.disabled,
            last_login: u.last_login_at.map_or_else(|| "Never".into(), timestamp),
            is_self: u.id == me.id,
        }
    }
}

/// `1 April 2027`
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// `23 Nov 2026 09:30 UTC`
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y %H:%M UTC").to_string()
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// `path` with the current query string, its `page` replaced: the filters
/// stay as they were (paged lists' previous and next links).
pub(crate) fn page_link(path: &str, raw: Option<&str>, page: i64) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "page")
        .collect();
    pairs.push(("page".into(), page.to_string()));
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// A paged list's `page` parameter: 1-based, empty means 1; anything else
/// that is not a page number means page 1 and a problem to show.
pub(crate) fn page_number(raw: &str, problems: &mut Vec<String>) -> i64 {
    match raw.trim() {
        "" => 1,
        s => match s.parse::<i64>() {
            Ok(n) if (1..=100_000).contains(&n) => n,
            _ => {
                problems.push(format!("page: '{s}' is not a page number"));
                1
            }
        },
    }
}

//! A member's suppliers and shared services, and for operators, which
//! members share a supplier (so one warning reaches everyone it affects).
//! Members see only their own list.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with};
use crate::AppState;
use crate::actions;
use crate::actions::suppliers::{self, SupplierInput};
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::{OrgId, SupplierKind, ValidationErrors};
use openwarp_store::{Organisation, Session, Supplier};
use serde::Deserialize;

fn supplier_labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "Supplier name",
        "kind" => "Kind of supplier",
        "services" => "What they provide",
        "contact" => "Contact",
        "notes" => "Notes",
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SupplierForm {
    name: String,
    kind: String,
    services: String,
    contact: String,
    notes: String,
}

impl From<SupplierForm> for SupplierInput {
    fn from(f: SupplierForm) -> Self {
        SupplierInput {
            name: f.name,
            kind: f.kind,
            services: f.services,
            contact: f.contact,
            notes: f.notes,
        }
    }
}

pub struct SupplierRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub services: String,
    pub contact: String,
    pub notes: String,
    /// Operators only: how many members list a supplier of this name.
    pub shared_by: usize,
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    SupplierKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect()
}

fn current(session: &Session) -> &'static str {
    if session.user.org_id.is_some() {
        "org"
    } else {
        "orgs"
    }
}

#[derive(Template)]
#[template(path = "suppliers.html")]
struct SuppliersPage {
    layout: Layout,
    org: Organisation,
    is_operator: bool,
    can_edit: bool,
    suppliers: Vec<SupplierRow>,
    errors: FormErrors,
    form: SupplierInput,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn suppliers_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    notice: Option<&str>,
) -> Result<SuppliersPage, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let mut suppliers = Vec::new();
    for s in state.store.list_suppliers(org.id).await? {
        // Who else uses it is for operators' eyes only.
        let shared_by = if actor.is_operator() {
            state
                .store
                .members_using_supplier(&s.draft.name)
                .await?
                .len()
        } else {
            0
        };
        suppliers.push(SupplierRow {
            id: s.id,
            kind: s.draft.kind.label(),
            services: s.draft.services.unwrap_or_default(),
            contact: s.draft.contact.unwrap_or_default(),
            notes: s.draft.notes.unwrap_or_default(),
            name: s.draft.name,
            shared_by,
        });
    }
    Ok(SuppliersPage {
        layout: Layout::signed_in(
            state,
            session,
            format!("Suppliers of {}", org.name),
            current(session),
        )
        .with_notice(notice),
        is_operator: actor.is_operator(),
        can_edit: actor.can_edit_member_records(org.id).is_ok(),
        org,
        suppliers,
        errors: FormErrors::default(),
        form: SupplierInput {
            kind: SupplierKind::ItProvider.as_str().into(),
            ..SupplierInput::default()
        },
        kinds: kinds(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&suppliers_page(&state, &session, OrgId(id), q.notice.as_deref()).await?)
}

/// 422 for invalid fields; 409, shown at the name, for a supplier already listed.
fn supplier_problems(err: AppError) -> Result<(StatusCode, FormErrors), AppError> {
    match err {
        AppError::Invalid(v) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::labelled(v, supplier_labels),
        )),
        AppError::Conflict(m) => {
            let mut v = ValidationErrors::new();
            v.add("name", m);
            Ok((
                StatusCode::CONFLICT,
                FormErrors::labelled(v, supplier_labels),
            ))
        }
        other => Err(other),
    }
}

pub async fn add(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<SupplierForm>,
) -> Result<Response, AppError> {
    let org = OrgId(id);
    actions::require_record_editor(&session.user.actor(), org)?;
    let input = SupplierInput::from(form);
    let result = match input.validate() {
        Ok(draft) => suppliers::add_supplier(&state, &session.user, org, &draft, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/orgs/{org}/suppliers?notice=supplier_added")).into_response(),
        ),
        Err(e) => {
            let (status, errors) = supplier_problems(e)?;
            let mut page = suppliers_page(&state, &session, org, None).await?;
            page.errors = errors;
            page.form = input;
            render_with(status, &page)
        }
    }
}

#[derive(Template)]
#[template(path = "supplier_form.html")]
struct SupplierPage {
    layout: Layout,
    org: Organisation,
    supplier_id: i64,
    errors: FormErrors,
    form: SupplierInput,
    kinds: Vec<(&'static str, &'static str)>,
}

async fn supplier_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: i64,
) -> Result<(SupplierPage, Supplier), AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let supplier = suppliers::supplier(state, org.id, id).await?;
    // Operators read the list; only the member's own users edit it.
    actor.can_edit_member_records(org.id)?;
    let page = SupplierPage {
        layout: Layout::signed_in(
            state,
            session,
            format!("Edit {}", supplier.draft.name),
            current(session),
        ),
        org,
        supplier_id: id,
        errors: FormErrors::default(),
        form: SupplierInput::from(&supplier.draft),
        kinds: kinds(),
    };
    Ok((page, supplier))
}

pub async fn edit_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    render(&supplier_page(&state, &session, OrgId(org), id).await?.0)
}

pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, id)): Path<(i64, i64)>,
    SessionForm { session, form }: SessionForm<SupplierForm>,
) -> Result<Response, AppError> {
    let org = OrgId(org);
    actions::require_record_editor(&session.user.actor(), org)?;
    let input = SupplierInput::from(form);
    let result = match input.validate() {
        Ok(draft) => suppliers::update_supplier(&state, &session.user, org, id, &draft, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/orgs/{org}/suppliers?notice=supplier_updated")).into_response(),
        ),
        Err(e) => {
            let (status, errors) = supplier_problems(e)?;
            let (mut page, _) = supplier_page(&state, &session, org, id).await?;
            page.errors = errors;
            page.form = input;
            render_with(status, &page)
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, id)): Path<(i64, i64)>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    let org = OrgId(org);
    suppliers::delete_supplier(&state, &session.user, org, id, &ip).await?;
    Ok(Redirect::to(&format!("/orgs/{org}/suppliers?notice=supplier_deleted")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SharedQuery {
    name: String,
}

pub struct SharedRow {
    pub org_id: i64,
    pub org_name: String,
    pub listed_as: String,
    pub kind: &'static str,
    pub services: String,
    pub contact: String,
}

#[derive(Template)]
#[template(path = "supplier_members.html")]
struct SharedPage {
    layout: Layout,
    name: String,
    rows: Vec<SharedRow>,
}

/// `/suppliers?name=`: operators see every member that lists a supplier;
/// members are sent to their own list.
pub async fn shared(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<SharedQuery>,
) -> Result<Response, AppError> {
    if let Some(org) = session.user.org_id {
        return Ok(Redirect::to(&format!("/orgs/{org}/suppliers")).into_response());
    }
    session.user.actor().require_operator()?;
    let name = q.name.trim().chars().take(200).collect::<String>();
    let rows = if name.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .members_using_supplier(&name)
            .await?
            .into_iter()
            .map(|u| SharedRow {
                org_id: u.org_id.0,
                org_name: u.org_name,
                listed_as: u.supplier.draft.name,
                kind: u.supplier.draft.kind.label(),
                services: u.supplier.draft.services.unwrap_or_default(),
                contact: u.supplier.draft.contact.unwrap_or_default(),
            })
            .collect()
    };
    render(&SharedPage {
        layout: Layout::signed_in(&state, &session, "Shared suppliers", "suppliers"),
        name,
        rows,
    })
}

//! A member's inventory: the list of what they run, adding and editing items,
//! finding an item's CPE name, importing CSV files and CycloneDX SBOMs, and
//! exporting CSV. Operators see any member's inventory, read-only.

use super::dashboard::NoticeQuery;
use super::exposure::ExposureRow;
use super::{FormErrors, Layout, render, render_with, ticked, timestamp};
use crate::AppState;
use crate::actions;
use crate::actions::inventory::{
    self, ImportFormat, ImportReport, ItemInput, MAX_UPLOAD_MB, csv_download_headers,
};
use crate::auth::{ClientIp, SessionForm, SessionUpload, SignedIn};
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::{OrgId, ValidationErrors};
use openwarp_store::{ExposureFilter, Organisation, Session};
use serde::Deserialize;

/// Labels for the error summary of the item form.
fn item_labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "Name",
        "vendor" => "Vendor",
        "product" => "Product",
        "version" => "Version",
        "cpe" => "CPE 2.3 name",
        "purl" => "Package URL",
        "owner" => "Owner",
        "notes" => "Notes",
        "file" => "File",
        _ => return None,
    })
}

/// The item form as HTML posts it (checkboxes absent when not ticked).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ItemForm {
    name: String,
    vendor: String,
    product: String,
    version: String,
    cpe: String,
    purl: String,
    internet_facing: Option<String>,
    business_critical: Option<String>,
    owner: String,
    notes: String,
}

impl From<ItemForm> for ItemInput {
    fn from(f: ItemForm) -> Self {
        ItemInput {
            internet_facing: ticked(&f.internet_facing),
            business_critical: ticked(&f.business_critical),
            name: f.name,
            vendor: f.vendor,
            product: f.product,
            version: f.version,
            cpe: f.cpe,
            purl: f.purl,
            owner: f.owner,
            notes: f.notes,
        }
    }
}

/// One row of the inventory table.
pub struct ItemRow {
    pub id: i64,
    pub name: String,
    pub vendor_product: String,
    pub version: String,
    pub cpe: String,
    pub purl: String,
    pub internet_facing: bool,
    pub business_critical: bool,
    pub owner: String,
    pub open: i64,
}

/// What the last import did, for the summary at the top of the page.
pub struct ImportView {
    pub what: &'static str,
    pub file: String,
    pub added: usize,
    pub duplicates: usize,
    pub skipped: Vec<SkippedView>,
}

pub struct SkippedView {
    pub reference: String,
    pub name: String,
    pub reason: String,
}

impl From<&ImportReport> for ImportView {
    fn from(r: &ImportReport) -> Self {
        ImportView {
            what: r.format.label(),
            file: r
                .file_name
                .clone()
                .or_else(|| r.subject.clone())
                .unwrap_or_default(),
            added: r.added.len(),
            duplicates: r.duplicates,
            skipped: r
                .skipped
                .iter()
                .map(|s| SkippedView {
                    reference: s.reference.clone(),
                    name: s.name.clone().unwrap_or_default(),
                    reason: s.reason.clone(),
                })
                .collect(),
        }
    }
}

/// Why an import was refused: which form, the message, and each bad row.
pub struct ImportFailure {
    /// `csv_file` or `sbom_file`: the input to link to.
    pub input: &'static str,
    pub what: &'static str,
    pub message: String,
    pub rows: Vec<String>,
}

#[derive(Template)]
#[template(path = "inventory.html")]
struct InventoryPage {
    layout: Layout,
    org: Organisation,
    heading: String,
    can_edit: bool,
    items: Vec<ItemRow>,
    errors: FormErrors,
    form: ItemInput,
    imported: Option<ImportView>,
    failure: Option<ImportFailure>,
    max_upload_mb: usize,
    columns: String,
}

fn current(session: &Session) -> &'static str {
    if session.user.org_id.is_some() {
        "inventory"
    } else {
        "orgs"
    }
}

fn heading(session: &Session, org: &Organisation) -> String {
    if session.user.org_id == Some(org.id) {
        "Inventory".into()
    } else {
        format!("Inventory of {}", org.name)
    }
}

async fn inventory_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    notice: Option<&str>,
) -> Result<InventoryPage, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let open = state.store.open_exposure_counts(org.id).await?;
    let items = state
        .store
        .list_items(org.id)
        .await?
        .into_iter()
        .map(|s| {
            let f = s.item.fields;
            let text = |v: Option<String>| v.unwrap_or_default();
            ItemRow {
                id: s.item.id,
                vendor_product: [f.vendor.as_deref(), f.product.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" / "),
                name: f.name,
                version: text(f.version),
                cpe: text(f.cpe),
                purl: text(f.purl),
                internet_facing: f.internet_facing,
                business_critical: f.business_critical,
                owner: text(f.owner),
                open: open.get(&s.item.id).copied().unwrap_or(0),
            }
        })
        .collect();
    let heading = heading(session, &org);
    Ok(InventoryPage {
        layout: Layout::signed_in(state, session, heading.clone(), current(session))
            .with_notice(notice),
        can_edit: actor.can_edit_member_records(org.id).is_ok(),
        org,
        heading,
        items,
        errors: FormErrors::default(),
        form: ItemInput::default(),
        imported: None,
        failure: None,
        max_upload_mb: MAX_UPLOAD_MB,
        columns: openwarp_matching::table::COLUMNS.join(", "),
    })
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&inventory_page(&state, &session, OrgId(id), q.notice.as_deref()).await?)
}

/// Re-show a form with its problems: 422 for invalid fields, 409 for a clash.
fn item_problems(err: AppError) -> Result<(StatusCode, FormErrors), AppError> {
    match err {
        AppError::Invalid(v) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            FormErrors::labelled(v, item_labels),
        )),
        AppError::Conflict(m) => {
            let mut v = ValidationErrors::new();
            v.add("name", m);
            Ok((StatusCode::CONFLICT, FormErrors::labelled(v, item_labels)))
        }
        other => Err(other),
    }
}

pub async fn add(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<ItemForm>,
) -> Result<Response, AppError> {
    let org = OrgId(id);
    actions::require_record_editor(&session.user.actor(), org)?;
    let input = ItemInput::from(form);
    let result = match input.validate() {
        Ok(fields) => inventory::add_item(&state, &session.user, org, fields, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(item) => Ok(
            Redirect::to(&format!("/orgs/{org}/inventory/{item}?notice=item_added"))
                .into_response(),
        ),
        Err(e) => {
            let (status, errors) = item_problems(e)?;
            let mut page = inventory_page(&state, &session, org, None).await?;
            page.errors = errors;
            page.form = input;
            render_with(status, &page)
        }
    }
}

async fn import(
    state: AppState,
    ip: String,
    id: i64,
    upload: SessionUpload,
    format: ImportFormat,
) -> Result<Response, AppError> {
    let org = OrgId(id);
    let session = upload.session;
    actions::require_record_editor(&session.user.actor(), org)?;
    let result = match upload.file {
        Ok(file) => {
            inventory::import(
                &state,
                &session.user,
                org,
                format,
                file.bytes,
                file.name,
                &ip,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let input = match format {
        ImportFormat::Csv => "csv_file",
        ImportFormat::CycloneDx => "sbom_file",
    };
    let (status, imported, failure) = match result {
        Ok(report) => (StatusCode::OK, Some(ImportView::from(&report)), None),
        Err(e) => {
            let status = e.status();
            let (message, rows) = match e {
                AppError::BadRows { rows, .. } => (
                    "Nothing was imported. Fix these rows and upload the file again:".to_string(),
                    rows.iter().map(ToString::to_string).collect(),
                ),
                AppError::Invalid(v) => (
                    v.0.into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join("; "),
                    Vec::new(),
                ),
                e @ (AppError::FileTooLarge(_) | AppError::BadRequest(_)) => {
                    (e.to_string(), Vec::new())
                }
                other => return Err(other),
            };
            let failure = ImportFailure {
                input,
                what: format.label(),
                message,
                rows,
            };
            (status, None, Some(failure))
        }
    };
    let mut page = inventory_page(&state, &session, org, None).await?;
    page.imported = imported;
    page.failure = failure;
    render_with(status, &page)
}

pub async fn import_csv(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    upload: SessionUpload,
) -> Result<Response, AppError> {
    import(state, ip, id, upload, ImportFormat::Csv).await
}

pub async fn import_sbom(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    upload: SessionUpload,
) -> Result<Response, AppError> {
    import(state, ip, id, upload, ImportFormat::CycloneDx).await
}

/// The inventory as a CSV download.
pub async fn export(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = actions::visible_org(&state, &session.user.actor(), OrgId(id)).await?;
    let csv = inventory::export_csv(&state, org.id).await?;
    Ok((csv_download_headers(&org.name), csv).into_response())
}

#[derive(Template)]
#[template(path = "inventory_item.html")]
struct ItemPage {
    layout: Layout,
    org: Organisation,
    list_heading: String,
    item_id: i64,
    title: String,
    origin: String,
    added: String,
    updated: String,
    can_edit: bool,
    errors: FormErrors,
    form: ItemInput,
    exposures: Vec<ExposureRow>,
}

async fn item_page(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: i64,
    notice: Option<&str>,
) -> Result<ItemPage, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(state, &actor, org).await?;
    let stored = inventory::item(state, org.id, id).await?;
    let exposures = state
        .store
        .list_exposures(
            org.id,
            &ExposureFilter {
                item_id: Some(id),
                include_inactive: true,
                ..ExposureFilter::default()
            },
        )
        .await?
        .iter()
        .map(ExposureRow::new)
        .collect();
    let title = stored.item.fields.label();
    Ok(ItemPage {
        layout: Layout::signed_in(state, session, title.clone(), current(session))
            .with_notice(notice),
        can_edit: actor.can_edit_member_records(org.id).is_ok(),
        list_heading: heading(session, &org),
        org,
        item_id: id,
        title,
        origin: stored.origin.clone(),
        added: timestamp(stored.created_at),
        updated: timestamp(stored.updated_at),
        errors: FormErrors::default(),
        form: ItemInput::from(&stored.item.fields),
        exposures,
    })
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path((org, id)): Path<(i64, i64)>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    render(&item_page(&state, &session, OrgId(org), id, q.notice.as_deref()).await?)
}

pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((org, id)): Path<(i64, i64)>,
    SessionForm { session, form }: SessionForm<ItemForm>,
) -> Result<Response, AppError> {
    let org = OrgId(org);
    actions::require_record_editor(&session.user.actor(), org)?;
    let input = ItemInput::from(form);
    let result = match input.validate() {
        Ok(fields) => inventory::update_item(&state, &session.user, org, id, fields, &ip).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/orgs/{org}/inventory/{id}?notice=item_updated"))
                .into_response(),
        ),
        Err(e) => {
            let (status, errors) = item_problems(e)?;
            let mut page = item_page(&state, &session, org, id, None).await?;
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
    inventory::delete_item(&state, &session.user, org, id, &ip).await?;
    Ok(Redirect::to(&format!("/orgs/{org}/inventory?notice=item_deleted")).into_response())
}

/// What was typed into "Find the CPE name".
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolveQuery {
    pub vendor: String,
    pub product: String,
    pub version: String,
}

pub struct SuggestionView {
    pub vendor: String,
    pub product: String,
    pub cpe: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "resolve.html")]
struct ResolvePage {
    layout: Layout,
    org: Organisation,
    list_heading: String,
    q: ResolveQuery,
    can_edit: bool,
    problem: Option<String>,
    suggestions: Vec<SuggestionView>,
}

pub async fn resolve(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ResolveQuery>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let org = actions::visible_org(&state, &actor, OrgId(id)).await?;
    let (suggestions, problem) =
        match inventory::suggest_cpe(&state, &q.vendor, &q.product, &q.version).await {
            Ok(s) => (s, None),
            Err(AppError::Invalid(v)) => (Vec::new(), Some(v.to_string())),
            Err(e) => return Err(e),
        };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ResolvePage {
        layout: Layout::signed_in(&state, &session, "Find the CPE name", current(&session)),
        can_edit: actor.can_edit_member_records(org.id).is_ok(),
        list_heading: heading(&session, &org),
        org,
        q,
        problem,
        suggestions: suggestions
            .into_iter()
            .map(|s| SuggestionView {
                vendor: s.vendor,
                product: s.product,
                cpe: s.cpe,
                why: s.why,
            })
            .collect(),
    };
    render_with(status, &page)
}

/// `/inventory`: a member's own inventory; operators choose an organisation.
pub async fn mine(SignedIn(session): SignedIn) -> Redirect {
    match session.user.org_id {
        Some(org) => Redirect::to(&format!("/orgs/{org}/inventory")),
        None => Redirect::to("/orgs"),
    }
}

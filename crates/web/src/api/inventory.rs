//! API handlers for a member's inventory, its import and export, and the
//! CPE name resolver.

use super::ApiJson;
use crate::AppState;
use crate::actions;
use crate::actions::inventory::{
    self, ImportFormat, ItemInput, MAX_UPLOAD_MB, SUGGESTIONS, csv_download_headers,
};
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use openwarp_core::OrgId;
use openwarp_store::{StoredItem, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An item of a member's inventory.
#[derive(Serialize, ToSchema)]
pub struct ItemDto {
    pub id: i64,
    pub org_id: i64,
    /// What the member calls it.
    pub name: String,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    /// CPE 2.3 formatted string.
    pub cpe: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    pub internet_facing: bool,
    pub business_critical: bool,
    pub owner: Option<String>,
    pub notes: Option<String>,
    /// How it arrived: `manual`, `csv: <file>`, `cyclonedx: <file or subject>`.
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredItem> for ItemDto {
    fn from(s: StoredItem) -> Self {
        let f = s.item.fields;
        ItemDto {
            id: s.item.id,
            org_id: s.item.org_id,
            name: f.name,
            vendor: f.vendor,
            product: f.product,
            version: f.version,
            cpe: f.cpe,
            purl: f.purl,
            internet_facing: f.internet_facing,
            business_critical: f.business_critical,
            owner: f.owner,
            notes: f.notes,
            origin: s.origin,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The fields of an item a client sends. At least one of `product`, `cpe`
/// and `purl` is required; unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemInputDto {
    /// Defaults to vendor and product.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// CPE 2.3 formatted string or URI binding.
    #[serde(default)]
    pub cpe: Option<String>,
    #[serde(default)]
    pub purl: Option<String>,
    #[serde(default)]
    pub internet_facing: bool,
    #[serde(default)]
    pub business_critical: bool,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl From<ItemInputDto> for ItemInput {
    fn from(d: ItemInputDto) -> Self {
        let text = |v: Option<String>| v.unwrap_or_default();
        ItemInput {
            name: d.name,
            vendor: text(d.vendor),
            product: text(d.product),
            version: text(d.version),
            cpe: text(d.cpe),
            purl: text(d.purl),
            internet_facing: d.internet_facing,
            business_critical: d.business_critical,
            owner: text(d.owner),
            notes: text(d.notes),
        }
    }
}

/// 404 for organisations the caller may not see, and for ones that do not exist.
async fn visible(state: &AppState, user: &User, id: i64) -> Result<OrgId, ApiError> {
    Ok(actions::visible_org(state, &user.actor(), OrgId(id))
        .await?
        .id)
}

/// Every item of an organisation's inventory, by name.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/inventory", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [ItemDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_items(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ItemDto>>, ApiError> {
    let org = visible(&state, &user, id).await?;
    let items = state.store.list_items(org).await?;
    Ok(Json(items.into_iter().map(ItemDto::from).collect()))
}

/// Add an item (the organisation's own users); it is matched against every advisory at once.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/inventory", tag = "inventory", request_body = ItemInputDto,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = ItemDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ItemInputDto>,
) -> Result<(StatusCode, Json<ItemDto>), ApiError> {
    let org = visible(&state, &user, id).await?;
    actions::require_record_editor(&user.actor(), org)?;
    let fields = ItemInput::from(body).validate()?;
    let item_id = inventory::add_item(&state, &user, org, fields, &ip).await?;
    let item = inventory::item(&state, org, item_id).await?;
    Ok((StatusCode::CREATED, Json(ItemDto::from(item))))
}

/// One item.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/inventory/{item}", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id"), ("item" = i64, Path, description = "Item id")),
    responses((status = 200, body = ItemDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<Json<ItemDto>, ApiError> {
    let org = visible(&state, &user, id).await?;
    Ok(Json(ItemDto::from(
        inventory::item(&state, org, item).await?,
    )))
}

/// Replace an item's fields; its exposures are re-matched.
#[utoipa::path(put, path = "/api/v1/orgs/{id}/inventory/{item}", tag = "inventory", request_body = ItemInputDto,
    params(("id" = i64, Path, description = "Organisation id"), ("item" = i64, Path, description = "Item id")),
    responses((status = 200, body = ItemDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn update_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, item)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<ItemInputDto>,
) -> Result<Json<ItemDto>, ApiError> {
    let org = visible(&state, &user, id).await?;
    actions::require_record_editor(&user.actor(), org)?;
    let fields = ItemInput::from(body).validate()?;
    inventory::update_item(&state, &user, org, item, fields, &ip).await?;
    Ok(Json(ItemDto::from(
        inventory::item(&state, org, item).await?,
    )))
}

/// Remove an item with its exposures.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/inventory/{item}", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id"), ("item" = i64, Path, description = "Item id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_item(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, item)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let org = visible(&state, &user, id).await?;
    inventory::delete_item(&state, &user, org, item, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An SBOM component that did not become an item.
#[derive(Serialize, ToSchema)]
pub struct SkippedDto {
    /// The component's `bom-ref`, or where it sits in the file.
    pub reference: String,
    pub name: Option<String>,
    pub reason: String,
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportResultDto {
    /// `csv` or `cyclonedx`.
    pub format: String,
    /// What the SBOM describes, when it says.
    pub subject: Option<String>,
    pub added: usize,
    /// Ids of the items added.
    pub item_ids: Vec<i64>,
    /// Items already in the inventory, or listed twice in the file.
    pub duplicates: usize,
    /// SBOM components that could not become items.
    pub skipped: Vec<SkippedDto>,
}

/// Import a CSV file (`Content-Type: text/csv`) or a CycloneDX JSON SBOM
/// (`application/vnd.cyclonedx+json` or `application/json`), at most 10 MB.
/// A CSV file with any bad row imports nothing; the 422 lists every row
/// problem with its line and column.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/inventory/import", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id")),
    request_body(content = String, description = "The file: CSV or CycloneDX JSON", content_type = "text/csv"),
    responses((status = 200, body = ImportResultDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 413, body = ApiErrorBody), (status = 415, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn import_inventory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportResultDto>, ApiError> {
    crate::limits::check(
        &state,
        crate::limits::UPLOADS,
        &crate::limits::user(user.id),
    )
    .await?;
    let org = visible(&state, &user, id).await?;
    actions::require_record_editor(&user.actor(), org)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let format = match essence.as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/vnd.cyclonedx+json" | "application/json" => ImportFormat::CycloneDx,
        _ => {
            return Err(AppError::UnsupportedMediaType(format!(
                "send a CSV file as text/csv or a CycloneDX SBOM as application/vnd.cyclonedx+json, not '{content_type}'"
            ))
            .into());
        }
    };
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::FileTooLarge(MAX_UPLOAD_MB)
        } else {
            AppError::BadRequest(e.body_text())
        }
    })?;
    let report = inventory::import(&state, &user, org, format, bytes.to_vec(), None, &ip).await?;
    Ok(Json(ImportResultDto {
        format: report.format.as_str().into(),
        subject: report.subject,
        added: report.added.len(),
        item_ids: report.added,
        duplicates: report.duplicates,
        skipped: report
            .skipped
            .into_iter()
            .map(|s| SkippedDto {
                reference: s.reference,
                name: s.name,
                reason: s.reason,
            })
            .collect(),
    }))
}

/// The inventory as CSV (UTF-8 with a byte order mark), in the columns import reads.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/inventory.csv", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = ApiErrorBody)))]
pub async fn export_inventory(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let org = actions::visible_org(&state, &user.actor(), OrgId(id)).await?;
    let csv = inventory::export_csv(&state, org.id).await?;
    Ok((csv_download_headers(&org.name), csv).into_response())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ResolveQuery {
    pub vendor: String,
    pub product: String,
    pub version: String,
}

/// A CPE name the advisories use, suggested for what was typed.
#[derive(Serialize, ToSchema)]
pub struct SuggestionDto {
    pub vendor: String,
    pub product: String,
    /// The CPE 2.3 name to give the item (with the version, when one was given).
    pub cpe: String,
    /// 0 to 1; comparable within one answer only.
    pub score: f64,
    /// Why it was suggested, in words.
    pub why: String,
}

/// Ranked CPE names for a vendor and product as people type them, best first.
#[utoipa::path(get, path = "/api/v1/resolve", tag = "inventory",
    params(("vendor" = Option<String>, Query, description = "Vendor as typed, e.g. Microsoft"),
           ("product" = Option<String>, Query, description = "Product as typed, e.g. Exchange Server 2019 CU12"),
           ("version" = Option<String>, Query, description = "Version, when not in the product text")),
    responses((status = 200, body = [SuggestionDto]), (status = 422, body = ApiErrorBody)))]
pub async fn resolve(
    State(state): State<AppState>,
    ApiCaller(_user): ApiCaller,
    Query(q): Query<ResolveQuery>,
) -> Result<Json<Vec<SuggestionDto>>, ApiError> {
    let suggestions = inventory::suggest_cpe(&state, &q.vendor, &q.product, &q.version).await?;
    Ok(Json(
        suggestions
            .into_iter()
            .take(SUGGESTIONS)
            .map(|s| SuggestionDto {
                vendor: s.vendor,
                product: s.product,
                cpe: s.cpe,
                score: s.score,
                why: s.why,
            })
            .collect(),
    ))
}

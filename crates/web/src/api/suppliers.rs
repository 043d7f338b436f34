//! API handlers for a member's suppliers, and for operators, who shares one.

use super::ApiJson;
use crate::AppState;
use crate::actions;
use crate::actions::suppliers::{self, SupplierInput};
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use openwarp_core::OrgId;
use openwarp_store::Supplier;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A supplier or shared service a member depends on.
#[derive(Serialize, ToSchema)]
pub struct SupplierDto {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    /// One of `it_provider`, `shared_service`, `software_vendor`, `hosting`, `other`.
    pub kind: String,
    /// The kind in words.
    pub kind_label: String,
    pub services: Option<String>,
    pub contact: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Supplier> for SupplierDto {
    fn from(s: Supplier) -> Self {
        SupplierDto {
            id: s.id,
            org_id: s.org_id.0,
            kind: s.draft.kind.as_str().into(),
            kind_label: s.draft.kind.label().into(),
            name: s.draft.name,
            services: s.draft.services,
            contact: s.draft.contact,
            notes: s.draft.notes,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The fields of a supplier a client sends. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierInputDto {
    pub name: String,
    /// One of `it_provider`, `shared_service`, `software_vendor`, `hosting`, `other`.
    pub kind: String,
    #[serde(default)]
    pub services: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

impl From<SupplierInputDto> for SupplierInput {
    fn from(d: SupplierInputDto) -> Self {
        SupplierInput {
            name: d.name,
            kind: d.kind,
            services: d.services.unwrap_or_default(),
            contact: d.contact.unwrap_or_default(),
            notes: d.notes.unwrap_or_default(),
        }
    }
}

/// An organisation's suppliers (operators, and that organisation's users).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/suppliers", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [SupplierDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_suppliers(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<SupplierDto>>, ApiError> {
    let org = actions::visible_org(&state, &user.actor(), OrgId(id)).await?;
    let list = state.store.list_suppliers(org.id).await?;
    Ok(Json(list.into_iter().map(SupplierDto::from).collect()))
}

/// Add a supplier (the organisation's own users); 409 when it is already listed.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/suppliers", tag = "inventory", request_body = SupplierInputDto,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = SupplierDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_supplier(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SupplierInputDto>,
) -> Result<(StatusCode, Json<SupplierDto>), ApiError> {
    let org = OrgId(id);
    actions::require_record_editor(&user.actor(), org)?;
    let draft = SupplierInput::from(body).validate()?;
    let sid = suppliers::add_supplier(&state, &user, org, &draft, &ip).await?;
    let s = suppliers::supplier(&state, org, sid).await?;
    Ok((StatusCode::CREATED, Json(SupplierDto::from(s))))
}

/// Replace a supplier's details.
#[utoipa::path(put, path = "/api/v1/orgs/{id}/suppliers/{sid}", tag = "inventory", request_body = SupplierInputDto,
    params(("id" = i64, Path, description = "Organisation id"), ("sid" = i64, Path, description = "Supplier id")),
    responses((status = 200, body = SupplierDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_supplier(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, sid)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<SupplierInputDto>,
) -> Result<Json<SupplierDto>, ApiError> {
    let org = OrgId(id);
    actions::require_record_editor(&user.actor(), org)?;
    let draft = SupplierInput::from(body).validate()?;
    suppliers::update_supplier(&state, &user, org, sid, &draft, &ip).await?;
    Ok(Json(SupplierDto::from(
        suppliers::supplier(&state, org, sid).await?,
    )))
}

/// Remove a supplier.
#[utoipa::path(delete, path = "/api/v1/orgs/{id}/suppliers/{sid}", tag = "inventory",
    params(("id" = i64, Path, description = "Organisation id"), ("sid" = i64, Path, description = "Supplier id")),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn delete_supplier(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path((id, sid)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    suppliers::delete_supplier(&state, &user, OrgId(id), sid, &ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct SharedQuery {
    pub name: String,
}

/// A member that lists a supplier.
#[derive(Serialize, ToSchema)]
pub struct SupplierUserDto {
    pub org_id: i64,
    pub org_name: String,
    /// The member's own entry for the supplier.
    pub supplier: SupplierDto,
}

/// Every member that lists a supplier of this name, compared without case,
/// punctuation or legal endings (operators only).
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "inventory",
    params(("name" = String, Query, description = "Supplier name")),
    responses((status = 200, body = [SupplierUserDto]), (status = 403, body = ApiErrorBody)))]
pub async fn members_using_supplier(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Query(q): Query<SharedQuery>,
) -> Result<Json<Vec<SupplierUserDto>>, ApiError> {
    user.actor().require_operator()?;
    let name = q.name.trim();
    if name.is_empty() {
        return Err(crate::error::AppError::field("name", "give the supplier's name").into());
    }
    let rows = state.store.members_using_supplier(name).await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| SupplierUserDto {
                org_id: u.org_id.0,
                org_name: u.org_name,
                supplier: SupplierDto::from(u.supplier),
            })
            .collect(),
    ))
}

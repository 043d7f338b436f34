//! API handlers for organisations, their users and fees.

use super::ApiJson;
use crate::AppState;
use crate::actions;
use crate::auth::{ApiCaller, ClientIp};
use crate::error::{ApiError, ApiErrorBody, AppError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{Email, OrgId, RenewalState, Role, UserId};
use openwarp_store::{Organisation, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A member organisation. The fee is computed from type and employers'
/// membership under the WARP's fee schedule.
#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    pub id: i64,
    pub name: String,
    /// One of `district_borough`, `unitary`, `county`, `other_public_sector`.
    pub council_type: String,
    pub employers_member: bool,
    /// One of `pending`, `active`, `lapsed`, `suspended`, `left`.
    pub status: String,
    pub renewal_date: NaiveDate,
    /// Annual fee in pence.
    pub annual_fee_pence: i64,
    /// Annual fee formatted for people, e.g. "£1,200".
    pub annual_fee: String,
    pub senior_officer_name: String,
    pub senior_officer_email: String,
    pub senior_officer_phone: String,
    pub lead_member_name: String,
    pub lead_member_email: String,
    pub lead_member_phone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrgDto {
    fn new(state: &AppState, o: &Organisation) -> OrgDto {
        let fee = o.annual_fee(&state.config.fees);
        let g = &o.governance;
        OrgDto {
            id: o.id.0,
            name: o.name.clone(),
            council_type: o.council_type.as_str().into(),
            employers_member: o.employers_member,
            status: o.status.as_str().into(),
            renewal_date: o.renewal_date,
            annual_fee_pence: fee.0,
            annual_fee: fee.to_string(),
            senior_officer_name: g.senior_officer.name.clone(),
            senior_officer_email: g.senior_officer.email.clone(),
            senior_officer_phone: g.senior_officer.phone.clone(),
            lead_member_name: g.lead_member.name.clone(),
            lead_member_email: g.lead_member.email.clone(),
            lead_member_phone: g.lead_member.phone.clone(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// The fields of an organisation a client sends. Unknown fields are refused.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInputDto {
    pub name: String,
    pub council_type: String,
    pub employers_member: bool,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: String,
    /// `YYYY-MM-DD`.
    pub renewal_date: String,
    #[serde(default)]
    pub senior_officer_name: String,
    #[serde(default)]
    pub senior_officer_email: String,
    #[serde(default)]
    pub senior_officer_phone: String,
    #[serde(default)]
    pub lead_member_name: String,
    #[serde(default)]
    pub lead_member_email: String,
    #[serde(default)]
    pub lead_member_phone: String,
}

impl From<OrgInputDto> for OrganisationInput {
    fn from(d: OrgInputDto) -> Self {
        OrganisationInput {
            name: d.name,
            council_type: d.council_type,
            employers_member: d.employers_member,
            status: d.status,
            renewal_date: d.renewal_date,
            senior_officer_name: d.senior_officer_name,
            senior_officer_email: d.senior_officer_email,
            senior_officer_phone: d.senior_officer_phone,
            lead_member_name: d.lead_member_name,
            lead_member_email: d.lead_member_email,
            lead_member_phone: d.lead_member_phone,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    /// One of `operator`, `member_lead`, `member_user`.
    pub role: String,
    pub org_id: Option<i64>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.0,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role.as_str().into(),
            org_id: u.org_id.map(|o| o.0),
            disabled: u.disabled,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    pub user: UserDto,
    pub organisation: Option<OrgDto>,
}

/// Who the token belongs to, and their organisation.
#[utoipa::path(get, path = "/api/v1/me", tag = "membership",
    responses((status = 200, body = MeDto), (status = 401, body = ApiErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<MeDto>, ApiError> {
    let organisation = match user.org_id {
        Some(o) => state
            .store
            .get_org(o)
            .await?
            .map(|o| OrgDto::new(&state, &o)),
        None => None,
    };
    Ok(Json(MeDto {
        user: UserDto::from(&user),
        organisation,
    }))
}

/// Organisations the caller may see: all of them for operators, their own for members.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "membership",
    responses((status = 200, body = [OrgDto]), (status = 401, body = ApiErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<Vec<OrgDto>>, ApiError> {
    let orgs = match user.org_id {
        None => state.store.list_orgs().await?,
        Some(o) => state.store.get_org(o).await?.into_iter().collect(),
    };
    Ok(Json(orgs.iter().map(|o| OrgDto::new(&state, o)).collect()))
}

/// Add a member organisation (operators only).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "membership", request_body = OrgInputDto,
    responses((status = 201, body = OrgDto), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<OrgInputDto>,
) -> Result<(StatusCode, Json<OrgDto>), ApiError> {
    user.actor().can_edit_membership()?;
    let draft = OrganisationInput::from(body).validate()?;
    let org = actions::create_org(&state, &user, &draft, &ip).await?;
    Ok((StatusCode::CREATED, Json(OrgDto::new(&state, &org))))
}

/// 404 rather than 403 for other members' organisations: their existence is not ours to reveal.
fn visible(user: &User, id: OrgId) -> Result<(), ApiError> {
    Ok(actions::require_visible(&user.actor(), id)?)
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "membership", params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = OrgDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<OrgDto>, ApiError> {
    visible(&user, OrgId(id))?;
    let org = state
        .store
        .get_org(OrgId(id))
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    Ok(Json(OrgDto::new(&state, &org)))
}

/// Replace an organisation's details (operators only).
#[utoipa::path(put, path = "/api/v1/orgs/{id}", tag = "membership", request_body = OrgInputDto,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = OrgDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn update_org(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<OrgInputDto>,
) -> Result<Json<OrgDto>, ApiError> {
    visible(&user, OrgId(id))?;
    user.actor().can_edit_membership()?;
    let draft = OrganisationInput::from(body).validate()?;
    let org = actions::update_org(&state, &user, OrgId(id), &draft, &ip).await?;
    Ok(Json(OrgDto::new(&state, &org)))
}

/// The named users of an organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/users", tag = "membership", params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = [UserDto]), (status = 404, body = ApiErrorBody)))]
pub async fn list_org_users(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    visible(&user, OrgId(id))?;
    state
        .store
        .get_org(OrgId(id))
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    let users = state.store.list_users(Some(OrgId(id))).await?;
    Ok(Json(users.iter().map(UserDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    pub email: String,
    /// `member_lead` or `member_user`.
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationCreated {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub expires_at: DateTime<Utc>,
    /// The single-use link to pass to the invitee. Shown only in this response.
    pub accept_url: String,
}

/// Invite a named user into an organisation (operators, or that organisation's lead).
#[utoipa::path(post, path = "/api/v1/orgs/{id}/invitations", tag = "membership", request_body = InvitationRequest,
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 201, body = InvitationCreated), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 409, body = ApiErrorBody), (status = 422, body = ApiErrorBody)))]
pub async fn invite_user(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<InvitationRequest>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    visible(&user, OrgId(id))?;
    user.actor().can_manage_users(OrgId(id))?;
    let email = Email::parse(&body.email).map_err(|e| AppError::field("email", e.to_string()))?;
    let role = match body.role.parse::<Role>() {
        Ok(r @ (Role::MemberLead | Role::MemberUser)) => r,
        _ => return Err(AppError::field("role", "must be member_lead or member_user").into()),
    };
    let (inv, link) = actions::invite(&state, &user, Some(OrgId(id)), &email, role, &ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationCreated {
            id: inv.id,
            email: inv.email,
            role: inv.role.as_str().into(),
            org_id: inv.org_id.map(|o| o.0),
            expires_at: inv.expires_at,
            accept_url: link.url,
        }),
    ))
}

/// Disable a user: signs them out everywhere and revokes their API tokens.
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", tag = "membership", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<UserDto>, ApiError> {
    set_disabled(state, user, ip, id, true).await
}

/// A member's new role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `member_lead` or `member_user`.
    pub role: String,
}

/// Give a member the other member role (operators, or the organisation's
/// lead for its other users). Their sessions end; they sign in again.
#[utoipa::path(put, path = "/api/v1/users/{id}/role", tag = "membership", params(("id" = i64, Path, description = "User id")),
    request_body = RoleRequest,
    responses((status = 200, body = UserDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
              (status = 422, body = ApiErrorBody)))]
pub async fn set_user_role(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RoleRequest>,
) -> Result<Json<UserDto>, ApiError> {
    let target = actions::set_user_role(&state, &user, UserId(id), &body.role, &ip).await?;
    Ok(Json(UserDto::from(&target)))
}

/// Re-enable a disabled user.
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", tag = "membership", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserDto), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)))]
pub async fn enable_user(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
) -> Result<Json<UserDto>, ApiError> {
    set_disabled(state, user, ip, id, false).await
}

async fn set_disabled(
    state: AppState,
    user: User,
    ip: String,
    id: i64,
    disabled: bool,
) -> Result<Json<UserDto>, ApiError> {
    actions::set_user_disabled(&state, &user, UserId(id), disabled, &ip).await?;
    let target = state
        .store
        .get_user(UserId(id))
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok(Json(UserDto::from(&target)))
}

#[derive(Serialize, ToSchema)]
pub struct FeeLine {
    pub org_id: i64,
    pub name: String,
    pub council_type: String,
    pub employers_member: bool,
    pub status: String,
    pub annual_fee_pence: i64,
    pub renewal_date: NaiveDate,
    /// `overdue`, `due_soon` (within 60 days) or `current`.
    pub renewal_state: String,
    /// Days until renewal (negative when overdue).
    pub days_to_renewal: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FeesDto {
    /// Expected annual income in pence from pending, active and lapsed members.
    pub total_pence: i64,
    pub organisations: Vec<FeeLine>,
}

/// Fees and renewals of every organisation (operators only).
#[utoipa::path(get, path = "/api/v1/fees", tag = "membership",
    responses((status = 200, body = FeesDto), (status = 403, body = ApiErrorBody)))]
pub async fn fees(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
) -> Result<Json<FeesDto>, ApiError> {
    user.actor().require_operator()?;
    let today = Utc::now().date_naive();
    let mut orgs = state.store.list_orgs().await?;
    orgs.sort_by_key(|o| o.renewal_date);
    let fees = &state.config.fees;
    let total_pence = orgs
        .iter()
        .filter(|o| o.status.is_billable())
        .map(|o| o.annual_fee(fees).0)
        .sum();
    let organisations = orgs
        .iter()
        .map(|o| {
            let (state_name, days) = match RenewalState::of(o.renewal_date, today) {
                RenewalState::Overdue(d) => ("overdue", -d),
                RenewalState::DueSoon(d) => ("due_soon", d),
                RenewalState::Current(d) => ("current", d),
            };
            FeeLine {
                org_id: o.id.0,
                name: o.name.clone(),
                council_type: o.council_type.as_str().into(),
                employers_member: o.employers_member,
                status: o.status.as_str().into(),
                annual_fee_pence: o.annual_fee(fees).0,
                renewal_date: o.renewal_date,
                renewal_state: state_name.into(),
                days_to_renewal: days,
            }
        })
        .collect();
    Ok(Json(FeesDto {
        total_pence,
        organisations,
    }))
}

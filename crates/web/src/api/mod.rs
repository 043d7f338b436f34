//! The JSON API under `/api/v1`, for scripts and other systems. Callers
//! authenticate with a per-user bearer token (created on the account page) and
//! get exactly the permissions of that user. Described by the OpenAPI document
//! at `/api/v1/openapi.json`, generated from these handlers.

mod advisories;
mod alerts;
// Assessments (issue 8)
mod assessments;
// End of assessments (issue 8)
mod discussion;
mod exposures;
mod incidents;
mod inventory;
mod meetings;
mod news;
mod orgs;
mod polls;
mod suppliers;
mod warp_advisories;

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody, ApiFieldError, AppError};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use incidents::upload_attachment as upload_incident_attachment;
pub use inventory::import_inventory;
pub use orgs::*;

/// A JSON body whose problems come back as API errors: malformed JSON 400,
/// wrong content type 415, wrong shape 422, too large 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(match rejection {
                JsonRejection::JsonDataError(e) => AppError::Unprocessable(e.body_text()),
                JsonRejection::JsonSyntaxError(e) => AppError::BadRequest(e.body_text()),
                JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
                    "send the body as JSON with Content-Type: application/json".into(),
                ),
                JsonRejection::BytesRejection(e)
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    AppError::PayloadTooLarge
                }
                other => AppError::BadRequest(other.body_text()),
            })),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "openwarp API",
        description = "Membership, organisations and named users of a Warning, Advice and Reporting Point; \
            advisories; members' inventories, suppliers and exposures. \
            Authenticate with `Authorization: Bearer <token>`; create tokens on your account page.",
        license(name = "Apache-2.0")
    ),
    paths(orgs::me, orgs::list_orgs, orgs::create_org, orgs::get_org, orgs::update_org,
          orgs::list_org_users, orgs::invite_user, orgs::disable_user, orgs::enable_user, orgs::set_user_role, orgs::fees,
          advisories::list_advisories, advisories::get_advisory,
          inventory::list_items, inventory::create_item, inventory::get_item, inventory::update_item,
          inventory::delete_item, inventory::import_inventory, inventory::export_inventory, inventory::resolve,
          suppliers::list_suppliers, suppliers::create_supplier, suppliers::update_supplier,
          suppliers::delete_supplier, suppliers::members_using_supplier,
          exposures::list_exposures, exposures::get_exposure, exposures::set_status,
          exposures::advisory_exposure,
          // Alerts (issue 5)
          alerts::get_subscription, alerts::put_subscription, alerts::get_defaults, alerts::put_defaults,
          alerts::list_webhooks, alerts::create_webhook, alerts::set_webhook_active, alerts::delete_webhook,
          alerts::list_alerts, alerts::get_alert, alerts::list_deliveries, alerts::retry_delivery,
          // WARP advisories (issue 5)
          warp_advisories::list_warp_advisories, warp_advisories::get_warp_advisory,
          warp_advisories::create_warp_advisory, warp_advisories::update_warp_advisory,
          warp_advisories::submit_warp_advisory, warp_advisories::request_warp_advisory_changes,
          warp_advisories::publish_warp_advisory, warp_advisories::withdraw_warp_advisory,
          // Polls (issue 7)
          polls::list_polls, polls::get_poll, polls::create_poll, polls::cast_ballot, polls::close_poll,
          polls::get_poll_notify, polls::put_poll_notify,
          // Discussion (issue 7)
          discussion::list_topics, discussion::create_topic, discussion::get_topic,
          discussion::create_thread, discussion::get_thread, discussion::reply, discussion::edit_post,
          discussion::hide_post, discussion::lock_thread, discussion::get_settings,
          discussion::put_settings,
          // Incidents (issue 6)
          incidents::list_incidents, incidents::create_incident, incidents::get_incident,
          incidents::update_incident, incidents::log_escalation, incidents::record_ico,
          incidents::put_sanitised, incidents::approve_sanitised, incidents::withdraw_sharing,
          incidents::put_lessons, incidents::get_timeline, incidents::get_audit, incidents::get_stix,
          incidents::list_attachments, incidents::upload_attachment, incidents::get_attachment,
          incidents::delete_attachment,
          // Assessments (issue 8)
          assessments::list_frameworks, assessments::get_framework, assessments::get_working_copy,
          assessments::put_answers, assessments::submit, assessments::list_submissions,
          assessments::get_results, assessments::get_region, assessments::export,
          // End of assessments (issue 8)
          // Meetings (issue 7)
          meetings::list_meetings, meetings::create_meeting, meetings::get_meeting, meetings::update_meeting,
          meetings::add_agenda_item, meetings::delete_agenda_item, meetings::rsvp, meetings::list_rsvps,
          meetings::put_attendance, meetings::put_minutes, meetings::put_outline, meetings::get_ics,
          // News and links (issue 7)
          news::list_news, news::get_news, news::create_news, news::update_news, news::delete_news,
          news::list_links, news::get_link, news::create_link, news::update_link, news::delete_link),
    components(schemas(ApiErrorBody, ApiFieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "membership", description = "Member organisations, named users and fees"),
         (name = "advisories", description = "Vulnerability advisories from every source, with provenance and history"),
         (name = "inventory", description = "What a member runs and whom it depends on: items, imports, CPE names, suppliers"),
         (name = "exposure", description = "Which advisories affect a member, how urgently and why, and what the member decided"),
         (name = "alerts", description = "Who is alerted how: subscriptions, organisation defaults, webhooks; alerts raised and their deliveries"),
         (name = "warp advisories", description = "Advisories written by the WARP's operators, reviewed by a second operator, published to all members or to those whose inventory lists given products"),
         (name = "polls", description = "Group questions and polls: every member asks and answers, results visible to all; \
            anonymous answers are not stored against the person"),
         (name = "discussion", description = "Members-only discussion: topics, threads and replies in Markdown rendered safely, \
            @mentions, e-mail settings; operators create topics, hide posts and lock threads"),
         (name = "incidents", description = "Confidential incident reports: the full report for the reporting organisation and operators, \
            a sanitised version for others only as its reporter authorised and its TLP label allows; referrals, the ICO clock, lessons learnt, \
            and who read what"),
         (name = "meetings", description = "Members' meetings: agenda, RSVPs within capacity, attendance, minutes (members only, with a TLP label), \
            the public outline of discussions, and iCalendar export"),
         // Assessments (issue 8)
         (name = "assessments", description = "Cyber security self-assessment against a framework kept as data (the shipped one follows the NCSC CAF's structure): \
            a member's users save answers and evidence notes over several sittings, its lead submits; results with strengths, risks, \
            change and a regional benchmark shown only from 5 organisations; operators see coverage, a heat map and the support ranking, and export CSV"),
         // End of assessments (issue 8)
         (name = "news", description = "News from the WARP's operators and the library of useful links and guidance documents \
            with tags: every signed-in user reads and searches, operators post and curate"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError(AppError::NotFound("API route"))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(orgs::me))
        .route("/orgs", get(orgs::list_orgs).post(orgs::create_org))
        .route("/orgs/{id}", get(orgs::get_org).put(orgs::update_org))
        .route("/orgs/{id}/users", get(orgs::list_org_users))
        .route("/orgs/{id}/invitations", post(orgs::invite_user))
        .route("/users/{id}/disable", post(orgs::disable_user))
        .route("/users/{id}/enable", post(orgs::enable_user))
        .route("/users/{id}/role", put(orgs::set_user_role))
        .route("/fees", get(orgs::fees))
        .route("/advisories", get(advisories::list_advisories))
        .route("/advisories/{id}", get(advisories::get_advisory))
        .route(
            "/advisories/{id}/exposure",
            get(exposures::advisory_exposure),
        )
        .route(
            "/orgs/{id}/inventory",
            get(inventory::list_items).post(inventory::create_item),
        )
        .route("/orgs/{id}/inventory.csv", get(inventory::export_inventory))
        .route(
            "/orgs/{id}/inventory/{item}",
            get(inventory::get_item)
                .put(inventory::update_item)
                .delete(inventory::delete_item),
        )
        .route("/resolve", get(inventory::resolve))
        .route(
            "/orgs/{id}/suppliers",
            get(suppliers::list_suppliers).post(suppliers::create_supplier),
        )
        .route(
            "/orgs/{id}/suppliers/{sid}",
            put(suppliers::update_supplier).delete(suppliers::delete_supplier),
        )
        .route("/suppliers", get(suppliers::members_using_supplier))
        .route("/orgs/{id}/exposures", get(exposures::list_exposures))
        .route("/orgs/{id}/exposures/{x}", get(exposures::get_exposure))
        .route(
            "/orgs/{id}/exposures/{x}/status",
            post(exposures::set_status),
        )
        // Alerts (issue 5)
        .route(
            "/account/alerts",
            get(alerts::get_subscription).put(alerts::put_subscription),
        )
        .route(
            "/orgs/{id}/alert-defaults",
            get(alerts::get_defaults).put(alerts::put_defaults),
        )
        .route(
            "/orgs/{id}/webhooks",
            get(alerts::list_webhooks).post(alerts::create_webhook),
        )
        .route(
            "/orgs/{id}/webhooks/{wid}",
            axum::routing::delete(alerts::delete_webhook),
        )
        .route(
            "/orgs/{id}/webhooks/{wid}/active",
            put(alerts::set_webhook_active),
        )
        .route("/alerts", get(alerts::list_alerts))
        .route("/alerts/{id}", get(alerts::get_alert))
        .route("/deliveries", get(alerts::list_deliveries))
        .route("/deliveries/{id}/retry", post(alerts::retry_delivery))
        // End of alerts (issue 5)
        // WARP advisories (issue 5)
        .route(
            "/warp-advisories",
            get(warp_advisories::list_warp_advisories).post(warp_advisories::create_warp_advisory),
        )
        .route(
            "/warp-advisories/{id}",
            get(warp_advisories::get_warp_advisory).put(warp_advisories::update_warp_advisory),
        )
        .route(
            "/warp-advisories/{id}/submit",
            post(warp_advisories::submit_warp_advisory),
        )
        .route(
            "/warp-advisories/{id}/request-changes",
            post(warp_advisories::request_warp_advisory_changes),
        )
        .route(
            "/warp-advisories/{id}/publish",
            post(warp_advisories::publish_warp_advisory),
        )
        .route(
            "/warp-advisories/{id}/withdraw",
            post(warp_advisories::withdraw_warp_advisory),
        )
        // End of WARP advisories (issue 5)
        // Polls (issue 7)
        .route("/polls", get(polls::list_polls).post(polls::create_poll))
        .route(
            "/polls/notify",
            get(polls::get_poll_notify).put(polls::put_poll_notify),
        )
        .route("/polls/{id}", get(polls::get_poll))
        .route("/polls/{id}/ballot", post(polls::cast_ballot))
        .route("/polls/{id}/close", post(polls::close_poll))
        // End of polls (issue 7)
        // Discussion (issue 7)
        .route(
            "/discussion/topics",
            get(discussion::list_topics).post(discussion::create_topic),
        )
        .route(
            "/discussion/topics/{slug}",
            get(discussion::get_topic).post(discussion::create_thread),
        )
        .route("/discussion/threads/{id}", get(discussion::get_thread))
        .route("/discussion/threads/{id}/replies", post(discussion::reply))
        .route(
            "/discussion/threads/{id}/lock",
            post(discussion::lock_thread),
        )
        .route("/discussion/posts/{id}", put(discussion::edit_post))
        .route("/discussion/posts/{id}/hide", post(discussion::hide_post))
        .route(
            "/discussion/settings",
            get(discussion::get_settings).put(discussion::put_settings),
        )
        // End of discussion (issue 7)
        // News and links (issue 7)
        .route("/news", get(news::list_news).post(news::create_news))
        .route(
            "/news/{id}",
            get(news::get_news)
                .put(news::update_news)
                .delete(news::delete_news),
        )
        .route("/links", get(news::list_links).post(news::create_link))
        .route(
            "/links/{id}",
            get(news::get_link)
                .put(news::update_link)
                .delete(news::delete_link),
        )
        // End of news and links (issue 7)
        // Incidents (issue 6)
        .route(
            "/incidents",
            get(incidents::list_incidents).post(incidents::create_incident),
        )
        .route(
            "/incidents/{id}",
            get(incidents::get_incident).put(incidents::update_incident),
        )
        .route(
            "/incidents/{id}/escalations",
            post(incidents::log_escalation),
        )
        .route("/incidents/{id}/ico", post(incidents::record_ico))
        .route("/incidents/{id}/sanitised", put(incidents::put_sanitised))
        .route(
            "/incidents/{id}/sanitised/approve",
            post(incidents::approve_sanitised),
        )
        .route(
            "/incidents/{id}/sharing/withdraw",
            post(incidents::withdraw_sharing),
        )
        .route("/incidents/{id}/lessons", put(incidents::put_lessons))
        .route("/incidents/{id}/timeline", get(incidents::get_timeline))
        .route("/incidents/{id}/audit", get(incidents::get_audit))
        .route("/incidents/{id}/stix", get(incidents::get_stix))
        // Evidence files; uploads (POST) take large bodies, so they are
        // routed beside the other uploads in `crate::router`.
        .route(
            "/incidents/{id}/attachments",
            get(incidents::list_attachments),
        )
        .route(
            "/incidents/{id}/attachments/{aid}",
            get(incidents::get_attachment).delete(incidents::delete_attachment),
        )
        // End of incidents (issue 6)
        // Assessments (issue 8)
        .route("/assessment-frameworks", get(assessments::list_frameworks))
        .route(
            "/assessment-frameworks/{fw}",
            get(assessments::get_framework),
        )
        .route(
            "/orgs/{org}/assessments/{fw}",
            get(assessments::get_working_copy),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/answers",
            put(assessments::put_answers),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/submissions",
            get(assessments::list_submissions).post(assessments::submit),
        )
        .route(
            "/orgs/{org}/assessments/{fw}/submissions/{id}",
            get(assessments::get_results),
        )
        .route("/assessments/{fw}/region", get(assessments::get_region))
        .route("/assessments/{fw}/export.csv", get(assessments::export))
        // End of assessments (issue 8)
        // Meetings (issue 7)
        .route(
            "/meetings",
            get(meetings::list_meetings).post(meetings::create_meeting),
        )
        .route(
            "/meetings/{id}",
            get(meetings::get_meeting).put(meetings::update_meeting),
        )
        .route("/meetings/{id}/agenda", post(meetings::add_agenda_item))
        .route(
            "/meetings/{id}/agenda/{item}",
            axum::routing::delete(meetings::delete_agenda_item),
        )
        .route("/meetings/{id}/rsvp", put(meetings::rsvp))
        .route("/meetings/{id}/rsvps", get(meetings::list_rsvps))
        .route("/meetings/{id}/attendance", put(meetings::put_attendance))
        .route("/meetings/{id}/minutes", put(meetings::put_minutes))
        .route("/meetings/{id}/outline", put(meetings::put_outline))
        .route("/meetings/{id}/ics", get(meetings::get_ics))
        // End of meetings (issue 7)
        .fallback(not_found)
}

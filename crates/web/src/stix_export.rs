//! An incident as a STIX 2.1 bundle, in the version its reader may see:
//! the full report (the reporting organisation, operators) or the sanitised
//! version the reporter authorised, attributed as they allowed, with its
//! indicators only if they chose to share them.

use chrono::{TimeZone, Utc};
use openwarp_core::incident::{IncidentView, IndicatorKind};
use openwarp_stix::{Bundle, Edition, IncidentExport, WarpIdentity, incident_bundle};
use openwarp_store::Incident;

fn kind(k: IndicatorKind) -> openwarp_stix::IndicatorKind {
    use openwarp_stix::IndicatorKind as S;
    match k {
        IndicatorKind::Ipv4 => S::Ipv4,
        IndicatorKind::Ipv6 => S::Ipv6,
        IndicatorKind::Domain => S::Domain,
        IndicatorKind::Url => S::Url,
        IndicatorKind::Email => S::Email,
        IndicatorKind::Md5 => S::Md5,
        IndicatorKind::Sha1 => S::Sha1,
        IndicatorKind::Sha256 => S::Sha256,
    }
}

/// The WARP as the author of every export: keyed by its public address (a
/// name that does not change), with a fixed creation time so its identity
/// object is the same in every bundle.
pub fn warp_identity(public_url: &str, warp_name: &str) -> WarpIdentity {
    let key = public_url
        .split("://")
        .nth(1)
        .unwrap_or(public_url)
        .trim_end_matches('/')
        .to_string();
    let epoch = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    WarpIdentity {
        key,
        name: warp_name.to_string(),
        created: epoch,
        modified: epoch,
    }
}

/// The bundle for `view`; `None` when the view has nothing to export (a
/// sanitised view of an incident with no shared version).
pub fn incident_stix(
    incident: &Incident,
    view: IncidentView,
    warp: WarpIdentity,
    region: &str,
) -> Option<Bundle> {
    let r = &incident.report;
    let export = match view {
        IncidentView::Full => {
            let mut description = r.summary.clone();
            if !r.affected_services.is_empty() {
                description.push_str(&format!("\n\nAffected services: {}", r.affected_services));
            }
            if let Some(s) = &r.supplier {
                description.push_str(&format!("\nSupplier or shared service: {s}"));
            }
            IncidentExport {
                key: incident.public_id.clone(),
                edition: Edition::Full,
                name: r.title.clone(),
                description,
                created: incident.created_at,
                modified: incident.updated_at,
                tlp: r.tlp,
                warp,
                reporter: incident.org_name.clone(),
                indicators: r
                    .indicators
                    .iter()
                    .map(|i| (kind(i.kind), i.value.clone()))
                    .collect(),
                lessons_learnt: incident.lessons.clone(),
                category: Some(r.category.as_str().replace('_', "-")),
            }
        }
        IncidentView::Sanitised => {
            let shared = incident.shared.as_ref()?;
            IncidentExport {
                key: incident.public_id.clone(),
                edition: Edition::Sanitised,
                name: shared.title.clone(),
                description: shared.summary.clone(),
                created: shared.shared_at.unwrap_or(incident.created_at),
                modified: shared.shared_at.unwrap_or(incident.updated_at),
                tlp: shared.tlp,
                warp,
                reporter: incident.attribution(region),
                indicators: if shared.share_indicators {
                    r.indicators
                        .iter()
                        .map(|i| (kind(i.kind), i.value.clone()))
                        .collect()
                } else {
                    Vec::new()
                },
                lessons_learnt: incident.lessons.clone().filter(|_| incident.lessons_shared),
                category: Some(r.category.as_str().replace('_', "-")),
            }
        }
    };
    Some(incident_bundle(&export))
}

/// `?edition=` on an export: the reader's own version by default; someone
/// who reads the full report may ask for the sanitised one (to see exactly
/// what others receive), never the other way round.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub edition: Option<String>,
}

/// The export as an HTTP response: `application/stix+json;version=2.1`, a
/// file name, or 404 when there is nothing the reader may export.
pub async fn respond(
    state: &crate::AppState,
    user: &openwarp_store::User,
    public_id: &str,
    q: &ExportQuery,
    ip: &str,
) -> Result<axum::response::Response, crate::error::AppError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let view = match q.edition.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("full") => Some(IncidentView::Full),
        Some("sanitised") => Some(IncidentView::Sanitised),
        Some(other) => {
            return Err(crate::error::AppError::BadRequest(format!(
                "edition: '{other}' is not full or sanitised"
            )));
        }
    };
    let seen = crate::actions::incidents::export(state, user, public_id, "stix", ip).await?;
    let view = match (view, seen.view) {
        (None, v) => v,
        (Some(IncidentView::Sanitised), _) => IncidentView::Sanitised,
        (Some(IncidentView::Full), IncidentView::Full) => IncidentView::Full,
        // Asking for more than one may read: the same answer as no incident.
        (Some(IncidentView::Full), IncidentView::Sanitised) => {
            return Err(crate::error::AppError::NotFound("incident"));
        }
    };
    let warp = warp_identity(&state.config.public_url, &state.config.warp_name);
    let region = crate::actions::incidents::region(state);
    let bundle = incident_stix(&seen.incident, view, warp, region)
        .ok_or(crate::error::AppError::NotFound("shared version"))?;
    let mut response = openwarp_stix::to_json(&bundle).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/stix+json;version=2.1"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{}.stix.json\"",
        seen.incident.public_id,
        match view {
            IncidentView::Full => "full",
            IncidentView::Sanitised => "sanitised",
        }
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

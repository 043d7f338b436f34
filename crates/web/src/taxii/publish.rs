//! What this WARP publishes to its peers, worked out from the records
//! themselves: published WARP advisories and the sanitised versions of
//! incidents whose reporter consented to their leaving the WARP (with their
//! indicators when the reporter shared them, and the lessons learnt when
//! shared), at a label that may leave. Everything else stays home.
//!
//! [`refresh`] turns them into STIX object versions and hands them to the
//! store, which adds each new version once (dated for paging) and drops what
//! may no longer leave. It runs before every collection read, so a peer never
//! sees something whose consent was withdrawn a moment ago.

use crate::AppState;
use crate::error::AppError;
use crate::stix_export::{incident_stix, warp_identity};
use openwarp_core::federation::{incident_leaves, may_leave};
use openwarp_core::incident::IncidentView;
use openwarp_core::warp_advisory::WarpStatus;
use openwarp_stix::taxii::{object_tlp, object_version};
use openwarp_stix::{AdvisoryExport, Bundle, StixObject, advisory_bundle, warp_identity_id};
use openwarp_store::{IncidentFilter, OutboundObject, WarpAdvisoryFilter};

/// The subject of an incident's objects (consent and need-to-know are kept
/// under it).
pub fn incident_subject(public_id: &str) -> String {
    format!("incident:{public_id}")
}

/// The subject of a WARP advisory's objects.
pub fn advisory_subject(id: i64) -> String {
    format!("advisory:{id}")
}

/// Everything that may leave now, as STIX object versions.
pub async fn outbound(state: &AppState) -> Result<Vec<OutboundObject>, AppError> {
    let warp = warp_identity(&state.config.public_url, &state.config.warp_name);
    let mut out = Vec::new();

    let advisories = state
        .store
        .warp_advisories(&WarpAdvisoryFilter {
            status: Some(WarpStatus::Published),
            limit: Some(100_000),
            ..WarpAdvisoryFilter::default()
        })
        .await?;
    for a in advisories.iter().filter(|a| may_leave(a.draft.tlp)) {
        let published = a.published_at.unwrap_or(a.updated_at);
        let bundle = advisory_bundle(&AdvisoryExport {
            key: a.id.to_string(),
            title: a.draft.title.clone(),
            description: format!("{}\n\nWhat to do: {}", a.draft.summary, a.draft.action),
            created: a.created_at,
            modified: a.updated_at.max(published),
            published,
            tlp: a.draft.tlp,
            warp: warp.clone(),
            cves: a.draft.cves.clone(),
            links: a
                .draft
                .links
                .iter()
                .map(|l| (l.label.clone(), l.url.clone()))
                .collect(),
        });
        add(&mut out, &bundle, &advisory_subject(a.id), &warp.key);
    }

    let consents = state.store.federation_consents().await?;
    let incidents = state
        .store
        .incidents(&IncidentFilter {
            all: true,
            limit: Some(100_000),
            ..IncidentFilter::default()
        })
        .await?;
    let region = crate::actions::incidents::region(state);
    for i in &incidents {
        let subject = incident_subject(&i.public_id);
        if !incident_leaves(&i.facts(), consents.contains(&subject)) {
            continue;
        }
        if let Some(bundle) = incident_stix(i, IncidentView::Sanitised, warp.clone(), region) {
            add(&mut out, &bundle, &subject, &warp.key);
        }
    }
    Ok(out)
}

/// The objects of one bundle under `subject`; the WARP's identity and the
/// marking definitions are shared by every subject (`common`). An object
/// without a label that may leave is left out (none of ours has one).
fn add(out: &mut Vec<OutboundObject>, bundle: &Bundle, subject: &str, warp_key: &str) {
    let warp_id = warp_identity_id(warp_key);
    for object in &bundle.objects {
        let (Some(id), Some(modified), Some(tlp)) =
            (object.id(), object_version(object), object_tlp(object))
        else {
            continue;
        };
        if !may_leave(tlp) {
            continue;
        }
        let common = matches!(object, StixObject::MarkingDefinition(_)) || id == warp_id;
        let Ok(body) = serde_json::to_string(object) else {
            continue;
        };
        out.push(OutboundObject {
            stix_id: id.to_owned(),
            stix_type: object.object_type().to_owned(),
            modified: modified.0,
            subject: if common {
                "common".to_owned()
            } else {
                subject.to_owned()
            },
            tlp,
            body,
        });
    }
}

/// Bring the published objects up to date (see the module documentation).
pub async fn refresh(state: &AppState) -> Result<(), AppError> {
    let objects = outbound(state).await?;
    state
        .store
        .publish_taxii_objects(&objects, openwarp_store::now())
        .await?;
    Ok(())
}

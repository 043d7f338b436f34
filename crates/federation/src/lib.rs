//! The TAXII 2.1 client: what peer WARPs share reaches our members.
//!
//! # Why
//! WARPs are "one of a number of groups around the country": what one learns
//! and may share should reach the others quickly. Each peer an operator
//! configures with its API root, a collection and the credential it issued
//! us is polled on its own schedule; what comes back is stored as partner
//! intelligence with its provenance (which WARP, which collection, when),
//! and the CVEs it names are linked to our members' exposures.
//!
//! # How
//! - [`run`] is the loop `serve` starts. Every [`TICK`] it asks the store for
//!   a peer that is due ([`Store::claim_peer_poll`] takes a lease, so of
//!   several instances on one database only one polls a peer at a time) and
//!   polls it with [`poll_peer`].
//! - [`poll_peer`] asks for `objects/?added_after=<where we stopped>`, follows
//!   `next` while `more`, stores each page in one transaction and then
//!   checkpoints `X-TAXII-Date-Added-Last`, so a restart resumes there and a
//!   page fetched twice stores nothing twice (objects are kept once per id
//!   and version).
//! - A revoked object (the sender withdrew it: consent taken back, an
//!   advisory withdrawn) is forgotten, every version of it.
//! - TLP is enforced on the way in too: AMBER+STRICT and RED should never
//!   have been sent to a network and are refused, not stored
//!   ([`openwarp_core::federation::partner_tlp`]).

use chrono::{DateTime, Utc};
use openwarp_core::federation::partner_tlp;
use openwarp_stix::taxii::{
    DATE_ADDED_LAST, Envelope, TAXII_MEDIA_TYPE, object_tlp, object_version,
};
use openwarp_stix::{StixObject, cve_ids};
use openwarp_store::{NewPartnerObject, PeerPoll, Store};
use serde_json::Value;
use std::time::Duration;

/// How often the loop looks for a peer that is due.
pub const TICK: Duration = Duration::from_secs(20);
/// How long a poll may hold a peer before another instance may take over.
pub const LEASE_MINUTES: i64 = 10;
/// Objects asked for per page.
pub const PAGE_LIMIT: usize = 500;
/// A poll stops after this many pages (and resumes there next time).
pub const MAX_PAGES: usize = 200;
/// A page larger than this is refused.
pub const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
pub const USER_AGENT: &str = concat!(
    "openwarp/",
    env!("CARGO_PKG_VERSION"),
    " (TAXII 2.1 client)"
);

/// Why a poll failed, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("could not reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("{url} answered HTTP {status}: {detail}")]
    Refused {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{url} did not answer in TAXII 2.1 ({detail})")]
    NotTaxii { url: String, detail: String },
    #[error("another instance took over polling this peer")]
    LeaseLost,
    #[error("storing what the peer sent failed: {0}")]
    Store(#[from] openwarp_store::StoreError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub pages: usize,
    /// Objects in the envelopes.
    pub received: usize,
    /// Object versions new to us.
    pub stored: u64,
    /// Objects marked AMBER+STRICT or RED: refused, not stored.
    pub refused: usize,
    /// Objects that were not valid STIX 2.1 (set aside).
    pub rejected: usize,
    /// Marking definitions (not stored: we know the TLP ones).
    pub markings: usize,
    /// Stored object versions forgotten because the sender revoked them.
    pub revoked: usize,
}

/// The HTTP client for polling: rustls, time limits, no redirects (a
/// credential must not follow a redirect elsewhere).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The objects URL of the peer's collection.
pub fn objects_url(poll: &PeerPoll) -> String {
    format!(
        "{}/collections/{}/objects/",
        poll.api_root_url.trim_end_matches('/'),
        poll.collection_id
    )
}

/// What we keep of one object from a peer: `None` when it is a marking
/// definition, refused by its label, or not valid STIX (with which).
fn to_partner_object(value: Value, report: &mut PollReport) -> Option<NewPartnerObject> {
    let body = serde_json::to_string(&value).ok()?;
    let object = match StixObject::from_value(value) {
        Ok(o) => o,
        Err(_) => {
            report.rejected += 1;
            return None;
        }
    };
    if matches!(object, StixObject::MarkingDefinition(_)) {
        report.markings += 1;
        return None;
    }
    let (Some(id), Some(version)) = (object.id(), object_version(&object)) else {
        report.rejected += 1;
        return None;
    };
    let Some(tlp) = partner_tlp(object_tlp(&object)) else {
        report.refused += 1;
        return None;
    };
    let (name, description) = describe(&object);
    Some(NewPartnerObject {
        stix_id: id.to_owned(),
        stix_type: object.object_type().to_owned(),
        modified: version.0,
        tlp,
        name,
        description,
        cves: cve_ids(&object),
        body,
    })
}

/// A name and a description for people, from whichever properties the
/// object type has.
fn describe(object: &StixObject) -> (String, String) {
    let short = |s: &str| s.chars().take(200).collect::<String>();
    match object {
        StixObject::Report(r) => (r.name.clone(), r.description.clone().unwrap_or_default()),
        StixObject::Vulnerability(v) => (v.name.clone(), v.description.clone().unwrap_or_default()),
        StixObject::Incident(i) => (i.name.clone(), i.description.clone().unwrap_or_default()),
        StixObject::Identity(i) => (i.name.clone(), i.description.clone().unwrap_or_default()),
        StixObject::Indicator(i) => (
            i.name.clone().unwrap_or_else(|| i.pattern.clone()),
            i.description.clone().unwrap_or_else(|| i.pattern.clone()),
        ),
        StixObject::Note(n) => (
            n.summary.clone().unwrap_or_else(|| short(&n.content)),
            n.content.clone(),
        ),
        StixObject::Relationship(r) => (
            format!("{} {} {}", r.source_ref, r.relationship_type, r.target_ref),
            String::new(),
        ),
        other => {
            let raw = serde_json::to_value(other).unwrap_or_default();
            let name = raw["name"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| other.object_type().to_owned());
            let description = raw["description"].as_str().unwrap_or_default().to_owned();
            (name, description)
        }
    }
}

/// The problem a TAXII error body names, or the start of whatever came.
fn error_detail(body: &str) -> String {
    serde_json::from_str::<openwarp_stix::taxii::ErrorMessage>(body)
        .ok()
        .map(|e| match e.description {
            Some(d) => format!("{}: {d}", e.title),
            None => e.title,
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// Poll one peer's collection from where we stopped, following `next`,
/// storing each page and checkpointing after it. Holds `holder`'s lease
/// (taken by [`Store::claim_peer_poll`]); does not release it.
pub async fn poll_peer(
    store: &Store,
    http: &reqwest::Client,
    poll: &PeerPoll,
    holder: &str,
) -> Result<PollReport, PollError> {
    let url = objects_url(poll);
    let mut report = PollReport::default();
    let mut next: Option<String> = None;
    let added_after = poll.added_after;
    loop {
        let mut query: Vec<(&str, String)> = vec![("limit", PAGE_LIMIT.to_string())];
        if let Some(after) = added_after {
            query.push((
                "added_after",
                openwarp_stix::Timestamp(after).to_stix_string(),
            ));
        }
        if let Some(n) = &next {
            query.push(("next", n.clone()));
        }
        let mut request = http
            .get(&url)
            .query(&query)
            .header(reqwest::header::ACCEPT, TAXII_MEDIA_TYPE);
        request = match (&poll.login, &poll.secret) {
            (Some(login), secret) => request.basic_auth(login, secret.as_deref()),
            (None, Some(secret)) => request.bearer_auth(secret),
            (None, None) => request,
        };
        let response = request.send().await.map_err(|e| PollError::Unreachable {
            url: url.clone(),
            detail: e.without_url().to_string(),
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|l| l > MAX_PAGE_BYTES as u64)
        {
            return Err(PollError::NotTaxii {
                url,
                detail: "the page is larger than we accept".into(),
            });
        }
        let body = response.text().await.map_err(|e| PollError::Unreachable {
            url: url.clone(),
            detail: e.without_url().to_string(),
        })?;
        if !status.is_success() {
            return Err(PollError::Refused {
                url,
                status: status.as_u16(),
                detail: error_detail(&body),
            });
        }
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("application/taxii+json")
        {
            return Err(PollError::NotTaxii {
                url,
                detail: format!("content type '{content_type}'"),
            });
        }
        let envelope: Envelope = serde_json::from_str(&body).map_err(|e| PollError::NotTaxii {
            url: url.clone(),
            detail: format!("not an envelope: {e}"),
        })?;
        report.pages += 1;
        report.received += envelope.objects.len();
        // A revoked object was withdrawn by the sender: forget it.
        let (revoked, current): (Vec<Value>, Vec<Value>) = envelope
            .objects
            .into_iter()
            .partition(|o| o.get("revoked") == Some(&Value::Bool(true)));
        let revoked_ids: Vec<String> = revoked
            .iter()
            .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        report.revoked += store
            .revoke_partner_objects(poll.peer_id, &revoked_ids)
            .await? as usize;
        let objects: Vec<NewPartnerObject> = current
            .into_iter()
            .filter_map(|o| to_partner_object(o, &mut report))
            .collect();
        report.stored += store
            .store_partner_objects(
                poll.peer_id,
                &poll.collection_id,
                &objects,
                openwarp_store::now(),
            )
            .await?;
        let last_added: Option<DateTime<Utc>> = headers
            .get(DATE_ADDED_LAST)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
            .map(|t| t.with_timezone(&Utc));
        if let Some(t) = last_added
            && !store.peer_poll_checkpoint(poll.peer_id, holder, t).await?
        {
            return Err(PollError::LeaseLost);
        }
        match envelope.next {
            Some(n) if envelope.more && report.pages < MAX_PAGES => next = Some(n),
            _ => return Ok(report),
        }
    }
}

/// Poll every peer that is due, one after another; how many were polled.
/// Each outcome is recorded on the peer (its status on the operators' page).
pub async fn poll_due(store: &Store, http: &reqwest::Client, holder: &str) -> usize {
    let mut polled = 0;
    loop {
        let now = openwarp_store::now();
        let claimed = match store
            .claim_peer_poll(holder, now, chrono::TimeDelta::minutes(LEASE_MINUTES))
            .await
        {
            Ok(Some(p)) => p,
            Ok(None) => return polled,
            Err(error) => {
                tracing::error!(%error, "could not look for peers to poll");
                return polled;
            }
        };
        polled += 1;
        let outcome = poll_peer(store, http, &claimed, holder).await;
        let recorded = match &outcome {
            Ok(r) => {
                tracing::info!(
                    peer = %claimed.name,
                    pages = r.pages,
                    received = r.received,
                    stored = r.stored,
                    refused = r.refused,
                    rejected = r.rejected,
                    revoked = r.revoked,
                    "polled peer WARP"
                );
                Ok(r.stored)
            }
            Err(error) => {
                tracing::warn!(peer = %claimed.name, %error, "polling a peer WARP failed");
                Err(error.to_string())
            }
        };
        if let Err(error) = store
            .peer_poll_finished(claimed.peer_id, holder, openwarp_store::now(), recorded)
            .await
        {
            tracing::error!(%error, peer = %claimed.name, "could not record a poll");
            return polled;
        }
    }
}

/// A lease holder id unique to this process.
pub fn holder_id() -> String {
    format!("taxii-{}-{:016x}", std::process::id(), fastrand::u64(..))
}

/// The poller `serve` runs until `shutdown` completes.
pub async fn run(store: Store, shutdown: impl std::future::Future<Output = ()>) {
    let http = http_client();
    let holder = holder_id();
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            _ = tick.tick() => {
                poll_due(&store, &http, &holder).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_and_red_are_refused_markings_skipped_and_cves_kept() {
        let mut report = PollReport::default();
        let green = openwarp_stix::tlp::marking_definition_id(openwarp_core::TlpLabel::Green);
        let red = openwarp_stix::tlp::marking_definition_id(openwarp_core::TlpLabel::Red);
        let vuln = |marking: &str| {
            json!({"type": "vulnerability", "spec_version": "2.1",
                "id": "vulnerability--0d5c1c7d-4e8b-5b5e-9c8e-1a1b2c3d4e5f",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
                "name": "CVE-2024-3400", "object_marking_refs": [marking],
                "external_references": [{"source_name": "cve", "external_id": "CVE-2024-3400"}]})
        };
        let kept = to_partner_object(vuln(green), &mut report).unwrap();
        assert_eq!(kept.cves, ["CVE-2024-3400"]);
        assert_eq!(kept.tlp, openwarp_core::TlpLabel::Green);
        assert_eq!(kept.modified.to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert!(to_partner_object(vuln(red), &mut report).is_none());
        assert_eq!(report.refused, 1);
        let marking = serde_json::to_value(openwarp_stix::StixObject::MarkingDefinition(
            openwarp_stix::tlp::marking_definition(openwarp_core::TlpLabel::Clear),
        ))
        .unwrap();
        assert!(to_partner_object(marking, &mut report).is_none());
        assert_eq!(report.markings, 1);
        assert!(to_partner_object(json!({"type": "indicator", "id": "x"}), &mut report).is_none());
        assert_eq!(report.rejected, 1);
    }

    #[test]
    fn taxii_errors_are_read_for_the_operator() {
        assert_eq!(
            error_detail(
                r#"{"title":"Authentication required","description":"present credentials","http_status":"401"}"#
            ),
            "Authentication required: present credentials"
        );
        assert_eq!(error_detail("<html>"), "<html>");
    }
}

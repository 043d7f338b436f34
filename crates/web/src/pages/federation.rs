//! Federation pages.
//!
//! - `/federation` (operators): our TAXII endpoint and collection ids to give
//!   peers, the peer WARPs with their sync status and last error, adding one
//!   (its read token is shown once), AMBER advisories released to
//!   need-to-know peers, and the latest of what was served to whom.
//! - `/federation/peers/{id}`: edit, enable or disable a peer, issue it a new
//!   token, poll it now, and everything it was sent.
//! - `/partners` (everyone signed in): "From partner WARPs", what peers
//!   shared, each with its TLP, which WARP and when; for a member, the
//!   partner reports naming a CVE their organisation is exposed to.
//! - `/incidents/{id}/federation`: the reporter's "may leave the WARP"
//!   consent (and, for AMBER, the need-to-know peers).
//!
//! Every change is audited as `federation.*`. Credentials a peer gave us are
//! never shown back; a token a peer reads us with is shown once.

use super::dashboard::NoticeQuery;
use super::{FormErrors, Layout, render, render_with, ticked, timestamp};
use crate::AppState;
use crate::audit;
use crate::auth::{ClientIp, SessionForm, SignedIn};
use crate::error::AppError;
use crate::taxii::publish::{advisory_subject, incident_subject};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use openwarp_core::TlpLabel;
use openwarp_core::federation::{
    Collection, PeerAudience, PeerInput, can_consent, incident_leaves, may_leave, member_may_read,
};
use openwarp_core::incident::IncidentView;
use openwarp_core::warp_advisory::WarpStatus;
use openwarp_store::{Peer, Session, WarpAdvisoryFilter};
use serde::Deserialize;
use serde_json::json;

/// Messages after a redirect; fixed texts only.
fn notice(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "The peer has been saved.",
        "enabled" => "The peer has been enabled.",
        "disabled" => "The peer has been disabled: it can no longer read us and is not polled.",
        "polling" => "The peer will be polled within a minute.",
        "released" => "The need-to-know peers have been saved.",
        "consent_saved" => "Your decision has been saved.",
        _ => return None,
    })
}

fn layout(
    state: &AppState,
    session: &Session,
    title: &str,
    current: &'static str,
    code: Option<&str>,
) -> Layout {
    let mut l = Layout::signed_in(state, session, title, current);
    l.notice = notice(code);
    l
}

fn operators_only(session: &Session) -> Result<(), AppError> {
    if session.user.actor().is_operator() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the WARP's operators manage peer WARPs".into(),
        ))
    }
}

fn labels(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "Name",
        "audience" => "What they may read",
        "incoming_login" => "Their login",
        "api_root_url" => "Their API root",
        "collection_id" => "Their collection id",
        "poll_minutes" => "Poll every",
        _ => return None,
    })
}

/// The CSS classes of a TLP label.
fn tlp_class(t: TlpLabel) -> String {
    format!("tlp tlp-{}", t.as_str().replace('_', "-"))
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(timestamp).unwrap_or_else(|| "never".into())
}

/// A peer as a table row.
pub struct PeerView {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub audience: &'static str,
    pub need_to_know: bool,
    pub reads_us: String,
    pub we_read: String,
    pub last_poll: String,
    pub last_success: String,
    pub last_error: String,
    pub received: i64,
    pub next_poll: String,
}

impl From<&Peer> for PeerView {
    fn from(p: &Peer) -> Self {
        PeerView {
            id: p.id,
            name: p.name.clone(),
            enabled: p.enabled,
            audience: p.audience.label(),
            need_to_know: p.need_to_know,
            reads_us: match (&p.incoming_login, p.has_incoming_token) {
                (Some(l), true) => format!("login {l} or bearer token"),
                (None, true) => "bearer token".into(),
                _ => "no token".into(),
            },
            we_read: match (&p.api_root_url, &p.collection_id) {
                (Some(u), Some(c)) => format!("{u} collection {c}"),
                _ => "not read".into(),
            },
            last_poll: when(p.last_poll_at),
            last_success: when(p.last_success_at),
            last_error: p.last_error.clone().unwrap_or_default(),
            received: p.last_received,
            next_poll: if p.polls() && p.enabled {
                p.next_poll_at
                    .map(timestamp)
                    .unwrap_or_else(|| "within a minute".into())
            } else {
                "—".into()
            },
        }
    }
}

/// What a peer form sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PeerForm {
    name: String,
    audience: String,
    need_to_know: Option<String>,
    incoming_login: String,
    api_root_url: String,
    collection_id: String,
    outgoing_login: String,
    outgoing_secret: String,
    poll_minutes: String,
}

impl PeerForm {
    fn input(&self) -> PeerInput {
        PeerInput {
            name: self.name.clone(),
            audience: self.audience.clone(),
            need_to_know: ticked(&self.need_to_know),
            incoming_login: self.incoming_login.clone(),
            api_root_url: self.api_root_url.clone(),
            collection_id: self.collection_id.clone(),
            outgoing_login: self.outgoing_login.clone(),
            outgoing_secret: self.outgoing_secret.clone(),
            poll_minutes: self.poll_minutes.clone(),
        }
    }

    /// The form for an existing peer: never with its secret.
    fn from_peer(p: &Peer) -> PeerForm {
        PeerForm {
            name: p.name.clone(),
            audience: p.audience.as_str().into(),
            need_to_know: p.need_to_know.then(|| "on".into()),
            incoming_login: p.incoming_login.clone().unwrap_or_default(),
            api_root_url: p.api_root_url.clone().unwrap_or_default(),
            collection_id: p.collection_id.clone().unwrap_or_default(),
            outgoing_login: p.outgoing_login.clone().unwrap_or_default(),
            outgoing_secret: String::new(),
            poll_minutes: p.poll_minutes.to_string(),
        }
    }
}

/// Our own TAXII endpoint, as peers need it.
pub struct OurEndpoint {
    pub discovery: String,
    pub api_root: String,
    pub public_id: String,
    pub partners_id: String,
}

fn our_endpoint(state: &AppState) -> OurEndpoint {
    let base = state.config.public_url.trim_end_matches('/');
    OurEndpoint {
        discovery: format!("{base}/taxii2/"),
        api_root: format!("{base}/taxii2/api/"),
        public_id: crate::taxii::collection_id(state, Collection::Public),
        partners_id: crate::taxii::collection_id(state, Collection::Partners),
    }
}

/// A row of the served audit.
pub struct ServedView {
    pub peer: String,
    pub collection: String,
    pub stix_id: String,
    pub version: String,
    pub tlp: &'static str,
    pub tlp_class: String,
    pub at: String,
}

fn served_views(list: &[openwarp_store::Served]) -> Vec<ServedView> {
    list.iter()
        .map(|s| ServedView {
            peer: s.peer_name.clone(),
            collection: s.collection.clone(),
            stix_id: s.stix_id.clone(),
            version: openwarp_stix::Timestamp(s.modified).to_stix_string(),
            tlp: s.tlp.label(),
            tlp_class: tlp_class(s.tlp),
            at: timestamp(s.at),
        })
        .collect()
}

/// An AMBER advisory and the need-to-know peers it is released to.
pub struct Release {
    pub advisory_id: i64,
    pub title: String,
    pub peers: Vec<(i64, String, bool)>,
}

/// A token just issued, shown once.
pub struct Issued {
    pub peer: String,
    pub login: Option<String>,
    pub token: String,
}

#[derive(Template)]
#[template(path = "federation.html")]
struct FederationPage {
    layout: Layout,
    ours: OurEndpoint,
    peers: Vec<PeerView>,
    errors: FormErrors,
    form: PeerForm,
    releases: Vec<Release>,
    served: Vec<ServedView>,
    issued: Option<Issued>,
}

async fn federation_page(
    state: &AppState,
    session: &Session,
    code: Option<&str>,
) -> Result<FederationPage, AppError> {
    let peers = state.store.peers().await?;
    let ntk: Vec<&Peer> = peers
        .iter()
        .filter(|p| p.need_to_know && p.enabled)
        .collect();
    let amber = state
        .store
        .warp_advisories(&WarpAdvisoryFilter {
            status: Some(WarpStatus::Published),
            limit: Some(500),
            ..WarpAdvisoryFilter::default()
        })
        .await?;
    let mut releases = Vec::new();
    for a in amber.iter().filter(|a| a.draft.tlp == TlpLabel::Amber) {
        let released = state.store.need_to_know(&advisory_subject(a.id)).await?;
        releases.push(Release {
            advisory_id: a.id,
            title: a.draft.title.clone(),
            peers: ntk
                .iter()
                .map(|p| (p.id, p.name.clone(), released.contains(&p.id)))
                .collect(),
        });
    }
    Ok(FederationPage {
        layout: layout(
            state,
            session,
            "Partner WARPs: federation",
            "federation",
            code,
        ),
        ours: our_endpoint(state),
        peers: peers.iter().map(PeerView::from).collect(),
        errors: FormErrors::default(),
        form: PeerForm {
            audience: "partner".into(),
            poll_minutes: "15".into(),
            ..PeerForm::default()
        },
        releases,
        served: served_views(&state.store.served_log(None, 50).await?),
        issued: None,
    })
}

/// `GET /federation` (operators).
pub async fn index(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    render(&federation_page(&state, &session, q.notice.as_deref()).await?)
}

/// `POST /federation/peers`: add a peer; its read token is shown once.
pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SessionForm { session, form }: SessionForm<PeerForm>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    let draft = match form.input().validate() {
        Ok(d) => d,
        Err(v) => {
            let mut page = federation_page(&state, &session, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = form;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (peer, token) = match state.store.create_peer(&draft, openwarp_store::now()).await {
        Ok(x) => x,
        Err(openwarp_store::StoreError::Conflict(m)) => {
            let mut page = federation_page(&state, &session, None).await?;
            page.errors = FormErrors::labelled(
                {
                    let mut e = openwarp_core::ValidationErrors::new();
                    e.add("name", m);
                    e
                },
                labels,
            );
            page.form = form;
            return render_with(StatusCode::CONFLICT, &page);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &state,
        Some(&session.user),
        "federation.peer.create",
        None,
        &format!("peer:{}", peer.id),
        json!({"name": peer.name, "audience": peer.audience.as_str(), "need_to_know": peer.need_to_know, "polls": peer.polls()}),
        Some(&ip),
    )
    .await;
    let mut page = federation_page(&state, &session, None).await?;
    page.issued = Some(Issued {
        peer: peer.name,
        login: peer.incoming_login,
        token,
    });
    render(&page)
}

#[derive(Template)]
#[template(path = "federation_peer.html")]
struct PeerPage {
    layout: Layout,
    peer: PeerView,
    errors: FormErrors,
    form: PeerForm,
    has_secret: bool,
    objects_received: i64,
    served: Vec<ServedView>,
    issued: Option<Issued>,
    ours: OurEndpoint,
}

async fn peer_page(
    state: &AppState,
    session: &Session,
    id: i64,
    code: Option<&str>,
) -> Result<PeerPage, AppError> {
    let peer = state
        .store
        .peer(id)
        .await?
        .ok_or(AppError::NotFound("peer"))?;
    Ok(PeerPage {
        layout: layout(state, session, &peer.name, "federation", code),
        peer: PeerView::from(&peer),
        errors: FormErrors::default(),
        form: PeerForm::from_peer(&peer),
        has_secret: peer.has_outgoing_secret,
        objects_received: state.store.partner_object_count(peer.id).await?,
        served: served_views(&state.store.served_log(Some(peer.id), 500).await?),
        issued: None,
        ours: our_endpoint(state),
    })
}

/// `GET /federation/peers/{id}`.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    render(&peer_page(&state, &session, id, q.notice.as_deref()).await?)
}

/// `POST /federation/peers/{id}`: change a peer (an empty secret keeps it).
pub async fn update(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, form }: SessionForm<PeerForm>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    let result = match form.input().validate() {
        Ok(d) => state
            .store
            .update_peer(id, &d, openwarp_store::now())
            .await
            .map_err(|e| match e {
                openwarp_store::StoreError::Conflict(m) => {
                    let mut v = openwarp_core::ValidationErrors::new();
                    v.add("name", m);
                    AppError::Invalid(v)
                }
                e => e.into(),
            }),
        Err(v) => Err(AppError::Invalid(v)),
    };
    match result {
        Ok(peer) => {
            audit::record(
                &state,
                Some(&session.user),
                "federation.peer.update",
                None,
                &format!("peer:{id}"),
                json!({"name": peer.name, "audience": peer.audience.as_str(), "need_to_know": peer.need_to_know, "polls": peer.polls(), "secret_changed": !form.outgoing_secret.trim().is_empty()}),
                Some(&ip),
            )
            .await;
            Ok(Redirect::to(&format!("/federation/peers/{id}?notice=saved")).into_response())
        }
        Err(AppError::Invalid(v)) => {
            let mut page = peer_page(&state, &session, id, None).await?;
            page.errors = FormErrors::labelled(v, labels);
            page.form = PeerForm {
                outgoing_secret: String::new(),
                ..form
            };
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

async fn set_enabled(
    state: &AppState,
    session: &Session,
    id: i64,
    enabled: bool,
    ip: &str,
) -> Result<Response, AppError> {
    operators_only(session)?;
    state
        .store
        .set_peer_enabled(id, enabled, openwarp_store::now())
        .await?;
    audit::record(
        state,
        Some(&session.user),
        if enabled {
            "federation.peer.enable"
        } else {
            "federation.peer.disable"
        },
        None,
        &format!("peer:{id}"),
        json!({}),
        Some(ip),
    )
    .await;
    let code = if enabled { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/federation/peers/{id}?notice={code}")).into_response())
}

/// `POST /federation/peers/{id}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    set_enabled(&state, &session, id, true, &ip).await
}

/// `POST /federation/peers/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    set_enabled(&state, &session, id, false, &ip).await
}

/// `POST /federation/peers/{id}/token`: a new read token, shown once; the
/// old one stops working.
pub async fn rotate_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    let token = state
        .store
        .rotate_peer_token(id, openwarp_store::now())
        .await?;
    audit::record(
        &state,
        Some(&session.user),
        "federation.peer.token",
        None,
        &format!("peer:{id}"),
        json!({}),
        Some(&ip),
    )
    .await;
    let mut page = peer_page(&state, &session, id, None).await?;
    page.issued = Some(Issued {
        peer: page.peer.name.clone(),
        login: Some(page.form.incoming_login.clone()).filter(|l| !l.is_empty()),
        token,
    });
    render(&page)
}

/// `POST /federation/peers/{id}/poll`: poll at the next opportunity.
pub async fn poll_now(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SessionForm { session, .. }: SessionForm<super::session::Empty>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    state.store.poll_peer_soon(id).await?;
    Ok(Redirect::to(&format!("/federation/peers/{id}?notice=polling")).into_response())
}

/// The ids ticked as `peer` in a form.
fn ticked_ids(form: &[(String, String)], name: &str) -> Vec<i64> {
    form.iter()
        .filter(|(k, _)| k == name)
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect()
}

/// `POST /federation/releases/{advisory}`: the need-to-know peers a
/// published AMBER advisory goes to.
pub async fn release(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(advisory): Path<i64>,
    SessionForm { session, form }: SessionForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    operators_only(&session)?;
    let a = state
        .store
        .warp_advisory(advisory)
        .await?
        .ok_or(AppError::NotFound("WARP advisory"))?;
    if a.status != WarpStatus::Published || a.draft.tlp != TlpLabel::Amber {
        return Err(AppError::Conflict(
            "only a published TLP:AMBER advisory is released to need-to-know peers".into(),
        ));
    }
    let trusted: Vec<i64> = state
        .store
        .peers()
        .await?
        .iter()
        .filter(|p| p.need_to_know)
        .map(|p| p.id)
        .collect();
    let chosen: Vec<i64> = ticked_ids(&form, "peer")
        .into_iter()
        .filter(|p| trusted.contains(p))
        .collect();
    state
        .store
        .set_need_to_know(
            &advisory_subject(advisory),
            &chosen,
            session.user.id,
            openwarp_store::now(),
        )
        .await?;
    audit::record(
        &state,
        Some(&session.user),
        "federation.release",
        None,
        &format!("warp_advisory:{advisory}"),
        json!({"peers": chosen}),
        Some(&ip),
    )
    .await;
    Ok(Redirect::to("/federation?notice=released").into_response())
}

/// A partner object for a page.
pub struct PartnerView {
    pub kind: &'static str,
    pub name: String,
    pub description: String,
    pub tlp: &'static str,
    pub tlp_class: String,
    pub peer: String,
    pub collection: String,
    pub received: String,
    pub cves: Vec<String>,
}

fn kind_label(t: &str) -> &'static str {
    match t {
        "report" => "Advisory",
        "incident" => "Incident",
        "note" => "Lessons learnt",
        "vulnerability" => "Vulnerability",
        "indicator" => "Indicator",
        _ => "Other",
    }
}

fn partner_view(o: &openwarp_store::PartnerObject) -> PartnerView {
    PartnerView {
        kind: kind_label(&o.stix_type),
        name: o.name.clone(),
        description: o.description.clone(),
        tlp: o.tlp.label(),
        tlp_class: tlp_class(o.tlp),
        peer: o.peer_name.clone(),
        collection: o.collection.clone(),
        received: timestamp(o.received_at),
        cves: o.cves.clone(),
    }
}

/// What partner WARPs shared naming `cve` (their advisories, incidents,
/// lessons and indicators, not the bare vulnerability objects), as `actor`
/// may read it: shown on an exposure to that CVE.
pub async fn about_cve(
    state: &AppState,
    actor: &openwarp_core::Actor,
    cve: &str,
) -> Result<Vec<PartnerView>, AppError> {
    Ok(state
        .store
        .partner_objects_for_cve(cve)
        .await?
        .iter()
        .filter(|o| o.stix_type != "vulnerability" && member_may_read(actor, o.tlp))
        .map(partner_view)
        .collect())
}

/// A partner object about one of the member's exposures.
pub struct ExposureLinkView {
    pub object: PartnerView,
    pub cve: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    layout: Layout,
    affecting: Vec<ExposureLinkView>,
    reports: Vec<PartnerView>,
    incidents: Vec<PartnerView>,
    lessons: Vec<PartnerView>,
    indicators: Vec<PartnerView>,
    is_member: bool,
}

/// `GET /partners`: "From partner WARPs", as each reader's TLP allows.
pub async fn partners(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let may = |o: &openwarp_store::PartnerObject| member_may_read(&actor, o.tlp);
    let objects = state
        .store
        .partner_objects(&["report", "incident", "note", "indicator"], 500)
        .await?;
    let pick = |t: &str| -> Vec<PartnerView> {
        objects
            .iter()
            .filter(|o| o.stix_type == t && may(o))
            .map(partner_view)
            .collect()
    };
    let affecting = match session.user.org_id {
        Some(org) => state
            .store
            .partner_links_for_org(org)
            .await?
            .iter()
            .filter(|l| may(&l.object))
            .map(|l| ExposureLinkView {
                object: partner_view(&l.object),
                cve: l.cve.clone(),
                href: format!("/orgs/{}/exposure/{}", l.org_id.0, l.exposure_id),
            })
            .collect(),
        None => Vec::new(),
    };
    render(&PartnersPage {
        layout: layout(&state, &session, "From partner WARPs", "partners", None),
        affecting,
        reports: pick("report"),
        incidents: pick("incident"),
        lessons: pick("note"),
        indicators: pick("indicator"),
        is_member: session.user.org_id.is_some(),
    })
}

#[derive(Template)]
#[template(path = "federation_consent.html")]
struct ConsentPage {
    layout: Layout,
    id: String,
    title: String,
    shared: bool,
    tlp: &'static str,
    tlp_class: String,
    may_leave_at_all: bool,
    amber: bool,
    consented: bool,
    leaves: bool,
    can_decide: bool,
    peers: Vec<(i64, String, bool)>,
}

/// `GET /incidents/{id}/federation`: whether this incident's shared version
/// may leave the WARP; the reporter decides. Full readers only.
pub async fn consent_form(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let seen = crate::actions::incidents::visible(&state, &actor, &id).await?;
    if seen.view != IncidentView::Full {
        return Err(AppError::NotFound("incident"));
    }
    let i = &seen.incident;
    let facts = i.facts();
    let subject = incident_subject(&i.public_id);
    let consented = state.store.federation_consents().await?.contains(&subject);
    let released = state.store.need_to_know(&subject).await?;
    let peers = state
        .store
        .peers()
        .await?
        .iter()
        .filter(|p| p.need_to_know && p.audience == PeerAudience::Partner)
        .map(|p| (p.id, p.name.clone(), released.contains(&p.id)))
        .collect();
    let shared_tlp = i.shared.as_ref().map(|s| s.tlp);
    render(&ConsentPage {
        layout: layout(
            &state,
            &session,
            "Beyond this WARP",
            "incidents",
            q.notice.as_deref(),
        ),
        id: i.public_id.clone(),
        title: i.report.title.clone(),
        shared: facts.sharing == openwarp_core::incident::SharingState::Shared,
        tlp: shared_tlp.map_or("", |t| t.label()),
        tlp_class: shared_tlp.map(tlp_class).unwrap_or_default(),
        may_leave_at_all: shared_tlp.is_some_and(may_leave),
        amber: shared_tlp == Some(TlpLabel::Amber),
        consented,
        leaves: incident_leaves(&facts, consented),
        can_decide: can_consent(&actor, &facts),
        peers,
    })
}

/// `POST /incidents/{id}/federation`: give or withdraw consent (and choose
/// the need-to-know peers for AMBER). The reporting organisation only.
pub async fn consent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    SessionForm { session, form }: SessionForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let actor = session.user.actor();
    let seen = crate::actions::incidents::visible(&state, &actor, &id).await?;
    if seen.view != IncidentView::Full {
        return Err(AppError::NotFound("incident"));
    }
    let facts = seen.incident.facts();
    if !can_consent(&actor, &facts) {
        return Err(AppError::Forbidden(
            "only the reporter or their member lead decides whether an incident leaves the WARP"
                .into(),
        ));
    }
    let yes = form
        .iter()
        .any(|(k, v)| k == "may_leave" && !v.trim().is_empty());
    if yes
        && !(facts.sharing == openwarp_core::incident::SharingState::Shared
            && may_leave(facts.shared_tlp))
    {
        return Err(AppError::Conflict(
            "only a shared version at TLP:CLEAR, GREEN or AMBER may leave the WARP".into(),
        ));
    }
    let subject = incident_subject(&seen.incident.public_id);
    let now = openwarp_store::now();
    state
        .store
        .set_federation_consent(&subject, yes, session.user.id, now)
        .await?;
    let trusted: Vec<i64> = state
        .store
        .peers()
        .await?
        .iter()
        .filter(|p| p.need_to_know)
        .map(|p| p.id)
        .collect();
    let chosen: Vec<i64> = if yes && facts.shared_tlp == TlpLabel::Amber {
        ticked_ids(&form, "peer")
            .into_iter()
            .filter(|p| trusted.contains(p))
            .collect()
    } else {
        Vec::new()
    };
    state
        .store
        .set_need_to_know(&subject, &chosen, session.user.id, now)
        .await?;
    audit::record(
        &state,
        Some(&session.user),
        if yes {
            "federation.consent"
        } else {
            "federation.consent.withdraw"
        },
        Some(seen.incident.org_id),
        &format!("incident:{}", seen.incident.public_id),
        json!({"need_to_know_peers": chosen}),
        Some(&ip),
    )
    .await;
    Ok(Redirect::to(&format!("/incidents/{id}/federation?notice=consent_saved")).into_response())
}

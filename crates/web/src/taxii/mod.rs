//! The TAXII 2.1 server: what peer WARPs read from us.
//!
//! ```text
//! GET  /taxii2/                                              discovery
//! GET  /taxii2/api/                                          the API root
//! GET  /taxii2/api/collections/                              collections this peer may read
//! GET  /taxii2/api/collections/{id}/                         one collection
//! GET  /taxii2/api/collections/{id}/objects/                 objects (paged)
//! POST /taxii2/api/collections/{id}/objects/                 403: read-only
//! GET  /taxii2/api/collections/{id}/objects/{object}/        one object's versions (paged)
//! DEL  /taxii2/api/collections/{id}/objects/{object}/        403: read-only
//! GET  /taxii2/api/collections/{id}/objects/{object}/versions/
//! GET  /taxii2/api/collections/{id}/manifest/
//! GET  /taxii2/api/status/{id}/                              404: we accept no POSTs
//! ```
//!
//! Every request names a configured, enabled peer: HTTP Basic (the peer's
//! login and token) or a bearer token; anything else is a 401 with
//! `WWW-Authenticate`. A collection the peer may not read is a 404, as if it
//! did not exist (TAXII allows 403 or 404; a 404 does not reveal it). Two
//! collections: public (TLP:CLEAR) and partners (CLEAR, GREEN and AMBER
//! released to the peer as need-to-know), each object admitted by
//! [`openwarp_core::federation::Collection::admits`]. Responses are
//! `application/taxii+json;version=2.1`; an `Accept` that excludes it is a
//! 406, a POST in another content type a 415, and errors are TAXII error
//! messages. Object lists are paged by `limit` and an opaque `next`, with
//! `X-TAXII-Date-Added-First`/`-Last`; what each peer was sent is recorded.

pub mod publish;

use crate::AppState;
use crate::auth::ClientIp;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use chrono::{DateTime, Utc};
use openwarp_core::federation::Collection;
use openwarp_stix::taxii::{
    ApiRoot, CollectionResource, Collections, DATE_ADDED_FIRST, DATE_ADDED_LAST, Discovery,
    ErrorMessage, Manifest, ManifestRecord, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE, Versions,
};
use openwarp_stix::{Timestamp, derived_id};
use openwarp_store::{Peer, TaxiiRow};
use std::collections::BTreeMap;

/// Objects per page unless the client asks for fewer (or more, up to
/// [`MAX_LIMIT`]).
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// The TAXII routes, merged into the application's router.
pub fn routes() -> Router<AppState> {
    let c = "/taxii2/api/collections/{collection}";
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/api/", get(api_root))
        .route("/taxii2/api/collections/", get(collections))
        .route(&format!("{c}/"), get(collection))
        .route(&format!("{c}/objects/"), get(objects).post(add_objects))
        .route(
            &format!("{c}/objects/{{object}}/"),
            get(object).delete(delete_object),
        )
        .route(&format!("{c}/objects/{{object}}/versions/"), get(versions))
        .route(&format!("{c}/manifest/"), get(manifest))
        .route("/taxii2/api/status/{status}/", get(status))
        // Anything else under /taxii2/ is a TAXII 404 (after the credential
        // check), not the HTML page.
        .route("/taxii2/{*rest}", axum::routing::any(unknown))
}

/// A TAXII error: its status and a message in TAXII's error format.
#[derive(Debug)]
pub struct TaxiiError {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl TaxiiError {
    fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        TaxiiError {
            status,
            title,
            description: description.into(),
        }
    }
    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("{what} does not exist or you may not read it"),
        )
    }
}

impl From<crate::error::AppError> for TaxiiError {
    fn from(e: crate::error::AppError) -> Self {
        tracing::error!(error = %e, "TAXII request failed");
        TaxiiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server error",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl From<openwarp_store::StoreError> for TaxiiError {
    fn from(e: openwarp_store::StoreError) -> Self {
        crate::error::AppError::from(e).into()
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = ErrorMessage {
            title: self.title.to_owned(),
            description: Some(self.description),
            http_status: Some(self.status.as_u16().to_string()),
        };
        let mut response = taxii_json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"TAXII\", charset=\"UTF-8\""),
            );
            response.headers_mut().append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"TAXII\""),
            );
        }
        response
    }
}

type Result<T> = std::result::Result<T, TaxiiError>;

/// `body` as `application/taxii+json;version=2.1`.
fn taxii_json<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    taxii_text(status, to_json(body))
}

fn to_json<T: serde::Serialize>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned())
}

/// JSON text as `application/taxii+json;version=2.1`.
fn taxii_text(status: StatusCode, text: String) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether a media type (with parameters) is TAXII 2.1's.
fn is_taxii_21(media: &str) -> bool {
    let mut parts = media.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
    let mut version = None;
    for p in parts {
        if let Some((k, v)) = p.split_once('=')
            && k.trim().eq_ignore_ascii_case("version")
        {
            version = Some(v.trim().trim_matches('"').to_owned());
        }
    }
    essence == "application/taxii+json" && version.as_deref().is_none_or(|v| v == "2.1")
}

/// Whether the client accepts TAXII 2.1 (no `Accept` header: yes).
fn accepts_taxii(headers: &HeaderMap) -> bool {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return true;
    };
    let Ok(accept) = accept.to_str() else {
        return false;
    };
    accept.split(',').any(|range| {
        let essence = range.split(';').next().unwrap_or_default().trim();
        essence == "*/*" || essence == "application/*" || is_taxii_21(range)
    })
}

/// The peer making the request, after the credential and `Accept` checks.
/// Wrong credentials are limited per address, like API tokens.
async fn peer(state: &AppState, headers: &HeaderMap, ip: &str) -> Result<Peer> {
    match authenticated_peer(state, headers).await {
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            crate::limits::check(
                state,
                crate::limits::API_BAD_TOKENS,
                &crate::limits::address(ip),
            )
            .await
            .map_err(|limit| {
                TaxiiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests",
                    limit.to_string(),
                )
            })?;
            Err(e)
        }
        other => other,
    }
}

async fn authenticated_peer(state: &AppState, headers: &HeaderMap) -> Result<Peer> {
    let unauthorized = || {
        TaxiiError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required",
            "present the credentials this WARP issued you: HTTP Basic (login and token) or a bearer token",
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let (scheme, credential) = value.trim().split_once(' ').ok_or_else(unauthorized)?;
    let credential = credential.trim();
    let found = if scheme.eq_ignore_ascii_case("bearer") {
        state.store.peer_by_credentials(None, credential).await?
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(unauthorized)?;
        let (login, token) = decoded.split_once(':').ok_or_else(unauthorized)?;
        state.store.peer_by_credentials(Some(login), token).await?
    } else {
        None
    };
    let peer = found.ok_or_else(unauthorized)?;
    if !accepts_taxii(headers) {
        return Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers in {TAXII_MEDIA_TYPE}"),
        ));
    }
    Ok(peer)
}

/// The peer, the collection it asked for (if it may read it) and its query
/// parameters: how every read of a collection's objects starts.
async fn reading(
    state: &AppState,
    headers: &HeaderMap,
    ip: &str,
    collection: &str,
    raw: Option<&str>,
) -> Result<(Peer, Collection, Query)> {
    let peer = peer(state, headers, ip).await?;
    let c = readable(state, &peer, collection)?;
    let q = Query::parse(raw)?;
    Ok((peer, c, q))
}

/// A collection's TAXII id: a UUID derived from this WARP's address and the
/// collection, so it is stable and differs between WARPs.
pub fn collection_id(state: &AppState, c: Collection) -> String {
    collection_id_at(&state.config.public_url, &state.config.warp_name, c)
}

/// [`collection_id`] for a WARP at `public_url` (the demo's banner prints it).
pub fn collection_id_at(public_url: &str, warp_name: &str, c: Collection) -> String {
    let key = crate::stix_export::warp_identity(public_url, warp_name).key;
    let id = derived_id("x-taxii-collection", &[&key, c.key()]);
    id.split_once("--")
        .map(|(_, uuid)| uuid.to_owned())
        .unwrap_or(id)
}

fn api_root_url(state: &AppState) -> String {
    format!(
        "{}/taxii2/api/",
        state.config.public_url.trim_end_matches('/')
    )
}

fn resource(state: &AppState, c: Collection) -> CollectionResource {
    CollectionResource {
        id: collection_id(state, c),
        title: c.title().to_owned(),
        description: Some(match c {
            Collection::Public => format!(
                "What {} publishes for anyone it peers with.",
                state.config.warp_name
            ),
            Collection::Partners => format!(
                "What {} shares with partner WARPs: advisories, sanitised incidents and lessons learnt its members allowed to leave.",
                state.config.warp_name
            ),
        }),
        alias: Some(c.key().to_owned()),
        can_read: true,
        can_write: false,
        media_types: vec![STIX_MEDIA_TYPE.to_owned()],
    }
}

/// The collection named `id` if this peer may read it; else a 404.
fn readable(state: &AppState, peer: &Peer, id: &str) -> Result<Collection> {
    Collection::ALL
        .into_iter()
        .find(|c| collection_id(state, *c) == id || c.key() == id)
        .filter(|c| c.readable_by(peer.audience) && peer.enabled)
        .ok_or_else(|| TaxiiError::not_found("the collection"))
}

async fn discovery(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    peer(&state, &headers, &ip).await?;
    Ok(taxii_json(
        StatusCode::OK,
        &Discovery {
            title: format!("{} TAXII server", state.config.warp_name),
            description: Some(
                "STIX 2.1 from a UK local-government WARP to its peers, TLP enforced at the border."
                    .to_owned(),
            ),
            contact: None,
            default: Some(api_root_url(&state)),
            api_roots: vec![api_root_url(&state)],
        },
    ))
}

async fn api_root(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    peer(&state, &headers, &ip).await?;
    Ok(taxii_json(
        StatusCode::OK,
        &ApiRoot {
            title: state.config.warp_name.clone(),
            description: Some("Advisories, sanitised incidents and lessons learnt.".to_owned()),
            versions: vec![TAXII_MEDIA_TYPE.to_owned()],
            max_content_length: crate::MAX_BODY_BYTES as u64,
        },
    ))
}

async fn collections(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let peer = peer(&state, &headers, &ip).await?;
    let list = Collection::ALL
        .into_iter()
        .filter(|c| c.readable_by(peer.audience))
        .map(|c| resource(&state, c))
        .collect();
    Ok(taxii_json(
        StatusCode::OK,
        &Collections { collections: list },
    ))
}

async fn collection(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let peer = peer(&state, &headers, &ip).await?;
    let c = readable(&state, &peer, &id)?;
    Ok(taxii_json(StatusCode::OK, &resource(&state, c)))
}

/// Which versions of each object `match[version]` asks for.
#[derive(Debug, Clone, PartialEq)]
enum VersionFilter {
    Last,
    First,
    All,
    At(Vec<DateTime<Utc>>),
}

/// A collection read's query: filters and paging.
#[derive(Debug, Clone)]
struct Query {
    added_after: Option<DateTime<Utc>>,
    limit: usize,
    next: Option<(i64, i64)>,
    ids: Vec<String>,
    types: Vec<String>,
    versions: Option<VersionFilter>,
    spec_versions: Vec<String>,
}

fn bad_request(what: impl Into<String>) -> TaxiiError {
    TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", what)
}

fn parse_time(name: &str, raw: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad_request(format!("{name}: '{raw}' is not an RFC 3339 timestamp")))
}

fn parse_next(raw: &str) -> Result<(i64, i64)> {
    raw.split_once('-')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| bad_request("next: not a value this server gave out"))
}

fn next_token(row: &TaxiiRow) -> String {
    format!("{}-{}", row.date_added.timestamp_micros(), row.row_id)
}

impl Query {
    fn parse(raw: Option<&str>) -> Result<Query> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or_default())
            .map_err(|_| bad_request("the query string could not be read"))?;
        let mut q = Query {
            added_after: None,
            limit: DEFAULT_LIMIT,
            next: None,
            ids: Vec::new(),
            types: Vec::new(),
            versions: None,
            spec_versions: Vec::new(),
        };
        let split = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "added_after" => q.added_after = Some(parse_time("added_after", &v)?),
                "limit" => {
                    q.limit = v
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|l| *l >= 1)
                        .ok_or_else(|| bad_request("limit: give a whole number of at least 1"))?
                        .min(MAX_LIMIT)
                }
                "next" => q.next = Some(parse_next(&v)?),
                "match[id]" => q.ids.extend(split(&v)),
                "match[type]" => q.types.extend(split(&v)),
                "match[spec_version]" => q.spec_versions.extend(split(&v)),
                "match[version]" => {
                    let mut times = Vec::new();
                    let mut filter = None;
                    for item in split(&v) {
                        match item.as_str() {
                            "last" => filter = Some(VersionFilter::Last),
                            "first" => filter = Some(VersionFilter::First),
                            "all" => filter = Some(VersionFilter::All),
                            t => times.push(parse_time("match[version]", t)?),
                        }
                    }
                    q.versions = Some(match filter {
                        Some(f) if times.is_empty() => f,
                        Some(_) => {
                            return Err(bad_request(
                                "match[version]: give last, first, all or timestamps, not both",
                            ));
                        }
                        None => VersionFilter::At(times),
                    });
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

/// The object versions `peer` may read through `c` that `q` selects, in
/// `date_added` order, before paging.
async fn selected(
    state: &AppState,
    peer: &Peer,
    c: Collection,
    q: &Query,
    object: Option<&str>,
    default_versions: VersionFilter,
) -> Result<Vec<TaxiiRow>> {
    publish::refresh(state).await?;
    let grant = peer.grant();
    let rows = state.store.taxii_objects(peer.id, None).await?;
    let mut rows: Vec<TaxiiRow> = rows
        .into_iter()
        .filter(|r| {
            if r.revoked {
                c.admits_revocation(&grant, r.tlp, r.served_before)
            } else {
                c.admits(&grant, r.tlp, r.released)
            }
        })
        .filter(|r| object.is_none_or(|o| r.stix_id == o))
        .filter(|r| q.ids.is_empty() || q.ids.contains(&r.stix_id))
        .filter(|r| q.types.is_empty() || q.types.contains(&r.stix_type))
        .collect();
    if !q.spec_versions.is_empty() && !q.spec_versions.iter().any(|v| v == "2.1") {
        rows.clear();
    }
    // Versions are chosen among everything visible, then `added_after`
    // applies: "the latest version" means the latest there is.
    let versions = q.versions.clone().unwrap_or(default_versions);
    let mut by_object: BTreeMap<&str, Vec<&TaxiiRow>> = BTreeMap::new();
    for r in &rows {
        by_object.entry(r.stix_id.as_str()).or_default().push(r);
    }
    let mut keep = std::collections::BTreeSet::new();
    for list in by_object.values() {
        let chosen: Vec<&TaxiiRow> = match &versions {
            VersionFilter::All => list.clone(),
            VersionFilter::Last => list
                .iter()
                .max_by_key(|r| r.modified)
                .copied()
                .into_iter()
                .collect(),
            VersionFilter::First => list
                .iter()
                .min_by_key(|r| r.modified)
                .copied()
                .into_iter()
                .collect(),
            VersionFilter::At(times) => list
                .iter()
                .filter(|r| times.contains(&r.modified))
                .copied()
                .collect(),
        };
        keep.extend(chosen.iter().map(|r| r.row_id));
    }
    rows.retain(|r| keep.contains(&r.row_id));
    if let Some(after) = q.added_after {
        rows.retain(|r| r.date_added > after);
    }
    rows.sort_by_key(|r| (r.date_added, r.row_id));
    Ok(rows)
}

/// One page of `rows` from `q.next`: the page, and the token for the next.
fn page(rows: Vec<TaxiiRow>, q: &Query) -> (Vec<TaxiiRow>, Option<String>) {
    let mut rest: Vec<TaxiiRow> = match q.next {
        None => rows,
        Some((micros, id)) => rows
            .into_iter()
            .filter(|r| (r.date_added.timestamp_micros(), r.row_id) > (micros, id))
            .collect(),
    };
    let more = rest.len() > q.limit;
    rest.truncate(q.limit);
    let next = if more {
        rest.last().map(next_token)
    } else {
        None
    };
    (rest, next)
}

/// A list answer (its JSON text) with the date-added headers when the
/// page has any.
fn paged(json: String, rows: &[TaxiiRow]) -> Response {
    let mut response = taxii_text(StatusCode::OK, json);
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        for (name, t) in [(DATE_ADDED_FIRST, first), (DATE_ADDED_LAST, last)] {
            if let Ok(v) = HeaderValue::from_str(&Timestamp(t.date_added).to_stix_string()) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    response
}

/// Objects as sent, and the record of sending them: each version in the
/// peer's served log, and one entry in the hash-chained audit log per
/// answer that carried any.
async fn envelope(
    state: &AppState,
    peer: &Peer,
    ip: &str,
    c: Collection,
    rows: Vec<TaxiiRow>,
    next: Option<String>,
) -> Result<Response> {
    let served: Vec<_> = rows
        .iter()
        .map(|r| (r.stix_id.clone(), r.modified, r.tlp))
        .collect();
    let now = openwarp_store::now();
    state
        .store
        .record_served(peer.id, c.key(), &served, now)
        .await?;
    if !served.is_empty() {
        let objects: Vec<serde_json::Value> = served
            .iter()
            .map(|(id, modified, tlp)| {
                serde_json::json!({ "id": id, "modified": modified, "tlp": tlp.as_str() })
            })
            .collect();
        let actor = format!("peer:{}", peer.name);
        let target = format!("taxii:{}", c.key());
        let entry = openwarp_store::AuditEntry {
            actor_user_id: None,
            actor: &actor,
            action: "federation.send",
            org_id: None,
            target: &target,
            detail: serde_json::json!({ "peer_id": peer.id, "count": objects.len(), "objects": objects }),
            ip: Some(ip),
        };
        // Like every audit write: a failure is logged loudly, and the
        // objects (already on the served log) still go out.
        if let Err(e) = state.store.audit(entry, now).await {
            tracing::error!(error = %e, peer = %peer.name, "could not write the audit log");
        }
    }
    // The objects go out exactly as stored (our own serialisation, `type`
    // first), not re-parsed into a map that would reorder their keys.
    let mut body = String::from("{\"more\":");
    body.push_str(if next.is_some() { "true" } else { "false" });
    if let Some(n) = &next {
        body.push_str(",\"next\":");
        body.push_str(&serde_json::to_string(n).unwrap_or_else(|_| "\"\"".into()));
    }
    if !rows.is_empty() {
        body.push_str(",\"objects\":[");
        let objects: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
        body.push_str(&objects.join(","));
        body.push(']');
    }
    body.push('}');
    Ok(paged(body, &rows))
}

async fn objects(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (peer, c, q) = reading(&state, &headers, &ip, &id, raw.as_deref()).await?;
    let rows = selected(&state, &peer, c, &q, None, VersionFilter::Last).await?;
    let (rows, next) = page(rows, &q);
    envelope(&state, &peer, &ip, c, rows, next).await
}

async fn object(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((id, object)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (peer, c, q) = reading(&state, &headers, &ip, &id, raw.as_deref()).await?;
    let rows = selected(&state, &peer, c, &q, Some(&object), VersionFilter::Last).await?;
    if rows.is_empty() && q.added_after.is_none() && q.next.is_none() {
        return Err(TaxiiError::not_found("the object"));
    }
    let (rows, next) = page(rows, &q);
    envelope(&state, &peer, &ip, c, rows, next).await
}

async fn versions(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((id, object)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (peer, c, q) = reading(&state, &headers, &ip, &id, raw.as_deref()).await?;
    let rows = selected(&state, &peer, c, &q, Some(&object), VersionFilter::All).await?;
    if rows.is_empty() && q.added_after.is_none() && q.next.is_none() {
        return Err(TaxiiError::not_found("the object"));
    }
    let (rows, next) = page(rows, &q);
    let body = Versions {
        more: next.is_some(),
        next,
        versions: rows.iter().map(|r| Timestamp(r.modified)).collect(),
    };
    Ok(paged(to_json(&body), &rows))
}

async fn manifest(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (peer, c, q) = reading(&state, &headers, &ip, &id, raw.as_deref()).await?;
    let rows = selected(&state, &peer, c, &q, None, VersionFilter::Last).await?;
    let (rows, next) = page(rows, &q);
    let body = Manifest {
        more: next.is_some(),
        next,
        objects: rows
            .iter()
            .map(|r| ManifestRecord {
                id: r.stix_id.clone(),
                date_added: Timestamp(r.date_added),
                version: Timestamp(r.modified),
                media_type: Some(STIX_MEDIA_TYPE.to_owned()),
            })
            .collect(),
    };
    Ok(paged(to_json(&body), &rows))
}

fn read_only() -> TaxiiError {
    TaxiiError::new(
        StatusCode::FORBIDDEN,
        "Read-only collection",
        "peers read this WARP's collections; nothing can be added or deleted (can_write is false)",
    )
}

/// Adding objects: the content type is checked (415), then refused: our
/// collections are read-only for peers (403).
async fn add_objects(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let peer = peer(&state, &headers, &ip).await?;
    readable(&state, &peer, &id)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_taxii_21(content_type) {
        return Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send envelopes as {TAXII_MEDIA_TYPE}"),
        ));
    }
    Err(read_only())
}

async fn delete_object(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path((id, _object)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let peer = peer(&state, &headers, &ip).await?;
    readable(&state, &peer, &id)?;
    Err(read_only())
}

/// Any other address under `/taxii2/`.
async fn unknown(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    peer(&state, &headers, &ip).await?;
    Err(TaxiiError::not_found("the resource"))
}

/// Status resources exist only for accepted POSTs, and we accept none.
async fn status(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    peer(&state, &headers, &ip).await?;
    Err(TaxiiError::not_found("the status resource"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_negotiated_as_taxii_2_1() {
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json; version=\"2.1\""));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
        assert!(!is_taxii_21("application/json"));
        let mut h = HeaderMap::new();
        assert!(accepts_taxii(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts_taxii(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, application/taxii+json;version=2.1"),
        );
        assert!(accepts_taxii(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(accepts_taxii(&h));
    }

    #[test]
    fn queries_are_read_and_bad_ones_named() {
        let q = Query::parse(Some(
            "added_after=2026-01-01T00:00:00Z&limit=5000&match%5Btype%5D=report,vulnerability&match[version]=all",
        ))
        .unwrap();
        assert_eq!(q.limit, MAX_LIMIT);
        assert_eq!(q.types, ["report", "vulnerability"]);
        assert_eq!(q.versions, Some(VersionFilter::All));
        assert!(q.added_after.is_some());
        for bad in [
            "limit=0",
            "added_after=yesterday",
            "next=abc",
            "match[version]=last,2026-01-01T00:00:00Z",
        ] {
            assert!(Query::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}

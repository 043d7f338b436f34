//! Federation with peer WARPs over TAXII 2.1 (the rules are
//! [`openwarp_core::federation`]'s; the STIX is `openwarp-stix`'s).
//!
//! # Contract
//! - **Peers**: the token a peer reads us with is stored only as its SHA-256
//!   hash and shown once; the credential a peer gave us is kept to be used,
//!   never returned by any method but [`Store::claim_peer_poll`] (the
//!   poller's), so no page can show it back.
//! - **Publication**: [`Store::publish_taxii_objects`] records each new
//!   version (`stix_id`, `modified`) of what we publish once, with the time
//!   it was added (`date_added`, which orders the collections for paging),
//!   and replaces each object of a subject that may no longer leave (a
//!   withdrawn advisory, consent withdrawn) by a revocation. One transaction.
//! - **Reading a collection**: [`Store::taxii_objects`] returns every stored
//!   version with its label and whether its subject was released to the
//!   asking peer as need-to-know; the caller applies
//!   [`openwarp_core::federation::Collection::admits`] to each.
//! - **Polling**: one instance polls a peer at a time: [`Store::claim_peer_poll`]
//!   takes a lease with one conditional `UPDATE`; progress
//!   ([`Store::peer_poll_checkpoint`]) is saved only while the lease is held.
//! - **Received objects** are stored once per (peer, id, version): a second
//!   poll of the same page writes nothing.

use crate::sealing::SecretColumn;
use crate::{Result, Store, StoreError, conflict_on_unique, corrupt, crypto, on_pool};
use chrono::{DateTime, TimeDelta, Utc};
use openwarp_core::federation::{PeerAudience, PeerDraft, PeerGrant};
use openwarp_core::{OrgId, TlpLabel, UserId};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The subject prefix of a revocation (see [`Store::publish_taxii_objects`]).
const REVOKED: &str = "revoked:";

/// A peer WARP as operators see it: never any secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    /// The HTTP Basic login they read us with (a bearer token also works).
    pub incoming_login: Option<String>,
    pub has_incoming_token: bool,
    pub audience: PeerAudience,
    pub need_to_know: bool,
    pub api_root_url: Option<String>,
    pub collection_id: Option<String>,
    pub outgoing_login: Option<String>,
    pub has_outgoing_secret: bool,
    pub poll_minutes: i64,
    /// Where the next poll resumes (the last `X-TAXII-Date-Added-Last`).
    pub added_after: Option<DateTime<Utc>>,
    pub next_poll_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Objects stored by the last successful poll.
    pub last_received: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Peer {
    pub fn grant(&self) -> PeerGrant {
        PeerGrant {
            enabled: self.enabled,
            audience: self.audience,
            need_to_know: self.need_to_know,
        }
    }

    /// Whether we read this peer (an API root and collection are set).
    pub fn polls(&self) -> bool {
        self.api_root_url.is_some() && self.collection_id.is_some()
    }
}

/// What the poller needs to read one peer, credential included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPoll {
    pub peer_id: i64,
    pub name: String,
    pub api_root_url: String,
    pub collection_id: String,
    pub login: Option<String>,
    pub secret: Option<String>,
    pub added_after: Option<DateTime<Utc>>,
}

/// One object version we publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundObject {
    pub stix_id: String,
    pub stix_type: String,
    pub modified: DateTime<Utc>,
    /// Where it came from: `incident:{public id}`, `advisory:{id}`, or
    /// `common` (the WARP's identity, marking definitions).
    pub subject: String,
    /// CLEAR, GREEN or AMBER: nothing else may leave.
    pub tlp: TlpLabel,
    /// The object's JSON.
    pub body: String,
}

/// A stored object version, as a collection read sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxiiRow {
    pub row_id: i64,
    pub stix_id: String,
    pub stix_type: String,
    pub modified: DateTime<Utc>,
    pub date_added: DateTime<Utc>,
    pub tlp: TlpLabel,
    /// Whether its subject was released to the asking peer (need-to-know).
    pub released: bool,
    /// A revocation: the last version of a withdrawn object.
    pub revoked: bool,
    /// Whether the asking peer was ever sent this object.
    pub served_before: bool,
    pub body: String,
}

/// One object version served to a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub peer_id: i64,
    pub peer_name: String,
    pub collection: String,
    pub stix_id: String,
    pub modified: DateTime<Utc>,
    pub tlp: TlpLabel,
    pub at: DateTime<Utc>,
}

/// An object received from a peer, to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPartnerObject {
    pub stix_id: String,
    pub stix_type: String,
    pub modified: DateTime<Utc>,
    pub tlp: TlpLabel,
    pub name: String,
    pub description: String,
    pub cves: Vec<String>,
    pub body: String,
}

/// Partner intelligence as stored, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerObject {
    pub id: i64,
    pub peer_id: i64,
    pub peer_name: String,
    pub collection: String,
    pub stix_id: String,
    pub stix_type: String,
    pub modified: DateTime<Utc>,
    pub tlp: TlpLabel,
    pub name: String,
    pub description: String,
    pub cves: Vec<String>,
    pub received_at: DateTime<Utc>,
}

/// A partner object naming a CVE one of an organisation's active exposures
/// is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerExposureLink {
    pub object: PartnerObject,
    pub cve: String,
    pub exposure_id: i64,
    pub org_id: OrgId,
}

#[derive(sqlx::FromRow)]
struct PeerRow {
    id: i64,
    name: String,
    enabled: bool,
    incoming_login: Option<String>,
    has_incoming_token: bool,
    audience: String,
    need_to_know: bool,
    api_root_url: Option<String>,
    collection_id: Option<String>,
    outgoing_login: Option<String>,
    has_outgoing_secret: bool,
    poll_minutes: i64,
    added_after: Option<DateTime<Utc>>,
    next_poll_at: Option<DateTime<Utc>>,
    last_poll_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    last_received: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

macro_rules! peer_columns {
    () => {
        "id, name, enabled, incoming_login, \
     (incoming_token_hash IS NOT NULL) AS has_incoming_token, audience, need_to_know, \
     api_root_url, collection_id, outgoing_login, (outgoing_secret IS NOT NULL) AS has_outgoing_secret, \
     poll_minutes, added_after, next_poll_at, last_poll_at, last_success_at, last_error, \
     last_received, created_at, updated_at"
    };
}

impl TryFrom<PeerRow> for Peer {
    type Error = StoreError;
    fn try_from(r: PeerRow) -> Result<Peer> {
        Ok(Peer {
            audience: PeerAudience::parse(&r.audience)
                .ok_or_else(|| corrupt(format!("peer audience {}", r.audience)))?,
            id: r.id,
            name: r.name,
            enabled: r.enabled,
            incoming_login: r.incoming_login,
            has_incoming_token: r.has_incoming_token,
            need_to_know: r.need_to_know,
            api_root_url: r.api_root_url,
            collection_id: r.collection_id,
            outgoing_login: r.outgoing_login,
            has_outgoing_secret: r.has_outgoing_secret,
            poll_minutes: r.poll_minutes,
            added_after: r.added_after,
            next_poll_at: r.next_poll_at,
            last_poll_at: r.last_poll_at,
            last_success_at: r.last_success_at,
            last_error: r.last_error,
            last_received: r.last_received,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn tlp(raw: &str) -> Result<TlpLabel> {
    TlpLabel::parse(raw).ok_or_else(|| corrupt(format!("tlp {raw}")))
}

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: i64,
    peer_id: i64,
    peer_name: String,
    collection: String,
    stix_id: String,
    stix_type: String,
    modified: DateTime<Utc>,
    tlp: String,
    name: String,
    description: String,
    received_at: DateTime<Utc>,
}

macro_rules! partner_select {
    () => {
        "SELECT o.id, o.peer_id, p.name AS peer_name, o.collection, o.stix_id, \
     o.stix_type, o.modified, o.tlp, o.name, o.description, o.received_at \
     FROM partner_objects o JOIN federation_peers p ON p.id = o.peer_id"
    };
}

impl Store {
    async fn peer_row(&self, id: i64) -> Result<Option<Peer>> {
        let sql = concat!(
            "SELECT ",
            peer_columns!(),
            " FROM federation_peers WHERE id = $1"
        );
        let row: Option<PeerRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(Peer::try_from).transpose()
    }

    /// One peer, or `None`.
    pub async fn peer(&self, id: i64) -> Result<Option<Peer>> {
        self.peer_row(id).await
    }

    /// Every peer, by name.
    pub async fn peers(&self) -> Result<Vec<Peer>> {
        let sql = concat!(
            "SELECT ",
            peer_columns!(),
            " FROM federation_peers ORDER BY name, id"
        );
        let rows: Vec<PeerRow> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter().map(Peer::try_from).collect()
    }

    /// The credential we present to the peer, as it is to be stored.
    fn sealed_outgoing(&self, d: &PeerDraft) -> Result<Option<String>> {
        d.outgoing_secret
            .as_deref()
            .map(|s| self.seal_text(SecretColumn::PeerSecret, s))
            .transpose()
    }

    /// Add a peer. Returns it with the token it reads us with, which is
    /// stored only as a hash: show it once.
    pub async fn create_peer(&self, d: &PeerDraft, now: DateTime<Utc>) -> Result<(Peer, String)> {
        let token = crypto::new_token();
        let outgoing = self.sealed_outgoing(d)?;
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO federation_peers (name, enabled, incoming_login, incoming_token_hash, audience, \
             need_to_know, api_root_url, collection_id, outgoing_login, outgoing_secret, poll_minutes, \
             created_at, updated_at) VALUES ($1, TRUE, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             RETURNING id"
        )
        .bind(&d.name)
        .bind(&d.incoming_login)
        .bind(crypto::token_hash(&token))
        .bind(d.audience.as_str())
        .bind(d.need_to_know)
        .bind(&d.api_root_url)
        .bind(&d.collection_id)
        .bind(&d.outgoing_login)
        .bind(&outgoing)
        .bind(d.poll_minutes)
        .bind(now)
        .fetch_one(p)
        .await
        .map_err(conflict_on_unique(
            "a peer with this name or login already exists"
        ))
        })?;
        let peer = self
            .peer_row(id)
            .await?
            .ok_or(StoreError::NotFound("peer"))?;
        Ok((peer, token))
    }

    /// Change a peer. A draft without an outgoing secret keeps the stored
    /// one; changing where we read them starts their collection afresh.
    pub async fn update_peer(&self, id: i64, d: &PeerDraft, now: DateTime<Utc>) -> Result<Peer> {
        let before = self
            .peer_row(id)
            .await?
            .ok_or(StoreError::NotFound("peer"))?;
        let moved =
            before.api_root_url != d.api_root_url || before.collection_id != d.collection_id;
        let outgoing = self.sealed_outgoing(d)?;
        on_pool!(self, |p| {
            sqlx::query(
            "UPDATE federation_peers SET name = $1, incoming_login = $2, audience = $3, need_to_know = $4, \
             api_root_url = $5, collection_id = $6, outgoing_login = $7, \
             outgoing_secret = COALESCE($8, outgoing_secret), poll_minutes = $9, updated_at = $10, \
             added_after = CASE WHEN $11 THEN NULL ELSE added_after END, next_poll_at = NULL \
             WHERE id = $12"
        )
        .bind(&d.name)
        .bind(&d.incoming_login)
        .bind(d.audience.as_str())
        .bind(d.need_to_know)
        .bind(&d.api_root_url)
        .bind(&d.collection_id)
        .bind(&d.outgoing_login)
        .bind(&outgoing)
        .bind(d.poll_minutes)
        .bind(now)
        .bind(moved)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(conflict_on_unique(
            "a peer with this name or login already exists"
        ))
        })?;
        self.peer_row(id).await?.ok_or(StoreError::NotFound("peer"))
    }

    /// Enable or disable a peer: a disabled peer is neither served nor polled.
    pub async fn set_peer_enabled(&self, id: i64, enabled: bool, now: DateTime<Utc>) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE federation_peers SET enabled = $1, updated_at = $2, next_poll_at = NULL WHERE id = $3"
        )
        .bind(enabled)
        .bind(now)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("peer"));
        }
        Ok(())
    }

    /// A new token for a peer to read us with (the old one stops working).
    pub async fn rotate_peer_token(&self, id: i64, now: DateTime<Utc>) -> Result<String> {
        let token = crypto::new_token();
        let done = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE federation_peers SET incoming_token_hash = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(crypto::token_hash(&token))
        .bind(now)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("peer"));
        }
        Ok(token)
    }

    /// Seed a peer's incoming token (the demo prints it). Stored hashed.
    pub async fn set_peer_token(&self, id: i64, token: &str, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE federation_peers SET incoming_token_hash = $1, updated_at = $2 WHERE id = $3"
        )
        .bind(crypto::token_hash(token))
        .bind(now)
        .bind(id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The enabled peer reading us with `token` (a bearer token, or the
    /// password of HTTP Basic, when `login` must match too). `None` for
    /// anything else, disabled peers included.
    pub async fn peer_by_credentials(
        &self,
        login: Option<&str>,
        token: &str,
    ) -> Result<Option<Peer>> {
        let sql = concat!(
            "SELECT ",
            peer_columns!(),
            " FROM federation_peers WHERE incoming_token_hash = $1 AND enabled = TRUE"
        );
        let hash = crypto::token_hash(token);
        let row: Option<PeerRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(&hash)
            .fetch_optional(p)
            .await)?;
        let peer = row.map(Peer::try_from).transpose()?;
        Ok(peer.filter(|peer| match login {
            None => true,
            Some(login) => peer
                .incoming_login
                .as_deref()
                .is_some_and(|l| crypto::constant_time_eq(l, login)),
        }))
    }

    // --- The poller ---------------------------------------------------------

    /// Claim one enabled peer that is due for a poll (never polled, or its
    /// `next_poll_at` has come) for `holder` until `now + ttl`. `None` when
    /// none is due or every due one is held by another instance.
    pub async fn claim_peer_poll(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> Result<Option<PeerPoll>> {
        let due: Vec<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id FROM federation_peers WHERE enabled = TRUE AND api_root_url IS NOT NULL \
             AND collection_id IS NOT NULL AND (next_poll_at IS NULL OR next_poll_at <= $1) \
             AND (lease_holder IS NULL OR lease_until IS NULL OR lease_until <= $1 OR lease_holder = $2) \
             ORDER BY next_poll_at, id"
        )
        .bind(now)
        .bind(holder)
        .fetch_all(p)
        .await
        })?;
        let until = now
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        for (id,) in due {
            let claimed: Option<PollRow> = on_pool!(self, |p| {
                sqlx::query_as(
                "UPDATE federation_peers SET lease_holder = $1, lease_until = $2 \
                 WHERE id = $3 AND enabled = TRUE \
                 AND (lease_holder IS NULL OR lease_until IS NULL OR lease_until <= $4 OR lease_holder = $1) \
                 RETURNING id, name, api_root_url, collection_id, outgoing_login, outgoing_secret, added_after"
            )
            .bind(holder)
            .bind(until)
            .bind(id)
            .bind(now)
            .fetch_optional(p)
            .await
            })?;
            if let Some(r) = claimed {
                let (Some(api_root_url), Some(collection_id)) = (r.api_root_url, r.collection_id)
                else {
                    continue;
                };
                return Ok(Some(PeerPoll {
                    peer_id: r.id,
                    name: r.name,
                    api_root_url,
                    collection_id,
                    login: r.outgoing_login,
                    secret: r
                        .outgoing_secret
                        .map(|s| self.open_text(SecretColumn::PeerSecret, &s))
                        .transpose()?,
                    added_after: r.added_after,
                }));
            }
        }
        Ok(None)
    }

    /// Save where the next poll resumes, while `holder` holds the lease.
    /// `false`: the lease was lost (nothing written; stop).
    pub async fn peer_poll_checkpoint(
        &self,
        peer_id: i64,
        holder: &str,
        added_after: DateTime<Utc>,
    ) -> Result<bool> {
        let done = on_pool!(self, |p| sqlx::query(
            "UPDATE federation_peers SET added_after = $1 WHERE id = $2 AND lease_holder = $3"
        )
        .bind(added_after)
        .bind(peer_id)
        .bind(holder)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// Record how a poll went (`Ok(objects stored)` or the error in words),
    /// schedule the next one and give up the lease.
    pub async fn peer_poll_finished(
        &self,
        peer_id: i64,
        holder: &str,
        now: DateTime<Utc>,
        outcome: std::result::Result<u64, String>,
    ) -> Result<()> {
        let (received, error) = match outcome {
            Ok(n) => (Some(i64::try_from(n).unwrap_or(i64::MAX)), None),
            Err(e) => (None, Some(e.chars().take(1000).collect::<String>())),
        };
        let minutes = self.peer_row(peer_id).await?.map_or(15, |p| p.poll_minutes);
        let next = now + TimeDelta::minutes(minutes);
        on_pool!(self, |p| sqlx::query(
            "UPDATE federation_peers SET last_poll_at = $1, \
             last_success_at = CASE WHEN $2 IS NULL THEN $1 ELSE last_success_at END, \
             last_error = $2, last_received = COALESCE($3, last_received), \
             next_poll_at = $4, lease_holder = NULL, lease_until = NULL \
             WHERE id = $5 AND lease_holder = $6"
        )
        .bind(now)
        .bind(&error)
        .bind(received)
        .bind(next)
        .bind(peer_id)
        .bind(holder)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Poll this peer at the next opportunity (an operator's "poll now").
    pub async fn poll_peer_soon(&self, peer_id: i64) -> Result<()> {
        on_pool!(self, |p| sqlx::query(
            "UPDATE federation_peers SET next_poll_at = NULL WHERE id = $1"
        )
        .bind(peer_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Store what a poll of `peer_id`'s `collection` returned, in one
    /// transaction. Versions already stored are skipped. Returns how many
    /// were new.
    pub async fn store_partner_objects(
        &self,
        peer_id: i64,
        collection: &str,
        objects: &[NewPartnerObject],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let new = on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                let mut new = 0u64;
                for o in objects {
                    let id: Option<(i64,)> = sqlx::query_as(
                        "INSERT INTO partner_objects (peer_id, collection, stix_id, stix_type, modified, tlp, \
                         name, description, body, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (peer_id, stix_id, modified) DO NOTHING RETURNING id",
                    )
                    .bind(peer_id)
                    .bind(collection)
                    .bind(&o.stix_id)
                    .bind(&o.stix_type)
                    .bind(o.modified)
                    .bind(o.tlp.as_str())
                    .bind(&o.name)
                    .bind(&o.description)
                    .bind(&o.body)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((id,)) = id else { continue };
                    new += 1;
                    for cve in o.cves.iter().collect::<BTreeSet<_>>() {
                        sqlx::query(
                            "INSERT INTO partner_cves (partner_object_id, cve) VALUES ($1, $2) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(id)
                        .bind(cve)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(new)
            }
            .await
        })?;
        Ok(new)
    }

    async fn partner_rows(&self, sql: String, bind: Option<i64>) -> Result<Vec<PartnerObject>> {
        let rows: Vec<PartnerRow> = on_pool!(self, |p| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()));
            if let Some(b) = bind {
                q = q.bind(b);
            }
            q.fetch_all(p).await
        })?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let cves = self.partner_cves_of(&ids).await?;
        rows.into_iter()
            .map(|r| {
                Ok(PartnerObject {
                    cves: cves
                        .iter()
                        .filter(|(id, _)| *id == r.id)
                        .map(|(_, c)| c.clone())
                        .collect(),
                    tlp: tlp(&r.tlp)?,
                    id: r.id,
                    peer_id: r.peer_id,
                    peer_name: r.peer_name,
                    collection: r.collection,
                    stix_id: r.stix_id,
                    stix_type: r.stix_type,
                    modified: r.modified,
                    name: r.name,
                    description: r.description,
                    received_at: r.received_at,
                })
            })
            .collect()
    }

    async fn partner_cves_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT partner_object_id, cve FROM partner_cves WHERE partner_object_id IN ({list}) ORDER BY cve"
        );
        Ok(on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.clone()
        ))
        .fetch_all(p)
        .await)?)
    }

    /// Forget what `peer_id` revoked (every version of each object id):
    /// withdrawn by the WARP that sent it. Returns how many versions went.
    pub async fn revoke_partner_objects(&self, peer_id: i64, stix_ids: &[String]) -> Result<u64> {
        let mut gone = 0;
        for id in stix_ids {
            gone += on_pool!(self, |p| sqlx::query(
                "DELETE FROM partner_objects WHERE peer_id = $1 AND stix_id = $2"
            )
            .bind(peer_id)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(gone)
    }

    /// The latest version of each received object of the given types,
    /// newest first, at most `limit`. The caller filters by TLP.
    pub async fn partner_objects(&self, types: &[&str], limit: i64) -> Result<Vec<PartnerObject>> {
        let types = types
            .iter()
            .filter(|t| t.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        if types.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{} WHERE o.stix_type IN ({types}) AND o.modified = \
             (SELECT MAX(x.modified) FROM partner_objects x WHERE x.peer_id = o.peer_id AND x.stix_id = o.stix_id) \
             ORDER BY o.received_at DESC, o.id DESC LIMIT {}",
            partner_select!(),
            limit.clamp(1, 1000)
        );
        self.partner_rows(sql, None).await
    }

    /// How many object versions each peer has sent us.
    pub async fn partner_object_count(&self, peer_id: i64) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT COUNT(*) FROM partner_objects WHERE peer_id = $1"
        )
        .bind(peer_id)
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Received objects naming a CVE that one of `org`'s active exposures is
    /// about (through `partner_cves` and the exposures' `vuln_id` index).
    pub async fn partner_links_for_org(&self, org: OrgId) -> Result<Vec<PartnerExposureLink>> {
        let links: Vec<(i64, String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT c.partner_object_id, c.cve, MIN(e.id) FROM partner_cves c \
             JOIN exposures e ON e.vuln_id = c.cve AND e.org_id = $1 AND e.active = TRUE \
             GROUP BY c.partner_object_id, c.cve ORDER BY c.cve"
        )
        .bind(org.0)
        .fetch_all(p)
        .await)?;
        let ids: BTreeSet<i64> = links.iter().map(|l| l.0).collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let objects = self
            .partner_rows(
                format!(
                    "{} WHERE o.id IN ({list}) ORDER BY o.received_at DESC",
                    partner_select!()
                ),
                None,
            )
            .await?;
        Ok(links
            .into_iter()
            .filter_map(|(id, cve, exposure_id)| {
                objects
                    .iter()
                    .find(|o| o.id == id)
                    .map(|object| PartnerExposureLink {
                        object: object.clone(),
                        cve,
                        exposure_id,
                        org_id: org,
                    })
            })
            .collect())
    }

    /// Received objects naming `cve` (for an exposure's page), newest first.
    pub async fn partner_objects_for_cve(&self, cve: &str) -> Result<Vec<PartnerObject>> {
        let ids: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT partner_object_id FROM partner_cves WHERE cve = $1"
        )
        .bind(cve)
        .fetch_all(p)
        .await)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids
            .iter()
            .map(|(i,)| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        self.partner_rows(
            format!(
                "{} WHERE o.id IN ({list}) ORDER BY o.received_at DESC",
                partner_select!()
            ),
            None,
        )
        .await
    }

    // --- Consent and need-to-know ------------------------------------------

    /// Record (or, with `consented = false`, withdraw) the reporter's consent
    /// for `subject` to leave the WARP.
    pub async fn set_federation_consent(
        &self,
        subject: &str,
        consented: bool,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if consented {
            on_pool!(self, |p| sqlx::query(
                "INSERT INTO federation_consents (subject, by_user, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (subject) DO UPDATE SET by_user = $2, at = $3"
            )
            .bind(subject)
            .bind(by.0)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        } else {
            on_pool!(self, |p| sqlx::query(
                "DELETE FROM federation_consents WHERE subject = $1"
            )
            .bind(subject)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Every subject with consent to leave the WARP.
    pub async fn federation_consents(&self) -> Result<BTreeSet<String>> {
        let rows: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT subject FROM federation_consents"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Replace the peers `subject` is released to as need-to-know (AMBER).
    pub async fn set_need_to_know(
        &self,
        subject: &str,
        peers: &[i64],
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                sqlx::query("DELETE FROM federation_need_to_know WHERE subject = $1")
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
                for peer in peers.iter().collect::<BTreeSet<_>>() {
                    sqlx::query(
                        "INSERT INTO federation_need_to_know (subject, peer_id, by_user, at) \
                         SELECT $1, id, $3, $4 FROM federation_peers WHERE id = $2",
                    )
                    .bind(subject)
                    .bind(peer)
                    .bind(by.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(())
            }
            .await
        })?;
        Ok(())
    }

    /// The peers `subject` is released to as need-to-know.
    pub async fn need_to_know(&self, subject: &str) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT peer_id FROM federation_need_to_know WHERE subject = $1 ORDER BY peer_id"
        )
        .bind(subject)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(i,)| i).collect())
    }

    // --- Publication --------------------------------------------------------

    /// Bring what we publish up to date with `objects` (everything that may
    /// leave now), in one transaction, safe to run from several requests at
    /// once. Returns how many versions were added.
    ///
    /// - Each version not yet stored is added with `date_added = now`.
    /// - A subject that may no longer leave (other than `common`) is
    ///   **revoked**: each of its objects gets a last version marked
    ///   `"revoked": true` (`modified = now`, subject `revoked:{subject}`),
    ///   and every earlier version is removed, so its content is served to
    ///   nobody again; the caller serves the revocation only to peers that
    ///   were sent the object.
    /// - A subject that may leave again loses its revocations.
    pub async fn publish_taxii_objects(
        &self,
        objects: &[OutboundObject],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        type Known = (String, String, DateTime<Utc>, String, String, String);
        let subjects: BTreeSet<&str> = objects.iter().map(|o| o.subject.as_str()).collect();
        let known: Vec<Known> = on_pool!(self, |p| sqlx::query_as(
            "SELECT stix_id, stix_type, modified, subject, tlp, body FROM taxii_objects"
        )
        .fetch_all(p)
        .await)?;
        let stored: BTreeSet<(&str, DateTime<Utc>)> = known
            .iter()
            .map(|(id, _, m, _, _, _)| (id.as_str(), *m))
            .collect();
        let gone: BTreeSet<&str> = known
            .iter()
            .map(|(_, _, _, s, _, _)| s.as_str())
            .filter(|s| *s != "common" && !s.starts_with(REVOKED) && !subjects.contains(s))
            .collect();
        let back: BTreeSet<&str> = known
            .iter()
            .filter_map(|(_, _, _, s, _, _)| s.strip_prefix(REVOKED))
            .filter(|s| subjects.contains(s))
            .collect();
        // The revocation of each object of a gone subject: its latest
        // version, marked revoked, as of now.
        let mut latest: BTreeMap<&str, &Known> = BTreeMap::new();
        for k in known.iter().filter(|k| gone.contains(k.3.as_str())) {
            let entry = latest.entry(k.0.as_str()).or_insert(k);
            if k.2 > entry.2 {
                *entry = k;
            }
        }
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let mut revocations = Vec::new();
        for (id, k) in latest {
            let mut body: serde_json::Value = serde_json::from_str(&k.5).map_err(corrupt)?;
            if let Some(map) = body.as_object_mut() {
                map.insert("revoked".into(), serde_json::Value::Bool(true));
                map.insert("modified".into(), serde_json::Value::String(stamp.clone()));
            }
            revocations.push(OutboundObject {
                stix_id: id.to_owned(),
                stix_type: k.1.clone(),
                modified: now,
                subject: format!("{REVOKED}{}", k.3),
                tlp: tlp(&k.4)?,
                body: serde_json::to_string(&body).map_err(corrupt)?,
            });
        }
        let fresh: Vec<&OutboundObject> = objects
            .iter()
            .filter(|o| !stored.contains(&(o.stix_id.as_str(), o.modified)))
            .filter(|o| openwarp_core::federation::may_leave(o.tlp))
            .chain(revocations.iter())
            .collect();
        if fresh.is_empty() && gone.is_empty() && back.is_empty() {
            return Ok(0);
        }
        let added = on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                for s in &gone {
                    sqlx::query("DELETE FROM taxii_objects WHERE subject = $1")
                        .bind(*s)
                        .execute(&mut *tx)
                        .await?;
                }
                for s in &back {
                    sqlx::query("DELETE FROM taxii_objects WHERE subject = $1")
                        .bind(format!("{REVOKED}{s}"))
                        .execute(&mut *tx)
                        .await?;
                }
                let mut added = 0u64;
                for o in &fresh {
                    added += sqlx::query(
                        "INSERT INTO taxii_objects (stix_id, stix_type, modified, subject, tlp, body, date_added) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stix_id, modified) DO NOTHING",
                    )
                    .bind(&o.stix_id)
                    .bind(&o.stix_type)
                    .bind(o.modified)
                    .bind(&o.subject)
                    .bind(o.tlp.as_str())
                    .bind(&o.body)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(added)
            }
            .await
        })?;
        Ok(added)
    }

    /// Every published object version added after `added_after` (all when
    /// `None`), oldest first by `date_added`, each with whether its subject
    /// was released to `peer_id` as need-to-know, whether it is a
    /// revocation, and whether this peer was ever sent the object. The
    /// caller decides what the peer may read
    /// ([`openwarp_core::federation::Collection::admits`]).
    pub async fn taxii_objects(
        &self,
        peer_id: i64,
        added_after: Option<DateTime<Utc>>,
    ) -> Result<Vec<TaxiiRow>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            stix_id: String,
            stix_type: String,
            modified: DateTime<Utc>,
            date_added: DateTime<Utc>,
            tlp: String,
            subject: String,
            released: bool,
            served_before: bool,
            body: String,
        }
        let since = added_after.unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        let rows: Vec<Row> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT o.id, o.stix_id, o.stix_type, o.modified, o.date_added, o.tlp, o.subject, \
             EXISTS (SELECT 1 FROM federation_need_to_know n WHERE n.subject = o.subject AND n.peer_id = $1) \
               AS released, \
             EXISTS (SELECT 1 FROM taxii_served s WHERE s.peer_id = $1 AND s.stix_id = o.stix_id) \
               AS served_before, \
             o.body FROM taxii_objects o WHERE o.date_added > $2 ORDER BY o.date_added, o.id"
        )
        .bind(peer_id)
        .bind(since)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(TaxiiRow {
                    row_id: r.id,
                    revoked: r.subject.starts_with(REVOKED),
                    stix_id: r.stix_id,
                    stix_type: r.stix_type,
                    modified: r.modified,
                    date_added: r.date_added,
                    tlp: tlp(&r.tlp)?,
                    released: r.released,
                    served_before: r.served_before,
                    body: r.body,
                })
            })
            .collect()
    }

    /// Record that these object versions were served to `peer_id` through
    /// `collection`: the audit of what was sent to whom.
    pub async fn record_served(
        &self,
        peer_id: i64,
        collection: &str,
        served: &[(String, DateTime<Utc>, TlpLabel)],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if served.is_empty() {
            return Ok(());
        }
        on_pool!(self, |p| {
            async {
                let mut tx = p.begin().await?;
                for (stix_id, modified, t) in served {
                    sqlx::query(
                        "INSERT INTO taxii_served (peer_id, collection, stix_id, modified, tlp, at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(peer_id)
                    .bind(collection)
                    .bind(stix_id)
                    .bind(modified)
                    .bind(t.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok::<_, sqlx::Error>(())
            }
            .await
        })?;
        Ok(())
    }

    /// What was served, newest first: to one peer or to all.
    pub async fn served_log(&self, peer_id: Option<i64>, limit: i64) -> Result<Vec<Served>> {
        type Row = (
            i64,
            String,
            String,
            String,
            DateTime<Utc>,
            String,
            DateTime<Utc>,
        );
        let filter = "WHERE ($1 = 0 OR s.peer_id = $1)";
        let sql = format!(
            "SELECT s.peer_id, p.name, s.collection, s.stix_id, s.modified, s.tlp, s.at \
             FROM taxii_served s JOIN federation_peers p ON p.id = s.peer_id {filter} \
             ORDER BY s.at DESC, s.id DESC LIMIT {}",
            limit.clamp(1, 5000)
        );
        let rows: Vec<Row> = on_pool!(self, |p| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(peer_id.unwrap_or(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(
                |(peer_id, peer_name, collection, stix_id, modified, t, at)| {
                    Ok(Served {
                        peer_id,
                        peer_name,
                        collection,
                        stix_id,
                        modified,
                        tlp: tlp(&t)?,
                        at,
                    })
                },
            )
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct PollRow {
    id: i64,
    name: String,
    api_root_url: Option<String>,
    collection_id: Option<String>,
    outgoing_login: Option<String>,
    outgoing_secret: Option<String>,
    added_after: Option<DateTime<Utc>>,
}

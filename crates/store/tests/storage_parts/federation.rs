//! Federation on every backend: peers whose incoming token is kept only as a
//! hash and whose outgoing credential is never shown back, publication that
//! adds each object version once and drops what may no longer leave, the
//! poller's lease, received objects stored once, and the served audit.

use super::{t0, user};
use chrono::Duration;
use openwarp_core::federation::{PeerAudience, PeerInput};
use openwarp_core::{Role, TlpLabel};
use openwarp_store::testing::all_backends;
use openwarp_store::{NewPartnerObject, OutboundObject, StoreError};

fn peer(name: &str, login: &str, polls: bool) -> openwarp_core::federation::PeerDraft {
    PeerInput {
        name: name.into(),
        audience: "partner".into(),
        need_to_know: true,
        incoming_login: login.into(),
        api_root_url: if polls {
            "https://peer.example/taxii2/api/".into()
        } else {
            String::new()
        },
        collection_id: if polls {
            "abc-123".into()
        } else {
            String::new()
        },
        outgoing_secret: if polls {
            "their-secret".into()
        } else {
            String::new()
        },
        ..PeerInput::default()
    }
    .validate()
    .expect("valid peer")
}

fn object(id: &str, subject: &str, tlp: TlpLabel, minutes: i64) -> OutboundObject {
    OutboundObject {
        stix_id: id.into(),
        stix_type: id.split("--").next().unwrap_or("x").into(),
        modified: t0() + Duration::minutes(minutes),
        subject: subject.into(),
        tlp,
        body: format!("{{\"id\":\"{id}\"}}"),
    }
}

#[tokio::test]
async fn peers_read_us_with_a_token_kept_only_as_a_hash() {
    for db in all_backends().await {
        let s = &db.store;
        let (nw, token) = s
            .create_peer(&peer("North West WARP", "nwwarp", true), t0())
            .await
            .unwrap();
        assert!(nw.has_incoming_token && nw.has_outgoing_secret && nw.polls());
        assert_eq!(nw.audience, PeerAudience::Partner);
        // Bearer, and Basic with the right login; nothing else.
        assert_eq!(
            s.peer_by_credentials(None, &token)
                .await
                .unwrap()
                .map(|p| p.id),
            Some(nw.id)
        );
        assert!(
            s.peer_by_credentials(Some("nwwarp"), &token)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            s.peer_by_credentials(Some("other"), &token)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.peer_by_credentials(None, "wrong")
                .await
                .unwrap()
                .is_none()
        );
        // The token is not stored in clear anywhere a peer listing reaches.
        let listed = format!("{:?}", s.peers().await.unwrap());
        assert!(
            !listed.contains(&token) && !listed.contains("their-secret"),
            "{listed}"
        );
        // Disabled: refused.
        s.set_peer_enabled(nw.id, false, t0()).await.unwrap();
        assert!(s.peer_by_credentials(None, &token).await.unwrap().is_none());
        s.set_peer_enabled(nw.id, true, t0()).await.unwrap();
        // A rotated token replaces the old one.
        let fresh = s.rotate_peer_token(nw.id, t0()).await.unwrap();
        assert!(s.peer_by_credentials(None, &token).await.unwrap().is_none());
        assert!(s.peer_by_credentials(None, &fresh).await.unwrap().is_some());
        // An edit without a secret keeps the stored one.
        let mut d = peer("North West WARP", "nwwarp", true);
        d.outgoing_secret = None;
        let edited = s.update_peer(nw.id, &d, t0()).await.unwrap();
        assert!(edited.has_outgoing_secret);
        let claim = s
            .claim_peer_poll("a", t0(), Duration::minutes(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claim.secret.as_deref(), Some("their-secret"));
        // Names and logins are unique.
        let clash = s
            .create_peer(&peer("North West WARP", "x", false), t0())
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
        let clash = s.create_peer(&peer("Other", "nwwarp", false), t0()).await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    }
}

#[tokio::test]
async fn one_instance_polls_a_peer_and_progress_needs_the_lease() {
    for db in all_backends().await {
        let s = &db.store;
        let (p, _) = s
            .create_peer(&peer("Wales WARP", "wales", true), t0())
            .await
            .unwrap();
        let (_quiet, _) = s
            .create_peer(&peer("Reads us only", "reader", false), t0())
            .await
            .unwrap();
        let a = s
            .claim_peer_poll("a", t0(), Duration::minutes(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.peer_id, p.id);
        assert_eq!(a.added_after, None);
        // Another instance gets nothing while the lease holds; the peer that
        // we do not read is never claimed.
        assert!(
            s.claim_peer_poll("b", t0(), Duration::minutes(5))
                .await
                .unwrap()
                .is_none()
        );
        let mark = t0() + Duration::seconds(7);
        assert!(!s.peer_poll_checkpoint(p.id, "b", mark).await.unwrap());
        assert!(s.peer_poll_checkpoint(p.id, "a", mark).await.unwrap());
        s.peer_poll_finished(p.id, "a", t0(), Ok(3)).await.unwrap();
        let after = s.peer(p.id).await.unwrap().unwrap();
        assert_eq!(after.added_after, Some(mark));
        assert_eq!(after.last_received, 3);
        assert_eq!(after.last_success_at, Some(t0()));
        assert_eq!(after.next_poll_at, Some(t0() + Duration::minutes(15)));
        // Not due yet; due after the interval, resuming where it stopped.
        assert!(
            s.claim_peer_poll("b", t0() + Duration::minutes(1), Duration::minutes(5))
                .await
                .unwrap()
                .is_none()
        );
        let b = s
            .claim_peer_poll("b", t0() + Duration::minutes(16), Duration::minutes(5))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.added_after, Some(mark));
        s.peer_poll_finished(
            p.id,
            "b",
            t0() + Duration::minutes(16),
            Err("HTTP 401 from peer".into()),
        )
        .await
        .unwrap();
        let failed = s.peer(p.id).await.unwrap().unwrap();
        assert_eq!(failed.last_error.as_deref(), Some("HTTP 401 from peer"));
        assert_eq!(failed.last_success_at, Some(t0()));
        // An expired lease can be taken over.
        s.poll_peer_soon(p.id).await.unwrap();
        let _ = s
            .claim_peer_poll("c", t0() + Duration::minutes(20), Duration::minutes(1))
            .await
            .unwrap()
            .unwrap();
        assert!(
            s.claim_peer_poll("d", t0() + Duration::minutes(30), Duration::minutes(1))
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test]
async fn publication_adds_each_version_once_and_drops_what_may_no_longer_leave() {
    for db in all_backends().await {
        let s = &db.store;
        let (p, _) = s
            .create_peer(&peer("Scotland WARP", "scot", false), t0())
            .await
            .unwrap();
        let op = user(s, "op@warp.example", Role::Operator, None).await;
        let first = vec![
            object("identity--w", "common", TlpLabel::Clear, 0),
            object("report--a", "advisory:1", TlpLabel::Green, 0),
            object("incident--i", "incident:INC-1", TlpLabel::Amber, 0),
        ];
        assert_eq!(s.publish_taxii_objects(&first, t0()).await.unwrap(), 3);
        assert_eq!(
            s.publish_taxii_objects(&first, t0() + Duration::minutes(1))
                .await
                .unwrap(),
            0
        );
        let rows = s.taxii_objects(p.id, None).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| !r.released));
        // Released to this peer as need-to-know.
        s.set_need_to_know("incident:INC-1", &[p.id], op.id, t0())
            .await
            .unwrap();
        assert_eq!(s.need_to_know("incident:INC-1").await.unwrap(), [p.id]);
        let rows = s.taxii_objects(p.id, None).await.unwrap();
        assert!(
            rows.iter()
                .find(|r| r.stix_id == "incident--i")
                .unwrap()
                .released
        );
        // A new version is added later; paging by date_added sees only it.
        let later = t0() + Duration::minutes(5);
        let mut second = first.clone();
        second[1] = object("report--a", "advisory:1", TlpLabel::Green, 3);
        assert_eq!(s.publish_taxii_objects(&second, later).await.unwrap(), 1);
        let new = s.taxii_objects(p.id, Some(t0())).await.unwrap();
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].date_added, later);
        // Both versions are kept for the versions endpoint.
        assert_eq!(s.taxii_objects(p.id, None).await.unwrap().len(), 4);
        // The incident may no longer leave: its objects go; common stays.
        let third: Vec<_> = second
            .iter()
            .filter(|o| o.subject != "incident:INC-1")
            .cloned()
            .collect();
        // The incident may no longer leave: its content goes, a revocation
        // (its last version marked revoked) takes its place; common stays.
        let withdrawn = later + Duration::minutes(1);
        assert_eq!(s.publish_taxii_objects(&third, withdrawn).await.unwrap(), 1);
        let rows = s.taxii_objects(p.id, None).await.unwrap();
        let incident: Vec<_> = rows.iter().filter(|r| r.stix_id == "incident--i").collect();
        assert_eq!(incident.len(), 1);
        assert!(incident[0].revoked);
        assert_eq!(incident[0].modified, withdrawn);
        assert_eq!(incident[0].date_added, withdrawn);
        assert!(
            incident[0].body.contains(r#""revoked":true"#),
            "{}",
            incident[0].body
        );
        assert!(!incident[0].served_before);
        assert!(rows.iter().any(|r| r.stix_id == "identity--w"));
        // Publishing the same again changes nothing.
        assert_eq!(s.publish_taxii_objects(&third, withdrawn).await.unwrap(), 0);
        // Allowed to leave again: the revocation goes, the object is back.
        s.publish_taxii_objects(&second, withdrawn).await.unwrap();
        let rows = s.taxii_objects(p.id, None).await.unwrap();
        let incident: Vec<_> = rows.iter().filter(|r| r.stix_id == "incident--i").collect();
        assert_eq!(incident.len(), 1);
        assert!(!incident[0].revoked);
        s.publish_taxii_objects(&third, withdrawn).await.unwrap();
        // Nothing AMBER+STRICT or RED is ever stored for publication.
        let strict = vec![object(
            "note--x",
            "incident:INC-2",
            TlpLabel::AmberStrict,
            0,
        )];
        assert_eq!(
            s.publish_taxii_objects(&[third.clone(), strict].concat(), later)
                .await
                .unwrap(),
            0
        );
        // The served audit.
        s.record_served(
            p.id,
            "partners",
            &[("report--a".into(), t0(), TlpLabel::Green)],
            later,
        )
        .await
        .unwrap();
        let log = s.served_log(Some(p.id), 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].peer_name, "Scotland WARP");
        assert_eq!(s.served_log(None, 10).await.unwrap().len(), 1);
        assert!(s.served_log(Some(p.id + 100), 10).await.unwrap().is_empty());
        // Consent.
        s.set_federation_consent("incident:INC-1", true, op.id, t0())
            .await
            .unwrap();
        assert!(
            s.federation_consents()
                .await
                .unwrap()
                .contains("incident:INC-1")
        );
        s.set_federation_consent("incident:INC-1", false, op.id, t0())
            .await
            .unwrap();
        assert!(s.federation_consents().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn received_objects_are_stored_once_with_their_provenance() {
    for db in all_backends().await {
        let s = &db.store;
        let (p, _) = s
            .create_peer(&peer("Wales WARP", "wales", true), t0())
            .await
            .unwrap();
        let received = vec![NewPartnerObject {
            stix_id: "report--r".into(),
            stix_type: "report".into(),
            modified: t0(),
            tlp: TlpLabel::Green,
            name: "Ivanti flaw exploited".into(),
            description: "Patch now.".into(),
            cves: vec!["CVE-2024-21887".into(), "CVE-2024-21887".into()],
            body: "{}".into(),
        }];
        assert_eq!(
            s.store_partner_objects(p.id, "col", &received, t0())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.store_partner_objects(p.id, "col", &received, t0())
                .await
                .unwrap(),
            0
        );
        let listed = s.partner_objects(&["report"], 10).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].peer_name, "Wales WARP");
        assert_eq!(listed[0].collection, "col");
        assert_eq!(listed[0].cves, ["CVE-2024-21887"]);
        assert_eq!(
            s.partner_objects_for_cve("CVE-2024-21887")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(s.partner_object_count(p.id).await.unwrap(), 1);
    }
}

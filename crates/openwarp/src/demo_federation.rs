//! The demo's federation (issue 9): a peer credential a standard TAXII 2.1
//! client can read the demo WARP with, and the reporter's consent for the
//! demo's shared phishing incident to leave the WARP, so the partners
//! collection holds a WARP advisory, a sanitised incident with its
//! indicator and its lessons learnt.

use anyhow::Context;
use openwarp_core::federation::PeerInput;
use openwarp_store::{IncidentFilter, Store};

/// The demo peer's login and token (HTTP Basic, or the token as a bearer
/// token). Fixed so the banner can print them on every run; a real WARP's
/// tokens are random and shown once.
pub const DEMO_PEER_LOGIN: &str = "demo-peer";
pub const DEMO_PEER_TOKEN: &str = "segwarp-demo-taxii-token";
const DEMO_PEER_NAME: &str = "Demo TAXII reader";
/// The shared demo incident whose reporter lets it leave the WARP.
const CONSENTED_TITLE: &str = "Bank-detail change request from a compromised supplier mailbox";

/// Seed the demo peer and the consent (each once). Returns whether anything
/// was added.
pub async fn seed_federation(store: &Store) -> anyhow::Result<bool> {
    let now = openwarp_store::now();
    let mut added = false;
    let peers = store.peers().await?;
    let peer = match peers.into_iter().find(|p| p.name == DEMO_PEER_NAME) {
        Some(p) => p,
        None => {
            let draft = PeerInput {
                name: DEMO_PEER_NAME.into(),
                audience: "partner".into(),
                incoming_login: DEMO_PEER_LOGIN.into(),
                ..PeerInput::default()
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("demo peer: {e:?}"))?;
            added = true;
            store.create_peer(&draft, now).await?.0
        }
    };
    store
        .set_peer_token(peer.id, DEMO_PEER_TOKEN, now)
        .await
        .context("setting the demo peer's token")?;
    let incidents = store
        .incidents(&IncidentFilter {
            all: true,
            ..IncidentFilter::default()
        })
        .await?;
    let consents = store.federation_consents().await?;
    for i in incidents {
        let shared_title = i.shared.as_ref().map(|s| s.title.as_str());
        let subject = format!("incident:{}", i.public_id);
        if shared_title == Some(CONSENTED_TITLE)
            && !consents.contains(&subject)
            && let Some(reporter) = i.reporter_id
        {
            store
                .set_federation_consent(&subject, true, reporter, now)
                .await?;
            added = true;
        }
    }
    Ok(added)
}

/// The banner's lines: how a TAXII client reads the demo.
pub fn banner_lines(base_url: &str, partners_collection: &str) -> String {
    format!(
        "  TAXII 2.1 for peer WARPs (login {DEMO_PEER_LOGIN}, token {DEMO_PEER_TOKEN}):\n    \
         curl -u {DEMO_PEER_LOGIN}:{DEMO_PEER_TOKEN} -H 'Accept: application/taxii+json;version=2.1' \
         {base_url}/taxii2/api/collections/{partners_collection}/objects/\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_consented_demo_incident_leaves_the_warp() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        crate::demo::seed(store, openwarp_store::now().date_naive())
            .await
            .unwrap();
        crate::demo::seed_incidents(store, "South East England")
            .await
            .unwrap();
        seed_federation(store).await.unwrap();
        let consents = store.federation_consents().await.unwrap();
        assert_eq!(consents.len(), 1, "{consents:?}");
        let incidents = store
            .incidents(&IncidentFilter {
                all: true,
                ..IncidentFilter::default()
            })
            .await
            .unwrap();
        let consented: Vec<_> = incidents
            .iter()
            .filter(|i| consents.contains(&format!("incident:{}", i.public_id)))
            .collect();
        assert_eq!(
            consented[0].shared.as_ref().map(|s| s.title.as_str()),
            Some(CONSENTED_TITLE)
        );
        assert!(openwarp_core::federation::incident_leaves(
            &consented[0].facts(),
            true
        ));
    }

    #[tokio::test]
    async fn the_demo_peer_reads_with_the_printed_token_and_is_seeded_once() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        assert!(seed_federation(store).await.unwrap());
        assert!(!seed_federation(store).await.unwrap());
        assert_eq!(store.peers().await.unwrap().len(), 1);
        let peer = store
            .peer_by_credentials(Some(DEMO_PEER_LOGIN), DEMO_PEER_TOKEN)
            .await
            .unwrap();
        assert!(peer.is_some());
        let lines = banner_lines("http://127.0.0.1:8080", "abc");
        assert!(lines.contains("curl -u demo-peer:segwarp-demo-taxii-token"));
        assert!(lines.contains("http://127.0.0.1:8080/taxii2/api/collections/abc/objects/"));
    }
}

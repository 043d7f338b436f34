//! Federation between WARPs: what may cross the border to a peer WARP, and
//! who at home sees what a peer sent us. Written once, here.
//!
//! A WARP is a confidential reporting point, so the border is strict:
//!
//! - **Nothing of an incident leaves without the reporter's consent.**
//!   Sharing a sanitised version with other members is not consent to send
//!   it to other WARPs; the reporting organisation says so separately
//!   ([`can_consent`]: the same people who authorise sharing).
//! - **TLP:AMBER+STRICT and TLP:RED never leave** ([`may_leave`]): they are
//!   limited to an organisation or to named people, never to a network.
//! - **TLP:AMBER goes only to peers trusted with it (`need_to_know`) and
//!   released to for that object**; CLEAR and GREEN go to every partner.
//! - A peer reads one of two collections: the public one (TLP:CLEAR only)
//!   or, if it is a partner, the partners one (CLEAR, GREEN and the AMBER
//!   released to it) — [`Collection::admits`].
//!
//! Coming in, [`partner_tlp`] decides what we keep (AMBER+STRICT and RED sent
//! to us by mistake are refused, not stored) and [`member_may_read`] who at
//! home reads it: CLEAR and GREEN every member, AMBER the operators only (they
//! decide who here needs to know), unmarked objects as AMBER.

use crate::access::Actor;
use crate::tlp::TlpLabel;
use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};

/// Which of our collections a peer may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerAudience {
    /// TLP:CLEAR only, e.g. a national body or a supplier's CERT.
    Public,
    /// Another WARP in the network: CLEAR and GREEN, and AMBER if trusted.
    Partner,
}

impl PeerAudience {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerAudience::Public => "public",
            PeerAudience::Partner => "partner",
        }
    }
    pub fn parse(s: &str) -> Option<PeerAudience> {
        match s.trim() {
            "public" => Some(PeerAudience::Public),
            "partner" => Some(PeerAudience::Partner),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            PeerAudience::Public => "Public (TLP:CLEAR only)",
            PeerAudience::Partner => "Partner WARP (CLEAR and GREEN)",
        }
    }
}

/// Our two TAXII collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// TLP:CLEAR only, for every peer.
    Public,
    /// CLEAR, GREEN and released AMBER, for partner WARPs.
    Partners,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Public, Collection::Partners];

    /// The key its TAXII id is derived from.
    pub fn key(self) -> &'static str {
        match self {
            Collection::Public => "public",
            Collection::Partners => "partners",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Collection::Public => "Public (TLP:CLEAR)",
            Collection::Partners => "Partner WARPs (TLP:CLEAR, GREEN and need-to-know AMBER)",
        }
    }

    /// Whether a peer of `audience` may read this collection at all.
    pub fn readable_by(self, audience: PeerAudience) -> bool {
        match self {
            Collection::Public => true,
            Collection::Partners => audience == PeerAudience::Partner,
        }
    }

    /// Whether an object labelled `tlp` goes to `peer` through this
    /// collection. `released` says whether the object was released to this
    /// peer as need-to-know (only asked for AMBER).
    pub fn admits(self, peer: &PeerGrant, tlp: TlpLabel, released: bool) -> bool {
        if !peer.enabled || !self.readable_by(peer.audience) || !may_leave(tlp) {
            return false;
        }
        match (self, tlp) {
            (_, TlpLabel::Clear) => true,
            (Collection::Partners, TlpLabel::Green) => true,
            (Collection::Partners, TlpLabel::Amber) => peer.need_to_know && released,
            _ => false,
        }
    }

    /// Whether the revocation of an object withdrawn since (consent taken
    /// back, an advisory withdrawn) goes to `peer`: only if it was sent the
    /// object (`served_before`) and may still read such an object here. A
    /// revocation repeats the object's last content, so a peer that never
    /// had it must not get it.
    pub fn admits_revocation(self, peer: &PeerGrant, tlp: TlpLabel, served_before: bool) -> bool {
        served_before && self.admits(peer, tlp, true)
    }
}

/// What a peer was granted when it was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerGrant {
    pub enabled: bool,
    pub audience: PeerAudience,
    /// Trusted with TLP:AMBER objects released to it.
    pub need_to_know: bool,
}

/// Whether information labelled `tlp` may ever leave this WARP: CLEAR, GREEN
/// and AMBER may (AMBER to need-to-know peers only); AMBER+STRICT is limited
/// to the recipient's organisation and RED to named people, so never.
pub fn may_leave(tlp: TlpLabel) -> bool {
    matches!(tlp, TlpLabel::Clear | TlpLabel::Green | TlpLabel::Amber)
}

/// Whether `actor` may give (or withdraw) an incident's "may leave the
/// WARP" consent: the reporting organisation's reporter or member lead, as
/// for sharing with members (`incident::can_authorise_sharing`). Never an
/// operator: the reporter's consent is the rule.
pub fn can_consent(actor: &Actor, f: &crate::incident::IncidentFacts) -> bool {
    crate::incident::can_authorise_sharing(actor, f)
}

/// Whether an incident is published to peers: shared with members, with
/// the reporter's consent to leave the WARP, at a label that may leave.
pub fn incident_leaves(f: &crate::incident::IncidentFacts, consented: bool) -> bool {
    consented && f.sharing == crate::incident::SharingState::Shared && may_leave(f.shared_tlp)
}

/// What we keep of an object a peer sent, by the label it carries (`None`:
/// unmarked). AMBER+STRICT and RED should never have been sent to a network:
/// refused (`None`), not stored. Unmarked objects are kept as AMBER.
pub fn partner_tlp(marked: Option<TlpLabel>) -> Option<TlpLabel> {
    match marked {
        None => Some(TlpLabel::Amber),
        Some(t) if may_leave(t) => Some(t),
        Some(_) => None,
    }
}

/// Who at home reads partner intelligence labelled `tlp`: CLEAR and GREEN
/// every signed-in user; AMBER the operators, who decide who else needs to
/// know.
pub fn member_may_read(actor: &Actor, tlp: TlpLabel) -> bool {
    match tlp {
        TlpLabel::Clear | TlpLabel::Green => true,
        TlpLabel::Amber => actor.is_operator(),
        TlpLabel::AmberStrict | TlpLabel::Red => false,
    }
}

/// A peer as an operator typed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PeerInput {
    pub name: String,
    pub audience: String,
    pub need_to_know: bool,
    /// The login they use to read us with HTTP Basic (optional: a bearer
    /// token alone also works).
    pub incoming_login: String,
    /// Their TAXII API root, e.g. `https://warp.example/taxii2/api/`.
    pub api_root_url: String,
    pub collection_id: String,
    /// The login they gave us (empty: we send the secret as a bearer token).
    pub outgoing_login: String,
    /// The secret they gave us; empty on an edit keeps the stored one.
    pub outgoing_secret: String,
    pub poll_minutes: String,
}

/// A valid peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDraft {
    pub name: String,
    pub audience: PeerAudience,
    pub need_to_know: bool,
    pub incoming_login: Option<String>,
    pub api_root_url: Option<String>,
    pub collection_id: Option<String>,
    pub outgoing_login: Option<String>,
    /// `None`: keep what is stored (or none).
    pub outgoing_secret: Option<String>,
    pub poll_minutes: i64,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

impl PeerInput {
    /// Check every field. Polling needs the API root and the collection
    /// together; the API root must be `https://` (or `http://` on loopback,
    /// for testing and a local demo).
    pub fn validate(&self) -> Result<PeerDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 {
            e.add("name", "give the peer WARP's name (at most 100 characters)");
        }
        let audience = PeerAudience::parse(&self.audience);
        if audience.is_none() {
            e.add("audience", "choose public or partner");
        }
        let incoming_login = opt(&self.incoming_login);
        if incoming_login
            .as_deref()
            .is_some_and(|l| l.len() > 100 || l.contains(':') || l.chars().any(char::is_whitespace))
        {
            e.add(
                "incoming_login",
                "a login has no spaces or colons and at most 100 characters",
            );
        }
        let api_root_url =
            opt(&self.api_root_url).map(|u| if u.ends_with('/') { u } else { format!("{u}/") });
        if let Some(u) = &api_root_url {
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| u.starts_with(p));
            if !(u.starts_with("https://") || loopback) || u.len() > 500 {
                e.add(
                    "api_root_url",
                    "give the peer's TAXII API root as an https:// address",
                );
            }
        }
        let collection_id = opt(&self.collection_id);
        if collection_id.as_deref().is_some_and(|c| {
            c.len() > 100 || !c.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        }) {
            e.add(
                "collection_id",
                "a collection id is letters, digits and hyphens",
            );
        }
        if api_root_url.is_some() != collection_id.is_some() {
            e.add(
                "collection_id",
                "to read this peer give both its API root and the collection id (or neither)",
            );
        }
        let poll_minutes = match self.poll_minutes.trim() {
            "" => 15,
            s => match s.parse::<i64>() {
                Ok(m) if (1..=1440).contains(&m) => m,
                _ => {
                    e.add("poll_minutes", "poll every 1 to 1440 minutes");
                    15
                }
            },
        };
        match audience {
            Some(audience) if e.is_empty() => Ok(PeerDraft {
                name,
                audience,
                need_to_know: self.need_to_know && audience == PeerAudience::Partner,
                incoming_login,
                api_root_url,
                collection_id,
                outgoing_login: opt(&self.outgoing_login),
                outgoing_secret: opt(&self.outgoing_secret),
                poll_minutes,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::ids::{OrgId, UserId};
    use crate::incident::{IncidentFacts, SharingState};

    fn grant(audience: PeerAudience, need_to_know: bool) -> PeerGrant {
        PeerGrant {
            enabled: true,
            audience,
            need_to_know,
        }
    }

    #[test]
    fn the_border_matrix() {
        use TlpLabel::*;
        for tlp in TlpLabel::ALL {
            for released in [false, true] {
                for need_to_know in [false, true] {
                    let partner = grant(PeerAudience::Partner, need_to_know);
                    let public = grant(PeerAudience::Public, need_to_know);
                    let case = format!("{tlp:?} released={released} ntk={need_to_know}");
                    // Public collection: CLEAR only, for anyone.
                    assert_eq!(
                        Collection::Public.admits(&public, tlp, released),
                        tlp == Clear,
                        "{case}"
                    );
                    assert_eq!(
                        Collection::Public.admits(&partner, tlp, released),
                        tlp == Clear,
                        "{case}"
                    );
                    // A public peer never reads the partners collection.
                    assert!(
                        !Collection::Partners.admits(&public, tlp, released),
                        "{case}"
                    );
                    let expected = match tlp {
                        Clear | Green => true,
                        Amber => need_to_know && released,
                        AmberStrict | Red => false,
                    };
                    assert_eq!(
                        Collection::Partners.admits(&partner, tlp, released),
                        expected,
                        "{case}"
                    );
                    let disabled = PeerGrant {
                        enabled: false,
                        ..partner
                    };
                    assert!(!Collection::Partners.admits(&disabled, tlp, released));
                    assert!(!Collection::Public.admits(&disabled, tlp, released));
                }
            }
        }
    }

    #[test]
    fn a_revocation_goes_only_to_peers_that_had_the_object() {
        let partner = grant(PeerAudience::Partner, false);
        assert!(Collection::Partners.admits_revocation(&partner, TlpLabel::Green, true));
        assert!(!Collection::Partners.admits_revocation(&partner, TlpLabel::Green, false));
        assert!(!Collection::Public.admits_revocation(&partner, TlpLabel::Green, true));
        assert!(!Collection::Partners.admits_revocation(&partner, TlpLabel::Red, true));
    }

    #[test]
    fn strict_and_red_never_leave_and_are_refused_coming_in() {
        assert!(!may_leave(TlpLabel::AmberStrict));
        assert!(!may_leave(TlpLabel::Red));
        assert_eq!(partner_tlp(Some(TlpLabel::AmberStrict)), None);
        assert_eq!(partner_tlp(Some(TlpLabel::Red)), None);
        assert_eq!(partner_tlp(None), Some(TlpLabel::Amber));
        assert_eq!(partner_tlp(Some(TlpLabel::Green)), Some(TlpLabel::Green));
    }

    #[test]
    fn amber_from_partners_is_for_operators() {
        let operator = Actor {
            user_id: UserId(1),
            role: Role::Operator,
            org_id: None,
        };
        let member = Actor {
            user_id: UserId(2),
            role: Role::MemberUser,
            org_id: Some(OrgId(7)),
        };
        assert!(member_may_read(&member, TlpLabel::Green));
        assert!(member_may_read(&member, TlpLabel::Clear));
        assert!(!member_may_read(&member, TlpLabel::Amber));
        assert!(member_may_read(&operator, TlpLabel::Amber));
        assert!(!member_may_read(&operator, TlpLabel::Red));
    }

    #[test]
    fn an_incident_leaves_only_shared_with_consent_at_a_label_that_may_leave() {
        for tlp in TlpLabel::ALL {
            for sharing in [
                SharingState::Private,
                SharingState::Proposed,
                SharingState::Shared,
            ] {
                for consented in [false, true] {
                    let f = IncidentFacts {
                        org_id: OrgId(1),
                        reporter: Some(UserId(1)),
                        tlp: TlpLabel::Red,
                        sharing,
                        shared_tlp: tlp,
                        recipient_orgs: vec![],
                        recipient_users: vec![],
                    };
                    assert_eq!(
                        incident_leaves(&f, consented),
                        consented && sharing == SharingState::Shared && may_leave(tlp)
                    );
                }
            }
        }
    }

    #[test]
    fn only_the_reporting_organisation_consents() {
        let f = IncidentFacts {
            org_id: OrgId(1),
            reporter: Some(UserId(10)),
            tlp: TlpLabel::Amber,
            sharing: SharingState::Shared,
            shared_tlp: TlpLabel::Green,
            recipient_orgs: vec![],
            recipient_users: vec![],
        };
        let reporter = Actor {
            user_id: UserId(10),
            role: Role::MemberUser,
            org_id: Some(OrgId(1)),
        };
        let operator = Actor {
            user_id: UserId(2),
            role: Role::Operator,
            org_id: None,
        };
        let other = Actor {
            user_id: UserId(3),
            role: Role::MemberLead,
            org_id: Some(OrgId(2)),
        };
        assert!(can_consent(&reporter, &f));
        assert!(!can_consent(&operator, &f));
        assert!(!can_consent(&other, &f));
    }

    #[test]
    fn peers_are_validated_field_by_field() {
        let ok = PeerInput {
            name: "North West WARP".into(),
            audience: "partner".into(),
            need_to_know: true,
            incoming_login: "nwwarp".into(),
            api_root_url: "https://nw.example/taxii2/api".into(),
            collection_id: "0b8a-12".into(),
            outgoing_secret: "s3cret".into(),
            ..PeerInput::default()
        }
        .validate()
        .unwrap();
        assert_eq!(
            ok.api_root_url.as_deref(),
            Some("https://nw.example/taxii2/api/")
        );
        assert_eq!(ok.poll_minutes, 15);
        assert!(ok.need_to_know);
        let public = PeerInput {
            name: "LGA".into(),
            audience: "public".into(),
            need_to_know: true,
            ..PeerInput::default()
        }
        .validate()
        .unwrap();
        assert!(
            !public.need_to_know,
            "a public peer is never trusted with AMBER"
        );
        let e = PeerInput {
            name: " ".into(),
            audience: "friends".into(),
            incoming_login: "a b".into(),
            api_root_url: "ftp://x".into(),
            poll_minutes: "0".into(),
            ..PeerInput::default()
        }
        .validate()
        .unwrap_err();
        for field in [
            "name",
            "audience",
            "incoming_login",
            "api_root_url",
            "collection_id",
            "poll_minutes",
        ] {
            assert!(e.for_field(field).is_some(), "{field}: {e:?}");
        }
    }
}

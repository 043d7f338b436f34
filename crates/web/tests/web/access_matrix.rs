//! The access matrix (issue 10): every route the application serves — read
//! from the router itself, so a route added later cannot escape — is tried
//! by every kind of caller, and the answer must match the rule written for
//! that route here:
//!
//! - nobody signed in;
//! - a member user and a member lead of the organisation that owns the
//!   resources in the path ("own"), and of another member organisation
//!   ("other");
//! - a WARP operator;
//! - a peer WARP holding a TAXII credential;
//! - the own organisation's lead half signed in: password given, second
//!   factor still owed.
//!
//! People call pages with their session cookie (and the session's CSRF
//! token on forms) and the JSON API with their API token; the peer sends its
//! TAXII token everywhere. A caller is *refused* when the answer is 401,
//! 403, 404 or a redirect to the sign-in page; anything else (a page, a
//! redirect elsewhere, or a 4xx about the request itself: 400, 409, 422…)
//! means the request got past the access checks. Refused callers go first,
//! so that an allowed caller's change (a delete) cannot make a refusal look
//! right; deletions and session ends use a fresh resource for each caller.
//!
//! The test fails when a route has no rule, when a rule names a route that
//! no longer exists, or when any caller's answer disagrees with the rule.

use crate::support::{Client, TestApp, apps_without_rate_limits};
use crate::taxii::{TAXII, publish_advisory, reader, shared_incident};
use openwarp_core::{Email, OrgId, Role, TlpLabel};
use openwarp_matching::priority::Priority;
use openwarp_store::{AlertContent, AlertKind, DeliveryFilter, NewAlert, now};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

// Who calls: one bit each.
const ANON: u8 = 1;
const KU: u8 = 2; // member user of the owning organisation (Kent)
const KL: u8 = 4; // member lead of the owning organisation
const MU: u8 = 8; // member user of another organisation (Medway)
const ML: u8 = 16; // member lead of another organisation
const OP: u8 = 32; // WARP operator
const PEER: u8 = 64; // a peer WARP with a TAXII credential
/// A member lead of the owning organisation who has given the password but
/// not yet the second factor.
const HALF: u8 = 128;

const EVERYONE: u8 = ANON | KU | KL | MU | ML | OP | PEER | HALF;
const PEOPLE: u8 = KU | KL | MU | ML | OP;
const MEMBERS: u8 = KU | KL | MU | ML;
/// An organisation's own people and the operators.
const OWN: u8 = KU | KL | OP;
/// An organisation's own people only.
const OWN_MEMBERS: u8 = KU | KL;
/// An organisation's lead and the operators.
const OWN_LEAD: u8 = KL | OP;
const NOBODY: u8 = 0;

const CALLERS: [(u8, &str); 8] = [
    (ANON, "anonymous"),
    (KU, "member user (own organisation)"),
    (KL, "member lead (own organisation)"),
    (MU, "member user (other organisation)"),
    (ML, "member lead (other organisation)"),
    (OP, "operator"),
    (PEER, "peer WARP"),
    (HALF, "member lead (own organisation) owing a second factor"),
];

/// What a route's path parameter stands for when each caller needs its own.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fresh {
    No,
    /// The caller's own session ends: sign in anew for this request.
    Session,
    /// The last path parameter is deleted: create one per caller.
    Resource,
}

struct Rule {
    method: &'static str,
    path: &'static str,
    allowed: u8,
    fresh: Fresh,
    /// The body to send (a JSON document for the API, `a=b&c=d` for forms);
    /// empty means `{}` or a form with only the CSRF token.
    body: &'static str,
}

const fn r(method: &'static str, path: &'static str, allowed: u8) -> Rule {
    Rule {
        method,
        path,
        allowed,
        fresh: Fresh::No,
        body: "",
    }
}

const fn fresh(method: &'static str, path: &'static str, allowed: u8, fresh: Fresh) -> Rule {
    Rule {
        method,
        path,
        allowed,
        fresh,
        body: "",
    }
}

const fn with(method: &'static str, path: &'static str, allowed: u8, body: &'static str) -> Rule {
    Rule {
        method,
        path,
        allowed,
        fresh: Fresh::No,
        body,
    }
}

use Fresh::{Resource, Session};

/// The rules. Resources in paths belong to Kent (the "own" organisation);
/// incidents were reported by Kent's member user; discussion posts were
/// written by Kent's member user; WARP-wide things (meetings, polls, news,
/// WARP advisories, peers) were made by operators.
const RULES: &[Rule] = &[
    // Public: sign-in, one-time links, health, style, public meeting outlines.
    // The front door sends people on: to sign in, or to their dashboard.
    r("GET", "/", PEOPLE),
    r("GET", "/login", EVERYONE),
    // Signed-in people are sent on from the sign-in page, so they hold no
    // pre-session token to post it with.
    r("POST", "/login", ANON | PEER | HALF),
    // Only a sign-in that owes a second factor has business here (mfa.rs);
    // a full session is sent on to the dashboard.
    r("GET", "/login/mfa", PEOPLE | HALF),
    // The half sign-in sends a good code (and so finishes: a session of
    // its own); full sessions are sent back, and on to the dashboard.
    Rule {
        method: "POST",
        path: "/login/mfa",
        allowed: HALF,
        fresh: Session,
        body: "code={totp}",
    },
    fresh("POST", "/logout", PEOPLE | HALF, Session),
    r("GET", "/invite/{token}", EVERYONE),
    r("POST", "/invite/{token}", EVERYONE),
    r("GET", "/reset/{token}", EVERYONE),
    r("POST", "/reset/{token}", EVERYONE),
    r("GET", "/unsubscribe", EVERYONE),
    r("POST", "/unsubscribe", EVERYONE),
    r("GET", "/healthz", EVERYONE),
    r("GET", "/readyz", EVERYONE),
    r("GET", "/static/style.css", EVERYONE),
    // Loopback callers read metrics without a token (see metrics.rs).
    r("GET", "/metrics", EVERYONE),
    r("GET", "/meetings/outlines", EVERYONE),
    r("GET", "/meetings/{id}/outline", EVERYONE),
    // One's own account.
    r("GET", "/account", PEOPLE),
    r("POST", "/account/password", PEOPLE),
    r("POST", "/account/tokens", PEOPLE),
    r("POST", "/account/tokens/{id}/revoke", KU),
    r("GET", "/account/mfa", PEOPLE),
    r("GET", "/account/mfa/setup", PEOPLE),
    r("POST", "/account/mfa/setup", PEOPLE),
    r("POST", "/account/mfa/disable", PEOPLE),
    r("POST", "/account/mfa/recovery-codes", PEOPLE),
    fresh("POST", "/account/sessions/end", PEOPLE, Session),
    // Alert subscriptions are for members' named users; operators follow
    // deliveries instead (their page says so).
    r("GET", "/account/alerts", PEOPLE),
    r("POST", "/account/alerts", MEMBERS),
    r("GET", "/account/alerts/digest", MEMBERS),
    r("POST", "/account/alerts/resubscribe", MEMBERS),
    r("GET", "/dashboard", PEOPLE),
    // Advisories: everyone signed in reads them.
    r("GET", "/advisories", PEOPLE),
    r("GET", "/advisories/{id}", PEOPLE),
    // Alerts and deliveries.
    r("GET", "/alerts", PEOPLE),
    r("GET", "/alerts/{id}", OWN),
    r("GET", "/deliveries", OP),
    r("POST", "/deliveries/{id}/retry", OP),
    // Membership.
    r("GET", "/my-org", PEOPLE),
    r("GET", "/orgs", OP),
    r("POST", "/orgs", OP),
    r("GET", "/orgs/new", OP),
    r("GET", "/orgs/{id}", OWN),
    // Leads keep their own governance contacts up to date.
    r("GET", "/orgs/{id}/edit", OWN_LEAD),
    r("POST", "/orgs/{id}/edit", OWN_LEAD),
    r("POST", "/orgs/{id}/invitations", OWN_LEAD),
    fresh(
        "POST",
        "/orgs/{org}/invitations/{inv}/revoke",
        OWN_LEAD,
        Resource,
    ),
    r("POST", "/orgs/{id}/mfa", OWN_LEAD),
    r("GET", "/fees", OP),
    r("GET", "/operators", OP),
    r("POST", "/operators/invitations", OP),
    r("POST", "/users/{id}/disable", OWN_LEAD),
    r("POST", "/users/{id}/enable", OWN_LEAD),
    r("POST", "/users/{id}/role", OWN_LEAD),
    r("POST", "/users/{id}/reset", OWN_LEAD),
    r("POST", "/users/{id}/mfa/reset", OP),
    // The audit log.
    r("GET", "/audit", OP),
    r("GET", "/audit.csv", OP),
    r("GET", "/audit/verify", OP),
    // Inventory, suppliers, exposure.
    r("GET", "/inventory", PEOPLE),
    r("GET", "/orgs/{id}/inventory", OWN),
    r("POST", "/orgs/{id}/inventory", OWN_MEMBERS),
    r("GET", "/orgs/{id}/inventory.csv", OWN),
    r("GET", "/orgs/{id}/inventory/resolve", OWN),
    r("POST", "/orgs/{id}/inventory/import/csv", OWN_MEMBERS),
    r("POST", "/orgs/{id}/inventory/import/sbom", OWN_MEMBERS),
    r("GET", "/orgs/{org}/inventory/{item}", OWN),
    r("POST", "/orgs/{org}/inventory/{item}", OWN_MEMBERS),
    fresh(
        "POST",
        "/orgs/{org}/inventory/{item}/delete",
        OWN_MEMBERS,
        Resource,
    ),
    // Operators see who shares which supplier; members are sent to their own list.
    r("GET", "/suppliers", PEOPLE),
    r("GET", "/orgs/{id}/suppliers", OWN),
    r("POST", "/orgs/{id}/suppliers", OWN_MEMBERS),
    // The edit form: operators may only look at the list.
    r("GET", "/orgs/{org}/suppliers/{sid}", OWN_MEMBERS),
    r("POST", "/orgs/{org}/suppliers/{sid}", OWN_MEMBERS),
    fresh(
        "POST",
        "/orgs/{org}/suppliers/{sid}/delete",
        OWN_MEMBERS,
        Resource,
    ),
    r("GET", "/exposure", PEOPLE),
    r("GET", "/orgs/{id}/exposure", OWN),
    r("GET", "/orgs/{org}/exposure/{x}", OWN),
    r("POST", "/orgs/{org}/exposure/{x}/status", OWN_MEMBERS),
    // Alert settings of an organisation.
    r("GET", "/orgs/{id}/alerts", OWN),
    r("POST", "/orgs/{id}/alerts/defaults", KL),
    r("POST", "/orgs/{id}/alerts/webhooks", KL),
    r("GET", "/orgs/{id}/alerts/history", OWN),
    r("POST", "/orgs/{org}/alerts/webhooks/{wid}/enable", KL),
    r("POST", "/orgs/{org}/alerts/webhooks/{wid}/disable", KL),
    fresh(
        "POST",
        "/orgs/{org}/alerts/webhooks/{wid}/delete",
        KL,
        Resource,
    ),
    // WARP advisories: operators write and review; members read published
    // ones. Authors edit and submit their own (the advisory in the path is
    // the operator's); another operator reviews (the one in review paths
    // was written by a second operator).
    r("GET", "/warp-advisories", PEOPLE),
    r("POST", "/warp-advisories", OP),
    r("GET", "/warp-advisories/new", OP),
    r("GET", "/warp-advisories/{id}", OP),
    r("GET", "/warp-advisories/{id}/edit", OP),
    r("POST", "/warp-advisories/{id}/edit", OP),
    r("POST", "/warp-advisories/{id}/submit", OP),
    r("POST", "/warp-advisories/{id}/request-changes", OP),
    r("POST", "/warp-advisories/{id}/publish", OP),
    r("POST", "/warp-advisories/{id}/withdraw", OP),
    // Incidents: the reporter's organisation and the operators.
    r("GET", "/incidents", PEOPLE),
    r("POST", "/incidents", MEMBERS),
    r("GET", "/incidents/new", MEMBERS),
    r("GET", "/incidents/{id}", OWN),
    r("GET", "/incidents/{id}/edit", OWN_MEMBERS),
    r("POST", "/incidents/{id}/edit", OWN_MEMBERS),
    r("POST", "/incidents/{id}/escalations", OWN),
    r("POST", "/incidents/{id}/ico", OWN_MEMBERS),
    r("POST", "/incidents/{id}/sanitised", OWN),
    r("POST", "/incidents/{id}/sanitised/approve", OWN_MEMBERS),
    r("POST", "/incidents/{id}/sharing/withdraw", OWN_MEMBERS),
    r("POST", "/incidents/{id}/lessons", OWN_MEMBERS),
    r("GET", "/incidents/{id}/audit", OWN_LEAD),
    r("GET", "/incidents/{id}/print", OWN),
    r("GET", "/incidents/{id}/stix", OWN),
    r("POST", "/incidents/{id}/attachments", OWN_MEMBERS),
    r("GET", "/incidents/{id}/attachments/{aid}", OWN),
    fresh(
        "POST",
        "/incidents/{id}/attachments/{aid}/delete",
        OWN_MEMBERS,
        Resource,
    ),
    // Operators see whether the reporter consented; only the reporter's side
    // may give or take back consent.
    r("GET", "/incidents/{id}/federation", OWN),
    r("POST", "/incidents/{id}/federation", OWN_MEMBERS),
    // Federation: operators manage peers; members read partner intelligence.
    r("GET", "/federation", OP),
    r("POST", "/federation/peers", OP),
    r("GET", "/federation/peers/{id}", OP),
    r("POST", "/federation/peers/{id}", OP),
    r("POST", "/federation/peers/{id}/enable", OP),
    r("POST", "/federation/peers/{id}/disable", OP),
    r("POST", "/federation/peers/{id}/token", OP),
    r("POST", "/federation/peers/{id}/poll", OP),
    r("POST", "/federation/releases/{advisory}", OP),
    r("GET", "/partners", PEOPLE),
    // Self-assessment: an organisation's own; the region view for everyone.
    r("GET", "/assessments", PEOPLE),
    // The named regional picture is for operators; members see anonymous
    // benchmarks on their own results.
    r("GET", "/assessments/{fw}/region", OP),
    r("GET", "/assessments/{fw}/export.csv", OP),
    r("GET", "/orgs/{org}/assessments/{fw}", OWN),
    // Sections are the working copy's forms: the member's own people only.
    r(
        "GET",
        "/orgs/{org}/assessments/{fw}/sections/{principle}",
        OWN_MEMBERS,
    ),
    r(
        "POST",
        "/orgs/{org}/assessments/{fw}/sections/{principle}",
        OWN_MEMBERS,
    ),
    r("POST", "/orgs/{org}/assessments/{fw}/submit", KL),
    r("GET", "/orgs/{org}/assessments/{fw}/results", OWN),
    r("GET", "/orgs/{org}/assessments/{fw}/submissions/{id}", OWN),
    r(
        "GET",
        "/orgs/{org}/assessments/{fw}/submissions/{id}/print",
        OWN,
    ),
    // Meetings.
    r("GET", "/meetings", PEOPLE),
    r("POST", "/meetings", OP),
    r("GET", "/meetings.ics", PEOPLE),
    r("GET", "/meetings/new", OP),
    r("GET", "/meetings/{id}", PEOPLE),
    r("GET", "/meetings/{id}/edit", OP),
    r("POST", "/meetings/{id}/edit", OP),
    r("POST", "/meetings/{id}/rsvp", PEOPLE),
    r("POST", "/meetings/{id}/agenda", OP),
    fresh("POST", "/meetings/{id}/agenda/{item}/delete", OP, Resource),
    r("POST", "/meetings/{id}/minutes", OP),
    r("POST", "/meetings/{id}/outline", OP),
    r("POST", "/meetings/{id}/attendance", OP),
    // Polls.
    r("GET", "/polls", PEOPLE),
    r("POST", "/polls", PEOPLE),
    r("POST", "/polls/notify", PEOPLE),
    r("GET", "/polls/{id}", PEOPLE),
    r("POST", "/polls/{id}/ballot", PEOPLE),
    r("POST", "/polls/{id}/close", OP),
    // Discussion.
    r("GET", "/discussion", PEOPLE),
    r("POST", "/discussion", OP),
    r("POST", "/discussion/settings", PEOPLE),
    r("GET", "/discussion/threads/{id}", PEOPLE),
    r("POST", "/discussion/threads/{id}/reply", PEOPLE),
    r("POST", "/discussion/threads/{id}/lock", OP),
    with("POST", "/discussion/posts/{id}/edit", KU, "body="),
    r("POST", "/discussion/posts/{id}/hide", OP),
    r("GET", "/discussion/{topic}", PEOPLE),
    r("POST", "/discussion/{topic}", PEOPLE),
    // News and links.
    r("GET", "/news", PEOPLE),
    r("POST", "/news", OP),
    r("GET", "/news/{id}", PEOPLE),
    r("POST", "/news/{id}", OP),
    fresh("POST", "/news/{id}/delete", OP, Resource),
    r("GET", "/links", PEOPLE),
    r("POST", "/links", OP),
    r("POST", "/links/{id}", OP),
    r("GET", "/links/{id}/edit", OP),
    fresh("POST", "/links/{id}/delete", OP, Resource),
    // ---- The JSON API (bearer tokens) ----
    r("GET", "/api/v1/openapi.json", EVERYONE),
    r("GET", "/api/v1/me", PEOPLE),
    r("GET", "/api/v1/account/alerts", MEMBERS),
    r("PUT", "/api/v1/account/alerts", MEMBERS),
    r("GET", "/api/v1/advisories", PEOPLE),
    r("GET", "/api/v1/advisories/{id}", PEOPLE),
    // Members see their own exposure; operators every member's.
    r("GET", "/api/v1/advisories/{id}/exposure", PEOPLE),
    r("GET", "/api/v1/resolve", PEOPLE),
    r("GET", "/api/v1/alerts", PEOPLE),
    r("GET", "/api/v1/alerts/{id}", OWN),
    r("GET", "/api/v1/deliveries", OP),
    r("POST", "/api/v1/deliveries/{id}/retry", OP),
    r("GET", "/api/v1/fees", OP),
    // Members see their own organisation in the list.
    r("GET", "/api/v1/orgs", PEOPLE),
    with(
        "POST",
        "/api/v1/orgs",
        OP,
        r#"{"name": "", "council_type": "", "employers_member": true, "renewal_date": ""}"#,
    ),
    r("GET", "/api/v1/orgs/{id}", OWN),
    with(
        "PUT",
        "/api/v1/orgs/{id}",
        OP,
        r#"{"name": "", "council_type": "", "employers_member": true, "renewal_date": ""}"#,
    ),
    r("GET", "/api/v1/orgs/{id}/users", OWN),
    with(
        "POST",
        "/api/v1/orgs/{id}/invitations",
        OWN_LEAD,
        r#"{"email": "", "role": ""}"#,
    ),
    r("GET", "/api/v1/orgs/{id}/alert-defaults", OWN),
    with(
        "PUT",
        "/api/v1/orgs/{id}/alert-defaults",
        KL,
        r#"{"immediate_min": "", "digest": ""}"#,
    ),
    r("GET", "/api/v1/orgs/{id}/webhooks", OWN),
    with(
        "POST",
        "/api/v1/orgs/{id}/webhooks",
        KL,
        r#"{"name": "", "url": ""}"#,
    ),
    fresh("DELETE", "/api/v1/orgs/{id}/webhooks/{wid}", KL, Resource),
    with(
        "PUT",
        "/api/v1/orgs/{id}/webhooks/{wid}/active",
        KL,
        r#"{"active": true}"#,
    ),
    r("GET", "/api/v1/orgs/{id}/exposures", OWN),
    r("GET", "/api/v1/orgs/{id}/exposures/{x}", OWN),
    with(
        "POST",
        "/api/v1/orgs/{id}/exposures/{x}/status",
        OWN_MEMBERS,
        r#"{"status": ""}"#,
    ),
    r("GET", "/api/v1/orgs/{id}/inventory", OWN),
    r("POST", "/api/v1/orgs/{id}/inventory", OWN_MEMBERS),
    r("GET", "/api/v1/orgs/{id}/inventory.csv", OWN),
    r("POST", "/api/v1/orgs/{id}/inventory/import", OWN_MEMBERS),
    r("GET", "/api/v1/orgs/{id}/inventory/{item}", OWN),
    r("PUT", "/api/v1/orgs/{id}/inventory/{item}", OWN_MEMBERS),
    fresh(
        "DELETE",
        "/api/v1/orgs/{id}/inventory/{item}",
        OWN_MEMBERS,
        Resource,
    ),
    r("GET", "/api/v1/orgs/{id}/suppliers", OWN),
    with(
        "POST",
        "/api/v1/orgs/{id}/suppliers",
        OWN_MEMBERS,
        r#"{"name": "", "kind": ""}"#,
    ),
    with(
        "PUT",
        "/api/v1/orgs/{id}/suppliers/{sid}",
        OWN_MEMBERS,
        r#"{"name": "", "kind": ""}"#,
    ),
    fresh(
        "DELETE",
        "/api/v1/orgs/{id}/suppliers/{sid}",
        OWN_MEMBERS,
        Resource,
    ),
    r("GET", "/api/v1/suppliers", OP),
    r("POST", "/api/v1/users/{id}/disable", OWN_LEAD),
    r("POST", "/api/v1/users/{id}/enable", OWN_LEAD),
    with(
        "PUT",
        "/api/v1/users/{id}/role",
        OWN_LEAD,
        r#"{"role": ""}"#,
    ),
    r("GET", "/api/v1/warp-advisories", PEOPLE),
    with(
        "POST",
        "/api/v1/warp-advisories",
        OP,
        r#"{"title": "", "summary": "", "action": "", "tlp": "", "priority": "", "audience": ""}"#,
    ),
    r("GET", "/api/v1/warp-advisories/{id}", OP),
    with(
        "PUT",
        "/api/v1/warp-advisories/{id}",
        OP,
        r#"{"title": "", "summary": "", "action": "", "tlp": "", "priority": "", "audience": ""}"#,
    ),
    r("POST", "/api/v1/warp-advisories/{id}/submit", OP),
    with(
        "POST",
        "/api/v1/warp-advisories/{id}/request-changes",
        OP,
        r#"{"note": ""}"#,
    ),
    r("POST", "/api/v1/warp-advisories/{id}/publish", OP),
    r("POST", "/api/v1/warp-advisories/{id}/withdraw", OP),
    r("GET", "/api/v1/incidents", PEOPLE),
    with(
        "POST",
        "/api/v1/incidents",
        MEMBERS,
        r#"{"title": "", "summary": "", "category": "", "detected_at": "", "tlp": ""}"#,
    ),
    r("GET", "/api/v1/incidents/{id}", OWN),
    with(
        "PUT",
        "/api/v1/incidents/{id}",
        OWN_MEMBERS,
        r#"{"title": "", "summary": "", "category": "", "detected_at": "", "tlp": ""}"#,
    ),
    r("GET", "/api/v1/incidents/{id}/timeline", OWN),
    r("GET", "/api/v1/incidents/{id}/audit", OWN_LEAD),
    r("GET", "/api/v1/incidents/{id}/stix", OWN),
    with(
        "POST",
        "/api/v1/incidents/{id}/escalations",
        OWN,
        r#"{"target": ""}"#,
    ),
    with(
        "POST",
        "/api/v1/incidents/{id}/ico",
        OWN_MEMBERS,
        r#"{"method": ""}"#,
    ),
    with(
        "PUT",
        "/api/v1/incidents/{id}/sanitised",
        OWN,
        r#"{"title": "", "summary": "", "tlp": ""}"#,
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/sanitised/approve",
        OWN_MEMBERS,
    ),
    r(
        "POST",
        "/api/v1/incidents/{id}/sharing/withdraw",
        OWN_MEMBERS,
    ),
    with(
        "PUT",
        "/api/v1/incidents/{id}/lessons",
        OWN_MEMBERS,
        r#"{"lessons": ""}"#,
    ),
    r("GET", "/api/v1/incidents/{id}/attachments", OWN),
    r("POST", "/api/v1/incidents/{id}/attachments", OWN_MEMBERS),
    r("GET", "/api/v1/incidents/{id}/attachments/{aid}", OWN),
    fresh(
        "DELETE",
        "/api/v1/incidents/{id}/attachments/{aid}",
        OWN_MEMBERS,
        Resource,
    ),
    r("GET", "/api/v1/assessment-frameworks", PEOPLE),
    r("GET", "/api/v1/assessment-frameworks/{fw}", PEOPLE),
    r("GET", "/api/v1/assessments/{fw}/region", OP),
    r("GET", "/api/v1/assessments/{fw}/export.csv", OP),
    // The working copy.
    r("GET", "/api/v1/orgs/{org}/assessments/{fw}", OWN_MEMBERS),
    with(
        "PUT",
        "/api/v1/orgs/{org}/assessments/{fw}/answers",
        OWN_MEMBERS,
        r#"{"answers": [{"question": "Z9.z.9", "grade": "achieved"}]}"#,
    ),
    r(
        "GET",
        "/api/v1/orgs/{org}/assessments/{fw}/submissions",
        OWN,
    ),
    r(
        "POST",
        "/api/v1/orgs/{org}/assessments/{fw}/submissions",
        KL,
    ),
    r(
        "GET",
        "/api/v1/orgs/{org}/assessments/{fw}/submissions/{id}",
        OWN,
    ),
    r("GET", "/api/v1/meetings", PEOPLE),
    with(
        "POST",
        "/api/v1/meetings",
        OP,
        r#"{"title": "", "starts_at": "", "ends_at": ""}"#,
    ),
    r("GET", "/api/v1/meetings/{id}", PEOPLE),
    with(
        "PUT",
        "/api/v1/meetings/{id}",
        OP,
        r#"{"title": "", "starts_at": "", "ends_at": ""}"#,
    ),
    r("GET", "/api/v1/meetings/{id}/ics", PEOPLE),
    // Operators see every answer; members their own organisation's.
    r("GET", "/api/v1/meetings/{id}/rsvps", PEOPLE),
    r("PUT", "/api/v1/meetings/{id}/rsvp", PEOPLE),
    with(
        "POST",
        "/api/v1/meetings/{id}/agenda",
        OP,
        r#"{"title": ""}"#,
    ),
    fresh(
        "DELETE",
        "/api/v1/meetings/{id}/agenda/{item}",
        OP,
        Resource,
    ),
    with(
        "PUT",
        "/api/v1/meetings/{id}/minutes",
        OP,
        r#"{"text": "", "tlp": "purple"}"#,
    ),
    with(
        "PUT",
        "/api/v1/meetings/{id}/outline",
        OP,
        r#"{"topics": [""]}"#,
    ),
    with(
        "PUT",
        "/api/v1/meetings/{id}/attendance",
        OP,
        r#"{"user_ids": []}"#,
    ),
    r("GET", "/api/v1/polls", PEOPLE),
    r("POST", "/api/v1/polls", PEOPLE),
    r("GET", "/api/v1/polls/notify", PEOPLE),
    r("PUT", "/api/v1/polls/notify", PEOPLE),
    r("GET", "/api/v1/polls/{id}", PEOPLE),
    r("POST", "/api/v1/polls/{id}/ballot", PEOPLE),
    r("POST", "/api/v1/polls/{id}/close", OP),
    r("GET", "/api/v1/discussion/topics", PEOPLE),
    with("POST", "/api/v1/discussion/topics", OP, r#"{"name": ""}"#),
    r("GET", "/api/v1/discussion/topics/{slug}", PEOPLE),
    r("POST", "/api/v1/discussion/topics/{slug}", PEOPLE),
    r("GET", "/api/v1/discussion/threads/{id}", PEOPLE),
    r("POST", "/api/v1/discussion/threads/{id}/replies", PEOPLE),
    with(
        "POST",
        "/api/v1/discussion/threads/{id}/lock",
        OP,
        r#"{"locked": false}"#,
    ),
    with(
        "PUT",
        "/api/v1/discussion/posts/{id}",
        KU,
        r#"{"body": ""}"#,
    ),
    with(
        "POST",
        "/api/v1/discussion/posts/{id}/hide",
        OP,
        r#"{"hidden": false}"#,
    ),
    r("GET", "/api/v1/discussion/settings", PEOPLE),
    r("PUT", "/api/v1/discussion/settings", PEOPLE),
    r("GET", "/api/v1/news", PEOPLE),
    with("POST", "/api/v1/news", OP, r#"{"title": "", "body": ""}"#),
    r("GET", "/api/v1/news/{id}", PEOPLE),
    with(
        "PUT",
        "/api/v1/news/{id}",
        OP,
        r#"{"title": "", "body": ""}"#,
    ),
    fresh("DELETE", "/api/v1/news/{id}", OP, Resource),
    r("GET", "/api/v1/links", PEOPLE),
    with("POST", "/api/v1/links", OP, r#"{"title": "", "url": ""}"#),
    r("GET", "/api/v1/links/{id}", PEOPLE),
    with(
        "PUT",
        "/api/v1/links/{id}",
        OP,
        r#"{"title": "", "url": ""}"#,
    ),
    fresh("DELETE", "/api/v1/links/{id}", OP, Resource),
    // ---- TAXII 2.1 for peer WARPs (read-only: nobody may write) ----
    r("GET", "/taxii2/", PEER),
    r("GET", "/taxii2/api/", PEER),
    r("GET", "/taxii2/api/collections/", PEER),
    r("GET", "/taxii2/api/collections/{collection}/", PEER),
    r(
        "GET",
        "/taxii2/api/collections/{collection}/manifest/",
        PEER,
    ),
    r("GET", "/taxii2/api/collections/{collection}/objects/", PEER),
    r(
        "POST",
        "/taxii2/api/collections/{collection}/objects/",
        NOBODY,
    ),
    r(
        "GET",
        "/taxii2/api/collections/{collection}/objects/{object}/",
        PEER,
    ),
    r(
        "DELETE",
        "/taxii2/api/collections/{collection}/objects/{object}/",
        NOBODY,
    ),
    r(
        "GET",
        "/taxii2/api/collections/{collection}/objects/{object}/versions/",
        PEER,
    ),
    // Nothing is ever added, so there is never a status to read.
    r("GET", "/taxii2/api/status/{status}/", NOBODY),
];

/// Every (method, path) the router serves, read from its debug form (axum
/// has no public route listing): the `RouteId → MethodRouter` map gives the
/// methods, the `RouteId → path` map the paths. HEAD comes with GET and
/// the catch-all fallbacks are not routes.
fn served_routes(store: &openwarp_store::Store) -> BTreeSet<(String, String)> {
    let router = openwarp_web::router(store.clone(), openwarp_web::WebConfig::default());
    parse_routes(&format!("{router:?}"))
}

fn parse_routes(debug: &str) -> BTreeSet<(String, String)> {
    // Only the main path router; the fallback router holds the fallbacks.
    let main = debug.split("fallback_router").next().unwrap_or(debug);
    let mut methods: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut paths: BTreeMap<u64, String> = BTreeMap::new();
    let mut rest = main;
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at + "RouteId(".len()..];
        let Some(close) = rest.find(')') else { break };
        let Ok(id) = rest[..close]
            .trim()
            .trim_end_matches(',')
            .trim()
            .parse::<u64>()
        else {
            continue;
        };
        let after = rest[close + 1..].trim_start_matches(':').trim_start();
        if let Some(s) = after.strip_prefix('"') {
            if let Some(end) = s.find('"') {
                paths.insert(id, s[..end].to_string());
            }
        } else if after.starts_with("MethodRouter") {
            let Some(h) = after.find("allow_header: ") else {
                continue;
            };
            let header = &after[h + "allow_header: ".len()..];
            if let Some(b) = header.strip_prefix("Bytes(b\"") {
                let end = b.find('"').unwrap_or(0);
                methods.insert(
                    id,
                    b[..end]
                        .split(',')
                        .filter(|m| !m.is_empty() && *m != "HEAD")
                        .map(String::from)
                        .collect(),
                );
            }
        }
    }
    let mut out = BTreeSet::new();
    for (id, path) in paths {
        if path.contains("__private__axum_fallback") {
            continue;
        }
        for m in methods.get(&id).into_iter().flatten() {
            out.insert((m.clone(), path.clone()));
        }
    }
    out
}

/// One caller: a signed-in browser session and an API token for people, a
/// TAXII token for the peer, nothing for the anonymous caller.
struct Caller {
    bit: u8,
    /// Signed in with the password only; the authenticator's secret.
    half: Option<Vec<u8>>,
    email: Option<String>,
    session: Option<(Client, String)>,
    token: Option<String>,
}

/// The resources the paths name, all in place before the first request.
struct World {
    kent: OrgId,
    victim: i64,
    spare_token: i64,
    advisory: String,
    item: String,
    supplier: String,
    webhook: String,
    exposure: String,
    invite_token: String,
    reset_token: String,
    alert: i64,
    delivery: i64,
    warp_draft: String,
    warp_review: String,
    warp_published: i64,
    incident: String,
    attachment: String,
    managed_peer: i64,
    collection: String,
    object: String,
    submission: String,
    meeting: String,
    agenda_item: String,
    poll: String,
    topic: String,
    thread: String,
    post: String,
    news: String,
    link: String,
    kl_token: String,
    ku_token: String,
    op_token: String,
}

/// A JSON API call that must succeed; the answer's body.
async fn made(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let (status, answer) = crate::support::call(app, method, path, token, Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// The first `"id"` (a number or a string) anywhere in `v`, depth first.
fn first_id(v: &Value) -> String {
    fn find(v: &Value) -> Option<String> {
        match v {
            Value::Object(m) => match m.get("id") {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) => Some(s.clone()),
                _ => m.values().find_map(find),
            },
            Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(v).unwrap_or_else(|| panic!("no id in {v}"))
}

async fn upload_attachment(app: &TestApp, token: &str, incident: &str) -> String {
    let part =
        reqwest::multipart::Part::bytes(b"Received: from mail.example\r\n\r\nHello".to_vec())
            .file_name("phish.eml")
            .mime_str("message/rfc822")
            .expect("mime");
    let resp = app
        .client()
        .http
        .post(app.url(&format!("/api/v1/incidents/{incident}/attachments")))
        .bearer_auth(token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    let status = resp.status();
    let body: Value = resp.json().await.expect("json");
    assert!(status.is_success(), "attachment: {status} {body}");
    first_id(&body)
}

fn payroll() -> Value {
    json!({
        "name": "Payroll server",
        "vendor": "Apache Software Foundation",
        "product": "Apache Log4j2",
        "version": "2.14.1",
        "internet_facing": true
    })
}

async fn build_world(app: &TestApp) -> (World, Vec<Caller>) {
    let kent = app.org("Kent County Council", "county", true).await;
    let medway = app.org("Medway Council", "unitary", true).await;
    let ku = app
        .user("user@kent.gov.uk", Role::MemberUser, Some(kent.id))
        .await;
    let kl = app
        .user("lead@kent.gov.uk", Role::MemberLead, Some(kent.id))
        .await;
    let mu = app
        .user("user@medway.gov.uk", Role::MemberUser, Some(medway.id))
        .await;
    let ml = app
        .user("lead@medway.gov.uk", Role::MemberLead, Some(medway.id))
        .await;
    let op = app.user("ops@warp.example", Role::Operator, None).await;
    let op2 = app.user("ops2@warp.example", Role::Operator, None).await;
    let victim = app
        .user("victim@kent.gov.uk", Role::MemberUser, Some(kent.id))
        .await;
    let s = &app.store;
    let t = now();
    let (ku_token, kl_token, op_token) = (
        app.token(&ku).await,
        app.token(&kl).await,
        app.token(&op).await,
    );
    let spare_token = s
        .create_api_token(ku.id, "spare", t)
        .await
        .expect("token")
        .0
        .id;

    // Log4Shell, Kent's exposure to it, an alert and a dead delivery.
    crate::exposure::ingest(
        app,
        &["advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"],
    )
    .await;
    let kent_id = kent.id.0;
    let item = first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/orgs/{kent_id}/inventory"),
            &ku_token,
            payroll(),
        )
        .await,
    );
    let exposures = made(
        app,
        Method::GET,
        &format!("/api/v1/orgs/{kent_id}/exposures"),
        &ku_token,
        Value::Null,
    )
    .await;
    let exposure = first_id(&exposures);
    let supplier = first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/orgs/{kent_id}/suppliers"),
            &ku_token,
            json!({"name": "Agilisys", "kind": "it_provider"}),
        )
        .await,
    );
    let webhook = first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/orgs/{kent_id}/webhooks"),
            &kl_token,
            json!({"name": "SIEM", "url": "https://siem.kent.gov.uk/in", "min_priority": "P2"}),
        )
        .await,
    );
    let invite_token = s
        .create_invitation(
            &Email::parse("new@kent.gov.uk").expect("email"),
            Role::MemberUser,
            Some(kent.id),
            Some(kl.id),
            t,
            chrono::Duration::days(7),
        )
        .await
        .expect("invitation")
        .1;
    let reset_token = s
        .create_password_reset(victim.id, None, t, chrono::Duration::hours(1))
        .await
        .expect("reset");
    s.raise_alerts(&[kent_alert(kent_id)], t)
        .await
        .expect("raise");
    let alert = s.alerts_for_org(kent.id, 5).await.expect("alerts")[0].id;
    let jobs = s
        .claim_deliveries("matrix", t, chrono::Duration::seconds(60), 100)
        .await
        .expect("claim");
    for j in &jobs {
        s.delivery_failed(j.id, "550 mailbox unavailable", None, t)
            .await
            .expect("fail");
    }
    let delivery = s
        .deliveries(&DeliveryFilter::default())
        .await
        .expect("deliveries")
        .first()
        .expect("a delivery")
        .id;

    // WARP advisories: a draft, and a published one (for release and TAXII).
    let warp_draft = first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/warp-advisories",
            &op_token,
            json!({"title": "Draft", "summary": "S", "action": "A", "tlp": "amber",
                   "priority": "P2", "audience": "all", "cves": ["CVE-2021-44228"]}),
        )
        .await,
    );
    let warp_review = first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/warp-advisories",
            &app.token(&op2).await,
            json!({"title": "For review", "summary": "S", "action": "A", "tlp": "amber",
                   "priority": "P2", "audience": "all", "cves": ["CVE-2021-44228"]}),
        )
        .await,
    );
    let warp_published = publish_advisory(
        app,
        "FortiOS SSL-VPN flaw exploited",
        "green",
        "CVE-2024-21762",
        op2.id,
        op.id,
    )
    .await;

    // An incident reported by Kent's user, with evidence, shared with consent.
    let incident = shared_incident(
        app,
        kent.id,
        medway.id,
        ku.id,
        "Payroll phish",
        "green",
        true,
    )
    .await;
    // Medway was named as a recipient: take the sharing back so that the
    // full report and its sanitised version are Kent's alone again.
    s.withdraw_sharing(&incident, ku.id, t)
        .await
        .expect("withdraw");
    let attachment = upload_attachment(app, &ku_token, &incident).await;

    // Peers: one for the pages to manage, one that reads over TAXII.
    let (managed, _) = reader(app, "Managed WARP", "managed", "partner", false).await;
    let (_, peer_token) = reader(app, "North West WARP", "nwwarp", "partner", false).await;
    let taxii = |path: String| {
        let token = peer_token.clone();
        async move {
            let resp = app
                .client()
                .http
                .get(app.url(&path))
                .header("accept", TAXII)
                .bearer_auth(token)
                .send()
                .await
                .expect("taxii");
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            resp.json::<Value>().await.expect("json")
        }
    };
    let collections = taxii("/taxii2/api/collections/".into()).await;
    let collection = collections["collections"]
        .as_array()
        .and_then(|c| {
            c.iter().find(|c| {
                c["alias"] == "partners"
                    || c["title"].as_str().is_some_and(|t| t.contains("artner"))
            })
        })
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("partners collection in {collections}"))
        .to_string();
    let objects = taxii(format!("/taxii2/api/collections/{collection}/objects/")).await;
    let object = objects["objects"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an object in {objects}"))
        .to_string();

    // Kent's submitted self-assessment.
    let answers: Vec<Value> = openwarp_core::assessment::Framework::shipped()
        .expect("framework")
        .questions()
        .map(|q| json!({"question": q.question.id, "grade": "achieved"}))
        .collect();
    made(
        app,
        Method::PUT,
        &format!("/api/v1/orgs/{kent_id}/assessments/council-caf/answers"),
        &kl_token,
        json!({ "answers": answers }),
    )
    .await;
    made(
        app,
        Method::POST,
        &format!("/api/v1/orgs/{kent_id}/assessments/council-caf/submissions"),
        &kl_token,
        Value::Null,
    )
    .await;
    let submission = first_id(
        &made(
            app,
            Method::GET,
            &format!("/api/v1/orgs/{kent_id}/assessments/council-caf/submissions"),
            &kl_token,
            Value::Null,
        )
        .await,
    );

    // Meetings, polls, discussion, news and links.
    let start = (t + chrono::Duration::days(30)).format("%Y-%m-%dT10:00Z");
    let end = (t + chrono::Duration::days(30)).format("%Y-%m-%dT12:00Z");
    let meeting = first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/meetings",
            &op_token,
            json!({"title": "Winter meeting", "starts_at": start.to_string(),
                   "ends_at": end.to_string(), "venue": "Maidstone"}),
        )
        .await,
    );
    let agenda_item = new_agenda_item(app, &op_token, &meeting).await;
    made(
        app,
        Method::PUT,
        &format!("/api/v1/meetings/{meeting}/outline"),
        &op_token,
        json!({"topics": ["Ransomware trends", "Supplier risk"]}),
    )
    .await;
    let poll = first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/polls",
            &op_token,
            json!({"kind": "single", "question": "Which mail filter?", "options": ["A", "B"]}),
        )
        .await,
    );
    let topic = made(
        app,
        Method::POST,
        "/api/v1/discussion/topics",
        &op_token,
        json!({"name": "GDPR", "description": "Data protection"}),
    )
    .await["slug"]
        .as_str()
        .expect("slug")
        .to_string();
    let thread = first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/discussion/topics/{topic}"),
            &ku_token,
            json!({"title": "DPIAs", "body": "Who has a template?"}),
        )
        .await,
    );
    let post = first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/discussion/threads/{thread}/replies"),
            &ku_token,
            json!({"body": "Ours is on the shared drive."}),
        )
        .await,
    );
    let news = new_news(app, &op_token).await;
    let link = new_link(app, &op_token).await;

    let world = World {
        kent: kent.id,
        victim: victim.id.0,
        spare_token,
        advisory: "CVE-2021-44228".into(),
        item,
        supplier,
        webhook,
        exposure,
        invite_token,
        reset_token,
        alert,
        delivery,
        warp_draft,
        warp_review,
        warp_published,
        incident,
        attachment,
        managed_peer: managed.id,
        collection,
        object,
        submission,
        meeting,
        agenda_item,
        poll,
        topic,
        thread,
        post,
        news,
        link,
        kl_token: kl_token.clone(),
        ku_token: ku_token.clone(),
        op_token: op_token.clone(),
    };

    let mut callers = vec![Caller {
        bit: ANON,
        half: None,
        email: None,
        session: None,
        token: None,
    }];
    for (bit, user) in [(KU, &ku), (KL, &kl), (MU, &mu), (ML, &ml), (OP, &op)] {
        callers.push(Caller {
            bit,
            half: None,
            email: Some(user.email.clone()),
            session: Some(session(app, &user.email).await),
            token: Some(app.token(user).await),
        });
    }
    callers.push(Caller {
        bit: PEER,
        half: None,
        email: None,
        session: None,
        token: Some(peer_token),
    });
    // A lead with a confirmed authenticator, signed in with the password only.
    let half = app
        .user("second@kent.gov.uk", Role::MemberLead, Some(kent.id))
        .await;
    let secret = s.start_enrolment(half.id, t).await.expect("enrol");
    s.confirm_enrolment(half.id, t).await.expect("confirm");
    callers.push(Caller {
        bit: HALF,
        half: Some(secret),
        email: Some(half.email.clone()),
        session: Some(half_session(app, &half.email).await),
        token: None,
    });
    (world, callers)
}

fn kent_alert(org: i64) -> NewAlert {
    NewAlert {
        org_id: org,
        kind: AlertKind::New,
        vuln_id: Some("CVE-2021-44228".into()),
        warp_advisory_id: None,
        priority: Priority::P1,
        tlp: TlpLabel::Amber,
        title: "Log4Shell affects Kent".into(),
        content: AlertContent {
            summary: "Apache Log4j2 on Payroll server is exploited".into(),
            reason: "P1 because it is being exploited".into(),
            changes: vec![],
            items: vec![],
            action: Some("Update Log4j to 2.17.1".into()),
            due: None,
            sources: vec![],
            path: format!("/orgs/{org}/exposure"),
        },
        dedup_key: "matrix:log4shell".into(),
    }
}

/// A signed-in session and its CSRF token.
async fn session(app: &TestApp, email: &str) -> (Client, String) {
    let client = app.client().signed_in(email).await;
    let page = client.get("/account").await;
    assert_eq!(page.status, StatusCode::OK, "{email}: /account");
    let csrf = page.csrf();
    (client, csrf)
}

/// A sign-in stopped at the second step, and that step's CSRF token.
async fn half_session(app: &TestApp, email: &str) -> (Client, String) {
    let client = app.client();
    let page = client.login(email, crate::support::PASSWORD).await;
    assert!(
        page.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login/mfa")),
        "{email}: {:?}",
        page.location
    );
    let step = client.get("/login/mfa").await;
    assert_eq!(step.status, StatusCode::OK, "{email}: /login/mfa");
    let csrf = step.csrf();
    (client, csrf)
}

/// A session for `caller`, as it signs in.
async fn session_for(app: &TestApp, caller: &Caller) -> Option<(Client, String)> {
    let email = caller.email.as_deref()?;
    Some(if caller.half.is_some() {
        half_session(app, email).await
    } else {
        session(app, email).await
    })
}

async fn new_agenda_item(app: &TestApp, op_token: &str, meeting: &str) -> String {
    first_id(
        &made(
            app,
            Method::POST,
            &format!("/api/v1/meetings/{meeting}/agenda"),
            op_token,
            json!({"title": "Round table"}),
        )
        .await,
    )
}

async fn new_news(app: &TestApp, op_token: &str) -> String {
    first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/news",
            op_token,
            json!({"title": "Cyber Essentials changes", "body": "One.\n\nTwo."}),
        )
        .await,
    )
}

async fn new_link(app: &TestApp, op_token: &str) -> String {
    first_id(
        &made(
            app,
            Method::POST,
            "/api/v1/links",
            op_token,
            json!({"title": "NCSC CAF", "url": "https://www.ncsc.gov.uk/collection/caf"}),
        )
        .await,
    )
}

impl World {
    /// The value for path parameter `name`, named after the literal segment
    /// `before` it; deletions get a resource of their own.
    async fn value(
        &self,
        app: &TestApp,
        path: &str,
        before: &str,
        name: &str,
        fresh: bool,
    ) -> String {
        let kent = self.kent.0;
        match (before, name) {
            ("orgs", _) => kent.to_string(),
            ("inventory", "item") if fresh => first_id(
                &made(
                    app,
                    Method::POST,
                    &format!("/api/v1/orgs/{kent}/inventory"),
                    &self.ku_token,
                    json!({"name": format!("Spare {}", rand_suffix()), "vendor": "Acme", "product": "Widget", "version": rand_suffix()}),
                )
                .await,
            )
            .to_string(),
            ("inventory", "item") => self.item.to_string(),
            ("suppliers", "sid") if fresh => first_id(
                &made(
                    app,
                    Method::POST,
                    &format!("/api/v1/orgs/{kent}/suppliers"),
                    &self.ku_token,
                    json!({"name": format!("Spare supplier {}", rand_suffix()), "kind": "it_provider"}),
                )
                .await,
            )
            .to_string(),
            ("suppliers", "sid") => self.supplier.to_string(),
            ("webhooks", "wid") if fresh => first_id(
                &made(
                    app,
                    Method::POST,
                    &format!("/api/v1/orgs/{kent}/webhooks"),
                    &self.kl_token,
                    json!({"name": format!("Spare {}", rand_suffix()), "url": "https://siem.kent.gov.uk/spare"}),
                )
                .await,
            )
            .to_string(),
            ("webhooks", "wid") => self.webhook.to_string(),
            ("invitations", "inv") => {
                let email = format!("spare{}@kent.gov.uk", rand_suffix());
                let made = made(
                    app,
                    Method::POST,
                    &format!("/api/v1/orgs/{kent}/invitations"),
                    &self.kl_token,
                    json!({"email": email, "role": "member_user"}),
                )
                .await;
                first_id(&made).to_string()
            }
            ("exposure" | "exposures", "x") => self.exposure.to_string(),
            ("advisories", _) => self.advisory.clone(),
            ("warp-advisories", _) if self.reviewing(path) => self.warp_review.to_string(),
            ("warp-advisories", _) => self.warp_draft.to_string(),
            ("releases", _) => self.warp_published.to_string(),
            ("incidents", _) => self.incident.clone(),
            ("attachments", _) if fresh => {
                upload_attachment(app, &self.ku_token, &self.incident)
                    .await
                    .to_string()
            }
            ("attachments", _) => self.attachment.to_string(),
            ("alerts", _) => self.alert.to_string(),
            ("deliveries", _) => self.delivery.to_string(),
            ("users", _) => self.victim.to_string(),
            ("tokens", _) => self.spare_token.to_string(),
            ("peers", _) => self.managed_peer.to_string(),
            ("collections", _) => self.collection.clone(),
            ("objects", _) => self.object.clone(),
            ("status", _) => "2d086da7-4bdc-4f91-900e-d77486753710".into(),
            ("assessments" | "assessment-frameworks", "fw") => "council-caf".into(),
            ("sections", _) => "A1".into(),
            ("submissions", _) => self.submission.to_string(),
            ("meetings", _) => self.meeting.to_string(),
            ("agenda", _) if fresh => new_agenda_item(app, &self.op_token, &self.meeting)
                .await
                .to_string(),
            ("agenda", _) => self.agenda_item.to_string(),
            ("polls", _) => self.poll.to_string(),
            ("discussion" | "topics", _) => self.topic.clone(),
            ("threads", _) => self.thread.to_string(),
            ("posts", _) => self.post.to_string(),
            ("news", _) if fresh => new_news(app, &self.op_token).await.to_string(),
            ("news", _) => self.news.to_string(),
            ("links", _) if fresh => new_link(app, &self.op_token).await.to_string(),
            ("links", _) => self.link.to_string(),
            ("invite", _) => self.invite_token.clone(),
            ("reset", _) => self.reset_token.clone(),
            _ => panic!("no value for {{{name}}} after /{before}/: add one to World::value"),
        }
    }

    fn reviewing(&self, pattern: &str) -> bool {
        ["/request-changes", "/publish", "/withdraw"]
            .iter()
            .any(|s| pattern.ends_with(s))
    }

    /// `pattern` with its parameters filled in.
    async fn path(&self, app: &TestApp, pattern: &str, fresh: Fresh) -> String {
        let segments: Vec<&str> = pattern.split('/').collect();
        let last_param = segments.iter().rposition(|s| s.starts_with('{'));
        let mut out = Vec::with_capacity(segments.len());
        for (i, seg) in segments.iter().enumerate() {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let before = segments[..i]
                    .iter()
                    .rev()
                    .find(|s| !s.starts_with('{'))
                    .copied()
                    .unwrap_or("");
                let own = fresh == Fresh::Resource && Some(i) == last_param;
                out.push(self.value(app, pattern, before, name, own).await);
            } else {
                out.push((*seg).to_string());
            }
        }
        out.join("/")
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Whether an answer means "you may not": 401, 403, 404, or a redirect to
/// the sign-in page (or, for a half sign-in, to its second step).
fn refused(status: StatusCode, location: Option<&str>) -> bool {
    matches!(status.as_u16(), 401 | 403 | 404)
        || (status.is_redirection()
            && location.is_some_and(|l| {
                l == "/login" || l.starts_with("/login?next=") || l.starts_with("/login/mfa")
            }))
}

/// One request by `caller`: status, Location, and the start of the body.
async fn attempt(
    app: &TestApp,
    rule: &Rule,
    caller: &Caller,
    path: &str,
) -> (StatusCode, Option<String>, String) {
    let method = Method::from_bytes(rule.method.as_bytes()).expect("method");
    let api = path.starts_with("/api/");
    let taxii = path.starts_with("/taxii2/");
    let upload = rule.method == "POST"
        && (path.ends_with("/attachments") || path.contains("/inventory/import"));
    // A session that this request ends is made for it alone.
    let fresh_session = match rule.fresh {
        Fresh::Session => session_for(app, caller).await,
        _ => None,
    };
    let (http, csrf) = match (&fresh_session, &caller.session) {
        (Some((c, csrf)), _) | (None, Some((c, csrf))) if !api && !taxii => {
            (c.http.clone(), Some(csrf.clone()))
        }
        _ => (app.client().http, None),
    };
    let mut req = http.request(method.clone(), app.url(path));
    if let Some(t) = caller
        .token
        .as_ref()
        .filter(|_| api || taxii || caller.bit == PEER)
    {
        req = req.bearer_auth(t);
    }
    if taxii {
        req = req.header("accept", TAXII);
    }
    // Forms for people not (yet) signed in carry the pre-session token of
    // the page they are on, whoever posts them.
    let anonymous_form = ["/login", "/invite/", "/reset/", "/unsubscribe"]
        .iter()
        .any(|p| path.starts_with(p));
    let csrf = if method == Method::POST && anonymous_form {
        let page = http.get(app.url(path)).send().await.expect("GET");
        let body = page.text().await.unwrap_or_default();
        crate::support::value_after(&body, "name=\"csrf\" value=\"").or(csrf)
    } else {
        csrf
    };
    if upload && !api {
        let form = reqwest::multipart::Form::new().text("csrf", csrf.unwrap_or_default());
        req = req.multipart(form);
    } else if upload {
        req = req.multipart(reqwest::multipart::Form::new().text("note", "no file"));
    } else if taxii && method == Method::POST {
        req = req
            .header("content-type", TAXII)
            .body("{\"objects\":[]}".to_string());
    } else if api && method != Method::GET && method != Method::DELETE {
        let body = if rule.body.is_empty() {
            "{}"
        } else {
            rule.body
        };
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    } else if method == Method::POST {
        let code = match &caller.half {
            Some(secret) => {
                let unix = u64::try_from(now().timestamp()).expect("after 1970");
                openwarp_core::mfa::code_at(secret, unix).expect("code")
            }
            None => "000000".into(),
        };
        let mut fields: Vec<(String, String)> = url_pairs(&rule.body.replace("{totp}", &code));
        if let Some(c) = csrf {
            fields.push(("csrf".into(), c));
        }
        req = req.form(&fields);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = resp.text().await.unwrap_or_default();
    let excerpt: String = body.chars().take(300).collect();
    (status, location, excerpt)
}

fn url_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_every_caller_as_its_rule_says() {
    for app in apps_without_rate_limits().await {
        // Every route has exactly one rule, and every rule a route.
        let served = served_routes(&app.store);
        assert!(
            served.len() > 250,
            "the router listing looks wrong: {served:?}"
        );
        let mut ruled = BTreeSet::new();
        for rule in RULES {
            assert!(
                ruled.insert((rule.method.to_string(), rule.path.to_string())),
                "two rules for {} {}",
                rule.method,
                rule.path
            );
        }
        let unruled: Vec<_> = served.difference(&ruled).collect();
        assert!(
            unruled.is_empty(),
            "routes without a rule in access_matrix.rs (add one): {unruled:#?}"
        );
        let stale: Vec<_> = ruled.difference(&served).collect();
        assert!(
            stale.is_empty(),
            "rules for routes that do not exist: {stale:#?}"
        );

        let (world, mut callers) = build_world(&app).await;
        let mut wrong = Vec::new();
        let mut tried = 0;
        for rule in RULES {
            // Refused callers first: an allowed caller's change must not
            // make a refusal look right.
            let mut order: Vec<usize> = (0..callers.len()).collect();
            order.sort_by_key(|&i| rule.allowed & callers[i].bit != 0);
            for i in order {
                let caller = &callers[i];
                let path = world.path(&app, rule.path, rule.fresh).await;
                let (status, location, body) = attempt(&app, rule, caller, &path).await;
                tried += 1;
                // Signing out everywhere ends the caller's main session too.
                if rule.fresh == Fresh::Session && caller.email.is_some() {
                    callers[i].session = session_for(&app, caller).await;
                }
                let caller = &callers[i];
                let allowed = rule.allowed & caller.bit != 0;
                if refused(status, location.as_deref()) == allowed {
                    let who = CALLERS
                        .iter()
                        .find(|(b, _)| *b == caller.bit)
                        .map_or("?", |(_, n)| n);
                    wrong.push(format!(
                        "{} {} as {who}: expected {}, got {status}{} {}",
                        rule.method,
                        path,
                        if allowed { "allowed" } else { "refused" },
                        location.map(|l| format!(" → {l}")).unwrap_or_default(),
                        body.replace('\n', " ")
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {tried} answers disagree with the rules ({}):\n{}",
            wrong.len(),
            app.backend(),
            wrong.join("\n")
        );
    }
}

//! WARP advisories: writing, reviewing, publishing and withdrawing them, and
//! who may read one. Pages and API both come through here, so the workflow
//! rules ([`openwarp_core::warp_advisory`]) and the audit log cannot be
//! skipped.
//!
//! Members get 403 for every change (the area is the operators'), and 404
//! for an advisory they may not read, so its existence is not revealed.

use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::Actor;
use openwarp_core::warp_advisory::{
    self, Audience, LinkInput, Refusal, Step, WarpAdvisoryDraft, WarpAdvisoryInput,
};
use openwarp_core::{TlpLabel, ValidationErrors};
use openwarp_store::{Published, User, WarpAdvisory, now};

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        if r.is_conflict() {
            AppError::Conflict(r.to_string())
        } else {
            AppError::Forbidden(r.to_string())
        }
    }
}

/// An advisory as a form or JSON body gave it, lists as text or arrays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarpText {
    pub title: String,
    pub summary: String,
    pub action: String,
    pub tlp: String,
    pub priority: String,
    pub audience: String,
    /// One product per line (or separated by commas).
    pub products: String,
    /// CVE ids separated by spaces, commas or lines.
    pub cves: String,
    /// One link per line: a URL, optionally after its label.
    pub links: String,
}

/// Split at newlines and at commas not escaped by a backslash (CPE names
/// may quote commas).
fn product_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in text.chars() {
        if !escaped && (c == '\n' || c == ',') {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
        escaped = !escaped && c == '\\';
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl WarpText {
    pub fn input(&self) -> WarpAdvisoryInput {
        WarpAdvisoryInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            action: self.action.clone(),
            tlp: self.tlp.clone(),
            priority: self.priority.clone(),
            audience: self.audience.clone(),
            products: product_lines(&self.products),
            cves: self
                .cves
                .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            links: self
                .links
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(LinkInput::from_line)
                .collect(),
        }
    }

    pub fn validate(&self) -> Result<WarpAdvisoryDraft, ValidationErrors> {
        self.input().validate()
    }

    /// A fresh form: TLP:AMBER, P2, all members.
    pub fn blank() -> WarpText {
        WarpText {
            tlp: TlpLabel::Amber.as_str().into(),
            priority: "P2".into(),
            audience: Audience::All.as_str().into(),
            ..WarpText::default()
        }
    }
}

impl From<&WarpAdvisoryDraft> for WarpText {
    fn from(d: &WarpAdvisoryDraft) -> Self {
        WarpText {
            title: d.title.clone(),
            summary: d.summary.clone(),
            action: d.action.clone(),
            tlp: d.tlp.as_str().into(),
            priority: format!("P{}", d.priority),
            audience: d.audience.as_str().into(),
            products: d
                .products
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            cves: d.cves.join(" "),
            links: d
                .links
                .iter()
                .map(|l| format!("{} {}", l.label, l.url))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// The advisory, or 404 when there is none or `actor` may not read it.
pub async fn visible(state: &AppState, actor: &Actor, id: i64) -> Result<WarpAdvisory, AppError> {
    let a = state
        .store
        .warp_advisory(id)
        .await?
        .ok_or(AppError::NotFound("WARP advisory"))?;
    if actor.is_operator() {
        return Ok(a);
    }
    let everyone = warp_advisory::member_may_see(a.status, a.draft.audience, a.draft.tlp, false);
    let reached = match actor.org_id {
        Some(org) if !everyone => state.store.warp_advisory_reached(id, org).await?,
        _ => false,
    };
    if warp_advisory::may_see(actor, a.status, a.draft.audience, a.draft.tlp, reached) {
        Ok(a)
    } else {
        Err(AppError::NotFound("WARP advisory"))
    }
}

/// The advisory for a change by an operator: 403 for members, 404 if absent.
pub async fn for_change(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<WarpAdvisory, AppError> {
    warp_advisory::can_create(actor)?;
    state
        .store
        .warp_advisory(id)
        .await?
        .ok_or(AppError::NotFound("WARP advisory"))
}

fn detail(a: &WarpAdvisory) -> serde_json::Value {
    serde_json::json!({
        "warp_advisory": a.id,
        "status": a.status.as_str(),
        "tlp": a.draft.tlp.as_str(),
        "priority": format!("P{}", a.draft.priority),
        "audience": a.draft.audience.as_str(),
    })
}

pub async fn create(
    state: &AppState,
    actor: &User,
    draft: &WarpAdvisoryDraft,
    ip: &str,
) -> Result<WarpAdvisory, AppError> {
    warp_advisory::can_create(&actor.actor())?;
    let a = state
        .store
        .create_warp_advisory(draft, actor.id, now())
        .await?;
    record(
        state,
        Some(actor),
        "warp_advisory.create",
        None,
        &a.draft.title,
        detail(&a),
        Some(ip),
    )
    .await;
    Ok(a)
}

pub async fn update(
    state: &AppState,
    actor: &User,
    id: i64,
    draft: &WarpAdvisoryDraft,
    ip: &str,
) -> Result<WarpAdvisory, AppError> {
    let before = for_change(state, &actor.actor(), id).await?;
    warp_advisory::next(&actor.actor(), before.status, before.author_id, Step::Edit)?;
    let a = state
        .store
        .update_warp_advisory(id, draft, actor.id, now())
        .await?;
    let mut d = detail(&a);
    d["status"] = serde_json::json!([before.status.as_str(), a.status.as_str()]);
    record(
        state,
        Some(actor),
        "warp_advisory.update",
        None,
        &a.draft.title,
        d,
        Some(ip),
    )
    .await;
    Ok(a)
}

pub async fn submit(
    state: &AppState,
    actor: &User,
    id: i64,
    ip: &str,
) -> Result<WarpAdvisory, AppError> {
    let before = for_change(state, &actor.actor(), id).await?;
    warp_advisory::next(
        &actor.actor(),
        before.status,
        before.author_id,
        Step::Submit,
    )?;
    let a = state
        .store
        .submit_warp_advisory(id, actor.id, now())
        .await?;
    record(
        state,
        Some(actor),
        "warp_advisory.submit",
        None,
        &a.draft.title,
        detail(&a),
        Some(ip),
    )
    .await;
    Ok(a)
}

pub async fn request_changes(
    state: &AppState,
    actor: &User,
    id: i64,
    note: &str,
    ip: &str,
) -> Result<WarpAdvisory, AppError> {
    let before = for_change(state, &actor.actor(), id).await?;
    warp_advisory::next(
        &actor.actor(),
        before.status,
        before.author_id,
        Step::RequestChanges,
    )?;
    let note = warp_advisory::validate_note(note)?;
    let a = state
        .store
        .request_warp_advisory_changes(id, actor.id, &note, now())
        .await?;
    let mut d = detail(&a);
    d["note"] = serde_json::json!(note);
    record(
        state,
        Some(actor),
        "warp_advisory.request_changes",
        None,
        &a.draft.title,
        d,
        Some(ip),
    )
    .await;
    Ok(a)
}

pub async fn publish(
    state: &AppState,
    actor: &User,
    id: i64,
    ip: &str,
) -> Result<Published, AppError> {
    let before = for_change(state, &actor.actor(), id).await?;
    warp_advisory::next(
        &actor.actor(),
        before.status,
        before.author_id,
        Step::Publish,
    )?;
    let p = state
        .store
        .publish_warp_advisory(id, actor.id, now())
        .await?;
    let mut d = detail(&p.advisory);
    d["organisations"] = serde_json::json!(p.orgs);
    d["alerts"] = serde_json::json!(p.alerts);
    d["deliveries"] = serde_json::json!(p.deliveries);
    record(
        state,
        Some(actor),
        "warp_advisory.publish",
        None,
        &p.advisory.draft.title,
        d,
        Some(ip),
    )
    .await;
    Ok(p)
}

pub async fn withdraw(
    state: &AppState,
    actor: &User,
    id: i64,
    ip: &str,
) -> Result<WarpAdvisory, AppError> {
    let before = for_change(state, &actor.actor(), id).await?;
    warp_advisory::next(
        &actor.actor(),
        before.status,
        before.author_id,
        Step::Withdraw,
    )?;
    let a = state.store.withdraw_warp_advisory(id, now()).await?;
    record(
        state,
        Some(actor),
        "warp_advisory.withdraw",
        None,
        &a.draft.title,
        detail(&a),
        Some(ip),
    )
    .await;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_text_splits_into_lists() {
        let t = WarpText {
            products: "fortinet:fortios, ivanti:connect_secure\ncpe:2.3:a:x:y\\,z\n\n".into(),
            cves: "CVE-2024-1111, CVE-2024-2222\nCVE-2024-3333;CVE-2024-4444".into(),
            links: "NCSC https://ncsc.gov.uk/a\n\nhttps://b.example/".into(),
            ..WarpText::blank()
        };
        let i = t.input();
        assert_eq!(
            i.products,
            [
                "fortinet:fortios",
                "ivanti:connect_secure",
                "cpe:2.3:a:x:y\\,z"
            ]
        );
        assert_eq!(i.cves.len(), 4);
        assert_eq!(i.links.len(), 2);
        assert_eq!(i.links[0].label, "NCSC");
    }

    #[test]
    fn a_draft_turns_back_into_the_same_form() {
        let t = WarpText {
            title: "T".into(),
            summary: "S".into(),
            action: "A".into(),
            products: "fortinet:fortios".into(),
            cves: "CVE-2024-1111".into(),
            links: "NCSC https://ncsc.gov.uk/a".into(),
            ..WarpText::blank()
        };
        let d = t.validate().expect("valid");
        assert_eq!(WarpText::from(&d), t);
    }
}

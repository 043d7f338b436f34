//! The advisory list (with filters and paging) and the advisory page showing
//! every source's statement, its provenance and the change history.

use super::exposure::{ExposureRow, priority_class};
use super::{Layout, render, render_with, timestamp};
use crate::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use openwarp_advisory::{
    Affected, BoolOp, OsvEvent, OsvRangeKind, RecordState, Severity, SourceRecord,
};
use openwarp_store::{AdvisoryFilter, AdvisoryRow, ExposureFilter, Session, StoredRecord};
use serde::Deserialize;

pub const PAGE_SIZE: i64 = 50;

/// The filter form as the browser (or an API client) sends it: all text,
/// checked and converted by [`AdvisoryQuery::filter`].
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct AdvisoryQuery {
    pub q: String,
    pub severity: String,
    pub epss: String,
    pub vendor: String,
    pub product: String,
    pub published_from: String,
    pub published_to: String,
    pub modified_from: String,
    pub modified_to: String,
    pub kev: String,
    pub rejected: String,
    pub page: String,
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn checked(s: &str) -> bool {
    matches!(s.trim(), "on" | "true" | "1" | "yes")
}

impl AdvisoryQuery {
    pub fn kev_on(&self) -> bool {
        checked(&self.kev)
    }

    pub fn rejected_on(&self) -> bool {
        checked(&self.rejected)
    }

    /// The store filter, and a message for each value that could not be used.
    pub fn filter(&self) -> (AdvisoryFilter, Vec<String>) {
        let mut problems = Vec::new();
        let mut date = |field: &str, raw: &str| -> Option<NaiveDate> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| {
                    problems.push(format!("{field}: '{raw}' is not a date written YYYY-MM-DD"))
                })
                .ok()
        };
        let published_from = date("published_from", &self.published_from);
        let published_to = date("published_to", &self.published_to);
        let modified_from = date("modified_from", &self.modified_from);
        let modified_to = date("modified_to", &self.modified_to);
        let min_severity = match self.severity.trim() {
            "" | "any" => None,
            s => match Severity::parse(s) {
                Some(sev) => Some(sev),
                None => {
                    problems.push(format!(
                        "severity: '{s}' is not one of low, medium, high, critical"
                    ));
                    None
                }
            },
        };
        let min_epss = match self.epss.trim() {
            "" => None,
            s => match s.parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Some(v),
                _ => {
                    problems.push(format!("epss: '{s}' is not a number between 0 and 1"));
                    None
                }
            },
        };
        if let Some(q) = optional(&self.q)
            && q.chars().count() > 200
        {
            problems.push("q: the search text must be at most 200 characters".into());
        }
        let filter = AdvisoryFilter {
            text: optional(&self.q).filter(|q| q.chars().count() <= 200),
            min_severity,
            kev_only: checked(&self.kev),
            min_epss,
            published_from,
            published_to,
            modified_from,
            modified_to,
            vendor: optional(&self.vendor),
            product: optional(&self.product),
            include_rejected: checked(&self.rejected),
        };
        (filter, problems)
    }

    /// 1-based page number; bad values mean page 1 (and a problem).
    pub fn page(&self, problems: &mut Vec<String>) -> i64 {
        super::page_number(&self.page, problems)
    }
}

pub struct RowView {
    pub id: String,
    pub title: String,
    pub severity: Option<String>,
    pub score: String,
    pub epss: String,
    pub kev: bool,
    pub rejected: bool,
    pub modified: String,
}

fn epss_text(score: Option<f64>, percentile: Option<f64>) -> String {
    match (score, percentile) {
        (Some(s), Some(p)) => format!(
            "{:.1}% (top {:.0}%)",
            s * 100.0,
            ((1.0 - p) * 100.0).max(1.0)
        ),
        (Some(s), None) => format!("{:.1}%", s * 100.0),
        _ => "–".into(),
    }
}

impl From<&AdvisoryRow> for RowView {
    fn from(r: &AdvisoryRow) -> Self {
        RowView {
            id: r.vuln_id.clone(),
            title: r.title.clone(),
            severity: r.severity.clone(),
            score: r.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            epss: epss_text(r.epss_score, r.epss_percentile),
            kev: r.kev_date_added.is_some(),
            rejected: r.rejected,
            modified: r
                .modified
                .map(|m| m.format("%-d %b %Y").to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "advisories.html")]
struct ListPage {
    layout: Layout,
    f: AdvisoryQuery,
    severities: Vec<(&'static str, &'static str)>,
    problems: Vec<String>,
    rows: Vec<RowView>,
    total: i64,
    first: i64,
    last: i64,
    prev_link: Option<String>,
    next_link: Option<String>,
    /// "From your WARP": the newest WARP advisories the user may read.
    warp: Vec<super::warp_advisories::WarpListItem>,
}

pub async fn list(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let query: AdvisoryQuery = raw
        .as_deref()
        .map(serde_urlencoded::from_str)
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("the filter could not be read: {e}")))?
        .unwrap_or_default();
    let (filter, mut problems) = query.filter();
    let page = query.page(&mut problems);
    let offset = (page - 1) * PAGE_SIZE;
    let result = state
        .store
        .list_advisories(&filter, PAGE_SIZE, offset)
        .await?;
    let shown = result.rows.len() as i64;
    let list = ListPage {
        layout: Layout::signed_in(&state, &session, "Advisories", "advisories"),
        severities: vec![
            ("any", "Any"),
            ("low", "Low"),
            ("medium", "Medium"),
            ("high", "High"),
            ("critical", "Critical"),
        ],
        rows: result.rows.iter().map(RowView::from).collect(),
        total: result.total,
        first: offset + 1,
        last: offset + shown,
        prev_link: (page > 1).then(|| super::page_link("/advisories", raw.as_deref(), page - 1)),
        next_link: (offset + shown < result.total)
            .then(|| super::page_link("/advisories", raw.as_deref(), page + 1)),
        f: query,
        problems: problems.clone(),
        warp: super::warp_advisories::from_your_warp(&state, &session).await?,
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    render_with(status, &list)
}

pub struct KevView {
    pub date_added: String,
    pub due_date: Option<String>,
    pub required_action: String,
    pub ransomware: bool,
}

pub struct AdvisoryView {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub description: Option<String>,
    pub rejected: bool,
    pub severity: Option<String>,
    pub score: String,
    pub cvss_version: String,
    pub vector: String,
    pub kev: Option<KevView>,
    pub epss: String,
    pub published: String,
    pub modified: String,
    pub sources: String,
    pub products: Vec<(String, String)>,
}

pub struct RecordView {
    pub source: &'static str,
    pub record_id: String,
    pub publisher: String,
    pub first_seen: String,
    pub changed: String,
    pub tlp: String,
    pub state: String,
    pub cvss: Vec<String>,
    pub cwes: String,
    pub affected: Vec<String>,
    pub affected_more: usize,
    pub remediations: Vec<String>,
    pub references: Vec<(String, String)>,
}

pub struct ChangeView {
    pub at: String,
    pub source: String,
    pub summary: String,
}

/// A member exposed to the advisory (operators only).
pub struct ExposedMember {
    pub org_id: i64,
    pub name: String,
    pub items: i64,
    pub priority: &'static str,
    pub priority_class: &'static str,
}

/// Who is exposed: operators see the members; members see how many, and
/// their own exposures.
pub struct ExposureSection {
    pub count: usize,
    pub members: Option<Vec<ExposedMember>>,
    pub yours: Vec<ExposureRow>,
}

async fn exposure_section(
    state: &AppState,
    session: &Session,
    vuln_id: &str,
) -> Result<ExposureSection, AppError> {
    let exposed = state.store.advisory_exposure(vuln_id).await?;
    let count = exposed.len();
    Ok(match session.user.org_id {
        None => ExposureSection {
            count,
            members: Some(
                exposed
                    .into_iter()
                    .map(|e| ExposedMember {
                        org_id: e.org_id,
                        name: e.org_name,
                        items: e.items,
                        priority: e.top_priority.as_str(),
                        priority_class: priority_class(e.top_priority),
                    })
                    .collect(),
            ),
            yours: Vec::new(),
        },
        Some(org) => {
            let yours = if exposed.iter().any(|e| e.org_id == org.0) {
                let mine = ExposureFilter {
                    vuln_id: Some(vuln_id.to_string()),
                    ..ExposureFilter::default()
                };
                state
                    .store
                    .list_exposures(org, &mine)
                    .await?
                    .iter()
                    .map(ExposureRow::new)
                    .collect()
            } else {
                Vec::new()
            };
            ExposureSection {
                count,
                members: None,
                yours,
            }
        }
    })
}

#[derive(Template)]
#[template(path = "advisory.html")]
struct DetailPage {
    layout: Layout,
    a: AdvisoryView,
    records: Vec<RecordView>,
    changes: Vec<ChangeView>,
    exposure: ExposureSection,
}

const AFFECTED_SHOWN: usize = 25;

fn bounds(m: &openwarp_advisory::CpeMatch) -> String {
    let mut out = String::new();
    if let Some(v) = &m.version_start_including {
        out.push_str(&format!(" from {v}"));
    }
    if let Some(v) = &m.version_start_excluding {
        out.push_str(&format!(" after {v}"));
    }
    if let Some(v) = &m.version_end_including {
        out.push_str(&format!(" up to {v}"));
    }
    if let Some(v) = &m.version_end_excluding {
        out.push_str(&format!(" before {v}"));
    }
    out
}

/// One line per statement, in the words of its format.
pub fn affected_lines(a: &Affected) -> Vec<String> {
    match a {
        Affected::Nvd(cfg) => {
            let join = match cfg.operator {
                Some(BoolOp::And) => "all of",
                _ => "any of",
            };
            cfg.nodes
                .iter()
                .enumerate()
                .flat_map(|(i, node)| {
                    let op = match node.operator {
                        BoolOp::And => "AND",
                        BoolOp::Or => "OR",
                    };
                    let neg = if node.negate { " NOT" } else { "" };
                    let prefix = if cfg.nodes.len() > 1 {
                        format!("[{join} · node {} {op}{neg}] ", i + 1)
                    } else {
                        format!("[{op}{neg}] ")
                    };
                    node.cpe_match.iter().map(move |m| {
                        let role = if m.vulnerable {
                            "vulnerable"
                        } else {
                            "running on"
                        };
                        format!("{prefix}{role} {}{}", m.criteria, bounds(m))
                    })
                })
                .collect()
        }
        Affected::Cve5(c) => {
            let name = [
                c.vendor.as_deref(),
                c.product.as_deref().or(c.package_name.as_deref()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let versions: Vec<String> = c
                .versions
                .iter()
                .map(|v| {
                    let status = format!("{:?}", v.status).to_lowercase();
                    match (&v.less_than, &v.less_than_or_equal) {
                        (Some(lt), _) => format!("{status} {} to before {lt}", v.version),
                        (_, Some(le)) => format!("{status} {} to {le}", v.version),
                        _ => format!("{status} {}", v.version),
                    }
                })
                .collect();
            let default = format!("{:?}", c.default_status).to_lowercase();
            vec![format!(
                "{}: {name}: {}; other versions {default}",
                c.container,
                versions.join("; ")
            )]
        }
        Affected::Osv(o) => {
            let mut parts: Vec<String> = o
                .ranges
                .iter()
                .map(|r| {
                    let events: Vec<String> = r
                        .events
                        .iter()
                        .map(|e| match e {
                            OsvEvent::Introduced(v) => format!("introduced {v}"),
                            OsvEvent::Fixed(v) => format!("fixed {v}"),
                            OsvEvent::LastAffected(v) => format!("last affected {v}"),
                            OsvEvent::Limit(v) => format!("limit {v}"),
                        })
                        .collect();
                    let kind = match r.kind {
                        OsvRangeKind::Semver => "SEMVER",
                        OsvRangeKind::Ecosystem => "ECOSYSTEM",
                        OsvRangeKind::Git => "GIT",
                    };
                    format!("{kind}: {}", events.join(", "))
                })
                .collect();
            if !o.versions.is_empty() {
                parts.push(format!("versions {}", o.versions.join(", ")));
            }
            vec![format!("{}/{}: {}", o.ecosystem, o.name, parts.join("; "))]
        }
        Affected::Csaf(c) => {
            let status = format!("{:?}", c.status);
            vec![format!(
                "{status}: {}{}",
                c.name,
                c.cpe
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            )]
        }
        Affected::Kev { vendor, product } => vec![format!("{vendor} {product}")],
    }
}

fn record_view(s: &StoredRecord) -> RecordView {
    let r: &SourceRecord = &s.record;
    let mut affected: Vec<String> = r.affected.iter().flat_map(affected_lines).collect();
    let affected_more = affected.len().saturating_sub(AFFECTED_SHOWN);
    affected.truncate(AFFECTED_SHOWN);
    RecordView {
        source: r.source.label(),
        record_id: r.record_id.clone(),
        publisher: r.publisher.clone().unwrap_or_default(),
        first_seen: timestamp(s.first_seen_at),
        changed: timestamp(s.changed_at),
        tlp: r
            .tlp
            .map(|t| format!("{t:?}").to_uppercase())
            .unwrap_or_default(),
        state: match &r.state {
            RecordState::Published => "Published".into(),
            RecordState::Rejected { reason } => format!(
                "Rejected{}",
                reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            RecordState::Withdrawn { at } => format!(
                "Withdrawn{}",
                at.map(|t| format!(" on {}", timestamp(t)))
                    .unwrap_or_default()
            ),
        },
        cvss: r
            .cvss
            .iter()
            .map(|c| {
                format!(
                    "CVSS {} {:.1} {} — {} (assessed by {}{})",
                    c.version.as_str(),
                    c.base_score,
                    c.severity.as_str(),
                    c.vector,
                    c.assessor,
                    c.kind
                        .as_deref()
                        .map(|k| format!(", {k}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        cwes: r.cwes.join(", "),
        affected,
        affected_more,
        remediations: r
            .remediations
            .iter()
            .map(|m| format!("{}: {}", m.category.replace('_', " "), m.details))
            .collect(),
        references: r
            .references
            .iter()
            .take(40)
            .map(|x| (x.url.clone(), x.tags.join(", ")))
            .collect(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = id.trim().to_string();
    let Some(vuln_id) = state.store.resolve_vuln_id(&id).await? else {
        return Err(AppError::NotFound("advisory"));
    };
    if vuln_id != id {
        return Ok(Redirect::to(&format!("/advisories/{vuln_id}")).into_response());
    }
    let d = state
        .store
        .advisory(&vuln_id)
        .await?
        .ok_or(AppError::NotFound("advisory"))?;
    let s = &d.summary;
    let cvss = s.max_cvss.as_ref();
    let a = AdvisoryView {
        id: d.row.vuln_id.clone(),
        aliases: s.aliases.clone(),
        title: s.title.clone(),
        description: s.description.clone(),
        rejected: s.rejected,
        severity: s.severity.map(|x| x.as_str().to_string()),
        score: cvss
            .map(|c| format!("{:.1}", c.base_score))
            .unwrap_or_default(),
        cvss_version: cvss
            .map(|c| c.version.as_str().to_string())
            .unwrap_or_default(),
        vector: cvss.map(|c| c.vector.clone()).unwrap_or_default(),
        kev: s.kev.as_ref().map(|k| KevView {
            date_added: k.date_added.format("%-d %B %Y").to_string(),
            due_date: k.due_date.map(|d| d.format("%-d %B %Y").to_string()),
            required_action: k.required_action.clone(),
            ransomware: k
                .known_ransomware_campaign_use
                .eq_ignore_ascii_case("known"),
        }),
        epss: match (d.row.epss_score, d.row.epss_percentile) {
            (Some(sc), Some(p)) => format!(
                "{:.1}% chance of exploitation activity in the next 30 days (higher than {:.1}% of all CVEs)",
                sc * 100.0,
                p * 100.0
            ),
            _ => "No EPSS score".into(),
        },
        published: s
            .published
            .map(timestamp)
            .unwrap_or_else(|| "Unknown".into()),
        modified: s
            .modified
            .map(timestamp)
            .unwrap_or_else(|| "Unknown".into()),
        sources: s
            .sources
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(", "),
        products: s.products.clone(),
    };
    let exposure = exposure_section(&state, &session, &vuln_id).await?;
    let page = DetailPage {
        exposure,
        layout: Layout::signed_in(&state, &session, d.row.vuln_id.clone(), "advisories"),
        a,
        records: d.records.iter().map(record_view).collect(),
        changes: d
            .changes
            .iter()
            .map(|c| ChangeView {
                at: c.at.format("%Y-%m-%d %H:%M").to_string(),
                source: openwarp_advisory::SourceKind::parse(&c.source)
                    .map_or(c.source.clone(), |k| k.label().to_string()),
                summary: c.summary.clone(),
            })
            .collect(),
    };
    render(&page)
}

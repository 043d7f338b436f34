//! Changing a member's inventory: adding, editing and removing items one at
//! a time, importing CSV files and CycloneDX SBOMs, and exporting CSV. Every
//! change re-matches the items in the store, so "My exposure" follows at once.

use super::require_record_editor;
use crate::AppState;
use crate::audit::record;
use crate::error::{AppError, RowError};
use openwarp_core::OrgId;
use openwarp_matching::inventory::ItemFields;
use openwarp_matching::resolver::{self, Candidate, Query, Suggestion};
use openwarp_matching::sbom::{SkippedComponent, read_cyclonedx};
use openwarp_matching::table::{TableError, read_csv, write_csv};
use openwarp_store::{StoredItem, User, now};

/// Largest file accepted for import.
pub const MAX_UPLOAD_MB: usize = 10;
pub const MAX_UPLOAD_BYTES: usize = MAX_UPLOAD_MB * 1024 * 1024;

/// An item as a person or client gave it: text as typed, flags as booleans.
/// [`ItemInput::validate`] turns it into the checked [`ItemFields`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInput {
    pub name: String,
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub cpe: String,
    pub purl: String,
    pub internet_facing: bool,
    pub business_critical: bool,
    pub owner: String,
    pub notes: String,
}

fn given(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.trim().is_empty())
}

impl ItemInput {
    /// Check and normalise, naming the field at fault.
    pub fn validate(&self) -> Result<ItemFields, AppError> {
        ItemFields {
            name: self.name.clone(),
            vendor: given(&self.vendor),
            product: given(&self.product),
            version: given(&self.version),
            cpe: given(&self.cpe),
            purl: given(&self.purl),
            internet_facing: self.internet_facing,
            business_critical: self.business_critical,
            owner: given(&self.owner),
            notes: given(&self.notes),
        }
        .validate()
        .map_err(|p| AppError::field(p.field, p.message))
    }
}

impl From<&ItemFields> for ItemInput {
    fn from(f: &ItemFields) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        ItemInput {
            name: f.name.clone(),
            vendor: text(&f.vendor),
            product: text(&f.product),
            version: text(&f.version),
            cpe: text(&f.cpe),
            purl: text(&f.purl),
            internet_facing: f.internet_facing,
            business_critical: f.business_critical,
            owner: text(&f.owner),
            notes: text(&f.notes),
        }
    }
}

/// One of `org`'s items, or 404.
pub async fn item(state: &AppState, org: OrgId, id: i64) -> Result<StoredItem, AppError> {
    state
        .store
        .item(org, id)
        .await?
        .ok_or(AppError::NotFound("inventory item"))
}

/// Add one validated item; 409 when the inventory already holds it.
pub async fn add_item(
    state: &AppState,
    actor: &User,
    org: OrgId,
    fields: ItemFields,
    ip: &str,
) -> Result<i64, AppError> {
    require_record_editor(&actor.actor(), org)?;
    let added = state
        .store
        .add_items(
            org,
            std::slice::from_ref(&fields),
            "manual",
            Some(actor.id),
            now(),
        )
        .await?;
    let Some(&id) = added.ids.first() else {
        return Err(AppError::Conflict(format!(
            "'{}' is already in the inventory (the same package, CPE name, or vendor, product and version)",
            fields.label()
        )));
    };
    record(
        state,
        Some(actor),
        "inventory.add",
        Some(org),
        &fields.label(),
        serde_json::json!({ "item": id, "cpe": fields.cpe, "purl": fields.purl }),
        Some(ip),
    )
    .await;
    Ok(id)
}

pub async fn update_item(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    fields: ItemFields,
    ip: &str,
) -> Result<(), AppError> {
    require_record_editor(&actor.actor(), org)?;
    let before = item(state, org, id).await?;
    state
        .store
        .update_item(org, id, &fields, Some(actor.id), now())
        .await?;
    record(
        state,
        Some(actor),
        "inventory.update",
        Some(org),
        &fields.label(),
        serde_json::json!({
            "item": id,
            "name": [before.item.fields.name, fields.name],
            "version": [before.item.fields.version, fields.version],
            "cpe": [before.item.fields.cpe, fields.cpe],
            "purl": [before.item.fields.purl, fields.purl],
        }),
        Some(ip),
    )
    .await;
    Ok(())
}

/// Remove an item with its exposures and their history.
pub async fn delete_item(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    ip: &str,
) -> Result<StoredItem, AppError> {
    require_record_editor(&actor.actor(), org)?;
    let gone = item(state, org, id).await?;
    state.store.delete_item(org, id).await?;
    record(
        state,
        Some(actor),
        "inventory.delete",
        Some(org),
        &gone.item.fields.label(),
        serde_json::json!({ "item": id }),
        Some(ip),
    )
    .await;
    Ok(gone)
}

/// The kinds of file an inventory can be imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    CycloneDx,
}

impl ImportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::CycloneDx => "cyclonedx",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportFormat::Csv => "CSV file",
            ImportFormat::CycloneDx => "CycloneDX SBOM",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub format: ImportFormat,
    pub file_name: Option<String>,
    /// What the SBOM describes, when it says.
    pub subject: Option<String>,
    pub added: Vec<i64>,
    /// Items already in the inventory, or listed twice in the file.
    pub duplicates: usize,
    /// SBOM components that could not become items, with the reason.
    pub skipped: Vec<SkippedComponent>,
}

struct Parsed {
    items: Vec<ItemFields>,
    skipped: Vec<SkippedComponent>,
    subject: Option<String>,
}

fn parse(format: ImportFormat, bytes: &[u8]) -> Result<Parsed, AppError> {
    match format {
        ImportFormat::Csv => match read_csv(bytes) {
            Ok(items) => Ok(Parsed {
                items,
                skipped: Vec::new(),
                subject: None,
            }),
            Err(TableError::Rows(problems)) => Err(AppError::BadRows {
                message: TableError::Rows(problems.clone()).to_string(),
                rows: problems
                    .into_iter()
                    .map(|p| RowError {
                        line: p.line,
                        column: p.field,
                        message: p.message,
                    })
                    .collect(),
            }),
            Err(e) => Err(AppError::field("file", e.to_string())),
        },
        ImportFormat::CycloneDx => match read_cyclonedx(bytes) {
            Ok(sbom) => Ok(Parsed {
                items: sbom.items,
                skipped: sbom.skipped,
                subject: sbom.subject,
            }),
            Err(e) => Err(AppError::field("file", e.to_string())),
        },
    }
}

/// Keep at most `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Import a file into `org`'s inventory: all of it or, when any row is
/// wrong, none of it. Items already present are counted, not added twice.
pub async fn import(
    state: &AppState,
    actor: &User,
    org: OrgId,
    format: ImportFormat,
    bytes: Vec<u8>,
    file_name: Option<String>,
    ip: &str,
) -> Result<ImportReport, AppError> {
    require_record_editor(&actor.actor(), org)?;
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(AppError::FileTooLarge(MAX_UPLOAD_MB));
    }
    // Parsing ten megabytes is real work: keep it off the async threads.
    let parsed = tokio::task::spawn_blocking(move || parse(format, &bytes)).await??;
    let file_name = file_name
        .map(|n| cut(n.trim(), 200))
        .filter(|n| !n.is_empty());
    let source = file_name.clone().or_else(|| parsed.subject.clone());
    let origin = match &source {
        Some(s) => cut(&format!("{}: {s}", format.as_str()), 250),
        None => format.as_str().to_string(),
    };
    let added = state
        .store
        .add_items(org, &parsed.items, &origin, Some(actor.id), now())
        .await?;
    record(
        state,
        Some(actor),
        "inventory.import",
        Some(org),
        source.as_deref().unwrap_or(format.label()),
        serde_json::json!({
            "format": format.as_str(),
            "rows": parsed.items.len(),
            "added": added.ids.len(),
            "duplicates": added.duplicates,
            "skipped": parsed.skipped.len(),
        }),
        Some(ip),
    )
    .await;
    Ok(ImportReport {
        format,
        file_name,
        subject: parsed.subject,
        added: added.ids,
        duplicates: added.duplicates,
        skipped: parsed.skipped,
    })
}

/// `org`'s inventory as CSV, with a UTF-8 byte order mark so that Excel
/// reads accented names correctly (import takes it off again).
pub async fn export_csv(state: &AppState, org: OrgId) -> Result<String, AppError> {
    let items: Vec<ItemFields> = state
        .store
        .list_items(org)
        .await?
        .into_iter()
        .map(|s| s.item.fields)
        .collect();
    Ok(format!("\u{feff}{}", write_csv(&items)))
}

/// The headers of a CSV download named after the organisation and the day.
pub fn csv_download_headers(org_name: &str) -> [(axum::http::HeaderName, String); 2] {
    let slug: String = org_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let day = now().format("%Y-%m-%d");
    [
        (
            axum::http::header::CONTENT_TYPE,
            "text/csv; charset=utf-8".to_string(),
        ),
        (
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"inventory-{slug}-{day}.csv\""),
        ),
    ]
}

/// Ranked CPE names for what a person typed: the store finds the
/// vendor:product pairs the corpus uses that share a word with the text,
/// and the resolver ranks them.
pub async fn suggest_cpe(
    state: &AppState,
    vendor: &str,
    product: &str,
    version: &str,
) -> Result<Vec<Suggestion>, AppError> {
    let (vendor, product, version) = (vendor.trim(), product.trim(), version.trim());
    if vendor.is_empty() && product.is_empty() {
        return Err(AppError::field(
            "product",
            "type the product's name (and its vendor, if you know it)",
        ));
    }
    let mut words = resolver::tokens(vendor);
    for t in resolver::tokens(product) {
        if !words.contains(&t) {
            words.push(t);
        }
    }
    let candidates: Vec<Candidate> = state
        .store
        .product_candidates(&words, CANDIDATES)
        .await?
        .into_iter()
        .map(|p| Candidate {
            part: None,
            vendor: p.vendor,
            product: p.product,
            advisories: p.advisories,
        })
        .collect();
    let query = Query {
        vendor: Some(vendor).filter(|v| !v.is_empty()),
        product,
        version: Some(version).filter(|v| !v.is_empty()),
    };
    Ok(resolver::suggest(&query, &candidates, SUGGESTIONS))
}

/// Candidate pairs fetched from the store for one query.
const CANDIDATES: i64 = 300;
/// Suggestions shown.
pub const SUGGESTIONS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_lines(csv: &str) -> Vec<usize> {
        match parse(ImportFormat::Csv, csv.as_bytes()) {
            Err(AppError::BadRows { rows, .. }) => rows.iter().map(|r| r.line).collect(),
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("the file should have been refused"),
        }
    }

    #[test]
    fn problems_name_the_right_line_whatever_the_line_endings() {
        let lf = "name,product,cpe\nA,B,\nC,,bad\n";
        assert_eq!(problem_lines(lf), [3]);
        assert_eq!(problem_lines(&lf.replace('\n', "\r\n")), [3]);
        // A quoted cell over two lines: the row after it starts on line 4.
        let multi = "name,product,notes,cpe\r\nA,B,\"one\r\ntwo\",\r\nC,D,,bad\r\n";
        assert_eq!(problem_lines(multi), [4]);
    }
}

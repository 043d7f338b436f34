//! Member inventories and suppliers. Every change to an item re-files its
//! index keys and re-matches it against the corpus in the same call, so what
//! a member sees on "My exposure" is never stale.
//!
//! Every method takes the organisation: an item or supplier of another
//! organisation is [`StoreError::NotFound`], never touched.

use crate::{Result, Store, StoreError, conflict_on_unique, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::{OrgId, SupplierDraft, SupplierKind, UserId, supplier_key};
use openwarp_matching::inventory::{InventoryItem, ItemFields};
use openwarp_matching::keys::item_keys;
use serde::Serialize;
use std::collections::HashSet;

/// A stored inventory item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredItem {
    #[serde(flatten)]
    pub item: InventoryItem,
    /// How it arrived: `manual`, `csv`, `sbom` (with the file name), `demo`.
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddedItems {
    pub ids: Vec<i64>,
    /// Items already in the inventory (same package, CPE, or vendor, product and version).
    pub duplicates: usize,
}

/// A stored supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supplier {
    pub id: i64,
    pub org_id: OrgId,
    #[serde(flatten)]
    pub draft: SupplierDraft,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A CPE vendor:product name seen in the corpus, with how many advisories name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductName {
    pub vendor: String,
    pub product: String,
    pub advisories: u32,
}

/// A member that depends on a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierUser {
    pub org_id: OrgId,
    pub org_name: String,
    pub supplier: Supplier,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub cpe: Option<String>,
    pub purl: Option<String>,
    pub internet_facing: bool,
    pub business_critical: bool,
    pub owner: Option<String>,
    pub notes: Option<String>,
    pub origin: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! item_columns {
    () => {
        "id, org_id, name, vendor, product, version, cpe, purl, \
         internet_facing, business_critical, owner, notes, origin, created_at, updated_at"
    };
}
pub(crate) use item_columns;

impl From<ItemRow> for StoredItem {
    fn from(r: ItemRow) -> StoredItem {
        StoredItem {
            item: InventoryItem {
                id: r.id,
                org_id: r.org_id,
                fields: ItemFields {
                    name: r.name,
                    vendor: r.vendor,
                    product: r.product,
                    version: r.version,
                    cpe: r.cpe,
                    purl: r.purl,
                    internet_facing: r.internet_facing,
                    business_critical: r.business_critical,
                    owner: r.owner,
                    notes: r.notes,
                },
            },
            origin: r.origin,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What makes two items the same thing for de-duplication.
fn identity(f: &ItemFields) -> String {
    if let Some(p) = &f.purl {
        return format!("purl {}", p.to_lowercase());
    }
    if let Some(c) = &f.cpe {
        return format!("cpe {}", c.to_lowercase());
    }
    format!(
        "text {}|{}|{}|{}",
        f.name.to_lowercase(),
        f.vendor.as_deref().unwrap_or("").to_lowercase(),
        f.product.as_deref().unwrap_or("").to_lowercase(),
        f.version.as_deref().unwrap_or("").to_lowercase()
    )
}

#[derive(sqlx::FromRow)]
struct SupplierRow {
    id: i64,
    org_id: i64,
    name: String,
    kind: String,
    services: Option<String>,
    contact: Option<String>,
    notes: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct SupplierUserRow {
    org_name: String,
    #[sqlx(flatten)]
    row: SupplierRow,
}

impl TryFrom<SupplierRow> for Supplier {
    type Error = StoreError;
    fn try_from(r: SupplierRow) -> Result<Supplier> {
        Ok(Supplier {
            id: r.id,
            org_id: OrgId(r.org_id),
            draft: SupplierDraft {
                name: r.name,
                kind: r.kind.parse::<SupplierKind>().map_err(crate::corrupt)?,
                services: r.services,
                contact: r.contact,
                notes: r.notes,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

impl Store {
    /// Add validated items to `org`'s inventory, skipping any already there,
    /// and match them against the corpus.
    pub async fn add_items(
        &self,
        org: OrgId,
        items: &[ItemFields],
        origin: &str,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<AddedItems> {
        let existing: HashSet<String> = self
            .list_items(org)
            .await?
            .iter()
            .map(|s| identity(&s.item.fields))
            .collect();
        let mut seen = existing;
        let mut added = AddedItems::default();
        let fresh: Vec<&ItemFields> = items
            .iter()
            .filter(|f| {
                let new = seen.insert(identity(f));
                if !new {
                    added.duplicates += 1;
                }
                new
            })
            .collect();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for f in &fresh {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO inventory_items (org_id, name, vendor, product, version, cpe, purl, \
                     internet_facing, business_critical, owner, notes, origin, created_at, updated_at, updated_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14) RETURNING id",
                )
                .bind(org.0)
                .bind(&f.name)
                .bind(&f.vendor)
                .bind(&f.product)
                .bind(&f.version)
                .bind(&f.cpe)
                .bind(&f.purl)
                .bind(f.internet_facing)
                .bind(f.business_critical)
                .bind(&f.owner)
                .bind(&f.notes)
                .bind(origin)
                .bind(now)
                .bind(by.map(|u| u.0))
                .fetch_one(&mut *tx)
                .await?;
                for key in item_keys(f) {
                    sqlx::query(
                        "INSERT INTO inventory_keys (key, item_id, org_id) VALUES ($1, $2, $3)",
                    )
                    .bind(key)
                    .bind(id)
                    .bind(org.0)
                    .execute(&mut *tx)
                    .await?;
                }
                added.ids.push(id);
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.match_items(org, &added.ids, now).await?;
        Ok(added)
    }

    /// Change an item; its exposures are re-matched.
    pub async fn update_item(
        &self,
        org: OrgId,
        id: i64,
        f: &ItemFields,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let changed = sqlx::query(
                "UPDATE inventory_items SET name = $1, vendor = $2, product = $3, version = $4, cpe = $5, purl = $6, \
                 internet_facing = $7, business_critical = $8, owner = $9, notes = $10, updated_at = $11, updated_by = $12 \
                 WHERE id = $13 AND org_id = $14",
            )
            .bind(&f.name)
            .bind(&f.vendor)
            .bind(&f.product)
            .bind(&f.version)
            .bind(&f.cpe)
            .bind(&f.purl)
            .bind(f.internet_facing)
            .bind(f.business_critical)
            .bind(&f.owner)
            .bind(&f.notes)
            .bind(now)
            .bind(by.map(|u| u.0))
            .bind(id)
            .bind(org.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound("inventory item"));
            }
            sqlx::query("DELETE FROM inventory_keys WHERE item_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for key in item_keys(f) {
                sqlx::query(
                    "INSERT INTO inventory_keys (key, item_id, org_id) VALUES ($1, $2, $3)",
                )
                .bind(key)
                .bind(id)
                .bind(org.0)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.match_items(org, &[id], now).await?;
        Ok(())
    }

    /// Remove an item, with its exposures and their history.
    pub async fn delete_item(&self, org: OrgId, id: i64) -> Result<()> {
        let gone = on_pool!(self, |p| sqlx::query(
            "DELETE FROM inventory_items WHERE id = $1 AND org_id = $2"
        )
        .bind(id)
        .bind(org.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if gone == 0 {
            return Err(StoreError::NotFound("inventory item"));
        }
        Ok(())
    }

    /// `org`'s inventory, by name.
    pub async fn list_items(&self, org: OrgId) -> Result<Vec<StoredItem>> {
        let rows: Vec<ItemRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            item_columns!(),
            " FROM inventory_items WHERE org_id = $1 ORDER BY lower(name), id"
        ))
        .bind(org.0)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(StoredItem::from).collect())
    }

    pub async fn item(&self, org: OrgId, id: i64) -> Result<Option<StoredItem>> {
        let row: Option<ItemRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            "SELECT ",
            item_columns!(),
            " FROM inventory_items WHERE id = $1 AND org_id = $2"
        ))
        .bind(id)
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        Ok(row.map(StoredItem::from))
    }

    /// Item counts per organisation (for operators' overviews).
    pub async fn item_counts(&self) -> Result<Vec<(OrgId, i64)>> {
        let rows: Vec<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT org_id, COUNT(*) FROM inventory_items GROUP BY org_id"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(o, n)| (OrgId(o), n)).collect())
    }

    /// CPE vendor:product names whose vendor or product contains one of
    /// `tokens`, at most `limit`: the resolver's candidates. Names from the
    /// corpus carry how many advisories name them; names only the CPE
    /// dictionary knows (see `upsert_cpe_products`) carry 0.
    pub async fn product_candidates(
        &self,
        tokens: &[String],
        limit: i64,
    ) -> Result<Vec<ProductName>> {
        let tokens: Vec<&String> = tokens.iter().filter(|t| t.len() >= 2).take(6).collect();
        if tokens.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let patterns: Vec<String> = tokens
            .iter()
            .map(|t| {
                let escaped = t
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("%{escaped}%")
            })
            .collect();
        let rows: Vec<(String, i64)> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT key, COUNT(*) FROM advisory_keys WHERE key LIKE 'cpe:%' AND (",
            );
            let mut sep = qb.separated(" OR ");
            for pattern in &patterns {
                sep.push("key LIKE ");
                sep.push_bind_unseparated(pattern.clone());
                sep.push_unseparated(" ESCAPE '\\'");
            }
            qb.push(") GROUP BY key ORDER BY COUNT(*) DESC LIMIT ");
            qb.push_bind(limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        // Dictionary names, those matching the most tokens first.
        let dictionary: Vec<(String, String)> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new("SELECT vendor, product FROM cpe_products WHERE ");
            let mut sep = qb.separated(" OR ");
            for pattern in &patterns {
                sep.push("vendor LIKE ");
                sep.push_bind_unseparated(pattern.clone());
                sep.push_unseparated(" ESCAPE '\\' OR product LIKE ");
                sep.push_bind_unseparated(pattern.clone());
                sep.push_unseparated(" ESCAPE '\\'");
            }
            qb.push(" ORDER BY ");
            let mut sum = qb.separated(" + ");
            for pattern in &patterns {
                sum.push("(CASE WHEN vendor LIKE ");
                sum.push_bind_unseparated(pattern.clone());
                sum.push_unseparated(" ESCAPE '\\' OR product LIKE ");
                sum.push_bind_unseparated(pattern.clone());
                sum.push_unseparated(" ESCAPE '\\' THEN 1 ELSE 0 END)");
            }
            qb.push(" DESC, vendor, product LIMIT ");
            qb.push_bind(limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        let corpus: Vec<ProductName> = rows
            .into_iter()
            .filter_map(|(key, n)| {
                let rest = key.strip_prefix("cpe:")?;
                let (vendor, product) = rest.split_once(':')?;
                Some(ProductName {
                    vendor: vendor.to_string(),
                    product: product.to_string(),
                    advisories: u32::try_from(n).unwrap_or(u32::MAX),
                })
            })
            .collect();
        Ok(merge_candidates(
            corpus,
            dictionary,
            usize::try_from(limit).unwrap_or(usize::MAX),
        ))
    }

    pub async fn add_supplier(
        &self,
        org: OrgId,
        d: &SupplierDraft,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
            "INSERT INTO suppliers (org_id, name, name_key, kind, services, contact, notes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id"
        )
        .bind(org.0)
        .bind(&d.name)
        .bind(supplier_key(&d.name))
        .bind(d.kind.as_str())
        .bind(&d.services)
        .bind(&d.contact)
        .bind(&d.notes)
        .bind(now)
        .fetch_one(p)
        .await
        .map_err(conflict_on_unique(format!(
            "'{}' is already on your supplier list",
            d.name
        )))
        })?;
        Ok(id)
    }

    pub async fn update_supplier(
        &self,
        org: OrgId,
        id: i64,
        d: &SupplierDraft,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let n = on_pool!(self, |p| {
            sqlx::query(
            "UPDATE suppliers SET name = $1, name_key = $2, kind = $3, services = $4, contact = $5, notes = $6, \
             updated_at = $7 WHERE id = $8 AND org_id = $9"
        )
        .bind(&d.name)
        .bind(supplier_key(&d.name))
        .bind(d.kind.as_str())
        .bind(&d.services)
        .bind(&d.contact)
        .bind(&d.notes)
        .bind(now)
        .bind(id)
        .bind(org.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
        .map_err(conflict_on_unique(format!(
            "'{}' is already on your supplier list",
            d.name
        )))
        })?;
        if n == 0 {
            return Err(StoreError::NotFound("supplier"));
        }
        Ok(())
    }

    pub async fn delete_supplier(&self, org: OrgId, id: i64) -> Result<()> {
        let n = on_pool!(self, |p| sqlx::query(
            "DELETE FROM suppliers WHERE id = $1 AND org_id = $2"
        )
        .bind(id)
        .bind(org.0)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound("supplier"));
        }
        Ok(())
    }

    pub async fn list_suppliers(&self, org: OrgId) -> Result<Vec<Supplier>> {
        let rows: Vec<SupplierRow> = on_pool!(self, |p| sqlx::query_as(
            "SELECT id, org_id, name, kind, services, contact, notes, created_at, updated_at \
             FROM suppliers WHERE org_id = $1 ORDER BY name_key"
        )
        .bind(org.0)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(Supplier::try_from).collect()
    }

    /// Every member that lists a supplier of this name (compared by
    /// [`supplier_key`]): whom to warn when the supplier is hit.
    pub async fn members_using_supplier(&self, name: &str) -> Result<Vec<SupplierUser>> {
        let rows: Vec<SupplierUserRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT o.name AS org_name, s.id, s.org_id, s.name, s.kind, s.services, s.contact, s.notes, \
             s.created_at, s.updated_at \
             FROM suppliers s JOIN organisations o ON o.id = s.org_id WHERE s.name_key = $1 ORDER BY o.name"
        )
        .bind(supplier_key(name))
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|SupplierUserRow { org_name, row }| {
                let supplier = Supplier::try_from(row)?;
                Ok(SupplierUser {
                    org_id: supplier.org_id,
                    org_name,
                    supplier,
                })
            })
            .collect()
    }
}

/// Corpus names (most-mentioned first) and dictionary-only names (advisories
/// 0), at most `limit` in all. A name in both keeps its advisory count; when
/// both sources have more than fits, each gets at least half the room.
fn merge_candidates(
    corpus: Vec<ProductName>,
    dictionary: Vec<(String, String)>,
    limit: usize,
) -> Vec<ProductName> {
    let known: HashSet<(&str, &str)> = corpus
        .iter()
        .map(|c| (c.vendor.as_str(), c.product.as_str()))
        .collect();
    let extra: Vec<ProductName> = dictionary
        .iter()
        .filter(|(v, p)| !known.contains(&(v.as_str(), p.as_str())))
        .map(|(vendor, product)| ProductName {
            vendor: vendor.clone(),
            product: product.clone(),
            advisories: 0,
        })
        .collect();
    let extra_room = extra
        .len()
        .min(limit.saturating_sub(corpus.len()).max(limit / 2));
    let corpus_room = limit.saturating_sub(extra_room);
    corpus
        .into_iter()
        .take(corpus_room)
        .chain(extra.into_iter().take(extra_room))
        .collect()
}

#[cfg(test)]
mod candidate_tests {
    use super::*;

    fn name(vendor: &str, product: &str, advisories: u32) -> ProductName {
        ProductName {
            vendor: vendor.into(),
            product: product.into(),
            advisories,
        }
    }

    #[test]
    fn merge_keeps_counts_and_bounds_the_total() {
        let corpus = vec![
            name("microsoft", "exchange_server", 40),
            name("microsoft", "windows", 9),
        ];
        let dict = vec![
            ("microsoft".to_string(), "exchange_server".to_string()),
            ("microsoft".to_string(), "exchange".to_string()),
        ];
        let merged = merge_candidates(corpus.clone(), dict.clone(), 10);
        assert_eq!(
            merged,
            vec![
                name("microsoft", "exchange_server", 40),
                name("microsoft", "windows", 9),
                name("microsoft", "exchange", 0),
            ]
        );
        assert_eq!(merge_candidates(corpus.clone(), dict.clone(), 2).len(), 2);
        assert!(merge_candidates(corpus, dict, 2).contains(&name("microsoft", "exchange", 0)));
    }
}

//! The NVD CPE dictionary: vendor:product names the inventory resolver may
//! suggest even when no advisory in the corpus names them yet.

use crate::{Result, Store, StoreError, on_pool};
use openwarp_advisory::cpedict::DictionaryProduct;
use std::collections::HashSet;

/// Rows per INSERT (four parameters each, well under both backends' limits).
const ROWS_PER_STATEMENT: usize = 400;

impl Store {
    /// Insert or refresh dictionary products in one transaction; a product
    /// already stored gets the new part and title. Returns the rows written
    /// (a product repeated in `batch` counts once).
    pub async fn upsert_cpe_products(&self, batch: &[DictionaryProduct]) -> Result<u64> {
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        let rows: Vec<&DictionaryProduct> = batch
            .iter()
            .filter(|p| seen.insert((p.vendor.as_str(), p.product.as_str())))
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO cpe_products (vendor, product, part, title) ",
                );
                qb.push_values(chunk, |mut b, prod| {
                    b.push_bind(prod.vendor.clone())
                        .push_bind(prod.product.clone())
                        .push_bind(prod.part.to_string())
                        .push_bind(prod.title.clone());
                });
                qb.push(
                    " ON CONFLICT (vendor, product) DO UPDATE SET part = excluded.part, \
                     title = excluded.title",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
    }

    /// How many dictionary products are stored.
    pub async fn cpe_product_count(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT COUNT(*) FROM cpe_products")
                .fetch_one(p)
                .await
        })?;
        Ok(n)
    }
}

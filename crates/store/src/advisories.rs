//! Advisories: idempotent storage of source records, one summarised advisory
//! per vulnerability, the change log, and EPSS scores.
//!
//! Contract:
//! - Records are keyed by `(source, record_id)`. A record whose content hash
//!   is unchanged is skipped without touching the database (the caller keeps
//!   a [`KnownRecords`] across batches), so re-ingesting a corpus is cheap.
//! - A batch is one transaction: a failure leaves nothing half-written.
//! - Rejected and withdrawn records are stored with their state, never deleted.
//! - Every new or changed record appends human-readable entries to the change
//!   log, and the advisory of each vulnerability it touches is re-summarised
//!   from all of that vulnerability's records.

use crate::{Backend, Result, Store, StoreError, corrupt, on_pool};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_advisory::change::record_changes;
use openwarp_advisory::summary::{AdvisorySummary, summarise};
use openwarp_advisory::{EpssRun, EpssScore, SourceKind, SourceRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IngestCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Older versions of records already stored in a newer version (by
    /// `modified`); kept out so an old snapshot never overwrites a new one.
    pub stale: u64,
}

impl std::ops::AddAssign for IngestCounts {
    fn add_assign(&mut self, o: IngestCounts) {
        self.new += o.new;
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.stale += o.stale;
    }
}

/// Content hashes of stored records, loaded once per source and kept up to
/// date across batches: the re-ingest short-circuit.
#[derive(Debug, Default)]
pub struct KnownRecords {
    loaded: HashSet<SourceKind>,
    hashes: HashMap<(SourceKind, String), String>,
}

/// A stored source record with when we first saw it and when it last changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord {
    pub record: SourceRecord,
    pub first_seen_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub vuln_id: String,
    pub source: String,
    pub record_id: String,
    pub kind: String,
    pub summary: String,
    pub at: DateTime<Utc>,
}

/// An advisory as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AdvisoryRow {
    pub vuln_id: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub cvss_score: Option<f64>,
    pub cvss_version: Option<String>,
    pub severity: Option<String>,
    pub kev_date_added: Option<NaiveDate>,
    pub kev_due_date: Option<NaiveDate>,
    pub kev_ransomware: bool,
    pub rejected: bool,
    pub sources: String,
    pub epss_score: Option<f64>,
    pub epss_percentile: Option<f64>,
}

/// Everything known about one vulnerability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryDetail {
    pub row: AdvisoryRow,
    pub summary: AdvisorySummary,
    pub records: Vec<StoredRecord>,
    pub changes: Vec<ChangeRow>,
}

/// Filters for the advisory list. Empty means everything.
#[derive(Debug, Clone, Default)]
pub struct AdvisoryFilter {
    /// Words that must all appear in the id, aliases, title or vendor/product names.
    pub text: Option<String>,
    /// Lowest severity to include (`low`, `medium`, `high`, `critical`).
    pub min_severity: Option<openwarp_advisory::Severity>,
    pub kev_only: bool,
    pub min_epss: Option<f64>,
    pub published_from: Option<NaiveDate>,
    pub published_to: Option<NaiveDate>,
    pub modified_from: Option<NaiveDate>,
    pub modified_to: Option<NaiveDate>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub include_rejected: bool,
}

/// One page of the advisory list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryPage {
    pub rows: Vec<AdvisoryRow>,
    pub total: i64,
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters with six columns.
const ROWS_PER_STATEMENT: usize = 500;

fn content_hash(body: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(body.as_bytes()))
}

/// Record bodies are stored as deflate-compressed JSON: JSON keeps them
/// readable by any tool and evolvable, compression makes them about six times
/// smaller (NVD configuration trees are very repetitive).
fn encode(json: &str) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 4),
        flate2::Compression::fast(),
    );
    enc.write_all(json.as_bytes())
        .and_then(|()| enc.finish())
        .map_err(|e| corrupt(format!("compress: {e}")))
}

fn decode(body: &[u8]) -> Result<SourceRecord> {
    decode_json(body)
}

/// Deflate-compressed JSON of any value (the form bodies are stored in).
pub(crate) fn encode_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_string(value).map_err(|e| corrupt(format!("encode: {e}")))?;
    encode(&json)
}

pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let reader = flate2::read::DeflateDecoder::new(body);
    serde_json::from_reader(std::io::BufReader::new(reader))
        .map_err(|e| corrupt(format!("stored record: {e}")))
}

fn severity_rank(s: &str) -> i64 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

impl Store {
    async fn load_hashes(&self, known: &mut KnownRecords, source: SourceKind) -> Result<()> {
        if known.loaded.contains(&source) {
            return Ok(());
        }
        let rows: Vec<(String, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT record_id, content_hash FROM source_records WHERE source = $1"
        )
        .bind(source.as_str())
        .fetch_all(p)
        .await)?;
        known
            .hashes
            .extend(rows.into_iter().map(|(id, h)| ((source, id), h)));
        known.loaded.insert(source);
        Ok(())
    }

    /// Store a batch of records in one transaction; see the module contract.
    pub async fn upsert_records(
        &self,
        batch: &[SourceRecord],
        known: &mut KnownRecords,
        now: DateTime<Utc>,
    ) -> Result<IngestCounts> {
        let mut counts = IngestCounts::default();
        let mut work: Vec<(&SourceRecord, String, String, bool)> = Vec::new();
        let mut seen_in_batch: HashMap<(SourceKind, &str), usize> = HashMap::new();
        for r in batch {
            self.load_hashes(known, r.source).await?;
            let body = serde_json::to_string(r).map_err(|e| corrupt(format!("encode: {e}")))?;
            let hash = content_hash(&body);
            let key = (r.source, r.record_id.clone());
            match known.hashes.get(&key) {
                Some(h) if *h == hash => counts.unchanged += 1,
                existing => {
                    let exists = existing.is_some();
                    // The same record twice in one batch: the later one wins.
                    if let Some(&i) = seen_in_batch.get(&(r.source, r.record_id.as_str())) {
                        if let Some(slot) = work.get_mut(i) {
                            *slot = (r, body, hash, slot.3);
                        }
                        continue;
                    }
                    seen_in_batch.insert((r.source, r.record_id.as_str()), work.len());
                    work.push((r, body, hash, exists));
                }
            }
        }
        if work.is_empty() {
            return Ok(counts);
        }
        let mut stale: HashSet<(SourceKind, String)> = HashSet::new();
        let touched: Vec<String> = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut touched: BTreeSet<String> = BTreeSet::new();
            let mut change_rows = Vec::new();
            let mut record_rows = Vec::new();
            let mut alias_rows: Vec<(String, String)> = Vec::new();
            let mut product_rows: Vec<(String, String, String)> = Vec::new();
            let mut key_rows: Vec<(String, String)> = Vec::new();
            for (record, body, hash, exists) in &work {
                let body = encode(body)?;
                let old: Option<(Vec<u8>, String)> = if *exists {
                    sqlx::query_as("SELECT body, vuln_id FROM source_records WHERE source = $1 AND record_id = $2")
                        .bind(record.source.as_str())
                        .bind(&record.record_id)
                        .fetch_optional(&mut *tx)
                        .await?
                } else {
                    None
                };
                let old_record = old.as_ref().map(|(b, _)| decode(b)).transpose()?;
                if let (Some(old), Some(new)) = (
                    old_record.as_ref().and_then(|r| r.modified),
                    record.modified,
                ) && new < old
                {
                    counts.stale += 1;
                    stale.insert((record.source, record.record_id.clone()));
                    continue;
                }
                if let Some((_, old_vuln)) = &old {
                    touched.insert(old_vuln.clone());
                }
                for change in record_changes(old_record.as_ref(), record) {
                    change_rows.push((
                        &record.vuln_id,
                        record.source.as_str(),
                        &record.record_id,
                        change,
                    ));
                }
                record_rows.push((record, hash, body));
                touched.insert(record.vuln_id.clone());
                if *exists {
                    counts.changed += 1;
                } else {
                    counts.new += 1;
                }
            }
            for chunk in record_rows.chunks(ROWS_PER_STATEMENT / 2) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO source_records (source, record_id, vuln_id, content_hash, body, first_seen_at, changed_at) ",
                );
                qb.push_values(chunk, |mut b, (record, hash, body)| {
                    b.push_bind(record.source.as_str().to_string())
                        .push_bind(record.record_id.clone())
                        .push_bind(record.vuln_id.clone())
                        .push_bind(hash.to_string())
                        .push_bind(body.clone())
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (source, record_id) DO UPDATE SET vuln_id = excluded.vuln_id, \
                     content_hash = excluded.content_hash, body = excluded.body, changed_at = excluded.changed_at",
                );
                qb.build().execute(&mut *tx).await?;
            }
            for vuln_id in &touched {
                let bodies: Vec<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT body FROM source_records WHERE vuln_id = $1 ORDER BY source, record_id",
                )
                .bind(vuln_id)
                .fetch_all(&mut *tx)
                .await?;
                let records = bodies
                    .iter()
                    .map(|(b,)| decode(b))
                    .collect::<Result<Vec<_>>>()?;
                let Some(summary) = summarise(&records) else {
                    sqlx::query("DELETE FROM advisories WHERE vuln_id = $1")
                        .bind(vuln_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM advisory_statements WHERE vuln_id = $1")
                        .bind(vuln_id)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                };
                // What the matcher reads, and the keys it is filed under.
                sqlx::query(
                    "INSERT INTO advisory_statements (vuln_id, body) VALUES ($1, $2) \
                     ON CONFLICT (vuln_id) DO UPDATE SET body = excluded.body",
                )
                .bind(vuln_id)
                .bind(encode_json(&openwarp_matching::keys::statements_only(
                    &records,
                ))?)
                .execute(&mut *tx)
                .await?;
                key_rows.extend(
                    openwarp_matching::keys::advisory_keys(&records)
                        .into_iter()
                        .map(|k| (k, vuln_id.clone())),
                );
                // Products live in `advisory_products`; keep them out of the JSON.
                let stored = AdvisorySummary {
                    products: Vec::new(),
                    ..summary.clone()
                };
                let json = serde_json::to_string(&stored)
                    .map_err(|e| corrupt(format!("encode: {e}")))
                    .and_then(|j| encode(&j))?;
                let mut search = format!("{} {}", summary.vuln_id, summary.title);
                for a in &summary.aliases {
                    search.push(' ');
                    search.push_str(a);
                }
                for (v, p) in &summary.products {
                    search.push_str(&format!(" {v}:{p}"));
                }
                let sources: Vec<&str> = summary.sources.iter().map(|s| s.as_str()).collect();
                let cvss = summary.max_cvss.as_ref();
                sqlx::query(
                    "INSERT INTO advisories (vuln_id, title, published, modified, cvss_score, cvss_version, \
                     cvss_vector, severity, kev_date_added, kev_due_date, kev_ransomware, rejected, sources, search_text, summary, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (vuln_id) DO UPDATE SET title = excluded.title, \
                     published = excluded.published, modified = excluded.modified, cvss_score = excluded.cvss_score, \
                     cvss_version = excluded.cvss_version, cvss_vector = excluded.cvss_vector, severity = excluded.severity, \
                     kev_date_added = excluded.kev_date_added, kev_due_date = excluded.kev_due_date, \
                     kev_ransomware = excluded.kev_ransomware, rejected = excluded.rejected, sources = excluded.sources, \
                     search_text = excluded.search_text, summary = excluded.summary, updated_at = excluded.updated_at",
                )
                .bind(vuln_id)
                .bind(&summary.title)
                .bind(summary.published)
                .bind(summary.modified)
                .bind(cvss.map(|c| c.base_score))
                .bind(cvss.map(|c| c.version.as_str()))
                .bind(cvss.map(|c| c.vector.as_str()))
                .bind(summary.severity.map(|s| s.as_str()))
                .bind(summary.kev.as_ref().map(|k| k.date_added))
                .bind(summary.kev.as_ref().and_then(|k| k.due_date))
                .bind(summary.kev.as_ref().is_some_and(|k| k.known_ransomware_campaign_use.eq_ignore_ascii_case("known")))
                .bind(summary.rejected)
                .bind(sources.join(","))
                .bind(search.to_lowercase())
                .bind(&json)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                alias_rows.extend(summary.aliases.iter().map(|a| (a.clone(), vuln_id.clone())));
                product_rows.extend(
                    summary
                        .products
                        .iter()
                        .map(|(v, p)| (v.clone(), p.clone(), vuln_id.clone())),
                );
            }
            // Statement count, not row count, is what costs (each is a round
            // trip to the connection's thread or server): write the batch's
            // changes, aliases and products in multi-row statements.
            for chunk in change_rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO advisory_changes (vuln_id, source, record_id, kind, summary, at) ",
                );
                qb.push_values(chunk, |mut b, (vuln, source, record_id, change)| {
                    b.push_bind(vuln.to_string())
                        .push_bind(source.to_string())
                        .push_bind(record_id.to_string())
                        .push_bind(change.kind.as_str().to_string())
                        .push_bind(change.summary.clone())
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await?;
            }
            let touched: Vec<String> = touched.into_iter().collect();
            for chunk in touched.chunks(ROWS_PER_STATEMENT) {
                for table in ["advisory_aliases", "advisory_products", "advisory_keys"] {
                    let mut qb =
                        sqlx::QueryBuilder::new(format!("DELETE FROM {table} WHERE vuln_id IN ("));
                    let mut list = qb.separated(", ");
                    for v in chunk {
                        list.push_bind(v.clone());
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
            }
            for chunk in alias_rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb =
                    sqlx::QueryBuilder::new("INSERT INTO advisory_aliases (alias, vuln_id) ");
                qb.push_values(chunk, |mut b, (alias, vuln)| {
                    b.push_bind(alias.clone()).push_bind(vuln.clone());
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in key_rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO advisory_keys (key, vuln_id) ");
                qb.push_values(chunk, |mut b, (key, vuln)| {
                    b.push_bind(key.clone()).push_bind(vuln.clone());
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in product_rows.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO advisory_products (vendor, product, vuln_id) ",
                );
                qb.push_values(chunk, |mut b, (vendor, product, vuln)| {
                    b.push_bind(vendor.clone())
                        .push_bind(product.clone())
                        .push_bind(vuln.clone());
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            // Owed a match: cleared once it has committed (so a crash before
            // then is finished on the next start, alerts and all).
            for chunk in touched.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO match_pending (vuln_id, alerting, queued_at) ",
                );
                qb.push_values(chunk, |mut b, vuln| {
                    b.push_bind(vuln.clone())
                        .push_bind(self.alerting)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (vuln_id) DO UPDATE SET alerting = (match_pending.alerting OR excluded.alerting)",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(touched)
        })?;
        // Every inventory that shares a key with a changed advisory is
        // re-matched now, so exposures follow the feeds.
        self.match_advisories(&touched, now).await?;
        self.matched(&touched).await?;
        for (record, _, hash, _) in work {
            let key = (record.source, record.record_id.clone());
            if !stale.contains(&key) {
                known.hashes.insert(key, hash);
            }
        }
        Ok(counts)
    }

    /// Store a day's EPSS scores (upsert by CVE), in one transaction.
    pub async fn upsert_epss(
        &self,
        scores: &[EpssScore],
        run: &EpssRun,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let written = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut written = 0u64;
            for chunk in scores.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO epss_scores (cve_id, score, percentile, model_version, score_date, updated_at) ",
                );
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.cve_id)
                        .push_bind(s.score)
                        .push_bind(s.percentile)
                        .push_bind(&run.model_version)
                        .push_bind(run.score_date)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (cve_id) DO UPDATE SET score = excluded.score, percentile = excluded.percentile, \
                     model_version = excluded.model_version, score_date = excluded.score_date, updated_at = excluded.updated_at",
                );
                written += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok::<_, StoreError>(written)
        });
        let written = written?;
        // New likelihoods can change priorities of existing exposures.
        let cves: Vec<String> = scores.iter().map(|s| s.cve_id.clone()).collect();
        self.rerank(&cves, now).await?;
        Ok(written)
    }

    /// The vulnerability an id names: itself, or the one it is an alias of.
    pub async fn resolve_vuln_id(&self, id: &str) -> Result<Option<String>> {
        let direct: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT vuln_id FROM advisories WHERE vuln_id = $1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?;
        if let Some((v,)) = direct {
            return Ok(Some(v));
        }
        let alias: Option<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT vuln_id FROM advisory_aliases WHERE alias = $1 ORDER BY vuln_id LIMIT 1"
        )
        .bind(id)
        .fetch_optional(p)
        .await)?;
        Ok(alias.map(|(v,)| v))
    }

    /// One vulnerability with all its records and its change history.
    pub async fn advisory(&self, vuln_id: &str) -> Result<Option<AdvisoryDetail>> {
        let sql = concat!(
            "SELECT ",
            advisory_columns!(),
            " FROM advisories a LEFT JOIN epss_scores e ON e.cve_id = a.vuln_id WHERE a.vuln_id = $1"
        );
        let row: Option<AdvisoryRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(vuln_id)
            .fetch_optional(p)
            .await)?;
        let Some(row) = row else { return Ok(None) };
        let (summary_json,): (Vec<u8>,) = on_pool!(self, |p| sqlx::query_as(
            "SELECT summary FROM advisories WHERE vuln_id = $1"
        )
        .bind(vuln_id)
        .fetch_one(p)
        .await)?;
        let mut summary: AdvisorySummary = serde_json::from_reader(std::io::BufReader::new(
            flate2::read::DeflateDecoder::new(&summary_json[..]),
        ))
        .map_err(|e| corrupt(format!("summary: {e}")))?;
        summary.products = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT vendor, product FROM advisory_products WHERE vuln_id = $1 ORDER BY vendor, product"
        )
        .bind(vuln_id)
        .fetch_all(p)
        .await
        })?;
        let rows: Vec<(Vec<u8>, DateTime<Utc>, DateTime<Utc>)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT body, first_seen_at, changed_at FROM source_records WHERE vuln_id = $1 ORDER BY source, record_id"
        )
        .bind(vuln_id)
        .fetch_all(p)
        .await
        })?;
        let records = rows
            .into_iter()
            .map(|(b, first_seen_at, changed_at)| {
                Ok(StoredRecord {
                    record: decode(&b)?,
                    first_seen_at,
                    changed_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let changes: Vec<ChangeRow> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, vuln_id, source, record_id, kind, summary, at FROM advisory_changes WHERE vuln_id = $1 ORDER BY id DESC"
        )
        .bind(vuln_id)
        .fetch_all(p)
        .await
        })?;
        Ok(Some(AdvisoryDetail {
            row,
            summary,
            records,
            changes,
        }))
    }

    /// A page of advisories matching `filter`, most recently modified first.
    ///
    /// The page is read first: when it is the last (fewer rows than `limit`)
    /// the total follows from it, and the count — a second pass over every
    /// matching advisory, a full scan for a text search — is skipped.
    pub async fn list_advisories(
        &self,
        filter: &AdvisoryFilter,
        limit: i64,
        offset: i64,
    ) -> Result<AdvisoryPage> {
        let limit = limit.clamp(1, 500);
        let offset = offset.max(0);
        on_pool!(self, |p| {
            let mut list = sqlx::QueryBuilder::new(concat!(
                "SELECT ",
                advisory_columns!(),
                " FROM advisories a LEFT JOIN epss_scores e ON e.cve_id = a.vuln_id WHERE 1 = 1"
            ));
            push_filter(&mut list, self.backend(), filter);
            list.push(" ORDER BY a.modified DESC NULLS LAST, a.vuln_id DESC LIMIT ");
            list.push_bind(limit);
            list.push(" OFFSET ");
            list.push_bind(offset);
            let rows: Vec<AdvisoryRow> = list.build_query_as().fetch_all(p).await?;
            let last_page = (rows.len() as i64) < limit && (!rows.is_empty() || offset == 0);
            let total = if last_page {
                offset + rows.len() as i64
            } else {
                let mut count = sqlx::QueryBuilder::new(
                    "SELECT COUNT(*) FROM advisories a LEFT JOIN epss_scores e ON e.cve_id = a.vuln_id WHERE 1 = 1",
                );
                push_filter(&mut count, self.backend(), filter);
                let (total,): (i64,) = count.build_query_as().fetch_one(p).await?;
                total
            };
            Ok(AdvisoryPage { rows, total })
        })
    }

    /// How many advisories and source records are stored, per source.
    pub async fn advisory_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(on_pool!(self, |p| sqlx::query_as(
            "SELECT source, COUNT(*) FROM source_records GROUP BY source ORDER BY source"
        )
        .fetch_all(p)
        .await)?)
    }

    /// The newest change-log entries across all advisories.
    pub async fn recent_changes(&self, limit: i64) -> Result<Vec<ChangeRow>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT id, vuln_id, source, record_id, kind, summary, at FROM advisory_changes ORDER BY id DESC LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await
        })?)
    }
}

macro_rules! advisory_columns {
    () => {
        "a.vuln_id, a.title, a.published, a.modified, a.cvss_score, a.cvss_version, a.severity, \
         a.kev_date_added, a.kev_due_date, a.kev_ransomware, a.rejected, a.sources, \
         e.score AS epss_score, e.percentile AS epss_percentile"
    };
}
use advisory_columns;

/// Append the filter's conditions. Written once for both backends: portable
/// SQL (LIKE on a lower-cased column, comparisons on bound values), except
/// for the text search's index (see [`push_text_filter`]).
fn push_filter<DB: sqlx::Database>(
    qb: &mut sqlx::QueryBuilder<DB>,
    backend: Backend,
    f: &AdvisoryFilter,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> f64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> DateTime<Utc>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if !f.include_rejected {
        qb.push(" AND a.rejected = FALSE");
    }
    if let Some(text) = &f.text {
        push_text_filter(qb, backend, text);
    }
    if let Some(sev) = f.min_severity {
        let allowed: Vec<&str> = ["low", "medium", "high", "critical"]
            .into_iter()
            .filter(|s| severity_rank(s) >= severity_rank(sev.as_str()))
            .collect();
        qb.push(" AND a.severity IN (");
        let mut sep = qb.separated(", ");
        for s in allowed {
            sep.push_bind(s.to_string());
        }
        qb.push(")");
    }
    if f.kev_only {
        qb.push(" AND a.kev_date_added IS NOT NULL");
    }
    if let Some(min) = f.min_epss {
        qb.push(" AND e.score >= ");
        qb.push_bind(min);
    }
    let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    if let Some(t) = f.published_from.and_then(day_start) {
        qb.push(" AND a.published >= ");
        qb.push_bind(t);
    }
    if let Some(t) = f
        .published_to
        .and_then(|d| d.succ_opt())
        .and_then(day_start)
    {
        qb.push(" AND a.published < ");
        qb.push_bind(t);
    }
    if let Some(t) = f.modified_from.and_then(day_start) {
        qb.push(" AND a.modified >= ");
        qb.push_bind(t);
    }
    if let Some(t) = f.modified_to.and_then(|d| d.succ_opt()).and_then(day_start) {
        qb.push(" AND a.modified < ");
        qb.push_bind(t);
    }
    if f.vendor.is_some() || f.product.is_some() {
        qb.push(" AND a.vuln_id IN (SELECT vuln_id FROM advisory_products WHERE 1 = 1");
        if let Some(v) = &f.vendor {
            qb.push(" AND vendor = ");
            qb.push_bind(v.trim().to_lowercase());
        }
        if let Some(p) = &f.product {
            qb.push(" AND product = ");
            qb.push_bind(p.trim().to_lowercase());
        }
        qb.push(")");
    }
}

/// Words shorter than this cannot use a trigram index.
const TRIGRAM: usize = 3;

/// The search's words (at most eight), lower-cased as `search_text` is.
fn search_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// `%word%` for LIKE with `\` as the escape character: `%`, `_` and `\`
/// in the word match themselves.
fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 query finding the rows that contain every word as a substring
/// (with the trigram tokenizer a quoted phrase is a substring; `"` is
/// doubled inside one). Only words of [`TRIGRAM`] or more characters: a
/// shorter phrase matches nothing there.
fn fts_query(words: &[String]) -> Option<String> {
    let phrases: Vec<String> = words
        .iter()
        .filter(|w| w.chars().count() >= TRIGRAM)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!phrases.is_empty()).then(|| phrases.join(" AND "))
}

/// Whether pg_trgm's index can narrow the search for `word`: it takes
/// trigrams only from runs of letters and digits, so it needs three in a
/// row. For any other word the index scan would read the whole index.
fn pg_trgm_narrows(word: &str) -> bool {
    let mut run = 0;
    word.chars().any(|c| {
        run = if c.is_alphanumeric() { run + 1 } else { 0 };
        run >= TRIGRAM
    })
}

/// The text search: every word must occur in `search_text`, ignoring case
/// (both sides are lower-cased), as `search_text LIKE '%word%'` says — the
/// meaning is that and only that on both backends; the index only finds
/// the candidates faster.
///
/// - PostgreSQL: the LIKEs as written; the `pg_trgm` GIN index on
///   `search_text` (migration 0020) answers them. A word the index cannot
///   narrow (see [`pg_trgm_narrows`]) is written against
///   `search_text || ''`, which the index does not cover: otherwise a
///   cached generic plan reads the whole index for it (measured: 30 ms
///   against 6 ms for a plain scan of 17,500 advisories).
/// - SQLite: the words of 3+ characters go to the FTS5 trigram index over
///   the narrow `advisory_search` copy, and each is rechecked there with the
///   same LIKE (so the trigram tokenizer's own case folding cannot add a
///   row). Shorter words are checked with LIKE on the candidates; a search
///   made only of short words scans, as before.
///
/// A word holding a NUL character matches nothing: no stored text holds one
/// (PostgreSQL text cannot), and neither LIKE nor an FTS5 query can say it.
fn push_text_filter<DB: sqlx::Database>(
    qb: &mut sqlx::QueryBuilder<DB>,
    backend: Backend,
    text: &str,
) where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let words = search_words(text);
    if words.iter().any(|w| w.contains('\0')) {
        qb.push(" AND 1 = 0");
        return;
    }
    let mut unindexed: Vec<&String> = words.iter().collect();
    if let (Backend::Sqlite, Some(query)) = (backend, fts_query(&words)) {
        let indexed;
        (indexed, unindexed) = words.iter().partition(|w| w.chars().count() >= TRIGRAM);
        qb.push(
            " AND a.vuln_id IN (SELECT s.vuln_id FROM advisory_search s WHERE s.id IN \
             (SELECT rowid FROM advisory_search_fts WHERE advisory_search_fts MATCH ",
        );
        qb.push_bind(query);
        qb.push(")");
        for word in indexed {
            qb.push(" AND s.search_text LIKE ");
            qb.push_bind(like_pattern(word));
            qb.push(" ESCAPE '\\'");
        }
        qb.push(")");
    }
    for word in unindexed {
        if backend == Backend::Postgres && !pg_trgm_narrows(word) {
            qb.push(" AND (a.search_text || '') LIKE ");
        } else {
            qb.push(" AND a.search_text LIKE ");
        }
        qb.push_bind(like_pattern(word));
        qb.push(" ESCAPE '\\'");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::all_backends;
    use chrono::{Duration, TimeZone};
    use openwarp_advisory::{Affected, RecordState};

    fn kev(modified: DateTime<Utc>, product: &str) -> SourceRecord {
        SourceRecord {
            source: SourceKind::Kev,
            record_id: "CVE-2021-34527".into(),
            vuln_id: "CVE-2021-34527".into(),
            aliases: vec![],
            state: RecordState::Published,
            title: Some("Windows Print Spooler RCE".into()),
            description: None,
            published: None,
            modified: Some(modified),
            publisher: Some("CISA".into()),
            cvss: vec![],
            cwes: vec![],
            references: vec![],
            affected: vec![Affected::Kev {
                vendor: "Microsoft".into(),
                product: product.into(),
            }],
            remediations: vec![],
            kev: None,
            tlp: None,
        }
    }

    #[tokio::test]
    async fn an_older_snapshot_never_overwrites_a_newer_one() {
        let t = Utc
            .with_ymd_and_hms(2026, 3, 13, 0, 0, 0)
            .single()
            .unwrap_or_default();
        for db in all_backends().await {
            let s = &db.store;
            let mut known = KnownRecords::default();
            let newer = kev(t, "Windows");
            let older = kev(t - Duration::days(200), "Win32k");
            s.upsert_records(std::slice::from_ref(&newer), &mut known, t)
                .await
                .expect("newer");
            let c = s
                .upsert_records(std::slice::from_ref(&older), &mut known, t)
                .await
                .expect("older");
            assert_eq!((c.new, c.changed, c.stale), (0, 0, 1));
            let stored = s
                .advisory("CVE-2021-34527")
                .await
                .expect("get")
                .expect("exists");
            assert_eq!(stored.records[0].record, newer, "{}", db.backend().name());
            assert_eq!(stored.changes.len(), 1);
            // Offering the newer one again is a no-op, the older one stays stale.
            let c = s
                .upsert_records(&[newer.clone(), older], &mut known, t)
                .await
                .expect("both");
            assert_eq!((c.unchanged, c.stale), (1, 1));
        }
    }

    #[test]
    fn pg_trgm_narrows_words_with_three_letters_or_digits_in_a_row() {
        for w in ["log4j", "cve-2024", "abc", "über", "x.509"] {
            assert!(pg_trgm_narrows(w), "{w}");
        }
        for w in ["ab", "c++", "10%", "a-b-c", "_", "", "1.0.1"] {
            assert!(!pg_trgm_narrows(w), "{w}");
        }
    }

    #[test]
    fn bodies_round_trip_compressed() {
        let r = kev(Utc::now(), "Windows");
        let json = serde_json::to_string(&r).unwrap_or_default();
        let packed = encode(&json).unwrap_or_default();
        assert!(packed.len() < json.len());
        assert_eq!(decode(&packed).ok(), Some(r));
        assert!(decode(b"not deflate").is_err());
    }
}

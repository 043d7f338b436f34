//! Evidence files attached to an incident (a phishing e-mail as `.eml`,
//! screenshots, logs, PDFs), kept in the database beside the report.
//!
//! They are part of the full report: the web layer lets only those whom
//! `openwarp_core::incident::view_for` gives the full report read them, and
//! only those `can_attach` allows add or delete them. The store's own
//! contract:
//! - an attachment is addressed by its random `public_id` (`att-` + 132
//!   bits) *together with* its incident's public id: an attachment of
//!   another incident is not found, so knowing one id opens nothing else;
//! - listing never reads the files' bytes;
//! - adding and deleting write the timeline entry in the same transaction.

use crate::{Result, Store, StoreError, corrupt, crypto, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::UserId;
use openwarp_core::incident::size_text;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// An evidence file's description (never its bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentAttachment {
    /// The random id used in URLs and the API (`att-…`).
    pub public_id: String,
    /// The file name as uploaded (checked by `core::incident::attachment_name`).
    pub file_name: String,
    /// The media type as declared by the uploader.
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    pub uploaded_by: Option<UserId>,
    /// The uploader's display name (none once their account is removed).
    pub uploader_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

/// An evidence file with its bytes, for a download.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentFile {
    pub attachment: IncidentAttachment,
    pub data: Vec<u8>,
}

/// A file to attach, already checked by the caller (name, type, size).
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct Row {
    public_id: String,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    uploaded_by: Option<i64>,
    uploader_name: Option<String>,
    uploaded_at: DateTime<Utc>,
}

impl From<Row> for IncidentAttachment {
    fn from(r: Row) -> Self {
        IncidentAttachment {
            public_id: r.public_id,
            file_name: r.file_name,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by.map(UserId),
            uploader_name: r.uploader_name,
            uploaded_at: r.uploaded_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct FileRow {
    #[sqlx(flatten)]
    meta: Row,
    data: Vec<u8>,
}

const SELECT: &str = "SELECT a.public_id, a.file_name, a.content_type, a.size, a.sha256, a.uploaded_by, \
     u.display_name AS uploader_name, a.uploaded_at FROM incident_attachments a \
     LEFT JOIN users u ON u.id = a.uploaded_by";

/// A fresh random attachment id: `att-` and 22 base64url characters (132 bits).
fn new_public_id() -> String {
    let t = crypto::new_token();
    format!("att-{}", t.chars().take(22).collect::<String>())
}

impl Store {
    /// Attach `file` to the incident, with a timeline entry ("Attachment
    /// added: name (size)"), in one transaction. An empty file is refused.
    pub async fn add_incident_attachment(
        &self,
        incident_public_id: &str,
        file: NewAttachment<'_>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<IncidentAttachment> {
        if file.data.is_empty() {
            return Err(StoreError::Conflict(
                "an empty file cannot be attached".into(),
            ));
        }
        let inc = self.incident_or_404(incident_public_id).await?;
        let public_id = new_public_id();
        let size = i64::try_from(file.data.len()).map_err(corrupt)?;
        let sha256 = format!("{:x}", Sha256::digest(file.data));
        let detail = format!(
            "Attachment added: {} ({})",
            file.file_name,
            size_text(file.data.len() as u64)
        );
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO incident_attachments (public_id, incident_id, file_name, content_type, size, \
                 sha256, data, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&public_id)
            .bind(inc.id)
            .bind(file.file_name)
            .bind(file.content_type)
            .bind(size)
            .bind(&sha256)
            .bind(file.data)
            .bind(by.0)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'updated', $4)",
            )
            .bind(inc.id)
            .bind(now)
            .bind(by.0)
            .bind(&detail)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(inc.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_attachment(incident_public_id, &public_id)
            .await?
            .map(|f| f.attachment)
            .ok_or(StoreError::NotFound("attachment"))
    }

    /// The incident's evidence files, oldest first (descriptions only).
    pub async fn incident_attachments(
        &self,
        incident_public_id: &str,
    ) -> Result<Vec<IncidentAttachment>> {
        let inc = self.incident_or_404(incident_public_id).await?;
        let rows: Vec<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE a.incident_id = ")
                .push_bind(inc.id)
                .push(" ORDER BY a.uploaded_at, a.id");
            qb.build_query_as().fetch_all(p).await
        })?;
        Ok(rows.into_iter().map(IncidentAttachment::from).collect())
    }

    /// One evidence file with its bytes, if `attachment_id` belongs to
    /// the incident `incident_public_id` (otherwise `None`, as for an id
    /// that does not exist).
    pub async fn incident_attachment(
        &self,
        incident_public_id: &str,
        attachment_id: &str,
    ) -> Result<Option<AttachmentFile>> {
        let row: Option<FileRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT.replace(
                " FROM incident_attachments a",
                ", a.data FROM incident_attachments a JOIN incidents i ON i.id = a.incident_id",
            ));
            qb.push(" WHERE i.public_id = ")
                .push_bind(incident_public_id)
                .push(" AND a.public_id = ")
                .push_bind(attachment_id);
            qb.build_query_as().fetch_optional(p).await
        })?;
        Ok(row.map(|r| AttachmentFile {
            attachment: r.meta.into(),
            data: r.data,
        }))
    }

    /// Delete an evidence file of the incident, with a timeline entry
    /// ("Attachment deleted: name (size)"), in one transaction. Returns
    /// what was deleted; [`StoreError::NotFound`] when the incident has no
    /// such attachment.
    pub async fn delete_incident_attachment(
        &self,
        incident_public_id: &str,
        attachment_id: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<IncidentAttachment> {
        let inc = self.incident_or_404(incident_public_id).await?;
        let gone: Option<Row> = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE a.incident_id = ")
                .push_bind(inc.id)
                .push(" AND a.public_id = ")
                .push_bind(attachment_id);
            let row: Option<Row> = qb.build_query_as().fetch_optional(&mut *tx).await?;
            if let Some(row) = &row {
                sqlx::query(
                    "DELETE FROM incident_attachments WHERE incident_id = $1 AND public_id = $2",
                )
                .bind(inc.id)
                .bind(attachment_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'updated', $4)",
            )
            .bind(inc.id)
            .bind(now)
            .bind(by.0)
            .bind(format!(
                "Attachment deleted: {} ({})",
                row.file_name,
                size_text(u64::try_from(row.size).unwrap_or_default())
            ))
            .execute(&mut *tx)
            .await?;
                sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(inc.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        })?;
        gone.map(IncidentAttachment::from)
            .ok_or(StoreError::NotFound("attachment"))
    }
}

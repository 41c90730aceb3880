//! Supporting documents of an application (issue 10 §2): a cooperative (or its officer) uploads a PDF
//! or a JPEG; the officer and the approver read them with the application.
//!
//! The type is decided by the file's first bytes, never by its name or the type the browser sent:
//! `%PDF-` is a PDF, `FF D8 FF` a JPEG, anything else is refused (415). The size is bounded
//! ([`MAX_DOCUMENT_BYTES`], 413) and so is the count per application ([`MAX_DOCUMENTS`]). Files are
//! kept in the database (with the backup, on both backends) and only ever served back as a
//! download (`Content-Disposition: attachment`, the checked type, `nosniff`), so an uploaded file is
//! never run or shown as a page of the site.
//!
//! Who: whoever may read the application reads its documents (a cooperative only its own: 404
//! otherwise); the borrowing cooperative and officers upload, while the application is still open
//! (draft to appraised; 409 once decided or withdrawn).

use chrono::{DateTime, Utc};
use coopfund_domain::ids::ApplicationId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    applications::{self, Status},
    audit::{self, Audited},
    context::AppCtx,
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult, ErrorKind, Localized},
    store::entities::application_document as document,
};

/// The largest document accepted: 5 MiB (a scanned page or a signed PDF).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// The most documents one application may carry.
pub const MAX_DOCUMENTS: u64 = 20;

/// A document as listed (its content is read only by [`download`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct DocumentInfo {
    pub id: i64,
    pub application_id: i64,
    /// The name it was uploaded under (cleaned).
    pub file_name: String,
    /// `application/pdf` or `image/jpeg`, from its content.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Audited for DocumentInfo {
    const ENTITY_TYPE: &'static str = "application_document";

    fn audit_id(&self) -> String {
        self.id.to_string()
    }
}

impl From<document::Model> for DocumentInfo {
    fn from(m: document::Model) -> Self {
        DocumentInfo {
            id: m.id,
            application_id: m.application_id,
            file_name: m.file_name,
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            uploaded_by: m.uploaded_by,
            created_at: m.created_at,
        }
    }
}

/// The type of `bytes` from its first bytes: a PDF or a JPEG, else `None`.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// The name to keep: its last path part, without control or quoting characters, at most 200
/// characters; `tai-lieu` (+ the type's extension) when nothing is left.
pub fn clean_file_name(name: &str, content_type: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !super::validate::is_invisible_format(*c)
                && !matches!(c, '"' | '\'' | ';' | '<' | '>' | '`')
        })
        .take(200)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        let extension = if content_type == "application/pdf" {
            "pdf"
        } else {
            "jpg"
        };
        format!("tai-lieu.{extension}")
    } else {
        cleaned
    }
}

/// The refusal of a document over [`MAX_DOCUMENT_BYTES`] (413 `document_too_large`, field `file`),
/// also given by the upload routes when their body limit stops a larger one before it is read.
pub fn too_large() -> AppError {
    AppError::new(
        ErrorKind::PayloadTooLarge,
        "document_too_large",
        Localized::new(
            "Tệp quá lớn: tối đa 5 MB.",
            "The file is too large: 5 MB at most.",
        ),
    )
    .with_field("file")
}

fn unsupported() -> AppError {
    AppError::new(
        ErrorKind::UnsupportedMediaType,
        "unsupported_document_type",
        Localized::new(
            "Chỉ nhận tệp PDF hoặc ảnh JPEG (kiểm tra theo nội dung tệp).",
            "Only PDF files and JPEG images are accepted (checked by the file's content).",
        ),
    )
    .with_field("file")
}

fn document_not_found() -> AppError {
    AppError::not_found("tài liệu", "Document")
}

/// Adds a document to application `application_id`.
#[tracing::instrument(
    name = "upload an application document",
    skip_all,
    fields(application_id)
)]
pub async fn upload(
    ctx: &AppCtx,
    caller: &Caller,
    application_id: i64,
    file_name: &str,
    bytes: &[u8],
) -> AppResult<DocumentInfo> {
    caller.require(&[Role::Cooperative, Role::Officer])?;
    // The application as the caller may see it (404 for another cooperative's).
    let application = applications::get(ctx, caller, ApplicationId::new(application_id)).await?;
    if matches!(
        application.status,
        Status::Approved | Status::Rejected | Status::Withdrawn
    ) {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "application_closed",
            Localized::new(
                "Hồ sơ đã được quyết định hoặc đã rút: không thể thêm tài liệu.",
                "The application is decided or withdrawn: no document can be added.",
            ),
        )
        .with_field("status"));
    }
    if bytes.is_empty() {
        return Err(AppError::invalid("file", crate::error::Reason::Required));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(too_large());
    }
    let content_type = sniff(bytes).ok_or_else(unsupported)?;
    let txn = ctx.db.begin().await?;
    let count = document::Entity::find()
        .filter(document::Column::ApplicationId.eq(application_id))
        .count(&txn)
        .await?;
    if count >= MAX_DOCUMENTS {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "too_many_documents",
            Localized::new(
                format!("Mỗi hồ sơ có tối đa {MAX_DOCUMENTS} tài liệu."),
                format!("An application carries at most {MAX_DOCUMENTS} documents."),
            ),
        )
        .with_field("file"));
    }
    let size_bytes = i64::try_from(bytes.len()).map_err(AppError::internal)?;
    let stored = document::ActiveModel {
        application_id: Set(application_id),
        cooperative_id: Set(application.cooperative_id.get()),
        file_name: Set(clean_file_name(file_name, content_type)),
        content_type: Set(content_type.to_string()),
        size_bytes: Set(size_bytes),
        sha256: Set(hex::encode(Sha256::digest(bytes))),
        content: Set(bytes.to_vec()),
        uploaded_by: Set(caller.user_id()),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let info = DocumentInfo::from(stored);
    audit::created(&txn, ctx, caller, "application.document.upload", &info).await?;
    txn.commit().await?;
    Ok(info)
}

/// The documents of application `application_id`, oldest first (whoever may read it).
pub async fn list(
    ctx: &AppCtx,
    caller: &Caller,
    application_id: i64,
) -> AppResult<Vec<DocumentInfo>> {
    applications::get(ctx, caller, ApplicationId::new(application_id)).await?;
    let documents = document::Entity::find()
        .select_only()
        // Every column but the content, which only a download reads.
        .columns([
            document::Column::Id,
            document::Column::ApplicationId,
            document::Column::FileName,
            document::Column::ContentType,
            document::Column::SizeBytes,
            document::Column::Sha256,
            document::Column::UploadedBy,
            document::Column::CreatedAt,
        ])
        .filter(document::Column::ApplicationId.eq(application_id))
        .order_by_asc(document::Column::Id)
        .into_model::<DocumentInfo>()
        .all(&ctx.db)
        .await?;
    Ok(documents)
}

/// Document `document_id` of application `application_id` with its content (whoever may read the
/// application; 404 for a document of another application).
pub async fn download(
    ctx: &AppCtx,
    caller: &Caller,
    application_id: i64,
    document_id: i64,
) -> AppResult<(DocumentInfo, Vec<u8>)> {
    applications::get(ctx, caller, ApplicationId::new(application_id)).await?;
    let row = document::Entity::find_by_id(document_id)
        .filter(document::Column::ApplicationId.eq(application_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(document_not_found)?;
    let content = row.content.clone();
    Ok((DocumentInfo::from(row), content))
}

/// `Content-Disposition` of a download named `file_name`: always an attachment, an ASCII fallback
/// name and the UTF-8 name (RFC 6266, RFC 5987).
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_content_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(b"PK\x03\x04"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn a_file_name_is_cleaned_and_never_breaks_the_header() {
        assert_eq!(
            clean_file_name("C:\\Users\\htx\\Phương án.pdf", "application/pdf"),
            "Phương án.pdf"
        );
        assert_eq!(
            clean_file_name("../../etc/\"x\";.pdf", "application/pdf"),
            "x.pdf"
        );
        assert_eq!(clean_file_name("", "image/jpeg"), "tai-lieu.jpg");
        let header = content_disposition("Phương án \"1\".pdf");
        assert!(header.starts_with("attachment; filename=\""), "{header}");
        assert!(!header[22..].contains("\"1\""), "{header}");
        assert!(
            header.contains("filename*=UTF-8''Ph%C6%B0%C6%A1ng"),
            "{header}"
        );
    }
}

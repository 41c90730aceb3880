//! The wire types of `/api/v1/applications/{id}/documents`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::application_documents::DocumentInfo;

/// `?file_name=` of an upload.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name, as shown and offered on download (cleaned; default `tai-lieu.pdf`/`.jpg`).
    pub file_name: Option<String>,
}

/// A supporting document of an application (its content is the download).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: i64,
    pub application_id: i64,
    /// The name it was uploaded under (cleaned).
    pub file_name: String,
    /// `application/pdf` or `image/jpeg`, decided by the file's first bytes.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<DocumentInfo> for DocumentView {
    fn from(d: DocumentInfo) -> DocumentView {
        DocumentView {
            id: d.id,
            application_id: d.application_id,
            file_name: d.file_name,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            uploaded_by: d.uploaded_by,
            created_at: d.created_at,
        }
    }
}

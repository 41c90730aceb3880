//! The wire types of `/api/v1/applications/{id}/documents`.

use chrono::{DateTime, Utc};
use coopfund_domain::ids::{ApplicationId, UserId};
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

view! {
    /// A supporting document of an application (its content is the download).
    #[derive(Debug, Clone, Serialize, ToSchema)]
    pub struct DocumentView from DocumentInfo {
        pub id: i64,
        #[schema(value_type = i64)]
        pub application_id: ApplicationId [into],
        /// The name it was uploaded under (cleaned).
        pub file_name: String,
        /// `application/pdf` or `image/jpeg`, decided by the file's first bytes.
        pub content_type: String,
        pub size_bytes: i64,
        /// Hex SHA-256 of the content.
        pub sha256: String,
        #[schema(value_type = Option<i64>)]
        pub uploaded_by: Option<UserId> [map],
        pub created_at: DateTime<Utc>,
    }
}

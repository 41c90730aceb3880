//! `application_documents`: a supporting document uploaded with an application (issue 10 §2), kept
//! in the database with its type as checked from its content.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    /// The application's cooperative, so a read is scoped without a join.
    pub cooperative_id: i64,
    /// The name it was uploaded under, cleaned (shown and offered as the download's name only).
    pub file_name: String,
    /// `application/pdf` or `image/jpeg`, from the file's first bytes.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub content: Vec<u8>,
    pub uploaded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

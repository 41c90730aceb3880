//! `cooperative_notification_settings`: who receives a cooperative's mails and in what language,
//! as the cooperative chose on `/my/notifications` (issue 10 §5). No row: the registered email and
//! language of `cooperatives`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cooperative_notification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cooperative_id: i64,
    /// `vi` or `en`.
    pub language: String,
    /// The chair's address; empty when not set.
    pub chair_email: String,
    /// The accountant's address; empty when not set.
    pub accountant_email: String,
    pub updated_by: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `users`: people and programs that log in, with one role each.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    pub full_name: String,
    pub email: Option<String>,
    /// One of the role names of `crate::auth::Role`.
    pub role: String,
    /// Set only for the `cooperative` role: the one cooperative this user may see.
    pub cooperative_id: Option<i64>,
    pub language: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    /// Failed logins in a row since the last success.
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

no_relations!();

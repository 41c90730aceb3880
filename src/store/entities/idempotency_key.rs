//! `idempotency_keys`: Idempotency keys of money commands: the first response, replayed for a retry with the same body.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub key: String,
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
    pub created_at: DateTimeUtc,
}

no_relations!();

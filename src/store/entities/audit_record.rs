//! `audit_records`: append-only trail of every change: who, when, what, before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<i64>,
    /// Username, or `system` / `cli` for changes with no logged-in user.
    pub actor: String,
    /// Dotted verb, e.g. `cooperative.create`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// JSON of the entity before the change (absent on create).
    pub before: Option<String>,
    /// JSON of the entity after the change (absent on delete-like changes).
    pub after: Option<String>,
    pub request_id: Option<String>,
    /// The part of its chain the row is linked in (`coopfund_domain::chain`, "Parts"); 0 for every row
    /// chained before the chains were split.
    pub chain_part: i16,
    /// Its place in its hash chain (1, 2, 3 …; `coopfund_domain::chain`); NULL: written outside the chain.
    pub chain_seq: Option<i64>,
    /// The previous row's `chain_hash` in the chain.
    pub chain_prev: Option<String>,
    /// This row's hash in its chain.
    pub chain_hash: Option<String>,
}

no_relations!();

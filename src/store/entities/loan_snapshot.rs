//! `loan_snapshots`: a loan's folded position at the start of `as_of` (`coopfund_domain::snapshot`), a cache of
//! the fold written by the close of business and read by the loan reads (`app::loan_engine`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub loan_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub as_of: Date,
    /// The highest `loan_transactions.id` folded into it.
    pub covered_sequence: i64,
    /// `coopfund_domain::snapshot::SNAPSHOT_FORMAT_VERSION` when written.
    pub format_version: i32,
    /// `coopfund_domain::snapshot::contract_fingerprint` of the contract it was folded under.
    pub contract_fingerprint: String,
    /// The serialised `FoldSnapshot` (JSON).
    pub state: String,
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

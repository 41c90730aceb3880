//! `journal_entries`: Journal entries: append-only; a correction is a new entry with `reverses_entry_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry_date: Date,
    pub kind: String,
    pub description: String,
    pub loan_id: Option<i64>,
    pub transaction_id: Option<i64>,
    pub reverses_entry_id: Option<i64>,
    #[sea_orm(unique)]
    pub business_key: Option<String>,
    pub created_by: Option<i64>,
    pub posted_at: DateTimeUtc,
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

//! `loan_transactions`: Append-only loan events: disbursement, repayment, restructure, write_off, and reversal (pointing at the original with `reverses_id`). `details` is JSON (allocation, restructure terms).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_transactions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub loan_id: i64,
    pub kind: String,
    pub value_date: Date,
    pub amount_vnd: i64,
    pub reference: String,
    pub repayment_kind: Option<String>,
    pub reverses_id: Option<i64>,
    pub reason: Option<String>,
    pub details: String,
    pub approved_by: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
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

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
}

no_relations!();

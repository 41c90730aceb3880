//! `journal_lines`: Journal lines: one side each, whole đồng; `loan_id` makes the loan subledger.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entry_id: i64,
    pub account_code: String,
    pub debit_vnd: i64,
    pub credit_vnd: i64,
    pub loan_id: Option<i64>,
}

no_relations!();

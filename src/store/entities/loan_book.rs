//! `loan_books`: each loan's posted book as running sums per account, kept by the database as journal lines are
//! inserted (see the migration `m20261206_000019_loan_books`); `ledger verify` checks it against the lines.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_books")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub loan_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_code: String,
    /// Σ debits of the loan's lines on the account.
    pub debit_vnd: i64,
    /// Σ credits of the loan's lines on the account.
    pub credit_vnd: i64,
}

no_relations!();

//! `bank_statements`: one imported statement file of one of the fund's bank accounts, with its SHA-256
//! (unique per account: the same file twice is the same statement) and the bank's own balances.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_statements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bank_account: String,
    /// `csv`, `xlsx`, `camt053` or `mt940`.
    pub format: String,
    pub profile: Option<String>,
    pub file_name: String,
    pub file_sha256: String,
    pub statement_ref: Option<String>,
    pub period_from: Option<Date>,
    pub period_to: Option<Date>,
    /// The bank's opening balance (end of the day before `period_from`).
    pub opening_balance_vnd: Option<i64>,
    /// The bank's closing balance (end of `period_to`).
    pub closing_balance_vnd: Option<i64>,
    pub line_count: i32,
    /// Lines of this file not seen in an earlier statement.
    pub new_line_count: i32,
    pub imported_by: Option<i64>,
    pub imported_at: DateTimeUtc,
}

no_relations!();

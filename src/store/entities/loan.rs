//! `loans`: Loans (created by approval) with their terms and balances cached as of `balances_as_of`, checked against the ledger by `coopfund ledger verify`.

use sea_orm::entity::prelude::*;

use crate::store::DbDecimal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    #[sea_orm(unique)]
    pub application_id: i64,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub officer_id: Option<i64>,
    pub principal_vnd: i64,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub rate_percent: DbDecimal,
    pub method: String,
    pub installments: i32,
    pub period_months: i32,
    pub principal_grace: i32,
    pub day_count: String,
    pub installment_unit_vnd: i64,
    pub first_due_on: Option<Date>,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub overdue_multiplier: DbDecimal,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub late_rate_percent: DbDecimal,
    pub allocation_order: String,
    pub prepayment_rule: String,
    pub collateral_value_vnd: i64,
    pub status: String,
    pub contract_number: Option<String>,
    pub signed_on: Option<Date>,
    pub first_disbursed_on: Option<Date>,
    pub closed_on: Option<Date>,
    pub disbursed_vnd: i64,
    pub in_term_principal_vnd: i64,
    pub overdue_principal_vnd: i64,
    pub advance_vnd: i64,
    pub dpd: i32,
    pub debt_group: i32,
    pub restructure_count: i32,
    /// The date the cached balances were last written as of. An open loan the close of business left unwritten
    /// (its balances did not change) has its cache as of a later date: read it through
    /// `app::ledger::effective_balances_as_of`.
    pub balances_as_of: Option<Date>,
    /// Whether `balances_as_of` was last written by a command on the loan (true), not by the close of business
    /// (or the demo's load): what tells a command's row of a date from the close's
    /// (`app::ledger::effective_balances_as_of`).
    pub balances_cached_by_command: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

no_relations!();

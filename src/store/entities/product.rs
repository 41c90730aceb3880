//! `products`: Loan products: the fund's lending rules per product. Rates are exact decimal strings.

use sea_orm::entity::prelude::*;

use crate::store::DbDecimal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub description: String,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub rate_percent: DbDecimal,
    pub methods: String,
    pub period_months: String,
    pub min_amount_vnd: i64,
    pub max_amount_vnd: i64,
    pub min_installments: i32,
    pub max_installments: i32,
    pub max_principal_grace: i32,
    pub day_count: String,
    pub installment_unit_vnd: i64,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub overdue_multiplier: DbDecimal,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub late_rate_percent: DbDecimal,
    pub allocation_order: String,
    pub prepayment_rule: String,
    pub collateral_free_limit_vnd: i64,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

no_relations!();

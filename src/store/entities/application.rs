//! `applications`: Loan applications and their life cycle (DOMAIN.md §7).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub cooperative_id: i64,
    pub product_id: i64,
    pub amount_vnd: i64,
    pub installments: i32,
    pub period_months: i32,
    pub method: String,
    pub principal_grace: i32,
    pub purpose: String,
    pub project_total_vnd: i64,
    pub own_capital_vnd: i64,
    pub no_bad_debt_declared: bool,
    pub documents: String,
    pub status: String,
    pub created_by: Option<i64>,
    pub appraised_by: Option<i64>,
    pub appraisal_note: Option<String>,
    /// `approve` or `reject`: what the appraiser recommends (migration 000004).
    pub appraisal_recommendation: Option<String>,
    pub approved_by: Option<i64>,
    pub council_approved_by: Option<i64>,
    pub decision_reason: Option<String>,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

no_relations!();

//! `collateral_items`: Collateral pledged for an application; the discount rate turns appraised value into the value deducted from provisions.

use sea_orm::entity::prelude::*;

use crate::store::DbDecimal;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collateral_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: i64,
    pub kind: String,
    pub description: String,
    pub appraised_value_vnd: i64,
    /// Exact decimal text, read once ([`DbDecimal`]).
    pub discount_rate_percent: DbDecimal,
}

no_relations!();

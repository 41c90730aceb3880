//! `fund_state`: The fund's single state row (id 1): the business date, i.e. the day after the last closed day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub business_date: Date,
    pub updated_at: DateTimeUtc,
}

no_relations!();

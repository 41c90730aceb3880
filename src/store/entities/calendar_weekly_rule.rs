//! `calendar_weekly_rules`: the fund's weekly days off (`"sat,sun"`), in force from `effective_from`
//! until the next rule.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_weekly_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub effective_from: Date,
    pub days_off: String,
    pub created_at: DateTimeUtc,
}

no_relations!();

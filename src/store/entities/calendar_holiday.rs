//! `calendar_holidays`: a day the fund does not work (Tết, 30/4 …), entered by configuration or an
//! admin; `removed_at` set when it was taken out again (the row is kept).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_holidays")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub holiday_on: Date,
    pub name: String,
    /// `config` (seeded at start) or `admin` (API or CLI).
    pub source: String,
    /// The business date when it was (last) entered or removed; it changes folds only after it.
    pub entered_on_business_date: Date,
    pub entered_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
}

no_relations!();

//! `fund_state`: The fund's single state row (id 1): the business date, i.e. the day after the last closed day.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fund_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub business_date: Date,
    pub updated_at: DateTimeUtc,
    /// Set when the close of business finishes a day (the new business date, D): an open loan whose row's
    /// `balances_as_of` is before D − 1 has its cache as of D (`app::ledger::effective_balances_as_of`).
    pub open_loans_cached_through: Option<Date>,
    /// The day the close of business is closing (p), while it is: with `cob_cooperatives_through`.
    pub cob_day: Option<Date>,
    /// The last cooperative (W) whose open loans the close of `cob_day` has closed: an open loan of a
    /// cooperative ≤ W whose row's `balances_as_of` is before p has its cache as of p + 1.
    pub cob_cooperatives_through: Option<i64>,
}

no_relations!();

//! `cooperative_bank_accounts`: accounts a cooperative pays from, registered by the fund, so a transfer
//! without a loan number is still recognised (by account and amount due).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cooperative_bank_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cooperative_id: i64,
    /// Digits only (as normalised on entry), unique across the fund.
    pub account_number: String,
    pub bank_name: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

no_relations!();

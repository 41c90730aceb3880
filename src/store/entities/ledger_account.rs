//! `ledger_accounts`: The chart of accounts (DOMAIN.md §9).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    pub normal_side: String,
}

no_relations!();

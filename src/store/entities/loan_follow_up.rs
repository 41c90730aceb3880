//! `loan_follow_ups`: What officers did to pursue a written-off debt (visit, letter, legal case), with the date and a note. Append-only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_follow_ups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub loan_id: i64,
    /// visit, letter, legal_case, other.
    pub kind: String,
    pub acted_on: Date,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

no_relations!();

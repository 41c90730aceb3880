//! `cooperatives`: the borrowers (HTX, unions of HTX, members of HTX).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cooperatives")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Business registration code; unique across the fund.
    #[sea_orm(unique)]
    pub registration_code: String,
    pub name: String,
    /// `cooperative`, `union_of_cooperatives` or `cooperative_member`.
    pub kind: String,
    pub district: String,
    pub commune: String,
    pub address: String,
    pub legal_representative: String,
    pub phone: String,
    pub email: String,
    pub language: String,
    pub member_count: i32,
    pub charter_capital_vnd: i64,
    pub founded_on: Date,
    /// Cooperatives sharing a group are related persons for the 25% limit (Decree 45 Art 23).
    pub related_group: Option<String>,
    pub officer_id: Option<i64>,
    /// Optimistic-concurrency version, bumped on every update.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

no_relations!();

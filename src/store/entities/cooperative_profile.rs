//! `cooperative_profiles`: a cooperative's sector, members, OCOP products and rating, each row in force from `effective_on` until the next (append-only history).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cooperative_profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cooperative_id: i64,
    pub effective_on: Date,
    /// One of `app::cooperative_profiles::SECTORS`.
    pub sector: String,
    pub member_count: i32,
    /// JSON array of `{"name", "stars"}`.
    pub ocop_products: String,
    /// `good`, `fairly_good`, `average`, `weak`, or none (not rated).
    pub rating: Option<String>,
    pub rated_year: Option<i32>,
    pub recorded_by: Option<i64>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `charter_capital_contributions`: Paid-in charter capital contributions; their sum sets the Decree 45 Art 23 limits.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charter_capital_contributions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub amount_vnd: i64,
    pub contributed_on: Date,
    pub reference: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The part of its chain the row is linked in (`coopfund_domain::chain`, "Parts"); 0 for every row
    /// chained before the chains were split.
    pub chain_part: i16,
    /// Its place in its hash chain (1, 2, 3 …; `coopfund_domain::chain`); NULL: written outside the chain.
    pub chain_seq: Option<i64>,
    /// The previous row's `chain_hash` in the chain.
    pub chain_prev: Option<String>,
    /// This row's hash in its chain.
    pub chain_hash: Option<String>,
}

no_relations!();

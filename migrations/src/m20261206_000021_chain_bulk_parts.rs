//! Issue 14 (cobwriters): two more parts of the audit trail, the journal and the loan transactions, 16 and 17,
//! the "bulk parts" (`coopfund_domain::chain`, "Parts"): no loan's own work links into them, so two chunks of
//! the close of business can each append to one of them at once while the money commands keep to the loans'
//! parts 0..16.
//!
//! Only `chain_heads` changes: the empty heads (seq 0, the genesis hash) of `audit/16`, `audit/17`,
//! `journal/16`, … No row is rewritten, and `chain_part` already takes any small number.

use sea_orm_migration::prelude::*;

use crate::m20261205_000017_chain_parts::{insert_empty_heads, PARTS_MADE as PARTS_BEFORE};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The parts that exist once this migration has run. Written out, not read from the domain: a migration does
/// what it did when it landed; `coopfund_domain::chain::PARTS` must equal it (a test says so) until a later
/// migration adds heads.
pub const PARTS_MADE: u16 = 18;

/// The chains split into parts (the charter capital stays one part).
const CHAINS: [&str; 3] = ["audit", "journal", "loan_transactions"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        insert_empty_heads(manager.get_connection(), &CHAINS, PARTS_BEFORE..PARTS_MADE).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_domain_splits_the_chains_into_the_parts_made_here() {
        assert_eq!(super::PARTS_MADE, coopfund_domain::chain::PARTS);
        assert_eq!(
            super::PARTS_MADE - super::PARTS_BEFORE,
            coopfund_domain::chain::BULK_PARTS
        );
    }
}

//! Issue 14 (chainparts): the audit trail, the journal and the loan transactions each split into 16 parts
//! (the encoding and why: `coopfund_domain::chain`, "Parts"), so that money commands on loans of different
//! parts do not serialize on one chain head through each other's commit.
//!
//! - Each chained table gets `chain_part` (`SMALLINT NOT NULL DEFAULT 0`): every row already chained is
//!   part 0, whose hash encoding is exactly the one it was chained with, so no row is rewritten (and the
//!   PostgreSQL triggers that refuse `UPDATE` stay as they are).
//! - The unique index on `chain_seq` becomes unique on (`chain_part`, `chain_seq`): a part cannot fork.
//! - `chain_heads` gets the empty heads (seq 0, the genesis hash) of parts 1..15 of the three split chains,
//!   named `audit/1` … (`Chain::head_name`). The charter capital stays one part.

use coopfund_domain::chain::GENESIS;
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The parts made here. Written out, not read from the domain: a migration does what it did when it
/// landed; `coopfund_domain::chain::LOAN_PARTS` equals it (a test says so); migration 000021 adds two more.
pub const PARTS_MADE: u16 = 16;

/// The chained tables and the names of their chains; the charter capital (one part) only gets the column.
const TABLES: [(&str, Option<&str>); 4] = [
    ("audit_records", Some("audit")),
    ("journal_entries", Some("journal")),
    ("loan_transactions", Some("loan_transactions")),
    ("charter_capital_contributions", None),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, chain) in TABLES {
            // The same statements on both backends (SQLite adds a NOT NULL column with a default).
            for sql in [
                format!("ALTER TABLE {table} ADD COLUMN chain_part SMALLINT NOT NULL DEFAULT 0"),
                format!("DROP INDEX ux_{table}_chain_seq"),
                format!(
                    "CREATE UNIQUE INDEX ux_{table}_chain_part_seq ON {table} (chain_part, chain_seq)"
                ),
            ] {
                db.execute_unprepared(&sql).await?;
            }
            let Some(chain) = chain else { continue };
            insert_empty_heads(db, &[chain], 1..PARTS_MADE).await?;
        }
        Ok(())
    }
}

/// Inserts the empty heads (seq 0, the genesis hash) of parts `parts` of each of `chains`, named as
/// `Chain::head_name` names them (`journal/3`), in one statement. Also used by migration 000021.
pub(crate) async fn insert_empty_heads(
    db: &SchemaManagerConnection<'_>,
    chains: &[&str],
    parts: std::ops::Range<u16>,
) -> Result<(), DbErr> {
    let values = chains
        .iter()
        .flat_map(|chain| {
            parts
                .clone()
                .map(move |part| format!("('{chain}/{part}', 0, '{GENESIS}', CURRENT_TIMESTAMP)"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!("INSERT INTO chain_heads (chain, seq, hash, updated_at) VALUES {values}"),
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_domain_spreads_the_loans_over_the_parts_made_here() {
        assert_eq!(super::PARTS_MADE, coopfund_domain::chain::LOAN_PARTS);
    }
}

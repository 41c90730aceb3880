//! Issue 11 item 1, tamper-evident books: the hash chains (encoding in `coopfund_domain::chain`) over
//! `audit_records`, `journal_entries` (with their lines), `loan_transactions` and
//! `charter_capital_contributions`.
//!
//! - Each chained table gets `chain_seq` (unique), `chain_prev` and `chain_hash` (`audit_records` had an
//!   unused `chain_hash` already).
//! - `chain_heads` holds each chain's last sequence number and hash; a writer takes its row (a lock on
//!   PostgreSQL, the write lock on SQLite) for the rest of its transaction, so two writers never fork a chain.
//! - The rows already there are chained once, in id order.
//! - PostgreSQL: the audit trail, the loan transactions and the charter capital contributions refuse
//!   `UPDATE` and `DELETE` as the journal already did, and every chained table (and `chain_heads`) refuses
//!   `TRUNCATE`. A superuser can still get past triggers (`session_replication_role = replica`,
//!   `ALTER TABLE … DISABLE TRIGGER`): what they let through, the chains show.

use coopfund_domain::chain::{links_after, Chain, GENESIS};
use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

use crate::chain_rows::{self, Order};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows read and chained per batch when chaining an existing database.
const BATCH_ROWS: u64 = 2_000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for chain in Chain::ALL {
            let table = Alias::new(chain.table());
            let mut columns = vec![
                big_integer_null(Alias::new("chain_seq")),
                string_len_null(Alias::new("chain_prev"), 64),
            ];
            if chain != Chain::Audit {
                columns.push(string_len_null(Alias::new("chain_hash"), 64));
            }
            // One column per ALTER: SQLite takes one at a time.
            for mut column in columns {
                manager
                    .alter_table(
                        Table::alter()
                            .table(table.clone())
                            .add_column(&mut column)
                            .to_owned(),
                    )
                    .await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name(format!("ux_{}_chain_seq", chain.table()))
                        .table(table)
                        .col(Alias::new("chain_seq"))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ChainHeads::Table)
                    .col(string_len(ChainHeads::Chain, 40).primary_key())
                    .col(big_integer(ChainHeads::Seq))
                    .col(string_len(ChainHeads::Hash, 64))
                    .col(timestamp_with_time_zone(ChainHeads::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        if postgres {
            // The journal's own trigger refuses the one-time UPDATE that fills in the links.
            for table in ["journal_entries"] {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"
                ))
                .await?;
            }
        }
        for chain in Chain::ALL {
            let (seq, hash) = chain_existing(db, chain).await?;
            let mut insert = Query::insert();
            insert
                .into_table(ChainHeads::Table)
                .columns([
                    ChainHeads::Chain,
                    ChainHeads::Seq,
                    ChainHeads::Hash,
                    ChainHeads::UpdatedAt,
                ])
                .values_panic([
                    chain.name().into(),
                    seq.into(),
                    hash.into(),
                    Expr::current_timestamp(),
                ]);
            manager.exec_stmt(insert).await?;
        }
        if postgres {
            db.execute_unprepared(
                "ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only",
            )
            .await?;
            forbid_changes(db).await?;
        }
        Ok(())
    }
}

/// Chains the rows of `chain` already in the database, in id order; returns the head.
async fn chain_existing<C: ConnectionTrait>(db: &C, chain: Chain) -> Result<(i64, String), DbErr> {
    let (mut seq, mut hash) = (0_i64, GENESIS.to_string());
    let mut after = 0_i64;
    let backend = db.get_database_backend();
    loop {
        let rows = chain_rows::read_batch(db, chain, Order::Id, after, BATCH_ROWS).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let fields: Vec<_> = rows.iter().map(|r| r.fields.clone()).collect();
        let links = links_after(chain, seq, &hash, &fields);
        for (row, link) in rows.iter().zip(&links) {
            let sql = format!(
                "UPDATE {} SET chain_seq = {}, chain_prev = '{}', chain_hash = '{}' WHERE id = {}",
                chain.table(),
                link.seq,
                link.prev,
                link.hash,
                row.id
            );
            db.execute_raw(Statement::from_string(backend, sql)).await?;
        }
        if let Some(link) = links.last() {
            (seq, hash) = (link.seq, link.hash.clone());
        }
    }
    Ok((seq, hash))
}

/// PostgreSQL: the chained tables are append-only in the database too, and none can be truncated.
async fn forbid_changes<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    db.execute_unprepared(
        "CREATE OR REPLACE FUNCTION coopfund_append_only() RETURNS trigger AS $$
         BEGIN
           RAISE EXCEPTION '% is append-only: % is refused; record a correction instead', TG_TABLE_NAME, TG_OP;
         END;
         $$ LANGUAGE plpgsql",
    )
    .await?;
    for table in [
        "audit_records",
        "loan_transactions",
        "charter_capital_contributions",
    ] {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
             FOR EACH ROW EXECUTE FUNCTION coopfund_append_only()"
        ))
        .await?;
    }
    for table in [
        "audit_records",
        "journal_entries",
        "journal_lines",
        "loan_transactions",
        "charter_capital_contributions",
        "chain_heads",
    ] {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
             FOR EACH STATEMENT EXECUTE FUNCTION coopfund_append_only()"
        ))
        .await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum ChainHeads {
    Table,
    Chain,
    Seq,
    Hash,
    UpdatedAt,
}

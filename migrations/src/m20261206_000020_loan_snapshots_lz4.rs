//! PostgreSQL: the snapshots of the fold (`loan_snapshots.state`, a few kilobytes of JSON each) are compressed
//! with LZ4 instead of the server's default pglz (issue 14).
//!
//! A snapshot is larger than PostgreSQL's TOAST threshold (≈ 2 kB; the 100,000-loan bulk fund's average 3.6 kB),
//! so every one written is compressed and every one read is decompressed. The close of business reads every open
//! loan's latest snapshot each day and rewrites a seventh of them; the bulk demo load writes one per open loan.
//! Measured on the 100,000-loan fund's 78,577 snapshots (benches/README, "A fund that has been running"): writing
//! them 2.29 s with pglz against 0.59 s with LZ4, reading them 364 against 218 ms, 98 against 108 MB stored.
//!
//! LZ4 is there only when the server was built with it (`--with-lz4`, as the PostgreSQL packages of Debian,
//! Ubuntu and the PGDG repositories are); on a server without it the column keeps the default, which is only
//! slower. Rows already stored keep their compression until rewritten. SQLite does not compress: nothing to do.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Whether this server can compress with LZ4: `default_toast_compression` lists it among its values.
const LZ4_AVAILABLE: &str = "SELECT 1 AS available FROM pg_settings
     WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        if db.query_one_raw(statement(LZ4_AVAILABLE)).await?.is_some() {
            db.execute_unprepared(
                "ALTER TABLE loan_snapshots ALTER COLUMN state SET COMPRESSION lz4",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The inverse of `up`, for completeness: the migrator wraps every migration so that none goes back.
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE loan_snapshots ALTER COLUMN state SET COMPRESSION DEFAULT",
            )
            .await?;
        }
        Ok(())
    }
}

fn statement(sql: &str) -> sea_orm_migration::sea_orm::Statement {
    sea_orm_migration::sea_orm::Statement::from_string(DbBackend::Postgres, sql)
}

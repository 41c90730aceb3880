//! Persistence: the only place that knows the schema. Connects to SQLite or PostgreSQL,
//! runs the migrations, and classifies database errors once.
//!
//! **No `LIMIT` on a unique key read on every request.** sea-orm's `one()` appends `LIMIT ?` with the 1 bound as
//! a parameter, and SQLite (3.51, bundled) lets its planner read a bound LIMIT: such a statement is recompiled
//! (parsed and planned again) on every execution instead of being reused from the statement cache. The lookups
//! every request makes (the bearer token, the loan by id) therefore read with `all()` and take the first row:
//! the same row, one parse fewer (benches/README.md, "readfast").

pub mod decimal;
pub mod entities;

pub use decimal::DbDecimal;

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};

use crate::config::DatabaseSettings;

/// A pooled connection idle at least this long is pinged before it is handed out (see [`connect`]).
pub const POOL_PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens the pool. For SQLite the file's folder is created, WAL mode and foreign keys are on,
/// and writers wait for each other instead of failing at once.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file_path(&settings.url) {
        if let Some(dir) = Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
        }
        // SQLite alone says only "unable to open database file" (its -wal and -shm files cannot
        // be made): name the cause.
        if Path::new(&path).exists() {
            if let Err(e) = std::fs::OpenOptions::new().append(true).open(&path) {
                return Err(DbErr::Custom(format!(
                    "the SQLite database {path} is read-only ({e}): coopfund must be able to write to it and to its directory"
                )));
            }
        }
    }
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        // Generous: under a burst (close of business beside a busy API) waiting beats failing.
        .acquire_timeout(Duration::from_secs(30))
        // sqlx pings a connection on every checkout by default, and a statement run on the pool (not in a
        // transaction) checks one out: a round trip more per statement (to the server on PostgreSQL, to the
        // connection's thread on SQLite), a third of what a `GET /loans/{id}` cost (benches/README.md,
        // "readfast"). Only a connection idle this long is pinged first: one the server may have dropped
        // since. A hot connection broken under us fails its statement with an I/O error (503
        // `database_unavailable`, nothing written) and is not handed out again.
        .test_before_acquire_if_idle_for(POOL_PING_IF_IDLE_FOR)
        // Every statement is logged at debug level under the target `sqlx::query`: invisible with the default
        // filter, counted by `COOPFUND__LOG__LEVEL=warn,sqlx::query=debug` (benches/README.md, "Statements").
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .create_if_missing(true)
        })
        // A connection whose transaction could not be ended (a COMMIT that failed on a full disk,
        // then a ROLLBACK that failed too) would come back from the pool still holding SQLite's
        // write lock: every later write would be "database is locked" until a restart. Such a
        // connection is closed instead (closing rolls back and frees the lock).
        .map_sqlx_sqlite_before_acquire(|conn, _meta| {
            use sea_orm::sqlx::Connection;
            let clean = !conn.is_in_transaction();
            if !clean {
                tracing::warn!("a database connection still in a transaction was closed");
            }
            Box::pin(async move { Ok(clean) })
        });
    Database::connect(options).await
}

/// Brings the schema up to date; safe to call on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The row of `select` when it reads at most one (a primary or unique key), without sea-orm's `one()`: that
/// appends `LIMIT ?`, which SQLite recompiles the statement for on every execution (see the module docs). For
/// the reads a money command makes on every call.
pub async fn one_by_key<E, C>(
    select: sea_orm::Select<E>,
    conn: &C,
) -> Result<Option<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    Ok(select.all(conn).await?.into_iter().next())
}

/// Whether `db` is SQLite (writers are serialized in-process there).
pub fn is_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

/// Whether the connection or transaction `conn` talks to SQLite.
pub fn is_sqlite_conn<C: sea_orm::ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == DbBackend::Sqlite
}

/// True when `err` is a unique-constraint violation: the caller maps it to a 409 where the
/// query runs, naming the field.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// `SUM(column)` of a BIGINT đồng column as a BIGINT on both backends (PostgreSQL's SUM of a
/// bigint is NUMERIC, which would not decode into `i64`), 0 when there are no rows.
pub fn sum_vnd(column: &str) -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}

/// The file behind a `sqlite://PATH?…` URL, if it is a file database.
pub fn sqlite_file_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::sqlite_file_path;

    #[test]
    fn the_sqlite_file_is_read_from_the_url() {
        assert_eq!(
            sqlite_file_path("sqlite://data/coopfund.db?mode=rwc").as_deref(),
            Some("data/coopfund.db")
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://x/y"), None);
    }
}

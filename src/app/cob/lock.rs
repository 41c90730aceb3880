//! One runner of the close of business at a time (module docs of [`super`]): a transaction-scoped
//! advisory lock on PostgreSQL, an in-process lock per database on SQLite.

use std::sync::{Arc, LazyLock};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::AppResult;

/// The advisory-lock key of the close of business on PostgreSQL ("COB" in ASCII).
const ADVISORY_LOCK_KEY: i64 = 0x434f42;

/// Holds the right to run COB until [`CobLock::release`]d (or, as a last resort, dropped).
pub(super) enum CobLock {
    /// The transaction holding `pg_try_advisory_xact_lock`; its rollback releases the lock.
    Postgres(DatabaseTransaction),
    /// The in-process lock (SQLite).
    #[allow(
        dead_code,
        reason = "the guard is held only for its Drop, which releases the lock"
    )]
    Local(OwnedMutexGuard<()>),
}

impl CobLock {
    /// Releases the lock and returns only once it is free: on PostgreSQL the transaction's
    /// `ROLLBACK` has been answered (see the module docs for why a drop is not enough).
    pub(super) async fn release(self) -> AppResult<()> {
        match self {
            CobLock::Postgres(txn) => txn.rollback().await.map_err(Into::into),
            CobLock::Local(guard) => {
                drop(guard);
                Ok(())
            }
        }
    }
}

/// In-process COB locks, one per database URL (a process may serve several databases, as the
/// test suite does). The scheduled backup takes the same lock, so the two never run at once.
static LOCAL_LOCKS: LazyLock<std::sync::Mutex<std::collections::HashMap<String, Arc<Mutex<()>>>>> =
    LazyLock::new(Default::default);

pub(crate) fn local_lock(url: &str) -> Arc<Mutex<()>> {
    let mut locks = LOCAL_LOCKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    locks.entry(url.to_string()).or_default().clone()
}

pub(super) async fn try_lock(db: &DatabaseConnection, url: &str) -> AppResult<Option<CobLock>> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_try_advisory_xact_lock({ADVISORY_LOCK_KEY}) AS locked"),
            ))
            .await?;
        let locked: bool = row
            .map(|r| r.try_get("", "locked"))
            .transpose()?
            .unwrap_or(false);
        if locked {
            Ok(Some(CobLock::Postgres(txn)))
        } else {
            txn.rollback().await?;
            Ok(None)
        }
    } else {
        Ok(local_lock(url).try_lock_owned().ok().map(CobLock::Local))
    }
}

//! Serializing money commands, so two clerks acting on one loan never produce a wrong balance.
//!
//! Every money command refolds the loan from its events and posts the difference to the books; two
//! commands interleaving on one loan would each post against a stale picture. On PostgreSQL each
//! command locks the loan row (`SELECT … FOR UPDATE`, see [`crate::app::loans`]), so commands on one
//! loan queue in the database and commands on different loans run in parallel. SQLite has no row
//! locks and a deferred transaction that reads before it writes can fail with `SQLITE_BUSY` instead of
//! waiting, so there the money commands also pass through this in-process gate, taken **before** a pooled
//! connection is borrowed (waiters hold no connection), and their first statement is a write.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, MutexGuard};

use crate::store;

/// The in-process writer gate of money commands (a no-op on PostgreSQL). Cheap to clone.
#[derive(Clone, Default)]
pub struct MoneyWriter {
    gate: Arc<Mutex<()>>,
}

impl MoneyWriter {
    /// A new gate; one per process (kept in [`crate::state::AppState`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the gate on SQLite; returns `None` on PostgreSQL, where the row lock serializes.
    pub async fn enter(&self, db: &DatabaseConnection) -> Option<MutexGuard<'_, ()>> {
        if store::is_sqlite(db) {
            Some(self.gate.lock().await)
        } else {
            None
        }
    }
}

//! The one writer path of the embedded database: on SQLite every write of the process goes through
//! one in-process gate per database file, so no writer ever meets another one's lock.
//!
//! **Why.** SQLite has one writer at a time and no row locks. A transaction that reads before it
//! writes (most use cases: load, check, update) holds a read snapshot; if another connection writes
//! in between, its first write fails at once with `SQLITE_BUSY` (5, the lock is taken) or
//! `SQLITE_BUSY_SNAPSHOT` (517, the snapshot is stale), and the busy timeout does not help, since
//! waiting could not make the snapshot current. Before this gate covered every writer, the outbox
//! worker marking mail sent made `submit`, `appraise` and close of business fail with "database is
//! locked" as 500s.
//!
//! **Who goes through it** (a no-op on PostgreSQL, where row locks and MVCC serialize):
//! - every request that may write (`POST`, `PUT`, `PATCH`, `DELETE`), for its whole duration
//!   ([`MoneyWriter::hold`], installed by `crate::http::router`), except the close of business,
//!   which gates its own steps so that a long run does not stop the API;
//! - the close of business (from the API, the CLI or the scheduler): each chunk of loans, each
//!   loan closed alone, the general provision, the digests, the move of the business date;
//! - the outbox worker: each of its updates (never while it talks to the SMTP server);
//! - the money commands, which took this gate before it covered everything: inside a request
//!   that already holds it their [`MoneyWriter::enter`] is a no-op (the gate is re-entrant within
//!   one task).
//!
//! The gate is taken **before** a pooled connection is borrowed (waiters hold no connection). It is
//! keyed by the database file, not by the [`MoneyWriter`] value, so every part of the process on
//! one file (a second `AppState`, a worker built from the settings) shares it. Writes from another
//! process on the same file (the CLI beside `serve`) are not covered: they wait on SQLite's busy
//! timeout and the money commands' first statement is a write, but a read-then-write use case may
//! still meet `SQLITE_BUSY` there; the embedded database is meant for one process.
//!
//! On PostgreSQL each money command locks its loan row (`SELECT … FOR UPDATE`, see
//! [`crate::app::loans`]), so commands on one loan queue in the database and commands on different
//! loans run in parallel.

use std::{
    collections::HashMap,
    future::Future,
    path::PathBuf,
    sync::{Arc, LazyLock},
};

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::store;

/// The gates, one per SQLite database file of the process.
static GATES: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
    LazyLock::new(Default::default);

tokio::task_local! {
    /// Set while the current task runs inside [`MoneyWriter::hold`].
    static HOLDING: ();
}

/// The gate of `db`'s file; `None` on PostgreSQL.
fn gate_of(db: &DatabaseConnection) -> Option<Arc<Mutex<()>>> {
    if !store::is_sqlite(db) {
        return None;
    }
    let file = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_path_buf();
    let mut gates = GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(gates.entry(file).or_default().clone())
}

fn held_by_this_task() -> bool {
    HOLDING.try_with(|_| ()).is_ok()
}

/// Held while writing; dropping it lets the next writer in.
#[must_use = "the gate is released when the guard is dropped"]
pub struct WriterGuard {
    _gate: Option<OwnedMutexGuard<()>>,
}

/// Waits for the writer gate of `db` (SQLite); at once on PostgreSQL or when this task already
/// holds it.
pub async fn enter(db: &DatabaseConnection) -> WriterGuard {
    let gate = match gate_of(db) {
        Some(gate) if !held_by_this_task() => Some(gate.lock_owned().await),
        _ => None,
    };
    WriterGuard { _gate: gate }
}

/// Runs `work` holding the writer gate of `db` (SQLite); a writer path called inside it, in the
/// same task, does not wait for the gate again.
pub async fn hold<F: Future>(db: &DatabaseConnection, work: F) -> F::Output {
    if held_by_this_task() {
        return work.await;
    }
    match gate_of(db) {
        Some(gate) => {
            let _held = gate.lock_owned().await;
            HOLDING.scope((), work).await
        }
        None => work.await,
    }
}

/// The writer gate as the money commands receive it. Cheap to clone; every value on one database
/// file shares that file's gate.
#[derive(Clone, Default)]
pub struct MoneyWriter;

impl MoneyWriter {
    /// A handle on the gates; one per process is kept in [`crate::state::AppState`].
    pub fn new() -> Self {
        Self
    }

    /// See [`enter`].
    pub async fn enter(&self, db: &DatabaseConnection) -> WriterGuard {
        enter(db).await
    }

    /// See [`hold`].
    pub async fn hold<F: Future>(&self, db: &DatabaseConnection, work: F) -> F::Output {
        hold(db, work).await
    }
}

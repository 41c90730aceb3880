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
//! **Group commit** ([`grouped`], issue 14). A money command outside a gated request (the API's money
//! routes, which `crate::http` leaves out of the request-wide gate, and the CLI) does not open and
//! commit a transaction of its own: it joins the file's open *batch*, one transaction that several
//! commands share, and runs inside it under a `SAVEPOINT`. A command that fails rolls back to its
//! savepoint and answers at once (nothing of it is written); the others go on. The batch commits (one
//! WAL sync for all of them, full durability kept) when the command that just ran sees nobody waiting
//! for the gate, or when any other writer enters the gate ([`enter`], [`hold`] commit an open batch
//! first), and **every command of the batch answers only after that commit succeeded**; if the commit
//! fails, every one of them answers the error and none was written. So under concurrent money commands
//! the requests that queued behind the gate while one ran are committed together, and a lone command
//! commits at once as before. Commits run on a spawned task, so a caller that goes away (a client that
//! disconnects) never leaves a batch half-committed or open: a command dropped while it runs leaves a
//! task behind that commits the batch without it.
//!
//! **The disk's sync outside the gate.** A batch runs on a pool of its own
//! ([`store::unsynced_pool_beside`]) whose commit writes the write-ahead log without syncing it, so the
//! gate is let go as soon as the log is written; the sync (`fdatasync` of the log, one for every batch
//! committed since the last, [`Batches::make_durable`]) then runs beside the next batch's commands instead
//! of stopping them. **No command answers before a sync that began after its batch's commit**: full
//! durability is kept, only no longer under the lock. (With `synchronous = FULL` SQLite held its write lock
//! through the sync, ≈ 1.3–3.5 ms on this machine's disk, so a second batch could not even start:
//! benches/README.md, "What bounds repayments on SQLite".) Every other writer keeps `synchronous = FULL`.
//!
//! What a command in a batch may assume: it sees the effects of the commands before it in the batch
//! (it runs on the same transaction), so it must read and write **only through the transaction it is
//! given** — a read through another pooled connection would not see the batch's uncommitted rows.
//!
//! On PostgreSQL each money command locks its loan row (`SELECT … FOR UPDATE`, see
//! [`crate::app::loans`]), so commands on one loan queue in the database and commands on different
//! loans run in parallel.

use std::{
    collections::HashMap,
    future::Future,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, LazyLock,
    },
};

use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::{
    sync::{watch, Mutex, OwnedMutexGuard},
    task::JoinHandle,
};

use crate::{
    error::{AppError, AppResult},
    store,
};

/// The most commands one batch takes before it commits, whoever waits: a bound on what one failed
/// commit can refuse and on how long the first command of a batch waits for its answer.
pub const MAX_BATCH_COMMANDS: usize = 64;

/// The gates, one per SQLite database file of the process.
static GATES: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<Gate>>>> =
    LazyLock::new(Default::default);

tokio::task_local! {
    /// Set while the current task runs inside [`MoneyWriter::hold`] or a command of a batch.
    static HOLDING: ();
}

/// One SQLite file's gate: the lock every writer of the process takes, and the batch it guards.
struct Gate {
    lock: Arc<Mutex<Pending>>,
    /// Writers waiting for `lock` now: a command that finds none commits its batch at once.
    waiting: AtomicUsize,
    /// Batches committed so far (the tests read it; the metric `sqlite_group_commit_commands` says how
    /// many commands each carried).
    commits: AtomicUsize,
    /// The batches' own pool and the log's sync.
    batches: Batches,
}

impl Gate {
    fn new(file: PathBuf) -> Self {
        Gate {
            lock: Default::default(),
            waiting: AtomicUsize::new(0),
            commits: AtomicUsize::new(0),
            batches: Batches {
                pool: std::sync::Mutex::new(None),
                file,
                committed: AtomicU64::new(0),
                synced: AtomicU64::new(0),
                syncing: Mutex::new(()),
                syncs: AtomicUsize::new(0),
            },
        }
    }
}

/// Closes the batches' pool `batches` once `main`, the pool it was made beside, closes (or is dropped):
/// whoever closes the database expects the file to be let go.
fn close_with(main: &DatabaseConnection, batches: &DatabaseConnection) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let closed = main.get_sqlite_connection_pool().close_event();
    let pool = batches.get_sqlite_connection_pool().clone();
    runtime.spawn(async move {
        closed.await;
        pool.close().await;
    });
}

/// The group commit's batches on one file: the pool they commit on without syncing, and the sync of the
/// write-ahead log that makes them durable before any of their commands answers.
struct Batches {
    /// The pool batches commit on ([`store::unsynced_pool_beside`]), made beside the first main pool that
    /// needed it and closed with that pool; made again beside the next one if it was.
    pool: std::sync::Mutex<Option<DatabaseConnection>>,
    /// The database file (its log is `<file>-wal`).
    file: PathBuf,
    /// Batches committed on `db` so far: the number of the last one.
    committed: AtomicU64,
    /// Every batch up to this number is durable: `committed` as it stood when the last sync began.
    synced: AtomicU64,
    /// Held by the one task syncing; who waits for it finds its batch covered, or syncs next (for all
    /// the batches committed meanwhile at once).
    syncing: Mutex<()>,
    /// Syncs done (the tests read it).
    syncs: AtomicUsize,
}

impl Batches {
    /// The open pool of the batches, made beside `main` if there is none; `main` itself for an in-memory
    /// database (its batches then commit with the main pool's full sync, and there is no log to sync).
    fn pool(&self, main: &DatabaseConnection) -> DatabaseConnection {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(open) = pool.as_ref().filter(|open| !is_closed(open)) {
            return open.clone();
        }
        let Some(fresh) = store::unsynced_pool_beside(main) else {
            return main.clone();
        };
        close_with(main, &fresh);
        *pool = Some(fresh.clone());
        fresh
    }

    /// Returns once batch number `batch` is on disk, syncing the log if no sync that began after its
    /// commit has ended yet. Syncs are not queued per batch: one sync covers every batch committed
    /// before it began.
    async fn make_durable(&self, batch: u64) -> AppResult<()> {
        if self.synced.load(Ordering::SeqCst) >= batch {
            return Ok(());
        }
        let _turn = self.syncing.lock().await;
        if self.synced.load(Ordering::SeqCst) >= batch {
            return Ok(());
        }
        // Read before the sync begins: every batch counted here has written its log already.
        let covers = self.committed.load(Ordering::SeqCst);
        let started = std::time::Instant::now();
        store::sync_write_ahead_log(&self.file)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, file = %self.file.display(), "syncing the write-ahead log failed");
                AppError::internal(anyhow::anyhow!(
                    "syncing the database's write-ahead log failed: {err}"
                ))
            })?;
        metrics::histogram!("sqlite_wal_sync_seconds").record(started.elapsed().as_secs_f64());
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.synced.fetch_max(covers, Ordering::SeqCst);
        Ok(())
    }
}

/// The batch of money commands not yet committed, if one is open.
#[derive(Default)]
struct Pending(Option<Batch>);

/// One transaction shared by the money commands that queued together ([`grouped`]).
struct Batch {
    txn: DatabaseTransaction,
    commands: usize,
    /// Set once, when the batch committed (`Ok`) or failed to (`Err`, the database's error).
    outcome: watch::Sender<Option<Outcome>>,
}

/// How a batch ended: committed (with its number among the file's batches), or the database error that ended it (every command of it answers that).
type Outcome = Result<u64, Arc<sea_orm::DbErr>>;

/// Counts a writer as waiting for the gate until it is dropped (also when the wait is cancelled).
struct Waiting<'g>(&'g AtomicUsize);

impl<'g> Waiting<'g> {
    fn new(count: &'g AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    async fn acquire(&self) -> OwnedMutexGuard<Pending> {
        let _waiting = Waiting::new(&self.waiting);
        self.lock.clone().lock_owned().await
    }
}

/// The gate of `db`'s file; `None` on PostgreSQL.
fn gate_of(db: &DatabaseConnection) -> Option<Arc<Gate>> {
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
    Some(
        gates
            .entry(file.clone())
            .or_insert_with(|| Arc::new(Gate::new(file)))
            .clone(),
    )
}

/// Whether the current task runs inside [`hold`] (or a command of a batch): a writer path called
/// there does not wait for the gate again.
pub fn held_by_this_task() -> bool {
    HOLDING.try_with(|_| ()).is_ok()
}

/// Commits the open batch, if any, and tells its commands how it went.
async fn commit_batch(gate: &Gate, pending: &mut Pending) {
    let Some(batch) = pending.0.take() else {
        return;
    };
    let commands = batch.commands;
    gate.commits.fetch_add(1, Ordering::Relaxed);
    metrics::histogram!("sqlite_group_commit_commands").record(commands as f64);
    let outcome = batch
        .txn
        .commit()
        .await
        .map_err(Arc::new)
        .map(|()| gate.batches.committed.fetch_add(1, Ordering::SeqCst) + 1);
    match &outcome {
        Ok(_) => tracing::debug!(commands, "group commit"),
        Err(err) => tracing::error!(commands, error = %err, "group commit failed"),
    }
    batch.outcome.send_replace(Some(outcome));
}

/// Opens a new batch's transaction on the batches' pool; on the main pool (synced at commit) if the
/// batches' pool was closed just now with the pool it was made beside.
async fn begin_batch(gate: &Gate, main: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let pool = gate.batches.pool(main);
    match pool.begin().await {
        Ok(txn) => Ok(txn),
        Err(_) if is_closed(&pool) => Ok(main.begin().await?),
        Err(err) => Err(err.into()),
    }
}

/// Whether the SQLite pool `db` was closed.
fn is_closed(db: &DatabaseConnection) -> bool {
    db.get_sqlite_connection_pool().is_closed()
}

/// `guard` with no batch open: an open one is committed first (see [`commit_now`]).
async fn without_batch(
    gate: &Arc<Gate>,
    guard: OwnedMutexGuard<Pending>,
) -> OwnedMutexGuard<Pending> {
    if guard.0.is_none() {
        return guard;
    }
    match commit_now(gate, guard).await {
        Ok(guard) => guard,
        // The task panicked and released the gate as it unwound: take it again.
        Err(_) => gate.lock.clone().lock_owned().await,
    }
}

/// Commits the open batch held by `guard` on a task of its own, so that the caller going away cannot
/// cut the commit short; the task hands the gate back (dropping the handle lets it go once committed).
fn commit_now(
    gate: &Arc<Gate>,
    guard: OwnedMutexGuard<Pending>,
) -> JoinHandle<OwnedMutexGuard<Pending>> {
    let committer = gate.clone();
    tokio::spawn(async move {
        let mut guard = guard;
        commit_batch(&committer, &mut guard).await;
        guard
    })
}

/// Commits the batch behind whoever waits for the gate now (the gate is fair: they run first).
fn commit_later(gate: Arc<Gate>) {
    tokio::spawn(async move {
        let mut guard = gate.lock.clone().lock_owned().await;
        commit_batch(&gate, &mut guard).await;
    });
}

/// Held while writing; dropping it lets the next writer in.
#[must_use = "the gate is released when the guard is dropped"]
pub struct WriterGuard {
    _gate: Option<OwnedMutexGuard<Pending>>,
}

/// Waits for the writer gate of `db` (SQLite), committing the open batch of money commands first;
/// at once on PostgreSQL or when this task already holds it.
pub async fn enter(db: &DatabaseConnection) -> WriterGuard {
    let gate = match gate_of(db) {
        Some(gate) if !held_by_this_task() => {
            let guard = gate.acquire().await;
            Some(without_batch(&gate, guard).await)
        }
        _ => None,
    };
    WriterGuard { _gate: gate }
}

/// Runs `work` holding the writer gate of `db` (SQLite; the open batch of money commands committed
/// first); a writer path called inside it, in the same task, does not wait for the gate again.
pub async fn hold<F: Future>(db: &DatabaseConnection, work: F) -> F::Output {
    if held_by_this_task() {
        return work.await;
    }
    match gate_of(db) {
        Some(gate) => {
            let guard = gate.acquire().await;
            let _held = without_batch(&gate, guard).await;
            HOLDING.scope((), work).await
        }
        None => work.await,
    }
}

/// Whether money commands on `db` run in batches ([`Member`]): SQLite, outside a gated request.
pub fn groups_commits(db: &DatabaseConnection) -> bool {
    store::is_sqlite(db) && !held_by_this_task()
}

/// Rolls the whole batch back when a command's savepoint could not be released or undone: the batch
/// must not commit with that command's writes in an unknown state. Every command of it answers `err`.
async fn abandon(pending: &mut Pending, err: sea_orm::DbErr) -> AppError {
    tracing::error!(error = %err, "a savepoint of the group commit failed; the batch is rolled back");
    let answer = AppError::from_shared_db_err(&err);
    if let Some(batch) = pending.0.take() {
        if let Err(rollback) = batch.txn.rollback().await {
            tracing::error!(error = %rollback, "rolling the batch back failed");
        }
        batch.outcome.send_replace(Some(Err(Arc::new(err))));
    }
    answer
}

/// One money command in the group commit of its SQLite file (see the module docs): [`Member::join`]
/// waits for the gate and opens the command's savepoint in the batch's transaction ([`Member::txn`]);
/// the command runs on it inside [`Member::run`]; [`Member::finish`] releases or undoes the savepoint,
/// lets the next command in, and answers once the batch has committed. Dropped before `finish` (its
/// task cancelled), it undoes its savepoint and leaves a task that commits the rest of the batch.
pub struct Member {
    // Dropped in this order: the savepoint's rollback is queued before the gate is let go.
    savepoint: DatabaseTransaction,
    turn: Turn,
    committed: watch::Receiver<Option<Outcome>>,
}

/// A member's hold on the gate. Let go without [`Turn::end`] (the command's task cancelled), it lets
/// the next writer in and leaves a task that commits the batch behind it.
struct Turn {
    guard: Option<OwnedMutexGuard<Pending>>,
    gate: Arc<Gate>,
}

impl Turn {
    /// The gate, taken from the turn so that dropping the turn does nothing more.
    fn end(mut self) -> Option<OwnedMutexGuard<Pending>> {
        self.guard.take()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            drop(guard);
            commit_later(self.gate.clone());
        }
    }
}

impl Member {
    /// Waits for the gate of `db` (SQLite) and joins the open batch, or opens one.
    pub async fn join(db: &DatabaseConnection) -> AppResult<Member> {
        let gate = gate_of(db).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("group commit is for SQLite only"))
        })?;
        let mut guard = gate.acquire().await;
        let batch = match guard.0.take() {
            Some(batch) => batch,
            None => Batch {
                txn: begin_batch(&gate, db).await?,
                commands: 0,
                outcome: watch::channel(None).0,
            },
        };
        let batch = guard.0.insert(batch);
        batch.commands += 1;
        let committed = batch.outcome.subscribe();
        let savepoint = batch.txn.begin().await?;
        Ok(Member {
            savepoint,
            turn: Turn {
                guard: Some(guard),
                gate,
            },
            committed,
        })
    }

    /// The transaction the command must run on (its savepoint in the batch).
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.savepoint
    }

    /// Runs `work` as this command: a writer path it calls does not wait for the gate again.
    pub async fn run<F: Future>(&self, work: F) -> F::Output {
        HOLDING.scope((), work).await
    }

    /// Ends the command with its `result`: an error undoes its savepoint and is returned at once;
    /// a value is returned once the batch has committed (an error if the commit failed).
    pub async fn finish<T>(self, result: AppResult<T>) -> AppResult<T> {
        let Member {
            savepoint,
            turn,
            mut committed,
        } = self;
        let gate = turn.gate.clone();
        let durability = gate.clone();
        let Some(mut guard) = turn.end() else {
            return Err(AppError::internal(anyhow::anyhow!("the gate was let go")));
        };
        let result = match result {
            Ok(value) => match savepoint.commit().await {
                Ok(()) => Ok(value),
                Err(err) => Err(abandon(&mut guard, err).await),
            },
            Err(refused) => match savepoint.rollback().await {
                Ok(()) => Err(refused),
                Err(err) => {
                    abandon(&mut guard, err).await;
                    Err(refused)
                }
            },
        };
        // Commit now unless others are queued for the gate: they join this batch, and a task queued
        // after them commits it (the gate is fair).
        let full = guard
            .0
            .as_ref()
            .is_some_and(|batch| batch.commands >= MAX_BATCH_COMMANDS);
        if full || gate.waiting.load(Ordering::SeqCst) == 0 {
            // Not awaited: the answer waits for the outcome below, the gate goes with the task.
            drop(commit_now(&gate, guard));
        } else {
            drop(guard);
            commit_later(gate);
        }
        let value = result?;
        let outcome = match committed.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone(),
            Err(_) => None,
        };
        match outcome {
            Some(Ok(batch)) => {
                durability.batches.make_durable(batch).await?;
                Ok(value)
            }
            Some(Err(err)) => Err(AppError::from_shared_db_err(&err)),
            None => Err(AppError::internal(anyhow::anyhow!(
                "the group commit was abandoned"
            ))),
        }
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

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;
    use crate::{config::DatabaseSettings, error::ErrorKind};

    async fn scratch(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        let db = store::connect(&DatabaseSettings {
            url,
            max_connections: 4,
        })
        .await
        .expect("scratch database");
        db.execute_unprepared("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)")
            .await
            .expect("table");
        db
    }

    async fn scratch_again(dir: &tempfile::TempDir) -> DatabaseConnection {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("w.db").display());
        store::connect(&DatabaseSettings {
            url,
            max_connections: 4,
        })
        .await
        .expect("the scratch database again")
    }

    async fn insert(txn: &DatabaseTransaction, x: i64) -> AppResult<()> {
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO t (x) VALUES ($1)",
            [x.into()],
        ))
        .await?;
        Ok(())
    }

    async fn rows(db: &DatabaseConnection) -> Vec<i64> {
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT x FROM t ORDER BY x",
            ))
            .await
            .expect("rows");
        rows.iter()
            .map(|row| row.try_get::<i64>("", "x").expect("x"))
            .collect()
    }

    /// One command of a batch: inserts `x`, then fails when `refuse` (after writing).
    async fn command(db: DatabaseConnection, x: i64, refuse: bool) -> AppResult<i64> {
        let member = Member::join(&db).await?;
        let txn = member.txn();
        let result = member
            .run(async {
                insert(txn, x).await?;
                tokio::task::yield_now().await;
                if refuse {
                    return Err(AppError::new(
                        ErrorKind::Rule,
                        "refused",
                        crate::error::Localized::new("từ chối", "refused"),
                    ));
                }
                Ok(x)
            })
            .await;
        member.finish(result).await
    }

    #[tokio::test]
    /// Concurrent commands share commits; a refused one leaves nothing and does not fail the others,
    /// and every accepted one is committed when it answers.
    async fn commands_of_a_batch_commit_together_and_a_refused_one_writes_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let db = scratch(&dir).await;
        let tasks: Vec<_> = (0..40)
            .map(|x| tokio::spawn(command(db.clone(), x, x % 7 == 3)))
            .collect();
        let mut accepted = Vec::new();
        for (x, task) in (0..40).zip(tasks) {
            match task.await.expect("task") {
                Ok(value) => {
                    assert_eq!(value, x);
                    // Answered only once committed: another connection sees it.
                    assert!(
                        rows(&db).await.contains(&x),
                        "{x} answered before its commit"
                    );
                    accepted.push(x);
                }
                Err(err) => {
                    assert_eq!(x % 7, 3, "{x} failed: {err:?}");
                    assert_eq!(err.code, "refused");
                }
            }
        }
        let expected: Vec<i64> = (0..40).filter(|x| x % 7 != 3).collect();
        assert_eq!(accepted, expected);
        // They queued together, so they shared commits.
        let commits = gate_of(&db)
            .expect("sqlite")
            .commits
            .load(Ordering::Relaxed);
        assert!(
            (1..expected.len()).contains(&commits),
            "{commits} commits for {} commands",
            expected.len()
        );
        assert_eq!(rows(&db).await, expected);
    }

    #[tokio::test]
    /// Batches commit on a pool that does not sync at commit (`synchronous = NORMAL`, 1) while every
    /// other connection keeps `FULL` (2); a command answers only once a sync of the log that began after
    /// its batch's commit has ended, and concurrent batches share syncs.
    async fn a_command_answers_only_after_the_log_sync_that_covers_its_batch() {
        let dir = tempfile::tempdir().expect("dir");
        let db = scratch(&dir).await;
        let gate = gate_of(&db).expect("sqlite");
        let batches = &gate.batches;
        let synchronous = |conn: DatabaseConnection| async move {
            let row = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    "PRAGMA synchronous",
                ))
                .await
                .expect("pragma")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("value")
        };
        assert_eq!(
            synchronous(db.clone()).await,
            2,
            "the main pool syncs at commit"
        );
        assert_eq!(synchronous(batches.pool(&db)).await, 1, "batches do not");

        let tasks: Vec<_> = (0..30)
            .map(|x| {
                let db = db.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    let member = Member::join(&db).await.expect("join");
                    insert(member.txn(), x).await.expect("insert");
                    let batches = &gate.batches;
                    // This command's batch commits after every batch counted now.
                    let committed_before = batches.committed.load(Ordering::SeqCst);
                    member.finish(Ok(x)).await.expect("answered");
                    let synced = batches.synced.load(Ordering::SeqCst);
                    assert!(
                        synced > committed_before,
                        "{x} answered with batches through {synced} synced, its own after {committed_before}"
                    );
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        let commits = batches.committed.load(Ordering::SeqCst);
        let syncs = batches.syncs.load(Ordering::SeqCst);
        assert_eq!(batches.synced.load(Ordering::SeqCst), commits);
        assert!(
            (1..=commits as usize).contains(&syncs),
            "{syncs} syncs for {commits} batches"
        );
        assert_eq!(rows(&db).await, (0..30).collect::<Vec<_>>());

        // Closing the database closes the batches' pool too (the file is let go), and a pool opened on
        // the file afterwards gets a new one.
        let batch_pool = batches.pool(&db);
        db.close().await.expect("close");
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while !is_closed(&batch_pool) {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the batches' pool closes with the database");
        let reopened = scratch_again(&dir).await;
        assert!(!is_closed(&batches.pool(&reopened)));
        let answered = command(reopened.clone(), 30, false)
            .await
            .expect("a batch after reopening");
        assert_eq!(answered, 30);
    }

    #[tokio::test]
    /// A command whose task is dropped while it holds the batch undoes its writes; the commands queued
    /// behind it still commit, and a writer entering the gate afterwards finds no batch left open.
    async fn a_command_dropped_midway_writes_nothing_and_the_others_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let db = scratch(&dir).await;
        let first = Member::join(&db).await.expect("join");
        insert(first.txn(), 1).await.expect("insert");
        let second = tokio::spawn(command(db.clone(), 2, false));
        // Let the second queue for the gate, then drop the first without finishing it.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(first);
        assert_eq!(second.await.expect("task").expect("second"), 2);
        let _gate = enter(&db).await;
        assert_eq!(rows(&db).await, vec![2]);
    }

    #[tokio::test]
    /// A writer entering the gate commits the open batch first: a command left in it (others were
    /// waiting) is never held back by a writer that does not join batches.
    async fn entering_the_gate_commits_the_open_batch_first() {
        let dir = tempfile::tempdir().expect("dir");
        let db = scratch(&dir).await;
        let gate = gate_of(&db).expect("sqlite");
        let member = Member::join(&db).await.expect("join");
        insert(member.txn(), 7).await.expect("insert");
        // Pretend a writer waits, so the command leaves the batch open for it.
        let waiting = Waiting::new(&gate.waiting);
        let answered = tokio::spawn(member.finish(Ok(7)));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(waiting);
        let guard = enter(&db).await;
        assert_eq!(rows(&db).await, vec![7]);
        drop(guard);
        assert_eq!(answered.await.expect("task").expect("committed"), 7);
    }
}

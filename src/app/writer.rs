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
//! **Group commit** ([`Member`], issue 14). A money command outside a gated request (the API's money
//! routes, which `crate::http` leaves out of the request-wide gate, and the CLI) does not open and
//! commit a transaction of its own: it joins the file's open *batch*, one transaction that several
//! commands share, and runs inside it under a `SAVEPOINT`. A command that fails rolls back to its
//! savepoint and answers at once (nothing of it is written); the others go on. The savepoints cost no
//! round trip of their own (each is a hand-off to the connection's thread, the cost that matters here,
//! see [`crate::app::deferred_writes`]): a command's end releases its savepoint and opens the next
//! command's in the same text as its last kept writes, and the first command of a batch runs with none,
//! since its refusal can roll the whole batch back (it holds nothing else). The batch commits (one
//! WAL sync for all of them, full durability kept) when the command that just ran sees nobody waiting
//! for the gate, or when any other writer enters the gate ([`enter`], [`hold`] commit an open batch
//! first), and **every command of the batch answers only after that commit succeeded**; if the commit
//! fails, every one of them answers the error and none was written. So under concurrent money commands
//! the requests that queued behind the gate while one ran are committed together, and a lone command
//! commits at once as before. Commits run on a spawned task, so a caller that goes away (a client that
//! disconnects) never leaves a batch half-committed or open: a command dropped while it runs leaves a
//! task behind that commits the batch without it.
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
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, LazyLock,
    },
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::{
    sync::{watch, Mutex, OwnedMutexGuard},
    task::JoinHandle,
};

use crate::{
    app::deferred_writes,
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
#[derive(Default)]
struct Gate {
    lock: Arc<Mutex<Pending>>,
    /// Writers waiting for `lock` now: a command that finds none commits its batch at once.
    waiting: AtomicUsize,
    /// Batches committed so far (the tests read it; the metric `sqlite_group_commit_commands` says how
    /// many commands each carried).
    commits: AtomicUsize,
}

/// The batch of money commands not yet committed, if one is open.
#[derive(Default)]
struct Pending(Option<Batch>);

/// One transaction shared by the money commands that queued together ([`Member`]).
struct Batch {
    txn: DatabaseTransaction,
    commands: usize,
    /// Whether the savepoint [`SAVEPOINT`] is open with nothing written since it was opened: the next
    /// command's writes go under it, and its refusal rolls back to it. A new batch has none (its first
    /// command's refusal rolls the whole batch back, which holds nothing else).
    fresh_savepoint: bool,
    /// Set once, when the batch committed (`Ok`) or failed to (`Err`, the database's error).
    outcome: watch::Sender<Option<Outcome>>,
}

/// How a batch ended: committed, or the database error that ended it (every command of it answers that).
type Outcome = Result<(), Arc<sea_orm::DbErr>>;

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
    Some(gates.entry(file).or_default().clone())
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
    let started = std::time::Instant::now();
    let outcome = batch.txn.commit().await.map_err(Arc::new);
    let commit_us = started.elapsed().as_micros() as u64;
    match &outcome {
        Ok(()) => tracing::debug!(commands, commit_us, "group commit"),
        Err(err) => tracing::error!(commands, error = %err, "group commit failed"),
    }
    batch.outcome.send_replace(Some(outcome));
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
    turn: Turn,
    committed: watch::Receiver<Option<Outcome>>,
    /// What the command sends once it succeeded ([`RELEASE_AND_REOPEN`] or [`OPEN`]), with its last writes
    /// when it can ([`deferred_writes::scope_closing`]).
    closing: &'static str,
    /// Whether the command's last writes carried `closing` ([`Member::run`]).
    closed: AtomicBool,
    /// When the command took the gate: its debug log says how long it held it (benches/README.md).
    entered: std::time::Instant,
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
            // The command's task was cancelled while it held the gate: undo what it wrote before anyone
            // else runs in the batch (a task, since a drop cannot wait), then commit the rest behind them.
            let gate = self.gate.clone();
            tokio::spawn(async move {
                let mut guard = guard;
                if let Err(err) = undo_command(&mut guard).await {
                    abandon(&mut guard, err).await;
                }
                drop(guard);
                commit_later(gate);
            });
        }
    }
}

/// The savepoint each command of a batch runs under (one name: a command opens it, or finds it opened by the
/// command before it, and releases it at its end).
const SAVEPOINT: &str = "coopfund_command";

/// What a command that found a fresh savepoint sends once it succeeded: its writes made part of the batch,
/// and a fresh savepoint for the command after it.
const RELEASE_AND_REOPEN: &str = "RELEASE coopfund_command;\nSAVEPOINT coopfund_command";

/// What the first command of a batch (run with no savepoint) sends once it succeeded: a fresh savepoint for
/// the command after it.
const OPEN: &str = "SAVEPOINT coopfund_command";

/// Undoes the writes of the command that holds the gate in `pending` and failed or was dropped: back to its
/// fresh savepoint (which stays open, empty, for the next command), or, for the first command of a batch,
/// the whole batch rolled back (it held nothing else).
async fn undo_command(pending: &mut Pending) -> Result<(), sea_orm::DbErr> {
    match pending.0.take() {
        None => Ok(()),
        Some(batch) if batch.fresh_savepoint => {
            let undone = batch
                .txn
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}"))
                .await;
            pending.0 = Some(batch);
            undone.map(|_| ())
        }
        // Nobody else is in the batch: its only command's answer is the refusal, not the batch's outcome.
        Some(batch) => batch.txn.rollback().await,
    }
}

impl Member {
    /// Waits for the gate of `db` (SQLite) and joins the open batch, or opens one.
    pub async fn join(db: &DatabaseConnection) -> AppResult<Member> {
        let gate = gate_of(db).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("group commit is for SQLite only"))
        })?;
        let mut guard = gate.acquire().await;
        let entered = std::time::Instant::now();
        let batch = match guard.0.take() {
            Some(mut batch) => {
                // Left without a fresh savepoint (its last command's own end did not open one): open it now.
                if !batch.fresh_savepoint {
                    if let Err(err) = batch.txn.execute_unprepared(OPEN).await {
                        guard.0 = Some(batch);
                        return Err(abandon(&mut guard, err).await);
                    }
                    batch.fresh_savepoint = true;
                }
                batch
            }
            None => Batch {
                txn: db.begin().await?,
                commands: 0,
                fresh_savepoint: false,
                outcome: watch::channel(None).0,
            },
        };
        let batch = guard.0.insert(batch);
        batch.commands += 1;
        let committed = batch.outcome.subscribe();
        let closing = if batch.fresh_savepoint {
            RELEASE_AND_REOPEN
        } else {
            OPEN
        };
        Ok(Member {
            turn: Turn {
                guard: Some(guard),
                gate,
            },
            committed,
            closing,
            closed: AtomicBool::new(false),
            entered,
        })
    }

    /// The transaction the command must run on: the batch's, under the command's savepoint (or, for the
    /// batch's first command, none: a refusal rolls the batch back).
    pub fn txn(&self) -> &DatabaseTransaction {
        match self.turn.guard.as_deref() {
            Some(Pending(Some(batch))) => &batch.txn,
            // A member holds the gate and its batch from `join` to `finish`.
            _ => unreachable!("a member holds its batch until it finishes"),
        }
    }

    /// Runs `work` as this command: a writer path it calls does not wait for the gate again, and its writes
    /// that need nothing back are kept and sent together ([`deferred_writes`]), the savepoint's release
    /// with the last of them.
    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: Future<Output = AppResult<T>>,
    {
        let (result, closed) = HOLDING
            .scope(
                (),
                deferred_writes::scope_closing(self.txn(), Some(self.closing), work),
            )
            .await;
        self.closed.store(closed, Ordering::SeqCst);
        result
    }

    /// Ends the command with its `result`: an error undoes its writes and is returned at once; a value is
    /// returned once the batch has committed (an error if the commit failed).
    pub async fn finish<T>(self, result: AppResult<T>) -> AppResult<T> {
        let Member {
            turn,
            mut committed,
            closing,
            closed,
            entered,
        } = self;
        let gate = turn.gate.clone();
        let Some(mut guard) = turn.end() else {
            return Err(AppError::internal(anyhow::anyhow!("the gate was let go")));
        };
        let result = match result {
            Ok(value) if closed.load(Ordering::SeqCst) => {
                if let Some(batch) = guard.0.as_mut() {
                    batch.fresh_savepoint = true;
                }
                Ok(value)
            }
            // Its last writes could not carry the savepoint's release (they had counts to check, or there
            // were none): released now when another command will follow in this batch, else left to the
            // commit, which releases every savepoint.
            Ok(value) => match guard.0.as_mut() {
                Some(batch) if gate.waiting.load(Ordering::SeqCst) > 0 => {
                    match batch.txn.execute_unprepared(closing).await {
                        Ok(_) => {
                            batch.fresh_savepoint = true;
                            Ok(value)
                        }
                        Err(err) => Err(abandon(&mut guard, err).await),
                    }
                }
                Some(batch) => {
                    batch.fresh_savepoint = false;
                    Ok(value)
                }
                None => Ok(value),
            },
            Err(refused) => {
                if let Err(err) = undo_command(&mut guard).await {
                    abandon(&mut guard, err).await;
                }
                Err(refused)
            }
        };
        let gate_held_us = entered.elapsed().as_micros() as u64;
        tracing::debug!(gate_held_us, "command of a group commit done");
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
        let answer = match committed.wait_for(Option::is_some).await.as_deref() {
            Ok(Some(Ok(()))) => Ok(value),
            Ok(Some(Err(err))) => Err(AppError::from_shared_db_err(err)),
            Ok(None) | Err(_) => Err(AppError::internal(anyhow::anyhow!(
                "the group commit was abandoned"
            ))),
        };
        answer
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

    /// One command of a batch whose write is kept and sent at its end (`deferred_writes`): inserts `x`,
    /// then fails when `refuse`.
    async fn kept_command(member: &Member, x: i64, refuse: bool) -> AppResult<i64> {
        let txn = member.txn();
        member
            .run(async {
                deferred_writes::execute(
                    txn,
                    Statement::from_sql_and_values(
                        txn.get_database_backend(),
                        "INSERT INTO t (x) VALUES (?)",
                        [x.into()],
                    ),
                    deferred_writes::Changes::Any,
                )
                .await?;
                // A write sent at once too, so that a refusal has something sent to undo.
                insert(txn, x + 100).await?;
                if refuse {
                    return Err(AppError::internal(anyhow::anyhow!("refused")));
                }
                Ok(x)
            })
            .await
    }

    #[tokio::test]
    /// The savepoints: the first command of a batch runs with none, and refused it rolls the batch back; a
    /// later command of the batch runs under the savepoint its predecessor opened with its last writes, and
    /// refused it undoes only its own writes.
    async fn a_refused_command_undoes_only_its_own_writes_first_in_its_batch_or_not() {
        let dir = tempfile::tempdir().expect("dir");
        let db = scratch(&dir).await;
        let gate = gate_of(&db).expect("sqlite");

        let first = Member::join(&db).await.expect("join");
        let result = kept_command(&first, 1, true).await;
        assert!(first.finish(result).await.is_err());

        let second = Member::join(&db).await.expect("join");
        // Pretend a writer waits, so that the second command leaves the batch open for the third.
        let waiting = Waiting::new(&gate.waiting);
        let result = kept_command(&second, 2, false).await;
        // Answered once the batch commits: later, on a task of its own.
        let second = tokio::spawn(second.finish(result));
        // The gate is fair: this command queued before the task that commits the batch, so it joins it.
        let third = Member::join(&db).await.expect("join");
        assert_eq!(gate.commits.load(Ordering::Relaxed), 0, "one batch so far");
        let result = kept_command(&third, 3, true).await;
        assert!(third.finish(result).await.is_err());
        drop(waiting);
        assert_eq!(second.await.expect("task").expect("second"), 2);
        let _gate = enter(&db).await;
        assert_eq!(rows(&db).await, vec![2, 102]);
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

//! The close of business in bulk: one day closed for a chunk of cooperatives in one transaction,
//! with a handful of set-based queries instead of round trips per loan.
//!
//! For a chunk: load the cooperatives' open loans, all their posted books, snapshots and transactions
//! in one query each, fold every loan with the engine (on a blocking thread), give every loan of a
//! cooperative the group of its worst loan (DOMAIN.md §8: "all loans of one cooperative take the group
//! of its worst loan") and compute each loan's difference; then, in the chunk's transaction, lock the
//! loans (`FOR UPDATE` on PostgreSQL; a first write on SQLite), post the differences (entries inserted
//! together, lines inserted together), cache the balances of the loans whose balances changed (one
//! statement, with the as-of date of the few unchanged rows the fund's marks do not cover; the others are
//! not written: `ledger::effective_balances_as_of`), and mark the chunk's cooperatives closed for the day
//! on the fund's row (`fund::mark_cooperatives_closed`). Notices are queued
//! from the same folds. A loan folds only the events after its latest snapshot (issue 14): the day
//! advances the snapshot instead of replaying the loan's whole history.
//!
//! The reading and folding of a chunk (`prepare_chunk`) runs while the chunks before it are written
//! (`super::cob`, two chunks ahead), and on PostgreSQL two chunks are written at once (`ChunkTurn`); the
//! write uses what was read ahead only if the loans it locks are the rows that were read (`Prepared`), and
//! reads and folds under its locks otherwise. A chunk that fails is rolled back
//! whole and closed again loan by loan by [`super::cob`], which isolates and reports the loan at fault.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    classification::DebtGroup,
    snapshot::{AdvanceError, FoldSnapshot},
    AccountBalances, HolidayCalendar, LoanEvent, LoanState,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::{
    chains::ChainHeads,
    cob::{self, LoanDayCounts},
    ledger::{self, LoanEntry, Posting, Refolded},
    loan_engine::{self, FoldTransaction},
    policy::Policy,
    Caller,
};
use crate::{
    app::context::AppCtx,
    error::{AppError, AppResult},
    store::{
        self,
        entities::{loan, loan_snapshot, loan_transaction},
    },
};

/// What one chunk produced: per-loan counts (for digests and totals) and the notices queued for the chunk.
pub(crate) struct ChunkOutcome {
    pub(crate) loans: Vec<LoanDayCounts>,
    /// The chunk's notices newly queued (they are queued together, so not counted per loan).
    pub(crate) notices_queued: i32,
    /// The loans whose rows the write left as they were, for the fund's mark to cover ([`close_chunk`]).
    left_unwritten: Vec<i64>,
}

/// A chunk read and folded ahead of its write (issue 14: the next chunks are prepared while the current one
/// is written), outside any write transaction and without locks. Used only if the loans locked by the write
/// are exactly the loans read here, each at the version read here: every command that changes a loan's row
/// (its events, books, snapshots or contract) moves its `version` in the same transaction
/// (`ledger::cache_balances`, the loan commands). The writes of a loan row that keep its version are the
/// close's own mark of `balances_as_of` on the loans whose balances did not change
/// (`ledger::CacheRow::AsOfOnly`), which touches only the chunks being written, never one read ahead
/// (chunks' cooperatives are disjoint), and `fund::settle_cached_through`, never during a close. So a loan
/// touched in between makes the write read and fold the chunk again under its locks; the lock reads only
/// `(id, version)` (issue 14, alloc: the rows were read twice).
pub(crate) struct Prepared {
    /// The open loans as read, `(id, version)` in id order.
    loans: Vec<LoanVersion>,
    plan: ChunkPlan,
}

/// A loan's id and the version of its row: what the write's lock compares with what was read ahead.
type LoanVersion = (i64, i32);

/// Everything a chunk's close reads before it decides anything: its open loans and what their folds and
/// differences need.
struct ChunkInputs {
    loans: Vec<loan::Model>,
    posted: HashMap<i64, AccountBalances>,
    names: BTreeMap<i64, String>,
    calendar: HolidayCalendar,
    /// The latest usable snapshot of each loan that has one.
    snapshots: HashMap<i64, FoldSnapshot>,
    /// For the loans with a snapshot: their transactions dated on or after the oldest snapshot, and reversals.
    pending: HashMap<i64, Vec<FoldTransaction>>,
    /// For the loans without: all their transactions.
    transactions: HashMap<i64, Vec<FoldTransaction>>,
}

/// What a chunk's close writes, decided from its [`ChunkInputs`] by pure computation (no database).
struct ChunkPlan {
    /// Each loan folded to the start of the next day with its cooperative's (worst) group, and whether its
    /// cached balances change.
    folded: Vec<(loan::Model, LoanState, DebtGroup, bool)>,
    snapshots: Vec<loan_snapshot::ActiveModel>,
    entries: Vec<LoanEntry>,
    names: BTreeMap<i64, String>,
    calendar: HolidayCalendar,
    /// The clock of the plan: the entries' `posted_at`, the snapshots' `taken_at`, the rows' `updated_at`.
    now: chrono::DateTime<chrono::Utc>,
}

/// Reads and folds day `date` of the open loans of `cooperative_ids` without writing or locking anything
/// (see [`Prepared`]), the fold on a blocking thread.
#[tracing::instrument(name = "cob prepare", skip_all, fields(%date, cooperatives = cooperative_ids.len()))]
pub(crate) async fn prepare_chunk(
    ctx: &AppCtx,
    cooperative_ids: &[i64],
    date: NaiveDate,
) -> AppResult<Prepared> {
    // One read transaction: a consistent view on SQLite (WAL: it never blocks the writer); on PostgreSQL a
    // loan changed between its statements shows as a changed row at the write's lock anyway.
    let txn = ctx.db.begin().await?;
    let loans = open_loans(cooperative_ids).all(&txn).await?;
    let versions = loans.iter().map(|l| (l.id, l.version)).collect();
    let inputs = read_inputs(&txn, loans, cooperative_ids, date).await?;
    let plan = plan_chunk(&txn, ctx, inputs, date, ctx.now()).await?;
    txn.commit().await?;
    Ok(Prepared {
        loans: versions,
        plan,
    })
}

/// Closes day `date` for every open loan of `cooperative_ids`, in one transaction: the set-based twin
/// of the loan-by-loan close (`super::cob`), with the same posting header, provision and notices. With
/// `prepared` (the chunk read and folded ahead, [`prepare_chunk`]) whose loans are still exactly those
/// locked, only the writes are left; otherwise the chunk is read and folded here, under the locks.
#[tracing::instrument(
    name = "cob chunk",
    skip_all,
    fields(
        %date,
        cooperatives = cooperative_ids.len(),
        first_cooperative = ?cooperative_ids.first(),
        last_cooperative = ?cooperative_ids.last(),
        loans = tracing::field::Empty,
        first_loan = tracing::field::Empty,
        last_loan = tracing::field::Empty,
        prepared = tracing::field::Empty,
    )
)]
pub(crate) async fn close_chunk(
    ctx: &AppCtx,
    caller: &Caller,
    cooperative_ids: &[i64],
    date: NaiveDate,
    prepared: Option<Prepared>,
    turn: ChunkTurn,
) -> AppResult<ChunkOutcome> {
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let locked = lock_open_loans(&txn, cooperative_ids).await?;
    let span = tracing::Span::current();
    span.record("loans", locked.len());
    if let (Some((first, _)), Some((last, _))) = (locked.first(), locked.last()) {
        span.record("first_loan", first);
        span.record("last_loan", last);
    }
    let plan = match prepared {
        Some(prepared) if prepared.loans == locked => {
            span.record("prepared", true);
            prepared.plan
        }
        prepared => {
            if prepared.is_some() {
                tracing::debug!(%date, "a loan of the chunk changed since it was read ahead; folding it again");
            }
            span.record("prepared", false);
            // Locked above, so these are the rows the write goes by.
            let loans = open_loans(cooperative_ids).all(&txn).await?;
            let inputs = read_inputs(&txn, loans, cooperative_ids, date).await?;
            plan_chunk(&txn, ctx, inputs, date, ctx.now()).await?
        }
    };
    let ChunkTurn {
        index,
        through,
        previous,
        marked,
    } = turn;
    let mut outcome = write_plan(ctx, caller, &txn, plan, date, index).await?;
    // Last, after every other write of the chunk (so that the chunk before it, written at the same time, is
    // waited for as late as possible): the fund's mark, or the rows it would have covered.
    let marking = wait_for_previous(previous).await?;
    let skipped = std::mem::take(&mut outcome.left_unwritten);
    if marking {
        // On PostgreSQL the fund's row is held only from here to the commit.
        super::fund::mark_cooperatives_closed(&txn, date, through).await?;
    } else if !skipped.is_empty() {
        let rows: Vec<ledger::CacheRow> = skipped
            .into_iter()
            .map(ledger::CacheRow::AsOfOnly)
            .collect();
        ledger::cache_balances_many(&txn, &rows, date + Duration::days(1), ctx.now()).await?;
    }
    txn.commit().await?;
    // The next chunk may mark only now that this one's mark is committed (a dropped receiver: no next chunk).
    let _ = marked.send(marking);
    Ok(outcome)
}

/// A chunk's place among the chunks of its day's close written at the same time (issue 14, cobwriters: two on
/// PostgreSQL, `super::cob`). Each chunk links its entries into a bulk part of the journal chain of its own
/// ([`crate::app::chains::ChainHeads::bulk`] of its index), so two chunks never wait for each other's chain heads,
/// and every other row a chunk writes is its own loans'. Only the fund's "cached through" mark is shared: it
/// says that every cooperative up to a chunk's last is closed, so a chunk may move it only once the chunk before
/// it has committed its own mark. A chunk therefore writes everything else first, then waits for the one before
/// it ([`ChunkTurn::previous`]); if that one did not mark (it failed, and is being closed loan by loan, or did not
/// mark because the one before it failed), it writes the as-of date of the loans it left unwritten instead of the
/// mark, as every chunk after a failure did when chunks were written one at a time.
pub(crate) struct ChunkTurn {
    /// The chunk's index in its day (from 0): its bulk part is `bulk_part(index)`.
    pub(crate) index: usize,
    /// The fund's mark once this chunk commits: the last cooperative of this chunk (or of a run of this day that
    /// got further before it stopped).
    pub(crate) through: i64,
    /// Whether the chunk before it committed with its mark (an error: it failed; a ready `true` for the first
    /// chunk of a run).
    pub(crate) previous: tokio::sync::oneshot::Receiver<bool>,
    /// Told, once this chunk has committed, whether it marked; dropped unsent if it fails.
    pub(crate) marked: tokio::sync::oneshot::Sender<bool>,
}

/// How long a chunk waits, its transaction open, for the chunk before it to commit. Far above any chunk's write
/// (tens of milliseconds); a bound only so that a cycle of waits the database cannot see (this chunk holds rows
/// that something the chunk before it waits for needs: nothing in the service does so today) ends in this
/// chunk's failure, which rolls it back and closes its loans one by one, instead of in a close that never ends.
const PREVIOUS_CHUNK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits for the chunk before (see [`ChunkTurn`]): whether this one may move the mark.
async fn wait_for_previous(previous: tokio::sync::oneshot::Receiver<bool>) -> AppResult<bool> {
    match tokio::time::timeout(PREVIOUS_CHUNK_WAIT, previous).await {
        Ok(marked) => Ok(marked.unwrap_or(false)),
        Err(_) => Err(AppError::internal(anyhow::anyhow!(
            "the close-of-business chunk before this one did not commit within {} s",
            PREVIOUS_CHUNK_WAIT.as_secs()
        ))),
    }
}

/// Writes what `plan` decided, in the chunk's transaction: snapshots, entries (into the journal's bulk part
/// `index`), cached balances (one statement), each loan's notices and digest line. Not the fund's mark:
/// [`close_chunk`] writes it after waiting for the chunk before.
///
/// A loan whose balances do not change and whose row the mark can cover is not written here (issue 14,
/// cobpg: most open loans, most days) but returned in [`ChunkOutcome::left_unwritten`]: with the mark its
/// cache reads as of the next day through `ledger::effective_balances_as_of`; without it (a chunk of this
/// run before it was closed loan by loan, so the cooperatives before this chunk are not all closed),
/// [`close_chunk`] marks those rows as of the next day.
async fn write_plan(
    ctx: &AppCtx,
    caller: &Caller,
    txn: &DatabaseTransaction,
    plan: ChunkPlan,
    date: NaiveDate,
    index: usize,
) -> AppResult<ChunkOutcome> {
    let next_day = date + Duration::days(1);
    loan_engine::store_snapshots(txn, plan.snapshots).await?;
    let posted_ids =
        ledger::post_loan_entries(txn, caller, &plan.entries, ChainHeads::bulk(index)).await?;
    // The changed rows get their balances and the unchanged ones the mark need not cover only their as-of date,
    // in one statement, so each row written is written once.
    let mut rows: Vec<ledger::CacheRow> = Vec::with_capacity(plan.folded.len());
    let mut left_unwritten = Vec::new();
    for (loan, state, group, changed) in &plan.folded {
        if *changed {
            rows.push(ledger::CacheRow::Changed(loan, state, *group));
        } else if ledger::close_may_skip(loan, date) {
            left_unwritten.push(loan.id);
        } else {
            rows.push(ledger::CacheRow::AsOfOnly(loan.id));
        }
    }
    let mut cached = ledger::cache_balances_many(txn, &rows, next_day, plan.now)
        .await?
        .into_iter();
    let mut outcomes = Vec::with_capacity(plan.folded.len());
    let mut due = Vec::with_capacity(plan.folded.len());
    for (loan, loan_state, _, changed) in plan.folded {
        let loan = if changed {
            cached.next().ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "loan {}'s cached balances were not written",
                    loan.id
                ))
            })?
        } else {
            loan
        };
        let refolded = Refolded {
            entry_id: posted_ids.get(&loan.id).copied(),
            state: loan_state,
            loan,
        };
        let (counts, notices) =
            cob::loan_day_outcome(ctx, &refolded, next_day, &plan.calendar, &plan.names)?;
        outcomes.push(counts);
        due.push((refolded.loan, notices));
    }
    let notices_queued = cob::queue_chunk_notices(ctx, txn, &due).await?;
    Ok(ChunkOutcome {
        loans: outcomes,
        notices_queued,
        left_unwritten,
    })
}

/// The open (disbursed, not closed or written off) loans of the cooperatives, in id order.
fn open_loans(cooperative_ids: &[i64]) -> sea_orm::Select<loan::Entity> {
    loan::Entity::find()
        .filter(loan::Column::CooperativeId.is_in(cooperative_ids.iter().copied()))
        .filter(cob::open_loans_condition())
        .order_by_asc(loan::Column::Id)
}

/// Locks the open loans of the cooperatives and reads their `(id, version)`, in id order: enough to tell
/// whether a chunk read ahead is still what the write would read ([`Prepared`]); the rows themselves are
/// read again only when it is not.
async fn lock_open_loans(
    txn: &DatabaseTransaction,
    cooperative_ids: &[i64],
) -> AppResult<Vec<LoanVersion>> {
    if store::is_sqlite_conn(txn) {
        // A first write takes SQLite's write lock, so the transaction waits instead of failing on
        // an upgrade later (the in-process gate already keeps this process's writers in line). SQLite's
        // lock is the whole database's, so one row's no-op write takes it: not the chunk's loan rows,
        // which rewrote every open loan's row once more a day (issue 14, cobcpu).
        txn.execute_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "UPDATE fund_state SET id = id WHERE id = 1",
        ))
        .await?;
        Ok(loan_versions(cooperative_ids).into_tuple().all(txn).await?)
    } else {
        Ok(loan_versions(cooperative_ids)
            .lock_exclusive()
            .into_tuple()
            .all(txn)
            .await?)
    }
}

/// The open loans of the cooperatives, in id order, selecting only `(id, version)`.
fn loan_versions(cooperative_ids: &[i64]) -> sea_orm::Select<loan::Entity> {
    open_loans(cooperative_ids)
        .select_only()
        .column(loan::Column::Id)
        .column(loan::Column::Version)
}

/// Reads what closing day `date` of `loans` needs (a loan folds only the events after its latest snapshot of
/// the last [`loan_engine::SNAPSHOT_REFRESH_DAYS`] days: read for the whole chunk in one query, those dated on or
/// after the oldest snapshot, and reversals; one without reads all its events).
async fn read_inputs<C: ConnectionTrait>(
    conn: &C,
    loans: Vec<loan::Model>,
    cooperative_ids: &[i64],
    date: NaiveDate,
) -> AppResult<ChunkInputs> {
    let next_day = date + Duration::days(1);
    let ids: Vec<i64> = loans.iter().map(|l| l.id).collect();
    let posted = ledger::posted_books(conn, &ids).await?;
    let names = cob::cooperative_names(conn, cooperative_ids).await?;
    let calendar = super::calendar::in_force(conn).await?;
    let not_before = next_day - Duration::days(loan_engine::SNAPSHOT_REFRESH_DAYS);
    let snapshots = loan_engine::latest_snapshots(conn, &ids, not_before, next_day).await?;
    let (with, without): (Vec<i64>, Vec<i64>) =
        ids.iter().partition(|id| snapshots.contains_key(id));
    let pending = match snapshots.values().map(|s| s.as_of).min() {
        Some(oldest) => transactions_by_loan(conn, &with, Some(oldest)).await?,
        None => HashMap::new(),
    };
    let transactions = transactions_by_loan(conn, &without, None).await?;
    Ok(ChunkInputs {
        loans,
        posted,
        names,
        calendar,
        snapshots,
        pending,
        transactions,
    })
}

/// Decides the chunk's close from `inputs` on a blocking thread (the folds are pure CPU, so they run beside
/// the writes of another chunk). A loan whose snapshot the events after it contradict is refolded from all
/// its events, read on `conn`.
async fn plan_chunk<C: ConnectionTrait>(
    conn: &C,
    ctx: &AppCtx,
    mut inputs: ChunkInputs,
    date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<ChunkPlan> {
    loop {
        let policy = ctx.policy.clone();
        let outcome = tokio::task::spawn_blocking(move || decide(inputs, &policy, date, now))
            .await
            .map_err(|e| {
                AppError::internal(anyhow::anyhow!("the close's fold did not finish: {e}"))
            })??;
        match outcome {
            Decided::Plan(plan) => return Ok(plan),
            Decided::Stale(back, stale) => {
                // Not read with the chunk: they had a snapshot, which turned out stale.
                inputs = *back;
                let mut all = transactions_by_loan(conn, &stale, None).await?;
                for loan_id in stale {
                    inputs.snapshots.remove(&loan_id);
                    inputs.pending.remove(&loan_id);
                    inputs
                        .transactions
                        .insert(loan_id, all.remove(&loan_id).unwrap_or_default());
                }
            }
        }
    }
}

/// What [`decide`] came to.
enum Decided {
    Plan(ChunkPlan),
    /// These loans' snapshots are stale: their transactions must be read whole (the inputs come back).
    Stale(Box<ChunkInputs>, Vec<i64>),
}

/// A loan folded to the start of the next day, with the snapshot to write, if any.
type LoanFold = (LoanState, Option<FoldSnapshot>);

/// Folds every loan of `inputs` to the start of `next_day` (from its snapshot when it has a usable one, issue
/// 14, `loan_engine` docs); `Err` with the loans whose snapshot turned out stale. A loan's snapshot is rewritten
/// when it had none, when it is a week old, or on its day of the week ([`loan_engine::days_since_snapshot_day`]),
/// so about a seventh of the loans write one each day.
fn fold_loans(
    inputs: &ChunkInputs,
    next_day: NaiveDate,
) -> AppResult<Result<Vec<LoanFold>, Vec<i64>>> {
    let mut folds = Vec::with_capacity(inputs.loans.len());
    let mut stale = Vec::new();
    for loan in &inputs.loans {
        let contract = loan_engine::contract_of(loan, &inputs.calendar)?;
        if let Some(snapshot) = inputs.snapshots.get(&loan.id) {
            let events: Vec<LoanEvent> =
                loan_engine::events_of(inputs.pending.get(&loan.id).map_or(&[], Vec::as_slice))?
                    .into_iter()
                    .filter(|e| snapshot.is_pending(e))
                    .collect();
            match coopfund_domain::snapshot::advance_folder(&contract, snapshot, &events, next_day)
            {
                Ok(folder) => {
                    let covered = events
                        .iter()
                        .map(|e| e.sequence)
                        .fold(snapshot.covered_sequence, u64::max);
                    let due = (next_day - snapshot.as_of).num_days()
                        >= loan_engine::SNAPSHOT_REFRESH_DAYS
                        || loan_engine::days_since_snapshot_day(loan.id, next_day) == 0;
                    let snapshot =
                        due.then(|| FoldSnapshot::of_folder(&contract, &folder, next_day, covered));
                    folds.push((folder.into_state(), snapshot));
                }
                Err(AdvanceError::Fold(error)) => return Err(loan_engine::fold_error(error)),
                Err(AdvanceError::Stale(reason)) => {
                    tracing::debug!(loan_id = loan.id, %reason, "snapshot not used by the close");
                    stale.push(loan.id);
                }
            }
            continue;
        }
        let all = inputs
            .transactions
            .get(&loan.id)
            .map_or(&[][..], Vec::as_slice);
        let snapshot = FoldSnapshot::take(&contract, &loan_engine::events_of(all)?, next_day)
            .map_err(loan_engine::fold_error)?;
        let state = snapshot.state(&contract).map_err(loan_engine::fold_error)?;
        folds.push((state, Some(snapshot)));
    }
    Ok(if stale.is_empty() {
        Ok(folds)
    } else {
        Err(stale)
    })
}

/// The close of day `date` of the chunk read as `inputs`: every loan folded, each cooperative's loans given the
/// group of its worst loan (DOMAIN.md §8), each loan's difference against its posted book (with the month-end
/// provision), the snapshots to write and the loans whose cached balances change.
fn decide(
    inputs: ChunkInputs,
    policy: &Policy,
    date: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Decided> {
    let next_day = date + Duration::days(1);
    let folds = match fold_loans(&inputs, next_day)? {
        Ok(folds) => folds,
        Err(stale) => return Ok(Decided::Stale(Box::new(inputs), stale)),
    };
    let ChunkInputs {
        loans,
        mut posted,
        names,
        calendar,
        ..
    } = inputs;
    let mut worst: HashMap<i64, DebtGroup> = HashMap::new();
    for (loan, (loan_state, _)) in loans.iter().zip(&folds) {
        let group = loan_engine::loan_group(loan_state, &policy.classification);
        let entry = worst.entry(loan.cooperative_id).or_insert(group);
        *entry = (*entry).max(group);
    }
    let mut snapshots = Vec::new();
    let mut entries = Vec::new();
    let mut folded = Vec::with_capacity(loans.len());
    for (loan, (loan_state, snapshot)) in loans.into_iter().zip(folds) {
        if let Some(snapshot) = snapshot {
            snapshots.push(loan_engine::snapshot_row(loan.id, &snapshot, now)?);
        }
        let group = worst.get(&loan.cooperative_id).copied().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("loan {} was not folded", loan.id))
        })?;
        // A loan with nothing posted yet has an empty book.
        let book = posted.remove(&loan.id).unwrap_or_default();
        let provision = cob::provision_on(policy, date, &loan, &loan_state, group);
        if let Some(entry) = ledger::loan_difference(&loan, &loan_state, group, &book, provision)? {
            entries.push(LoanEntry {
                loan_id: loan.id,
                posting: Posting::close_of_business(loan.id, date, now),
                entry,
            });
        }
        let changed = balances_changed(&loan, &loan_state, group)?;
        folded.push((loan, loan_state, group, changed));
    }
    Ok(Decided::Plan(ChunkPlan {
        folded,
        snapshots,
        entries,
        names,
        calendar,
        now,
    }))
}

/// The transactions of the loans `ids` in insertion order, by loan: all of them, or (`since`) those dated on or
/// after `since` and every reversal (what a snapshot of `since` or later may still have to fold). Only the
/// columns of their events ([`FoldTransaction`]).
async fn transactions_by_loan<C: ConnectionTrait>(
    txn: &C,
    ids: &[i64],
    since: Option<NaiveDate>,
) -> AppResult<HashMap<i64, Vec<FoldTransaction>>> {
    let mut by_loan: HashMap<i64, Vec<FoldTransaction>> = HashMap::new();
    for batch in ids.chunks(loan_engine::LOAN_IDS_PER_QUERY_MAX) {
        let mut select = loan_transaction::Entity::find().filter(loan_engine::ids_in(
            txn,
            loan_transaction::Column::LoanId,
            batch,
        ));
        if let Some(since) = since {
            select = select.filter(
                Condition::any()
                    .add(loan_transaction::Column::ValueDate.gte(since))
                    .add(loan_transaction::Column::Kind.eq(loan_engine::kind::REVERSAL)),
            );
        }
        let rows = select
            .order_by_asc(loan_transaction::Column::Id)
            .into_partial_model::<FoldTransaction>()
            .all(txn)
            .await?;
        for row in rows {
            by_loan.entry(row.loan_id).or_default().push(row);
        }
    }
    Ok(by_loan)
}

/// Whether the engine's balances differ from those cached on the loan row (then it is rewritten).
fn balances_changed(
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> AppResult<bool> {
    let stored = ledger::stored_vnd;
    Ok(loan.status != ledger::status_of(&loan.status, state)
        || loan.disbursed_vnd != stored(state.disbursed)?
        || loan.in_term_principal_vnd != stored(state.in_term_principal)?
        || loan.overdue_principal_vnd != stored(state.overdue_principal)?
        || loan.advance_vnd != stored(state.advance)?
        || i64::from(loan.dpd) != state.dpd
        || loan.debt_group != i32::from(group.number())
        || i64::from(loan.restructure_count) != i64::from(state.restructure_count)
        || loan.first_disbursed_on != state.first_disbursed_on
        || loan.closed_on != state.closed_on.or(state.written_off_on))
}

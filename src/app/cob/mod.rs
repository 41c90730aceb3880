//! Close of business (COB): closes business dates one by one, in order, up to a date.
//!
//! Closing day `d` means, for every loan not yet closed: refold it from its events to the start of
//! day `d + 1` (the engine then includes day `d`'s accrual and what fell due on `d` and stayed
//! unpaid, DOMAIN.md §4), classify it (§8), post the difference between the engine's book and the
//! posted book (§9: accrual rounded by difference, on balance for group 1 and off balance for the
//! others; overdue moves; reclassification), cache its balances, and queue the day's reminders and
//! overdue notices (§10). Loans are closed a chunk of cooperatives at a time, in one transaction
//! per chunk with set-based reads and writes (`super::cob_batch`), the next chunks read and folded while
//! one is written and, on PostgreSQL, two chunks written at once (each into a bulk part of the journal
//! chain, their marks in order: `cob_batch::ChunkTurn`); a chunk that fails is closed
//! again loan by loan so the loan at fault is isolated and named in the run. Every loan of a
//! cooperative takes the group of its worst loan (§8). Then the officers' digests are queued and
//! the business date moves to `d + 1`.
//!
//! **Provisions at month end** (DOMAIN.md §8). The close of the last day of a month also sets each
//! loan's specific provision (rate of its group × max(0, outstanding principal − the collateral's
//! discounted value); posted in the loan's own close-of-business entry, Dr 6426 / Cr 22931 or the
//! reverse by difference) and then, once every loan of the day is closed, the portfolio's general
//! provision (0.5% of groups 1-4, read from the balances just cached; one entry without a loan, by
//! difference against 22932). The group is the cooperative's worst group; rates are the Decree
//! 86/2024 defaults) from `[classification]`, see `super::policy`. A loan that closed (or was written
//! off) since the last month end is no longer among the open loans the close folds, so the same close
//! releases what it still holds on 22931 first (Dr 22931 / Cr 6426, its own close-of-business entry):
//! after a month end a closed loan holds no provision. A written-off loan already used its provision
//! against the loss when it was written off (DOMAIN.md §9), so it normally has nothing to release.
//! Choice: the release waits for the month end, like every other provision move (§8), rather than
//! following the payoff at once.
//!
//! **Crash safety and idempotency.** Posting is by difference, so closing a loan for a day twice
//! posts nothing the second time; notices carry dedupe keys; the business date moves only after
//! every loan of the day is done. A COB killed at any point and run again therefore ends with
//! exactly the books of an uninterrupted run. After downtime every missed date is closed in order.
//!
//! **One runner.** On PostgreSQL the run holds a transaction-scoped advisory lock for its whole
//! duration, so of several instances only one runs it and the others skip and say so. On SQLite
//! (the embedded, single-instance default) an in-process lock does the same.
//!
//! The lock is released by an awaited `ROLLBACK` of its transaction before the run answers, on
//! success and on error alike (`CobLock::release`). Dropping the transaction instead (as this
//! module once did) only queues the `ROLLBACK`: sqlx sends it from a background task that returns
//! the connection to the pool, so under CPU load the next serial run could reach PostgreSQL first
//! and find the lock still held by its own previous run ("skipped: another instance holds the
//! close-of-business lock" with no other instance; issue 13).
//!
//! **Dates.** A day can be closed only once it has ended in the fund's time zone (closing "today"
//! is allowed from the nightly schedule, which runs late in the evening); `cob.allow_future_dates`
//! lifts this for demos and tests that simulate time.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use coopfund_domain::{HolidayCalendar, LoanStatus};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};

use super::{
    chains::ChainHeads,
    context::AppCtx,
    fund,
    ledger::{self, text::BooksError, Posting},
    page::{paginate, Page, PageRequest},
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    mail::{
        notices,
        templates::{DigestLine, OfficerDigest},
    },
    store::entities::{cob_run, cooperative, loan},
};

mod lock;
mod provisions;
mod reminders;
mod runs;

pub(crate) use lock::local_lock;
use lock::try_lock;
pub use provisions::is_month_end;
pub(crate) use provisions::provision_on;
use provisions::{post_general_provision, release_finished_provisions};
pub(crate) use reminders::LoanNotice;
use reminders::{digest_line, empty_digest, loan_notices, queue_loan_notices};
pub use runs::{BusinessDates, CobOutcome, CobRun, RunCounts, RunStatus, Trigger};

/// Cooperatives (with all their open loans) closed per transaction; a cooperative is never split,
/// so all its loans take its worst loan's group together.
const COOPERATIVE_CHUNK: u64 = 250;
/// The first chunk of a day is smaller: nothing of the day is read ahead of it, so the writer waits for its whole
/// read and fold, which shares both cores with the chunks read after it (issue 14: ≈ 120–160 ms a day at
/// [`COOPERATIVE_CHUNK`]).
const FIRST_COOPERATIVE_CHUNK: u64 = COOPERATIVE_CHUNK / 5;
/// The loans the close of business folds: disbursed and not finished ([`LoanStatus::is_finished`]), read by
/// their stored status.
pub(crate) fn open_loans_condition() -> Condition {
    Condition::all()
        .add(loan::Column::Status.is_not_in(LoanStatus::FINISHED.map(LoanStatus::as_str)))
        .add(loan::Column::FirstDisbursedOn.is_not_null())
}

/// What closing one loan's day produced.
#[derive(Debug, Default, Clone)]
pub(crate) struct LoanDayCounts {
    pub(crate) entries_posted: i32,
    pub(crate) notices_queued: i32,
    /// The loan's line in its officer's digest, if it is due soon or overdue.
    pub(crate) digest: Option<(i64, DigestLine, bool)>,
}

/// The current business date and the last closed day.
#[tracing::instrument(skip_all)]
pub async fn business_dates(ctx: &AppCtx, caller: &Caller) -> AppResult<BusinessDates> {
    caller.require(&Role::ALL)?;
    let business_date = fund::business_date(&ctx.db).await?;
    Ok(BusinessDates {
        business_date,
        last_closed_date: business_date - Duration::days(1),
    })
}

/// Closes every business date from the current one through `through`, in order. Admins and
/// accountants (and the scheduler and the CLI, which act as admin).
#[tracing::instrument(name = "close of business", skip_all, fields(%through, ?trigger, caller = %caller.name()))]
pub async fn run_through(
    ctx: &AppCtx,
    caller: &Caller,
    through: NaiveDate,
    trigger: Trigger,
) -> AppResult<CobOutcome> {
    caller.require(&[Role::Admin, Role::Accountant])?;
    check_through(ctx, through)?;
    let Some(lock) = try_lock(&ctx.db, &ctx.settings.database.url).await? else {
        let business_date = fund::business_date(&ctx.db).await?;
        tracing::info!("close of business skipped: another instance is running it");
        return Ok(CobOutcome {
            ran: false,
            runs: vec![],
            business_date,
            message: "skipped: another instance holds the close-of-business lock".into(),
        });
    };
    let closed = close_dates_through(ctx, caller, through, trigger).await;
    let released = lock.release().await;
    let runs = closed?;
    released?;
    let business_date = fund::business_date(&ctx.db).await?;
    let message = match runs.last() {
        None => format!("nothing to close: the business date is already {business_date}"),
        Some(last) if last.status != RunStatus::Finished => format!(
            "stopped at {}: {}",
            last.business_date,
            last.message.clone().unwrap_or_default()
        ),
        Some(_) => format!(
            "closed {} day(s); business date is now {business_date}",
            runs.len()
        ),
    };
    Ok(CobOutcome {
        ran: true,
        runs,
        business_date,
        message,
    })
}

/// Closes each date from the business date through `through`, stopping at the first that fails.
async fn close_dates_through(
    ctx: &AppCtx,
    caller: &Caller,
    through: NaiveDate,
    trigger: Trigger,
) -> AppResult<Vec<CobRun>> {
    let mut runs = Vec::new();
    let mut date = fund::business_date(&ctx.db).await?;
    while date <= through {
        let run = close_date(ctx, caller, date, trigger).await?;
        let failed = run.status != RunStatus::Finished;
        runs.push(run);
        if failed {
            break;
        }
        date += Duration::days(1);
    }
    Ok(runs)
}

fn check_through(ctx: &AppCtx, through: NaiveDate) -> AppResult<()> {
    let today = ctx.today();
    if through > today && !ctx.settings.cob.allow_future_dates {
        return Err(BooksError::DayNotEnded { through, today }.into());
    }
    Ok(())
}

fn instance_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Closes one business date; returns its run record (status `finished` or `failed`).
#[tracing::instrument(name = "cob day", skip_all, fields(%date))]
async fn close_date(
    ctx: &AppCtx,
    caller: &Caller,
    date: NaiveDate,
    trigger: Trigger,
) -> AppResult<CobRun> {
    let started = std::time::Instant::now();
    // Every write of the run goes through the writer gate (SQLite; see `super::writer`), one step
    // at a time, so requests and the mail worker interleave with a long run but never collide.
    let gate = super::writer::enter(&ctx.db).await;
    let run = cob_run::ActiveModel {
        business_date: Set(date),
        status: Set(RunStatus::Running.as_str().into()),
        trigger: Set(trigger.as_str().into()),
        instance: Set(instance_name()),
        started_at: Set(ctx.now()),
        finished_at: Set(None),
        loans_processed: Set(0),
        entries_posted: Set(0),
        notices_queued: Set(0),
        errors: Set(0),
        message: Set(None),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await?;
    // The cooperatives a run of this day that did not finish already closed (their unwritten rows are covered
    // by its mark, which this run only moves on); another day's mark is settled first (only a business date set
    // outside a close would leave one).
    let marks = fund::cached_through(&ctx.db).await?;
    let closed_through = match marks.cob_day {
        Some((day, through)) if day == date => Some(through),
        Some(_) => {
            fund::settle_cached_through(&ctx.db).await?;
            None
        }
        None => None,
    };
    drop(gate);
    let mut totals = (0i32, LoanDayCounts::default(), 0i32); // loans, counts, errors
    let mut digests: std::collections::BTreeMap<i64, OfficerDigest> = Default::default();
    let mut first_error: Option<String> = None;
    // The chunks after the one being written are read and folded meanwhile (issue 14), each on its own
    // task ([`ReadAhead`]): the folds run on blocking threads and the reads on their own connections, so
    // both cores work and the writer never waits for a read. The chunks' cooperatives are disjoint, so no
    // write of one changes what another reads; a loan changed meanwhile by a command is caught at the
    // write's lock (`cob_batch::Prepared`).
    let mut ahead = ReadAhead::new(ctx, date);
    // On PostgreSQL two chunks are written at once, each in its own transaction and its own bulk part of the
    // journal chain, their marks in order (`cob_batch::ChunkTurn`); SQLite has one writer at a time anyway.
    // A pool of one connection would let the second chunk hold it while it waits for the first, which waits for
    // a connection: one writer then.
    let writers = if crate::store::is_sqlite(&ctx.db) || ctx.settings.database.max_connections < 2 {
        1
    } else {
        CHUNK_WRITERS_POSTGRES
    };
    let mut writing = ChunkWrites::new(ctx, caller, date, writers);
    // Chunks leave unchanged loans unwritten only while every chunk before them in this run was closed
    // set-based (the mark covers the cooperatives up to the chunk's last, all of which must be closed): the
    // first chunk of the run may, each later one if the one before it marked.
    let (first_turn, first) = tokio::sync::oneshot::channel();
    let _ = first_turn.send(true);
    let mut previous = first;
    // The last cooperative of the chunks queued so far; `None` once every chunk is queued.
    let mut queued_through = Some(0);
    loop {
        while writing.len() < writers {
            // The chunk to write next and `CHUNKS_READ_AHEAD` after it are being read.
            while ahead.len() <= CHUNKS_READ_AHEAD {
                let Some(after) = queued_through else { break };
                let size = if after == 0 {
                    FIRST_COOPERATIVE_CHUNK
                } else {
                    COOPERATIVE_CHUNK
                };
                let chunk = next_cooperatives(&ctx.db, after, size).await?;
                queued_through = chunk.last().copied();
                if chunk.is_empty() {
                    break;
                }
                ahead.push(chunk);
            }
            let Some((cooperatives, prepared)) = ahead.next().await else {
                break;
            };
            let Some(&last) = cooperatives.last() else {
                break;
            };
            let (marked, next) = tokio::sync::oneshot::channel();
            let turn = super::cob_batch::ChunkTurn {
                index: writing.started(),
                through: closed_through.map_or(last, |c| c.max(last)),
                previous: std::mem::replace(&mut previous, next),
                marked,
            };
            writing.push(cooperatives, prepared, turn).await;
        }
        let Some((cooperatives, closed)) = writing.next().await else {
            break;
        };
        let results = match closed {
            Ok(chunk) => {
                // Queued together for the chunk (`cob_batch`), so counted for it, not per loan.
                totals.1.notices_queued += chunk.notices_queued;
                chunk
                    .loans
                    .into_iter()
                    .map(|counts| (0, Ok(counts)))
                    .collect()
            }
            Err(err) => {
                // Close the chunk again loan by loan, so one bad loan is isolated and named. A loan that fails
                // is not closed; the chunks after this one do not move the cooperatives' mark
                // (`cob_batch::ChunkTurn`).
                tracing::warn!(%date, error = %err, "a close-of-business chunk failed; closing its loans one by one");
                let mut results = Vec::new();
                for loan_id in open_loans_of(&ctx.db, &cooperatives).await? {
                    results.push((loan_id, close_loan_day(ctx, caller, loan_id, date).await));
                }
                results
            }
        };
        for (loan_id, result) in results {
            match result {
                Ok(counts) => {
                    totals.0 += 1;
                    totals.1.entries_posted += counts.entries_posted;
                    totals.1.notices_queued += counts.notices_queued;
                    if let Some((officer_id, line, overdue)) = counts.digest {
                        let digest = digests
                            .entry(officer_id)
                            .or_insert_with(|| empty_digest(date));
                        if overdue {
                            digest.overdue.push(line)
                        } else {
                            digest.due_soon.push(line)
                        }
                    }
                }
                Err(err) => {
                    totals.2 += 1;
                    tracing::error!(loan_id, %date, error = %err, "close of business failed for a loan");
                    first_error
                        .get_or_insert_with(|| format!("loan {loan_id}: {}", err.message.en));
                }
            }
        }
        tracing::info!(%date, loans = totals.0, per_second = rate(totals.0, started), "close of business progress");
    }
    if totals.2 == 0 && is_month_end(date) {
        totals.1.entries_posted += release_finished_provisions(ctx, caller, date).await?;
        totals.1.entries_posted += i32::from(post_general_provision(ctx, caller, date).await?);
    }
    let _gate = super::writer::enter(&ctx.db).await;
    if totals.2 == 0 {
        for (officer_id, digest) in &digests {
            totals.1.notices_queued += i32::from(
                notices::officer_digest(&ctx.db, &ctx.settings, *officer_id, digest).await?,
            );
        }
    }
    let txn = ctx.db.begin().await?;
    // Snapshots older than the retention window are no longer the latest of any loan a read or a close uses.
    super::loan_engine::prune_snapshots(
        &txn,
        date - Duration::days(super::loan_engine::SNAPSHOT_RETENTION_DAYS),
    )
    .await?;
    // Move the date only if nobody else did (a second runner would have been locked out; this is
    // the belt to that pair of braces).
    let advanced = totals.2 == 0 && fund::business_date(&txn).await? == date;
    if advanced {
        fund::finish_close_day(&txn, date + Duration::days(1), ctx.now()).await?;
    }
    let mut active = run.into_active_model();
    let status = if totals.2 == 0 {
        RunStatus::Finished
    } else {
        RunStatus::Failed
    };
    active.status = Set(status.as_str().into());
    active.finished_at = Set(Some(ctx.now()));
    active.loans_processed = Set(totals.0);
    active.entries_posted = Set(totals.1.entries_posted);
    active.notices_queued = Set(totals.1.notices_queued);
    active.errors = Set(totals.2);
    active.message = Set(first_error);
    let finished = active.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(
        %date, loans = totals.0, entries = totals.1.entries_posted, notices = totals.1.notices_queued,
        errors = totals.2, seconds = started.elapsed().as_secs_f64(), "close of business finished a day"
    );
    CobRun::try_from(finished)
}

/// The next `count` cooperatives (by id, after `after`) that have open loans.
async fn next_cooperatives(db: &DatabaseConnection, after: i64, count: u64) -> AppResult<Vec<i64>> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::CooperativeId)
        .distinct()
        .filter(loan::Column::CooperativeId.gt(after))
        .filter(open_loans_condition())
        .order_by_asc(loan::Column::CooperativeId)
        .limit(count)
        .into_tuple()
        .all(db)
        .await?)
}

/// How many chunks after the one being written a day's close reads and folds at once. Two: on SQLite a chunk's
/// read and fold took about twice its write (issue 14, 2026-12-06: ≈ 86 against ≈ 45 ms a chunk of ≈ 800
/// loans), so with one read ahead the writer waited half of the time and a core idled.
const CHUNKS_READ_AHEAD: usize = 2;

/// The chunks of a day's close being read and folded ahead of their writes, in order, each on a task of its own
/// ([`prepare`]). Dropped (a day's close that stops on an error), it aborts the tasks still running: what they
/// read is only ever used by the write of their chunk.
struct ReadAhead {
    ctx: AppCtx,
    date: NaiveDate,
    chunks: std::collections::VecDeque<(Vec<i64>, tokio::task::JoinHandle<Prepare>)>,
}

/// What reading a chunk ahead gave ([`prepare`]).
type Prepare = Option<super::cob_batch::Prepared>;

impl ReadAhead {
    fn new(ctx: &AppCtx, date: NaiveDate) -> Self {
        ReadAhead {
            ctx: ctx.clone(),
            date,
            chunks: Default::default(),
        }
    }

    /// The chunks queued and not yet taken by [`ReadAhead::next`].
    fn len(&self) -> usize {
        self.chunks.len()
    }

    /// Starts reading and folding the chunk of `cooperatives`.
    fn push(&mut self, cooperatives: Vec<i64>) {
        use tracing::Instrument as _;
        let (ctx, date, chunk) = (self.ctx.clone(), self.date, cooperatives.clone());
        let task = tokio::spawn(async move { prepare(&ctx, &chunk, date).await }.in_current_span());
        self.chunks.push_back((cooperatives, task));
    }

    /// The first chunk queued, with what reading it ahead gave (`None` if the read failed: the write reads
    /// it); `None` when none is queued.
    async fn next(&mut self) -> Option<(Vec<i64>, Prepare)> {
        let (cooperatives, task) = self.chunks.pop_front()?;
        let waiting = std::time::Instant::now();
        let prepared = task.await;
        tracing::debug!(
            waited_ms = waiting.elapsed().as_secs_f64() * 1000.0,
            "the close's writer took a chunk read ahead"
        );
        Some(match prepared {
            Ok(prepared) => (cooperatives, prepared),
            Err(error) => {
                // A panic in the read or the fold is a bug to see; the write reads and folds the chunk itself.
                tracing::warn!(%error, "a close-of-business chunk's read ahead did not finish; it is read when written");
                (cooperatives, None)
            }
        })
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        for (_, task) in &self.chunks {
            task.abort();
        }
    }
}

/// How many chunks of a day's close are written at once on PostgreSQL (issue 14, cobwriters): the writes were
/// the close's critical path, one transaction's round trips after another, with a core partly idle. Two, as
/// there are two bulk parts of the journal chain ([`coopfund_domain::chain::BULK_PARTS`]) and two cores here.
const CHUNK_WRITERS_POSTGRES: usize = coopfund_domain::chain::BULK_PARTS as usize;

/// The chunks of a day's close being written, in order. With more than one writer (PostgreSQL) each is written
/// on a task of its own ([`super::cob_batch::close_chunk`]), so that one is written while the writer loop waits
/// for another or for a chunk read ahead; dropped (a day's close that stops on an error), it aborts the writes
/// still running, each rolling back its transaction. With one (SQLite), each is written in the calling task,
/// which may hold SQLite's writer gate (a close run from a page): a write on another task would wait for it.
struct ChunkWrites {
    ctx: AppCtx,
    caller: Caller,
    date: NaiveDate,
    /// Whether chunks are written one at a time in the calling task.
    inline: bool,
    chunks: std::collections::VecDeque<ChunkWrite>,
    /// The chunks started so far (the next one's index in the day).
    started: usize,
}

/// A chunk being written on its own task, or written.
enum ChunkWrite {
    Running(tokio::task::JoinHandle<ChunkWritten>),
    Written(ChunkWritten),
}

/// A chunk's cooperatives and what writing it gave.
type ChunkWritten = (Vec<i64>, AppResult<super::cob_batch::ChunkOutcome>);

impl ChunkWrites {
    /// `writers` chunks written at once (1: in the calling task).
    fn new(ctx: &AppCtx, caller: &Caller, date: NaiveDate, writers: usize) -> Self {
        ChunkWrites {
            ctx: ctx.clone(),
            caller: caller.clone(),
            date,
            inline: writers <= 1,
            chunks: Default::default(),
            started: 0,
        }
    }

    /// The chunks being written (or written and not yet taken).
    fn len(&self) -> usize {
        self.chunks.len()
    }

    /// The chunks started so far: the index in the day of the next one.
    fn started(&self) -> usize {
        self.started
    }

    /// Starts writing the chunk of `cooperatives` (writes it, when inline).
    async fn push(
        &mut self,
        cooperatives: Vec<i64>,
        prepared: Prepare,
        turn: super::cob_batch::ChunkTurn,
    ) {
        use tracing::Instrument as _;
        self.started += 1;
        let (ctx, caller, date) = (self.ctx.clone(), self.caller.clone(), self.date);
        let write = async move {
            let closed =
                super::cob_batch::close_chunk(&ctx, &caller, &cooperatives, date, prepared, turn)
                    .await;
            (cooperatives, closed)
        };
        let write = if self.inline {
            ChunkWrite::Written(write.await)
        } else {
            ChunkWrite::Running(tokio::spawn(write.in_current_span()))
        };
        self.chunks.push_back(write);
    }

    /// The first chunk started and not yet taken, once written; `None` when none is being written.
    async fn next(&mut self) -> Option<ChunkWritten> {
        match self.chunks.pop_front()? {
            ChunkWrite::Written(written) => Some(written),
            ChunkWrite::Running(task) => match task.await {
                Ok(written) => Some(written),
                // Only a panic (the tasks are aborted only on drop): a bug, which ends the day's close as it
                // would have in the calling task (the chunk's transaction rolled back when the task unwound).
                Err(error) => std::panic::resume_unwind(error.into_panic()),
            },
        }
    }
}

impl Drop for ChunkWrites {
    fn drop(&mut self) {
        for write in &self.chunks {
            if let ChunkWrite::Running(task) = write {
                task.abort();
            }
        }
    }
}

/// The chunk of `cooperatives` read and folded ahead of its write ([`super::cob_batch::prepare_chunk`]);
/// `None` when there is nothing to prepare, or when preparing failed (said in the log): the write then
/// reads and folds the chunk itself, and fails or isolates the loan at fault as it always did.
async fn prepare(ctx: &AppCtx, cooperatives: &[i64], date: NaiveDate) -> Prepare {
    if cooperatives.is_empty() {
        return None;
    }
    match super::cob_batch::prepare_chunk(ctx, cooperatives, date).await {
        Ok(prepared) => Some(prepared),
        Err(error) => {
            tracing::debug!(%date, %error, "a close-of-business chunk could not be read ahead; it is read when written");
            None
        }
    }
}

/// The open loans of `cooperatives` (for the loan-by-loan fallback).
async fn open_loans_of(db: &DatabaseConnection, cooperatives: &[i64]) -> AppResult<Vec<i64>> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .filter(loan::Column::CooperativeId.is_in(cooperatives.iter().copied()))
        .filter(open_loans_condition())
        .order_by_asc(loan::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

fn rate(count: i32, started: std::time::Instant) -> u64 {
    let millis = started.elapsed().as_millis().max(1) as u64;
    (count as u64).saturating_mul(1000) / millis
}

/// Closes day `date` for one loan in its own transaction: refold to the start of `date + 1`,
/// post the difference, cache balances, queue reminders and overdue notices. The loan-by-loan
/// twin of [`super::cob_batch::close_chunk`]: the same posting, provision and notices.
#[tracing::instrument(name = "cob loan", skip_all, fields(loan_id = loan_id, %date))]
async fn close_loan_day(
    ctx: &AppCtx,
    caller: &Caller,
    loan_id: i64,
    date: NaiveDate,
) -> AppResult<LoanDayCounts> {
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    // FOR UPDATE on PostgreSQL; on SQLite a first write, so the transaction waits for the write lock
    // instead of failing with "database busy" on an upgrade.
    let loan = super::loans::lock_loan(&txn, loan_id).await?;
    let next_day = date + Duration::days(1);
    let calendar = super::calendar::in_force(&txn).await?;
    let mut heads = ChainHeads::for_loan(loan_id);
    let refolded = ledger::refold_and_post(
        &txn,
        &mut heads,
        &ctx.policy.classification,
        caller,
        loan,
        next_day,
        &Posting::close_of_business(loan_id, date, ctx.now()),
        &calendar,
        |loan, loan_state, group| provision_on(&ctx.policy, date, loan, loan_state, group),
    )
    .await?;
    heads.finish(&txn).await?;
    let names = cooperative_names(&txn, &[refolded.loan.cooperative_id]).await?;
    let counts = finish_loan_day(ctx, &txn, &refolded, next_day, &calendar, &names).await?;
    txn.commit().await?;
    Ok(counts)
}

/// What closing a loan's day ends with once its books are posted and its balances cached, in the
/// close's transaction (the loan-by-loan close): the reminders and overdue notices as of `next_day`,
/// queued, and the loan's line in its officer's digest.
pub(crate) async fn finish_loan_day(
    ctx: &AppCtx,
    txn: &DatabaseTransaction,
    refolded: &ledger::Refolded,
    next_day: NaiveDate,
    calendar: &HolidayCalendar,
    cooperative_names: &BTreeMap<i64, String>,
) -> AppResult<LoanDayCounts> {
    let notices_queued = queue_loan_notices(ctx, txn, refolded, next_day, calendar).await?;
    let digest = digest_line(refolded, next_day, cooperative_names)?;
    Ok(LoanDayCounts {
        entries_posted: i32::from(refolded.entry_id.is_some()),
        notices_queued,
        digest,
    })
}

/// [`finish_loan_day`] for the set-based close, without the database: the loan's counts (no notice
/// queued yet) and the notices it calls for, which the chunk queues together ([`queue_chunk_notices`]).
pub(crate) fn loan_day_outcome(
    ctx: &AppCtx,
    refolded: &ledger::Refolded,
    next_day: NaiveDate,
    calendar: &HolidayCalendar,
    cooperative_names: &BTreeMap<i64, String>,
) -> AppResult<(LoanDayCounts, Vec<LoanNotice>)> {
    let due = loan_notices(ctx, refolded, next_day, calendar)?;
    let digest = digest_line(refolded, next_day, cooperative_names)?;
    let counts = LoanDayCounts {
        entries_posted: i32::from(refolded.entry_id.is_some()),
        notices_queued: 0,
        digest,
    };
    Ok((counts, due))
}

/// Queues a chunk's notices (each loan with those [`loan_day_outcome`] found, in order) in `txn`: the
/// audiences read in three queries, the outbox rows written by a few multi-row `INSERT … ON CONFLICT
/// (dedupe_key) DO NOTHING` (issue 14, cobpg: three round trips per notice before). The same messages as
/// [`finish_loan_day`] queues loan by loan. Returns how many were new.
pub(crate) async fn queue_chunk_notices(
    ctx: &AppCtx,
    txn: &DatabaseTransaction,
    due: &[(loan::Model, Vec<LoanNotice>)],
) -> AppResult<i32> {
    let loans: Vec<&loan::Model> = due
        .iter()
        .filter(|(_, notices)| !notices.is_empty())
        .map(|(loan, _)| loan)
        .collect();
    if loans.is_empty() {
        return Ok(0);
    }
    let audiences = notices::audiences_for_loans(txn, &loans).await?;
    let mut mails = Vec::new();
    for (loan, loan_notices) in due {
        for notice in loan_notices {
            let audience = audiences.get(&loan.id).ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("loan {} has no audience", loan.id))
            })?;
            mails.push(notice.render(ctx, audience, loan.id));
        }
    }
    let queued = notices::queue_many(txn, mails).await?;
    i32::try_from(queued).map_err(|_| {
        AppError::internal(anyhow::anyhow!("{queued} notices do not fit a run's count"))
    })
}

/// The names of cooperatives `ids`, by id.
pub(crate) async fn cooperative_names<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> AppResult<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = cooperative::Entity::find()
        .select_only()
        .column(cooperative::Column::Id)
        .column(cooperative::Column::Name)
        .filter(cooperative::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The runs, newest first. Admins, accountants and auditors.
#[tracing::instrument(skip_all)]
pub async fn list_runs(
    ctx: &AppCtx,
    caller: &Caller,
    page: PageRequest,
) -> AppResult<Page<CobRun>> {
    caller.require(&[Role::Admin, Role::Accountant, Role::Auditor])?;
    let rows = page
        .apply(cob_run::Entity::find(), cob_run::Column::Id)
        .all(&ctx.db)
        .await?;
    paginate(rows, &page, |r| r.id).try_map(CobRun::try_from)
}

//! Close of business (COB): closes business dates one by one, in order, up to a date.
//!
//! Closing day `d` means, for every loan not yet closed: refold it from its events to the start of
//! day `d + 1` (the engine then includes day `d`'s accrual and what fell due on `d` and stayed
//! unpaid, DOMAIN.md §4), classify it (§8), post the difference between the engine's book and the
//! posted book (§9: accrual rounded by difference, on balance for group 1 and off balance for the
//! others; overdue moves; reclassification), cache its balances, and queue the day's reminders and
//! overdue notices (§10). Loans are closed a chunk of cooperatives at a time, in one transaction
//! per chunk with set-based reads and writes (`super::cob_batch`); a chunk that fails is closed
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
//! success and on error alike ([`CobLock::release`]). Dropping the transaction instead (as this
//! module once did) only queues the `ROLLBACK`: sqlx sends it from a background task that returns
//! the connection to the pool, so under CPU load the next serial run could reach PostgreSQL first
//! and find the lock still held by its own previous run ("skipped: another instance holds the
//! close-of-business lock" with no other instance; issue 13).
//!
//! **Dates.** A day can be closed only once it has ended in the fund's time zone (closing "today"
//! is allowed from the nightly schedule, which runs late in the evening); `cob.allow_future_dates`
//! lifts this for demos and tests that simulate time.

use std::{
    collections::BTreeMap,
    sync::{Arc, LazyLock},
};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use coopfund_domain::{classification::DebtGroup, HolidayCalendar};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{
    fund,
    ledger::{self, stored_vnd, text::BooksError, BookQuery, LoanScope, Posting, Provision},
    Caller,
};
use crate::{
    auth::Role,
    error::{AppError, AppResult},
    mail::{
        notices,
        templates::{AmountsByComponent, DigestLine, DueReminder, OfficerDigest, OverdueNotice},
    },
    state::AppState,
    store::entities::{cob_run, cooperative, journal_entry, loan},
};

/// Cooperatives (with all their open loans) closed per transaction; a cooperative is never split,
/// so all its loans take its worst loan's group together.
const COOPERATIVE_CHUNK: u64 = 250;
/// The advisory-lock key of the close of business on PostgreSQL ("COB" in ASCII).
const ADVISORY_LOCK_KEY: i64 = 0x434f42;
/// Loan statuses that COB no longer touches.
pub(crate) const FINISHED_STATUSES: [&str; 3] = ["closed", "written_off", "recovered"];
/// Days ahead an officer's digest looks for loans coming due (DOMAIN.md §10).
const DIGEST_DAYS_AHEAD: i64 = 7;

/// Who started a run (`cob_runs.trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The nightly job.
    Schedule,
    /// `POST /api/v1/cob/run`.
    Api,
    /// `coopfund cob run`.
    Cli,
}

/// Where a run is (`cob_runs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Closing the date now (or killed while closing it).
    Running,
    /// Every loan closed and the business date moved.
    Finished,
    /// Some loan failed; the business date did not move.
    Failed,
}

/// One spelling per variant (`as_str`, stored and shown) and its parser, whose error names the text.
macro_rules! stored_names {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored and API spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = AppError;
            fn from_str(text: &str) -> AppResult<$ty> {
                match text {
                    $($text => Ok($ty::$variant),)+
                    other => Err(AppError::internal(anyhow::anyhow!(
                        concat!("unknown ", $what, " {:?}"),
                        other
                    ))),
                }
            }
        }
    };
}

stored_names!(Trigger, "close-of-business trigger", {
    Schedule => "schedule",
    Api => "api",
    Cli => "cli",
});

stored_names!(RunStatus, "close-of-business run status", {
    Running => "running",
    Finished => "finished",
    Failed => "failed",
});

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Loans closed.
    pub loans_processed: i32,
    /// Journal entries posted.
    pub entries_posted: i32,
    /// Mails queued.
    pub notices_queued: i32,
    /// Loans that failed.
    pub errors: i32,
}

/// One closed (or attempted) business date, read from `cob_runs`.
#[derive(Debug, Clone)]
pub struct CobRun {
    /// The run's id.
    pub id: i64,
    /// The date it closed.
    pub business_date: NaiveDate,
    /// Where it is.
    pub status: RunStatus,
    /// Who started it.
    pub trigger: Trigger,
    /// Which process ran it (host and pid).
    pub instance: String,
    /// When it started and finished.
    pub started_at: chrono::DateTime<Utc>,
    pub finished_at: Option<chrono::DateTime<Utc>>,
    /// What it did.
    pub counts: RunCounts,
    /// The first failure, if any.
    pub message: Option<String>,
}

impl TryFrom<cob_run::Model> for CobRun {
    type Error = AppError;

    /// The stored run, its status and trigger parsed; unknown text is an error naming the run.
    fn try_from(m: cob_run::Model) -> AppResult<CobRun> {
        let id = m.id;
        let named = |err: AppError| {
            AppError::internal(anyhow::anyhow!("stored close-of-business run {id}: {err}"))
        };
        Ok(CobRun {
            status: m.status.parse().map_err(named)?,
            trigger: m.trigger.parse().map_err(named)?,
            id: m.id,
            business_date: m.business_date,
            instance: m.instance,
            started_at: m.started_at,
            finished_at: m.finished_at,
            counts: RunCounts {
                loans_processed: m.loans_processed,
                entries_posted: m.entries_posted,
                notices_queued: m.notices_queued,
                errors: m.errors,
            },
            message: m.message,
        })
    }
}

/// What a call to [`run_through`] did.
#[derive(Debug, Clone)]
pub struct CobOutcome {
    /// False when another instance holds the COB lock (nothing was done here).
    pub ran: bool,
    /// The dates closed by this call, in order.
    pub runs: Vec<CobRun>,
    /// The business date after the call.
    pub business_date: NaiveDate,
    /// What happened, in a sentence.
    pub message: String,
}

/// The current business date (API.md) and the last closed day (the day before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessDates {
    /// What "today" means to the service.
    pub business_date: NaiveDate,
    /// The day before the business date.
    pub last_closed_date: NaiveDate,
}

/// One page of runs, newest first.
#[derive(Debug, Clone)]
pub struct CobRunPage {
    /// The runs.
    pub items: Vec<CobRun>,
    /// The cursor of the next page, if any.
    pub next_cursor: Option<String>,
}

/// What closing one loan's day produced.
#[derive(Debug, Default, Clone)]
pub(crate) struct LoanDayCounts {
    pub(crate) entries_posted: i32,
    pub(crate) notices_queued: i32,
    /// The loan's line in its officer's digest, if it is due soon or overdue.
    pub(crate) digest: Option<(i64, DigestLine, bool)>,
}

/// Holds the right to run COB until [`CobLock::release`]d (or, as a last resort, dropped).
enum CobLock {
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
    async fn release(self) -> AppResult<()> {
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

async fn try_lock(db: &DatabaseConnection, url: &str) -> AppResult<Option<CobLock>> {
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

/// The current business date and the last closed day.
#[tracing::instrument(skip_all)]
pub async fn business_dates(db: &DatabaseConnection, caller: &Caller) -> AppResult<BusinessDates> {
    caller.require(&Role::ALL)?;
    let business_date = fund::business_date(db).await?;
    Ok(BusinessDates {
        business_date,
        last_closed_date: business_date - Duration::days(1),
    })
}

/// Closes every business date from the current one through `through`, in order. Admins and
/// accountants (and the scheduler and the CLI, which act as admin).
#[tracing::instrument(name = "close of business", skip_all, fields(%through, ?trigger, caller = %caller.name))]
pub async fn run_through(
    state: &AppState,
    caller: &Caller,
    through: NaiveDate,
    trigger: Trigger,
) -> AppResult<CobOutcome> {
    caller.require(&[Role::Admin, Role::Accountant])?;
    check_through(state, through)?;
    let Some(lock) = try_lock(&state.db, &state.settings.database.url).await? else {
        let business_date = fund::business_date(&state.db).await?;
        tracing::info!("close of business skipped: another instance is running it");
        return Ok(CobOutcome {
            ran: false,
            runs: vec![],
            business_date,
            message: "skipped: another instance holds the close-of-business lock".into(),
        });
    };
    let closed = close_dates_through(state, caller, through, trigger).await;
    let released = lock.release().await;
    let runs = closed?;
    released?;
    let business_date = fund::business_date(&state.db).await?;
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
    state: &AppState,
    caller: &Caller,
    through: NaiveDate,
    trigger: Trigger,
) -> AppResult<Vec<CobRun>> {
    let mut runs = Vec::new();
    let mut date = fund::business_date(&state.db).await?;
    while date <= through {
        let run = close_date(state, caller, date, trigger).await?;
        let failed = run.status != RunStatus::Finished;
        runs.push(run);
        if failed {
            break;
        }
        date += Duration::days(1);
    }
    Ok(runs)
}

fn check_through(state: &AppState, through: NaiveDate) -> AppResult<()> {
    let today = state.today();
    if through > today && !state.settings.cob.allow_future_dates {
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
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
    trigger: Trigger,
) -> AppResult<CobRun> {
    let started = std::time::Instant::now();
    // Every write of the run goes through the writer gate (SQLite; see `super::writer`), one step
    // at a time, so requests and the mail worker interleave with a long run but never collide.
    let gate = super::writer::enter(&state.db).await;
    let run = cob_run::ActiveModel {
        business_date: Set(date),
        status: Set(RunStatus::Running.as_str().into()),
        trigger: Set(trigger.as_str().into()),
        instance: Set(instance_name()),
        started_at: Set(Utc::now()),
        finished_at: Set(None),
        loans_processed: Set(0),
        entries_posted: Set(0),
        notices_queued: Set(0),
        errors: Set(0),
        message: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    drop(gate);
    let mut totals = (0i32, LoanDayCounts::default(), 0i32); // loans, counts, errors
    let mut digests: std::collections::BTreeMap<i64, OfficerDigest> = Default::default();
    let mut first_error: Option<String> = None;
    let mut after_cooperative = 0i64;
    loop {
        let cooperatives = next_cooperatives(&state.db, after_cooperative).await?;
        let Some(last) = cooperatives.last().copied() else {
            break;
        };
        let results = match super::cob_batch::close_chunk(state, caller, &cooperatives, date).await
        {
            Ok(chunk) => chunk
                .loans
                .into_iter()
                .map(|counts| (0, Ok(counts)))
                .collect(),
            Err(err) => {
                // Close the chunk again loan by loan, so one bad loan is isolated and named.
                tracing::warn!(%date, error = %err, "a close-of-business chunk failed; closing its loans one by one");
                let mut results = Vec::new();
                for loan_id in open_loans_of(&state.db, &cooperatives).await? {
                    results.push((loan_id, close_loan_day(state, caller, loan_id, date).await));
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
        after_cooperative = last;
        tracing::info!(%date, loans = totals.0, per_second = rate(totals.0, started), "close of business progress");
    }
    if totals.2 == 0 && is_month_end(date) {
        totals.1.entries_posted += release_finished_provisions(state, caller, date).await?;
        totals.1.entries_posted += i32::from(post_general_provision(state, caller, date).await?);
    }
    let _gate = super::writer::enter(&state.db).await;
    if totals.2 == 0 {
        for (officer_id, digest) in &digests {
            totals.1.notices_queued += i32::from(
                notices::officer_digest(&state.db, &state.settings, *officer_id, digest).await?,
            );
        }
    }
    let txn = state.db.begin().await?;
    // Move the date only if nobody else did (a second runner would have been locked out; this is
    // the belt to that pair of braces).
    let advanced = totals.2 == 0 && fund::business_date(&txn).await? == date;
    if advanced {
        fund::set_business_date(&txn, date + Duration::days(1)).await?;
    }
    let mut active = run.into_active_model();
    let status = if totals.2 == 0 {
        RunStatus::Finished
    } else {
        RunStatus::Failed
    };
    active.status = Set(status.as_str().into());
    active.finished_at = Set(Some(Utc::now()));
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

/// The next cooperatives (by id, after `after`) that have open loans.
async fn next_cooperatives(db: &DatabaseConnection, after: i64) -> AppResult<Vec<i64>> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::CooperativeId)
        .distinct()
        .filter(loan::Column::CooperativeId.gt(after))
        .filter(loan::Column::Status.is_not_in(FINISHED_STATUSES))
        .filter(loan::Column::FirstDisbursedOn.is_not_null())
        .order_by_asc(loan::Column::CooperativeId)
        .limit(COOPERATIVE_CHUNK)
        .into_tuple()
        .all(db)
        .await?)
}

/// The open loans of `cooperatives` (for the loan-by-loan fallback).
async fn open_loans_of(db: &DatabaseConnection, cooperatives: &[i64]) -> AppResult<Vec<i64>> {
    Ok(loan::Entity::find()
        .select_only()
        .column(loan::Column::Id)
        .filter(loan::Column::CooperativeId.is_in(cooperatives.iter().copied()))
        .filter(loan::Column::Status.is_not_in(FINISHED_STATUSES))
        .filter(loan::Column::FirstDisbursedOn.is_not_null())
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
    state: &AppState,
    caller: &Caller,
    loan_id: i64,
    date: NaiveDate,
) -> AppResult<LoanDayCounts> {
    let _gate = state.money_writer.enter(&state.db).await;
    let txn = state.db.begin().await?;
    // FOR UPDATE on PostgreSQL; on SQLite a first write, so the transaction waits for the write lock
    // instead of failing with "database busy" on an upgrade.
    let loan = super::loans::lock_loan(&txn, loan_id).await?;
    let next_day = date + Duration::days(1);
    let calendar = super::calendar::in_force(&txn).await?;
    let refolded = ledger::refold_and_post_with(
        &txn,
        caller,
        loan,
        next_day,
        &Posting::close_of_business(loan_id, date),
        &calendar,
        |loan, loan_state, group| provision_on(date, loan, loan_state, group),
    )
    .await?;
    let names = cooperative_names(&txn, &[refolded.loan.cooperative_id]).await?;
    let counts = finish_loan_day(state, &txn, &refolded, next_day, &calendar, &names).await?;
    txn.commit().await?;
    Ok(counts)
}

/// What closing a loan's day ends with once its books are posted and its balances cached, in the
/// close's transaction (shared by the loan-by-loan and the set-based close): the reminders and
/// overdue notices as of `next_day`, and the loan's line in its officer's digest.
pub(crate) async fn finish_loan_day(
    state: &AppState,
    txn: &DatabaseTransaction,
    refolded: &ledger::Refolded,
    next_day: NaiveDate,
    calendar: &HolidayCalendar,
    cooperative_names: &BTreeMap<i64, String>,
) -> AppResult<LoanDayCounts> {
    let notices_queued = queue_loan_notices(state, txn, refolded, next_day, calendar).await?;
    let digest = digest_line(refolded, next_day, cooperative_names)?;
    Ok(LoanDayCounts {
        entries_posted: i32::from(refolded.entry_id.is_some()),
        notices_queued,
        digest,
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

/// The specific provision a close of `date` posts for a loan: set at a month end (DOMAIN.md §8),
/// kept on every other day.
pub(crate) fn provision_on(
    date: NaiveDate,
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> Provision {
    if is_month_end(date) {
        month_end_provision(loan, state, group)
    } else {
        Provision::Keep
    }
}

/// True when `date` is the last day of its month: its close posts the provisions (DOMAIN.md §8,
/// microfinance institutions classify monthly).
pub fn is_month_end(date: NaiveDate) -> bool {
    (date + Duration::days(1)).day() == 1
}

/// DOMAIN.md §8 (Decree 86/2024 rates): specific provision = rate(group) × max(0, outstanding principal −
/// discounted collateral value), the collateral as discounted at approval (`loans.collateral_value_vnd`).
fn month_end_provision(
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> Provision {
    let outstanding = state.in_term_principal + state.overdue_principal;
    let collateral = coopfund_domain::Vnd::from_i64(loan.collateral_value_vnd);
    Provision::Set(coopfund_domain::specific_provision(
        group,
        outstanding,
        collateral,
        &super::policy::current().provision_rates,
    ))
}

/// The month-end release of the specific provision of loans that are no longer open (module docs):
/// every closed or written-off loan whose subledger still holds a balance on 22931 gets the entry that
/// moves its book to a provision of 0 (posted by difference like every close-of-business entry, under
/// the loan's `cob:{loan}:{date}` key, which the open-loan close never uses for a finished loan). In one
/// transaction; a rerun finds nothing left to release. Returns the number of entries posted.
#[tracing::instrument(skip_all, fields(%date))]
async fn release_finished_provisions(
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
) -> AppResult<i32> {
    let _gate = state.money_writer.enter(&state.db).await;
    let txn = state.db.begin().await?;
    let specific_provision = [coopfund_domain::Account::SpecificProvision.code()];
    let holding = ledger::posted_sums(
        &txn,
        &BookQuery::per_loan(LoanScope::LoansInStatus(&FINISHED_STATUSES)).on(&specific_provision),
    )
    .await?;
    let mut posted_entries = 0;
    let calendar = super::calendar::in_force(&txn).await?;
    for sum in holding {
        if sum.net_debit().is_zero() {
            continue;
        }
        let loan_id = sum.loan_id.ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("a loan's provision line has no loan"))
        })?;
        let loan = super::loans::lock_loan(&txn, loan_id).await?;
        if !FINISHED_STATUSES.contains(&loan.status.as_str()) {
            // Reopened (its payoff reversed): the open-loan close set its provision.
            continue;
        }
        let group = ledger::cached_group(loan_id, loan.debt_group)?;
        let transactions = super::loan_engine::transactions_of(&txn, loan_id).await?;
        let loan_state =
            ledger::fold_loan(&loan, &transactions, &calendar, date + Duration::days(1))?;
        let posting = Posting::close_of_business(loan_id, date);
        let entry = ledger::post_loan_difference_with(
            &txn,
            caller,
            &loan,
            &loan_state,
            group,
            &posting,
            Provision::Set(coopfund_domain::Vnd::ZERO),
        )
        .await?;
        posted_entries += i32::from(entry.is_some());
    }
    txn.commit().await?;
    Ok(posted_entries)
}

/// Posts the portfolio's general provision at a month-end close (DOMAIN.md §8: 0.5% of the outstanding
/// principal of groups 1-4), by difference against what 22932 holds: one entry without `loan_id`, Dr 6426 /
/// Cr 22932 or the reverse, business key `cob:general_provision:{date}` (a rerun finds no difference, or
/// the key). Reads the balances COB just cached on every open loan. Returns whether an entry was posted.
#[tracing::instrument(skip_all, fields(%date))]
async fn post_general_provision(
    state: &AppState,
    caller: &Caller,
    date: NaiveDate,
) -> AppResult<bool> {
    let _gate = state.money_writer.enter(&state.db).await;
    let txn = state.db.begin().await?;
    let posting = Posting::general_provision(date);
    let already = journal_entry::Entity::find()
        .filter(journal_entry::Column::BusinessKey.eq(posting.business_key.clone()))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Ok(false);
    }
    let by_group = super::reports::principal_by_group(&txn).await?;
    let summary = coopfund_domain::portfolio_summary(
        by_group.iter().map(|g| (g.group, g.principal)),
        &super::policy::current().provision_rates,
    );
    let target = coopfund_domain::general_provision_book(summary.general_provision);
    let posted = super::reports::portfolio_level_book(&txn).await?;
    let entry = coopfund_domain::entry_for_difference(&target, &posted).map_err(|e| {
        AppError::internal(anyhow::anyhow!(
            "the general provision book does not balance: {e}"
        ))
    })?;
    let Some(entry) = entry else { return Ok(false) };
    ledger::post_entry(&txn, caller, None, &entry, &posting).await?;
    txn.commit().await?;
    Ok(true)
}

/// Due reminders (T-7, T-1 by default) and overdue notices for one loan as of the morning of
/// `as_of`, i.e. after closing `as_of − 1` (DOMAIN.md §10):
///
/// - a reminder `days_before` each due date, for what will be left to pay on it once the advance
///   held is applied (the advance goes to the coming due dates in order, §5): none for an
///   installment the advance covers in full, the remainder for one it covers in part;
/// - the day after **each** missed due date (when `1` is in `overdue_days`), also when an earlier
///   one is still unpaid: a notice for every installment whose on-time window ended with the day
///   just closed and that is still unpaid. "The day after" is the day after that window, which
///   is the due date itself unless a holiday calendar extends it;
/// - on the other `overdue_days` (10, 30): a notice when the loan's days past due, counted from
///   its oldest unpaid due date, reach that number.
///
/// With the fund's calendar (DOMAIN.md §4) a reminder names the last day to pay without penalty
/// (`pay_by`), and nothing is overdue, so no notice goes out, while a loan is inside its on-time
/// window: a due date on a Sunday unpaid on Monday gets its day-after notice on Tuesday (DPD 2).
///
/// Every overdue notice shows the loan's overdue amounts in total and is copied to the officer
/// recorded on the loan.
pub(crate) async fn queue_loan_notices(
    state: &AppState,
    txn: &DatabaseTransaction,
    refolded: &ledger::Refolded,
    as_of: NaiveDate,
    calendar: &HolidayCalendar,
) -> AppResult<i32> {
    let policy = &state.settings.reminders;
    let loan = &refolded.loan;
    let loan_state = &refolded.state;
    let closed_day = as_of - Duration::days(1);
    let reminders = reminders_due(policy, loan_state, as_of);
    let mut overdue: Vec<(u32, NaiveDate)> = Vec::new();
    if policy.overdue_days.contains(&1) {
        let just_missed = loan_state.schedule.iter().filter(|i| {
            i.status == coopfund_domain::InstallmentStatus::Overdue && i.due_on <= closed_day
        });
        for installment in just_missed {
            if calendar.grace_end(installment.due_on) == closed_day {
                overdue.push((1, installment.due_on));
            }
        }
    }
    if loan_state.dpd > 1 && notices::overdue_notice_due_at(policy, loan_state.dpd) {
        overdue.push((
            days(loan_state.dpd)?,
            as_of - Duration::days(loan_state.dpd),
        ));
    }
    if reminders.is_empty() && overdue.is_empty() {
        return Ok(0);
    }
    let audience = notices::audience_for_loan(txn, loan).await?;
    let mut queued = 0;
    for (installment, advance_vnd) in reminders {
        let mail = DueReminder {
            loan_number: loan.number.clone(),
            due_date: installment.due_on,
            pay_by: calendar.grace_end(installment.due_on),
            days_before: days((installment.due_on - as_of).num_days())?,
            amounts: AmountsByComponent {
                principal_vnd: stored_vnd(installment.unpaid_principal())?,
                interest_vnd: stored_vnd(installment.unpaid_interest())?,
                ..Default::default()
            },
            advance_vnd: stored_vnd(advance_vnd)?,
        };
        queued += i32::from(
            notices::due_reminder(txn, &state.settings, &audience, loan.id, &mail).await?,
        );
    }
    if !overdue.is_empty() {
        let quote = loan_state.payoff_quote(day_count_of(loan)?);
        let oldest_due_date = as_of - Duration::days(loan_state.dpd);
        for (milestone_days, due_date) in overdue {
            let mail = OverdueNotice {
                loan_number: loan.number.clone(),
                due_date,
                days_past_due: days((as_of - due_date).num_days())?,
                earlier_unpaid_due_date: (oldest_due_date < due_date).then_some(oldest_due_date),
                as_of,
                overdue: AmountsByComponent {
                    principal_vnd: stored_vnd(quote.overdue_principal)?,
                    interest_vnd: stored_vnd(quote.unpaid_interest)?,
                    overdue_interest_vnd: stored_vnd(quote.overdue_interest)?,
                    late_interest_vnd: stored_vnd(quote.late_interest)?,
                },
            };
            queued += i32::from(
                notices::overdue_notice(
                    txn,
                    &state.settings,
                    &audience,
                    loan.id,
                    milestone_days,
                    &mail,
                )
                .await?,
            );
        }
    }
    Ok(queued)
}

/// The installments to remind of on `as_of` (a `days_before` day of the policy), each with the part
/// of the advance held that its due date will take. The advance is applied on each coming due date
/// in turn until used up (DOMAIN.md §5), so it is walked through every unpaid installment due after
/// `as_of` in order; one it covers in full gets no reminder.
fn reminders_due<'a>(
    policy: &crate::config::ReminderSettings,
    loan_state: &'a coopfund_domain::LoanState,
    as_of: NaiveDate,
) -> Vec<(&'a coopfund_domain::LoanInstallment, coopfund_domain::Vnd)> {
    let mut advance_left = loan_state.advance;
    let mut due = Vec::new();
    for installment in loan_state.schedule.iter().filter(|i| i.due_on > as_of) {
        let owed = installment.unpaid_principal() + installment.unpaid_interest();
        if !owed.is_positive() {
            continue;
        }
        let covered = advance_left.min(owed);
        advance_left -= covered;
        let remind = notices::reminder_due_in(policy, (installment.due_on - as_of).num_days());
        if remind && owed > covered {
            due.push((installment, covered));
        }
    }
    due
}

/// The loan's stored day count; text that is not one is an error naming the loan, never a default.
fn day_count_of(loan: &loan::Model) -> AppResult<coopfund_domain::DayCount> {
    loan.day_count.parse().map_err(|_| {
        AppError::internal(anyhow::anyhow!(
            "stored loan {} has day count {:?}",
            loan.id,
            loan.day_count
        ))
    })
}

/// A count of days shown in a mail (never negative here; an impossible one is an error, not a clamp).
fn days(count: i64) -> AppResult<u32> {
    u32::try_from(count)
        .map_err(|_| AppError::internal(anyhow::anyhow!("{count} days cannot be shown in a mail")))
}

fn empty_digest(date: NaiveDate) -> OfficerDigest {
    OfficerDigest {
        business_date: date + Duration::days(1),
        due_within_days: DIGEST_DAYS_AHEAD as u32,
        due_soon: vec![],
        overdue: vec![],
    }
}

/// The loan's line in its officer's daily digest (DOMAIN.md §10): overdue loans, and loans with
/// an installment due within a week of `as_of`. `(officer id, line, overdue?)`.
fn digest_line(
    refolded: &ledger::Refolded,
    as_of: NaiveDate,
    cooperative_names: &BTreeMap<i64, String>,
) -> AppResult<Option<(i64, DigestLine, bool)>> {
    let loan = &refolded.loan;
    let Some(officer_id) = loan.officer_id else {
        return Ok(None);
    };
    let loan_state = &refolded.state;
    let horizon = as_of + Duration::days(DIGEST_DAYS_AHEAD);
    let overdue = loan_state.dpd > 0;
    let (due_date, amount) = if overdue {
        (
            as_of - Duration::days(loan_state.dpd),
            loan_state.overdue_principal + loan_state.unpaid_interest,
        )
    } else {
        let next = loan_state.schedule.iter().find(|i| {
            i.due_on >= as_of
                && i.due_on <= horizon
                && !matches!(
                    i.status,
                    coopfund_domain::InstallmentStatus::Paid
                        | coopfund_domain::InstallmentStatus::Restructured
                )
        });
        let Some(next) = next else { return Ok(None) };
        (
            next.due_on,
            (next.principal - next.paid_principal) + (next.interest - next.paid_interest),
        )
    };
    let cooperative_name = cooperative_names.get(&loan.cooperative_id).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "loan {} belongs to cooperative {}, which is not stored",
            loan.id,
            loan.cooperative_id
        ))
    })?;
    let line = DigestLine {
        loan_number: loan.number.clone(),
        cooperative_name: cooperative_name.clone(),
        due_date,
        amount_vnd: stored_vnd(amount)?,
        days_past_due: days(loan_state.dpd)?,
    };
    Ok(Some((officer_id, line, overdue)))
}

/// The runs, newest first. Admins, accountants and auditors.
#[tracing::instrument(skip_all)]
pub async fn list_runs(
    db: &DatabaseConnection,
    caller: &Caller,
    limit: Option<u64>,
    cursor: Option<&str>,
) -> AppResult<CobRunPage> {
    caller.require(&[Role::Admin, Role::Accountant, Role::Auditor])?;
    let (limit, cursor) = super::cooperatives::paging(limit, cursor)?;
    let mut select = cob_run::Entity::find().order_by_desc(cob_run::Column::Id);
    if let Some(cursor) = cursor {
        select = select.filter(cob_run::Column::Id.lt(cursor));
    }
    let rows = select.limit(limit + 1).all(db).await?;
    let has_more = rows.len() as u64 > limit;
    let items = rows
        .into_iter()
        .take(limit as usize)
        .map(CobRun::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    let next_cursor = has_more
        .then(|| items.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(CobRunPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_statuses_and_triggers_read_back_what_is_stored_and_refuse_anything_else() {
        for status in [RunStatus::Running, RunStatus::Finished, RunStatus::Failed] {
            assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
        }
        for trigger in [Trigger::Schedule, Trigger::Api, Trigger::Cli] {
            assert_eq!(trigger.as_str().parse::<Trigger>().unwrap(), trigger);
        }
        let err = "done".parse::<RunStatus>().unwrap_err();
        assert!(err.to_string().contains("\"done\""), "{err}");
    }

    #[test]
    fn a_stored_run_with_an_unknown_status_is_an_error_naming_the_run() {
        let row = cob_run::Model {
            id: 17,
            business_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            status: "foo".into(),
            trigger: "api".into(),
            instance: "host:1".into(),
            started_at: Utc::now(),
            finished_at: None,
            loans_processed: 0,
            entries_posted: 0,
            notices_queued: 0,
            errors: 0,
            message: None,
        };
        let err = CobRun::try_from(row).unwrap_err();
        assert!(err.to_string().contains("run 17"), "{err}");
    }
}

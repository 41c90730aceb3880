//! The close of business in bulk: one day closed for a chunk of cooperatives in one transaction,
//! with a handful of set-based queries instead of round trips per loan.
//!
//! For a chunk: lock and load the cooperatives' open loans (`FOR UPDATE` on PostgreSQL; a first
//! write on SQLite), load all their transactions and all their posted books in one query each,
//! fold every loan with the engine, give every loan of a cooperative the group of its worst loan
//! (DOMAIN.md §8: "all loans of one cooperative take the group of its worst loan"), post each loan's
//! difference (entries inserted together, lines inserted together), update the cached balances of
//! the loans whose balances changed, and mark every loan's balances as of the new day in one
//! statement. Notices are queued from the same folds. A loan folds only the events after its latest
//! snapshot (issue 14): the day advances the snapshot instead of replaying the loan's whole history. A chunk that fails is rolled back whole and
//! closed again loan by loan by [`super::cob`], which isolates and reports the loan at fault.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use coopfund_domain::{
    classification::DebtGroup,
    snapshot::{AdvanceError, FoldSnapshot},
    LoanEvent, LoanState,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use super::{
    cob::{self, LoanDayCounts},
    ledger::{self, LoanEntry, Posting, Refolded},
    loan_engine, Caller,
};
use crate::{
    app::context::AppCtx,
    error::{AppError, AppResult},
    store::{
        self,
        entities::{loan, loan_snapshot, loan_transaction},
    },
};

/// The most loan ids bound in one query (SQLite allows 32,766 bound values).
const LOAN_IDS_PER_QUERY_MAX: usize = 4_000;

/// What one chunk produced: per-loan counts (for digests and totals).
pub(crate) struct ChunkOutcome {
    pub(crate) loans: Vec<LoanDayCounts>,
}

/// Closes day `date` for every open loan of `cooperative_ids`, in one transaction: the set-based twin
/// of the loan-by-loan close (`super::cob`), with the same posting header, provision and notices.
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
    )
)]
pub(crate) async fn close_chunk(
    ctx: &AppCtx,
    caller: &Caller,
    cooperative_ids: &[i64],
    date: NaiveDate,
) -> AppResult<ChunkOutcome> {
    let _gate = ctx.writer.enter(&ctx.db).await;
    let txn = ctx.db.begin().await?;
    let loans = lock_open_loans(&txn, cooperative_ids).await?;
    let ids: Vec<i64> = loans.iter().map(|l| l.id).collect();
    let span = tracing::Span::current();
    span.record("loans", ids.len());
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        span.record("first_loan", first);
        span.record("last_loan", last);
    }
    let mut posted = ledger::posted_books(&txn, &ids).await?;
    let names = cob::cooperative_names(&txn, cooperative_ids).await?;
    let next_day = date + Duration::days(1);
    let now = ctx.now();
    let calendar = super::calendar::in_force(&txn).await?;

    // Fold every loan (from its snapshot when it has a usable one), then take each cooperative's worst group.
    let (folded, snapshots) = fold_loans(&txn, loans, &calendar, next_day, now).await?;
    loan_engine::store_snapshots(&txn, snapshots).await?;
    let mut worst: HashMap<i64, DebtGroup> = HashMap::new();
    for (loan, loan_state) in &folded {
        let group = loan_engine::loan_group(loan_state, &ctx.policy.classification);
        let entry = worst.entry(loan.cooperative_id).or_insert(group);
        *entry = (*entry).max(group);
    }
    let group_of = |loan: &loan::Model| {
        worst
            .get(&loan.cooperative_id)
            .copied()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("loan {} was not folded", loan.id)))
    };

    // The differences to post.
    let mut entries = Vec::new();
    for (loan, loan_state) in &folded {
        let group = group_of(loan)?;
        // A loan with nothing posted yet has an empty book.
        let book = posted.remove(&loan.id).unwrap_or_default();
        let provision = cob::provision_on(&ctx.policy, date, loan, loan_state, group);
        if let Some(entry) = ledger::loan_difference(loan, loan_state, group, &book, provision)? {
            entries.push(LoanEntry {
                loan_id: loan.id,
                posting: Posting::close_of_business(loan.id, date, now),
                entry,
            });
        }
    }
    let posted_ids = ledger::post_loan_entries(&txn, caller, &entries).await?;

    // Cached balances, notices, digest lines.
    let mut outcomes = Vec::with_capacity(folded.len());
    for (loan, loan_state) in folded {
        let group = group_of(&loan)?;
        let loan = if balances_changed(&loan, &loan_state, group)? {
            ledger::cache_balances(&txn, loan, &loan_state, group, next_day, now).await?
        } else {
            loan
        };
        let refolded = Refolded {
            entry_id: posted_ids.get(&loan.id).copied(),
            state: loan_state,
            loan,
        };
        outcomes
            .push(cob::finish_loan_day(ctx, &txn, &refolded, next_day, &calendar, &names).await?);
    }
    loan::Entity::update_many()
        .col_expr(loan::Column::BalancesAsOf, Expr::value(Some(next_day)))
        .filter(loan::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(ChunkOutcome { loans: outcomes })
}

/// The open (disbursed, not closed or written off) loans of the cooperatives, locked.
async fn lock_open_loans(
    txn: &DatabaseTransaction,
    cooperative_ids: &[i64],
) -> AppResult<Vec<loan::Model>> {
    let open = || {
        loan::Entity::find()
            .filter(loan::Column::CooperativeId.is_in(cooperative_ids.iter().copied()))
            .filter(loan::Column::Status.is_not_in(cob::FINISHED_STATUSES))
            .filter(loan::Column::FirstDisbursedOn.is_not_null())
            .order_by_asc(loan::Column::Id)
    };
    if store::is_sqlite_conn(txn) {
        // A first write takes SQLite's write lock, so the transaction waits instead of failing on
        // an upgrade later (the in-process gate already keeps this process's writers in line).
        loan::Entity::update_many()
            .col_expr(loan::Column::Version, Expr::col(loan::Column::Version))
            .filter(loan::Column::CooperativeId.is_in(cooperative_ids.iter().copied()))
            .exec(txn)
            .await?;
        Ok(open().all(txn).await?)
    } else {
        Ok(open().lock_exclusive().all(txn).await?)
    }
}

/// Each loan folded to the start of `next_day`, and the snapshots to write (issue 14, `loan_engine` docs).
///
/// A loan with a snapshot of the last [`loan_engine::SNAPSHOT_REFRESH_DAYS`] days folds only the events after it
/// (read for the whole chunk in one query: those dated on or after the oldest snapshot, and reversals); one
/// without, or whose snapshot those events contradict, is refolded from all its events. A loan's snapshot is
/// rewritten when it had none, when it is a week old, or on its day of the week (loan id modulo 7), so about a
/// seventh of the loans write one each day.
async fn fold_loans(
    txn: &DatabaseTransaction,
    loans: Vec<loan::Model>,
    calendar: &coopfund_domain::HolidayCalendar,
    next_day: NaiveDate,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(
    Vec<(loan::Model, LoanState)>,
    Vec<loan_snapshot::ActiveModel>,
)> {
    let ids: Vec<i64> = loans.iter().map(|l| l.id).collect();
    let not_before = next_day - Duration::days(loan_engine::SNAPSHOT_REFRESH_DAYS);
    let snapshots = loan_engine::latest_snapshots(txn, &ids, not_before, next_day).await?;
    let with: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| snapshots.contains_key(id))
        .collect();
    let without: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !snapshots.contains_key(id))
        .collect();
    let mut pending = match snapshots.values().map(|s| s.as_of).min() {
        Some(oldest) => transactions_by_loan(txn, &with, Some(oldest)).await?,
        None => HashMap::new(),
    };
    let mut transactions = transactions_by_loan(txn, &without, None).await?;
    let day_of_week = i64::from(chrono::Datelike::num_days_from_ce(&next_day));
    let mut folded = Vec::with_capacity(loans.len());
    let mut rows = Vec::new();
    for loan in loans {
        let contract = loan_engine::contract_of(&loan, calendar)?;
        let advanced = match snapshots.get(&loan.id) {
            Some(snapshot) => {
                let events: Vec<LoanEvent> =
                    loan_engine::events_of(&pending.remove(&loan.id).unwrap_or_default())?
                        .into_iter()
                        .filter(|e| snapshot.is_pending(e))
                        .collect();
                match coopfund_domain::snapshot::advance_folder(
                    &contract, snapshot, &events, next_day,
                ) {
                    Ok(folder) => {
                        let covered = events
                            .iter()
                            .map(|e| e.sequence)
                            .fold(snapshot.covered_sequence, u64::max);
                        Some((folder, covered, snapshot.as_of))
                    }
                    Err(AdvanceError::Fold(error)) => return Err(loan_engine::fold_error(error)),
                    Err(AdvanceError::Stale(stale)) => {
                        tracing::debug!(loan_id = loan.id, %stale, "snapshot not used by the close");
                        None
                    }
                }
            }
            None => None,
        };
        let (state, snapshot) = match advanced {
            Some((folder, covered, as_of)) => {
                let due = (next_day - as_of).num_days() >= loan_engine::SNAPSHOT_REFRESH_DAYS
                    || (loan.id + day_of_week).rem_euclid(loan_engine::SNAPSHOT_REFRESH_DAYS) == 0;
                let snapshot =
                    due.then(|| FoldSnapshot::of_folder(&contract, &folder, next_day, covered));
                (folder.into_state(), snapshot)
            }
            None => {
                let all = match transactions.remove(&loan.id) {
                    Some(all) => all,
                    // Not read with the chunk: it had a snapshot, which turned out stale.
                    None => loan_engine::transactions_of(txn, loan.id).await?,
                };
                let snapshot =
                    FoldSnapshot::take(&contract, &loan_engine::events_of(&all)?, next_day)
                        .map_err(loan_engine::fold_error)?;
                let state = snapshot.state(&contract).map_err(loan_engine::fold_error)?;
                (state, Some(snapshot))
            }
        };
        if let Some(snapshot) = snapshot {
            rows.push(loan_engine::snapshot_row(loan.id, &snapshot, now)?);
        }
        folded.push((loan, state));
    }
    Ok((folded, rows))
}

/// The transactions of the loans `ids` in insertion order, by loan: all of them, or (`since`) those dated on or
/// after `since` and every reversal (what a snapshot of `since` or later may still have to fold).
async fn transactions_by_loan(
    txn: &DatabaseTransaction,
    ids: &[i64],
    since: Option<NaiveDate>,
) -> AppResult<HashMap<i64, Vec<loan_transaction::Model>>> {
    let mut by_loan: HashMap<i64, Vec<loan_transaction::Model>> = HashMap::new();
    for batch in ids.chunks(LOAN_IDS_PER_QUERY_MAX) {
        let mut select = loan_transaction::Entity::find()
            .filter(loan_transaction::Column::LoanId.is_in(batch.iter().copied()));
        if let Some(since) = since {
            select = select.filter(
                Condition::any()
                    .add(loan_transaction::Column::ValueDate.gte(since))
                    .add(loan_transaction::Column::Kind.eq(loan_engine::kind::REVERSAL)),
            );
        }
        let rows = select
            .order_by_asc(loan_transaction::Column::Id)
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

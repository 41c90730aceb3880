//! The close of business in bulk: one day closed for a chunk of cooperatives in one transaction,
//! with a handful of set-based queries instead of round trips per loan.
//!
//! For a chunk: lock and load the cooperatives' open loans (`FOR UPDATE` on PostgreSQL; a first
//! write on SQLite), load all their transactions and all their posted books in one query each,
//! fold every loan with the engine, give every loan of a cooperative the group of its worst loan
//! (DOMAIN.md §8: "all loans of one cooperative take the group of its worst loan"), post each loan's
//! difference (entries inserted together, lines inserted together), update the cached balances of
//! the loans whose balances changed, and mark every loan's balances as of the new day in one
//! statement. Notices are queued from the same folds. A chunk that fails is rolled back whole and
//! closed again loan by loan by [`super::cob`], which isolates and reports the loan at fault.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, Utc};
use coopfund_domain::{
    classification::DebtGroup, entry_for_difference, Account, AccountBalances, Side, Vnd,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use super::{
    cob::{self, LoanDayCounts},
    ledger::{self, Posting, Provision, Refolded},
    loan_engine, Caller,
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    store::{
        self,
        entities::{cooperative, journal_entry, journal_line, loan, loan_transaction},
        sum_vnd,
    },
};

/// The most rows of one multi-row INSERT (SQLite allows 32,766 bound values; lines have 5).
const INSERT_ROWS_MAX: usize = 4_000;

/// What one chunk produced: per-loan counts (for digests and totals).
pub(crate) struct ChunkOutcome {
    pub(crate) loans: Vec<LoanDayCounts>,
}

/// Closes day `date` for every open loan of `cooperative_ids`, in one transaction.
pub(crate) async fn close_chunk(
    state: &AppState,
    caller: &Caller,
    cooperative_ids: &[i64],
    date: NaiveDate,
) -> AppResult<ChunkOutcome> {
    let _gate = state.money_writer.enter(&state.db).await;
    let txn = state.db.begin().await?;
    let loans = lock_open_loans(&txn, cooperative_ids).await?;
    let ids: Vec<i64> = loans.iter().map(|l| l.id).collect();
    let mut transactions = transactions_by_loan(&txn, &ids).await?;
    let mut posted = posted_books(&txn, &ids).await?;
    let names = cooperative_names(&txn, cooperative_ids).await?;
    let next_day = date + Duration::days(1);
    let calendar = super::calendar::in_force(&txn).await?;

    // Fold every loan, then take each cooperative's worst group.
    let mut folded = Vec::with_capacity(loans.len());
    for loan in loans {
        let contract = loan_engine::contract_of(&loan, &calendar)?;
        let events = loan_engine::events_of(&transactions.remove(&loan.id).unwrap_or_default())?;
        let loan_state = loan_engine::fold_at(&contract, &events, next_day)?;
        let own_group = loan_engine::loan_group(&loan_state);
        folded.push((loan, loan_state, own_group));
    }
    let mut worst: HashMap<i64, DebtGroup> = HashMap::new();
    for (loan, _, group) in &folded {
        let entry = worst.entry(loan.cooperative_id).or_insert(*group);
        *entry = (*entry).max(*group);
    }

    // The differences to post.
    let month_end = cob::is_month_end(date);
    let mut differences = Vec::new();
    for (loan, loan_state, own_group) in &folded {
        let group = worst
            .get(&loan.cooperative_id)
            .copied()
            .unwrap_or(*own_group);
        let book = posted.remove(&loan.id).unwrap_or_default();
        let provision = if month_end {
            cob::month_end_provision(loan, loan_state, group)
        } else {
            Provision::Keep
        };
        let target = ledger::target_book_with(loan, loan_state, group, &book, provision)?;
        let entry = entry_for_difference(&target, &book).map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "loan {} book does not balance: {e}",
                loan.id
            ))
        })?;
        if let Some(entry) = entry {
            differences.push((loan.id, entry));
        }
    }
    let posted_ids = insert_entries(&txn, caller, date, &differences).await?;

    // Cached balances, notices, digest lines.
    let mut outcomes = Vec::with_capacity(folded.len());
    for (loan, loan_state, own_group) in folded {
        let group = worst
            .get(&loan.cooperative_id)
            .copied()
            .unwrap_or(own_group);
        let loan = if balances_changed(&loan, &loan_state, group) {
            ledger::cache_balances(&txn, loan, &loan_state, group, next_day).await?
        } else {
            loan
        };
        let entry_id = posted_ids.get(&loan.id).copied();
        let refolded = Refolded {
            state: loan_state,
            loan,
            entry_id,
        };
        let notices_queued =
            cob::queue_loan_notices(state, &txn, &refolded, next_day, &calendar).await?;
        let name = names
            .get(&refolded.loan.cooperative_id)
            .cloned()
            .unwrap_or_default();
        let digest = cob::digest_line_named(&refolded, next_day, name);
        outcomes.push(LoanDayCounts {
            entries_posted: i32::from(entry_id.is_some()),
            notices_queued,
            digest,
        });
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

async fn transactions_by_loan(
    txn: &DatabaseTransaction,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<loan_transaction::Model>>> {
    let mut by_loan: HashMap<i64, Vec<loan_transaction::Model>> = HashMap::new();
    for batch in ids.chunks(INSERT_ROWS_MAX) {
        let rows = loan_transaction::Entity::find()
            .filter(loan_transaction::Column::LoanId.is_in(batch.iter().copied()))
            .order_by_asc(loan_transaction::Column::Id)
            .all(txn)
            .await?;
        for row in rows {
            by_loan.entry(row.loan_id).or_default().push(row);
        }
    }
    Ok(by_loan)
}

/// Each loan's posted book (net debits by account), for all `ids` in one grouped query.
async fn posted_books(
    txn: &DatabaseTransaction,
    ids: &[i64],
) -> AppResult<HashMap<i64, AccountBalances>> {
    let mut books: HashMap<i64, AccountBalances> = HashMap::new();
    for batch in ids.chunks(INSERT_ROWS_MAX) {
        let rows: Vec<(Option<i64>, String, i64, i64)> = journal_line::Entity::find()
            .select_only()
            .column(journal_line::Column::LoanId)
            .column(journal_line::Column::AccountCode)
            .column_as(sum_vnd("debit_vnd"), "debits")
            .column_as(sum_vnd("credit_vnd"), "credits")
            .filter(journal_line::Column::LoanId.is_in(batch.iter().copied()))
            .group_by(journal_line::Column::LoanId)
            .group_by(journal_line::Column::AccountCode)
            .into_tuple()
            .all(txn)
            .await?;
        for (loan_id, code, debits, credits) in rows {
            let Some(loan_id) = loan_id else { continue };
            let account = Account::from_code(&code).ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("journal line on unknown account {code}"))
            })?;
            books
                .entry(loan_id)
                .or_default()
                .add(account, Vnd::from_i64(debits) - Vnd::from_i64(credits));
        }
    }
    Ok(books)
}

async fn cooperative_names(
    txn: &DatabaseTransaction,
    ids: &[i64],
) -> AppResult<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = cooperative::Entity::find()
        .select_only()
        .column(cooperative::Column::Id)
        .column(cooperative::Column::Name)
        .filter(cooperative::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Inserts one entry per loan (business key `cob:{loan}:{date}`) and all their lines; returns
/// each loan's entry id.
async fn insert_entries(
    txn: &DatabaseTransaction,
    caller: &Caller,
    date: NaiveDate,
    differences: &[(i64, coopfund_domain::JournalEntry)],
) -> AppResult<HashMap<i64, i64>> {
    if differences.is_empty() {
        return Ok(HashMap::new());
    }
    let key = |loan_id: i64| format!("cob:{loan_id}:{date}");
    let posting = Posting {
        kind: "close_of_business".into(),
        entry_date: date,
        description: format!("Khóa sổ ngày {date} / close of business {date}"),
        transaction_id: None,
        reverses_entry_id: None,
        business_key: None,
    };
    let now = Utc::now();
    for batch in differences.chunks(INSERT_ROWS_MAX / 2) {
        let headers = batch.iter().map(|(loan_id, _)| journal_entry::ActiveModel {
            entry_date: Set(posting.entry_date),
            kind: Set(posting.kind.clone()),
            description: Set(posting.description.clone()),
            loan_id: Set(Some(*loan_id)),
            transaction_id: Set(None),
            reverses_entry_id: Set(None),
            business_key: Set(Some(key(*loan_id))),
            created_by: Set(caller.user_id()),
            posted_at: Set(now),
            ..Default::default()
        });
        journal_entry::Entity::insert_many(headers)
            .exec(txn)
            .await?;
    }
    // Read the ids back by their unique keys (portable, unlike relying on RETURNING order).
    let mut entry_ids = HashMap::new();
    for batch in differences.chunks(INSERT_ROWS_MAX) {
        let keys: Vec<String> = batch.iter().map(|(loan_id, _)| key(*loan_id)).collect();
        let rows: Vec<(i64, Option<i64>)> = journal_entry::Entity::find()
            .select_only()
            .column(journal_entry::Column::Id)
            .column(journal_entry::Column::LoanId)
            .filter(journal_entry::Column::BusinessKey.is_in(keys))
            .into_tuple()
            .all(txn)
            .await?;
        entry_ids.extend(
            rows.into_iter()
                .filter_map(|(id, loan_id)| loan_id.map(|l| (l, id))),
        );
    }
    let mut lines = Vec::new();
    for (loan_id, entry) in differences {
        let entry_id = *entry_ids.get(loan_id).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "entry of loan {loan_id} not found after insert"
            ))
        })?;
        for line in entry.lines() {
            let amount = line
                .amount
                .to_i64()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("amount overflow")))?;
            let (debit_vnd, credit_vnd) = if line.side == Side::Debit {
                (amount, 0)
            } else {
                (0, amount)
            };
            lines.push(journal_line::ActiveModel {
                entry_id: Set(entry_id),
                account_code: Set(line.account.code().to_string()),
                debit_vnd: Set(debit_vnd),
                credit_vnd: Set(credit_vnd),
                loan_id: Set(Some(*loan_id)),
                ..Default::default()
            });
        }
    }
    while !lines.is_empty() {
        let rest = lines.split_off(lines.len().min(INSERT_ROWS_MAX));
        journal_line::Entity::insert_many(std::mem::replace(&mut lines, rest))
            .exec(txn)
            .await?;
    }
    Ok(entry_ids)
}

/// Whether the engine's balances differ from those cached on the loan row (then it is rewritten).
fn balances_changed(
    loan: &loan::Model,
    state: &coopfund_domain::LoanState,
    group: DebtGroup,
) -> bool {
    let i64_of = |v: Vnd| v.to_i64().unwrap_or(i64::MAX);
    loan.status != ledger::status_of(&loan.status, state)
        || loan.disbursed_vnd != i64_of(state.disbursed)
        || loan.in_term_principal_vnd != i64_of(state.in_term_principal)
        || loan.overdue_principal_vnd != i64_of(state.overdue_principal)
        || loan.advance_vnd != i64_of(state.advance)
        || i64::from(loan.dpd) != state.dpd
        || loan.debt_group != i32::from(group.number())
        || i64::from(loan.restructure_count) != i64::from(state.restructure_count)
        || loan.first_disbursed_on != state.first_disbursed_on
        || loan.closed_on != state.closed_on.or(state.written_off_on)
}

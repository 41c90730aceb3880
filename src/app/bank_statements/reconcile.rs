//! Reconciling a statement: the bank's opening and closing balances against account 1121 (cash at
//! bank) for the same dates, and the difference explained line by line.
//!
//! **Dates.** The bank dates money by value date; the books date an entry by the business date it was
//! posted on (a repayment confirmed on 5 April for a transfer of 28 March is in the journal of 5 April).
//! To compare like with like, a 1121 posting that belongs to a loan transaction counts on that
//! transaction's value date; any other (charter capital) on its entry date.
//!
//! **Explained differences.** Bank lines of the period not posted (open, or rejected as not a
//! repayment: the bank has them, the books do not), and 1121 postings of the period that no bank line
//! accounts for (the books have them, the bank does not). What is left is `unexplained_vnd`; a
//! statement reconciles when both balance differences and the unexplained amount are 0.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use super::{statement_not_found, Direction, LineStatus, READERS};
use crate::{
    app::Caller,
    error::{AppError, AppResult},
    store::entities::{
        bank_statement, bank_statement_line, journal_entry, journal_line, loan_transaction,
    },
};

/// Cash at bank (DOMAIN.md §9).
pub const CASH_AT_BANK: &str = "1121";

/// A bank line the books do not have.
#[derive(Debug, Clone, Serialize)]
pub struct UnpostedLine {
    pub line_id: i64,
    pub value_date: NaiveDate,
    /// + money in, − money out.
    pub signed_amount_vnd: i64,
    pub status: LineStatus,
    pub description: String,
}

/// A 1121 posting no bank line accounts for.
#[derive(Debug, Clone, Serialize)]
pub struct UnmatchedPosting {
    pub entry_id: i64,
    pub transaction_id: Option<i64>,
    pub date: NaiveDate,
    /// + debit of 1121 (money in), − credit.
    pub signed_amount_vnd: i64,
    pub description: String,
}

/// The reconciliation of one statement.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub statement_id: i64,
    pub bank_account: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// The bank's balance at the end of the day before `period_from` (null if the file gave none).
    pub bank_opening_vnd: Option<i64>,
    pub bank_closing_vnd: Option<i64>,
    /// 1121 at the end of the day before `period_from`.
    pub ledger_opening_vnd: i64,
    /// 1121 at the end of `period_to`.
    pub ledger_closing_vnd: i64,
    /// bank − ledger, opening (null without a bank balance).
    pub opening_difference_vnd: Option<i64>,
    /// bank − ledger, closing.
    pub closing_difference_vnd: Option<i64>,
    pub unposted_lines: Vec<UnpostedLine>,
    pub postings_without_bank_line: Vec<UnmatchedPosting>,
    /// The movement difference the lists above do not explain.
    pub unexplained_vnd: i64,
    /// The statement gave both balances, both differences and the unexplained amount are 0, and no
    /// line or posting is left unexplained.
    pub reconciled: bool,
}

/// Reconciles statement `id` (accountants, admins, auditors).
#[tracing::instrument(name = "reconcile a bank statement", skip_all, fields(statement_id = id))]
pub async fn reconcile(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<Reconciliation> {
    caller.require(READERS)?;
    let statement = bank_statement::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(statement_not_found)?;
    let lines = bank_statement_line::Entity::find()
        .filter(bank_statement_line::Column::BankAccount.eq(statement.bank_account.as_str()))
        .all(db)
        .await?;
    let from = statement
        .period_from
        .or_else(|| {
            lines
                .iter()
                .filter(|l| l.statement_id == id)
                .map(|l| l.value_date)
                .min()
        })
        .unwrap_or_default();
    let to = statement
        .period_to
        .or_else(|| {
            lines
                .iter()
                .filter(|l| l.statement_id == id)
                .map(|l| l.value_date)
                .max()
        })
        .unwrap_or(from);

    // Every 1121 posting with its effective date.
    let postings: Vec<(i64, i64, i64)> = journal_line::Entity::find()
        .select_only()
        .column(journal_line::Column::EntryId)
        .column(journal_line::Column::DebitVnd)
        .column(journal_line::Column::CreditVnd)
        .filter(journal_line::Column::AccountCode.eq(CASH_AT_BANK))
        .into_tuple()
        .all(db)
        .await?;
    let entry_ids: Vec<i64> = {
        let mut ids: Vec<i64> = postings.iter().map(|p| p.0).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut entries: HashMap<i64, journal_entry::Model> = HashMap::new();
    for chunk in entry_ids.chunks(500) {
        for e in journal_entry::Entity::find()
            .filter(journal_entry::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            entries.insert(e.id, e);
        }
    }
    let tx_ids: Vec<i64> = entries.values().filter_map(|e| e.transaction_id).collect();
    let mut value_dates: HashMap<i64, NaiveDate> = HashMap::new();
    for chunk in tx_ids.chunks(500) {
        let rows: Vec<(i64, NaiveDate)> = loan_transaction::Entity::find()
            .select_only()
            .column(loan_transaction::Column::Id)
            .column(loan_transaction::Column::ValueDate)
            .filter(loan_transaction::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        value_dates.extend(rows);
    }
    let effective = |entry: &journal_entry::Model| {
        entry
            .transaction_id
            .and_then(|t| value_dates.get(&t).copied())
            .unwrap_or(entry.entry_date)
    };
    let before_from = from.pred_opt().unwrap_or(from);
    let mut ledger_opening_vnd = 0i64;
    let mut ledger_closing_vnd = 0i64;
    // Per entry: the signed 1121 amount within the period.
    let mut in_period: HashMap<i64, i64> = HashMap::new();
    for (entry_id, debit, credit) in &postings {
        let Some(entry) = entries.get(entry_id) else {
            continue;
        };
        let date = effective(entry);
        let signed = debit - credit;
        if date <= before_from {
            ledger_opening_vnd += signed;
        }
        if date <= to {
            ledger_closing_vnd += signed;
        }
        if date >= from && date <= to {
            *in_period.entry(*entry_id).or_insert(0) += signed;
        }
    }

    // What the bank lines of the period account for.
    let period_lines: Vec<&bank_statement_line::Model> = lines
        .iter()
        .filter(|l| l.value_date >= from && l.value_date <= to)
        .collect();
    let mut explained_tx: HashSet<i64> = HashSet::new();
    for line in &lines {
        if LineStatus::of(line)? == LineStatus::Posted {
            let posted =
                serde_json::from_str::<Vec<i64>>(&line.posted_transactions).map_err(|_| {
                    AppError::unreadable(
                        "bank statement line",
                        line.id,
                        "posted_transactions",
                        &line.posted_transactions,
                    )
                })?;
            explained_tx.extend(posted);
        }
    }
    let signed = |l: &bank_statement_line::Model| -> AppResult<i64> {
        Ok(match Direction::of(l)? {
            Direction::Credit => l.amount_vnd,
            Direction::Debit => -l.amount_vnd,
        })
    };
    let mut unposted_lines: Vec<UnpostedLine> = Vec::new();
    for &l in &period_lines {
        let status = LineStatus::of(l)?;
        if status != LineStatus::Posted {
            unposted_lines.push(UnpostedLine {
                line_id: l.id,
                value_date: l.value_date,
                signed_amount_vnd: signed(l)?,
                status,
                description: l.description.clone(),
            });
        }
    }
    let mut postings_without_bank_line: Vec<UnmatchedPosting> = in_period
        .iter()
        .filter_map(|(entry_id, amount)| {
            let entry = entries.get(entry_id)?;
            let explained = entry
                .transaction_id
                .is_some_and(|t| explained_tx.contains(&t));
            (!explained && *amount != 0).then(|| UnmatchedPosting {
                entry_id: *entry_id,
                transaction_id: entry.transaction_id,
                date: effective(entry),
                signed_amount_vnd: *amount,
                description: entry.description.clone(),
            })
        })
        .collect();
    postings_without_bank_line.sort_by_key(|p| (p.date, p.entry_id));

    let bank_movement_vnd = match (statement.opening_balance_vnd, statement.closing_balance_vnd) {
        (Some(open), Some(close)) => close - open,
        _ => period_lines
            .iter()
            .map(|l| signed(l))
            .sum::<AppResult<i64>>()?,
    };
    let ledger_movement_vnd = ledger_closing_vnd - ledger_opening_vnd;
    let explained_vnd: i64 = unposted_lines
        .iter()
        .map(|l| l.signed_amount_vnd)
        .sum::<i64>()
        - postings_without_bank_line
            .iter()
            .map(|p| p.signed_amount_vnd)
            .sum::<i64>();
    let unexplained_vnd = bank_movement_vnd - ledger_movement_vnd - explained_vnd;
    let opening_difference_vnd = statement
        .opening_balance_vnd
        .map(|b| b - ledger_opening_vnd);
    let closing_difference_vnd = statement
        .closing_balance_vnd
        .map(|b| b - ledger_closing_vnd);
    Ok(Reconciliation {
        statement_id: statement.id,
        bank_account: statement.bank_account,
        period_from: from,
        period_to: to,
        bank_opening_vnd: statement.opening_balance_vnd,
        bank_closing_vnd: statement.closing_balance_vnd,
        ledger_opening_vnd,
        ledger_closing_vnd,
        opening_difference_vnd,
        closing_difference_vnd,
        // Without the bank's balances there is nothing to reconcile against: never "reconciled".
        reconciled: opening_difference_vnd == Some(0)
            && closing_difference_vnd == Some(0)
            && unexplained_vnd == 0
            && unposted_lines.is_empty()
            && postings_without_bank_line.is_empty(),
        unposted_lines,
        postings_without_bank_line,
        unexplained_vnd,
    })
}

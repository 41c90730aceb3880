//! `coopfund ledger verify`: every entry balances, the control accounts equal the loan subledgers, each loan's
//! running book (`loan_books`) equals the sums of its journal lines, and each loan's cached balances and posted
//! book equal the engine's replay of its events.

use coopfund_domain::ClassificationConfig;
use std::collections::BTreeMap;

use coopfund_domain::{classification::DebtGroup, Account, AccountBalances, HolidayCalendar, Vnd};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};
use serde::Serialize;

use super::{
    books::{posted_sums, BookQuery, LoanScope, PostedSum},
    posting::{fold_loan, target_book, Provision},
    status_of,
};
use crate::{
    app::loan_engine::{loan_group, transactions_of},
    error::AppResult,
    store::entities::{journal_entry, journal_line, loan, loan_book},
};

/// What `coopfund ledger verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Journal entries checked.
    pub entries_checked: u64,
    /// Loans checked.
    pub loans_checked: u64,
    /// Σ debits of every line.
    pub total_debit_vnd: i64,
    /// Σ credits of every line.
    pub total_credit_vnd: i64,
    /// Every difference, readable; empty when everything holds.
    pub differences: Vec<String>,
}

impl VerifyReport {
    /// True when every check holds.
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }

    /// A readable report.
    pub fn render(&self) -> String {
        let mut out = format!(
            "ledger verify: {} entries, {} loans, debits {} = credits {}\n",
            self.entries_checked, self.loans_checked, self.total_debit_vnd, self.total_credit_vnd
        );
        if self.passed() {
            out.push_str("OK: every check holds\n");
        } else {
            out.push_str(&format!(
                "FAILED: {} difference(s)\n",
                self.differences.len()
            ));
            for difference in &self.differences {
                out.push_str(&format!("  - {difference}\n"));
            }
        }
        out
    }
}

/// The control accounts whose totals must equal the sum of the loan subledgers.
/// 22931 is one too: every specific provision line belongs to a loan (DOMAIN.md §8); so is the memo 0042 of
/// written-off loans under follow-up (each loan's share is checked against what remains, see `check_loan`).
const CONTROL_ACCOUNTS: [Account; 6] = [
    Account::LoansInTerm,
    Account::LoansOverdue,
    Account::InterestReceivable,
    Account::BorrowerAdvances,
    Account::SpecificProvision,
    Account::MemoWrittenOffLoans,
];

/// Checks the books (DOMAIN.md §9): every entry balances (on and off balance); Σ debits = Σ credits; every
/// entry's business key, the transactions entries post and the charter capital against 4111
/// ([`super::integrity`]); each
/// control account's total equals the sum of the loans' subledger lines; each loan's cached balances equal
/// the engine's fold as of the date they are as of ([`super::effective_balances_as_of`]: the row's
/// `balances_as_of`, or the date the close's marks give an open loan it left unwritten); each loan's posted book
/// equals the engine's target book.
#[tracing::instrument(name = "ledger verify", skip_all)]
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    classification: &ClassificationConfig,
) -> AppResult<VerifyReport> {
    let mut report = VerifyReport::default();
    check_entries(conn, &mut report).await?;
    super::integrity::check(conn, &mut report.differences).await?;
    let subledgers = check_control_accounts(conn, &mut report).await?;
    let calendar = crate::app::calendar::in_force(conn).await?;
    let marks = crate::app::fund::cached_through(conn).await?;
    let loans = loan::Entity::find()
        .order_by_asc(loan::Column::Id)
        .all(conn)
        .await?;
    for loan in loans {
        report.loans_checked += 1;
        let posted = subledgers.get(&loan.id).cloned().unwrap_or_default();
        if let Err(err) = check_loan(
            conn,
            classification,
            &loan,
            &posted,
            &mut report.differences,
            &calendar,
            &marks,
        )
        .await
        {
            report.differences.push(format!(
                "loan {} ({}): cannot be replayed: {}",
                loan.id, loan.number, err.message.en
            ));
        }
    }
    Ok(report)
}

async fn check_entries<C: ConnectionTrait>(conn: &C, report: &mut VerifyReport) -> AppResult<()> {
    let lines = journal_line::Entity::find()
        .order_by_asc(journal_line::Column::EntryId)
        .all(conn)
        .await?;
    let entry_count = journal_entry::Entity::find()
        .select_only()
        .column_as(sea_orm::sea_query::Expr::cust("COUNT(*)"), "n");
    let entries: Option<i64> = entry_count.into_tuple().one(conn).await?;
    report.entries_checked = entries.unwrap_or(0).unsigned_abs();
    let mut per_entry: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
    for line in &lines {
        let memo = Account::from_code(&line.account_code).is_some_and(Account::is_memo);
        let sums = per_entry.entry(line.entry_id).or_default();
        let offset = if memo { 2 } else { 0 };
        sums[offset] += line.debit_vnd;
        sums[offset + 1] += line.credit_vnd;
        report.total_debit_vnd += line.debit_vnd;
        report.total_credit_vnd += line.credit_vnd;
        let one_sided = (line.debit_vnd > 0) != (line.credit_vnd > 0)
            && line.debit_vnd >= 0
            && line.credit_vnd >= 0;
        if !one_sided {
            report.differences.push(format!(
                "journal line {} of entry {}: debit {} and credit {} (a line must have one positive side)",
                line.id, line.entry_id, line.debit_vnd, line.credit_vnd
            ));
        }
    }
    for (entry_id, [debits, credits, memo_debits, memo_credits]) in per_entry {
        if debits != credits || memo_debits != memo_credits {
            report.differences.push(format!(
                "entry {entry_id} does not balance: debits {debits} vs credits {credits} (memo {memo_debits} vs {memo_credits})"
            ));
        }
    }
    if report.total_debit_vnd != report.total_credit_vnd {
        report.differences.push(format!(
            "total debits {} differ from total credits {}",
            report.total_debit_vnd, report.total_credit_vnd
        ));
    }
    Ok(())
}

/// Returns each loan's subledger; reports control accounts whose totals differ from the subledgers' sum.
async fn check_control_accounts<C: ConnectionTrait>(
    conn: &C,
    report: &mut VerifyReport,
) -> AppResult<BTreeMap<i64, AccountBalances>> {
    let sums = posted_sums(conn, &BookQuery::per_loan(LoanScope::All)).await?;
    check_running_books(conn, &sums, report).await?;
    let mut subledgers: BTreeMap<i64, AccountBalances> = BTreeMap::new();
    let mut control_totals: BTreeMap<Account, Vnd> = BTreeMap::new();
    let mut subledger_totals: BTreeMap<Account, Vnd> = BTreeMap::new();
    let mut portfolio_level: BTreeMap<Account, Vnd> = BTreeMap::new();
    for sum in sums {
        let (loan_id, net) = (sum.loan_id, sum.net_debit());
        let Ok(account) = sum.account() else {
            report.differences.push(format!(
                "journal lines on account {}, which is not in the chart",
                sum.account_code
            ));
            continue;
        };
        *control_totals.entry(account).or_default() += net;
        if loan_id.is_none() {
            *portfolio_level.entry(account).or_default() += net;
        }
        if account == Account::GeneralProvision && loan_id.is_some() {
            report.differences.push(format!(
                "general provision (22932) lines carry loan {loan_id:?}: it is portfolio-wide"
            ));
        }
        if let Some(loan_id) = loan_id {
            subledgers.entry(loan_id).or_default().add(account, net);
            *subledger_totals.entry(account).or_default() += net;
        }
    }
    for account in CONTROL_ACCOUNTS {
        let control = control_totals.get(&account).copied().unwrap_or_default();
        let subledger = subledger_totals.get(&account).copied().unwrap_or_default();
        if control != subledger {
            report.differences.push(format!(
                "control account {} holds {} but the loan subledgers sum to {}",
                account.code(),
                control,
                subledger
            ));
        }
    }
    // The general provision is posted only as Dr 6426 / Cr 22932 (or the reverse) without a loan, so the
    // portfolio-level expense equals the provision held.
    let general_held = -portfolio_level
        .get(&Account::GeneralProvision)
        .copied()
        .unwrap_or_default();
    let general_expense = portfolio_level
        .get(&Account::ProvisionExpense)
        .copied()
        .unwrap_or_default();
    if general_held != general_expense {
        report.differences.push(format!(
            "general provision: 22932 holds {general_held} but the portfolio-level provision expense (6426) is {general_expense}"
        ));
    }
    Ok(subledgers)
}

/// Reports every (loan, account) whose running book (`loan_books`, which posting by difference reads) differs from
/// the sums of the loan's journal lines on that account, `sums` being those per loan and account.
async fn check_running_books<C: ConnectionTrait>(
    conn: &C,
    sums: &[PostedSum],
    report: &mut VerifyReport,
) -> AppResult<()> {
    let mut from_lines: BTreeMap<(i64, &str), (Vnd, Vnd)> = sums
        .iter()
        .filter_map(|sum| {
            let loan_id = sum.loan_id?;
            Some((
                (loan_id, sum.account_code.as_str()),
                (sum.debit, sum.credit),
            ))
        })
        .collect();
    let running = loan_book::Entity::find()
        .order_by_asc(loan_book::Column::LoanId)
        .order_by_asc(loan_book::Column::AccountCode)
        .all(conn)
        .await?;
    for book in &running {
        let kept = (
            Vnd::from_i64(book.debit_vnd),
            Vnd::from_i64(book.credit_vnd),
        );
        let lines = from_lines
            .remove(&(book.loan_id, book.account_code.as_str()))
            .unwrap_or((Vnd::ZERO, Vnd::ZERO));
        if kept != lines {
            report.differences.push(format!(
                "loan {}'s running book on {} holds debits {} / credits {} but its journal lines sum to {} / {}",
                book.loan_id, book.account_code, kept.0, kept.1, lines.0, lines.1
            ));
        }
    }
    for ((loan_id, code), (debits, credits)) in from_lines {
        report.differences.push(format!(
            "loan {loan_id} has journal lines on {code} (debits {debits} / credits {credits}) but no running book for it"
        ));
    }
    Ok(())
}

async fn check_loan<C: ConnectionTrait>(
    conn: &C,
    classification: &ClassificationConfig,
    loan: &loan::Model,
    posted: &AccountBalances,
    differences: &mut Vec<String>,
    calendar: &HolidayCalendar,
    marks: &crate::app::fund::CachedThrough,
) -> AppResult<()> {
    let name = format!("loan {} ({})", loan.id, loan.number);
    let Some(as_of) = super::effective_balances_as_of(loan, marks)? else {
        if posted.iter().next().is_some() {
            differences.push(format!("{name}: has journal lines but no cached balances"));
        }
        return Ok(());
    };
    let state = fold_loan(
        loan,
        &transactions_of(conn, loan.id).await?,
        calendar,
        as_of,
    )?;
    let vnd = Vnd::from_i64;
    let cached = [
        ("disbursed_vnd", vnd(loan.disbursed_vnd), state.disbursed),
        (
            "in_term_principal_vnd",
            vnd(loan.in_term_principal_vnd),
            state.in_term_principal,
        ),
        (
            "overdue_principal_vnd",
            vnd(loan.overdue_principal_vnd),
            state.overdue_principal,
        ),
        ("advance_vnd", vnd(loan.advance_vnd), state.advance),
    ];
    for (field, stored, engine) in cached {
        if stored != engine {
            differences.push(format!("{name}: cached {field} is {stored} but the engine's fold as of {as_of} gives {engine}"));
        }
    }
    if i64::from(loan.dpd) != state.dpd {
        differences.push(format!(
            "{name}: cached dpd is {} but the engine gives {}",
            loan.dpd, state.dpd
        ));
    }
    let engine_group = loan_group(&state, classification);
    let cached_group = u8::try_from(loan.debt_group)
        .ok()
        .and_then(DebtGroup::from_number);
    let Some(cached_group) = cached_group.filter(|g| *g >= engine_group) else {
        differences.push(format!(
            "{name}: cached debt group {} is better than the engine's group {}",
            loan.debt_group,
            engine_group.number()
        ));
        return Ok(());
    };
    let expected_status = status_of(&loan.status, &state);
    if loan.status != expected_status {
        differences.push(format!(
            "{name}: status is {} but the engine's fold gives {expected_status}",
            loan.status
        ));
    }
    // Subledger = the loan's cached principal and advance (control accounts).
    let subledger = [
        (
            Account::LoansInTerm,
            posted.net_debit(Account::LoansInTerm),
            state.in_term_principal,
        ),
        (
            Account::LoansOverdue,
            posted.net_debit(Account::LoansOverdue),
            state.overdue_principal,
        ),
        (
            Account::BorrowerAdvances,
            -posted.net_debit(Account::BorrowerAdvances),
            state.advance,
        ),
        // Decree 45/2021 Art 29: memo 0042 holds what remains under follow-up, so Σ 0042 = Σ remaining.
        (
            Account::MemoWrittenOffLoans,
            posted.net_debit(Account::MemoWrittenOffLoans),
            state.principal_under_follow_up(),
        ),
    ];
    for (account, ledger, engine) in subledger {
        if ledger != engine {
            differences.push(format!(
                "{name}: subledger of {} holds {ledger} but the loan's balance is {engine}",
                account.code()
            ));
        }
    }
    let target = target_book(loan, &state, cached_group, posted, Provision::Keep)?;
    for account in Account::ALL {
        let (want, have) = (target.net_debit(account), posted.net_debit(account));
        if want != have {
            differences.push(format!(
                "{name}: account {} has {have} posted (net debit) but the engine's book as of {as_of} is {want}",
                account.code()
            ));
        }
    }
    Ok(())
}

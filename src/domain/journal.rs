//! Double-entry journal entries and each loan's books (DOMAIN.md §9).
//!
//! - Chart of accounts after Circular 200/2014/TT-BTC (codes to be confirmed by the fund's accountant), with
//!   off-balance memo accounts balanced against 0090 ([`Account`]).
//! - Circular 52/2022/TT-BTC Art 5(2): interest is accrued into income only for group-1 loans; for groups 2-5 it
//!   is tracked off balance (0041) and recognised when collected. When a loan leaves group 1 its accrued unpaid
//!   interest is reversed to 6428 and moved to the memo account.
//! - A [`JournalEntry`] cannot exist unbalanced: [`JournalEntryBuilder::build`] refuses it (on-balance debits =
//!   credits, and memo debits = credits), every line is a positive whole-đồng debit or credit. Entries are never
//!   edited: a correction is [`JournalEntry::reversal`], the mirror of the original.
//!
//! ## Posting by difference
//! Back-dated payments and reversals make incremental postings fragile, so the engine states what each ledger
//! account **should** hold for one loan ([`loan_book`], the loan subledger) and [`entry_for_difference`] makes the
//! balanced entry that moves what was posted to that target. The service posts it, tagged with the event, in the
//! same transaction as the event; the control accounts then always equal the sum of the loan books, and `ledger
//! verify` can recompute every book. Every event of the §9 table falls out of the difference:
//!
//! | what changed | difference entry |
//! |---|---|
//! | disbursement | Dr 12831 / Cr 1121 |
//! | accrual, group 1 | Dr 13881 / Cr 51511 — 13881 = round(Σ accrued exact) − collected (§2: by difference) |
//! | accrual, groups 2-5 | Dr 0041 / Cr 0090 |
//! | leaves group 1 | Dr 6428 / Cr 13881 and Dr 0041 / Cr 0090 |
//! | principal falls overdue | Dr 12832 / Cr 12831 |
//! | excess held; advance applied | Dr 1121 / Cr 3388; Dr 3388 / Cr 13881, 12831 … |
//! | repayment | Dr 1121 / Cr 12832, 12831, 13881, 51511 (never accrued; memo 0041 released), 51512 |
//! | provision change | Dr 6426 / Cr 22931 (or the reverse) |
//! | write-off | Dr 22931 / Cr 12832 (and 12831 for principal not yet due), Dr 0042 / Cr 0090 |
//! | write-off with a short provision | the shortfall Dr 6426, in the same entry: Dr 22931 + Dr 6426 / Cr 12831, 12832 |
//! | recovery of a written-off loan | principal: Dr 1121 / Cr 711 and Dr 0090 / Cr 0042; interest not recognised: Dr 1121 / Cr 51511 and Dr 0090 / Cr 0041 |
//! | interest forgiven by a restructuring | Dr 0043 / Cr 0041 (contractual interest held off balance), Dr 0043 / Cr 0090 (overdue and late interest, never booked); on a group-1 loan Dr 51511 / Cr 13881 and Dr 0043 / Cr 0090 |
//!
//! Balances are held as signed net debits (debit − credit), so a balanced book sums to zero. The path-dependent
//! parts (interest already reversed to 6428) are read from the posted balances; 51511 is the balancing figure
//! of the on-balance book, i.e. contractual interest collected + interest receivable + interest reversed.
//! General provisions (22932) are portfolio-wide: [`general_provision_book`] is a separate book.
//!
//! ## Write-off and recoveries (DOMAIN.md §9, Decree 45/2021 Art 29)
//! A written-off loan's loss is the principal written off: its book holds 6426 = that principal and 22931 = 0,
//! so the provision held is used (Dr 22931) and any shortfall is expensed in the same entry (Dr 6426); nothing is
//! left on 12831/12832 or 22931. (A provision above the principal — repayments after the last month-end close —
//! is released the same way, Cr 6426.) The principal stays on memo 0042 and the interest not recognised on 0041
//! while under follow-up. A recovery credits the principal part to 711 other income (the loss was expensed, so
//! the money comes back as income, not as a reversal of a closed year's expense) and releases 0042; the
//! interest part is recognised as interest income when collected (Circular 52/2022 Art 5(2), the same rule as a
//! group 2-5 repayment: Cr 51511 and release of 0041), not as other income, so interest income over a loan's
//! life does not depend on whether it was written off in between.

use crate::classification::DebtGroup;
use crate::loan::LoanState;
use crate::money::{round_half_up_to_dong, Vnd};
use crate::schedule::DayCount;
use serde::Serialize;
use std::collections::BTreeMap;

/// Debit or credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Debit (Nợ).
    Debit,
    /// Credit (Có).
    Credit,
}

/// The default chart of accounts (DOMAIN.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Account {
    /// 1121 cash at bank.
    Cash,
    /// 12831 loans in term.
    LoansInTerm,
    /// 12832 loans overdue.
    LoansOverdue,
    /// 13881 interest receivable.
    InterestReceivable,
    /// 22931 specific provision.
    SpecificProvision,
    /// 22932 general provision.
    GeneralProvision,
    /// 3388 advances received from borrowers.
    BorrowerAdvances,
    /// 4111 charter capital.
    CharterCapital,
    /// 51511 interest income.
    InterestIncome,
    /// 51512 overdue and late interest income.
    PenaltyInterestIncome,
    /// 711 other income (written-off principal recovered).
    OtherIncome,
    /// 6426 provision expense.
    ProvisionExpense,
    /// 6428 interest reversed as uncollectable.
    InterestReversed,
    /// 0041 (memo) interest not yet recognised.
    MemoInterestNotRecognised,
    /// 0042 (memo) written-off loans under follow-up.
    MemoWrittenOffLoans,
    /// 0043 (memo) interest forgiven by a restructuring (DOMAIN.md §7: a reduction is posted to its own account).
    MemoInterestWaived,
    /// 0090 (memo) contra of the off-balance accounts.
    MemoContra,
}

impl Account {
    /// Every account of the chart.
    pub const ALL: [Account; 17] = [
        Account::Cash,
        Account::LoansInTerm,
        Account::LoansOverdue,
        Account::InterestReceivable,
        Account::SpecificProvision,
        Account::GeneralProvision,
        Account::BorrowerAdvances,
        Account::CharterCapital,
        Account::InterestIncome,
        Account::PenaltyInterestIncome,
        Account::OtherIncome,
        Account::ProvisionExpense,
        Account::InterestReversed,
        Account::MemoInterestNotRecognised,
        Account::MemoWrittenOffLoans,
        Account::MemoInterestWaived,
        Account::MemoContra,
    ];

    /// The account code (Circular 200/2014 style).
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// Vietnamese name.
    pub fn name_vi(self) -> &'static str {
        self.info().1
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        self.info().2
    }

    /// The side that increases it.
    pub fn normal_side(self) -> Side {
        self.info().3
    }

    /// True for off-balance memo accounts (0041, 0042, 0090).
    pub fn is_memo(self) -> bool {
        matches!(
            self,
            Account::MemoInterestNotRecognised
                | Account::MemoWrittenOffLoans
                | Account::MemoInterestWaived
                | Account::MemoContra
        )
    }

    /// The account with this code.
    pub fn from_code(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.code() == code)
    }

    fn info(self) -> (&'static str, &'static str, &'static str, Side) {
        use Side::{Credit, Debit};
        match self {
            Account::Cash => ("1121", "Tiền gửi ngân hàng", "Cash at bank", Debit),
            Account::LoansInTerm => ("12831", "Cho vay trong hạn", "Loans in term", Debit),
            Account::LoansOverdue => ("12832", "Cho vay quá hạn", "Loans overdue", Debit),
            Account::InterestReceivable => (
                "13881",
                "Lãi cho vay phải thu",
                "Interest receivable",
                Debit,
            ),
            Account::SpecificProvision => (
                "22931",
                "Dự phòng rủi ro cụ thể",
                "Specific provision",
                Credit,
            ),
            Account::GeneralProvision => (
                "22932",
                "Dự phòng rủi ro chung",
                "General provision",
                Credit,
            ),
            Account::BorrowerAdvances => (
                "3388",
                "Tiền nhận trước của khách hàng vay",
                "Advances received from borrowers",
                Credit,
            ),
            Account::CharterCapital => ("4111", "Vốn điều lệ", "Charter capital", Credit),
            Account::InterestIncome => ("51511", "Thu lãi cho vay", "Interest income", Credit),
            Account::PenaltyInterestIncome => (
                "51512",
                "Thu lãi quá hạn, lãi chậm trả",
                "Overdue and late interest income",
                Credit,
            ),
            Account::OtherIncome => (
                "711",
                "Thu nhập khác (thu hồi nợ đã xử lý rủi ro)",
                "Other income (recoveries of written-off loans)",
                Credit,
            ),
            Account::ProvisionExpense => (
                "6426",
                "Chi phí dự phòng rủi ro",
                "Provision expense",
                Debit,
            ),
            Account::InterestReversed => (
                "6428",
                "Chi phí lãi thoái thu",
                "Interest reversed as uncollectable",
                Debit,
            ),
            Account::MemoInterestNotRecognised => (
                "0041",
                "Lãi cho vay chưa thu được",
                "Interest not yet recognised",
                Debit,
            ),
            Account::MemoWrittenOffLoans => (
                "0042",
                "Nợ đã xử lý rủi ro đang theo dõi",
                "Written-off loans under follow-up",
                Debit,
            ),
            Account::MemoInterestWaived => (
                "0043",
                "Lãi được miễn, giảm khi cơ cấu lại nợ",
                "Interest forgiven on restructuring",
                Debit,
            ),
            Account::MemoContra => (
                "0090",
                "Đối ứng tài khoản ngoại bảng",
                "Off-balance contra",
                Credit,
            ),
        }
    }
}

/// Why an entry or a book cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// An entry without lines.
    #[error("a journal entry needs at least two lines")]
    Empty,
    /// A line of zero or a negative amount.
    #[error("line amounts must be positive whole đồng, got {0} on {1}")]
    AmountNotPositive(Vnd, &'static str),
    /// Debits ≠ credits (on balance, or memo).
    #[error("the entry does not balance: debits {debits}, credits {credits}")]
    Unbalanced {
        /// Σ debits.
        debits: Vnd,
        /// Σ credits.
        credits: Vnd,
    },
}

impl JournalError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            JournalError::Empty => "journal_entry_empty",
            JournalError::AmountNotPositive(..) => "journal_amount_not_positive",
            JournalError::Unbalanced { .. } => "journal_entry_unbalanced",
        }
    }
}

/// One line of an entry: a positive amount on one side of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JournalLine {
    /// The account.
    pub account: Account,
    /// Debit or credit.
    pub side: Side,
    /// A positive whole-đồng amount.
    pub amount: Vnd,
}

impl JournalLine {
    /// The line's effect as a net debit (credit lines negative).
    pub fn net_debit(&self) -> Vnd {
        match self.side {
            Side::Debit => self.amount,
            Side::Credit => -self.amount,
        }
    }
}

/// A balanced journal entry (only [`JournalEntryBuilder::build`] and [`entry_for_difference`] make one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    lines: Vec<JournalLine>,
}

impl JournalEntry {
    /// A builder.
    pub fn builder() -> JournalEntryBuilder {
        JournalEntryBuilder::default()
    }

    /// The lines.
    pub fn lines(&self) -> &[JournalLine] {
        &self.lines
    }

    /// Σ debits (= Σ credits).
    pub fn total_debits(&self) -> Vnd {
        self.lines
            .iter()
            .filter(|l| l.side == Side::Debit)
            .map(|l| l.amount)
            .sum()
    }

    /// §9: a correction is the mirror of the original entry.
    pub fn reversal(&self) -> JournalEntry {
        let mirror = |line: &JournalLine| JournalLine {
            side: if line.side == Side::Debit {
                Side::Credit
            } else {
                Side::Debit
            },
            ..*line
        };
        JournalEntry {
            lines: self.lines.iter().map(mirror).collect(),
        }
    }
}

/// Collects lines; [`build`](JournalEntryBuilder::build) refuses an unbalanced entry.
#[derive(Debug, Clone, Default)]
pub struct JournalEntryBuilder {
    lines: Vec<JournalLine>,
}

impl JournalEntryBuilder {
    /// Adds a debit line.
    pub fn debit(mut self, account: Account, amount: Vnd) -> JournalEntryBuilder {
        self.lines.push(JournalLine {
            account,
            side: Side::Debit,
            amount,
        });
        self
    }

    /// Adds a credit line.
    pub fn credit(mut self, account: Account, amount: Vnd) -> JournalEntryBuilder {
        self.lines.push(JournalLine {
            account,
            side: Side::Credit,
            amount,
        });
        self
    }

    /// The entry, if every amount is positive and it balances on balance and off balance.
    pub fn build(self) -> Result<JournalEntry, JournalError> {
        if self.lines.len() < 2 {
            return Err(JournalError::Empty);
        }
        if let Some(line) = self.lines.iter().find(|l| !l.amount.is_positive()) {
            return Err(JournalError::AmountNotPositive(
                line.amount,
                line.account.code(),
            ));
        }
        for memo in [false, true] {
            let part = self.lines.iter().filter(|l| l.account.is_memo() == memo);
            let (debits, credits) =
                part.fold((Vnd::ZERO, Vnd::ZERO), |(d, c), line| match line.side {
                    Side::Debit => (d + line.amount, c),
                    Side::Credit => (d, c + line.amount),
                });
            if debits != credits {
                return Err(JournalError::Unbalanced { debits, credits });
            }
        }
        Ok(JournalEntry { lines: self.lines })
    }
}

/// Balances by account as signed net debits (debit − credit); absent accounts are zero.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AccountBalances(BTreeMap<Account, Vnd>);

impl AccountBalances {
    /// No balances.
    pub fn new() -> AccountBalances {
        AccountBalances::default()
    }

    /// The balances that a list of entries produces.
    pub fn from_entries<'a>(
        entries: impl IntoIterator<Item = &'a JournalEntry>,
    ) -> AccountBalances {
        let mut balances = AccountBalances::new();
        for entry in entries {
            balances.post(entry);
        }
        balances
    }

    /// Adds an entry's lines.
    pub fn post(&mut self, entry: &JournalEntry) {
        for line in entry.lines() {
            self.add(line.account, line.net_debit());
        }
    }

    /// The net debit balance of an account.
    pub fn net_debit(&self, account: Account) -> Vnd {
        self.0.get(&account).copied().unwrap_or(Vnd::ZERO)
    }

    /// The balance on the account's normal side (a credit account's credit balance is positive).
    pub fn normal_balance(&self, account: Account) -> Vnd {
        match account.normal_side() {
            Side::Debit => self.net_debit(account),
            Side::Credit => -self.net_debit(account),
        }
    }

    /// Sets an account's net debit balance.
    pub fn set_net_debit(&mut self, account: Account, amount: Vnd) {
        if amount.is_zero() {
            self.0.remove(&account);
        } else {
            self.0.insert(account, amount);
        }
    }

    /// Adds to an account's net debit balance.
    pub fn add(&mut self, account: Account, net_debit: Vnd) {
        let total = self.net_debit(account) + net_debit;
        self.set_net_debit(account, total);
    }

    /// Accounts with a non-zero balance, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (Account, Vnd)> + '_ {
        self.0.iter().map(|(a, v)| (*a, *v))
    }

    /// True when debits equal credits on balance and off balance.
    pub fn is_balanced(&self) -> bool {
        [false, true].into_iter().all(|memo| {
            self.iter()
                .filter(|(a, _)| a.is_memo() == memo)
                .map(|(_, v)| v)
                .sum::<Vnd>()
                .is_zero()
        })
    }
}

/// What [`loan_book`] needs besides the loan's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookInputs {
    /// The loan's debt group (the customer-level group, §8).
    pub group: DebtGroup,
    /// The specific provision to hold for this loan now; `None` keeps the posted one (provisions move at month
    /// end, §8). Ignored once written off: the provision then equals the written-off principal (the loss).
    pub specific_provision: Option<Vnd>,
    /// The contract's day count (to read the exact current-period accrual).
    pub day_count: DayCount,
}

/// The balance each ledger account should hold for this loan (module docs), given what was posted so far.
/// The result is always balanced.
pub fn loan_book(
    state: &LoanState,
    inputs: &BookInputs,
    posted: &AccountBalances,
) -> AccountBalances {
    let mut book = AccountBalances::new();
    let recognised = state.interest_billed
        + round_half_up_to_dong(state.current_interest_exact(inputs.day_count));
    // Contractual interest a restructuring forgave (DOMAIN.md §7) is no longer receivable.
    // Interest recovered after a write-off is collected too (module docs).
    let unpaid_interest = (recognised
        - state.interest_collected
        - state.contractual_interest_waived()
        - state.recovered_interest())
    .clamp_non_negative();
    let written_off = state.written_off_on.is_some();
    let on_balance_interest = inputs.group == DebtGroup::One && !written_off;
    book.set_net_debit(Account::Cash, state.cash_received - state.disbursed);
    book.set_net_debit(Account::LoansInTerm, state.in_term_principal);
    book.set_net_debit(Account::LoansOverdue, state.overdue_principal);
    book.set_net_debit(Account::BorrowerAdvances, -state.advance);
    book.set_net_debit(
        Account::PenaltyInterestIncome,
        -(state.overdue_interest_collected + state.late_interest_collected),
    );
    let posted_receivable = posted
        .net_debit(Account::InterestReceivable)
        .clamp_non_negative();
    let mut reversed = posted.net_debit(Account::InterestReversed);
    if on_balance_interest {
        book.set_net_debit(Account::InterestReceivable, unpaid_interest);
    } else {
        // Circular 52/2022 Art 5(2): accrued unpaid interest leaves income when the loan leaves group 1.
        reversed += posted_receivable.min(unpaid_interest);
        book.set_net_debit(Account::MemoInterestNotRecognised, unpaid_interest);
    }
    book.set_net_debit(Account::InterestReversed, reversed);
    let provision = if written_off {
        state.written_off_principal
    } else {
        inputs
            .specific_provision
            .unwrap_or(posted.net_debit(Account::ProvisionExpense))
    };
    book.set_net_debit(Account::ProvisionExpense, provision);
    book.set_net_debit(
        Account::SpecificProvision,
        state.written_off_principal - provision,
    );
    book.set_net_debit(Account::OtherIncome, -state.recovered_principal());
    book.set_net_debit(
        Account::MemoWrittenOffLoans,
        state.principal_under_follow_up(),
    );
    book.set_net_debit(Account::MemoInterestWaived, state.interest_waived());
    let on_balance: Vnd = book
        .iter()
        .filter(|(a, _)| !a.is_memo())
        .map(|(_, v)| v)
        .sum();
    book.set_net_debit(Account::InterestIncome, -on_balance);
    let memo: Vnd = book
        .iter()
        .filter(|(a, _)| a.is_memo())
        .map(|(_, v)| v)
        .sum();
    book.set_net_debit(Account::MemoContra, -memo);
    book
}

/// The portfolio's general provision book: Cr 22932 / Dr 6426 for `general_provision` (§8).
pub fn general_provision_book(general_provision: Vnd) -> AccountBalances {
    let mut book = AccountBalances::new();
    book.set_net_debit(Account::GeneralProvision, -general_provision);
    book.set_net_debit(Account::ProvisionExpense, general_provision);
    book
}

/// The balanced entry that moves `posted` to `target` (`None` when they are equal). Fails only when one of the
/// two books is itself unbalanced.
pub fn entry_for_difference(
    target: &AccountBalances,
    posted: &AccountBalances,
) -> Result<Option<JournalEntry>, JournalError> {
    let mut builder = JournalEntry::builder();
    let mut any = false;
    for account in Account::ALL {
        let delta = target.net_debit(account) - posted.net_debit(account);
        if delta.is_positive() {
            builder = builder.debit(account, delta);
            any = true;
        } else if delta.is_negative() {
            builder = builder.credit(account, -delta);
            any = true;
        }
    }
    if !any {
        return Ok(None);
    }
    builder.build().map(Some)
}

/// Dr 12831 / Cr 1121 for a disbursement (the same entry [`loan_book`] differences produce).
pub fn disbursement_entry(amount: Vnd) -> Result<JournalEntry, JournalError> {
    JournalEntry::builder()
        .debit(Account::LoansInTerm, amount)
        .credit(Account::Cash, amount)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vnd(amount: i64) -> Vnd {
        Vnd::from_i64(amount)
    }

    #[test]
    fn an_unbalanced_entry_cannot_be_built() {
        let error = JournalEntry::builder()
            .debit(Account::LoansInTerm, vnd(100))
            .credit(Account::Cash, vnd(99))
            .build()
            .expect_err("unbalanced");
        assert_eq!(error.code(), "journal_entry_unbalanced");
        let memo_against_cash = JournalEntry::builder()
            .debit(Account::MemoInterestNotRecognised, vnd(5))
            .credit(Account::Cash, vnd(5))
            .build();
        assert!(memo_against_cash.is_err());
        let zero = JournalEntry::builder()
            .debit(Account::Cash, vnd(0))
            .credit(Account::Cash, vnd(0))
            .build();
        assert_eq!(
            zero.expect_err("zero").code(),
            "journal_amount_not_positive"
        );
    }

    #[test]
    fn a_reversal_mirrors_the_entry() {
        let entry = disbursement_entry(vnd(300)).expect("balanced");
        let mut balances = AccountBalances::from_entries([&entry, &entry.reversal()]);
        assert_eq!(balances, AccountBalances::new());
        balances.post(&entry);
        assert_eq!(balances.normal_balance(Account::LoansInTerm), vnd(300));
        assert_eq!(balances.normal_balance(Account::Cash), vnd(-300));
    }

    #[test]
    fn codes_round_trip() {
        for account in Account::ALL {
            assert_eq!(Account::from_code(account.code()), Some(account));
        }
    }
}

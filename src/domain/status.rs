//! The names a loan is stored and shown with (DOMAIN.md §4, §7, §9): its status, the kinds of its transactions,
//! and the engine's choices (repayment kind, prepayment rule, restructuring kind) as text; and the two rules the
//! service used to keep in its shell: the status a fold gives a loan and the debt group a loan is shown in.
//!
//! Every name has one spelling (`as_str`, the API's and the database's) and one parser (`FromStr`) whose error
//! names what could not be read ([`UnknownName`]); the service turns it into an error naming the row.

use std::{fmt, str::FromStr};

use serde::{Serialize, Serializer};

use crate::{
    allocation::{AllocationOrder, Bucket, PrepaymentRule, RepaymentKind},
    classification::{classify, ClassificationConfig, DebtGroup},
    loan::{LoanState, RestructureKind},
    schedule::{DayCount, Method},
};

/// A name that is not one of its kind's (`loan status "foo"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {text:?}")]
pub struct UnknownName {
    /// What kind of name (`loan status`, `transaction kind`, ...).
    pub what: &'static str,
    /// The text that was read.
    pub text: String,
}

/// One spelling per variant, its parser, `Display` and a string `Serialize`.
macro_rules! names {
    ($ty:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored and API spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;
            fn from_str(text: &str) -> Result<$ty, UnknownName> {
                match text {
                    $($text => Ok($ty::$variant),)+
                    other => Err(UnknownName { what: $what, text: other.to_string() }),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Where a loan is in its life (API.md): approved → contract_signed → active → closed, or written_off →
/// recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoanStatus {
    /// Approved, contract not signed yet.
    Approved,
    /// Contract signed, nothing disbursed (or every disbursement reversed).
    ContractSigned,
    /// Disbursed and owing.
    Active,
    /// Settled.
    Closed,
    /// Written off against its provision (Decree 45/2021 Art 29); under follow-up.
    WrittenOff,
    /// Written off, then everything under follow-up recovered.
    Recovered,
}

names!(LoanStatus, "loan status", {
    Approved => "approved",
    ContractSigned => "contract_signed",
    Active => "active",
    Closed => "closed",
    WrittenOff => "written_off",
    Recovered => "recovered",
});

impl LoanStatus {
    /// The status of a loan whose events fold to `state`, when it was `self` before: the fold decides from the
    /// first disbursement on ([`LoanStatus::decided_by_fold`]); before it (or when every disbursement was
    /// reversed) the contract's step stands, an `active` loan with nothing disbursed going back to
    /// `contract_signed`.
    pub fn after_fold(self, state: &LoanState) -> LoanStatus {
        match LoanStatus::decided_by_fold(state) {
            Some(status) => status,
            // Every disbursement was reversed.
            None if self == LoanStatus::Active => LoanStatus::ContractSigned,
            None => self,
        }
    }

    /// The status the fold alone decides: recovered, written off, closed, or active once anything is
    /// disbursed; `None` before the first disbursement (the contract's step: approved or contract signed).
    pub fn decided_by_fold(state: &LoanState) -> Option<LoanStatus> {
        if state.recovered_on.is_some() {
            Some(LoanStatus::Recovered)
        } else if state.written_off_on.is_some() {
            Some(LoanStatus::WrittenOff)
        } else if state.closed_on.is_some() {
            Some(LoanStatus::Closed)
        } else if state.disbursed.is_positive() {
            Some(LoanStatus::Active)
        } else {
            None
        }
    }

    /// True for the statuses money can still be disbursed in (the contract is signed, the loan not settled).
    pub fn accepts_disbursement(self) -> bool {
        matches!(self, LoanStatus::ContractSigned | LoanStatus::Active)
    }

    /// True once the loan was written off (recoveries apply, DOMAIN.md §9).
    pub fn is_written_off(self) -> bool {
        matches!(self, LoanStatus::WrittenOff | LoanStatus::Recovered)
    }

    /// The statuses [`LoanStatus::is_finished`] is true of, for a query that selects loans by their stored status.
    pub const FINISHED: [LoanStatus; 3] = [
        LoanStatus::Closed,
        LoanStatus::WrittenOff,
        LoanStatus::Recovered,
    ];

    /// True once the loan is settled or written off (closed, written off, recovered): the close of business no
    /// longer folds it, and its month-end releases what is left of its specific provision.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            LoanStatus::Closed | LoanStatus::WrittenOff | LoanStatus::Recovered
        )
    }
}

/// What a stored loan transaction is (`loan_transactions.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// Money lent (one tranche).
    Disbursement,
    /// Money received.
    Repayment,
    /// A new schedule (Decree 45/2021 Art 27).
    Restructure,
    /// Written off against the provision.
    WriteOff,
    /// Cancels the transaction it points at.
    Reversal,
    /// Money recovered on a written-off loan (Decree 45/2021 Art 29, DOMAIN.md §9).
    Recovery,
}

names!(TransactionKind, "transaction kind", {
    Disbursement => "disbursement",
    Repayment => "repayment",
    Restructure => "restructure",
    WriteOff => "write_off",
    Reversal => "reversal",
    Recovery => "recovery",
});

impl TransactionKind {
    /// The journal description of a transaction of this kind, in the books' language (Vietnamese: the
    /// accounting records of a Vietnamese fund are kept in Vietnamese, Law on Accounting 2015 Art 11).
    pub fn journal_name(self) -> &'static str {
        match self {
            TransactionKind::Disbursement => "Giải ngân",
            TransactionKind::Repayment => "Thu nợ",
            TransactionKind::Reversal => "Hủy giao dịch",
            TransactionKind::Restructure => "Cơ cấu lại thời hạn trả nợ",
            TransactionKind::WriteOff => "Xử lý rủi ro",
            TransactionKind::Recovery => "Thu hồi nợ đã xử lý rủi ro",
        }
    }
}

names!(RepaymentKind, "repayment kind", {
    Ordinary => "ordinary",
    Prepayment => "prepayment",
});

names!(PrepaymentRule, "prepayment rule", {
    ShortenTerm => "shorten_term",
    Reamortize => "reamortize",
});

names!(Bucket, "allocation bucket", {
    OverduePrincipal => "overdue_principal",
    UnpaidInterest => "unpaid_interest",
    OverdueInterest => "overdue_interest",
    LateInterest => "late_interest",
    Interest => "interest",
    Principal => "principal",
});

/// Stored as the bucket names joined by commas; an empty text is the default order (DOMAIN.md §5).
impl FromStr for AllocationOrder {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<AllocationOrder, UnknownName> {
        if text.trim().is_empty() {
            return Ok(AllocationOrder::default());
        }
        let unknown = || UnknownName {
            what: "allocation order",
            text: text.to_string(),
        };
        let buckets = text
            .split(',')
            .map(|name| name.trim().parse::<Bucket>().map_err(|_| unknown()))
            .collect::<Result<Vec<_>, _>>()?;
        AllocationOrder::new(buckets).ok_or_else(unknown)
    }
}

/// The stored spelling: the bucket names joined by commas.
impl fmt::Display for AllocationOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, bucket) in self.buckets().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(bucket.as_str())?;
        }
        Ok(())
    }
}

names!(RestructureKind, "restructure kind", {
    Adjustment => "adjustment",
    Extension => "extension",
});

/// Written as its API spelling (`equal_principal`).
impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written as its API spelling (`actual_365`).
impl fmt::Display for DayCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Serialised as its stored spelling (`"contract_signed"`).
impl Serialize for LoanStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Serialised as its stored spelling (`"write_off"`).
impl Serialize for TransactionKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The debt group of one loan (DOMAIN.md §8, Circular 14/2024): by DPD and restructuring under `config`; a
/// written-off loan is group 5 and a settled one group 1 (it owes nothing). The cooperative-wide group (the
/// worst loan of the customer, Circular 31/2024 Art 10) is the close of business's job.
pub fn loan_group(state: &LoanState, config: &ClassificationConfig) -> DebtGroup {
    if state.written_off_on.is_some() {
        return DebtGroup::Five;
    }
    if state.closed_on.is_some() {
        return DebtGroup::One;
    }
    classify(state.classification_input(), config)
}

/// The group a loan is shown in: its own group, or the group cached on it when that is worse (the last close of
/// business or money command put the customer's worst loan's group there: all loans of one cooperative take the
/// group of its worst loan, DOMAIN.md §8).
pub fn shown_group(own: DebtGroup, cached: DebtGroup) -> DebtGroup {
    own.max(cached)
}

//! Typed ids: one newtype per kind of record, so a loan id can never be passed where a transaction id is
//! expected (`reverse(loan_id, transaction_id)` used to take two transposable `i64`s).
//!
//! Each id is `#[serde(transparent)]` over the `i64` the database keeps, so the JSON on the wire is the
//! bare number it always was. Entities keep `i64` columns; the store boundary converts with
//! [`From<i64>`] and `get()`.

use std::{fmt, num::ParseIntError, str::FromStr};

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id of the row with primary key `id`.
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            /// The primary key, for a query or a column.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

ids! {
    /// A loan (`loans.id`).
    LoanId;
    /// A loan application (`applications.id`).
    ApplicationId;
    /// A member cooperative, the borrower (`cooperatives.id`).
    CooperativeId;
    /// One event of a loan: a disbursement, repayment, reversal, ... (`loan_transactions.id`).
    TransactionId;
    /// A loan product (`products.id`).
    ProductId;
    /// A user account (`users.id`).
    UserId;
    /// A journal entry (`journal_entries.id`).
    EntryId;
    /// An audit record (`audit_records.id`).
    AuditRecordId;
    /// A queued mail (`outbox_messages.id`).
    OutboxMessageId;
    /// A follow-up action on a loan (`loan_follow_ups.id`).
    FollowUpId;
    /// A collateral item of an application (`collateral_items.id`).
    CollateralItemId;
    /// A charter-capital contribution (`charter_capital_contributions.id`).
    ContributionId;
    /// A close-of-business run (`cob_runs.id`).
    CobRunId;
    /// A backup run (`backup_runs.id`).
    BackupRunId;
    /// A holiday of the fund's calendar (`calendar_holidays.id`).
    HolidayId;
    /// A weekly rule of the fund's calendar (`calendar_weekly_rules.id`).
    WeeklyRuleId;
    /// An API token (`api_tokens.id`).
    TokenId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_number_on_the_wire_and_in_text() {
        let id = LoanId::new(17);
        assert_eq!(id.get(), 17);
        assert_eq!(id.to_string(), "17");
        assert_eq!("17".parse::<LoanId>().unwrap(), id);
        assert!("x".parse::<LoanId>().is_err());
        assert_eq!(LoanId::from(17), id);
        assert_eq!(i64::from(id), 17);
    }
}

//! Every sentence the books write for people, in one place: the descriptions of the entries the close of
//! business posts (kept in both languages in the journal, Vietnamese first: the fund's records are
//! Vietnamese, Law on Accounting 2015 Art 11) and the refusals of the books' use cases, with their
//! stable codes and vi/en messages.

use chrono::NaiveDate;

use crate::error::{AppError, ErrorKind, Localized};

/// The description of a loan's close-of-business entry for `date`.
pub fn close_of_business(date: NaiveDate) -> String {
    format!("Khóa sổ ngày {date} / close of business {date}")
}

/// The description of the portfolio's general provision entry at the month end of `date`.
pub fn general_provision(date: NaiveDate) -> String {
    format!(
        "Dự phòng chung tháng {} / general provision {}",
        date.format("%m/%Y"),
        date.format("%Y-%m")
    )
}

/// What the books' use cases refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BooksError {
    /// An account statement has more than `max_lines` lines.
    #[error("the statement has more than {max_lines} lines")]
    StatementTooLong {
        /// The most lines one statement returns.
        max_lines: usize,
    },
    /// A close of business asked for a day that has not ended in the fund's time zone.
    #[error("cannot close {through}: that day has not ended yet (today is {today})")]
    DayNotEnded {
        /// The last day asked for.
        through: NaiveDate,
        /// Today in the fund's time zone.
        today: NaiveDate,
    },
}

impl From<BooksError> for AppError {
    fn from(err: BooksError) -> AppError {
        match err {
            BooksError::StatementTooLong { max_lines } => AppError::new(
                ErrorKind::Rule,
                "statement_too_long",
                Localized::new(
                    format!("Sổ chi tiết vượt quá {max_lines} dòng; hãy thu hẹp khoảng thời gian (from, to)."),
                    format!("The statement has more than {max_lines} lines; narrow the period (from, to)."),
                ),
            )
            .with_field("from"),
            BooksError::DayNotEnded { through, today } => AppError::new(
                ErrorKind::Rule,
                "day_not_ended",
                Localized::new(
                    format!(
                        "Không thể khóa sổ ngày {through}: ngày đó chưa kết thúc (hôm nay là {today})."
                    ),
                    format!(
                        "Cannot close {through}: that day has not ended yet (today is {today})."
                    ),
                ),
            )
            .with_field("through"),
        }
    }
}

/// A chart account that does not exist.
pub fn account_not_found() -> AppError {
    AppError::not_found("tài khoản kế toán", "Ledger account")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_close_of_business_entries_are_described_in_both_languages() {
        assert_eq!(
            close_of_business(day("2026-02-28")),
            "Khóa sổ ngày 2026-02-28 / close of business 2026-02-28"
        );
        assert_eq!(
            general_provision(day("2026-02-28")),
            "Dự phòng chung tháng 02/2026 / general provision 2026-02"
        );
    }

    #[test]
    fn a_day_not_ended_is_refused_naming_both_days_in_both_languages() {
        let err = AppError::from(BooksError::DayNotEnded {
            through: day("2026-03-02"),
            today: day("2026-03-01"),
        });
        assert_eq!(err.code, "day_not_ended");
        assert_eq!(err.field.as_deref(), Some("through"));
        assert_eq!(
            err.message.vi,
            "Không thể khóa sổ ngày 2026-03-02: ngày đó chưa kết thúc (hôm nay là 2026-03-01)."
        );
        assert_eq!(
            err.message.en,
            "Cannot close 2026-03-02: that day has not ended yet (today is 2026-03-01)."
        );
    }

    #[test]
    fn a_statement_too_long_asks_to_narrow_the_period() {
        let err = AppError::from(BooksError::StatementTooLong { max_lines: 20_000 });
        assert_eq!(err.code, "statement_too_long");
        assert_eq!(err.field.as_deref(), Some("from"));
        assert_eq!(
            err.message.en,
            "The statement has more than 20000 lines; narrow the period (from, to)."
        );
    }
}

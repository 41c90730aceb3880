//! The worked examples of DOMAIN.md as the engine's inputs, for the tests of this crate and of the
//! service (one definition, so every test folds the same loan the document works by hand).

use chrono::NaiveDate;
use rust_decimal_macros::dec;

use crate::{LoanContract, Method, ScheduleTerms, Vnd};

/// A calendar date; panics on one that does not exist (a test's typo).
pub fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid example date")
}

/// Worked example 3 (DOMAIN.md §4): P = 100,000,000; R = 12%/year; disbursed 2026-01-10; ten monthly
/// installments of equal principal.
pub fn example_3() -> LoanContract {
    LoanContract::new(ScheduleTerms::new(
        Vnd::from_i64(100_000_000),
        dec!(12),
        date(2026, 1, 10),
        10,
        1,
        Method::EqualPrincipal,
    ))
}

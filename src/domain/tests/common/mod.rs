//! The fixtures the domain's integration tests share, written once: an amount, an event, worked example
//! 3's disbursement and the number of property cases. The worked examples themselves are in
//! `coopfund_domain::examples`, shared with the service's tests.

// Every test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use chrono::NaiveDate;
use coopfund_domain::{examples::date, EventKind, LoanEvent, Vnd};

/// `amount` đồng.
pub fn vnd(amount: i64) -> Vnd {
    Vnd::from_i64(amount)
}

/// An event of any kind.
pub fn event(id: &str, value_date: NaiveDate, sequence: u64, kind: EventKind) -> LoanEvent {
    LoanEvent {
        id: id.into(),
        value_date,
        sequence,
        kind,
    }
}

/// Worked example 3's disbursement: 100,000,000 on 2026-01-10 (`d1`, the first event).
pub fn disbursed() -> LoanEvent {
    LoanEvent::disbursement("d1", date(2026, 1, 10), 1, vnd(100_000_000))
}

/// How many cases a property test runs: `PROPTEST_CASES` when set (CI runs more), else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

//! API tests: reports.

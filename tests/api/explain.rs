//! API tests: explain.

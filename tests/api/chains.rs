//! API tests: chains.

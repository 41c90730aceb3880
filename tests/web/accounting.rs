//! Browser tests of the accounting pages.

//! Browser tests of the auditor pages.

//! Browser tests of the admin pages.
